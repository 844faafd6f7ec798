//! morgue-meta: article records, secondary indexes and the atomic [`Archive`].
//!
//! An [`Archive`] is one directory: the bodies, kept by [`morgue_store`] (which numbers every
//! body with a dense sequence number), and, in the store's sled tree, one [`Record`] per article
//! packed 64 to a value by sequence number, posting lists by reporter, service and date in chunks
//! of up to 512 entries, facet counts and counters. Adding or removing articles writes all of
//! it in one atomic batch, so no reader ever sees one part without the others. Queries walk the
//! chunks of the most selective index, newest first, and never scan the archive. An archive of
//! format 1 is upgraded when first opened. docs/format.md describes every key and value byte by
//! byte. [`Archive::import`] (module [`import`]) stores a stream of articles in large batches
//! and reports each one only once it is durable. The record types are morgue-model's, re-exported.
//!
//! ```
//! use morgue_meta::{Archive, Draft, MergePolicy, Query, Record};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = tempfile::tempdir()?;
//! let archive = Archive::open(dir.path().join("morgue"))?;
//! let draft = Draft {
//!     body: "Reported by Qiao Long for RFA's Mandarin Service.".into(),
//!     record: Record {
//!         title: "A headline".into(),
//!         reporters: vec!["Qiao Long".into()],
//!         services: vec!["Mandarin".into()],
//!         ..Record::default()
//!     },
//!     original: None,
//! };
//! let id = archive.add(draft, MergePolicy::FillEmpty)?.id();
//!
//! // Names match case-insensitively, whitespace collapsed.
//! let query = Query { reporter: Some("qiao  LONG".into()), ..Query::default() };
//! let hits = archive.query(&query)?.collect::<Result<Vec<_>, _>>()?;
//! assert_eq!(hits.len(), 1);
//! assert_eq!(hits[0].id, id);
//! assert_eq!(hits[0].record.title, "A headline");
//!
//! let body = archive.body(&id)?.expect("stored");
//! assert!(body.starts_with(b"Reported by"));
//! archive.flush()?;
//! # Ok(())
//! # }
//! ```
#![deny(missing_docs)]

mod block;
mod cache;
mod codec;
mod engine;
pub mod import;
mod keys;
mod migrate;
mod pages;
mod posting;
mod query;
mod text;
mod tx;
mod v1;
mod varint;
mod verify;

use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

use block::Block;
use cache::BlockCache;
use engine::{Key, PreparedBlob, Seq, Store, View};
use keys::{NAME_INDEXES, State};
use rayon::prelude::*;
use tx::Tx;

// The record types live in morgue-model (shared with the parsers and the CLI); they are part of
// this crate's API, so they are re-exported here.
pub use morgue_model::{
    ArticleDate, DateOrigin, DatePrecision, Draft, MergePolicy, Original, OriginalRef, Record,
    normalize,
};
pub use morgue_store::{BlobId, OptimizeProgress, OptimizeReport};
pub use query::{Cursor, Hit, Hits, Index, Query};
pub use verify::{ArchiveStats, Facet, Problem, Report};
// The full-text index's query and snippet types, for embedders.
pub use morgue_text::{QueryError, Snippet, TextQuery};
pub use text::{
    SearchCursor, SearchHit, SearchHits, SearchOptions, SearchOrder, TEXT_DIR, TextSync, WarmText,
};

/// Result with the archive's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Errors of the archive.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// From the blob store: locking, header, I/O, corrupted bodies, id prefixes.
    #[error(transparent)]
    Store(#[from] morgue_store::Error),
    /// A stored record does not decode.
    #[error("record {id} is corrupted")]
    CorruptedRecord {
        /// The article id.
        id: BlobId,
    },
    /// A stored index or record-block value does not decode.
    #[error("stored value {key} is corrupted (verify reports it, reindex rebuilds the indexes)")]
    CorruptedValue {
        /// Its key, printed with non-ASCII bytes escaped.
        key: String,
    },
    /// A draft with an empty body.
    #[error("empty body")]
    EmptyBody,
    /// A query cursor that does not parse.
    #[error("invalid cursor {0:?}")]
    InvalidCursor(String),
    /// A draft whose metadata cannot be stored (e.g. a time of day beyond 86,399 seconds).
    #[error("invalid record: {0}")]
    InvalidRecord(String),
    /// The full-text index failed (I/O, a damaged index) or a query string does not parse.
    #[error(transparent)]
    Text(Box<morgue_text::Error>),
    /// A search on an archive whose text index was never built.
    #[error("the archive at {} has no text index yet: run `morgue reindex` to build it", dir.display())]
    NoTextIndex {
        /// The archive directory.
        dir: std::path::PathBuf,
    },
    /// An article's record links an original page that the archive does not hold.
    #[error("the original page {page} of article {id} is missing (verify reports it)")]
    MissingOriginal {
        /// The article id.
        id: BlobId,
        /// The page's id.
        page: BlobId,
    },
    /// A broken invariant of morgue-meta itself: a bug, not bad input or a damaged archive.
    #[error("internal error (a bug in morgue, please report it): {0}")]
    Internal(&'static str),
}

/// The error for a stored value under `key` that does not decode.
fn corrupted(key: &[u8]) -> Error {
    Error::CorruptedValue {
        key: key.escape_ascii().to_string(),
    }
}

/// How to open an archive: the store's options (`create`: commands that only read pass false and
/// get `Error::Store(morgue_store::Error::NoArchive { .. })` on a missing archive).
pub use morgue_store::Options as OpenOptions;

/// The outcome of adding one draft.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AddOutcome {
    /// A new article was stored.
    Added {
        /// Its id.
        id: BlobId,
    },
    /// The body was already stored.
    Duplicate {
        /// The existing article.
        id: BlobId,
        /// Names of the record fields that the draft filled (or replaced), e.g. `"reporters"`.
        filled: Vec<&'static str>,
    },
}

impl AddOutcome {
    /// The article's id.
    pub fn id(&self) -> BlobId {
        match self {
            AddOutcome::Added { id } | AddOutcome::Duplicate { id, .. } => *id,
        }
    }
}

/// A draft hashed and compressed, ready to commit. Build many at once with
/// [`Archive::prepare_batch`] (or one by one, in parallel, with [`Archive::prepare`]), then
/// commit them from one thread with [`Archive::commit`].
pub struct Prepared {
    blob: PreparedBlob,
    /// The record as a new article stores it (`imported_at` set), encoded at prepare time so
    /// that the committing thread does not have to (nor free the drafted record's strings).
    encoded: Vec<u8>,
    /// Whether `encoded` carries an `imported_at` that the draft did not have.
    stamped: bool,
    /// What the indexes hold for the record, computed at prepare time too.
    indexed: Indexed,
    /// The draft's original page, hashed and compressed (the record links it already).
    page: Option<PreparedBlob>,
}

impl Prepared {
    /// Encodes and indexes `record` (with `imported_at` set to `now` when given and unset).
    fn new(
        blob: PreparedBlob,
        mut record: Record,
        now: Option<i64>,
        page: Option<PreparedBlob>,
    ) -> Prepared {
        let stamped = now.is_some() && record.imported_at.is_none();
        if stamped {
            record.imported_at = now;
        }
        Prepared {
            encoded: codec::encode(&record, blob.raw_len),
            indexed: Indexed::of(&record),
            blob,
            stamped,
            page,
        }
    }

    /// The record as drafted (for merging into a stored one: rare, so decoded on demand).
    fn draft(&self) -> Result<Record> {
        draft_record(&self.blob.id, &self.encoded, self.stamped)
    }
}

impl std::fmt::Debug for Prepared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prepared")
            .field("id", &self.blob.id)
            .field("raw_len", &self.blob.raw_len)
            .field("record", &self.draft().ok())
            .finish_non_exhaustive()
    }
}

impl Prepared {
    /// The article id the draft will have.
    pub fn id(&self) -> BlobId {
        self.blob.id
    }

    /// Bytes it holds until committed: its compressed body and page and its encoded record.
    pub fn held_bytes(&self) -> usize {
        self.blob.stored_len() as usize
            + self.page.as_ref().map_or(0, |p| p.stored_len() as usize)
            + self.encoded.len()
    }
}

/// The archive: bodies, records and indexes in one directory. `Send + Sync`.
pub struct Archive {
    store: Store,
    /// Our keys of the store's shared tree.
    tree: View,
    blocks: BlockCache,
    /// Serializes this archive's writers (taken before the store's writer), so that `reindex`
    /// never races a commit.
    writer: Mutex<()>,
    upgraded_from: Option<u32>,
    /// The full-text index (module `text`), opened when first needed.
    text: Mutex<text::TextState>,
}

impl std::fmt::Debug for Archive {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Archive")
            .field("path", &self.path())
            .finish_non_exhaustive()
    }
}

/// What the indexes hold for one record.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Indexed {
    /// Its date key.
    date: u64,
    /// Per entry of [`NAME_INDEXES`]: normalized name and spelling first seen.
    names: Vec<Vec<(String, String)>>,
}

impl Indexed {
    fn of(record: &Record) -> Indexed {
        Indexed {
            date: keys::date_key(record.date),
            names: NAME_INDEXES
                .iter()
                .map(|def| keys::names(def, record))
                .collect(),
        }
    }
}

fn decode_record(id: &BlobId, value: &[u8]) -> Result<(Record, u64)> {
    codec::decode(value).map_err(|_| Error::CorruptedRecord { id: *id })
}

/// The drafted record of a [`Prepared`] from its encoded form.
fn draft_record(id: &BlobId, encoded: &[u8], stamped: bool) -> Result<Record> {
    let (mut record, _) = decode_record(id, encoded)?;
    if stamped {
        record.imported_at = None;
    }
    Ok(record)
}

/// Checks what `prepare` checks before hashing.
fn check_draft(draft: &Draft) -> Result<()> {
    if draft.body.is_empty() {
        return Err(Error::EmptyBody);
    }
    let page_len = draft
        .original
        .as_ref()
        .map_or(0, |o| (o.bytes.len() + pages::PREFIX.len()) as u64);
    for len in [draft.body.len() as u64, page_len] {
        if len > morgue_store::MAX_BLOB_BYTES {
            return Err(Error::Store(morgue_store::Error::TooLarge {
                len,
                max: morgue_store::MAX_BLOB_BYTES,
            }));
        }
    }
    if let Some(secs) = draft
        .record
        .date
        .and_then(|d| d.time)
        .filter(|&s| s >= 86_400)
    {
        return Err(Error::InvalidRecord(format!(
            "time of day {secs} s is beyond 86399 s"
        )));
    }
    Ok(())
}

/// A draft's prepared blobs: its body's, and its original page's when it has one.
type Blobs = (PreparedBlob, Option<PreparedBlob>);

/// The store group of a record: its first service, normalized ("" when none).
fn group_of(record: &Record) -> String {
    record
        .services
        .iter()
        .map(|s| normalize(s))
        .find(|s| !s.is_empty())
        .unwrap_or_default()
}

impl Archive {
    /// Opens (creating when missing) the archive at `dir`.
    pub fn open(dir: impl AsRef<Path>) -> Result<Archive> {
        Self::open_with(dir, &OpenOptions::default())
    }

    /// Opens with options.
    ///
    /// An archive written by format 1 is upgraded to format 2 first (see
    /// [`Archive::upgraded_from`]): every record is re-imported with its body, then the header
    /// says version 2 and the format-1 trees are dropped. An interrupted upgrade starts over at
    /// the next open. When the set of indexes this build declares differs from the one the
    /// archive was indexed with (or a rebuild was interrupted), the indexes are rebuilt before
    /// returning. Opened for writing (`options.create`), the archive's full-text index is built
    /// when it has none, or catches up with the archive (see [`Archive::sync_text`]).
    pub fn open_with(dir: impl AsRef<Path>, options: &OpenOptions) -> Result<Archive> {
        Self::open_with_progress(dir, options, &mut |_, _| {})
    }

    /// [`Archive::open_with`], reporting the progress of a build of the full-text index (the
    /// first write open of an archive that has none): `progress` gets (articles indexed,
    /// articles to index), and is called only during such a build.
    pub fn open_with_progress(
        dir: impl AsRef<Path>,
        options: &OpenOptions,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<Archive> {
        let dir = dir.as_ref();
        let (store, upgraded_from) = Store::open_upgrading(dir, options, |store, legacy| {
            migrate::upgrade(&Archive::on(store.clone()), legacy)
        })?;
        let archive = Archive::on(store);
        if upgraded_from.is_some() {
            // Close (leaving a sled snapshot of the new format behind, so that later opens do
            // not replay the upgrade's log) and open again.
            archive.close()?;
            let mut archive = Archive::open_with_progress(dir, options, progress)?;
            archive.upgraded_from = upgraded_from;
            return Ok(archive);
        }
        let wanted = keys::index_list();
        match archive.state_value() {
            Ok(Some(state)) if state.indexes == wanted => {}
            Ok(None) if archive.store.live().next().is_none() => {
                let _guard = archive.lock();
                let mut w = archive.store.writer();
                let state = State {
                    indexes: wanted,
                    ..State::default()
                };
                w.put(Key::new(keys::STATE_KEY)?, state.encode());
                w.commit()?;
            }
            // Another index list, an interrupted rebuild, a lost or damaged state: rebuild.
            Ok(_) | Err(Error::CorruptedValue { .. }) => {
                archive.reindex()?;
            }
            Err(e) => return Err(e),
        }
        if options.create {
            // Opened for writing: the full-text index is built, or catches up, now.
            archive.sync_text(progress)?;
        }
        Ok(archive)
    }

    /// The archive on an open store.
    fn on(store: Store) -> Archive {
        Archive {
            tree: store.view(),
            store,
            blocks: BlockCache::default(),
            writer: Mutex::new(()),
            upgraded_from: None,
            text: Mutex::default(),
        }
    }

    /// `Some(1)` when this open upgraded an archive of format 1 to format 2.
    pub fn upgraded_from(&self) -> Option<u32> {
        self.upgraded_from
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, ()> {
        self.writer.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The stored meta state, if any.
    fn state_value(&self) -> Result<Option<State>> {
        match self.tree.get(keys::STATE_KEY).map_err(Error::Store)? {
            None => Ok(None),
            Some(v) => State::decode(&v)
                .map(Some)
                .ok_or_else(|| corrupted(keys::STATE_KEY)),
        }
    }

    /// The archive directory.
    pub fn path(&self) -> &Path {
        self.store.path()
    }

    /// Whether the archive was opened read-only (on read-only media, a read-only mount or
    /// without write permission; see [`morgue_store::Store::read_only`]): every read works,
    /// every write fails.
    pub fn read_only(&self) -> bool {
        self.store.read_only()
    }

    /// Adds one draft in its own commit.
    pub fn add(&self, draft: Draft, policy: MergePolicy) -> Result<AddOutcome> {
        let mut out = self.add_batch(vec![draft], policy)?;
        out.pop()
            .ok_or(Error::Internal("commit returned no outcome for a draft"))
    }

    /// Adds many drafts in one commit (prepare + commit). Fails as a whole on the first draft
    /// that cannot be prepared.
    pub fn add_batch(&self, drafts: Vec<Draft>, policy: MergePolicy) -> Result<Vec<AddOutcome>> {
        let prepared = self
            .prepare_batch(drafts)?
            .into_iter()
            .collect::<Result<Vec<_>>>()?;
        self.commit(prepared, policy)
    }

    /// Hashes and compresses a draft, outside any commit. Thread-safe. Fails on an empty
    /// body. [`Archive::prepare_batch`] does many at once, on all cores, and lets the store
    /// train compression dictionaries on them.
    pub fn prepare(&self, draft: Draft) -> Result<Prepared> {
        self.prepare_batch(vec![draft])?
            .pop()
            .unwrap_or(Err(Error::Internal(
                "prepare returned no result for a draft",
            )))
    }

    /// Hashes and compresses many drafts on all cores, outside any commit; one result per
    /// draft, in order (an empty body, an invalid time of day or an oversized body fail that
    /// draft only). Each body is compressed in the store group of its first service
    /// (normalized; "" when none), whose dictionary the store trains when the batch is large
    /// enough. The outer error is an archive failure.
    pub fn prepare_batch(&self, drafts: Vec<Draft>) -> Result<Vec<Result<Prepared>>> {
        let checks: Vec<Result<()>> = drafts.iter().map(check_draft).collect();
        let groups: Vec<String> = drafts.iter().map(|d| group_of(&d.record)).collect();
        // Original pages are blobs of their own, in a group per site (see module `pages`).
        let pages: Vec<Option<(Vec<u8>, String)>> = drafts
            .iter()
            .zip(&checks)
            .map(|(d, c)| {
                let original = d.original.as_ref().filter(|_| c.is_ok())?;
                Some((pages::blob(original), pages::group(&d.record)))
            })
            .collect();
        let mut items: Vec<(&[u8], &str)> = Vec::with_capacity(drafts.len());
        for (((d, c), g), page) in drafts.iter().zip(&checks).zip(&groups).zip(&pages) {
            if c.is_ok() {
                items.push((d.body.as_bytes(), g.as_str()));
                if let Some((bytes, group)) = page {
                    items.push((bytes, group.as_str()));
                }
            }
        }
        let mut blobs = self.store.prepare_batch(&items)?.into_iter();
        drop(items);
        drop(pages);
        let now = chrono::Utc::now().timestamp();
        // Records are encoded and indexed on all cores too (and the drafts' bodies freed).
        let mut work: Vec<(Draft, Result<Blobs>)> = Vec::with_capacity(drafts.len());
        for (draft, check) in drafts.into_iter().zip(checks) {
            let missing = || Error::Internal("a prepared body is missing from its batch");
            let blob = check.and_then(|()| {
                let body = blobs.next().ok_or_else(missing)?;
                let page = match draft.original {
                    Some(_) => Some(blobs.next().ok_or_else(missing)?),
                    None => None,
                };
                Ok((body, page))
            });
            work.push((draft, blob));
        }
        Ok(work
            .into_par_iter()
            .map(|(draft, blob)| {
                let (blob, page) = blob?;
                let mut record = draft.record;
                if let (Some(page), Some(original)) = (&page, &draft.original) {
                    record.original = Some(pages::reference(page, original));
                }
                Ok(Prepared::new(blob, record, Some(now), page))
            })
            .collect())
    }

    /// Commits prepared drafts in one atomic batch: bodies, records, posting chunks, facets and
    /// counters. A draft whose body is already stored (or appears earlier in the same batch) is
    /// merged into the stored record under `policy`. Not durable until [`Archive::flush`].
    /// A new article's `imported_at`, when its draft had none, is the time it was prepared.
    pub fn commit(&self, prepared: Vec<Prepared>, policy: MergePolicy) -> Result<Vec<AddOutcome>> {
        if prepared.is_empty() {
            return Ok(Vec::new());
        }
        let _guard = self.lock();
        let mut w = self.store.writer();
        let mut tx = Tx::new(self)?;
        let mut out = Vec::with_capacity(prepared.len());
        let mut blobs = Vec::with_capacity(prepared.len());
        let mut rest = Vec::with_capacity(prepared.len());
        for p in prepared {
            rest.push((p.blob.raw_len, p.encoded, p.stamped, p.indexed, p.page));
            blobs.push(p.blob);
        }
        let mut pages = pages::Changes::default();
        // Finds a stored (or staged, or earlier in the batch) copy of each body first, walking
        // the store's id index once for the whole batch.
        let placed = w.place_many(blobs)?;
        for (placed, (body_len, encoded, stamped, indexed, page)) in placed.into_iter().zip(rest) {
            let (id, seq) = (placed.id, placed.seq);
            if let Some(bytes) = tx.record(seq)? {
                let (mut record, body_len) = decode_record(&id, &bytes)?;
                let old = Indexed::of(&record);
                let old_original = record.original.clone();
                let filled = record.merge(&draft_record(&id, &encoded, stamped)?, policy);
                if record.original != old_original {
                    if let Some(old) = &old_original {
                        pages.unlink(old);
                    }
                    if let Some(new) = &record.original {
                        pages.link(new, page);
                    }
                }
                if filled.contains(&"title") {
                    self.text_touch(seq);
                }
                if !filled.is_empty() {
                    tx.set_record(seq, Some(codec::encode(&record, body_len)))?;
                    tx.index(seq, Some(&old), Some(&Indexed::of(&record)));
                }
                out.push(AddOutcome::Duplicate { id, filled });
            } else {
                // A new body, or one stored without a record (healed here).
                if let Some(page) = page {
                    let (record, _) = decode_record(&id, &encoded)?;
                    if let Some(original) = &record.original {
                        pages.link(original, Some(page));
                    }
                }
                tx.set_record(seq, Some(encoded))?;
                tx.index(seq, None, Some(&indexed));
                tx.state.articles += 1;
                tx.state.raw_bytes += body_len;
                out.push(AddOutcome::Added { id });
            }
        }
        pages.apply(self, &mut w)?;
        self.finish(tx, w)?;
        Ok(out)
    }

    /// Ends a commit or a removal: stages the transaction's writes in the store's writer and
    /// commits them as one batch. The record-block cache forgets the blocks the batch wrote even
    /// when the commit fails (whether sled applied part of it is not known).
    fn finish(&self, tx: Tx<'_>, mut w: engine::Writer<'_>) -> Result<()> {
        let blocks = tx.finish(&mut w)?;
        let committed = w.commit();
        self.blocks.invalidate(blocks);
        Ok(committed?)
    }

    /// The decoded record block `block` (empty when absent), through the cache.
    fn block(&self, block: u32) -> Result<Arc<Block>> {
        self.blocks.get(block, || self.load_block(block))
    }

    /// Reads and decodes record block `block` from the tree (empty when absent).
    fn load_block(&self, block: u32) -> Result<Block> {
        let key = block::key(block);
        match self.tree.get(key).map_err(Error::Store)? {
            None => Ok(Block::default()),
            Some(v) => Block::decode(&v).map_err(|_| corrupted(&key)),
        }
    }

    /// The record bytes at `seq`, if any.
    fn record_bytes(&self, seq: Seq) -> Result<Option<Box<[u8]>>> {
        let (b, slot) = block::locate(seq);
        Ok(self.block(b)?.get(slot).map(Into::into))
    }

    /// The id and record of the live article at `seq`; `None` when its record is gone (a
    /// dangling index entry: verify reports it) or its body (removed meanwhile).
    fn live_record(&self, seq: Seq) -> Result<Option<(BlobId, Record)>> {
        let Some(bytes) = self.record_bytes(seq)? else {
            return Ok(None);
        };
        let Some(id) = self.store.id_at(seq)? else {
            return Ok(None);
        };
        Ok(Some((id, decode_record(&id, &bytes)?.0)))
    }

    /// The record of an article.
    pub fn record(&self, id: &BlobId) -> Result<Option<Record>> {
        let Some(seq) = self.store.seq_of(id)? else {
            return Ok(None);
        };
        let bytes = match self.record_bytes(seq) {
            Ok(bytes) => bytes,
            // Its record block does not decode.
            Err(Error::CorruptedValue { .. }) => return Err(Error::CorruptedRecord { id: *id }),
            Err(e) => return Err(e),
        };
        match bytes {
            Some(bytes) => Ok(Some(decode_record(id, &bytes)?.0)),
            None => Ok(None),
        }
    }

    /// The body of an article, exactly as stored (verified against its id).
    pub fn body(&self, id: &BlobId) -> Result<Option<Vec<u8>>> {
        Ok(self.store.get(id)?)
    }

    /// The article named by a unique hex prefix (at least 4 characters). Original pages are
    /// not articles: their ids never match.
    pub fn resolve(&self, prefix: &str) -> Result<BlobId> {
        Ok(self.store.resolve_where(prefix, |seq| {
            self.page_count(seq)
                .map(|c| c.is_none())
                .map_err(|e| morgue_store::Error::Internal(e.to_string()))
        })?)
    }

    /// Removes an article, its index entries and its body in one atomic batch; and its
    /// original page, unless another record links it too. False if absent (an original
    /// page's id names no article: false too).
    ///
    /// A record that does not decode is removed with its body, but its index entries (and its
    /// page's reference) cannot be known: `verify` then reports them and `reindex` mends them.
    pub fn remove(&self, id: &BlobId) -> Result<bool> {
        let _guard = self.lock();
        let mut w = self.store.writer();
        let Some(seq) = w.find(id)? else {
            return Ok(false);
        };
        let mut tx = Tx::new(self)?;
        let record = tx.record(seq)?;
        if record.is_none() && self.page_count(seq)?.is_some() {
            return Ok(false);
        }
        let mut pages = pages::Changes::default();
        if let Some(bytes) = record
            && let Ok((record, body_len)) = codec::decode(&bytes)
        {
            tx.index(seq, Some(&Indexed::of(&record)), None);
            tx.state.articles = tx.state.articles.saturating_sub(1);
            tx.state.raw_bytes = tx.state.raw_bytes.saturating_sub(body_len);
            if let Some(original) = &record.original {
                pages.unlink(original);
            }
        }
        tx.set_record(seq, None)?;
        w.remove(seq)?;
        pages.apply(self, &mut w)?;
        self.finish(tx, w)?;
        self.text_touch(seq);
        Ok(true)
    }

    /// Every article, in the order it was first stored (for export).
    pub fn iter(&self) -> impl Iterator<Item = Result<(BlobId, Record)>> + '_ {
        let mut blocks = self.tree.scan_prefix([block::TAG]);
        let mut pending: std::vec::IntoIter<(Seq, Box<[u8]>)> = Vec::new().into_iter();
        std::iter::from_fn(move || {
            loop {
                if let Some((seq, bytes)) = pending.next() {
                    match self.store.id_at(seq) {
                        Ok(Some(id)) => return Some(decode_record(&id, &bytes).map(|r| (id, r.0))),
                        Ok(None) => continue, // removed meanwhile; verify reports strays
                        Err(e) => return Some(Err(e.into())),
                    }
                }
                let (k, v) = match blocks.next()? {
                    Ok(kv) => kv,
                    Err(e) => return Some(Err(Error::Store(e))),
                };
                let Some(b) = block::parse_key(&k) else {
                    return Some(Err(corrupted(&k)));
                };
                let Ok(decoded) = Block::decode(&v) else {
                    return Some(Err(corrupted(&k)));
                };
                pending = decoded
                    .present()
                    .map(|(slot, r)| (b * block::SLOTS as u32 + slot as u32, r.into()))
                    .collect::<Vec<_>>()
                    .into_iter();
            }
        })
    }

    /// Reporters with counts, most first (then by name).
    pub fn reporters(&self) -> Result<Vec<Facet>> {
        self.facet_list(keys::REPORTER)
    }

    /// Services with counts, most first (then by name).
    pub fn services(&self) -> Result<Vec<Facet>> {
        self.facet_list(keys::SERVICE)
    }

    fn facet_list(&self, index: usize) -> Result<Vec<Facet>> {
        let mut out = Vec::new();
        for kv in self
            .tree
            .scan_prefix([keys::FACET_TAG, NAME_INDEXES[index].tag])
        {
            let (_, v) = kv.map_err(Error::Store)?;
            if let Some((count, name)) = keys::parse_facet(&v) {
                out.push(Facet {
                    name: name.to_string(),
                    count,
                });
            }
        }
        out.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.name.cmp(&b.name)));
        Ok(out)
    }

    /// Recompresses the bodies with dictionaries trained on the archive's own bodies (per
    /// service where a service has enough of them) and compacts the id index, in resumable
    /// steps of one atomic batch each. Ids, records and indexes do not change. The text
    /// index's merge, [`Archive::optimize_text`], goes first.
    pub fn optimize(&self, progress: &mut dyn FnMut(OptimizeProgress)) -> Result<OptimizeReport> {
        let _guard = self.lock();
        Ok(self.store.optimize(progress)?)
    }

    /// Makes everything committed so far durable, then brings the full-text index up to date
    /// (building it, when the archive has none, as [`Archive::sync_text`] does).
    pub fn flush(&self) -> Result<()> {
        self.flush_store()?;
        self.sync_text(&mut |_, _| {})?;
        Ok(())
    }

    /// Makes everything committed so far durable (the text index is not touched).
    pub(crate) fn flush_store(&self) -> Result<()> {
        self.store.flush()?;
        Ok(())
    }

    /// Flushes and closes the archive, leaving a fresh sled snapshot behind so that the next
    /// open does not replay sled's log (sled 0.34 snapshots only at open). For the end of a
    /// command that wrote; dropping the archive instead is correct too, only the next open is
    /// slower. Fails (after flushing) when another handle of the same archive is alive in this
    /// process.
    pub fn close(self) -> Result<()> {
        self.flush()?;
        self.close_text();
        let Archive { store, tree, .. } = self;
        drop(tree);
        store.close()?;
        Ok(())
    }
}

#[allow(dead_code)]
fn _assert_send_sync() {
    fn is<T: Send + Sync>() {}
    is::<Archive>();
    is::<Prepared>();
}

#[cfg(test)]
mod tests;
