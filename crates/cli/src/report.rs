//! Running a command: the exit status, and how errors reach the user.

use std::io::{self, IsTerminal as _, Write as _};

use crate::args::Cli;
use crate::commands::{self, Ctx};

/// How a command ended. Mapped to the process exit code in one place ([`From`] below); clap's
/// usage errors exit with 2 on their own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// Everything asked for was done.
    Success,
    /// Some input or lookup failed; the rest was still done.
    Failure,
    /// The command was asked for something it refuses (exit 2, as clap's usage errors).
    Usage,
}

impl From<ExitStatus> for std::process::ExitCode {
    fn from(status: ExitStatus) -> Self {
        match status {
            ExitStatus::Success => std::process::ExitCode::SUCCESS,
            ExitStatus::Failure => std::process::ExitCode::from(1),
            ExitStatus::Usage => std::process::ExitCode::from(2),
        }
    }
}

/// Runs the command line, reporting any error on stderr.
pub fn run(cli: Cli) -> ExitStatus {
    let ctx = Ctx::new(&cli.global);
    match commands::run(cli.command, &ctx) {
        Ok(status) => status,
        Err(err) if is_broken_pipe(&err) => ExitStatus::Success,
        Err(err) => {
            print_error(&ctx, &err);
            ExitStatus::Failure
        }
    }
}

/// Whether the error comes from writing to a closed pipe (`morgue list | head`), which ends the
/// command quietly and successfully.
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        if let Some(io) = cause.downcast_ref::<io::Error>() {
            return io.kind() == io::ErrorKind::BrokenPipe;
        }
        if let Some(json) = cause.downcast_ref::<serde_json::Error>() {
            return json.io_error_kind() == Some(io::ErrorKind::BrokenPipe);
        }
        if let Some(csv) = cause.downcast_ref::<csv::Error>()
            && let csv::ErrorKind::Io(io) = csv.kind()
        {
            return io.kind() == io::ErrorKind::BrokenPipe;
        }
        false
    })
}

/// The lines that describe an error: its message, then each cause that says something new.
pub fn error_lines(err: &anyhow::Error) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for cause in err.chain() {
        let text = cause.to_string();
        // A transparent wrapper displays as its source, and messages such as "PATH: CAUSE"
        // already include their cause: say each thing once.
        if lines
            .last()
            .is_some_and(|last| *last == text || last.ends_with(&format!(": {text}")))
            || text.is_empty()
        {
            continue;
        }
        lines.push(text);
    }
    lines
}

/// Prints `error: <what>` then `caused by: <cause>` lines on stderr.
pub fn print_error(ctx: &Ctx, err: &anyhow::Error) {
    let lines = error_lines(err);
    let mut stderr = io::stderr().lock();
    for (i, line) in lines.iter().enumerate() {
        let label = if i == 0 { "error" } else { "caused by" };
        let _ = writeln!(stderr, "{}: {line}", ctx.paint_error(label));
    }
}

/// Whether stderr may carry color: a terminal, and `NO_COLOR` unset or empty.
pub fn stderr_color() -> bool {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let dumb = std::env::var_os("TERM").is_some_and(|v| v == "dumb");
    !no_color && !dumb && io::stderr().is_terminal()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_lines_skip_repeated_causes() {
        let inner = io::Error::other("disk on fire");
        let err = anyhow::Error::new(inner)
            .context("disk on fire")
            .context("reading a.txt");
        assert_eq!(error_lines(&err), vec!["reading a.txt", "disk on fire"]);
    }

    #[test]
    fn error_lines_skip_a_cause_the_message_already_ends_with() {
        #[derive(Debug)]
        struct PathError(io::Error);
        impl std::fmt::Display for PathError {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "/archive/db: {}", self.0)
            }
        }
        impl std::error::Error for PathError {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                Some(&self.0)
            }
        }
        let err = anyhow::Error::new(PathError(io::Error::other("permission denied")))
            .context("opening the archive");
        assert_eq!(
            error_lines(&err),
            ["opening the archive", "/archive/db: permission denied"]
        );
    }

    #[test]
    fn broken_pipes_are_recognised_through_context() {
        let err = anyhow::Error::new(io::Error::from(io::ErrorKind::BrokenPipe)).context("writing");
        assert!(is_broken_pipe(&err));
        let err = anyhow::anyhow!("no archive at /x");
        assert!(!is_broken_pipe(&err));
    }
}
