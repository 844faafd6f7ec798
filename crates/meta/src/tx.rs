//! The staging of one commit: record blocks, posting chunks, facet counts and the meta state,
//! read through the commit's own changes and written once each into the store's writer.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ops::Bound;

use crate::block::{self, Block};
use crate::engine::{Key, Seq, Value, View, Writer};
use crate::keys::{self, DATE_TAG, NAME_INDEXES, State};
use crate::posting::{self, Committed, Pos};
use crate::{Archive, Error, Indexed, Result, corrupted};

/// The committed posting chunks, read from the tree.
pub(crate) struct Chunks<'a>(pub &'a View);

impl Chunks<'_> {
    fn decode(key: &[u8], value: &[u8]) -> Result<Vec<Pos>> {
        posting::decode(value).ok_or_else(|| corrupted(key))
    }
}

impl posting::Scan for Chunks<'_> {
    type Value = Value;

    fn scan<'s>(&'s self, prefix: &[u8], from: Pos) -> posting::ChunkIter<'s, Value, Error> {
        let prefix = prefix.to_vec();
        let mut end = prefix.clone();
        // Every key of the name is below prefix + 13 x 0xff.
        end.extend_from_slice(&[0xff; posting::START_LEN + 1]);
        Box::new(
            self.0
                .range(posting::key(&prefix, from)..end)
                .map(move |kv| {
                    let (k, v) = kv.map_err(Error::Store)?;
                    match posting::parse_key(&k) {
                        Some((p, start)) if p == prefix => Ok((start, v)),
                        _ => Err(corrupted(&k)),
                    }
                }),
        )
    }

    fn corrupted(&self, prefix: &[u8], start: Pos) -> Error {
        corrupted(&posting::key(prefix, start))
    }
}

impl Committed for Chunks<'_> {
    type Error = Error;
    fn floor(
        &self,
        prefix: &[u8],
        at: Pos,
        above: Option<Pos>,
        skip: &BTreeSet<Pos>,
    ) -> Result<Option<(Pos, Vec<Pos>)>> {
        let low = match above {
            Some(a) => Bound::Excluded(posting::key(prefix, a)),
            None => Bound::Included(prefix.to_vec()),
        };
        let range = self
            .0
            .range::<Vec<u8>, _>((low, Bound::Included(posting::key(prefix, at))));
        first_unskipped(range.rev(), prefix, skip)
    }

    fn first(&self, prefix: &[u8], skip: &BTreeSet<Pos>) -> Result<Option<(Pos, Vec<Pos>)>> {
        first_unskipped(self.0.scan_prefix(prefix), prefix, skip)
    }
}

/// The first chunk of `kvs` (keys of the name `prefix`) whose start is not in `skip`: its start
/// and entries. A key of another name, or an undecodable one, is corruption.
fn first_unskipped(
    kvs: impl Iterator<Item = morgue_store::Result<(Value, Value)>>,
    prefix: &[u8],
    skip: &BTreeSet<Pos>,
) -> Result<Option<(Pos, Vec<Pos>)>> {
    for kv in kvs {
        let (k, v) = kv.map_err(Error::Store)?;
        match posting::parse_key(&k) {
            Some((p, start)) if p == prefix => {
                if !skip.contains(&start) {
                    return Ok(Some((start, Chunks::decode(&k, &v)?)));
                }
            }
            _ => return Err(corrupted(&k)),
        }
    }
    Ok(None)
}

/// What one commit changes besides the bodies.
pub(crate) struct Tx<'a> {
    archive: &'a Archive,
    /// Record blocks read or changed: the block and whether it changed.
    blocks: BTreeMap<u32, (Block, bool)>,
    postings: posting::Staged,
    /// Posting changes, applied at [`Tx::finish`] name by name, highest position first: the
    /// committed chunks are then asked about each chunk once, not about each entry.
    /// Chunk prefix -> the changes to that name, in order: (position, added).
    posts: HashMap<Vec<u8>, Vec<(Pos, bool)>>,
    /// Scratch space for building keys.
    scratch: Vec<u8>,
    /// Facet key -> (count change, spelling of the first article that added the name).
    facets: BTreeMap<Vec<u8>, (i64, String)>,
    /// The meta state, changed in place by the caller.
    pub(crate) state: State,
}

impl<'a> Tx<'a> {
    /// Starts staging; reads the meta state (a missing one is a new archive's).
    pub(crate) fn new(archive: &'a Archive) -> Result<Tx<'a>> {
        let state = archive.state_value()?.unwrap_or_else(|| State {
            indexes: keys::index_list(),
            ..State::default()
        });
        Ok(Tx {
            archive,
            blocks: BTreeMap::new(),
            postings: posting::Staged::default(),
            posts: HashMap::new(),
            scratch: Vec::new(),
            facets: BTreeMap::new(),
            state,
        })
    }

    fn block_mut(&mut self, b: u32) -> Result<&mut (Block, bool)> {
        if !self.blocks.contains_key(&b) {
            let block = (*self.archive.block(b)?).clone();
            self.blocks.insert(b, (block, false));
        }
        self.blocks
            .get_mut(&b)
            .ok_or(Error::Internal("a staged record block vanished"))
    }

    /// The record bytes at `seq`, as this commit left them so far.
    pub(crate) fn record(&mut self, seq: Seq) -> Result<Option<Vec<u8>>> {
        let (b, slot) = block::locate(seq);
        Ok(self.block_mut(b)?.0.get(slot).map(<[u8]>::to_vec))
    }

    /// Sets (or clears) the record bytes at `seq`.
    pub(crate) fn set_record(&mut self, seq: Seq, record: Option<Vec<u8>>) -> Result<()> {
        let (b, slot) = block::locate(seq);
        let entry = self.block_mut(b)?;
        entry.0.set(slot, record);
        entry.1 = true;
        Ok(())
    }

    fn facet_add(&mut self, tag: u8, norm: &str, display: &str, delta: i64) {
        self.scratch.clear();
        self.scratch.extend_from_slice(&[keys::FACET_TAG, tag]);
        self.scratch.extend_from_slice(norm.as_bytes());
        debug_assert_eq!(self.scratch, keys::facet_key(tag, norm));
        if !self.facets.contains_key(self.scratch.as_slice()) {
            self.facets.insert(self.scratch.clone(), (0, String::new()));
        }
        let Some(entry) = self.facets.get_mut(self.scratch.as_slice()) else {
            return;
        };
        if delta > 0 && entry.1.is_empty() {
            entry.1 = display.to_string();
        }
        entry.0 += delta;
    }

    /// Stages adding (or removing) the entry of the article at `seq`, dated `date_key`, under
    /// the name `norm` of index `index` (stored with its epoch where the index keeps them).
    fn post(&mut self, index: u8, norm: &str, (date_key, seq): Pos, add: bool) {
        let pos = (keys::stored_date(index, date_key, seq), seq);
        posting::prefix_into(&mut self.scratch, index, norm);
        match self.posts.get_mut(self.scratch.as_slice()) {
            Some(list) => list.push((pos, add)),
            None => {
                self.posts.insert(self.scratch.clone(), vec![(pos, add)]);
            }
        }
    }

    /// Moves the posting entries and facets of the article at `seq` from `old` to `new`.
    pub(crate) fn index(&mut self, seq: Seq, old: Option<&Indexed>, new: Option<&Indexed>) {
        let old_date = old.map(|o| o.date);
        let new_date = new.map(|n| n.date);
        if old_date != new_date {
            if let Some(d) = old_date {
                self.post(DATE_TAG, "", (d, seq), false);
            }
            if let Some(d) = new_date {
                self.post(DATE_TAG, "", (d, seq), true);
            }
        }
        let none = Vec::new();
        for (i, def) in NAME_INDEXES.iter().enumerate() {
            let old_names = old.map_or(&none, |o| &o.names[i]);
            let new_names = new.map_or(&none, |n| &n.names[i]);
            let has = |names: &[(String, String)], norm: &str| names.iter().any(|(n, _)| n == norm);
            for (norm, display) in old_names {
                let kept = has(new_names, norm);
                if (!kept || old_date != new_date)
                    && let Some(d) = old_date
                {
                    self.post(def.tag, norm, (d, seq), false);
                }
                if !kept {
                    self.facet_add(def.tag, norm, display, -1);
                }
            }
            for (norm, display) in new_names {
                let had = has(old_names, norm);
                if (!had || old_date != new_date)
                    && let Some(d) = new_date
                {
                    self.post(def.tag, norm, (d, seq), true);
                }
                if !had {
                    self.facet_add(def.tag, norm, display, 1);
                }
            }
        }
    }

    /// Writes every change into `w` (each key once); returns the record blocks written.
    pub(crate) fn finish(mut self, w: &mut Writer<'_>) -> Result<Vec<u32>> {
        let src = Chunks(&self.archive.tree);
        let posts = std::mem::take(&mut self.posts);
        let mut writes = Vec::new();
        let mut adds = Vec::new();
        // Name by name: a name that only gains entries (an import) has them merged into its
        // chunks in one pass, reading and writing only the chunks they fall in — with epochs
        // in every index (keys.rs), those of the newest epoch, so that what a commit reads does
        // not grow with the archive; one that also loses some goes through the general staging.
        for (prefix, mut changes) in posts {
            if changes.iter().all(|(_, add)| *add) {
                adds.clear();
                adds.extend(changes.iter().map(|(pos, _)| *pos));
                adds.sort_unstable();
                adds.dedup();
                posting::merge_adds(&src, &prefix, &adds, &mut writes)?;
            } else {
                // Highest position first (stable: the changes of one position keep their
                // order), so that the committed chunks are asked about each chunk once.
                changes.sort_by_key(|c| std::cmp::Reverse(c.0));
                for (pos, add) in changes {
                    if add {
                        self.postings.insert(&src, &prefix, pos)?;
                    } else {
                        self.postings.remove(&src, &prefix, pos)?;
                    }
                }
            }
        }
        writes.extend(self.postings.writes());
        let mut touched = Vec::new();
        let mut compressor = zstd::bulk::Compressor::new(block::LEVEL).ok();
        for (b, (block, dirty)) in self.blocks {
            if !dirty {
                continue;
            }
            let key = block::key(b).to_vec();
            if block.is_empty() {
                w.delete(Key::new(key)?);
            } else {
                w.put(Key::new(key)?, block.encode_with(compressor.as_mut()));
            }
            touched.push(b);
        }
        for (key, value) in writes {
            match value {
                Some(v) => w.put(Key::new(key)?, v),
                None => w.delete(Key::new(key)?),
            }
        }
        for (key, (delta, display)) in self.facets {
            if delta == 0 {
                continue;
            }
            let old = self.archive.tree.get(&key).map_err(Error::Store)?;
            let (count, display) = match old.as_deref().and_then(keys::parse_facet) {
                Some((count, first)) => (count, first.to_string()),
                None => (0, display),
            };
            let count = count.saturating_add_signed(delta);
            if count == 0 {
                w.delete(Key::new(key)?);
            } else {
                w.put(Key::new(key)?, keys::facet_value(count, &display));
            }
        }
        w.put(Key::new(keys::STATE_KEY)?, self.state.encode());
        Ok(touched)
    }
}
