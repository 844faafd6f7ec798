//! `search`: the full-text index end to end, over fixtures written for these tests.

use serde_json::Value;

use crate::common::{Env, stderr};

/// Articles in several scripts (written for morgue's tests), as JSON Lines.
const FIXTURES: &str = r#"{"title": "Dockworkers strike over interest rates", "author": "By Jiří Vávra", "service": "Wire", "date": "1987-03-10", "body": "Dockworkers led by Jiří Vávra walked out, saying interest rates on their mortgage loans had doubled."}
{"title": "OPEC agrees on quotas", "author": "By Mei Lan Fong", "service": "Reuters", "date": "1987-03-20", "body": "The oil cartel agreed on new production quotas after two days of talks; prices rose."}
{"title": "Cartel talks stall", "author": "By Mei Lan Fong", "service": "Reuters", "date": "1987-05-02", "body": "Talks among coffee producers stalled again; the cartel could not agree on export quotas."}
{"title": "澜沧江上的新水电站", "service": "Mandarin", "date": "2018-11-08", "body": "当局宣布在澜沧江上修建新的水电站，村民被迫搬迁。"}
{"title": "북한 소식", "service": "Korean", "date": "2019-01-02", "body": "대통령이 평양에서 연설했다. 주민들은 식량을 요구했다."}
{"title": "Tin tức Hà Nội", "service": "Vietnamese", "date": "2020-06-01", "body": "Ông Nguyễn Văn Đức bị bắt tại Hà Nội vì viết blog."}
"#;

fn env() -> Env {
    let env = Env::new();
    let file = env.dir.path().join("fixtures.jsonl");
    std::fs::write(&file, FIXTURES).unwrap();
    env.ok(&["import", file.to_str().unwrap()]);
    env
}

fn hits(env: &Env, args: &[&str]) -> Vec<Value> {
    let mut all = vec!["search", "--format", "json"];
    all.extend_from_slice(args);
    match serde_json::from_str(&env.ok(&all)) {
        Ok(Value::Array(items)) => items,
        other => panic!("search --format json gave {other:?}"),
    }
}

/// The titles found, sorted (relevance order is checked on its own).
fn titles(env: &Env, args: &[&str]) -> Vec<String> {
    let mut t: Vec<String> = hits(env, args)
        .iter()
        .map(|h| h["title"].as_str().unwrap().to_owned())
        .collect();
    t.sort();
    t
}

const DOCK: &str = "Dockworkers strike over interest rates";
const OPEC: &str = "OPEC agrees on quotas";
const CARTEL: &str = "Cartel talks stall";
const DAM: &str = "澜沧江上的新水电站";
const KOREA: &str = "북한 소식";
const HANOI: &str = "Tin tức Hà Nội";

#[test]
fn words_phrases_or_exclusion_prefix_and_fields() {
    let env = env();
    assert_eq!(titles(&env, &["cartel quotas"]), [CARTEL, OPEC]);
    assert_eq!(titles(&env, &["cartel coffee"]), [CARTEL]);
    assert_eq!(titles(&env, &["\"interest rates\""]), [DOCK]);
    assert!(titles(&env, &["\"rates interest\""]).is_empty());
    assert_eq!(titles(&env, &["opec OR coffee"]), [CARTEL, OPEC]);
    assert_eq!(titles(&env, &["cartel -coffee"]), [OPEC]);
    assert_eq!(titles(&env, &["mortg*"]), [DOCK]);
    assert_eq!(titles(&env, &["title:cartel"]), [CARTEL]);
    assert_eq!(titles(&env, &["body:cartel"]), [CARTEL, OPEC]);
}

#[test]
fn cjk_korean_and_accents() {
    let env = env();
    assert_eq!(titles(&env, &["水电站"]), [DAM]);
    assert_eq!(titles(&env, &["대통령"]), [KOREA]);
    assert_eq!(titles(&env, &["Vavra"]), [DOCK]);
    assert_eq!(titles(&env, &["vávra"]), [DOCK]);
    assert_eq!(titles(&env, &["nguyen duc"]), [HANOI]);
    assert_eq!(titles(&env, &["\"Hà Nội\""]), [HANOI]);
}

#[test]
fn filters_sort_limit_and_the_hit_fields() {
    let env = env();
    assert_eq!(
        titles(
            &env,
            &[
                "cartel",
                "--service",
                "reuters",
                "--since",
                "1987-03",
                "--until",
                "1987-04"
            ]
        ),
        [OPEC]
    );
    assert_eq!(
        titles(&env, &["quotas", "--reporter", "mei lan fong"]),
        [CARTEL, OPEC]
    );
    let by_date: Vec<Value> = hits(&env, &["quotas", "--sort", "date"]);
    assert_eq!(by_date[0]["title"], CARTEL);
    assert_eq!(by_date[1]["title"], OPEC);
    let one = hits(&env, &["quotas", "--limit", "1"]);
    assert_eq!(one.len(), 1);
    let h = &hits(&env, &["coffee"])[0];
    assert!(h["score"].as_f64().unwrap() > 0.0, "{h}");
    assert_eq!(
        h["snippet"],
        "Talks among [coffee] producers stalled again; the cartel could not agree on export quotas."
    );
    // jsonl, csv and ids carry the same hits.
    let jsonl = env.ok(&["search", "coffee", "--format", "jsonl"]);
    assert_eq!(jsonl.lines().count(), 1);
    let csv = env.ok(&["search", "coffee", "--format", "csv"]);
    assert!(
        csv.lines().next().unwrap().ends_with(",score,snippet"),
        "{csv}"
    );
    assert!(csv.contains("Talks among [coffee] producers"), "{csv}");
    let ids = env.ok(&["search", "coffee", "--format", "ids"]);
    assert_eq!(ids.trim(), h["id"].as_str().unwrap());
    // The table: id, date, title, then the snippet (no marks off a terminal).
    let table = env.ok(&["search", "coffee"]);
    assert!(table.contains(CARTEL), "{table}");
    assert!(
        table.contains("    Talks among coffee producers"),
        "{table}"
    );
}

#[test]
fn rm_then_search_and_reindex_rebuilds() {
    let env = env();
    let id = hits(&env, &["coffee"])[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    env.ok(&["rm", &id]);
    assert!(titles(&env, &["coffee"]).is_empty());
    assert_eq!(titles(&env, &["cartel"]), [OPEC]);
    // Without its text index, search says how to build it; reindex does.
    std::fs::remove_dir_all(env.archive.join("text")).unwrap();
    let out = env.run(&["search", "cartel"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("morgue reindex"), "{}", stderr(&out));
    let out = env.run(&["verify"]);
    assert_eq!(out.status.code(), Some(1));
    env.ok(&["reindex"]);
    assert_eq!(titles(&env, &["cartel"]), [OPEC]);
    env.ok(&["verify"]);
    env.ok(&["optimize"]);
    assert_eq!(titles(&env, &["cartel"]), [OPEC]);
}

/// An archive without its text index (made before search existed, or with `text/` deleted):
/// the first command that opens it for writing builds it, with a progress bar only on a
/// terminal (never in a pipe, as here), and search then finds what was there before.
#[test]
fn a_write_open_builds_a_missing_text_index_without_a_bar_in_a_pipe() {
    let env = env();
    std::fs::remove_dir_all(env.archive.join("text")).unwrap();
    let file = env.dir.path().join("more.jsonl");
    std::fs::write(
        &file,
        "{\"title\": \"Harbour news\", \"body\": \"The ferry docked late.\"}\n",
    )
    .unwrap();
    let out = env.run(&["import", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let said = stderr(&out);
    assert!(!said.contains("text index"), "{said}");
    assert!(!said.contains('\r') && !said.contains('\x1b'), "{said:?}");
    assert_eq!(titles(&env, &["cartel"]), [CARTEL, OPEC]);
    assert_eq!(titles(&env, &["ferry"]), ["Harbour news"]);
    env.ok(&["verify"]);
}

#[test]
fn a_malformed_query_is_a_usage_error() {
    let env = env();
    for (query, says) in [
        ("\"open", "the quote at character 1 is not closed"),
        ("a OR", "OR at character 3 needs a word on each side"),
        ("-a", "the query only excludes"),
        ("", "the query has no word"),
    ] {
        let out = env.run(&["search", query]);
        assert_eq!(out.status.code(), Some(2), "{query:?}");
        assert!(stderr(&out).contains(says), "{query:?}: {}", stderr(&out));
    }
}
