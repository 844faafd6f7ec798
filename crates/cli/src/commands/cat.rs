//! `morgue cat ID`: the body, byte for byte.

use std::io::Write as _;

use super::Ctx;
use crate::args::CatArgs;
use crate::report::ExitStatus;

pub fn run(args: &CatArgs, ctx: &Ctx) -> anyhow::Result<ExitStatus> {
    let archive = ctx.open_existing()?;
    let id = super::resolve(&archive, &args.id)?;
    let body = super::body(&archive, &id)?;
    let mut out = std::io::stdout().lock();
    out.write_all(&body)?;
    out.flush()?;
    Ok(ExitStatus::Success)
}
