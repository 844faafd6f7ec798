//! The CLI through a running `morgue serve` (the real binary on 127.0.0.1, port 0): every read
//! command prints, byte for byte, what it prints with the server stopped; `import` and `rm` go
//! through the server; a stale address file is ignored; the token comes from MORGUE_TOKEN.

use std::process::Output;

use crate::common::{Env, stderr, stdout};
use crate::serve::Server;

/// An archive of the examples and 1,000 small generated articles: more than one page of the
/// API (1,000), and (the ids being fixed by the bodies) two ids that share their first 4 hex
/// characters.
fn env_with_many() -> Env {
    let env = Env::new();
    env.import_examples();
    let mut lines = String::new();
    for i in 0..1000 {
        let object = serde_json::json!({
            "title": format!("Harbor note {i}"),
            "body": format!("The harbor board met for the {i}th time; the ferry [{i}] ran late."),
            "reporters": [format!("Reporter {}", i % 7)],
            "services": [if i % 3 == 0 { "Coastwire" } else { "Inland" }],
            "date": format!("2019-{:02}-{:02}", 1 + i % 12, 1 + i % 28),
        });
        lines.push_str(&object.to_string());
        lines.push('\n');
    }
    let file = env.dir.path().join("many.jsonl");
    std::fs::write(&file, lines).unwrap();
    env.ok(&["import", file.to_str().unwrap()]);
    env
}

/// Two ids of the archive that share their first 4 hex characters: that prefix.
fn ambiguous_prefix(env: &Env) -> String {
    let ids = env.ok(&["list", "--all", "--format", "ids"]);
    let mut prefixes: Vec<&str> = ids.lines().map(|id| &id[..4]).collect();
    prefixes.sort_unstable();
    prefixes
        .windows(2)
        .find(|w| w[0] == w[1])
        .map(|w| w[0].to_owned())
        .expect("1,007 ids share a 4-character prefix")
}

/// stdout, stderr and exit code; "disk bytes" lines left out (the size of the archive directory
/// changes while a server holds it open).
fn outcome(out: &Output) -> (String, String, Option<i32>) {
    let keep = |text: String| {
        text.lines()
            .filter(|l| !l.contains("disk bytes") && !l.contains("\"disk_bytes\""))
            .flat_map(|l| [l, "\n"])
            .collect::<String>()
    };
    (keep(stdout(out)), keep(stderr(out)), out.status.code())
}

#[test]
fn every_read_command_prints_through_a_server_what_it_prints_without() {
    let env = env_with_many();
    let first = env.ok(&["list", "--format", "ids", "--limit", "1"]);
    let id = first.trim().to_owned();
    let short = id[..8].to_owned();
    let ambiguous = ambiguous_prefix(&env);
    let mut commands: Vec<Vec<String>> = Vec::new();
    let words = |line: &str| line.split(' ').map(str::to_owned).collect::<Vec<_>>();
    for format in ["table", "json", "jsonl", "csv", "ids"] {
        for line in [
            "list --format F",
            "list --format F --all",
            "list --format F --limit 3",
            "list --format F --limit 1200",
            "list --format F --service coastwire --since 2019-03 --until 2019-06",
            "list --format F --reporter Ana_Ruiz",
            "list --format F --since 2031",
            "search harbor --format F",
            "search harbor --format F --all",
            "search harbor --format F --all --sort date",
            "search harbor --format F --limit 7 --sort date",
            "search ferry --format F --service Inland --since 2019-05",
            "search nothingmatchesthis --format F",
        ] {
            let mut args = words(&line.replace('F', format));
            for arg in &mut args {
                *arg = arg.replace('_', " ");
            }
            commands.push(args);
        }
    }
    for line in [
        "stats",
        "stats --format json",
        "reporters",
        "reporters --format json",
        "services --format csv",
        "services --format json",
        "reporters --format csv",
    ] {
        commands.push(words(line));
    }
    for line in [
        "show ID",
        "show SHORT --format json",
        "cat ID",
        "cat SHORT",
        "show AMBIG",
        "cat AMBIG",
        "show 0000000000",
        "cat 0000000000",
    ] {
        let line = line
            .replace("SHORT", &short)
            .replace("AMBIG", &ambiguous)
            .replace("ID", &id);
        commands.push(words(&line));
    }
    let run_all = || -> Vec<(String, String, Option<i32>)> {
        commands
            .iter()
            .map(|args| {
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                outcome(&env.run(&args))
            })
            .collect()
    };
    let server = Server::start(&env, &[]);
    let through = run_all();
    assert_eq!(server.stop(), Some(0));
    assert!(!env.archive.join("SERVE").exists());
    let without = run_all();
    for ((args, through), without) in commands.iter().zip(&through).zip(&without) {
        assert_eq!(through, without, "morgue {}", args.join(" "));
    }
    // The comparison is of something: output, failures, and the ambiguity with its candidates.
    let ambiguous_at = commands
        .iter()
        .position(|a| a[0] == "show" && a[1] == ambiguous)
        .unwrap();
    let (_, err, code) = &without[ambiguous_at];
    assert_eq!(*code, Some(1));
    assert!(err.contains("is ambiguous; it matches:"), "{err}");
    assert!(through.iter().filter(|o| o.2 == Some(0)).count() > 60);
}

#[test]
fn import_and_rm_go_through_the_server_and_print_as_without_one() {
    let with_server = Env::new();
    let without = Env::new();
    with_server.import_examples();
    without.import_examples();
    let file = with_server.dir.path().join("new.jsonl");
    std::fs::write(
        &file,
        concat!(
            "{\"title\":\"Dredging Starts\",\"body\":\"The dredgers came at dawn.\",\"reporters\":[\"Ana Ruiz\"]}\n",
            "{\"title\":\"Broken\"\n",
            "{\"title\":\"Dredging Starts Again\",\"body\":\"The dredgers came at dawn.\",\"url\":\"https://example.org/d\"}\n",
            "{\"title\":\"Pier Closed\",\"body\":\"The pier is closed for repairs.\"}\n",
        ),
    )
    .unwrap();
    let path = file.to_str().unwrap();
    let missing = with_server.dir.path().join("missing.jsonl");
    let missing = missing.to_str().unwrap();
    let import = ["import", "-v", path, missing];
    let server = Server::start(&with_server, &[]);
    let through = with_server.run(&import);
    // Visible through the server at once, and printed as without it.
    let listed = with_server.ok(&["list", "--format", "ids", "--all"]);
    assert_eq!(listed.lines().count(), 9);
    let local = without.run(&import);
    assert_eq!(outcome(&through), outcome(&local));
    assert_eq!(through.status.code(), Some(1));
    assert_eq!(stdout(&through).matches("stored ").count(), 2);
    assert!(
        stderr(&through).contains(":3: duplicate of "),
        "{}",
        stderr(&through)
    );
    assert!(stderr(&through).contains(&format!("{path}:2: ")));

    // The summary as JSON, from standard input.
    let jsonl = "{\"title\":\"Tide Tables\",\"body\":\"High tide at noon.\"}\n";
    let run_stdin = |env: &Env| {
        env.cmd()
            .args(["import", "--summary", "json", "--format", "jsonl", "-"])
            .write_stdin(jsonl)
            .output()
            .unwrap()
    };
    assert_eq!(
        outcome(&run_stdin(&with_server)),
        outcome(&run_stdin(&without))
    );

    let pier = with_server.id_of("Pier Closed");
    let rm = ["rm", &pier[..10], "0000000000"];
    let through = with_server.run(&rm);
    assert_eq!(outcome(&through), outcome(&without.run(&rm)));
    assert_eq!(stdout(&through), format!("removed {pier}\n"));
    assert!(
        !with_server
            .ok(&["list", "--all", "--format", "ids"])
            .contains(&pier)
    );
    assert_eq!(server.stop(), Some(0));
    // What the server stored and removed is in the archive.
    let titles = with_server.titles(&[]);
    assert!(titles.contains(&"Tide Tables".to_owned()), "{titles:?}");
    assert!(!titles.contains(&"Pier Closed".to_owned()), "{titles:?}");
    assert_eq!(titles, without.titles(&[]));
}

#[test]
fn a_stale_address_file_is_ignored() {
    let env = Env::new();
    env.import_examples();
    // The process the file names is gone.
    let mut gone = std::process::Command::new("true").spawn().unwrap();
    let pid = gone.id();
    gone.wait().unwrap();
    std::fs::write(
        env.archive.join("SERVE"),
        format!("http://127.0.0.1:9\n{pid}\n"),
    )
    .unwrap();
    let out = env.cmd().args(["--wait", "0", "list"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out).lines().count(), 8);
    // A live process (this test) but nothing listening at the address.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    std::fs::write(
        env.archive.join("SERVE"),
        format!("http://127.0.0.1:{port}\n{}\n", std::process::id()),
    )
    .unwrap();
    let out = env.cmd().args(["--wait", "0", "stats"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).starts_with("articles       7\n"));
}

#[test]
fn a_token_protected_server_takes_the_token_from_morgue_token() {
    let env = Env::new();
    env.import_examples();
    let server = Server::start(&env, &["--token", "s3cret"]);
    let id = env.id_of("Ferry Service Resumes After Storm");
    // Reads need no token.
    assert!(env.ok(&["cat", &id]).len() > 100);
    let out = env.run(&["rm", &id]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains(&format!("`morgue serve` at {}", server.url("")))
            && stderr(&out).contains("set MORGUE_TOKEN"),
        "{}",
        stderr(&out)
    );
    let out = env
        .cmd()
        .env("MORGUE_TOKEN", "wrong")
        .args(["rm", &id])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let out = env
        .cmd()
        .env("MORGUE_TOKEN", "s3cret")
        .args(["rm", &id])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), format!("removed {id}\n"));
    assert_eq!(server.stop(), Some(0));
    assert!(
        !env.titles(&[])
            .contains(&"Ferry Service Resumes After Storm".to_owned())
    );
}

#[test]
fn commands_that_need_the_archive_to_themselves_name_the_server() {
    let env = Env::new();
    env.import_examples();
    let server = Server::start(&env, &[]);
    let pid = server.pid().to_string();
    for command in [
        &["verify"][..],
        &["optimize"],
        &["reindex"],
        &["export", "-o", "-"],
    ] {
        let out = env.run(command);
        assert_eq!(out.status.code(), Some(1), "{command:?}");
        let err = stderr(&out);
        assert!(
            err.contains(&server.url("")) && err.contains(&format!("process {pid}")),
            "{command:?}: {err}"
        );
        assert!(err.contains("stop the server"), "{err}");
        assert!(stdout(&out).is_empty());
    }
    // The server commits imports as it was started: a bound on the batch is refused.
    let before = env.list_json(&[]).len();
    let out = env.run(&["import", "--batch", "10", "examples/wire.jsonl"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("--batch"), "{}", stderr(&out));
    assert_eq!(server.stop(), Some(0));
    assert_eq!(env.list_json(&[]).len(), before);
    env.ok(&["verify"]);
}

#[test]
fn a_streamed_body_past_the_limit_gets_413_with_what_was_stored() {
    let env = Env::new();
    env.import_examples();
    let server = Server::start(&env, &["--max-body", "2000"]);
    let mut lines = String::new();
    for i in 0..200 {
        let note = serde_json::json!({
            "title": format!("Note {i}"),
            "body": format!("Streamed note number {i}."),
        });
        lines.push_str(&note.to_string());
        lines.push('\n');
    }
    // Sent chunked (no length declared): the server finds out while it reads.
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut reader = std::io::Cursor::new(lines.into_bytes());
    let mut response = agent
        .post(&server.url("/api/import?format=jsonl"))
        .send(ureq::SendBody::from_reader(&mut reader))
        .unwrap();
    assert_eq!(response.status().as_u16(), 413);
    let answer: serde_json::Value =
        serde_json::from_str(&response.body_mut().read_to_string().unwrap()).unwrap();
    assert!(answer["error"].as_str().unwrap().contains("2000 bytes"));
    let stored = answer["summary"]["stored"].as_u64().unwrap();
    assert!(stored < 200, "{answer}");
    // The server goes on, and holds what it said it stored.
    let listed = env.ok(&["list", "--all", "--format", "ids"]);
    assert_eq!(listed.lines().count() as u64, 7 + stored);
    assert_eq!(server.stop(), Some(0));
}

#[test]
fn pages_as_fetched_go_in_and_come_back_through_the_server() {
    let env = Env::new();
    let dir = env.dir.path();
    let story = "The harbor reopened on Friday after three weeks, the union said. ".repeat(4);
    let page = format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Reopened</title></head>\
         <body><nav>Home</nav><article><h1>Reopened</h1><p>{story}</p></article></body></html>"
    );
    std::fs::write(dir.join("page.html"), &page).unwrap();
    std::fs::write(
        dir.join("plain.jsonl"),
        "{\"title\": \"Plain\", \"body\": \"No page here.\"}\n",
    )
    .unwrap();
    let html = dir.join("page.html").display().to_string();
    let plain = dir.join("plain.jsonl").display().to_string();
    let server = Server::start(&env, &[]);
    // Imported through the server: the page is kept as it is without one.
    env.ok(&["import", &html, &plain]);
    let page_id = env.id_of("Reopened");
    let plain_id = env.id_of("Plain");
    let commands: Vec<Vec<&str>> = vec![
        vec!["cat", "--original", &page_id],
        vec!["cat", "--original", &page_id[..8]],
        vec!["cat", "--original", &plain_id],
        vec!["show", &page_id],
        vec!["show", &plain_id],
        vec!["stats"],
        vec!["stats", "--format", "json"],
    ];
    let through: Vec<_> = commands.iter().map(|c| outcome(&env.run(c))).collect();
    let raw = env.run(&commands[0]);
    assert_eq!(raw.stdout, page.as_bytes(), "the page, byte for byte");
    assert!(through[2].1.contains("has no original page"), "{through:?}");
    assert!(through[3].0.contains("original:"), "{}", through[3].0);
    // The web page's article links the page, which comes back as fetched.
    let get = |path: &str| {
        ureq::get(&server.url(path))
            .call()
            .unwrap()
            .body_mut()
            .read_to_vec()
            .unwrap()
    };
    let html = String::from_utf8(get(&format!("/articles/{page_id}"))).unwrap();
    let link = format!("/api/articles/{page_id}/original");
    assert!(html.contains(&format!("<a href=\"{link}\">")), "{html}");
    assert_eq!(get(&link), page.as_bytes());
    assert_eq!(server.stop(), Some(0));
    for (command, via_server) in commands.iter().zip(&through) {
        assert_eq!(
            via_server,
            &outcome(&env.run(command)),
            "{command:?} prints the same through the server"
        );
    }
    env.ok(&["verify"]);
}
