//! rm, verify, reindex, export, and export read back into a second archive.

use crate::common::{EXAMPLE_ARTICLES, Env, is_full_id, stderr, stdout};

#[test]
fn rm_removes_articles_and_reports_each_missing_one() {
    let env = Env::new();
    env.import_examples();
    let harbor = env.id_of("Dock Workers End Week-Long Strike at Southern Port");
    let market = env.id_of("City Council Votes to Keep the Night Market Open");

    let out = env.run(&["rm", &harbor[..8]]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), format!("removed {harbor}\n"));
    assert_eq!(env.list_json(&[]).len(), EXAMPLE_ARTICLES - 1);
    let out = env.run(&["cat", &harbor]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains(&format!("no article matches {harbor}")),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        env.titles(&["--reporter", "mei lan fong"]),
        ["Tea Growers Struggle as Buyers Cut Prices"]
    );

    // One missing id does not stop the others.
    let out = env.run(&["rm", &harbor, &market]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains(&format!("error: no article matches {harbor}")),
        "{}",
        stderr(&out)
    );
    assert_eq!(stdout(&out), format!("removed {market}\n"));
    assert_eq!(env.list_json(&[]).len(), EXAMPLE_ARTICLES - 2);

    let out = env.run(&["verify"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );

    // Removed bodies can be imported again as new articles.
    let out = env.run(&["-v", "import", "examples/harbor-strike.txt"]);
    assert_eq!(stdout(&out), format!("stored {harbor}\n"));
}

#[test]
fn verify_is_clean_after_an_import_and_reindex_keeps_queries_working() {
    let env = Env::new();
    env.import_examples();
    let out = env.run(&["verify"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "", "no problems, nothing on stdout");
    assert!(
        stderr(&out).starts_with("ok: 7 articles"),
        "{}",
        stderr(&out)
    );

    let before = env.list_json(&["--reporter", "mei lan fong"]);
    let out = env.run(&["reindex"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        stderr(&out),
        format!("reindexed {EXAMPLE_ARTICLES} articles\n")
    );
    assert_eq!(env.list_json(&["--reporter", "mei lan fong"]), before);
    assert_eq!(env.run(&["verify"]).status.code(), Some(0));
}

#[test]
fn export_reads_back_into_an_identical_archive() {
    let first = Env::new();
    first.import_examples();
    // A record with fields filled by a second import, and one removed article.
    first.ok(&[
        "import",
        "--service",
        "City Desk",
        "examples/night-market.txt",
    ]);
    let tea = first.id_of("Tea Growers Struggle as Buyers Cut Prices");
    first.ok(&["rm", &tea]);

    let export = first.ok(&["export"]);
    assert_eq!(export.lines().count(), EXAMPLE_ARTICLES - 1);
    for line in export.lines() {
        let object: serde_json::Value = serde_json::from_str(line).expect("one JSON object a line");
        assert!(is_full_id(object["id"].as_str().unwrap()));
        assert!(object["body"].is_string());
    }
    let file = first.dir.path().join("export.jsonl");
    let out = first
        .cmd()
        .args(["export", "-o"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), export);

    let second = Env::new();
    let out = second.cmd().arg("import").arg(&file).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(second.list_json(&[]), first.list_json(&[]));
    assert_eq!(second.ok(&["export"]), export);
    for article in first.list_json(&[]) {
        let id = article["id"].as_str().unwrap();
        assert_eq!(second.ok(&["cat", id]), first.ok(&["cat", id]));
    }
    // And reading the export back into the first archive changes nothing.
    let out = first.cmd().arg("import").arg(&file).output().unwrap();
    assert!(stderr(&out).contains("stored 0,"), "{}", stderr(&out));
    assert_eq!(first.ok(&["export"]), export);
}

/// A command that only reads leaves the archive without closing it (sled not flushed, its page
/// cache not freed: the process exits; see `Reading` in the CLI): what the next commands see is
/// the archive as it was, its lock free at once, nothing to repair.
#[test]
fn read_commands_leave_the_archive_whole_for_the_next_writer() {
    let env = Env::new();
    env.import_examples();
    let id = env.id_of("City Council Votes to Keep the Night Market Open");
    let before = env.ok(&["list", "--all", "--format", "jsonl"]);
    let reads: [&[&str]; 8] = [
        &["list", "--format", "ids"],
        &["search", "--format", "ids", "market"],
        &["show", &id],
        &["cat", &id],
        &["reporters"],
        &["services"],
        &["stats"],
        &["export"],
    ];
    for round in 0..3 {
        for args in reads {
            let out = env.run(args);
            assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
            // The next command (a writer, which does not wait for the lock) opens at once.
            let line = format!(
                r#"{{"title":"Read round {round} {}","body":"Zorblat written after {} in round {round}.","reporters":["Ann Ode"],"service":"Wire","date":"2024-05-0{}"}}"#,
                args[0],
                args[0],
                round + 1
            );
            let file = env.dir.path().join("one.jsonl");
            std::fs::write(&file, line + "\n").unwrap();
            let out = env.run(&["import", file.to_str().unwrap()]);
            assert_eq!(
                out.status.code(),
                Some(0),
                "after {args:?}: {}",
                stderr(&out)
            );
        }
    }
    let out = env.run(&["verify"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).starts_with(&format!("ok: {} articles", EXAMPLE_ARTICLES + 24)),
        "{}",
        stderr(&out)
    );
    // The examples as they were, and every article written between the reads.
    let after = env.ok(&["list", "--all", "--format", "jsonl"]);
    for line in before.lines() {
        assert!(after.contains(line), "lost: {line}");
    }
    assert_eq!(env.titles(&["--reporter", "ann ode"]).len(), 24);
    assert_eq!(
        env.ok(&["search", "--format", "ids", "zorblat"])
            .lines()
            .count(),
        24
    );
}
