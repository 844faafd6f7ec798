//! The Bloom filter of an id-index chunk (`F` run chunk): which 8-byte prefixes the chunk
//! cannot hold. A lookup reads a chunk's filter (3 bytes an entry) before the chunk (12 bytes
//! an entry) and skips the chunk when the filter rules out every prefix it looks for: with
//! tens of thousands of new ids per commit and a run for every half million bodies, an import
//! otherwise reads every chunk of every run at each commit (120 MB at 10,000,000 bodies).
//!
//! A filter never rules out a prefix its chunk holds; it lets through one it does not hold
//! with a probability of about 1 in 100,000 ([`BITS_PER_ENTRY`], [`HASHES`]). A filter says
//! its own size and number of hashes, so filters written with 16 bits an entry and 11 hashes
//! (about 1 in 2,000, until 2026-12-06) are read as they are. Runs written before filters have
//! none, and their chunks are read as before.

use crate::format::{TAG_FILTER, VERSION};
use crate::index::Entry;

/// Bits of filter per entry of the chunk. With 16 (and 11 hashes, 0.046% false positives), an
/// import of 10,000,000 articles read about 370 chunks a commit that did not hold the new ids
/// (20,000 ids, 40 runs), and sled kept the leaves of those chunks in memory: 24 took its peak
/// from 590,828 to 551,564 KB, for 1 byte more an entry on disk.
pub(crate) const BITS_PER_ENTRY: usize = 24;
/// Bits set per entry: for 24 bits an entry, 17 gives the fewest false positives (about
/// 0.001%).
pub(crate) const HASHES: u8 = 17;

/// `F` run(u64) chunk(u32): the filter of index chunk `I` run chunk.
pub(crate) fn key_filter(run: u64, chunk: u32) -> [u8; 13] {
    crate::index::key_run_chunk(TAG_FILTER, run, chunk)
}

/// The bit positions of `prefix` in a filter of `bits` bits: double hashing of the prefix
/// scrambled by SplitMix64's finalizer (the prefixes of one chunk share their leading bits, so
/// they are mixed before use).
fn positions(prefix: u64, hashes: u8, bits: u64) -> impl Iterator<Item = u64> {
    let mut z = prefix.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    let (h1, h2) = (z & 0xFFFF_FFFF, (z >> 32) | 1);
    (0..u64::from(hashes)).map(move |i| h1.wrapping_add(i.wrapping_mul(h2)) % bits)
}

/// The filter value of a chunk's entries: `02`, the number of hashes (u8), then the bits
/// (bit `i` is bit `i % 8` of byte `i / 8`), [`BITS_PER_ENTRY`] per entry rounded up to whole
/// bytes.
pub(crate) fn encode_filter(entries: &[Entry]) -> Vec<u8> {
    let bytes = (entries.len() * BITS_PER_ENTRY).div_ceil(8).max(1);
    let bits = bytes as u64 * 8;
    let mut v = vec![0u8; 2 + bytes];
    v[0] = VERSION;
    v[1] = HASHES;
    for (prefix, _) in entries {
        for bit in positions(*prefix, HASHES, bits) {
            v[2 + (bit / 8) as usize] |= 1 << (bit % 8);
        }
    }
    v
}

/// A filter value, checked for its version and shape.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Filter<'a> {
    hashes: u8,
    bits: &'a [u8],
}

impl<'a> Filter<'a> {
    /// `None` for a value that is not a filter of this version (a lookup then reads the chunk;
    /// `verify` reports it).
    pub(crate) fn decode(value: &'a [u8]) -> Option<Filter<'a>> {
        match value {
            [VERSION, hashes @ 1..=32, bits @ ..] if !bits.is_empty() => Some(Filter {
                hashes: *hashes,
                bits,
            }),
            _ => None,
        }
    }

    /// Whether the chunk may hold an entry with `prefix` (false: it holds none).
    pub(crate) fn may_hold(&self, prefix: u64) -> bool {
        let bits = self.bits.len() as u64 * 8;
        positions(prefix, self.hashes, bits)
            .all(|bit| self.bits[(bit / 8) as usize] & (1 << (bit % 8)) != 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A filter value, byte by byte, for one entry.
    #[test]
    fn filter_pinned() {
        let v = encode_filter(&[(0x0102_0304_0506_0708, 9)]);
        // Version, hashes, then 24 bits for the one entry.
        assert_eq!(v.len(), 5);
        assert_eq!(&v[..2], &[2, 17]);
        let set: u32 = v[2..].iter().map(|b| b.count_ones()).sum();
        assert!((1..=17).contains(&set), "{set} bits set");
        assert_eq!(
            key_filter(3, 0x10),
            [b'F', 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0x10]
        );
        assert!(Filter::decode(&v).unwrap().may_hold(0x0102_0304_0506_0708));
        // Not a filter: another version, no hashes, no bits.
        assert!(Filter::decode(&[1, 11, 0xFF]).is_none());
        assert!(Filter::decode(&[2, 0, 0xFF]).is_none());
        assert!(Filter::decode(&[2, 11]).is_none());
        assert!(Filter::decode(&[]).is_none());
    }

    /// A filter of the earlier shape (16 bits an entry, 11 hashes), made by hand as that build
    /// wrote it, is read with its own size and hashes: no entry it holds is ruled out, and
    /// the prefixes it rules out are those its bits rule out.
    #[test]
    fn a_filter_of_16_bits_an_entry_is_read_as_written() {
        let entries: Vec<Entry> = (0..100u64)
            .map(|i| (i.wrapping_mul(0x9E37_79B9_7F4A_7C15), i as u32))
            .collect();
        let bits = 100 * 16;
        let mut v = vec![0u8; 2 + bits / 8];
        v[0] = VERSION;
        v[1] = 11;
        for (prefix, _) in &entries {
            for bit in positions(*prefix, 11, bits as u64) {
                v[2 + (bit / 8) as usize] |= 1 << (bit % 8);
            }
        }
        let f = Filter::decode(&v).unwrap();
        assert!(entries.iter().all(|(p, _)| f.may_hold(*p)));
        let ruled_out = (1000..21_000u64)
            .filter(|p| !f.may_hold(p.wrapping_mul(0x2545_F491_4F6C_DD1D)))
            .count();
        assert!(ruled_out > 19_900, "{ruled_out} of 20,000 ruled out");
        // The same entries in a filter of this build: 24 bits an entry.
        assert_eq!(encode_filter(&entries).len(), 2 + 100 * 3);
    }

    /// Every entry passes its chunk's filter; other prefixes rarely do. The prefixes of a chunk
    /// are close together (a chunk of a run covers a narrow range), as here.
    #[test]
    fn no_false_negatives_and_few_false_positives() {
        let mut x: u64 = 0x1234_5678_9ABC_DEF0;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let base = 0xABCD_0000_0000_0000u64;
        let mut entries: Vec<Entry> = (0..4096u32).map(|s| (base | (next() >> 20), s)).collect();
        entries.sort_unstable();
        let v = encode_filter(&entries);
        assert_eq!(v.len(), 2 + 4096 * 3);
        let f = Filter::decode(&v).unwrap();
        assert!(entries.iter().all(|(p, _)| f.may_hold(*p)));
        let held: std::collections::HashSet<u64> = entries.iter().map(|e| e.0).collect();
        let probes = 200_000;
        let mut passed = 0;
        for _ in 0..probes {
            let p = base | (next() >> 20);
            if !held.contains(&p) && f.may_hold(p) {
                passed += 1;
            }
        }
        // About 0.001% expected: 2 of 200,000; a broken hash lets far more through.
        assert!(passed < 20, "{passed} false positives of {probes}");
        // An empty chunk cannot exist, but its filter holds nothing.
        let empty = encode_filter(&[]);
        assert!(!Filter::decode(&empty).unwrap().may_hold(7));
    }
}
