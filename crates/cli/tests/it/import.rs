//! `morgue import`: files, directories, stdin, duplicates, overrides, bad input.

use std::fs;

use serde_json::Value;

use crate::common::{EXAMPLE_ARTICLES, EXAMPLES, Env, is_full_id, stderr, stdout};

#[test]
fn importing_the_examples_stores_every_article() {
    let env = Env::new();
    let out = env.run(&["import", EXAMPLES]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains(&format!("stored {EXAMPLE_ARTICLES},")),
        "{err}"
    );
    assert!(err.contains("failed 0"), "{err}");
    // examples/README.md is not an article file.
    assert!(err.contains("skipped 1 file"), "{err}");
    assert_eq!(env.list_json(&[]).len(), EXAMPLE_ARTICLES);
    // Without -v nothing goes to stdout.
    assert_eq!(stdout(&out), "");
}

#[test]
fn reimporting_finds_only_duplicates_and_succeeds() {
    let env = Env::new();
    env.import_examples();
    let before = env.list_json(&[]);
    let out = env.run(&["import", EXAMPLES]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("stored 0,"), "{err}");
    assert!(
        err.contains(&format!("duplicates {EXAMPLE_ARTICLES}")),
        "{err}"
    );
    assert_eq!(
        env.list_json(&[]),
        before,
        "a re-import changed the archive"
    );
}

#[test]
fn verbose_import_prints_each_stored_id_on_stdout() {
    let env = Env::new();
    let out = env.run(&[
        "-v",
        "import",
        "examples/harbor-strike.txt",
        "examples/wire.jsonl",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let printed: Vec<String> = stdout(&out)
        .lines()
        .map(|l| {
            l.strip_prefix("stored ")
                .expect("a `stored <id>` line")
                .to_owned()
        })
        .collect();
    assert_eq!(printed.len(), 3);
    assert!(printed.iter().all(|id| is_full_id(id)), "{printed:?}");
    let mut listed: Vec<String> = env
        .list_json(&[])
        .iter()
        .map(|a| a["id"].as_str().unwrap().to_owned())
        .collect();
    let mut printed_sorted = printed.clone();
    listed.sort();
    printed_sorted.sort();
    assert_eq!(printed_sorted, listed);

    // Nothing new the second time: no `stored` lines, and the duplicates are named on stderr.
    let again = env.run(&["-v", "import", "examples/harbor-strike.txt"]);
    assert_eq!(again.status.code(), Some(0));
    assert_eq!(stdout(&again), "");
    assert!(
        stderr(&again).contains("duplicate of"),
        "{}",
        stderr(&again)
    );
}

#[test]
fn a_duplicate_fills_empty_fields_only() {
    let env = Env::new();
    env.ok(&["import", "examples/night-market.txt"]);
    let title = "City Council Votes to Keep the Night Market Open";
    assert_eq!(env.list_json(&[])[0]["services"], serde_json::json!([]));

    let out = env.run(&[
        "import",
        "--service",
        "City Desk",
        "examples/night-market.txt",
    ]);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        stderr(&out).contains("duplicates 1 (1 with metadata filled)"),
        "{}",
        stderr(&out)
    );
    assert_eq!(env.titles(&["--service", "city desk"]), [title]);

    // A non-empty field stays unless --overwrite.
    env.ok(&["import", "--service", "Metro", "examples/night-market.txt"]);
    assert_eq!(env.titles(&["--service", "metro"]), Vec::<String>::new());
    env.ok(&[
        "import",
        "--overwrite",
        "--service",
        "Metro",
        "examples/night-market.txt",
    ]);
    assert_eq!(env.titles(&["--service", "metro"]), [title]);
    assert_eq!(
        env.titles(&["--service", "city desk"]),
        Vec::<String>::new()
    );
    assert_eq!(env.list_json(&[]).len(), 1);
}

#[test]
fn overrides_set_service_reporter_and_date() {
    let env = Env::new();
    env.ok(&[
        "import",
        "--service",
        "Metro",
        "--reporter",
        "Ilse Brandt",
        "--date",
        "2021-05-06",
        "examples/night-market.txt",
    ]);
    let article = &env.list_json(&[])[0];
    assert_eq!(article["services"], serde_json::json!(["Metro"]));
    assert_eq!(article["reporters"], serde_json::json!(["Ilse Brandt"]));
    assert_eq!(article["date"], "2021-05-06");
    assert_eq!(article["date_origin"], "given");
}

#[test]
fn bad_date_override_is_a_usage_error() {
    let env = Env::new();
    let out = env.run(&["import", "--date", "2021-02-30", EXAMPLES]);
    assert_eq!(out.status.code(), Some(2));
    assert!(!env.archive.exists(), "a usage error created the archive");
}

#[test]
fn standard_input_is_read_for_a_dash() {
    let env = Env::new();
    let text =
        "Stdin Headline\n\nA short story read from standard input.\n\nReported by Ilse Brandt.\n";
    let out = env
        .cmd()
        .args(["import", "--format", "text", "-"])
        .write_stdin(text)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let articles = env.list_json(&[]);
    assert_eq!(articles.len(), 1);
    assert_eq!(articles[0]["title"], "Stdin Headline");
    assert_eq!(articles[0]["origin"], "-");
    let id = articles[0]["id"].as_str().unwrap();
    assert_eq!(
        env.ok(&["cat", id]),
        "A short story read from standard input.\n\nReported by Ilse Brandt."
    );
}

#[test]
fn bad_inputs_fail_one_by_one_and_the_good_ones_are_stored() {
    let env = Env::new();
    let input = env.dir.path().join("input");
    fs::create_dir(&input).unwrap();
    fs::write(input.join("a-good.txt"), "Good Headline\n\nA good body.\n").unwrap();
    fs::write(input.join("b-empty.txt"), "").unwrap();
    fs::write(
        input.join("c-invalid-utf8.txt"),
        b"Headline\n\nbad \xff\xfe bytes\n",
    )
    .unwrap();
    fs::write(
        input.join("d-mixed.jsonl"),
        concat!(
            "{\"title\": \"First Line\", \"body\": \"The first good line.\"}\n",
            "{\"title\": \"Broken\", \"body\": \n",
            "{\"title\": \"Third Line\", \"body\": \"The third line is good too.\"}\n",
        ),
    )
    .unwrap();
    let out = env.cmd().arg("import").arg(&input).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = env.filter(&stderr(&out));
    assert!(err.contains("[TMP]/input/d-mixed.jsonl:2: "), "{err}");
    assert!(err.contains("[TMP]/input/b-empty.txt: "), "{err}");
    assert!(err.contains("[TMP]/input/c-invalid-utf8.txt: "), "{err}");
    assert!(err.contains("stored 3,"), "{err}");
    assert!(err.contains("failed 3"), "{err}");
    let mut titles = env.titles(&[]);
    titles.sort();
    assert_eq!(titles, ["First Line", "Good Headline", "Third Line"]);
    insta::assert_snapshot!("import_bad_inputs_stderr", err);
}

#[test]
fn a_missing_path_fails_but_the_others_are_imported() {
    let env = Env::new();
    let out = env.run(&[
        "import",
        "examples/no-such-file.txt",
        "examples/tea-prices.txt",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("examples/no-such-file.txt: "),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        env.titles(&[]),
        ["Tea Growers Struggle as Buyers Cut Prices"]
    );
}

#[test]
fn directories_skip_hidden_files_and_note_other_types() {
    let env = Env::new();
    let input = env.dir.path().join("input");
    fs::create_dir_all(input.join("sub")).unwrap();
    fs::create_dir_all(input.join(".git")).unwrap();
    fs::write(input.join(".hidden.txt"), "Hidden\n\nNot to be read.\n").unwrap();
    fs::write(
        input.join(".git").join("x.txt"),
        "Git\n\nNot to be read either.\n",
    )
    .unwrap();
    fs::write(input.join("notes.md"), "# notes\n").unwrap();
    fs::write(
        input.join("sub").join("story.txt"),
        "Nested Story\n\nFound in a subdirectory.\n",
    )
    .unwrap();
    let out = env
        .cmd()
        .args(["-v", "import"])
        .arg(&input)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let err = env.filter(&stderr(&out));
    assert!(err.contains("skipped [TMP]/input/notes.md"), "{err}");
    assert!(err.contains("skipped 1 file"), "{err}");
    assert!(!err.contains("hidden"), "{err}");
    assert_eq!(env.titles(&[]), ["Nested Story"]);
}

#[cfg(unix)]
#[test]
fn a_symlink_loop_is_a_failure_not_an_abort() {
    let env = Env::new();
    let input = env.dir.path().join("input");
    fs::create_dir(&input).unwrap();
    fs::write(input.join("story.txt"), "Loop Story\n\nStill imported.\n").unwrap();
    std::os::unix::fs::symlink(&input, input.join("loop")).unwrap();
    std::os::unix::fs::symlink("self.txt", input.join("self.txt")).unwrap();
    let out = env.cmd().arg("import").arg(&input).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = env.filter(&stderr(&out));
    assert!(err.contains("[TMP]/input/loop"), "{err}");
    assert!(err.contains("[TMP]/input/self.txt"), "{err}");
    assert_eq!(env.titles(&[]), ["Loop Story"]);
}

#[test]
fn the_summary_can_be_json() {
    let env = Env::new();
    let out = env.run(&[
        "import",
        "--summary",
        "json",
        EXAMPLES,
        "examples/missing.txt",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let summary: Value = serde_json::from_slice(&out.stdout).expect("one JSON object on stdout");
    assert_eq!(summary["stored"], EXAMPLE_ARTICLES);
    assert_eq!(summary["duplicates"], 0);
    assert_eq!(summary["failed"].as_array().unwrap().len(), 1);
    assert_eq!(summary["failed"][0]["path"], "examples/missing.txt");
    assert_eq!(
        summary["skipped"],
        serde_json::json!(["examples/README.md"])
    );
}

#[test]
fn quiet_import_prints_nothing_when_all_is_well() {
    let env = Env::new();
    let out = env.run(&["-q", "import", EXAMPLES]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stderr(&out), "");
    assert_eq!(stdout(&out), "");
}

#[test]
fn a_small_batch_stores_the_same_and_zero_is_a_usage_error() {
    let whole = Env::new();
    whole.import_examples();
    let env = Env::new();
    let out = env.run(&["import", "--batch", "2", EXAMPLES]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!("stored {EXAMPLE_ARTICLES},")),
        "{}",
        stderr(&out)
    );
    let ids = |e: &Env| {
        let mut ids: Vec<String> = e
            .list_json(&[])
            .iter()
            .map(|a| a["id"].as_str().unwrap().to_string())
            .collect();
        ids.sort();
        ids
    };
    assert_eq!(ids(&env), ids(&whole));
    let bad = Env::new();
    for n in ["0", "1000001", "lots"] {
        let out = bad.run(&["import", "--batch", n, EXAMPLES]);
        assert_eq!(out.status.code(), Some(2), "--batch {n}");
        assert!(stderr(&out).contains("--batch"), "{}", stderr(&out));
    }
    assert!(!bad.archive.exists(), "a usage error created the archive");
}
