//! The archive written by format version 1 keeps opening and reading back identically.
//!
//! The fixture in `crates/meta/tests/fixtures/v1` was written by [`write_fixture`]:
//! `MORGUE_WRITE_FIXTURE=crates/meta/tests/fixtures/v1 cargo test -p morgue-meta --lib
//! write_fixture -- --ignored` (from the workspace root, into a missing directory).

use std::path::{Path, PathBuf};

use super::day;
use crate::{Archive, ArticleDate, BlobId, DateOrigin, Draft, MergePolicy, Query, Record};

fn drafts() -> Vec<Draft> {
    vec![
        Draft {
            body: "Fixture one. Reported by Jane Roe for the Example Desk.".into(),
            record: Record {
                title: "Fixture one".into(),
                reporters: vec!["Jane Roe".into(), "John DOE".into()],
                translators: vec!["T. Ranslator".into()],
                editors: vec!["E. Ditor".into()],
                writers: vec!["W. Riter".into()],
                services: vec!["Example Desk".into()],
                outlet: "Example Outlet".into(),
                date: Some(ArticleDate {
                    day: day(2017, 6, 20),
                    time: Some(45_296),
                }),
                date_origin: Some(DateOrigin::Given),
                url: "https://example.invalid/one".into(),
                image: "one-062017.jpg".into(),
                caption: "A caption.".into(),
                tags: vec!["alpha".into(), "beta".into()],
                source_id: "src-1".into(),
                origin: "fixture.jsonl".into(),
                imported_at: Some(1_700_000_000),
                extra: [("lang".to_string(), "\"en\"".to_string())]
                    .into_iter()
                    .collect(),
            },
        },
        Draft {
            body: "Fixture two, without a time of day.".into(),
            record: Record {
                title: "Fixture two".into(),
                reporters: vec!["jane  roe".into()],
                services: vec!["Other Desk".into()],
                date: Some(ArticleDate::from_day(day(1999, 12, 31))),
                date_origin: Some(DateOrigin::Inferred),
                imported_at: Some(1_700_000_001),
                ..Record::default()
            },
        },
        Draft {
            body: "Fixture three, undated.".into(),
            record: Record {
                imported_at: Some(1_700_000_002),
                ..Record::default()
            },
        },
    ]
}

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/v1")
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[test]
#[ignore = "writes the fixture; run by hand when a new format version is released"]
fn write_fixture() {
    let dir = PathBuf::from(std::env::var_os("MORGUE_WRITE_FIXTURE").unwrap());
    assert!(!dir.exists(), "{} exists", dir.display());
    let archive = Archive::open(&dir).unwrap();
    archive.add_batch(drafts(), MergePolicy::FillEmpty).unwrap();
    archive.flush().unwrap();
    drop(archive);
    // The lock file is recreated at open.
    std::fs::remove_file(dir.join("LOCK")).unwrap();
}

#[test]
fn version_1_fixture_reads_back() {
    let src = fixture();
    if !src.exists() {
        eprintln!("no fixture at {}: skipped", src.display());
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("v1");
    copy_dir(&src, &dir);
    let archive = Archive::open(&dir).unwrap();
    for d in drafts() {
        let id = BlobId::of(d.body.as_bytes());
        assert_eq!(archive.record(&id).unwrap(), Some(d.record));
        assert_eq!(archive.body(&id).unwrap().unwrap(), d.body.as_bytes());
    }
    let q = Query {
        reporter: Some("Jane Roe".into()),
        ..Query::default()
    };
    let titles: Vec<String> = archive
        .query(&q)
        .unwrap()
        .map(|h| h.unwrap().record.title)
        .collect();
    assert_eq!(titles, ["Fixture one", "Fixture two"]);
    let all: Vec<String> = archive
        .query(&Query::default())
        .unwrap()
        .map(|h| h.unwrap().record.title)
        .collect();
    assert_eq!(all, ["Fixture one", "Fixture two", ""]);
    let report = archive.verify().unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    assert_eq!((report.articles, report.index_entries), (3, 3 + 3 + 2));
    assert_eq!(archive.stats().unwrap().per_year, [(1999, 1), (2017, 1)]);
}
