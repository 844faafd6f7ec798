//! `morgue`: the command-line archive of news articles.

mod args;
mod commands;
mod dates;
mod output;
mod report;

use clap::Parser as _;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    let cli = args::Cli::parse();
    report::run(cli).into()
}
