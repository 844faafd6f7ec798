//! `morgue`: the command-line archive of news articles.

mod args;
mod commands;
mod dates;
mod output;
mod report;

use clap::Parser as _;

/// mimalloc rather than glibc's malloc: an import allocates and frees millions of small
/// strings across threads, which cost glibc a quarter of the import's time (see
/// docs/performance.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    let cli = args::Cli::parse();
    report::run(cli).into()
}
