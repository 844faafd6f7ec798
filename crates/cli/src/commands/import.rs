//! `morgue import PATH...`: read files, directories or stdin, and store every article.
//!
//! The pipeline that stores the articles and reports each one only once it is durable is
//! morgue-meta's ([`morgue_meta::Archive::import`]: read budget, prepare on all cores, one committer, flush,
//! then report). This command wires it: it walks the paths given, runs the reader (morgue-ingest)
//! as the import's source, shows the events (`-v`: `stored <id>` on stdout, duplicates on
//! stderr), a progress bar, and the summary.

use std::fmt::Write as _;
use std::fs::File;
use std::io::{self, Read, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use indicatif::ProgressBar;
use morgue_ingest::{Format, Overrides};
use morgue_meta::import::{Event, Feed, ImportOptions, Item, Source};
use morgue_meta::{ArticleDate, MergePolicy};
use serde::Serialize;

use super::Ctx;
use crate::args::{ImportArgs, InputFormat, SummaryFormat};
use crate::report::{ExitStatus, error_lines};

/// Warnings listed without `-v`.
const WARNINGS_SHOWN: usize = 20;

pub fn run(args: &ImportArgs, ctx: &Ctx) -> anyhow::Result<ExitStatus> {
    // A mistyped path must not leave a new archive behind: when there is none yet and not one
    // input can be found, say so and create nothing.
    if !ctx.archive_dir()?.exists() {
        super::check_inputs(&args.paths, ctx)?;
    }
    if let Some(server) = ctx.server() {
        if args.batch.is_some() {
            eprintln!(
                "{}: --batch applies to an archive opened here; a server commits its imports \
                 as it was started",
                ctx.paint_error("error")
            );
            return Ok(ExitStatus::Usage);
        }
        return run_remote(args, ctx, &server);
    }
    // Lock the archive before touching any input.
    let archive = ctx.open()?;
    let overrides = Overrides {
        service: args.service.clone(),
        reporter: args.reporter.clone(),
        date: args.date.map(ArticleDate::from_day),
    };
    // `None`: Parquet (morgue-parquet reads it, not morgue-ingest).
    let format = match args.format {
        InputFormat::Auto => Some(Format::Auto),
        InputFormat::Rfa => Some(Format::Rfa),
        InputFormat::Text => Some(Format::Text),
        InputFormat::Json => Some(Format::Json),
        InputFormat::Jsonl => Some(Format::Jsonl),
        InputFormat::Parquet => None,
        InputFormat::Csv => Some(Format::Csv),
        InputFormat::Tsv => Some(Format::Tsv),
        InputFormat::Html => Some(Format::Html),
        InputFormat::Warc => Some(Format::Warc),
    };
    let policy = if args.overwrite {
        MergePolicy::Overwrite
    } else {
        MergePolicy::FillEmpty
    };
    let mut tally = Tally::default();
    let inputs = collect_inputs(&args.paths, ctx, &mut tally);
    let progress = progress_bar(ctx, &inputs);
    let mut options = ImportOptions {
        policy,
        ..ImportOptions::default()
    };
    if let Some(n) = args.batch {
        // A commit holds whole prepared chunks and waits for `commit_min` articles: neither
        // may exceed the batch.
        let n = n as usize;
        options.batch_articles = n;
        options.prepare_articles = options.prepare_articles.min(n);
        options.commit_min = options.commit_min.min(n);
    }
    let mut shown = Shown {
        ctx,
        progress: progress.clone(),
        stdout_open: true,
        stored_lines: String::new(),
        tally: &mut tally,
    };
    let reader_progress = progress.clone();
    let outcome = archive
        .import(
            &options,
            |feed| read_inputs(inputs, format, &overrides, feed, &reader_progress),
            |event| shown.show(event),
        )
        .map_err(anyhow::Error::new);
    progress.finish_and_clear();
    if let Ok(summary) = &outcome {
        tally.skipped_records = summary.skipped;
    }

    // Every batch was flushed; closing also leaves sled's snapshot behind, so that the next
    // command opens fast (see `close`).
    let outcome = outcome.and_then(|_| super::close(archive));
    finish(args, ctx, tally, outcome)
}

/// The end of an import, with or without a server: the summary, and the exit status.
fn finish(
    args: &ImportArgs,
    ctx: &Ctx,
    mut tally: Tally,
    outcome: anyhow::Result<()>,
) -> anyhow::Result<ExitStatus> {
    let json_summary = args.summary == SummaryFormat::Json;
    // Prepare failures come after the reader's: list everything in input order.
    tally.sort();
    if let Err(err) = outcome {
        // The archive failed: say what was stored before it did, then the error.
        if !json_summary {
            tally.print(ctx);
        }
        return Err(err);
    }
    if json_summary {
        let mut out = crate::output::stdout();
        serde_json::to_writer(&mut out, &tally.to_json())?;
        writeln!(out)?;
        out.flush()?;
    } else {
        tally.print(ctx);
    }
    Ok(if tally.failures.is_empty() {
        ExitStatus::Success
    } else {
        ExitStatus::Failure
    })
}

/// `import` through a running `morgue serve`: each input is sent as it is read (chunked) to
/// `POST /api/import`, named as here (so that its format is detected and its failures reported
/// as without a server); the server answers once what it stored is durable, then the stored
/// articles are printed (`-v`) and counted.
fn run_remote(
    args: &ImportArgs,
    ctx: &Ctx,
    server: &super::remote::Server,
) -> anyhow::Result<ExitStatus> {
    let mut tally = Tally::default();
    let inputs = collect_inputs(&args.paths, ctx, &mut tally);
    let progress = progress_bar(ctx, &inputs);
    let format = match args.format {
        InputFormat::Auto => Some("auto"),
        InputFormat::Rfa => Some("rfa"),
        InputFormat::Text => Some("text"),
        InputFormat::Json => Some("json"),
        InputFormat::Jsonl => Some("jsonl"),
        InputFormat::Csv => Some("csv"),
        InputFormat::Tsv => Some("tsv"),
        InputFormat::Html => Some("html"),
        InputFormat::Warc => Some("warc"),
        InputFormat::Parquet => None,
    };
    let mut shared = vec![("events", ctx.verbose.to_string())];
    if let Some(format) = format {
        shared.push(("format", format.to_owned()));
    }
    if args.overwrite {
        shared.push(("overwrite", "true".to_owned()));
    }
    if let Some(service) = &args.service {
        shared.push(("service", service.clone()));
    }
    if let Some(reporter) = &args.reporter {
        shared.push(("reporter", reporter.clone()));
    }
    if let Some(date) = args.date {
        shared.push(("date", date.format("%Y-%m-%d").to_string()));
    }
    let mut outcome = Ok(());
    for input in inputs {
        // Any named format still asks whether a file is Parquet, which is not sent.
        let (name, seq, mut reader) =
            match open_input(input, format.map(|_| Format::Auto), &progress) {
                Opened::Reader(name, seq, reader) => (name, seq, reader),
                Opened::Parquet(name, seq, _) => {
                    tally.fail(
                        source_of(Path::new(&*name), seq),
                        format!(
                            "Parquet is not sent to a server: stop {} to import it",
                            server.name()
                        ),
                    );
                    continue;
                }
                Opened::Failed(source, reason) => {
                    tally.fail(source, reason);
                    continue;
                }
            };
        let mut params = shared.clone();
        params.push(("name", name.to_string()));
        let answer = match server.import(&params, &mut reader) {
            Ok(answer) => answer,
            Err(err) => {
                outcome = Err(err);
                break;
            }
        };
        tally.merge(&answer, &name, seq, ctx, &progress);
    }
    progress.finish_and_clear();
    finish(args, ctx, tally, outcome)
}

/// One input to read.
#[derive(Debug)]
enum Input {
    Stdin {
        seq: usize,
    },
    File {
        path: PathBuf,
        name: Arc<str>,
        seq: usize,
    },
}

/// Everything that happened, for the summary.
#[derive(Debug, Default)]
pub(super) struct Tally {
    stored: u64,
    duplicates: u64,
    filled: u64,
    warnings: Vec<(Source, String)>,
    failures: Vec<(Source, String)>,
    skipped: Vec<String>,
    /// WARC records that hold no article (not HTML responses of status 200).
    skipped_records: u64,
}

#[derive(Debug, Serialize)]
pub(super) struct SummaryJson<'a> {
    stored: u64,
    duplicates: u64,
    filled: u64,
    warnings: Vec<Note<'a>>,
    failed: Vec<Note<'a>>,
    skipped: &'a [String],
    skipped_records: u64,
}

#[derive(Debug, Serialize)]
struct Note<'a> {
    path: &'a str,
    line: Option<u64>,
    message: &'a str,
}

impl Tally {
    /// Counts an event of an import whose articles are not listed one by one (the server's).
    pub(super) fn count(&mut self, event: Event) {
        match event {
            Event::Warning { source, message } => self.warnings.push((source, message)),
            Event::Failed { source, reason } => self.fail(source, reason),
            Event::Rejected { source, error } => {
                self.fail(source, error_lines(&error.into()).join(": "));
            }
            Event::Stored { .. } => self.stored += 1,
            Event::Duplicate { filled, .. } => {
                self.duplicates += 1;
                if !filled.is_empty() {
                    self.filled += 1;
                }
            }
            _ => {}
        }
    }

    /// Sorts the failures and warnings in input order.
    pub(super) fn sort(&mut self) {
        let order = |(s, _): &(Source, String)| (s.seq, s.line);
        self.failures.sort_by_key(order);
        self.warnings.sort_by_key(order);
    }

    /// Adds the summary of one input imported by a server (`POST /api/import?events=true`):
    /// with `-v`, prints its stored articles on stdout and its duplicates on stderr, as
    /// [`Shown`] does.
    fn merge(
        &mut self,
        answer: &serde_json::Value,
        name: &Arc<str>,
        seq: usize,
        ctx: &Ctx,
        progress: &ProgressBar,
    ) {
        let source = |note: &serde_json::Value| Source {
            path: name.clone(),
            line: note["line"].as_u64(),
            seq,
        };
        let count = |key: &str| answer[key].as_u64().unwrap_or(0);
        self.stored += count("stored");
        self.duplicates += count("duplicates");
        self.filled += count("filled");
        let notes = |key: &str| answer[key].as_array().cloned().unwrap_or_default();
        for note in notes("warnings") {
            let message = note["message"].as_str().unwrap_or("").to_owned();
            self.warnings.push((source(&note), message));
        }
        for note in notes("failed") {
            let message = note["message"].as_str().unwrap_or("").to_owned();
            self.failures.push((source(&note), message));
        }
        if !ctx.verbose {
            return;
        }
        let mut stored = String::new();
        for event in notes("events") {
            if let Some(id) = event["stored"].as_str() {
                let _ = writeln!(stored, "stored {id}");
            } else if let Some(id) = event["duplicate"].as_str() {
                let filled: Vec<&str> = event["filled"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(serde_json::Value::as_str)
                    .collect();
                let what = if filled.is_empty() {
                    String::new()
                } else {
                    format!(" (filled {})", filled.join(", "))
                };
                let line = format!("{}: duplicate of {id}{what}", source(&event));
                if progress.is_hidden() {
                    eprintln!("{line}");
                } else {
                    progress.println(line);
                }
            }
        }
        if !stored.is_empty() {
            let _ = progress.suspend(|| {
                let mut out = io::stdout().lock();
                out.write_all(stored.as_bytes()).and_then(|()| out.flush())
            });
        }
    }

    fn fail(&mut self, source: Source, reason: impl Into<String>) {
        self.failures.push((source, reason.into()));
    }

    pub(super) fn to_json(&self) -> SummaryJson<'_> {
        fn notes(list: &[(Source, String)]) -> Vec<Note<'_>> {
            list.iter()
                .map(|(s, m)| Note {
                    path: &s.path,
                    line: s.line,
                    message: m,
                })
                .collect()
        }
        SummaryJson {
            stored: self.stored,
            duplicates: self.duplicates,
            filled: self.filled,
            warnings: notes(&self.warnings),
            failed: notes(&self.failures),
            skipped: &self.skipped,
            skipped_records: self.skipped_records,
        }
    }

    /// Warnings, failures, then one line of counts, on stderr.
    fn print(&self, ctx: &Ctx) {
        let mut err = io::stderr().lock();
        if !ctx.quiet {
            let shown = if ctx.verbose {
                self.warnings.len()
            } else {
                WARNINGS_SHOWN
            };
            for (source, message) in self.warnings.iter().take(shown) {
                let _ = writeln!(err, "{}: {source}: {message}", ctx.paint_warning("warning"));
            }
            if self.warnings.len() > shown {
                let _ = writeln!(
                    err,
                    "{}: {} more warnings (-v lists them all)",
                    ctx.paint_warning("warning"),
                    self.warnings.len() - shown
                );
            }
        }
        for (source, reason) in &self.failures {
            let _ = writeln!(err, "{}: {source}: {reason}", ctx.paint_error("error"));
        }
        if ctx.quiet {
            return;
        }
        let mut line = format!(
            "stored {}, duplicates {} ({} with metadata filled), warnings {}, failed {}",
            self.stored,
            self.duplicates,
            self.filled,
            self.warnings.len(),
            self.failures.len()
        );
        if !self.skipped.is_empty() {
            let n = self.skipped.len();
            let _ = write!(
                line,
                "; skipped {n} file{} of other types{}",
                if n == 1 { "" } else { "s" },
                if ctx.verbose { "" } else { " (-v lists them)" }
            );
        }
        if self.skipped_records > 0 {
            let n = self.skipped_records;
            let _ = write!(
                line,
                "; skipped {n} WARC record{} holding no article (requests, metadata, \
                 responses not HTML or not status 200)",
                if n == 1 { "" } else { "s" },
            );
        }
        let _ = writeln!(err, "{line}");
    }
}

/// Expands the paths given into inputs: `-` is stdin, directories are walked in name order.
fn collect_inputs(paths: &[PathBuf], ctx: &Ctx, tally: &mut Tally) -> Vec<Input> {
    let mut inputs = Vec::new();
    let mut seq = 0;
    let mut stdin_taken = false;
    for path in paths {
        if path.as_os_str() == "-" {
            if !stdin_taken {
                inputs.push(Input::Stdin { seq });
                seq += 1;
                stdin_taken = true;
            }
            continue;
        }
        match std::fs::metadata(path) {
            Err(err) => {
                tally.fail(source_of(path, seq), err.to_string());
                seq += 1;
            }
            Ok(meta) if meta.is_dir() => walk(path, ctx, tally, &mut inputs, &mut seq),
            // A file named on the command line is read whatever its name.
            Ok(_) => {
                inputs.push(Input::File {
                    path: path.clone(),
                    name: name_of(path),
                    seq,
                });
                seq += 1;
            }
        }
    }
    inputs
}

fn walk(root: &Path, ctx: &Ctx, tally: &mut Tally, inputs: &mut Vec<Input>, seq: &mut usize) {
    let walker = walkdir::WalkDir::new(root)
        .follow_links(true)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| e.depth() == 0 || !e.file_name().to_string_lossy().starts_with('.'));
    for entry in walker {
        let entry = match entry {
            Ok(entry) => entry,
            Err(err) => {
                let path = err.path().unwrap_or(root).to_owned();
                let reason = if let Some(ancestor) = err.loop_ancestor() {
                    format!("symlink loop: leads back to {}", ancestor.display())
                } else if let Some(io) = err.io_error() {
                    io.to_string()
                } else {
                    err.to_string()
                };
                tally.fail(source_of(&path, *seq), reason);
                *seq += 1;
                continue;
            }
        };
        let file_type = entry.file_type();
        if file_type.is_dir() {
            continue;
        }
        let path = entry.path();
        let file_name = entry.file_name().to_string_lossy();
        if file_type.is_file()
            && (morgue_ingest::accepts(&file_name) || morgue_parquet::accepts(&file_name))
        {
            inputs.push(Input::File {
                path: path.to_owned(),
                name: name_of(path),
                seq: *seq,
            });
            *seq += 1;
        } else {
            if ctx.verbose {
                eprintln!("skipped {}", path.display());
            }
            tally.skipped.push(path.display().to_string());
        }
    }
}

fn name_of(path: &Path) -> Arc<str> {
    Arc::from(path.display().to_string())
}

fn source_of(path: &Path, seq: usize) -> Source {
    Source {
        path: name_of(path),
        line: None,
        seq,
    }
}

/// Reads one input as the import's source: its articles, or a failure naming it when it holds
/// none. False when the import has stopped. `morgue import` and `POST /api/import` both read
/// through it.
pub(super) fn read_one(
    name: &Arc<str>,
    seq: usize,
    reader: Box<dyn Read + Send>,
    format: Format,
    overrides: &Overrides,
    feed: &mut Feed<'_>,
) -> bool {
    let read = morgue_ingest::read(name, reader, format, overrides);
    feed_entries(read, name, seq, feed)
}

/// A progress bar on stderr when it is a terminal and not `-q`; a hidden one otherwise.
fn progress_bar(ctx: &Ctx, inputs: &[Input]) -> ProgressBar {
    ctx.progress_bar(|| {
        // The total is known when every input is a file we can size.
        let total = inputs.iter().try_fold(0u64, |sum, input| match input {
            Input::Stdin { .. } => None,
            Input::File { path, .. } => std::fs::metadata(path).ok().map(|m| sum + m.len()),
        });
        let template = if total.is_some() {
            "{spinner} {elapsed_precise} [{wide_bar}] {binary_bytes}/{binary_total_bytes} \
             {binary_bytes_per_sec}, ETA {eta}  {msg}"
        } else {
            "{spinner} {elapsed_precise} {binary_bytes} {binary_bytes_per_sec}  {msg}"
        };
        (total, template)
    })
}

/// The import's source, on its reader thread: parses each input in turn and hands on what it
/// finds.
fn read_inputs(
    inputs: Vec<Input>,
    format: Option<Format>,
    overrides: &Overrides,
    feed: &mut Feed<'_>,
    progress: &ProgressBar,
) {
    for input in inputs {
        let (name, seq, reader) = match open_input(input, format, progress) {
            Opened::Reader(name, seq, reader) => (name, seq, reader),
            Opened::Parquet(name, seq, file) => {
                let size = file.metadata().map_or(0, |m| m.len());
                let rows = morgue_parquet::read(&name, file, overrides);
                if !feed_entries(rows, &name, seq, feed) {
                    return;
                }
                progress.inc(size);
                continue;
            }
            Opened::Failed(source, reason) => {
                if !(feed.push(Item::Failed(source, reason)) && feed.send()) {
                    return;
                }
                continue;
            }
        };
        if !read_one(
            &name,
            seq,
            reader,
            format.unwrap_or_default(),
            overrides,
            feed,
        ) {
            return;
        }
    }
}

/// An input opened: by the import here, or to be sent to a server.
enum Opened {
    /// Its bytes (counted by the progress bar) with its name and place among the inputs.
    Reader(Arc<str>, usize, Box<dyn Read + Send>),
    /// A file to read as Parquet ([`is_parquet`]), its bytes not counted yet.
    Parquet(Arc<str>, usize, File),
    /// It cannot be read: the failure for the summary.
    Failed(Source, String),
}

/// Opens one input; `format` decides what is Parquet as [`is_parquet`] does (`None`: the
/// whole import is `--format parquet`, which standard input cannot be).
fn open_input(input: Input, format: Option<Format>, progress: &ProgressBar) -> Opened {
    match input {
        Input::Stdin { seq } if format.is_none() => Opened::Failed(
            source_of(Path::new("-"), seq),
            "Parquet is read from files, not from standard input".into(),
        ),
        Input::Stdin { seq } => Opened::Reader(
            Arc::from("-"),
            seq,
            Box::new(progress.wrap_read(io::stdin())),
        ),
        Input::File { path, name, seq } => match File::open(&path) {
            Ok(file) if is_parquet(format, &name, &file) => Opened::Parquet(name, seq, file),
            Ok(file) => Opened::Reader(name, seq, Box::new(progress.wrap_read(file))),
            Err(err) => Opened::Failed(source_of(&path, seq), err.to_string()),
        },
    }
}

/// Whether a file is read as Parquet: `--format parquet`, or under `--format auto` a name
/// ending in `.parquet` or content starting with `PAR1`.
fn is_parquet(format: Option<Format>, name: &str, file: &File) -> bool {
    match format {
        None => true,
        Some(Format::Auto) => {
            if morgue_parquet::accepts(name) {
                return true;
            }
            if morgue_ingest::accepts(name) {
                return false;
            }
            let mut head = [0u8; 4];
            // `read_exact_at` leaves the file's position where it was.
            std::os::unix::fs::FileExt::read_exact_at(file, &mut head, 0).is_ok()
                && morgue_parquet::is_parquet(&head)
        }
        Some(_) => false,
    }
}

/// Hands the entries of one input to the import; false when the import stopped taking them.
fn feed_entries<E>(mut read: E, name: &Arc<str>, seq: usize, feed: &mut Feed<'_>) -> bool
where
    E: Entries,
{
    let mut entries = 0u64;
    while let Some(entry) = read.next_entry() {
        entries += 1;
        let source = Source {
            path: name.clone(),
            line: entry.line,
            seq,
        };
        let item = match entry.outcome {
            Ok(parsed) => Item::Parsed(source, Box::new(parsed)),
            Err(err) => Item::Failed(source, error_lines(&anyhow::Error::new(err)).join(": ")),
        };
        if !feed.push(item) {
            return false;
        }
        // Hand on what we have before waiting for more input.
        if !read.has_buffered() && !feed.send() {
            return false;
        }
    }
    feed.skipped(read.skipped_records());
    if entries == 0 {
        let item = Item::Failed(
            Source {
                path: name.clone(),
                line: None,
                seq,
            },
            "no article found".into(),
        );
        if !(feed.push(item) && feed.send()) {
            return false;
        }
    }
    true
}

/// The entries of one input, from morgue-ingest or morgue-parquet.
trait Entries {
    fn next_entry(&mut self) -> Option<morgue_ingest::Entry>;
    /// Whether the next entry is at hand without waiting for input.
    fn has_buffered(&self) -> bool;
    /// Records passed over as holding no article (a WARC's).
    fn skipped_records(&self) -> u64 {
        0
    }
}

impl Entries for morgue_ingest::Entries {
    fn next_entry(&mut self) -> Option<morgue_ingest::Entry> {
        self.next()
    }

    fn skipped_records(&self) -> u64 {
        morgue_ingest::Entries::skipped_records(self)
    }

    fn has_buffered(&self) -> bool {
        morgue_ingest::Entries::has_buffered(self)
    }
}

impl Entries for morgue_parquet::Rows {
    fn next_entry(&mut self) -> Option<morgue_ingest::Entry> {
        self.next()
    }

    /// A file: the next row is always there to read.
    fn has_buffered(&self) -> bool {
        true
    }
}

/// Shows the import's events as they come: `-v` lines, the progress bar's count, the tally.
struct Shown<'a> {
    ctx: &'a Ctx,
    progress: ProgressBar,
    /// False once stdout was closed (`import -v | head`): the import goes on, quietly.
    stdout_open: bool,
    /// `stored <id>` lines of the commit being reported (`-v`), written at once when it ends.
    stored_lines: String,
    tally: &'a mut Tally,
}

impl Shown<'_> {
    /// A line on stderr, above the progress bar when there is one.
    fn note(&self, line: &str) {
        if self.progress.is_hidden() {
            eprintln!("{line}");
        } else {
            self.progress.println(line);
        }
    }

    fn show(&mut self, event: Event) {
        match event {
            Event::Warning { source, message } => self.tally.warnings.push((source, message)),
            Event::Failed { source, reason } => self.tally.fail(source, reason),
            Event::Rejected { source, error } => {
                self.tally
                    .fail(source, error_lines(&error.into()).join(": "));
            }
            Event::Stored { id, .. } => {
                self.tally.stored += 1;
                if self.ctx.verbose {
                    let _ = writeln!(self.stored_lines, "stored {id}");
                }
            }
            Event::Duplicate { source, id, filled } => {
                self.tally.duplicates += 1;
                if !filled.is_empty() {
                    self.tally.filled += 1;
                }
                if self.ctx.verbose {
                    let what = if filled.is_empty() {
                        String::new()
                    } else {
                        format!(" (filled {})", filled.join(", "))
                    };
                    self.note(&format!("{source}: duplicate of {id}{what}"));
                }
            }
            Event::Durable { total, .. } => {
                let lines = std::mem::take(&mut self.stored_lines);
                if !lines.is_empty() && self.stdout_open {
                    let written = self.progress.suspend(|| {
                        let mut out = io::stdout().lock();
                        out.write_all(lines.as_bytes()).and_then(|()| out.flush())
                    });
                    if written.is_err() {
                        self.stdout_open = false;
                    }
                }
                self.progress.set_message(format!("{total} articles"));
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> Ctx {
        Ctx {
            archive: None,
            quiet: true,
            verbose: false,
            wait: None,
            color: false,
        }
    }

    fn names(inputs: &[Input]) -> Vec<String> {
        inputs
            .iter()
            .map(|input| match input {
                Input::Stdin { .. } => "-".to_owned(),
                Input::File { name, .. } => name.to_string(),
            })
            .collect()
    }

    #[test]
    fn directories_are_walked_in_name_order_without_hidden_or_foreign_files() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("sub")).unwrap();
        std::fs::create_dir_all(root.join(".hidden-dir")).unwrap();
        for name in [
            "b.txt",
            "a.TXT",
            "sub/c.jsonl.zst",
            ".h.txt",
            ".hidden-dir/d.txt",
            "x.md",
        ] {
            std::fs::write(root.join(name), "x").unwrap();
        }
        let mut tally = Tally::default();
        let inputs = collect_inputs(&[root.to_owned(), PathBuf::from("-")], &ctx(), &mut tally);
        let root = root.display().to_string();
        assert_eq!(
            names(&inputs),
            [
                format!("{root}/a.TXT"),
                format!("{root}/b.txt"),
                format!("{root}/sub/c.jsonl.zst"),
                "-".to_owned()
            ]
        );
        assert_eq!(tally.skipped, [format!("{root}/x.md")]);
        assert!(tally.failures.is_empty());
    }

    #[test]
    fn a_missing_path_is_a_failure_and_a_named_file_is_taken_whatever_its_name() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("notes.md");
        std::fs::write(&file, "x").unwrap();
        let missing = dir.path().join("missing.txt");
        let mut tally = Tally::default();
        let inputs = collect_inputs(&[missing.clone(), file.clone()], &ctx(), &mut tally);
        assert_eq!(names(&inputs), [file.display().to_string()]);
        assert_eq!(tally.failures.len(), 1);
        assert_eq!(
            tally.failures[0].0.to_string(),
            missing.display().to_string()
        );
    }
}
