//! `morgue man`: the man page, as roff, on stdout.

use std::io::Write as _;

use clap::CommandFactory as _;

use super::Ctx;
use crate::args::Cli;
use crate::output;
use crate::report::ExitStatus;

pub fn run(_ctx: &Ctx) -> anyhow::Result<ExitStatus> {
    let mut out = output::stdout();
    clap_mangen::Man::new(Cli::command()).render(&mut out)?;
    out.flush()?;
    Ok(ExitStatus::Success)
}
