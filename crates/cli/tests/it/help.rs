//! Help, version, completions and man page: no archive involved.

use crate::common::{bare_cmd, stdout};

fn help(args: &[&str]) -> String {
    let out = bare_cmd().args(args).output().expect("running morgue");
    assert_eq!(out.status.code(), Some(0), "{args:?}");
    stdout(&out)
}

#[test]
fn top_level_help() {
    insta::assert_snapshot!("help_top", help(&["--help"]));
}

#[test]
fn import_help() {
    insta::assert_snapshot!("help_import", help(&["import", "--help"]));
}

#[test]
fn list_help() {
    insta::assert_snapshot!("help_list", help(&["list", "--help"]));
}

#[test]
fn search_help() {
    insta::assert_snapshot!("help_search", help(&["search", "--help"]));
}

#[test]
fn no_command_is_a_usage_error() {
    let out = bare_cmd().output().expect("running morgue");
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn completions_name_every_command() {
    for shell in ["bash", "zsh", "fish"] {
        let script = help(&["completions", shell]);
        for command in ["import", "list", "show", "cat", "verify", "export"] {
            assert!(
                script.contains(command),
                "{shell} completions lack {command}"
            );
        }
    }
}

#[test]
fn man_page_is_roff() {
    let page = help(&["man"]);
    assert!(page.contains(".TH morgue"), "{page}");
    assert!(page.contains("import"));
}

#[test]
fn help_and_man_need_no_archive() {
    // No --archive, no MORGUE_ARCHIVE, no HOME: still fine.
    let out = bare_cmd().arg("man").output().expect("running morgue");
    assert!(out.status.success());
}
