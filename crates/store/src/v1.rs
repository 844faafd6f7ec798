//! The value format of the format-1 blob tree, kept to read format-1 archives for their
//! upgrade (the encoder only for tests).
//!
//! ```text
//! offset  size  field
//! 0       1     value format version (1)
//! 1       1     codec: 0 = stored raw, 1 = zstd frame
//!                      (2 = reserved: zstd with a dictionary, 3 = reserved: packed)
//! 2       4     length of the uncompressed blob, u32 big-endian (at most MAX_BLOB_BYTES)
//! 6       ..    payload: the blob itself (codec 0) or one zstd frame (codec 1)
//! ```

use std::cell::RefCell;
use std::io;

use zstd::bulk::Decompressor;

use crate::MAX_BLOB_BYTES;
#[cfg(test)]
use crate::error::{Error, Result};
#[cfg(test)]
use crate::frame::check_len;

/// The value format version of format 1.
pub(crate) const VALUE_VERSION: u8 = 1;
/// Codec: the payload is the blob itself.
pub(crate) const CODEC_RAW: u8 = 0;
/// Codec: the payload is one zstd frame.
pub(crate) const CODEC_ZSTD: u8 = 1;
/// Length of the value header before the payload.
pub(crate) const VALUE_HEADER_LEN: usize = 6;

/// No zstd frame expands by more than this factor (an RLE block is 4 bytes for 128 KiB,
/// 32768:1); a recorded length beyond it is damage, refused before any allocation.
const MAX_ZSTD_RATIO: u64 = 1 << 16;

/// Why a value does not decode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Damage {
    /// Shorter than the value header.
    Short,
    /// An unknown value format version.
    Version(u8),
    /// An unknown codec.
    Codec(u8),
    /// The recorded length exceeds [`MAX_BLOB_BYTES`], or what the payload could hold.
    Implausible(u64),
    /// The payload does not decompress.
    Zstd,
    /// The payload decodes to a different length than recorded.
    Length {
        /// Recorded.
        recorded: u64,
        /// Found.
        found: u64,
    },
}

/// Encodes `blob` as a stored value of format 1 (tests write format-1 values with it): zstd at `level`, or raw when zstd does not make it smaller.
#[cfg(test)]
pub(crate) fn encode(blob: &[u8], level: i32) -> Result<Vec<u8>> {
    let len = check_len(blob.len())?;
    let compressed = compress(blob, level).map_err(|e| Error::Compression { source: e })?;
    let (codec, payload) = if compressed.len() < blob.len() {
        (CODEC_ZSTD, compressed.as_slice())
    } else {
        (CODEC_RAW, blob)
    };
    let mut value = Vec::with_capacity(VALUE_HEADER_LEN + payload.len());
    value.push(VALUE_VERSION);
    value.push(codec);
    value.extend_from_slice(&len.to_be_bytes());
    value.extend_from_slice(payload);
    Ok(value)
}

/// The parts of a value's header.
fn split(value: &[u8]) -> Result<(u8, u64, &[u8]), Damage> {
    let Some((head, payload)) = value.split_first_chunk::<VALUE_HEADER_LEN>() else {
        return Err(Damage::Short);
    };
    let [version, codec, l0, l1, l2, l3] = *head;
    if version != VALUE_VERSION {
        return Err(Damage::Version(version));
    }
    let len = u64::from(u32::from_be_bytes([l0, l1, l2, l3]));
    if len > MAX_BLOB_BYTES {
        return Err(Damage::Implausible(len));
    }
    Ok((codec, len, payload))
}

/// The recorded uncompressed length of a stored value.
#[cfg(test)]
pub(crate) fn raw_len(value: &[u8]) -> Result<u64, Damage> {
    split(value).map(|(_, len, _)| len)
}

/// Decodes a stored value. Never allocates more than the recorded length (itself at most
/// [`MAX_BLOB_BYTES`]) and returns exactly that many bytes or an error.
pub(crate) fn decode(value: &[u8]) -> Result<Vec<u8>, Damage> {
    let (codec, len, payload) = split(value)?;
    let out = match codec {
        CODEC_RAW => payload.to_vec(),
        CODEC_ZSTD => {
            let max = (payload.len() as u64).saturating_mul(MAX_ZSTD_RATIO);
            if len > max {
                return Err(Damage::Implausible(len));
            }
            // `len` <= MAX_BLOB_BYTES, which fits in usize on every supported target.
            let capacity = usize::try_from(len).map_err(|_| Damage::Implausible(len))?;
            decompress(payload, capacity).map_err(|_| Damage::Zstd)?
        }
        other => return Err(Damage::Codec(other)),
    };
    if out.len() as u64 == len {
        Ok(out)
    } else {
        Err(Damage::Length {
            recorded: len,
            found: out.len() as u64,
        })
    }
}

thread_local! {
    static DECOMPRESSOR: RefCell<Option<Decompressor<'static>>> = const { RefCell::new(None) };
}

/// One zstd frame of `blob` (with its content size) at `level`.
#[cfg(test)]
fn compress(blob: &[u8], level: i32) -> io::Result<Vec<u8>> {
    zstd::bulk::compress(blob, level)
}

/// Decompresses `payload` into at most `capacity` bytes.
fn decompress(payload: &[u8], capacity: usize) -> io::Result<Vec<u8>> {
    DECOMPRESSOR
        .try_with(|cell| {
            let Ok(mut slot) = cell.try_borrow_mut() else {
                return zstd::bulk::decompress(payload, capacity);
            };
            if slot.is_none() {
                *slot = Some(Decompressor::new()?);
            }
            match &mut *slot {
                Some(d) => d.decompress(payload, capacity),
                None => zstd::bulk::decompress(payload, capacity),
            }
        })
        .unwrap_or_else(|_| zstd::bulk::decompress(payload, capacity))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compressible() -> Vec<u8> {
        b"the quick brown fox jumps over the lazy dog. "
            .repeat(200)
            .into_iter()
            .collect()
    }

    #[test]
    fn value_header_pinned() {
        let blob = compressible();
        let value = encode(&blob, 3).unwrap();
        assert_eq!(value[0], 1, "value format version");
        assert_eq!(value[1], CODEC_ZSTD);
        assert_eq!(value[2..6], (blob.len() as u32).to_be_bytes());
        assert!(value.len() < blob.len() / 4);
        assert_eq!(decode(&value).unwrap(), blob);
        assert_eq!(raw_len(&value), Ok(blob.len() as u64));
    }

    #[test]
    fn a_damaged_frame_does_not_spoil_the_context() {
        let blob = compressible();
        let fresh = zstd::bulk::compress(&blob, 5).unwrap();
        for level in [5, 3, 5] {
            let value = encode(&blob, level).unwrap();
            assert_eq!(decode(&value).unwrap(), blob);
            if level == 5 {
                assert_eq!(value[VALUE_HEADER_LEN..], fresh);
            }
        }
        // A damaged frame does not spoil the thread's decompressor for the next value.
        let value = encode(&blob, 3).unwrap();
        let mut bad = value.clone();
        let last = bad.len() - 1;
        bad[last] ^= 0xff;
        bad[VALUE_HEADER_LEN + 4] ^= 0xff;
        assert!(decode(&bad).is_err());
        assert_eq!(decode(&value).unwrap(), blob);
    }

    #[test]
    fn tiny_blobs_are_stored_raw() {
        assert_eq!(encode(b"", 3).unwrap(), [1, 0, 0, 0, 0, 0]);
        assert_eq!(
            encode(b"abc", 3).unwrap(),
            [1, 0, 0, 0, 0, 3, b'a', b'b', b'c']
        );
        assert_eq!(
            decode(&[1, 0, 0, 0, 0, 3, b'a', b'b', b'c']).unwrap(),
            b"abc"
        );
        assert_eq!(decode(&[1, 0, 0, 0, 0, 0]).unwrap(), b"");
    }

    #[test]
    fn damage_is_detected() {
        let value = encode(&compressible(), 3).unwrap();
        assert_eq!(decode(&value[..5]), Err(Damage::Short));
        let mut v = value.clone();
        v[0] = 2;
        assert_eq!(decode(&v), Err(Damage::Version(2)));
        let mut v = value.clone();
        v[1] = 2;
        assert_eq!(decode(&v), Err(Damage::Codec(2)));
        // A recorded length above the cap: refused before anything is allocated.
        let mut v = value.clone();
        v[2..6].copy_from_slice(&u32::MAX.to_be_bytes());
        assert_eq!(decode(&v), Err(Damage::Implausible(u64::from(u32::MAX))));
        // Within the cap, but more than this payload can hold.
        let mut v = value.clone();
        v[2..6].copy_from_slice(&(1u32 << 30).to_be_bytes());
        assert_eq!(decode(&v), Err(Damage::Implausible(1 << 30)));
        // Off by one either way.
        for delta in [-1i64, 1] {
            let mut v = value.clone();
            let len = compressible().len() as i64 + delta;
            v[2..6].copy_from_slice(&(len as u32).to_be_bytes());
            assert!(decode(&v).is_err(), "{delta}");
        }
        // Raw payload of the wrong length.
        assert_eq!(
            decode(&[1, 0, 0, 0, 0, 4, b'a', b'b', b'c']),
            Err(Damage::Length {
                recorded: 4,
                found: 3
            })
        );
        // A truncated frame.
        assert!(decode(&value[..value.len() - 3]).is_err());
    }

    #[test]
    fn too_large_is_refused() {
        assert!(check_len(1 << 30).is_ok());
        assert!(matches!(
            check_len((1 << 30) + 1),
            Err(Error::TooLarge { len, max }) if len == (1 << 30) + 1 && max == MAX_BLOB_BYTES
        ));
    }
}
