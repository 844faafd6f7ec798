//! Crash safety, locking and corruption, end to end.
//!
//! - The kill test: `morgue import -v` killed with SIGKILL at random instants, 50 times; after
//!   every kill the archive verifies clean and holds every article the importer acknowledged
//!   (`stored <id>`), byte for byte. Run by the torture library (`morgue_torture::kill::run`,
//!   crates/torture), which a soak runs for longer with
//!   `cargo run --release -p morgue-torture -- kill --iterations 500`. The same for kills of
//!   `morgue reindex` and `morgue optimize`; each asserts that some kills landed mid-run.
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

use morgue_store::BlobId;
use morgue_torture::corrupt::{self, Target};
use morgue_torture::kill::{self, KillOptions, KillReport, Victim};

use crate::common::{Env, MORGUE, stderr, stdout};

/// Kills survived in CI. `morgue-torture kill --iterations N` runs a longer soak.
const KILLS: u32 = 50;

/// Runs the kill test of the torture library (`morgue_torture::kill::run`) on `victim` in a
/// work directory of `env`; asserts that it passed, ran every iteration and lost nothing, and
/// returns its report.
fn run_kill(
    env: &Env,
    victim: Victim,
    iterations: u32,
    articles: usize,
    fresh_every: u32,
) -> KillReport {
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_nanos() as u64);
    let options = KillOptions {
        morgue: MORGUE.into(),
        work_dir: env.dir.path().join("kill"),
        iterations,
        articles,
        seed,
        // Delays up to the time the first run of the command takes to its end.
        max_delay: None,
        cat_sample: 3,
        fresh_every,
        early_percent: 20,
        victim,
    };
    let mut log = Vec::new();
    let report = kill::run(&options, |line| log.push(line.to_owned())).unwrap_or_else(|e| {
        panic!(
            "kill test of {victim:?} failed (seed {seed}): {e:#}\n{}",
            log.join("\n")
        )
    });
    assert_eq!(report.iterations, iterations, "{report:?}");
    assert_eq!(report.killed + report.finished, iterations, "{report:?}");
    assert_eq!(report.lost, 0, "{report:?}");
    // The test means something only if the command was really killed midway, at least once.
    assert!(
        report.killed > 0,
        "no run of {victim:?} was killed midway: {report:?}\n{}",
        log.join("\n")
    );
    report
}

#[test]
fn kill_test_sigkill_at_random_instants_loses_no_acknowledged_article() {
    let env = Env::new();
    // 2000 new articles per import (several durable batches); a fresh archive every 5 kills
    // keeps each check quick.
    let report = run_kill(&env, Victim::Import, KILLS, 2000, 5);
    assert_eq!(report.archives, KILLS / 5, "{report:?}");
    // Imports had acknowledged articles before their kills.
    assert!(
        report.acknowledged > 0,
        "no article was acknowledged: {report:?}"
    );
}

/// `morgue reindex` killed at random instants (after an import that ran to its end): the next
/// command's open completes the interrupted rebuild, so `verify` is clean after every kill. This
/// failed before morgue-meta's `reindex` began by forgetting the index list durably (found by
/// this test; `Archive::open_with` rebuilds the indexes when the list is not the wanted one).
#[test]
fn kill_test_sigkill_during_reindex_leaves_a_clean_archive() {
    let env = Env::new();
    let report = run_kill(&env, Victim::Reindex, 10, 1000, 0);
    // One archive, which every complete import grows by 1,000 new articles (the quarter of the
    // previous ones are duplicates): 10,000 acknowledged, all there at the end; each check
    // compared every body (1,000 + 2,000 + ... + 10,000) and 3 more with `cat`.
    assert_eq!(report.archives, 1, "{report:?}");
    assert_eq!(report.acknowledged, 10_000, "{report:?}");
    assert_eq!(report.max_articles, 10_000, "{report:?}");
    assert_eq!(report.bodies_checked, 55_000 + 10 * 3, "{report:?}");
}

/// `morgue optimize` killed at random instants (after imports of one service in pieces too small
/// to train a dictionary, so that it trains one and recompresses all 1,200 bodies, on a fresh
/// archive every time): each of its steps is atomic, so `verify` is clean and every body
/// byte-exact after every kill.
#[test]
fn kill_test_sigkill_during_optimize_leaves_a_clean_archive() {
    let env = Env::new();
    let report = run_kill(&env, Victim::Optimize, 10, 1200, 1);
    // A fresh archive each time, with its 1,200 articles all acknowledged and all compared
    // (export, and 3 more with `cat`).
    assert_eq!(report.archives, 10, "{report:?}");
    assert_eq!(report.acknowledged, 10 * 1200, "{report:?}");
    assert_eq!(report.max_articles, 1200, "{report:?}");
    assert_eq!(report.bodies_checked, 10 * (1200 + 3), "{report:?}");
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

    let list = env.run(&["--wait", "0", "list", "--format", "ids"]);
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

/// Flips a byte inside the stored frame of article `id` (`morgue_torture::corrupt`).
fn flip_body(env: &Env, id: &str) {
    corrupt::flip_body_byte(&env.archive, &blob_id(id)).expect("flip-body");
}

fn blob_id(id: &str) -> BlobId {
    id.parse().expect("a full article id")
}

/// Deletes the `target` keys of article `id` (`morgue_torture::corrupt`); how many.
fn delete_entries(archive: &Path, target: &str, id: &str) -> usize {
    let target: Target = target.parse().expect("target");
    corrupt::delete_entries(archive, target, &blob_id(id)).expect("delete-entries")
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
    let trees = corrupt::tree_names(&env.archive).expect("trees");
    assert!(
        trees.iter().any(|l| l.starts_with("morgue x ")),
        "no posting chunks in the archive: {trees:?}"
    );
    // The reporter's posting chunk: all three articles share it.
    assert_eq!(delete_entries(&env.archive, "xr", victim), 1);

    // The reporter's index has lost all three entries; the records still name her.
    let listed = env.ok(&["list", "--reporter", "Dana Holt", "--format", "ids"]);
    assert_eq!(listed, "", "the entries are still there");
    assert_eq!(env.titles(&[]).len(), 3);

    // verify reports exactly that damage: one problem per article, in the reporter index, for
    // her name; exit 1 and the hint to reindex.
    let verify = env.run(&["verify"]);
    assert_eq!(verify.status.code(), Some(1), "{}", stderr(&verify));
    let mut problems: Vec<String> = stdout(&verify).lines().map(str::to_owned).collect();
    problems.sort();
    let mut expected: Vec<String> = ids
        .iter()
        .map(|id| format!("{id}: index reporter: entry for \"dana holt\" missing"))
        .collect();
    expected.sort();
    assert_eq!(problems, expected);
    assert_eq!(
        stderr(&verify),
        "error: 3 problems found in 3 articles and 3 index entries\n\
         hint: `morgue reindex` rebuilds the indexes from the records\n"
    );

    // reindex rebuilds them: verify is clean and counts her entries again (per article one in
    // the date index, which holds every article, and one in the reporter index).
    let reindex = env.run(&["reindex"]);
    assert_eq!(reindex.status.code(), Some(0), "{}", stderr(&reindex));
    assert_eq!(stderr(&reindex), "reindexed 3 articles\n");
    let verify = env.run(&["verify"]);
    assert_eq!(verify.status.code(), Some(0), "{}", stdout(&verify));
    assert_eq!(
        stderr(&verify),
        "ok: 3 articles and 6 index entries checked, no problems\n"
    );
    let listed = env.ok(&["list", "--reporter", "Dana Holt", "--format", "ids"]);
    let mut listed: Vec<&str> = listed.lines().collect();
    listed.sort_unstable();
    let mut all: Vec<&str> = ids.iter().map(String::as_str).collect();
    all.sort_unstable();
    assert_eq!(listed, all);
}

#[test]
fn a_deleted_record_block_is_found_by_verify() {
    let env = Env::new();
    let ids = three_articles(&env);
    let victim = &ids[1];
    // The three records share one block.
    assert_eq!(delete_entries(&env.archive, "r", victim), 1);

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
