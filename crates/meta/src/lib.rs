//! morgue-meta: article records, secondary indexes and the atomic [`Archive`].
//!
//! An [`Archive`] is one directory holding one sled database: the bodies (through
//! [`morgue_store`]), one [`Record`] per article, and secondary indexes by reporter, service and
//! date. Adding or removing an article writes its body, record, index entries, facet counts and
//! archive counters in one sled transaction, so no reader ever sees one without the others.
//! Queries range-scan the most selective index, newest first, and never scan the archive.
//! docs/format.md describes every tree, key and value byte by byte.
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
mod codec;
mod engine;
mod keys;
mod posting;
mod query;
pub mod record;
mod varint;
mod verify;

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use engine::sled;
use engine::sled::Transactional;
use engine::sled::transaction::{
    ConflictableTransactionError, ConflictableTransactionResult, TransactionError,
    TransactionalTree,
};
use engine::{Database, PreparedBlob, Store};
use keys::{Counters, IndexDef, NAME_INDEXES};

pub use keys::normalize;
pub use morgue_store::BlobId;
pub use query::Hits;
pub use record::{ArticleDate, DateOrigin, Draft, Record};

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
    /// A draft with an empty body.
    #[error("empty body")]
    EmptyBody,
    /// A query cursor that does not parse.
    #[error("invalid cursor {0:?}")]
    InvalidCursor(String),
    /// A draft whose metadata cannot be stored (e.g. a time of day beyond 86,399 seconds).
    #[error("invalid record: {0}")]
    InvalidRecord(String),
}

/// Maps a sled error to the archive's error.
fn engine_err(e: sled::Error) -> Error {
    Error::Store(engine::engine_error(e))
}

/// How to open an archive.
#[derive(Debug, Clone)]
pub struct OpenOptions {
    /// Create the archive when missing (default true). Commands that only read pass false and get
    /// `Error::Store(morgue_store::Error::NoArchive { .. })` on a missing archive.
    pub create: bool,
    /// Wait up to this long for another process to release the archive (default: fail at once).
    pub wait: Option<Duration>,
    /// zstd level for new bodies.
    pub zstd_level: i32,
}

impl Default for OpenOptions {
    fn default() -> Self {
        OpenOptions {
            create: true,
            wait: None,
            zstd_level: 3,
        }
    }
}

/// What to do with the metadata of a draft whose body is already stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MergePolicy {
    /// Fill fields of the stored record that are empty; never change non-empty ones.
    #[default]
    FillEmpty,
    /// Replace every field the draft has a value for (`import --overwrite`).
    Overwrite,
}

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

/// A draft hashed and compressed, ready to commit. Build many in parallel with
/// [`Archive::prepare`], then commit them from one thread with [`Archive::commit`].
pub struct Prepared {
    blob: PreparedBlob,
    record: Record,
}

impl std::fmt::Debug for Prepared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prepared")
            .field("id", &self.blob.id)
            .field("raw_len", &self.blob.raw_len)
            .field("record", &self.record)
            .finish_non_exhaustive()
    }
}

impl Prepared {
    /// The article id the draft will have.
    pub fn id(&self) -> BlobId {
        self.blob.id
    }
}

/// A metadata query. All given criteria must match; results come newest first, articles without
/// a date last.
#[derive(Debug, Clone, Default)]
pub struct Query {
    /// Reporter name, matched case-insensitively with whitespace collapsed.
    pub reporter: Option<String>,
    /// Service name, matched the same way.
    pub service: Option<String>,
    /// First day included.
    pub since: Option<chrono::NaiveDate>,
    /// Last day included.
    pub until: Option<chrono::NaiveDate>,
    /// At most this many results.
    pub limit: Option<usize>,
    /// Resume strictly after this position (from [`Hit::cursor`]).
    pub after: Option<Cursor>,
}

/// An opaque position in query order; displays as and parses from 80 hex characters (the
/// article's 8-byte date key, then its id).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    date_key: u64,
    id: BlobId,
}

impl std::fmt::Display for Cursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:016x}{}", self.date_key, self.id)
    }
}

impl std::str::FromStr for Cursor {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let bad = || Error::InvalidCursor(s.to_string());
        if s.len() != 80 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(bad());
        }
        let mut bytes = [0u8; 40];
        for (i, b) in bytes.iter_mut().enumerate() {
            *b = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).map_err(|_| bad())?;
        }
        let (date_key, id) = keys::parse_tail(&bytes).ok_or_else(bad)?;
        Ok(Cursor { date_key, id })
    }
}

/// One query result.
#[derive(Debug, Clone)]
pub struct Hit {
    /// The article id.
    pub id: BlobId,
    /// Its record.
    pub record: Record,
    /// Where to resume after this hit.
    pub cursor: Cursor,
}

/// A name with its article count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facet {
    /// The name as first seen (original spelling).
    pub name: String,
    /// Articles that carry it.
    pub count: u64,
}

/// Archive figures.
#[derive(Debug, Clone, Default)]
pub struct ArchiveStats {
    /// Articles stored.
    pub articles: u64,
    /// Sum of body lengths.
    pub raw_bytes: u64,
    /// Sum of stored (compressed) body value lengths.
    pub stored_bytes: u64,
    /// Bytes of the archive directory on disk.
    pub disk_bytes: u64,
    /// Articles per service, most first.
    pub per_service: Vec<Facet>,
    /// Articles per year, oldest first (undated articles are not counted here).
    pub per_year: Vec<(i32, u64)>,
}

/// One problem found by [`Archive::verify`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The article the problem concerns; all zeros for a problem of no single article (a facet
    /// count, the archive counters, a malformed index key): see
    /// [`Problem::is_archive_wide`].
    pub id: BlobId,
    /// What is wrong, in words (e.g. "body missing", "index reporter: entry for \"qiao long\" missing").
    pub what: String,
}

impl Problem {
    /// Whether the problem concerns the archive as a whole rather than one article (its `id`
    /// is then all zeros).
    pub fn is_archive_wide(&self) -> bool {
        self.id.as_bytes() == &[0; 32]
    }

    fn archive_wide(what: impl Into<String>) -> Problem {
        Problem {
            id: BlobId::from_bytes([0; 32]),
            what: what.into(),
        }
    }

    fn new(id: BlobId, what: impl Into<String>) -> Problem {
        Problem {
            id,
            what: what.into(),
        }
    }
}

/// Outcome of [`Archive::verify`].
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Articles checked.
    pub articles: u64,
    /// Index entries checked.
    pub index_entries: u64,
    /// Everything found wrong.
    pub problems: Vec<Problem>,
}

/// Positions of the trees in a transaction (see [`Archive::trees`]).
const BLOBS: usize = 0;
const RECORDS: usize = 1;
const META: usize = 2;
const FACETS: usize = 3;
const DATE: usize = 4;
const NAMES: usize = 5;

/// The archive: bodies, records and indexes in one directory. `Send + Sync`.
pub struct Archive {
    db: Database,
    store: Store,
    records: sled::Tree,
    date: sled::Tree,
    names: Vec<sled::Tree>,
    facets: sled::Tree,
    meta: sled::Tree,
    /// Serializes writers, so that `reindex` never races a commit.
    writer: Mutex<()>,
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

type TxResult<T> = ConflictableTransactionResult<T, Error>;

/// Writes inside one multi-tree transaction; `t` is ordered as [`Archive::trees`].
///
/// Facet count changes are gathered and written once per transaction ([`Tx::finish`]): a batch
/// of articles by few names then costs a few facet writes, not two per article.
struct Tx<'a> {
    t: &'a [TransactionalTree],
    /// Facet key -> (count change, spelling of the first article that added the name).
    facets: RefCell<BTreeMap<Vec<u8>, (i64, String)>>,
}

impl Tx<'_> {
    fn counters(&self) -> TxResult<Counters> {
        Ok(self.t[META]
            .get(keys::COUNTERS_KEY)?
            .and_then(|v| Counters::decode(&v))
            .unwrap_or_default())
    }

    fn set_counters(&self, c: &Counters) -> TxResult<()> {
        self.t[META].insert(keys::COUNTERS_KEY, &c.encode()[..])?;
        Ok(())
    }

    fn facet_add(&self, def: &IndexDef, norm: &str, display: &str, delta: i64) {
        let mut facets = self.facets.borrow_mut();
        let entry = facets
            .entry(keys::facet_key(def.tag, norm))
            .or_insert_with(|| (0, String::new()));
        if delta > 0 && entry.1.is_empty() {
            entry.1 = display.to_string();
        }
        entry.0 += delta;
    }

    /// Writes the gathered facet changes.
    fn finish(&self) -> TxResult<()> {
        for (key, (delta, display)) in std::mem::take(&mut *self.facets.borrow_mut()) {
            if delta == 0 {
                continue;
            }
            let old = self.t[FACETS].get(&key)?;
            let (count, display) = match old.as_deref().and_then(keys::parse_facet) {
                Some((count, first)) => (count, first.to_string()),
                None => (0, display),
            };
            let count = count.saturating_add_signed(delta);
            if count == 0 {
                self.t[FACETS].remove(key)?;
            } else {
                self.t[FACETS].insert(key, keys::facet_value(count, &display))?;
            }
        }
        Ok(())
    }

    /// Moves the index entries and facets of article `id` from `old` to `new`.
    fn reindex(&self, id: &BlobId, old: Option<&Indexed>, new: Option<&Indexed>) -> TxResult<()> {
        let old_date = old.map(|o| o.date);
        let new_date = new.map(|n| n.date);
        if old_date != new_date {
            if let Some(d) = old_date {
                self.t[DATE].remove(&keys::tail(d, id)[..])?;
            }
            if let Some(d) = new_date {
                self.t[DATE].insert(&keys::tail(d, id)[..], &[][..])?;
            }
        }
        let none = Vec::new();
        for (i, def) in NAME_INDEXES.iter().enumerate() {
            let tree = &self.t[NAMES + i];
            let old_names = old.map_or(&none, |o| &o.names[i]);
            let new_names = new.map_or(&none, |n| &n.names[i]);
            let has =
                |names: &Vec<(String, String)>, norm: &str| names.iter().any(|(n, _)| n == norm);
            for (norm, display) in old_names {
                let kept = has(new_names, norm);
                if (!kept || old_date != new_date)
                    && let Some(d) = old_date
                {
                    tree.remove(keys::name_key(norm, d, id))?;
                }
                if !kept {
                    self.facet_add(def, norm, display, -1);
                }
            }
            for (norm, display) in new_names {
                let had = has(old_names, norm);
                if (!had || old_date != new_date)
                    && let Some(d) = new_date
                {
                    tree.insert(keys::name_key(norm, d, id), &[][..])?;
                }
                if !had {
                    self.facet_add(def, norm, display, 1);
                }
            }
        }
        Ok(())
    }
}

fn decode_record(id: &BlobId, value: &[u8]) -> Result<(Record, u64)> {
    codec::decode(value).map_err(|_| Error::CorruptedRecord { id: *id })
}

fn run_tx<T>(trees: &[&sled::Tree], f: impl Fn(&Tx<'_>) -> TxResult<T>) -> Result<T> {
    trees
        .transaction(|t: &Vec<TransactionalTree>| {
            let tx = Tx {
                t,
                facets: RefCell::default(),
            };
            let out = f(&tx)?;
            tx.finish()?;
            Ok(out)
        })
        .map_err(|e| match e {
            TransactionError::Abort(e) => e,
            TransactionError::Storage(e) => engine_err(e),
        })
}

fn abort<T>(e: Error) -> TxResult<T> {
    Err(ConflictableTransactionError::Abort(e))
}

impl Archive {
    /// Opens (creating when missing) the archive at `dir`.
    pub fn open(dir: impl AsRef<Path>) -> Result<Archive> {
        Self::open_with(dir, &OpenOptions::default())
    }

    /// Opens with options. When the set of indexes this build declares differs from the one the
    /// archive was indexed with, the indexes are rebuilt before returning.
    pub fn open_with(dir: impl AsRef<Path>, options: &OpenOptions) -> Result<Archive> {
        let store_options = morgue_store::Options {
            create: options.create,
            wait: options.wait,
            zstd_level: options.zstd_level,
        };
        let db = Database::open(dir.as_ref(), &store_options)?;
        let store = Store::on(&db, options.zstd_level)?;
        let tree = |name: &str| db.sled().open_tree(name).map_err(engine_err);
        let archive = Archive {
            records: tree(keys::RECORDS_TREE)?,
            date: tree(keys::DATE_TREE)?,
            names: NAME_INDEXES
                .iter()
                .map(|d| tree(d.tree))
                .collect::<Result<_>>()?,
            facets: tree(keys::FACETS_TREE)?,
            meta: tree(keys::META_TREE)?,
            writer: Mutex::new(()),
            store,
            db,
        };
        let wanted = keys::indexes_value();
        let stored = archive.meta.get(keys::INDEXES_KEY).map_err(engine_err)?;
        if stored.as_deref() != Some(&wanted[..]) {
            if !archive.records.is_empty() {
                archive.reindex()?;
            }
            archive
                .meta
                .insert(keys::INDEXES_KEY, wanted)
                .map_err(engine_err)?;
        }
        Ok(archive)
    }

    /// Every tree a write touches, in the order of the `BLOBS`.. constants.
    fn trees(&self) -> Vec<&sled::Tree> {
        let mut t = vec![
            self.store.tree(),
            &self.records,
            &self.meta,
            &self.facets,
            &self.date,
        ];
        t.extend(self.names.iter());
        t
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, ()> {
        self.writer.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The archive directory.
    pub fn path(&self) -> &Path {
        self.db.path()
    }

    /// Adds one draft in its own transaction.
    pub fn add(&self, draft: Draft, policy: MergePolicy) -> Result<AddOutcome> {
        let mut out = self.add_batch(vec![draft], policy)?;
        Ok(out.remove(0))
    }

    /// Adds many drafts in one transaction (prepare + commit).
    pub fn add_batch(&self, drafts: Vec<Draft>, policy: MergePolicy) -> Result<Vec<AddOutcome>> {
        let prepared = drafts
            .into_iter()
            .map(|d| self.prepare(d))
            .collect::<Result<Vec<_>>>()?;
        self.commit(prepared, policy)
    }

    /// Hashes and compresses a draft, outside any transaction. Thread-safe. Fails on an empty
    /// body.
    pub fn prepare(&self, draft: Draft) -> Result<Prepared> {
        if draft.body.is_empty() {
            return Err(Error::EmptyBody);
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
        let blob = self.store.prepare(draft.body.as_bytes())?;
        Ok(Prepared {
            blob,
            record: draft.record,
        })
    }

    /// Commits prepared drafts in one transaction: bodies, records, index entries, facets and
    /// counters. A draft whose body is already stored (or appears earlier in the same batch) is
    /// merged into the stored record under `policy`. Not durable until [`Archive::flush`].
    #[allow(clippy::needless_pass_by_value)] // the signature is the CLI's contract
    pub fn commit(&self, prepared: Vec<Prepared>, policy: MergePolicy) -> Result<Vec<AddOutcome>> {
        if prepared.is_empty() {
            return Ok(Vec::new());
        }
        let now = chrono::Utc::now().timestamp();
        let _guard = self.lock();
        run_tx(&self.trees(), |tx| {
            let t = tx.t;
            let mut counters = tx.counters()?;
            let mut out = Vec::with_capacity(prepared.len());
            for p in &prepared {
                let id = p.blob.id;
                let key = &id.as_bytes()[..];
                if let Some(value) = t[RECORDS].get(key)? {
                    let (mut record, body_len) = match decode_record(&id, &value) {
                        Ok(r) => r,
                        Err(e) => return abort(e),
                    };
                    let old = Indexed::of(&record);
                    let filled = record.merge(&p.record, policy);
                    if !filled.is_empty() {
                        t[RECORDS].insert(key, codec::encode(&record, body_len))?;
                        tx.reindex(&id, Some(&old), Some(&Indexed::of(&record)))?;
                    }
                    if t[BLOBS].get(key)?.is_none() {
                        // Heal a record whose body went missing.
                        t[BLOBS].insert(key, &p.blob.value[..])?;
                    }
                    out.push(AddOutcome::Duplicate { id, filled });
                } else {
                    let mut record = p.record.clone();
                    record.imported_at.get_or_insert(now);
                    // Replaces a body left without record, if any: same id, same bytes.
                    t[BLOBS].insert(key, &p.blob.value[..])?;
                    t[RECORDS].insert(key, codec::encode(&record, p.blob.raw_len))?;
                    tx.reindex(&id, None, Some(&Indexed::of(&record)))?;
                    counters.articles += 1;
                    counters.raw_bytes += p.blob.raw_len;
                    counters.stored_bytes += p.blob.value.len() as u64;
                    out.push(AddOutcome::Added { id });
                }
            }
            tx.set_counters(&counters)?;
            Ok(out)
        })
    }

    /// The record of an article.
    pub fn record(&self, id: &BlobId) -> Result<Option<Record>> {
        match self.records.get(id.as_bytes()).map_err(engine_err)? {
            Some(v) => Ok(Some(decode_record(id, &v)?.0)),
            None => Ok(None),
        }
    }

    /// The body of an article, exactly as stored (verified against its id).
    pub fn body(&self, id: &BlobId) -> Result<Option<Vec<u8>>> {
        Ok(self.store.get(id)?)
    }

    /// The article named by a unique hex prefix (at least 4 characters).
    pub fn resolve(&self, prefix: &str) -> Result<BlobId> {
        Ok(self.store.resolve(prefix)?)
    }

    /// Removes an article, its index entries and its body in one transaction. False if absent.
    ///
    /// A body without a record is removed too (and gives true). A record that does not decode is
    /// removed with its body, but its index entries cannot be known: `verify` then reports them
    /// and `reindex` drops them.
    pub fn remove(&self, id: &BlobId) -> Result<bool> {
        let _guard = self.lock();
        run_tx(&self.trees(), |tx| {
            let t = tx.t;
            let key = &id.as_bytes()[..];
            let blob = t[BLOBS].remove(key)?;
            let Some(value) = t[RECORDS].remove(key)? else {
                return Ok(blob.is_some());
            };
            if let Ok((record, body_len)) = codec::decode(&value) {
                tx.reindex(id, Some(&Indexed::of(&record)), None)?;
                let mut c = tx.counters()?;
                c.articles = c.articles.saturating_sub(1);
                c.raw_bytes = c.raw_bytes.saturating_sub(body_len);
                c.stored_bytes = c
                    .stored_bytes
                    .saturating_sub(blob.map_or(0, |b| b.len() as u64));
                tx.set_counters(&c)?;
            }
            Ok(true)
        })
    }

    /// Runs a query. See [`Archive::search`] for the iterator's statistics.
    pub fn query(&self, query: &Query) -> Result<impl Iterator<Item = Result<Hit>> + '_> {
        self.search(query)
    }

    /// Every article in id order (for export).
    pub fn iter(&self) -> impl Iterator<Item = Result<(BlobId, Record)>> + '_ {
        self.records.iter().map(|kv| {
            let (k, v) = kv.map_err(engine_err)?;
            let id = <[u8; 32]>::try_from(&*k)
                .map(BlobId::from_bytes)
                .map_err(|_| Error::InvalidRecord(format!("malformed record key {k:?}")))?;
            Ok((id, decode_record(&id, &v)?.0))
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
        for kv in self.facets.scan_prefix([NAME_INDEXES[index].tag]) {
            let (_, v) = kv.map_err(engine_err)?;
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

    /// Makes everything committed so far durable.
    pub fn flush(&self) -> Result<()> {
        self.db.flush()?;
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
