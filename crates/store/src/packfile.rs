//! The pack files: `packs/NNNNNNNN.pack` in the archive directory, append-only, holding the
//! frames of the bodies. sled keeps only where each frame is (the slot tables, `B`).
//!
//! A file is the magic [`FILE_MAGIC`], then records back to back, each a [`RECORD_HEADER_LEN`]
//! byte header (the body's id and sequence number, codec, group, dictionary, raw and frame
//! length) and the frame: the files alone (with the dictionaries) describe every body they
//! hold. The ids live only here: sled keeps where each record is.
//!
//! A commit appends its frames at the active file's committed length (recorded in the store
//! state `S`), syncs the file, and only then applies the sled batch that points at them. Bytes
//! beyond the committed length were never committed: they are overwritten by the next commit,
//! and cut off when the store opens.

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, ErrorKind};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use crate::error::{Error, Result};
use crate::format::Slot;
use crate::header::sync_dir;
use crate::id::BlobId;

/// The directory of the pack files, in the archive directory.
pub(crate) const PACK_DIR: &str = "packs";
/// The first bytes of every pack file.
pub(crate) const FILE_MAGIC: [u8; 8] = *b"\x89mpack2\n";
/// Length of a record header: id 32, seq 4, codec 1, group 2, dict 4, raw_len 4, frame_len 4,
/// check 4 (the first 4 bytes of the blake3 hash of the 51 bytes before it).
pub(crate) const RECORD_HEADER_LEN: usize = 55;
/// A new file is started when the active one would grow past this much (1 GiB; 256 KiB in
/// tests, so that they span several files).
pub(crate) const FILE_BYTES: u64 = if cfg!(test) { 256 << 10 } else { 1 << 30 };

/// The name of pack file `n`.
pub(crate) fn file_name(n: u32) -> String {
    format!("{n:08x}.pack")
}

/// The header of the record of the frame of body `id` at `seq`.
pub(crate) fn record_header(id: &BlobId, seq: u32, slot: &Slot) -> [u8; RECORD_HEADER_LEN] {
    let mut h = [0; RECORD_HEADER_LEN];
    h[..32].copy_from_slice(id.as_bytes());
    h[32..36].copy_from_slice(&seq.to_be_bytes());
    h[36] = slot.codec;
    h[37..39].copy_from_slice(&slot.group.to_be_bytes());
    h[39..43].copy_from_slice(&slot.dict.to_be_bytes());
    h[43..47].copy_from_slice(&slot.raw_len.to_be_bytes());
    h[47..51].copy_from_slice(&slot.frame_len.to_be_bytes());
    let check = blake3::hash(&h[..51]);
    h[51..].copy_from_slice(&check.as_bytes()[..4]);
    h
}

/// The id in a record header, when its check holds and the rest of it matches the slot of
/// `seq`: a damaged header never yields an id.
pub(crate) fn header_id(header: &[u8], seq: u32, slot: &Slot) -> Option<BlobId> {
    let id = BlobId::from_key(header.get(..32)?)?;
    (header.get(..RECORD_HEADER_LEN)? == record_header(&id, seq, slot)).then_some(id)
}

/// The pack files of one archive, with open handles kept.
#[derive(Debug)]
pub(crate) struct Files {
    dir: PathBuf,
    handles: Mutex<HashMap<u32, Arc<File>>>,
    /// An archive that cannot be written: files are opened for reading only, never cut.
    read_only: bool,
}

impl Files {
    pub(crate) fn new(archive: &Path, read_only: bool) -> Files {
        Files {
            dir: archive.join(PACK_DIR),
            handles: Mutex::new(HashMap::new()),
            read_only,
        }
    }

    pub(crate) fn path(&self, n: u32) -> PathBuf {
        self.dir.join(file_name(n))
    }

    /// A handle on file `n`, opened for reading and writing (created when `create`).
    fn handle(&self, n: u32, create: bool) -> Result<Arc<File>> {
        let mut handles = self.handles.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(f) = handles.get(&n) {
            return Ok(Arc::clone(f));
        }
        let path = self.path(n);
        if create {
            match fs::create_dir(&self.dir) {
                Ok(()) => sync_dir(self.dir.parent().unwrap_or(&self.dir))?,
                Err(e) if e.kind() == ErrorKind::AlreadyExists => {}
                Err(e) => return Err(Error::io(&self.dir, e)),
            }
        }
        let existed = path.exists();
        let file = OpenOptions::new()
            .read(true)
            .write(!self.read_only)
            .create(create && !self.read_only)
            .truncate(false)
            .open(&path)
            .map_err(|e| Error::io(&path, e))?;
        if create && !existed {
            sync_dir(&self.dir)?;
        }
        let file = Arc::new(file);
        handles.insert(n, Arc::clone(&file));
        Ok(file)
    }

    /// Reads `len` bytes at `offset` of file `n`.
    pub(crate) fn read_at(&self, n: u32, offset: u64, len: usize) -> Result<Vec<u8>> {
        let file = self.handle(n, false)?;
        let mut buf = vec![0; len];
        read_exact_at(&file, &mut buf, offset).map_err(|e| Error::io(self.path(n), e))?;
        Ok(buf)
    }

    /// Writes `bytes` at `offset` of file `n` (created if missing) and syncs its data.
    pub(crate) fn write_at(&self, n: u32, offset: u64, bytes: &[u8]) -> Result<()> {
        let file = self.handle(n, true)?;
        write_all_at(&file, bytes, offset)
            .and_then(|()| file.sync_data())
            .map_err(|e| Error::io(self.path(n), e))
    }

    /// The length of file `n`, `None` when it does not exist.
    pub(crate) fn len(&self, n: u32) -> Result<Option<u64>> {
        let path = self.path(n);
        match fs::metadata(&path) {
            Ok(m) => Ok(Some(m.len())),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::io(path, e)),
        }
    }

    /// The numbers of the pack files present.
    pub(crate) fn numbers(&self) -> Result<Vec<u32>> {
        let mut out = Vec::new();
        match fs::read_dir(&self.dir) {
            Ok(entries) => {
                for entry in entries {
                    let entry = entry.map_err(|e| Error::io(&self.dir, e))?;
                    let name = entry.file_name();
                    let name = name.to_string_lossy();
                    if let Some(hex) = name.strip_suffix(".pack")
                        && hex.len() == 8
                        && let Ok(n) = u32::from_str_radix(hex, 16)
                    {
                        out.push(n);
                    }
                }
            }
            Err(e) if e.kind() == ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io(&self.dir, e)),
        }
        out.sort_unstable();
        Ok(out)
    }

    /// At open: cuts the active file `n` back to its committed length `len` (what lies beyond
    /// was never committed), and deletes files after it (started by a commit that never
    /// happened).
    /// Nothing for a read-only archive: what lies beyond is never read.
    pub(crate) fn recover(&self, n: u32, len: u64) -> Result<()> {
        if self.read_only {
            return Ok(());
        }
        if let Some(actual) = self.len(n)?
            && actual > len
        {
            let path = self.path(n);
            let file = OpenOptions::new()
                .write(true)
                .open(&path)
                .map_err(|e| Error::io(&path, e))?;
            file.set_len(len)
                .and_then(|()| file.sync_all())
                .map_err(|e| Error::io(&path, e))?;
        }
        for other in self.numbers()? {
            if other > n {
                let path = self.path(other);
                fs::remove_file(&path).map_err(|e| Error::io(&path, e))?;
            }
        }
        Ok(())
    }

    /// Deletes file `n` (compacted away).
    pub(crate) fn remove(&self, n: u32) -> Result<()> {
        self.handles
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&n);
        let path = self.path(n);
        match fs::remove_file(&path) {
            Ok(()) => sync_dir(&self.dir),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
            Err(e) => Err(Error::io(path, e)),
        }
    }
}

#[cfg(unix)]
pub(crate) fn read_exact_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buf, offset)
}

#[cfg(unix)]
fn write_all_at(file: &File, buf: &[u8], offset: u64) -> io::Result<()> {
    std::os::unix::fs::FileExt::write_all_at(file, buf, offset)
}

#[cfg(windows)]
pub(crate) fn read_exact_at(file: &File, mut buf: &mut [u8], mut offset: u64) -> io::Result<()> {
    use std::os::windows::fs::FileExt;
    while !buf.is_empty() {
        match file.seek_read(buf, offset)? {
            0 => return Err(io::Error::from(ErrorKind::UnexpectedEof)),
            n => {
                buf = &mut buf[n..];
                offset += n as u64;
            }
        }
    }
    Ok(())
}

#[cfg(windows)]
fn write_all_at(file: &File, mut buf: &[u8], mut offset: u64) -> io::Result<()> {
    use std::os::windows::fs::FileExt;
    while !buf.is_empty() {
        let n = file.seek_write(buf, offset)?;
        if n == 0 {
            return Err(io::Error::from(ErrorKind::WriteZero));
        }
        buf = &buf[n..];
        offset += n as u64;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::CODEC_ZSTD_DICT;

    #[test]
    fn record_header_pinned() {
        let slot = Slot {
            codec: CODEC_ZSTD_DICT,
            group: 0x0102,
            dict: 3,
            raw_len: 0x0A0B,
            frame_len: 0x10,
            file: 9,
            offset: 99,
        };
        let id = BlobId::from_bytes([7; 32]);
        let h = record_header(&id, 0x0102_0304, &slot);
        assert_eq!(h[..32], [7; 32]);
        assert_eq!(
            h[32..51],
            [
                1, 2, 3, 4, 2, 1, 2, 0, 0, 0, 3, 0, 0, 0x0A, 0x0B, 0, 0, 0, 0x10
            ]
        );
        assert_eq!(h[51..], blake3::hash(&h[..51]).as_bytes()[..4]);
        // Any flipped bit of the id is caught by the check.
        for byte in [0, 8, 31] {
            let mut bad = h;
            bad[byte] ^= 1;
            assert_eq!(header_id(&bad, 0x0102_0304, &slot), None, "{byte}");
        }
        assert_eq!(header_id(&h, 0x0102_0304, &slot), Some(id));
        assert_eq!(header_id(&h, 0x0102_0305, &slot), None);
        assert_eq!(header_id(&h[..54], 0x0102_0304, &slot), None);
        assert_eq!(
            FILE_MAGIC,
            [0x89, b'm', b'p', b'a', b'c', b'k', b'2', b'\n']
        );
        assert_eq!(file_name(0x1A), "0000001a.pack");
    }

    #[test]
    fn write_read_recover() {
        let dir = tempfile::tempdir().unwrap();
        let files = Files::new(dir.path(), false);
        assert_eq!(files.len(0).unwrap(), None);
        files.write_at(0, 0, b"0123456789").unwrap();
        files.write_at(0, 4, b"ab").unwrap();
        assert_eq!(files.read_at(0, 2, 5).unwrap(), b"23ab6");
        assert!(files.read_at(0, 8, 5).is_err(), "beyond the end");
        files.write_at(2, 0, b"x").unwrap();
        assert_eq!(files.numbers().unwrap(), [0, 2]);
        files.recover(0, 6).unwrap();
        assert_eq!(files.len(0).unwrap(), Some(6));
        assert_eq!(files.numbers().unwrap(), [0]);
        files.remove(0).unwrap();
        assert_eq!(files.numbers().unwrap(), Vec::<u32>::new());
    }
}
