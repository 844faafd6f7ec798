//! Frames: how one body is encoded in a slot (raw, or one zstd frame with or without a
//! dictionary), and the zstd dictionaries, prepared once per dictionary id.
//!
//! zstd frames are written without checksum, dictionary id or content size (the slot header
//! holds the length and the dictionary; the id is the checksum): 6 to 9 bytes fewer per body.

use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;
use std::io;
use std::sync::OnceLock;

use zstd::bulk::Compressor;
use zstd::dict::{DecoderDictionary, EncoderDictionary};
use zstd::zstd_safe::{CParameter, DCtx};

use crate::error::{Error, Result};
use crate::format::{CODEC_RAW, CODEC_ZSTD, CODEC_ZSTD_DICT, Slot};

/// The largest blob the store accepts (1 GiB). A stored value that records a larger length is
/// corrupted by definition, so a damaged value never allocates more than this.
pub const MAX_BLOB_BYTES: u64 = 1 << 30;

/// Rejects blobs longer than [`MAX_BLOB_BYTES`].
pub(crate) fn check_len(len: usize) -> Result<u32> {
    match u32::try_from(len) {
        Ok(n) if u64::from(n) <= MAX_BLOB_BYTES => Ok(n),
        _ => Err(Error::TooLarge {
            len: len as u64,
            max: MAX_BLOB_BYTES,
        }),
    }
}

/// No zstd frame expands by more than this factor (an RLE block is 4 bytes for 128 KiB,
/// 32768:1); a recorded length beyond it is damage, refused before any allocation.
const MAX_ZSTD_RATIO: u64 = 1 << 16;

/// Size of the dictionaries the store trains.
pub(crate) const DICT_BYTES: usize = 64 << 10;

/// A zstd dictionary of the archive, prepared for compression (at the store's level) on its
/// first compression and for decompression on its first decompression: a command that only
/// reads never pays for the encoder side.
pub(crate) struct Dict {
    pub(crate) id: u32,
    pub(crate) bytes: Vec<u8>,
    level: i32,
    enc: OnceLock<Option<EncoderDictionary<'static>>>,
    dec: OnceLock<Option<DecoderDictionary<'static>>>,
}

impl fmt::Debug for Dict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Dict")
            .field("id", &self.id)
            .field("len", &self.bytes.len())
            .finish_non_exhaustive()
    }
}

impl Dict {
    pub(crate) fn new(id: u32, bytes: Vec<u8>, level: i32) -> Dict {
        Dict {
            id,
            bytes,
            level,
            enc: OnceLock::new(),
            dec: OnceLock::new(),
        }
    }

    fn damaged(&self) -> Error {
        Error::Damaged {
            what: format!("dictionary {}", self.id),
        }
    }

    /// Prepared for compression ([`Error::Damaged`] when zstd refuses the bytes).
    pub(crate) fn encoder(&self) -> Result<&EncoderDictionary<'static>> {
        self.enc
            .get_or_init(|| EncoderDictionary::try_copy(&self.bytes, self.level).ok())
            .as_ref()
            .ok_or_else(|| self.damaged())
    }

    /// Whether the encoder and the decoder side are prepared.
    #[cfg(test)]
    pub(crate) fn prepared(&self) -> (bool, bool) {
        (self.enc.get().is_some(), self.dec.get().is_some())
    }

    /// Prepared for decompression ([`Error::Damaged`] when zstd refuses the bytes).
    pub(crate) fn decoder(&self) -> Result<&DecoderDictionary<'static>> {
        self.dec
            .get_or_init(|| DecoderDictionary::try_copy(&self.bytes).ok())
            .as_ref()
            .ok_or_else(|| self.damaged())
    }
}

/// Trains a dictionary of [`DICT_BYTES`] on `samples` for compression at `level`; `None` when
/// zstd cannot (too few or too uniform samples): the bodies are then compressed without one.
/// FastCover with fixed parameters (morgue-zdict): a fifth of the time of zstd's parameter
/// search, for a dictionary as good.
pub(crate) fn train(samples: &[&[u8]], level: i32) -> Option<Vec<u8>> {
    let bytes: usize = samples.iter().map(|s| s.len()).sum();
    if bytes >= LARGE_MEAN * samples.len().max(1) {
        morgue_zdict::train_segments(samples, DICT_BYTES, level, LARGE_SEGMENT)
    } else {
        morgue_zdict::train(samples, DICT_BYTES, level)
    }
}

/// Mean sample length from which a dictionary is trained with [`LARGE_SEGMENT`]: bodies this
/// large are web pages (articles are a few KB), whose template repeats in long runs.
pub(crate) const LARGE_MEAN: usize = 8 << 10;
/// FastCover's segment size for large samples (articles: 50, zdict's default).
const LARGE_SEGMENT: u32 = 1000;

fn configure(c: &mut Compressor<'_>) -> io::Result<()> {
    c.set_parameter(CParameter::ChecksumFlag(false))?;
    c.set_parameter(CParameter::ContentSizeFlag(false))?;
    c.set_parameter(CParameter::DictIdFlag(false))
}

/// zstd contexts for one thread of a batch: one per dictionary used.
pub(crate) struct Compressors<'d> {
    level: i32,
    plain: Option<Compressor<'static>>,
    with: HashMap<u32, Compressor<'d>>,
}

impl<'d> Compressors<'d> {
    pub(crate) fn new(level: i32) -> Self {
        Compressors {
            level,
            plain: None,
            with: HashMap::new(),
        }
    }

    /// Encodes `body` (at most [`MAX_BLOB_BYTES`]) for a slot of `group`, with `dict` when
    /// given: the slot header and the frame. Raw when zstd does not make it smaller.
    pub(crate) fn encode(
        &mut self,
        body: &[u8],
        group: u16,
        dict: Option<&'d Dict>,
    ) -> Result<(Slot, Vec<u8>)> {
        let failed = |e: io::Error| Error::Compression { source: e };
        let mut compressed = if let Some(d) = dict {
            let c = match self.with.entry(d.id) {
                std::collections::hash_map::Entry::Occupied(o) => o.into_mut(),
                std::collections::hash_map::Entry::Vacant(v) => {
                    let mut c =
                        Compressor::with_prepared_dictionary(d.encoder()?).map_err(failed)?;
                    configure(&mut c).map_err(failed)?;
                    v.insert(c)
                }
            };
            c.compress(body).map_err(failed)?
        } else {
            let c = match &mut self.plain {
                Some(c) => c,
                slot @ None => {
                    let mut c = Compressor::new(self.level).map_err(failed)?;
                    configure(&mut c).map_err(failed)?;
                    slot.insert(c)
                }
            };
            c.compress(body).map_err(failed)?
        };
        let raw_len = body.len() as u32;
        Ok(if compressed.len() < body.len() {
            // zstd's buffer was sized for the worst case (a little more than the body): a
            // frame waits in memory until its commit, so it keeps only its bytes (news bodies
            // compress to a third with a dictionary: 20,000 frames of a batch held 28 MB, most
            // of it spare).
            compressed.shrink_to_fit();
            (
                Slot {
                    codec: if dict.is_some() {
                        CODEC_ZSTD_DICT
                    } else {
                        CODEC_ZSTD
                    },
                    group,
                    dict: dict.map_or(0, |d| d.id),
                    raw_len,
                    frame_len: compressed.len() as u32,
                    file: 0,
                    offset: 0,
                },
                compressed,
            )
        } else {
            (
                Slot {
                    codec: CODEC_RAW,
                    group,
                    dict: 0,
                    raw_len,
                    frame_len: raw_len,
                    file: 0,
                    offset: 0,
                },
                body.to_vec(),
            )
        })
    }
}

thread_local! {
    static DECOMPRESSOR: RefCell<Option<DCtx<'static>>> = const { RefCell::new(None) };
}

/// Why a frame does not decode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Damage {
    /// An unknown codec, or a removed slot.
    Codec,
    /// The recorded length exceeds what the frame could hold, or [`MAX_BLOB_BYTES`].
    Implausible,
    /// The frame's dictionary is not in the archive.
    NoDict,
    /// zstd fails on the frame.
    Zstd,
    /// The frame decodes to another length than recorded.
    Length,
}

/// Decodes the frame of `slot`. `dict` is the slot's dictionary (codec [`CODEC_ZSTD_DICT`]).
/// Never allocates more than the recorded length, and returns exactly that many bytes.
pub(crate) fn decode(slot: &Slot, frame: &[u8], dict: Option<&Dict>) -> Result<Vec<u8>, Damage> {
    let len = u64::from(slot.raw_len);
    if len > MAX_BLOB_BYTES {
        return Err(Damage::Implausible);
    }
    let out = match slot.codec {
        CODEC_RAW => frame.to_vec(),
        CODEC_ZSTD | CODEC_ZSTD_DICT => {
            if len > (frame.len() as u64).saturating_mul(MAX_ZSTD_RATIO) {
                return Err(Damage::Implausible);
            }
            let dict = match (slot.codec, dict) {
                (CODEC_ZSTD, _) => None,
                (_, Some(d)) if d.id == slot.dict => Some(d),
                _ => return Err(Damage::NoDict),
            };
            decompress(frame, slot.raw_len as usize, dict).map_err(|()| Damage::Zstd)?
        }
        _ => return Err(Damage::Codec),
    };
    if out.len() as u64 == len {
        Ok(out)
    } else {
        Err(Damage::Length)
    }
}

/// The zstd frame(s) in `frame` (no dictionary), decompressed with this thread's decompression
/// context; `None` when they do not decompress or hold more than `capacity` bytes (never
/// allocates more than `capacity`). morgue-meta decodes its record blocks with it, so that a
/// thread keeps one context for bodies and blocks alike.
pub fn decompress_zstd(frame: &[u8], capacity: usize) -> Option<Vec<u8>> {
    decompress(frame, capacity, None).ok()
}

fn decompress(frame: &[u8], capacity: usize, dict: Option<&Dict>) -> Result<Vec<u8>, ()> {
    let run = |dctx: &mut DCtx<'_>| {
        let mut out = Vec::with_capacity(capacity);
        match dict {
            Some(d) => {
                let Ok(ddict) = d.decoder() else {
                    return Err(());
                };
                dctx.decompress_using_ddict(&mut out, frame, ddict.as_ddict())
            }
            None => dctx.decompress(&mut out, frame),
        }
        .map(|_| out)
        .map_err(|_| ())
    };
    DECOMPRESSOR
        .try_with(|cell| {
            let Ok(mut slot) = cell.try_borrow_mut() else {
                return run(&mut DCtx::try_create().ok_or(())?);
            };
            let dctx = match &mut *slot {
                Some(d) => d,
                s @ None => s.insert(DCtx::try_create().ok_or(())?),
            };
            let out = run(dctx);
            if out.is_err() {
                // A damaged frame must not spoil the context for the next one.
                *slot = None;
            }
            out
        })
        .unwrap_or_else(|_| run(&mut DCtx::try_create().ok_or(())?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(i: usize) -> Vec<u8> {
        format!(
            "LONDON, March {i} - The quick brown fox number {i} jumps over the lazy dog, \
             said a spokesman for the fox in a statement on {i} occasions. Reuters {}",
            i * 7919
        )
        .into_bytes()
    }

    #[test]
    fn frames_round_trip_with_and_without_dict() {
        let bodies: Vec<Vec<u8>> = (0..600).map(body).collect();
        let samples: Vec<&[u8]> = bodies.iter().map(Vec::as_slice).collect();
        let bytes = train(&samples, 3).unwrap();
        let dict = Dict::new(1, bytes, 3);
        let mut c = Compressors::new(3);
        let long = b"a body without a dictionary, long enough. ".repeat(20);
        let (slot, frame) = c.encode(&long, 0, None).unwrap();
        assert_eq!((slot.codec, slot.dict), (CODEC_ZSTD, 0));
        // No content size, no checksum, no dictionary id: the frame header is minimal
        // (magic, frame header descriptor, window descriptor).
        assert_eq!(frame[..4], [0x28, 0xB5, 0x2F, 0xFD]);
        assert_eq!(frame[4], 0x00, "frame header descriptor: no flags");
        assert_eq!(decode(&slot, &frame, None).unwrap(), long);

        // A frame waits in memory until its commit: it holds its bytes, not zstd's bound.
        assert_eq!(frame.capacity(), frame.len());

        let (slot, frame) = c.encode(&bodies[3], 5, Some(&dict)).unwrap();
        assert_eq!((slot.codec, slot.group, slot.dict), (CODEC_ZSTD_DICT, 5, 1));
        assert_eq!(frame[4], 0x00);
        assert_eq!(frame.capacity(), frame.len());
        assert_eq!(decode(&slot, &frame, Some(&dict)).unwrap(), bodies[3]);
        assert_eq!(decode(&slot, &frame, None), Err(Damage::NoDict));
        // Shorter than without the dictionary.
        let (_, plain) = c.encode(&bodies[3], 5, None).unwrap();
        assert!(
            frame.len() < plain.len(),
            "{} vs {}",
            frame.len(),
            plain.len()
        );

        // Tiny bodies stay raw.
        let (slot, frame) = c.encode(b"abc", 0, Some(&dict)).unwrap();
        assert_eq!(
            (slot.codec, slot.dict, frame.as_slice()),
            (CODEC_RAW, 0, &b"abc"[..])
        );
    }

    #[test]
    fn damaged_frames_are_refused() {
        let mut c = Compressors::new(3);
        let long = b"a body that compresses well, again and again. ".repeat(50);
        let (slot, frame) = c.encode(&long, 0, None).unwrap();
        let mut bad = frame.clone();
        let last = bad.len() - 1;
        bad[last] ^= 0xFF;
        bad[6] ^= 0xFF;
        assert!(decode(&slot, &bad, None).is_err());
        // The thread's context still works afterwards.
        assert_eq!(decode(&slot, &frame, None).unwrap(), long);
        for delta in [-1i64, 1] {
            let mut s = slot;
            s.raw_len = (i64::from(s.raw_len) + delta) as u32;
            assert!(decode(&s, &frame, None).is_err(), "{delta}");
        }
        let mut s = slot;
        s.raw_len = u32::MAX;
        assert_eq!(decode(&s, &frame, None), Err(Damage::Implausible));
        let mut s = slot;
        s.codec = 9;
        assert_eq!(decode(&s, &frame, None), Err(Damage::Codec));
        assert_eq!(decode(&Slot::REMOVED, &[], None), Err(Damage::Codec));
    }
}
