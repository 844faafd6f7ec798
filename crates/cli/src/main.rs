//! `morgue`: the command-line archive of news articles.

mod args;
mod commands;
mod dates;
mod output;
mod report;

use clap::Parser as _;

/// mimalloc rather than glibc's malloc: an import allocates and frees millions of small
/// strings across threads, which cost glibc a quarter of the import's time; but large zeroed
/// allocations are mapped fresh from the kernel, pages that cost nothing until touched
/// (morgue-alloc; docs/performance.md). Without the `mimalloc` feature (on by default) the
/// system's allocator is used, which is what a heap profiler such as heaptrack intercepts.
#[cfg(all(feature = "mimalloc", not(feature = "dhat-heap")))]
#[global_allocator]
static GLOBAL: morgue_alloc::MorgueAlloc = morgue_alloc::MorgueAlloc;

/// With the `dhat-heap` feature every allocation goes through dhat-rs, which writes a heap
/// profile of the command (the live blocks at its peak, by call stack) to `dhat-heap.json`.
#[cfg(feature = "dhat-heap")]
#[global_allocator]
static GLOBAL: dhat::Alloc = dhat::Alloc;

fn main() -> std::process::ExitCode {
    #[cfg(feature = "dhat-heap")]
    let _profiler = dhat::Profiler::new_heap();
    let cli = args::Cli::parse();
    report::run(cli).into()
}
