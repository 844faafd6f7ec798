//! `morgue completions SHELL`: a shell completion script on stdout.

use std::io::Write as _;

use clap::CommandFactory as _;

use super::Ctx;
use crate::args::{Cli, CompletionsArgs};
use crate::output;
use crate::report::ExitStatus;

pub fn run(args: &CompletionsArgs, _ctx: &Ctx) -> anyhow::Result<ExitStatus> {
    // clap_complete panics on a write error: generate in memory, then write.
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut Cli::command(), "morgue", &mut script);
    let mut out = output::stdout();
    out.write_all(&script)?;
    out.flush()?;
    Ok(ExitStatus::Success)
}
