//! The archive directory: our lock file, the format header, and the one sled database with its
//! shared tree. One [`Database`] per open archive; the [`crate::Store`] owns it. How sled is
//! rewritten afresh at close after `optimize` is in [`crate::compaction`].

use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::thread;
use std::time::{Duration, Instant, SystemTime};

use fs4::fs_std::FileExt;

use crate::compaction::{
    COPY_WINDOW_BYTES, copy_sled, freed_enough, remove_stale_sled, sled_dir, switch_sled,
};
use crate::error::{Error, Result};
use crate::header::{self, HEADER_TEMP_FILE, sync_dir};
use crate::{FORMAT_VERSION, Options};

/// Name of our lock file inside the archive directory.
pub(crate) const LOCK_FILE: &str = "LOCK";
/// Name of the one sled tree of format 2: the store's keys (uppercase tags) and morgue-meta's
/// (lowercase tags).
pub(crate) const TREE: &str = "morgue";

/// How long to retry sled's own file lock after ours was taken: a sled instance of this
/// process that was just dropped can keep it for a moment (its flusher thread winds down).
pub(crate) const SLED_LOCK_RETRY: Duration = Duration::from_secs(5);
/// sled's page cache. Its default (1 GiB) let an import of 1,000,000 articles peak at 1.74 GB
/// of memory; 128 MiB gave 445 MB at the same speed (docs/performance.md). With the bodies in
/// pack files sled holds only small values: 32 MiB took a format-2 import of 1,000,000
/// articles from 461-510 MB to 329 MB peak, at the same speed.
pub(crate) const SLED_CACHE_BYTES: u64 = 32 << 20;

/// Pause between attempts to take a lock.
const LOCK_POLL: Duration = Duration::from_millis(10);

/// One open archive directory: our lock file, the header, one sled database.
///
/// Cheap to clone (an [`Arc`] inside). Dropping the last clone, and every [`sled::Tree`] taken
/// from it, flushes the database and releases the directory.
#[derive(Clone)]
pub(crate) struct Database {
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
    compact: AtomicBool,
    /// Set by `optimize` when sled did not grow: [`Database::close`] rewrites sled when its file
    /// holds many more free segments than its compaction left ([`freed_enough`]).
    compact_if_freed: AtomicBool,
    /// When [`Database::flush`] last synced sled's large-value files.
    synced_blobs: std::sync::Mutex<Option<SystemTime>>,
    /// The format version in the header.
    version: AtomicU32,
    /// Taken out only by [`Database::close`], which releases it itself after sled is gone.
    /// `None` for a read-only archive, which has no lock to take.
    lock: Option<DirLock>,
    /// For an archive that cannot be written (a read-only mount or directory): the private copy
    /// of its sled files that sled runs on, deleted after sled is dropped (the last field).
    scratch: Option<Scratch>,
}

/// A directory of our own under the system's temporary directory, deleted on drop.
struct Scratch {
    path: PathBuf,
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.path);
    }
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
    pub(crate) fn open(dir: &Path, options: &Options) -> Result<Database> {
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

        let lock = match DirLock::acquire(&path, options.wait) {
            Err(Error::Io { source, .. }) if !options.create && is_read_only(&source) => None,
            other => Some(other?),
        };
        if lock.is_none() {
            return Self::open_read_only(path);
        }
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
                compact: AtomicBool::new(false),
                compact_if_freed: AtomicBool::new(false),
                synced_blobs: std::sync::Mutex::new(None),
                version: AtomicU32::new(version),
                lock,
                scratch: None,
            }),
        })
    }

    /// Opens an archive that cannot be written (a read-only mount, or a directory without write
    /// permission). sled 0.34 cannot open a database without writing to it (it takes a lock on
    /// its file and writes a snapshot), so its files are copied into a private directory under
    /// the system's temporary directory and sled runs there; the pack files and the text index
    /// are read where they are. Nothing can write to the archive meanwhile, so no lock is taken.
    /// The copy costs time and temporary space in proportion to sled's files (not the bodies):
    /// docs/format.md has the measurement.
    fn open_read_only(path: PathBuf) -> Result<Database> {
        let version = ensure_archive(&path, false, false)?;
        let source = sled_dir(&path)?;
        let scratch = Scratch {
            path: scratch_dir()?,
        };
        copy_sled_files(&source, &scratch.path)?;
        let db = open_sled(&scratch.path, SLED_LOCK_RETRY)?;
        Ok(Database {
            inner: Arc::new(Inner {
                db,
                sled_dir: scratch.path.clone(),
                path,
                compact: AtomicBool::new(false),
                compact_if_freed: AtomicBool::new(false),
                synced_blobs: std::sync::Mutex::new(None),
                version: AtomicU32::new(version),
                lock: None,
                scratch: Some(scratch),
            }),
        })
    }

    /// Whether this archive was opened read-only ([`Database::open_read_only`]).
    pub(crate) fn read_only(&self) -> bool {
        self.inner.scratch.is_some()
    }

    /// Makes everything written so far durable: sled's flush, then an `fsync` of sled's log file
    /// and of its directory of large values, because sled 0.34's flush uses
    /// `sync_file_range`, which neither flushes the drive's write cache nor syncs metadata
    /// (sled issue #1351), and never syncs the files it keeps large values in.
    pub(crate) fn flush(&self) -> Result<()> {
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
                let now = SystemTime::now();
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
    pub(crate) fn version(&self) -> u32 {
        self.inner.version.load(Ordering::Acquire)
    }

    /// Writes `version` into the header (a temporary file, fsync, atomic rename, fsync of the
    /// directory): the last step of an upgrade, after everything it wrote is flushed.
    pub(crate) fn set_version(&self, version: u32) -> Result<()> {
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
    /// snapshots only when it opens), drops it, then releases the lock. After `optimize`, it
    /// compacts sled instead ([`Database::compact_on_close_if_grown`]).
    ///
    /// This must be the last handle of the database: every [`crate::Store`] and sled tree of it
    /// dropped (`Store::close` does that for a store's own handles). Otherwise it fails with
    /// [`Error::StillOpen`] and the database stays open (flushed) in the other handles; a sled tree
    /// kept elsewhere makes it end with [`Error::Locked`] after a few seconds.
    pub(crate) fn close(self) -> Result<()> {
        self.flush()?;
        let mut inner = Arc::try_unwrap(self.inner).map_err(|_| Error::StillOpen)?;
        if inner.scratch.is_some() {
            // A read-only archive: its sled copy goes with it, nothing of the archive changed.
            drop(inner);
            return Ok(());
        }
        let lock = inner.lock.take();
        let path = inner.path.clone();
        let sled_dir = inner.sled_dir.clone();
        let compact = inner.compact.load(Ordering::Acquire);
        let if_freed = inner.compact_if_freed.load(Ordering::Acquire);
        if compact {
            // A small database is copied from the open one, which is then flushed and dropped;
            // a large one is flushed and dropped first (with all sled keeps in memory) and
            // copied in windows (`copy_sled`). The lock stays held.
            let window = COPY_WINDOW_BYTES;
            let (new, _) = if dir_bytes(&sled_dir)? <= window {
                let copied = copy_sled(&path, &sled_dir, Some(&inner.db), window)?;
                drop(inner);
                copied
            } else {
                drop(inner);
                copy_sled(&path, &sled_dir, None, window)?
            };
            switch_sled(&path, &new)?;
        } else {
            // Flushes and drops sled; the lock stays held.
            drop(inner);
            let db = open_sled(&sled_dir, SLED_LOCK_RETRY)?;
            db.flush().map_err(engine_error)?;
            drop(db);
            // That open zero-filled every free segment: they can be counted now.
            if if_freed && freed_enough(&sled_dir)? {
                let (new, _) = copy_sled(&path, &sled_dir, None, COPY_WINDOW_BYTES)?;
                switch_sled(&path, &new)?;
            }
        }
        drop(lock);
        Ok(())
    }

    /// Asks [`Database::close`] to rewrite sled into a fresh directory: sled 0.34 never gives
    /// back the space of what was overwritten or deleted (its files were measured at 2 to 6
    /// times the live data after imports), a fresh copy holds the live data once. `optimize`
    /// asks for it.
    pub(crate) fn compact_on_close(&self) {
        self.inner.compact.store(true, Ordering::Release);
    }

    /// [`Database::compact_on_close`] when sled's files (flushed) hold more than a quarter
    /// more than the compaction that made their directory left, or sled was never compacted
    /// (or by a build that did not record the size); otherwise the close compacts if sled's
    /// file holds many more free segments than the compaction left ([`freed_enough`], counted
    /// once the close has reopened sled, which zero-fills them all). `optimize` asks so, so
    /// that an `optimize` with nothing to give back does not rewrite sled.
    pub(crate) fn compact_on_close_if_grown(&self) -> Result<()> {
        let grown = match crate::compaction::compacted_size(&self.inner.sled_dir) {
            Some(size) => {
                self.inner.db.flush().map_err(engine_error)?;
                dir_bytes(&self.inner.sled_dir)? > size + size / crate::compaction::REGROWTH
            }
            None => true,
        };
        if grown {
            self.compact_on_close();
        } else {
            self.inner.compact_if_freed.store(true, Ordering::Release);
        }
        Ok(())
    }

    /// The sled database.
    pub(crate) fn sled(&self) -> &sled::Db {
        &self.inner.db
    }

    /// The archive directory, as given to [`Database::open`].
    pub(crate) fn path(&self) -> &Path {
        &self.inner.path
    }

    /// The size on disk of the archive directory: the sum of the lengths of its files.
    pub(crate) fn disk_bytes(&self) -> Result<u64> {
        dir_bytes(&self.inner.path)
    }
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
            // The process creating this archive writes the header before anything else, under
            // the lock: a file of the archive seen here may be one written after the header we
            // did not find a moment ago. The header, renamed into place, says which.
            if let Some(version) = header::check(dir)? {
                return Ok(version);
            }
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

/// Whether an error opening our lock file for writing says the archive cannot be written.
fn is_read_only(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        ErrorKind::ReadOnlyFilesystem | ErrorKind::PermissionDenied
    )
}

/// A new, empty directory of our own under the system's temporary directory.
fn scratch_dir() -> Result<PathBuf> {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let base = std::env::temp_dir();
    loop {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path = base.join(format!("morgue-read-only-{}-{n}", std::process::id()));
        match fs::create_dir(&path) {
            Ok(()) => return Ok(path),
            Err(e) if e.kind() == ErrorKind::AlreadyExists => {}
            Err(e) => return Err(Error::io(path, e)),
        }
    }
}

/// Copies sled's files (`conf`, `db`, `blobs/`, the snapshots `snap.*`) from `from` to `to`.
fn copy_sled_files(from: &Path, to: &Path) -> Result<()> {
    for entry in fs::read_dir(from).map_err(|e| Error::io(from, e))? {
        let entry = entry.map_err(|e| Error::io(from, e))?;
        let name = entry.file_name();
        let text = name.to_string_lossy();
        let wanted = matches!(&*text, "conf" | "db" | "blobs")
            || (text.starts_with("snap.") && !text.ends_with(".generating"));
        if !wanted {
            continue;
        }
        let source = entry.path();
        let target = to.join(&name);
        if source.is_dir() {
            fs::create_dir(&target).map_err(|e| Error::io(&target, e))?;
            copy_sled_files_all(&source, &target)?;
        } else {
            fs::copy(&source, &target).map_err(|e| Error::io(&source, e))?;
        }
    }
    Ok(())
}

/// Copies every file of `from` (sled's `blobs/`, flat) into `to`.
fn copy_sled_files_all(from: &Path, to: &Path) -> Result<()> {
    for entry in fs::read_dir(from).map_err(|e| Error::io(from, e))? {
        let entry = entry.map_err(|e| Error::io(from, e))?;
        let source = entry.path();
        let target = to.join(entry.file_name());
        fs::copy(&source, &target).map_err(|e| Error::io(&source, e))?;
    }
    Ok(())
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
pub(crate) fn open_sled(dir: &Path, patience: Duration) -> Result<sled::Db> {
    open_sled_with(dir, patience, true)
}

/// [`open_sled`], with sled's background thread or without it (`flusher`). That thread writes
/// out what was written every half second and, for half of that time, cleans sled's file:
/// it rewrites the pages still live in segments mostly garbage, reading each of them in (and
/// keeping them, as a scan does: docs/performance.md). A database only read from until it is
/// dropped needs neither.
pub(crate) fn open_sled_with(dir: &Path, patience: Duration, flusher: bool) -> Result<sled::Db> {
    let start = Instant::now();
    loop {
        match sled::Config::new()
            .path(dir)
            .cache_capacity(SLED_CACHE_BYTES)
            .flush_every_ms(flusher.then_some(500))
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
pub(crate) fn sync_path(path: &Path) -> Result<()> {
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
pub(crate) fn engine_error(e: sled::Error) -> Error {
    match e {
        sled::Error::Io(io) if is_lock_error(&io) => Error::Locked {
            path: locked_dir(&io.to_string()).unwrap_or_default(),
        },
        other => Error::Engine {
            source: Box::new(other),
        },
    }
}

/// The archive directory from sled's message `could not acquire lock on "DIR/db": …`.
fn locked_dir(message: &str) -> Option<PathBuf> {
    let rest = message.split_once("lock on \"")?.1;
    let file = Path::new(rest.split_once('"')?.0);
    file.parent().map(Path::to_path_buf)
}

/// The sum of the file lengths under `dir` (symbolic links are not followed).
pub(crate) fn dir_bytes(dir: &Path) -> Result<u64> {
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

/// Writes this process's id and command line (cut to 200 bytes) into the lock file.
fn write_holder(mut file: &File) -> std::io::Result<()> {
    use std::io::{Seek as _, Write as _};
    let mut command = std::env::args().collect::<Vec<_>>().join(" ");
    if command.len() > 200 {
        let mut end = 200;
        while !command.is_char_boundary(end) {
            end -= 1;
        }
        command.truncate(end);
    }
    file.set_len(0)?;
    file.seek(std::io::SeekFrom::Start(0))?;
    writeln!(file, "{} {command}", std::process::id())
}

/// Who holds the lock of the archive at `dir`, as the holder wrote it when it took it: its
/// process id and command line (`"4711 morgue import news.jsonl"`). `None` when the lock file
/// is missing, empty or unreadable. For messages only: the lock itself is the file lock.
pub fn lock_holder(dir: &Path) -> Option<String> {
    let text = fs::read_to_string(dir.join(LOCK_FILE)).ok()?;
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
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
                // Who holds it, for the "in use" error of the next process ([`lock_holder`]);
                // the lock is what counts, so a failure to say it is no failure.
                let _ = write_holder(&file);
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
            matches!(err, Error::Engine { ref source } if source.to_string().contains("nope")),
            "{err:?}"
        );
    }
}
