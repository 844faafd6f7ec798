//! WARC files written for these tests.

use std::io::Write;

use super::*;

fn page(title: &str) -> String {
    format!(
        "<!DOCTYPE html><html lang=\"en\"><head><title>{title}</title>\
         <link rel=\"canonical\" href=\"https://example.org/{}\"></head><body><article><h1>{title}</h1><p>{}</p></article></body></html>",
        title.len(),
        format!("The story of {title} goes on here for long enough to count as text. ").repeat(6)
    )
}

fn http(status: &str, content_type: &str, extra: &str, body: &[u8]) -> Vec<u8> {
    let mut out =
        format!("HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\n{extra}\r\n").into_bytes();
    out.extend_from_slice(body);
    out
}

fn record(kind: &str, uri: &str, content_type: &str, block: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "WARC/1.1\r\nWARC-Type: {kind}\r\nWARC-Target-URI: {uri}\r\nWARC-Date: 2024-05-01T10:00:00Z\r\n\
         WARC-Record-ID: <urn:uuid:1>\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
        block.len()
    )
    .into_bytes();
    out.extend_from_slice(block);
    out.extend_from_slice(b"\r\n\r\n");
    out
}

fn response(uri: &str, http_message: &[u8]) -> Vec<u8> {
    record(
        "response",
        uri,
        "application/http; msgtype=response",
        http_message,
    )
}

type Records = Vec<(u64, Result<Parsed, IngestError>)>;

fn read_all(bytes: Vec<u8>) -> (Records, u64) {
    let source: Source = Box::new(io::Cursor::new(bytes));
    let mut warc = Warc::new(source);
    let mut out = Vec::new();
    while let Some(item) = warc.next_record() {
        out.push(item);
    }
    (out, warc.skipped)
}

fn chunked(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for chunk in body.chunks(100) {
        out.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        out.extend_from_slice(chunk);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"0\r\n\r\n");
    out
}

fn a_crawl() -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(page("Gzipped and chunked").as_bytes())
        .unwrap();
    let gzipped = gz.finish().unwrap();
    let mut warc = record(
        "warcinfo",
        "",
        "application/warc-fields",
        b"software: test\r\n",
    );
    warc.extend(record(
        "request",
        "https://example.org/a",
        "application/http; msgtype=request",
        b"GET /a HTTP/1.1\r\n\r\n",
    ));
    warc.extend(response(
        "https://example.org/a",
        &http(
            "200 OK",
            "text/html; charset=utf-8",
            "",
            page("First page").as_bytes(),
        ),
    ));
    warc.extend(response(
        "https://example.org/img.png",
        &http("200 OK", "image/png", "", b"\x89PNG"),
    ));
    warc.extend(response(
        "https://example.org/gone",
        &http("404 Not Found", "text/html", "", page("Gone").as_bytes()),
    ));
    warc.extend(response(
        "https://example.org/b",
        &http(
            "200 OK",
            "text/html",
            "Transfer-Encoding: chunked\r\nContent-Encoding: gzip\r\n",
            &chunked(&gzipped),
        ),
    ));
    warc.extend(record(
        "metadata",
        "https://example.org/a",
        "application/warc-fields",
        b"outlinks: x\r\n",
    ));
    warc
}

#[test]
fn responses_with_html_become_articles_and_the_rest_is_counted() {
    let (items, skipped) = read_all(a_crawl());
    assert_eq!(items.len(), 2, "{items:?}");
    assert_eq!(skipped, 5);
    let first = items[0].1.as_ref().unwrap();
    let r = &first.draft.record;
    assert_eq!(r.title, "First page");
    assert_eq!(r.url, "https://example.org/10");
    assert_eq!(
        r.extra.get("warc_target_uri").map(String::as_str),
        Some("\"https://example.org/a\"")
    );
    assert_eq!(
        r.extra.get("warc_date").map(String::as_str),
        Some("\"2024-05-01T10:00:00Z\"")
    );
    // The capture time is not the publication date.
    assert_eq!(r.date, None);
    let second = items[1].1.as_ref().unwrap();
    assert_eq!(second.draft.record.title, "Gzipped and chunked");
    assert!(
        second
            .draft
            .body
            .starts_with("The story of Gzipped and chunked")
    );
    // The pages as fetched: the HTTP payload with its chunking and gzip undone, and the
    // response's media type as sent.
    let kept = first.draft.original.as_ref().unwrap();
    assert_eq!(kept.bytes, page("First page").as_bytes());
    assert_eq!(kept.media_type, "text/html; charset=utf-8");
    let kept = second.draft.original.as_ref().unwrap();
    assert_eq!(kept.bytes, page("Gzipped and chunked").as_bytes());
    assert_eq!(kept.media_type, "text/html");
    // Offsets are where each record starts.
    let crawl = a_crawl();
    let at = items[0].0 as usize;
    assert!(crawl[at..].starts_with(b"WARC/1.1\r\nWARC-Type: response"));
}

#[test]
fn bad_records_are_errors_at_their_offset_and_the_rest_is_read() {
    let good = response(
        "https://example.org/ok",
        &http("200 OK", "text/html", "", page("Still read").as_bytes()),
    );
    // A Content-Length that says more than the block: the next record's start is eaten.
    let mut lying = response(
        "https://example.org/lie",
        &http("200 OK", "text/html", "", page("Lying").as_bytes()),
    );
    let text = String::from_utf8(lying.clone()).unwrap();
    let length = text
        .split("Content-Length: ")
        .nth(1)
        .unwrap()
        .split("\r\n")
        .next()
        .unwrap()
        .to_string();
    let longer = (length.parse::<usize>().unwrap() + 30).to_string();
    lying = text
        .replacen(
            &format!("Content-Length: {length}"),
            &format!("Content-Length: {longer}"),
            1,
        )
        .into_bytes();
    let mut bytes = lying.clone();
    bytes.extend_from_slice(&good);
    bytes.extend_from_slice(b"garbage line\r\n");
    bytes.extend_from_slice(&good);
    let (items, _) = read_all(bytes);
    let errors: Vec<(u64, String)> = items
        .iter()
        .filter_map(|(at, r)| r.as_ref().err().map(|e| (*at, e.to_string())))
        .collect();
    let oks = items.iter().filter(|(_, r)| r.is_ok()).count();
    // The lying record is an error; reading resumes at the next record start it finds (the
    // garbage line is skipped with the damaged record), and the last record is read.
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].0, 0);
    assert!(errors[0].1.contains("Content-Length"), "{errors:?}");
    assert_eq!(oks, 1, "{items:?}");

    // Garbage between two good records: an error at its offset, both records read.
    let mut bytes = good.clone();
    bytes.extend_from_slice(b"garbage line\r\n");
    bytes.extend_from_slice(&good);
    let (items, _) = read_all(bytes);
    assert_eq!(items.len(), 3);
    assert!(items[0].1.is_ok() && items[2].1.is_ok());
    assert_eq!(items[1].0, good.len() as u64);
    let message = items[1].1.as_ref().unwrap_err().to_string();
    assert!(message.contains("expected a record"), "{message}");

    // A truncated record ends the file with an error at its offset.
    let mut cut = good.clone();
    cut.extend_from_slice(&good[..good.len() / 2]);
    let (items, _) = read_all(cut);
    assert_eq!(items.len(), 2);
    assert_eq!(items[1].0, good.len() as u64);
    let message = items[1].1.as_ref().unwrap_err().to_string();
    assert!(message.starts_with("WARC: truncated record"), "{message}");
}

#[test]
fn sniffing() {
    assert!(looks_like_warc(b"WARC/1.0\r\nWARC-Type: warcinfo"));
    assert!(!looks_like_warc(b"<html>"));
}
