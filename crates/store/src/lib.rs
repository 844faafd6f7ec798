//! morgue-store: a content-addressed blob store (API skeleton; implementation in progress).
#![deny(missing_docs)]

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

/// Result with the store's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Errors of the store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An I/O error on a path of the archive.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// Another process (or another handle in this process) has the archive open.
    #[error("archive {path} is in use by another morgue process")]
    Locked {
        /// The archive directory.
        path: PathBuf,
    },
    /// Opening without `create` and nothing is there.
    #[error("no archive at {path}")]
    NoArchive {
        /// The archive directory.
        path: PathBuf,
    },
    /// The directory exists but does not hold a morgue archive.
    #[error("{path} is not a morgue archive")]
    NotAnArchive {
        /// The directory.
        path: PathBuf,
    },
    /// The archive was written by a format this build does not read.
    #[error("archive format version {found} is not supported (this build reads version {supported})")]
    UnsupportedVersion {
        /// Version found in the header.
        found: u32,
        /// Version this build reads and writes.
        supported: u32,
    },
    /// A stored value does not decode or does not hash to its id.
    #[error("blob {id} is corrupted")]
    Corrupted {
        /// The blob's id.
        id: BlobId,
    },
    /// A prefix names more than one blob.
    #[error("id prefix {prefix} is ambiguous")]
    Ambiguous {
        /// The prefix given.
        prefix: String,
        /// Every id it matches.
        candidates: Vec<BlobId>,
    },
    /// No blob has that id or prefix.
    #[error("no blob matches {prefix}")]
    NotFound {
        /// The id or prefix given.
        prefix: String,
    },
    /// Not a hex prefix of 4 to 64 characters.
    #[error("invalid id {prefix:?}: expected 4 to 64 hex characters")]
    InvalidId {
        /// What was given.
        prefix: String,
    },
    /// A blob larger than the store accepts.
    #[error("blob of {len} bytes exceeds the limit of {max} bytes")]
    TooLarge {
        /// Its length.
        len: u64,
        /// The limit.
        max: u64,
    },
    /// The storage engine failed.
    #[error("storage engine: {0}")]
    Engine(String),
}

/// The id of a blob: the blake3 hash of its uncompressed bytes.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BlobId([u8; 32]);

impl BlobId {
    /// Hashes `bytes`.
    pub fn of(bytes: &[u8]) -> BlobId {
        BlobId(*blake3::hash(bytes).as_bytes())
    }
    /// From the 32 raw bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> BlobId {
        BlobId(bytes)
    }
    /// The 32 raw bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Display for BlobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}
impl fmt::Debug for BlobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BlobId({self})")
    }
}
impl FromStr for BlobId {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        todo!("{s}")
    }
}

/// How to open an archive directory.
#[derive(Debug, Clone)]
pub struct Options {
    /// Create the directory and archive when missing (default true). Read-only commands pass false.
    pub create: bool,
    /// How long to wait for another process to release the archive (default: do not wait).
    pub wait: Option<Duration>,
    /// zstd level for new values (default 3).
    pub zstd_level: i32,
}

/// Integrity check outcome.
#[derive(Debug, Clone, Default)]
pub struct VerifyReport {
    /// Blobs checked.
    pub checked: u64,
    /// Ids of blobs that failed.
    pub corrupted: Vec<BlobId>,
}

/// Sizes of the store.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Number of blobs.
    pub blobs: u64,
    /// Sum of uncompressed lengths.
    pub raw_bytes: u64,
    /// Sum of stored value lengths.
    pub stored_bytes: u64,
}

/// The blob store.
#[derive(Debug)]
pub struct Store {}

impl Store {
    /// Opens or creates the archive at `dir`.
    pub fn open(dir: impl AsRef<Path>) -> Result<Store> {
        todo!("{}", dir.as_ref().display())
    }
}
