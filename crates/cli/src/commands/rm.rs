//! `morgue rm ID...`: remove articles with their index entries and bodies.

use std::io::Write as _;

use anyhow::Context as _;

use super::Ctx;
use crate::args::RmArgs;
use crate::report::{ExitStatus, print_error};

pub fn run(args: &RmArgs, ctx: &Ctx) -> anyhow::Result<ExitStatus> {
    let mut status = ExitStatus::Success;
    let mut removed = Vec::new();
    let mut outcome = |outcome: anyhow::Result<morgue_meta::BlobId>| match outcome {
        Ok(id) => removed.push(id),
        Err(err) => {
            print_error(ctx, &err);
            status = ExitStatus::Failure;
        }
    };
    if let Some(server) = ctx.server() {
        // One request an article, each answered once its removal is durable.
        for prefix in &args.ids {
            outcome(server.remove(prefix));
        }
    } else {
        let archive = ctx.open_to_change()?;
        for prefix in &args.ids {
            outcome(super::resolve(&archive, prefix).and_then(|id| {
                if archive
                    .remove(&id)
                    .with_context(|| format!("removing {id}"))?
                {
                    Ok(id)
                } else {
                    Err(anyhow::anyhow!("no article matches {prefix}"))
                }
            }));
        }
        super::close(archive)?;
    }
    if !ctx.quiet {
        let mut out = crate::output::stdout();
        for id in &removed {
            writeln!(out, "removed {id}")?;
        }
        out.flush()?;
    }
    Ok(status)
}
