//! Tests of `read` over whole inputs: format detection, compression, errors, overrides, the
//! export round trip, the shared corpus and arbitrary bytes.

use std::collections::BTreeMap;
use std::io::{self, Read, Write};
use std::path::PathBuf;

use chrono::NaiveDate;
use proptest::prelude::*;

use super::*;

fn entries(name: &str, bytes: &[u8], format: Format) -> Vec<Entry> {
    read(
        name,
        Box::new(io::Cursor::new(bytes.to_vec())),
        format,
        &Overrides::default(),
    )
    .collect()
}

fn one(name: &str, bytes: &[u8], format: Format) -> Result<Parsed, IngestError> {
    let mut all = entries(name, bytes, format);
    assert_eq!(all.len(), 1, "expected one entry");
    all.remove(0).outcome
}

fn error_text(name: &str, bytes: &[u8]) -> String {
    one(name, bytes, Format::Auto).unwrap_err().to_string()
}

fn zst(bytes: &[u8]) -> Vec<u8> {
    zstd::encode_all(bytes, 3).unwrap()
}

fn gz(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

const RFA_TEXT: &str = "Ferry Service Resumes\n\nferry-dock-110416.jpg A ferry at the dock.\n\nThe ferry ran again on Friday.\n\nReported by Ann Lee for RFA's Khmer Service. Written in English by Bo Chan.\n\nCopyright © 2016, RFA. Used with the permission of Radio Free Asia.";

#[test]
fn text_file_with_bom_crlf_and_origin() {
    let bytes = [
        b"\xEF\xBB\xBF".as_slice(),
        RFA_TEXT.replace('\n', "\r\n").as_bytes(),
    ]
    .concat();
    let parsed = one("dir/ferry.txt", &bytes, Format::Auto).unwrap();
    let r = &parsed.draft.record;
    assert_eq!(r.title, "Ferry Service Resumes");
    assert_eq!(
        parsed.draft.body,
        "The ferry ran again on Friday.\n\nReported by Ann Lee for RFA's Khmer Service. Written in English by Bo Chan."
    );
    assert_eq!(r.reporters, ["Ann Lee"]);
    assert_eq!(r.writers, ["Bo Chan"]);
    assert_eq!(r.services, ["Khmer"]);
    assert_eq!(r.outlet, "RFA");
    assert_eq!(r.image, "ferry-dock-110416.jpg");
    assert_eq!(r.caption, "A ferry at the dock.");
    assert_eq!(
        r.date,
        Some(ArticleDate::from_day(
            NaiveDate::from_ymd_opt(2016, 11, 4).unwrap()
        ))
    );
    assert_eq!(r.date_origin, Some(DateOrigin::Inferred));
    assert_eq!(r.origin, "dir/ferry.txt");
    assert!(parsed.warnings.is_empty());
}

#[test]
fn compressed_text_by_extension_and_by_magic() {
    let plain = one("a.txt", RFA_TEXT.as_bytes(), Format::Auto).unwrap();
    assert_eq!(
        one("a.txt.zst", &zst(RFA_TEXT.as_bytes()), Format::Auto)
            .unwrap()
            .draft
            .body,
        plain.draft.body
    );
    assert_eq!(
        one("a.txt.gz", &gz(RFA_TEXT.as_bytes()), Format::Auto)
            .unwrap()
            .draft
            .body,
        plain.draft.body
    );
    assert_eq!(
        one("-", &zst(RFA_TEXT.as_bytes()), Format::Auto)
            .unwrap()
            .draft
            .record
            .title,
        "Ferry Service Resumes"
    );
}

#[test]
fn text_input_errors() {
    assert_eq!(
        error_text("a.txt", b"Title\n\nBody \xFF here"),
        "invalid UTF-8 at byte 12"
    );
    assert_eq!(
        error_text("a.txt", b"Ti\0tle\n\nBody"),
        "binary data (NUL byte at byte 2), not text"
    );
    assert_eq!(
        error_text("a.txt", b"\xFF\xFET\0i\0"),
        "UTF-16 is not supported, convert to UTF-8"
    );
    assert_eq!(
        error_text("a.json", b"\xFE\xFF\0{"),
        "UTF-16 is not supported, convert to UTF-8"
    );
    assert_eq!(error_text("a.txt", b""), "empty body");
    assert_eq!(error_text("a.txt", b" \n\t\r\n"), "empty body");
    assert_eq!(error_text("a.txt", b"Only a headline\n"), "empty body");
}

#[test]
fn forced_formats() {
    let text = "T\n\npic-010203.jpg Cap.\n\nBody.";
    let plain = one("x.txt", text.as_bytes(), Format::Text).unwrap();
    assert_eq!(plain.draft.body, "pic-010203.jpg Cap.\n\nBody.");
    assert_eq!(plain.draft.record.image, "");
    let rfa = one("x.dat", text.as_bytes(), Format::Rfa).unwrap();
    assert_eq!(rfa.draft.record.image, "pic-010203.jpg");
    assert_eq!(rfa.draft.body, "Body.");
    // A .txt file forced to JSON Lines is read as JSON Lines.
    let e = entries("x.txt", b"{\"body\": \"b\"}\n", Format::Jsonl);
    assert_eq!(e[0].outcome.as_ref().unwrap().draft.body, "b");
    let e = entries("x.jsonl", b"{\"body\": \"b\"}", Format::Json);
    assert_eq!(e[0].line, Some(1));
    assert_eq!(e[0].outcome.as_ref().unwrap().draft.body, "b");
}

#[test]
fn stdin_detection_by_content() {
    let e = entries("-", b"[{\"body\": \"a\"}, {\"body\": \"b\"}]", Format::Auto);
    assert_eq!(e.len(), 2);
    let e = entries(
        "-",
        b"\n{\"body\": \"a\"}\n{\"body\": \"b\"}\n",
        Format::Auto,
    );
    assert_eq!(
        e.iter().map(|e| e.line).collect::<Vec<_>>(),
        [Some(2), Some(3)]
    );
    let e = entries("-", b"Headline\n\nBody.", Format::Auto);
    assert_eq!(
        e[0].outcome.as_ref().unwrap().draft.record.title,
        "Headline"
    );
    assert_eq!(e[0].outcome.as_ref().unwrap().draft.record.origin, "-");
}

#[test]
fn json_lines_go_on_after_bad_lines() {
    let data = b"{\"body\": \"one\"}\r\n\n   \n{bad json}\n[1, 2]\n{\"title\": \"no body\"}\n\xEF\xBB\xBF{\"body\": 3}\n{\"body\": \"last\", \"date\": \"soon\"}";
    let e = entries("feed.ndjson", data, Format::Auto);
    let lines: Vec<_> = e.iter().map(|e| e.line).collect();
    assert_eq!(
        lines,
        [Some(1), Some(4), Some(5), Some(6), Some(7), Some(8)]
    );
    assert_eq!(e[0].outcome.as_ref().unwrap().draft.body, "one");
    assert!(
        e[1].outcome
            .as_ref()
            .unwrap_err()
            .to_string()
            .starts_with("invalid JSON: key must be a string at line 1 column 2")
    );
    assert_eq!(
        e[2].outcome.as_ref().unwrap_err().to_string(),
        "expected a JSON object, found an array"
    );
    assert_eq!(
        e[3].outcome.as_ref().unwrap_err().to_string(),
        "no body: none of the fields body, text, maintext, content, article"
    );
    // A byte-order mark is only skipped on line 1.
    assert!(e[4].outcome.is_err());
    let last = e[5].outcome.as_ref().unwrap();
    assert_eq!(last.draft.body, "last");
    assert_eq!(
        last.warnings,
        ["unparseable date \"soon\" in `date`; imported without a date"]
    );
}

#[test]
fn json_lines_bom_on_first_line_and_compression() {
    let data = b"\xEF\xBB\xBF{\"body\": \"one\"}\n{\"body\": \"two\"}\n";
    for (name, bytes) in [
        ("a.jsonl", data.to_vec()),
        ("a.jsonl.zst", zst(data)),
        ("a.JSONL.GZ", gz(data)),
    ] {
        let bodies: Vec<_> = entries(name, &bytes, Format::Auto)
            .into_iter()
            .map(|e| e.outcome.unwrap().draft.body)
            .collect();
        assert_eq!(bodies, ["one", "two"], "{name}");
    }
}

#[test]
fn json_file_shapes() {
    let e = entries(
        "one.json",
        b"{\n  \"title\": \"T\",\n  \"body\": \"B\"\n}\n",
        Format::Auto,
    );
    assert_eq!(e.len(), 1);
    assert_eq!(e[0].outcome.as_ref().unwrap().draft.record.title, "T");
    let e = entries(
        "many.json",
        b"[\n{\"body\": \"a\"},\n\"oops\",\n{\"body\": \"c\"}\n]",
        Format::Auto,
    );
    assert_eq!(
        e.iter().map(|e| e.line).collect::<Vec<_>>(),
        [Some(2), Some(3), Some(4)]
    );
    assert_eq!(
        e[1].outcome.as_ref().unwrap_err().to_string(),
        "expected a JSON object, found a string"
    );
    assert_eq!(e[2].outcome.as_ref().unwrap().draft.body, "c");
    let e = entries(
        "broken.json",
        b"[{\"body\": \"a\"} {\"body\": \"b\"}]",
        Format::Auto,
    );
    assert_eq!(e.len(), 2);
    assert!(
        e[1].outcome
            .as_ref()
            .unwrap_err()
            .to_string()
            .starts_with("invalid JSON: expected `,` or `]`")
    );
    let e = entries("empty.json", b"  ", Format::Auto);
    assert_eq!(
        e[0].outcome.as_ref().unwrap_err().to_string(),
        "invalid JSON: no JSON value in the input"
    );
}

#[test]
fn deep_nesting_in_each_json_format() {
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    for name in ["deep.json", "deep.jsonl"] {
        let e = entries(name, deep.as_bytes(), Format::Auto);
        let message = e[0].outcome.as_ref().unwrap_err().to_string();
        assert!(message.contains("recursion limit"), "{name}: {message}");
    }
    let deep = format!(
        "[{{\"body\": \"b\", \"x\": {}{}}}]",
        "{\"a\":".repeat(100_000),
        "}".repeat(100_000)
    );
    let e = entries("deep.json", deep.as_bytes(), Format::Auto);
    assert!(
        e[0].outcome
            .as_ref()
            .unwrap_err()
            .to_string()
            .contains("recursion limit")
    );
}

/// A reader that produces `len` bytes of `x` then "\n" then `tail`, without holding them.
struct LongLine {
    left: u64,
    tail: io::Cursor<Vec<u8>>,
}

impl Read for LongLine {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.left > 0 {
            let n = (buf.len() as u64).min(self.left) as usize;
            buf[..n].fill(b'x');
            self.left -= n as u64;
            if self.left == 0 && n < buf.len() {
                buf[n] = b'\n';
                return Ok(n + 1);
            }
            if self.left == 0 {
                self.tail.get_mut().insert(0, b'\n');
            }
            return Ok(n);
        }
        self.tail.read(buf)
    }
}

#[test]
fn a_200_mb_line_is_one_error_then_the_rest_is_read() {
    let input = LongLine {
        left: 200 << 20,
        tail: io::Cursor::new(b"{\"body\": \"after\"}\n".to_vec()),
    };
    let e: Vec<Entry> = read(
        "big.jsonl",
        Box::new(input),
        Format::Auto,
        &Overrides::default(),
    )
    .collect();
    assert_eq!(e.len(), 2);
    assert_eq!(e[0].line, Some(1));
    assert_eq!(
        e[0].outcome.as_ref().unwrap_err().to_string(),
        "line longer than 64 MiB"
    );
    assert_eq!(e[1].line, Some(2));
    assert_eq!(e[1].outcome.as_ref().unwrap().draft.body, "after");
}

#[test]
fn an_oversized_text_file_is_an_error() {
    let input = LongLine {
        left: (MAX_ARTICLE_BYTES + 10) as u64,
        tail: io::Cursor::new(Vec::new()),
    };
    let e: Vec<Entry> = read(
        "big.txt",
        Box::new(input),
        Format::Auto,
        &Overrides::default(),
    )
    .collect();
    assert_eq!(e.len(), 1);
    assert_eq!(
        e[0].outcome.as_ref().unwrap_err().to_string(),
        "article longer than 64 MiB"
    );
}

#[test]
fn truncated_and_corrupt_compression_end_with_an_error() {
    let mut data = Vec::new();
    for i in 0u32..20_000 {
        let noise = blake3::hash(&i.to_le_bytes()).to_hex();
        data.extend_from_slice(format!("{{\"body\": \"article {i} {noise}\"}}\n").as_bytes());
    }
    let packed = zst(&data);
    let e = entries("a.jsonl.zst", &packed[..packed.len() / 2], Format::Auto);
    assert!(e.len() > 1);
    let last = e.last().unwrap();
    assert!(
        matches!(last.outcome, Err(IngestError::Io(_))),
        "{:?}",
        last.outcome
    );
    assert!(
        e[..e.len() - 1]
            .iter()
            .all(|e| e.outcome.is_ok() || matches!(e.outcome, Err(IngestError::InvalidJson(_))))
    );
    let e = entries("a.jsonl.gz", b"\x1F\x8B not really gzip", Format::Auto);
    assert_eq!(e.len(), 1);
    assert!(
        e[0].outcome
            .as_ref()
            .unwrap_err()
            .to_string()
            .starts_with("read error: ")
    );
    let e = entries("a.txt.zst", b"plain text, not zstd", Format::Auto);
    assert!(matches!(
        e[..],
        [Entry {
            line: None,
            outcome: Err(IngestError::Io(_))
        }]
    ));
}

#[test]
fn overrides_replace_fields() {
    let overrides = Overrides {
        service: Some("Desk".into()),
        reporter: Some("Pat Roe".into()),
        date: Some(ArticleDate::from_day(
            NaiveDate::from_ymd_opt(2001, 2, 3).unwrap(),
        )),
    };
    let bytes = RFA_TEXT.as_bytes().to_vec();
    let e: Vec<Entry> = read(
        "a.txt",
        Box::new(io::Cursor::new(bytes)),
        Format::Auto,
        &overrides,
    )
    .collect();
    let r = &e[0].outcome.as_ref().unwrap().draft.record;
    assert_eq!(r.services, ["Desk"]);
    assert_eq!(r.reporters, ["Pat Roe"]);
    assert_eq!(r.writers, ["Bo Chan"], "fields without an override stay");
    assert_eq!(r.date, overrides.date);
    assert_eq!(r.date_origin, Some(DateOrigin::Given));
}

#[test]
fn entries_can_move_to_another_thread() {
    fn assert_send<T: Send>() {}
    assert_send::<Entries>();
    assert_send::<Entry>();
    let entries = read(
        "a.jsonl",
        Box::new(io::Cursor::new(b"{\"body\": \"b\"}".to_vec())),
        Format::Auto,
        &Overrides::default(),
    );
    let count = std::thread::spawn(move || entries.count()).join().unwrap();
    assert_eq!(count, 1);
}

#[test]
fn thousands_of_json_lines_keep_their_order_line_numbers_and_errors() {
    use std::fmt::Write as _;
    // More lines than are read ahead and parsed at once, with blank and broken lines between.
    let mut input = String::new();
    let mut expected = Vec::new();
    for i in 1..=3000u64 {
        match i % 97 {
            0 => input.push_str("   \n"),
            1 => {
                input.push_str("{not json\n");
                expected.push((i, None));
            }
            _ => {
                writeln!(input, "{{\"title\": \"t{i}\", \"body\": \"body {i}\"}}").unwrap();
                expected.push((i, Some(format!("body {i}"))));
            }
        }
    }
    let got: Vec<(u64, Option<String>)> = entries("many.jsonl", input.as_bytes(), Format::Auto)
        .into_iter()
        .map(|e| (e.line.unwrap(), e.outcome.ok().map(|p| p.draft.body)))
        .collect();
    assert_eq!(got, expected);
}

/// A pipe: what `feed` sends is readable as it arrives; the read waits otherwise.
struct Pipe(std::sync::mpsc::Receiver<Vec<u8>>, Vec<u8>);

impl Read for Pipe {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.1.is_empty() {
            match self.0.recv() {
                Ok(bytes) => self.1 = bytes,
                Err(_) => return Ok(0),
            }
        }
        let n = buf.len().min(self.1.len());
        buf[..n].copy_from_slice(&self.1[..n]);
        self.1.drain(..n);
        Ok(n)
    }
}

#[test]
fn a_json_line_is_yielded_as_soon_as_it_has_arrived() {
    let (feed, pipe) = std::sync::mpsc::channel();
    let (got, seen) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut entries = read(
            "-",
            Box::new(Pipe(pipe, Vec::new())),
            Format::Jsonl,
            &Overrides::default(),
        );
        while let Some(entry) = entries.next() {
            let buffered = entries.has_buffered();
            if got.send((entry.line, buffered)).is_err() {
                break;
            }
        }
    });
    // Two lines at once, then nothing until the reader has yielded both.
    feed.send(b"{\"body\": \"one\"}\n{\"body\": \"two\"}\n".to_vec())
        .unwrap();
    let wait = std::time::Duration::from_secs(20);
    assert_eq!(seen.recv_timeout(wait).unwrap(), (Some(1), true));
    // After the second line nothing is at hand: the reader says so, then waits.
    assert_eq!(seen.recv_timeout(wait).unwrap(), (Some(2), false));
    feed.send(b"{\"body\": \"three\"}\n".to_vec()).unwrap();
    assert_eq!(seen.recv_timeout(wait).unwrap().0, Some(3));
    drop(feed);
    reader.join().unwrap();
    assert!(seen.try_recv().is_err());
}

#[test]
fn accepts_filter() {
    for name in [
        "a.txt",
        "a.json",
        "a.jsonl",
        "a.ndjson",
        "A.TXT.ZST",
        "dir/a.jsonl.gz",
        "a.json.zst",
    ] {
        assert!(accepts(name), "{name}");
    }
    for name in [
        "a.md",
        "a.zst",
        "a.gz",
        "a.txt.bz2",
        "json",
        ".txt",
        "a.jsonx",
    ] {
        assert!(!accepts(name), "{name}");
    }
}

#[test]
fn format_names() {
    assert_eq!("jsonl".parse::<Format>(), Ok(Format::Jsonl));
    assert_eq!("rfa".parse::<Format>(), Ok(Format::Rfa));
    assert!("xml".parse::<Format>().is_err());
}

/// A record and body in the export shape, written by the one encoder that `morgue export` uses.
fn export_object(record: &Record, body: &str) -> serde_json::Value {
    let id = blake3::hash(body.as_bytes()).to_hex();
    serde_json::to_value(morgue_model::ArticleJson::new(&id, record).with_body(body)).unwrap()
}

#[test]
fn export_shape_reads_back_identically() {
    let full = Record {
        title: "Port Reopens".into(),
        reporters: vec!["Ann Lee".into(), "Bo Chan".into()],
        translators: vec!["Cy Dee".into()],
        editors: vec!["Di Eng".into()],
        writers: vec!["Ed Fox".into()],
        services: vec!["Lao".into(), "Khmer".into()],
        outlet: "RFA".into(),
        date: Some(ArticleDate {
            day: NaiveDate::from_ymd_opt(2019, 3, 15).unwrap(),
            time: Some(45_296),
            precision: morgue_model::DatePrecision::Day,
        }),
        date_origin: Some(DateOrigin::Inferred),
        url: "https://example.org/port".into(),
        image: "port-031519.jpg".into(),
        caption: "The port at dawn.".into(),
        tags: vec!["ports".into(), "trade".into()],
        source_id: "feed/42".into(),
        origin: "old/feed.jsonl".into(),
        imported_at: Some(1_700_000_000),
        extra: BTreeMap::from([
            ("language".to_string(), "\"en\"".to_string()),
            (
                "nested".to_string(),
                "{\"a\":[1,2.5,null,true]}".to_string(),
            ),
            ("body_html".to_string(), "\"<p>x</p>\"".to_string()),
        ]),
        original: None,
    };
    let minimal = Record {
        title: "Bare".into(),
        origin: "x.txt".into(),
        ..Record::default()
    };
    let day_only = Record {
        date: Some(ArticleDate::from_day(
            NaiveDate::from_ymd_opt(1998, 12, 31).unwrap(),
        )),
        date_origin: Some(DateOrigin::Given),
        origin: "-".into(),
        ..Record::default()
    };
    for (record, body) in [
        (full, "Line one.\n\n  Indented line two."),
        (minimal, "b"),
        (day_only, "Body"),
    ] {
        let line = serde_json::to_string(&export_object(&record, body)).unwrap();
        let e = entries("export.jsonl", line.as_bytes(), Format::Auto);
        let parsed = e.into_iter().next().unwrap().outcome.unwrap();
        assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);
        assert_eq!(parsed.draft.body, body);
        assert_eq!(parsed.draft.record, record);
        // The pretty-printed array form reads back the same.
        let pretty =
            serde_json::to_string_pretty(&serde_json::json!([export_object(&record, body)]))
                .unwrap();
        let e = entries("export.json", pretty.as_bytes(), Format::Auto);
        assert_eq!(
            e.into_iter().next().unwrap().outcome.unwrap().draft.record,
            record
        );
    }
}

/// The shared corpus directory, or `None` (with a notice) when absent.
fn corpus() -> Option<PathBuf> {
    let dir = match std::env::var_os("MORGUE_CORPUS") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus"),
    };
    if dir.is_dir() {
        Some(dir)
    } else {
        println!(
            "notice: corpus not found at {}; skipping (set MORGUE_CORPUS)",
            dir.display()
        );
        None
    }
}

#[test]
fn corpus_rfa_seed_article() {
    let Some(dir) = corpus() else { return };
    let path = dir.join("rfa/000_0b0ea05460107842.txt");
    if !path.is_file() {
        println!("notice: {} not found; skipping", path.display());
        return;
    }
    let file = std::fs::File::open(&path).unwrap();
    let e: Vec<Entry> = read(
        "000_0b0ea05460107842.txt",
        Box::new(file),
        Format::Auto,
        &Overrides::default(),
    )
    .collect();
    assert_eq!(e.len(), 1);
    let parsed = e.into_iter().next().unwrap().outcome.unwrap();
    let r = &parsed.draft.record;
    // The corpus text itself stays out of the repository: headline, image line and the first
    // paragraph are taken from the file.
    let text = std::fs::read_to_string(&path).unwrap();
    let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
    let (headline, image_line, first_paragraph) = (
        lines.next().unwrap(),
        lines.next().unwrap(),
        lines.next().unwrap(),
    );
    assert_eq!(r.title, headline);
    assert_eq!(r.reporters, ["Qiao Long"]);
    assert_eq!(r.services, ["Mandarin"]);
    assert_eq!(r.translators, ["Luisetta Mudie"]);
    assert_eq!(r.editors, ["Luisetta Mudie"]);
    assert!(r.writers.is_empty());
    assert_eq!(r.outlet, "RFA");
    assert_eq!(
        r.date,
        Some(ArticleDate::from_day(
            NaiveDate::from_ymd_opt(2017, 6, 20).unwrap()
        ))
    );
    assert_eq!(r.date_origin, Some(DateOrigin::Inferred));
    assert_eq!(r.image, "china-passports-062017.jpg");
    assert_eq!(format!("{} {}", r.image, r.caption), image_line);
    assert!(!r.caption.is_empty());
    assert!(parsed.draft.body.starts_with(first_paragraph));
    assert!(
        parsed
            .draft
            .body
            .ends_with("Translated and edited by Luisetta Mudie.")
    );
    assert!(!parsed.draft.body.contains("Add your comment"));
    assert!(!parsed.draft.body.contains('\r'));
    assert!(parsed.warnings.is_empty());
}

#[test]
fn corpus_reuters_jsonl_zst() {
    let Some(dir) = corpus() else { return };
    let path = dir.join("reuters-21578.jsonl.zst");
    if !path.is_file() {
        println!("notice: {} not found; skipping", path.display());
        return;
    }
    let file = std::fs::File::open(&path).unwrap();
    let mut drafts = 0;
    let mut with_reporters = 0;
    let mut date_warnings = Vec::new();
    let mut other = Vec::new();
    for entry in read(
        "reuters-21578.jsonl.zst",
        Box::new(file),
        Format::Auto,
        &Overrides::default(),
    ) {
        match entry.outcome {
            Ok(parsed) => {
                drafts += 1;
                if !parsed.draft.record.reporters.is_empty() {
                    with_reporters += 1;
                }
                for warning in parsed.warnings {
                    if warning.contains("date") {
                        date_warnings.push((entry.line, warning));
                    } else {
                        other.push((entry.line, warning));
                    }
                }
            }
            Err(e) => other.push((entry.line, e.to_string())),
        }
    }
    assert_eq!(drafts, 19_043);
    assert_eq!(with_reporters, 875);
    assert_eq!(date_warnings.len(), 1, "{date_warnings:?}");
    assert!(date_warnings[0].1.contains("31-MAR-1987 605:12:19.12"));
    assert!(other.is_empty(), "{other:?}");
}

#[test]
fn corpus_bbc_plain_text() {
    let Some(dir) = corpus() else { return };
    let dir = dir.join("bbc");
    let Ok(sections) = std::fs::read_dir(&dir) else {
        println!("notice: {} not found; skipping", dir.display());
        return;
    };
    let (mut drafts, mut with_byline, mut failures) = (0, 0, Vec::new());
    for section in sections {
        let section = section.unwrap().path();
        if !section.is_dir() {
            continue;
        }
        for file in std::fs::read_dir(&section).unwrap() {
            let path = file.unwrap().path();
            let name = path.to_string_lossy().into_owned();
            assert!(accepts(&name));
            let input = Box::new(std::fs::File::open(&path).unwrap());
            for entry in read(&name, input, Format::Auto, &Overrides::default()) {
                match entry.outcome {
                    Ok(parsed) => {
                        drafts += 1;
                        let r = &parsed.draft.record;
                        assert!(
                            !r.title.is_empty() && !parsed.draft.body.is_empty(),
                            "{name}"
                        );
                        assert!(
                            r.image.is_empty() && r.outlet.is_empty() && r.date.is_none(),
                            "{name}"
                        );
                        if !(r.reporters.is_empty()
                            && r.translators.is_empty()
                            && r.editors.is_empty())
                        {
                            with_byline += 1;
                        }
                    }
                    Err(e) => failures.push(format!("{name}: {e}")),
                }
            }
        }
    }
    assert_eq!(drafts, 2095);
    assert_eq!(with_byline, 0, "the BBC set has no bylines");
    assert!(failures.is_empty(), "{failures:?}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        for name in ["a.txt", "a.json", "a.jsonl", "a.txt.zst", "a.json.gz", "-"] {
            for format in [Format::Auto, Format::Rfa, Format::Text, Format::Json, Format::Jsonl] {
                let n = entries(name, &bytes, format).len();
                prop_assert!(n >= 1 || matches!(format, Format::Jsonl) || name.ends_with("jsonl") || (name == "-" && format == Format::Auto));
            }
        }
        let _ = json::parse_json_bytes(&bytes);
        if let Ok(text) = std::str::from_utf8(&bytes) {
            let _ = rfa::parse_text(text, rfa::TextKind::Auto);
            let _ = names::parse_author_string(text);
            let _ = byline::read_byline(text);
            let _ = dates::parse_date_text(text);
            let _ = dates::date_from_image_name(text);
        }
    }

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,300}", lines in proptest::collection::vec("(Reported|Translated|Edited|Written in English) (and (edited|written in English) )?by [A-Za-zéŁżó€’' ,.&]{0,40}(for RFA['’]s [A-Za-zé]{0,10} Service)?(,? and (edited )?by [A-Za-zéŁ ]{0,12})?\\.?", 0..4)) {
        let article = format!("{text}\n\n{}", lines.join("\n\n"));
        for kind in [rfa::TextKind::Auto, rfa::TextKind::Rfa, rfa::TextKind::Plain] {
            if let Ok(parsed) = rfa::parse_text(&article, kind) {
                prop_assert!(!parsed.draft.body.is_empty());
                prop_assert!(!parsed.draft.body.contains('\r'));
            }
        }
        let _ = names::parse_author_string(&article);
        let _ = json::parse_json_value(serde_json::json!({"body": article, "author": text, "date": text, "tags": text}));
    }

    #[test]
    fn json_token_soup_never_panics(tokens in proptest::collection::vec(prop_oneof![
        Just("["), Just("]"), Just("{"), Just("}"), Just(","), Just(":"), Just("\""), Just("\\"),
        Just(" "), Just("\n"), Just("1"), Just("\"body\""), Just("\"x\""), Just("null"), Just("é"),
    ], 0..80)) {
        let text: String = tokens.concat();
        for name in ["a.json", "a.jsonl"] {
            let all = entries(name, text.as_bytes(), Format::Auto);
            prop_assert!(all.len() <= text.len() + 1);
        }
    }

    #[test]
    fn known_fields_with_any_values_never_panic(
        fields in proptest::collection::vec((
            prop_oneof![
                Just("body"), Just("text"), Just("title"), Just("author"), Just("authors"), Just("byline"),
                Just("reporters"), Just("services"), Just("source"), Just("date"), Just("published"),
                Just("date_origin"), Just("tags"), Just("keywords"), Just("id"), Just("source_id"),
                Just("imported_at"), Just("extra"), Just("origin"), Just("url"), Just("other"),
            ],
            json_value(),
        ), 0..8)
    ) {
        let object: serde_json::Map<String, serde_json::Value> =
            fields.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        let line = serde_json::Value::Object(object).to_string();
        let all = entries("a.jsonl", line.as_bytes(), Format::Auto);
        prop_assert_eq!(all.len(), 1);
        if let Ok(parsed) = &all[0].outcome {
            prop_assert!(!parsed.draft.body.is_empty());
            prop_assert_eq!(parsed.draft.record.date.is_some(), parsed.draft.record.date_origin.is_some());
        }
    }
}

/// Small arbitrary JSON values: scalars, date-like strings, arrays and objects.
fn json_value() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::Value;
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        "\\PC{0,24}".prop_map(Value::from),
        "[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\\.[0-9]{1,9})?)?(Z|[+-][0-9]{2}:?[0-9]{2})?)?".prop_map(Value::from),
        "-?[0-9]{1,20}(\\.[0-9]{0,5})?".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::Array),
            proptest::collection::btree_map("[a-z]{1,6}", inner, 0..4)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

#[test]
fn scraper_shapes_newsapi_wrapper_and_schema_org_authors() {
    let newsapi = br#"{"status": "ok", "totalResults": 2, "articles": [
        {"source": {"id": "bbc-news", "name": "BBC News"}, "author": "BBC News", "title": "One",
         "url": "https://example.org/1", "urlToImage": "https://example.org/1.jpg",
         "publishedAt": "2019-03-15T08:30:00Z", "content": "First body."},
        {"source": {"id": null, "name": "Wire"}, "author": "Jane Doe", "title": "Two",
         "publishedAt": "2019-03-16T08:30:00Z", "content": "Second body."}
    ]}"#;
    for (name, bytes) in [
        ("news.json", newsapi.to_vec()),
        (
            "news.jsonl",
            newsapi.split(|&b| b == b'\n').collect::<Vec<_>>().concat(),
        ),
    ] {
        let all = entries(name, &bytes, Format::Auto);
        assert_eq!(all.len(), 2, "{name}");
        let first = all[0].outcome.as_ref().unwrap();
        let r = &first.draft.record;
        assert_eq!(first.draft.body, "First body.");
        assert_eq!(r.title, "One");
        assert_eq!(r.outlet, "BBC News");
        assert!(r.reporters.is_empty(), "{:?}", r.reporters);
        assert!(r.services.is_empty());
        assert_eq!(r.image, "https://example.org/1.jpg");
        assert_eq!(
            r.date.map(|d| d.to_string()).as_deref(),
            Some("2019-03-15T08:30:00Z")
        );
        assert!(first.warnings.is_empty(), "{:?}", first.warnings);
        let second = all[1].outcome.as_ref().unwrap();
        assert_eq!(second.draft.record.reporters, ["Jane Doe"]);
        assert_eq!(second.draft.record.outlet, "Wire");
    }
    let p = one(
        "a.json",
        br#"{"headline": "Head", "articleBody": "x", "body": "b", "datePublished": "Fri, 15 Mar 2019 08:30:00 GMT",
             "authors": [{"@type": "Person", "name": "Ann Lee"}, {"name": "Bo Chan"}, {"@type": "Organization", "name": "Daily"}]}"#,
        Format::Auto,
    )
    .unwrap();
    let r = &p.draft.record;
    assert_eq!(r.title, "Head");
    assert_eq!(r.reporters, ["Ann Lee", "Bo Chan"]);
    assert_eq!(r.outlet, "Daily");
    assert_eq!(
        r.date.map(|d| d.to_string()).as_deref(),
        Some("2019-03-15T08:30:00Z")
    );
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
}

fn refused_as(name: &str, bytes: &[u8], format: Format) -> &'static str {
    let all = entries(name, bytes, format);
    assert_eq!(all.len(), 1, "{name}");
    match &all[0].outcome {
        Err(IngestError::OtherType { what }) => what,
        other => panic!("{name}: {other:?}"),
    }
}

#[test]
fn markup_and_tables_are_refused() {
    let refused = |name: &str, bytes: &[u8]| refused_as(name, bytes, Format::Auto);
    // HTML is read as a page (by name or content); one without text is an error.
    for (name, page) in [
        (
            "page.html",
            &b"<!DOCTYPE html>\n<html><body>x</body></html>"[..],
        ),
        ("page.txt", b"\n  <html lang=en><p>x</p></html>"),
    ] {
        let all = entries(name, page, Format::Auto);
        assert!(
            matches!(
                all[..],
                [Entry {
                    outcome: Err(IngestError::NoArticleText),
                    ..
                }]
            ),
            "{all:?}"
        );
    }
    assert_eq!(
        refused_as("page.html", b"<html><body>x</body></html>", Format::Jsonl),
        "HTML"
    );
    assert_eq!(
        refused("feed.xml", b"<?xml version=\"1.0\"?><rss></rss>"),
        "XML or other markup"
    );
    // Tables given as JSON are refused; under auto they are read as tables.
    assert_eq!(
        refused_as("data.csv", b"a,b,c\n1,2,3\n", Format::Jsonl),
        "a CSV table"
    );
    assert_eq!(
        refused_as(
            "data",
            b"title\tbody\tdate\nA\tx\t2019\nB\ty\t2020\n",
            Format::Json
        ),
        "a TSV table"
    );
    assert_eq!(refused("page.json", b"<html></html>"), "HTML");
    // JSON Lines have quoted fields and commas too, but are no table.
    let lines = b"{\"body\": \"a\", \"title\": \"b\", \"x\": 1}\n{\"body\": \"c\", \"title\": \"d\", \"x\": 2}\n";
    assert_eq!(entries("x", lines, Format::Auto).len(), 2);
    let message = IngestError::OtherType { what: "HTML" }.to_string();
    assert!(message.starts_with("HTML, not an article"), "{message}");
    // Text that only looks a little like a table is an article.
    for text in [
        "Oil, gas, and coal prices rise\n\nPrices rose, traders said, on Monday.\n".as_bytes(),
        b"Headline\n\nA body with a comma, and another, here.\nAnd one more, line, here.\n",
        b"< not markup\n\nbody\n",
        b"Lord Scarman, 93, dies peacefully\n\nThe lawyer, who led it, has died.\n\nA, b, c.\n",
    ] {
        assert!(
            one("a.txt", text, Format::Auto).is_ok(),
            "{}",
            String::from_utf8_lossy(text)
        );
    }
    // --format text stores it as asked.
    assert!(one("page.html", b"<html>\n\nx</html>", Format::Text).is_ok());
}

#[test]
fn a_text_file_read_as_json_is_one_error() {
    let text = "Headline\n\n".to_string() + &"A line of text, {not} json [at] all.\n".repeat(30);
    let all = entries("notes.txt", text.as_bytes(), Format::Json);
    assert_eq!(all.len(), 1);
    assert_eq!(
        all[0].outcome.as_ref().unwrap_err().to_string(),
        "not JSON: the input starts with \"Headline\\n\\nA line of \", not `{` or `[`"
    );
    let all = entries("notes.json", text.as_bytes(), Format::Auto);
    assert_eq!(all.len(), 1);
}

#[test]
fn a_compression_suffix_that_lies_is_named() {
    let text = error_text("a.txt.gz", b"plain text, not gzip");
    assert!(text.contains("not gzip"), "{text}");
    let text = error_text("a.jsonl.zst", b"{\"body\": \"b\"}\n");
    assert!(text.contains("not zstd"), "{text}");
    let text = error_text("empty.gz", b"");
    assert!(text.contains("not gzip"), "{text}");
}

#[test]
fn invalid_utf8_in_a_json_line_names_its_byte() {
    let mut bytes = b"{\"body\": \"ok\"}\n{\"body\": \"bad \xFF here\"}\n".to_vec();
    let all = entries("a.jsonl", &bytes, Format::Auto);
    assert_eq!(all.len(), 2);
    assert!(all[0].outcome.is_ok());
    assert_eq!(all[1].line, Some(2));
    assert_eq!(
        all[1].outcome.as_ref().unwrap_err().to_string(),
        "invalid UTF-8 at byte 29"
    );
    assert_eq!(bytes[29], 0xFF);
    // After a BOM and CRLF lines too.
    bytes = [
        b"\xEF\xBB\xBF".as_slice(),
        b"{\"body\": \"ok\"}\r\n{\"body\": \"\xC3\"}\r\n",
    ]
    .concat();
    let all = entries("a.jsonl", &bytes, Format::Auto);
    assert_eq!(
        all[1].outcome.as_ref().unwrap_err().to_string(),
        "invalid UTF-8 at byte 29"
    );
    assert_eq!(bytes[29], 0xC3);
}

/// A corpus written for these tests, as JSON Lines and as the same table in CSV and TSV.
const TABLE_JSONL: &str = r#"{"title": "Harbor strike ends", "author": "By Ann Lee and Bo Chan", "date": "2019-03-15", "content": "Dock workers went back on Friday.\n\nThe union said the deal, signed \"at last\", holds.", "url": "https://example.org/a", "publication": "Example Post", "section": "Business"}
{"title": "Rain, then sun", "author": "Cy Dorn", "date": "2020-01-02T08:30:00Z", "content": "It rained; then it did not.", "url": "https://example.org/b", "publication": "Example Post", "section": "Weather"}
"#;
const TABLE_CSV: &str = "\u{feff}title,author,date,content,url,publication,section\r\n\
Harbor strike ends,By Ann Lee and Bo Chan,2019-03-15,\"Dock workers went back on Friday.\r\n\r\nThe union said the deal, signed \"\"at last\"\", holds.\",https://example.org/a,Example Post,Business\r\n\
\"Rain, then sun\",Cy Dorn,2020-01-02T08:30:00Z,It rained; then it did not.,https://example.org/b,Example Post,Weather\r\n";

fn ids_and_records(all: Vec<Entry>) -> Vec<(String, Record, Option<u64>)> {
    all.into_iter()
        .map(|e| {
            let p = e.outcome.unwrap();
            (
                blake3::hash(p.draft.body.as_bytes()).to_hex().to_string(),
                Record {
                    origin: String::new(),
                    ..p.draft.record
                },
                e.line,
            )
        })
        .collect()
}

#[test]
fn a_table_gives_the_same_articles_and_ids_as_json_lines() {
    let jsonl = ids_and_records(entries("news.jsonl", TABLE_JSONL.as_bytes(), Format::Auto));
    let csv = ids_and_records(entries("news.csv", TABLE_CSV.as_bytes(), Format::Auto));
    let tsv_text = "title\tauthor\tdate\tcontent\turl\tpublication\tsection\n\
Harbor strike ends\tBy Ann Lee and Bo Chan\t2019-03-15\t\"Dock workers went back on Friday.\n\nThe union said the deal, signed \"\"at last\"\", holds.\"\thttps://example.org/a\tExample Post\tBusiness\n\
Rain, then sun\tCy Dorn\t2020-01-02T08:30:00Z\tIt rained; then it did not.\thttps://example.org/b\tExample Post\tWeather\n";
    let tsv = ids_and_records(entries(
        "news.tsv.gz",
        &gz(tsv_text.as_bytes()),
        Format::Auto,
    ));
    // Sniffed: no extension says it is a table.
    let sniffed = ids_and_records(entries("-", TABLE_CSV.as_bytes(), Format::Auto));
    assert_eq!(jsonl.len(), 2);
    let (first, _, _) = &jsonl[0];
    let r = &jsonl[0].1;
    assert_eq!(r.title, "Harbor strike ends");
    assert_eq!(r.reporters, ["Ann Lee", "Bo Chan"]);
    assert_eq!(r.outlet, "Example Post");
    assert_eq!(r.url, "https://example.org/a");
    assert_eq!(
        r.extra.get("section").map(String::as_str),
        Some("\"Business\"")
    );
    for other in [&csv, &tsv, &sniffed] {
        let strip = |v: &Vec<(String, Record, Option<u64>)>| {
            v.iter()
                .map(|(id, r, _)| (id.clone(), r.clone()))
                .collect::<Vec<_>>()
        };
        assert_eq!(strip(other), strip(&jsonl));
        assert_eq!(&other[0].0, first);
    }
    // Lines: where each row starts (the first row's quoted body spans three lines).
    assert_eq!(
        csv.iter().map(|(_, _, l)| *l).collect::<Vec<_>>(),
        [Some(2), Some(5)]
    );
}

#[test]
fn bad_table_rows_are_errors_with_their_line_and_the_rest_goes_on() {
    let text = "title,body,author\n\
A,first body,Ann\n\
B,missing a column\n\
\r\n\
C,third body,Cy,extra\n\
D,fourth @body,Di\n\
E,,Ed\n\
F,last body,Fo\n\
G,\"never closed,Gi\nH,x,y\n";
    let mut bytes = text.as_bytes().to_vec();
    // The @ above becomes an invalid byte.
    let at = bytes.iter().position(|&b| b == b'@').unwrap();
    bytes[at] = 0xFF;
    let all = entries("t.csv", &bytes, Format::Auto);
    let got: Vec<(Option<u64>, Result<String, String>)> = all
        .into_iter()
        .map(|e| {
            (
                e.line,
                e.outcome.map(|p| p.draft.body).map_err(|e| e.to_string()),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (Some(2), Ok("first body".to_string())),
            (
                Some(3),
                Err("row has 2 fields, the header row has 3".to_string())
            ),
            (
                Some(5),
                Err("row has 4 fields, the header row has 3".to_string())
            ),
            (Some(6), Err("invalid UTF-8 in column `body`".to_string())),
            (
                Some(7),
                Err(
                    "no body: none of the fields body, text, maintext, content, article"
                        .to_string()
                )
            ),
            (Some(8), Ok("last body".to_string())),
            (
                Some(9),
                Err("unterminated quote: the row runs to the end of the input".to_string())
            ),
        ]
    );
}

/// Reads an endless quoted field: the rows' cap stops it.
struct EndlessQuote(u64);

impl Read for EndlessQuote {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.0 == 0 {
            let head = b"title,body\nA,\"";
            buf[..head.len()].copy_from_slice(head);
            self.0 += head.len() as u64;
            return Ok(head.len());
        }
        buf.fill(b'x');
        self.0 += buf.len() as u64;
        Ok(buf.len())
    }
}

#[test]
fn an_unterminated_quote_in_a_big_table_stops_at_the_cap() {
    let mut all = read(
        "big.csv",
        Box::new(EndlessQuote(0)),
        Format::Auto,
        &Overrides::default(),
    );
    let first = all.next().unwrap();
    assert_eq!(first.line, Some(2));
    let message = first.outcome.unwrap_err().to_string();
    assert!(message.starts_with("row longer than 64 MiB"), "{message}");
    assert!(all.next().is_none());
}

#[test]
fn table_formats_by_flag() {
    let text = b"title;body\nA;b\n";
    // `--format csv` on a name that does not say: sniffed, else commas.
    let p = one("x", b"title,body\nA,b\n", Format::Csv).unwrap();
    assert_eq!(p.draft.body, "b");
    let p = one("x.dat", b"title\tbody\nA\tb\n", Format::Tsv).unwrap();
    assert_eq!(
        (p.draft.record.title.as_str(), p.draft.body.as_str()),
        ("A", "b")
    );
    // One column named `title;body`: no body.
    assert!(matches!(
        one("x.csv", text, Format::Auto),
        Err(IngestError::MissingBody)
    ));
    assert_eq!("csv".parse::<Format>(), Ok(Format::Csv));
    assert_eq!("tsv".parse::<Format>(), Ok(Format::Tsv));
    // An empty table, or a header alone, has no articles.
    assert!(entries("e.csv", b"", Format::Auto).is_empty());
    assert!(entries("e.csv", b"title,body\n", Format::Auto).is_empty());
}

#[test]
fn html_files_keep_their_bytes_and_exports_give_them_back() {
    // A windows-1252 page (not UTF-8): the draft keeps its bytes exactly.
    let mut page =
        b"<!DOCTYPE html><html><head><meta charset=\"windows-1252\"><title>Caf\xe9</title>\
        </head><body><article><h1>Caf\xe9</h1><p>"
            .to_vec();
    page.extend_from_slice(
        &b"The caf\xe9 on the harbour reopened on Friday after the strike. ".repeat(4),
    );
    page.extend_from_slice(b"</p></article></body></html>");
    let parsed = one("cafe.html", &page, Format::Auto).unwrap();
    assert!(parsed.draft.body.contains("café"), "{}", parsed.draft.body);
    let kept = parsed.draft.original.as_ref().unwrap();
    assert_eq!(kept.bytes, page);
    assert_eq!(kept.media_type, "text/html");
    // Other formats keep none.
    assert!(
        one("a.txt", b"A title\n\nPlain text.", Format::Auto)
            .unwrap()
            .draft
            .original
            .is_none()
    );

    // `export --originals` read back: the page, its media type; bad base64 stays in extra.
    let line = serde_json::json!({
        "title": "T", "body": "B",
        "original": {"media_type": "text/html; charset=windows-1252",
                     "base64": morgue_model::base64_encode(&page)},
    });
    let parsed = one("x.jsonl", line.to_string().as_bytes(), Format::Auto).unwrap();
    let kept = parsed.draft.original.unwrap();
    assert_eq!(
        (kept.bytes, kept.media_type.as_str()),
        (page, "text/html; charset=windows-1252")
    );
    assert!(parsed.draft.record.extra.is_empty());
    let bad = r#"{"title": "T", "body": "B", "original": {"base64": "<html>"}}"#;
    let parsed = one("x.jsonl", bad.as_bytes(), Format::Auto).unwrap();
    assert!(parsed.draft.original.is_none());
    assert!(parsed.draft.record.extra.contains_key("original"));
    assert_eq!(
        parsed.warnings,
        ["`original.base64` is not base64; kept in extra"]
    );
    let other = r#"{"title": "T", "body": "B", "original": "the first edition"}"#;
    let parsed = one("x.jsonl", other.as_bytes(), Format::Auto).unwrap();
    assert!(parsed.draft.original.is_none());
    assert_eq!(
        parsed.draft.record.extra["original"],
        "\"the first edition\""
    );
}
