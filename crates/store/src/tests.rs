//! On-disk tests of the store: each in its own temporary directory.

use std::fs;
use std::path::Path;

use crate::dir::{Database, LOCK_FILE};
use crate::header::{HEADER_FILE, header_bytes};
use crate::train::TRAIN_MIN_BYTES;
use crate::{BlobId, Error, Key, Options, Store};
use crate::{filter, format, index};

fn no_create() -> Options {
    Options {
        create: false,
        ..Options::default()
    }
}

#[test]
fn open_drop_reopen_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut ids = Vec::new();
    for i in 0..20u32 {
        let store = Store::open(dir.path()).unwrap();
        for (j, id) in ids.iter().enumerate() {
            assert_eq!(
                store.get(id).unwrap(),
                Some(format!("blob {j}").into_bytes())
            );
        }
        ids.push(store.put(format!("blob {i}").as_bytes()).unwrap());
    }
}

#[test]
fn second_open_is_locked() {
    let dir = tempfile::tempdir().unwrap();
    let first = Store::open(dir.path()).unwrap();
    let err = Store::open(dir.path()).unwrap_err();
    assert!(
        matches!(err, Error::Locked { ref path } if path == dir.path()),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        format!(
            "archive {} is in use by another morgue process",
            dir.path().display()
        )
    );
    drop(first);
    assert!(Store::open(dir.path()).is_ok());
}

#[test]
fn missing_archive_without_create_is_not_created() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nothing");
    let err = Store::open_with(&missing, &no_create()).unwrap_err();
    assert!(
        matches!(err, Error::NoArchive { ref path } if path == &missing),
        "{err:?}"
    );
    assert!(!missing.exists());
    // An empty directory holds no archive either, and stays empty.
    let err = Store::open_with(dir.path(), &no_create()).unwrap_err();
    assert!(matches!(err, Error::NoArchive { .. }), "{err:?}");
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn create_writes_header_and_lock() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a").join("b");
    let store = Store::open(&path).unwrap();
    assert_eq!(store.path(), path);
    assert_eq!(fs::read(path.join(HEADER_FILE)).unwrap(), header_bytes(2));
    assert!(path.join(LOCK_FILE).exists());
    drop(store);
    assert!(Store::open_with(&path, &no_create()).is_ok());
}

fn assert_not_an_archive(path: &Path) {
    let err = Store::open(path).unwrap_err();
    assert!(
        matches!(err, Error::NotAnArchive { path: ref p } if p == path),
        "{err:?}"
    );
}

#[test]
fn foreign_directory_is_not_an_archive() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("notes.txt"), "mine").unwrap();
    assert_not_an_archive(dir.path());
    // Nothing was written into it.
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    // A file is no archive either.
    assert_not_an_archive(&dir.path().join("notes.txt"));
}

#[test]
fn newer_format_is_refused_with_both_versions() {
    let dir = tempfile::tempdir().unwrap();
    drop(Store::open(dir.path()).unwrap());
    fs::write(dir.path().join(HEADER_FILE), header_bytes(3)).unwrap();
    let err = Store::open(dir.path()).unwrap_err();
    assert!(
        matches!(
            err,
            Error::UnsupportedVersion {
                found: 3,
                supported: 2
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "archive format version 3 is not supported (this build reads versions 1 to 2)"
    );
}

#[test]
fn database_and_store_share_one_directory() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(dir.path(), &Options::default()).unwrap();
    let store = Store::on(db.clone(), 3).unwrap();
    let id = store.put(b"x").unwrap();
    assert_eq!(id, BlobId::of(b"x"));
    assert!(db.disk_bytes().unwrap() > 0);
    drop(db);
    // The store keeps the database open.
    assert!(matches!(Store::open(dir.path()), Err(Error::Locked { .. })));
    drop(store);
    assert_eq!(
        Store::open(dir.path()).unwrap().get(&id).unwrap(),
        Some(b"x".to_vec())
    );
}

#[test]
fn empty_and_16_mib_blobs_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let empty = store.put(b"").unwrap();
    assert_eq!(empty, BlobId::of(b""));
    assert_eq!(store.get(&empty).unwrap(), Some(Vec::new()));

    // 16 MiB of varied, partly compressible bytes.
    let mut big = Vec::with_capacity(16 << 20);
    let mut x: u32 = 1;
    while big.len() < 16 << 20 {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        big.extend_from_slice(format!("{} ", x % 10_000).as_bytes());
    }
    big.truncate(16 << 20);
    let id = store.put(&big).unwrap();
    drop(store);
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.get(&id).unwrap().as_deref(), Some(big.as_slice()));
    assert_eq!(store.get(&empty).unwrap(), Some(Vec::new()));
    let stats = store.stats().unwrap();
    assert_eq!(stats.blobs, 2);
    assert_eq!(stats.raw_bytes, 16 << 20);
    assert!(stats.stored_bytes < stats.raw_bytes, "{stats:?}");
    assert!(store.verify().unwrap().is_clean());
}

#[test]
fn put_is_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let a = store.put(b"same").unwrap();
    let before = store.stats().unwrap();
    assert_eq!(store.put(b"same").unwrap(), a);
    assert_eq!(store.stats().unwrap(), before);
    assert_eq!(before.blobs, 1);
    assert!(store.remove(&a).unwrap());
    assert!(!store.remove(&a).unwrap());
    assert!(!store.contains(&a).unwrap());
    assert_eq!(store.get(&a).unwrap(), None);
}

/// Overwrites the pack file holding the frame of `id`, as damage on disk would: `f` gets the
/// file's bytes and the range of the frame's record (header, then frame) in it.
fn damage_file(store: &Store, id: &BlobId, f: impl FnOnce(&mut Vec<u8>, std::ops::Range<usize>)) {
    let slot = slot_of(store, id);
    let path = store.files().path(slot.file);
    let mut bytes = fs::read(&path).unwrap();
    let start = slot.offset as usize;
    let end = start + crate::packfile::RECORD_HEADER_LEN + slot.frame_len as usize;
    f(&mut bytes, start..end);
    fs::write(&path, bytes).unwrap();
}

/// Overwrites the slot table (`B`) holding `id` through the engine: `f` gets the value and
/// the offset of the body's slot in it.
fn damage_slot(store: &Store, id: &BlobId, f: impl FnOnce(&mut Vec<u8>, usize)) {
    let seq = store.seq_of(id).unwrap().unwrap();
    let (table, i) = format::table_of(seq);
    let key = format::key_numbered(format::TAG_SLOTS, table);
    let mut value = store.tree().get(key).unwrap().unwrap().to_vec();
    f(&mut value, 2 + format::SLOT_HEADER_LEN * i);
    store.tree().insert(key, value).unwrap();
}

/// The slot of the body `id`.
fn slot_of(store: &Store, id: &BlobId) -> format::Slot {
    store.locate_id(id).unwrap().unwrap().slot()
}

fn assert_corrupted(store: &Store, id: &BlobId) {
    let err = store.get(id).unwrap_err();
    assert!(
        matches!(err, Error::Corrupted { id: ref bad } if bad == id),
        "{err:?}"
    );
    assert_eq!(err.to_string(), format!("blob {id} is corrupted"));
}

#[test]
fn damaged_frames_are_corrupted_never_wrong_bytes() {
    const H: usize = crate::packfile::RECORD_HEADER_LEN;
    enum Damage {
        File(fn(&mut Vec<u8>, std::ops::Range<usize>)),
        Slot(fn(&mut Vec<u8>, usize)),
    }
    let damages: [(&str, Damage); 12] = [
        (
            "frame byte flipped",
            Damage::File(|v, r| v[usize::midpoint(r.start + H, r.end)] ^= 0x40),
        ),
        (
            "last frame byte flipped",
            Damage::File(|v, r| v[r.end - 1] ^= 1),
        ),
        (
            "record seq changed",
            Damage::File(|v, r| v[r.start + 35] ^= 1),
        ),
        (
            "record id changed",
            Damage::File(|v, r| v[r.start + 2] ^= 1),
        ),
        (
            "record id changed past the indexed prefix",
            Damage::File(|v, r| v[r.start + 20] ^= 1),
        ),
        (
            "record length changed",
            Damage::File(|v, r| v[r.start + H - 1] ^= 1),
        ),
        (
            "pack file cut short",
            Damage::File(|v, r| v.truncate(r.end - 1)),
        ),
        (
            "length + 1",
            Damage::Slot(|v, h| v[h + 10] = v[h + 10].wrapping_add(1)),
        ),
        ("length above the cap", Damage::Slot(|v, h| v[h + 7] = 0xff)),
        ("unknown codec", Damage::Slot(|v, h| v[h] = 9)),
        ("offset moved", Damage::Slot(|v, h| v[h + 26] ^= 1)),
        (
            "truncated slot table",
            Damage::Slot(|v, _| v.truncate(v.len() - 1)),
        ),
    ];
    for (i, (what, damage)) in damages.into_iter().enumerate() {
        // Each in its own archive: some damage a whole slot table.
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let neighbour = store.put(b"an untouched neighbour").unwrap();
        let mut blob = b"A body that zstd compresses well. ".repeat(100);
        blob.extend_from_slice(format!("variant {i}").as_bytes());
        let id = store.put(&blob).unwrap();
        assert_eq!(slot_of(&store, &id).codec, format::CODEC_ZSTD, "zstd");
        let seq = store.seq_of(&id).unwrap().unwrap();
        match damage {
            Damage::File(f) => damage_file(&store, &id, f),
            Damage::Slot(f) => damage_slot(&store, &id, f),
        }
        let got = store.get(&id);
        assert!(
            matches!(got, Err(Error::Corrupted { id: bad }) if bad == id),
            "{what}: {got:?}"
        );
        // By sequence number: corrupted, or damaged when the record (whose header holds the
        // id) or the slot table does not decode.
        assert!(
            matches!(
                store.get_at(seq),
                Err(Error::Corrupted { .. } | Error::Damaged { .. })
            ),
            "{what}"
        );
        if let Err(Error::Corrupted { id: named }) = store.get_at(seq) {
            assert_eq!(named, id, "{what}: never an id that was not stored");
        }
        let report = store.verify().unwrap();
        assert!(!report.is_clean());
        assert!(
            report
                .corrupted
                .iter()
                .chain(&report.unindexed)
                .all(|c| *c == id),
            "{what}: never an id that was not stored: {report:?}"
        );
        if what.starts_with("frame") || what.starts_with("last frame") || what.contains("cut") {
            assert_eq!(report.corrupted, vec![id], "{what}: {report:?}");
        } else if what == "truncated slot table" {
            assert!(
                report.damaged.iter().any(|d| d.starts_with("pack 0")),
                "{what}: {report:?}"
            );
        } else {
            assert!(
                report
                    .damaged
                    .iter()
                    .any(|d| d.starts_with(&format!("record of seq {seq}"))),
                "{what}: {report:?}"
            );
        }
        if what != "truncated slot table" {
            assert_eq!(
                store.get(&neighbour).unwrap(),
                Some(b"an untouched neighbour".to_vec())
            );
        }
        if what == "pack file cut short" {
            assert!(
                report.damaged.iter().any(|d| d.contains("shorter")),
                "{report:?}"
            );
        }
    }

    // A raw-stored tiny body: its bytes changed, so its hash no longer matches.
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let tiny = store.put(b"tiny").unwrap();
    assert_eq!(slot_of(&store, &tiny).codec, format::CODEC_RAW, "raw");
    damage_file(&store, &tiny, |v, r| v[r.start + H] = b'T');
    assert_corrupted(&store, &tiny);
    assert_eq!(store.verify().unwrap().corrupted, vec![tiny]);
}

#[test]
fn malformed_keys_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let id = store.put(b"fine").unwrap();
    store.tree().insert(b"Short", b"x".as_slice()).unwrap();
    store.tree().insert(b"\x00zero", b"x".as_slice()).unwrap();
    // A caller's key is not the store's business.
    store.tree().insert(b"records", b"x".as_slice()).unwrap();
    let report = store.verify().unwrap();
    assert_eq!(report.checked, 3);
    assert!(report.corrupted.is_empty());
    assert_eq!(
        report.malformed_keys,
        vec![b"\x00zero".to_vec(), b"Short".to_vec()]
    );
    assert!(!report.is_clean());
    let ids: Vec<_> = store.ids().collect::<Result<_, _>>().unwrap();
    assert_eq!(ids, vec![id]);
}

#[test]
fn resolve_prefixes() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let bodies: Vec<Vec<u8>> = (0..3000)
        .map(|i| format!("blob {i}").into_bytes())
        .collect();
    // In several commits, so that the index has several runs.
    let mut ids = Vec::new();
    for part in bodies.chunks(700) {
        let part: Vec<&[u8]> = part.iter().map(Vec::as_slice).collect();
        ids.extend(store.put_many(&part).unwrap());
    }
    ids.sort();
    let hex: Vec<String> = ids.iter().map(ToString::to_string).collect();

    // Every id resolves from a unique prefix, in either case, and from itself.
    for (id, h) in ids.iter().zip(&hex).step_by(37) {
        assert_eq!(store.resolve(h).unwrap(), *id);
        assert_eq!(store.resolve(&h.to_ascii_uppercase()).unwrap(), *id);
        let unique = (4..=64)
            .find(|&n| hex.iter().filter(|o| o.starts_with(&h[..n])).count() == 1)
            .unwrap();
        assert_eq!(store.resolve(&h[..unique]).unwrap(), *id);
    }

    // Shared prefixes of even and odd length list all candidates, sorted.
    for len in [4, 5] {
        let mut checked = 0;
        for h in &hex {
            let prefix = &h[..len];
            let expected: Vec<BlobId> = ids
                .iter()
                .zip(&hex)
                .filter(|(_, o)| o.starts_with(prefix))
                .map(|(id, _)| *id)
                .collect();
            if expected.len() < 2 {
                continue;
            }
            let err = store.resolve(&prefix.to_ascii_uppercase()).unwrap_err();
            assert!(
                matches!(err, Error::Ambiguous { prefix: ref p, ref candidates }
                    if p == prefix && *candidates == expected),
                "{prefix}: {err:?}"
            );
            checked += 1;
        }
        assert!(
            checked > 0,
            "no shared prefix of length {len} among 3000 ids"
        );
    }

    let absent = (0..u32::MAX)
        .map(|n| format!("{n:08x}"))
        .find(|p| !hex.iter().any(|h| h.starts_with(p.as_str())))
        .unwrap();
    let err = store.resolve(&absent).unwrap_err();
    assert!(
        matches!(err, Error::NotFound { ref prefix } if *prefix == absent),
        "{err:?}"
    );
    for bad in ["abc", "xyz1", "", &"0".repeat(65)] {
        assert!(
            matches!(store.resolve(bad), Err(Error::InvalidId { ref prefix }) if prefix == bad),
            "{bad:?}"
        );
    }
}

#[test]
fn waiting_open_gets_the_archive_once_released() {
    let dir = tempfile::tempdir().unwrap();
    let first = Store::open(dir.path()).unwrap();
    let id = first.put(b"waited for").unwrap();
    // Released by another thread while the second open waits.
    let holder = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(200));
        drop(first);
    });
    let options = Options {
        wait: Some(std::time::Duration::from_secs(60)),
        ..Options::default()
    };
    let second = Store::open_with(dir.path(), &options).unwrap();
    holder.join().unwrap();
    assert_eq!(second.get(&id).unwrap(), Some(b"waited for".to_vec()));
}

#[test]
fn bounded_wait_ends_locked() {
    let dir = tempfile::tempdir().unwrap();
    let _first = Store::open(dir.path()).unwrap();
    let options = Options {
        wait: Some(std::time::Duration::from_millis(50)),
        ..Options::default()
    };
    let err = Store::open_with(dir.path(), &options).unwrap_err();
    assert!(matches!(err, Error::Locked { .. }), "{err:?}");
}

#[test]
fn sled_held_by_a_stray_tree_is_locked_not_an_io_error() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    // A tree outliving its store keeps sled open after our lock is released.
    let stray = store.tree().clone();
    drop(store);
    let err = Store::open(dir.path()).unwrap_err();
    assert!(
        matches!(err, Error::Locked { ref path } if path == dir.path()),
        "{err:?}"
    );
    drop(stray);
    assert!(Store::open(dir.path()).is_ok());
}

#[test]
fn too_large_blob_is_refused() {
    // Built without filling a GiB: the check is on the length alone.
    let err =
        crate::frame::check_len(usize::try_from(crate::MAX_BLOB_BYTES).unwrap() + 1).unwrap_err();
    assert!(
        matches!(err, Error::TooLarge { len, max } if len == max + 1 && max == 1 << 30),
        "{err:?}"
    );
}

mod model {
    use std::collections::{BTreeMap, HashMap};

    use proptest::prelude::*;

    use crate::{BlobId, Error, Store};

    #[derive(Debug, Clone)]
    enum Op {
        Put(Vec<u8>),
        /// One commit of many bodies (numbered bodies `from..from + n`, some seen before), so
        /// that index runs of many sizes are written and merged.
        PutMany(u16, u16),
        /// An operation on the id of a blob picked from those seen so far (or one never stored).
        Get(usize),
        Remove(usize),
        Contains(usize),
        /// Resolve the first `len` hex characters of a picked id, maybe in upper case.
        Resolve(usize, usize, bool),
        Reopen,
        Optimize,
    }

    fn blob() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            // A small alphabet, so the same blob comes back often.
            prop::collection::vec(0u8..2, 0..3),
            prop::collection::vec(any::<u8>(), 0..64),
            (any::<u8>(), 100usize..5000).prop_map(|(b, n)| vec![b; n]),
        ]
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => blob().prop_map(Op::Put),
            2 => (0u16..400, 1u16..300).prop_map(|(a, n)| Op::PutMany(a, n)),
            2 => any::<usize>().prop_map(Op::Get),
            2 => any::<usize>().prop_map(Op::Remove),
            1 => any::<usize>().prop_map(Op::Contains),
            2 => (any::<usize>(), 4usize..=64, any::<bool>())
                .prop_map(|(i, n, up)| Op::Resolve(i, n, up)),
            1 => Just(Op::Reopen),
            1 => Just(Op::Optimize),
        ]
    }

    /// The model: live bodies with their sequence numbers, and the next sequence number.
    #[derive(Default)]
    struct Model {
        live: BTreeMap<BlobId, (Vec<u8>, u32)>,
        next: u32,
    }

    impl Model {
        fn put(&mut self, bytes: &[u8]) -> BlobId {
            let id = BlobId::of(bytes);
            if !self.live.contains_key(&id) {
                self.live.insert(id, (bytes.to_vec(), self.next));
                self.next += 1;
            }
            id
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 40, ..ProptestConfig::default() })]

        #[test]
        fn store_matches_a_model(ops in prop::collection::vec(op(), 1..40)) {
            // Runs merged up to 200 entries at most: the bound bites within a few commits.
            const MAX_RUN: u64 = 200;
            let dir = tempfile::tempdir().unwrap();
            let mut store = Store::open(dir.path()).unwrap();
            store.set_max_run_entries(MAX_RUN);
            let mut model = Model::default();
            // Every id seen, plus one that is never stored.
            let mut seen: Vec<BlobId> = vec![BlobId::of(b"never stored by this test")];
            let pick = |seen: &[BlobId], i: usize| seen[i % seen.len()];

            for op in ops {
                match op {
                    Op::Put(bytes) => {
                        let id = store.put(&bytes).unwrap();
                        prop_assert_eq!(id, model.put(&bytes));
                        seen.push(id);
                    }
                    Op::PutMany(from, n) => {
                        let bodies: Vec<Vec<u8>> = (from..from + n)
                            .map(|i| format!("numbered body {i}").into_bytes())
                            .collect();
                        let refs: Vec<&[u8]> = bodies.iter().map(Vec::as_slice).collect();
                        let ids = store.put_many(&refs).unwrap();
                        for (id, body) in ids.iter().zip(&bodies) {
                            prop_assert_eq!(*id, model.put(body));
                        }
                        seen.extend(ids.iter().step_by(7));
                    }
                    Op::Get(i) => {
                        let id = pick(&seen, i);
                        let got = store.get(&id).unwrap();
                        prop_assert_eq!(got.as_ref(), model.live.get(&id).map(|(b, _)| b));
                        prop_assert_eq!(store.seq_of(&id).unwrap(), model.live.get(&id).map(|(_, s)| *s));
                    }
                    Op::Remove(i) => {
                        let id = pick(&seen, i);
                        prop_assert_eq!(store.remove(&id).unwrap(), model.live.remove(&id).is_some());
                    }
                    Op::Contains(i) => {
                        let id = pick(&seen, i);
                        prop_assert_eq!(store.contains(&id).unwrap(), model.live.contains_key(&id));
                    }
                    Op::Resolve(i, len, upper) => {
                        let hex = pick(&seen, i).to_string();
                        let prefix = &hex[..len];
                        let matching: Vec<BlobId> = model
                            .live
                            .keys()
                            .filter(|id| id.to_string().starts_with(prefix))
                            .copied()
                            .collect();
                        let given = if upper { prefix.to_ascii_uppercase() } else { prefix.to_owned() };
                        match (store.resolve(&given), matching.as_slice()) {
                            (Ok(id), [only]) => prop_assert_eq!(id, *only),
                            (Err(Error::NotFound { prefix: p }), []) => prop_assert_eq!(p, prefix),
                            (Err(Error::Ambiguous { prefix: p, candidates }), [_, _, ..]) => {
                                prop_assert_eq!(p, prefix);
                                prop_assert_eq!(candidates, matching);
                            }
                            (got, _) => prop_assert!(false, "{given}: {got:?}, model {matching:?}"),
                        }
                    }
                    Op::Reopen => {
                        drop(store);
                        store = Store::open(dir.path()).unwrap();
                        store.set_max_run_entries(MAX_RUN);
                    }
                    Op::Optimize => {
                        store.optimize(&mut |_| {}).unwrap();
                        // Runs over disjoint ranges of prefixes, about MAX_RUN entries each,
                        // and at most a few small ones of later puts.
                        let runs = store.cache().runs.clone();
                        let live = model.live.len() as u64;
                        prop_assert!(
                            runs.len() as u64
                                <= live.div_ceil(MAX_RUN).max(1) + crate::index::EXTRA_RUNS as u64
                        );
                        prop_assert_eq!(runs.iter().map(|r| r.entries).sum::<u64>(), live);
                        prop_assert!(
                            crate::index::in_parts(store.tree(), &runs, live, MAX_RUN).unwrap()
                        );
                    }
                }
                // The index stays a few runs: each more than twice the next newer one, or too
                // large to merge with it.
                let runs = store.cache().runs.clone();
                prop_assert!(
                    runs.windows(2).all(|w| w[0].entries > 2 * w[1].entries
                        || w[0].entries + w[1].entries > MAX_RUN),
                    "{:?}", runs.iter().map(|r| r.entries).collect::<Vec<_>>()
                );
            }

            let ids: Vec<BlobId> = store.ids().collect::<Result<_, _>>().unwrap();
            prop_assert_eq!(&ids, &model.live.keys().copied().collect::<Vec<_>>());
            let by_seq: HashMap<u32, BlobId> = model.live.iter().map(|(id, (_, s))| (*s, *id)).collect();
            let live: Vec<(u32, BlobId)> = store.live().collect::<Result<_, _>>().unwrap();
            prop_assert_eq!(live.len(), by_seq.len());
            for (seq, id) in &live {
                prop_assert_eq!(by_seq.get(seq), Some(id));
                prop_assert_eq!(store.id_at(*seq).unwrap(), Some(*id));
            }
            prop_assert!(live.windows(2).all(|w| w[0].0 < w[1].0));
            let stats = store.stats().unwrap();
            prop_assert_eq!(stats.blobs, model.live.len() as u64);
            prop_assert_eq!(stats.raw_bytes, model.live.values().map(|(v, _)| v.len() as u64).sum::<u64>());
            let report = store.verify().unwrap();
            prop_assert!(report.is_clean(), "{:?}", report);
            prop_assert_eq!(report.checked, model.live.len() as u64);
        }
    }
}

/// Run by [`locked_across_processes`] in a child process: holds the archive named by
/// `MORGUE_TEST_HOLD` until its stdin closes.
#[test]
#[ignore = "helper process of locked_across_processes"]
fn hold_archive_child() {
    use std::io::{Read, Write};
    let Some(dir) = std::env::var_os("MORGUE_TEST_HOLD") else {
        return;
    };
    let store = Store::open(&dir).unwrap();
    store.put(b"from the child").unwrap();
    store.flush().unwrap();
    println!("MORGUE-READY");
    std::io::stdout().flush().unwrap();
    let mut rest = Vec::new();
    std::io::stdin().read_to_end(&mut rest).unwrap();
    drop(store);
}

#[test]
fn locked_across_processes() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};

    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "tests::hold_archive_child",
            "--ignored",
            "--nocapture",
        ])
        .env("MORGUE_TEST_HOLD", dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let ready = lines
        .by_ref()
        .map_while(Result::ok)
        .any(|line| line.contains("MORGUE-READY"));
    assert!(ready, "the child did not open the archive");

    let err = Store::open(dir.path()).unwrap_err();
    assert!(
        matches!(err, Error::Locked { ref path } if path == dir.path()),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .contains("is in use by another morgue process")
    );

    drop(child.stdin.take());
    // Read the child's output to its end, so that it never writes into a closed pipe.
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert!(child.wait().unwrap().success(), "{rest:?}");
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(
        store.get(&BlobId::of(b"from the child")).unwrap(),
        Some(b"from the child".to_vec())
    );
}

/// The blobs of the archive in `tests/fixtures/v1`, written by format version 1.
fn fixture_blobs() -> Vec<Vec<u8>> {
    vec![
        Vec::new(),
        b"tiny".to_vec(),
        b"A body in the first format, long enough to compress. ".repeat(20),
    ]
}

/// Writes the fixture archive of this format into `$MORGUE_WRITE_FIXTURE` (run once per
/// released format: `MORGUE_WRITE_FIXTURE=crates/store/tests/fixtures/vN cargo test -p
/// morgue-store -- --ignored write_fixture`).
#[test]
#[ignore = "writes the fixture of a released format"]
fn write_fixture() {
    let Some(dir) = std::env::var_os("MORGUE_WRITE_FIXTURE") else {
        return;
    };
    let store = Store::open(&dir).unwrap();
    for blob in fixture_blobs() {
        store.put(&blob).unwrap();
    }
    store.flush().unwrap();
}

/// A copy of the v1 fixture in a temporary directory (opening writes to the archive).
fn copy_of_v1_fixture() -> tempfile::TempDir {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/v1");
    let dir = tempfile::tempdir().unwrap();
    for entry in fs::read_dir(&fixture).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_file() {
            fs::copy(entry.path(), dir.path().join(entry.file_name())).unwrap();
        }
    }
    dir
}

/// An archive written by format version 1 (blobs only) is upgraded at open and reads back.
#[test]
fn upgrades_the_v1_fixture() {
    let dir = copy_of_v1_fixture();
    assert_eq!(
        fs::read(dir.path().join(HEADER_FILE)).unwrap(),
        header_bytes(1)
    );
    // The v1 decoder reads the fixture as it is: both codecs are represented.
    {
        let db = Database::open(dir.path(), &no_create()).unwrap();
        assert_eq!(db.version(), 1);
        let v1 = db.sled().open_tree(crate::migrate::BLOB_TREE).unwrap();
        let codecs: Vec<u8> = fixture_blobs()
            .iter()
            .map(|b| v1.get(BlobId::of(b).as_bytes()).unwrap().unwrap()[1])
            .collect();
        assert_eq!(codecs, [0, 0, 1]);
        for b in fixture_blobs() {
            assert_eq!(
                crate::migrate::v1_blob(&db, &BlobId::of(&b)).unwrap(),
                Some(b.clone())
            );
        }
    }
    let store = Store::open_with(dir.path(), &no_create()).unwrap();
    assert_eq!(store.database().version(), 2);
    assert_eq!(
        fs::read(dir.path().join(HEADER_FILE)).unwrap(),
        header_bytes(2)
    );
    let blobs = fixture_blobs();
    let mut ids: Vec<BlobId> = blobs.iter().map(|b| BlobId::of(b)).collect();
    for blob in &blobs {
        assert_eq!(store.get(&BlobId::of(blob)).unwrap().as_ref(), Some(blob));
    }
    // Stored in id order: sequence numbers follow the ids.
    ids.sort();
    for (seq, id) in ids.iter().enumerate() {
        assert_eq!(store.seq_of(id).unwrap(), Some(seq as u32));
    }
    let report = store.verify().unwrap();
    assert!(report.is_clean(), "{report:?}");
    assert_eq!(report.checked, blobs.len() as u64);
    assert!(
        !store
            .database()
            .sled()
            .tree_names()
            .iter()
            .any(|n| n.as_ref() == b"blobs"),
        "the v1 tree is dropped"
    );
    drop(store);
    // And it opens as a format-2 archive from then on.
    let store = Store::open_with(dir.path(), &no_create()).unwrap();
    assert_eq!(store.stats().unwrap().blobs, 3);
}

/// An upgrade interrupted before the header was rewritten is redone from the start; one
/// interrupted after it only drops the leftover v1 tree.
#[test]
fn interrupted_upgrades_finish() {
    let dir = copy_of_v1_fixture();
    {
        // A partial upgrade: some of the `morgue` tree written, header still 1.
        let db = Database::open(dir.path(), &no_create()).unwrap();
        let store = Store::on(db.clone(), 3).unwrap();
        store.put(b"left over by a crash").unwrap();
        store.flush().unwrap();
        assert_eq!(db.version(), 1);
    }
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.stats().unwrap().blobs, 3);
    assert!(
        !store
            .contains(&BlobId::of(b"left over by a crash"))
            .unwrap()
    );
    drop(store);

    let dir = copy_of_v1_fixture();
    {
        // Header rewritten, v1 tree not yet dropped.
        drop(Store::open_with(dir.path(), &no_create()).unwrap());
        let db = Database::open(dir.path(), &no_create()).unwrap();
        let v1 = db.sled().open_tree(crate::migrate::BLOB_TREE).unwrap();
        v1.insert(b"x", b"y".as_slice()).unwrap();
        db.flush().unwrap();
    }
    let store = Store::open(dir.path()).unwrap();
    assert!(
        !store
            .database()
            .sled()
            .tree_names()
            .iter()
            .any(|n| n.as_ref() == b"blobs")
    );
    assert!(store.verify().unwrap().is_clean());
}

/// A caller's upgrade marks the archive upgraded only once it succeeded: a failed one leaves
/// format 1 (and the next open starts over on an empty store); one that succeeds gets the
/// legacy trees and bodies, and the format-1 trees are dropped.
#[test]
fn open_upgrading_marks_the_version_only_after_success() {
    let dir = copy_of_v1_fixture();
    let failed = Store::open_upgrading(dir.path(), &no_create(), |store, legacy| {
        assert!(legacy.blob(&BlobId::of(b"tiny"))?.is_some());
        store.put(b"half an upgrade")?;
        Err(Error::Internal("the caller's migration failed".into()))
    });
    assert!(matches!(failed, Err(Error::Internal(_))), "{failed:?}");
    assert_eq!(
        fs::read(dir.path().join(HEADER_FILE)).unwrap(),
        header_bytes(1)
    );
    let (store, from) = Store::open_upgrading(dir.path(), &no_create(), |store, legacy| {
        // Started over: nothing of the failed attempt is left.
        assert_eq!(store.stats()?.blobs, 0);
        let blobs = legacy.tree(crate::migrate::BLOB_TREE)?;
        assert_eq!(blobs.scan_prefix(b"").count(), fixture_blobs().len());
        let bodies: Vec<Vec<u8>> = fixture_blobs();
        let refs: Vec<&[u8]> = bodies.iter().map(Vec::as_slice).collect();
        store.put_many(&refs)?;
        Ok::<(), Error>(())
    })
    .unwrap();
    assert_eq!(from, Some(1));
    assert_eq!(store.stats().unwrap().blobs, 3);
    assert!(!store.contains(&BlobId::of(b"half an upgrade")).unwrap());
    assert_eq!(
        fs::read(dir.path().join(HEADER_FILE)).unwrap(),
        header_bytes(2)
    );
    assert!(
        !store
            .database()
            .sled()
            .tree_names()
            .iter()
            .any(|n| n.as_ref() == b"blobs")
    );
    drop(store);
    let (_, from) = Store::open_upgrading(dir.path(), &no_create(), |_, _| -> Result<(), Error> {
        panic!("a current archive is not upgraded")
    })
    .unwrap();
    assert_eq!(from, None);
}

/// A v1 archive with article records is the archive layer's to upgrade.
#[test]
fn v1_archive_with_records_is_refused() {
    let dir = copy_of_v1_fixture();
    {
        let db = Database::open(dir.path(), &no_create()).unwrap();
        let records = db.sled().open_tree("meta:records").unwrap();
        records.insert(b"k", b"v".as_slice()).unwrap();
        db.flush().unwrap();
    }
    let err = Store::open(dir.path()).unwrap_err();
    assert!(
        matches!(err, Error::UpgradeNeedsArchive { ref path } if path == dir.path()),
        "{err:?}"
    );
    assert!(err.to_string().contains("open it with morgue"), "{err}");
    // Nothing changed.
    assert_eq!(
        fs::read(dir.path().join(HEADER_FILE)).unwrap(),
        header_bytes(1)
    );
    let db = Database::open(dir.path(), &no_create()).unwrap();
    assert_eq!(db.version(), 1);
    assert!(
        crate::migrate::v1_blob(&db, &BlobId::of(b"tiny"))
            .unwrap()
            .is_some()
    );
}

#[test]
fn partial_snapshot_left_by_a_kill_is_removed_at_open() {
    let dir = tempfile::tempdir().unwrap();
    let id = {
        let store = Store::open(dir.path()).unwrap();
        let id = store.put(b"kept across a torn snapshot").unwrap();
        store.flush().unwrap();
        id
    };
    // What a process killed while sled writes its snapshot leaves behind.
    let torn = dir.path().join("snap.FFFFFFFFFFFFFFFF.generating");
    std::fs::write(&torn, b"partial").unwrap();
    let store = Store::open(dir.path()).unwrap();
    assert!(!torn.exists());
    assert_eq!(
        store.get(&id).unwrap().as_deref(),
        Some(&b"kept across a torn snapshot"[..])
    );
}

#[test]
fn flush_syncs_and_reports_no_error() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    // Large enough for sled to keep it out of line, in its `blobs/` directory.
    let big: Vec<u8> = (0..4_000_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let id = store.put(&big).unwrap();
    store.flush().unwrap();
    store.flush().unwrap();
    drop(store);
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.get(&id).unwrap().as_deref(), Some(&big[..]));
}

/// Bodies like articles: varied text of a few hundred bytes.
pub(crate) fn article(i: usize) -> Vec<u8> {
    let words = [
        "market",
        "shares",
        "company",
        "said",
        "percent",
        "government",
        "oil",
        "bank",
        "trade",
        "prices",
        "year",
        "dollar",
        "exports",
        "week",
        "analysts",
        "rose",
        "fell",
        "Tuesday",
    ];
    let mut x = (i as u64).wrapping_mul(6_364_136_223_846_793_005) | 1;
    let mut out = format!("LONDON, March {} - ", i % 31 + 1);
    let n = 40 + (i % 90);
    for _ in 0..n {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.push_str(words[(x % words.len() as u64) as usize]);
        out.push(' ');
    }
    out.push_str("Reuters ");
    out.push_str(&i.to_string());
    out.into_bytes()
}

#[test]
fn writer_places_finds_removes_and_commits_with_caller_keys() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let old = store.put(b"stored before").unwrap();
    assert_eq!(store.seq_of(&old).unwrap(), Some(0));

    let bodies: Vec<Vec<u8>> = (0..70).map(article).collect();
    let items: Vec<(&[u8], &str)> = bodies.iter().map(|b| (b.as_slice(), "wire")).collect();
    let prepared = store.prepare_batch(&items).unwrap();
    assert_eq!(prepared.len(), 70);
    assert_eq!(prepared[0].id, BlobId::of(&bodies[0]));
    assert_eq!(prepared[0].raw_len, bodies[0].len() as u64);
    assert!(prepared[0].stored_len() < prepared[0].raw_len);

    let mut w = store.writer();
    let mut seqs = Vec::new();
    for blob in prepared.iter().cloned() {
        let placed = w.place(blob).unwrap();
        assert!(placed.new);
        seqs.push(placed.seq);
    }
    // Dense, after the one stored body, across a slot table boundary.
    assert_eq!(seqs, (1..71).collect::<Vec<u32>>());
    // Staged bodies are found, and placing one again is no new body.
    assert_eq!(w.find(&prepared[5].id).unwrap(), Some(6));
    let again = w.place(prepared[5].clone()).unwrap();
    assert_eq!((again.seq, again.new), (6, false));
    // A stored body too.
    let stored = store.prepare_batch(&[(b"stored before", "")]).unwrap();
    let placed = w.place(stored[0].clone()).unwrap();
    assert_eq!((placed.seq, placed.new), (0, false));
    // Removing a staged body and a stored one.
    assert!(w.remove(6).unwrap());
    assert!(!w.remove(6).unwrap());
    assert_eq!(w.find(&prepared[5].id).unwrap(), None);
    assert!(w.remove(0).unwrap());
    assert_eq!(w.find(&old).unwrap(), None);
    assert!(!w.remove(1000).unwrap());
    // Caller keys.
    w.put(Key::new(b"r1".to_vec()).unwrap(), b"one".to_vec());
    w.put(Key::new(b"r2".to_vec()).unwrap(), b"two".to_vec());
    w.delete(Key::new(b"r2".to_vec()).unwrap());
    assert_eq!(w.staged(b"r1"), Some(Some(&b"one"[..])));
    assert_eq!(w.staged(b"r2"), Some(None));
    assert_eq!(w.staged(b"r3"), None);
    // Nothing is visible before the commit.
    assert_eq!(store.seq_of(&prepared[0].id).unwrap(), None);
    assert_eq!(store.tree().get("r1").unwrap(), None);
    assert_eq!(store.seq_of(&old).unwrap(), Some(0));
    w.commit().unwrap();

    assert_eq!(
        store.tree().get("r1").unwrap().as_deref(),
        Some(&b"one"[..])
    );
    assert_eq!(store.tree().get("r2").unwrap(), None);
    assert_eq!(store.seq_of(&old).unwrap(), None);
    assert_eq!(store.get(&old).unwrap(), None);
    assert_eq!(store.id_at(0).unwrap(), None);
    assert_eq!(store.id_at(6).unwrap(), None);
    for (i, body) in bodies.iter().enumerate() {
        let seq = i as u32 + 1;
        if seq == 6 {
            continue;
        }
        assert_eq!(store.seq_of(&BlobId::of(body)).unwrap(), Some(seq));
        assert_eq!(store.id_at(seq).unwrap(), Some(BlobId::of(body)));
        assert_eq!(store.get_at(seq).unwrap().as_ref(), Some(body));
    }
    assert_eq!(store.get_at(71).unwrap(), None);
    let live: Vec<(u32, BlobId)> = store.live().collect::<Result<_, _>>().unwrap();
    assert_eq!(live.len(), 69);
    assert_eq!(live[0], (1, BlobId::of(&bodies[0])));
    assert!(live.windows(2).all(|w| w[0].0 < w[1].0));
    let stats = store.stats().unwrap();
    assert_eq!(stats.blobs, 69);
    let raw: u64 = bodies.iter().map(|b| b.len() as u64).sum::<u64>() - bodies[5].len() as u64;
    assert_eq!(stats.raw_bytes, raw);
    let report = store.verify().unwrap();
    assert!(report.is_clean(), "{report:?}");

    // A removed body stored again gets a new sequence number.
    let id = store.put(b"stored before").unwrap();
    assert_eq!(id, old);
    assert_eq!(store.seq_of(&old).unwrap(), Some(71));
    drop(store);
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.seq_of(&old).unwrap(), Some(71));
    assert_eq!(store.stats().unwrap().blobs, 70);
    assert!(store.verify().unwrap().is_clean());
}

#[test]
fn a_failed_commit_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let kept = store.put(b"kept").unwrap();
    let before: Vec<_> = store.tree().iter().collect::<Result<_, _>>().unwrap();
    let stats = store.stats().unwrap();

    let prepared = store
        .prepare_batch(&[
            (b"never stored".as_slice(), ""),
            (b"nor this".as_slice(), "g"),
        ])
        .unwrap();
    let mut w = store.writer();
    for blob in prepared {
        w.place(blob).unwrap();
    }
    assert!(w.remove(0).unwrap());
    w.put(Key::new(b"rkey".to_vec()).unwrap(), b"v".to_vec());
    // A key of the store's is refused when it is made, and the writer is given up.
    let err = Key::new(b"Bad".to_vec()).unwrap_err();
    assert!(
        matches!(err, Error::ForeignKey { ref key } if key == b"Bad"),
        "{err:?}"
    );
    drop(w);
    // Nothing written but the new group's name (stored at prepare time).
    let after: Vec<_> = store
        .tree()
        .iter()
        .collect::<Result<Vec<_>, _>>()
        .unwrap()
        .into_iter()
        .filter(|(k, _)| k[0] != b'G')
        .collect();
    let before: Vec<_> = before.into_iter().filter(|(k, _)| k[0] != b'G').collect();
    assert_eq!(after, before);
    assert_eq!(store.stats().unwrap(), stats);
    assert_eq!(store.seq_of(&kept).unwrap(), Some(0));
    assert!(!store.contains(&BlobId::of(b"never stored")).unwrap());
    // The next writer starts from the committed state.
    let id = store.put(b"next").unwrap();
    assert_eq!(store.seq_of(&id).unwrap(), Some(1));
    assert!(store.verify().unwrap().is_clean());
}

#[test]
fn sequence_numbers_never_wrap() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Store::open(dir.path()).unwrap();
        let mut state = format::State::decode(&store.tree().get("S").unwrap().unwrap()).unwrap();
        state.next_seq = u32::MAX;
        store.tree().insert("S", state.encode()).unwrap();
    }
    let store = Store::open(dir.path()).unwrap();
    let err = store.put(b"one too many").unwrap_err();
    assert!(matches!(err, Error::Full), "{err:?}");
    assert_eq!(store.stats().unwrap().blobs, 0);
}

/// An article of about 1.2 KB.
fn long_article(i: usize) -> Vec<u8> {
    let mut a = article(i);
    a.extend_from_slice(&article(i + 1_000_000));
    a
}

fn group_dict(store: &Store, name: &str) -> u32 {
    let cache = store.cache();
    let g = cache.groups.by_name[name];
    cache.groups.list[usize::from(g)].1
}

#[test]
fn dictionaries_are_trained_at_the_thresholds() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let put = |range: std::ops::Range<usize>, group: &str, f: fn(usize) -> Vec<u8>| {
        let bodies: Vec<Vec<u8>> = range.map(f).collect();
        let items: Vec<(&[u8], &str)> = bodies.iter().map(|b| (b.as_slice(), group)).collect();
        let prepared = store.prepare_batch(&items).unwrap();
        let mut w = store.writer();
        for p in prepared {
            w.place(p).unwrap();
        }
        w.commit().unwrap();
        bodies
    };
    // 600 short bodies: enough bodies, too few bytes for a dictionary.
    let mut all = put(0..600, "", |i| format!("short body {i}").into_bytes());
    let short: usize = all.iter().map(Vec::len).sum();
    assert_eq!(group_dict(&store, ""), 0);
    // Long ones, in small batches, up to just under 256 KiB in all: none either.
    let (mut under, mut bytes) = (0, short);
    while bytes + long_article(1000 + under).len() < TRAIN_MIN_BYTES {
        bytes += long_article(1000 + under).len();
        under += 1;
    }
    for start in (1000..1000 + under).step_by(50) {
        all.extend(put(start..(start + 50).min(1000 + under), "", long_article));
    }
    assert_eq!(group_dict(&store, ""), 0);
    assert!(store.cache().dicts.is_empty());
    // Two more: over 256 KiB, counting the earlier batches: the default group's dictionary,
    // used at once.
    let batch = put(2000..2002, "", long_article);
    assert_eq!(group_dict(&store, ""), 1);
    let slot = slot_of(&store, &BlobId::of(&batch[0]));
    assert_eq!((slot.codec, slot.dict), (format::CODEC_ZSTD_DICT, 1));
    all.extend(batch);
    // A group without its own: 999 bodies (in batches of 333) use the default dictionary...
    for start in [3000, 3333, 3666] {
        let batch = put(start..start + 333, "wire", long_article);
        assert_eq!(group_dict(&store, "wire"), 0);
        let slot = slot_of(&store, &BlobId::of(&batch[0]));
        assert_eq!((slot.codec, slot.dict), (format::CODEC_ZSTD_DICT, 1));
        all.extend(batch);
    }
    // ... the 1,000th gets it its own, trained on all of them.
    let batch = put(5000..5001, "wire", long_article);
    assert_eq!(group_dict(&store, "wire"), 2);
    let slot = slot_of(&store, &BlobId::of(&batch[0]));
    assert_eq!(
        (slot.codec, slot.group, slot.dict),
        (format::CODEC_ZSTD_DICT, 1, 2)
    );
    all.extend(batch);

    // Every body reads back, before and after a reopen (dictionaries loaded from the tree).
    let check = |store: &Store| {
        for b in all.iter().step_by(13) {
            assert_eq!(store.get(&BlobId::of(b)).unwrap().as_ref(), Some(b));
        }
    };
    check(&store);
    assert!(store.verify().unwrap().is_clean());
    drop(store);
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.cache().dicts.len(), 2);
    // Nothing prepared at open; reading prepares the decoder side only.
    assert_eq!(store.cache().dicts[&1].prepared(), (false, false));
    check(&store);
    assert_eq!(store.cache().dicts[&1].prepared(), (false, true));
    assert!(store.verify().unwrap().is_clean());
    // The dictionaries are stored as `D` values of 64 KiB at most.
    let d = store.tree().get(format::key_dict(1)).unwrap().unwrap();
    assert_eq!(d[0], 2);
    assert!(d.len() <= 1 + (64 << 10));
}

#[test]
fn a_batch_of_one_group_trains_only_that_groups_dictionary() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let bodies: Vec<Vec<u8>> = (0..1000).map(long_article).collect();
    let mut items: Vec<(&[u8], &str)> = bodies.iter().map(|b| (b.as_slice(), "wire")).collect();
    // 499 bodies of the default group are too few for its own dictionary.
    let others: Vec<Vec<u8>> = (5000..5499).map(long_article).collect();
    items.extend(others.iter().map(|b| (b.as_slice(), "")));
    let prepared = store.prepare_batch(&items).unwrap();
    assert_eq!(group_dict(&store, "wire"), 1);
    assert_eq!(group_dict(&store, ""), 0);
    assert_eq!(store.cache().dicts.len(), 1);
    assert_eq!(prepared[0].slot.dict, 1);
    assert_eq!(prepared[1000].slot.codec, format::CODEC_ZSTD);
    // One more body of the default group: 500, and its dictionary.
    let others: Vec<Vec<u8>> = (5000..5500).map(long_article).collect();
    items.truncate(1000);
    items.extend(others.iter().map(|b| (b.as_slice(), "")));
    store.prepare_batch(&items).unwrap();
    assert_eq!(group_dict(&store, ""), 2);
}

#[test]
fn optimize_changes_codecs_but_no_body_byte_nor_any_seq() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let mut bodies = Vec::new();
    // Small commits, each by a process of its own (the samples kept for training do not
    // outlive the store): no dictionary at prepare time, several index runs.
    drop(store);
    let parts = (0..13)
        .map(|p| p * 100..p * 100 + 100)
        .chain(std::iter::once(1300..1305));
    for part in parts {
        let store = Store::open(dir.path()).unwrap();
        let batch: Vec<Vec<u8>> = part.map(long_article).collect();
        let items: Vec<(&[u8], &str)> = batch.iter().map(|b| (b.as_slice(), "wire")).collect();
        let prepared = store.prepare_batch(&items).unwrap();
        let mut w = store.writer();
        for p in prepared {
            w.place(p).unwrap();
        }
        w.commit().unwrap();
        bodies.extend(batch);
    }
    let store = Store::open(dir.path()).unwrap();
    let removed: Vec<BlobId> = bodies.iter().step_by(50).map(|b| BlobId::of(b)).collect();
    for id in &removed {
        assert!(store.remove(id).unwrap());
    }
    let before: Vec<(u32, BlobId)> = store.live().collect::<Result<_, _>>().unwrap();
    assert_eq!(before.len(), 1305 - removed.len());
    assert!(store.cache().dicts.is_empty());
    let runs_before = store.cache().runs.len();
    assert!(runs_before > 1);
    let stats = store.stats().unwrap();

    let mut steps = Vec::new();
    let report = store.optimize(&mut |p| steps.push(p)).unwrap();
    assert_eq!(report.dicts_trained, 1);
    assert_eq!(report.recompressed, before.len() as u64);
    assert_eq!(report.bytes_before, stats.stored_bytes);
    assert!(
        report.bytes_after * 10 < report.bytes_before * 9,
        "{report:?}"
    );
    assert_eq!(report.runs_before, runs_before);
    assert_eq!(report.entries_dropped, removed.len() as u64);
    assert!(report.corrupted.is_empty());
    // The frames were all rewritten: the old pack files were garbage, and are gone.
    assert!(report.files_compacted >= 1, "{report:?}");
    let files = store.files().numbers().unwrap();
    assert!(files[0] > 0, "{files:?}");
    let last = steps.last().unwrap();
    assert_eq!(
        (last.done, last.total),
        (before.len() as u64, before.len() as u64)
    );
    assert_eq!(store.cache().runs.len(), 1);

    // The same bodies at the same sequence numbers, with the group's dictionary.
    let dict = group_dict(&store, "wire");
    assert_ne!(dict, 0);
    let after: Vec<(u32, BlobId)> = store.live().collect::<Result<_, _>>().unwrap();
    assert_eq!(after, before);
    for body in &bodies {
        let id = BlobId::of(body);
        if removed.contains(&id) {
            assert_eq!(store.get(&id).unwrap(), None);
            continue;
        }
        assert_eq!(store.get(&id).unwrap().as_ref(), Some(body));
        let slot = slot_of(&store, &id);
        assert_eq!((slot.codec, slot.dict), (format::CODEC_ZSTD_DICT, dict));
    }
    let stats_after = store.stats().unwrap();
    assert_eq!(stats_after.blobs, stats.blobs);
    assert_eq!(stats_after.raw_bytes, stats.raw_bytes);
    assert_eq!(stats_after.stored_bytes, report.bytes_after);
    assert!(store.verify().unwrap().is_clean());

    // Nothing left to do.
    let again = store.optimize(&mut |_| {}).unwrap();
    assert_eq!((again.recompressed, again.dicts_trained), (0, 0));
    assert_eq!(again.files_compacted, 0);
    assert_eq!(store.files().numbers().unwrap(), files);
    assert_eq!(again.bytes_after, report.bytes_after);
    drop(store);
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.live().collect::<Result<Vec<_>, _>>().unwrap(), before);
}

#[test]
fn verify_finds_a_lost_index_chunk_and_wrong_counts() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let bodies: Vec<Vec<u8>> = (0..10).map(article).collect();
    let refs: Vec<&[u8]> = bodies.iter().map(Vec::as_slice).collect();
    let ids = store.put_many(&refs).unwrap();
    assert!(store.verify().unwrap().is_clean());
    let run = store.cache().runs[0].run;
    store.tree().remove(index::key_chunk(run, 0)).unwrap();
    let report = store.verify().unwrap();
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(report.unindexed, sorted);
    assert!(
        report.damaged.iter().any(|d| d.contains("missing")),
        "{report:?}"
    );
    // A lookup through a lost chunk is an error, not "absent".
    assert!(matches!(store.get(&ids[0]), Err(Error::Damaged { .. })));

    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    store.put_many(&refs).unwrap();
    let mut state = format::State::decode(&store.tree().get("S").unwrap().unwrap()).unwrap();
    state.live += 1;
    store.tree().insert("S", state.encode()).unwrap();
    let report = store.verify().unwrap();
    assert!(
        report.damaged.iter().any(|d| d.starts_with("store state")),
        "{report:?}"
    );
    // An index entry pointing at a slot of another id.
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    store.put_many(&refs).unwrap();
    let run = store.cache().runs[0].run;
    let key = index::key_chunk(run, 0);
    let mut chunk = store.tree().get(key).unwrap().unwrap().to_vec();
    chunk[12] ^= 1; // the seq of the first entry
    store.tree().insert(key, chunk).unwrap();
    let report = store.verify().unwrap();
    assert!(report.bad_index_entries >= 1, "{report:?}");
    assert!(!report.is_clean());
}

/// Readers racing commits that merge index runs always find what was committed before.
#[test]
fn readers_never_miss_a_body_while_runs_merge() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex};

    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let committed: Arc<Mutex<Vec<BlobId>>> = Arc::default();
    let done = Arc::new(AtomicBool::new(false));
    let readers: Vec<_> = (0..2)
        .map(|r| {
            let (store, committed, done) = (store.clone(), committed.clone(), done.clone());
            std::thread::spawn(move || {
                let mut checked = 0u64;
                let mut i = r;
                while !done.load(Ordering::Acquire) || checked == 0 {
                    let ids = committed.lock().unwrap().clone();
                    if ids.is_empty() {
                        std::thread::yield_now();
                        continue;
                    }
                    for id in ids.iter().skip(i % ids.len()).step_by(7).take(50) {
                        assert!(store.seq_of(id).unwrap().is_some(), "{id} lost");
                        checked += 1;
                    }
                    i += 1;
                }
                checked
            })
        })
        .collect();
    let mut n = 0;
    for round in 0..80 {
        // Sizes that make runs merge often: 1, 2, 4, ... then again.
        let size = 1 << (round % 7);
        let bodies: Vec<Vec<u8>> = (n..n + size)
            .map(|i| format!("raced {i}").into_bytes())
            .collect();
        n += size;
        let refs: Vec<&[u8]> = bodies.iter().map(Vec::as_slice).collect();
        let ids = store.put_many(&refs).unwrap();
        committed.lock().unwrap().extend(ids);
    }
    done.store(true, Ordering::Release);
    for r in readers {
        assert!(r.join().unwrap() > 0);
    }
    assert!(store.verify().unwrap().is_clean());
}

/// Readers asking for sequence numbers as commits land never take a body just committed for
/// a damaged one: a commit applies its batch (slots, index runs) before it updates the cache
/// readers start from (seen in `morgue serve`: `list` while an import ran through it).
#[test]
fn readers_of_new_sequence_numbers_never_see_damage_while_commits_land() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    const BODIES: u32 = 1500;
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let done = Arc::new(AtomicBool::new(false));
    let readers: Vec<_> = (0..2)
        .map(|_| {
            let (store, done) = (store.clone(), done.clone());
            std::thread::spawn(move || {
                // The first sequence number not yet seen stored: asked again and again until
                // it is, then the next.
                let mut next = 0;
                while next < BODIES && !done.load(Ordering::Acquire) {
                    match store.id_at(next) {
                        Ok(Some(_)) => next += 1,
                        Ok(None) => std::hint::spin_loop(),
                        Err(e) => panic!("seq {next}: {e}"),
                    }
                }
                next
            })
        })
        .collect();
    for i in 0..BODIES {
        store.put(format!("landing {i}").as_bytes()).unwrap();
    }
    done.store(true, Ordering::Release);
    for r in readers {
        assert!(r.join().unwrap() > 0);
    }
}

/// The newest sled snapshot file of an archive directory, if any.
fn newest_snapshot(dir: &Path) -> Option<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("snap.") && !n.ends_with(".generating"))
        .collect();
    names.sort();
    names.pop()
}

#[test]
fn close_leaves_a_snapshot_of_everything_written() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    store.put(b"first").unwrap();
    drop(store);
    // sled snapshots at open: this open leaves the snapshot of "first".
    let store = Store::open(dir.path()).unwrap();
    let before = newest_snapshot(dir.path()).unwrap();
    let bodies: Vec<Vec<u8>> = (0..300).map(article).collect();
    let refs: Vec<&[u8]> = bodies.iter().map(Vec::as_slice).collect();
    let ids = store.put_many(&refs).unwrap();

    // Another handle alive: refused, and the store stays usable.
    let other = store.clone();
    let err = other.close().unwrap_err();
    assert!(
        matches!(err, Error::StillOpen) && err.to_string().contains("still alive"),
        "{err}"
    );
    assert!(store.contains(&ids[0]).unwrap());

    store.close().unwrap();
    let after = newest_snapshot(dir.path()).unwrap();
    assert!(after > before, "{before} -> {after}");
    // The lock is released and everything is there.
    let store = Store::open(dir.path()).unwrap();
    for (id, body) in ids.iter().zip(&bodies).step_by(17) {
        assert_eq!(store.get(id).unwrap().as_ref(), Some(body));
    }
    assert_eq!(store.stats().unwrap().blobs, 301);
    // Nothing new to replay: this open writes no snapshot.
    drop(store);
    assert_eq!(newest_snapshot(dir.path()).unwrap(), after);
}

/// The Reuters corpus, when present (`$MORGUE_CORPUS`, else `../shared/corpus` from the
/// workspace root): the first `n` bodies and services.
fn reuters(n: usize) -> Option<Vec<(Vec<u8>, String)>> {
    use std::io::BufRead;
    let dir = std::env::var_os("MORGUE_CORPUS").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus"),
        std::path::PathBuf::from,
    );
    let path = dir.join("reuters-21578.jsonl.zst");
    let Ok(file) = fs::File::open(&path) else {
        println!("corpus {} absent: test skipped", path.display());
        return None;
    };
    let lines = std::io::BufReader::new(zstd::stream::Decoder::new(file).unwrap()).lines();
    Some(
        lines
            .take(n)
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(&l.unwrap()).unwrap();
                (
                    v["body"].as_str().unwrap().as_bytes().to_vec(),
                    v["service"].as_str().unwrap_or("").to_lowercase(),
                )
            })
            .collect(),
    )
}

/// Real bodies: a group dictionary on the first batch, every body back byte for byte, and
/// clearly smaller than zstd alone.
#[test]
fn reuters_bodies_round_trip_with_dictionaries() {
    let Some(articles) = reuters(2500) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    for batch in articles.chunks(1000) {
        let items: Vec<(&[u8], &str)> = batch
            .iter()
            .map(|(b, s)| (b.as_slice(), s.as_str()))
            .collect();
        let prepared = store.prepare_batch(&items).unwrap();
        let mut w = store.writer();
        for p in prepared {
            w.place(p).unwrap();
        }
        w.commit().unwrap();
    }
    assert_eq!(store.cache().dicts.len(), 1, "one dictionary: the group's");
    assert_eq!(group_dict(&store, "reuters"), 1);
    for (body, _) in &articles {
        assert_eq!(store.get(&BlobId::of(body)).unwrap().as_ref(), Some(body));
    }
    let stats = store.stats().unwrap();
    let plain: u64 = articles
        .iter()
        .map(|(b, _)| zstd::bulk::compress(b, 3).unwrap().len().min(b.len()) as u64)
        .sum();
    assert!(
        stats.stored_bytes * 10 < plain * 8,
        "{} with dictionaries vs {plain} without",
        stats.stored_bytes
    );
    assert!(store.verify().unwrap().is_clean());
}

/// What a commit that appended its frames but never applied its sled batch leaves (a crash, or
/// a failed batch): bytes past the committed length, maybe a next file. The next open cuts them
/// off; a later commit writes over them anyway.
#[test]
fn uncommitted_pack_bytes_are_cut_off_at_open() {
    let dir = tempfile::tempdir().unwrap();
    let bodies: Vec<Vec<u8>> = (0..1500).map(long_article).collect();
    let refs: Vec<&[u8]> = bodies.iter().map(Vec::as_slice).collect();
    let (file, len) = {
        let store = Store::open(dir.path()).unwrap();
        for part in refs[..1200].chunks(100) {
            store.put_many(part).unwrap();
        }
        let s = store.cache().state;
        // Several files already: the tests roll over at 256 KiB.
        assert!(s.file > 0, "{s:?}");
        let path = store.files().path(s.file);
        let mut f = fs::OpenOptions::new().append(true).open(&path).unwrap();
        std::io::Write::write_all(&mut f, b"half a record of a commit that never happened")
            .unwrap();
        fs::write(store.files().path(s.file + 1), b"a file it started").unwrap();
        (s.file, s.file_len)
    };
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.files().len(file).unwrap(), Some(len));
    assert_eq!(store.files().len(file + 1).unwrap(), None);
    assert!(store.verify().unwrap().is_clean());
    store.put_many(&refs[1200..]).unwrap();
    for (body, id) in bodies
        .iter()
        .zip(bodies.iter().map(|b| BlobId::of(b)))
        .step_by(11)
    {
        assert_eq!(store.get(&id).unwrap().as_ref(), Some(body));
    }
    let files = store.files().numbers().unwrap();
    assert_eq!(files, (0..=store.cache().state.file).collect::<Vec<_>>());
    assert!(store.verify().unwrap().is_clean());
}

/// Run by [`a_kill_loses_nothing_acknowledged`] in a child process: commits batches into the
/// archive named by `MORGUE_TEST_KILL` forever, printing `ACK n` after each flush.
#[test]
#[ignore = "helper process of a_kill_loses_nothing_acknowledged"]
fn commit_forever_child() {
    use std::io::Write;
    let Some(dir) = std::env::var_os("MORGUE_TEST_KILL") else {
        return;
    };
    let store = Store::open(&dir).unwrap();
    let mut stdout = std::io::stdout();
    for n in 0.. {
        let bodies = kill_batch(n);
        let refs: Vec<&[u8]> = bodies.iter().map(Vec::as_slice).collect();
        store.put_many(&refs).unwrap();
        if n % 3 == 0 {
            // Removals too: slot tables rewritten under the kill.
            store.remove(&BlobId::of(&bodies[0])).unwrap();
        }
        store.flush().unwrap();
        writeln!(stdout, "ACK {n}").unwrap();
        stdout.flush().unwrap();
    }
}

/// The bodies of batch `n` of [`commit_forever_child`].
fn kill_batch(n: usize) -> Vec<Vec<u8>> {
    (0..40).map(|i| long_article(n * 40 + i)).collect()
}

/// SIGKILL while a process commits: every acknowledged batch is there, the archive verifies
/// clean, and it takes new commits.
#[test]
fn a_kill_loses_nothing_acknowledged() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};

    for kill_after in [2, 9, 17] {
        let dir = tempfile::tempdir().unwrap();
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "tests::commit_forever_child",
                "--ignored",
                "--nocapture",
            ])
            .env("MORGUE_TEST_KILL", dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut acked = None;
        let lines = BufReader::new(child.stdout.take().unwrap()).lines();
        for line in lines.map_while(Result::ok) {
            if let Some(n) = line.strip_prefix("ACK ") {
                let n: usize = n.trim().parse().unwrap();
                acked = Some(n);
                if n >= kill_after {
                    break;
                }
            }
        }
        child.kill().unwrap();
        child.wait().unwrap();
        let acked = acked.expect("the child acknowledged nothing");
        let store = Store::open(dir.path()).unwrap();
        for n in 0..=acked {
            for (i, body) in kill_batch(n).iter().enumerate() {
                let want = (n % 3 != 0 || i != 0).then_some(body);
                assert_eq!(
                    store.get(&BlobId::of(body)).unwrap().as_ref(),
                    want,
                    "batch {n} body {i} after a kill at {kill_after}"
                );
            }
        }
        let report = store.verify().unwrap();
        assert!(report.is_clean(), "{report:?}");
        store.put(b"after the kill").unwrap();
        assert!(store.verify().unwrap().is_clean());
    }
}

/// Removals leave garbage in the active pack file; optimize carries its live records into a
/// new file and deletes the old one.
#[test]
fn optimize_compacts_the_active_pack_file() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let bodies: Vec<Vec<u8>> = (0..200).map(article).collect();
    let refs: Vec<&[u8]> = bodies.iter().map(Vec::as_slice).collect();
    let ids = store.put_many(&refs).unwrap();
    assert_eq!(store.files().numbers().unwrap(), [0]);
    let size = store.files().len(0).unwrap().unwrap();
    for id in ids.iter().take(150) {
        assert!(store.remove(id).unwrap());
    }
    let seqs: Vec<(u32, BlobId)> = store.live().collect::<Result<_, _>>().unwrap();
    let report = store.optimize(&mut |_| {}).unwrap();
    assert_eq!(report.files_compacted, 1, "{report:?}");
    assert_eq!(store.files().numbers().unwrap(), [1]);
    let new_size = store.files().len(1).unwrap().unwrap();
    assert!(new_size * 3 < size, "{size} -> {new_size}");
    assert_eq!(store.live().collect::<Result<Vec<_>, _>>().unwrap(), seqs);
    for (body, id) in bodies.iter().zip(&ids).skip(150) {
        assert_eq!(store.get(id).unwrap().as_ref(), Some(body));
    }
    assert!(store.verify().unwrap().is_clean());
    // New bodies go to the new file; all survives a reopen.
    let late = store.put(b"after the compaction").unwrap();
    drop(store);
    let store = Store::open(dir.path()).unwrap();
    assert!(store.contains(&late).unwrap());
    assert_eq!(store.stats().unwrap().blobs, 51);
    assert!(store.verify().unwrap().is_clean());
}

/// The keys and values of one sled tree, in order.
pub(crate) type TreeContents = Vec<(Vec<u8>, Vec<u8>)>;

/// Every key and value of every sled tree, by tree name.
pub(crate) fn sled_contents(db: &sled::Db) -> Vec<(Vec<u8>, TreeContents)> {
    let mut names = db.tree_names();
    names.sort();
    names
        .into_iter()
        .map(|name| {
            let tree = db.open_tree(&name).unwrap();
            let kvs = tree
                .iter()
                .map(|kv| {
                    let (k, v) = kv.unwrap();
                    (k.to_vec(), v.to_vec())
                })
                .collect();
            (name.to_vec(), kvs)
        })
        .collect()
}

/// The compaction copies sled in interleaved passes, one key at a time: every key of every tree
/// arrives once, with its value, whatever the count of keys (here not a multiple of the passes,
/// in trees of 0, 1 and 1,001 caller keys next to the store's own).
#[test]
fn compaction_copies_every_key_of_every_tree() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let bodies: Vec<Vec<u8>> = (0..300).map(article).collect();
    let refs: Vec<&[u8]> = bodies.iter().map(Vec::as_slice).collect();
    store.put_many(&refs).unwrap();
    let db = store.database().sled().clone();
    db.open_tree("empty").unwrap();
    db.open_tree("one")
        .unwrap()
        .insert(b"k", b"v".as_slice())
        .unwrap();
    let many = db.open_tree("many").unwrap();
    for i in 0u32..1001 {
        many.insert(i.to_be_bytes(), vec![i as u8; (i % 300) as usize])
            .unwrap();
    }
    drop(many);
    store.optimize(&mut |_| {}).unwrap();
    let before = sled_contents(&db);
    drop(db);
    store.close().unwrap();
    assert!(dir.path().join("sled.00000001").join("db").exists());

    let store = Store::open(dir.path()).unwrap();
    let after = sled_contents(store.database().sled());
    assert_eq!(after.len(), before.len(), "the same trees");
    for ((name, kvs), (name_after, kvs_after)) in before.iter().zip(&after) {
        assert_eq!(name, name_after);
        assert!(
            kvs == kvs_after,
            "tree {name:?} differs after the compaction"
        );
    }
    assert_eq!(
        after.iter().find(|(n, _)| n == b"many").unwrap().1.len(),
        1001
    );
    assert!(store.verify().unwrap().is_clean());
}

/// After optimize, close rewrites sled into a fresh directory named by `SLED`; the archive
/// reads back whole, and what an interrupted compaction leaves is cleaned at open.
#[test]
fn close_after_optimize_compacts_sled() {
    use crate::compaction::SLED_POINTER_FILE;

    let dir = tempfile::tempdir().unwrap();
    let bodies: Vec<Vec<u8>> = (0..700).map(article).collect();
    let refs: Vec<&[u8]> = bodies.iter().map(Vec::as_slice).collect();
    let store = Store::open(dir.path()).unwrap();
    for part in refs.chunks(50) {
        store.put_many(part).unwrap();
    }
    store
        .tree()
        .insert(b"records", b"a caller's key".as_slice())
        .unwrap();
    let before = store.database().disk_bytes().unwrap();
    store.optimize(&mut |_| {}).unwrap();
    store.close().unwrap();
    assert_eq!(
        fs::read_to_string(dir.path().join(SLED_POINTER_FILE)).unwrap(),
        "sled.00000001\n"
    );
    assert!(!dir.path().join("db").exists());
    assert!(!dir.path().join("conf").exists());
    assert!(dir.path().join("sled.00000001").join("db").exists());

    let store = Store::open(dir.path()).unwrap();
    // (Sizes: at this scale sled's 512 KiB segments dominate; the bench measures the gain.)
    println!(
        "before {before}, after {}",
        store.database().disk_bytes().unwrap()
    );
    for (body, id) in bodies
        .iter()
        .zip(bodies.iter().map(|b| BlobId::of(b)))
        .step_by(9)
    {
        assert_eq!(store.get(&id).unwrap().as_ref(), Some(body));
    }
    assert_eq!(
        store.tree().get("records").unwrap().as_deref(),
        Some(&b"a caller's key"[..])
    );
    assert!(store.verify().unwrap().is_clean());
    // The compaction recorded what it left: its size, and its free segments as counted then
    // (nothing opened it since but this store, which writes nothing before the count below).
    let size = crate::compaction::compacted_size(&dir.path().join("sled.00000001")).unwrap();
    assert!(size > 0);
    let free = fs::read_to_string(
        dir.path()
            .join("sled.00000001")
            .join(crate::compaction::FREE_FILE),
    )
    .unwrap();
    assert!(free.ends_with('\n'), "{free:?}");
    assert!(free.trim_end().parse::<u64>().is_ok(), "{free:?}");
    // An optimize with nothing written since leaves sled as it is.
    store.optimize(&mut |_| {}).unwrap();
    store.close().unwrap();
    assert!(dir.path().join("sled.00000001").exists());
    assert!(!dir.path().join("sled.00000002").exists());
    // Again after sled grew by more than a quarter: the next directory, the previous one
    // deleted.
    let store = Store::open(dir.path()).unwrap();
    for i in 0..40u8 {
        store
            .tree()
            .insert(format!("caller {i}"), vec![i; 8192])
            .unwrap();
    }
    store.flush().unwrap();
    let sled = dir.path().join("sled.00000001");
    let grown = crate::dir::dir_bytes(&sled).unwrap();
    assert!(grown > size + size / 4, "{size} -> {grown}");
    store.optimize(&mut |_| {}).unwrap();
    store.close().unwrap();
    assert!(!dir.path().join("sled.00000001").exists());
    assert!(dir.path().join("sled.00000002").exists());
    // A sled directory without the size (compacted by an earlier build) is compacted.
    fs::remove_file(dir.path().join("sled.00000002").join("morgue-size")).unwrap();
    let store = Store::open(dir.path()).unwrap();
    store.optimize(&mut |_| {}).unwrap();
    store.close().unwrap();
    assert!(!dir.path().join("sled.00000002").exists());
    assert!(dir.path().join("sled.00000003").exists());

    // What a compaction interrupted before its switch leaves: a directory nobody names.
    fs::create_dir(dir.path().join("sled.00000004")).unwrap();
    fs::write(dir.path().join("sled.00000004").join("db"), b"partial").unwrap();
    // And one interrupted after it: sled's old files next to the pointer.
    fs::write(dir.path().join("db"), b"old").unwrap();
    fs::write(dir.path().join("snap.0000000000000001"), b"old").unwrap();
    let store = Store::open(dir.path()).unwrap();
    assert!(!dir.path().join("sled.00000004").exists());
    assert!(!dir.path().join("db").exists());
    assert!(!dir.path().join("snap.0000000000000001").exists());
    assert_eq!(store.stats().unwrap().blobs, 700);
    assert!(store.verify().unwrap().is_clean());
    // A close without optimize keeps the directory.
    store.put(b"and another").unwrap();
    store.close().unwrap();
    assert!(dir.path().join("sled.00000003").exists());
    assert_eq!(Store::open(dir.path()).unwrap().stats().unwrap().blobs, 701);
}

/// An `optimize` after which sled did not grow by a quarter still compacts it when its file
/// holds enough more free segments than its compaction left (here: any, the bound made 0 for
/// this thread), counted after the close's reopen; everything stays.
#[test]
fn close_after_optimize_compacts_sled_holding_free_segments() {
    use crate::compaction::tests::MORE_FREE;

    let dir = tempfile::tempdir().unwrap();
    let bodies: Vec<Vec<u8>> = (0..300).map(article).collect();
    let refs: Vec<&[u8]> = bodies.iter().map(Vec::as_slice).collect();
    let store = Store::open(dir.path()).unwrap();
    store.put_many(&refs).unwrap();
    store.optimize(&mut |_| {}).unwrap();
    store.close().unwrap();
    assert!(dir.path().join("sled.00000001").exists());
    // Nothing grew: with the bound as it is, sled stays where it is.
    let store = Store::open(dir.path()).unwrap();
    store.optimize(&mut |_| {}).unwrap();
    store.close().unwrap();
    assert!(dir.path().join("sled.00000001").exists());
    // With no bound, the same optimize compacts.
    MORE_FREE.with(|m| m.set(Some(0)));
    let store = Store::open(dir.path()).unwrap();
    store.optimize(&mut |_| {}).unwrap();
    store.close().unwrap();
    MORE_FREE.with(|m| m.set(None));
    assert!(!dir.path().join("sled.00000001").exists());
    assert!(dir.path().join("sled.00000002").exists());
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.stats().unwrap().blobs, 300);
    for (body, id) in bodies.iter().zip(bodies.iter().map(|b| BlobId::of(b))) {
        assert_eq!(store.get(&id).unwrap().as_ref(), Some(body));
    }
    assert!(store.verify().unwrap().is_clean());
}

/// sled losing the store state must not cost the pack files: the open refuses.
#[test]
fn a_lost_store_state_never_cuts_the_pack_files() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Store::open(dir.path()).unwrap();
        store.put(b"kept in a pack file").unwrap();
        store.tree().clear().unwrap();
        store.flush().unwrap();
    }
    let size = fs::metadata(dir.path().join("packs/00000000.pack"))
        .unwrap()
        .len();
    let err = Store::open(dir.path()).unwrap_err();
    assert!(
        matches!(err, Error::Damaged { ref what } if what.contains("pack files hold")),
        "{err:?}"
    );
    assert_eq!(
        fs::metadata(dir.path().join("packs/00000000.pack"))
            .unwrap()
            .len(),
        size
    );
    // A pointer to a missing sled directory is damage too, not a new empty database.
    fs::write(
        dir.path().join(crate::compaction::SLED_POINTER_FILE),
        "sled.00000007\n",
    )
    .unwrap();
    let err = Store::open(dir.path()).unwrap_err();
    assert!(matches!(err, Error::Damaged { .. }), "{err:?}");
    assert!(!dir.path().join("sled.00000007").exists());
}

/// Run by [`a_crash_at_any_step_of_a_compaction_loses_nothing`] in a child process: optimizes
/// and closes the archive named by `MORGUE_TEST_ARCHIVE`; `MORGUE_TEST_CRASH_AT` makes it die at
/// that step of the compaction.
#[test]
#[ignore = "helper process of a_crash_at_any_step_of_a_compaction_loses_nothing"]
fn compact_child() {
    let Some(dir) = std::env::var_os("MORGUE_TEST_ARCHIVE") else {
        return;
    };
    let store = Store::open(&dir).unwrap();
    store.optimize(&mut |_| {}).unwrap();
    // Nothing was written since the last compaction: asked for, to reach the crash points.
    store.database().compact_on_close();
    store.close().unwrap();
    println!("CLOSED");
}

/// The process dies (abort: no destructor, no further write) at every step of the sled
/// rewrite at close — from an archive whose sled is in the archive directory and from one
/// already compacted once: the next open finds everything, leaves one sled, verifies clean.
#[test]
fn a_crash_at_any_step_of_a_compaction_loses_nothing() {
    use std::process::{Command, Stdio};

    use crate::compaction::SLED_POINTER_FILE;

    /// SIGABRT on Linux and the BSDs: what `std::process::abort` raises.
    const SIGABRT: i32 = 6;
    let steps = [
        "copying",
        "copied",
        "synced",
        "pointer written",
        "renamed",
        "switched",
        "deleting",
        "done",
    ];
    let bodies: Vec<Vec<u8>> = (0..300).map(article).collect();
    let refs: Vec<&[u8]> = bodies.iter().map(Vec::as_slice).collect();
    for compacted_before in [false, true] {
        for step in steps {
            let dir = tempfile::tempdir().unwrap();
            {
                let store = Store::open(dir.path()).unwrap();
                for part in refs.chunks(60) {
                    store.put_many(part).unwrap();
                }
                let mut w = store.writer();
                w.put(
                    Key::new(b"record".to_vec()).unwrap(),
                    b"of the caller".to_vec(),
                );
                w.commit().unwrap();
                if compacted_before {
                    store.optimize(&mut |_| {}).unwrap();
                    store.close().unwrap();
                } else {
                    store.flush().unwrap();
                }
            }
            let out = Command::new(std::env::current_exe().unwrap())
                .args([
                    "--exact",
                    "tests::compact_child",
                    "--ignored",
                    "--nocapture",
                ])
                .env("MORGUE_TEST_ARCHIVE", dir.path())
                .env("MORGUE_TEST_CRASH_AT", step)
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .output()
                .unwrap();
            // It died of the crash point's abort (SIGABRT), after starting the helper and
            // before closing the store: not of a panic, a missing test or an early exit.
            let said = String::from_utf8_lossy(&out.stdout);
            assert_eq!(
                std::os::unix::process::ExitStatusExt::signal(&out.status),
                Some(SIGABRT),
                "{step}: the child did not die of the abort ({}): {said}",
                out.status
            );
            assert!(said.contains("running 1 test"), "{step}: {said}");
            assert!(!said.contains("CLOSED"), "{step}: {said}");
            let what = format!("crash at {step:?}, compacted before: {compacted_before}");

            let store = Store::open(dir.path()).unwrap();
            for (body, id) in bodies.iter().zip(bodies.iter().map(|b| BlobId::of(b))) {
                assert_eq!(store.get(&id).unwrap().as_ref(), Some(body), "{what}");
            }
            assert_eq!(
                store.tree().get("record").unwrap().as_deref(),
                Some(&b"of the caller"[..]),
                "{what}"
            );
            let report = store.verify().unwrap();
            assert!(report.is_clean(), "{what}: {report:?}");
            // One sled, no leftovers.
            let names: Vec<String> = fs::read_dir(dir.path())
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            let sled_dirs = names.iter().filter(|n| n.starts_with("sled.")).count();
            if names.iter().any(|n| n == SLED_POINTER_FILE) {
                assert_eq!(sled_dirs, 1, "{what}: {names:?}");
                assert!(
                    !names
                        .iter()
                        .any(|n| n == "db" || n == "conf" || n.starts_with("snap.")),
                    "{what}: {names:?}"
                );
            } else {
                assert_eq!(sled_dirs, 0, "{what}: {names:?}");
            }
            assert!(!names.iter().any(|n| n == "SLED.tmp"), "{what}: {names:?}");
            // And the archive compacts again.
            store.put(b"after the crash").unwrap();
            store.optimize(&mut |_| {}).unwrap();
            store.close().unwrap();
            let store = Store::open(dir.path()).unwrap();
            assert_eq!(store.stats().unwrap().blobs, 301, "{what}");
            assert!(store.verify().unwrap().is_clean(), "{what}");
        }
    }
}

/// `place_many` gives exactly what `place` one by one gives: stored bodies found (in any run),
/// removed ones new again, duplicates within the batch and staged bodies found.
#[test]
fn place_many_is_place_one_by_one() {
    let build = |dir: &Path| {
        let store = Store::open(dir).unwrap();
        // Several runs of several sizes.
        for (from, n) in [(0, 700), (700, 200), (900, 40), (940, 5)] {
            let bodies: Vec<Vec<u8>> = (from..from + n).map(article).collect();
            let refs: Vec<&[u8]> = bodies.iter().map(Vec::as_slice).collect();
            store.put_many(&refs).unwrap();
        }
        for i in (0..945).step_by(31) {
            store.remove(&BlobId::of(&article(i))).unwrap();
        }
        assert!(store.cache().runs.len() > 1);
        store
    };
    // Stored, removed, new, and duplicates.
    let mut batch: Vec<Vec<u8>> = (0..1200).step_by(3).map(article).collect();
    batch.extend((0..50).map(article));
    batch.push(article(2000));
    batch.push(article(2000));
    let (one, many) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (a, b) = (build(one.path()), build(many.path()));
    let placed_one: Vec<_> = {
        let prepared = a
            .prepare_batch(&batch.iter().map(|x| (x.as_slice(), "")).collect::<Vec<_>>())
            .unwrap();
        let mut w = a.writer();
        // A staged body first, then the rest.
        let staged = w.place(prepared[prepared.len() - 1].clone()).unwrap();
        let mut out = vec![staged];
        out.extend(prepared.into_iter().map(|p| w.place(p).unwrap()));
        w.commit().unwrap();
        out
    };
    let placed_many: Vec<_> = {
        let prepared = b
            .prepare_batch(&batch.iter().map(|x| (x.as_slice(), "")).collect::<Vec<_>>())
            .unwrap();
        let mut w = b.writer();
        let staged = w.place(prepared[prepared.len() - 1].clone()).unwrap();
        let mut out = vec![staged];
        out.extend(w.place_many(prepared).unwrap());
        w.commit().unwrap();
        out
    };
    assert_eq!(placed_one, placed_many);
    assert!(placed_many.iter().any(|p| p.new) && placed_many.iter().any(|p| !p.new));
    let live = |s: &Store| s.live().collect::<Result<Vec<_>, _>>().unwrap();
    assert_eq!(live(&a), live(&b));
    assert!(b.verify().unwrap().is_clean());
}

#[test]
fn id_at_forgets_a_cached_id_once_its_body_is_removed() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("a")).unwrap();
    let ids = store.put_many(&[b"first body", b"second body"]).unwrap();
    let seq = store.seq_of(&ids[0]).unwrap().unwrap();
    // Twice: the second answer comes from the cache.
    assert_eq!(store.id_at(seq).unwrap(), Some(ids[0]));
    assert_eq!(store.id_at(seq).unwrap(), Some(ids[0]));
    assert!(store.remove(&ids[0]).unwrap());
    assert_eq!(store.id_at(seq).unwrap(), None);
    let other = store.seq_of(&ids[1]).unwrap().unwrap();
    assert_eq!(store.id_at(other).unwrap(), Some(ids[1]));
    // Stored again, the body gets a new seq; the old one stays removed.
    let again = store.put(b"first body").unwrap();
    assert_eq!(again, ids[0]);
    let new_seq = store.seq_of(&again).unwrap().unwrap();
    assert_ne!(new_seq, seq);
    assert_eq!(store.id_at(seq).unwrap(), None);
    assert_eq!(store.id_at(new_seq).unwrap(), Some(ids[0]));
}

/// A new store holding `n` articles, put in one commit (one index run), and their ids.
fn store_of_articles(n: usize) -> (tempfile::TempDir, Store, Vec<BlobId>) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let ids = put_articles(&store, 0..n);
    (dir, store, ids)
}

/// Puts the articles of `range` in one `put_many` and returns their ids.
fn put_articles(store: &Store, range: std::ops::Range<usize>) -> Vec<BlobId> {
    let bodies: Vec<Vec<u8>> = range.map(article).collect();
    let refs: Vec<&[u8]> = bodies.iter().map(Vec::as_slice).collect();
    store.put_many(&refs).unwrap()
}

/// Whether chunk 0 of the first run of the id index has its filter.
fn first_run_has_a_filter(store: &Store) -> bool {
    let run = store.cache().runs[0].run;
    store
        .tree()
        .get(filter::key_filter(run, 0))
        .unwrap()
        .is_some()
}

/// Every one of `ids` is found by a lookup.
fn assert_all_found(store: &Store, ids: &[BlobId]) {
    for id in ids {
        assert!(store.seq_of(id).unwrap().is_some(), "{id}");
    }
}

/// A lookup reads a chunk's filter first and skips the chunk when the filter rules the id out:
/// with the chunk gone, an absent id is still answered (absent), a present one is an error.
/// Without the filter, the absent id needs the chunk too.
#[test]
fn chunk_filters_spare_the_reads_of_chunks() {
    let (_dir, store, ids) = store_of_articles(50);
    let run = store.cache().runs[0].run;
    assert!(first_run_has_a_filter(&store));
    // Absent ids whose prefixes the filter rules out (nearly all of them).
    let absent: Vec<BlobId> = (0..20)
        .map(|i| BlobId::of(format!("never stored {i}").as_bytes()))
        .collect();
    store.tree().remove(index::key_chunk(run, 0)).unwrap();
    let answered = absent
        .iter()
        .filter(|id| matches!(store.seq_of(id), Ok(None)))
        .count();
    assert!(
        answered >= 19,
        "{answered} of 20 answered without the chunk"
    );
    assert!(matches!(store.seq_of(&ids[0]), Err(Error::Damaged { .. })));
    // The writer's batched lookups skip it too: new bodies go in without the chunk.
    put_articles(&store, 50..60);

    store.tree().remove(filter::key_filter(run, 0)).unwrap();
    assert!(matches!(
        store.seq_of(&absent[0]),
        Err(Error::Damaged { .. })
    ));
}

/// `id_at` names a body from its checked record header, without the id index; `get` of an id
/// that `id_at` just named reads the slot it was named at before it walks the index (a cold
/// walk reads a sled leaf of index chunks per id: a search's snippets at 10M). With the index's
/// chunk gone both still answer, while an id not named yet needs the chunk. The hint never
/// outlives its body: removed, the id is absent; stored again, it is found at its new seq.
#[test]
fn ids_just_named_are_read_back_without_the_id_index() {
    let (_dir, store, ids) = store_of_articles(50);
    let run = store.cache().runs[0].run;
    let key = index::key_chunk(run, 0);
    let chunk = store.tree().get(key).unwrap().unwrap();
    store.tree().remove(key).unwrap();
    assert!(matches!(store.get(&ids[1]), Err(Error::Damaged { .. })));
    assert_eq!(store.id_at(0).unwrap(), Some(ids[0]));
    assert_eq!(store.get(&ids[0]).unwrap(), Some(article(0)));
    assert_eq!(store.seq_of(&ids[0]).unwrap(), Some(0));
    assert!(matches!(store.get(&ids[1]), Err(Error::Damaged { .. })));

    store.tree().insert(key, chunk).unwrap();
    assert!(store.remove(&ids[0]).unwrap());
    assert_eq!(store.id_at(0).unwrap(), None);
    assert_eq!(store.get(&ids[0]).unwrap(), None);
    let again = put_articles(&store, 0..1);
    assert_eq!(again, vec![ids[0]]);
    assert_eq!(store.seq_of(&ids[0]).unwrap(), Some(50));
    assert_eq!(store.get(&ids[0]).unwrap(), Some(article(0)));
    assert!(store.verify().unwrap().is_clean());
}

/// Runs written before filters (none stored) are read as before: every body is found, a body
/// put again is not stored twice, and verify finds nothing wrong; `optimize` adds the filters.
#[test]
fn runs_without_filters_are_read_as_before() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let mut ids = Vec::new();
    let mut bodies = Vec::new();
    for commit in 0..6 {
        let these: Vec<Vec<u8>> = (commit * 10..commit * 10 + 10).map(article).collect();
        let refs: Vec<&[u8]> = these.iter().map(Vec::as_slice).collect();
        ids.extend(store.put_many(&refs).unwrap());
        bodies.extend(these);
    }
    let filters: Vec<_> = store
        .tree()
        .scan_prefix([format::TAG_FILTER])
        .keys()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(!filters.is_empty());
    for key in filters {
        store.tree().remove(key).unwrap();
    }
    assert_all_found(&store, &ids);
    let live = store.stats().unwrap().blobs;
    let refs: Vec<&[u8]> = bodies.iter().map(Vec::as_slice).collect();
    assert_eq!(store.put_many(&refs).unwrap(), ids);
    assert_eq!(store.stats().unwrap().blobs, live);
    assert!(store.verify().unwrap().is_clean());
    // optimize gives the index its filters.
    assert!(!index::filters_complete(store.tree(), &store.cache().runs).unwrap());
    store.optimize(&mut |_| {}).unwrap();
    assert!(index::filters_complete(store.tree(), &store.cache().runs).unwrap());
    assert_all_found(&store, &ids);
}

/// verify reports a filter that would hide an entry, and a filter of no run; `optimize`
/// rewrites the index with filters and drops the stray one.
#[test]
fn verify_finds_a_filter_that_hides_an_entry() {
    let (_dir, store, ids) = store_of_articles(30);
    let run = store.cache().runs[0].run;
    let key = filter::key_filter(run, 0);
    let mut value = store.tree().get(key).unwrap().unwrap().to_vec();
    for b in &mut value[2..] {
        *b = 0;
    }
    store.tree().insert(key, value).unwrap();
    store
        .tree()
        .insert(filter::key_filter(999, 0), vec![2, 11, 0xFF])
        .unwrap();
    let report = store.verify().unwrap();
    assert!(
        report.damaged.iter().any(|d| d.ends_with("chunk 0 filter")),
        "{report:?}"
    );
    assert_eq!(report.malformed_keys, [filter::key_filter(999, 0).to_vec()]);
    // The emptied filter hides the bodies from lookups.
    assert_eq!(store.seq_of(&ids[0]).unwrap(), None);

    store.optimize(&mut |_| {}).unwrap();
    assert!(store.verify().unwrap().is_clean());
    assert_all_found(&store, &ids);
    assert!(first_run_has_a_filter(&store));
}

/// `optimize` rewrites the index in parts over disjoint ranges of prefixes (one commit each,
/// about `max_run_entries` entries each), then drops the runs it read; a second `optimize`
/// leaves that index as it is.
#[test]
fn optimize_rewrites_the_index_in_parts() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    store.set_max_run_entries(64);
    let mut ids = Vec::new();
    for (from, n) in [(0, 300), (300, 500), (800, 150), (950, 50)] {
        ids.extend(put_articles(&store, from..from + n));
    }
    for id in ids.iter().step_by(7) {
        assert!(store.remove(id).unwrap());
    }
    let live: Vec<BlobId> = store.ids().collect::<Result<_, _>>().unwrap();
    assert!(!index::runs_disjoint(store.tree(), store.cache().runs.iter()).unwrap());

    let report = store.optimize(&mut |_| {}).unwrap();
    assert_eq!(report.entries_dropped, ids.len().div_ceil(7) as u64);
    let runs = store.cache().runs.clone();
    assert_eq!(runs.len(), live.len().div_ceil(64), "{runs:?}");
    assert!(
        runs.iter().all(|r| r.entries > 32 && r.entries < 100),
        "{runs:?}"
    );
    assert_eq!(
        runs.iter().map(|r| r.entries).sum::<u64>(),
        live.len() as u64
    );
    assert!(index::runs_disjoint(store.tree(), runs.iter()).unwrap());
    assert!(index::filters_complete(store.tree(), &runs).unwrap());
    assert_all_found(&store, &live);
    for id in ids.iter().step_by(7) {
        assert_eq!(store.seq_of(id).unwrap(), None);
    }
    assert!(store.verify().unwrap().is_clean());

    store.optimize(&mut |_| {}).unwrap();
    assert_eq!(
        store.cache().runs,
        runs,
        "a second optimize rewrote the index"
    );
}

/// A few bodies put after an `optimize` make a small run beside its parts: the next `optimize`
/// leaves it there (rewriting every part would rewrite the whole index for them); once such
/// runs hold more than an eighth of the bodies, it rewrites the index in parts again.
#[test]
fn optimize_leaves_a_small_run_of_new_bodies_beside_the_parts() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    store.set_max_run_entries(64);
    let mut ids = Vec::new();
    for from in (0..400).step_by(100) {
        ids.extend(put_articles(&store, from..from + 100));
    }
    assert!(!index::runs_disjoint(store.tree(), store.cache().runs.iter()).unwrap());
    store.optimize(&mut |_| {}).unwrap();
    let parts = store.cache().runs.clone();
    assert_eq!(parts.len(), 400usize.div_ceil(64));

    // 30 more (under 430 / 8): one run more, left as it is.
    ids.extend(put_articles(&store, 400..430));
    let runs = store.cache().runs.clone();
    assert_eq!(runs.len(), parts.len() + 1);
    assert!(!index::runs_disjoint(store.tree(), runs.iter()).unwrap());
    store.optimize(&mut |_| {}).unwrap();
    assert_eq!(store.cache().runs, runs, "the small run was folded in");
    assert_all_found(&store, &ids);
    assert!(store.verify().unwrap().is_clean());

    // 40 more: the runs beside the parts hold 70 of 470, more than an eighth: rewritten.
    ids.extend(put_articles(&store, 430..470));
    store.optimize(&mut |_| {}).unwrap();
    let runs = store.cache().runs.clone();
    assert_eq!(runs.len(), 470usize.div_ceil(64));
    assert!(index::runs_disjoint(store.tree(), runs.iter()).unwrap());
    assert_all_found(&store, &ids);
    assert!(store.verify().unwrap().is_clean());
}

/// What an `optimize` interrupted between its parts leaves: the runs it read and the parts it
/// wrote, the same entries twice. Every body is still found, verify finds nothing wrong, a body
/// put again is not stored twice, and the next `optimize` finishes the work.
#[test]
fn an_index_left_between_parts_is_whole_and_optimize_finishes_it() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    store.set_max_run_entries(64);
    let mut ids = Vec::new();
    for (from, n) in [(0, 200), (200, 100)] {
        ids.extend(put_articles(&store, from..from + n));
    }
    let runs_before = store.cache().runs.len();
    // The first of two parts (the upper half of the prefixes), written as optimize writes it.
    let old: Vec<u64> = store.cache().runs.iter().map(|r| r.run).collect();
    let (live, _) = store.live_bitmap().unwrap();
    assert!(store.write_index_part(1, 2, &old, &live).unwrap() > 0);
    assert_eq!(store.cache().runs.len(), runs_before + 1);
    drop(store);

    let store = Store::open(dir.path()).unwrap();
    assert_all_found(&store, &ids);
    assert!(store.verify().unwrap().is_clean());
    let live = store.stats().unwrap().blobs;
    let again: Vec<Vec<u8>> = (0..10).map(article).collect();
    let refs: Vec<&[u8]> = again.iter().map(Vec::as_slice).collect();
    assert_eq!(store.put_many(&refs).unwrap(), ids[..10]);
    assert_eq!(store.stats().unwrap().blobs, live);

    store.optimize(&mut |_| {}).unwrap();
    let runs = store.cache().runs.clone();
    assert_eq!(runs.iter().map(|r| r.entries).sum::<u64>(), 300);
    assert!(index::runs_disjoint(store.tree(), runs.iter()).unwrap());
    assert!(store.verify().unwrap().is_clean());
}

/// Each part of the rewrite removes, from the runs it reads, the chunks that hold only
/// prefixes of its range and above (so that the runs read shrink as the rewrite goes): what is
/// left of them always lies below the part last written, and every body is found all along,
/// after a crash between two parts too.
#[test]
fn each_part_of_the_rewrite_removes_the_chunks_it_holds() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    store.set_max_run_entries(8192);
    let mut ids = Vec::new();
    // Runs of several chunks (4096 entries each).
    for (from, n) in [(0, 12_000), (12_000, 6_000), (18_000, 3_000)] {
        ids.extend(put_articles(&store, from..from + n));
    }
    let runs_before = store.cache().runs.clone();
    let chunks = |runs: &[index::Run]| runs.iter().map(|r| r.firsts.len()).sum::<usize>();
    assert!(chunks(&runs_before) > runs_before.len(), "{runs_before:?}");
    let old: Vec<u64> = runs_before.iter().map(|r| r.run).collect();
    let (live, count) = store.live_bitmap().unwrap();
    let parts = count.div_ceil(8192);
    assert_eq!(parts, 3);

    let mut written = 0;
    for part in (1..parts).rev() {
        written += store.write_index_part(part, parts, &old, &live).unwrap();
        let (lo, _) = index::part_range(part, parts);
        let runs = store.cache().runs.clone();
        for run in runs.iter().filter(|r| old.contains(&r.run)) {
            assert!(run.firsts.iter().all(|&f| f < lo), "run {run:?} from {lo}");
            // The directory's count is what its chunks hold.
            let held = index::read_run(store.tree(), run).unwrap().len();
            assert_eq!(run.entries, held as u64);
        }
        assert_all_found(&store, &ids);
        assert!(store.verify().unwrap().is_clean());
    }
    let old_left: Vec<index::Run> = store
        .cache()
        .runs
        .iter()
        .filter(|r| old.contains(&r.run))
        .cloned()
        .collect();
    assert!(
        chunks(&old_left) < chunks(&runs_before),
        "no chunk was removed: {old_left:?}"
    );
    // No removed chunk or filter is left behind in the tree.
    let stored_chunks = store.tree().scan_prefix([crate::format::TAG_INDEX]).count();
    assert_eq!(stored_chunks, chunks(&store.cache().runs));
    assert_eq!(
        store
            .tree()
            .scan_prefix([crate::format::TAG_FILTER])
            .count(),
        stored_chunks,
        "filters"
    );

    // A crash before the last part: the next optimize finishes the work.
    drop(store);
    let store = Store::open(dir.path()).unwrap();
    store.set_max_run_entries(8192);
    assert_all_found(&store, &ids);
    store.optimize(&mut |_| {}).unwrap();
    let runs = store.cache().runs.clone();
    assert_eq!(runs.len(), 3, "{runs:?}");
    assert_eq!(runs.iter().map(|r| r.entries).sum::<u64>(), count);
    assert!(written > 0 && written < count);
    assert!(index::runs_disjoint(store.tree(), runs.iter()).unwrap());
    assert_all_found(&store, &ids);
    assert!(store.verify().unwrap().is_clean());
}

#[test]
fn parts_cover_the_prefix_space_once() {
    for parts in [1u64, 2, 3, 7, 64, 1000] {
        let mut next = 0u64;
        for i in 0..parts {
            let (lo, hi) = index::part_range(i, parts);
            assert_eq!(lo, next, "part {i} of {parts}");
            assert!(hi >= lo);
            next = hi.wrapping_add(1);
        }
        assert_eq!(next, 0, "{parts} parts end at u64::MAX");
    }
}
