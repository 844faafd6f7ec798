//! How the store recovers from what a SIGKILL can leave in sled's files.
//!
//! sled 0.34.7 writes a snapshot of its page table at every open that finds new log entries:
//! into `snap.<LSN>.generating`, fsynced, then renamed to `snap.<LSN>`. Its recovery looks for
//! snapshots by the prefix `snap.` and takes the last name in sorted order, `.generating`
//! files included (sled issues #1527 and #1533). A process killed while writing one (a
//! `morgue` command killed during its open) leaves a partial `.generating` file, and from then
//! on every open fails with `Corruption`, although the log and the previous snapshot are
//! intact: the rename that would make the new snapshot count never happened, and nothing
//! after it (old snapshots removed, log segments zeroed) either.

use std::fs;
use std::path::Path;

use morgue_store::Store;

/// The snapshot files of an archive directory.
fn snapshots(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("snap."))
        .collect();
    names.sort();
    names
}

/// An archive with a few blobs, opened and closed twice so that a snapshot exists.
fn archive_with_snapshot(dir: &Path) -> Vec<morgue_store::BlobId> {
    let ids = {
        let store = Store::open(dir).unwrap();
        let ids = (0..50)
            .map(|n| store.put(format!("blob {n}").as_bytes()).unwrap())
            .collect();
        store.flush().unwrap();
        ids
    };
    drop(Store::open(dir).unwrap());
    assert!(
        !snapshots(dir).is_empty(),
        "sled wrote no snapshot: {:?}",
        snapshots(dir)
    );
    ids
}

/// What a kill in the middle of `write_snapshot` leaves: a `.generating` file with a higher
/// LSN than the last good snapshot, `len` bytes long (0: killed right after creating it).
fn leave_partial_snapshot(dir: &Path, len: usize) {
    let name = format!("snap.{:016X}.generating", u64::MAX >> 4);
    fs::write(dir.join(name), vec![0x5a; len]).unwrap();
}

/// Demonstrates the failure that morgue must handle: sled alone cannot open the directory.
#[test]
fn sled_alone_fails_on_a_partial_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    archive_with_snapshot(dir.path());
    leave_partial_snapshot(dir.path(), 100);
    let err = sled::Config::new().path(dir.path()).open().err();
    assert!(
        matches!(err, Some(sled::Error::Corruption { .. })),
        "sled now opens it ({err:?}): the workaround in Database::open may be dropped"
    );
}

/// Found by this work, fixed in morgue-store (`Database::open` deletes `snap.*.generating`
/// before opening sled, under the archive lock): a partial snapshot left by a kill no longer
/// makes the archive unopenable, and nothing is lost. A `.generating` snapshot never took effect.
#[test]
fn a_partial_snapshot_left_by_a_kill_does_not_lose_the_archive() {
    for len in [0, 7, 100, 4096] {
        let dir = tempfile::tempdir().unwrap();
        let ids = archive_with_snapshot(dir.path());
        leave_partial_snapshot(dir.path(), len);
        let store = Store::open(dir.path())
            .unwrap_or_else(|e| panic!("open after a partial snapshot of {len} bytes: {e}"));
        for id in &ids {
            assert!(store.get(id).unwrap().is_some(), "blob {id} lost");
        }
        assert!(store.verify().unwrap().is_clean());
    }
}
