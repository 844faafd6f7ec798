//! `morgue optimize` (bodies recompressed with a dictionary trained on the archive's own bodies,
//! byte-identical, fewer stored bytes) and the upgrade of a format-1 archive through the CLI.

use std::fmt::Write as _;
use std::path::Path;

use serde_json::Value;

use crate::common::{Env, stderr, stdout, workspace_root};

/// Articles per import command: under the 500 bodies from which an import batch trains the
/// archive's first dictionary, so that the bodies are stored without one and optimize has work.
const PER_IMPORT: usize = 300;
/// Import commands: 1,200 articles in all, over the 1,000 from which optimize trains one.
const IMPORTS: usize = 4;

/// A deterministic generator (xorshift64*), so that the corpus is the same on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn pick<'a>(&mut self, words: &[&'a str]) -> &'a str {
        words[(self.next() % words.len() as u64) as usize]
    }
}

/// A news-like body of our own words: wire-service phrasing that recurs across articles (as in
/// a real corpus, which is what a dictionary learns), with varied names, numbers and places.
fn body(rng: &mut Rng, n: usize) -> String {
    const PLACES: &[&str] = &[
        "the northern province",
        "the capital",
        "the port city",
        "the river delta",
        "the mountain districts",
        "the eastern border region",
    ];
    const SUBJECTS: &[&str] = &[
        "The ministry of finance",
        "The central bank",
        "A spokesman for the company",
        "Local officials",
        "The regional trade council",
        "Analysts at several brokerage houses",
    ];
    const VERBS: &[&str] = &[
        "said on Tuesday that",
        "told reporters on Wednesday that",
        "announced late on Friday that",
        "confirmed in a statement that",
        "warned earlier this week that",
    ];
    const CLAIMS: &[&str] = &[
        "quarterly output would rise by",
        "grain exports were expected to fall by",
        "net profit for the year had increased by",
        "the price of crude oil could climb by",
        "shipments to foreign markets dropped by",
        "the budget deficit would narrow by",
    ];
    const CLOSERS: &[&str] = &[
        "The figures were in line with market expectations.",
        "Trading in the shares was suspended pending the announcement.",
        "No further details were immediately available.",
        "The decision is subject to approval by the shareholders.",
        "Officials declined to comment on the report.",
    ];
    let mut text = format!("Item {n}. ");
    let sentences = 4 + rng.next() % 6;
    for _ in 0..sentences {
        let _ = write!(
            text,
            "{} in {} {} {} {}.{} pct, compared with {} in the same period a year earlier. ",
            rng.pick(SUBJECTS),
            rng.pick(PLACES),
            rng.pick(VERBS),
            rng.pick(CLAIMS),
            rng.next() % 40,
            rng.next() % 10,
            rng.next() % 100_000,
        );
    }
    text.push_str(rng.pick(CLOSERS));
    text.push_str("\nReported by the Example Wire desk. Edited for the Example Wire service.");
    text
}

/// Writes the test corpus as `IMPORTS` JSON Lines files; returns their paths.
fn write_corpus(dir: &Path) -> Vec<String> {
    let mut rng = Rng(0x6f70_7469_6d69_7a65);
    (0..IMPORTS)
        .map(|file| {
            let mut lines = String::new();
            for i in 0..PER_IMPORT {
                let n = file * PER_IMPORT + i;
                let article = serde_json::json!({
                    "title": format!("Generated item {n}"),
                    "author": format!("Reporter {}", n % 17),
                    "service": "Example Wire",
                    "date": format!("2001-{:02}-{:02}", 1 + n % 12, 1 + n % 28),
                    "body": body(&mut rng, n),
                });
                lines.push_str(&article.to_string());
                lines.push('\n');
            }
            let path = dir.join(format!("part-{file}.jsonl"));
            std::fs::write(&path, lines).expect("writing the corpus");
            path.to_str().expect("UTF-8 path").to_owned()
        })
        .collect()
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

fn stats(env: &Env) -> Value {
    json(&env.ok(&["stats", "--format", "json"]))
}

#[test]
fn optimize_recompresses_with_a_trained_dictionary_and_changes_no_byte() {
    let env = Env::new();
    for file in write_corpus(env.dir.path()) {
        env.ok(&["import", &file]);
    }
    let before = stats(&env);
    assert_eq!(before["articles"], (PER_IMPORT * IMPORTS) as u64);
    let export_before = env.ok(&["export"]);
    let ids: Vec<String> = env
        .ok(&["list", "--all", "--format", "ids"])
        .lines()
        .map(str::to_owned)
        .collect();
    assert_eq!(ids.len(), PER_IMPORT * IMPORTS);
    let sample: Vec<(&String, Vec<u8>)> = ids
        .iter()
        .step_by(97)
        .map(|id| (id, env.run(&["cat", id]).stdout))
        .collect();

    let out = env.run(&["optimize", "--summary", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let summary = json(&stdout(&out));
    let number =
        |v: &Value, key: &str| v[key].as_u64().unwrap_or_else(|| panic!("no {key} in {v}"));
    // One service, so one dictionary, and every body was stored without one.
    assert_eq!(number(&summary, "dictionaries_trained"), 1, "{summary}");
    assert_eq!(
        number(&summary, "recompressed"),
        (PER_IMPORT * IMPORTS) as u64,
        "{summary}"
    );
    assert!(
        number(&summary, "bytes_after") < number(&summary, "bytes_before"),
        "{summary}"
    );

    let after = stats(&env);
    assert_eq!(after["articles"], before["articles"]);
    assert_eq!(after["raw_bytes"], before["raw_bytes"]);
    assert!(
        number(&after, "stored_bytes") < number(&before, "stored_bytes"),
        "stored bytes before {before}, after {after}"
    );
    for (id, body) in &sample {
        let out = env.run(&["cat", id]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        assert_eq!(&out.stdout, body, "cat {id} changed");
    }
    assert_eq!(env.ok(&["export"]), export_before);
    env.ok(&["verify"]);

    // Again: nothing left to do.
    let again = json(&env.ok(&["optimize", "--summary", "json"]));
    assert_eq!(number(&again, "dictionaries_trained"), 0, "{again}");
    assert_eq!(number(&again, "recompressed"), 0, "{again}");
    assert_eq!(
        number(&stats(&env), "stored_bytes"),
        number(&after, "stored_bytes")
    );
}

#[test]
fn optimize_says_what_it_did_and_needs_an_archive() {
    let env = Env::new();
    let out = env.run(&["optimize"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("no archive at"), "{}", stderr(&out));

    env.import_examples();
    let out = env.run(&["optimize"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).is_empty(), "{}", stdout(&out));
    assert!(stderr(&out).starts_with("optimized: "), "{}", stderr(&out));
    let out = env.run(&["-q", "optimize"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).is_empty(), "{}", stderr(&out));
    env.ok(&["verify"]);
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("creating the copy");
    for entry in std::fs::read_dir(from).expect("reading the fixture") {
        let entry = entry.expect("fixture entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).expect("copying the fixture");
        }
    }
}

#[test]
fn a_format_1_archive_is_upgraded_by_the_first_command_and_reads_back() {
    let fixture = workspace_root().join("crates/meta/tests/fixtures/v1");
    let env = Env::new();
    copy_dir(&fixture, &env.archive);

    let out = env.run(&["list", "--all", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("upgraded the archive") && stderr(&out).contains("format 1"),
        "{}",
        stderr(&out)
    );
    let listed = json(&stdout(&out));
    let titles: Vec<&str> = listed
        .as_array()
        .expect("an array")
        .iter()
        .map(|a| a["title"].as_str().expect("title"))
        .collect();
    assert_eq!(titles, ["Fixture one", "Fixture two", ""]);
    let one = &listed[0];
    assert_eq!(
        one["reporters"],
        serde_json::json!(["Jane Roe", "John DOE"])
    );
    assert_eq!(one["imported_at"], "2023-11-14T22:13:20Z");

    // Once only.
    let out = env.run(&["verify"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(!stderr(&out).contains("upgraded"), "{}", stderr(&out));
    let id = one["id"].as_str().expect("id");
    assert_eq!(
        env.ok(&["cat", id]),
        "Fixture one. Reported by Jane Roe for the Example Desk."
    );
    assert_eq!(
        env.titles(&["--reporter", "jane roe"]),
        ["Fixture one", "Fixture two"]
    );

    // Only format 2's tree is left, and the archive takes new articles.
    let trees = morgue_torture::corrupt::tree_names(&env.archive).expect("trees");
    assert!(
        trees
            .iter()
            .all(|l| l.starts_with("morgue ") || l.starts_with("packs/")),
        "format-1 trees left: {trees:?}"
    );
    env.import_examples();
    assert_eq!(
        env.list_json(&[]).len(),
        3 + crate::common::EXAMPLE_ARTICLES
    );
    env.ok(&["verify"]);
}
