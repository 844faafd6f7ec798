//! The store's error type.

use std::path::PathBuf;

use crate::BlobId;

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
    #[error(
        "archive format version {found} is not supported (this build reads versions 1 to {supported})"
    )]
    UnsupportedVersion {
        /// Version found in the header.
        found: u32,
        /// Version this build writes (it reads every version from 1 up to it).
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
    /// A value the store keeps about its bodies (a slot table, an id block, an index chunk, the run
    /// directory, the store state, a dictionary or a group) does not decode.
    #[error("archive value {what} is damaged")]
    Damaged {
        /// Which value, e.g. `pack 12` (slot table 12: the message keeps its old word) or
        /// `index run 3 chunk 0`.
        what: String,
    },
    /// A format-1 archive that holds article records: only the archive layer (morgue-meta, the
    /// `morgue` command) can upgrade it, with the records.
    #[error("{path} is a format-1 archive with article records: open it with morgue to upgrade it")]
    UpgradeNeedsArchive {
        /// The archive directory.
        path: PathBuf,
    },
    /// Every sequence number (2^32) is taken.
    #[error("the archive is full: every sequence number is taken")]
    Full,
    /// Bytes given to [`crate::Key::new`] that do not start with a lowercase tag
    /// (b'a'..=b'z'): the store keeps its own keys under the other first bytes.
    #[error("key {key:02x?} does not start with a lowercase tag")]
    ForeignKey {
        /// The key.
        key: Vec<u8>,
    },
    /// [`crate::Store::close`] while other handles of the archive (clones of the store, views)
    /// are alive: the archive was flushed and stays open in them.
    #[error("close: other handles of the archive are still alive")]
    StillOpen,
    /// zstd failed to compress a body.
    #[error("zstd compression failed: {source}")]
    Compression {
        /// zstd's error.
        #[source]
        source: std::io::Error,
    },
    /// The storage engine (sled) failed.
    #[error("storage engine: {source}")]
    Engine {
        /// The engine's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A broken invariant of the store: a bug in morgue-store, not a fault of the caller or of
    /// the data.
    #[error("internal error in the store: {0}")]
    Internal(String),
}

impl Error {
    /// An [`Error::Io`] on `path`.
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Error {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}
