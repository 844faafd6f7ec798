//! The blob store: bodies in slot tables of 64 sequence numbers, the id index, reads.

use std::collections::HashMap;
use std::fmt;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};
use std::time::Duration;

use crate::dir::{Database, TREE, engine_error};
use crate::error::{Error, Result};
use crate::format::{self, Slot, SlotTable, State, TAG_DICT, TAG_GROUP, TAG_SLOTS};
use crate::frame::{self, Dict};
use crate::id::{BlobId, Prefix};
use crate::index::{self, Missing, Run, candidates_in, prefix_range, read_runs};
use crate::packfile::{Files, RECORD_HEADER_LEN, header_id, record_header};
use crate::view::{Legacy, View};

/// A sequence number: the position of a body in the archive, given densely (0, 1, 2, …) by
/// the store when it first stores the body, never reused for another body.
pub type Seq = u32;

/// How to open an archive directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// Create the directory and archive when missing (default true). Read-only commands pass false.
    pub create: bool,
    /// How long to wait for another process to release the archive (default: do not wait:
    /// [`Error::Locked`] at once).
    pub wait: Option<Duration>,
    /// zstd level for new frames (default 3).
    pub zstd_level: i32,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            create: true,
            wait: None,
            zstd_level: 3,
        }
    }
}

/// Integrity check outcome ([`Store::verify`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct VerifyReport {
    /// Bodies checked (live slots), plus keys found malformed.
    pub checked: u64,
    /// Ids of bodies that failed: their frame does not decode or does not hash to the id.
    pub corrupted: Vec<BlobId>,
    /// Keys of the store (uppercase tags) that name nothing the store knows.
    pub malformed_keys: Vec<Vec<u8>>,
    /// Live bodies the id index does not find.
    pub unindexed: Vec<BlobId>,
    /// Index entries that point at no slot, or at a slot of another id.
    pub bad_index_entries: u64,
    /// Values that do not decode (slot tables, index chunks, the state…), described.
    pub damaged: Vec<String>,
}

impl VerifyReport {
    /// Whether nothing was found wrong.
    pub fn is_clean(&self) -> bool {
        self.corrupted.is_empty()
            && self.malformed_keys.is_empty()
            && self.unindexed.is_empty()
            && self.bad_index_entries == 0
            && self.damaged.is_empty()
    }
}

/// Sizes of the store.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Number of bodies stored (and not removed).
    pub blobs: u64,
    /// Sum of their lengths.
    pub raw_bytes: u64,
    /// Sum of their stored (compressed) lengths, frames only.
    pub stored_bytes: u64,
}

/// The blob store: content-addressed, compressed bodies in one archive directory.
///
/// Cheap to clone; every clone shares the database and the caches. Dropping the last handle
/// releases the directory.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Shared>,
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.inner.db.path())
            .field("level", &self.inner.level)
            .finish_non_exhaustive()
    }
}

/// What every clone of a [`Store`] shares.
struct Shared {
    // The tree first: it is dropped before the database it belongs to.
    tree: sled::Tree,
    db: Database,
    level: i32,
    /// Held by the one [`crate::Writer`].
    writer: Mutex<()>,
    /// Held while the state `S` is written and the cache replaced (a commit, a dictionary).
    state_lock: Mutex<()>,
    cache: RwLock<Arc<Cache>>,
    /// The pack files holding the frames.
    files: Files,
    /// Ids of live seqs recently confirmed by [`Store::id_at`].
    ids: Mutex<IdCache>,
    /// Bodies kept for dictionaries not trained yet.
    samples: Mutex<crate::train::Samples>,
    /// The bound on index runs made by merging ([`crate::index::MAX_RUN_ENTRIES`]; smaller in
    /// tests).
    max_run_entries: std::sync::atomic::AtomicU64,
}

/// At most this many seq -> id pairs are kept by [`IdCache`] (about 6 MB with the reverse map);
/// when full, it starts over.
const ID_CACHE_LEN: usize = 65_536;

/// Ids that [`Store::id_at`] read from checked record headers, so that listing the same
/// articles again costs no pack-file read. A seq's id never changes; a commit that removes a
/// body empties the cache and bumps `generation`, and a reader caches what it read only if no
/// such commit happened meanwhile.
///
/// `seqs` is the same pairs the other way round: where [`Store::get`] looks first for a body
/// just listed (a search's snippets), before it walks the id index, whose cold reads are a
/// sled leaf of index chunks per id. Only a hint: the slot it names is read and must hold that
/// id, else the index is walked.
#[derive(Debug, Default)]
pub(crate) struct IdCache {
    map: HashMap<Seq, BlobId>,
    seqs: HashMap<BlobId, Seq>,
    generation: u64,
}

impl IdCache {
    /// Forgets everything (a body was removed).
    pub(crate) fn invalidate(&mut self) {
        self.map.clear();
        self.seqs.clear();
        self.generation += 1;
    }

    /// Keeps `seq -> id` both ways; when full, starts over.
    fn insert(&mut self, seq: Seq, id: BlobId) {
        if self.map.len() >= ID_CACHE_LEN {
            self.map.clear();
            self.seqs.clear();
        }
        self.map.insert(seq, id);
        self.seqs.insert(id, seq);
    }
}

/// What the store keeps in memory of the tree: replaced whole after each successful write.
#[derive(Debug, Clone)]
pub(crate) struct Cache {
    pub(crate) state: State,
    /// The index runs, oldest first.
    pub(crate) runs: Arc<Vec<Run>>,
    pub(crate) dicts: Arc<HashMap<u32, Arc<Dict>>>,
    pub(crate) groups: Arc<Groups>,
}

/// The groups of the archive.
#[derive(Debug, Clone, Default)]
pub(crate) struct Groups {
    /// Name and dictionary (0: none) of each group, by group number.
    pub(crate) list: Vec<(String, u32)>,
    pub(crate) by_name: HashMap<String, u16>,
}

impl Groups {
    /// The dictionary for bodies of `group`: its own, else the default group's.
    pub(crate) fn dict_for(&self, group: u16) -> u32 {
        match self.list.get(usize::from(group)) {
            Some((_, d)) if *d != 0 => *d,
            _ => self.list.first().map_or(0, |(_, d)| *d),
        }
    }
}

/// A live slot found by a read.
pub(crate) struct Located {
    pub(crate) seq: Seq,
    pub(crate) id: BlobId,
    pub(crate) slot: Slot,
}

impl Located {
    pub(crate) fn slot(&self) -> Slot {
        self.slot
    }
}

/// Walks of the id index, at most, while concurrent commits keep replacing the runs under them
/// (each retry means a commit went through meanwhile; a chunk missing from a directory that did
/// not change is damage at once).
const READ_ATTEMPTS: usize = 1000;

impl Store {
    /// Opens the archive at `dir`, creating it (and the directory) when missing.
    pub fn open(dir: impl AsRef<Path>) -> Result<Store> {
        Store::open_with(dir, &Options::default())
    }

    /// Opens the archive at `dir` with `options`. A format-1 archive that holds only blobs is
    /// upgraded first; one with article records is refused with [`Error::UpgradeNeedsArchive`]
    /// (the caller that owns the records upgrades it with [`Store::open_upgrading`]).
    pub fn open_with(dir: impl AsRef<Path>, options: &Options) -> Result<Store> {
        Store::open_inner(
            dir.as_ref(),
            options,
            crate::migrate::refuse_archive_trees,
            crate::migrate::upgrade_blobs,
        )
        .map(|(store, _)| store)
    }

    /// Opens the archive at `dir` like [`Store::open_with`], upgrading a format-1 archive with
    /// `upgrade`: it gets the (empty) format-2 store and the [`Legacy`] trees, and copies what
    /// it keeps into the store through [`Store::writer`]. Only once it returns `Ok` is
    /// everything flushed and the header changed to the current version (atomically); then
    /// the format-1 trees are dropped. When it fails, or the process dies meanwhile, the
    /// archive stays format 1 and the next open starts the upgrade over, on an empty store.
    ///
    /// Returns the store and the version it was upgraded from (`None`: it was current).
    /// A current archive never calls `upgrade`; one that still holds format-1 trees (an
    /// upgrade interrupted after its header change) has them dropped.
    pub fn open_upgrading<E: From<Error>>(
        dir: impl AsRef<Path>,
        options: &Options,
        upgrade: impl FnOnce(&Store, &Legacy) -> Result<(), E>,
    ) -> Result<(Store, Option<u32>), E> {
        Store::open_inner(dir.as_ref(), options, |_| Ok(()), upgrade)
    }

    /// [`Store::open_upgrading`], with `check` of a format-1 database before anything of it is
    /// touched.
    fn open_inner<E: From<Error>>(
        dir: &Path,
        options: &Options,
        check: impl FnOnce(&Database) -> Result<()>,
        upgrade: impl FnOnce(&Store, &Legacy) -> Result<(), E>,
    ) -> Result<(Store, Option<u32>), E> {
        let db = Database::open(dir, options)?;
        let version = db.version();
        if version == crate::FORMAT_VERSION {
            crate::migrate::drop_legacy_trees(&db)?;
            return Ok((Store::on(db, options.zstd_level)?, None));
        }
        check(&db)?;
        // Whatever an interrupted upgrade left in the shared tree: the upgrade starts over.
        db.sled()
            .open_tree(TREE)
            .and_then(|t| t.clear())
            .map_err(engine_error)?;
        let store = Store::on(db.clone(), options.zstd_level)?;
        upgrade(&store, &Legacy::new(db.clone()))?;
        store.flush()?;
        db.set_version(crate::FORMAT_VERSION)?;
        crate::migrate::drop_legacy_trees(&db)?;
        db.flush()?;
        Ok((store, Some(version)))
    }

    /// The store of an open database: the `morgue` tree (created, with an empty store state, if
    /// missing). New frames are compressed at `zstd_level`. On a database of format 1 nothing
    /// of format 1 is touched: the caller upgrades it (clearing any leftover `morgue` tree
    /// first, before calling this).
    pub(crate) fn on(db: Database, zstd_level: i32) -> Result<Store> {
        let tree = db.sled().open_tree(TREE).map_err(engine_error)?;
        let files = Files::new(db.path(), db.read_only());
        if tree
            .get(format::key_state())
            .map_err(engine_error)?
            .is_none()
        {
            // No store state: a new store, or the leftovers of an upgrade being redone.
            // Pack files with data then are those leftovers, or the sign that sled lost the
            // archive's state: never cut them silently.
            let mut holding = 0;
            for n in files.numbers()? {
                holding += files.len(n)?.unwrap_or(0);
            }
            if holding > 0 {
                if db.version() == crate::FORMAT_VERSION {
                    return Err(Error::Damaged {
                        what: format!(
                            "store state (missing, while the pack files hold {holding} bytes)"
                        ),
                    });
                }
                for n in files.numbers()? {
                    files.remove(n)?;
                }
            }
        }
        let cache = load(&tree, zstd_level)?;
        files.recover(cache.state.file, cache.state.file_len)?;
        Ok(Store {
            inner: Arc::new(Shared {
                tree,
                db,
                level: zstd_level,
                writer: Mutex::new(()),
                state_lock: Mutex::new(()),
                cache: RwLock::new(Arc::new(cache)),
                files,
                ids: Mutex::default(),
                samples: Mutex::default(),
                max_run_entries: crate::index::MAX_RUN_ENTRIES.into(),
            }),
        })
    }

    /// A read view of the callers' keys (lowercase tags) of the shared tree, written through
    /// [`crate::Writer::put`]. Drop it before [`Store::close`].
    pub fn view(&self) -> View {
        View::callers(self.inner.tree.clone())
    }

    /// The shared tree, whole (the store's own keys and the callers').
    pub(crate) fn tree(&self) -> &sled::Tree {
        &self.inner.tree
    }

    /// The zstd level of new frames.
    pub(crate) fn level(&self) -> i32 {
        self.inner.level
    }

    /// The pack files.
    pub(crate) fn files(&self) -> &Files {
        &self.inner.files
    }

    /// The bodies kept for dictionaries not trained yet.
    pub(crate) fn samples(&self) -> MutexGuard<'_, crate::train::Samples> {
        self.inner
            .samples
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Held while the state `S` is written and the cache replaced (a commit, a dictionary).
    pub(crate) fn lock_state(&self) -> MutexGuard<'_, ()> {
        self.inner
            .state_lock
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Held by the one [`crate::Writer`].
    pub(crate) fn lock_writer(&self) -> MutexGuard<'_, ()> {
        self.inner
            .writer
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// The database this store lives in.
    pub(crate) fn database(&self) -> &Database {
        &self.inner.db
    }

    /// The archive directory.
    pub fn path(&self) -> &Path {
        self.inner.db.path()
    }

    /// Whether the archive was opened read-only: its directory cannot be written (a read-only
    /// mount or missing permission), so sled runs on a private copy of its files and nothing
    /// written reaches the archive (a commit fails on its pack file).
    pub fn read_only(&self) -> bool {
        self.inner.db.read_only()
    }

    /// The size on disk of the archive directory: the sum of the lengths of its files.
    pub fn disk_bytes(&self) -> Result<u64> {
        self.inner.db.disk_bytes()
    }

    /// Makes everything written so far durable.
    pub fn flush(&self) -> Result<()> {
        self.inner.db.flush()
    }

    /// Flushes and closes the archive, leaving a fresh sled snapshot behind so that the next
    /// open does not replay the log (and, after [`Store::optimize`], with sled rewritten
    /// afresh). For the end of a command that wrote. This must be the last handle: no clone
    /// of this store and no [`View`] of it alive ([`Error::StillOpen`] otherwise, after a
    /// flush).
    pub fn close(self) -> Result<()> {
        self.flush()?;
        let shared = Arc::try_unwrap(self.inner).map_err(|_| Error::StillOpen)?;
        let Shared { tree, db, .. } = shared;
        drop(tree);
        db.close()
    }

    pub(crate) fn cache(&self) -> Arc<Cache> {
        Arc::clone(
            &self
                .inner
                .cache
                .read()
                .unwrap_or_else(PoisonError::into_inner),
        )
    }

    pub(crate) fn set_cache(&self, cache: Cache) {
        *self
            .inner
            .cache
            .write()
            .unwrap_or_else(PoisonError::into_inner) = Arc::new(cache);
    }

    /// Stores `bytes` (group "") and returns their id. Storing the same bytes again changes
    /// nothing (a damaged stored copy is not repaired: [`Store::verify`] reports it; remove it,
    /// then store it again). [`Error::TooLarge`] above [`crate::MAX_BLOB_BYTES`].
    ///
    /// One commit per call: to store many, [`Store::put_many`] or a [`crate::Writer`].
    pub fn put(&self, bytes: &[u8]) -> Result<BlobId> {
        let ids = self.put_many(&[bytes])?;
        ids.into_iter()
            .next()
            .ok_or_else(|| Error::Internal("put stored nothing".into()))
    }

    /// Stores `bodies` (group "") in one commit; their ids in the same order.
    pub fn put_many(&self, bodies: &[&[u8]]) -> Result<Vec<BlobId>> {
        let items: Vec<(&[u8], &str)> = bodies.iter().map(|b| (*b, "")).collect();
        let prepared = self.prepare_batch(&items)?;
        let mut writer = self.writer();
        let ids = writer
            .place_many(prepared)?
            .into_iter()
            .map(|p| p.id)
            .collect();
        writer.commit()?;
        Ok(ids)
    }

    /// Removes the body `id`; whether it was there. Its slot is marked removed and its frame
    /// dropped; its sequence number is never given to another body.
    pub fn remove(&self, id: &BlobId) -> Result<bool> {
        let mut writer = self.writer();
        let Some(seq) = writer.find(id)? else {
            return Ok(false);
        };
        let removed = writer.remove(seq)?;
        writer.commit()?;
        Ok(removed)
    }

    /// The bytes of body `id`, or `None` when it is not stored. They are re-hashed:
    /// [`Error::Corrupted`] when the stored frame does not decode or does not match the id.
    pub fn get(&self, id: &BlobId) -> Result<Option<Vec<u8>>> {
        match self.locate_id(id)? {
            Some(loc) => self.read_body(&loc).map(Some),
            None => Ok(None),
        }
    }

    /// Whether body `id` is stored (its frame is not checked).
    pub fn contains(&self, id: &BlobId) -> Result<bool> {
        Ok(self.locate_id(id)?.is_some())
    }

    /// The sequence number of the stored body `id` (live bodies only). [`Error::Corrupted`]
    /// when a slot that may be its is damaged.
    pub fn seq_of(&self, id: &BlobId) -> Result<Option<Seq>> {
        Ok(self.locate_id(id)?.map(|loc| loc.seq))
    }

    /// The id of the body at `seq`, when one is stored there and not removed.
    /// [`Error::Damaged`] when its slot table does not decode, or when its record header fails
    /// its check or does not match the slot (a damaged header never yields an id).
    pub fn id_at(&self, seq: Seq) -> Result<Option<BlobId>> {
        let generation = {
            let cache = self.id_cache();
            if let Some(id) = cache.map.get(&seq) {
                return Ok(Some(*id));
            }
            cache.generation
        };
        // The id is the record header's: its check holds (a damaged header is `Damaged`), so
        // it is the id that was stored, without a lookup in the id index (which, cold, reads a
        // leaf of index chunks for each id: most of a cold `list` at 10M).
        let Some(id) = self.locate_seq(seq)?.map(|loc| loc.id) else {
            return Ok(None);
        };
        let mut cache = self.id_cache();
        if cache.generation == generation {
            cache.insert(seq, id);
        }
        Ok(Some(id))
    }

    pub(crate) fn id_cache(&self) -> MutexGuard<'_, IdCache> {
        self.inner
            .ids
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether the index maps `id` (its 8-byte prefix) to `seq`: the check of an id read from
    /// a record, against the copy of its prefix the index keeps.
    pub(crate) fn indexed(&self, id: &BlobId, seq: Seq) -> Result<bool> {
        let p = index::prefix_of(id);
        let cached = Arc::clone(&self.cache().runs);
        if self
            .candidates_from(Arc::clone(&cached), p, p)?
            .contains(&seq)
        {
            return Ok(true);
        }
        // A commit applies its batch (the new slots and index runs) before it updates the
        // cache: a reader in between sees the slot but not yet its entry. Ask the run
        // directory the tree holds now before calling the record damaged.
        let fresh = read_runs(&self.inner.tree)?;
        if fresh == *cached {
            return Ok(false);
        }
        Ok(self.candidates_from(Arc::new(fresh), p, p)?.contains(&seq))
    }

    /// The bytes of the body at `seq` (live bodies only), re-hashed like [`Store::get`].
    /// [`Error::Damaged`] when its slot table or record does not decode, or when the body does
    /// not match and the record's id is not the one the index has (its id is then unknown).
    pub fn get_at(&self, seq: Seq) -> Result<Option<Vec<u8>>> {
        match self.locate_seq(seq)? {
            Some(loc) => match self.read_body(&loc) {
                // The id came from the record: name it only if the index confirms it.
                Err(Error::Corrupted { id }) if !self.indexed(&id, seq)? => {
                    Err(damaged_record(seq))
                }
                other => other.map(Some),
            },
            None => Ok(None),
        }
    }

    /// Every live body, `(seq, id)` in sequence order. A slot table that does not decode, or
    /// a record that does not match its slot, yields an [`Error::Damaged`] and the walk goes on.
    pub fn live(&self) -> impl Iterator<Item = Result<(Seq, BlobId)>> + '_ {
        self.inner
            .tree
            .scan_prefix([TAG_SLOTS])
            .flat_map(move |kv| match self.live_of_table(kv) {
                Ok(v) => v,
                Err(e) => vec![Err(e)],
            })
    }

    fn live_of_table(
        &self,
        kv: sled::Result<(sled::IVec, sled::IVec)>,
    ) -> Result<Vec<Result<(Seq, BlobId)>>> {
        let (key, value) = kv.map_err(engine_error)?;
        let table = key_number(&key).ok_or_else(|| Error::Damaged {
            what: format!("key {key:02x?}"),
        })?;
        let slots = SlotTable::decode(table, &value)?.slots;
        Ok(slots
            .iter()
            .enumerate()
            .filter(|(_, slot)| !slot.is_removed())
            .map(|(i, slot)| {
                let seq = table * format::TABLE_SLOTS + i as u32;
                match self.record_id(seq, slot)? {
                    Some(id) => Ok((seq, id)),
                    None => Err(damaged_record(seq)),
                }
            })
            .collect())
    }

    /// The id in the record of the live slot `seq`: `None` when the record cannot be read or
    /// does not match the slot.
    pub(crate) fn record_id(&self, seq: Seq, slot: &Slot) -> Result<Option<BlobId>> {
        match self
            .inner
            .files
            .read_at(slot.file, slot.offset, RECORD_HEADER_LEN)
        {
            Ok(header) => Ok(header_id(&header, seq, slot)),
            Err(Error::Io { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The most entries an index run gets by merging.
    pub(crate) fn max_run_entries(&self) -> u64 {
        self.inner
            .max_run_entries
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Sets [`Store::max_run_entries`] (tests: many runs from few bodies).
    #[cfg(test)]
    pub(crate) fn set_max_run_entries(&self, n: u64) {
        self.inner
            .max_run_entries
            .store(n, std::sync::atomic::Ordering::Relaxed);
    }

    /// The ids of all stored bodies, in id order.
    #[cfg(test)]
    pub(crate) fn ids(&self) -> impl Iterator<Item = Result<BlobId>> + '_ {
        let ids: Result<Vec<BlobId>> = self.live().map(|r| r.map(|(_, id)| id)).collect();
        let out: Vec<Result<BlobId>> = match ids {
            Ok(mut ids) => {
                ids.sort_unstable();
                ids.into_iter().map(Ok).collect()
            }
            Err(e) => vec![Err(e)],
        };
        out.into_iter()
    }

    /// The one stored body whose id starts with `prefix`: 4 to 64 hex characters, either case.
    ///
    /// [`Error::InvalidId`] for anything else, [`Error::NotFound`] when no body matches,
    /// [`Error::Ambiguous`] with every match (sorted) when several do.
    pub fn resolve(&self, prefix: &str) -> Result<BlobId> {
        self.resolve_where(prefix, |_| Ok(true))
    }

    /// [`Store::resolve`] among the bodies whose sequence number `keep` accepts (the others
    /// are as if absent).
    pub fn resolve_where(
        &self,
        prefix: &str,
        mut keep: impl FnMut(Seq) -> Result<bool>,
    ) -> Result<BlobId> {
        let prefix = Prefix::parse(prefix)?;
        let (lo, hi) = prefix_range(&prefix);
        let mut candidates = Vec::new();
        for seq in self.candidates(lo, hi)? {
            if let Some(loc) = self.locate_seq(seq)?
                && prefix.matches(loc.id.as_bytes())
                && keep(seq)?
            {
                candidates.push(loc.id);
            }
        }
        candidates.sort_unstable();
        candidates.dedup();
        match candidates.len() {
            0 => Err(Error::NotFound {
                prefix: prefix.text,
            }),
            1 => Ok(candidates[0]),
            _ => Err(Error::Ambiguous {
                prefix: prefix.text,
                candidates,
            }),
        }
    }

    /// The stored (compressed) length of the live body at `seq`, if any: what it adds to
    /// [`Stats::stored_bytes`].
    pub fn stored_len_at(&self, seq: Seq) -> Result<Option<u64>> {
        Ok(self
            .locate_seq(seq)?
            .map(|loc| u64::from(loc.slot.frame_len)))
    }

    /// Number of bodies and their raw and stored sizes (from the store state).
    pub fn stats(&self) -> Result<Stats> {
        let s = self.cache().state;
        Ok(Stats {
            blobs: s.live,
            raw_bytes: s.raw_bytes,
            stored_bytes: s.stored_bytes,
        })
    }

    /// The live slot at `seq`: `None` when there is none (never used, or removed);
    /// [`Error::Damaged`] when its slot table or record does not decode.
    pub(crate) fn locate_seq(&self, seq: Seq) -> Result<Option<Located>> {
        let (table, i) = format::table_of(seq);
        let Some(value) = self
            .inner
            .tree
            .get(format::key_numbered(TAG_SLOTS, table))
            .map_err(engine_error)?
        else {
            return Ok(None);
        };
        let decoded = SlotTable::decode(table, &value)?;
        match decoded.slots.get(i) {
            Some(slot) if !slot.is_removed() => match self.record_id(seq, slot)? {
                Some(id) => Ok(Some(Located {
                    seq,
                    id,
                    slot: *slot,
                })),
                None => Err(damaged_record(seq)),
            },
            _ => Ok(None),
        }
    }

    /// The live slot of `id`. [`Error::Corrupted`] when a slot that may be its (an index
    /// candidate) is damaged and no other is its.
    pub(crate) fn locate_id(&self, id: &BlobId) -> Result<Option<Located>> {
        let hint = self.id_cache().seqs.get(id).copied();
        if let Some(seq) = hint
            && let Ok(Some(loc)) = self.locate_seq(seq)
            && loc.id == *id
        {
            return Ok(Some(loc));
        }
        let p = index::prefix_of(id);
        let mut damaged = false;
        for seq in self.candidates(p, p)? {
            match self.locate_seq(seq) {
                Ok(Some(loc)) if loc.id == *id => return Ok(Some(loc)),
                // The index says this slot's id starts like `id`: a record saying otherwise
                // is damaged (or the index is).
                Ok(Some(loc)) if index::prefix_of(&loc.id) != p => damaged = true,
                Ok(_) => {}
                Err(Error::Damaged { .. }) => damaged = true,
                Err(e) => return Err(e),
            }
        }
        if damaged {
            return Err(Error::Corrupted { id: *id });
        }
        Ok(None)
    }

    /// The sequence numbers of the index entries whose prefix is in `lo..=hi`, newest run
    /// first. Retries when a commit replaced a run under the walk.
    ///
    /// A chunk found missing means a commit merged its run away after this reader took the
    /// run directory (the cached one, replaced just after the commit's batch, or one read from
    /// the tree, which a sled batch replaces together with the chunks): the walk is retried
    /// with the directory read from the tree again, as long as it changed. A chunk missing
    /// while the directory stays the same is damage.
    pub(crate) fn candidates(&self, lo: u64, hi: u64) -> Result<Vec<Seq>> {
        self.candidates_from(Arc::clone(&self.cache().runs), lo, hi)
    }

    /// [`Store::candidates`] starting from the run directory `runs`.
    fn candidates_from(&self, mut runs: Arc<Vec<Run>>, lo: u64, hi: u64) -> Result<Vec<Seq>> {
        let mut attempt = 0;
        loop {
            match candidates_in(&self.inner.tree, &runs, lo, hi) {
                Ok(seqs) => return Ok(seqs),
                Err(Missing(what)) => {
                    let fresh = read_runs(&self.inner.tree)?;
                    // The directory still lists the run that lost its chunk: no commit merged
                    // it away (run numbers are never reused), so the chunk is really gone.
                    attempt += 1;
                    if fresh == *runs || attempt >= READ_ATTEMPTS {
                        return Err(what);
                    }
                    runs = Arc::new(fresh);
                    std::thread::yield_now();
                }
            }
        }
    }

    /// The dictionary `id`, from the cache or else the tree.
    pub(crate) fn dict(&self, id: u32) -> Result<Option<Arc<Dict>>> {
        if let Some(d) = self.cache().dicts.get(&id) {
            return Ok(Some(Arc::clone(d)));
        }
        match self
            .inner
            .tree
            .get(format::key_dict(id))
            .map_err(engine_error)?
        {
            Some(v) => Ok(Some(Arc::new(Dict::new(
                id,
                format::decode_dict(id, &v)?.to_vec(),
                self.inner.level,
            )))),
            None => Ok(None),
        }
    }

    /// The frame of the live slot `seq` (of body `id`), from its pack file, with the record
    /// header checked against the slot: [`Error::Corrupted`] when they differ.
    pub(crate) fn frame(&self, seq: Seq, id: &BlobId, slot: &Slot) -> Result<Vec<u8>> {
        let mut record = self.inner.files.read_at(
            slot.file,
            slot.offset,
            RECORD_HEADER_LEN + slot.frame_len as usize,
        )?;
        if record[..RECORD_HEADER_LEN] != record_header(id, seq, slot) {
            return Err(Error::Corrupted { id: *id });
        }
        Ok(record.split_off(RECORD_HEADER_LEN))
    }

    /// [`Store::body`], once more with the slot read again when it fails: `optimize` may have
    /// moved the frame (and deleted its old file) since the slot was read.
    fn read_body(&self, loc: &Located) -> Result<Vec<u8>> {
        match self.body(loc) {
            Err(Error::Corrupted { id }) => match self.locate_seq(loc.seq)? {
                Some(again) if again.slot != loc.slot => self.body(&again),
                _ => Err(Error::Corrupted { id }),
            },
            other => other,
        }
    }

    /// Decodes and re-hashes the body of a located slot.
    pub(crate) fn body(&self, loc: &Located) -> Result<Vec<u8>> {
        let slot = loc.slot();
        let corrupted = || Error::Corrupted { id: loc.id };
        let dict = if slot.codec == format::CODEC_ZSTD_DICT {
            self.dict(slot.dict).map_err(|_| corrupted())?
        } else {
            None
        };
        let frame = self
            .frame(loc.seq, &loc.id, &slot)
            .map_err(|_| corrupted())?;
        match frame::decode(&slot, &frame, dict.as_deref()) {
            Ok(body) if BlobId::of(&body) == loc.id => Ok(body),
            _ => Err(corrupted()),
        }
    }

    /// Decodes and re-hashes every live body; checks that the id index finds every live body
    /// and that each of its entries names a slot of its id; checks the store state against
    /// what it counts. Takes the writer lock (writers wait; a thread holding a
    /// [`crate::Writer`] must not call it).
    pub fn verify(&self) -> Result<VerifyReport> {
        crate::verify::verify(self)
    }
}

/// A record that cannot be read or does not match its slot.
pub(crate) fn damaged_record(seq: Seq) -> Error {
    Error::Damaged {
        what: format!("record of seq {seq}"),
    }
}

/// The slot table number of an `N` or `B` key.
pub(crate) fn key_number(key: &[u8]) -> Option<u32> {
    match key {
        [_, a, b, c, d] => Some(u32::from_be_bytes([*a, *b, *c, *d])),
        _ => None,
    }
}

/// Reads the store's cache from the tree, writing the state of an empty store first when
/// there is none.
fn load(tree: &sled::Tree, level: i32) -> Result<Cache> {
    let state = if let Some(v) = tree.get(format::key_state()).map_err(engine_error)? {
        State::decode(&v)?
    } else {
        let state = State::default();
        let mut batch = sled::Batch::default();
        batch.insert(&format::key_state(), state.encode());
        batch.insert(&format::key_group(0), format::encode_group(0, ""));
        tree.apply_batch(batch).map_err(engine_error)?;
        state
    };
    let runs = read_runs(tree)?;
    let mut dicts = HashMap::new();
    for kv in tree.scan_prefix([TAG_DICT]) {
        let (k, v) = kv.map_err(engine_error)?;
        let id = key_number(&k).ok_or_else(|| Error::Damaged {
            what: format!("key {k:02x?}"),
        })?;
        let bytes = format::decode_dict(id, &v)?.to_vec();
        dicts.insert(id, Arc::new(Dict::new(id, bytes, level)));
    }
    let mut groups = Groups::default();
    for kv in tree.scan_prefix([TAG_GROUP]) {
        let (k, v) = kv.map_err(engine_error)?;
        let [_, a, b] = *k else {
            return Err(Error::Damaged {
                what: format!("key {k:02x?}"),
            });
        };
        let group = u16::from_be_bytes([a, b]);
        let (dict, name) = format::decode_group(group, &v)?;
        if usize::from(group) != groups.list.len() {
            return Err(Error::Damaged {
                what: format!("group {group} (groups are not numbered densely)"),
            });
        }
        groups.by_name.insert(name.clone(), group);
        groups.list.push((name, dict));
    }
    if groups.list.is_empty() {
        groups.by_name.insert(String::new(), 0);
        groups.list.push((String::new(), 0));
    }
    Ok(Cache {
        state,
        runs: Arc::new(runs),
        dicts: Arc::new(dicts),
        groups: Arc::new(groups),
    })
}
