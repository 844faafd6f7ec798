//! The record-block decoder of morgue-meta on arbitrary stored bytes, through the public API.
//!
//! morgue-meta keeps its codec private, so the bytes go where a damaged disk would put them: a
//! real archive holds three articles (seqs 0..3, record block 0), and each input replaces the
//! value of record block 0 (key `r` + 0u32, docs/format.md) with the fuzzed bytes; the archive
//! is then opened and read. `record` must give a record, nothing, or `CorruptedRecord` with the
//! right id; `original`, `iter`, `query` and `verify` must finish; nothing may panic or allocate without
//! bound. The real block is put back after each input.
#![no_main]

use std::path::PathBuf;
use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use morgue_meta::{Archive, BlobId, Error, Query};
use morgue_store::{Key, Store};

/// Key of record block 0.
const BLOCK_0: [u8; 5] = [b'r', 0, 0, 0, 0];

struct Fixture {
    _dir: tempfile::TempDir,
    archive: PathBuf,
    ids: Vec<BlobId>,
    block: Vec<u8>,
}

static FIXTURE: LazyLock<Fixture> = LazyLock::new(|| {
    let dir = tempfile::tempdir().expect("tempdir");
    let archive = dir.path().join("archive");
    let created = Archive::open(&archive).expect("create archive");
    let drafts: Vec<morgue_meta::Draft> = (0..3)
        .map(|n| {
            let mut draft = morgue_meta::Draft::default();
            draft.body = format!("A real article, number {n}.");
            draft.record.title = format!("Real {n}");
            draft.record.reporters = vec!["Jane Roe".into()];
            // One links an original page, so that the block holds a record value of version 3.
            if n == 1 {
                draft.original = Some(morgue_meta::Original {
                    bytes: b"<html><p>The page as fetched.</p></html>".to_vec(),
                    media_type: "text/html".into(),
                });
            }
            draft
        })
        .collect();
    let ids = created
        .add_batch(drafts, morgue_meta::MergePolicy::FillEmpty)
        .expect("add")
        .iter()
        .map(morgue_meta::AddOutcome::id)
        .collect();
    created.flush().expect("flush");
    drop(created);
    let block = Store::open(&archive)
        .expect("open store")
        .view()
        .get(BLOCK_0)
        .expect("read block")
        .expect("record block 0 exists")
        .to_vec();
    Fixture {
        _dir: dir,
        archive,
        ids,
        block,
    }
});

fn write_block(archive: &std::path::Path, value: &[u8]) {
    let store = Store::open(archive).expect("open store");
    let mut writer = store.writer();
    writer.put(Key::new(BLOCK_0).expect("a key of ours"), value.to_vec());
    writer.commit().expect("write block");
    store.flush().expect("flush");
}

fuzz_target!(|data: &[u8]| {
    let f = &*FIXTURE;
    write_block(&f.archive, data);
    {
        let opened = Archive::open(&f.archive).expect("open archive");
        for id in &f.ids {
            match opened.record(id) {
                Ok(_) => {}
                Err(Error::CorruptedRecord { id: named }) => assert_eq!(named, *id),
                Err(other) => panic!("record gave {other:?}"),
            }
        }
        for id in &f.ids {
            // A record may now link a page that is not there: an error, never a panic.
            let _ = opened.original(id);
        }
        let _ = opened.iter().count();
        if let Ok(hits) = opened.query(&Query::default()) {
            let _ = hits.count();
        }
        let _ = opened.verify().expect("verify runs");
        let _ = opened.stats();
    }
    write_block(&f.archive, &f.block);
});
