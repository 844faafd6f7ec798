//! The body-pack decoder of the blob store on arbitrary bytes, through the public API.
//!
//! A real archive holds three bodies in pack 0 (seqs 0, 1, 2). Each input replaces that pack's
//! stored value (key `B` + 0u32, docs/format.md) with the fuzzed bytes; then `get_at`, `get` and
//! `verify` must give each body exactly, nothing (a slot marked removed), or
//! `Corrupted { id }` with that body's id: never another body's bytes, never panic, never
//! allocate beyond what the value records. The real pack is put back after each input. Every
//! input also round-trips through `put` / `get` / `remove`.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use morgue_store::engine::TREE;
use morgue_store::{BlobId, Error, Store};

const BODIES: [&[u8]; 3] = [
    b"The first stored body, long enough to be compressed with zstd: words, words, words.",
    b"second",
    b"The third body, which repeats itself. The third body, which repeats itself.",
];

struct Fixture {
    store: Store,
    ids: Vec<BlobId>,
    pack: Vec<u8>,
    _dir: tempfile::TempDir,
}

/// Key of body pack 0.
const PACK_0: [u8; 5] = [b'B', 0, 0, 0, 0];

static FIXTURE: LazyLock<Fixture> = LazyLock::new(|| {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path().join("archive")).expect("store");
    let ids = store.put_many(&BODIES).expect("put_many");
    let pack = store
        .tree()
        .get(PACK_0)
        .expect("read pack")
        .expect("pack 0 exists")
        .to_vec();
    Fixture {
        store,
        ids,
        pack,
        _dir: dir,
    }
});

fn check(id: BlobId, body: &[u8], got: Result<Option<Vec<u8>>, Error>) {
    match got {
        Ok(Some(bytes)) => assert_eq!(bytes, body, "another body's bytes for {id}"),
        Ok(None) => {}
        Err(Error::Corrupted { id: named }) => assert_eq!(named, id),
        Err(other) => panic!("reading {id} gave {other:?}"),
    }
}

fuzz_target!(|data: &[u8]| {
    let f = &*FIXTURE;
    let tree = f.store.tree();
    tree.insert(PACK_0, data).expect("write the fuzzed pack");
    for (seq, (id, body)) in f.ids.iter().zip(BODIES).enumerate() {
        check(*id, body, f.store.get_at(seq as u32));
        check(*id, body, f.store.get(id));
    }
    if let Ok(report) = f.store.verify() {
        for id in &report.corrupted {
            assert!(f.ids.contains(id), "verify blames {id}");
        }
    }
    tree.insert(PACK_0, f.pack.as_slice())
        .expect("restore the pack");

    // Whatever the bytes, a body the store takes reads back the same.
    if data.is_empty() {
        return;
    }
    let id = f.store.put(data).expect("put");
    assert_eq!(id, BlobId::of(data));
    assert_eq!(f.store.get(&id).expect("get").as_deref(), Some(data));
    if !f.ids.contains(&id) {
        assert!(f.store.remove(&id).expect("remove"));
    }
});
