//! The archive header file: magic bytes and the format version.

use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Write};
use std::path::Path;

use crate::error::{Error, Result};

/// Name of the header file inside the archive directory.
pub const HEADER_FILE: &str = "MORGUE";
/// Name of the temporary file the header is written to before it is renamed into place.
pub(crate) const HEADER_TEMP_FILE: &str = "MORGUE.tmp";
/// The first eight bytes of the header file.
pub(crate) const MAGIC: [u8; 8] = *b"\x89morgue\n";
/// The archive format version this build writes. It also opens every older version from 1,
/// to upgrade it.
pub const FORMAT_VERSION: u32 = 2;
/// The oldest archive format version this build opens (to upgrade it).
pub const OLDEST_VERSION: u32 = 1;
/// Length of the header file.
pub(crate) const HEADER_LEN: usize = MAGIC.len() + 4;

/// The exact bytes of the header file: magic, then the version as a big-endian u32.
pub(crate) fn header_bytes(version: u32) -> [u8; HEADER_LEN] {
    let mut out = [0; HEADER_LEN];
    out[..MAGIC.len()].copy_from_slice(&MAGIC);
    out[MAGIC.len()..].copy_from_slice(&version.to_be_bytes());
    out
}

/// Reads the header of `dir`: `Ok(None)` when there is no header file, its version when it is
/// present and of a version this build opens, an error when it is present but not readable as
/// ours.
pub(crate) fn check(dir: &Path) -> Result<Option<u32>> {
    let path = dir.join(HEADER_FILE);
    let bytes = match fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io(path, e)),
    };
    parse(&bytes).map(Some).map_err(|e| match e {
        HeaderError::NotOurs => Error::NotAnArchive {
            path: dir.to_path_buf(),
        },
        HeaderError::Version(found) => Error::UnsupportedVersion {
            found,
            supported: FORMAT_VERSION,
        },
    })
}

#[derive(Debug, PartialEq, Eq)]
enum HeaderError {
    NotOurs,
    Version(u32),
}

fn parse(bytes: &[u8]) -> Result<u32, HeaderError> {
    let Some((magic, rest)) = bytes.split_first_chunk::<8>() else {
        return Err(HeaderError::NotOurs);
    };
    if *magic != MAGIC {
        return Err(HeaderError::NotOurs);
    }
    let Some((version, rest)) = rest.split_first_chunk::<4>() else {
        return Err(HeaderError::NotOurs);
    };
    let version = u32::from_be_bytes(*version);
    if !(OLDEST_VERSION..=FORMAT_VERSION).contains(&version) {
        // A later version may append fields: name the version before anything else.
        return Err(HeaderError::Version(version));
    }
    if !rest.is_empty() {
        return Err(HeaderError::NotOurs);
    }
    Ok(version)
}

/// Writes the header of `dir` with `version` atomically: a temporary file, fsync, rename, fsync
/// of the directory. Creates an archive, or changes the version of one (an upgrade).
pub(crate) fn write(dir: &Path, version: u32) -> Result<()> {
    let temp = dir.join(HEADER_TEMP_FILE);
    let path = dir.join(HEADER_FILE);
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(&temp)
        .map_err(|e| Error::io(&temp, e))?;
    file.write_all(&header_bytes(version))
        .and_then(|()| file.sync_all())
        .map_err(|e| Error::io(&temp, e))?;
    drop(file);
    fs::rename(&temp, &path).map_err(|e| Error::io(&path, e))?;
    sync_dir(dir)
}

/// Makes a new entry or a rename inside `dir` durable (a no-op where directories cannot be
/// opened to be synced).
pub(crate) fn sync_dir(dir: &Path) -> Result<()> {
    #[cfg(unix)]
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| Error::io(dir, e))?;
    #[cfg(not(unix))]
    let _ = (dir, File::open::<&Path>);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The header must never change by accident: old archives would stop opening.
    #[test]
    fn header_bytes_pinned() {
        assert_eq!(
            header_bytes(FORMAT_VERSION),
            [0x89, b'm', b'o', b'r', b'g', b'u', b'e', b'\n', 0, 0, 0, 2]
        );
        assert_eq!(FORMAT_VERSION, 2);
    }

    #[test]
    fn written_header_is_the_pinned_bytes() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(check(dir.path()).unwrap(), None);
        write(dir.path(), 1).unwrap();
        assert_eq!(
            fs::read(dir.path().join(HEADER_FILE)).unwrap(),
            header_bytes(1)
        );
        assert!(!dir.path().join(HEADER_TEMP_FILE).exists());
        assert_eq!(check(dir.path()).unwrap(), Some(1));
        write(dir.path(), FORMAT_VERSION).unwrap();
        assert_eq!(check(dir.path()).unwrap(), Some(2));
    }

    #[test]
    fn parse_rejects() {
        assert_eq!(parse(&header_bytes(1)), Ok(1));
        assert_eq!(parse(&header_bytes(2)), Ok(2));
        assert_eq!(parse(&header_bytes(3)), Err(HeaderError::Version(3)));
        assert_eq!(parse(&header_bytes(0)), Err(HeaderError::Version(0)));
        assert_eq!(parse(b""), Err(HeaderError::NotOurs));
        assert_eq!(parse(&header_bytes(1)[..11]), Err(HeaderError::NotOurs));
        let mut long = header_bytes(1).to_vec();
        long.push(0);
        assert_eq!(parse(&long), Err(HeaderError::NotOurs));
        let mut other = header_bytes(1);
        other[1] = b'M';
        assert_eq!(parse(&other), Err(HeaderError::NotOurs));
    }

    #[test]
    fn newer_version_names_both_numbers() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(HEADER_FILE), header_bytes(7)).unwrap();
        let err = check(dir.path()).unwrap_err();
        assert!(
            matches!(
                err,
                Error::UnsupportedVersion {
                    found: 7,
                    supported: 2
                }
            ),
            "{err}"
        );
        let msg = err.to_string();
        assert!(msg.contains('7') && msg.contains('2'), "{msg}");
    }
}
