//! `list`, `show`, `cat`, `reporters`, `services`, `stats` over the examples.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::io::Read as _;
use std::process::Stdio;

use serde_json::Value;

use crate::common::{EXAMPLE_ARTICLES, Env, body_between, is_full_id, stderr, stdout};

const HARBOR: &str = "Dock Workers End Week-Long Strike at Southern Port";
const DAM: &str = "Villagers Say New Dam Has Emptied Their Fishing Grounds";
const HERDERS: &str = "Herders Protest Fencing of Summer Pastures";
const TEA: &str = "Tea Growers Struggle as Buyers Cut Prices";
const MARKET: &str = "City Council Votes to Keep the Night Market Open";
const FERRY: &str = "Ferry Service Resumes After Storm";
const SCHOOL: &str = "Island School Reopens With Generator Power";

fn set(titles: Vec<String>) -> BTreeSet<String> {
    titles.into_iter().collect()
}

fn expect(titles: &[&str]) -> BTreeSet<String> {
    titles.iter().map(|t| (*t).to_owned()).collect()
}

#[test]
fn list_filters_by_reporter_case_insensitively() {
    let env = Env::new();
    env.import_examples();
    assert_eq!(
        set(env.titles(&["--reporter", "Mei Lan Fong"])),
        expect(&[HARBOR, TEA])
    );
    assert_eq!(
        set(env.titles(&["--reporter", "mei lan fong"])),
        expect(&[HARBOR, TEA])
    );
    assert_eq!(
        set(env.titles(&["--reporter", "MEI  LAN FONG"])),
        expect(&[HARBOR, TEA])
    );
    assert_eq!(env.titles(&["--reporter", "Batu Erdene"]), [HERDERS]);
    assert_eq!(env.titles(&["--reporter", "Tomas Varga"]), [MARKET]);
    // Read from a JSON `author` byline.
    assert_eq!(env.titles(&["--reporter", "ana ruiz"]), [SCHOOL, FERRY]);
    assert_eq!(env.titles(&["--reporter", "Piet Maas"]), [SCHOOL]);
    assert_eq!(
        env.titles(&["--reporter", "Nobody Atall"]),
        Vec::<String>::new()
    );
}

#[test]
fn list_filters_by_service() {
    let env = Env::new();
    env.import_examples();
    assert_eq!(env.titles(&["--service", "cantonese"]), [HARBOR]);
    assert_eq!(env.titles(&["--service", "Khmer"]), [DAM]);
    assert_eq!(env.titles(&["--service", "mandarin"]), [HERDERS]);
    assert_eq!(env.titles(&["--service", "lao"]), [TEA]);
    // Newest first.
    assert_eq!(env.titles(&["--service", "coastwire"]), [SCHOOL, FERRY]);
    assert_eq!(
        set(env.titles(&["--service", "lao", "--reporter", "mei lan fong"])),
        expect(&[TEA])
    );
}

#[test]
fn list_filters_by_date_periods() {
    let env = Env::new();
    env.import_examples();
    // harbor 2019-03-15, dam 2018-11-08, herders 2017-08-21 (from the image names),
    // ferry 2020-02-03T14:30Z, school 2020-02-04; tea and market are undated.
    assert_eq!(env.titles(&["--since", "2019"]), [SCHOOL, FERRY, HARBOR]);
    assert_eq!(env.titles(&["--until", "2018"]), [DAM, HERDERS]);
    assert_eq!(
        env.titles(&["--since", "2017-08", "--until", "2017-08"]),
        [HERDERS]
    );
    // --until YYYY-MM includes the last day of the month; --until YYYY-MM-DD that day.
    assert_eq!(env.titles(&["--until", "2017-08"]), [HERDERS]);
    assert_eq!(env.titles(&["--until", "2017-07"]), Vec::<String>::new());
    assert_eq!(env.titles(&["--until", "2017-08-21"]), [HERDERS]);
    assert_eq!(env.titles(&["--until", "2017-08-20"]), Vec::<String>::new());
    assert_eq!(env.titles(&["--since", "2020-02-04"]), [SCHOOL]);
    assert_eq!(
        env.titles(&["--since", "2018-11-08", "--until", "2018-11-08"]),
        [DAM]
    );
    assert_eq!(
        env.titles(&["--since", "2020-02-03", "--until", "2020-02-03"]),
        [FERRY]
    );
}

#[test]
fn list_is_newest_first_with_undated_articles_last() {
    let env = Env::new();
    env.import_examples();
    let titles = env.titles(&[]);
    assert_eq!(titles.len(), EXAMPLE_ARTICLES);
    assert_eq!(titles[..5], [SCHOOL, FERRY, HARBOR, DAM, HERDERS]);
    assert_eq!(set(titles[5..].to_vec()), expect(&[TEA, MARKET]));
}

#[test]
fn list_limit_and_all() {
    let env = Env::new();
    env.import_examples();
    let ids = env.ok(&["list", "--format", "ids", "--limit", "2"]);
    assert_eq!(ids.lines().count(), 2);
    let ids = env.ok(&["list", "--format", "ids", "--all"]);
    assert_eq!(ids.lines().count(), EXAMPLE_ARTICLES);
    assert!(ids.lines().all(is_full_id), "{ids}");
    let out = env.run(&["list", "--limit", "2"]);
    assert!(
        stderr(&out).contains("--all"),
        "a cut table says so: {}",
        stderr(&out)
    );
    let out = env.run(&["list", "--limit", "0", "--all"]);
    assert_eq!(out.status.code(), Some(2), "--limit and --all conflict");
}

#[test]
fn list_json_objects_have_the_contract_fields_in_order() {
    let env = Env::new();
    env.import_examples();
    let text = env.ok(&["list", "--format", "jsonl", "--service", "coastwire"]);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2);
    let order = [
        "id",
        "title",
        "reporters",
        "translators",
        "editors",
        "writers",
        "services",
        "outlet",
        "date",
        "date_origin",
        "url",
        "image",
        "caption",
        "tags",
        "source_id",
        "origin",
        "imported_at",
        "extra",
    ];
    for line in &lines {
        let mut last = 0;
        for key in order {
            let at = line
                .find(&format!("\"{key}\":"))
                .unwrap_or_else(|| panic!("{key} missing: {line}"));
            assert!(at >= last, "{key} out of order in {line}");
            last = at;
        }
        assert!(!line.contains("\"body\""), "list does not print bodies");
    }
    let ferry: Value = serde_json::from_str(lines[1]).unwrap();
    assert_eq!(ferry["title"], FERRY);
    assert_eq!(ferry["date"], "2020-02-03T14:30:00Z");
    assert_eq!(ferry["date_origin"], "given");
    assert_eq!(ferry["source_id"], "hw-2020-0113");
    assert_eq!(ferry["origin"], "examples/wire.jsonl");
    assert_eq!(ferry["tags"], serde_json::json!(["transport", "weather"]));
    assert_eq!(ferry["extra"]["desk"], "coast");
    assert_eq!(ferry["reporters"], serde_json::json!(["Ana Ruiz"]));
    assert_eq!(ferry["outlet"], "Coastwire");
    assert!(
        ferry["imported_at"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z'))
    );

    let harbor = &env.list_json(&["--service", "cantonese"])[0];
    assert_eq!(harbor["date"], "2019-03-15");
    assert_eq!(harbor["date_origin"], "inferred");
    assert_eq!(harbor["image"], "harbor-strike-031519.jpg");
    assert_eq!(harbor["reporters"], serde_json::json!(["Mei Lan Fong"]));
    assert_eq!(harbor["translators"], serde_json::json!(["Daniel Kerr"]));
    assert_eq!(harbor["editors"], serde_json::json!(["Daniel Kerr"]));
}

#[test]
fn list_csv_has_a_header_row() {
    let env = Env::new();
    env.import_examples();
    let text = env.ok(&["list", "--format", "csv", "--all"]);
    let mut lines = text.lines();
    assert!(lines.next().unwrap().starts_with("id,date,"), "{text}");
    assert_eq!(text.lines().count(), EXAMPLE_ARTICLES + 1);
}

#[test]
fn list_table_snapshot() {
    let env = Env::new();
    env.import_examples();
    let out = env.run(&["list"]);
    assert_eq!(out.status.code(), Some(0));
    let table = stdout(&out);
    for line in table.lines() {
        assert!(
            line.chars().count() <= 100,
            "wider than 100 columns: {line}"
        );
    }
    insta::assert_snapshot!("list_table", table);
}

#[test]
fn an_empty_list_says_so_on_stderr() {
    let env = Env::new();
    env.import_examples();
    let out = env.run(&["list", "--reporter", "nobody"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stdout(&out), "");
    assert_eq!(stderr(&out), "no articles match\n");
}

#[test]
fn cat_prints_the_body_byte_for_byte() {
    let env = Env::new();
    env.import_examples();
    let cases = [
        (HARBOR, body_between("harbor-strike.txt", "Hundreds of dock", Some("Add your comment"))),
        (HERDERS, body_between("grassland-herders.txt", "Dozens of herders", Some("Copyright ©"))),
        (DAM, body_between("mekong-dam.txt", "Fishing families", None)),
        (TEA, body_between("tea-prices.txt", "Tea growers in", None)),
        (MARKET, body_between("night-market.txt", "The riverside", None)),
        (
            SCHOOL,
            "The only school on the largest of the outer islands reopened on Tuesday, running on a \
             borrowed generator while crews repair the power line cut by the weekend storm.\n\n\
             Teachers said about two thirds of the pupils came back on the first day."
                .to_owned(),
        ),
    ];
    for (title, body) in cases {
        let id = env.id_of(title);
        assert_eq!(env.ok(&["cat", &id]), body, "{title}");
        assert_eq!(env.ok(&["cat", &id[..10]]), body, "{title} by prefix");
        assert_eq!(
            env.ok(&["cat", &id.to_uppercase()]),
            body,
            "{title} in upper case"
        );
    }
}

#[test]
fn show_prints_metadata_a_blank_line_and_the_body() {
    let env = Env::new();
    env.import_examples();
    let id = env.id_of(HARBOR);
    let body = env.ok(&["cat", &id]);
    let text = env.ok(&["show", &id[..12]]);
    let (head, rest) = text
        .split_once("\n\n")
        .expect("a blank line after the metadata");
    assert!(head.starts_with(&format!("id:          {id}\n")), "{head}");
    assert!(head.contains(&format!("title:       {HARBOR}")), "{head}");
    assert!(head.contains("reporters:   Mei Lan Fong"), "{head}");
    assert!(
        head.contains("date:        2019-03-15 (inferred)"),
        "{head}"
    );
    assert_eq!(rest, format!("{body}\n"));

    let json: Value = serde_json::from_str(&env.ok(&["show", "--format", "json", &id])).unwrap();
    assert_eq!(json["id"], id.as_str());
    assert_eq!(json["body"], body.as_str());
}

#[test]
fn an_ambiguous_prefix_lists_the_candidates() {
    let env = Env::new();
    // Enough articles that two ids share their first four hex digits.
    let mut lines = String::new();
    for i in 0..1200 {
        writeln!(
            lines,
            "{{\"title\": \"Story {i}\", \"body\": \"Body number {i}.\"}}"
        )
        .unwrap();
    }
    env.cmd()
        .args(["-q", "import", "--format", "jsonl", "-"])
        .write_stdin(lines)
        .assert()
        .success();
    let ids: Vec<String> = env
        .ok(&["list", "--all", "--format", "ids"])
        .lines()
        .map(str::to_owned)
        .collect();
    assert_eq!(ids.len(), 1200);
    let mut sorted = ids.clone();
    sorted.sort();
    let pair = sorted
        .windows(2)
        .find(|w| w[0][..4] == w[1][..4])
        .expect("two ids sharing four hex digits among 1200");
    let prefix = &pair[0][..4];
    let out = env.run(&["cat", prefix]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stdout(&out), "");
    let err = stderr(&out);
    assert!(
        err.starts_with(&format!("error: id prefix {prefix} is ambiguous")),
        "{err}"
    );
    for id in pair {
        assert!(err.contains(id.as_str()), "{id} not listed: {err}");
    }
    assert!(
        err.contains("Story "),
        "candidates come with their titles: {err}"
    );
    insta::assert_snapshot!("ambiguous_prefix", err);
}

#[test]
fn unknown_and_invalid_ids_are_errors() {
    let env = Env::new();
    env.import_examples();
    let out = env.run(&["cat", "0000000000"]);
    // (An example id starting with ten zeros would be a one in 10^12 accident.)
    assert_eq!(out.status.code(), Some(1));
    insta::assert_snapshot!("unknown_id", stderr(&out));
    // A malformed id is a usage error, as other malformed values are.
    let out = env.run(&["show", "xyz"]);
    assert_eq!(out.status.code(), Some(2));
    insta::assert_snapshot!("invalid_id", stderr(&out));
    let out = env.run(&["cat", "abc"]);
    assert_eq!(out.status.code(), Some(2), "three hex digits are too short");
}

#[test]
fn a_closed_stdout_ends_quietly_and_successfully() {
    let env = Env::new();
    env.import_examples();
    for format in ["table", "json", "jsonl", "csv", "ids"] {
        let mut child = env
            .std_cmd()
            .args(["list", "--all", "--format", format])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Close the reading end before morgue writes anything: every write fails with EPIPE.
        drop(child.stdout.take());
        let mut err = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut err)
            .unwrap();
        let status = child.wait().unwrap();
        assert_eq!(status.code(), Some(0), "{format}: {err}");
        assert_eq!(err, "", "{format}");
    }
}

#[test]
fn reporters_and_services_count_articles_most_first() {
    let env = Env::new();
    env.import_examples();
    let reporters: Value =
        serde_json::from_str(&env.ok(&["reporters", "--format", "json"])).unwrap();
    // Ties are broken by name.
    assert_eq!(
        reporters[0],
        serde_json::json!({"name": "Ana Ruiz", "count": 2})
    );
    assert_eq!(
        reporters[1],
        serde_json::json!({"name": "Mei Lan Fong", "count": 2})
    );
    let names: Vec<&str> = reporters
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    for name in [
        "Batu Erdene",
        "Saran Tuya",
        "Khamla Inthavong",
        "Tomas Varga",
    ] {
        assert!(names.contains(&name), "{name} missing from {names:?}");
    }
    let services = env.ok(&["services"]);
    let first = services.lines().next().unwrap();
    assert!(first.trim_start().starts_with("2  Coastwire"), "{services}");
    let csv = env.ok(&["services", "--format", "csv"]);
    assert!(csv.starts_with("name,count\nCoastwire,2\n"), "{csv}");
}

#[test]
fn stats_counts_articles_bytes_services_and_years() {
    let env = Env::new();
    env.import_examples();
    let stats: Value = serde_json::from_str(&env.ok(&["stats", "--format", "json"])).unwrap();
    assert_eq!(stats["articles"], EXAMPLE_ARTICLES);
    // Raw bytes: the bodies' bytes, as export gives them.
    let raw: u64 = env
        .ok(&["export"])
        .lines()
        .map(|l| {
            let article: Value = serde_json::from_str(l).unwrap();
            article["body"].as_str().unwrap().len() as u64
        })
        .sum();
    assert_eq!(stats["raw_bytes"], raw);
    // Stored bytes are compressed frames, which the files on disk hold; the ratio is raw over
    // stored, to three decimals.
    let stored = stats["stored_bytes"].as_u64().unwrap();
    assert!(stored > 0, "{stats}");
    assert!(stats["disk_bytes"].as_u64().unwrap() >= stored, "{stats}");
    let ratio = (raw as f64 / stored as f64 * 1000.0).round() / 1000.0;
    let got = stats["ratio"].as_f64().unwrap();
    assert!((got - ratio).abs() < 1e-9, "ratio {ratio}: {stats}");
    assert_eq!(
        stats["per_year"],
        serde_json::json!([
            {"year": 2017, "count": 1},
            {"year": 2018, "count": 1},
            {"year": 2019, "count": 1},
            {"year": 2020, "count": 2}
        ])
    );
    assert_eq!(
        stats["per_service"][0],
        serde_json::json!({"name": "Coastwire", "count": 2})
    );
    let text = env.ok(&["stats"]);
    assert!(
        text.starts_with(&format!("articles       {EXAMPLE_ARTICLES}\n")),
        "{text}"
    );
}
