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
        "archive format version {found} is not supported (this build reads version {supported})"
    )]
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

impl Error {
    /// An [`Error::Io`] on `path`.
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Error {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}
