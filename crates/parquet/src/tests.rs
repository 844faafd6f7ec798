use std::collections::BTreeMap;
use std::path::Path;

use morgue_ingest::{Entry, Overrides};
use morgue_model::{ArticleDate, DateOrigin, Record};

use super::*;
use crate::samples::{Expect, hostile};

fn day(y: i32, m: u32, d: u32) -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// Records with every field and every kind of date.
fn records() -> Vec<(String, Record)> {
    let full = Record {
        title: "Port Reopens".into(),
        reporters: vec!["Ann Lee".into(), "Bo Chan".into()],
        translators: vec!["Tr A".into()],
        editors: vec!["Ed B".into()],
        writers: vec!["Wr C".into()],
        services: vec!["AC/DC=rock%".into(), "Second".into()],
        outlet: "RFA".into(),
        date: Some(ArticleDate::from_datetime(
            day(1987, 2, 26).and_hms_opt(15, 1, 1).unwrap(),
        )),
        date_origin: Some(DateOrigin::Parsed),
        url: "https://example.org/a".into(),
        image: "img.jpg".into(),
        caption: "A caption".into(),
        tags: vec!["x".into(), "y".into()],
        source_id: "17".into(),
        origin: "in.jsonl".into(),
        imported_at: Some(1_700_000_000),
        extra: BTreeMap::from([
            ("n".to_string(), "[1,2]".to_string()),
            ("language".to_string(), "\"en\"".to_string()),
        ]),
        original: None,
    };
    let mut out = vec![("The port reopened on Thursday.".to_string(), full)];
    for (i, date) in [
        Some(ArticleDate::year(1987).unwrap()),
        Some(ArticleDate::month(1987, 3).unwrap()),
        Some(ArticleDate::from_day(day(1988, 1, 2))),
        None,
    ]
    .into_iter()
    .enumerate()
    {
        out.push((
            format!("Body number {i}.\n\nSecond paragraph, café."),
            Record {
                title: format!("Title {i}"),
                services: if i == 3 { vec![] } else { vec!["Wire".into()] },
                date,
                date_origin: date.map(|_| DateOrigin::Given),
                origin: "x.txt".into(),
                imported_at: Some(1_600_000_000 + i as i64),
                ..Record::default()
            },
        ));
    }
    out
}

fn id_of(body: &str) -> String {
    blake3::hash(body.as_bytes()).to_hex().to_string()
}

/// Every `.parquet` file under `dir`, in name order.
fn files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

fn read_all(path: &Path) -> Vec<Entry> {
    read(
        &path.display().to_string(),
        std::fs::File::open(path).unwrap(),
        &Overrides::default(),
    )
    .collect()
}

fn export(dest: &Path, options: ExportOptions) -> ExportSummary {
    let mut exporter = Exporter::create(dest, options).unwrap();
    for (body, record) in records() {
        exporter.push(&id_of(&body), &record, Some(&body)).unwrap();
    }
    exporter.finish().unwrap()
}

#[test]
fn partition_values_escape_and_read_back() {
    for value in [
        "Mandarin",
        "AC/DC",
        "a=b",
        "100%",
        "x:y?*",
        "é ü 中文",
        ".hidden",
        NONE,
    ] {
        let escaped = escape(value);
        assert!(
            !escaped.contains('/') && !escaped.contains('='),
            "{escaped}"
        );
        assert_ne!(escaped, NONE, "{value} must not read as null");
        assert_eq!(unescape(&escaped), value);
        let path = format!("root/service={escaped}/year={NONE}/part-0.parquet");
        assert_eq!(
            partition_values(Path::new(&path)),
            [
                ("service".to_string(), Some(value.to_string())),
                ("year".to_string(), None)
            ]
        );
    }
    assert_eq!(escape(""), NONE);
    assert_eq!(unescape("100%"), "100%", "a lone % is kept");
    assert_eq!(unescape("%zz%4"), "%zz%4");
}

#[test]
fn export_reads_back_as_the_same_records() {
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("out");
    let summary = export(&dest, ExportOptions::default());
    assert_eq!(summary.rows, 5);
    let found: Vec<String> = files(&dest)
        .iter()
        .map(|p| p.strip_prefix(&dest).unwrap().display().to_string())
        .collect();
    assert_eq!(
        found,
        [
            "service=AC%2FDC%3Drock%25/year=1987/part-0.parquet",
            "service=Wire/year=1987/part-0.parquet",
            "service=Wire/year=1988/part-0.parquet",
            format!("service={NONE}/year={NONE}/part-0.parquet").as_str(),
        ]
    );
    assert_eq!(summary.files, 4);
    assert!(!dir.path().join("out.partial").exists());

    let mut read_back: BTreeMap<String, (String, Record)> = BTreeMap::new();
    for file in files(&dest) {
        for (i, entry) in read_all(&file).into_iter().enumerate() {
            assert_eq!(entry.line, Some(i as u64 + 1));
            let parsed = entry.outcome.unwrap();
            assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);
            read_back.insert(
                id_of(&parsed.draft.body),
                (parsed.draft.body, parsed.draft.record),
            );
        }
    }
    let expected: BTreeMap<String, (String, Record)> = records()
        .into_iter()
        .map(|(body, record)| (id_of(&body), (body, record)))
        .collect();
    assert_eq!(read_back, expected);
}

#[test]
fn row_groups_files_and_memory_limits_split_the_output() {
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("out");
    let options = ExportOptions {
        row_group_rows: 1,
        max_open_files: 1,
        ..ExportOptions::default()
    };
    let mut exporter = Exporter::create(&dest, options).unwrap();
    // Two partitions, interleaved: each switch finishes the other's file.
    let mut bodies = Vec::new();
    for i in 0..6 {
        let body = format!("body {i}");
        let record = Record {
            services: vec![if i % 2 == 0 { "A" } else { "B" }.to_string()],
            ..Record::default()
        };
        exporter.push(&id_of(&body), &record, Some(&body)).unwrap();
        bodies.push(body);
    }
    let summary = exporter.finish().unwrap();
    assert_eq!((summary.rows, summary.row_groups, summary.files), (6, 6, 6));
    let mut read_back: Vec<String> = files(&dest)
        .iter()
        .flat_map(|f| read_all(f))
        .map(|e| e.outcome.unwrap().draft.body)
        .collect();
    read_back.sort();
    assert_eq!(read_back, bodies);
    assert!(
        dest.join(format!("service=A/year={NONE}/part-2.parquet"))
            .is_file()
    );
}

#[test]
fn no_body_export_has_no_body_column_and_is_refused_by_import() {
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("out");
    export(
        &dest,
        ExportOptions {
            body: false,
            ..ExportOptions::default()
        },
    );
    let file = &files(&dest)[0];
    let entries = read_all(file);
    assert_eq!(entries.len(), 1);
    let message = entries[0].outcome.as_ref().unwrap_err().to_string();
    assert!(
        message.starts_with("no body column: none of the columns body, text, maintext, content, article (the file has id, title,"),
        "{message}"
    );
}

#[test]
fn an_existing_destination_is_refused_and_a_failed_export_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("out");
    std::fs::create_dir(&dest).unwrap();
    std::fs::write(dest.join("keep.txt"), "x").unwrap();
    let err = Exporter::create(&dest, ExportOptions::default()).unwrap_err();
    assert!(
        err.to_string()
            .contains("exists and is not an empty directory"),
        "{err}"
    );
    assert!(dest.join("keep.txt").is_file());

    // An empty directory is taken.
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    assert_eq!(export(&empty, ExportOptions::default()).rows, 5);

    // A killed export's leftovers are removed; a directory that is not one is not.
    let dest = dir.path().join("next");
    let mut exporter = Exporter::create(&dest, ExportOptions::default()).unwrap();
    exporter.push("x", &Record::default(), Some("b")).unwrap();
    std::mem::forget(exporter);
    assert!(dir.path().join("next.partial").is_dir());
    assert!(!dest.exists());
    assert_eq!(export(&dest, ExportOptions::default()).rows, 5);

    let other = dir.path().join("other");
    std::fs::create_dir(dir.path().join("other.partial")).unwrap();
    let err = Exporter::create(&other, ExportOptions::default()).unwrap_err();
    assert!(
        err.to_string().contains("not an unfinished morgue export"),
        "{err}"
    );

    // Dropped unfinished: nothing left.
    let dropped = dir.path().join("dropped");
    let mut exporter = Exporter::create(&dropped, ExportOptions::default()).unwrap();
    exporter.push("x", &Record::default(), Some("b")).unwrap();
    drop(exporter);
    assert!(!dropped.exists());
    assert!(!dir.path().join("dropped.partial").exists());
}

#[test]
fn a_published_dataset_imports_with_its_metadata_and_partitions() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("lang=en/year=2019/train-00000.parquet");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, samples::dataset(&["First body.", "Second body."])).unwrap();
    let entries = read_all(&path);
    assert_eq!(entries.len(), 2);
    let parsed = entries[1].outcome.as_ref().unwrap();
    let r = &parsed.draft.record;
    assert_eq!(parsed.draft.body, "Second body.");
    assert_eq!(r.title, "Story 1");
    assert_eq!(r.reporters, ["Ann Lee 1", "Bo Chan"]);
    assert_eq!(r.services, ["example.org"]);
    assert_eq!(r.url, "https://example.org/1");
    assert_eq!(
        r.date.map(|d| d.to_string()).as_deref(),
        Some("2019-03-16T08:30:00Z")
    );
    assert_eq!(r.date_origin, Some(DateOrigin::Given));
    assert_eq!(r.origin, path.display().to_string());
    // Partition columns the file lacks are fields: `lang` goes to extra, `year` too (the file
    // has a date).
    assert_eq!(r.extra.get("lang").map(String::as_str), Some("\"en\""));
    assert_eq!(r.extra.get("year").map(String::as_str), Some("\"2019\""));
    assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);
}

#[test]
fn hostile_files_are_reported_by_file_and_row_never_panicking() {
    let mut n = 0;
    let samples = hostile(&mut |tag| {
        n += 1;
        format!("Body {n} ({tag}).")
    });
    assert_eq!(samples.len(), 6);
    for sample in samples {
        let entries: Vec<Entry> =
            read_bytes(sample.name, sample.bytes.clone(), &Overrides::default()).collect();
        let stored: Vec<(u64, String)> = entries
            .iter()
            .filter_map(|e| {
                e.outcome
                    .as_ref()
                    .ok()
                    .map(|p| (e.line.unwrap(), p.draft.body.clone()))
            })
            .collect();
        let reported: Vec<Option<u64>> = entries
            .iter()
            .filter(|e| e.outcome.is_err())
            .map(|e| e.line)
            .collect();
        for expect in &sample.expect {
            match expect {
                Expect::Stored { row, body } => assert!(
                    stored.contains(&(*row, body.clone())),
                    "{}: row {row} not stored: {entries:?}",
                    sample.name
                ),
                Expect::Maybe { .. } => {}
                Expect::Reported { row } => assert!(
                    reported.contains(row),
                    "{}: {row:?} not reported: {entries:?}",
                    sample.name
                ),
            }
        }
        // Nothing stored that was not expected.
        for (row, body) in &stored {
            assert!(
                sample.expect.iter().any(|e| matches!(e,
                    Expect::Stored { row: r, body: b } | Expect::Maybe { row: r, body: b }
                    if r == row && b == body)),
                "{}: unexpected row {row}",
                sample.name
            );
        }
        // Each file's errors name it (the CLI adds the path).
        for entry in &entries {
            if let Err(e) = &entry.outcome {
                assert!(!e.to_string().is_empty());
            }
        }
    }
}

#[test]
fn wrong_types_and_out_of_range_timestamps_are_warnings_kept_in_extra() {
    let mut n = 0;
    let samples = hostile(&mut |tag| {
        n += 1;
        format!("Body {n} ({tag}).")
    });
    let by_name = |name: &str| {
        let s = samples.iter().find(|s| s.name == name).unwrap();
        read_bytes(s.name, s.bytes.clone(), &Overrides::default()).collect::<Vec<_>>()
    };
    let entries = by_name("title-number.parquet");
    let parsed = entries[0].outcome.as_ref().unwrap();
    assert_eq!(parsed.draft.record.title, "");
    assert_eq!(
        parsed.draft.record.extra.get("title").map(String::as_str),
        Some("5")
    );
    assert_eq!(
        parsed.warnings,
        ["field `title`: expected a string, found a number; kept in extra"]
    );
    let entries = by_name("timestamp-out-of-range.parquet");
    let parsed = entries[0].outcome.as_ref().unwrap();
    assert_eq!(parsed.draft.record.date, None);
    assert_eq!(
        parsed.warnings,
        ["column `date`: timestamp 9223372036854775807 (microseconds) out of range; kept in extra"]
    );
    let entries = by_name("body-number.parquet");
    assert_eq!(
        entries[1].outcome.as_ref().unwrap_err().to_string(),
        "field `body`: expected a string, found a number"
    );
    let entries = by_name("truncated.parquet");
    assert_eq!(entries.len(), 1);
    let message = entries[0].outcome.as_ref().unwrap_err().to_string();
    assert!(
        message.starts_with("not a readable Parquet file: "),
        "{message}"
    );
}
