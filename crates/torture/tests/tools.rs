//! The corruption tools of `morgue-torture`, run as a program on a store archive.

use std::process::Command;

use morgue_store::{Error, Store};

fn torture(args: &[&str], archive: &std::path::Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_morgue-torture"))
        .args(&args[..1])
        .arg(archive)
        .args(&args[1..])
        .output()
        .unwrap()
}

#[test]
fn flip_body_damages_exactly_one_blob_and_trees_lists_the_body_packs() {
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("archive");
    let (damaged, intact) = {
        let store = Store::open(&archive).unwrap();
        let a = store
            .put(&b"first body, long enough to compress a little ".repeat(10))
            .unwrap();
        let b = store.put(b"second body").unwrap();
        (a, b)
    };

    let out = torture(&["trees"], &archive);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .any(|l| l == "morgue B 1"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    let out = torture(&["flip-body", &damaged.to_string()], &archive);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let store = Store::open(&archive).unwrap();
    assert!(matches!(store.get(&damaged), Err(Error::Corrupted { id }) if id == damaged));
    assert_eq!(
        store.get(&intact).unwrap().as_deref(),
        Some(&b"second body"[..])
    );
    assert_eq!(store.verify().unwrap().corrupted, vec![damaged]);

    // While the archive is held, the tools refuse to touch it.
    let out = torture(&["flip-body", &intact.to_string()], &archive);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("in use"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
