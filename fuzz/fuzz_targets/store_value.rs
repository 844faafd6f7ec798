//! The body decoders of the blob store on arbitrary bytes, through the public API.
//!
//! A real archive holds three bodies (seqs 0, 1, 2): their slots in slot table 0 (sled key `B` +
//! 0u32) and their records in pack file `packs/00000000.pack` (docs/format.md). The first byte of
//! an input chooses what the rest replaces: even, the value of slot table 0; odd, the pack file
//! after its 8-byte magic. Then `get_at`, `get` and `verify` must give each body exactly,
//! nothing (a slot marked removed), `Corrupted { id }` with that body's id (see `check`), or
//! `Damaged` (a slot table or record that does not decode): never another body's bytes, never panic, never allocate beyond what the slot records. The real bytes are put
//! back after each input. Every input is also prepared (hashed and compressed) as a body.
#![no_main]

use std::path::PathBuf;
use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use morgue_store::{BlobId, Error, Store};

const BODIES: [&[u8]; 3] = [
    b"The first stored body, long enough to be compressed with zstd: words, words, words.",
    b"second",
    b"The third body, which repeats itself. The third body, which repeats itself.",
];

/// Key of slot table 0.
const TABLE_0: [u8; 5] = [b'B', 0, 0, 0, 0];

struct Fixture {
    store: Store,
    ids: Vec<BlobId>,
    table: Vec<u8>,
    pack_path: PathBuf,
    pack: Vec<u8>,
    _dir: tempfile::TempDir,
}

static FIXTURE: LazyLock<Fixture> = LazyLock::new(|| {
    let dir = tempfile::tempdir().expect("tempdir");
    let archive = dir.path().join("archive");
    let store = Store::open(&archive).expect("store");
    let ids = store.put_many(&BODIES).expect("put_many");
    store.flush().expect("flush");
    let table = store
        .tree()
        .get(TABLE_0)
        .expect("read slot table")
        .expect("slot table 0 exists")
        .to_vec();
    let pack_path = archive.join("packs").join("00000000.pack");
    let pack = std::fs::read(&pack_path).expect("pack file 0");
    Fixture {
        store,
        ids,
        table,
        pack_path,
        pack,
        _dir: dir,
    }
});

/// A corrupted body is named by its own id. The store names an id read from a record only when
/// the record header's 4-byte check holds and the id index confirms the id's first 8 bytes at
/// that seq; random damage passes the check once in 2^32, but libFuzzer forges it (it learns the
/// compared bytes), so an id with the right 8-byte prefix is tolerated here.
fn check(id: BlobId, body: &[u8], got: Result<Option<Vec<u8>>, Error>) {
    match got {
        Ok(Some(bytes)) => assert_eq!(bytes, body, "another body's bytes for {id}"),
        Ok(None) => {}
        Err(Error::Corrupted { id: named }) => assert!(
            named.as_bytes()[..8] == id.as_bytes()[..8],
            "{named} named for {id}"
        ),
        // A slot table that does not decode, or a record that does not match its slot.
        Err(Error::Damaged { .. }) => {}
        Err(other) => panic!("reading {id} gave {other:?}"),
    }
}

fuzz_target!(|data: &[u8]| {
    let f = &*FIXTURE;
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let tree = f.store.tree();
    if mode % 2 == 0 {
        tree.insert(TABLE_0, rest).expect("write the fuzzed slot table");
    } else {
        let mut pack = f.pack[..8].to_vec();
        pack.extend_from_slice(rest);
        std::fs::write(&f.pack_path, pack).expect("write the fuzzed pack file");
    }
    for (seq, (id, body)) in f.ids.iter().zip(BODIES).enumerate() {
        check(*id, body, f.store.get_at(seq as u32));
        check(*id, body, f.store.get(id));
    }
    if let Ok(report) = f.store.verify() {
        for named in &report.corrupted {
            assert!(
                f.ids.iter().any(|id| id.as_bytes()[..8] == named.as_bytes()[..8]),
                "verify blames {named}"
            );
        }
    }
    if mode % 2 == 0 {
        tree.insert(TABLE_0, f.table.as_slice())
            .expect("restore the slot table");
    } else {
        std::fs::write(&f.pack_path, &f.pack).expect("restore the pack file");
    }

    // Whatever the bytes, the store prepares them as a body under their id.
    let prepared = f.store.prepare_batch(&[(data, "")]).expect("prepare");
    assert_eq!(prepared.len(), 1);
    assert_eq!(prepared[0].id, BlobId::of(data));
    assert_eq!(prepared[0].raw_len, data.len() as u64);
});
