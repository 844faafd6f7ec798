//! The record decoder of morgue-meta on arbitrary stored bytes, through the public API.
//!
//! morgue-meta keeps its codec private, so the bytes go where a damaged disk would put them:
//! up to four values (split at `0xFF 0xFE` markers) are written into the records tree of an
//! archive under ids of articles that are not otherwise there, and the archive is opened and
//! read. `record` must give a record or `CorruptedRecord` with the right id, `iter` and
//! `verify` must finish, and nothing may panic or allocate without bound.
#![no_main]

use std::path::PathBuf;
use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use morgue_meta::{Archive, BlobId, Error};
use morgue_store::Options;
use morgue_store::engine::Database;

/// The records tree of morgue-meta (docs/format.md).
const RECORDS_TREE: &str = "meta:records";

static DIR: LazyLock<(tempfile::TempDir, PathBuf)> = LazyLock::new(|| {
    let dir = tempfile::tempdir().expect("tempdir");
    let archive = dir.path().join("archive");
    // A real archive with one real article, so that the trees and header exist.
    let created = Archive::open(&archive).expect("create archive");
    let mut draft = morgue_meta::Draft::default();
    draft.body = "A real article.".into();
    draft.record.title = "Real".into();
    created
        .add(draft, morgue_meta::MergePolicy::FillEmpty)
        .expect("add");
    created.flush().expect("flush");
    drop(created);
    (dir, archive)
});

fuzz_target!(|data: &[u8]| {
    let archive = &DIR.1;
    let values: Vec<&[u8]> = data.split(|&b| b == 0xFF).take(4).collect();
    let ids: Vec<BlobId> = (0..values.len())
        .map(|n| BlobId::of(format!("fuzzed record {n}").as_bytes()))
        .collect();
    {
        let db = Database::open(archive, &Options::default()).expect("open database");
        let tree = db.sled().open_tree(RECORDS_TREE).expect("records tree");
        for (id, value) in ids.iter().zip(&values) {
            tree.insert(id.as_bytes(), *value).expect("insert");
        }
    }
    let opened = Archive::open(archive).expect("open archive");
    for id in &ids {
        match opened.record(id) {
            Ok(Some(_)) => {}
            Ok(None) => panic!("a stored record reads as absent"),
            Err(Error::CorruptedRecord { id: named }) => assert_eq!(named, *id),
            Err(other) => panic!("record gave {other:?}"),
        }
    }
    let _ = opened.iter().count();
    let report = opened.verify().expect("verify runs");
    // The fuzzed records have no bodies: verify must say so for each.
    for id in &ids {
        assert!(
            report.problems.iter().any(|p| p.id == *id),
            "verify misses {id}"
        );
    }
    let _ = opened.stats();
    // Clean up for the next input.
    for id in &ids {
        let _ = opened.remove(id);
    }
    drop(opened);
    let db = Database::open(archive, &Options::default()).expect("reopen database");
    let tree = db.sled().open_tree(RECORDS_TREE).expect("records tree");
    for id in &ids {
        tree.remove(id.as_bytes()).expect("remove");
    }
});
