//! morgue-meta: article records, secondary indexes and the atomic [`Archive`].
//!
//! API SKELETON — bodies are `todo!()` until the implementation lands; the signatures are the
//! contract the CLI codes against. Keep them (extend, do not break) when implementing.
#![deny(missing_docs)]

pub mod record;

use std::path::{Path, PathBuf};
use std::time::Duration;

pub use morgue_store::BlobId;
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
        OpenOptions { create: true, wait: None, zstd_level: 3 }
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
#[derive(Debug)]
pub struct Prepared {}

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

/// An opaque position in query order; displays as and parses from a short string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {}

impl std::fmt::Display for Cursor {
    fn fmt(&self, _f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        todo!()
    }
}

impl std::str::FromStr for Cursor {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        todo!("{s}")
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
    /// The article the problem concerns.
    pub id: BlobId,
    /// What is wrong, in words (e.g. "body missing", "index reporter: entry for \"qiao long\" missing").
    pub what: String,
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

/// The archive: bodies, records and indexes in one directory. `Send + Sync`.
#[derive(Debug)]
pub struct Archive {}

impl Archive {
    /// Opens (creating when missing) the archive at `dir`.
    pub fn open(dir: impl AsRef<Path>) -> Result<Archive> {
        Self::open_with(dir, &OpenOptions::default())
    }
    /// Opens with options.
    pub fn open_with(dir: impl AsRef<Path>, options: &OpenOptions) -> Result<Archive> {
        todo!("{} {options:?}", dir.as_ref().display())
    }
    /// The archive directory.
    pub fn path(&self) -> &Path {
        todo!()
    }
    /// Adds one draft in its own transaction.
    pub fn add(&self, draft: Draft, policy: MergePolicy) -> Result<AddOutcome> {
        let mut out = self.add_batch(vec![draft], policy)?;
        Ok(out.remove(0))
    }
    /// Adds many drafts in one transaction (prepare + commit).
    pub fn add_batch(&self, drafts: Vec<Draft>, policy: MergePolicy) -> Result<Vec<AddOutcome>> {
        let prepared = drafts.into_iter().map(|d| self.prepare(d)).collect::<Result<Vec<_>>>()?;
        self.commit(prepared, policy)
    }
    /// Hashes and compresses a draft, outside any transaction. Thread-safe. Fails on an empty
    /// body.
    pub fn prepare(&self, draft: Draft) -> Result<Prepared> {
        todo!("{draft:?}")
    }
    /// Commits prepared drafts in one transaction: bodies, records, index entries. Not durable
    /// until [`Archive::flush`].
    pub fn commit(&self, prepared: Vec<Prepared>, policy: MergePolicy) -> Result<Vec<AddOutcome>> {
        todo!("{prepared:?} {policy:?}")
    }
    /// The record of an article.
    pub fn record(&self, id: &BlobId) -> Result<Option<Record>> {
        todo!("{id}")
    }
    /// The body of an article, exactly as stored (verified against its id).
    pub fn body(&self, id: &BlobId) -> Result<Option<Vec<u8>>> {
        todo!("{id}")
    }
    /// The article named by a unique hex prefix (at least 4 characters).
    pub fn resolve(&self, prefix: &str) -> Result<BlobId> {
        todo!("{prefix}")
    }
    /// Removes an article, its index entries and its body in one transaction. False if absent.
    pub fn remove(&self, id: &BlobId) -> Result<bool> {
        todo!("{id}")
    }
    /// Runs a query.
    pub fn query(&self, query: &Query) -> Result<impl Iterator<Item = Result<Hit>> + '_> {
        todo!("{query:?}");
        #[allow(unreachable_code)]
        Ok(std::iter::empty())
    }
    /// Every article in id order (for export).
    pub fn iter(&self) -> impl Iterator<Item = Result<(BlobId, Record)>> + '_ {
        std::iter::empty()
    }
    /// Reporters with counts, most first (then by name).
    pub fn reporters(&self) -> Result<Vec<Facet>> {
        todo!()
    }
    /// Services with counts, most first (then by name).
    pub fn services(&self) -> Result<Vec<Facet>> {
        todo!()
    }
    /// Figures.
    pub fn stats(&self) -> Result<ArchiveStats> {
        todo!()
    }
    /// Checks bodies, records and indexes both ways.
    pub fn verify(&self) -> Result<Report> {
        todo!()
    }
    /// Rebuilds every index from the records; returns the number of articles indexed.
    pub fn reindex(&self) -> Result<u64> {
        todo!()
    }
    /// Makes everything committed so far durable.
    pub fn flush(&self) -> Result<()> {
        todo!()
    }
}

#[allow(dead_code)]
fn _assert_send_sync() {
    fn is<T: Send + Sync>() {}
    is::<Archive>();
    let _ = PathBuf::new();
}
