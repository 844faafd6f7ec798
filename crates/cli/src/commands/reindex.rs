//! `morgue reindex`: rebuild the indexes from the records.

use anyhow::Context as _;

use super::Ctx;
use crate::report::ExitStatus;

pub fn run(ctx: &Ctx) -> anyhow::Result<ExitStatus> {
    let archive = ctx.open_existing()?;
    let n = archive.reindex().context("rebuilding the indexes")?;
    super::close(archive)?;
    if !ctx.quiet {
        eprintln!("reindexed {}", super::plural(n, "article", "articles"));
    }
    Ok(ExitStatus::Success)
}
