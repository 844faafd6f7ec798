//! The command-line defects of issue 14, end to end: each test failed before its fix.

use std::io::Write as _;
use std::process::Stdio;

use serde_json::Value;

use crate::common::{EXAMPLE_ARTICLES, Env, bare_cmd, is_full_id, stderr, stdout};

/// `count` JSON lines, one article each, titled `<tag> <n>`.
fn jsonl(tag: &str, count: usize) -> String {
    (0..count)
        .map(|n| {
            serde_json::json!({
                "title": format!("{tag} {n}"),
                "body": format!("{tag} body {n}. {}", "Words of a story. ".repeat(5)),
            })
            .to_string()
                + "\n"
        })
        .collect()
}

/// Imports `count` articles titled `<tag> <n>` from a file in the test's directory.
fn import_jsonl(env: &Env, tag: &str, count: usize) {
    let input = env.dir.path().join(format!("{tag}.jsonl"));
    std::fs::write(&input, jsonl(tag, count)).unwrap();
    env.ok(&["-q", "import", input.to_str().unwrap()]);
}

// Item 4: overrides are trimmed and collapsed; an empty one is a usage error.

#[test]
fn import_overrides_are_trimmed_and_collapsed() {
    let env = Env::new();
    env.ok(&[
        "import",
        "--service",
        "  BBC   Tech ",
        "--reporter",
        " Mei\tLan  Fong ",
        "examples/night-market.txt",
    ]);
    let articles = env.list_json(&[]);
    assert_eq!(articles[0]["services"], serde_json::json!(["BBC Tech"]));
    assert_eq!(
        articles[0]["reporters"],
        serde_json::json!(["Mei Lan Fong"])
    );
}

#[test]
fn an_empty_override_is_a_usage_error_and_stores_nothing() {
    for option in ["--service", "--reporter"] {
        for value in ["", "   "] {
            let env = Env::new();
            let out = env.run(&["import", option, value, "examples/night-market.txt"]);
            assert_eq!(
                out.status.code(),
                Some(2),
                "{option} {value:?}: {}",
                stderr(&out)
            );
            assert!(stderr(&out).contains(option), "{}", stderr(&out));
            assert!(
                !env.archive.exists(),
                "{option} {value:?} created an archive"
            );
        }
    }
}

// Item 5: the machine formats print every match unless --limit is given.

#[test]
fn machine_formats_print_every_match_and_the_table_keeps_its_page() {
    let env = Env::new();
    import_jsonl(&env, "Story", 60);
    let ids = env.ok(&["list", "--format", "ids"]);
    assert_eq!(ids.lines().count(), 60);
    let jsonl = env.ok(&["list", "--format", "jsonl"]);
    assert_eq!(jsonl.lines().count(), 60);
    let json: Value = serde_json::from_str(&env.ok(&["list", "--format", "json"])).unwrap();
    assert_eq!(json.as_array().map(Vec::len), Some(60));
    let csv = env.ok(&["list", "--format", "csv"]);
    assert_eq!(csv.lines().count(), 61, "a header and 60 rows");

    // --limit still limits them, without a note.
    let out = env.run(&["list", "--format", "ids", "--limit", "7"]);
    assert_eq!(stdout(&out).lines().count(), 7);
    assert_eq!(stderr(&out), "");

    // The table keeps its page of 50 and says so.
    let out = env.run(&["list"]);
    assert_eq!(stdout(&out).lines().count(), 51, "a header and 50 rows");
    assert!(
        stderr(&out).contains("showing the first 50"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn limit_zero_is_a_usage_error() {
    let env = Env::new();
    env.import_examples();
    for format in ["table", "ids"] {
        let out = env.run(&["list", "--limit", "0", "--format", format]);
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        assert!(stderr(&out).contains("--all"), "{}", stderr(&out));
        assert!(!stderr(&out).contains("no articles match"));
    }
}

// Item 6: export rescues every healthy article.

#[test]
fn export_writes_every_healthy_article_and_names_each_damaged_one() {
    let env = Env::new();
    import_jsonl(&env, "Kept", 10);
    let damaged = [env.id_of("Kept 3"), env.id_of("Kept 7")];
    for id in &damaged {
        let id: morgue_store::BlobId = id.parse().expect("an article id");
        morgue_torture::corrupt::flip_body_byte(&env.archive, &id).expect("flip-body");
    }

    let check = |lines: &str, err: &str| {
        let exported: Vec<Value> = lines
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(exported.len(), 8, "{err}");
        for id in &damaged {
            assert!(exported.iter().all(|a| a["id"] != id.as_str()));
            assert!(err.contains(id.as_str()), "{id} not named: {err}");
        }
        assert!(!err.contains("writing"), "blames writing: {err}");
    };

    // To standard output.
    let out = env.run(&["export"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    check(&stdout(&out), &stderr(&out));

    // To a file: written all the same, without its temporary name left behind.
    let file = env.dir.path().join("rescued.jsonl");
    let out = env.run(&["export", "-o", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    check(&std::fs::read_to_string(&file).unwrap(), &stderr(&out));
    assert!(
        stderr(&out).contains("exported 8 articles"),
        "{}",
        stderr(&out)
    );
    assert!(!env.dir.path().join("rescued.jsonl.partial").exists());
}

// An export to a FIFO (or a device such as /dev/null) writes into it, and leaves it what it was:
// writing beside it and renaming would replace it with a regular file.

#[test]
fn export_to_a_fifo_writes_into_it_and_leaves_it_a_fifo() {
    use std::os::unix::fs::FileTypeExt as _;
    use std::time::{Duration, Instant};

    let env = Env::new();
    env.import_examples();
    let fifo = env.dir.path().join("pipe");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("running mkfifo");
    assert!(made.success(), "mkfifo failed");

    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read_to_string(fifo).expect("reading the FIFO"))
    };
    let out = env.run(&["export", "-o", fifo.to_str().unwrap()]);
    // Should the export never open the FIFO, the reader waits in `open`: open the writing end
    // once, so that it sees the end of the stream and the test fails instead of hanging.
    let deadline = Instant::now() + Duration::from_secs(10);
    while !reader.is_finished() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    if !reader.is_finished() {
        drop(std::fs::OpenOptions::new().write(true).open(&fifo));
    }
    let read = reader.join().expect("the reader thread");

    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(read, env.ok(&["export"]));
    assert_eq!(read.lines().count(), EXAMPLE_ARTICLES);
    let kind = std::fs::symlink_metadata(&fifo).unwrap().file_type();
    assert!(kind.is_fifo(), "the FIFO became {kind:?}");
    assert!(!env.dir.path().join("pipe.partial").exists());
}

// Item 7: `-o -` is standard output.

#[test]
fn export_to_dash_writes_standard_output() {
    let env = Env::new();
    env.import_examples();
    let out = env.run(&["export", "-o", "-"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out).lines().count(), EXAMPLE_ARTICLES);
    assert_eq!(stdout(&out), env.ok(&["export"]));
    assert!(!crate::common::workspace_root().join("-").exists());
}

// Item 8: CSV lists are JSON arrays, and extra is a column.

#[test]
fn csv_lists_are_json_arrays_and_extra_is_included() {
    let env = Env::new();
    let input = env.dir.path().join("semi.jsonl");
    std::fs::write(
        &input,
        serde_json::json!({
            "title": "Semicolons",
            "body": "A body about names with semicolons in them.",
            "reporters": ["Doe; Jane", "Roe"],
            "desk": "coast",
        })
        .to_string()
            + "\n",
    )
    .unwrap();
    env.ok(&["import", input.to_str().unwrap()]);
    let csv = env.ok(&["list", "--format", "csv"]);
    let mut lines = csv.lines();
    // The columns docs/cli.md names, in its order (written out here on purpose).
    assert_eq!(
        lines.next().unwrap(),
        "id,date,date_origin,title,reporters,translators,editors,writers,services,outlet,url,\
         image,caption,tags,source_id,origin,imported_at,extra"
    );
    let row = lines.next().unwrap();
    assert!(
        row.contains(r#""[""Doe; Jane"",""Roe""]""#),
        "reporters not a JSON array: {row}"
    );
    assert!(row.contains(r#""{""desk"":""coast""}""#), "no extra: {row}");
}

// Item 12: a mistyped path creates no archive.

#[test]
fn a_mistyped_path_creates_no_archive() {
    let env = Env::new();
    let out = env.run(&["import", "/does-not-exist"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("/does-not-exist"), "{}", stderr(&out));
    assert!(!env.archive.exists(), "an archive was created");

    // Standard input has nothing to check.
    let mut child = env
        .std_cmd()
        .args(["-q", "import", "--format", "text", "-"])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"Piped\n\nA story read from standard input.\n")
        .unwrap();
    assert!(child.wait().unwrap().success());
    assert_eq!(env.list_json(&[]).len(), 1);
}

// Item 13: one man page per command.

#[test]
fn man_writes_a_page_for_every_command_morgue_1_names() {
    let env = Env::new();
    let dir = env.dir.path().join("man");
    let out = bare_cmd()
        .args(["man", "--dir"])
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let top = std::fs::read_to_string(dir.join("morgue.1")).unwrap();
    // Every page morgue(1) refers to exists.
    let mut referred = 0;
    for part in top.split("morgue\\-").skip(1) {
        let Some((name, _)) = part.split_once("(1)") else {
            continue;
        };
        let page = dir.join(format!("morgue-{}.1", name.replace('\\', "")));
        assert!(
            page.is_file(),
            "morgue(1) names {} which is missing",
            page.display()
        );
        referred += 1;
    }
    assert!(referred >= 10, "morgue(1) refers to {referred} pages");
    let import = std::fs::read_to_string(dir.join("morgue-import.1")).unwrap();
    assert!(import.contains("\\-\\-reporter"), "{import}");

    let out = bare_cmd().args(["man", "import"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stdout(&out), import);

    let out = bare_cmd().args(["man", "nonesuch"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("nonesuch"), "{}", stderr(&out));
}

// Item 15: messages.

#[test]
fn optimize_says_what_disk_space_it_gave_back() {
    let env = Env::new();
    import_jsonl(&env, "Story", 3);
    let out = env.run(&["optimize"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let line = stderr(&out);
    assert!(line.contains("disk space"), "{line}");
    assert!(!line.contains("0.0%)"), "a signed zero: {line}");
    let again = stderr(&env.run(&["optimize"]));
    assert!(again.contains("0 bodies recompressed"), "{again}");

    let out = env.run(&["optimize", "--summary", "json"]);
    let summary: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert!(
        summary["disk_bytes_before"].as_u64().unwrap() > 0,
        "{summary}"
    );
    assert!(
        summary["disk_bytes_after"].as_u64().unwrap() > 0,
        "{summary}"
    );
}

#[test]
fn one_is_singular() {
    let env = Env::new();
    env.ok(&["import", "examples/night-market.txt"]);
    let out = env.run(&["verify"]);
    assert!(
        stderr(&out).starts_with("ok: 1 article and "),
        "{}",
        stderr(&out)
    );
    let out = env.run(&["reindex"]);
    assert_eq!(stderr(&out), "reindexed 1 article\n");
    let file = env.dir.path().join("one.jsonl");
    let out = env.run(&["export", "-o", file.to_str().unwrap()]);
    assert_eq!(stderr(&out), "exported 1 article\n");
}

#[test]
fn a_wait_that_timed_out_says_it_waited() {
    let env = Env::new();
    let mut holder = env
        .std_cmd()
        .args(["-q", "import", "--format", "text", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let mut err = String::new();
    for _ in 0..1200 {
        err = stderr(&env.run(&["--wait", "0.3", "list"]));
        if !err.contains("no archive at") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(
        err.contains("is in use by another morgue process (process ")
            && err.contains("): gave up after waiting 0.3 seconds"),
        "{err}"
    );
    holder
        .stdin
        .take()
        .unwrap()
        .write_all(b"Held Story\n\nThe list gave up waiting.\n")
        .unwrap();
    assert!(holder.wait().unwrap().success());
}

#[cfg(target_os = "linux")]
#[test]
fn an_empty_morgue_archive_counts_as_unset() {
    // The empty variable falls back to the data directory under HOME, as no variable does.
    let env = Env::new();
    let home = env.dir.path().join("home");
    std::fs::create_dir(&home).unwrap();
    let out = bare_cmd()
        .env("MORGUE_ARCHIVE", "")
        .env("HOME", &home)
        .args(["import", "examples/night-market.txt"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(home.join(".local/share/morgue").is_dir());
}

#[test]
fn a_malformed_id_is_a_usage_error() {
    let env = Env::new();
    env.import_examples();
    for args in [&["cat", "xyz1"][..], &["show", "abc"], &["rm", "not-hex"]] {
        let out = env.run(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains("hex"), "{}", stderr(&out));
    }
    // A well-formed id that names nothing is still a lookup failure.
    let out = env.run(&["cat", "0000000000"]);
    assert_eq!(out.status.code(), Some(1));
    // Upper-case hex is well formed.
    let ids = env.ok(&["list", "--format", "ids", "--limit", "1"]);
    assert!(is_full_id(ids.trim()), "{ids}");
    env.ok(&["cat", &ids[..12].to_uppercase()]);
}
