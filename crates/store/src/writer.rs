//! Writing: bodies prepared in parallel outside any lock, then placed, removed and committed
//! by the one [`Writer`] in one atomic sled batch.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::{Arc, MutexGuard};

use rayon::prelude::*;

use crate::dir::engine_error;
use crate::error::{Error, Result};
use crate::format::{self, Slot, SlotTable, State, TABLE_SLOTS, TAG_RUNS, TAG_SLOTS};
use crate::frame::{Compressors, Dict, check_len};
use crate::id::BlobId;
use crate::index::{self, Entry};
use crate::packfile::{FILE_BYTES, FILE_MAGIC, RECORD_HEADER_LEN, record_header};
use crate::store::{Cache, Seq, Store};
use crate::view::Key;

/// A body hashed and compressed by [`Store::prepare_batch`], ready for [`Writer::place`].
#[derive(Clone, PartialEq, Eq)]
pub struct PreparedBlob {
    /// The body's id.
    pub id: BlobId,
    /// Length of the body.
    pub raw_len: u64,
    pub(crate) slot: Slot,
    pub(crate) frame: Vec<u8>,
}

impl PreparedBlob {
    /// The length of its frame: what it adds to [`crate::Stats::stored_bytes`] when new.
    pub fn stored_len(&self) -> u64 {
        self.frame.len() as u64
    }
}

impl fmt::Debug for PreparedBlob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PreparedBlob")
            .field("id", &self.id)
            .field("raw_len", &self.raw_len)
            .field("codec", &self.slot.codec)
            .field("group", &self.slot.group)
            .field("dict", &self.slot.dict)
            .field("stored_len", &self.frame.len())
            .finish()
    }
}

/// Where [`Writer::place`] put a body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placed {
    /// The body's id.
    pub id: BlobId,
    /// Its sequence number.
    pub seq: Seq,
    /// Whether it is new (false: it was stored, or staged by this writer, already).
    pub new: bool,
}

impl Store {
    /// Hashes and compresses `items` — each a body and its group (an opaque name; "" is the
    /// default group) — on all cores, outside any lock. Each body is compressed with its
    /// group's dictionary, else the default group's, else none.
    ///
    /// Before that, a group without its own dictionary that has at least 1,000 bodies in the
    /// batch gets one, trained on up to 1,000 of them and stored at once (its own small
    /// commit); and when the default group has no dictionary and the bodies left to it (of
    /// groups with no dictionary of their own, not even one trained now) are at least 500 and
    /// 256 KiB, the default group gets one the same way. New group names are stored at once too.
    /// [`Error::TooLarge`] for a body above [`crate::MAX_BLOB_BYTES`].
    pub fn prepare_batch(&self, items: &[(&[u8], &str)]) -> Result<Vec<PreparedBlob>> {
        for (body, _) in items {
            check_len(body.len())?;
        }
        let groups = self.groups_of(items.iter().map(|(_, g)| *g))?;
        self.train_for_batch(items, &groups)?;
        let cache = self.cache();
        self.encode_all(&cache, items.iter().map(|(b, _)| *b).zip(groups))
    }

    /// Hashes and encodes `bodies` with their groups' dictionaries, in parallel.
    pub(crate) fn encode_all<'b>(
        &self,
        cache: &Cache,
        bodies: impl Iterator<Item = (&'b [u8], u16)>,
    ) -> Result<Vec<PreparedBlob>> {
        // In the order of their dictionaries (each body keeps its place in the result): one
        // dictionary's tables stay in the cache while its bodies are compressed. With the
        // bodies of nine services interleaved, compressing took twice as long per body.
        let mut work: Vec<(usize, &[u8], u16, Option<&Dict>)> = bodies
            .enumerate()
            .map(|(i, (b, g))| {
                let d = cache.groups.dict_for(g);
                (i, b, g, cache.dicts.get(&d).map(AsRef::as_ref))
            })
            .collect();
        work.sort_by_key(|(i, _, _, dict)| (dict.map_or(0, |d| d.id), *i));
        let level = self.level();
        // A few chunks per thread, each with its own zstd contexts (creating one costs more
        // than compressing an article).
        let chunk = work
            .len()
            .div_ceil(rayon::current_num_threads() * 4)
            .max(16);
        let chunks: Vec<Result<Vec<(usize, PreparedBlob)>>> = work
            .par_chunks(chunk)
            .map(|part| {
                let mut c = Compressors::new(level);
                part.iter()
                    .map(|(i, body, group, dict)| {
                        let (slot, frame) = c.encode(body, *group, *dict)?;
                        Ok((
                            *i,
                            PreparedBlob {
                                id: BlobId::of(body),
                                raw_len: body.len() as u64,
                                slot,
                                frame,
                            },
                        ))
                    })
                    .collect()
            })
            .collect();
        let mut out: Vec<Option<PreparedBlob>> = Vec::with_capacity(work.len());
        out.resize_with(work.len(), || None);
        for part in chunks {
            for (i, blob) in part? {
                out[i] = Some(blob);
            }
        }
        out.into_iter()
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| Error::Internal("a body of the batch was not encoded".into()))
    }

    /// The group number of each name, storing new groups.
    fn groups_of<'n>(&self, names: impl Iterator<Item = &'n str>) -> Result<Vec<u16>> {
        let names: Vec<&str> = names.collect();
        let cache = self.cache();
        if names.iter().all(|n| cache.groups.by_name.contains_key(*n)) {
            return Ok(names.iter().map(|n| cache.groups.by_name[*n]).collect());
        }
        let _state = self.lock_state();
        let cache = self.cache();
        let mut groups = (*cache.groups).clone();
        let mut batch = sled::Batch::default();
        for name in &names {
            if !groups.by_name.contains_key(*name) {
                // At most 65,536 groups: beyond, bodies go to the default group.
                let Ok(g) = u16::try_from(groups.list.len()) else {
                    continue;
                };
                batch.insert(&format::key_group(g), format::encode_group(0, name));
                groups.by_name.insert((*name).to_owned(), g);
                groups.list.push(((*name).to_owned(), 0));
            }
        }
        self.tree().apply_batch(batch).map_err(engine_error)?;
        let out = names
            .iter()
            .map(|n| groups.by_name.get(*n).copied().unwrap_or(0))
            .collect();
        self.set_cache(Cache {
            groups: Arc::new(groups),
            ..(*cache).clone()
        });
        Ok(out)
    }

    /// The writer: takes the store's writer mutex (waiting for another writer to finish).
    /// Everything it stages is written by [`Writer::commit`] in one atomic batch; dropping it
    /// without committing writes nothing.
    ///
    /// While a thread holds a writer, it must not call the store's writing methods
    /// ([`Store::put`], [`Store::remove`], …): they wait for the writer.
    pub fn writer(&self) -> Writer<'_> {
        let guard = self.lock_writer();
        let cache = self.cache();
        Writer {
            store: self,
            _guard: guard,
            next_seq: cache.state.next_seq,
            cache,
            tables: BTreeMap::new(),
            staged_ids: HashMap::new(),
            new_entries: Vec::new(),
            live: 0,
            raw: 0,
            stored: 0,
            keys: BTreeMap::new(),
            rebuild: None,
            new_file: false,
            removed: false,
        }
    }
}

/// A slot table being edited by a writer.
#[derive(Debug, Clone, Default)]
pub(crate) struct TableEdit {
    pub(crate) slots: Vec<Slot>,
    /// The frame to append for each slot placed or recoded by this writer.
    pub(crate) frames: Vec<Option<Vec<u8>>>,
    pub(crate) ids: Vec<BlobId>,
    pub(crate) slots_changed: bool,
}

/// The one writer of a store ([`Store::writer`]): stages bodies, removals and the caller's
/// own keys, and commits them in one atomic sled batch.
pub struct Writer<'s> {
    store: &'s Store,
    _guard: MutexGuard<'s, ()>,
    cache: Arc<Cache>,
    next_seq: Seq,
    pub(crate) tables: BTreeMap<u32, TableEdit>,
    staged_ids: HashMap<BlobId, Seq>,
    new_entries: Vec<Entry>,
    live: i64,
    raw: i64,
    stored: i64,
    keys: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
    /// Set by optimize: what this commit does to the id index instead of adding a run.
    pub(crate) rebuild: Option<crate::index::Rebuild>,
    /// Set by optimize: this commit's frames start a new pack file (the active one is being
    /// compacted away).
    pub(crate) new_file: bool,
    /// Whether this writer removed a body (the id cache is emptied once it is committed).
    removed: bool,
}

impl fmt::Debug for Writer<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Writer")
            .field("next_seq", &self.next_seq)
            .field("packs", &self.tables.len())
            .field("keys", &self.keys.len())
            .finish_non_exhaustive()
    }
}

impl Writer<'_> {
    /// The slot table `table` as this writer sees it, loaded on first use.
    pub(crate) fn table_mut(&mut self, table: u32) -> Result<&mut TableEdit> {
        if !self.tables.contains_key(&table) {
            let edit = load_table(self.store, table)?;
            self.tables.insert(table, edit);
        }
        self.tables
            .get_mut(&table)
            .ok_or_else(|| Error::Internal("pack vanished".into()))
    }

    /// Places `blob`: when its body is stored (live) or staged already, where it is;
    /// otherwise it gets the next sequence number.
    pub fn place(&mut self, blob: PreparedBlob) -> Result<Placed> {
        let found = self.find(&blob.id)?;
        self.place_found(blob, found)
    }

    /// [`Writer::place`] of every blob, in order, with the same results; the id index is
    /// walked once for the whole batch (each chunk read once), not once per blob.
    pub fn place_many(&mut self, blobs: Vec<PreparedBlob>) -> Result<Vec<Placed>> {
        let mut prefixes: Vec<u64> = blobs
            .iter()
            .filter(|b| !self.staged_ids.contains_key(&b.id))
            .map(|b| index::prefix_of(&b.id))
            .collect();
        prefixes.sort_unstable();
        prefixes.dedup();
        let candidates =
            crate::index::candidates_many(self.store.tree(), &self.cache.runs, &prefixes)
                .map_err(|m| m.0)?;
        let mut out = Vec::with_capacity(blobs.len());
        for blob in blobs {
            let mut found = self.staged_ids.get(&blob.id).copied();
            if found.is_none()
                && let Some(seqs) = candidates.get(&index::prefix_of(&blob.id))
            {
                for &seq in seqs {
                    if self.live_id(seq)? == Some(blob.id) {
                        found = Some(seq);
                        break;
                    }
                }
            }
            out.push(self.place_found(blob, found)?);
        }
        Ok(out)
    }

    /// Places `blob`, stored already at `found` (live) or else new.
    fn place_found(&mut self, blob: PreparedBlob, found: Option<Seq>) -> Result<Placed> {
        if let Some(seq) = found {
            return Ok(Placed {
                id: blob.id,
                seq,
                new: false,
            });
        }
        let seq = self.next_seq;
        let next = seq.checked_add(1).ok_or(Error::Full)?;
        let (table, i) = format::table_of(seq);
        let edit = if i == 0 {
            self.tables.entry(table).or_default()
        } else {
            self.table_mut(table)?
        };
        if edit.slots.len() != i || edit.ids.len() != i {
            return Err(Error::Damaged {
                what: format!(
                    "pack {table} (holds {} slots, expected {i})",
                    edit.slots.len()
                ),
            });
        }
        edit.slots.push(blob.slot);
        edit.frames.push(Some(blob.frame));
        edit.ids.push(blob.id);
        edit.slots_changed = true;
        self.next_seq = next;
        self.staged_ids.insert(blob.id, seq);
        self.new_entries.push((index::prefix_of(&blob.id), seq));
        self.live += 1;
        self.raw += blob.raw_len as i64;
        self.stored += i64::from(blob.slot.frame_len);
        Ok(Placed {
            id: blob.id,
            seq,
            new: true,
        })
    }

    /// The sequence number of the live body `id`, staged ones included (and staged removals
    /// taken into account).
    pub fn find(&mut self, id: &BlobId) -> Result<Option<Seq>> {
        if let Some(seq) = self.staged_ids.get(id) {
            return Ok(Some(*seq));
        }
        let p = index::prefix_of(id);
        let seqs = crate::index::candidates_in(self.store.tree(), &self.cache.runs, p, p)
            .map_err(|m| m.0)?;
        for seq in seqs {
            if self.live_id(seq)? == Some(*id) {
                return Ok(Some(seq));
            }
        }
        Ok(None)
    }

    /// The id at `seq` when its slot is live, as this writer sees it.
    fn live_id(&mut self, seq: Seq) -> Result<Option<BlobId>> {
        if seq >= self.next_seq {
            return Ok(None);
        }
        let (table, i) = format::table_of(seq);
        if let Some(edit) = self.tables.get(&table) {
            return Ok(match (edit.slots.get(i), edit.ids.get(i)) {
                (Some(slot), Some(id)) if !slot.is_removed() => Some(*id),
                _ => None,
            });
        }
        Ok(self.store.locate_seq(seq)?.map(|loc| loc.id))
    }

    /// Removes the body at `seq`: its slot is marked removed and its frame dropped. Whether a
    /// live body was there.
    pub fn remove(&mut self, seq: Seq) -> Result<bool> {
        if seq >= self.next_seq {
            return Ok(false);
        }
        let (table, i) = format::table_of(seq);
        let edit = self.table_mut(table)?;
        let (Some(slot), Some(id)) = (edit.slots.get_mut(i), edit.ids.get(i).copied()) else {
            return Ok(false);
        };
        if slot.is_removed() {
            return Ok(false);
        }
        let (raw, stored) = (slot.raw_len, slot.frame_len);
        *slot = Slot::REMOVED;
        edit.frames[i] = None;
        edit.slots_changed = true;
        if self.staged_ids.get(&id) == Some(&seq) {
            self.staged_ids.remove(&id);
        }
        self.live -= 1;
        self.removed = true;
        self.raw -= i64::from(raw);
        self.stored -= i64::from(stored);
        Ok(true)
    }

    /// Replaces the frame of the live slot `seq` with `blob`'s (which must be the same body):
    /// for optimize.
    pub(crate) fn recode(&mut self, seq: Seq, blob: PreparedBlob) -> Result<()> {
        let (table, i) = format::table_of(seq);
        let edit = self.table_mut(table)?;
        match (edit.slots.get_mut(i), edit.ids.get(i)) {
            (Some(slot), Some(id)) if *id == blob.id && !slot.is_removed() => {
                let before = i64::from(slot.frame_len);
                *slot = blob.slot;
                edit.frames[i] = Some(blob.frame);
                edit.slots_changed = true;
                self.stored += i64::from(slot.frame_len) - before;
                Ok(())
            }
            _ => Err(Error::Internal(format!(
                "slot {seq} changed under optimize"
            ))),
        }
    }

    /// Stages `value` under a caller's key (read back through [`Store::view`] once committed).
    pub fn put(&mut self, key: Key, value: Vec<u8>) {
        self.keys.insert(key.into_bytes(), Some(value));
    }

    /// Stages the deletion of a caller's key.
    pub fn delete(&mut self, key: Key) {
        self.keys.insert(key.into_bytes(), None);
    }

    /// What this writer staged for a caller key: `None` when nothing, `Some(None)` when a
    /// deletion, `Some(Some(value))` when a value.
    #[cfg(test)]
    #[allow(clippy::option_option)]
    pub(crate) fn staged(&self, key: &[u8]) -> Option<Option<&[u8]>> {
        self.keys.get(key).map(Option::as_deref)
    }

    /// Writes everything staged in ONE atomic sled batch (with the index run, its merges and
    /// the store state), then updates the store's caches. On error nothing was written and
    /// the caches are as before. Not durable until [`Store::flush`].
    pub fn commit(mut self) -> Result<()> {
        let store = self.store;
        let tree = store.tree();
        // The frames first: appended to the active pack file and synced, so that sled never
        // points at bytes that are not durable.
        let (file, file_len) = self.append_frames()?;
        let mut batch = sled::Batch::default();
        for (key, value) in self.keys {
            match value {
                Some(v) => batch.insert(key, v),
                None => batch.remove(key),
            }
        }
        for (table, edit) in &self.tables {
            if edit.slots_changed {
                batch.insert(
                    &format::key_numbered(TAG_SLOTS, *table),
                    format::encode_slot_table(&edit.slots),
                );
            }
        }

        let _state = store.lock_state();
        let current = store.cache();
        let mut state = State {
            next_seq: self.next_seq,
            next_dict: current.state.next_dict,
            file,
            file_len,
            ..current.state
        };
        state.live = apply_delta(state.live, self.live)?;
        state.raw_bytes = apply_delta(state.raw_bytes, self.raw)?;
        state.stored_bytes = apply_delta(state.stored_bytes, self.stored)?;
        let runs = index::stage(
            tree,
            &mut batch,
            &mut state,
            &current.runs,
            self.new_entries,
            self.rebuild,
            self.store.max_run_entries(),
        )?;
        if runs != *current.runs {
            batch.insert(&[TAG_RUNS], index::encode_runs(&runs));
        }
        if state != current.state {
            batch.insert(&format::key_state(), state.encode());
        }
        // Whatever happens to the batch, a removal makes the cached ids suspect.
        let applied = tree.apply_batch(batch).map_err(engine_error);
        if self.removed {
            store.id_cache().invalidate();
        }
        applied?;
        store.set_cache(Cache {
            state,
            runs: Arc::new(runs),
            dicts: Arc::clone(&current.dicts),
            groups: Arc::clone(&current.groups),
        });
        Ok(())
    }
}

impl Writer<'_> {
    /// Appends the frames this writer placed or recoded to the active pack file (a new one
    /// once it holds [`FILE_BYTES`]), syncs it, and points their slots at them. Returns the
    /// active file and its new length. Writes at the committed length: whatever a failed
    /// commit left beyond it is overwritten.
    fn append_frames(&mut self) -> Result<(u32, u64)> {
        let state = self.cache.state;
        let (mut file, mut len) = (state.file, state.file_len);
        let pending: usize = self
            .tables
            .values()
            .flat_map(|e| e.frames.iter().flatten())
            .map(|f| RECORD_HEADER_LEN + f.len())
            .sum();
        if pending == 0 {
            return Ok((file, len));
        }
        if len > FILE_MAGIC.len() as u64 && (self.new_file || len + pending as u64 > FILE_BYTES) {
            file = file
                .checked_add(1)
                .ok_or_else(|| Error::Internal("no pack file numbers left".into()))?;
            len = 0;
        }
        let start = len;
        let mut buf = Vec::with_capacity(pending + FILE_MAGIC.len());
        if len == 0 {
            buf.extend_from_slice(&FILE_MAGIC);
        }
        for (table, edit) in &mut self.tables {
            let TableEdit {
                slots, frames, ids, ..
            } = edit;
            // Each frame is dropped once copied: nothing reads it after, and the commit's
            // sled batch is then applied without the batch's frames in memory.
            for (i, (slot, frame)) in slots.iter_mut().zip(frames.iter_mut()).enumerate() {
                let Some(frame) = frame.take() else { continue };
                slot.file = file;
                slot.offset = start + buf.len() as u64;
                let seq = table * TABLE_SLOTS + i as u32;
                buf.extend_from_slice(&record_header(&ids[i], seq, slot));
                buf.extend_from_slice(&frame);
            }
        }
        self.store.files().write_at(file, start, &buf)?;
        len = start + buf.len() as u64;
        Ok((file, len))
    }
}

fn apply_delta(value: u64, delta: i64) -> Result<u64> {
    value
        .checked_add_signed(delta)
        .ok_or_else(|| Error::Damaged {
            what: "store state (counts)".into(),
        })
}

/// Loads the slot table of `table` and the ids of its live slots for editing (an empty edit
/// when it does not exist yet). A slot whose record is damaged gets the id of zeros: it is
/// left as it is, and no lookup finds it.
pub(crate) fn load_table(store: &Store, table: u32) -> Result<TableEdit> {
    let Some(value) = store
        .tree()
        .get(format::key_numbered(TAG_SLOTS, table))
        .map_err(engine_error)?
    else {
        return Ok(TableEdit::default());
    };
    let decoded = SlotTable::decode(table, &value)?;
    let mut ids = Vec::with_capacity(decoded.slots.len());
    for (i, slot) in decoded.slots.iter().enumerate() {
        let id = if slot.is_removed() {
            None
        } else {
            store.record_id(table * TABLE_SLOTS + i as u32, slot)?
        };
        ids.push(id.unwrap_or(BlobId::from_bytes([0; 32])));
    }
    Ok(TableEdit {
        frames: vec![None; decoded.slots.len()],
        slots: decoded.slots,
        ids,
        slots_changed: false,
    })
}
