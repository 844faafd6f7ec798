//! The stored-value decoder of the blob store (`Store::decode`) on arbitrary bytes.
//!
//! Input: 32 bytes of id, then the value. The decoder must return the blob only when it hashes
//! to the id, and otherwise `Corrupted { id }` with that same id: never panic, never allocate
//! beyond the recorded length. Every input also round-trips through `Store::prepare`.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use morgue_store::{BlobId, Error, Store};

struct Fixture {
    store: Store,
    _dir: tempfile::TempDir,
}

static FIXTURE: LazyLock<Fixture> = LazyLock::new(|| {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path().join("archive")).expect("store");
    Fixture { store, _dir: dir }
});

fuzz_target!(|data: &[u8]| {
    let store = &FIXTURE.store;
    if let Some((id, value)) = data.split_first_chunk::<32>() {
        let id = BlobId::from_bytes(*id);
        match store.decode(&id, value) {
            Ok(blob) => assert_eq!(BlobId::of(&blob), id),
            Err(Error::Corrupted { id: named }) => assert_eq!(named, id),
            Err(other) => panic!("decode gave {other:?}"),
        }
    }
    // Whatever the bytes, a value the store prepares decodes back to them.
    let prepared = store.prepare(data).expect("prepare");
    assert_eq!(prepared.id, BlobId::of(data));
    let back = store
        .decode(&prepared.id, &prepared.value)
        .expect("round trip");
    assert_eq!(back, data);
});
