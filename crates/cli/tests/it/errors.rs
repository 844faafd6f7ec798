//! Error messages and exit codes.

use crate::common::{Env, stderr, stdout};

#[test]
fn read_only_commands_never_create_an_archive() {
    let env = Env::new();
    let commands: [&[&str]; 10] = [
        &["list"],
        &["show", "abcd"],
        &["cat", "abcd"],
        &["reporters"],
        &["services"],
        &["stats"],
        &["verify"],
        &["reindex"],
        &["rm", "abcd"],
        &["export"],
    ];
    for args in commands {
        let out = env.run(args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert_eq!(stdout(&out), "", "{args:?}");
        assert_eq!(
            env.filter(&stderr(&out)),
            "error: no archive at [TMP]/archive\n",
            "{args:?}"
        );
        assert!(!env.archive.exists(), "{args:?} created the archive");
    }
    insta::assert_snapshot!("no_archive", env.filter(&stderr(&env.run(&["list"]))));
}

#[test]
fn import_creates_the_archive() {
    let env = Env::new();
    assert!(!env.archive.exists());
    env.ok(&["import", "examples/night-market.txt"]);
    assert!(env.archive.is_dir());
}

#[test]
fn a_directory_that_is_not_an_archive_is_refused() {
    let env = Env::new();
    std::fs::create_dir(&env.archive).unwrap();
    std::fs::write(env.archive.join("notes.txt"), "mine").unwrap();
    let out = env.run(&["import", "examples/night-market.txt"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        env.filter(&stderr(&out)).starts_with("error: "),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        std::fs::read_to_string(env.archive.join("notes.txt")).unwrap(),
        "mine"
    );
}

#[test]
fn usage_errors_exit_2() {
    let env = Env::new();
    for args in [
        &["list", "--since", "2017-13"][..],
        &["list", "--until", "June"],
        &["list", "--format", "xml"],
        &["import"],
        &["frobnicate"],
        &["--wait", "soon", "list"],
    ] {
        let out = env.run(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
    }
    let out = env.run(&["list", "--since", "2017-13"]);
    insta::assert_snapshot!("bad_date", stderr(&out));
}

#[test]
fn since_after_until_is_an_error() {
    let env = Env::new();
    env.ok(&["import", "examples/night-market.txt"]);
    let out = env.run(&["list", "--since", "2018", "--until", "2017"]);
    assert_eq!(out.status.code(), Some(1));
    insta::assert_snapshot!("since_after_until", stderr(&out));
}

#[test]
fn without_an_archive_option_the_environment_variable_is_used() {
    let env = Env::new();
    let out = crate::common::bare_cmd()
        .env("MORGUE_ARCHIVE", &env.archive)
        .args(["import", "examples/night-market.txt"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(env.list_json(&[]).len(), 1);
}

#[cfg(target_os = "linux")]
#[test]
fn without_archive_option_or_variable_the_data_directory_is_used() {
    let env = Env::new();
    let home = env.dir.path().join("home");
    std::fs::create_dir(&home).unwrap();
    let out = crate::common::bare_cmd()
        .env("HOME", &home)
        .args(["import", "examples/night-market.txt"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(home.join(".local/share/morgue").is_dir());
    let out = crate::common::bare_cmd()
        .env("HOME", &home)
        .env("XDG_DATA_HOME", env.dir.path().join("xdg"))
        .args(["list", "--format", "ids"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "XDG_DATA_HOME moves the default"
    );
    assert!(
        env.filter(&stderr(&out))
            .contains("no archive at [TMP]/xdg/morgue"),
        "{}",
        stderr(&out)
    );
}
