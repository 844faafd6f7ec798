//! morgue-bench: morgue against a SQLite baseline on the same corpus and machine, in one run.
//!
//! `cargo run --release -p morgue-bench -- --corpus ../shared/corpus/reuters-21578.jsonl.zst
//! [--scale 1000000] [--json]`; `morgue-bench html --pages DIR`: HTML extraction against
//! trafilatura. See docs/performance.md and docs/formats.md.

mod bench;
mod corpus;
mod html;
mod measure;
mod morgue;
mod report;
mod search;
mod serve;
mod sqlite;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::{Args, Parser, Subcommand};

/// The allocator of the `morgue` binary, so that the in-process import runs as the CLI's does
/// (the SQLite baseline, in the same process, uses it too).
#[global_allocator]
static GLOBAL: morgue_alloc::MorgueAlloc = morgue_alloc::MorgueAlloc;

#[derive(Debug, Parser)]
#[command(
    name = "morgue-bench",
    version,
    about,
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    run: RunArgs,
}

/// The benchmark run (the default).
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The JSON Lines corpus (`.jsonl` or `.jsonl.zst`). Default: `$MORGUE_CORPUS`, else
    /// `../shared/corpus/reuters-21578.jsonl.zst` from the workspace root or the current directory.
    #[arg(long)]
    pub corpus: Option<PathBuf>,
    /// The `morgue` binary for the whole-command figures. Default: next to this binary.
    #[arg(long)]
    pub morgue_bin: Option<PathBuf>,
    /// Where the databases and archives go (kept). Default: a temporary directory, removed after.
    #[arg(long)]
    pub work_dir: Option<PathBuf>,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    /// Also run a generated corpus of this many distinct articles (morgue only, unless
    /// `--scale-sqlite`).
    #[arg(long, value_name = "N")]
    pub scale: Option<u64>,
    /// Load the generated corpus into SQLite too.
    #[arg(long)]
    pub scale_sqlite: bool,
    /// After the scaled run (needs --scale and the morgue binary): import this many further
    /// generated articles into an empty archive and into the scaled one, time and peak RSS of
    /// each (`morgue import`, whole commands), then import the scaled corpus again into the
    /// scaled archive (every article a duplicate) and time that re-run against the first.
    #[arg(long, value_name = "K")]
    pub incremental: Option<u64>,
    /// Skip the Reuters comparison (only with --scale).
    #[arg(long)]
    pub skip_compare: bool,
    /// Articles per commit, at most, for the in-process morgue import (as the CLI: 20,000).
    #[arg(long, default_value_t = 20_000)]
    pub batch: usize,
    /// In the in-process morgue import, flush once at the end instead of after every batch (the
    /// CLI flushes every batch, so that what it reports as stored is durable).
    #[arg(long)]
    pub flush_at_end: bool,
    /// Drop the page cache (`/proc/sys/vm/drop_caches`, needs root; affects the whole machine)
    /// before each cold `list` process, so that it reads the archive from disk.
    #[arg(long)]
    pub drop_caches: bool,
    /// Repeats of each metadata query (the mean is reported).
    #[arg(long, default_value_t = 200)]
    pub repeats: usize,
    /// Rounds of the full-text queries (each round asks every query once on each side).
    #[arg(long, default_value_t = 20)]
    pub search_rounds: usize,
    /// Random ids fetched for get-by-id.
    #[arg(long, default_value_t = 1000)]
    pub gets: usize,
    /// Runs of each cold `list` process (the median is reported).
    #[arg(long, default_value_t = 21)]
    pub cold_runs: usize,
    /// Runs of each Reuters import, in-process and as whole commands, SQLite's and morgue's in
    /// turn, each into a new database or archive (the median time is reported, the peak RSS of
    /// the first in-process run and the highest of the processes, the last run's bytes on
    /// disk): one run moved by 10-20% on a shared machine.
    #[arg(long, default_value_t = 5)]
    pub import_runs: usize,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Load a corpus into a new SQLite baseline database, with its FTS5 table (the
    /// whole-command baseline).
    SqliteLoad {
        #[arg(long)]
        corpus: PathBuf,
        #[arg(long)]
        db: PathBuf,
    },
    /// List a reporter's articles from a baseline database, newest first (like `morgue list`).
    SqliteList {
        #[arg(long)]
        db: PathBuf,
        #[arg(long)]
        reporter: String,
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
    /// Write a generated corpus of N distinct articles as JSON Lines.
    Generate {
        #[arg(long)]
        corpus: PathBuf,
        #[arg(long, value_name = "N")]
        scale: u64,
        #[arg(long)]
        out: PathBuf,
    },
    /// morgue's HTML extraction against trafilatura on a page set: accuracy per field and
    /// pages per second (docs/formats.md, docs/performance.md).
    Html(html::HtmlArgs),
    /// Load test of `morgue serve` on loopback (list, filtered list, search, show, facets from
    /// many clients while an import runs through it), side by side with Datasette on the
    /// SQLite baseline.
    Serve(serve::ServeArgs),
    /// Run a command and print its wall time, peak RSS and exit code as JSON (used internally).
    Exec {
        /// Pass the command's standard output through instead of discarding it.
        #[arg(long)]
        show_output: bool,
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, required = true)]
        argv: Vec<String>,
    },
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        None => bench::run(&cli.run),
        Some(Command::SqliteLoad { corpus, db }) => {
            let loaded = sqlite::load(&corpus, &db, false, true)?;
            eprintln!("{} articles from {} lines", loaded.articles, loaded.lines);
            Ok(())
        }
        Some(Command::SqliteList {
            db,
            reporter,
            limit,
        }) => {
            use std::io::Write;
            let db = sqlite::Db::open(&db)?;
            let rows = db.by_reporter(&corpus::normalize_name(&reporter), limit)?;
            let mut out = std::io::stdout().lock();
            for r in rows {
                writeln!(
                    out,
                    "{}  {}  {}  {}",
                    &r.id[..12],
                    r.date.as_deref().unwrap_or("-"),
                    r.service,
                    r.title
                )?;
            }
            Ok(())
        }
        Some(Command::Generate {
            corpus: path,
            scale,
            out,
        }) => {
            let sources = corpus::distinct(corpus::read_all(&path)?);
            let (top, n) = corpus::generate(&sources, scale, &out)?;
            eprintln!(
                "{scale} articles written to {}; most frequent reporter {top:?} ({n})",
                out.display()
            );
            Ok(())
        }
        Some(Command::Html(args)) => html::run(&args),
        Some(Command::Serve(args)) => serve::run(&args),
        Some(Command::Exec { show_output, argv }) => measure::exec(&argv, !show_output),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn incremental_needs_a_scale_and_is_refused_before_any_work() {
        let cli = Cli::try_parse_from(["morgue-bench", "--incremental", "5"]).unwrap();
        assert_eq!(cli.run.incremental, Some(5));
        let err = run(cli).unwrap_err().to_string();
        assert!(err.contains("--incremental needs --scale"), "{err}");
        let cli =
            Cli::try_parse_from(["morgue-bench", "--scale", "10", "--incremental", "5"]).unwrap();
        assert_eq!((cli.run.scale, cli.run.incremental), (Some(10), Some(5)));
    }
}
