//! Crash safety, locking and corruption, end to end.
//!
//! - The kill test: `morgue import -v` killed with SIGKILL at random instants, 50 times; after
//!   every kill the archive verifies clean and holds every article the importer acknowledged
//!   (`stored <id>`), byte for byte. Run by `morgue-torture kill` (crates/torture), which a
//!   soak runs for longer: `cargo run --release -p morgue-torture -- kill --iterations 500`.
//! - Locking: while an import runs, `list` and a second import are refused at once (exit 1,
//!   "archive DIR is in use by another morgue process", nothing written); `--wait` waits.
//! - Corruption: a damaged body is reported by `cat`/`show` (exit 1, nothing printed) and by
//!   `verify` with its id; a deleted posting chunk is found by `verify` and fixed by `reindex`;
//!   a deleted record block is found by `verify`.

use std::io::Write as _;
use std::path::Path;
use std::process::{Child, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::Duration;

use crate::common::{Env, stderr, stdout};
use crate::hostile::torture;

/// Kills survived in CI. `morgue-torture kill --iterations N` runs a longer soak.
const KILLS: u32 = 50;

/// The first number in `text` after `label`.
fn number_after(text: &str, label: &str) -> Option<u64> {
    let rest = &text[text.find(label)? + label.len()..];
    let digits: String = rest
        .chars()
        .skip_while(|c| !c.is_ascii_digit())
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

/// Runs `morgue-torture kill` with `args` in a work directory of `env`; asserts that it passed
/// and lost nothing, and returns its report.
fn run_kill(env: &Env, args: &[&str]) -> String {
    let out = torture()
        .arg("kill")
        .arg("--quiet")
        .args(args)
        .arg("--work-dir")
        .arg(env.dir.path().join("kill"))
        .output()
        .expect("running morgue-torture kill");
    let report = stdout(&out);
    assert_eq!(
        out.status.code(),
        Some(0),
        "kill test failed:\n{report}\n{}",
        stderr(&out)
    );
    assert!(report.contains("articles lost: 0"), "{report}");
    report
}

#[test]
fn kill_test_sigkill_at_random_instants_loses_no_acknowledged_article() {
    let env = Env::new();
    // 2000 new articles per import (several durable batches); delays up to the time the
    // first import takes; a fresh archive every 5 kills keeps each check quick.
    let kills = KILLS.to_string();
    let report = run_kill(
        &env,
        &[
            "--iterations",
            &kills,
            "--articles",
            "2000",
            "--fresh-every",
            "5",
        ],
    );
    let passed = report
        .lines()
        .find(|l| l.starts_with("kill test passed"))
        .expect("summary line");
    assert_eq!(
        number_after(passed, "passed:"),
        Some(u64::from(KILLS)),
        "{passed}"
    );
    // The test means something only if imports were really killed midway and had
    // acknowledged articles before.
    let killed = number_after(passed, "iterations (").expect("killed count");
    assert!(killed > 0, "no import was killed midway: {passed}");
    let acknowledged = number_after(passed, "archives,").expect("acknowledged count");
    assert!(acknowledged > 0, "no article was acknowledged: {passed}");
}

/// `morgue reindex` killed at random instants (after an import that ran to its end): the next
/// command's open completes the interrupted rebuild, so `verify` is clean after every kill. This
/// failed before morgue-meta's `reindex` began by forgetting the index list durably (found by
/// this test; `Archive::open_with` rebuilds the indexes when the list is not the wanted one).
#[test]
fn kill_test_sigkill_during_reindex_leaves_a_clean_archive() {
    let env = Env::new();
    run_kill(
        &env,
        &[
            "--command",
            "reindex",
            "--iterations",
            "10",
            "--articles",
            "1000",
            "--fresh-every",
            "0",
        ],
    );
}

/// `morgue optimize` killed at random instants (after imports of one service in pieces too small
/// to train a dictionary, so that it trains one and recompresses all 1,200 bodies, on a fresh
/// archive every time): each of its steps is atomic, so `verify` is clean and every body
/// byte-exact after every kill.
#[test]
fn kill_test_sigkill_during_optimize_leaves_a_clean_archive() {
    let env = Env::new();
    run_kill(
        &env,
        &[
            "--command",
            "optimize",
            "--iterations",
            "10",
            "--articles",
            "1200",
            "--fresh-every",
            "1",
        ],
    );
}

/// Articles as JSON Lines: `count` distinct ones whose bodies start with `tag`.
fn jsonl(tag: &str, count: usize) -> String {
    (0..count)
        .map(|n| {
            serde_json::json!({
                "title": format!("{tag} {n}"),
                "body": format!("{tag} body {n}. {}", "Words of a story. ".repeat(20)),
                "reporters": ["Dana Holt"],
            })
            .to_string()
                + "\n"
        })
        .collect()
}

/// `morgue import -v --format jsonl -` fed by a thread that keeps writing articles until
/// `stop` is set: an import really in progress, holding the archive.
fn running_import(env: &Env, stop: &Arc<AtomicBool>) -> (Child, thread::JoinHandle<()>) {
    let mut child = env
        .std_cmd()
        .args(["import", "-v", "--format", "jsonl", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawning morgue import");
    let mut stdin = child.stdin.take().expect("stdin");
    let stop = Arc::clone(stop);
    let feeder = thread::spawn(move || {
        let mut n = 0;
        while !stop.load(Ordering::Relaxed) {
            if stdin
                .write_all(jsonl(&format!("Held {n}"), 5).as_bytes())
                .is_err()
            {
                return;
            }
            n += 1;
            thread::sleep(Duration::from_millis(20));
        }
    });
    // Drain its stdout all along (a full pipe would block it, and then the feeder); wait for its
    // first durable batch: from then on it holds the archive for sure.
    let out = child.stdout.take().expect("stdout");
    let (first_tx, first_rx) = std::sync::mpsc::channel();
    thread::spawn(move || {
        for line in std::io::BufRead::lines(std::io::BufReader::new(out)) {
            let Ok(line) = line else { return };
            let _ = first_tx.send(line);
        }
    });
    let first = first_rx
        .recv()
        .expect("the import ended before storing anything");
    assert!(first.starts_with("stored "), "{first}");
    (child, feeder)
}

#[test]
fn while_an_import_runs_others_are_refused_at_once_or_wait() {
    let env = Env::new();
    let stop = Arc::new(AtomicBool::new(false));
    let (mut holder, feeder) = running_import(&env, &stop);
    let in_use = format!(
        "error: archive {} is in use by another morgue process",
        env.archive.display()
    );

    let list = env.run(&["list", "--format", "ids"]);
    assert_eq!(list.status.code(), Some(1));
    assert!(stderr(&list).starts_with(&in_use), "{}", stderr(&list));
    assert!(stdout(&list).is_empty());

    let second_input = env.dir.path().join("second.jsonl");
    std::fs::write(&second_input, jsonl("Second import", 3)).expect("writing input");
    let second = env.run(&["import", second_input.to_str().expect("UTF-8 path")]);
    assert_eq!(second.status.code(), Some(1));
    assert!(stderr(&second).starts_with(&in_use), "{}", stderr(&second));
    // Refused at once: the holder is still importing.
    assert!(
        holder.try_wait().expect("try_wait").is_none(),
        "the holder finished first"
    );

    // A waiting list gets through once the import finishes.
    let waiter = env
        .std_cmd()
        .args(["--wait", "60", "list", "--all", "--format", "ids"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawning the waiting list");
    stop.store(true, Ordering::Relaxed);
    feeder.join().expect("feeder");
    let held = holder.wait_with_output().expect("holder");
    assert_eq!(held.status.code(), Some(0), "{}", stderr(&held));
    let waited = waiter.wait_with_output().expect("waiter");
    assert_eq!(waited.status.code(), Some(0), "{}", stderr(&waited));
    let listed = stdout(&waited).lines().count();
    assert!(listed > 0, "the waiting list saw no article");

    // The refused import wrote nothing; run now, it stores its three articles.
    let titles = env.titles(&[]);
    assert!(
        !titles.iter().any(|t| t.starts_with("Second import")),
        "{titles:?}"
    );
    assert_eq!(listed, titles.len());
    env.ok(&["import", second_input.to_str().expect("UTF-8 path")]);
    assert_eq!(env.titles(&[]).len(), listed + 3);
    env.ok(&["verify"]);
}

#[test]
fn wait_gives_up_after_its_time_with_the_in_use_error() {
    let env = Env::new();
    let stop = Arc::new(AtomicBool::new(false));
    let (holder, feeder) = running_import(&env, &stop);
    let out = env.run(&["--wait", "1", "list"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("is in use by another morgue process"),
        "{}",
        stderr(&out)
    );
    stop.store(true, Ordering::Relaxed);
    feeder.join().expect("feeder");
    assert!(holder.wait_with_output().expect("holder").status.success());
}

/// Imports three articles and returns the archive's ids in title order.
fn three_articles(env: &Env) -> Vec<String> {
    let input = env.dir.path().join("three.jsonl");
    std::fs::write(&input, jsonl("Kept", 3)).expect("writing input");
    env.ok(&["import", input.to_str().expect("UTF-8 path")]);
    (0..3).map(|n| env.id_of(&format!("Kept {n}"))).collect()
}

/// Flips a byte inside the stored frame of article `id` (`morgue-torture flip-body`).
fn flip_body(env: &Env, id: &str) {
    let out = torture()
        .arg("flip-body")
        .arg(&env.archive)
        .arg(id)
        .output()
        .expect("flip-body");
    assert!(out.status.success(), "{}", stderr(&out));
}

fn torture_on(archive: &Path, args: &[&str]) -> String {
    let out = torture()
        .args(args)
        .arg(archive)
        .output()
        .expect("running morgue-torture");
    assert!(
        out.status.success(),
        "morgue-torture {args:?}: {}",
        stderr(&out)
    );
    stdout(&out)
}

#[test]
fn a_damaged_body_is_reported_never_printed() {
    let env = Env::new();
    let ids = three_articles(&env);
    let damaged = &ids[1];
    flip_body(&env, damaged);

    let cat = env.run(&["cat", damaged]);
    assert_eq!(cat.status.code(), Some(1));
    assert!(cat.stdout.is_empty(), "cat printed {:?}", stdout(&cat));
    assert!(stderr(&cat).contains("corrupted"), "{}", stderr(&cat));
    assert!(stderr(&cat).contains(damaged.as_str()), "{}", stderr(&cat));

    let show = env.run(&["show", damaged]);
    assert_eq!(show.status.code(), Some(1));
    assert!(
        !stdout(&show).contains("Kept body"),
        "show printed the body: {}",
        stdout(&show)
    );
    assert!(stderr(&show).contains("corrupted"), "{}", stderr(&show));

    let verify = env.run(&["verify"]);
    assert_eq!(verify.status.code(), Some(1));
    let said = format!("{}{}", stdout(&verify), stderr(&verify));
    assert!(
        said.contains(damaged.as_str()),
        "verify does not name {damaged}: {said}"
    );
    for other in [&ids[0], &ids[2]] {
        assert!(
            !said.contains(other.as_str()),
            "verify blames {other}: {said}"
        );
        let cat = env.run(&["cat", other]);
        assert_eq!(cat.status.code(), Some(0), "{}", stderr(&cat));
    }
}

#[test]
fn a_deleted_posting_chunk_is_found_by_verify_and_fixed_by_reindex() {
    let env = Env::new();
    let ids = three_articles(&env);
    let victim = &ids[0];
    let keys = torture_on(&env.archive, &["trees"]);
    assert!(
        keys.lines().any(|l| l.starts_with("morgue x ")),
        "no posting chunks in the archive: {keys}"
    );
    // The reporter's posting chunk: all three articles share it.
    let out = torture()
        .arg("delete-entries")
        .arg(&env.archive)
        .args(["xr", victim.as_str()])
        .output()
        .expect("delete-entries");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        !stdout(&out).starts_with("deleted 0 "),
        "no reporter posting chunk deleted: {}",
        stdout(&out)
    );

    let listed = env.ok(&["list", "--reporter", "Dana Holt", "--format", "ids"]);
    assert!(
        !listed.contains(victim.as_str()),
        "the entry is still there"
    );
    let verify = env.run(&["verify"]);
    assert_eq!(verify.status.code(), Some(1));
    let said = format!("{}{}", stdout(&verify), stderr(&verify));
    assert!(
        said.contains(victim.as_str()),
        "verify does not name {victim}: {said}"
    );
    assert!(said.contains("morgue reindex"), "no hint: {said}");

    env.ok(&["reindex"]);
    env.ok(&["verify"]);
    let listed = env.ok(&["list", "--reporter", "Dana Holt", "--format", "ids"]);
    assert_eq!(listed.lines().count(), 3, "{listed}");
    assert!(listed.contains(victim.as_str()));
}

#[test]
fn a_deleted_record_block_is_found_by_verify() {
    let env = Env::new();
    let ids = three_articles(&env);
    let victim = &ids[1];
    let out = torture()
        .arg("delete-entries")
        .arg(&env.archive)
        .args(["r", victim.as_str()])
        .output()
        .expect("delete-entries");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).starts_with("deleted 1 "),
        "no record block deleted: {}",
        stdout(&out)
    );

    // The three records shared the block: verify names each article, whose body is intact.
    let verify = env.run(&["verify"]);
    assert_eq!(verify.status.code(), Some(1));
    let said = format!("{}{}", stdout(&verify), stderr(&verify));
    for id in &ids {
        assert!(
            said.contains(id.as_str()),
            "verify does not name {id}: {said}"
        );
    }
    let cat = env.run(&["cat", victim]);
    assert_eq!(cat.status.code(), Some(0), "{}", stderr(&cat));
    assert!(stdout(&cat).starts_with("Kept body 1."), "{}", stdout(&cat));

    // reindex drops the index entries of the lost records: no list shows an article that has
    // no record any more.
    env.ok(&["reindex"]);
    let listed = env.ok(&["list", "--reporter", "Dana Holt", "--format", "ids"]);
    assert_eq!(listed, "", "{listed}");
}

#[test]
fn a_damaged_body_comes_back_by_rm_then_import_not_by_import_alone() {
    let env = Env::new();
    let ids = three_articles(&env);
    let damaged = &ids[2];
    flip_body(&env, damaged);
    let input = env.dir.path().join("three.jsonl");
    let input = input.to_str().expect("UTF-8 path");

    // Imported again, the body is a duplicate: still damaged.
    env.ok(&["import", input]);
    assert_eq!(env.run(&["cat", damaged]).status.code(), Some(1));

    env.ok(&["rm", damaged]);
    env.ok(&["import", input]);
    assert!(env.ok(&["cat", damaged]).starts_with("Kept body 2."));
    env.ok(&["verify"]);
    assert_eq!(env.titles(&["--reporter", "dana holt"]).len(), 3);
}
