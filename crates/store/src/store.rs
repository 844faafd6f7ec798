//! The blob store.

use std::path::Path;
use std::time::Duration;

use crate::codec;
use crate::engine::{Database, engine_error};
use crate::error::{Error, Result};
use crate::id::{BlobId, Prefix};

/// How to open an archive directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// Create the directory and archive when missing (default true). Read-only commands pass false.
    pub create: bool,
    /// How long to wait for another process to release the archive (default: do not wait:
    /// [`Error::Locked`] at once).
    pub wait: Option<Duration>,
    /// zstd level for new values (default 3).
    pub zstd_level: i32,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            create: true,
            wait: None,
            zstd_level: 3,
        }
    }
}

/// Integrity check outcome.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VerifyReport {
    /// Entries checked (blobs and malformed keys).
    pub checked: u64,
    /// Ids of blobs that failed: their value does not decode or does not hash to the id.
    pub corrupted: Vec<BlobId>,
    /// Keys of the blob tree that are not 32 bytes long, so name no blob at all.
    pub malformed_keys: Vec<Vec<u8>>,
}

impl VerifyReport {
    /// Whether nothing was found wrong.
    pub fn is_clean(&self) -> bool {
        self.corrupted.is_empty() && self.malformed_keys.is_empty()
    }
}

/// Sizes of the store.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Number of blobs.
    pub blobs: u64,
    /// Sum of uncompressed lengths (as recorded in each value).
    pub raw_bytes: u64,
    /// Sum of stored value lengths.
    pub stored_bytes: u64,
}

/// The blob store: content-addressed, compressed blobs in one archive directory.
///
/// Cheap to clone; every clone shares the database. Dropping the last handle releases the
/// directory.
#[derive(Debug, Clone)]
pub struct Store {
    // The tree first: it is dropped before the database it belongs to.
    pub(crate) tree: sled::Tree,
    pub(crate) db: Database,
    pub(crate) level: i32,
}

impl Store {
    /// Opens the archive at `dir`, creating it (and the directory) when missing.
    pub fn open(dir: impl AsRef<Path>) -> Result<Store> {
        Store::open_with(dir, &Options::default())
    }

    /// Opens the archive at `dir` with `options`: [`Database::open`] then [`Store::on`].
    pub fn open_with(dir: impl AsRef<Path>, options: &Options) -> Result<Store> {
        let db = Database::open(dir.as_ref(), options)?;
        Store::on(&db, options.zstd_level)
    }

    /// Stores `bytes` and returns their id. Storing the same bytes again changes nothing,
    /// except that a stored value that no longer decodes to them is replaced (a repair).
    /// [`Error::TooLarge`] above [`crate::MAX_BLOB_BYTES`].
    pub fn put(&self, bytes: &[u8]) -> Result<BlobId> {
        codec::check_len(bytes.len())?;
        let id = BlobId::of(bytes);
        let old = self.tree.get(id.as_bytes()).map_err(engine_error)?;
        if let Some(old) = &old
            && self.decode(&id, old).is_ok()
        {
            return Ok(id);
        }
        let value = codec::encode(bytes, self.level)?;
        // Swap only what was read: if another writer got there first, it wrote these same
        // bytes, so losing that race is success too.
        let _lost_race = self
            .tree
            .compare_and_swap(id.as_bytes(), old, Some(value))
            .map_err(engine_error)?;
        Ok(id)
    }

    /// The bytes of blob `id`, or `None` when it is not stored. They are re-hashed:
    /// [`Error::Corrupted`] when the stored value does not decode or does not match the id.
    pub fn get(&self, id: &BlobId) -> Result<Option<Vec<u8>>> {
        match self.tree.get(id.as_bytes()).map_err(engine_error)? {
            Some(value) => self.decode(id, &value).map(Some),
            None => Ok(None),
        }
    }

    /// Whether blob `id` is stored (its value is not checked).
    pub fn contains(&self, id: &BlobId) -> Result<bool> {
        self.tree.contains_key(id.as_bytes()).map_err(engine_error)
    }

    /// Removes blob `id`; whether it was there.
    pub fn remove(&self, id: &BlobId) -> Result<bool> {
        Ok(self
            .tree
            .remove(id.as_bytes())
            .map_err(engine_error)?
            .is_some())
    }

    /// The one stored blob whose id starts with `prefix`: 4 to 64 hex characters, either case.
    ///
    /// [`Error::InvalidId`] for anything else, [`Error::NotFound`] when no blob matches,
    /// [`Error::Ambiguous`] with every match (sorted) when several do.
    pub fn resolve(&self, prefix: &str) -> Result<BlobId> {
        let prefix = Prefix::parse(prefix)?;
        let mut candidates = Vec::new();
        for entry in self.tree.range(prefix.start()..) {
            let (key, _) = entry.map_err(engine_error)?;
            if !prefix.matches(&key) {
                break;
            }
            // A malformed key is no blob; verify() reports it.
            if let Some(id) = BlobId::from_key(&key) {
                candidates.push(id);
            }
        }
        match candidates.len() {
            0 => Err(Error::NotFound {
                prefix: prefix.text,
            }),
            1 => Ok(candidates[0]),
            _ => Err(Error::Ambiguous {
                prefix: prefix.text,
                candidates,
            }),
        }
    }

    /// Decodes and re-hashes every stored blob.
    pub fn verify(&self) -> Result<VerifyReport> {
        let mut report = VerifyReport::default();
        for entry in &self.tree {
            let (key, value) = entry.map_err(engine_error)?;
            report.checked += 1;
            match BlobId::from_key(&key) {
                Some(id) => match self.decode(&id, &value) {
                    Ok(_) => {}
                    Err(Error::Corrupted { id }) => report.corrupted.push(id),
                    Err(e) => return Err(e),
                },
                None => report.malformed_keys.push(key.to_vec()),
            }
        }
        Ok(report)
    }

    /// Number of blobs and their raw and stored sizes (a scan of the blob tree; values are not
    /// decompressed, a damaged value counts 0 raw bytes).
    pub fn stats(&self) -> Result<Stats> {
        let mut stats = Stats::default();
        for entry in &self.tree {
            let (_, value) = entry.map_err(engine_error)?;
            stats.blobs += 1;
            stats.raw_bytes += codec::raw_len(&value).unwrap_or(0);
            stats.stored_bytes += value.len() as u64;
        }
        Ok(stats)
    }

    /// Makes everything written so far durable.
    pub fn flush(&self) -> Result<()> {
        self.db.flush()
    }

    /// The ids of all stored blobs, in order. A malformed key yields an [`Error::Engine`].
    pub fn ids(&self) -> impl Iterator<Item = Result<BlobId>> + '_ {
        self.tree.iter().keys().map(|key| {
            let key = key.map_err(engine_error)?;
            BlobId::from_key(&key).ok_or_else(|| {
                Error::Engine(format!(
                    "malformed key in tree {}: {} bytes",
                    crate::engine::BLOB_TREE,
                    key.len()
                ))
            })
        })
    }

    /// The archive directory.
    pub fn path(&self) -> &Path {
        self.db.path()
    }
}
