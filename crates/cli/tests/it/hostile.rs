//! Hostile input: one `morgue import` over a directory of everything an importer can be handed
//! (binary bytes, invalid UTF-8, UTF-16, empty files, JSON of the wrong shape or nested 100,000
//! deep, bad JSON Lines between good ones, a line above the 64 MiB cap, truncated and
//! bomb-sized .zst, unreadable files, symlink loops, a non-UTF-8 name, a FIFO) must store every
//! good article byte for byte, report every bad input with its path[:line] and a reason, exit
//! 1, and leave an archive that verifies clean.
//!
//! The inputs and the check come from the torture library (`morgue_torture::hostile::run`,
//! crates/torture), which runs the import, compares each input's fate with what it must be,
//! verifies the archive and `cat`s every good article; this test runs it at test sizes (a
//! 70 MiB line, 160 MiB bombs) and checks the archive it leaves on its own. The full sizes (a
//! 200 MB line, 8 GiB bombs, peak RSS under 512 MiB asserted) run with
//! `cargo run --release -p morgue-torture -- hostile`.

use std::path::Path;

use morgue_torture::hostile::{self, Sizes};

use crate::common::{MORGUE, bare_cmd, stdout};

#[test]
fn one_import_over_hostile_inputs_stores_the_good_and_reports_the_bad() {
    let dir = tempfile::tempdir().expect("tempdir");
    let work = dir.path().join("hostile");
    let run = hostile::run(Path::new(MORGUE), &work, Sizes::SMALL).expect("hostile run");
    let outcome = &run.outcome;
    assert!(
        outcome.problems.is_empty(),
        "hostile inputs failed: {:#?}\nstderr:\n{}",
        outcome.problems,
        run.stderr
    );
    // The import itself exited 1 (some inputs failed), and said so for each.
    assert_eq!(run.status.code(), Some(1), "{}", run.stderr);
    for reported in [
        "/binary.txt: ",
        "/deep-array.json:1: ",
        "/mixed.jsonl:2: ",
        "/long-line.jsonl:2: ",
        "/bomb.jsonl.zst",
        "/truncated.jsonl.zst",
        "/loop-a.txt: ",
        "/dirloop/up: ",
        "/missing.txt: ",
    ] {
        assert!(
            run.stderr
                .lines()
                .any(|l| l.starts_with("error: ") && l.contains(reported)),
            "no error line for {reported}:\n{}",
            run.stderr
        );
    }

    // Check the archive it left on our own: clean, and holding exactly the good articles, the
    // judgement calls that were stored and the articles of truncated streams that were.
    let archive = work.join("archive");
    let morgue = |args: &[&str]| {
        let mut cmd = bare_cmd();
        cmd.arg("--archive").arg(&archive).args(args);
        cmd.output().expect("running morgue")
    };
    let verify = morgue(&["verify"]);
    assert_eq!(verify.status.code(), Some(0), "{}", stdout(&verify));
    let ids = morgue(&["list", "--all", "--format", "ids"]);
    assert_eq!(ids.status.code(), Some(0));
    let listed = stdout(&ids).lines().count();
    let either_stored = outcome.either.values().filter(|&&w| w == "stored").count();
    assert_eq!(
        listed,
        run.plan.good.len() + either_stored + outcome.maybe_stored,
        "{} good, judgement calls {:?}, {} of truncated streams",
        run.plan.good.len(),
        outcome.either,
        outcome.maybe_stored
    );
    assert_eq!(listed, run.listed.len());
}
