//! Compaction of sled at close: sled 0.34 never gives back the space of what was overwritten
//! or deleted, so after `optimize` [`crate::dir::Database::close`] copies the live keys into a
//! fresh directory (`sled.NNNNNNNN`), makes it the one in use through the pointer file
//! [`SLED_POINTER_FILE`], and deletes the old files; every step is safe to interrupt.

use std::fs::{self, File};
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use crate::dir::{
    SLED_CACHE_BYTES, SLED_LOCK_RETRY, dir_bytes, engine_error, open_sled, open_sled_with,
    sync_path,
};
use crate::error::{Error, Result};
use crate::header::sync_dir;

/// Name of the file, in the archive directory, that names the directory sled lives in (one line,
/// `sled.` and 8 hex digits), written by [`Database::close`] after a compaction. Without it, sled
/// lives in the archive directory itself.
pub(crate) const SLED_POINTER_FILE: &str = "SLED";
/// The temporary file the pointer is written to before its rename.
const SLED_POINTER_TEMP: &str = "SLED.tmp";
/// The prefix of the directories sled is compacted into.
const SLED_DIR_PREFIX: &str = "sled.";
/// The file a compaction writes into the sled directory it makes: one line, the decimal number
/// of bytes the directory's files held once the copy was made (this file excepted), then `\n`.
pub(crate) const SIZE_FILE: &str = "morgue-size";
/// `optimize` compacts again only once sled's files are more than `1 + 1/REGROWTH` times what
/// its last compaction left ([`SIZE_FILE`]): a quarter more.
pub(crate) const REGROWTH: u64 = 4;
/// The file a compaction writes beside [`SIZE_FILE`]: one line, the decimal number of free
/// segments sled's log file held once the copy was written and reopened ([`free_segments`]),
/// then `\n`.
pub(crate) const FREE_FILE: &str = "morgue-free";
/// `optimize` compacts again, too, once sled's log file holds this many free segments more than
/// its last compaction left ([`FREE_FILE`]): sled 0.34 rewrites every free segment, 512 KiB of
/// zeros, at every open, and after imports into a large archive they add up (87 at 10,000,000
/// articles after 50,000 more: 44 MB written and synced by every command, a cold `list` 62 ms
/// instead of 45 ms once compacted; docs/performance.md). 32 is 16 MiB at every open.
pub(crate) const MORE_FREE_SEGMENTS: u64 = 32;
/// Bytes of a sled segment header; a segment in use starts with one that is never all zeros
/// (its LSN is stored XORed with `i64::MAX`).
const SEGMENT_HEADER_LEN: u64 = 20;
/// sled's own files, when it lives in the archive directory (besides `snap.*`).
const SLED_FILES: [&str; 3] = ["conf", "db", "blobs"];

/// The size of the sled directory `sled_dir` when a compaction made it, from its
/// [`SIZE_FILE`]; `None` when there is none (sled in the archive directory, or compacted by an
/// earlier build) or it does not parse.
pub(crate) fn compacted_size(sled_dir: &Path) -> Option<u64> {
    read_number(&sled_dir.join(SIZE_FILE))
}

/// How many free segments [`FREE_FILE`] says the compaction that made `sled_dir` left; 0 when
/// it is missing (compacted by an earlier build) or does not parse.
fn compacted_free(sled_dir: &Path) -> u64 {
    read_number(&sled_dir.join(FREE_FILE)).unwrap_or(0)
}

/// The number a file of one line holds (decimal, then `\n`, as [`write_number`] writes it);
/// `None` when the file is missing or does not parse.
fn read_number(path: &Path) -> Option<u64> {
    let text = fs::read_to_string(path).ok()?;
    text.strip_suffix('\n')?.parse().ok()
}

/// Writes `n` as a file of one line: decimal, then `\n`.
fn write_number(path: &Path, n: u64) -> Result<()> {
    fs::write(path, format!("{n}\n")).map_err(|e| Error::io(path, e))
}

/// How many segments of sled's log file (`db` in `sled_dir`, closed) are free. sled 0.34 fills
/// every free segment with zeros when it opens (and does again at every open, until it writes
/// there), so once it was opened and closed, a segment whose header is all zeros is free. The
/// segment size is the one sled's `conf` records (`segment_size: N` on a line of its own).
pub(crate) fn free_segments(sled_dir: &Path) -> Result<u64> {
    let conf = sled_dir.join("conf");
    // Lines of text, then sled's 4-byte checksum.
    let bytes = fs::read(&conf).map_err(|e| Error::io(&conf, e))?;
    let segment: u64 = String::from_utf8_lossy(&bytes)
        .lines()
        .find_map(|line| line.strip_prefix("segment_size: "))
        .and_then(|n| n.trim().parse().ok())
        .filter(|&n| n >= SEGMENT_HEADER_LEN)
        .ok_or_else(|| Error::Damaged {
            what: format!("{} (no segment size)", conf.display()),
        })?;
    let path = sled_dir.join("db");
    let file = File::open(&path).map_err(|e| Error::io(&path, e))?;
    let len = file.metadata().map_err(|e| Error::io(&path, e))?.len();
    let mut header = [0u8; SEGMENT_HEADER_LEN as usize];
    let mut free = 0;
    let mut base = 0;
    while base + SEGMENT_HEADER_LEN <= len {
        crate::packfile::read_exact_at(&file, &mut header, base)
            .map_err(|e| Error::io(&path, e))?;
        free += u64::from(header.iter().all(|&b| b == 0));
        base += segment;
    }
    Ok(free)
}

/// Whether sled's log file in `sled_dir` (closed, after an open) holds [`MORE_FREE_SEGMENTS`]
/// free segments more than its compaction left.
pub(crate) fn freed_enough(sled_dir: &Path) -> Result<bool> {
    #[cfg(test)]
    let more = tests::MORE_FREE
        .with(std::cell::Cell::get)
        .unwrap_or(MORE_FREE_SEGMENTS);
    #[cfg(not(test))]
    let more = MORE_FREE_SEGMENTS;
    Ok(free_segments(sled_dir)? >= compacted_free(sled_dir) + more)
}

/// The directory sled lives in.
pub(crate) fn sled_dir(dir: &Path) -> Result<PathBuf> {
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
pub(crate) fn remove_stale_sled(dir: &Path, current: &Path) -> Result<()> {
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
/// The passes run over each window of keys read (see [`copy_sled`]; the whole tree when the
/// database is small): passes over the whole of a large database read it 8 times (at
/// 10,000,000 articles 21.4 s and a 546 MB peak against 10.6 s and 404 MB, for a copy 3.7%
/// smaller: 1.48 against 1.54 GB).
const COPY_PASSES: usize = 8;

/// Keys and values a compaction reads from the database it copies before it reopens it (see
/// [`copy_sled`]).
pub(crate) const COPY_WINDOW_BYTES: u64 = 64 << 20;

/// Rewrites the sled database of the archive `dir` (its files in `old`) into a fresh directory
/// of the archive: every tree copied (see [`COPY_PASSES`]), flushed and synced. `from` is the
/// open database when it is small (its files at most [`COPY_WINDOW_BYTES`]): it is copied as it
/// is. Otherwise (`None`: closed by the caller) the copy opens it afresh, and again after each
/// `window` bytes of keys and values it reads ([`COPY_WINDOW_BYTES`] but in tests): sled 0.34
/// keeps in memory much of what is read through its iterators (its cache counts a page only
/// once 64 accesses to the pages of its shard have queued, so a scan leaves up to 16,384 pages
/// uncounted and never evicted; sled issue #1036), and only dropping a database gives that
/// back. (Copying in windows of keys instead, both databases reopened between them, left 10%
/// more garbage in the new files.)
///
/// Returns the new directory and how many times the copy opened the old database; then
/// [`switch_sled`] makes the new one the one in use. A crash before the switch leaves the old
/// database in use (the new directory is deleted at the next open).
pub(crate) fn copy_sled(
    dir: &Path,
    old: &Path,
    from: Option<&sled::Db>,
    window: u64,
) -> Result<(PathBuf, u32)> {
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
    let target = sled::Config::new()
        .path(&new)
        .cache_capacity(SLED_CACHE_BYTES)
        .open()
        .map_err(engine_error)?;
    let mut source = Source {
        old,
        from,
        opened: None,
        opens: 0,
        window,
    };
    source.reopen()?;
    for tree in source.db()?.tree_names() {
        let target = target.open_tree(&tree).map_err(engine_error)?;
        // Each window read once, then inserted one key at a time in COPY_PASSES interleaved
        // passes over it (keys 0, 8, 16, …, then 1, 9, …): sled writes far less garbage so (see
        // COPY_PASSES). No batch is needed: nothing points at the new directory until
        // `switch_sled`.
        // Where the next window starts (inclusive); `None`: at the tree's first key.
        let mut lo: Option<sled::IVec> = None;
        loop {
            let (window, next) = source.read_window(&tree, lo.as_ref())?;
            for pass in 0..COPY_PASSES {
                for (k, v) in window.iter().skip(pass).step_by(COPY_PASSES) {
                    target.insert(k, v.clone()).map_err(engine_error)?;
                }
            }
            // What the window holds of the source is let go before the source is reopened.
            drop(window);
            match next {
                Some(key) => {
                    lo = Some(key);
                    source.reopen()?;
                }
                None => break,
            }
        }
        crash_point("copying");
    }
    target.flush().map_err(engine_error)?;
    crash_point("copied");
    Ok((new, source.opens))
}

/// Keys and values read from the database a [`copy_sled`] copies, in key order.
type Window = Vec<(sled::IVec, sled::IVec)>;

/// The database a [`copy_sled`] reads.
struct Source<'a> {
    old: &'a Path,
    /// The caller's open database, read without reopening.
    from: Option<&'a sled::Db>,
    /// The database as the copy opened it (when `from` is `None`).
    opened: Option<sled::Db>,
    /// How many times it was opened.
    opens: u32,
    /// Bytes of keys and values read between two openings.
    window: u64,
}

impl Source<'_> {
    fn db(&self) -> Result<&sled::Db> {
        self.from
            .or(self.opened.as_ref())
            .ok_or_else(|| Error::Internal("compaction without a source".into()))
    }

    /// Opens the database afresh (the one open before dropped first, and with it what sled
    /// kept in memory), unless it is the caller's.
    fn reopen(&mut self) -> Result<()> {
        if self.from.is_none() {
            self.opened = None;
            // Without sled's flusher: its cleaning would rewrite pages of a database that is
            // only read, then deleted.
            self.opened = Some(open_sled_with(self.old, SLED_LOCK_RETRY, false)?);
            self.opens += 1;
        }
        Ok(())
    }

    /// The keys and values of tree `tree` from `lo` (inclusive; `None`: its first key) on, in
    /// order, until `window` bytes of them were read from an opened database; and the first
    /// key not read, `None` at the tree's end.
    fn read_window(
        &self,
        tree: &[u8],
        lo: Option<&sled::IVec>,
    ) -> Result<(Window, Option<sled::IVec>)> {
        let source = self.db()?.open_tree(tree).map_err(engine_error)?;
        let keys = match lo {
            Some(lo) => source.range(lo.clone()..),
            None => source.iter(),
        };
        let mut window = Vec::new();
        let mut bytes = 0u64;
        for kv in keys {
            let (k, v) = kv.map_err(engine_error)?;
            if bytes >= self.window && self.from.is_none() {
                return Ok((window, Some(k)));
            }
            bytes += (k.len() + v.len()) as u64;
            window.push((k, v));
        }
        Ok((window, None))
    }
}

/// Makes the sled database copied into `new` (closed) the one in use: opened once more (so that
/// it has a snapshot), synced, the pointer file written atomically, and only then the old files
/// deleted. A crash before the pointer is renamed leaves the old database in use (the new
/// directory is deleted at the next open); after it, the new one (the old files are deleted at
/// the next open).
pub(crate) fn switch_sled(dir: &Path, new: &Path) -> Result<()> {
    let name = new
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| Error::Internal(format!("bad sled directory {}", new.display())))?
        .to_owned();
    // Opened once more: sled writes its snapshot, so the next open does not replay the log.
    {
        let db = open_sled(new, SLED_LOCK_RETRY)?;
        db.flush().map_err(engine_error)?;
    }
    // What the copy holds, for the next `optimize` to tell how much sled grew since, and how
    // many free segments it has.
    let size = dir_bytes(new)?;
    let free = free_segments(new)?;
    write_number(&new.join(SIZE_FILE), size)?;
    write_number(&new.join(FREE_FILE), free)?;
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

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::tests::sled_contents as contents;

    thread_local! {
        /// [`MORE_FREE_SEGMENTS`] for the closes of this test thread, when set.
        pub(crate) static MORE_FREE: std::cell::Cell<Option<u64>> = const { std::cell::Cell::new(None) };
    }

    /// A sled directory of our making: its `conf` with segments of `segment` bytes (and four
    /// bytes where sled's checksum would be), its `db`
    /// of the given segment headers (all zeros: a free segment), each segment's rest filled
    /// with ones, and then `tail` bytes of zeros.
    fn fake_sled(dir: &Path, segment: usize, free: &[bool], tail: usize) {
        fs::create_dir_all(dir).unwrap();
        let mut conf = format!("segment_size: {segment}\nuse_compression: false\nversion: 0.34\n")
            .into_bytes();
        conf.extend_from_slice(&[0x76, 0x19, 0x51, 0xc1]);
        fs::write(dir.join("conf"), conf).unwrap();
        let mut db = Vec::new();
        for &f in free {
            let start = db.len();
            db.resize(start + segment, 1);
            if f {
                db[start..start + 20].fill(0);
            }
        }
        db.resize(db.len() + tail, 0);
        fs::write(dir.join("db"), db).unwrap();
    }

    #[test]
    fn free_segments_are_those_with_a_header_of_zeros() {
        let dir = tempfile::tempdir().unwrap();
        let sled = dir.path().join("sled.00000001");
        // A tail shorter than a header is no segment; one of 20 bytes or more is.
        fake_sled(&sled, 64, &[false, true, false, true], 19);
        assert_eq!(free_segments(&sled).unwrap(), 2);
        fake_sled(&sled, 64, &[false, true, false, true], 20);
        assert_eq!(free_segments(&sled).unwrap(), 3);
        // Enough freed: MORE_FREE_SEGMENTS more than the compaction left.
        let many: Vec<bool> = (0..40).map(|i| i % 8 != 0).collect();
        fake_sled(&sled, 64, &many, 0);
        assert_eq!(free_segments(&sled).unwrap(), 35);
        assert!(freed_enough(&sled).unwrap(), "no count left: from 0");
        fs::write(sled.join(FREE_FILE), "3\n").unwrap();
        assert!(freed_enough(&sled).unwrap(), "35 >= 3 + 32");
        fs::write(sled.join(FREE_FILE), "4\n").unwrap();
        assert!(!freed_enough(&sled).unwrap(), "35 < 4 + 32");
        // A conf without a segment size is damage.
        fs::write(sled.join("conf"), "use_compression: false\n").unwrap();
        assert!(matches!(free_segments(&sled), Err(Error::Damaged { .. })));
    }

    /// On sled's own files: after values rewritten many times, the segments sled freed (and
    /// zero-filled at its next open) are the ones with a header of zeros, and each of them is
    /// zeros from end to end.
    #[test]
    fn sled_zero_fills_the_free_segments_counted() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sled");
        {
            let db = open_sled(&path, SLED_LOCK_RETRY).unwrap();
            for round in 0..6u8 {
                for i in 0..400u32 {
                    db.insert(i.to_be_bytes(), vec![round; 2000 + (i as usize % 7) * 100])
                        .unwrap();
                }
                db.flush().unwrap();
            }
            for i in 0..300u32 {
                db.remove(i.to_be_bytes()).unwrap();
            }
            db.flush().unwrap();
        }
        // Opened once more: sled zero-fills what is free.
        drop(open_sled(&path, SLED_LOCK_RETRY).unwrap());
        let free = free_segments(&path).unwrap();
        let db = fs::read(path.join("db")).unwrap();
        let zeros = db
            .chunks(512 << 10)
            .filter(|s| s.iter().all(|&b| b == 0))
            .count() as u64;
        assert!(free > 0, "the rewrites freed segments ({} bytes)", db.len());
        assert_eq!(free, zeros);
    }

    /// A copy in windows far smaller than the database (the database reopened after each
    /// 4 KiB read) copies every key of every tree once, as a copy from
    /// the open database does; and that one never reopens it.
    #[test]
    fn a_copy_in_windows_copies_every_key_of_every_tree() {
        let dir = tempfile::tempdir().unwrap();
        let old = dir.path().join("sled.00000001");
        let db = open_sled(&old, SLED_LOCK_RETRY).unwrap();
        for (name, n) in [("empty", 0u32), ("one", 1), ("many", 1001)] {
            let tree = db.open_tree(name).unwrap();
            for i in 0..n {
                tree.insert(i.to_be_bytes(), vec![i as u8; (i % 300) as usize])
                    .unwrap();
            }
        }
        db.insert(b"in the default tree", b"v".as_slice()).unwrap();
        let before = contents(&db);
        assert_eq!(before.len(), 4);

        let (open, opens) = copy_sled(dir.path(), &old, Some(&db), 4096).unwrap();
        assert_eq!(opens, 0, "the open database is copied as it is");
        assert_eq!(open, dir.path().join("sled.00000002"));
        let copied = open_sled(&open, SLED_LOCK_RETRY).unwrap();
        assert_eq!(contents(&copied), before);
        drop(copied);
        drop(db);

        let (windowed, opens) = copy_sled(dir.path(), &old, None, 4096).unwrap();
        assert_eq!(windowed, open, "the same name: the first copy is replaced");
        // "many" holds 143,604 bytes of keys and values: 34 windows, each read once.
        assert!(opens > 30, "reopened after each window: {opens}");
        let copied = open_sled(&windowed, SLED_LOCK_RETRY).unwrap();
        assert_eq!(contents(&copied), before);
    }
}
