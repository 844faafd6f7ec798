//! Hostile input: one `morgue import` over a directory of everything an importer can be handed
//! (binary bytes, invalid UTF-8, UTF-16, empty files, JSON of the wrong shape or nested 100,000
//! deep, bad JSON Lines between good ones, a line above the 64 MiB cap, truncated and
//! bomb-sized .zst, unreadable files, symlink loops, a non-UTF-8 name, a FIFO) must store every
//! good article byte for byte, report every bad input with its path[:line] and a reason, exit
//! 1, and leave an archive that verifies clean.
//!
//! The inputs and the check come from `morgue-torture hostile` (crates/torture), which runs the
//! import, compares each input's fate with what it must be, and prints the peak RSS; this test
//! runs it at test sizes (a 70 MiB line, 160 MiB bombs) and checks the archive it leaves on its
//! own. The full sizes (a 200 MB line, 8 GiB bombs, peak RSS under 512 MiB asserted) run with
//! `cargo run --release -p morgue-torture -- hostile`.

use std::process::Command;

use crate::common::{Env, bare_cmd, stdout};

/// `morgue-torture` (built by `cargo test --workspace`: crates/torture has a test of its own).
pub fn torture() -> Command {
    let bin = assert_cmd::cargo::cargo_bin("morgue-torture");
    assert!(
        bin.is_file(),
        "{} is not built: run `cargo build -p morgue-torture` (cargo test --workspace does)",
        bin.display()
    );
    let mut cmd = Command::new(bin);
    cmd.arg("--morgue")
        .arg(assert_cmd::cargo::cargo_bin("morgue"));
    cmd
}

/// The number after `label` in `text` (e.g. `"42 good articles"` with label `" good"`).
fn number_before(text: &str, label: &str) -> Option<usize> {
    let at = text.find(label)?;
    let digits: String = text[..at]
        .chars()
        .rev()
        .take_while(char::is_ascii_digit)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    digits.parse().ok()
}

#[test]
fn one_import_over_hostile_inputs_stores_the_good_and_reports_the_bad() {
    let env = Env::new();
    let work = env.dir.path().join("hostile");
    let out = torture()
        .args(["hostile", "--small", "--work-dir"])
        .arg(&work)
        .output()
        .expect("running morgue-torture");
    let report = stdout(&out);
    assert_eq!(
        out.status.code(),
        Some(0),
        "hostile inputs failed:\n{report}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(report.contains("hostile inputs passed"), "{report}");
    // The import itself exited 1 (some inputs failed), and said so for each.
    assert!(report.contains("import: exit status: 1"), "{report}");
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
            report
                .lines()
                .any(|l| l.trim_start().starts_with("error: ") && l.contains(reported)),
            "no error line for {reported}:\n{report}"
        );
    }

    // Check the archive it left on our own: clean, and holding at least the good articles.
    let good = number_before(&report, " good articles").expect("good count in the report");
    let archive = work.join("archive");
    let run = |args: &[&str]| {
        let mut cmd = bare_cmd();
        cmd.arg("--archive").arg(&archive).args(args);
        cmd.output().expect("running morgue")
    };
    let verify = run(&["verify"]);
    assert_eq!(verify.status.code(), Some(0), "{}", stdout(&verify));
    let ids = run(&["list", "--all", "--format", "ids"]);
    assert_eq!(ids.status.code(), Some(0));
    let listed = stdout(&ids).lines().count();
    assert!(
        listed >= good,
        "{listed} articles listed, {good} good inputs"
    );
}
