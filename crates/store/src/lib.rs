//! morgue-store: a content-addressed blob store on [sled], the storage layer of morgue.
//!
//! A blob is stored under its [`BlobId`], the blake3 hash of its uncompressed bytes, as a
//! zstd-compressed value with a format-version byte, a codec byte and its recorded length.
//! Every read re-hashes the bytes, so a damaged value is an [`Error::Corrupted`], never wrong
//! bytes. Any unique hex prefix of at least 4 characters names a blob ([`Store::resolve`]).
//!
//! An archive is one directory: a header file (magic bytes and the format version, checked
//! at every open), a lock file (one process at a time: a second open gets
//! [`Error::Locked`]), and one sled database. Dropping the [`Store`] releases the directory;
//! reopening it right after, in the same process, works. The byte-level format is in
//! `docs/format.md`.
//!
//! ```
//! use morgue_store::{BlobId, Store};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = tempfile::tempdir()?;
//! let store = Store::open(dir.path().join("archive"))?; // creates the archive if missing
//! let id: BlobId = store.put(b"An article body.")?;     // blake3 of the bytes; idempotent
//! assert_eq!(store.get(&id)?.as_deref(), Some(&b"An article body."[..])); // re-hashed on read
//! assert!(store.contains(&id)?);
//!
//! let short = &id.to_string()[..8];
//! assert_eq!(store.resolve(short)?, id);               // unique hex prefix, >= 4 chars
//!
//! let report = store.verify()?;                        // every blob decompressed and re-hashed
//! assert!(report.corrupted.is_empty());
//! let stats = store.stats()?;                          // blobs, raw bytes, stored bytes
//! assert_eq!((stats.blobs, stats.raw_bytes), (1, 16));
//! store.flush()?;
//!
//! assert!(store.remove(&id)?);
//! assert_eq!(store.get(&id)?, None);
//! # Ok(())
//! # }
//! ```
//!
//! A crate that keeps its own trees next to the blobs and writes both in one transaction
//! uses the [`engine`] module.
#![deny(missing_docs)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

mod codec;
pub mod engine;
mod error;
mod format;
mod frame;
mod header;
mod id;
mod migrate;
mod optimize;
mod store;
mod verify;
mod writer;

#[cfg(test)]
mod tests;

pub use codec::MAX_BLOB_BYTES;
pub use error::{Error, Result};
pub use header::{FORMAT_VERSION, HEADER_FILE};
pub use id::{BlobId, MIN_PREFIX_LEN};
pub use optimize::{OptimizeProgress, OptimizeReport};
pub use store::{Options, Seq, Stats, Store, VerifyReport};
pub use writer::{Placed, PreparedBlob, Writer};

/// Handles are shared between threads (the CLI prepares blobs in parallel).
const _: () = {
    const fn send_sync<T: Send + Sync>() {}
    send_sync::<Store>();
    send_sync::<engine::Database>();
    send_sync::<PreparedBlob>();
    send_sync::<Error>();
};
