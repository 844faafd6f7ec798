//! morgue-store: a content-addressed, compressed body store on sled, the storage layer of
//! morgue.
//!
//! A body is named by its [`BlobId`], the blake3 hash of its bytes, and gets a sequence
//! number ([`Seq`]: 0, 1, 2, … in the order bodies are first stored). Each body is one zstd
//! frame, compressed with a dictionary the store trains on the archive's own bodies, per
//! *group* (an opaque name the caller gives, e.g. a news service), appended to the store's own
//! pack files with its id; sled keeps only small values: where each frame is (64 slots to a
//! value) and the id → seq map as a small log-structured index of sorted runs. Every read
//! re-hashes the bytes, so a damaged value is an [`Error::Corrupted`], never wrong bytes. Any
//! unique hex prefix of at least 4 characters names a body ([`Store::resolve`]).
//!
//! Writes go through the one [`Writer`]: bodies are hashed and compressed in parallel by
//! [`Store::prepare_batch`] outside any lock, then placed and committed in ONE atomic sled
//! batch, together with the caller's own keys (morgue-meta keeps its records there).
//!
//! An archive is one directory: a header file (magic bytes and the format version, checked
//! at every open; format-1 archives are upgraded), a lock file (one process at a time: a second
//! open gets [`Error::Locked`]), the pack files, and one sled database with one tree. Dropping the [`Store`]
//! releases the directory; reopening it right after, in the same process, works. The
//! byte-level format is in `docs/format.md`.
//!
//! ```
//! use morgue_store::{BlobId, Store};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = tempfile::tempdir()?;
//! let store = Store::open(dir.path().join("archive"))?; // creates the archive if missing
//! let id: BlobId = store.put(b"An article body.")?;     // blake3 of the bytes; idempotent
//! assert_eq!(store.get(&id)?.as_deref(), Some(&b"An article body."[..])); // re-hashed on read
//! assert_eq!(store.seq_of(&id)?, Some(0));              // its sequence number
//!
//! // Many bodies: prepared in parallel (grouped for compression), committed at once.
//! let bodies = [&b"First body."[..], b"Second body."];
//! let prepared = store.prepare_batch(&[(bodies[0], "wire"), (bodies[1], "wire")])?;
//! let mut writer = store.writer();
//! for blob in prepared {
//!     let placed = writer.place(blob)?;                // deduplicated; new ones get a seq
//!     assert!(placed.new);
//! }
//! writer.commit()?;                                     // one atomic batch
//! assert_eq!(store.get_at(2)?.as_deref(), Some(bodies[1]));
//!
//! let short = &id.to_string()[..8];
//! assert_eq!(store.resolve(short)?, id);               // unique hex prefix, >= 4 chars
//!
//! let report = store.verify()?;                        // every body decoded and re-hashed
//! assert!(report.is_clean());
//! let stats = store.stats()?;                          // bodies, raw bytes, stored bytes
//! assert_eq!((stats.blobs, stats.raw_bytes), (3, 16 + 11 + 12));
//! store.optimize(&mut |_progress| {})?;                // dictionaries, recompression, index
//! store.flush()?;                                      // durable
//!
//! assert!(store.remove(&id)?);
//! assert_eq!(store.get(&id)?, None);
//! # Ok(())
//! # }
//! ```
//!
//! A crate that keeps its own keys next to the bodies (morgue-meta keeps its records there)
//! writes them with [`Writer::put`] under a [`Key`] (a lowercase first byte: the store's own
//! keys have the others) in the same commit as the bodies, and reads them through a [`View`]:
//!
//! ```
//! use morgue_store::{Key, Store};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = tempfile::tempdir()?;
//! let store = Store::open(dir.path().join("archive"))?;
//! let prepared = store.prepare_batch(&[(b"body of an article", "a service")])?;
//! let mut writer = store.writer();
//! let placed = writer.place_many(prepared)?;
//! writer.put(Key::new(format!("r{}", placed[0].seq))?, b"its record".to_vec());
//! writer.commit()?;                                     // bodies and keys: one atomic batch
//!
//! let view = store.view();
//! assert_eq!(view.get(b"r0")?.as_deref(), Some(&b"its record"[..]));
//! assert_eq!(view.scan_prefix(b"r").count(), 1);
//! assert!(Key::new(b"S".to_vec()).is_err());            // the store's own keys are not ours
//! # Ok(())
//! # }
//! ```
//!
//! A format-1 archive whose trees hold more than bodies is upgraded by its owner through
//! [`Store::open_upgrading`], which reads the old trees ([`Legacy`]) and marks the archive
//! upgraded only once the owner's migration succeeded.
#![deny(missing_docs)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

mod compaction;
mod dir;
mod error;
mod filter;
mod format;
mod frame;
mod header;
mod id;
mod index;
mod migrate;
mod optimize;
mod packfile;
mod store;
mod train;
mod v1;
mod verify;
mod view;
mod writer;

#[cfg(test)]
mod tests;

pub use dir::lock_holder;
pub use error::{Error, Result};
pub use frame::{MAX_BLOB_BYTES, decompress_zstd};
pub use header::{FORMAT_VERSION, HEADER_FILE};
pub use id::{BlobId, MIN_PREFIX_LEN};
pub use optimize::{OptimizeProgress, OptimizeReport};
pub use store::{Options, Seq, Stats, Store, VerifyReport};
pub use view::{Iter, Key, Legacy, Value, View};
pub use writer::{Placed, PreparedBlob, Writer};

/// Handles are shared between threads (the CLI prepares blobs in parallel).
const _: () = {
    const fn send_sync<T: Send + Sync>() {}
    send_sync::<Store>();
    send_sync::<View>();
    send_sync::<PreparedBlob>();
    send_sync::<Error>();
};
