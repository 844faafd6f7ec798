//! Bulk import: the pipeline that stores a stream of articles and reports each one only once it
//! is durable.
//!
//! [`Archive::import`] runs the caller's source on a reader thread of its own, which hands
//! [`Item`]s (articles read, or why one could not be read, each with its [`Source`]) to a
//! [`Feed`]. The calling thread gathers the drafts into chunks of
//! [`ImportOptions::prepare_articles`] (or [`ImportOptions::batch_bytes`] of bodies, or what half
//! [`ImportOptions::batch_time`] brought) and has the archive hash and compress each chunk at once
//! ([`Archive::prepare_batch`], on all cores). A committer thread takes all the prepared chunks
//! waiting (up to [`ImportOptions::batch_articles`] or [`ImportOptions::batch_bytes`]), commits
//! them in one atomic commit, flushes it to disk, and only then sends [`Event::Stored`] and
//! [`Event::Duplicate`] for their articles, while the next chunks are read and prepared. What was
//! reported is durable. The body bytes read but not yet prepared are bounded by
//! [`ImportOptions::read_budget`], so memory stays bounded whatever the input.
//!
//! Nothing here prints: the caller receives [`Event`]s (on the gathering and the committing
//! thread in turn, never at once) and shows them as it likes.
//!
//! ```
//! use std::sync::Arc;
//! use morgue_meta::import::{Event, ImportOptions, Item, Parsed, Source};
//! use morgue_meta::{Archive, Draft};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = tempfile::tempdir()?;
//! let archive = Archive::open(dir.path().join("morgue"))?;
//! let mut stored = Vec::new();
//! let summary = archive.import(
//!     &ImportOptions::default(),
//!     |feed| {
//!         // A real source reads files (morgue-ingest) on this thread.
//!         for (line, body) in ["It rained.", "", "It rained."].into_iter().enumerate() {
//!             let source = Source { path: Arc::from("feed.jsonl"), line: Some(line as u64 + 1), seq: 0 };
//!             let draft = Draft { body: body.into(), ..Draft::default() };
//!             let parsed = Parsed { draft, warnings: Vec::new() };
//!             if !feed.push(Item::Parsed(source, Box::new(parsed))) {
//!                 return; // the import stopped on an error, which it returns
//!             }
//!         }
//!     },
//!     |event| {
//!         if let Event::Stored { source, id } = event {
//!             stored.push((source.to_string(), id)); // durable now
//!         }
//!     },
//! )?;
//! assert_eq!((summary.stored, summary.duplicates, summary.failed), (1, 1, 1));
//! assert_eq!(stored[0].0, "feed.jsonl:1");
//! # Ok(())
//! # }
//! ```

use std::collections::VecDeque;
use std::sync::mpsc::{self, RecvTimeoutError, SyncSender};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use morgue_model::{Draft, MergePolicy};

// What a source hands on (morgue-model's types, so that readers need not depend on the archive).
pub use morgue_model::{Item, Parsed, Source};

use crate::text::TextCommit;
use crate::{AddOutcome, Archive, BlobId, Error, Prepared};

/// Items a [`Feed`] hands on at once (fewer when its source calls [`Feed::send`]).
const SEND_ENTRIES: usize = 256;
/// Sends the channel holds: enough for the reader to go on while a chunk is prepared.
const SEND_CHUNKS: usize = 64;

/// The limits of an import. The defaults are those of `morgue import`; tests make them small.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// What a duplicate's metadata does to the stored record.
    pub policy: MergePolicy,
    /// At most this many articles per commit (default 20,000). Commits are large on purpose:
    /// each rewrites the index chunks it touches, so fewer, larger commits write far fewer bytes
    /// (at 1M articles, 10,000 per commit imported twice as fast as 1,000, into a quarter of the
    /// disk space, and 20,000 took 17-19 s instead of 23 s; 40,000 no less).
    pub batch_articles: usize,
    /// At most about this many body bytes per commit, and per chunk prepared (default 32 MiB).
    pub batch_bytes: usize,
    /// Drafts hashed and compressed at once (default 2,000): small enough that the last chunk
    /// of an input leaves little work after the reading ends, large enough to keep all cores
    /// busy. The committer still commits whole batches of them.
    pub prepare_articles: usize,
    /// The committer waits for this many articles (or the end of the input, or half
    /// [`ImportOptions::batch_time`]) before it commits (default 5,000).
    pub commit_min: usize,
    /// Body bytes read but not yet prepared, at most (default 16 MiB; one larger article passes
    /// alone): several chunks, so that the reader need not wait while the store trains a
    /// dictionary.
    pub read_budget: usize,
    /// An article is committed (and reported) at the latest about this long after it was read,
    /// plus the time of the commit itself, however slow the input (default 500 ms): half of it
    /// for its chunk to fill before it is prepared, half for the committer to gather
    /// [`ImportOptions::commit_min`].
    pub batch_time: Duration,
    /// When the archive is flushed to disk (default: after every commit).
    pub flush: Flush,
    /// The full-text index is brought up to date after every flush, but committed (its new
    /// articles made searchable, and durable) only once this many articles were indexed since
    /// its last commit (default 250,000), or [`ImportOptions::text_commit_time`] after the
    /// first of them, and at the end of the import. Each commit of the index ends its segments
    /// in progress, which its merges then rewrite: a 1,000,000-article import that committed it
    /// after every flush (50 times) took 43 s instead of 37 s. Acknowledgements never wait on
    /// the index; after a crash the next writer re-indexes what the index had not committed.
    pub text_commit_articles: u64,
    /// See [`ImportOptions::text_commit_articles`] (default 60 s).
    pub text_commit_time: Duration,
}

impl Default for ImportOptions {
    fn default() -> Self {
        ImportOptions {
            policy: MergePolicy::FillEmpty,
            batch_articles: 20_000,
            batch_bytes: 32 << 20,
            prepare_articles: 2_000,
            commit_min: 5_000,
            read_budget: 16 << 20,
            batch_time: Duration::from_millis(500),
            flush: Flush::EveryCommit,
            text_commit_articles: 250_000,
            text_commit_time: Duration::from_secs(60),
        }
    }
}

/// When an import flushes the archive to disk. Either way an article is reported only once it
/// is durable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Flush {
    /// After every commit, and each commit's articles are reported then (`morgue import`).
    #[default]
    EveryCommit,
    /// Once, at the end of the import; every article is reported after it. Faster for a bulk
    /// load that nobody watches, but a crash loses the whole import (never the archive).
    AtEnd,
}

/// What an import tells its caller, in order for each article: its warnings, then whether it was
/// stored, a duplicate, refused or unreadable.
#[derive(Debug)]
#[non_exhaustive]
pub enum Event {
    /// Something about an article worth telling, which did not stop it.
    Warning {
        /// Where the article came from.
        source: Source,
        /// The warning.
        message: String,
    },
    /// The source could not read an article ([`Item::Failed`], passed through).
    Failed {
        /// Where.
        source: Source,
        /// Why, as the source said.
        reason: String,
    },
    /// The archive refused a draft (an empty body, an invalid time of day, an oversized body).
    Rejected {
        /// Where the draft came from.
        source: Source,
        /// Why.
        error: Error,
    },
    /// A new article, stored and durable.
    Stored {
        /// Where it came from.
        source: Source,
        /// Its id.
        id: BlobId,
    },
    /// The body was already stored; the record took the draft's metadata under the import's
    /// policy. Durable.
    Duplicate {
        /// Where the draft came from.
        source: Source,
        /// The stored article.
        id: BlobId,
        /// Names of the record fields that the draft filled (or replaced).
        filled: Vec<&'static str>,
    },
    /// A commit is durable and all its articles were reported: progress.
    Durable {
        /// Articles in this commit.
        articles: usize,
        /// Articles stored or found duplicate so far in this import.
        total: u64,
    },
}

/// The counts of an import.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ImportSummary {
    /// New articles stored.
    pub stored: u64,
    /// Duplicates of stored articles.
    pub duplicates: u64,
    /// Duplicates whose draft filled (or replaced) some metadata.
    pub filled: u64,
    /// Items the source could not read, and drafts the archive refused.
    pub failed: u64,
    /// Warnings.
    pub warnings: u64,
    /// Records the source passed over as holding no article (WARC records that are not HTML
    /// responses of status 200), as it said with [`Feed::skipped`].
    pub skipped: u64,
}

/// Why an import stopped. What was reported before it is durable.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ImportError {
    /// Preparing a chunk (hashing, compressing, training a dictionary) failed.
    #[error("compressing a batch for the archive")]
    Prepare(#[source] Error),
    /// A commit failed.
    #[error("writing to the archive")]
    Commit(#[source] Error),
    /// Flushing a commit to disk failed.
    #[error("writing the archive to disk")]
    Flush(#[source] Error),
    /// Bringing the full-text index up to date failed (what was reported is durable).
    #[error("updating the text index")]
    Text(#[source] Error),
}

/// The reader's end of an import: [`Feed::push`] each item read; items go on in chunks, or at
/// once with [`Feed::send`] (call it before waiting for slow input, so that what was read is
/// stored meanwhile).
#[derive(Debug)]
pub struct Feed<'a> {
    tx: SyncSender<Vec<Item>>,
    budget: &'a Budget,
    items: Vec<Item>,
    skipped: &'a std::sync::atomic::AtomicU64,
}

/// The bytes a draft holds while it waits: its body and its original page.
fn held(draft: &crate::Draft) -> usize {
    draft.body.len() + draft.original.as_ref().map_or(0, |o| o.bytes.len())
}

impl Feed<'_> {
    /// Hands on one item; waits while the bodies read but not yet prepared exceed the read
    /// budget. False when the import has stopped (on an error): the source should return.
    pub fn push(&mut self, item: Item) -> bool {
        if let Item::Parsed(_, parsed) = &item
            && !self.budget.acquire(held(&parsed.draft))
        {
            return false;
        }
        self.items.push(item);
        self.items.len() < SEND_ENTRIES || self.send()
    }

    /// Counts `records` of the input as passed over: they hold no article by design (a WARC's
    /// requests, metadata, non-HTML responses); the import's summary adds them up.
    pub fn skipped(&mut self, records: u64) {
        self.skipped
            .fetch_add(records, std::sync::atomic::Ordering::Relaxed);
    }

    /// Hands on the items pushed so far. False when the import has stopped.
    pub fn send(&mut self) -> bool {
        self.items.is_empty() || self.tx.send(std::mem::take(&mut self.items)).is_ok()
    }
}

impl Archive {
    /// Imports what `source` reads, on a thread of its own, into the archive; reports each
    /// article through `on_event` once it is durable (see the [module](crate::import) docs for
    /// the pipeline). Returns the counts when the source has returned and everything it handed
    /// on is durable; on an error, the source is stopped at its next push and what was reported
    /// before stays durable.
    pub fn import<S, E>(
        &self,
        options: &ImportOptions,
        source: S,
        on_event: E,
    ) -> Result<ImportSummary, ImportError>
    where
        S: FnOnce(&mut Feed<'_>) + Send,
        E: FnMut(Event) + Send,
    {
        self.import_with(options, source, on_event, &Archive::flush_store)
    }

    /// [`Archive::import`] with the flush given (tests watch it).
    pub(crate) fn import_with<S, E>(
        &self,
        options: &ImportOptions,
        source: S,
        on_event: E,
        flush: &(dyn Fn(&Archive) -> crate::Result<()> + Sync),
    ) -> Result<ImportSummary, ImportError>
    where
        S: FnOnce(&mut Feed<'_>) + Send,
        E: FnMut(Event) + Send,
    {
        let events = Events {
            inner: Mutex::new(Counted {
                handler: on_event,
                summary: ImportSummary::default(),
            }),
        };
        // Room for a whole batch, so that the reader parses the next batch while the writer
        // compresses and commits this one (with room for 1,024, parsing and writing took turns:
        // an import of Reuters took 1.1 s instead of 0.6 s). Memory stays bounded by the budget.
        let (tx, rx) = mpsc::sync_channel::<Vec<Item>>(SEND_CHUNKS);
        let budget = Budget::new(options.read_budget);
        let skipped = std::sync::atomic::AtomicU64::new(0);
        let limits = Limits::of(options);
        let pipeline = Pipeline {
            archive: self,
            options,
            limits,
            events: &events,
            flush,
        };
        let outcome = std::thread::scope(|scope| {
            let (budget, skipped) = (&budget, &skipped);
            scope.spawn(move || {
                let mut feed = Feed {
                    tx,
                    budget,
                    items: Vec::new(),
                    skipped,
                };
                source(&mut feed);
                feed.send();
            });
            let outcome = pipeline.consume(&rx, budget);
            // On an error, closing both stops the reader at its next item.
            budget.close();
            drop(rx);
            outcome
        });
        outcome.map(|()| ImportSummary {
            skipped: skipped.into_inner(),
            ..events.summary()
        })
    }
}

/// The caller's event handler, called from one thread at a time, and the counts so far.
struct Events<E> {
    inner: Mutex<Counted<E>>,
}

struct Counted<E> {
    handler: E,
    summary: ImportSummary,
}

impl<E: FnMut(Event)> Events<E> {
    fn lock(&self) -> MutexGuard<'_, Counted<E>> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn emit(&self, event: Event) {
        let mut counted = self.lock();
        let summary = &mut counted.summary;
        match &event {
            Event::Warning { .. } => summary.warnings += 1,
            Event::Failed { .. } | Event::Rejected { .. } => summary.failed += 1,
            Event::Stored { .. } => summary.stored += 1,
            Event::Duplicate { filled, .. } => {
                summary.duplicates += 1;
                summary.filled += u64::from(!filled.is_empty());
            }
            Event::Durable { .. } => {}
        }
        (counted.handler)(event);
    }

    /// Articles stored or found duplicate so far.
    fn total(&self) -> u64 {
        let summary = self.lock().summary;
        summary.stored + summary.duplicates
    }

    fn summary(&self) -> ImportSummary {
        self.lock().summary
    }
}

/// The limits the handoff and the gatherer use.
#[derive(Debug, Clone, Copy)]
struct Limits {
    batch_articles: usize,
    batch_bytes: usize,
    commit_min: usize,
    batch_time: Duration,
}

impl Limits {
    fn of(options: &ImportOptions) -> Limits {
        Limits {
            batch_articles: options.batch_articles.max(1),
            batch_bytes: options.batch_bytes.max(1),
            commit_min: options.commit_min,
            batch_time: options.batch_time,
        }
    }
}

/// Bounds the body bytes between the reader and the writer (in the channel or in the chunk being
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
    limits: Limits,
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

impl<T> Handoff<T> {
    fn new(limits: Limits) -> Self {
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
            limits,
        }
    }

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
        let limits = self.limits;
        let mut state = self.lock();
        while !state.stopped
            && (state.articles >= limits.batch_articles || state.bytes >= limits.batch_bytes)
        {
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
    /// `commit_min` articles (fewer, larger commits write less), but no longer than half
    /// `batch_time` after the oldest chunk came.
    fn take(&self) -> Option<Vec<T>> {
        let limits = self.limits;
        let mut state = self.lock();
        while state.chunks.is_empty() && !state.closed {
            state = self.wait(state);
        }
        while !state.closed && !state.stopped && state.articles < limits.commit_min {
            let Some(since) = state.oldest else { break };
            let left = (limits.batch_time / 2).saturating_sub(since.elapsed());
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
            articles + more <= limits.batch_articles && bytes + more_bytes <= limits.batch_bytes
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

/// The writing side, in two stages: the calling thread gathers drafts into chunks and has the
/// archive prepare each (hash and compress, on all cores); a committer thread commits, flushes
/// and reports the chunks prepared before, meanwhile, as many at once as a batch holds.
/// Reports keep their order and still come only after the flush of their batch.
struct Pipeline<'a, E> {
    archive: &'a Archive,
    options: &'a ImportOptions,
    limits: Limits,
    events: &'a Events<E>,
    flush: &'a (dyn Fn(&Archive) -> crate::Result<()> + Sync),
}

impl<E: FnMut(Event) + Send> Pipeline<'_, E> {
    fn consume(&self, rx: &mpsc::Receiver<Vec<Item>>, budget: &Budget) -> Result<(), ImportError> {
        let handoff: Handoff<Ready> = Handoff::new(self.limits);
        let (gathered, committed) = std::thread::scope(|scope| {
            let handoff = &handoff;
            let thread = scope.spawn(move || {
                let mut committer = Committer {
                    pipeline: self,
                    pending: Vec::new(),
                };
                while let Some(chunks) = handoff.take() {
                    let (sources, ready): (Vec<Vec<Source>>, Vec<Vec<Prepared>>) =
                        chunks.into_iter().unzip();
                    let ready = ready.into_iter().flatten().collect();
                    if let Err(err) = committer.commit(sources.concat(), ready) {
                        handoff.stop();
                        return Err(err);
                    }
                }
                committer.finish()
            });
            let gathered = self.gather(rx, budget, handoff);
            // No more chunks: the committer finishes those waiting and ends.
            handoff.close();
            let committed = thread
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            (gathered, committed)
        });
        // The committer's error first: when it failed, the gatherer only saw it stop.
        committed.and(gathered)
    }

    /// Gathers drafts into chunks and hands each, prepared, to the committer.
    fn gather(
        &self,
        rx: &mpsc::Receiver<Vec<Item>>,
        budget: &Budget,
        handoff: &Handoff<Ready>,
    ) -> Result<(), ImportError> {
        let prepare_articles = self.options.prepare_articles.max(1);
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
                        for message in parsed.warnings {
                            self.events.emit(Event::Warning {
                                source: source.clone(),
                                message,
                            });
                        }
                        if chunk.is_empty() {
                            deadline = Instant::now() + self.limits.batch_time / 2;
                        }
                        chunk_bytes += held(&parsed.draft);
                        chunk.push((source, parsed.draft));
                    }
                    Item::Failed(source, reason) => {
                        self.events.emit(Event::Failed { source, reason });
                    }
                }
                if (chunk.len() >= prepare_articles || chunk_bytes >= self.limits.batch_bytes)
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
        &self,
        chunk: &mut Vec<(Source, Draft)>,
        chunk_bytes: &mut usize,
        budget: &Budget,
        handoff: &Handoff<Ready>,
    ) -> Result<bool, ImportError> {
        let ready = self.prepare(std::mem::take(chunk))?;
        budget.release(std::mem::take(chunk_bytes));
        let (articles, bytes) = (
            ready.1.len(),
            ready.1.iter().map(Prepared::held_bytes).sum(),
        );
        Ok(articles == 0 || handoff.put(ready, articles, bytes))
    }

    /// Has the archive prepare a chunk (in parallel); drafts it refuses are reported.
    fn prepare(&self, chunk: Vec<(Source, Draft)>) -> Result<Ready, ImportError> {
        if chunk.is_empty() {
            return Ok((Vec::new(), Vec::new()));
        }
        let (chunk_sources, drafts): (Vec<Source>, Vec<Draft>) = chunk.into_iter().unzip();
        let prepared = self
            .archive
            .prepare_batch(drafts)
            .map_err(ImportError::Prepare)?;
        let mut sources = Vec::with_capacity(prepared.len());
        let mut ready = Vec::with_capacity(prepared.len());
        for (source, result) in chunk_sources.into_iter().zip(prepared) {
            match result {
                Ok(p) => {
                    sources.push(source);
                    ready.push(p);
                }
                Err(error) => self.events.emit(Event::Rejected { source, error }),
            }
        }
        Ok((sources, ready))
    }
}

/// The committing stage: commits each prepared batch, makes it durable, then reports it.
struct Committer<'p, 'a, E> {
    pipeline: &'p Pipeline<'a, E>,
    /// With [`Flush::AtEnd`]: the outcomes committed, reported after the final flush.
    pending: Vec<(Vec<Source>, Vec<AddOutcome>)>,
}

impl<E: FnMut(Event) + Send> Committer<'_, '_, E> {
    fn commit(&mut self, sources: Vec<Source>, ready: Vec<Prepared>) -> Result<(), ImportError> {
        let pipeline = self.pipeline;
        let outcomes = pipeline
            .archive
            .commit(ready, pipeline.options.policy)
            .map_err(ImportError::Commit)?;
        match pipeline.options.flush {
            Flush::AtEnd => self.pending.push((sources, outcomes)),
            Flush::EveryCommit => {
                (pipeline.flush)(pipeline.archive).map_err(ImportError::Flush)?;
                // Durable now: report, then index (acknowledgements never wait on it).
                self.report(sources, outcomes);
                let options = pipeline.options;
                pipeline
                    .archive
                    .sync_text_when(
                        &mut |_, _| {},
                        TextCommit::When {
                            docs: options.text_commit_articles,
                            after: options.text_commit_time,
                        },
                    )
                    .map_err(ImportError::Text)?;
            }
        }
        Ok(())
    }

    /// After the last commit: with [`Flush::AtEnd`], flushes and reports everything; then
    /// commits the text index.
    fn finish(mut self) -> Result<(), ImportError> {
        let pipeline = self.pipeline;
        if !self.pending.is_empty() {
            (pipeline.flush)(pipeline.archive).map_err(ImportError::Flush)?;
            for (sources, outcomes) in std::mem::take(&mut self.pending) {
                self.report(sources, outcomes);
            }
        }
        pipeline
            .archive
            .sync_text(&mut |_, _| {})
            .map_err(ImportError::Text)?;
        Ok(())
    }

    fn report(&self, sources: Vec<Source>, outcomes: Vec<AddOutcome>) {
        let events = self.pipeline.events;
        let articles = outcomes.len();
        for (source, outcome) in sources.into_iter().zip(outcomes) {
            events.emit(match outcome {
                AddOutcome::Added { id } => Event::Stored { source, id },
                AddOutcome::Duplicate { id, filled } => Event::Duplicate { source, id, filled },
            });
        }
        events.emit(Event::Durable {
            articles,
            total: events.total(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> Limits {
        Limits::of(&ImportOptions::default())
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
        let limits = limits();
        let handoff: Handoff<u32> = Handoff::new(limits);
        // A batch is waiting: the next put waits until the committer takes it.
        let part = limits.batch_articles * 2 / 5;
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
        assert!(handoff.put(5, 10, limits.batch_bytes - 1));
        handoff.close();
        assert_eq!(handoff.take(), Some(vec![3, 4]));
        assert_eq!(handoff.take(), Some(vec![5]));
        assert_eq!(handoff.take(), None);
    }

    #[test]
    fn a_stopped_committer_refuses_chunks_and_frees_a_waiting_preparer() {
        let limits = limits();
        let handoff: Handoff<u32> = Handoff::new(limits);
        assert!(handoff.put(1, limits.batch_articles, 0));
        std::thread::scope(|scope| {
            let waiting = scope.spawn(|| handoff.put(2, 1, 0));
            handoff.stop();
            assert!(!waiting.join().unwrap());
        });
        assert!(!handoff.put(3, 1, 0));
    }
}
