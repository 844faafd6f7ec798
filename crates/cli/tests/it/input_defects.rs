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
    // The table's DATE column says no more than is known either.
    let table = env.ok(&["list", "--since", "2019", "--until", "2019"]);
    let row = |title: &str| {
        table
            .lines()
            .find(|l| l.trim_end().ends_with(title))
            .unwrap_or_else(|| panic!("no row {title}: {table}"))
            .to_owned()
    };
    assert!(row("year").contains(" 2019 "), "{table}");
    assert!(!row("year").contains("2019-01-01"), "{table}");
    assert!(row("month").contains(" 2019-03 "), "{table}");
    assert!(row("ms").contains(" 2019-03-15 "), "{table}");
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

#[test]
fn reporter_names_keep_their_case_and_organisations_are_outlets() {
    let env = Env::new();
    let lines = [
        (r#""author": "BBC News""#, "bbc"),
        (r#""author": "NASA JPL""#, "nasa"),
        (r#""author": "By JOHN McDONALD, Reuters""#, "mcdonald"),
        (r#""author": "Doe, Jane""#, "last first"),
        (r#""author": "Jane Doe, PhD""#, "degree"),
        (
            r#""author": "Jane Doe and John Roe, Reuters and AP""#,
            "two",
        ),
        (r#""author": "By Ann Lee in Hong Kong""#, "place"),
    ];
    let mut text = String::new();
    for (author, title) in lines {
        use std::fmt::Write as _;
        let _ = writeln!(
            text,
            "{{\"title\": \"{title}\", \"body\": \"{title} body\", {author}}}"
        );
    }
    let input = write(&env, "names.jsonl", text);
    env.ok(&["import", &input]);
    let who = |title: &str| {
        let a = article(&env, title);
        (
            a["reporters"].clone(),
            a["outlet"].as_str().unwrap_or("").to_owned(),
        )
    };
    assert_eq!(who("bbc"), (serde_json::json!([]), "BBC News".into()));
    assert_eq!(who("nasa"), (serde_json::json!([]), "NASA JPL".into()));
    assert_eq!(
        who("mcdonald"),
        (serde_json::json!(["John McDonald"]), "Reuters".into())
    );
    assert_eq!(
        who("last first"),
        (serde_json::json!(["Jane Doe"]), String::new())
    );
    assert_eq!(
        who("degree"),
        (serde_json::json!(["Jane Doe"]), String::new())
    );
    assert_eq!(
        who("two"),
        (
            serde_json::json!(["Jane Doe", "John Roe"]),
            "Reuters and AP".into()
        )
    );
    assert_eq!(
        who("place"),
        (serde_json::json!(["Ann Lee"]), String::new())
    );
    let mut doe = env.titles(&["--reporter", "jane doe"]);
    doe.sort();
    assert_eq!(doe, ["degree", "last first", "two"]);
}

#[test]
fn reporter_names_match_whatever_their_unicode_form() {
    let env = Env::new();
    // Stored with a precomposed ë (NFC), typed with e + combining diaeresis (NFD); and the
    // other way round.
    let input = write(
        &env,
        "zoe.jsonl",
        "{\"title\": \"nfc\", \"body\": \"one\", \"reporters\": [\"Zo\u{eb} Lee\"]}\n\
         {\"title\": \"nfd\", \"body\": \"two\", \"reporters\": [\"Ren\u{65}\u{301}e Roe\"]}\n",
    );
    env.ok(&["import", &input]);
    assert_eq!(env.titles(&["--reporter", "Zoe\u{308} Lee"]), ["nfc"]);
    assert_eq!(env.titles(&["--reporter", "Zo\u{eb} Lee"]), ["nfc"]);
    assert_eq!(env.titles(&["--reporter", "Ren\u{e9}e Roe"]), ["nfd"]);
}

#[test]
fn scraper_shapes_are_read() {
    let env = Env::new();
    let input = write(
        &env,
        "newsapi.json",
        r#"{"status": "ok", "articles": [
            {"source": {"id": "bbc-news", "name": "BBC News"}, "author": "Jane Doe",
             "headline": "Port strike", "publishedAt": "2019-03-15T08:30:00Z", "content": "The port shut."},
            {"source": {"id": null, "name": "Wire"}, "authors": [{"name": "Ann Lee"}, {"name": "Bo Chan"}],
             "title": "Rain", "pubDate": "Fri, 15 Mar 2019 08:30:00 GMT", "content": "It rained."}
        ]}"#,
    );
    let out = env.run(&["import", &input]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).contains("stored 2,"), "{}", stderr(&out));
    assert!(stderr(&out).contains("warnings 0"), "{}", stderr(&out));
    let strike = article(&env, "Port strike");
    assert_eq!(strike["outlet"], "BBC News");
    assert_eq!(strike["reporters"], serde_json::json!(["Jane Doe"]));
    assert_eq!(strike["date"], "2019-03-15T08:30:00Z");
    let rain = article(&env, "Rain");
    assert_eq!(rain["reporters"], serde_json::json!(["Ann Lee", "Bo Chan"]));
    assert_eq!(rain["outlet"], "Wire");
    assert_eq!(rain["date"], "2019-03-15T08:30:00Z");
}

#[test]
fn named_files_of_other_types_are_refused() {
    let env = Env::new();
    let xml = write(
        &env,
        "feed.xml",
        "<?xml version=\"1.0\"?><rss><channel></channel></rss>\n",
    );
    let out = env.run(&["import", &xml]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("feed.xml: XML or other markup, not an article"),
        "{err}"
    );
    assert!(err.contains("stored 0,"), "{err}");
    assert!(env.list_json(&[]).is_empty());
}

#[test]
fn a_csv_table_is_imported_row_by_row() {
    let env = Env::new();
    let csv = write(
        &env,
        "data.csv",
        "title,content,author,date,publication\n\
         A,\"First body,\nover two lines.\",By Ann Lee,2019-03-15,Wire\n\
         B,short of a column\n\
         C,Third body.,Bo Chan,2020-01-01,Wire\n",
    );
    let out = env.run(&["import", &csv]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("data.csv:4: row has 2 fields, the header row has 5"),
        "{err}"
    );
    assert!(err.contains("stored 2,"), "{err}");
    let a = article(&env, "A");
    let id = a["id"].as_str().unwrap();
    assert_eq!(env.ok(&["cat", id]), "First body,\nover two lines.");
    assert_eq!(a["reporters"], serde_json::json!(["Ann Lee"]));
    assert_eq!(a["outlet"], "Wire");
    assert_eq!(a["date"], "2019-03-15");
}

#[test]
fn a_text_file_imported_as_json_is_one_error() {
    let env = Env::new();
    let text =
        "Headline\n\n".to_string() + &"A line, {with} [brackets] and \"quotes\".\n".repeat(21);
    let notes = write(&env, "notes.txt", text);
    let out = env.run(&["import", "--format", "json", &notes]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert_eq!(err.matches("error:").count(), 1, "{err}");
    assert!(err.contains("notes.txt: not JSON"), "{err}");
    assert!(err.contains("failed 1"), "{err}");
}

#[test]
fn lying_compression_suffixes_and_bad_utf8_in_json_lines_are_named() {
    let env = Env::new();
    let gz = write(&env, "a.txt.gz", "Headline\n\nplain text\n");
    let zst = write(&env, "b.jsonl.zst", "{\"body\": \"x\"}\n");
    let bad = write(
        &env,
        "c.jsonl",
        b"{\"body\": \"ok\"}\n{\"body\": \"x \xFF y\"}\n",
    );
    let out = env.run(&["import", &gz, &zst, &bad]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("a.txt.gz: read error: not gzip"), "{err}");
    assert!(err.contains("b.jsonl.zst: read error: not zstd"), "{err}");
    assert!(err.contains("c.jsonl:2: invalid UTF-8 at byte 27"), "{err}");
    assert!(err.contains("stored 1,"), "{err}");
}

#[test]
fn html_pages_and_warc_files_are_imported() {
    use std::fmt::Write as _;
    let env = Env::new();
    let story =
        "Workers at the harbor went back on Friday after three weeks, the union said. ".repeat(4);
    let page = format!(
        "<!DOCTYPE html><html lang=\"fr\"><head><meta charset=\"utf-8\">\
         <title>La grève du port est finie | Le Site</title>\
         <meta property=\"og:site_name\" content=\"Le Site\">\
         <meta property=\"article:published_time\" content=\"2019-03-15T08:30:00Z\"></head>\
         <body><nav><a href=\"/\">Accueil</a></nav><article><p class=\"byline\">Par Jeanne Dupont</p>\
         <p>{story}</p></article></body></html>"
    );
    let html = write(&env, "page.html", &page);
    let http = format!("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n{page}");
    let mut warc = String::new();
    for (kind, uri, block) in [
        ("warcinfo", "", "software: test\r\n".to_string()),
        ("response", "https://example.org/greve", http),
    ] {
        let content_type = if kind == "response" {
            "application/http; msgtype=response"
        } else {
            "application/warc-fields"
        };
        write!(
            warc,
            "WARC/1.0\r\nWARC-Type: {kind}\r\nWARC-Target-URI: {uri}\r\n\
             WARC-Date: 2024-05-01T10:00:00Z\r\nContent-Type: {content_type}\r\n\
             Content-Length: {}\r\n\r\n{block}\r\n\r\n",
            block.len()
        )
        .unwrap();
    }
    warc.push_str("WARC/1.0\r\nWARC-Type: response\r\nContent-Length: 500\r\n\r\ncut short");
    let crawl = write(&env, "crawl.warc", &warc);
    let out = env.run(&["import", &html, &crawl]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    // The same page twice: stored once; the cut record is an error at its offset.
    assert!(err.contains("stored 1,"), "{err}");
    let offset = warc.rfind("WARC/1.0").unwrap();
    assert!(
        err.contains(&format!("crawl.warc:{offset}: WARC: truncated record")),
        "{err}"
    );
    let a = article(&env, "La grève du port est finie");
    assert_eq!(a["reporters"], serde_json::json!(["Jeanne Dupont"]));
    assert_eq!(a["outlet"], "Le Site");
    assert_eq!(a["date"], "2019-03-15T08:30:00Z");
    let id = a["id"].as_str().unwrap();
    assert_eq!(env.ok(&["cat", id]), story.trim_end());
}
