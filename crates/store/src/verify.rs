//! [`Store::verify`]: every live body decoded and re-hashed, the index and the state checked.

use std::collections::HashSet;

use rayon::prelude::*;

use crate::VerifyReport;
use crate::dir::engine_error;
use crate::error::{Error, Result};
use crate::filter::{self, Filter};
use crate::format::{
    self, Slot, SlotTable, State, TABLE_SLOTS, TAG_DICT, TAG_FILTER, TAG_GROUP, TAG_INDEX,
    TAG_RUNS, TAG_SLOTS, TAG_STATE,
};
use crate::id::BlobId;
use crate::index;
use crate::store::{Located, Store, key_number};

/// What one slot table contributes to the report.
#[derive(Default)]
struct TableCheck {
    checked: u64,
    corrupted: Vec<BlobId>,
    live: u64,
    raw: u64,
    stored: u64,
    /// The id of each slot: `None` when removed or its record is damaged.
    ids: Vec<Option<BlobId>>,
    damaged: Vec<String>,
}

pub(crate) fn verify(store: &Store) -> Result<VerifyReport> {
    let tree = store.tree();
    // Writers wait: the check sees one state of the archive.
    let _writer = store.writer();
    let cache = store.cache();
    let mut report = VerifyReport::default();

    // Every key of the store has the length its tag says; index chunks belong to a run.
    let runs: HashSet<u64> = cache.runs.iter().map(|r| r.run).collect();
    for kv in tree.iter().keys() {
        let key = kv.map_err(engine_error)?;
        let ok = match key.first() {
            Some(b'a'..=b'z') => continue,
            Some(&TAG_STATE | &TAG_RUNS) => key.len() == 1,
            Some(&TAG_SLOTS | &TAG_DICT) => key.len() == 5,
            Some(&TAG_GROUP) => key.len() == 3,
            Some(&TAG_INDEX | &TAG_FILTER) => {
                index::run_of_key(&key).is_some_and(|r| runs.contains(&r))
            }
            _ => false,
        };
        if !ok {
            report.checked += 1;
            report.malformed_keys.push(key.to_vec());
        }
    }

    // The index: every entry, by sequence number.
    let mut entries: Vec<(u32, u64)> = Vec::new();
    for run in cache.runs.iter() {
        for c in 0..run.firsts.len() as u32 {
            let what = || format!("index run {} chunk {c}", run.run);
            match tree
                .get(index::key_chunk(run.run, c))
                .map_err(engine_error)?
            {
                Some(v) => match index::decode_chunk(what, &v) {
                    Ok(chunk) => {
                        if chunk.first().map(|e| e.0) != run.firsts.get(c as usize).copied()
                            || !chunk.is_sorted()
                        {
                            report.damaged.push(format!("{} (order)", what()));
                        }
                        // Its filter, when it has one, must let every entry through: one that
                        // did not would make a lookup miss the body (and store it again).
                        if let Some(value) = tree
                            .get(filter::key_filter(run.run, c))
                            .map_err(engine_error)?
                        {
                            let holds = Filter::decode(&value)
                                .is_some_and(|f| chunk.iter().all(|(p, _)| f.may_hold(*p)));
                            if !holds {
                                report.damaged.push(format!("{} filter", what()));
                            }
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

    // The slot tables and records, in parallel: bodies decoded and re-hashed.
    let mut tables = Vec::new();
    for kv in tree.scan_prefix([TAG_SLOTS]) {
        let (key, value) = kv.map_err(engine_error)?;
        let Some(table) = key_number(&key) else {
            continue; // reported above
        };
        match SlotTable::decode(table, &value) {
            Ok(decoded) => tables.push((table, decoded.slots)),
            Err(Error::Damaged { what }) => report.damaged.push(what),
            Err(e) => return Err(e),
        }
    }
    let checks: Vec<Result<TableCheck>> = tables
        .par_iter()
        .map(|(table, slots)| check_table(store, *table, slots))
        .collect();
    let (mut live, mut raw, mut stored, mut end) = (0u64, 0u64, 0u64, 0u64);
    let mut cursor = 0;
    let mut bad_entries = 0u64;
    for ((table, slots), check) in tables.iter().zip(checks) {
        let check = check?;
        report.checked += check.checked;
        report.damaged.extend(check.damaged);
        live += check.live;
        raw += check.raw;
        stored += check.stored;
        let base = table * TABLE_SLOTS;
        end = end.max(u64::from(base) + slots.len() as u64);
        // Entries before this slot table name no slot.
        while cursor < entries.len() && entries[cursor].0 < base {
            bad_entries += 1;
            cursor += 1;
        }
        let start = cursor;
        while cursor < entries.len() && entries[cursor].0 < base + TABLE_SLOTS {
            let (seq, prefix) = entries[cursor];
            let i = (seq - base) as usize;
            match (slots.get(i), check.ids.get(i)) {
                // A removed body's entry stays until optimize (a dead entry).
                (Some(slot), _) if slot.is_removed() => {}
                (Some(_), Some(Some(id))) if index::prefix_of(id) == prefix => {}
                // A damaged record is reported already.
                (Some(_), Some(None)) => {}
                _ => bad_entries += 1,
            }
            cursor += 1;
        }
        let here = &entries[start..cursor];
        for (i, id) in check.ids.iter().enumerate() {
            let Some(id) = id else { continue };
            let seq = base + i as u32;
            let indexed = here.binary_search(&(seq, index::prefix_of(id))).is_ok();
            let corrupted = check.corrupted.contains(id);
            // A corrupted body whose record names an id the index does not have at its seq,
            // while the index has another: the record header itself is damaged, and its id
            // names nothing (never report an id that did not exist).
            let other_entry = here.iter().any(|(s, _)| *s == seq);
            if corrupted && !indexed && other_entry {
                report.damaged.push(format!(
                    "record of seq {seq} (pack file {}, offset {}: its id is not the indexed one)",
                    crate::packfile::file_name(slots[i].file),
                    slots[i].offset
                ));
                bad_entries = bad_entries.saturating_sub(1);
                continue;
            }
            if corrupted {
                report.corrupted.push(*id);
            }
            if !indexed {
                report.unindexed.push(*id);
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
    // The active pack file holds at least what was committed.
    let s = cache.state;
    let files = store.files();
    if s.file_len > 0 && files.len(s.file)?.unwrap_or(0) < s.file_len {
        report.damaged.push(format!(
            "pack file {} (shorter than the {} bytes committed)",
            crate::packfile::file_name(s.file),
            s.file_len
        ));
    }
    report.corrupted.sort_unstable();
    report.unindexed.sort_unstable();
    Ok(report)
}

fn check_table(store: &Store, table: u32, slots: &[Slot]) -> Result<TableCheck> {
    let mut check = TableCheck::default();
    for (i, slot) in slots.iter().enumerate() {
        if slot.is_removed() {
            check.ids.push(None);
            continue;
        }
        let seq = table * TABLE_SLOTS + i as u32;
        check.checked += 1;
        check.live += 1;
        check.raw += u64::from(slot.raw_len);
        check.stored += u64::from(slot.frame_len);
        let Some(id) = store.record_id(seq, slot)? else {
            check.damaged.push(format!(
                "record of seq {seq} (pack file {}, offset {})",
                crate::packfile::file_name(slot.file),
                slot.offset
            ));
            check.ids.push(None);
            continue;
        };
        check.ids.push(Some(id));
        let loc = Located {
            seq,
            id,
            slot: *slot,
        };
        match store.body(&loc) {
            Ok(_) => {}
            Err(Error::Corrupted { id }) => check.corrupted.push(id),
            Err(e) => return Err(e),
        }
    }
    Ok(check)
}
