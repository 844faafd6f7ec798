//! A second process is refused at once while the archive is in use, or waits with `--wait`.

use std::io::Write as _;
use std::process::{Child, Stdio};

use crate::common::{Env, stderr};

/// Starts `morgue import -` and keeps its stdin open: it holds the archive until stdin closes.
fn hold_archive(env: &Env) -> Child {
    env.std_cmd()
        .args(["-q", "import", "--format", "text", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Polls `morgue list` until the holder has created the archive, then returns the error it
/// gets: the archive must be reported in use.
fn wait_until_locked(env: &Env) -> String {
    for _ in 0..1200 {
        let out = env.run(&["--wait", "0", "list"]);
        let err = stderr(&out);
        if !err.contains("no archive at") {
            assert_eq!(
                out.status.code(),
                Some(1),
                "list succeeded on a held archive: {err}"
            );
            assert!(err.contains("in use"), "{err}");
            return err;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!("the holder never created the archive");
}

#[test]
fn a_second_process_is_told_the_archive_is_in_use() {
    let env = Env::new();
    let mut holder = hold_archive(&env);
    let err = env.filter(&wait_until_locked(&env));
    // It names the holder (process id and command line) and the way to wait.
    let pid = holder.id().to_string();
    let expected_start = format!(
        "error: archive [TMP]/archive is in use by another morgue process (process {pid}: "
    );
    assert!(err.starts_with(&expected_start), "{err}");
    assert!(
        err.contains("-q import --format text -): use --wait SECONDS to wait for it\n"),
        "{err}"
    );
    let second = env.run(&["import", "examples/night-market.txt"]);
    assert_eq!(second.status.code(), Some(1));
    assert!(stderr(&second).contains("in use by another morgue process"));

    let mut stdin = holder.stdin.take().unwrap();
    stdin
        .write_all(b"Held Story\n\nWritten while another process waited.\n")
        .unwrap();
    drop(stdin);
    assert!(holder.wait().unwrap().success());
    // Released: the refused import goes through now, and the holder's article is there.
    env.ok(&["import", "examples/night-market.txt"]);
    let mut titles = env.titles(&[]);
    titles.sort();
    assert_eq!(
        titles,
        [
            "City Council Votes to Keep the Night Market Open",
            "Held Story"
        ]
    );
}

#[test]
fn a_wait_that_runs_out_still_fails_with_the_lock_message() {
    let env = Env::new();
    let mut holder = hold_archive(&env);
    wait_until_locked(&env);
    let out = env.run(&["--wait", "0.3", "list"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("in use by another morgue process"),
        "{}",
        stderr(&out)
    );
    let mut stdin = holder.stdin.take().unwrap();
    stdin
        .write_all(b"Held Story\n\nThe list gave up waiting.\n")
        .unwrap();
    drop(stdin);
    assert!(holder.wait().unwrap().success());
}

#[test]
fn wait_waits_for_the_archive_to_be_released() {
    let env = Env::new();
    let mut holder = hold_archive(&env);
    wait_until_locked(&env);
    let waiter = env
        .std_cmd()
        .args(["--wait", "120", "list", "--format", "ids"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The waiter is blocked on the lock; let the holder finish.
    let mut stdin = holder.stdin.take().unwrap();
    stdin
        .write_all(b"Held Story\n\nThe waiting list sees this.\n")
        .unwrap();
    drop(stdin);
    assert!(holder.wait().unwrap().success());
    let out = waiter.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 1);
}

#[test]
fn six_parallel_lists_all_succeed() {
    let env = Env::new();
    env.import_examples();
    let expected = env.ok(&["list", "--format", "ids"]);
    assert!(!expected.is_empty());
    let lists: Vec<Child> = (0..6)
        .map(|_| {
            env.std_cmd()
                .args(["list", "--format", "ids"])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for list in lists {
        let out = list.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        assert_eq!(String::from_utf8_lossy(&out.stdout), expected);
    }
}

#[test]
fn read_commands_wait_by_default() {
    let env = Env::new();
    let mut holder = hold_archive(&env);
    wait_until_locked(&env);
    // A read command started while the archive is held waits (5 seconds by default) and
    // succeeds once the holder is done.
    let waiter = env
        .std_cmd()
        .args(["list", "--format", "ids"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = holder.stdin.take().unwrap();
    stdin
        .write_all(b"Held Story\n\nThe default wait sees this.\n")
        .unwrap();
    drop(stdin);
    assert!(holder.wait().unwrap().success());
    let out = waiter.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 1);
}
