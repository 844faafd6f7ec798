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
