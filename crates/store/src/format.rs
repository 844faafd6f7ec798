//! Keys and values of format 2 that belong to the store (uppercase tags of the `morgue` tree).
//! Integers are big-endian; every value starts with the format-version byte [`VERSION`].
//! `docs/format.md` has the byte tables.

use crate::error::{Error, Result};

/// The format-version byte every value starts with.
pub(crate) const VERSION: u8 = 2;

/// Tag of the store state.
pub(crate) const TAG_STATE: u8 = b'S';
/// Tag of a slot table of bodies.
pub(crate) const TAG_SLOTS: u8 = b'B';
/// Tag of an index chunk.
pub(crate) const TAG_INDEX: u8 = b'I';
/// Tag of the run directory.
pub(crate) const TAG_RUNS: u8 = b'J';
/// Tag of the filter of an index chunk.
pub(crate) const TAG_FILTER: u8 = b'F';
/// Tag of a dictionary.
pub(crate) const TAG_DICT: u8 = b'D';
/// Tag of a group.
pub(crate) const TAG_GROUP: u8 = b'G';

/// Slots in a slot table.
pub(crate) const TABLE_SLOTS: u32 = 64;
/// Codec of a slot: the body as is.
pub(crate) const CODEC_RAW: u8 = 0x00;
/// Codec of a slot: one zstd frame without a dictionary.
pub(crate) const CODEC_ZSTD: u8 = 0x01;
/// Codec of a slot: one zstd frame with the slot's dictionary.
pub(crate) const CODEC_ZSTD_DICT: u8 = 0x02;
/// Codec of a slot: removed (no frame).
pub(crate) const CODEC_REMOVED: u8 = 0xFF;

/// Length of a slot in a slot table.
pub(crate) const SLOT_HEADER_LEN: usize = 27;
/// The slot table that holds sequence number `seq`, and its slot there.
pub(crate) fn table_of(seq: u32) -> (u32, usize) {
    (seq / TABLE_SLOTS, (seq % TABLE_SLOTS) as usize)
}

/// `[tag]`.
pub(crate) fn key_state() -> [u8; 1] {
    [TAG_STATE]
}

/// `[tag][n u32]`: slot table `n` (`B`) or dictionary `n` (`D`).
pub(crate) fn key_numbered(tag: u8, n: u32) -> [u8; 5] {
    let mut k = [tag, 0, 0, 0, 0];
    k[1..].copy_from_slice(&n.to_be_bytes());
    k
}

/// `D` dict(u32).
pub(crate) fn key_dict(dict: u32) -> [u8; 5] {
    key_numbered(TAG_DICT, dict)
}

/// `G` group(u16).
pub(crate) fn key_group(group: u16) -> [u8; 3] {
    let g = group.to_be_bytes();
    [TAG_GROUP, g[0], g[1]]
}

pub(crate) fn damaged(what: impl Into<String>) -> Error {
    Error::Damaged { what: what.into() }
}

/// A big-endian reader over a value.
pub(crate) struct Reader<'a> {
    pub(crate) rest: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.rest.len() < n {
            return None;
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Some(head)
    }
    pub(crate) fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }
    pub(crate) fn u16(&mut self) -> Option<u16> {
        self.take(2)?.try_into().ok().map(u16::from_be_bytes)
    }
    pub(crate) fn u32(&mut self) -> Option<u32> {
        self.take(4)?.try_into().ok().map(u32::from_be_bytes)
    }
    pub(crate) fn u64(&mut self) -> Option<u64> {
        self.take(8)?.try_into().ok().map(u64::from_be_bytes)
    }
    /// The version byte, checked.
    pub(crate) fn version(&mut self) -> Option<()> {
        (self.u8()? == VERSION).then_some(())
    }
}

/// Length of the store state value.
pub(crate) const STATE_LEN: usize = 53;

/// The store state (`S`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct State {
    /// The sequence number the next new body gets.
    pub(crate) next_seq: u32,
    /// The id the next index run gets.
    pub(crate) next_run: u64,
    /// The id the next dictionary gets (from 1).
    pub(crate) next_dict: u32,
    /// Bodies stored and not removed.
    pub(crate) live: u64,
    /// Sum of their lengths.
    pub(crate) raw_bytes: u64,
    /// Sum of their frame lengths.
    pub(crate) stored_bytes: u64,
    /// The pack file new frames are appended to.
    pub(crate) file: u32,
    /// Its committed length: bytes beyond were never committed.
    pub(crate) file_len: u64,
}

impl Default for State {
    fn default() -> Self {
        State {
            next_seq: 0,
            next_run: 0,
            next_dict: 1,
            live: 0,
            raw_bytes: 0,
            stored_bytes: 0,
            file: 0,
            file_len: 0,
        }
    }
}

impl State {
    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(STATE_LEN);
        v.push(VERSION);
        v.extend_from_slice(&self.next_seq.to_be_bytes());
        v.extend_from_slice(&self.next_run.to_be_bytes());
        v.extend_from_slice(&self.next_dict.to_be_bytes());
        v.extend_from_slice(&self.live.to_be_bytes());
        v.extend_from_slice(&self.raw_bytes.to_be_bytes());
        v.extend_from_slice(&self.stored_bytes.to_be_bytes());
        v.extend_from_slice(&self.file.to_be_bytes());
        v.extend_from_slice(&self.file_len.to_be_bytes());
        v
    }

    pub(crate) fn decode(value: &[u8]) -> Result<State> {
        let mut r = Reader { rest: value };
        let parse = |r: &mut Reader<'_>| {
            r.version()?;
            let s = State {
                next_seq: r.u32()?,
                next_run: r.u64()?,
                next_dict: r.u32()?,
                live: r.u64()?,
                raw_bytes: r.u64()?,
                stored_bytes: r.u64()?,
                file: r.u32()?,
                file_len: r.u64()?,
            };
            r.rest.is_empty().then_some(s)
        };
        parse(&mut r).ok_or_else(|| damaged("store state"))
    }
}

/// The header of one slot of a slot table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Slot {
    /// How the frame encodes the body.
    pub(crate) codec: u8,
    /// The group the body was prepared for.
    pub(crate) group: u16,
    /// The dictionary of the frame (codec [`CODEC_ZSTD_DICT`]), else 0.
    pub(crate) dict: u32,
    /// Length of the body.
    pub(crate) raw_len: u32,
    /// Length of the frame.
    pub(crate) frame_len: u32,
    /// The pack file holding the frame.
    pub(crate) file: u32,
    /// Where the frame's record (its header, then the frame) starts in that file.
    pub(crate) offset: u64,
}

impl Slot {
    /// A removed slot: all zero but the codec.
    pub(crate) const REMOVED: Slot = Slot {
        codec: CODEC_REMOVED,
        group: 0,
        dict: 0,
        raw_len: 0,
        frame_len: 0,
        file: 0,
        offset: 0,
    };

    pub(crate) fn is_removed(&self) -> bool {
        self.codec == CODEC_REMOVED
    }
}

/// A decoded slot table (`B`): where the frames of up to 64 consecutive seqs are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SlotTable {
    pub(crate) slots: Vec<Slot>,
}

impl SlotTable {
    /// Decodes a slot table value (`B`).
    pub(crate) fn decode(table: u32, value: &[u8]) -> Result<SlotTable> {
        let bad = || damaged(format!("pack {table}"));
        let mut r = Reader { rest: value };
        r.version().ok_or_else(bad)?;
        let n = r.u8().ok_or_else(bad)?;
        if n == 0 || u32::from(n) > TABLE_SLOTS || r.rest.len() != SLOT_HEADER_LEN * usize::from(n)
        {
            return Err(bad());
        }
        let mut slots = Vec::with_capacity(n.into());
        for _ in 0..n {
            let slot = (|| {
                Some(Slot {
                    codec: r.u8()?,
                    group: r.u16()?,
                    dict: r.u32()?,
                    raw_len: r.u32()?,
                    frame_len: r.u32()?,
                    file: r.u32()?,
                    offset: r.u64()?,
                })
            })()
            .ok_or_else(bad)?;
            slots.push(slot);
        }
        Ok(SlotTable { slots })
    }
}

/// Encodes a slot table (`B`).
pub(crate) fn encode_slot_table(slots: &[Slot]) -> Vec<u8> {
    let mut v = Vec::with_capacity(2 + SLOT_HEADER_LEN * slots.len());
    v.push(VERSION);
    v.push(slots.len() as u8);
    for s in slots {
        v.push(s.codec);
        v.extend_from_slice(&s.group.to_be_bytes());
        v.extend_from_slice(&s.dict.to_be_bytes());
        v.extend_from_slice(&s.raw_len.to_be_bytes());
        v.extend_from_slice(&s.frame_len.to_be_bytes());
        v.extend_from_slice(&s.file.to_be_bytes());
        v.extend_from_slice(&s.offset.to_be_bytes());
    }
    v
}

/// Encodes a dictionary value (`D`).
pub(crate) fn encode_dict(bytes: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(1 + bytes.len());
    v.push(VERSION);
    v.extend_from_slice(bytes);
    v
}

/// The bytes of a dictionary value.
pub(crate) fn decode_dict(dict: u32, value: &[u8]) -> Result<&[u8]> {
    match value.split_first() {
        Some((&VERSION, bytes)) if !bytes.is_empty() => Ok(bytes),
        _ => Err(damaged(format!("dictionary {dict}"))),
    }
}

/// Encodes a group value (`G`).
pub(crate) fn encode_group(dict: u32, name: &str) -> Vec<u8> {
    let mut v = Vec::with_capacity(5 + name.len());
    v.push(VERSION);
    v.extend_from_slice(&dict.to_be_bytes());
    v.extend_from_slice(name.as_bytes());
    v
}

/// Decodes a group value: its dictionary (0: none) and name.
pub(crate) fn decode_group(group: u16, value: &[u8]) -> Result<(u32, String)> {
    let mut r = Reader { rest: value };
    let parse = |r: &mut Reader<'_>| {
        r.version()?;
        let dict = r.u32()?;
        let name = std::str::from_utf8(r.rest).ok()?.to_owned();
        Some((dict, name))
    };
    parse(&mut r).ok_or_else(|| damaged(format!("group {group}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_pinned() {
        let s = State {
            next_seq: 0x0102_0304,
            next_run: 5,
            next_dict: 1,
            live: 7,
            raw_bytes: 0x100,
            stored_bytes: 0x80,
            file: 2,
            file_len: 0x0A0B,
        };
        let v = s.encode();
        #[rustfmt::skip]
        let expected = [
            2,
            1, 2, 3, 4,
            0, 0, 0, 0, 0, 0, 0, 5,
            0, 0, 0, 1,
            0, 0, 0, 0, 0, 0, 0, 7,
            0, 0, 0, 0, 0, 0, 1, 0,
            0, 0, 0, 0, 0, 0, 0, 0x80,
            0, 0, 0, 2,
            0, 0, 0, 0, 0, 0, 0x0A, 0x0B,
        ];
        assert_eq!(v, expected);
        assert_eq!(v.len(), STATE_LEN);
        assert_eq!(State::decode(&v).unwrap(), s);
        assert!(State::decode(&v[..STATE_LEN - 1]).is_err());
        let mut long = v.clone();
        long.push(0);
        assert!(State::decode(&long).is_err());
        let mut other = v;
        other[0] = 1;
        assert!(matches!(
            State::decode(&other),
            Err(Error::Damaged { ref what }) if what == "store state"
        ));
    }

    #[test]
    fn keys_pinned() {
        assert_eq!(key_state(), *b"S");
        assert_eq!(key_numbered(TAG_SLOTS, 0x0102_0304), [b'B', 1, 2, 3, 4]);
        assert_eq!(
            crate::index::key_chunk(3, 0x10),
            [b'I', 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0x10]
        );
        assert_eq!(key_dict(1), [b'D', 0, 0, 0, 1]);
        assert_eq!(key_group(0x0102), [b'G', 1, 2]);
        assert_eq!(table_of(0), (0, 0));
        assert_eq!(table_of(63), (0, 63));
        assert_eq!(table_of(64), (1, 0));
        assert_eq!(table_of(u32::MAX), (u32::MAX / 64, 63));
    }

    /// One slot table, byte by byte: a raw slot, a removed slot and a zstd slot with a
    /// dictionary.
    #[test]
    fn slot_table_pinned() {
        let slots = [
            Slot {
                codec: CODEC_RAW,
                group: 0,
                dict: 0,
                raw_len: 3,
                frame_len: 3,
                file: 0,
                offset: 0,
            },
            Slot::REMOVED,
            Slot {
                codec: CODEC_ZSTD_DICT,
                group: 2,
                dict: 1,
                raw_len: 0x0100,
                frame_len: 2,
                file: 1,
                offset: 0x0102,
            },
        ];
        let v = encode_slot_table(&slots);
        #[rustfmt::skip]
        let expected = [
            2, 3,
            0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
            0xFF, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
            0x02, 0, 2, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 2,
        ];
        assert_eq!(v, expected);
        let table = SlotTable::decode(7, &v).unwrap();
        assert_eq!(table.slots, slots);
        // Any change of length is damage.
        assert!(SlotTable::decode(7, &v[..v.len() - 1]).is_err());
        let mut long = v.clone();
        long.push(0);
        assert!(matches!(
            SlotTable::decode(7, &long),
            Err(Error::Damaged { ref what }) if what == "pack 7"
        ));
        assert!(SlotTable::decode(7, &[2, 0]).is_err());
        assert!(SlotTable::decode(7, &[2, 65]).is_err());
    }

    #[test]
    fn dict_and_group_pinned() {
        assert_eq!(encode_dict(b"xy"), [2, b'x', b'y']);
        assert_eq!(decode_dict(1, &[2, b'x']).unwrap(), b"x");
        assert!(decode_dict(1, &[2]).is_err());
        let g = encode_group(3, "Reuters");
        assert_eq!(g[..5], [2, 0, 0, 0, 3]);
        assert_eq!(&g[5..], b"Reuters");
        assert_eq!(decode_group(1, &g).unwrap(), (3, "Reuters".to_owned()));
        assert_eq!(
            decode_group(0, &[2, 0, 0, 0, 0]).unwrap(),
            (0, String::new())
        );
        assert!(decode_group(1, &[2, 0, 0]).is_err());
        assert!(decode_group(1, &[2, 0, 0, 0, 0, 0xFF]).is_err());
    }
}
