//! The archive written by format version 1 is upgraded at open and reads back identically.
//!
//! The fixture in `crates/meta/tests/fixtures/v1` was written by [`write_fixture`]:
//! `MORGUE_WRITE_FIXTURE=crates/meta/tests/fixtures/v1 cargo test -p morgue-meta --lib
//! write_fixture -- --ignored` (from the workspace root, into a missing directory).

use std::path::{Path, PathBuf};

use super::day;
use crate::engine::Database;
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

/// A copy of the fixture in a fresh temporary directory, or `None` when the fixture is absent.
fn copy_fixture() -> Option<(tempfile::TempDir, PathBuf)> {
    let src = fixture();
    if !src.exists() {
        eprintln!("no fixture at {}: skipped", src.display());
        return None;
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("v1");
    copy_dir(&src, &dir);
    Some((tmp, dir))
}

/// Everything format 1 held, read back through the upgraded archive.
fn check_upgraded(archive: &Archive) {
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
    let q = Query {
        service: Some("example desk".into()),
        since: Some(day(2017, 1, 1)),
        ..Query::default()
    };
    assert_eq!(archive.query(&q).unwrap().count(), 1);
    let facets = |f: Vec<crate::Facet>| -> Vec<(String, u64)> {
        f.into_iter().map(|f| (f.name, f.count)).collect()
    };
    assert_eq!(
        facets(archive.reporters().unwrap()),
        [("Jane Roe".to_string(), 2), ("John DOE".to_string(), 1)]
    );
    assert_eq!(
        facets(archive.services().unwrap()),
        [
            ("Example Desk".to_string(), 1),
            ("Other Desk".to_string(), 1)
        ]
    );
    let mut ids: Vec<BlobId> = archive.iter().map(|r| r.unwrap().0).collect();
    ids.sort();
    let mut want: Vec<BlobId> = drafts()
        .iter()
        .map(|d| BlobId::of(d.body.as_bytes()))
        .collect();
    want.sort();
    assert_eq!(ids, want);
    let report = archive.verify().unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    assert_eq!((report.articles, report.index_entries), (3, 3 + 3 + 2));
    let stats = archive.stats().unwrap();
    assert_eq!(stats.per_year, [(1999, 1), (2017, 1)]);
    assert_eq!(stats.articles, 3);
    let raw: usize = drafts().iter().map(|d| d.body.len()).sum();
    assert_eq!(stats.raw_bytes, raw as u64);
}

fn tree_names(dir: &Path) -> Vec<String> {
    let db = Database::open(dir, &morgue_store::Options::default()).unwrap();
    db.sled()
        .tree_names()
        .iter()
        .map(|n| String::from_utf8_lossy(n).into_owned())
        .collect()
}

#[test]
fn version_1_fixture_is_upgraded_and_reads_back() {
    let Some((_tmp, dir)) = copy_fixture() else {
        return;
    };
    {
        let archive = Archive::open(&dir).unwrap();
        assert_eq!(archive.upgraded_from(), Some(1));
        check_upgraded(&archive);
    }
    let names = tree_names(&dir);
    for v1 in crate::v1::TREES {
        assert!(!names.iter().any(|n| n == v1), "{v1} left: {names:?}");
    }
    let archive = Archive::open(&dir).unwrap();
    assert_eq!(archive.upgraded_from(), None);
    assert_eq!(archive.db.version(), 2);
    check_upgraded(&archive);
}

#[test]
fn an_interrupted_upgrade_is_redone() {
    let Some((_tmp, dir)) = copy_fixture() else {
        return;
    };
    // A crash before the header changed: half-written format-2 keys in the `morgue` tree.
    {
        let db = Database::open(&dir, &morgue_store::Options::default()).unwrap();
        assert_eq!(db.version(), 1);
        let tree = db.sled().open_tree(crate::engine::TREE).unwrap();
        tree.insert(b"m", &b"garbage"[..]).unwrap();
        tree.insert(b"r\0\0\0\0", &b"garbage"[..]).unwrap();
        tree.insert(b"S", &b"garbage"[..]).unwrap();
        db.flush().unwrap();
    }
    {
        let archive = Archive::open(&dir).unwrap();
        assert_eq!(archive.upgraded_from(), Some(1));
        check_upgraded(&archive);
    }
    // A crash after the header changed, before the format-1 trees were dropped.
    {
        let db = Database::open(&dir, &morgue_store::Options::default()).unwrap();
        let old = db.sled().open_tree(crate::v1::RECORDS_TREE).unwrap();
        old.insert(b"left over", &b"x"[..]).unwrap();
        db.flush().unwrap();
    }
    let archive = Archive::open(&dir).unwrap();
    assert_eq!(archive.upgraded_from(), None);
    check_upgraded(&archive);
    drop(archive);
    assert!(
        !tree_names(&dir)
            .iter()
            .any(|n| n == crate::v1::RECORDS_TREE)
    );
}
