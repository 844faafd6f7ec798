//! The directory an index open for writing reads its segments through: tantivy's
//! memory-mapped directory for everything but reading, which is done with positioned reads
//! (`pread`) into memory of our own.
//!
//! Why: every page of a memory-mapped file that the process touches counts in its resident set
//! until the mapping goes, and tantivy's merges read every page of the segments they merge. An
//! import of 1,000,000 articles carried up to 245 MB of mapped index pages at its end, and
//! `optimize`, which merges the whole index into one segment, would map all of it (3 GB at
//! 10,000,000 articles). Read with `pread`, the same bytes pass through the kernel's page cache,
//! which is the kernel's to reclaim, and only what a merge or a query holds at one time is the
//! process's: the term dictionaries of the open segments and the postings being read
//! (docs/performance.md, "Where the memory goes"). Read-only opens (`search`, `list`) keep the
//! memory map, which costs nothing to open.

use std::fs::File;
use std::io;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use tantivy::HasLen;
use tantivy::directory::error::{DeleteError, LockError, OpenReadError, OpenWriteError};
use tantivy::directory::{
    Directory, DirectoryLock, FileHandle, Lock, MmapDirectory, OwnedBytes, WatchCallback,
    WatchHandle, WritePtr,
};

/// [`MmapDirectory`] whose files are read with positioned reads instead of a memory map.
#[derive(Debug, Clone)]
pub(crate) struct PreadDir {
    mmap: MmapDirectory,
    root: PathBuf,
}

impl PreadDir {
    /// The index directory `root` (which must exist).
    pub(crate) fn open(root: &Path) -> tantivy::Result<PreadDir> {
        Ok(PreadDir {
            mmap: MmapDirectory::open(root)?,
            root: root.to_path_buf(),
        })
    }
}

/// Bytes read at once for a small read: tantivy asks for each term's postings, positions and
/// skip data separately (a few bytes to a few KiB each, in increasing offsets during a merge),
/// and one `pread` per ask cost a Reuters `optimize` 250,000 system calls.
const CHUNK: usize = 64 << 10;

/// One file of the index, read with positioned reads.
#[derive(Debug)]
struct PreadFile {
    file: File,
    len: usize,
    /// The chunk read last (its offset and bytes): small reads within it are copied from it.
    /// Reads are copies, never slices of the chunk, so that what tantivy keeps (a term
    /// dictionary's index, a fast field) does not keep a whole chunk alive. tantivy writes each
    /// file once and never changes it, so a chunk cannot go stale.
    chunk: Mutex<(usize, Vec<u8>)>,
}

impl PreadFile {
    fn new(file: File, len: usize) -> PreadFile {
        PreadFile {
            file,
            len,
            chunk: Mutex::new((0, Vec::new())),
        }
    }
}

impl HasLen for PreadFile {
    fn len(&self) -> usize {
        self.len
    }
}

impl FileHandle for PreadFile {
    fn read_bytes(&self, range: Range<usize>) -> io::Result<OwnedBytes> {
        if range.start >= range.end {
            return Ok(OwnedBytes::empty());
        }
        if range.end > self.len {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("bytes {range:?} of a file of {} bytes", self.len),
            ));
        }
        if range.len() >= CHUNK {
            let mut buf = vec![0; range.len()];
            read_exact_at(&self.file, &mut buf, range.start as u64)?;
            return Ok(OwnedBytes::new(buf));
        }
        let mut chunk = self.chunk.lock().unwrap_or_else(PoisonError::into_inner);
        let (at, bytes) = &mut *chunk;
        if range.start < *at || range.end > *at + bytes.len() {
            let end = (range.start + CHUNK).min(self.len);
            bytes.resize(end - range.start, 0);
            if let Err(e) = read_exact_at(&self.file, bytes, range.start as u64) {
                bytes.clear();
                return Err(e);
            }
            *at = range.start;
        }
        Ok(OwnedBytes::new(
            bytes[range.start - *at..range.end - *at].to_vec(),
        ))
    }
}

#[cfg(unix)]
fn read_exact_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buf, offset)
}

#[cfg(windows)]
fn read_exact_at(file: &File, mut buf: &mut [u8], mut offset: u64) -> io::Result<()> {
    use std::os::windows::fs::FileExt;
    while !buf.is_empty() {
        match file.seek_read(buf, offset)? {
            0 => return Err(io::ErrorKind::UnexpectedEof.into()),
            n => {
                buf = &mut buf[n..];
                offset += n as u64;
            }
        }
    }
    Ok(())
}

impl Directory for PreadDir {
    fn get_file_handle(&self, path: &Path) -> Result<Arc<dyn FileHandle>, OpenReadError> {
        let full = self.root.join(path);
        let opened = File::open(&full).and_then(|file| {
            let len = usize::try_from(file.metadata()?.len())
                .map_err(|_| io::Error::new(io::ErrorKind::FileTooLarge, "file too large"))?;
            Ok(PreadFile::new(file, len))
        });
        match opened {
            Ok(handle) => Ok(Arc::new(handle)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                Err(OpenReadError::FileDoesNotExist(path.to_path_buf()))
            }
            Err(e) => Err(OpenReadError::wrap_io_error(e, path.to_path_buf())),
        }
    }

    fn delete(&self, path: &Path) -> Result<(), DeleteError> {
        self.mmap.delete(path)
    }

    fn exists(&self, path: &Path) -> Result<bool, OpenReadError> {
        self.mmap.exists(path)
    }

    fn open_write(&self, path: &Path) -> Result<WritePtr, OpenWriteError> {
        self.mmap.open_write(path)
    }

    fn atomic_read(&self, path: &Path) -> Result<Vec<u8>, OpenReadError> {
        self.mmap.atomic_read(path)
    }

    fn atomic_write(&self, path: &Path, data: &[u8]) -> io::Result<()> {
        self.mmap.atomic_write(path, data)
    }

    fn sync_directory(&self) -> io::Result<()> {
        self.mmap.sync_directory()
    }

    fn acquire_lock(&self, lock: &Lock) -> Result<DirectoryLock, LockError> {
        self.mmap.acquire_lock(lock)
    }

    fn watch(&self, watch_callback: WatchCallback) -> tantivy::Result<WatchHandle> {
        self.mmap.watch(watch_callback)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_ranges_empty_ranges_and_refuses_past_the_end() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("f"), b"0123456789").unwrap();
        std::fs::write(dir.path().join("empty"), b"").unwrap();
        let d = PreadDir::open(dir.path()).unwrap();
        let f = d.get_file_handle(Path::new("f")).unwrap();
        assert_eq!(f.len(), 10);
        assert_eq!(f.read_bytes(2..5).unwrap().as_slice(), b"234");
        assert_eq!(f.read_bytes(0..10).unwrap().as_slice(), b"0123456789");
        assert!(f.read_bytes(4..4).unwrap().is_empty());
        assert!(f.read_bytes(8..11).is_err());
        let e = d.get_file_handle(Path::new("empty")).unwrap();
        assert_eq!(e.len(), 0);
        assert!(e.read_bytes(0..0).unwrap().is_empty());
        assert!(matches!(
            d.get_file_handle(Path::new("missing")),
            Err(OpenReadError::FileDoesNotExist(_))
        ));
    }

    #[test]
    fn small_reads_come_from_the_chunk_and_large_ones_from_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let data: Vec<u8> = (0..3 * CHUNK + 123).map(|i| (i * 7 % 251) as u8).collect();
        std::fs::write(dir.path().join("f"), &data).unwrap();
        let d = PreadDir::open(dir.path()).unwrap();
        let f = d.get_file_handle(Path::new("f")).unwrap();
        let ranges = [
            10..20,
            15..5000,                         // within the chunk read at 10
            CHUNK..CHUNK + 9,                 // past it: a new chunk
            3..8,                             // before it: a new chunk
            CHUNK - 4..CHUNK + 4,             // straddles the chunk's end
            2 * CHUNK..3 * CHUNK + 1,         // as large as a chunk: read directly
            3 * CHUNK + 100..3 * CHUNK + 123, // the file's end: a short chunk
            3 * CHUNK + 122..3 * CHUNK + 123,
        ];
        for r in ranges {
            assert_eq!(
                f.read_bytes(r.clone()).unwrap().as_slice(),
                &data[r.clone()],
                "{r:?}"
            );
        }
        assert!(f.read_bytes(3 * CHUNK + 120..3 * CHUNK + 124).is_err());
        assert_eq!(f.read_bytes(0..4).unwrap().as_slice(), &data[0..4]);
    }
}
