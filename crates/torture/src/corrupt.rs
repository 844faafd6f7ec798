//! Deliberate damage to an archive, through the storage engine, while no morgue process holds
//! it: the corruption tests use it to check that `cat`, `show`, `verify` and `reindex` notice and
//! repair what they can.
//!
//! It reads format 2 as docs/format.md describes it, on its own (not through morgue-store's
//! code), so that it also checks that the document tells the truth: one sled tree `morgue`, keys
//! tagged by their first byte; an article's body lives in slot `seq % 64` of the `B` pack
//! `seq / 64`, its id in the `N` block of the same number, its record in the `r` block, its
//! index entries in `x` posting chunks and its id-index entry in an `I` chunk.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context as _, Result, bail};
use morgue_store::engine::{Database, TREE, engine_error, sled};
use morgue_store::{BlobId, Options};

/// Articles per `B` pack, `N` block and `r` block.
const PACK: u32 = 64;
/// Bytes of one slot header of a `B` pack.
const SLOT_HEADER: usize = 15;
/// The codec byte of a removed slot.
const REMOVED: u8 = 0xFF;

/// Flips one bit inside the stored frame of blob `id` (the middle byte of its frame in its `B`
/// pack), so that the pack still parses but the body no longer decodes or hashes to its id.
/// Returns the offset flipped within the pack value.
pub fn flip_body_byte(archive: &Path, id: &BlobId) -> Result<usize> {
    let db = open(archive)?;
    let tree = tree(&db)?;
    let seq = seq_of(&tree, id)?.with_context(|| format!("no stored body {id}"))?;
    let key = numbered(b'B', seq / PACK);
    let Some(value) = tree.get(&key).map_err(engine_error)? else {
        bail!("no body pack {} for {id}", seq / PACK);
    };
    let mut value = value.to_vec();
    let (start, len) = frame_of(&value, (seq % PACK) as usize)
        .with_context(|| format!("body pack {} does not parse", seq / PACK))?;
    if len == 0 {
        bail!("the body of {id} was removed");
    }
    let at = start + len / 2;
    value[at] ^= 0x01;
    tree.insert(key, value).map_err(engine_error)?;
    db.sled().flush().map_err(engine_error)?;
    Ok(at)
}

/// What [`delete_entries`] deletes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// `x`: every posting chunk that holds the article, or only those of one index (`b'd'`
    /// date, `b'r'` reporter, `b's'` service).
    Postings(Option<u8>),
    /// `r`: the record block holding the article (and up to 63 neighbours' records).
    Records,
    /// `I`: the id-index chunks holding the article's entry.
    IdIndex,
    /// `N`: the id block holding the article's id.
    Ids,
    /// `B`: the body pack holding the article's body.
    Bodies,
}

impl std::str::FromStr for Target {
    type Err = String;

    /// `x`, `xd`, `xr`, `xs`, `r`, `I`, `N` or `B`.
    fn from_str(s: &str) -> Result<Target, String> {
        Ok(match s {
            "x" => Target::Postings(None),
            "xd" => Target::Postings(Some(b'd')),
            "xr" => Target::Postings(Some(b'r')),
            "xs" => Target::Postings(Some(b's')),
            "r" => Target::Records,
            "I" => Target::IdIndex,
            "N" => Target::Ids,
            "B" => Target::Bodies,
            _ => {
                return Err(format!(
                    "unknown target {s:?}: expected x, xd, xr, xs, r, I, N or B"
                ));
            }
        })
    }
}

/// Deletes the keys of the `morgue` tree that hold article `id` (see [`Target`]); returns how
/// many were deleted.
pub fn delete_entries(archive: &Path, target: Target, id: &BlobId) -> Result<usize> {
    let db = open(archive)?;
    let tree = tree(&db)?;
    let seq = seq_of(&tree, id)?.with_context(|| format!("no article {id} in the id blocks"))?;
    let mut doomed: Vec<sled::IVec> = Vec::new();
    match target {
        Target::Records => doomed.push(numbered(b'r', seq / PACK).into()),
        Target::Ids => doomed.push(numbered(b'N', seq / PACK).into()),
        Target::Bodies => doomed.push(numbered(b'B', seq / PACK).into()),
        Target::Postings(index) => {
            let prefix: Vec<u8> = std::iter::once(b'x').chain(index).collect();
            for item in tree.scan_prefix(&prefix) {
                let (key, value) = item.map_err(engine_error)?;
                let entries = posting_entries(&value)
                    .with_context(|| format!("posting chunk {key:?} does not parse"))?;
                if entries.iter().any(|&(_, s)| s == u64::from(seq)) {
                    doomed.push(key);
                }
            }
        }
        Target::IdIndex => {
            let prefix = u64::from_be_bytes(id.as_bytes()[..8].try_into()?);
            for item in tree.scan_prefix([b'I']) {
                let (key, value) = item.map_err(engine_error)?;
                if id_index_entries(&value).any(|entry| entry == (prefix, seq)) {
                    doomed.push(key);
                }
            }
        }
    }
    let mut deleted = 0;
    for key in &doomed {
        if tree.remove(key).map_err(engine_error)?.is_some() {
            deleted += 1;
        }
    }
    db.sled().flush().map_err(engine_error)?;
    Ok(deleted)
}

/// The archive's sled trees (sled's default tree excluded), each with its number of keys; for
/// the `morgue` tree, one line per key tag instead: `morgue B 3`.
pub fn tree_names(archive: &Path) -> Result<Vec<String>> {
    let db = open(archive)?;
    let mut out = Vec::new();
    for name in db.sled().tree_names() {
        let name = String::from_utf8_lossy(&name).into_owned();
        if name == "__sled__default" {
            continue;
        }
        let tree = db.sled().open_tree(&name).map_err(engine_error)?;
        if name == TREE {
            let mut tags: BTreeMap<u8, u64> = BTreeMap::new();
            for item in tree.iter().keys() {
                let key = item.map_err(engine_error)?;
                *tags.entry(key.first().copied().unwrap_or(0)).or_default() += 1;
            }
            for (tag, n) in tags {
                out.push(format!("{name} {} {n}", char::from(tag)));
            }
        } else {
            out.push(format!("{name} {}", tree.len()));
        }
    }
    Ok(out)
}

fn open(archive: &Path) -> Result<Database> {
    let options = Options {
        create: false,
        ..Options::default()
    };
    Database::open(archive, &options).with_context(|| format!("opening {}", archive.display()))
}

fn tree(db: &Database) -> Result<sled::Tree> {
    Ok(db.sled().open_tree(TREE).map_err(engine_error)?)
}

/// `tag` then a big-endian u32.
fn numbered(tag: u8, n: u32) -> Vec<u8> {
    let mut key = vec![tag];
    key.extend_from_slice(&n.to_be_bytes());
    key
}

/// The sequence number of `id`, from the `N` blocks (removed slots included).
fn seq_of(tree: &sled::Tree, id: &BlobId) -> Result<Option<u32>> {
    for item in tree.scan_prefix([b'N']) {
        let (key, value) = item.map_err(engine_error)?;
        let Ok(pack) = <[u8; 4]>::try_from(&key[1..]) else {
            bail!("malformed id block key {key:?}");
        };
        let pack = u32::from_be_bytes(pack);
        let ids = value.get(2..).unwrap_or_default();
        if let Some(slot) = ids.chunks_exact(32).position(|c| c == id.as_bytes()) {
            return Ok(Some(pack * PACK + slot as u32));
        }
    }
    Ok(None)
}

/// (offset, length) of the frame of `slot` in a `B` pack value.
fn frame_of(pack: &[u8], slot: usize) -> Option<(usize, usize)> {
    let n = usize::from(*pack.get(1)?);
    if slot >= n {
        return None;
    }
    let headers = pack.get(2..2 + n * SLOT_HEADER)?;
    let mut offset = 2 + n * SLOT_HEADER;
    for (i, header) in headers.chunks_exact(SLOT_HEADER).enumerate() {
        let len = u32::from_be_bytes(header[11..15].try_into().ok()?) as usize;
        if i == slot {
            if header[0] == REMOVED {
                return Some((offset, 0));
            }
            return (offset + len <= pack.len()).then_some((offset, len));
        }
        offset += len;
    }
    None
}

fn varint(bytes: &mut &[u8]) -> Option<u64> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let (&b, rest) = bytes.split_first()?;
        *bytes = rest;
        value |= u64::from(b & 0x7F) << shift;
        if b & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

/// The (date_key, seq) entries of an `x` posting chunk.
fn posting_entries(value: &[u8]) -> Option<Vec<(u64, u64)>> {
    let mut rest = value.get(1..)?;
    let count = varint(&mut rest)?;
    let mut out = Vec::with_capacity(count.min(512) as usize);
    let (mut date, mut seq) = (0u64, 0u64);
    for i in 0..count {
        if i == 0 {
            date = varint(&mut rest)?;
            seq = varint(&mut rest)?;
        } else {
            date = date.checked_add(varint(&mut rest)?)?;
            let z = varint(&mut rest)?;
            let delta = (z >> 1) as i64 ^ -((z & 1) as i64);
            seq = seq.checked_add_signed(delta)?;
        }
        out.push((date, seq));
    }
    Some(out)
}

/// The (id prefix, seq) entries of an `I` chunk.
fn id_index_entries(value: &[u8]) -> impl Iterator<Item = (u64, u32)> + '_ {
    value
        .get(1..)
        .unwrap_or_default()
        .chunks_exact(12)
        .map(|e| {
            let mut prefix = [0u8; 8];
            prefix.copy_from_slice(&e[..8]);
            let mut seq = [0u8; 4];
            seq.copy_from_slice(&e[8..]);
            (u64::from_be_bytes(prefix), u32::from_be_bytes(seq))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use morgue_store::{Error, Store};

    #[test]
    fn a_flipped_body_reads_as_corrupted() {
        let dir = tempfile::tempdir().unwrap();
        let archive = dir.path().join("a");
        let body = b"a body long enough to have a payload in the middle".repeat(3);
        let (id, other) = {
            let store = Store::open(&archive).unwrap();
            (
                store.put(&body).unwrap(),
                store.put(b"another body").unwrap(),
            )
        };
        flip_body_byte(&archive, &id).unwrap();
        let store = Store::open(&archive).unwrap();
        assert!(matches!(store.get(&id), Err(Error::Corrupted { id: bad }) if bad == id));
        assert_eq!(
            store.get(&other).unwrap().as_deref(),
            Some(&b"another body"[..])
        );
        drop(store);
        assert!(flip_body_byte(&archive, &BlobId::of(b"absent")).is_err());
    }

    #[test]
    fn deletes_the_pack_and_the_id_index_chunk_of_an_article() {
        let dir = tempfile::tempdir().unwrap();
        let archive = dir.path().join("a");
        let id = Store::open(&archive).unwrap().put(b"x body").unwrap();
        let names = tree_names(&archive).unwrap();
        assert!(names.contains(&format!("{TREE} B 1")), "{names:?}");
        assert_eq!(delete_entries(&archive, Target::IdIndex, &id).unwrap(), 1);
        assert_eq!(delete_entries(&archive, Target::IdIndex, &id).unwrap(), 0);
        assert_eq!(delete_entries(&archive, Target::Bodies, &id).unwrap(), 1);
        assert_eq!(delete_entries(&archive, Target::Bodies, &id).unwrap(), 0);
        assert!(delete_entries(&archive, Target::Records, &BlobId::of(b"absent")).is_err());
    }

    #[test]
    fn targets_parse() {
        assert_eq!("xr".parse(), Ok(Target::Postings(Some(b'r'))));
        assert_eq!("x".parse(), Ok(Target::Postings(None)));
        assert_eq!("r".parse(), Ok(Target::Records));
        assert!("q".parse::<Target>().is_err());
    }

    #[test]
    fn posting_chunks_decode() {
        // Two entries: (5, 10), then date +0 and seq -3 (zigzag 5).
        let chunk = [2, 2, 5, 10, 0, 5];
        assert_eq!(posting_entries(&chunk), Some(vec![(5, 10), (5, 7)]));
        assert_eq!(posting_entries(&[2, 3, 5]), None);
    }
}
