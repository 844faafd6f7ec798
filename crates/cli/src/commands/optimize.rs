//! `morgue optimize`: recompress bodies with dictionaries trained on the archive's own bodies
//! and compact the id index ([`morgue_meta::Archive::optimize`]).
//!
//! The archive does the work in steps of one atomic commit each; the command flushes at the end.
//! An interrupted run leaves a valid archive, and running it again finishes the job.

use std::io::Write as _;

use anyhow::Context as _;
use indicatif::ProgressBar;
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
    /// Bytes of the archive directory on disk before the run (the sum of its files' lengths).
    disk_bytes_before: u64,
    /// Bytes of the archive directory on disk after it.
    disk_bytes_after: u64,
}

impl SummaryJson {
    fn of(report: &OptimizeReport, disk_bytes_before: u64, disk_bytes_after: u64) -> SummaryJson {
        SummaryJson {
            recompressed: report.recompressed,
            bytes_before: report.bytes_before,
            bytes_after: report.bytes_after,
            dictionaries_trained: u64::from(report.dicts_trained),
            index_entries_dropped: report.entries_dropped,
            pack_files_compacted: u64::from(report.files_compacted),
            corrupted: report.corrupted.iter().map(ToString::to_string).collect(),
            disk_bytes_before,
            disk_bytes_after,
        }
    }

    /// One line for people.
    fn line(&self) -> String {
        let change = change(self.bytes_before, self.bytes_after);
        let disk = match self.disk_bytes_before.checked_sub(self.disk_bytes_after) {
            Some(0) | None => "nothing given back".to_owned(),
            Some(freed) => format!("{} given back", human_bytes(freed)),
        };
        format!(
            "optimized: {} recompressed, stored bytes {} -> {}{change}, {} trained; \
             disk space {} -> {} ({disk})",
            super::plural(self.recompressed, "body", "bodies"),
            human_bytes(self.bytes_before),
            human_bytes(self.bytes_after),
            super::plural(self.dictionaries_trained, "dictionary", "dictionaries"),
            human_bytes(self.disk_bytes_before),
            human_bytes(self.disk_bytes_after),
        )
    }
}

/// The change from `before` to `after` in percent, as ` (-25.0%)`; a change too small to show
/// in one decimal is said in words rather than as a signed zero.
fn change(before: u64, after: u64) -> String {
    if before == 0 {
        return String::new();
    }
    if before == after {
        return " (unchanged)".to_owned();
    }
    let percent = (after as f64 / before as f64 - 1.0) * 100.0;
    if percent.abs() < 0.05 {
        let way = if after < before { "smaller" } else { "larger" };
        format!(" (under 0.1% {way})")
    } else {
        format!(" ({percent:+.1}%)")
    }
}

/// The size on disk of a directory: the sum of the lengths of its files, at any depth. A file
/// that vanishes while it is measured counts for nothing.
fn dir_bytes(dir: &std::path::Path) -> u64 {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|entry| entry.file_type().is_file())
        .filter_map(|entry| entry.metadata().ok())
        .map(|meta| meta.len())
        .sum()
}

pub fn run(args: &OptimizeArgs, ctx: &Ctx) -> anyhow::Result<ExitStatus> {
    ctx.no_server("optimize")?;
    let archive = ctx.open_to_change()?;
    let dir = ctx.archive_dir()?.to_owned();
    let disk_before = dir_bytes(&dir);
    // The text index's merge first, while sled holds little: sled 0.34 keeps much of what the
    // store's steps read until the archive is closed (docs/performance.md, "Why sled keeps
    // what a scan reads"), and the two peaks would add up.
    archive
        .optimize_text()
        .context("merging the text index's segments")?;
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

    let summary = SummaryJson::of(&report, disk_before, dir_bytes(&dir));
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
    ctx.progress_bar(|| {
        (
            None,
            "{spinner} {elapsed_precise} [{wide_bar}] {human_pos}/{human_len} bodies, ETA {eta}",
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(recompressed: u64, before: u64, after: u64, dicts: u64) -> SummaryJson {
        SummaryJson {
            recompressed,
            bytes_before: before,
            bytes_after: after,
            dictionaries_trained: dicts,
            index_entries_dropped: 0,
            pack_files_compacted: 0,
            corrupted: Vec::new(),
            disk_bytes_before: 3 << 20,
            disk_bytes_after: 2 << 20,
        }
    }

    #[test]
    fn the_summary_line_gives_the_change_in_percent_and_the_space_given_back() {
        assert_eq!(
            summary(3, 2048, 1536, 1).line(),
            "optimized: 3 bodies recompressed, stored bytes 2.0 KiB -> 1.5 KiB (-25.0%), \
             1 dictionary trained; disk space 3.0 MiB -> 2.0 MiB (1.0 MiB given back)"
        );
        let nothing = SummaryJson {
            disk_bytes_before: 4096,
            disk_bytes_after: 4096,
            ..summary(0, 0, 0, 0)
        };
        assert_eq!(
            nothing.line(),
            "optimized: 0 bodies recompressed, stored bytes 0 B -> 0 B, 0 dictionaries trained; \
             disk space 4.0 KiB -> 4.0 KiB (nothing given back)"
        );
    }

    #[test]
    fn one_body_is_singular() {
        assert!(
            summary(1, 2048, 1536, 2)
                .line()
                .starts_with("optimized: 1 body recompressed,")
        );
    }

    #[test]
    fn a_tiny_change_is_not_a_signed_zero() {
        assert_eq!(change(100_000, 99_990), " (under 0.1% smaller)");
        assert_eq!(change(100_000, 100_010), " (under 0.1% larger)");
        assert_eq!(change(100_000, 100_000), " (unchanged)");
        assert_eq!(change(1000, 1500), " (+50.0%)");
        assert_eq!(change(0, 10), "");
    }
}
