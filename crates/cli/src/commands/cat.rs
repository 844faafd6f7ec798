//! `morgue cat ID`: the body, byte for byte; `--original`: the page it was extracted from.

use std::io::Write as _;

use anyhow::{Context as _, bail};

use super::Ctx;
use crate::args::CatArgs;
use crate::report::ExitStatus;

pub fn run(args: &CatArgs, ctx: &Ctx) -> anyhow::Result<ExitStatus> {
    let archive = ctx.open_existing()?;
    let id = super::resolve(&archive, &args.id)?;
    let body = if args.original {
        match archive
            .original(&id)
            .with_context(|| format!("reading the original page of {id}"))?
        {
            Some((_, page)) => page,
            None => bail!(
                "article {id} has no original page (only articles imported from HTML pages and WARC files have one)"
            ),
        }
    } else {
        super::body(&archive, &id)?
    };
    let mut out = std::io::stdout().lock();
    out.write_all(&body)?;
    out.flush()?;
    Ok(ExitStatus::Success)
}
