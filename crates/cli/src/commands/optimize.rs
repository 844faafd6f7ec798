//! `morgue optimize`: recompress bodies with dictionaries trained on the archive's own bodies
//! and compact the id index ([`morgue_meta::Archive::optimize`]).
//!
//! The archive does the work in steps of one atomic commit each; the command flushes at the end.
//! An interrupted run leaves a valid archive, and running it again finishes the job.

use std::io::{self, IsTerminal as _, Write as _};
use std::time::Duration;

use anyhow::Context as _;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use morgue_store::{OptimizeProgress, OptimizeReport};
use serde::Serialize;

use super::Ctx;
use crate::args::{OptimizeArgs, SummaryFormat};
use crate::output::human_bytes;
use crate::report::ExitStatus;

/// The summary of `--summary json`.
#[derive(Debug, Serialize, PartialEq, Eq)]
struct SummaryJson {
    /// Bodies whose stored form was rewritten.
    recompressed: u64,
    /// Stored bytes of every body before the run.
    bytes_before: u64,
    /// Stored bytes of every body after it.
    bytes_after: u64,
    /// zstd dictionaries trained by this run.
    dictionaries_trained: u64,
    /// Id-index entries of removed articles dropped.
    index_entries_dropped: u64,
    /// Pack files rewritten without their garbage (then deleted).
    pack_files_compacted: u64,
    /// Bodies left as they were because they no longer match their id.
    corrupted: Vec<String>,
}

impl SummaryJson {
    fn of(report: &OptimizeReport) -> SummaryJson {
        SummaryJson {
            recompressed: report.recompressed,
            bytes_before: report.bytes_before,
            bytes_after: report.bytes_after,
            dictionaries_trained: u64::from(report.dicts_trained),
            index_entries_dropped: report.entries_dropped,
            pack_files_compacted: u64::from(report.files_compacted),
            corrupted: report.corrupted.iter().map(ToString::to_string).collect(),
        }
    }

    /// One line for people.
    fn line(&self) -> String {
        let change = if self.bytes_before == 0 {
            String::new()
        } else {
            let percent = (self.bytes_after as f64 / self.bytes_before as f64 - 1.0) * 100.0;
            format!(" ({percent:+.1}%)")
        };
        let n = self.dictionaries_trained;
        format!(
            "optimized: {} bodies recompressed, stored bytes {} -> {}{change}, {n} dictionar{} trained",
            self.recompressed,
            human_bytes(self.bytes_before),
            human_bytes(self.bytes_after),
            if n == 1 { "y" } else { "ies" },
        )
    }
}

pub fn run(args: &OptimizeArgs, ctx: &Ctx) -> anyhow::Result<ExitStatus> {
    let archive = ctx.open_existing()?;
    let bar = progress_bar(ctx);
    let mut on_progress = |p: OptimizeProgress| {
        if bar.length() != Some(p.total) {
            bar.set_length(p.total);
        }
        bar.set_position(p.done);
    };
    let outcome = archive.optimize(&mut on_progress);
    bar.finish_and_clear();
    let report = outcome.context("optimizing the archive")?;
    super::close(archive)?;

    let summary = SummaryJson::of(&report);
    for id in &summary.corrupted {
        eprintln!(
            "{}: the body of {id} is corrupted: left as it was",
            ctx.paint_error("error")
        );
    }
    match args.summary {
        SummaryFormat::Json => {
            let mut out = crate::output::stdout();
            serde_json::to_writer(&mut out, &summary)?;
            writeln!(out)?;
            out.flush()?;
        }
        SummaryFormat::Text => {
            if !ctx.quiet {
                eprintln!("{}", summary.line());
            }
        }
    }
    if summary.corrupted.is_empty() {
        Ok(ExitStatus::Success)
    } else {
        eprintln!("hint: `morgue verify` lists every problem");
        Ok(ExitStatus::Failure)
    }
}

/// A progress bar on stderr when it is a terminal and not `-q`; a hidden one otherwise.
fn progress_bar(ctx: &Ctx) -> ProgressBar {
    if ctx.quiet || !io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let style = ProgressStyle::with_template(
        "{spinner} {elapsed_precise} [{wide_bar}] {human_pos}/{human_len} bodies, ETA {eta}",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar())
    .progress_chars("=> ");
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr()).with_style(style);
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_line_gives_the_change_in_percent() {
        let summary = SummaryJson {
            recompressed: 3,
            bytes_before: 2048,
            bytes_after: 1536,
            dictionaries_trained: 1,
            index_entries_dropped: 0,
            pack_files_compacted: 0,
            corrupted: Vec::new(),
        };
        assert_eq!(
            summary.line(),
            "optimized: 3 bodies recompressed, stored bytes 2.0 KiB -> 1.5 KiB (-25.0%), \
             1 dictionary trained"
        );
        let nothing = SummaryJson {
            recompressed: 0,
            bytes_before: 0,
            bytes_after: 0,
            dictionaries_trained: 0,
            index_entries_dropped: 0,
            pack_files_compacted: 0,
            corrupted: Vec::new(),
        };
        assert_eq!(
            nothing.line(),
            "optimized: 0 bodies recompressed, stored bytes 0 B -> 0 B, 0 dictionaries trained"
        );
    }
}
