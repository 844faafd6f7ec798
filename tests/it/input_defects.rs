//! Input-side defects of issue 14: dates (epoch units, years and months, placeholders), reporter
//! names, scraper shapes, files of other types, and input error messages.

use std::fs;
use std::path::PathBuf;

use serde_json::Value;

use crate::common::{Env, stderr};

/// Writes `content` to a file named `name` in the test's directory; returns its path as text.
fn write(env: &Env, name: &str, content: impl AsRef<[u8]>) -> String {
    let path: PathBuf = env.dir.path().join(name);
    fs::write(&path, content).expect("writing input");
    path.display().to_string()
}

/// The listed article with this title.
fn article(env: &Env, title: &str) -> Value {
    env.list_json(&[])
        .into_iter()
        .find(|a| a["title"] == title)
        .unwrap_or_else(|| panic!("no article titled {title:?}"))
}

#[test]
fn epoch_milliseconds_periods_and_placeholders_are_read_right() {
    let env = Env::new();
    let input = write(
        &env,
        "dates.jsonl",
        concat!(
            r#"{"title": "ms", "body": "one", "published": 1552638600000}"#,
            "\n",
            r#"{"title": "ms text", "body": "two", "date": "1714557600000"}"#,
            "\n",
            r#"{"title": "year", "body": "three", "date": "2019"}"#,
            "\n",
            r#"{"title": "month", "body": "four", "date": "201903"}"#,
            "\n",
            r#"{"title": "month dash", "body": "five", "date": "2019-03"}"#,
            "\n",
            r#"{"title": "zero", "body": "six", "date": 0}"#,
            "\n",
            r#"{"title": "far", "body": "seven", "date": 99999999999999}"#,
            "\n",
            r#"{"title": "rss", "body": "eight", "date": "Fri, 15 Mar 2019 08:30:00 GMT"}"#,
            "\n",
        ),
    );
    let out = env.run(&["import", &input]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("date 0 in `date` means no date"), "{err}");
    assert!(err.contains("implausible date 99999999999999"), "{err}");
    let date = |title: &str| article(&env, title)["date"].clone();
    assert_eq!(date("ms"), "2019-03-15T08:30:00Z");
    assert_eq!(date("ms text"), "2024-05-01T10:00:00Z");
    assert_eq!(date("year"), "2019");
    assert_eq!(date("month"), "2019-03");
    assert_eq!(date("month dash"), "2019-03");
    assert_eq!(date("zero"), Value::Null);
    assert_eq!(date("far"), Value::Null);
    assert_eq!(
        article(&env, "far")["extra"]["date"],
        99_999_999_999_999_u64
    );
    assert_eq!(date("rss"), "2019-03-15T08:30:00Z");

    // `show` does not pretend to know the day; `--since` finds a year and a month.
    let id = article(&env, "year")["id"].as_str().unwrap().to_owned();
    let shown = env.ok(&["show", &id]);
    assert!(
        shown
            .lines()
            .any(|l| l.starts_with("date") && l.contains(" 2019 (given)")),
        "{shown}"
    );
    let mut since = env.titles(&["--since", "2019", "--until", "2019"]);
    since.sort();
    assert_eq!(since, ["month", "month dash", "ms", "rss", "year"]);
    let mut march = env.titles(&["--since", "2019-03", "--until", "2019-03"]);
    march.sort();
    assert_eq!(march, ["month", "month dash", "ms", "rss"]);

    // Export -> import into a new archive gives the same records.
    let exported = env.ok(&["export"]);
    let again = Env::new();
    let file = write(&again, "export.jsonl", &exported);
    let out = again.run(&["import", &file]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).contains("warnings 0"), "{}", stderr(&out));
    assert_eq!(again.ok(&["export"]), exported);
}
