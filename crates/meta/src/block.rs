//! Record blocks: the records of 64 consecutive sequence numbers in one value (`r` keys).
//!
//! Value: `[02][codec u8: 00 raw, 01 zstd][raw_len u32 BE][payload, maybe compressed]`, where the
//! uncompressed payload is `[present bitmap u64 BE: bit i = slot i][per present slot, ascending:
//! record length varint][the records' bytes, concatenated in slot order]`. The record bytes are
//! the version-1 record codec (`codec.rs`), unchanged.

use crate::varint;

/// Slots per block: sequence numbers `64 * b .. 64 * b + 64` live in block `b`.
pub(crate) const SLOTS: usize = 64;
/// Version byte of a block value.
pub(crate) const VERSION: u8 = 2;
/// Codec byte: payload stored as is.
const RAW: u8 = 0;
/// Codec byte: payload compressed as one zstd frame.
const ZSTD: u8 = 1;
/// zstd level of record blocks.
pub(crate) const LEVEL: i32 = 3;
/// Largest payload decoded: bounds allocations on hostile bytes (64 records of at most 4 MiB).
const MAX_RAW: usize = 256 << 20;
/// No zstd frame expands by more than this factor (an RLE block is 4 bytes for 128 KiB,
/// 32768:1): a `raw_len` beyond it is damage, refused before the payload is allocated.
const MAX_ZSTD_RATIO: u64 = 1 << 16;

/// Key tag of record blocks.
pub(crate) const TAG: u8 = b'r';

/// The key of block `block`: `r` + block number (u32 BE).
pub(crate) fn key(block: u32) -> [u8; 5] {
    let mut k = [TAG, 0, 0, 0, 0];
    k[1..].copy_from_slice(&block.to_be_bytes());
    k
}

/// The block number of a block key; `None` for a malformed key or a block beyond the last
/// sequence number.
pub(crate) fn parse_key(key: &[u8]) -> Option<u32> {
    match key {
        [TAG, rest @ ..] => rest
            .try_into()
            .ok()
            .map(u32::from_be_bytes)
            .filter(|&b| b <= u32::MAX / SLOTS as u32),
        _ => None,
    }
}

/// Block number and slot of a sequence number.
pub(crate) fn locate(seq: u32) -> (u32, usize) {
    (seq / SLOTS as u32, (seq % SLOTS as u32) as usize)
}

/// One decoded block: the record bytes of each slot, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Block {
    slots: Vec<Option<Box<[u8]>>>,
}

impl Default for Block {
    fn default() -> Self {
        Block {
            slots: vec![None; SLOTS],
        }
    }
}

/// Why a block value does not decode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Malformed(pub &'static str);

impl Block {
    /// The record bytes in `slot`.
    pub(crate) fn get(&self, slot: usize) -> Option<&[u8]> {
        self.slots.get(slot)?.as_deref()
    }

    /// Sets (or clears, with `None`) the record bytes of `slot` (`< 64`).
    pub(crate) fn set(&mut self, slot: usize, record: Option<Vec<u8>>) {
        if let Some(s) = self.slots.get_mut(slot) {
            *s = record.map(Vec::into_boxed_slice);
        }
    }

    /// What the decoded block holds in memory, about: its records' bytes and its slot table
    /// (what [`crate::cache::BlockCache`] counts).
    pub(crate) fn weight(&self) -> usize {
        self.slots.len() * std::mem::size_of::<Option<Box<[u8]>>>()
            + self.present().map(|(_, r)| r.len()).sum::<usize>()
    }

    /// True when no slot holds a record.
    pub(crate) fn is_empty(&self) -> bool {
        self.slots.iter().all(Option::is_none)
    }

    /// The present slots with their record bytes, ascending.
    pub(crate) fn present(&self) -> impl Iterator<Item = (usize, &[u8])> {
        self.slots
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.as_deref().map(|r| (i, r)))
    }

    /// The uncompressed payload.
    fn payload(&self) -> Vec<u8> {
        let total: usize = self.present().map(|(_, r)| r.len() + 3).sum();
        let mut out = Vec::with_capacity(8 + total);
        let bitmap = self.present().fold(0u64, |bits, (i, _)| bits | (1u64 << i));
        out.extend_from_slice(&bitmap.to_be_bytes());
        for (_, r) in self.present() {
            varint::put(&mut out, r.len() as u64);
        }
        for (_, r) in self.present() {
            out.extend_from_slice(r);
        }
        out
    }

    /// The stored value: zstd level 3 when that is smaller, else raw.
    #[cfg(test)]
    pub(crate) fn encode(&self) -> Vec<u8> {
        self.encode_with(None)
    }

    /// [`Block::encode`] with a compressor of level 3 kept by the caller (one per commit
    /// rather than one per block: a zstd context is costly to set up).
    pub(crate) fn encode_with(
        &self,
        compressor: Option<&mut zstd::bulk::Compressor<'_>>,
    ) -> Vec<u8> {
        let payload = self.payload();
        let compressed = match compressor {
            Some(c) => c.compress(&payload),
            None => zstd::bulk::compress(&payload, LEVEL),
        }
        .ok()
        .filter(|c| c.len() < payload.len());
        let (codec, body) = match &compressed {
            Some(c) => (ZSTD, &c[..]),
            None => (RAW, &payload[..]),
        };
        let mut out = Vec::with_capacity(6 + body.len());
        out.push(VERSION);
        out.push(codec);
        // Payloads beyond 4 GiB cannot occur: records are bounded by MAX_RAW at decode and far
        // smaller at encode (drafts are bounded by the importers).
        out.extend_from_slice(&(payload.len() as u32).to_be_bytes());
        out.extend_from_slice(body);
        out
    }

    /// Decodes a stored value.
    pub(crate) fn decode(value: &[u8]) -> Result<Block, Malformed> {
        let [version, codec, a, b, c, d, body @ ..] = value else {
            return Err(Malformed("short block header"));
        };
        if *version != VERSION {
            return Err(Malformed("unknown block version"));
        }
        let raw_len = u32::from_be_bytes([*a, *b, *c, *d]) as usize;
        if raw_len > MAX_RAW {
            return Err(Malformed("block length beyond the limit"));
        }
        let payload;
        let payload = match *codec {
            RAW => body,
            ZSTD => {
                if raw_len as u64 > (body.len() as u64).saturating_mul(MAX_ZSTD_RATIO) {
                    return Err(Malformed("block length beyond the limit"));
                }
                // One decompression context per thread (morgue-store's): making one for every
                // block (a read of a few records decodes a whole block) cost more than
                // decompressing the block itself.
                payload = morgue_store::decompress_zstd(body, raw_len)
                    .ok_or(Malformed("block does not decompress"))?;
                &payload[..]
            }
            _ => return Err(Malformed("unknown block codec")),
        };
        if payload.len() != raw_len {
            return Err(Malformed("block length differs from its header"));
        }
        Block::parse(payload)
    }

    fn parse(payload: &[u8]) -> Result<Block, Malformed> {
        let (bitmap, mut rest) = payload
            .split_first_chunk::<8>()
            .ok_or(Malformed("short block bitmap"))?;
        let bitmap = u64::from_be_bytes(*bitmap);
        let mut lens = Vec::with_capacity(bitmap.count_ones() as usize);
        for _ in 0..bitmap.count_ones() {
            let len = varint::get(&mut rest).ok_or(Malformed("bad record length"))?;
            lens.push(usize::try_from(len).map_err(|_| Malformed("bad record length"))?);
        }
        let mut block = Block::default();
        let mut lens = lens.into_iter();
        for slot in 0..SLOTS {
            if bitmap & (1 << slot) == 0 {
                continue;
            }
            let len = lens.next().ok_or(Malformed("bad record length"))?;
            if len > rest.len() {
                return Err(Malformed("record beyond the block"));
            }
            let (record, tail) = rest.split_at(len);
            block.slots[slot] = Some(record.into());
            rest = tail;
        }
        if !rest.is_empty() {
            return Err(Malformed("trailing bytes in block"));
        }
        Ok(block)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn pinned_bytes() {
        let mut block = Block::default();
        block.set(0, Some(b"ab".to_vec()));
        block.set(2, Some(b"c".to_vec()));
        // If this fails, the stored format changed: log it in docs/format.md.
        let expected: &[u8] = &[
            2, // version
            0, // codec: raw (too small to gain from zstd)
            0, 0, 0, 13, // raw_len
            0, 0, 0, 0, 0, 0, 0, 0b101, // bitmap: slots 0 and 2
            2, 1, // lengths
            b'a', b'b', b'c',
        ];
        assert_eq!(block.encode(), expected);
        assert_eq!(Block::decode(expected), Ok(block));
        assert_eq!(key(0x0102_0304), [b'r', 1, 2, 3, 4]);
        assert_eq!(parse_key(&key(77)), Some(77));
        assert_eq!(parse_key(b"x1234"), None);
        assert_eq!(parse_key(&key(u32::MAX / 64)), Some(u32::MAX / 64));
        assert_eq!(parse_key(&key(u32::MAX / 64 + 1)), None);
        assert_eq!(locate(130), (2, 2));
    }

    #[test]
    fn large_blocks_compress_and_empty_blocks_encode() {
        let mut block = Block::default();
        for i in 0..SLOTS {
            block.set(
                i,
                Some(
                    format!("record number {i} of a block")
                        .repeat(4)
                        .into_bytes(),
                ),
            );
        }
        let value = block.encode();
        assert_eq!(value[1], ZSTD);
        assert!(value.len() < 2000, "{}", value.len());
        assert_eq!(Block::decode(&value), Ok(block.clone()));
        block.set(5, None);
        assert_eq!(block.get(5), None);
        assert_eq!(block.present().count(), SLOTS - 1);
        let empty = Block::default();
        assert!(empty.is_empty());
        assert_eq!(Block::decode(&empty.encode()), Ok(empty));
        // A compressed block whose header announces fewer bytes than it holds, or whose frame
        // is damaged, fails; the thread's decompression context still decodes the next one.
        let mut short = value.clone();
        short[2..6].copy_from_slice(
            &(u32::from_be_bytes(value[2..6].try_into().unwrap()) - 1).to_be_bytes(),
        );
        assert_eq!(
            Block::decode(&short),
            Err(Malformed("block does not decompress"))
        );
        let mut damaged = value.clone();
        let mid = damaged.len() / 2;
        damaged[mid..].iter_mut().for_each(|b| *b = !*b);
        assert!(Block::decode(&damaged).is_err());
        block.set(5, Some(b"back".to_vec()));
        assert_eq!(Block::decode(&block.encode()), Ok(block));
    }

    #[test]
    fn hostile_values_fail() {
        assert!(Block::decode(&[]).is_err());
        assert!(Block::decode(&[2, 0, 0, 0, 0]).is_err());
        assert!(Block::decode(&[3, 0, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0]).is_err());
        assert!(Block::decode(&[2, 9, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0]).is_err());
        // A huge announced length does not allocate it.
        assert!(Block::decode(&[2, 1, 0xff, 0xff, 0xff, 0xff, 1, 2, 3]).is_err());
        assert_eq!(
            Block::decode(&[2, 1, 0, 4, 0, 0, 1, 2, 3]),
            Err(Malformed("block length beyond the limit"))
        );
        // Bitmap says one record, its length runs past the end.
        assert!(Block::decode(&[2, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0, 0, 0, 1, 5, b'a']).is_err());
    }

    proptest! {
        #[test]
        fn round_trip_and_never_panic(
            records in prop::collection::btree_map(0..SLOTS, prop::collection::vec(any::<u8>(), 0..200), 0..10),
            flip in any::<(usize, u8)>(),
        ) {
            let mut block = Block::default();
            for (slot, r) in &records {
                block.set(*slot, Some(r.clone()));
            }
            let value = block.encode();
            prop_assert_eq!(Block::decode(&value), Ok(block));
            for n in 0..value.len() {
                prop_assert!(Block::decode(&value[..n]).is_err());
            }
            let mut bad = value.clone();
            let i = flip.0 % bad.len();
            bad[i] ^= flip.1 | 1;
            let _ = Block::decode(&bad);
        }
    }
}
