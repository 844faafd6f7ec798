//! An archive on a read-only mount (or, for a user other than root, in a directory without
//! write permission) is read by every read command; commands that change it are refused.

use std::path::Path;
use std::process::Output;

use crate::common::{Env, MORGUE, stderr, stdout, workspace_root};

/// Runs `morgue --archive MNT/archive ARGS` in a private mount namespace where `MNT` is a
/// read-only bind mount of the test's directory; `None` (after a notice) when this machine
/// cannot make one (no `unshare`, or not allowed to mount).
fn run_read_only(env: &Env, mnt: &Path, tmp: &Path, args: &[&str]) -> Option<Output> {
    let out = std::process::Command::new("unshare")
        .args(["-m", "sh", "-c"])
        .arg(r#"mount --bind -o ro "$1" "$2" || exit 97; shift 2; exec "$@""#)
        .arg("sh")
        .arg(env.dir.path())
        .arg(mnt)
        .arg(MORGUE)
        .arg("--archive")
        .arg(mnt.join("archive"))
        .args(args)
        .env_clear()
        .env("NO_COLOR", "1")
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("TMPDIR", tmp)
        .current_dir(workspace_root())
        .output();
    match out {
        Ok(out) if out.status.code() != Some(97) => Some(out),
        Ok(out) => {
            eprintln!(
                "notice: skipped, cannot make a read-only mount: {}",
                stderr(&out)
            );
            None
        }
        Err(e) => {
            eprintln!("notice: skipped, cannot run unshare: {e}");
            None
        }
    }
}

#[test]
fn an_archive_on_a_read_only_mount_is_read_by_every_read_command() {
    let env = Env::new();
    env.import_examples();
    let id = env.id_of("City Council Votes to Keep the Night Market Open");
    let mnt = tempfile::tempdir().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let reads: [&[&str]; 8] = [
        &["list", "--format", "jsonl"],
        &["search", "--format", "jsonl", "market"],
        &["show", &id],
        &["cat", &id],
        &["reporters"],
        &["services"],
        &["export"],
        &["verify"],
    ];
    for args in reads {
        let expected = env.run(args);
        assert_eq!(expected.status.code(), Some(0), "{args:?}");
        let Some(out) = run_read_only(&env, mnt.path(), tmp.path(), args) else {
            return;
        };
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
        assert_eq!(stdout(&out), stdout(&expected), "{args:?}");
    }
    // `stats` (whose disk bytes count the lock file) has the same figures.
    let out = run_read_only(&env, mnt.path(), tmp.path(), &["stats", "--format", "json"]).unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let stats: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(stats["articles"], 7);
    // Changes are refused, saying why, and nothing is changed.
    for args in [&["rm", id.as_str()][..], &["reindex"], &["optimize"]] {
        let out = run_read_only(&env, mnt.path(), tmp.path(), args).unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(
            stderr(&out).contains("is read-only"),
            "{args:?}: {}",
            stderr(&out)
        );
    }
    let out = run_read_only(&env, mnt.path(), tmp.path(), &["import", "examples"]).unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("Read-only file system"),
        "{}",
        stderr(&out)
    );
    assert_eq!(env.titles(&[]).len(), 7);
    // The private copy of sled's files is gone after each command.
    let left: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

#[test]
fn an_archive_without_write_permission_is_read() {
    // Root ignores permissions: the test would see nothing.
    let uid = std::process::Command::new("id").arg("-u").output();
    if uid.is_ok_and(|out| stdout(&out).trim() == "0") {
        eprintln!(
            "notice: skipped, root ignores file permissions (the read-only mount test covers it)"
        );
        return;
    }
    let env = Env::new();
    env.import_examples();
    let expected = env.ok(&["list", "--format", "ids"]);
    let status = std::process::Command::new("chmod")
        .args(["-R", "a-w"])
        .arg(&env.archive)
        .status()
        .unwrap();
    assert!(status.success());
    let out = env.run(&["list", "--format", "ids"]);
    let _ = std::process::Command::new("chmod")
        .args(["-R", "u+w"])
        .arg(&env.archive)
        .status();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), expected);
}
