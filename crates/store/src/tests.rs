//! On-disk tests of the store: each in its own temporary directory.

use std::fs;
use std::path::Path;

use crate::engine::{Database, LOCK_FILE};
use crate::header::{HEADER_FILE, header_bytes};
use crate::{BlobId, Error, Options, Store};

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
    assert_eq!(fs::read(path.join(HEADER_FILE)).unwrap(), header_bytes(1));
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
    fs::write(dir.path().join(HEADER_FILE), header_bytes(2)).unwrap();
    let err = Store::open(dir.path()).unwrap_err();
    assert!(
        matches!(
            err,
            Error::UnsupportedVersion {
                found: 2,
                supported: 1
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "archive format version 2 is not supported (this build reads version 1)"
    );
}

#[test]
fn database_and_store_share_one_directory() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(dir.path(), &Options::default()).unwrap();
    let store = Store::on(&db, 3).unwrap();
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

/// A way to damage a stored value.
type Damager = fn(&mut Vec<u8>);

/// Overwrites the stored value of `id` through the engine, as damage on disk would.
fn damage(store: &Store, id: &BlobId, f: impl FnOnce(&mut Vec<u8>)) {
    let mut value = store.tree().get(id.as_bytes()).unwrap().unwrap().to_vec();
    f(&mut value);
    store.tree().insert(id.as_bytes(), value).unwrap();
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
fn damaged_values_are_corrupted_never_wrong_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let text = b"A body that zstd compresses well. ".repeat(100);
    let healthy = store.put(b"an untouched neighbour").unwrap();

    let damages: [(&str, Damager); 8] = [
        ("payload byte flipped", |v| {
            let i = v.len() / 2;
            v[i] ^= 0x40;
        }),
        ("last byte flipped", |v| *v.last_mut().unwrap() ^= 1),
        ("length + 1", |v| v[5] = v[5].wrapping_add(1)),
        ("length - 1", |v| v[5] = v[5].wrapping_sub(1)),
        ("length above the cap", |v| v[2] = 0xff),
        ("unknown codec", |v| v[1] = 9),
        ("unknown version", |v| v[0] = 2),
        ("truncated", |v| v.truncate(4)),
    ];
    let mut damaged = Vec::new();
    for (i, (what, f)) in damages.into_iter().enumerate() {
        let mut blob = text.clone();
        blob.extend_from_slice(format!("variant {i}").as_bytes());
        let id = store.put(&blob).unwrap();
        assert_eq!(
            store.tree().get(id.as_bytes()).unwrap().unwrap()[1],
            1,
            "zstd"
        );
        damage(&store, &id, f);
        let got = store.get(&id);
        assert!(
            matches!(got, Err(Error::Corrupted { id: bad }) if bad == id),
            "{what}: {got:?}"
        );
        damaged.push(id);
    }
    // A raw-stored tiny blob: its bytes changed, so its hash no longer matches.
    let tiny = store.put(b"tiny").unwrap();
    assert_eq!(
        store.tree().get(tiny.as_bytes()).unwrap().unwrap()[1],
        0,
        "raw"
    );
    damage(&store, &tiny, |v| v[6] = b'T');
    assert_corrupted(&store, &tiny);
    damaged.push(tiny);

    // A valid value stored under the wrong id.
    let other = store.prepare(b"something else").unwrap();
    let wrong = BlobId::of(b"not something else");
    store.tree().insert(wrong.as_bytes(), other.value).unwrap();
    assert_corrupted(&store, &wrong);
    damaged.push(wrong);

    damaged.sort();
    let report = store.verify().unwrap();
    assert_eq!(report.corrupted, damaged);
    assert_eq!(report.checked, damaged.len() as u64 + 1);
    assert!(report.malformed_keys.is_empty());
    assert_eq!(
        store.get(&healthy).unwrap(),
        Some(b"an untouched neighbour".to_vec())
    );

    // Putting the bytes again repairs a damaged value.
    assert_eq!(store.put(b"tiny").unwrap(), tiny);
    assert_eq!(store.get(&tiny).unwrap(), Some(b"tiny".to_vec()));
    assert!(!store.verify().unwrap().corrupted.contains(&tiny));
}

#[test]
fn malformed_keys_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let id = store.put(b"fine").unwrap();
    store.tree().insert(b"short", b"x".as_slice()).unwrap();
    let report = store.verify().unwrap();
    assert_eq!(report.checked, 2);
    assert!(report.corrupted.is_empty());
    assert_eq!(report.malformed_keys, vec![b"short".to_vec()]);
    assert!(!report.is_clean());
    let ids: Vec<_> = store.ids().collect();
    assert_eq!(ids.len(), 2);
    assert_eq!(
        ids.iter()
            .filter_map(|r| r.as_ref().ok())
            .collect::<Vec<_>>(),
        vec![&id]
    );
    assert!(
        ids.iter()
            .any(|r| matches!(r, Err(Error::Engine(m)) if m.contains("malformed key"))),
        "{ids:?}"
    );
    // A prefix that matches the malformed key names no blob.
    assert!(matches!(
        store.resolve("73686f"),
        Err(Error::NotFound { .. })
    ));
}

#[test]
fn resolve_prefixes() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let mut ids: Vec<BlobId> = (0..3000)
        .map(|i| store.put(format!("blob {i}").as_bytes()).unwrap())
        .collect();
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
fn prepared_blob_commits_in_a_transaction() {
    use crate::engine::sled::Transactional;
    use crate::engine::transaction_error;

    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(dir.path(), &Options::default()).unwrap();
    let store = Store::on(&db, 19).unwrap();
    let other = db.sled().open_tree("records").unwrap();
    let body = b"a body committed with its record ".repeat(50);
    let blob = store.prepare(&body).unwrap();
    assert_eq!(blob.id, BlobId::of(&body));
    assert_eq!(blob.raw_len, body.len() as u64);
    assert!(blob.value.len() < body.len());
    (store.tree(), &other)
        .transaction(|(blobs, records)| {
            blobs.insert(blob.id.as_bytes(), blob.value.as_slice())?;
            records.insert(blob.id.as_bytes(), b"record".as_slice())?;
            Ok(())
        })
        .map_err(transaction_error)
        .unwrap();
    assert_eq!(store.get(&blob.id).unwrap(), Some(body.clone()));
    assert_eq!(store.decode(&blob.id, &blob.value).unwrap(), body);

    // An aborted transaction writes nothing and hands back its error.
    let second = store.prepare(b"never stored").unwrap();
    let err = (store.tree(), &other)
        .transaction(|(blobs, _)| {
            blobs.insert(second.id.as_bytes(), second.value.as_slice())?;
            sled::transaction::abort(Error::NotFound {
                prefix: "abcd".into(),
            })?;
            Ok(())
        })
        .map_err(transaction_error)
        .unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err:?}");
    assert!(!store.contains(&second.id).unwrap());
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
        crate::codec::check_len(usize::try_from(crate::MAX_BLOB_BYTES).unwrap() + 1).unwrap_err();
    assert!(
        matches!(err, Error::TooLarge { len, max } if len == max + 1 && max == 1 << 30),
        "{err:?}"
    );
}

mod model {
    use std::collections::BTreeMap;

    use proptest::prelude::*;

    use crate::{BlobId, Error, Store};

    #[derive(Debug, Clone)]
    enum Op {
        Put(Vec<u8>),
        /// An operation on the id of a blob picked from those seen so far (or one never stored).
        Get(usize),
        Remove(usize),
        Contains(usize),
        /// Resolve the first `len` hex characters of a picked id, maybe in upper case.
        Resolve(usize, usize, bool),
        Reopen,
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
            2 => any::<usize>().prop_map(Op::Get),
            1 => any::<usize>().prop_map(Op::Remove),
            1 => any::<usize>().prop_map(Op::Contains),
            2 => (any::<usize>(), 4usize..=64, any::<bool>())
                .prop_map(|(i, n, up)| Op::Resolve(i, n, up)),
            1 => Just(Op::Reopen),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

        #[test]
        fn store_matches_btreemap(ops in prop::collection::vec(op(), 1..40)) {
            let dir = tempfile::tempdir().unwrap();
            let mut store = Store::open(dir.path()).unwrap();
            let mut model: BTreeMap<BlobId, Vec<u8>> = BTreeMap::new();
            // Every id seen, plus one that is never stored.
            let mut seen: Vec<BlobId> = vec![BlobId::of(b"never stored by this test")];
            let pick = |seen: &[BlobId], i: usize| seen[i % seen.len()];

            for op in ops {
                match op {
                    Op::Put(bytes) => {
                        let id = store.put(&bytes).unwrap();
                        prop_assert_eq!(id, BlobId::of(&bytes));
                        model.insert(id, bytes);
                        seen.push(id);
                    }
                    Op::Get(i) => {
                        let id = pick(&seen, i);
                        let got = store.get(&id).unwrap();
                        prop_assert_eq!(got.as_ref(), model.get(&id));
                    }
                    Op::Remove(i) => {
                        let id = pick(&seen, i);
                        prop_assert_eq!(store.remove(&id).unwrap(), model.remove(&id).is_some());
                    }
                    Op::Contains(i) => {
                        let id = pick(&seen, i);
                        prop_assert_eq!(store.contains(&id).unwrap(), model.contains_key(&id));
                    }
                    Op::Resolve(i, len, upper) => {
                        let hex = pick(&seen, i).to_string();
                        let prefix = &hex[..len];
                        let matching: Vec<BlobId> = model
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
                    }
                }
            }

            let ids: Vec<BlobId> = store.ids().collect::<Result<_, _>>().unwrap();
            prop_assert_eq!(ids, model.keys().copied().collect::<Vec<_>>());
            let stats = store.stats().unwrap();
            prop_assert_eq!(stats.blobs, model.len() as u64);
            prop_assert_eq!(stats.raw_bytes, model.values().map(|v| v.len() as u64).sum::<u64>());
            let report = store.verify().unwrap();
            prop_assert!(report.is_clean());
            prop_assert_eq!(report.checked, model.len() as u64);
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

/// Writes the fixture archive into `$MORGUE_WRITE_FIXTURE` (run once per released format:
/// `MORGUE_WRITE_FIXTURE=crates/store/tests/fixtures/vN cargo test -p morgue-store -- --ignored
/// write_fixture`).
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

/// An archive written by format version 1 still opens and reads back.
#[test]
fn opens_the_v1_fixture() {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/v1");
    let dir = tempfile::tempdir().unwrap();
    // A copy: opening writes to the archive.
    for entry in fs::read_dir(&fixture).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_file() {
            fs::copy(entry.path(), dir.path().join(entry.file_name())).unwrap();
        }
    }
    let store = Store::open_with(dir.path(), &no_create()).unwrap();
    let blobs = fixture_blobs();
    for blob in &blobs {
        assert_eq!(store.get(&BlobId::of(blob)).unwrap().as_ref(), Some(blob));
    }
    let report = store.verify().unwrap();
    assert!(report.is_clean());
    assert_eq!(report.checked, blobs.len() as u64);
    // Both codecs are represented.
    let codecs: Vec<u8> = blobs
        .iter()
        .map(|b| store.tree().get(BlobId::of(b).as_bytes()).unwrap().unwrap()[1])
        .collect();
    assert_eq!(codecs, [0, 0, 1]);
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
