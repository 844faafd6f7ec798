//! `morgue verify`: every body re-hashed, every index entry checked both ways.

use std::io::Write as _;

use anyhow::Context as _;

use super::Ctx;
use crate::output;
use crate::report::ExitStatus;

pub fn run(ctx: &Ctx) -> anyhow::Result<ExitStatus> {
    ctx.no_server("verify")?;
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
                "ok: {} and {} checked, no problems",
                super::plural(report.articles, "article", "articles"),
                super::plural(report.index_entries, "index entry", "index entries"),
            );
        }
        Ok(ExitStatus::Success)
    } else {
        eprintln!(
            "{}: {} found in {} and {}",
            ctx.paint_error("error"),
            super::plural(n as u64, "problem", "problems"),
            super::plural(report.articles, "article", "articles"),
            super::plural(report.index_entries, "index entry", "index entries"),
        );
        if report.problems.iter().any(|p| p.what.contains("index")) {
            // The text index too: reindex rebuilds it.
            eprintln!("hint: `morgue reindex` rebuilds the indexes from the records");
        }
        Ok(ExitStatus::Failure)
    }
}
