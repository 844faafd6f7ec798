//! Posting chunks (`x` keys): the sorted `(date key, seq)` entries of one index name, at most 512
//! per value, and the staging of changes to them during a commit.
//!
//! Key: `x` + index tag (`d` date, `r` reporter, `s` service) + normalized name (empty for the
//! date index) + `0x00` + chunk start (date key u64 BE, seq u32 BE).
//! Value: `[02][count varint][entries ascending]`, the first entry absolute (date key varint, seq
//! varint), every later one as (date key delta varint, seq zigzag delta varint).
//!
//! The chunks of a name partition its entries: a chunk holds the entries from its start up to,
//! excluding, the next chunk's start. An entry goes to the last chunk whose start is at or below
//! it; when there is none, the name's first chunk is re-keyed to start at the entry; a name
//! without chunks gets one. A chunk that grows over 512 entries splits in two, the upper half
//! starting at its first entry. A chunk left empty is deleted.

use std::collections::{BTreeMap, BTreeSet};

use crate::varint;

/// A position in an index: date key, then sequence number.
pub(crate) type Pos = (u64, u32);

/// Most entries in one chunk.
pub(crate) const MAX_ENTRIES: usize = 512;
/// Version byte of a chunk value.
pub(crate) const VERSION: u8 = 2;
/// Key tag of posting chunks.
pub(crate) const TAG: u8 = b'x';
/// Length of the chunk start at the end of a key.
pub(crate) const START_LEN: usize = 12;

/// `x` + index tag + normalized name + `0x00`: the prefix of every chunk key of one name.
pub(crate) fn prefix(index: u8, norm: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(3 + norm.len() + START_LEN);
    k.push(TAG);
    k.push(index);
    k.extend_from_slice(norm.as_bytes());
    k.push(0);
    k
}

/// [`prefix`], written into `out` (cleared first).
pub(crate) fn prefix_into(out: &mut Vec<u8>, index: u8, norm: &str) {
    out.clear();
    out.push(TAG);
    out.push(index);
    out.extend_from_slice(norm.as_bytes());
    out.push(0);
}

/// `prefix` + `pos` as 12 big-endian bytes.
pub(crate) fn key(prefix: &[u8], pos: Pos) -> Vec<u8> {
    let mut k = Vec::with_capacity(prefix.len() + START_LEN);
    k.extend_from_slice(prefix);
    k.extend_from_slice(&pos_bytes(pos));
    k
}

/// A position as 12 big-endian bytes (sorts like the position).
pub(crate) fn pos_bytes(pos: Pos) -> [u8; START_LEN] {
    let mut b = [0u8; START_LEN];
    b[..8].copy_from_slice(&pos.0.to_be_bytes());
    b[8..].copy_from_slice(&pos.1.to_be_bytes());
    b
}

/// Splits a chunk key into its prefix (up to and including the `0x00`) and start.
pub(crate) fn parse_key(key: &[u8]) -> Option<(&[u8], Pos)> {
    let split = key.len().checked_sub(START_LEN)?;
    let (prefix, start) = key.split_at(split);
    if prefix.len() < 3 || prefix[0] != TAG || prefix.last() != Some(&0) {
        return None;
    }
    let dk = u64::from_be_bytes(start[..8].try_into().ok()?);
    let seq = u32::from_be_bytes(start[8..].try_into().ok()?);
    Some((prefix, (dk, seq)))
}

/// Index tag and normalized name of a chunk prefix.
pub(crate) fn parse_prefix(prefix: &[u8]) -> Option<(u8, &str)> {
    match prefix {
        [TAG, index, name @ .., 0] => Some((*index, std::str::from_utf8(name).ok()?)),
        _ => None,
    }
}

/// Encodes sorted entries.
pub(crate) fn encode(entries: &[Pos]) -> Vec<u8> {
    // Entries take 2 to 6 bytes in practice (a date key delta and a seq delta).
    let mut out = Vec::with_capacity(8 + entries.len() * 6);
    out.push(VERSION);
    varint::put(&mut out, entries.len() as u64);
    let mut prev: Option<Pos> = None;
    for &(dk, seq) in entries {
        match prev {
            None => {
                varint::put(&mut out, dk);
                varint::put(&mut out, u64::from(seq));
            }
            Some((pdk, pseq)) => {
                varint::put(&mut out, dk.wrapping_sub(pdk));
                varint::put(&mut out, varint::zigzag(i64::from(seq) - i64::from(pseq)));
            }
        }
        prev = Some((dk, seq));
    }
    out
}

/// Decodes a chunk value; `None` unless it is well formed with strictly ascending entries.
pub(crate) fn decode(value: &[u8]) -> Option<Vec<Pos>> {
    let (&version, mut rest) = value.split_first()?;
    if version != VERSION {
        return None;
    }
    let count = usize::try_from(varint::get(&mut rest)?).ok()?;
    // Every entry takes at least two bytes: a bound on hostile counts.
    if count > rest.len() / 2 {
        return None;
    }
    let mut out: Vec<Pos> = Vec::with_capacity(count);
    for _ in 0..count {
        let a = varint::get(&mut rest)?;
        let b = varint::get(&mut rest)?;
        let pos = match out.last() {
            None => (a, u32::try_from(b).ok()?),
            Some(&(pdk, pseq)) => {
                let seq = i64::from(pseq).checked_add(varint::unzigzag(b))?;
                let pos = (pdk.checked_add(a)?, u32::try_from(seq).ok()?);
                if pos <= (pdk, pseq) {
                    return None;
                }
                pos
            }
        };
        out.push(pos);
    }
    rest.is_empty().then_some(out)
}

/// Committed chunks in order: (start, value not yet decoded).
pub(crate) type ChunkIter<'s, V, E> = Box<dyn Iterator<Item = Result<(Pos, V), E>> + 's>;

/// The committed chunks, as the staging below reads them.
pub(crate) trait Committed {
    /// Error of a read.
    type Error;
    /// The committed chunk of `prefix` with the greatest start `<= at`, above `above` when
    /// given, whose start is not in `skip`: its start and entries.
    fn floor(
        &self,
        prefix: &[u8],
        at: Pos,
        above: Option<Pos>,
        skip: &BTreeSet<Pos>,
    ) -> Result<Option<(Pos, Vec<Pos>)>, Self::Error>;
    /// The committed chunk of `prefix` with the lowest start not in `skip`.
    fn first(
        &self,
        prefix: &[u8],
        skip: &BTreeSet<Pos>,
    ) -> Result<Option<(Pos, Vec<Pos>)>, Self::Error>;
}

/// Committed chunks read in order, for [`merge_adds`].
pub(crate) trait Scan: Committed {
    /// The committed chunks of `prefix` whose start is at or above `from`, ascending, as
    /// (start, entries not yet decoded).
    fn scan<'s>(&'s self, prefix: &[u8], from: Pos) -> ChunkIter<'s, Self::Value, Self::Error>;
    /// A chunk value of `prefix` at `start` that does not decode.
    fn corrupted(&self, prefix: &[u8], start: Pos) -> Self::Error;
    /// A stored chunk value.
    type Value: AsRef<[u8]>;
}

/// Adds the ascending, distinct positions `adds` to the committed chunks of the name with
/// chunk prefix `prefix`, reading and writing every touched chunk once (the result is one
/// [`Staged`] would give, up to where full chunks split): pushes the writes to `out`.
///
/// Walks the name's chunks from the one that holds the lowest added position up to the one
/// that holds the highest; chunks without a new entry are not decoded.
pub(crate) fn merge_adds<C: Scan>(
    src: &C,
    prefix: &[u8],
    adds: &[Pos],
    out: &mut Vec<(Vec<u8>, Option<Vec<u8>>)>,
) -> Result<(), C::Error> {
    let Some(&lowest) = adds.first() else {
        return Ok(());
    };
    let none = BTreeSet::new();
    let from = match src.floor(prefix, lowest, None, &none)? {
        Some((start, _)) => start,
        None => (0, 0),
    };
    let mut chunks = src.scan(prefix, from).peekable();
    let mut rest = adds;
    // The chunk being filled: its committed start (None: a new name), the start it gets.
    let mut current = match chunks.next().transpose()? {
        None => {
            // A name without chunks: one new chunk (split when over the limit).
            put_split(prefix, rest.to_vec(), out);
            return Ok(());
        }
        Some((start, value)) => (start, value),
    };
    loop {
        let (start, value) = current;
        let next = match chunks.peek() {
            Some(Ok((s, _))) => Some(*s),
            Some(Err(_)) => {
                return Err(chunks
                    .next()
                    .and_then(Result::err)
                    .unwrap_or_else(|| src.corrupted(prefix, start)));
            }
            None => None,
        };
        // The adds that belong to this chunk: below the next chunk's start.
        let n = next.map_or(rest.len(), |s| rest.partition_point(|p| *p < s));
        let (mine, later) = rest.split_at(n);
        rest = later;
        if !mine.is_empty() {
            let entries = decode(value.as_ref()).ok_or_else(|| src.corrupted(prefix, start))?;
            let merged = merge_sorted(&entries, mine);
            // Adds below the name's first chunk re-key it down to the lowest.
            let new_start = start.min(mine[0]);
            if merged.len() != entries.len() || new_start != start {
                if new_start != start {
                    out.push((key(prefix, start), None));
                }
                put_split_at(prefix, new_start, merged, out);
            }
        }
        if rest.is_empty() {
            return Ok(());
        }
        current = match chunks.next().transpose()? {
            Some(c) => c,
            None => return Ok(()),
        };
    }
}

/// The union of two ascending lists, ascending, without repeats.
fn merge_sorted(a: &[Pos], b: &[Pos]) -> Vec<Pos> {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => {
                out.push(a[i]);
                i += 1;
            }
            std::cmp::Ordering::Greater => {
                out.push(b[j]);
                j += 1;
            }
            std::cmp::Ordering::Equal => {
                out.push(a[i]);
                i += 1;
                j += 1;
            }
        }
    }
    out.extend_from_slice(&a[i..]);
    out.extend_from_slice(&b[j..]);
    out
}

/// Writes non-empty ascending `entries` as chunks, the first at its first entry.
fn put_split(prefix: &[u8], entries: Vec<Pos>, out: &mut Vec<(Vec<u8>, Option<Vec<u8>>)>) {
    if let Some(&first) = entries.first() {
        put_split_at(prefix, first, entries, out);
    }
}

/// Writes ascending `entries` as the chunk at `start`, split in halves (the upper half
/// starting at its first entry) while over [`MAX_ENTRIES`].
fn put_split_at(
    prefix: &[u8],
    start: Pos,
    mut entries: Vec<Pos>,
    out: &mut Vec<(Vec<u8>, Option<Vec<u8>>)>,
) {
    if entries.len() <= MAX_ENTRIES {
        out.push((key(prefix, start), Some(encode(&entries))));
        return;
    }
    let upper = entries.split_off(entries.len() / 2);
    let upper_start = upper[0];
    put_split_at(prefix, start, entries, out);
    put_split_at(prefix, upper_start, upper, out);
}

#[derive(Debug)]
struct Chunk {
    entries: Vec<Pos>,
    /// The start this chunk has in the committed state, if it is a committed chunk.
    original: Option<Pos>,
    dirty: bool,
    /// No committed chunk not yet loaded starts after this chunk's start up to this position:
    /// entries up to here belong to this chunk without asking the committed state.
    clear_to: Pos,
}

/// The staged chunks of one name: every committed chunk touched so far (under its current
/// start) and every new one.
#[derive(Debug, Default)]
struct Name {
    chunks: BTreeMap<Pos, Chunk>,
    /// Committed starts already in `chunks`: the committed state is read past them.
    loaded: BTreeSet<Pos>,
    /// No committed chunk not yet loaded starts at or below this position.
    bare_to: Option<Pos>,
    /// The committed first chunk was asked for: every committed chunk not yet loaded starts
    /// above the first staged one.
    first_known: bool,
}

impl Name {
    fn load(&mut self, start: Pos, entries: Vec<Pos>, clear_to: Pos) {
        self.loaded.insert(start);
        self.chunks.insert(
            start,
            Chunk {
                entries,
                original: Some(start),
                dirty: false,
                clear_to,
            },
        );
    }

    /// The current start of the chunk that holds `at`, loading it when needed.
    fn locate<C: Committed>(
        &mut self,
        src: &C,
        prefix: &[u8],
        at: Pos,
    ) -> Result<Option<Pos>, C::Error> {
        let staged = self.chunks.range(..=at).next_back();
        if let Some((s, chunk)) = &staged
            && chunk.clear_to >= at
        {
            return Ok(Some(**s));
        }
        let staged = staged.map(|(s, _)| *s);
        if staged.is_none() && self.bare_to.is_some_and(|b| b >= at) {
            return Ok(None);
        }
        if let Some((start, entries)) = src.floor(prefix, at, staged, &self.loaded)? {
            self.load(start, entries, at);
            return Ok(Some(start));
        }
        match staged.and_then(|s| self.chunks.get_mut(&s)) {
            Some(chunk) => chunk.clear_to = at,
            None => self.bare_to = self.bare_to.max(Some(at)),
        }
        Ok(staged)
    }

    /// The current start of the name's first chunk, loading it when needed.
    fn first<C: Committed>(&mut self, src: &C, prefix: &[u8]) -> Result<Option<Pos>, C::Error> {
        let staged = self.chunks.keys().next().copied();
        if self.first_known {
            return Ok(staged);
        }
        self.first_known = true;
        match src.first(prefix, &self.loaded)? {
            Some((start, entries)) if staged.is_none_or(|s| start < s) => {
                self.load(start, entries, start);
                Ok(Some(start))
            }
            _ => Ok(staged),
        }
    }

    /// Splits the chunk at `start` while it is over the limit.
    fn split(&mut self, start: Pos) {
        let Some(chunk) = self.chunks.get_mut(&start) else {
            return;
        };
        if chunk.entries.len() <= MAX_ENTRIES {
            return;
        }
        let upper = chunk.entries.split_off(chunk.entries.len() / 2);
        let upper_start = upper[0];
        let clear_to = chunk.clear_to.max(upper_start);
        self.chunks.insert(
            upper_start,
            Chunk {
                entries: upper,
                original: None,
                dirty: true,
                clear_to,
            },
        );
        self.split(start);
        self.split(upper_start);
    }
}

/// Changes to posting chunks staged during one commit.
#[derive(Debug, Default)]
pub(crate) struct Staged {
    names: BTreeMap<Vec<u8>, Name>,
}

impl Staged {
    /// Adds `pos` to the name with chunk prefix `prefix` (no-op when present).
    pub(crate) fn insert<C: Committed>(
        &mut self,
        src: &C,
        prefix: &[u8],
        pos: Pos,
    ) -> Result<(), C::Error> {
        let name = self.names.entry(prefix.to_vec()).or_default();
        if let Some(start) = name.locate(src, prefix, pos)? {
            if let Some(chunk) = name.chunks.get_mut(&start)
                && let Err(i) = chunk.entries.binary_search(&pos)
            {
                chunk.entries.insert(i, pos);
                chunk.dirty = true;
                name.split(start);
            }
            return Ok(());
        }
        match name.first(src, prefix)? {
            Some(first) => {
                // Re-key the first chunk down to the new entry.
                if let Some(mut chunk) = name.chunks.remove(&first) {
                    chunk.entries.insert(0, pos);
                    chunk.dirty = true;
                    name.chunks.insert(pos, chunk);
                    name.split(pos);
                }
            }
            None => {
                name.chunks.insert(
                    pos,
                    Chunk {
                        entries: vec![pos],
                        original: None,
                        dirty: true,
                        clear_to: pos,
                    },
                );
            }
        }
        Ok(())
    }

    /// Removes `pos` from the name with chunk prefix `prefix`; false when absent.
    pub(crate) fn remove<C: Committed>(
        &mut self,
        src: &C,
        prefix: &[u8],
        pos: Pos,
    ) -> Result<bool, C::Error> {
        let name = self.names.entry(prefix.to_vec()).or_default();
        let Some(start) = name.locate(src, prefix, pos)? else {
            return Ok(false);
        };
        let Some(chunk) = name.chunks.get_mut(&start) else {
            return Ok(false);
        };
        match chunk.entries.binary_search(&pos) {
            Ok(i) => {
                chunk.entries.remove(i);
                chunk.dirty = true;
                Ok(true)
            }
            Err(_) => Ok(false),
        }
    }

    /// The writes that make the committed state equal the staged one, each key once:
    /// `(key, Some(value))` to put, `(key, None)` to delete.
    pub(crate) fn writes(self) -> Vec<(Vec<u8>, Option<Vec<u8>>)> {
        let mut out = Vec::new();
        for (prefix, name) in self.names {
            let kept: BTreeSet<Pos> = name
                .chunks
                .iter()
                .filter(|(_, c)| !c.entries.is_empty())
                .map(|(s, _)| *s)
                .collect();
            for (start, chunk) in name.chunks {
                if let Some(original) = chunk.original
                    && original != start
                    && !kept.contains(&original)
                {
                    out.push((key(&prefix, original), None));
                }
                if chunk.entries.is_empty() {
                    if chunk.original == Some(start) {
                        out.push((key(&prefix, start), None));
                    }
                } else if chunk.dirty || chunk.original != Some(start) {
                    out.push((key(&prefix, start), Some(encode(&chunk.entries))));
                }
            }
        }
        out
    }
}

#[cfg(test)]
impl Scan for BTreeMap<Vec<u8>, Vec<u8>> {
    type Value = Vec<u8>;

    fn scan<'s>(&'s self, prefix: &[u8], from: Pos) -> ChunkIter<'s, Vec<u8>, ()> {
        let prefix = prefix.to_vec();
        Box::new(
            self.range(key(&prefix, from)..)
                .map_while(move |(k, v)| match parse_key(k) {
                    Some((p, start)) if p == prefix => Some(Ok((start, v.clone()))),
                    _ => None,
                }),
        )
    }

    fn corrupted(&self, _prefix: &[u8], _start: Pos) {}
}

/// Committed chunks held in a map of keys to values (tests, and reindex).
impl Committed for BTreeMap<Vec<u8>, Vec<u8>> {
    type Error = ();

    fn floor(
        &self,
        prefix: &[u8],
        at: Pos,
        above: Option<Pos>,
        skip: &BTreeSet<Pos>,
    ) -> Result<Option<(Pos, Vec<Pos>)>, ()> {
        for (k, v) in self.range(prefix.to_vec()..=key(prefix, at)).rev() {
            let Some((p, start)) = parse_key(k) else {
                continue;
            };
            if above.is_some_and(|a| start <= a) {
                break;
            }
            if p == prefix && !skip.contains(&start) {
                return Ok(Some((start, decode(v).ok_or(())?)));
            }
        }
        Ok(None)
    }

    fn first(&self, prefix: &[u8], skip: &BTreeSet<Pos>) -> Result<Option<(Pos, Vec<Pos>)>, ()> {
        for (k, v) in self.range(prefix.to_vec()..) {
            let Some((p, start)) = parse_key(k) else {
                continue;
            };
            if p != prefix {
                break;
            }
            if !skip.contains(&start) {
                return Ok(Some((start, decode(v).ok_or(())?)));
            }
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests;
