//! `morgue cat ID`: the body, byte for byte.

use std::io::Write as _;

use super::Ctx;
use crate::args::CatArgs;
use crate::report::ExitStatus;

pub fn run(args: &CatArgs, ctx: &Ctx) -> anyhow::Result<ExitStatus> {
    let body = if let Some(server) = ctx.server() {
        server.body(&args.id)?
    } else {
        let archive = ctx.open_existing()?;
        let id = super::resolve(&archive, &args.id)?;
        super::body(&archive, &id)?
    };
    let mut out = std::io::stdout().lock();
    out.write_all(&body)?;
    out.flush()?;
    Ok(ExitStatus::Success)
}
