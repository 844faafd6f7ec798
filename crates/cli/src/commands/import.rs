//! `morgue import PATH...`: read files, directories or stdin, and store every article.
//!
//! Pipeline: one reader thread walks the inputs and reads them with morgue-ingest (which parses
//! JSON Lines on all cores), sending entries on in chunks; the main thread gathers drafts into
//! chunks of [`PREPARE_ARTICLES`] (or [`BATCH_BYTES`] of bodies, or half [`BATCH_TIME`] after the
//! first draft) and has the archive hash and compress each chunk at once
//! ([`Archive::prepare_batch`], on all cores; the store trains its zstd dictionaries once it has
//! seen enough bodies). A committer thread takes all the prepared chunks waiting (up to
//! [`BATCH_ARTICLES`]), commits them in one atomic commit, flushes it to disk, and only then
//! reports their articles as stored (`-v`: `stored <id>` on stdout), while the next chunks are
//! read and prepared. What was reported is durable.

use std::collections::VecDeque;
use std::fmt::{self, Write as _};
use std::fs::File;
use std::io::{self, IsTerminal as _, Read, Write as _};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, RecvTimeoutError, SyncSender};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use morgue_ingest::{Format, Overrides, Parsed};
use morgue_meta::{AddOutcome, Archive, ArticleDate, Draft, MergePolicy, Prepared};
use serde::Serialize;

use super::Ctx;
use crate::args::{ImportArgs, InputFormat, SummaryFormat};
use crate::report::{ExitStatus, error_lines};

/// At most this many drafts per commit. Commits are large on purpose: each rewrites the index
/// chunks it touches, so fewer, larger commits write far fewer bytes (at 1M articles, 10,000 per
/// commit imported twice as fast as 1,000, into a quarter of the disk space, and 20,000 took
/// 17-19 s instead of 23 s; 40,000 no less). The committer only waits for [`COMMIT_MIN`] while
/// the input goes on, and no longer than half [`BATCH_TIME`].
const BATCH_ARTICLES: usize = 20_000;
/// At most about this many body bytes per transaction.
const BATCH_BYTES: usize = 32 << 20;
/// Drafts hashed and compressed at once after the first batch of an import: small enough that
/// the last chunk of an input leaves little work after the reading ends, large enough to keep
/// all cores busy. The committer still commits whole batches of them.
const PREPARE_ARTICLES: usize = 2_000;
/// The committer waits for this many articles (or the end of the input, or half [`BATCH_TIME`])
/// before it commits.
const COMMIT_MIN: usize = 5_000;
/// Entries the reader sends at once (fewer when the input has no more at hand).
const SEND_ENTRIES: usize = 256;
/// Sends the channel holds: enough for the reader to go on while a chunk is prepared.
const SEND_CHUNKS: usize = 64;
/// Body bytes read but not yet prepared, at most (one larger article passes alone): several
/// chunks, so that the reader need not wait while the store trains a dictionary.
const BUDGET_BYTES: usize = 16 << 20;
/// An article is committed (and, with `-v`, reported) at the latest about this long after it
/// was read, plus the time of the commit itself, however slow the input: half of it for its
/// chunk to fill before it is prepared, half for the committer to gather [`COMMIT_MIN`].
const BATCH_TIME: Duration = Duration::from_millis(500);
/// Warnings listed without `-v`.
const WARNINGS_SHOWN: usize = 20;

pub fn run(args: &ImportArgs, ctx: &Ctx) -> anyhow::Result<ExitStatus> {
    // A mistyped path must not leave a new archive behind: when there is none yet and not one
    // input can be found, say so and create nothing.
    if !ctx.archive_dir()?.exists() {
        super::check_inputs(&args.paths, ctx)?;
    }
    // Lock the archive before touching any input.
    let archive = ctx.open()?;
    let overrides = Overrides {
        service: args.service.clone(),
        reporter: args.reporter.clone(),
        date: args.date.map(ArticleDate::from_day),
    };
    let format = match args.format {
        InputFormat::Auto => Format::Auto,
        InputFormat::Rfa => Format::Rfa,
        InputFormat::Text => Format::Text,
        InputFormat::Json => Format::Json,
        InputFormat::Jsonl => Format::Jsonl,
    };
    let policy = if args.overwrite {
        MergePolicy::Overwrite
    } else {
        MergePolicy::FillEmpty
    };
    let json_summary = args.summary == SummaryFormat::Json;

    let mut tally = Tally::default();
    let inputs = collect_inputs(&args.paths, ctx, &mut tally);
    let progress = progress_bar(ctx, &inputs);
    let mut importer = Importer {
        archive: &archive,
        policy,
        ctx,
        tally,
        progress: progress.clone(),
    };

    // Room for a whole batch, so that the reader parses the next batch while the writer
    // compresses and commits this one (with room for 1,024, parsing and writing took turns: an
    // import of Reuters took 1.1 s instead of 0.6 s). Memory stays bounded by the budget.
    let (tx, rx) = mpsc::sync_channel::<Vec<Item>>(SEND_CHUNKS);
    let budget = Budget::new(BUDGET_BYTES);
    let outcome = std::thread::scope(|scope| {
        let progress = progress.clone();
        let overrides = &overrides;
        let budget = &budget;
        scope.spawn(move || read_inputs(inputs, format, overrides, &tx, budget, &progress));
        let outcome = importer.consume(&rx, budget);
        // On an error, closing both stops the reader at its next entry.
        budget.close();
        drop(rx);
        outcome
    });
    progress.finish_and_clear();

    let mut tally = importer.tally;
    // Every batch was flushed; closing also leaves sled's snapshot behind, so that the next
    // command opens fast (see `close`).
    let outcome = outcome.and_then(|()| super::close(archive));
    // Prepare failures come after the reader's: list everything in input order.
    let order = |(s, _): &(Source, String)| (s.seq, s.line);
    tally.failures.sort_by_key(order);
    tally.warnings.sort_by_key(order);
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

/// Where an article or a failure comes from: the input as named, and the line of JSON Lines.
#[derive(Debug, Clone)]
struct Source {
    path: Arc<str>,
    line: Option<u64>,
    /// The input's position in reading order, to list failures in that order.
    seq: usize,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}", self.path),
            None => f.write_str(&self.path),
        }
    }
}

/// What the reader thread sends.
#[derive(Debug)]
enum Item {
    Parsed(Source, Box<Parsed>),
    Failed(Source, String),
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
struct Tally {
    stored: u64,
    duplicates: u64,
    filled: u64,
    warnings: Vec<(Source, String)>,
    failures: Vec<(Source, String)>,
    skipped: Vec<String>,
}

#[derive(Debug, Serialize)]
struct SummaryJson<'a> {
    stored: u64,
    duplicates: u64,
    filled: u64,
    warnings: Vec<Note<'a>>,
    failed: Vec<Note<'a>>,
    skipped: &'a [String],
}

#[derive(Debug, Serialize)]
struct Note<'a> {
    path: &'a str,
    line: Option<u64>,
    message: &'a str,
}

impl Tally {
    fn fail(&mut self, source: Source, reason: impl Into<String>) {
        self.failures.push((source, reason.into()));
    }

    fn to_json(&self) -> SummaryJson<'_> {
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
        if file_type.is_file() && morgue_ingest::accepts(&entry.file_name().to_string_lossy()) {
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

/// A progress bar on stderr when it is a terminal and not `-q`; a hidden one otherwise.
fn progress_bar(ctx: &Ctx, inputs: &[Input]) -> ProgressBar {
    if ctx.quiet || !io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
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
    let style = ProgressStyle::with_template(template)
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
    let bar = ProgressBar::with_draw_target(total, ProgressDrawTarget::stderr()).with_style(style);
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

/// The reader thread: parses each input in turn and sends what it finds.
fn read_inputs(
    inputs: Vec<Input>,
    format: Format,
    overrides: &Overrides,
    tx: &SyncSender<Vec<Item>>,
    budget: &Budget,
    progress: &ProgressBar,
) {
    let send = |item: Item| tx.send(vec![item]).is_ok();
    for input in inputs {
        let (name, seq, reader): (Arc<str>, usize, Box<dyn Read + Send>) = match input {
            Input::Stdin { seq } => (
                Arc::from("-"),
                seq,
                Box::new(progress.wrap_read(io::stdin())),
            ),
            Input::File { path, name, seq } => match File::open(&path) {
                Ok(file) => (name, seq, Box::new(progress.wrap_read(file))),
                Err(err) => {
                    let item = Item::Failed(
                        Source {
                            path: name,
                            line: None,
                            seq,
                        },
                        err.to_string(),
                    );
                    if !send(item) {
                        return;
                    }
                    continue;
                }
            },
        };
        let mut entries = 0u64;
        let mut items = Vec::new();
        let mut read = morgue_ingest::read(&name, reader, format, overrides);
        while let Some(entry) = read.next() {
            entries += 1;
            let source = Source {
                path: name.clone(),
                line: entry.line,
                seq,
            };
            let item = match entry.outcome {
                Ok(parsed) => {
                    if !budget.acquire(parsed.draft.body.len()) {
                        return;
                    }
                    Item::Parsed(source, Box::new(parsed))
                }
                Err(err) => Item::Failed(source, error_lines(&anyhow::Error::new(err)).join(": ")),
            };
            items.push(item);
            // Send what we have before waiting for more input.
            if (items.len() >= SEND_ENTRIES || !read.has_buffered())
                && tx.send(std::mem::take(&mut items)).is_err()
            {
                return;
            }
        }
        if !items.is_empty() && tx.send(items).is_err() {
            return;
        }
        if entries == 0 {
            let item = Item::Failed(
                Source {
                    path: name,
                    line: None,
                    seq,
                },
                "no article found".into(),
            );
            if !send(item) {
                return;
            }
        }
    }
}

/// Bounds the body bytes between the reader and the writer (in the channel or in the batch being
/// gathered), so that memory stays bounded whatever the input: the reader waits while the writer
/// holds more than `max` bytes. One article larger than `max` passes alone.
#[derive(Debug)]
struct Budget {
    /// Bytes in flight, and whether the writer has stopped.
    state: Mutex<(usize, bool)>,
    changed: Condvar,
    max: usize,
}

impl Budget {
    fn new(max: usize) -> Budget {
        Budget {
            state: Mutex::new((0, false)),
            changed: Condvar::new(),
            max,
        }
    }

    /// Waits until `bytes` fit; false when the writer has stopped.
    fn acquire(&self, bytes: usize) -> bool {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        while !state.1 && state.0 > 0 && state.0 + bytes > self.max {
            state = self
                .changed
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
        state.0 += bytes;
        !state.1
    }

    fn release(&self, bytes: usize) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.0 = state.0.saturating_sub(bytes);
        self.changed.notify_all();
    }

    /// The writer stopped: wake and refuse the reader.
    fn close(&self) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.1 = true;
        self.changed.notify_all();
    }
}

/// The writing side, in two stages: this one gathers drafts into chunks and has the archive
/// prepare each (hash and compress, on all cores); a [`Committer`] thread commits, flushes and
/// reports the chunks prepared before, meanwhile, as many at once as a batch holds.
/// Acknowledgements keep their order and still come only after the flush of their batch.
struct Importer<'a> {
    archive: &'a Archive,
    policy: MergePolicy,
    ctx: &'a Ctx,
    tally: Tally,
    progress: ProgressBar,
}

/// Prepared drafts on their way to the committer: where each article came from, and the
/// article.
type Ready = (Vec<Source>, Vec<Prepared>);

/// Prepared chunks waiting for the committer, which takes all of them (up to a batch) at once.
/// The preparing side waits while a whole batch is already waiting, which bounds memory at
/// scale: one batch committing, one waiting, one chunk being prepared.
#[derive(Debug)]
struct Handoff<T> {
    state: Mutex<Waiting<T>>,
    changed: Condvar,
}

#[derive(Debug)]
struct Waiting<T> {
    /// Each chunk with its articles and bytes.
    chunks: VecDeque<(T, usize, usize)>,
    articles: usize,
    bytes: usize,
    /// When the oldest chunk waiting came.
    oldest: Option<Instant>,
    /// No more chunks will come.
    closed: bool,
    /// The committer stopped on an error: chunks are refused.
    stopped: bool,
}

impl<T> Default for Handoff<T> {
    fn default() -> Self {
        Handoff {
            state: Mutex::new(Waiting {
                chunks: VecDeque::new(),
                articles: 0,
                bytes: 0,
                oldest: None,
                closed: false,
                stopped: false,
            }),
            changed: Condvar::new(),
        }
    }
}

impl<T> Handoff<T> {
    fn lock(&self) -> MutexGuard<'_, Waiting<T>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn wait<'g>(&self, guard: MutexGuard<'g, Waiting<T>>) -> MutexGuard<'g, Waiting<T>> {
        self.changed
            .wait(guard)
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues a chunk of `articles` holding `bytes`; false when the committer has stopped.
    fn put(&self, chunk: T, articles: usize, bytes: usize) -> bool {
        let mut state = self.lock();
        while !state.stopped && (state.articles >= BATCH_ARTICLES || state.bytes >= BATCH_BYTES) {
            state = self.wait(state);
        }
        if state.stopped {
            return false;
        }
        state.articles += articles;
        state.bytes += bytes;
        state.oldest.get_or_insert_with(Instant::now);
        state.chunks.push_back((chunk, articles, bytes));
        self.changed.notify_all();
        true
    }

    /// The next batch to commit: the chunks waiting, in order, up to a batch (at least one
    /// chunk); `None` once closed and empty. While the input goes on it waits for
    /// [`COMMIT_MIN`] articles (fewer, larger commits write less), but no longer than
    /// half [`BATCH_TIME`] after the oldest chunk came.
    fn take(&self) -> Option<Vec<T>> {
        let mut state = self.lock();
        while state.chunks.is_empty() && !state.closed {
            state = self.wait(state);
        }
        while !state.closed && !state.stopped && state.articles < COMMIT_MIN {
            let Some(since) = state.oldest else { break };
            let left = (BATCH_TIME / 2).saturating_sub(since.elapsed());
            if left.is_zero() {
                break;
            }
            state = self
                .changed
                .wait_timeout(state, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        let (first, mut articles, mut bytes) = state.chunks.pop_front()?;
        let mut batch = vec![first];
        while state.chunks.front().is_some_and(|(_, more, more_bytes)| {
            articles + more <= BATCH_ARTICLES && bytes + more_bytes <= BATCH_BYTES
        }) {
            let Some((chunk, more, more_bytes)) = state.chunks.pop_front() else {
                break;
            };
            batch.push(chunk);
            articles += more;
            bytes += more_bytes;
        }
        state.articles -= articles;
        state.bytes -= bytes;
        state.oldest = (!state.chunks.is_empty()).then(Instant::now);
        self.changed.notify_all();
        Some(batch)
    }

    /// No more chunks: the committer ends once it has taken those waiting.
    fn close(&self) {
        self.lock().closed = true;
        self.changed.notify_all();
    }

    /// The committer failed: drop what waits and refuse more.
    fn stop(&self) {
        let mut state = self.lock();
        state.stopped = true;
        state.chunks.clear();
        self.changed.notify_all();
    }
}

impl Importer<'_> {
    fn consume(&mut self, rx: &mpsc::Receiver<Vec<Item>>, budget: &Budget) -> anyhow::Result<()> {
        let handoff: Handoff<Ready> = Handoff::default();
        let mut committer = Committer {
            archive: self.archive,
            policy: self.policy,
            ctx: self.ctx,
            progress: self.progress.clone(),
            stdout_open: true,
            tally: Tally::default(),
        };
        let (gathered, committed) = std::thread::scope(|scope| {
            let handoff = &handoff;
            let thread = scope.spawn(move || {
                let mut outcome = Ok(());
                while let Some(chunks) = handoff.take() {
                    let (sources, ready): (Vec<Vec<Source>>, Vec<Vec<Prepared>>) =
                        chunks.into_iter().unzip();
                    let ready = ready.into_iter().flatten().collect();
                    outcome = committer.commit(&sources.concat(), ready);
                    if outcome.is_err() {
                        handoff.stop();
                        break;
                    }
                }
                (outcome, committer.tally)
            });
            let gathered = self.gather(rx, budget, handoff);
            // No more chunks: the committer finishes those waiting and ends.
            handoff.close();
            let committed = thread
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            (gathered, committed)
        });
        let (committed, counts) = committed;
        self.tally.stored += counts.stored;
        self.tally.duplicates += counts.duplicates;
        self.tally.filled += counts.filled;
        // The committer's error first: when it failed, the gatherer only saw it stop.
        committed.and(gathered)
    }

    /// Gathers drafts into chunks and hands each, prepared, to the committer.
    fn gather(
        &mut self,
        rx: &mpsc::Receiver<Vec<Item>>,
        budget: &Budget,
        handoff: &Handoff<Ready>,
    ) -> anyhow::Result<()> {
        let mut chunk: Vec<(Source, Draft)> = Vec::new();
        let mut chunk_bytes = 0usize;
        let mut deadline = Instant::now();
        loop {
            let items = if chunk.is_empty() {
                match rx.recv() {
                    Ok(items) => Some(items),
                    Err(_) => break,
                }
            } else {
                match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                    Ok(items) => Some(items),
                    Err(RecvTimeoutError::Timeout) => None,
                    Err(RecvTimeoutError::Disconnected) => break,
                }
            };
            let timed_out = items.is_none();
            for item in items.into_iter().flatten() {
                match item {
                    Item::Parsed(source, parsed) => {
                        for warning in parsed.warnings {
                            self.tally.warnings.push((source.clone(), warning));
                        }
                        if chunk.is_empty() {
                            deadline = Instant::now() + BATCH_TIME / 2;
                        }
                        chunk_bytes += parsed.draft.body.len();
                        chunk.push((source, parsed.draft));
                    }
                    Item::Failed(source, reason) => self.tally.fail(source, reason),
                }
                if (chunk.len() >= PREPARE_ARTICLES || chunk_bytes >= BATCH_BYTES)
                    && !self.hand_over(&mut chunk, &mut chunk_bytes, budget, handoff)?
                {
                    return Ok(());
                }
            }
            if timed_out && !self.hand_over(&mut chunk, &mut chunk_bytes, budget, handoff)? {
                return Ok(());
            }
        }
        // Refused only when the committer failed, which it returns.
        self.hand_over(&mut chunk, &mut chunk_bytes, budget, handoff)?;
        Ok(())
    }

    /// Prepares the chunk gathered and hands it to the committer; false when the committer has
    /// stopped (on an error, which it returns).
    fn hand_over(
        &mut self,
        chunk: &mut Vec<(Source, Draft)>,
        chunk_bytes: &mut usize,
        budget: &Budget,
        handoff: &Handoff<Ready>,
    ) -> anyhow::Result<bool> {
        let ready = self.prepare(std::mem::take(chunk))?;
        budget.release(std::mem::take(chunk_bytes));
        let (articles, bytes) = (
            ready.1.len(),
            ready.1.iter().map(Prepared::held_bytes).sum(),
        );
        Ok(articles == 0 || handoff.put(ready, articles, bytes))
    }

    /// Has the archive prepare a batch (in parallel); drafts it refuses become failures.
    fn prepare(&mut self, batch: Vec<(Source, Draft)>) -> anyhow::Result<Ready> {
        if batch.is_empty() {
            return Ok((Vec::new(), Vec::new()));
        }
        let (batch_sources, drafts): (Vec<Source>, Vec<Draft>) = batch.into_iter().unzip();
        let prepared: Vec<morgue_meta::Result<Prepared>> = self
            .archive
            .prepare_batch(drafts)
            .context("compressing a batch for the archive")?;
        let mut sources = Vec::with_capacity(prepared.len());
        let mut ready = Vec::with_capacity(prepared.len());
        for (source, result) in batch_sources.into_iter().zip(prepared) {
            match result {
                Ok(p) => {
                    sources.push(source);
                    ready.push(p);
                }
                Err(err) => self.tally.fail(source, error_lines(&err.into()).join(": ")),
            }
        }
        Ok((sources, ready))
    }
}

/// The committing stage: commits each prepared batch, makes it durable, then reports it.
struct Committer<'a> {
    archive: &'a Archive,
    policy: MergePolicy,
    ctx: &'a Ctx,
    progress: ProgressBar,
    /// False once stdout was closed (`import -v | head`): the import goes on, quietly.
    stdout_open: bool,
    /// Stored, duplicates and filled counts.
    tally: Tally,
}

impl Committer<'_> {
    /// A line on stderr, above the progress bar when there is one.
    fn note(&self, line: &str) {
        if self.progress.is_hidden() {
            eprintln!("{line}");
        } else {
            self.progress.println(line);
        }
    }

    fn commit(&mut self, sources: &[Source], ready: Vec<Prepared>) -> anyhow::Result<()> {
        let archive = self.archive;
        let outcomes = archive
            .commit(ready, self.policy)
            .context("writing to the archive")?;
        archive.flush().context("writing the archive to disk")?;

        // Durable now: report.
        let mut stored_lines = String::new();
        for (source, outcome) in sources.iter().zip(outcomes) {
            match outcome {
                AddOutcome::Added { id } => {
                    self.tally.stored += 1;
                    if self.ctx.verbose {
                        let _ = writeln!(stored_lines, "stored {id}");
                    }
                }
                AddOutcome::Duplicate { id, filled } => {
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
            }
        }
        if !stored_lines.is_empty() && self.stdout_open {
            let written = self.progress.suspend(|| {
                let mut out = io::stdout().lock();
                out.write_all(stored_lines.as_bytes())
                    .and_then(|()| out.flush())
            });
            if written.is_err() {
                self.stdout_open = false;
            }
        }
        let articles = self.tally.stored + self.tally.duplicates;
        self.progress.set_message(format!("{articles} articles"));
        Ok(())
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

    #[test]
    fn the_budget_lets_one_oversized_article_through_alone_and_stops_when_closed() {
        let budget = Budget::new(10);
        assert!(budget.acquire(25), "alone, even a large article passes");
        budget.release(25);
        assert!(budget.acquire(6));
        std::thread::scope(|scope| {
            let waiter = scope.spawn(|| budget.acquire(6));
            budget.close();
            assert!(!waiter.join().unwrap(), "a closed budget refuses");
        });
    }

    #[test]
    fn the_committer_takes_every_chunk_waiting_up_to_a_batch() {
        let handoff: Handoff<u32> = Handoff::default();
        // A batch is waiting: the next put waits until the committer takes it.
        let part = BATCH_ARTICLES * 2 / 5;
        assert!(handoff.put(1, part, 10));
        assert!(handoff.put(2, part, 10));
        assert!(handoff.put(3, part, 10));
        std::thread::scope(|scope| {
            let fourth = scope.spawn(|| handoff.put(4, part, 10));
            assert_eq!(
                handoff.take(),
                Some(vec![1, 2]),
                "up to a batch of articles"
            );
            assert!(fourth.join().unwrap());
        });
        // Too many bytes for one commit: one chunk at a time.
        assert!(handoff.put(5, 10, BATCH_BYTES - 1));
        handoff.close();
        assert_eq!(handoff.take(), Some(vec![3, 4]));
        assert_eq!(handoff.take(), Some(vec![5]));
        assert_eq!(handoff.take(), None);
    }

    #[test]
    fn a_stopped_committer_refuses_chunks_and_frees_a_waiting_preparer() {
        let handoff: Handoff<u32> = Handoff::default();
        assert!(handoff.put(1, BATCH_ARTICLES, 0));
        std::thread::scope(|scope| {
            let waiting = scope.spawn(|| handoff.put(2, 1, 0));
            handoff.stop();
            assert!(!waiting.join().unwrap());
        });
        assert!(!handoff.put(3, 1, 0));
    }

    #[test]
    fn sources_show_path_and_line() {
        let source = Source {
            path: Arc::from("in.jsonl"),
            line: Some(7),
            seq: 0,
        };
        assert_eq!(source.to_string(), "in.jsonl:7");
        let source = Source {
            path: Arc::from("a.txt"),
            line: None,
            seq: 0,
        };
        assert_eq!(source.to_string(), "a.txt");
    }
}
