//! `morgue-torture`: kill tests, hostile inputs and deliberate corruption for morgue.
//! See docs/reliability.md.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result};
use clap::{Parser, Subcommand};
use morgue_store::BlobId;
use morgue_torture::corrupt;
use morgue_torture::hostile::{self, Sizes};
use morgue_torture::kill::{self, KillOptions, Victim};
use morgue_torture::process::find_morgue;

#[derive(Debug, Parser)]
#[command(about = "Kill tests, hostile inputs and deliberate corruption for morgue")]
struct Cli {
    /// The morgue binary (default: $MORGUE_BIN, else next to this program).
    #[arg(long, global = true)]
    morgue: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// SIGKILL `morgue import -v` at random instants; check the archive after every kill.
    Kill {
        /// Kills to attempt.
        #[arg(long, default_value_t = 50)]
        iterations: u32,
        /// New articles per iteration (a quarter of the previous iteration's come again).
        #[arg(long, default_value_t = 3000)]
        articles: usize,
        /// Longest delay before a kill, in milliseconds (default: the time the first import
        /// takes to finish, measured).
        #[arg(long)]
        max_delay_ms: Option<u64>,
        /// Acknowledged articles checked with `morgue cat` per iteration.
        #[arg(long, default_value_t = 3)]
        cat_sample: usize,
        /// Start a new archive every N iterations (0: never).
        #[arg(long, default_value_t = 25)]
        fresh_every: u32,
        /// The command to kill: `import` (killed mid-import), `reindex` (after a complete
        /// import, the rebuild of the indexes is killed) or `optimize` (after complete imports
        /// in pieces of 400 articles, the recompression is killed).
        #[arg(long, default_value = "import")]
        command: VictimArg,
        /// Percentage of kills within the first 50 ms, during open and recovery.
        #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u8).range(0..=100))]
        early_percent: u8,
        /// Seed (default: from the clock; printed, so that a failure can be replayed).
        #[arg(long)]
        seed: Option<u64>,
        /// Working directory (default: a temporary one, removed on success).
        #[arg(long)]
        work_dir: Option<PathBuf>,
        /// Only print the summary.
        #[arg(short, long)]
        quiet: bool,
    },
    /// Generate hostile inputs, import them all at once, and check what became of each.
    Hostile {
        /// Test sizes (70 MiB line, 160 MiB bombs) instead of the full ones (200 MB, 8 GiB).
        #[arg(long)]
        small: bool,
        /// Fail when the importer's peak RSS exceeds this many MiB.
        #[arg(long, default_value_t = 512)]
        max_rss_mib: u64,
        /// Working directory (default: a temporary one, removed on success).
        #[arg(long)]
        work_dir: Option<PathBuf>,
    },
    /// Flip a byte inside an article's body frame in its pack file (no morgue may hold the
    /// archive).
    FlipBody {
        /// The archive directory.
        archive: PathBuf,
        /// The article's full id.
        id: BlobId,
    },
    /// Delete the keys of the `morgue` tree that hold an article: `x` every posting chunk with
    /// it (`xd`, `xr`, `xs`: only those of the date, reporter or service index), `r` its record
    /// block, `I` its id-index chunk, `B` its slot table.
    DeleteEntries {
        /// The archive directory.
        archive: PathBuf,
        /// What to delete: x, xd, xr, xs, r, I or B.
        target: corrupt::Target,
        /// The article's full id.
        id: BlobId,
    },
    /// List the archive's trees with their key counts (per key tag for the `morgue` tree), and
    /// its pack files with their sizes.
    Trees {
        /// The archive directory.
        archive: PathBuf,
    },
}

/// The command the kill test kills.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum VictimArg {
    Import,
    Reindex,
    Optimize,
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Kill {
            iterations,
            articles,
            max_delay_ms,
            cat_sample,
            fresh_every,
            early_percent,
            command,
            seed,
            work_dir,
            quiet,
        } => {
            let seed = seed.unwrap_or_else(clock_seed);
            let (work_dir, temp) = work_dir_or_temp(work_dir)?;
            let options = KillOptions {
                morgue: find_morgue(cli.morgue.as_deref())?,
                work_dir,
                iterations,
                articles,
                seed,
                max_delay: max_delay_ms.map(Duration::from_millis),
                cat_sample,
                fresh_every,
                early_percent,
                victim: match command {
                    VictimArg::Import => Victim::Import,
                    VictimArg::Reindex => Victim::Reindex,
                    VictimArg::Optimize => Victim::Optimize,
                },
            };
            println!(
                "kill test: {iterations} iterations, {articles} new articles each, seed {seed}, \
                 morgue {}",
                options.morgue.display()
            );
            let result = kill::run(&options, |line| {
                if !quiet {
                    println!("{line}");
                }
            });
            match result {
                Ok(report) => {
                    println!(
                        "kill test passed: {} iterations ({} killed midway, {} finished first), \
                         {} archives, {} articles acknowledged, {} bodies compared, \
                         articles lost: {}, largest archive {} articles, kills within {} ms, \
                         {:.1} s",
                        report.iterations,
                        report.killed,
                        report.finished,
                        report.archives,
                        report.acknowledged,
                        report.bodies_checked,
                        report.lost,
                        report.max_articles,
                        report.max_delay.as_millis(),
                        report.elapsed.as_secs_f64()
                    );
                    drop(temp);
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => {
                    if let Some(temp) = temp {
                        // Keep the evidence.
                        let kept = temp.keep();
                        eprintln!("work directory kept at {}", kept.display());
                    }
                    eprintln!("kill test FAILED (seed {seed}): {e:#}");
                    Ok(ExitCode::FAILURE)
                }
            }
        }
        Command::Hostile {
            small,
            max_rss_mib,
            work_dir,
        } => hostile_run(cli.morgue.as_deref(), small, max_rss_mib, work_dir),
        Command::FlipBody { archive, id } => {
            let at = corrupt::flip_body_byte(&archive, &id)?;
            println!("flipped the byte at {at} of the pack file holding {id}");
            Ok(ExitCode::SUCCESS)
        }
        Command::DeleteEntries {
            archive,
            target,
            id,
        } => {
            let n = corrupt::delete_entries(&archive, target, &id)?;
            println!("deleted {n} keys ({target:?})");
            Ok(ExitCode::SUCCESS)
        }
        Command::Trees { archive } => {
            for name in corrupt::tree_names(&archive)? {
                println!("{name}");
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn hostile_run(
    morgue: Option<&Path>,
    small: bool,
    max_rss_mib: u64,
    work_dir: Option<PathBuf>,
) -> Result<ExitCode> {
    let bin = find_morgue(morgue)?;
    let (work_dir, temp) = work_dir_or_temp(work_dir)?;
    let sizes = if small { Sizes::SMALL } else { Sizes::FULL };
    let started = Instant::now();
    let hostile::Run {
        plan,
        status,
        stderr,
        peak_rss: peak,
        took,
        mut outcome,
        ..
    } = hostile::run(&bin, &work_dir, sizes)?;
    println!(
        "generated {} inputs ({} good articles, {} bad, {} judgement calls), imported, checked \
         in {:.1} s",
        plan.inputs_tried(),
        plan.good.len(),
        plan.bad.len(),
        plan.either.len(),
        started.elapsed().as_secs_f64()
    );
    if plan.root_reads_anything {
        println!("note: running as root, so the mode-000 file is readable and counts as good");
    }
    println!(
        "import: {status} in {:.1} s, peak RSS {:.1} MiB",
        took.as_secs_f64(),
        peak as f64 / f64::from(1 << 20)
    );
    if peak > max_rss_mib << 20 {
        outcome.problems.push(format!(
            "peak RSS {} MiB is above {max_rss_mib} MiB",
            peak >> 20
        ));
    }
    println!("{} error lines reported:", outcome.error_lines);
    for line in stderr.lines() {
        println!("  {line}");
    }
    for (source, what) in &outcome.either {
        println!("judgement call {source}: {what}");
    }
    println!(
        "{} of {} articles of truncated streams stored (before the damage)",
        outcome.maybe_stored,
        plan.maybe.len()
    );
    if outcome.problems.is_empty() {
        println!(
            "hostile inputs passed: {} inputs tried, {} good articles stored and byte-exact, \
             {} bad inputs reported, verify clean, peak RSS {} MiB",
            plan.inputs_tried(),
            plan.good.len(),
            plan.bad.len(),
            peak >> 20
        );
        drop(temp);
        Ok(ExitCode::SUCCESS)
    } else {
        for problem in &outcome.problems {
            println!("PROBLEM: {problem}");
        }
        if let Some(temp) = temp {
            println!("work directory kept at {}", temp.keep().display());
        }
        Ok(ExitCode::FAILURE)
    }
}

/// The given directory, or a new temporary one (returned too, to remove or keep it).
fn work_dir_or_temp(dir: Option<PathBuf>) -> Result<(PathBuf, Option<tempfile::TempDir>)> {
    if let Some(dir) = dir {
        return Ok((dir, None));
    }
    let temp = tempfile::Builder::new()
        .prefix("morgue-torture-")
        .tempdir()
        .context("creating a temporary directory")?;
    Ok((temp.path().to_owned(), Some(temp)))
}

fn clock_seed() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_nanos() as u64)
}
