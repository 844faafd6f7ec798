//! `morgue reindex`: rebuild the indexes from the records, and the text index from the records
//! and bodies.

use anyhow::Context as _;

use super::Ctx;
use crate::report::ExitStatus;

pub fn run(ctx: &Ctx) -> anyhow::Result<ExitStatus> {
    ctx.no_server("reindex")?;
    let archive = ctx.open_to_change()?;
    let n = archive.reindex().context("rebuilding the indexes")?;
    let mut bar: Option<indicatif::ProgressBar> = None;
    let rebuilt = archive.rebuild_text(&mut |done, total| {
        if total > 0 {
            let bar = bar.get_or_insert_with(|| ctx.text_build_bar(total));
            bar.set_length(total.max(done));
            bar.set_position(done);
        }
    });
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    rebuilt.context("rebuilding the text index")?;
    super::close(archive)?;
    if !ctx.quiet {
        eprintln!("reindexed {}", super::plural(n, "article", "articles"));
    }
    Ok(ExitStatus::Success)
}
