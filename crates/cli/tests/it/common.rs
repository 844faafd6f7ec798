//! Helpers shared by the end-to-end tests.

use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;
use serde_json::Value;

/// The `morgue` binary cargo built for these tests.
pub const MORGUE: &str = env!("CARGO_BIN_EXE_morgue");

/// The workspace root (two levels above crates/cli).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("workspace root")
        .to_owned()
}

/// The example articles as named from the workspace root, where every command runs.
pub const EXAMPLES: &str = "examples";

/// Articles in examples/: five text files and two JSON lines.
pub const EXAMPLE_ARTICLES: usize = 7;

/// A temporary directory with an archive path inside it (not created until a command does).
pub struct Env {
    pub dir: tempfile::TempDir,
    pub archive: PathBuf,
}

impl Env {
    pub fn new() -> Env {
        let dir = tempfile::tempdir().expect("tempdir");
        let archive = dir.path().join("archive");
        Env { dir, archive }
    }

    /// `morgue --archive <archive>` with a cleared environment, run from the workspace root.
    pub fn cmd(&self) -> Command {
        let mut cmd = bare_cmd();
        cmd.arg("--archive").arg(&self.archive);
        cmd
    }

    /// The same as [`Env::cmd`] as a std `Command`, for spawning.
    pub fn std_cmd(&self) -> std::process::Command {
        let mut cmd = std::process::Command::new(MORGUE);
        cmd.env_clear()
            .env("NO_COLOR", "1")
            .current_dir(workspace_root());
        cmd.arg("--archive").arg(&self.archive);
        cmd
    }

    /// Runs `morgue --archive <archive> ARGS...`.
    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd().args(args).output().expect("running morgue")
    }

    /// Runs and expects exit 0; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert_eq!(
            out.status.code(),
            Some(0),
            "morgue {args:?} failed\nstdout: {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("UTF-8 stdout")
    }

    /// Imports examples/ and checks that it worked.
    pub fn import_examples(&self) {
        self.ok(&["import", EXAMPLES]);
    }

    /// `list --all --format json` plus the given filters, parsed.
    pub fn list_json(&self, filters: &[&str]) -> Vec<Value> {
        let mut args = vec!["list", "--all", "--format", "json"];
        args.extend_from_slice(filters);
        let text = self.ok(&args);
        match serde_json::from_str(&text) {
            Ok(Value::Array(items)) => items,
            other => panic!("list --format json gave {other:?}"),
        }
    }

    /// The titles listed with these filters, in list order.
    pub fn titles(&self, filters: &[&str]) -> Vec<String> {
        self.list_json(filters)
            .iter()
            .map(|a| a["title"].as_str().expect("title").to_owned())
            .collect()
    }

    /// The full id of the article with this title.
    pub fn id_of(&self, title: &str) -> String {
        self.list_json(&[])
            .iter()
            .find(|a| a["title"] == title)
            .and_then(|a| a["id"].as_str())
            .unwrap_or_else(|| panic!("no article titled {title:?}"))
            .to_owned()
    }

    /// Replaces the temporary directory in `text` with `[TMP]`.
    pub fn filter(&self, text: &str) -> String {
        let mut text = text.to_owned();
        let path = self.dir.path();
        if let Ok(canonical) = path.canonicalize() {
            text = text.replace(&canonical.display().to_string(), "[TMP]");
        }
        text.replace(&path.display().to_string(), "[TMP]")
    }
}

/// `morgue` with a cleared environment (only NO_COLOR set), run from the workspace root.
pub fn bare_cmd() -> Command {
    let mut cmd = Command::new(MORGUE);
    cmd.env_clear()
        .env("NO_COLOR", "1")
        .current_dir(workspace_root());
    cmd
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The body morgue should store for an example file: the text between two markers, inclusive
/// of the first and exclusive of the second (or to the end).
pub fn body_between(file: &str, start: &str, end: Option<&str>) -> String {
    let text =
        std::fs::read_to_string(workspace_root().join(EXAMPLES).join(file)).expect("example");
    let from = text
        .find(start)
        .unwrap_or_else(|| panic!("{start:?} not in {file}"));
    let to = end.map_or(text.len(), |end| {
        text.find(end)
            .unwrap_or_else(|| panic!("{end:?} not in {file}"))
    });
    text[from..to].trim().to_owned()
}

/// Whether `text` is a full article id.
pub fn is_full_id(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}
