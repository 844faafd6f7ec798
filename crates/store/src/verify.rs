//! [`Store::verify`]: every live body decoded and re-hashed, the index and the state checked.

use std::collections::HashSet;

use rayon::prelude::*;

use crate::VerifyReport;
use crate::engine::engine_error;
use crate::error::{Error, Result};
use crate::format::{
    self, PACK_SLOTS, Pack, State, TAG_DICT, TAG_GROUP, TAG_IDS, TAG_INDEX, TAG_PACK, TAG_RUNS,
    TAG_STATE,
};
use crate::id::BlobId;
use crate::store::{Located, STORE_TAGS, Store, pack_number};

/// What one pack contributes to the report.
#[derive(Default)]
struct PackCheck {
    checked: u64,
    corrupted: Vec<BlobId>,
    live: u64,
    raw: u64,
    stored: u64,
    live_ids: Vec<(u32, BlobId)>,
}

pub(crate) fn verify(store: &Store) -> Result<VerifyReport> {
    let tree = &store.inner.tree;
    // Writers wait: the check sees one state of the archive.
    let _writer = store.writer();
    let cache = store.cache();
    let mut report = VerifyReport::default();

    // Every key of the store has the length its tag says; index chunks belong to a run.
    let runs: HashSet<u64> = cache.runs.iter().map(|r| r.run).collect();
    let mut packs = Vec::new();
    for kv in tree.iter().keys() {
        let key = kv.map_err(engine_error)?;
        let ok = match key.first() {
            Some(b'a'..=b'z') => continue,
            Some(&TAG_STATE | &TAG_RUNS) => key.len() == 1,
            Some(&TAG_PACK) => {
                if let Some(p) = pack_number(&key) {
                    packs.push(p);
                }
                key.len() == 5
            }
            Some(&TAG_IDS | &TAG_DICT) => key.len() == 5,
            Some(&TAG_GROUP) => key.len() == 3,
            Some(&TAG_INDEX) => {
                key.len() == 13
                    && runs.contains(&u64::from_be_bytes(
                        key[1..9].try_into().unwrap_or_default(),
                    ))
            }
            _ => false,
        };
        if !ok {
            report.checked += 1;
            report.malformed_keys.push(key.to_vec());
        }
    }
    debug_assert!(STORE_TAGS.len() == 7);

    // The index: every entry, by sequence number.
    let mut entries: Vec<(u32, u64)> = Vec::new();
    for run in cache.runs.iter() {
        for c in 0..run.firsts.len() as u32 {
            let what = || format!("index run {} chunk {c}", run.run);
            match tree
                .get(format::key_chunk(run.run, c))
                .map_err(engine_error)?
            {
                Some(v) => match format::decode_chunk(what, &v) {
                    Ok(chunk) => {
                        if chunk.first().map(|e| e.0) != run.firsts.get(c as usize).copied()
                            || !chunk.is_sorted()
                        {
                            report.damaged.push(format!("{} (order)", what()));
                        }
                        entries.extend(chunk.into_iter().map(|(p, s)| (s, p)));
                    }
                    Err(Error::Damaged { what }) => report.damaged.push(what),
                    Err(e) => return Err(e),
                },
                None => report.damaged.push(format!("{} (missing)", what())),
            }
        }
    }
    entries.sort_unstable();

    // The packs, in parallel: bodies decoded and re-hashed.
    let mut ids_of_packs = Vec::new();
    for kv in tree.scan_prefix([TAG_IDS]) {
        let (key, ids) = kv.map_err(engine_error)?;
        let Some(pack) = pack_number(&key) else {
            continue; // reported above
        };
        match format::decode_ids(pack, &ids) {
            Ok(ids) => ids_of_packs.push((pack, ids)),
            Err(Error::Damaged { what }) => report.damaged.push(what),
            Err(e) => return Err(e),
        }
    }
    let with_ids: HashSet<u32> = ids_of_packs.iter().map(|(p, _)| *p).collect();
    for p in &packs {
        if !with_ids.contains(p) {
            report.damaged.push(format!("pack {p} (no id block)"));
        }
    }
    let checks: Vec<Result<PackCheck>> = ids_of_packs
        .par_iter()
        .map(|(pack, ids)| check_pack(store, *pack, ids))
        .collect();
    let (mut live, mut raw, mut stored, mut end) = (0u64, 0u64, 0u64, 0u64);
    let mut cursor = 0;
    let mut bad_entries = 0u64;
    for ((pack, ids), check) in ids_of_packs.iter().zip(checks) {
        let check = check?;
        report.checked += check.checked;
        report.corrupted.extend(check.corrupted);
        live += check.live;
        raw += check.raw;
        stored += check.stored;
        let base = pack * PACK_SLOTS;
        end = end.max(u64::from(base) + ids.len() as u64);
        // Entries before this pack name no slot.
        while cursor < entries.len() && entries[cursor].0 < base {
            bad_entries += 1;
            cursor += 1;
        }
        let start = cursor;
        while cursor < entries.len() && entries[cursor].0 < base + PACK_SLOTS {
            let (seq, prefix) = entries[cursor];
            match ids.get((seq - base) as usize) {
                Some(id) if format::prefix_of(id) == prefix => {}
                _ => bad_entries += 1,
            }
            cursor += 1;
        }
        let here = &entries[start..cursor];
        for (seq, id) in check.live_ids {
            if here.binary_search(&(seq, format::prefix_of(&id))).is_err() {
                report.unindexed.push(id);
            }
        }
    }
    bad_entries += (entries.len() - cursor) as u64;
    report.bad_index_entries = bad_entries;

    // The state against what was counted.
    match tree.get(format::key_state()).map_err(engine_error)? {
        Some(v) => match State::decode(&v) {
            Ok(s) => {
                if (s.live, s.raw_bytes, s.stored_bytes) != (live, raw, stored)
                    || u64::from(s.next_seq) < end
                {
                    report.damaged.push(format!(
                        "store state (says {} bodies, {} bytes, {} stored, next {}; found {live}, \
                         {raw}, {stored}, {end} slots)",
                        s.live, s.raw_bytes, s.stored_bytes, s.next_seq
                    ));
                }
            }
            Err(Error::Damaged { what }) => report.damaged.push(what),
            Err(e) => return Err(e),
        },
        None => report.damaged.push("store state (missing)".into()),
    }
    report.corrupted.sort_unstable();
    report.unindexed.sort_unstable();
    Ok(report)
}

fn check_pack(store: &Store, pack: u32, ids: &[BlobId]) -> Result<PackCheck> {
    let mut check = PackCheck::default();
    let value = store
        .inner
        .tree
        .get(format::key_pack(TAG_PACK, pack))
        .map_err(engine_error)?;
    let decoded = value
        .as_ref()
        .map(|v| Pack::decode(pack, v))
        .and_then(Result::ok)
        .filter(|p| p.slots.len() == ids.len());
    let (Some(value), Some(decoded)) = (value, decoded) else {
        // Without its pack, every body of the block is lost.
        check.checked = ids.len() as u64;
        check.corrupted = ids.to_vec();
        return Ok(check);
    };
    for (i, id) in ids.iter().enumerate() {
        let slot = decoded.slots[i];
        if slot.is_removed() {
            continue;
        }
        let seq = pack * PACK_SLOTS + i as u32;
        check.checked += 1;
        check.live += 1;
        check.raw += u64::from(slot.raw_len);
        check.stored += u64::from(slot.frame_len);
        check.live_ids.push((seq, *id));
        let loc = Located {
            seq,
            id: *id,
            value: value.clone(),
            pack: decoded.clone(),
        };
        match store.body(&loc) {
            Ok(_) => {}
            Err(Error::Corrupted { id }) => check.corrupted.push(id),
            Err(e) => return Err(e),
        }
    }
    Ok(check)
}
