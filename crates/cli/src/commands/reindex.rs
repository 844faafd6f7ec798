//! `morgue reindex`: rebuild the indexes from the records, and the text index from the records
//! and bodies.

use anyhow::Context as _;

use super::Ctx;
use crate::report::ExitStatus;

pub fn run(ctx: &Ctx) -> anyhow::Result<ExitStatus> {
    let archive = ctx.open_to_change()?;
    let n = archive.reindex().context("rebuilding the indexes")?;
    archive
        .rebuild_text(&mut |_, _| {})
        .context("rebuilding the text index")?;
    super::close(archive)?;
    if !ctx.quiet {
        eprintln!("reindexed {}", super::plural(n, "article", "articles"));
    }
    Ok(ExitStatus::Success)
}
