//! Deliberate damage to an archive, through the storage engine, while no morgue process holds
//! it: the corruption tests use it to check that `cat`, `show`, `verify` and `reindex` notice and
//! repair what they can.
//!
//! It reads format 2 as docs/format.md describes it, on its own (not through morgue-store's
//! code), so that it also checks that the document tells the truth: one sled tree `morgue`, keys
//! tagged by their first byte, and the bodies in append-only pack files. An article with
//! sequence number `seq` has its slot in slot table `B` `seq / 64` (pointing at its record in a
//! pack file: a 55-byte header with its id, then its frame), its metadata record in `r` block
//! `seq / 64`, its index entries in `x` posting chunks and its id-index entry in an `I` chunk.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{Read as _, Seek as _, SeekFrom, Write as _};
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};
use morgue_store::BlobId;

/// The one sled tree of format 2.
const TREE: &str = "morgue";

/// Articles per `B` slot table and per `r` block.
const PACK: u32 = 64;
/// Bytes of one slot of a `B` slot table.
const SLOT: usize = 27;
/// The codec byte of a removed slot.
const REMOVED: u8 = 0xFF;
/// Bytes of a record header in a pack file (its id first, its check last).
const RECORD_HEADER: u64 = 55;

/// Where a live body is: its seq, and its record in a pack file.
#[derive(Debug, Clone, Copy)]
struct Located {
    seq: u32,
    file: u32,
    offset: u64,
    frame_len: u64,
}

/// Flips one bit inside the stored frame of blob `id`: the middle byte of its frame in its pack
/// file, so that the record still parses but the body no longer decodes or hashes to its id.
/// Returns the offset flipped within the pack file.
pub fn flip_body_byte(archive: &Path, id: &BlobId) -> Result<u64> {
    let db = open(archive)?;
    let tree = tree(&db)?;
    let at = locate(archive, &tree, id)?.with_context(|| format!("no stored body {id}"))?;
    if at.frame_len == 0 {
        bail!("the body of {id} has an empty frame");
    }
    let path = pack_path(archive, at.file);
    let offset = at.offset + RECORD_HEADER + at.frame_len / 2;
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&path)
        .with_context(|| format!("opening {}", path.display()))?;
    let mut byte = [0u8; 1];
    file.seek(SeekFrom::Start(offset))?;
    file.read_exact(&mut byte)
        .with_context(|| format!("reading {} at {offset}", path.display()))?;
    byte[0] ^= 0x01;
    file.seek(SeekFrom::Start(offset))?;
    file.write_all(&byte)?;
    file.sync_all()?;
    Ok(offset)
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
    /// `B`: the slot table holding the article's slot (and up to 63 neighbours').
    Bodies,
}

impl std::str::FromStr for Target {
    type Err = String;

    /// `x`, `xd`, `xr`, `xs`, `r`, `I` or `B`.
    fn from_str(s: &str) -> Result<Target, String> {
        Ok(match s {
            "x" => Target::Postings(None),
            "xd" => Target::Postings(Some(b'd')),
            "xr" => Target::Postings(Some(b'r')),
            "xs" => Target::Postings(Some(b's')),
            "r" => Target::Records,
            "I" => Target::IdIndex,
            "B" => Target::Bodies,
            _ => {
                return Err(format!(
                    "unknown target {s:?}: expected x, xd, xr, xs, r, I or B"
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
    let seq = locate(archive, &tree, id)?
        .with_context(|| format!("no stored body {id}"))?
        .seq;
    let mut doomed: Vec<sled::IVec> = Vec::new();
    match target {
        Target::Records => doomed.push(numbered(b'r', seq / PACK).into()),
        Target::Bodies => doomed.push(numbered(b'B', seq / PACK).into()),
        Target::Postings(index) => {
            let prefix: Vec<u8> = std::iter::once(b'x').chain(index).collect();
            for item in tree.scan_prefix(&prefix) {
                let (key, value) = item?;
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
                let (key, value) = item?;
                if id_index_entries(&value).any(|entry| entry == (prefix, seq)) {
                    doomed.push(key);
                }
            }
        }
    }
    let mut deleted = 0;
    for key in &doomed {
        if tree.remove(key)?.is_some() {
            deleted += 1;
        }
    }
    db.flush()?;
    Ok(deleted)
}

/// The archive's sled trees (sled's default tree excluded), each with its number of keys; for
/// the `morgue` tree, one line per key tag instead: `morgue B 3`; then each pack file with its
/// size: `packs/00000000.pack 4096`.
pub fn tree_names(archive: &Path) -> Result<Vec<String>> {
    let db = open(archive)?;
    let mut out = Vec::new();
    for name in db.tree_names() {
        let name = String::from_utf8_lossy(&name).into_owned();
        if name == "__sled__default" {
            continue;
        }
        let tree = db.open_tree(&name)?;
        if name == TREE {
            let mut tags: BTreeMap<u8, u64> = BTreeMap::new();
            for item in tree.iter().keys() {
                let key = item?;
                *tags.entry(key.first().copied().unwrap_or(0)).or_default() += 1;
            }
            for (tag, n) in tags {
                out.push(format!("{name} {} {n}", char::from(tag)));
            }
        } else {
            out.push(format!("{name} {}", tree.len()));
        }
    }
    let mut packs: Vec<(String, u64)> = std::fs::read_dir(archive.join("packs"))
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| {
                    let len = e.metadata().map_or(0, |m| m.len());
                    (e.file_name().to_string_lossy().into_owned(), len)
                })
                .collect()
        })
        .unwrap_or_default();
    packs.sort();
    out.extend(
        packs
            .into_iter()
            .map(|(name, len)| format!("packs/{name} {len}")),
    );
    Ok(out)
}

/// The archive's sled database, opened directly (sled's own lock keeps a morgue process out
/// meanwhile): in the directory the `SLED` pointer file names, else in the archive directory
/// (docs/format.md).
fn open(archive: &Path) -> Result<sled::Db> {
    if !archive.join(morgue_store::HEADER_FILE).is_file() {
        bail!("no archive at {}", archive.display());
    }
    let at = match std::fs::read_to_string(archive.join("SLED")) {
        Ok(name) => archive.join(name.trim_end()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => archive.to_path_buf(),
        Err(e) => return Err(e).context(format!("reading {}/SLED", archive.display())),
    };
    // sled keeps its file lock until its background threads have let go of a database dropped
    // just before (up to its flush interval): a lock held is waited for, a few seconds at most,
    // as `morgue --wait` does. No flusher thread here: the functions flush themselves.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        match sled::Config::new().path(&at).flush_every_ms(None).open() {
            Ok(db) => return Ok(db),
            Err(sled::Error::Io(e))
                if e.kind() == std::io::ErrorKind::WouldBlock
                    || e.to_string().contains("could not acquire lock") =>
            {
                if std::time::Instant::now() >= deadline {
                    bail!(
                        "archive {} is in use by another morgue process",
                        archive.display()
                    )
                }
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            Err(e) => {
                return Err(e).with_context(|| format!("opening sled in {}", at.display()));
            }
        }
    }
}

fn tree(db: &sled::Db) -> Result<sled::Tree> {
    Ok(db.open_tree(TREE)?)
}

/// `tag` then a big-endian u32.
fn numbered(tag: u8, n: u32) -> Vec<u8> {
    let mut key = vec![tag];
    key.extend_from_slice(&n.to_be_bytes());
    key
}

fn pack_path(archive: &Path, file: u32) -> PathBuf {
    archive.join("packs").join(format!("{file:08x}.pack"))
}

/// The live body of `id`: every live slot of every `B` table, confirmed by the id at the start of
/// its record in its pack file.
fn locate(archive: &Path, tree: &sled::Tree, id: &BlobId) -> Result<Option<Located>> {
    let mut files: BTreeMap<u32, File> = BTreeMap::new();
    for item in tree.scan_prefix([b'B']) {
        let (key, value) = item?;
        let Ok(pack) = <[u8; 4]>::try_from(&key[1..]) else {
            bail!("malformed slot table key {key:?}");
        };
        let pack = u32::from_be_bytes(pack);
        for (i, slot) in slots(&value)
            .with_context(|| format!("slot table {pack} does not parse"))?
            .enumerate()
        {
            if slot[0] == REMOVED {
                continue;
            }
            let be32 = |at: usize| {
                u32::from_be_bytes([slot[at], slot[at + 1], slot[at + 2], slot[at + 3]])
            };
            let mut be64 = [0u8; 8];
            be64.copy_from_slice(&slot[19..27]);
            let at = Located {
                seq: pack * PACK + i as u32,
                file: be32(15),
                offset: u64::from_be_bytes(be64),
                frame_len: u64::from(be32(11)),
            };
            let file = match files.entry(at.file) {
                std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
                std::collections::btree_map::Entry::Vacant(e) => {
                    let path = pack_path(archive, at.file);
                    e.insert(
                        File::open(&path).with_context(|| format!("opening {}", path.display()))?,
                    )
                }
            };
            let mut found = [0u8; 32];
            file.seek(SeekFrom::Start(at.offset))?;
            if file.read_exact(&mut found).is_ok() && found == *id.as_bytes() {
                return Ok(Some(at));
            }
        }
    }
    Ok(None)
}

/// The 27-byte slots of a `B` slot table value.
fn slots(value: &[u8]) -> Option<std::slice::ChunksExact<'_, u8>> {
    let n = usize::from(*value.get(1)?);
    let slots = value.get(2..)?;
    (slots.len() == n * SLOT).then(|| slots.chunks_exact(SLOT))
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
        // Without its slot table, the body is not found any more.
        assert!(delete_entries(&archive, Target::Bodies, &id).is_err());
        assert!(
            names.iter().any(|n| n.starts_with("packs/00000000.pack ")),
            "{names:?}"
        );
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
