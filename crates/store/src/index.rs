//! The id index: the id -> seq map, as a small log-structured merge tree in the shared tree.
//!
//! An entry is the first 8 bytes of an id and its seq ([`Entry`], 12 bytes). Each commit that
//! stores new bodies writes its entries as a new sorted *run*, in chunks of up to
//! [`CHUNK_ENTRIES`] (`I` run chunk), merging it with the newest runs while they are at most
//! twice its size; the run directory (`J`) lists the runs, oldest first, with the first prefix
//! of each chunk. `optimize` rewrites the index as runs over disjoint ranges of prefixes, one
//! commit each ([`Rebuild`]). A lookup walks the runs newest
//! first; an entry is only a candidate, confirmed against the record header in the pack file.

use std::collections::HashMap;

use crate::dir::engine_error;
use crate::error::{Error, Result};
use crate::filter::{Filter, encode_filter, key_filter};
use crate::format::{Reader, State, TAG_FILTER, TAG_INDEX, TAG_RUNS, VERSION, damaged};
use crate::id::{BlobId, Prefix};
use crate::store::Seq;

/// Index entries in a chunk, at most.
pub(crate) const CHUNK_ENTRIES: usize = 4096;

/// Length of an index entry.
pub(crate) const ENTRY_LEN: usize = 12;

/// `I` run(u64) chunk(u32).
pub(crate) fn key_chunk(run: u64, chunk: u32) -> [u8; 13] {
    key_run_chunk(TAG_INDEX, run, chunk)
}

/// `tag` run(u64) chunk(u32): the key of a chunk (`I`) or of its filter (`F`).
pub(crate) fn key_run_chunk(tag: u8, run: u64, chunk: u32) -> [u8; 13] {
    let mut k = [0; 13];
    k[0] = tag;
    k[1..9].copy_from_slice(&run.to_be_bytes());
    k[9..].copy_from_slice(&chunk.to_be_bytes());
    k
}

/// An index entry: the first 8 bytes of an id and its sequence number.
pub(crate) type Entry = (u64, u32);

/// The first 8 bytes of an id, as the index keeps them.
pub(crate) fn prefix_of(id: &BlobId) -> u64 {
    let b = id.as_bytes();
    u64::from_be_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]])
}

/// Encodes an index chunk (`I`) of sorted entries.
pub(crate) fn encode_chunk(entries: &[Entry]) -> Vec<u8> {
    let mut v = Vec::with_capacity(1 + ENTRY_LEN * entries.len());
    v.push(VERSION);
    for (prefix, seq) in entries {
        v.extend_from_slice(&prefix.to_be_bytes());
        v.extend_from_slice(&seq.to_be_bytes());
    }
    v
}

/// The entries of an index chunk value, checked for length and version (not for order).
pub(crate) fn chunk_entries(what: impl FnOnce() -> String, value: &[u8]) -> Result<&[u8]> {
    match value.split_first() {
        Some((&VERSION, rest)) if rest.len() % ENTRY_LEN == 0 && !rest.is_empty() => Ok(rest),
        _ => Err(damaged(what())),
    }
}

/// Entry `i` of the raw entries of a chunk.
pub(crate) fn entry_at(raw: &[u8], i: usize) -> Entry {
    let e = &raw[i * ENTRY_LEN..(i + 1) * ENTRY_LEN];
    let mut p = [0; 8];
    p.copy_from_slice(&e[..8]);
    let mut s = [0; 4];
    s.copy_from_slice(&e[8..]);
    (u64::from_be_bytes(p), u32::from_be_bytes(s))
}

/// Decodes all entries of a chunk.
pub(crate) fn decode_chunk(what: impl FnOnce() -> String, value: &[u8]) -> Result<Vec<Entry>> {
    let raw = chunk_entries(what, value)?;
    Ok((0..raw.len() / ENTRY_LEN)
        .map(|i| entry_at(raw, i))
        .collect())
}

/// One run of the index, as the directory describes it.
#[allow(clippy::struct_field_names)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Run {
    pub(crate) run: u64,
    pub(crate) entries: u64,
    /// The prefix of the first entry of each chunk.
    pub(crate) firsts: Vec<u64>,
}

/// Encodes the run directory (`J`), oldest run first.
pub(crate) fn encode_runs(runs: &[Run]) -> Vec<u8> {
    let mut v = Vec::with_capacity(5 + runs.iter().map(|r| 20 + 8 * r.firsts.len()).sum::<usize>());
    v.push(VERSION);
    v.extend_from_slice(&(runs.len() as u32).to_be_bytes());
    for r in runs {
        v.extend_from_slice(&r.run.to_be_bytes());
        v.extend_from_slice(&r.entries.to_be_bytes());
        v.extend_from_slice(&(r.firsts.len() as u32).to_be_bytes());
        for f in &r.firsts {
            v.extend_from_slice(&f.to_be_bytes());
        }
    }
    v
}

/// Decodes the run directory.
pub(crate) fn decode_runs(value: &[u8]) -> Result<Vec<Run>> {
    let mut r = Reader { rest: value };
    let parse = |r: &mut Reader<'_>| {
        r.version()?;
        let k = r.u32()?;
        let mut runs = Vec::new();
        for _ in 0..k {
            let run = r.u64()?;
            let entries = r.u64()?;
            let chunks = r.u32()?;
            if chunks as usize > r.rest.len() / 8 {
                return None;
            }
            let firsts = (0..chunks).map(|_| r.u64()).collect::<Option<Vec<u64>>>()?;
            runs.push(Run {
                run,
                entries,
                firsts,
            });
        }
        r.rest.is_empty().then_some(runs)
    };
    parse(&mut r).ok_or_else(|| damaged("index run directory"))
}

/// Splits sorted entries into chunks: the chunk values and the first prefix of each.
pub(crate) fn chunks_of(entries: &[Entry]) -> (Vec<Vec<u8>>, Vec<u64>) {
    entries
        .chunks(CHUNK_ENTRIES)
        .map(|c| (encode_chunk(c), c[0].0))
        .unzip()
}

/// A walk of the index met a missing chunk (its run replaced meanwhile): retry or fail with
/// the error.
pub(crate) struct Missing(pub(crate) Error);

/// [`candidates_in`] for each of `prefixes` (sorted, distinct), reading each chunk once: the
/// sequence numbers of the entries of each prefix, newest run first.
pub(crate) fn candidates_many(
    tree: &sled::Tree,
    runs: &[Run],
    prefixes: &[u64],
) -> Result<HashMap<u64, Vec<Seq>>, Missing> {
    let mut out: HashMap<u64, Vec<Seq>> = HashMap::new();
    for run in runs.iter().rev() {
        let mut by_chunk: std::collections::BTreeMap<usize, Vec<u64>> =
            std::collections::BTreeMap::new();
        for &p in prefixes {
            let start = run.firsts.partition_point(|f| *f < p).saturating_sub(1);
            for (c, first) in run.firsts.iter().enumerate().skip(start) {
                if *first > p {
                    break;
                }
                by_chunk.entry(c).or_default().push(p);
            }
        }
        for (c, mut wanted) in by_chunk {
            if let Some(filter) = read_filter(tree, run, c)? {
                if let Some(filter) = Filter::decode(&filter) {
                    wanted.retain(|p| filter.may_hold(*p));
                }
                if wanted.is_empty() {
                    continue;
                }
            }
            let value = read_chunk(tree, run, c)?;
            let raw = chunk_entries(|| chunk_name(run, c), &value).map_err(Missing)?;
            let n = raw.len() / ENTRY_LEN;
            for p in wanted {
                for i in lower_bound(raw, n, p)..n {
                    let (prefix, seq) = entry_at(raw, i);
                    if prefix != p {
                        break;
                    }
                    out.entry(p).or_default().push(seq);
                }
            }
        }
    }
    Ok(out)
}

/// The sequence numbers of the entries with a prefix in `lo..=hi` in `runs`, newest first.
pub(crate) fn candidates_in(
    tree: &sled::Tree,
    runs: &[Run],
    lo: u64,
    hi: u64,
) -> Result<Vec<Seq>, Missing> {
    let mut out = Vec::new();
    each_entry_in(tree, runs.iter().rev(), lo, hi, |(_, seq)| out.push(seq))?;
    Ok(out)
}

/// Calls `each` with every entry with a prefix in `lo..=hi` of `runs`, in their order, reading
/// only the chunks that may hold one (for a single prefix, not those its filter rules out).
fn each_entry_in<'r>(
    tree: &sled::Tree,
    runs: impl Iterator<Item = &'r Run>,
    lo: u64,
    hi: u64,
    mut each: impl FnMut(Entry),
) -> Result<(), Missing> {
    for run in runs {
        let start = run.firsts.partition_point(|f| *f < lo).saturating_sub(1);
        for (c, first) in run.firsts.iter().enumerate().skip(start) {
            if *first > hi {
                break;
            }
            // One prefix: the chunk's filter may say it is not there.
            if lo == hi
                && let Some(filter) = read_filter(tree, run, c)?
                && Filter::decode(&filter).is_some_and(|f| !f.may_hold(lo))
            {
                continue;
            }
            let value = read_chunk(tree, run, c)?;
            let raw = chunk_entries(|| chunk_name(run, c), &value).map_err(Missing)?;
            let n = raw.len() / ENTRY_LEN;
            for i in lower_bound(raw, n, lo)..n {
                let entry = entry_at(raw, i);
                if entry.0 > hi {
                    break;
                }
                each(entry);
            }
        }
    }
    Ok(())
}

/// "index run R chunk C", for messages.
fn chunk_name(run: &Run, c: usize) -> String {
    format!("index run {} chunk {c}", run.run)
}

/// Chunk `c` of `run`; [`Missing`] when it is not there (a merge replaced the run meanwhile).
fn read_chunk(tree: &sled::Tree, run: &Run, c: usize) -> Result<sled::IVec, Missing> {
    let key = key_chunk(run.run, u32::try_from(c).unwrap_or(u32::MAX));
    tree.get(key)
        .map_err(|e| Missing(engine_error(e)))?
        .ok_or_else(|| {
            Missing(Error::Damaged {
                what: format!("{} (missing)", chunk_name(run, c)),
            })
        })
}

/// The filter of chunk `c` of `run`, when it has one (runs written before filters have none;
/// neither has a run that a merge replaced meanwhile, whose chunk is then [`Missing`]).
fn read_filter(tree: &sled::Tree, run: &Run, c: usize) -> Result<Option<sled::IVec>, Missing> {
    let key = key_filter(run.run, u32::try_from(c).unwrap_or(u32::MAX));
    tree.get(key).map_err(|e| Missing(engine_error(e)))
}

/// The first of the `n` entries of `raw` (sorted by prefix) whose prefix is `>= p`.
fn lower_bound(raw: &[u8], n: usize, p: u64) -> usize {
    let (mut a, mut b) = (0, n);
    while a < b {
        let mid = usize::midpoint(a, b);
        if entry_at(raw, mid).0 < p {
            a = mid + 1;
        } else {
            b = mid;
        }
    }
    a
}

/// The range of 8-byte index prefixes a hex prefix covers.
pub(crate) fn prefix_range(prefix: &Prefix) -> (u64, u64) {
    let mut lo = [0u8; 8];
    let mut hi = [0xFFu8; 8];
    for (i, b) in prefix.bytes.iter().take(8).enumerate() {
        lo[i] = *b;
        hi[i] = *b;
    }
    if let Some(h) = prefix.half
        && prefix.bytes.len() < 8
    {
        lo[prefix.bytes.len()] = h << 4;
        hi[prefix.bytes.len()] = (h << 4) | 0x0F;
    }
    (u64::from_be_bytes(lo), u64::from_be_bytes(hi))
}

/// The run directory in the tree (none: no runs).
pub(crate) fn read_runs(tree: &sled::Tree) -> Result<Vec<Run>> {
    match tree.get([TAG_RUNS]).map_err(engine_error)? {
        Some(v) => decode_runs(&v),
        None => Ok(Vec::new()),
    }
}

/// Removes the filters of runs other than `runs` (left by an earlier build, which merged runs
/// without removing their filters; `remove_run` takes care of the runs it removes).
fn remove_stray_filters(tree: &sled::Tree, batch: &mut sled::Batch, runs: &[Run]) -> Result<()> {
    let known: std::collections::HashSet<u64> = runs.iter().map(|r| r.run).collect();
    for key in tree.scan_prefix([TAG_FILTER]).keys() {
        let key = key.map_err(engine_error)?;
        if !run_of_key(&key).is_some_and(|r| known.contains(&r)) {
            batch.remove(key);
        }
    }
    Ok(())
}

/// The run number of an `I` or `F` key (`None` for a key of another length).
pub(crate) fn run_of_key(key: &[u8]) -> Option<u64> {
    (key.len() == 13)
        .then(|| key.get(1..9)?.try_into().ok())
        .flatten()
        .map(u64::from_be_bytes)
}

/// The range of prefixes of part `i` of `parts` equal parts of the 64-bit prefix space (the
/// last ends at `u64::MAX`).
pub(crate) fn part_range(i: u64, parts: u64) -> (u64, u64) {
    let edge = |k: u64| ((u128::from(k) << 64) / u128::from(parts.max(1))) as u64;
    let hi = if i + 1 >= parts {
        u64::MAX
    } else {
        edge(i + 1) - 1
    };
    (edge(i), hi)
}

/// Every entry of `runs` with a prefix in `lo..=hi`, in no particular order (duplicates kept),
/// reading only the chunks that may hold one.
pub(crate) fn entries_in(tree: &sled::Tree, runs: &[Run], lo: u64, hi: u64) -> Result<Vec<Entry>> {
    let mut out = Vec::new();
    each_entry_in(tree, runs.iter(), lo, hi, |entry| out.push(entry)).map_err(|m| m.0)?;
    Ok(out)
}

/// Whether the runs cover disjoint ranges of prefixes (as `optimize` writes them): sorted by
/// their first prefix, each run's last prefix is below the next run's first. Reads the last
/// chunk of each run.
pub(crate) fn runs_disjoint<'r>(
    tree: &sled::Tree,
    runs: impl IntoIterator<Item = &'r Run>,
) -> Result<bool> {
    let mut spans = Vec::new();
    for run in runs {
        let (Some(&first), Some(c)) = (run.firsts.first(), run.firsts.len().checked_sub(1)) else {
            return Ok(false);
        };
        let value = read_chunk(tree, run, c).map_err(|m| m.0)?;
        let raw = chunk_entries(|| chunk_name(run, c), &value)?;
        let last = entry_at(raw, raw.len() / ENTRY_LEN - 1).0;
        spans.push((first, last));
    }
    spans.sort_unstable();
    Ok(spans.windows(2).all(|w| w[0].1 < w[1].0))
}

/// Runs of later imports that `optimize` leaves beside its parts, at most ([`in_parts`]).
pub(crate) const EXTRA_RUNS: usize = 4;

/// Whether the runs are as `optimize` leaves them, with `live` bodies and parts of about
/// `part_entries`: the `ceil(live / part_entries)` largest runs pairwise disjoint (the parts),
/// and at most [`EXTRA_RUNS`] others (what imports added since) holding at most an eighth of
/// `live` together. (That the runs hold each live body once is the caller's to check.) Such
/// extra runs cost a lookup a filter or two each; rewriting every part to fold them in would
/// rewrite the whole index for a few new bodies.
pub(crate) fn in_parts(
    tree: &sled::Tree,
    runs: &[Run],
    live: u64,
    part_entries: u64,
) -> Result<bool> {
    let parts = usize::try_from(live.div_ceil(part_entries.max(1)).max(1)).unwrap_or(usize::MAX);
    let mut by_size: Vec<&Run> = runs.iter().collect();
    by_size.sort_by_key(|r| std::cmp::Reverse(r.entries));
    let (large, extra) = by_size.split_at(parts.min(by_size.len()));
    let extra_entries: u64 = extra.iter().map(|r| r.entries).sum();
    if extra.len() > EXTRA_RUNS || extra_entries.saturating_mul(8) > live {
        return Ok(false);
    }
    runs_disjoint(tree, large.iter().copied())
}

/// Whether the chunk filters are as this build writes them: one for every chunk of every run,
/// none of another run (else `optimize` rewrites the index: an archive written before filters,
/// or by an earlier build since).
pub(crate) fn filters_complete(tree: &sled::Tree, runs: &[Run]) -> Result<bool> {
    let chunks: usize = runs.iter().map(|r| r.firsts.len()).sum();
    let known: std::collections::HashSet<u64> = runs.iter().map(|r| r.run).collect();
    let mut found = 0;
    for key in tree.scan_prefix([TAG_FILTER]).keys() {
        let key = key.map_err(engine_error)?;
        if !run_of_key(&key).is_some_and(|r| known.contains(&r)) {
            return Ok(false);
        }
        found += 1;
    }
    Ok(found == chunks)
}

/// All entries of `run`, in order.
pub(crate) fn read_run(tree: &sled::Tree, run: &Run) -> Result<Vec<Entry>> {
    let mut out = Vec::with_capacity(usize::try_from(run.entries).unwrap_or(0));
    for c in 0..run.firsts.len() as u32 {
        let what = || format!("index run {} chunk {c}", run.run);
        let value = tree
            .get(key_chunk(run.run, c))
            .map_err(engine_error)?
            .ok_or_else(|| Error::Damaged {
                what: format!("{} (missing)", what()),
            })?;
        out.extend(decode_chunk(what, &value)?);
    }
    Ok(out)
}

fn remove_run(batch: &mut sled::Batch, run: &Run) {
    remove_chunks(batch, run, 0);
}

/// Stages the removal of the chunks of `run` from `from` on, with their filters.
fn remove_chunks(batch: &mut sled::Batch, run: &Run, from: usize) {
    for c in from..run.firsts.len() {
        let c = u32::try_from(c).unwrap_or(u32::MAX);
        batch.remove(&key_chunk(run.run, c));
        batch.remove(&key_filter(run.run, c));
    }
}

/// Stages a new run of `entries` (sorted) and returns its directory entry.
fn write_run(batch: &mut sled::Batch, state: &mut State, entries: &[Entry]) -> Result<Run> {
    let run = state.next_run;
    state.next_run = run
        .checked_add(1)
        .ok_or_else(|| Error::Internal("no index run ids left".into()))?;
    let (chunks, firsts) = chunks_of(entries);
    for (c, value) in chunks.into_iter().enumerate() {
        batch.insert(&key_chunk(run, c as u32), value);
    }
    for (c, part) in entries.chunks(CHUNK_ENTRIES).enumerate() {
        batch.insert(&key_filter(run, c as u32), encode_filter(part));
    }
    Ok(Run {
        run,
        entries: entries.len() as u64,
        firsts,
    })
}

/// Merges two sorted runs.
fn merge(a: &[Entry], b: &[Entry]) -> Vec<Entry> {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        if a[i] <= b[j] {
            out.push(a[i]);
            i += 1;
        } else {
            out.push(b[j]);
            j += 1;
        }
    }
    out.extend_from_slice(&a[i..]);
    out.extend_from_slice(&b[j..]);
    out
}

/// Most entries a run gets by merging during imports: 524,288 (6 MiB of chunks). A merge reads
/// the runs it merges into memory and rewrites them in the commit's one sled batch, so without
/// a bound the largest merges grew with the archive (a merge of half of it every time the
/// archive doubled: at 3,000,000 articles, rewrites of 1.5 million entries in one commit).
/// With it a commit's index work is bounded, and an archive of `n` articles has at most about
/// `2n / MAX_RUN_ENTRIES` full runs plus the few small ones of the latest commits; a lookup
/// reads one chunk (or its filter) per run it may be in. `optimize` writes runs of about this
/// many entries too, each over its own range of prefixes.
pub(crate) const MAX_RUN_ENTRIES: u64 = 1 << 19;

/// How many of the newest runs (sizes oldest first) a new run of `new` entries is merged with:
/// while the next older is at most twice what is merged so far, and the merged run stays
/// within `max_run` entries.
pub(crate) fn runs_to_merge(sizes: &[u64], new: u64, max_run: u64) -> usize {
    let mut merged = new;
    let mut k = 0;
    for &prev in sizes.iter().rev() {
        if prev > 2 * merged || prev.saturating_add(merged) > max_run {
            break;
        }
        merged += prev;
        k += 1;
    }
    k
}

/// The tail of a run that a commit of `optimize` removes: its chunks from `keep` on, which
/// hold `removed` entries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Cut {
    pub(crate) run: u64,
    pub(crate) keep: usize,
    pub(crate) removed: u64,
}

/// The tail of `run` whose chunks hold only prefixes from `lo` on (each chunk whose first
/// prefix is at least `lo`), with the number of entries it holds; `None` when there is no such
/// chunk.
pub(crate) fn tail_from(tree: &sled::Tree, run: &Run, lo: u64) -> Result<Option<Cut>> {
    let keep = run.firsts.partition_point(|&first| first < lo);
    if keep == run.firsts.len() {
        return Ok(None);
    }
    let mut removed = 0u64;
    for c in keep..run.firsts.len() {
        let value = read_chunk(tree, run, c).map_err(|m| m.0)?;
        let raw = chunk_entries(|| chunk_name(run, c), &value)?;
        removed += (raw.len() / ENTRY_LEN) as u64;
    }
    Ok(Some(Cut {
        run: run.run,
        keep,
        removed,
    }))
}

/// What a commit of `optimize` does to the id index (it adds no bodies).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Rebuild {
    /// Every run replaced by one run of these entries (sorted).
    All(Vec<Entry>),
    /// These entries (sorted) added as a run of their own, merged with none, and the runs
    /// named by `cuts` shortened (dropped when no chunk is left).
    Part {
        /// The part's entries, sorted.
        entries: Vec<Entry>,
        /// The tails of the runs the part was read from that it (with the parts above it)
        /// now holds.
        cuts: Vec<Cut>,
    },
    /// The runs with these numbers removed.
    Drop(Vec<u64>),
}

/// Stages the index changes of one commit into `batch` and returns the new run directory:
/// `rebuild` as it says (the commit's `new` entries are then ignored: optimize adds no
/// bodies); else the commit's `new` entries become a run, merged with the newest runs as
/// [`runs_to_merge`] says (bounded by `max_run` entries).
pub(crate) fn stage(
    tree: &sled::Tree,
    batch: &mut sled::Batch,
    state: &mut State,
    runs: &[Run],
    new: Vec<Entry>,
    rebuild: Option<Rebuild>,
    max_run: u64,
) -> Result<Vec<Run>> {
    let mut runs = runs.to_vec();
    if let Some(rebuild) = rebuild {
        match rebuild {
            Rebuild::All(entries) => {
                for run in &runs {
                    remove_run(batch, run);
                }
                runs.clear();
                remove_stray_filters(tree, batch, &runs)?;
                if !entries.is_empty() {
                    runs.push(write_run(batch, state, &entries)?);
                }
            }
            Rebuild::Part { entries, cuts } => {
                for cut in &cuts {
                    let Some(run) = runs.iter_mut().find(|r| r.run == cut.run) else {
                        continue;
                    };
                    remove_chunks(batch, run, cut.keep);
                    run.firsts.truncate(cut.keep);
                    run.entries = run.entries.saturating_sub(cut.removed);
                }
                runs.retain(|r| !r.firsts.is_empty());
                if !entries.is_empty() {
                    runs.push(write_run(batch, state, &entries)?);
                }
            }
            Rebuild::Drop(numbers) => {
                for run in runs.iter().filter(|r| numbers.contains(&r.run)) {
                    remove_run(batch, run);
                }
                runs.retain(|r| !numbers.contains(&r.run));
                remove_stray_filters(tree, batch, &runs)?;
            }
        }
    } else if !new.is_empty() {
        let mut newest = new;
        newest.sort_unstable();
        let sizes: Vec<u64> = runs.iter().map(|r| r.entries).collect();
        for _ in 0..runs_to_merge(&sizes, newest.len() as u64, max_run) {
            let Some(prev) = runs.last() else { break };
            let old = read_run(tree, prev)?;
            newest = merge(&old, &newest);
            remove_run(batch, prev);
            runs.pop();
        }
        runs.push(write_run(batch, state, &newest)?);
    }
    Ok(runs)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One index chunk, byte by byte.
    #[test]
    fn chunk_pinned() {
        let entries = [(0x0102_0304_0506_0708, 9), (0x0102_0304_0506_0708, 10)];
        let v = encode_chunk(&entries);
        #[rustfmt::skip]
        let expected = [
            2,
            1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 9,
            1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 10,
        ];
        assert_eq!(v, expected);
        assert_eq!(decode_chunk(String::new, &v).unwrap(), entries);
        assert!(decode_chunk(String::new, &v[..24]).is_err());
        assert!(decode_chunk(String::new, &[2]).is_err());
        let many: Vec<Entry> = (0..=(CHUNK_ENTRIES as u32))
            .map(|i| (u64::from(i), i))
            .collect();
        let (chunks, firsts) = chunks_of(&many);
        assert_eq!(firsts, [0, CHUNK_ENTRIES as u64]);
        assert_eq!(chunks[1].len(), 1 + ENTRY_LEN);
    }

    /// The run directory, byte by byte.
    #[test]
    fn runs_pinned() {
        let runs = [
            Run {
                run: 1,
                entries: 2,
                firsts: vec![0x0A],
            },
            Run {
                run: 4,
                entries: 0,
                firsts: vec![],
            },
        ];
        let v = encode_runs(&runs);
        #[rustfmt::skip]
        let expected = [
            2, 0, 0, 0, 2,
            0, 0, 0, 0, 0, 0, 0, 1,  0, 0, 0, 0, 0, 0, 0, 2,  0, 0, 0, 1,  0, 0, 0, 0, 0, 0, 0, 0x0A,
            0, 0, 0, 0, 0, 0, 0, 4,  0, 0, 0, 0, 0, 0, 0, 0,  0, 0, 0, 0,
        ];
        assert_eq!(v, expected);
        assert_eq!(decode_runs(&v).unwrap(), runs);
        assert!(decode_runs(&v[..v.len() - 1]).is_err());
        // A chunk count larger than the value can hold is refused before allocating.
        let mut huge = v.clone();
        huge[21..25].copy_from_slice(&u32::MAX.to_be_bytes());
        assert!(decode_runs(&huge).is_err());
    }

    #[test]
    fn prefix_ranges() {
        let p = Prefix::parse("abcd").unwrap();
        assert_eq!(
            prefix_range(&p),
            (0xABCD_0000_0000_0000, 0xABCD_FFFF_FFFF_FFFF)
        );
        let p = Prefix::parse("abcde").unwrap();
        assert_eq!(
            prefix_range(&p),
            (0xABCD_E000_0000_0000, 0xABCD_EFFF_FFFF_FFFF)
        );
        let p = Prefix::parse(&"1".repeat(40)).unwrap();
        assert_eq!(
            prefix_range(&p),
            (0x1111_1111_1111_1111, 0x1111_1111_1111_1111)
        );
        let p = Prefix::parse(&"1".repeat(17)).unwrap();
        assert_eq!(
            prefix_range(&p),
            (0x1111_1111_1111_1111, 0x1111_1111_1111_1111)
        );
    }

    /// The merge policy: a binary counter while runs are small, no run merged past the bound.
    #[test]
    fn runs_merge_like_a_binary_counter_up_to_the_bound() {
        // Without a bound (the policy before it): sizes double, one run after 2^k commits.
        let mut sizes: Vec<u64> = Vec::new();
        for _ in 0..8 {
            let k = runs_to_merge(&sizes, 1, u64::MAX);
            let merged: u64 = sizes.drain(sizes.len() - k..).sum::<u64>() + 1;
            sizes.push(merged);
        }
        assert_eq!(sizes, [8]);
        // Bounded at 16: 1,000 commits of 3 entries never make a run over 16, and the runs
        // stay few (at most 2 per 16 entries, plus the small ones of the latest commits).
        let mut sizes: Vec<u64> = Vec::new();
        let mut largest = 0;
        for _ in 0..1000 {
            let k = runs_to_merge(&sizes, 3, 16);
            let merged: u64 = sizes.drain(sizes.len() - k..).sum::<u64>() + 3;
            largest = largest.max(merged);
            sizes.push(merged);
        }
        assert_eq!(sizes.iter().sum::<u64>(), 3000);
        assert!(largest <= 16, "{largest}");
        assert!(sizes.len() <= 2 * 3000 / 16 + 4, "{} runs", sizes.len());
        assert!(sizes.iter().filter(|&&s| s >= 8).count() >= sizes.len() - 4);
        // A commit larger than the bound is one run of its own.
        assert_eq!(runs_to_merge(&[4, 2], 40, 16), 0);
    }

    #[test]
    fn merge_keeps_order() {
        assert_eq!(
            merge(&[(1, 0), (3, 1), (3, 5)], &[(0, 9), (3, 2), (4, 4)]),
            [(0, 9), (1, 0), (3, 1), (3, 2), (3, 5), (4, 4)]
        );
    }
}
