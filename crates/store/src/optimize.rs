//! [`Store::optimize`]: dictionaries for the groups that have enough bodies, every body
//! recompressed with its group's dictionary, the id index rewritten in parts over disjoint
//! ranges of prefixes.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use crate::dir::engine_error;
use crate::error::{Error, Result};
use crate::format::{self, CODEC_RAW, CODEC_ZSTD, CODEC_ZSTD_DICT, Slot, SlotTable, TABLE_SLOTS};
use crate::frame;
use crate::index::{self, Rebuild};
use crate::packfile::RECORD_HEADER_LEN;
use crate::store::{Seq, Store};
use crate::writer::PreparedBlob;

/// Live bodies a group needs before optimize trains a dictionary for it.
pub(crate) const OPTIMIZE_TRAIN_MIN: u64 = 1000;
/// Bodies optimize trains a dictionary on, at most.
pub(crate) const OPTIMIZE_SAMPLES: u64 = 2000;
/// Slot tables recompressed per commit.
const TABLES_PER_STEP: usize = 16;

/// How far [`Store::optimize`] is: called after each step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct OptimizeProgress {
    /// Live bodies looked at so far.
    pub done: u64,
    /// Live bodies in all.
    pub total: u64,
}

/// What [`Store::optimize`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct OptimizeReport {
    /// Bodies recompressed.
    pub recompressed: u64,
    /// Sum of the frame lengths of the live bodies before.
    pub bytes_before: u64,
    /// Sum of the frame lengths of the live bodies after.
    pub bytes_after: u64,
    /// Dictionaries trained.
    pub dicts_trained: u32,
    /// Bodies left as they are because they no longer match their id (see [`Store::verify`]).
    pub corrupted: Vec<crate::BlobId>,
    /// Index runs before (after: one, or none when the store is empty).
    pub runs_before: usize,
    /// Index entries dropped (those of removed bodies).
    pub entries_dropped: u64,
    /// Pack files compacted away (their live frames copied to the active file, then deleted).
    pub files_compacted: u32,
}

/// A live slot, as optimize plans it.
#[derive(Clone, Copy)]
struct LiveSlot {
    seq: Seq,
    slot: Slot,
}

impl Store {
    /// Trains a dictionary for every group with at least 1,000 live bodies and none of its own
    /// (on up to 2,000 of its bodies), recompresses every body whose frame does not use its
    /// group's dictionary (else the default group's), and rewrites the id index as runs over
    /// disjoint ranges of prefixes, dropping the entries of removed bodies. Ids, sequence
    /// numbers and bodies never change.
    ///
    /// Works in steps of one atomic commit each: interrupted, it loses nothing, and running
    /// it again finishes the work. Other writers may commit between steps. Not durable until
    /// [`Store::flush`]. A later [`Store::close`] also rewrites sled's files afresh (sled never
    /// gives back the space of what was overwritten or deleted) when they hold more than a
    /// quarter more than the last such rewrite left, or were never so rewritten.
    pub fn optimize(&self, progress: &mut dyn FnMut(OptimizeProgress)) -> Result<OptimizeReport> {
        let mut report = OptimizeReport {
            bytes_before: self.cache().state.stored_bytes,
            runs_before: self.cache().runs.len(),
            ..OptimizeReport::default()
        };

        // 1. Dictionaries. The slot tables are read table by table, never all at once (at
        // 10,000,000 bodies their live slots would take 320 MB): one pass counts each group,
        // a second picks the training samples of the groups that get a dictionary.
        let mut per_group: BTreeMap<u16, (u64, u64)> = BTreeMap::new();
        self.each_live_slot(|s| {
            let e = per_group.entry(s.slot.group).or_default();
            e.0 += 1;
            e.1 += u64::from(s.slot.raw_len);
        })?;
        let total: u64 = per_group.values().map(|(n, _)| n).sum();
        // Groups to train -> (every how many bodies a sample, bodies seen, sample seqs).
        let mut train: BTreeMap<u16, (u64, u64, Vec<Seq>)> = BTreeMap::new();
        for (group, (n, raw)) in &per_group {
            let dict = self
                .cache()
                .groups
                .list
                .get(usize::from(*group))
                .map(|(_, d)| *d);
            let enough = *n >= OPTIMIZE_TRAIN_MIN
                || (*n >= crate::train::TRAIN_LARGE_MIN as u64
                    && *raw >= crate::train::TRAIN_LARGE_BYTES as u64);
            if dict == Some(0) && enough {
                let step = n.div_ceil(OPTIMIZE_SAMPLES).max(1);
                train.insert(*group, (step, 0, Vec::new()));
            }
        }
        if !train.is_empty() {
            self.each_live_slot(|s| {
                if let Some((step, seen, seqs)) = train.get_mut(&s.slot.group) {
                    if *seen % *step == 0 {
                        seqs.push(s.seq);
                    }
                    *seen += 1;
                }
            })?;
        }
        for (group, (_, _, seqs)) in &train {
            let mut samples = Vec::new();
            for seq in seqs {
                // A corrupted body is no sample; recompression reports it.
                if let Ok(Some(body)) = self.get_at(*seq) {
                    samples.push(body);
                }
            }
            let refs: Vec<&[u8]> = samples.iter().map(Vec::as_slice).collect();
            if let Some(bytes) = frame::train(&refs, self.level()) {
                self.install_dict(*group, bytes, false)?;
                report.dicts_trained += 1;
            }
        }

        // 2. Recompression, a few slot tables per commit (each read afresh: the commits
        // rewrite them).
        let tables = self.slot_tables()?;
        let mut done = 0;
        for step in tables.chunks(TABLES_PER_STEP) {
            let cache = self.cache();
            let mut todo: Vec<LiveSlot> = Vec::new();
            for &table in step {
                let live = self.table_live_slots(table)?;
                done += live.len() as u64;
                todo.extend(
                    live.into_iter()
                        .filter(|s| !uses_its_dict(&s.slot, cache.groups.dict_for(s.slot.group))),
                );
            }
            if !todo.is_empty() {
                self.recompress(&todo, &mut report)?;
            }
            progress(OptimizeProgress { done, total });
        }

        // 3. Pack files more than half garbage: their live frames copied, then deleted.
        self.compact(&mut report)?;

        // 4. The index without the entries of removed bodies, with its filters, as runs over
        // disjoint ranges of prefixes: one commit per range (about `max_run_entries` entries
        // each, so that neither the decoded entries nor the chunks of the whole index are ever
        // in memory at once), from the last range down, each removing what the old runs hold
        // only from its range up ([`Store::write_index_part`]); then one that drops what is
        // left of the runs they were read from. Until that last commit the index holds both
        // (an entry twice is harmless). When the runs do not
        // hold every live body, it is rebuilt from the pack files' record headers (one run).
        // An index so laid out, plus a few small runs of later imports, is left as it is
        // (`index::in_parts`).
        let cache = self.cache();
        let indexed: u64 = cache.runs.iter().map(|r| r.entries).sum();
        let part_entries = self.max_run_entries().max(1);
        let done = indexed == cache.state.live
            && index::filters_complete(self.tree(), &cache.runs)?
            && index::in_parts(self.tree(), &cache.runs, cache.state.live, part_entries)?;
        if !done {
            let old: Vec<u64> = cache.runs.iter().map(|r| r.run).collect();
            drop(cache);
            let (live, count) = self.live_bitmap()?;
            let parts = count.div_ceil(part_entries).max(1);
            let mut written = 0;
            for part in (0..parts).rev() {
                written += self.write_index_part(part, parts, &old, &live)?;
            }
            let mut writer = self.writer();
            if written == count {
                writer.rebuild = Some(Rebuild::Drop(old));
            } else {
                let mut entries = Vec::new();
                for item in self.live() {
                    let (seq, id) = item?;
                    entries.push((index::prefix_of(&id), seq));
                }
                entries.sort_unstable();
                written = entries.len() as u64;
                writer.rebuild = Some(Rebuild::All(entries));
            }
            writer.commit()?;
            report.entries_dropped = indexed.saturating_sub(written);
        }
        report.bytes_after = self.cache().state.stored_bytes;
        // sled never gives back space: a close after optimize rewrites it afresh, once it grew
        // by a quarter since it was last rewritten.
        self.database().compact_on_close_if_grown()?;
        report.corrupted.sort_unstable();
        report.corrupted.dedup();
        Ok(report)
    }

    /// Writes part `part` of `parts` of the id index rewrite (step 4 of [`Store::optimize`])
    /// in one commit: the entries of live bodies (`live`) in its range of prefixes, read from
    /// every run, as a run of their own. The parts are written from the last down, and each
    /// commit also removes, from the runs of the index before the rewrite (`old`), the chunks
    /// that hold only prefixes from the part's start on: this part and those written before it
    /// hold their live entries. So the runs read shrink as the rewrite goes, and sled, which
    /// keeps every large leaf it read in memory until the database is closed, gives the ones
    /// of removed chunks back (at 10,000,000 bodies the index is 120 MB of chunks). Returns
    /// the number of entries written.
    pub(crate) fn write_index_part(
        &self,
        part: u64,
        parts: u64,
        old: &[u64],
        live: &[u64],
    ) -> Result<u64> {
        let (lo, hi) = index::part_range(part, parts);
        let mut writer = self.writer();
        let runs = Arc::clone(&self.cache().runs);
        let mut entries = index::entries_in(self.tree(), &runs, lo, hi)?;
        entries.retain(|(_, seq)| is_live(live, *seq));
        entries.sort_unstable();
        entries.dedup();
        let mut cuts = Vec::new();
        for run in runs.iter().filter(|r| old.contains(&r.run)) {
            cuts.extend(index::tail_from(self.tree(), run, lo)?);
        }
        let written = entries.len() as u64;
        writer.rebuild = Some(Rebuild::Part { entries, cuts });
        writer.commit()?;
        Ok(written)
    }

    /// Recompresses the bodies of `todo` with their dictionaries, in one commit. Bodies that
    /// no longer match their id are left as they are and reported.
    fn recompress(&self, todo: &[LiveSlot], report: &mut OptimizeReport) -> Result<()> {
        let mut writer = self.writer();
        let cache = self.cache();
        let mut bodies = Vec::new();
        for s in todo {
            // Removed or changed since the plan: skip.
            let Some(loc) = self.locate_seq(s.seq)? else {
                continue;
            };
            if loc.slot() != s.slot {
                continue;
            }
            match self.body(&loc) {
                Ok(body) => bodies.push((s.seq, body, s.slot)),
                Err(Error::Corrupted { id }) => report.corrupted.push(id),
                Err(e) => return Err(e),
            }
        }
        let prepared = self.encode_all(
            &cache,
            bodies.iter().map(|(_, b, s)| (b.as_slice(), s.group)),
        )?;
        for ((seq, _, old), blob) in bodies.iter().zip(prepared) {
            if old.codec == CODEC_RAW && blob.slot.codec == CODEC_RAW {
                continue; // still better raw
            }
            writer.recode(*seq, blob)?;
            report.recompressed += 1;
        }
        writer.commit()
    }

    /// Copies the live frames of every pack file that is more than half garbage into the
    /// active file — into a new one when the active file itself is such a file — commit by
    /// commit, then flushes and deletes the old files.
    fn compact(&self, report: &mut OptimizeReport) -> Result<()> {
        let active = self.cache().state.file;
        let mut live: BTreeMap<u32, u64> = BTreeMap::new();
        self.each_live_slot(|s| {
            *live.entry(s.slot.file).or_default() +=
                (RECORD_HEADER_LEN as u64) + u64::from(s.slot.frame_len);
        })?;
        let files = self.files();
        let mut victims = Vec::new();
        for n in files.numbers()? {
            let size = files.len(n)?.unwrap_or(0);
            let in_use = live.get(&n).copied().unwrap_or(0);
            // The active file goes only with live frames to carry into a new one (a new file
            // is started by the first commit that appends).
            if n > active || (n == active && in_use == 0) {
                continue;
            }
            if in_use * 2 < size {
                victims.push(n);
            }
        }
        if victims.is_empty() {
            return Ok(());
        }
        for step in self.slot_tables()?.chunks(TABLES_PER_STEP) {
            let mut moving: Vec<LiveSlot> = Vec::new();
            for &table in step {
                moving.extend(
                    self.table_live_slots(table)?
                        .into_iter()
                        .filter(|s| victims.contains(&s.slot.file)),
                );
            }
            if moving.is_empty() {
                continue;
            }
            let mut writer = self.writer();
            writer.new_file = self.cache().state.file == active && victims.contains(&active);
            for s in &moving {
                let Some(loc) = self.locate_seq(s.seq)? else {
                    continue;
                };
                if loc.slot() != s.slot {
                    continue;
                }
                match self.frame(s.seq, &loc.id, &s.slot) {
                    Ok(frame) => writer.recode(
                        s.seq,
                        PreparedBlob {
                            id: loc.id,
                            raw_len: u64::from(s.slot.raw_len),
                            slot: s.slot,
                            frame,
                        },
                    )?,
                    // Left where it is: the file is then kept.
                    Err(Error::Corrupted { id }) => report.corrupted.push(id),
                    Err(e) => return Err(e),
                }
            }
            writer.commit()?;
        }
        // The old files may go only once nothing durable points into them.
        self.flush()?;
        let mut still: HashSet<u32> = HashSet::new();
        self.each_live_slot(|s| {
            still.insert(s.slot.file);
        })?;
        let active_now = self.cache().state.file;
        for n in victims {
            if !still.contains(&n) && n != active_now {
                files.remove(n)?;
                report.files_compacted += 1;
            }
        }
        Ok(())
    }

    /// One bit per sequence number, set for the live bodies (1.25 MB at 10,000,000, not a set
    /// of them), and how many are set.
    pub(crate) fn live_bitmap(&self) -> Result<(Vec<u64>, u64)> {
        let mut live = vec![0u64; (self.cache().state.next_seq as usize).div_ceil(64)];
        let mut count = 0;
        self.each_live_slot(|s| {
            if let Some(word) = live.get_mut(s.seq as usize / 64) {
                *word |= 1 << (s.seq % 64);
                count += 1;
            }
        })?;
        Ok((live, count))
    }

    /// The numbers of the slot tables, ascending.
    fn slot_tables(&self) -> Result<Vec<u32>> {
        let mut out = Vec::new();
        self.each_slot_table(|table, _| {
            out.push(table);
            Ok(())
        })?;
        Ok(out)
    }

    /// Calls `f` with the number and value of every slot table, ascending, read one `get` at
    /// a time — not with sled's iterator, whose pages sled 0.34 keeps in memory: its cache
    /// (256 shards) counts a page only once 64 accesses to the pages of that shard have
    /// queued, so a scan, one access a page, leaves up to 16,384 pages uncounted and never
    /// evicted (sled issue #1036), while a `get` per table accesses each page once per table
    /// it holds (about 12). On a 3M archive a pass over the slot tables (81 MB) kept 87 MB
    /// through the iterator, 50 MB so (docs/performance.md).
    fn each_slot_table(&self, mut f: impl FnMut(u32, &[u8]) -> Result<()>) -> Result<()> {
        let tables = self.cache().state.next_seq.div_ceil(TABLE_SLOTS);
        for table in 0..tables {
            let key = format::key_numbered(format::TAG_SLOTS, table);
            if let Some(value) = self.tree().get(key).map_err(engine_error)? {
                f(table, &value)?;
            }
        }
        Ok(())
    }

    /// The live slots of slot table `table` (none when it is gone).
    fn table_live_slots(&self, table: u32) -> Result<Vec<LiveSlot>> {
        let key = format::key_numbered(format::TAG_SLOTS, table);
        match self.tree().get(key).map_err(engine_error)? {
            Some(value) => live_slots_of(table, &value),
            None => Ok(Vec::new()),
        }
    }

    /// Calls `f` with every live slot, in sequence order: one pass over the slot tables, each
    /// decoded as it is read (no table's slots outlive it).
    fn each_live_slot(&self, mut f: impl FnMut(LiveSlot)) -> Result<()> {
        self.each_slot_table(|table, value| {
            live_slots_of(table, value)?.into_iter().for_each(&mut f);
            Ok(())
        })
    }
}

/// The live slots of the slot table `table` whose value is `value`.
fn live_slots_of(table: u32, value: &[u8]) -> Result<Vec<LiveSlot>> {
    let decoded = SlotTable::decode(table, value)?;
    Ok(decoded
        .slots
        .iter()
        .enumerate()
        .filter(|(_, slot)| !slot.is_removed())
        .map(|(i, slot)| LiveSlot {
            seq: table * TABLE_SLOTS + i as u32,
            slot: *slot,
        })
        .collect())
}

/// Whether a frame uses the dictionary `dict` it should (0: none).
fn uses_its_dict(slot: &Slot, dict: u32) -> bool {
    match slot.codec {
        CODEC_ZSTD_DICT => slot.dict == dict,
        CODEC_ZSTD => dict == 0,
        // Raw: zstd did not make it smaller without a dictionary; with one it may.
        CODEC_RAW => dict == 0 || slot.raw_len < 64,
        _ => true,
    }
}

/// Whether `seq`'s bit is set in a [`Store::live_bitmap`].
fn is_live(bits: &[u64], seq: Seq) -> bool {
    bits.get(seq as usize / 64)
        .is_some_and(|w| w & (1 << (seq % 64)) != 0)
}
