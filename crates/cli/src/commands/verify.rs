//! `morgue verify`: every body re-hashed, every index entry checked both ways.

use std::io::Write as _;

use anyhow::Context as _;

use super::Ctx;
use crate::output;
use crate::report::ExitStatus;

pub fn run(ctx: &Ctx) -> anyhow::Result<ExitStatus> {
    let archive = ctx.open_existing()?;
    let report = archive.verify().context("verifying the archive")?;
    let mut out = output::stdout();
    for problem in &report.problems {
        match problem.id {
            Some(id) => writeln!(out, "{id}: {}", problem.what)?,
            None => writeln!(out, "archive: {}", problem.what)?,
        }
    }
    out.flush()?;
    drop(out);
    let n = report.problems.len();
    if n == 0 {
        if !ctx.quiet {
            eprintln!(
                "ok: {} articles and {} index entries checked, no problems",
                report.articles, report.index_entries
            );
        }
        Ok(ExitStatus::Success)
    } else {
        eprintln!(
            "{}: {n} problem{} found in {} articles and {} index entries",
            ctx.paint_error("error"),
            if n == 1 { "" } else { "s" },
            report.articles,
            report.index_entries,
        );
        if report.problems.iter().any(|p| p.what.contains("index")) {
            eprintln!("hint: `morgue reindex` rebuilds the indexes from the records");
        }
        Ok(ExitStatus::Failure)
    }
}
