//! `morgue export`: articles with their bodies, as JSON Lines or Parquet that `import` reads
//! back; every article, or those a `list` filter selects.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use anyhow::{Context as _, anyhow, bail};
use indicatif::ProgressBar;
use morgue_meta::{Archive, BlobId, Record};

use super::Ctx;
use crate::args::{ExportArgs, ExportFormat};
use crate::output::{self, ArticleJson};
use crate::report::ExitStatus;

/// What an export wrote and what it could not.
#[derive(Debug, Default)]
struct Outcome {
    /// Articles written.
    exported: u64,
    /// Articles left out because their body cannot be read back: the id and why.
    damaged: Vec<(morgue_meta::BlobId, anyhow::Error)>,
}

pub fn run(args: &ExportArgs, ctx: &Ctx) -> anyhow::Result<ExitStatus> {
    args.filters.check()?;
    let output = args.output.as_deref().or(args.path.as_deref());
    if args.format == ExportFormat::Parquet && output.is_none_or(|p| p.as_os_str() == "-") {
        bail!("--format parquet writes a directory: give it (morgue export --format parquet DIR)");
    }
    if args.format == ExportFormat::Jsonl && args.no_body {
        bail!(
            "--no-body is for --format parquet: JSON Lines without bodies is `morgue list --format jsonl --all`"
        );
    }
    if args.format == ExportFormat::Parquet && args.originals {
        bail!(
            "--originals is for --format jsonl (the Parquet export has no column for the pages yet)"
        );
    }
    // Unfiltered, an export is in the archive's order, which the API does not give.
    ctx.no_server("export")?;
    let archive = ctx.open_to_read()?;
    let outcome = match output {
        Some(dir) if args.format == ExportFormat::Parquet => to_parquet(&archive, args, dir, ctx)?,
        // `-o -` is standard output, as everywhere.
        None => to_stdout(&archive, args)?,
        Some(path) if path.as_os_str() == "-" => to_stdout(&archive, args)?,
        Some(path) => to_file(&archive, args, path)?,
    };
    for (id, err) in &outcome.damaged {
        let mut message = format!("article {id} left out");
        for line in crate::report::error_lines(err) {
            message.push_str(": ");
            message.push_str(&line);
        }
        eprintln!("{}: {message}", ctx.paint_error("error"));
    }
    let to_file = output.is_some_and(|p| p.as_os_str() != "-");
    if !ctx.quiet && (to_file || !outcome.damaged.is_empty()) {
        let exported = super::plural(outcome.exported, "article", "articles");
        match outcome.damaged.len() {
            0 => eprintln!("exported {exported}"),
            n => eprintln!(
                "exported {exported}; {} left out (`morgue verify` lists every problem)",
                super::plural(n as u64, "damaged article", "damaged articles")
            ),
        }
    }
    Ok(if outcome.damaged.is_empty() {
        ExitStatus::Success
    } else {
        ExitStatus::Failure
    })
}

fn to_stdout(archive: &Archive, args: &ExportArgs) -> anyhow::Result<Outcome> {
    let mut out = output::stdout();
    let outcome = write_all(archive, args, &mut out, "standard output")?;
    out.flush().context("writing standard output")?;
    Ok(outcome)
}

/// Writes beside the target and renames, so that a failed export leaves no half file. A target
/// that exists and is not a regular file (a FIFO, `/dev/null`, a terminal) is written to
/// directly: renaming over it would replace the device with a file.
fn to_file(archive: &Archive, args: &ExportArgs, path: &Path) -> anyhow::Result<Outcome> {
    let dest = path.display().to_string();
    let kind = std::fs::metadata(path).map(|meta| meta.file_type());
    if kind.as_ref().is_ok_and(std::fs::FileType::is_dir) {
        bail!("{dest} is a directory: give a file to write the JSON Lines to");
    }
    if kind.is_ok_and(|kind| !kind.is_file()) {
        let file = std::fs::OpenOptions::new()
            .write(true)
            .open(path)
            .with_context(|| format!("opening {dest}"))?;
        let mut out = BufWriter::new(file);
        let outcome = write_all(archive, args, &mut out, &dest)?;
        out.flush().with_context(|| format!("writing {dest}"))?;
        return Ok(outcome);
    }
    let mut tmp_name = path.file_name().unwrap_or_default().to_owned();
    tmp_name.push(".partial");
    let tmp = path.with_file_name(tmp_name);
    let file = File::create(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
    let mut out = BufWriter::new(file);
    // Reading the archive and writing the file fail with messages of their own: only the
    // second is about writing.
    let outcome = write_all(archive, args, &mut out, &dest).and_then(|outcome| {
        out.into_inner()
            .map_err(std::io::IntoInnerError::into_error)
            .and_then(|file| file.sync_all())
            .and_then(|()| std::fs::rename(&tmp, path))
            .with_context(|| format!("writing {dest}"))?;
        Ok(outcome)
    });
    if outcome.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    outcome
}

/// Writes every article whose body reads back; an article whose body does not is left out and
/// named in the outcome, and the export goes on.
fn write_all(
    archive: &Archive,
    args: &ExportArgs,
    out: &mut impl Write,
    dest: &str,
) -> anyhow::Result<Outcome> {
    let mut outcome = Outcome::default();
    for item in articles(archive, args)? {
        let (id, record) = item?;
        let body = match body_text(archive, &id) {
            Ok(body) => body,
            Err(err) => {
                outcome.damaged.push((id, err));
                continue;
            }
        };
        let page = match record.original.as_ref().filter(|_| args.originals) {
            Some(_) => match archive.original(&id) {
                Ok(page) => page,
                Err(err) => {
                    outcome.damaged.push((id, err.into()));
                    continue;
                }
            },
            None => None,
        };
        let mut json = ArticleJson::new(&id, &record).with_body(&body);
        if let Some((reference, bytes)) = &page {
            json = json.with_original(&reference.media_type, bytes);
        }
        serde_json::to_writer(&mut *out, &json)
            .map_err(anyhow::Error::from)
            .and_then(|()| Ok(out.write_all(b"\n")?))
            .with_context(|| format!("writing {dest}"))?;
        outcome.exported += 1;
    }
    Ok(outcome)
}

/// The body of an article as text.
fn body_text(archive: &Archive, id: &BlobId) -> anyhow::Result<String> {
    super::body(archive, id).and_then(|body| {
        String::from_utf8(body).map_err(|_| anyhow!("the body of {id} is not UTF-8"))
    })
}

type Articles<'a> = Box<dyn Iterator<Item = anyhow::Result<(BlobId, Record)>> + 'a>;

/// The articles to export: every one in the archive's order, or those the filters select, as
/// `list` orders them (newest first).
fn articles<'a>(archive: &'a Archive, args: &ExportArgs) -> anyhow::Result<Articles<'a>> {
    let filtered = args.filters.any();
    if !filtered {
        return Ok(Box::new(
            archive
                .iter()
                .map(|item| item.context("reading the archive")),
        ));
    }
    let hits = archive
        .query(&args.filters.to_query())
        .context("querying the archive")?;
    Ok(Box::new(hits.map(|hit| {
        hit.map(|hit| (hit.id, hit.record))
            .context("reading a query result")
    })))
}

/// Writes the Parquet export into the directory `dir` (through `DIR.partial`, renamed at the end).
fn to_parquet(
    archive: &Archive,
    args: &ExportArgs,
    dir: &Path,
    ctx: &Ctx,
) -> anyhow::Result<Outcome> {
    let options = morgue_parquet::ExportOptions {
        body: !args.no_body,
        ..morgue_parquet::ExportOptions::default()
    };
    let mut exporter = morgue_parquet::Exporter::create(dir, options)?;
    let progress = progress_bar(archive, args, ctx);
    let mut outcome = Outcome::default();
    for item in articles(archive, args)? {
        let (id, record) = item?;
        let body = if args.no_body {
            None
        } else {
            match body_text(archive, &id) {
                Ok(body) => Some(body),
                Err(err) => {
                    outcome.damaged.push((id, err));
                    progress.inc(1);
                    continue;
                }
            }
        };
        exporter.push(&id.to_string(), &record, body.as_deref())?;
        outcome.exported += 1;
        progress.inc(1);
    }
    let summary = exporter.finish()?;
    progress.finish_and_clear();
    if !ctx.quiet && ctx.verbose {
        eprintln!(
            "wrote {} ({} row groups, {} bytes) under {}",
            super::plural(summary.files, "Parquet file", "Parquet files"),
            summary.row_groups,
            summary.bytes,
            dir.display()
        );
    }
    Ok(outcome)
}

/// A progress bar of articles on stderr when it is a terminal and not `-q`; hidden otherwise.
fn progress_bar(archive: &Archive, args: &ExportArgs, ctx: &Ctx) -> ProgressBar {
    ctx.progress_bar(|| {
        // The total is known for a whole export.
        let total = if args.filters.any() {
            None
        } else {
            archive.stats().ok().map(|s| s.articles)
        };
        let template = if total.is_some() {
            "{spinner} {elapsed_precise} [{wide_bar}] {human_pos}/{human_len} articles, ETA {eta}"
        } else {
            "{spinner} {elapsed_precise} {human_pos} articles {per_sec}"
        };
        (total, template)
    })
}
