//! The sled-facing part of the store, for the crate that keeps its own keys next to the
//! bodies (morgue-meta).
//!
//! One archive directory is one [`Database`]: our lock file, the format header and one
//! [`sled::Db`] with one tree, [`TREE`]. [`Store::open`](crate::Store::open) is
//! [`Database::open`] followed by [`Store::on`](crate::Store::on). A crate with its own keys
//! opens the [`Database`], builds its [`Store`](crate::Store) on it, prepares bodies outside
//! any lock and commits them together with its own keys (lowercase first byte) through the
//! [`Writer`](crate::Writer): one atomic batch.
//!
//! ```
//! use morgue_store::engine::Database;
//! use morgue_store::{Options, Store};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = tempfile::tempdir()?;
//! let db = Database::open(dir.path(), &Options::default())?;
//! assert_eq!(db.version(), morgue_store::FORMAT_VERSION);
//! let store = Store::on(&db, 3)?;
//!
//! // Hash and compress outside the writer (in parallel), then commit with a record.
//! let prepared = store.prepare_batch(&[(b"body of an article", "a service")])?;
//! let mut writer = store.writer();
//! let mut seqs = Vec::new();
//! for blob in prepared {
//!     let placed = writer.place(blob)?;
//!     writer.put(format!("r{}", placed.seq).into_bytes(), b"its record".to_vec());
//!     seqs.push(placed.seq);
//! }
//! writer.commit()?;
//!
//! assert_eq!(store.get_at(seqs[0])?.as_deref(), Some(&b"body of an article"[..]));
//! assert_eq!(store.tree().get("r0")?.as_deref(), Some(&b"its record"[..]));
//! # Ok(())
//! # }
//! ```

use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use fs4::fs_std::FileExt;

pub use sled;

use crate::codec;
use crate::error::{Error, Result};
use crate::header::{self, HEADER_TEMP_FILE, sync_dir};
use crate::{BlobId, FORMAT_VERSION, Options};

/// Name of our lock file inside the archive directory.
pub const LOCK_FILE: &str = "LOCK";
/// Name of the one sled tree of format 2: the store's keys (uppercase tags) and morgue-meta's
/// (lowercase tags).
pub const TREE: &str = "morgue";
/// Name of the sled tree that held the blobs in format 1 (read for upgrade only).
pub const BLOB_TREE: &str = "blobs";

/// How long to retry sled's own file lock after ours was taken: a sled instance of this
/// process that was just dropped can keep it for a moment (its flusher thread winds down).
const SLED_LOCK_RETRY: Duration = Duration::from_secs(5);
/// sled's page cache. Its default (1 GiB) let an import of 1,000,000 articles peak at 1.74 GB
/// of memory; 128 MiB gave 445 MB at the same speed (docs/performance.md). With the bodies in
/// pack files sled holds only small values: 32 MiB took a format-2 import of 1,000,000
/// articles from 461-510 MB to 329 MB peak, at the same speed (CLI2's measurement).
const SLED_CACHE_BYTES: u64 = 32 << 20;

/// Pause between attempts to take a lock.
const LOCK_POLL: Duration = Duration::from_millis(10);

/// One open archive directory: our lock file, the header, one sled database.
///
/// Cheap to clone (an [`Arc`] inside). Dropping the last clone, and every [`crate::Store`] and
/// [`sled::Tree`] taken from it, flushes the database and releases the directory.
#[derive(Clone)]
pub struct Database {
    inner: Arc<Inner>,
}

/// Field order matters: sled is flushed (in `drop`) and dropped before the lock is released.
struct Inner {
    db: sled::Db,
    path: PathBuf,
    /// Where sled's files are: the archive directory, or the directory [`SLED_POINTER_FILE`]
    /// names.
    sled_dir: PathBuf,
    /// Set by `optimize`: [`Database::close`] rewrites sled into a fresh directory.
    compact: std::sync::atomic::AtomicBool,
    /// When [`Database::flush`] last synced sled's large-value files.
    synced_blobs: std::sync::Mutex<Option<std::time::SystemTime>>,
    /// The format version in the header.
    version: AtomicU32,
    /// The store built on this database, if one is alive: there is only ever one, so that
    /// every handle shares its writer lock and caches.
    pub(crate) store: std::sync::Mutex<std::sync::Weak<crate::store::Shared>>,
    /// Taken out only by [`Database::close`], which releases it itself after sled is gone.
    lock: Option<DirLock>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        // Nothing to report an error to here; `Store::flush` is the way to see one.
        let _ = self.db.flush();
    }
}

impl fmt::Debug for Database {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Database")
            .field("path", &self.inner.path)
            .finish_non_exhaustive()
    }
}

impl Database {
    /// Opens the archive at `dir`: takes the lock ([`Error::Locked`], or waits up to
    /// `options.wait`), checks the header (or creates the archive when `options.create`),
    /// then opens sled.
    ///
    /// Errors: [`Error::NoArchive`] when `create` is false and there is no archive (nothing is
    /// created then); [`Error::NotAnArchive`] for a non-empty directory without our header or
    /// a path that is not a directory; [`Error::UnsupportedVersion`] for another format version.
    pub fn open(dir: &Path, options: &Options) -> Result<Database> {
        let path = dir.to_path_buf();
        // Checks before the lock, so that nothing is written into a directory that is not ours.
        match fs::metadata(&path) {
            Ok(meta) if meta.is_dir() => {}
            Ok(_) => return Err(Error::NotAnArchive { path }),
            Err(e) if e.kind() == ErrorKind::NotFound => {
                if !options.create {
                    return Err(Error::NoArchive { path });
                }
                fs::create_dir_all(&path).map_err(|e| Error::io(&path, e))?;
            }
            Err(e) => return Err(Error::io(path, e)),
        }
        ensure_archive(&path, options.create, false)?;

        let lock = DirLock::acquire(&path, options.wait)?;
        // Again under the lock: another process may have created the archive meanwhile.
        let version = ensure_archive(&path, options.create, true)?;
        let sled_dir = sled_dir(&path)?;
        remove_stale_sled(&path, &sled_dir)?;
        remove_partial_snapshots(&sled_dir)?;
        let db = open_sled(
            &sled_dir,
            options.wait.unwrap_or_default().max(SLED_LOCK_RETRY),
        )?;
        Ok(Database {
            inner: Arc::new(Inner {
                db,
                path,
                sled_dir,
                compact: std::sync::atomic::AtomicBool::new(false),
                synced_blobs: std::sync::Mutex::new(None),
                version: AtomicU32::new(version),
                store: std::sync::Mutex::new(std::sync::Weak::new()),
                lock: Some(lock),
            }),
        })
    }

    /// Makes everything written so far durable: sled's flush, then an `fsync` of sled's log file
    /// and of its directory of large values, because sled 0.34's flush uses
    /// `sync_file_range`, which neither flushes the drive's write cache nor syncs metadata
    /// (sled issue #1351), and never syncs the files it keeps large values in.
    pub fn flush(&self) -> Result<()> {
        self.inner.db.flush().map_err(engine_error)?;
        let dir = &self.inner.sled_dir;
        sync_path(&dir.join("db"))?;
        let blobs = dir.join("blobs");
        match fs::read_dir(&blobs) {
            Ok(entries) => {
                let mut last = self
                    .inner
                    .synced_blobs
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                let since = *last;
                let now = std::time::SystemTime::now();
                for entry in entries {
                    let entry = entry.map_err(|e| Error::io(&blobs, e))?;
                    let modified = entry.metadata().and_then(|m| m.modified()).ok();
                    if modified.is_none_or(|m| since.is_none_or(|s| m >= s)) {
                        match sync_path(&entry.path()) {
                            // sled deleted it meanwhile (its value was replaced): nothing to sync.
                            Err(Error::Io { source, .. })
                                if source.kind() == ErrorKind::NotFound => {}
                            other => other?,
                        }
                    }
                }
                sync_dir(&blobs)?;
                *last = Some(now);
            }
            Err(e) if e.kind() == ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io(blobs, e)),
        }
        Ok(())
    }

    /// The format version of the archive, as its header says: 1 (to be upgraded) or
    /// [`FORMAT_VERSION`].
    pub fn version(&self) -> u32 {
        self.inner.version.load(Ordering::Acquire)
    }

    /// Writes `version` into the header (a temporary file, fsync, atomic rename, fsync of the
    /// directory): the last step of an upgrade, after everything it wrote is flushed.
    pub fn set_version(&self, version: u32) -> Result<()> {
        if !(header::OLDEST_VERSION..=FORMAT_VERSION).contains(&version) {
            return Err(Error::UnsupportedVersion {
                found: version,
                supported: FORMAT_VERSION,
            });
        }
        header::write(&self.inner.path, version)?;
        self.inner.version.store(version, Ordering::Release);
        Ok(())
    }

    /// Closes the archive leaving a fresh sled snapshot behind, so that the next open is fast:
    /// flushes, drops sled while still holding the archive lock, opens sled once more (it
    /// replays its log since the last snapshot and writes a new snapshot: sled 0.34 writes
    /// snapshots only when it opens), drops it, then releases the lock.
    ///
    /// This must be the last handle of the database: every [`crate::Store`] and sled tree of it
    /// dropped (`Store::close` does that for a store's own handles). Otherwise it fails with
    /// [`Error::Engine`] and the database stays open (flushed) in the other handles; a sled tree
    /// kept elsewhere makes it end with [`Error::Locked`] after a few seconds.
    pub fn close(self) -> Result<()> {
        self.flush()?;
        let mut inner = Arc::try_unwrap(self.inner).map_err(|_| {
            Error::Engine("close: other handles of the database are still alive".into())
        })?;
        let lock = inner.lock.take();
        let path = inner.path.clone();
        let sled_dir = inner.sled_dir.clone();
        let compact = inner.compact.load(Ordering::Acquire);
        if compact {
            // Copied from the open database, which is then flushed and dropped; the lock
            // stays held.
            let new = copy_sled(&path, &sled_dir, &inner.db)?;
            drop(inner);
            switch_sled(&path, &new)?;
        } else {
            // Flushes and drops sled; the lock stays held.
            drop(inner);
            let db = open_sled(&sled_dir, SLED_LOCK_RETRY)?;
            db.flush().map_err(engine_error)?;
            drop(db);
        }
        drop(lock);
        Ok(())
    }

    /// Asks [`Database::close`] to rewrite sled into a fresh directory: sled 0.34 never gives
    /// back the space of what was overwritten or deleted (its files were measured at 2 to 6
    /// times the live data after imports), a fresh copy holds the live data once. `optimize`
    /// asks for it.
    pub fn compact_on_close(&self) {
        self.inner.compact.store(true, Ordering::Release);
    }

    /// Where sled's files are: the archive directory, or, once sled was compacted, the
    /// directory the pointer file [`SLED_POINTER_FILE`] names.
    pub fn sled_path(&self) -> &Path {
        &self.inner.sled_dir
    }

    /// The slot of the one store of this database.
    pub(crate) fn store_slot(
        &self,
    ) -> std::sync::MutexGuard<'_, std::sync::Weak<crate::store::Shared>> {
        self.inner
            .store
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The sled database, for trees of other crates next to the blob tree.
    pub fn sled(&self) -> &sled::Db {
        &self.inner.db
    }

    /// The archive directory, as given to [`Database::open`].
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// The size on disk of the archive directory: the sum of the lengths of its files.
    pub fn disk_bytes(&self) -> Result<u64> {
        dir_bytes(&self.inner.path)
    }
}

/// Name of the file, in the archive directory, that names the directory sled lives in (one line,
/// `sled.` and 8 hex digits), written by [`Database::close`] after a compaction. Without it, sled
/// lives in the archive directory itself.
pub const SLED_POINTER_FILE: &str = "SLED";
/// The temporary file the pointer is written to before its rename.
const SLED_POINTER_TEMP: &str = "SLED.tmp";
/// The prefix of the directories sled is compacted into.
const SLED_DIR_PREFIX: &str = "sled.";
/// sled's own files, when it lives in the archive directory (besides `snap.*`).
const SLED_FILES: [&str; 3] = ["conf", "db", "blobs"];

/// The directory sled lives in.
fn sled_dir(dir: &Path) -> Result<PathBuf> {
    let pointer = dir.join(SLED_POINTER_FILE);
    match fs::read_to_string(&pointer) {
        Ok(text) => {
            let name = text.trim_end_matches('\n');
            let valid = name
                .strip_prefix(SLED_DIR_PREFIX)
                .is_some_and(|n| n.len() == 8 && n.bytes().all(|b| b.is_ascii_hexdigit()));
            if valid && dir.join(name).is_dir() {
                Ok(dir.join(name))
            } else {
                Err(Error::Damaged {
                    what: format!("{} ({text:?})", pointer.display()),
                })
            }
        }
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(dir.to_path_buf()),
        Err(e) => Err(Error::io(pointer, e)),
    }
}

/// Deletes what an interrupted compaction left: sled directories other than `current`, and
/// sled's files in the archive directory when sled lives in a directory of its own.
fn remove_stale_sled(dir: &Path, current: &Path) -> Result<()> {
    remove_stale_sled_with(dir, current, |_| {})
}

/// [`remove_stale_sled`], calling `after` after each deletion (a test's crash point).
fn remove_stale_sled_with(dir: &Path, current: &Path, mut after: impl FnMut(&Path)) -> Result<()> {
    for entry in fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let stale = if name.starts_with(SLED_DIR_PREFIX) {
            path != current
        } else if name == SLED_POINTER_TEMP {
            true
        } else {
            current != dir && (SLED_FILES.contains(&&*name) || name.starts_with("snap."))
        };
        if stale {
            remove_path(&path)?;
            after(&path);
        }
    }
    Ok(())
}

/// In test builds, the process dies at the compaction step named by `$MORGUE_TEST_CRASH_AT`
/// (`abort`: no destructor runs, nothing more is written — what a SIGKILL leaves).
fn crash_point(step: &str) {
    #[cfg(test)]
    if std::env::var("MORGUE_TEST_CRASH_AT").is_ok_and(|s| s == step) {
        std::process::abort();
    }
    #[cfg(not(test))]
    let _ = step;
}

/// Deletes a file or a directory tree.
fn remove_path(path: &Path) -> Result<()> {
    let meta = fs::symlink_metadata(path).map_err(|e| Error::io(path, e))?;
    if meta.is_dir() {
        fs::remove_dir_all(path)
    } else {
        fs::remove_file(path)
    }
    .map_err(|e| Error::io(path, e))
}

/// Passes of the compaction copy. sled 0.34 leaves the garbage of its own page rewrites in its
/// file (its cleaner runs only every half second), and how much depends on the order of the
/// inserts. Rewriting the sled of a 300,000-article archive (33.6 MB of keys and values):
/// batches of 10,000 in key order gave 84.9 MB, one insert at a time in key order 57-59 MB,
/// 8 interleaved passes 47-51 MB (2, 4 or 16 passes about the same; 32 passes 70 MB); on
/// Reuters (2.0 MB) 4.7-5.5 MB became 4.4 MB. Also faster: 0.60 s -> 0.55 s for that optimize.
const COPY_PASSES: usize = 8;

/// Rewrites the sled database `from` (open, under the archive lock; its files in `old`) into a
/// fresh directory of the archive `dir`: every tree copied (see [`COPY_PASSES`]), flushed and
/// synced.
/// Returns the new directory; [`switch_sled`] then makes it the one in use. A crash before the
/// switch leaves the old database in use (the new directory is deleted at the next open).
fn copy_sled(dir: &Path, old: &Path, from: &sled::Db) -> Result<PathBuf> {
    let number = old
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.strip_prefix(SLED_DIR_PREFIX))
        .and_then(|n| u32::from_str_radix(n, 16).ok())
        .map_or(1, |n| n.wrapping_add(1));
    let name = format!("{SLED_DIR_PREFIX}{number:08x}");
    let new = dir.join(&name);
    if new.exists() {
        remove_path(&new)?;
    }
    let to = sled::Config::new()
        .path(&new)
        .cache_capacity(SLED_CACHE_BYTES)
        .open()
        .map_err(engine_error)?;
    for tree in from.tree_names() {
        let source = from.open_tree(&tree).map_err(engine_error)?;
        let target = to.open_tree(&tree).map_err(engine_error)?;
        // One insert at a time, in COPY_PASSES interleaved passes (keys 0, 8, 16, …, then 1, 9,
        // …): sled writes far less garbage so (see COPY_PASSES). No batch is needed: nothing
        // points at the new directory until `switch_sled`.
        let mut total = None;
        for pass in 0..COPY_PASSES {
            let mut seen = 0usize;
            for kv in &source {
                let (k, v) = kv.map_err(engine_error)?;
                if seen % COPY_PASSES == pass {
                    target.insert(k, v).map_err(engine_error)?;
                }
                seen += 1;
            }
            if *total.get_or_insert(seen) != seen {
                return Err(Error::Engine(format!(
                    "sled tree {:?} changed while it was being compacted",
                    String::from_utf8_lossy(&tree)
                )));
            }
        }
        crash_point("copying");
    }
    to.flush().map_err(engine_error)?;
    crash_point("copied");
    Ok(new)
}

/// Makes the sled database copied into `new` (closed) the one in use: opened once more (so that
/// it has a snapshot), synced, the pointer file written atomically, and only then the old files
/// deleted. A crash before the pointer is renamed leaves the old database in use (the new
/// directory is deleted at the next open); after it, the new one (the old files are deleted at
/// the next open).
fn switch_sled(dir: &Path, new: &Path) -> Result<()> {
    let name = new
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| Error::Engine(format!("bad sled directory {}", new.display())))?
        .to_owned();
    // Opened once more: sled writes its snapshot, so the next open does not replay the log.
    {
        let db = open_sled(new, SLED_LOCK_RETRY)?;
        db.flush().map_err(engine_error)?;
    }
    sync_tree(new)?;
    crash_point("synced");
    let temp = dir.join(SLED_POINTER_TEMP);
    let mut file = File::create(&temp).map_err(|e| Error::io(&temp, e))?;
    std::io::Write::write_all(&mut file, format!("{name}\n").as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| Error::io(&temp, e))?;
    drop(file);
    crash_point("pointer written");
    let pointer = dir.join(SLED_POINTER_FILE);
    fs::rename(&temp, &pointer).map_err(|e| Error::io(&pointer, e))?;
    crash_point("renamed");
    sync_dir(dir)?;
    crash_point("switched");
    remove_stale_sled_with(dir, new, |_| crash_point("deleting"))?;
    sync_dir(dir)?;
    crash_point("done");
    Ok(())
}

/// `fsync` of every file under `dir`, and of the directories.
fn sync_tree(dir: &Path) -> Result<()> {
    for entry in fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let path = entry.path();
        if entry.file_type().map_err(|e| Error::io(&path, e))?.is_dir() {
            sync_tree(&path)?;
        } else {
            sync_path(&path)?;
        }
    }
    sync_dir(dir)
}

/// Checks the header of `dir` and returns its version; without one, refuses a directory with
/// other files in it and, when `create_now`, writes the header of a new archive.
fn ensure_archive(dir: &Path, create: bool, create_now: bool) -> Result<u32> {
    if let Some(version) = header::check(dir)? {
        return Ok(version);
    }
    let entries = fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let name = entry.file_name();
        if name != LOCK_FILE && name != HEADER_TEMP_FILE {
            return Err(Error::NotAnArchive {
                path: dir.to_path_buf(),
            });
        }
    }
    if !create {
        return Err(Error::NoArchive {
            path: dir.to_path_buf(),
        });
    }
    if create_now {
        header::write(dir, FORMAT_VERSION)?;
    }
    Ok(FORMAT_VERSION)
}

/// Deletes the snapshots that sled began writing but never finished (`snap.<LSN>.generating`).
///
/// sled 0.34.7 writes a snapshot of its page table at open into `snap.<LSN>.generating`, fsyncs
/// it and renames it to `snap.<LSN>`; only after the rename does anything depend on it. But when
/// reading snapshots it takes the last file whose name starts with `snap.`, `.generating` ones
/// included, so a process killed while writing one leaves an archive that no longer opens
/// ("Read corrupted data"). Such a file never took effect: deleting it loses nothing, and sled
/// recovers from the previous snapshot and the log. Called holding the archive lock, so no sled
/// instance of ours is writing one (see docs/reliability.md).
fn remove_partial_snapshots(dir: &Path) -> Result<()> {
    let entries = fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with("snap.") && name.ends_with(".generating") {
            let path = entry.path();
            fs::remove_file(&path).map_err(|e| Error::io(&path, e))?;
        }
    }
    Ok(())
}

/// Opens sled in `dir`, retrying for up to `patience` while its lock is still held.
fn open_sled(dir: &Path, patience: Duration) -> Result<sled::Db> {
    let start = Instant::now();
    loop {
        match sled::Config::new()
            .path(dir)
            .cache_capacity(SLED_CACHE_BYTES)
            .open()
        {
            Ok(db) => return Ok(db),
            Err(sled::Error::Io(e)) if is_lock_error(&e) => {
                if start.elapsed() >= patience {
                    return Err(Error::Locked {
                        path: dir.to_path_buf(),
                    });
                }
                thread::sleep(LOCK_POLL);
            }
            Err(e) => return Err(engine_error(e)),
        }
    }
}

/// `fsync` of a file or directory (opened read-only: Linux syncs through any descriptor).
fn sync_path(path: &Path) -> Result<()> {
    fs::File::open(path)
        .and_then(|f| f.sync_all())
        .map_err(|e| Error::io(path, e))
}

/// Whether sled failed to take its file lock.
fn is_lock_error(e: &std::io::Error) -> bool {
    e.kind() == ErrorKind::WouldBlock || e.to_string().contains("could not acquire lock")
}

/// Maps a sled error to the store's [`Error`]: a failure to take sled's file lock becomes
/// [`Error::Locked`], anything else [`Error::Engine`].
pub fn engine_error(e: sled::Error) -> Error {
    match e {
        sled::Error::Io(io) if is_lock_error(&io) => Error::Locked {
            path: locked_dir(&io.to_string()).unwrap_or_default(),
        },
        other => Error::Engine(other.to_string()),
    }
}

/// Maps the error of a sled transaction whose closure aborts with the store's [`Error`]:
/// the abort's error as is, a storage error through [`engine_error`].
pub fn transaction_error(e: sled::transaction::TransactionError<Error>) -> Error {
    match e {
        sled::transaction::TransactionError::Abort(e) => e,
        sled::transaction::TransactionError::Storage(e) => engine_error(e),
    }
}

/// The archive directory from sled's message `could not acquire lock on "DIR/db": …`.
fn locked_dir(message: &str) -> Option<PathBuf> {
    let rest = message.split_once("lock on \"")?.1;
    let file = Path::new(rest.split_once('"')?.0);
    file.parent().map(Path::to_path_buf)
}

/// The sum of the file lengths under `dir` (symbolic links are not followed).
fn dir_bytes(dir: &Path) -> Result<u64> {
    let mut total = 0;
    for entry in fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let path = entry.path();
        let meta = match fs::symlink_metadata(&path) {
            Ok(meta) => meta,
            // sled deletes its large-page files as it goes: one gone meanwhile takes no space.
            Err(e) if e.kind() == ErrorKind::NotFound => continue,
            Err(e) => return Err(Error::io(&path, e)),
        };
        if meta.is_dir() {
            total += dir_bytes(&path)?;
        } else if meta.is_file() {
            total += meta.len();
        }
    }
    Ok(total)
}

/// Our exclusive lock on an archive directory, released on drop.
struct DirLock {
    file: File,
}

impl DirLock {
    fn acquire(dir: &Path, wait: Option<Duration>) -> Result<DirLock> {
        let path = dir.join(LOCK_FILE);
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| Error::io(&path, e))?;
        let start = Instant::now();
        loop {
            if file.try_lock_exclusive().map_err(|e| Error::io(&path, e))? {
                return Ok(DirLock { file });
            }
            match wait.and_then(|wait| wait.checked_sub(start.elapsed())) {
                Some(left) if !left.is_zero() => thread::sleep(left.min(LOCK_POLL * 5)),
                _ => {
                    return Err(Error::Locked {
                        path: dir.to_path_buf(),
                    });
                }
            }
        }
    }
}

impl Drop for DirLock {
    fn drop(&mut self) {
        // Closing the file releases the lock as well; unlocking first makes it explicit.
        let _ = FileExt::unlock(&self.file);
    }
}

/// The bodies of a format-1 archive, read for its upgrade: the body `id` from the v1
/// [`BLOB_TREE`], decoded and re-hashed ([`Error::Corrupted`] when it does not match), or `None`.
pub fn v1_blob(db: &Database, id: &BlobId) -> Result<Option<Vec<u8>>> {
    let tree = db.sled().open_tree(BLOB_TREE).map_err(engine_error)?;
    match tree.get(id.as_bytes()).map_err(engine_error)? {
        Some(value) => decode_v1(id, &value).map(Some),
        None => Ok(None),
    }
}

/// Decodes a value of the format-1 [`BLOB_TREE`] stored under `id` and checks that it hashes
/// to `id`: [`Error::Corrupted`] when it does not decode or does not match (read for upgrade
/// only).
pub fn decode_v1(id: &BlobId, value: &[u8]) -> Result<Vec<u8>> {
    match codec::decode(value) {
        Ok(body) if BlobId::of(&body) == *id => Ok(body),
        _ => Err(Error::Corrupted { id: *id }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locked_dir_from_sled_message() {
        assert_eq!(
            locked_dir(r#"could not acquire lock on "/tmp/a b/db": Os { code: 11 }"#),
            Some(PathBuf::from("/tmp/a b"))
        );
        assert_eq!(locked_dir("something else"), None);
    }

    #[test]
    fn sled_lock_error_maps_to_locked() {
        let io = std::io::Error::other(r#"could not acquire lock on "/x/db": WouldBlock"#);
        let err = engine_error(sled::Error::Io(io));
        assert!(
            matches!(err, Error::Locked { ref path } if path == Path::new("/x")),
            "{err:?}"
        );
        let err = engine_error(sled::Error::Unsupported("nope".into()));
        assert!(
            matches!(err, Error::Engine(ref m) if m.contains("nope")),
            "{err:?}"
        );
    }
}
