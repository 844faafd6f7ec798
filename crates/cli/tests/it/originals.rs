//! The page as fetched, kept beside the article: `cat --original`, dedup, stats, verify,
//! search, rm, and export/import with `--originals`.

use std::fmt::Write as _;
use std::fs;

use serde_json::Value;

use crate::common::{Env, stderr};

/// A Shift_JIS page (not UTF-8): its bytes must come back exactly.
fn sjis_page() -> Vec<u8> {
    let mut page = b"<!DOCTYPE html><html lang=\"ja\"><head><meta charset=\"Shift_JIS\">\
        <title>Port</title></head><body><article><h1>Port</h1><p>"
        .to_vec();
    page.extend_from_slice(b"\x93\x8c\x8b\x9e\x82\xcc\x8d\x60\x82\xc5\x93\xad\x82\xad\x90\x6c\x82\xbd\x82\xbf\x82\xcd\x8e\x4f\x8f\x54\x8a\xd4\x82\xcc\x83\x58\x83\x67\x83\x89\x83\x43\x83\x4c\x82\xcc\x8c\xe3\x81\x41\x8b\xe0\x97\x6a\x93\xfa\x82\xc9\x8e\x64\x8e\x96\x82\xc9\x96\xdf\x82\xc1\x82\xbd\x82\xc6\x91\x67\x8d\x87\x82\xaa\x94\xad\x95\x5c\x82\xb5\x82\xbd\x81\x42\x93\x8c\x8b\x9e\x82\xcc\x8d\x60\x82\xc5\x93\xad\x82\xad\x90\x6c\x82\xbd\x82\xbf\x82\xcd\x8e\x4f\x8f\x54\x8a\xd4\x82\xcc\x83\x58\x83\x67\x83\x89\x83\x43\x83\x4c\x82\xcc\x8c\xe3\x81\x41\x8b\xe0\x97\x6a\x93\xfa\x82\xc9\x8e\x64\x8e\x96\x82\xc9\x96\xdf\x82\xc1\x82\xbd\x82\xc6\x91\x67\x8d\x87\x82\xaa\x94\xad\x95\x5c\x82\xb5\x82\xbd\x81\x42\x93\x8c\x8b\x9e\x82\xcc\x8d\x60\x82\xc5\x93\xad\x82\xad\x90\x6c\x82\xbd\x82\xbf\x82\xcd\x8e\x4f\x8f\x54\x8a\xd4\x82\xcc\x83\x58\x83\x67\x83\x89\x83\x43\x83\x4c\x82\xcc\x8c\xe3\x81\x41\x8b\xe0\x97\x6a\x93\xfa\x82\xc9\x8e\x64\x8e\x96\x82\xc9\x96\xdf\x82\xc1\x82\xbd\x82\xc6\x91\x67\x8d\x87\x82\xaa\x94\xad\x95\x5c\x82\xb5\x82\xbd\x81\x42");
    page.extend_from_slice(b"</p></article></body></html>\n");
    page
}

fn utf8_page(title: &str) -> String {
    let story =
        format!("{title}: the harbor reopened on Friday after three weeks, the union said. ")
            .repeat(4);
    format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{title}</title>\
         <link rel=\"canonical\" href=\"https://news.example.org/{title}\"></head>\
         <body><nav>Home</nav><article><h1>{title}</h1><p>{story}</p></article></body></html>"
    )
}

/// One WARC record.
fn record(kind: &str, uri: &str, content_type: &str, block: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "WARC/1.0\r\nWARC-Type: {kind}\r\nWARC-Target-URI: {uri}\r\n\
         WARC-Date: 2024-05-01T10:00:00Z\r\nContent-Type: {content_type}\r\n\
         Content-Length: {}\r\n\r\n",
        block.len()
    )
    .into_bytes();
    out.extend_from_slice(block);
    out.extend_from_slice(b"\r\n\r\n");
    out
}

/// CRC-32 (IEEE), for the gzip members below.
fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// One gzip member holding `data` in stored deflate blocks.
fn gzip_member(data: &[u8]) -> Vec<u8> {
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
    let mut blocks = data.chunks(65_535).peekable();
    if blocks.peek().is_none() {
        out.extend_from_slice(&[1, 0, 0, 0xff, 0xff]);
    }
    while let Some(block) = blocks.next() {
        out.push(u8::from(blocks.peek().is_none()));
        let len = block.len() as u16;
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(block);
    }
    out.extend_from_slice(&crc32(data).to_le_bytes());
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out
}

/// A crawl: a request, a chunked HTML response, a 404, an image and a revisit.
fn crawl(page: &str) -> Vec<u8> {
    let mut chunked = String::new();
    for part in page.as_bytes().chunks(100) {
        let part = std::str::from_utf8(part).unwrap();
        write!(chunked, "{:x}\r\n{part}\r\n", part.len()).unwrap();
    }
    chunked.push_str("0\r\n\r\n");
    let http = |status: &str, ty: &str, extra: &str, body: &str| {
        format!("HTTP/1.1 {status}\r\nContent-Type: {ty}\r\n{extra}\r\n{body}").into_bytes()
    };
    let uri = "https://news.example.org/warc-page";
    let mut out = Vec::new();
    for rec in [
        record(
            "request",
            uri,
            "application/http; msgtype=request",
            b"GET / HTTP/1.1\r\n\r\n",
        ),
        record(
            "response",
            uri,
            "application/http; msgtype=response",
            &http(
                "200 OK",
                "text/html; charset=UTF-8",
                "Transfer-Encoding: chunked\r\n",
                &chunked,
            ),
        ),
        record(
            "response",
            uri,
            "application/http; msgtype=response",
            &http("404 Not Found", "text/html", "", "gone"),
        ),
        record(
            "response",
            uri,
            "application/http; msgtype=response",
            &http("200 OK", "image/png", "", "PNG"),
        ),
        record("revisit", uri, "application/http; msgtype=response", b""),
    ] {
        out.extend(gzip_member(&rec));
    }
    out
}

fn stats(env: &Env) -> Value {
    serde_json::from_str(&env.ok(&["stats", "--format", "json"])).unwrap()
}

fn original(env: &Env, id: &str) -> Vec<u8> {
    let out = env.run(&["cat", "--original", id]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    out.stdout
}

#[test]
fn pages_are_kept_as_fetched_deduplicated_and_given_back() {
    let env = Env::new();
    let dir = env.dir.path();
    let sjis = sjis_page();
    fs::write(dir.join("port.html"), &sjis).unwrap();
    let page = utf8_page("warc-page");
    fs::write(dir.join("crawl.warc.gz"), crawl(&page)).unwrap();
    fs::write(
        dir.join("plain.jsonl"),
        "{\"title\": \"Plain\", \"body\": \"No page here.\"}\n",
    )
    .unwrap();
    let html = dir.join("port.html").display().to_string();
    let warc = dir.join("crawl.warc.gz").display().to_string();
    let plain = dir.join("plain.jsonl").display().to_string();

    let out = env.run(&["import", "--summary", "json", &html, &warc, &plain]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{} {}",
        stderr(&out),
        String::from_utf8_lossy(&out.stdout)
    );
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["stored"], 3);
    // request, 404, image and revisit: skipped and counted.
    assert_eq!(summary["skipped_records"], 4, "{summary}");
    let out = env.run(&["import", &warc]);
    assert!(
        stderr(&out).contains("skipped 4 WARC records holding no article"),
        "{}",
        stderr(&out)
    );

    let list = env.list_json(&[]);
    assert_eq!(list.len(), 3, "pages are not articles: {list:?}");
    let id_of = |title: &str| {
        list.iter()
            .find(|a| a["title"] == title)
            .unwrap_or_else(|| panic!("no {title} in {list:?}"))["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let (port, web, bare) = (id_of("Port"), id_of("warc-page"), id_of("Plain"));
    // Byte for byte: the Shift_JIS file, and the WARC payload with its chunking undone.
    assert_eq!(original(&env, &port), sjis);
    assert_eq!(original(&env, &web), page.as_bytes());
    assert!(
        env.ok(&["cat", &port]).contains("東京の港"),
        "the body is UTF-8 text"
    );
    let shown = env.ok(&["show", &web]);
    assert!(
        shown.contains(&format!(
            "original:    {} bytes, text/html; charset=UTF-8",
            page.len()
        )),
        "{shown}"
    );
    assert!(!env.ok(&["show", &bare]).contains("original:"));
    let out = env.run(&["cat", "--original", &bare]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("has no original page"),
        "{}",
        stderr(&out)
    );
    // The WARC record's target URI and capture time are kept.
    let warc_article = list.iter().find(|a| a["id"] == web.as_str()).unwrap();
    assert_eq!(
        warc_article["extra"]["warc_target_uri"],
        "https://news.example.org/warc-page"
    );
    assert_eq!(warc_article["extra"]["warc_date"], "2024-05-01T10:00:00Z");

    // Figures: three articles, two pages; the same pages again are stored once.
    let before = stats(&env);
    assert_eq!(before["articles"], 3);
    assert_eq!(before["pages"]["count"], 2);
    assert_eq!(
        before["pages"]["raw_bytes"],
        (sjis.len() + page.len()) as u64
    );
    let out = env.run(&["import", "--summary", "json", &html, &warc]);
    let again: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (again["stored"].as_u64(), again["duplicates"].as_u64()),
        (Some(0), Some(2))
    );
    let after = stats(&env);
    assert_eq!(after["pages"], before["pages"]);
    assert_eq!(after["stored_bytes"], before["stored_bytes"]);
    assert_eq!(after["articles"], 3);
    env.ok(&["verify"]);
    // Search finds articles, never pages.
    let hits = env.ok(&["search", "harbor", "--format", "jsonl"]);
    assert_eq!(hits.lines().count(), 1, "{hits}");
    // A page's id is no article's: no prefix of it resolves.
    let out = env.run(&["cat", "--original", "ffff"]);
    assert_ne!(out.status.code(), Some(0));

    // Export with the pages, import into a new archive: the pages come back.
    let export = dir.join("export.jsonl");
    env.ok(&["export", "--originals", "-o", export.to_str().unwrap()]);
    let plain_export = env.ok(&["export"]);
    assert!(!plain_export.contains("\"original\""), "opt-in only");
    let copy = Env::new();
    copy.ok(&["import", export.to_str().unwrap()]);
    assert_eq!(original(&copy, &port), sjis);
    assert_eq!(original(&copy, &web), page.as_bytes());
    assert_eq!(stats(&copy)["pages"]["count"], 2);
    copy.ok(&["verify"]);

    // rm drops the article's page; verify stays clean.
    env.ok(&["rm", &port]);
    let left = stats(&env);
    assert_eq!(left["articles"], 2);
    assert_eq!(left["pages"]["count"], 1);
    assert_eq!(left["pages"]["raw_bytes"], page.len() as u64);
    env.ok(&["verify"]);
    env.ok(&["rm", &web]);
    assert!(stats(&env).get("pages").is_none());
    env.ok(&["verify"]);
}
