//! `morgue cat ID`: the body, byte for byte; `--original`: the page it was extracted from.

use std::io::Write as _;

use anyhow::{Context as _, bail};

use super::Ctx;
use crate::args::CatArgs;
use crate::report::ExitStatus;

pub fn run(args: &CatArgs, ctx: &Ctx) -> anyhow::Result<ExitStatus> {
    if let Some(server) = ctx.server() {
        let bytes = if args.original {
            server.original(&args.id)?
        } else {
            server.body(&args.id)?
        };
        return write(&bytes);
    }
    let archive = ctx.open_to_read()?;
    let id = super::resolve(&archive, &args.id)?;
    let body = if args.original {
        match archive
            .original(&id)
            .with_context(|| format!("reading the original page of {id}"))?
        {
            Some((_, page)) => page,
            None => bail!("{}", no_original(&id)),
        }
    } else {
        super::body(&archive, &id)?
    };
    write(&body)
}

/// What `cat --original` says of an article without a page (the server says it too).
pub fn no_original(id: &morgue_store::BlobId) -> String {
    format!(
        "article {id} has no original page (only articles imported from HTML pages and WARC files have one)"
    )
}

fn write(bytes: &[u8]) -> anyhow::Result<ExitStatus> {
    let mut out = std::io::stdout().lock();
    out.write_all(bytes)?;
    out.flush()?;
    Ok(ExitStatus::Success)
}
