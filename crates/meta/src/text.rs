//! The full-text index (morgue-text) kept in step with the archive, and search.
//!
//! The index lives in the archive's `text/` directory. It is derived data and never ahead of
//! the archive: it is updated only after the archive is durable (after [`Archive::flush`], and
//! in an import after each flush and its acknowledgements), and each of its commits records the
//! sequence number below which it covers every article. An import commits it only every
//! [`crate::import::ImportOptions::text_commit_articles`] articles (and at its end): the syncs
//! between add to tantivy's writer without committing. The first write to an archive without an
//! index (or with an index of another analyzer version) builds it; a write after a crash catches
//! up from the sequence number its last commit recorded. Removals, and records whose title a
//! duplicate filled, are re-indexed at the next sync. Should the process die first, a missed
//! removal leaves the count of documents above the archive's and the sync reconciles the two
//! sets of sequence numbers; a missed title stays stale until `reindex`.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use morgue_text::{Found, Snippet, TextIndex, TextQuery};

use crate::block::{self, Block};
use crate::engine::Seq;
use crate::keys;
use crate::{Archive, BlobId, Error, Record, Result, codec, normalize};

/// The directory of the text index, inside the archive directory.
pub const TEXT_DIR: &str = "text";

/// Articles indexed between two progress reports of a build.
const PROGRESS_EVERY: u64 = 1000;

/// The text index's state in an open archive.
#[derive(Default)]
pub(crate) struct TextState {
    /// Opened for writing (by the first sync).
    pub(crate) writer: Option<TextIndex>,
    /// Opened for reading (by the first search without a writer).
    reader: Option<TextIndex>,
    /// Seqs removed, or whose title changed, since the last sync.
    touched: Vec<Seq>,
    /// What syncs that did not commit (an import's, see [`TextCommit`]) left in the writer.
    uncommitted: Option<Uncommitted>,
    /// The hits of a [`WarmText`] search, for the first search of the same query and limit
    /// (taken by it, or dropped by any other), while the index is as that search read it.
    warm_hits: Option<WarmHits>,
}

/// What a [`WarmText`] search found, and of which commit of the index.
#[derive(Debug)]
struct WarmHits {
    query: TextQuery,
    limit: Option<usize>,
    found: Vec<Found>,
    read: morgue_text::Read,
}

/// Documents added to (or deleted from) the writer and not yet committed.
#[derive(Debug, Clone, Copy)]
struct Uncommitted {
    /// The bound they bring the index to: the next sync starts there.
    end: u64,
    /// Documents added and deleted.
    docs: u64,
    /// When the first of them was added.
    since: Instant,
}

/// When a sync commits the text index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TextCommit {
    /// At once (every sync but an import's).
    Now,
    /// Once this many documents were added or deleted since the last commit, or the first of
    /// them was added this long ago (an import's syncs; its end commits).
    When {
        /// Documents.
        docs: u64,
        /// Time.
        after: Duration,
    },
}

/// How search results are ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SearchOrder {
    /// Best first (BM25), ties newest stored first.
    #[default]
    Relevance,
    /// Newest first by the article's date (undated last), as `list` orders.
    Date,
}

/// What to search for besides the words: `list`'s filters, the order and a limit.
#[derive(Debug, Clone, Default)]
pub struct SearchOptions {
    /// Reporter name, matched as [`crate::Query`] matches it.
    pub reporter: Option<String>,
    /// Service name, matched the same way.
    pub service: Option<String>,
    /// First day included.
    pub since: Option<chrono::NaiveDate>,
    /// Last day included.
    pub until: Option<chrono::NaiveDate>,
    /// At most this many hits.
    pub limit: Option<usize>,
    /// The order.
    pub order: SearchOrder,
    /// Only the hits after this one, in this order (from [`SearchHit::cursor`] of the last hit
    /// of the page before): the next page. A cursor of the other order is
    /// [`Error::InvalidCursor`].
    pub after: Option<SearchCursor>,
}

/// One search result.
#[derive(Debug, Clone)]
pub struct SearchHit {
    /// The article id.
    pub id: BlobId,
    /// Its record.
    pub record: Record,
    /// Its BM25 score.
    pub score: f32,
}

impl SearchHit {
    /// Where a page that ends with this hit ends, in `order`: [`SearchOptions::after`] of the
    /// next page.
    #[must_use]
    pub fn cursor(&self, order: SearchOrder) -> SearchCursor {
        SearchCursor(match order {
            SearchOrder::Relevance => After::Score(self.score.to_bits(), self.id),
            SearchOrder::Date => After::Date(crate::Cursor {
                date_key: keys::date_key(self.record.date),
                id: self.id,
                seq: None,
            }),
        })
    }
}

/// Where a page of search hits ended: its last hit's score (best first) or date (in date
/// order) and id. Its text form (`Display`, `FromStr`) is `s`, the score's bits in 8 hex
/// digits and the id, or `d` and a [`crate::Cursor`]'s text. When that article is gone by the
/// next page, the page starts at the first hit of the same score or date: it may repeat a few
/// hits, it never skips one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SearchCursor(After);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum After {
    Score(u32, BlobId),
    Date(crate::Cursor),
}

impl std::fmt::Display for SearchCursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            After::Score(bits, id) => write!(f, "s{bits:08x}{id}"),
            After::Date(cursor) => write!(f, "d{cursor}"),
        }
    }
}

impl std::str::FromStr for SearchCursor {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let bad = || Error::InvalidCursor(s.to_string());
        let after = if let Some(rest) = s.strip_prefix('s') {
            if rest.len() != 72 || !rest.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(bad());
            }
            let bits = u32::from_str_radix(&rest[..8], 16).map_err(|_| bad())?;
            After::Score(bits, rest[8..].parse().map_err(|_| bad())?)
        } else if let Some(rest) = s.strip_prefix('d') {
            After::Date(rest.parse().map_err(|_| bad())?)
        } else {
            return Err(bad());
        };
        Ok(SearchCursor(after))
    }
}

/// The hits of a search, one at a time ([`Archive::search_iter`]). Each is a `Result`: reading
/// a hit's record can fail after the search began.
pub struct SearchHits<'a> {
    inner: Inner<'a>,
}

enum Inner<'a> {
    /// Read and ordered already.
    Sorted(std::vec::IntoIter<SearchHit>),
    /// Every hit of the index, best first, each read and filtered when reached.
    BestFirst {
        archive: &'a Archive,
        found: std::vec::IntoIter<Found>,
        picked: Option<HashSet<Seq>>,
        filter: Filter,
    },
    /// A walk of the date index newest first, taking the entries that are hits.
    Newest {
        archive: &'a Archive,
        walk: NewestWalk<'a>,
    },
}

/// A walk of the date index newest first (within a search's dates, after its cursor) that
/// takes the entries that are hits and carry the search's names.
struct NewestWalk<'a> {
    walk: crate::Hits<'a>,
    /// The scores of the hits not met yet, by seq (each removed when met: the walk ends with
    /// the last).
    scores: HashMap<Seq, f32>,
    names: Vec<(usize, String)>,
    /// Entries walked so far.
    visited: u64,
}

impl<'a> NewestWalk<'a> {
    fn new(
        archive: &'a Archive,
        found: &[Found],
        filter: &Filter,
        options: &SearchOptions,
    ) -> Result<Self> {
        Ok(NewestWalk {
            walk: filter.walk(archive, options)?,
            scores: found
                .iter()
                .filter_map(|f| Some((Seq::try_from(f.seq).ok()?, f.score)))
                .collect(),
            names: filter.names.clone(),
            visited: 0,
        })
    }

    /// The next hit the walk meets; `None` at the end of the walk or of the hits, or once
    /// more than `budget` entries are walked (then `visited` is over it).
    fn next(&mut self, archive: &Archive, budget: u64) -> Result<Option<SearchHit>> {
        while !self.scores.is_empty() {
            let Some((_, seq)) = self.walk.take_next()? else {
                break;
            };
            self.visited += 1;
            if self.visited > budget {
                break;
            }
            let Some(score) = self.scores.remove(&seq) else {
                continue;
            };
            let Some((id, record)) = archive.live_record(seq)? else {
                continue;
            };
            if crate::query::carries(&record, &self.names) {
                return Ok(Some(SearchHit { id, record, score }));
            }
        }
        Ok(None)
    }
}

impl std::fmt::Debug for SearchHits<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SearchHits").finish_non_exhaustive()
    }
}

impl SearchHits<'_> {
    fn sorted(hits: Vec<SearchHit>) -> Self {
        SearchHits {
            inner: Inner::Sorted(hits.into_iter()),
        }
    }

    fn next_hit(&mut self) -> Result<Option<SearchHit>> {
        match &mut self.inner {
            Inner::Sorted(hits) => Ok(hits.next()),
            Inner::BestFirst {
                archive,
                found,
                picked,
                filter,
            } => {
                for Found { seq, score } in found.by_ref() {
                    if let Some((_, _, hit)) =
                        archive.passing(seq, score, picked.as_ref(), filter)?
                    {
                        return Ok(Some(hit));
                    }
                }
                Ok(None)
            }
            Inner::Newest { archive, walk } => walk.next(archive, u64::MAX),
        }
    }
}

impl Iterator for SearchHits<'_> {
    type Item = Result<SearchHit>;

    fn next(&mut self) -> Option<Self::Item> {
        let next = self.next_hit();
        if next.is_err() {
            // One error ends the hits.
            self.inner = Inner::Sorted(Vec::new().into_iter());
        }
        next.transpose()
    }
}

/// A search's filters besides the order and the limit.
struct Filter {
    /// Reporter and service: index position and normalized name.
    names: Vec<(usize, String)>,
    /// Whether a date bound is given.
    dated: bool,
    /// Date keys: from `lo` (included) to `hi` (excluded).
    lo: u64,
    hi: u64,
    /// Best first after a cursor: only hits of a lower score, or of the same and a lower seq.
    score_below: Option<(f32, Seq)>,
    /// In date order after a cursor: only hits below this (date key, seq), and the cursor
    /// itself for walks of the date index.
    date_below: Option<((u64, Seq), crate::Cursor)>,
}

impl Filter {
    /// The filter of `options`, its cursor's article looked up in `archive`.
    fn of(archive: &Archive, options: &SearchOptions) -> Result<Filter> {
        let mut filter = Filter::plain(options);
        let Some(cursor) = options.after else {
            return Ok(filter);
        };
        match (cursor.0, options.order) {
            (After::Score(bits, id), SearchOrder::Relevance) => {
                // Gone since: every hit of its score comes again.
                let seq = archive.store.seq_of(&id)?.unwrap_or(Seq::MAX);
                filter.score_below = Some((f32::from_bits(bits), seq));
            }
            (After::Date(mut at), SearchOrder::Date) => {
                let seq = archive.cursor_seq(&at)?;
                at.seq = seq;
                filter.date_below = Some(((at.date_key, seq.unwrap_or(Seq::MAX)), at));
            }
            _ => return Err(Error::InvalidCursor(cursor.to_string())),
        }
        Ok(filter)
    }

    /// Whether a hit of the index comes after the cursor, best first.
    fn after_cursor(&self, found: &Found) -> bool {
        self.score_below
            .is_none_or(|(score, seq)| match found.score.total_cmp(&score) {
                std::cmp::Ordering::Less => true,
                std::cmp::Ordering::Equal => Seq::try_from(found.seq).is_ok_and(|s| s < seq),
                std::cmp::Ordering::Greater => false,
            })
    }

    /// The walk of the date index for these dates, from the cursor (if any).
    fn walk<'a>(&self, archive: &'a Archive, options: &SearchOptions) -> Result<crate::Hits<'a>> {
        archive.query(&crate::Query {
            since: options.since,
            until: options.until,
            after: self.date_below.map(|(_, cursor)| cursor),
            ..crate::Query::default()
        })
    }

    fn plain(options: &SearchOptions) -> Filter {
        let names = [
            (keys::REPORTER, &options.reporter),
            (keys::SERVICE, &options.service),
        ]
        .into_iter()
        .filter_map(|(i, n)| n.as_deref().map(|n| (i, normalize(n))))
        .collect();
        let dated = options.since.is_some() || options.until.is_some();
        let lo = options.since.map_or(0, keys::day_key);
        Filter {
            names,
            dated,
            lo: if dated { lo.max(1) } else { 0 },
            hi: match options.until.and_then(|d| d.succ_opt()) {
                Some(next) => keys::day_key(next),
                None => u64::MAX,
            },
            score_below: None,
            date_below: None,
        }
    }
}

/// The newest `limit` of `hits` (date key, seq, hit), newest first.
fn by_date(mut hits: Vec<(u64, Seq, SearchHit)>, limit: usize) -> Vec<SearchHit> {
    hits.sort_by_key(|h| std::cmp::Reverse((h.0, h.1)));
    hits.truncate(limit);
    hits.into_iter().map(|(_, _, h)| h).collect()
}

/// What a build or catch-up of the text index did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TextSync {
    /// Articles added to the index.
    pub added: u64,
    /// Articles deleted from it (removed, or re-indexed).
    pub deleted: u64,
    /// Whether the index was built from nothing.
    pub built: bool,
}

/// Entries of the date index a walk reads in about the time of one record read (a record
/// block decoded against a chunk entry; measured at 10,000,000 articles: 0.27 µs an entry, 63
/// µs a record). A search in date order with a limit walks the date index newest first and
/// takes the hits it meets ([`Archive::search`]) when, the hits spread evenly over the dates,
/// it would meet `limit` of them within this many entries for each hit; it gives up after
/// that many (the hits all old, say) and sorts the hits by their records, which costs at most
/// about twice what sorting them at once would.
const WALK_ENTRIES_PER_RECORD: u64 = 200;

fn text_error(e: morgue_text::Error) -> Error {
    Error::Text(Box::new(e))
}

/// The text index of an archive, opened and searched before the archive itself is open:
/// `morgue search` does this on a thread of its own while the archive opens (sled's open is most
/// of a fresh search at millions of articles), then hands it to the archive
/// ([`Archive::use_warm_text`]). The archive's first search of the same query and limit takes
/// these hits when the index, reloaded, is still the commit they were found in (the archive's
/// lock keeps writers out from its open on, so nothing can commit between that check and the
/// search); otherwise it searches the index itself, whose files are mapped and read by then.
#[derive(Debug)]
pub struct WarmText {
    dir: PathBuf,
    index: TextIndex,
    hits: WarmHits,
}

impl WarmText {
    /// Opens the text index of the archive at `archive_dir` for reading and searches it for
    /// the best `limit` hits of `query` (all of them when `None`). Fails as opening the index
    /// fails (no index, no archive): the archive's own search then says why.
    pub fn open(archive_dir: &Path, query: &TextQuery, limit: Option<usize>) -> Result<WarmText> {
        let dir = archive_dir.join(TEXT_DIR);
        let index = TextIndex::open(&dir).map_err(text_error)?;
        let (found, read) = index.search_read(query, limit).map_err(text_error)?;
        Ok(WarmText {
            dir,
            index,
            hits: WarmHits {
                query: query.clone(),
                limit,
                found,
                read,
            },
        })
    }
}

impl Archive {
    pub(crate) fn text_state(&self) -> MutexGuard<'_, TextState> {
        self.text.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The directory of the text index.
    pub fn text_dir(&self) -> PathBuf {
        self.path().join(TEXT_DIR)
    }

    /// Takes `warm` as the reader of this archive's text index, when it is this archive's
    /// (the same directory) and the archive has not opened its index yet. It is reloaded first,
    /// so that what was committed since `warm` was opened is found; when nothing was, the first
    /// search of `warm`'s query and limit takes the hits `warm` found. Otherwise `warm` is
    /// dropped: a search opens the index itself, as without it.
    pub fn use_warm_text(&self, warm: WarmText) {
        let mut state = self.text_state();
        if state.writer.is_none() && state.reader.is_none() && warm.dir == self.text_dir() {
            if warm.index.reload().is_ok_and(|read| read == warm.hits.read) {
                state.warm_hits = Some(warm.hits);
            }
            state.reader = Some(warm.index);
        }
    }

    /// Whether hits of a [`WarmText`] wait for the first search (tests).
    #[cfg(test)]
    pub(crate) fn warm_hits_waiting(&self) -> bool {
        self.text_state().warm_hits.is_some()
    }

    /// Notes that the text index must re-index `seq` at the next sync.
    pub(crate) fn text_touch(&self, seq: Seq) {
        self.text_state().touched.push(seq);
    }

    /// Brings the text index up to date with the durable archive: builds it when missing (or
    /// of another version), indexes the articles stored since its last commit, deletes the
    /// removed ones, and commits. Call only when everything committed is durable (after
    /// [`Archive::flush`], which calls it). `progress` gets (articles indexed, articles to
    /// index) during a build.
    pub fn sync_text(&self, progress: &mut dyn FnMut(u64, u64)) -> Result<TextSync> {
        self.sync_text_when(progress, TextCommit::Now)
    }

    /// [`Archive::sync_text`], committing the index only as `commit` says: the documents a
    /// sync adds without committing stay in the writer (tantivy writes them to segments of no
    /// commit as its memory budget fills), the next sync goes on from where it stopped, and a
    /// sync that commits (any but an import's, [`Archive::close`] among them) commits them
    /// all. Should the process die first, they are lost with their uncommitted segments, and
    /// the next writer catches up from the last commit as after any crash.
    pub(crate) fn sync_text_when(
        &self,
        progress: &mut dyn FnMut(u64, u64),
        commit: TextCommit,
    ) -> Result<TextSync> {
        let mut state = self.text_state();
        let index = self.text_writer(&mut state)?;
        let sync = self.sync_into(&index, &mut state, progress, commit);
        state.writer = Some(index);
        sync
    }

    /// The index opened for writing, taken out of `state` (opened now, the reader dropped,
    /// when there is none yet): the caller puts it back in `state.writer`.
    fn text_writer(&self, state: &mut TextState) -> Result<TextIndex> {
        if let Some(index) = state.writer.take() {
            return Ok(index);
        }
        state.reader = None;
        TextIndex::open_writable(&self.text_dir()).map_err(text_error)
    }

    fn sync_into(
        &self,
        index: &TextIndex,
        state: &mut TextState,
        progress: &mut dyn FnMut(u64, u64),
        commit: TextCommit,
    ) -> Result<TextSync> {
        let touched = std::mem::take(&mut state.touched);
        let mut sync = TextSync::default();
        let covered = index.covered().map_err(text_error)?;
        let uncommitted = state.uncommitted;
        let start = if let Some(u) = uncommitted {
            u.end
        } else if let Some(c) = covered {
            c
        } else {
            index.clear().map_err(text_error)?;
            sync.built = true;
            0
        };
        let mut seen = HashSet::new();
        for seq in touched {
            if u64::from(seq) < start && seen.insert(seq) {
                index.delete(u64::from(seq)).map_err(text_error)?;
                sync.deleted += 1;
                if let Some((title, body)) = self.text_of(seq)? {
                    index
                        .add(u64::from(seq), &title, &body)
                        .map_err(text_error)?;
                    sync.added += 1;
                }
            }
        }
        let total = if sync.built {
            self.state_value().ok().flatten().map_or(0, |s| s.articles)
        } else {
            0
        };
        let (end, added) = self.index_from(index, start, &mut |done| {
            if sync.built {
                progress(done, total);
            }
        })?;
        sync.added += added;
        let docs = uncommitted.map_or(0, |u| u.docs) + sync.added + sync.deleted;
        let changed = docs > 0 || covered != Some(end);
        if let TextCommit::When { docs: at, after } = commit {
            let since = uncommitted.map_or_else(Instant::now, |u| u.since);
            if docs < at && since.elapsed() < after {
                state.uncommitted = changed.then_some(Uncommitted { end, docs, since });
                return Ok(sync);
            }
        }
        if changed {
            index.commit(end).map_err(text_error)?;
        }
        state.uncommitted = None;
        // The safety net: a removal the index missed (the process died before the sync). A
        // damaged state (verify reports it) says nothing: compare the sets then.
        let articles = self.state_value().ok().flatten().map(|s| s.articles);
        if articles != Some(index.len().map_err(text_error)?) {
            let (added, deleted) = self.reconcile(index)?;
            sync.added += added;
            sync.deleted += deleted;
            index.commit(end).map_err(text_error)?;
        }
        Ok(sync)
    }

    /// Rebuilds the text index from the archive (`reindex`).
    pub fn rebuild_text(&self, progress: &mut dyn FnMut(u64, u64)) -> Result<TextSync> {
        {
            let mut state = self.text_state();
            let index = self.text_writer(&mut state)?;
            // Covers nothing: the sync below adds everything.
            let cleared = index.clear().and_then(|()| index.commit(0));
            state.writer = Some(index);
            cleared.map_err(text_error)?;
            state.touched.clear();
            state.uncommitted = None;
        }
        let mut sync = self.sync_text(progress)?;
        sync.built = true;
        Ok(sync)
    }

    /// Merges the text index's small segments into one, leaving the large ones
    /// ([`morgue_text::merge_plan`]; `optimize`), after bringing it up to date. Call it before
    /// [`Archive::optimize`], as `morgue optimize` does: sled keeps much of what the store's
    /// steps read until the archive is closed, so a merge after them adds its memory to that
    /// (at 10,000,000 articles 943 MB at the peak against 613 MB; docs/performance.md).
    pub fn optimize_text(&self) -> Result<()> {
        self.sync_text(&mut |_, _| {})?;
        let state = self.text_state();
        state
            .writer
            .as_ref()
            .expect("opened by the sync")
            .merge()
            .map_err(text_error)
    }

    /// Closes the text index (the end of [`Archive::close`]): waits for its merges.
    pub(crate) fn close_text(&self) {
        let mut state = self.text_state();
        state.writer = None;
        state.reader = None;
    }

    /// The title and body (lossy UTF-8) of the article at `seq`, if one is there. A body that
    /// cannot be read is indexed as empty (verify reports it).
    fn text_of(&self, seq: Seq) -> Result<Option<(String, String)>> {
        let bytes = match self.record_bytes(seq) {
            Ok(Some(bytes)) => bytes,
            // No record, or its block does not decode (verify reports it).
            Ok(None) | Err(Error::CorruptedValue { .. }) => return Ok(None),
            Err(e) => return Err(e),
        };
        let Ok((record, _)) = codec::decode(&bytes) else {
            return Ok(None);
        };
        let body = match self.store.get_at(seq) {
            Ok(Some(b)) => String::from_utf8_lossy(&b).into_owned(),
            Ok(None) => return Ok(None),
            Err(morgue_store::Error::Damaged { .. } | morgue_store::Error::Corrupted { .. }) => {
                String::new()
            }
            Err(e) => return Err(e.into()),
        };
        Ok(Some((record.title, body)))
    }

    /// Adds every article from `start` on; returns the new covered bound and the count added.
    fn index_from(
        &self,
        index: &TextIndex,
        start: u64,
        progress: &mut dyn FnMut(u64),
    ) -> Result<(u64, u64)> {
        let first = u32::try_from(start / block::SLOTS as u64).unwrap_or(u32::MAX);
        let mut end = start;
        let mut added = 0;
        for kv in self
            .tree
            .range(block::key(first)..=block::key(u32::MAX / block::SLOTS as u32))
        {
            let (k, v) = kv.map_err(Error::Store)?;
            let (Some(b), Ok(decoded)) = (block::parse_key(&k), Block::decode(&v)) else {
                continue; // verify reports it
            };
            let seqs: Vec<Seq> = decoded
                .present()
                .map(|(slot, _)| b * block::SLOTS as u32 + slot as u32)
                .filter(|&s| u64::from(s) >= start)
                .collect();
            for seq in seqs {
                end = end.max(u64::from(seq) + 1);
                if let Some((title, body)) = self.text_of(seq)? {
                    index
                        .add(u64::from(seq), &title, &body)
                        .map_err(text_error)?;
                    added += 1;
                    if added % PROGRESS_EVERY == 0 {
                        progress(added);
                    }
                }
            }
        }
        progress(added);
        Ok((end, added))
    }

    /// The seqs of every record, ascending.
    fn record_seqs(&self) -> Result<Vec<Seq>> {
        let mut out = Vec::new();
        for kv in self.tree.scan_prefix([block::TAG]) {
            let (k, v) = kv.map_err(Error::Store)?;
            let (Some(b), Ok(decoded)) = (block::parse_key(&k), Block::decode(&v)) else {
                continue;
            };
            out.extend(
                decoded
                    .present()
                    .map(|(slot, _)| b * block::SLOTS as u32 + slot as u32),
            );
        }
        Ok(out)
    }

    /// Makes the index hold each record's seq exactly once: deletes what it should not hold
    /// (and what it holds twice, then re-adds it), adds what it lacks. Not committed.
    fn reconcile(&self, index: &TextIndex) -> Result<(u64, u64)> {
        let records: HashSet<u64> = self.record_seqs()?.into_iter().map(u64::from).collect();
        let indexed = index.seqs().map_err(text_error)?;
        let (mut added, mut deleted) = (0, 0);
        let mut once = HashSet::new();
        for w in indexed.chunk_by(|a, b| a == b) {
            let seq = w[0];
            once.insert(seq);
            if !records.contains(&seq) || w.len() > 1 {
                index.delete(seq).map_err(text_error)?;
                deleted += 1;
                if records.contains(&seq) {
                    once.remove(&seq);
                }
            }
        }
        let mut missing: Vec<u64> = records.difference(&once).copied().collect();
        missing.sort_unstable();
        for seq in missing {
            if let Some((title, body)) = self.text_of(seq as Seq)? {
                index.add(seq, &title, &body).map_err(text_error)?;
                added += 1;
            }
        }
        Ok((added, deleted))
    }

    /// The problems of the text index, for verify: missing, behind the archive, an article
    /// not indexed or indexed twice, a document of no article.
    pub(crate) fn verify_text(&self) -> Result<Vec<String>> {
        let dir = self.text_dir();
        // An index that lags behind is not damaged: it catches up first, as at any write.
        let open = self.text_state().writer.is_some();
        if !self.read_only() && (open || TextIndex::exists(&dir)) {
            self.flush_store()?;
            if let Err(e) = self.sync_text(&mut |_, _| {}) {
                return Ok(vec![format!("text index: {e}")]);
            }
        }
        let own;
        let state = self.text_state();
        let index = match &state.writer {
            Some(w) => w,
            None => match TextIndex::open(&dir) {
                Ok(i) => {
                    own = i;
                    &own
                }
                // An archive of no article may lack it (a process killed between creating the
                // archive and its index): the next write builds it, and nothing is unfound.
                Err(morgue_text::Error::Missing { .. }) if self.record_seqs()?.is_empty() => {
                    return Ok(Vec::new());
                }
                Err(morgue_text::Error::Missing { .. }) => {
                    return Ok(vec![format!(
                        "text index {} is missing (morgue reindex builds it)",
                        dir.display()
                    )]);
                }
                Err(e) => return Ok(vec![format!("text index: {e}")]),
            },
        };
        let mut problems = Vec::new();
        let records = self.record_seqs()?;
        let indexed = match index.seqs() {
            Ok(s) => s,
            Err(e) => return Ok(vec![format!("text index: {e}")]),
        };
        let covered = index.covered().ok().flatten();
        if covered.is_none() {
            problems.push("text index of another version (morgue reindex rebuilds it)".into());
        }
        let records_set: HashSet<u64> = records.iter().map(|&s| u64::from(s)).collect();
        let mut counts: std::collections::HashMap<u64, u32> = std::collections::HashMap::new();
        for s in &indexed {
            *counts.entry(*s).or_default() += 1;
        }
        for &seq in &records {
            let what = match counts.get(&u64::from(seq)) {
                None => "not in the text index",
                Some(1) => continue,
                Some(_) => "in the text index more than once",
            };
            let id = self.store.id_at(seq).ok().flatten();
            problems.push(match id {
                Some(id) => format!("article {id} {what}"),
                None => format!("article at seq {seq} {what}"),
            });
        }
        for (seq, _) in counts.iter().filter(|(s, _)| !records_set.contains(s)) {
            problems.push(format!("text index holds seq {seq}, which is no article"));
        }
        problems.sort();
        Ok(problems)
    }

    /// Searches the text index. Fails with [`Error::NoTextIndex`] when the archive holds
    /// articles but no text index (`morgue reindex` builds it), with [`Error::Text`] on a malformed query string.
    pub fn search_str(&self, query: &str, options: &SearchOptions) -> Result<Vec<SearchHit>> {
        let q = TextQuery::parse(query).map_err(|e| text_error(e.into()))?;
        self.search(&q, options)
    }

    /// Searches the text index for `query`, with `list`'s filters. Hits whose article is gone
    /// are skipped. Every hit at once: [`Archive::search_iter`] gives them one at a time.
    pub fn search(&self, query: &TextQuery, options: &SearchOptions) -> Result<Vec<SearchHit>> {
        self.search_iter(query, options)?.collect()
    }

    /// [`Archive::search`], one hit at a time, in the same order.
    ///
    /// Best first with a limit and no filter, the index is asked for the best `limit` hits only
    /// (twice as many again while articles that are gone leave fewer); otherwise for every hit,
    /// which the filters then pick from. With a reporter or a service that fewer articles
    /// carry than there are hits, or dates that hold fewer, the hits are first picked by that
    /// name's posting chunks or the date index (which hold each article's seq and date): only
    /// the records of the hits picked are read, not one record for every hit until enough
    /// match. In date order with many hits, the date index is walked newest first and the hits
    /// it meets are taken (when that pays: a record read costs about as much as 200 entries of
    /// the walk), instead of reading and sorting every hit's record.
    ///
    /// Without a limit, best first or by a walk of the date index, each hit's record is read
    /// when the iterator reaches it: what is held meanwhile is the seq and score of every hit,
    /// not their records (at 10,000,000 articles, a word in most of them is hundreds of MB of
    /// records). In date order without the walk (few hits), the hits are read and sorted
    /// first.
    pub fn search_iter(
        &self,
        query: &TextQuery,
        options: &SearchOptions,
    ) -> Result<SearchHits<'_>> {
        let filter = Filter::of(self, options)?;
        if let Some(limit) = options.limit {
            let hits = self.search_limited(query, options, &filter, limit)?;
            return Ok(SearchHits::sorted(hits));
        }
        let Some(found) = self.found_after(query, None, &filter)? else {
            return Ok(SearchHits::sorted(Vec::new()));
        };
        let picked = self.picked(&filter.names, options, found.len())?;
        if options.order == SearchOrder::Relevance {
            return Ok(SearchHits {
                inner: Inner::BestFirst {
                    archive: self,
                    found: found.into_iter(),
                    picked,
                    filter,
                },
            });
        }
        let hits = u64::try_from(found.len()).unwrap_or(u64::MAX);
        let articles = self.state_value()?.unwrap_or_default().articles;
        if picked.is_none() && hits.saturating_mul(WALK_ENTRIES_PER_RECORD) >= articles {
            return Ok(SearchHits {
                inner: Inner::Newest {
                    archive: self,
                    walk: NewestWalk::new(self, &found, &filter, options)?,
                },
            });
        }
        let mut dated = Vec::new();
        for Found { seq, score } in found {
            if let Some(hit) = self.passing(seq, score, picked.as_ref(), &filter)? {
                dated.push(hit);
            }
        }
        Ok(SearchHits::sorted(by_date(dated, usize::MAX)))
    }

    /// [`Archive::search_iter`] with a limit: the hits, all read.
    fn search_limited(
        &self,
        query: &TextQuery,
        options: &SearchOptions,
        filter: &Filter,
        limit: usize,
    ) -> Result<Vec<SearchHit>> {
        let unfiltered = options.order == SearchOrder::Relevance
            && filter.names.is_empty()
            && !filter.dated
            && options.after.is_none();
        let mut ask = Some(limit).filter(|_| unfiltered);
        loop {
            let Some(found) = self.found_after(query, ask, filter)? else {
                return Ok(Vec::new());
            };
            let cut = ask.is_some_and(|n| found.len() >= n);
            let picked = match ask {
                None => self.picked(&filter.names, options, found.len())?,
                Some(_) => None,
            };
            if options.order == SearchOrder::Date
                && picked.is_none()
                && let Some(hits) = self.newest_hits(&found, filter, options, limit)?
            {
                return Ok(hits);
            }
            let mut hits: Vec<(u64, Seq, SearchHit)> = Vec::new();
            for Found { seq, score } in found {
                if options.order == SearchOrder::Relevance && hits.len() >= limit {
                    break;
                }
                if let Some(hit) = self.passing(seq, score, picked.as_ref(), filter)? {
                    hits.push(hit);
                }
            }
            if cut && hits.len() < limit {
                // Articles removed since they were indexed took places: ask for more.
                ask = ask.map(|n| n.saturating_mul(2).max(16));
                continue;
            }
            if options.order == SearchOrder::Date {
                return Ok(by_date(hits, limit));
            }
            return Ok(hits.into_iter().map(|(_, _, h)| h).collect());
        }
    }

    /// The hit at `seq` with its date key, when its article is there, among `picked` (if
    /// any), and passes `filter`.
    fn passing(
        &self,
        seq: u64,
        score: f32,
        picked: Option<&HashSet<Seq>>,
        filter: &Filter,
    ) -> Result<Option<(u64, Seq, SearchHit)>> {
        let Ok(seq) = Seq::try_from(seq) else {
            return Ok(None);
        };
        if picked.is_some_and(|p| !p.contains(&seq)) {
            return Ok(None);
        }
        let Some((id, record)) = self.live_record(seq)? else {
            return Ok(None);
        };
        let date = keys::date_key(record.date);
        let passes = (filter.lo..filter.hi).contains(&date)
            && filter
                .date_below
                .is_none_or(|(below, _)| (date, seq) < below)
            && crate::query::carries(&record, &filter.names);
        Ok(passes.then_some((date, seq, SearchHit { id, record, score })))
    }

    /// The newest `limit` of the hits `found` within the dates that carry `names`, from a walk
    /// of the date index newest first that takes each entry that is a hit — the records of
    /// those alone read, not those of every hit to sort them. `None` when the walk would not
    /// pay or stopped (see [`WALK_ENTRIES_PER_RECORD`]).
    fn newest_hits(
        &self,
        found: &[Found],
        filter: &Filter,
        options: &SearchOptions,
        limit: usize,
    ) -> Result<Option<Vec<SearchHit>>> {
        let hits = u64::try_from(found.len()).unwrap_or(u64::MAX).max(1);
        let articles = self.state_value()?.unwrap_or_default().articles;
        let budget = hits.saturating_mul(WALK_ENTRIES_PER_RECORD);
        let expected = u64::try_from(limit)
            .unwrap_or(u64::MAX)
            .saturating_mul(articles)
            / hits;
        if expected > budget {
            return Ok(None);
        }
        let mut walk = NewestWalk::new(self, found, filter, options)?;
        let mut taken = Vec::new();
        while taken.len() < limit {
            let Some(hit) = walk.next(self, budget)? else {
                break;
            };
            taken.push(hit);
        }
        Ok((walk.visited <= budget).then_some(taken))
    }

    /// The seqs of the articles that pass the filter's name with the fewest articles and its
    /// dates, from that name's posting chunks — when a name is given and no more articles
    /// carry it than there are `hits` — or else, best first, from the date index when the
    /// dates hold no more articles than that: reading that many entries of an index costs less
    /// than reading the records of the hits in turn until enough pass. `None` otherwise. (In
    /// date order [`Archive::newest_hits`] walks the dates itself, and reads the records of the
    /// newest `limit` hits only, where the picked hits would all be read to be sorted.)
    fn picked(
        &self,
        names: &[(usize, String)],
        options: &SearchOptions,
        hits: usize,
    ) -> Result<Option<HashSet<Seq>>> {
        let mut fewest = u64::MAX;
        for (index, norm) in names {
            fewest = fewest.min(self.facet_count(*index, norm)?);
        }
        let by_name = fewest <= u64::try_from(hits).unwrap_or(u64::MAX);
        let by_dates = (options.since.is_some() || options.until.is_some())
            && options.order == SearchOrder::Relevance;
        if !by_name && !by_dates {
            return Ok(None);
        }
        let query = crate::Query {
            reporter: options.reporter.clone().filter(|_| by_name),
            service: options.service.clone().filter(|_| by_name),
            since: options.since,
            until: options.until,
            limit: None,
            after: None,
        };
        Ok(self
            .positions(&query, hits)?
            .map(|positions| positions.into_iter().map(|(_, seq)| seq).collect()))
    }

    /// The hits of the text index for `query` (the best `limit`, or all), opening the index
    /// for reading when no writer has it; `None` for an archive of no article and no index.
    fn found(&self, query: &TextQuery, limit: Option<usize>) -> Result<Option<Vec<Found>>> {
        let mut state = self.text_state();
        if state.writer.is_none() && state.reader.is_none() {
            match TextIndex::open(&self.text_dir()) {
                Ok(i) => state.reader = Some(i),
                // An archive of no article (a process killed between creating it and its
                // index) has nothing to find: not an error.
                Err(morgue_text::Error::Missing { .. }) if self.iter().next().is_none() => {
                    return Ok(None);
                }
                Err(morgue_text::Error::Missing { .. }) => {
                    return Err(Error::NoTextIndex {
                        dir: self.path().to_path_buf(),
                    });
                }
                Err(e) => return Err(text_error(e)),
            }
        }
        if let Some(warm) = state.warm_hits.take()
            && state.writer.is_none()
            && warm.limit == limit
            && warm.query == *query
        {
            return Ok(Some(warm.found));
        }
        let index = state
            .writer
            .as_ref()
            .or(state.reader.as_ref())
            .expect("opened above");
        index.search(query, limit).map(Some).map_err(text_error)
    }

    /// [`Archive::found`], less the hits at or before the cursor of a best-first `filter`.
    fn found_after(
        &self,
        query: &TextQuery,
        limit: Option<usize>,
        filter: &Filter,
    ) -> Result<Option<Vec<Found>>> {
        let mut found = self.found(query, limit)?;
        if filter.score_below.is_some()
            && let Some(found) = &mut found
        {
            found.retain(|f| filter.after_cursor(f));
        }
        Ok(found)
    }

    /// A snippet of the article's body around what `query` looks for (see
    /// [`morgue_text::snippet`]).
    pub fn snippet(&self, query: &TextQuery, id: &BlobId, max_chars: usize) -> Result<Snippet> {
        let body = self.body(id)?.unwrap_or_default();
        Ok(morgue_text::snippet(
            query,
            &String::from_utf8_lossy(&body),
            max_chars,
        ))
    }
}
