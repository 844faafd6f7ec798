//! `morgue rm ID...`: remove articles with their index entries and bodies.

use std::io::Write as _;

use anyhow::Context as _;

use super::Ctx;
use crate::args::RmArgs;
use crate::report::{ExitStatus, print_error};

pub fn run(args: &RmArgs, ctx: &Ctx) -> anyhow::Result<ExitStatus> {
    let archive = ctx.open_to_change()?;
    let mut status = ExitStatus::Success;
    let mut removed = Vec::new();
    for prefix in &args.ids {
        let outcome = super::resolve(&archive, prefix).and_then(|id| {
            if archive
                .remove(&id)
                .with_context(|| format!("removing {id}"))?
            {
                Ok(id)
            } else {
                Err(anyhow::anyhow!("no article matches {prefix}"))
            }
        });
        match outcome {
            Ok(id) => removed.push(id),
            Err(err) => {
                print_error(ctx, &err);
                status = ExitStatus::Failure;
            }
        }
    }
    super::close(archive)?;
    if !ctx.quiet {
        let mut out = crate::output::stdout();
        for id in &removed {
            writeln!(out, "removed {id}")?;
        }
        out.flush()?;
    }
    Ok(status)
}
