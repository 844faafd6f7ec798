//! The upgrade of a format-1 archive to format 2, at `Archive::open`, run by
//! [`morgue_store::Store::open_upgrading`].
//!
//! Every format-1 record is re-imported, in id order, with its body, through the format-2
//! commit path in batches (the records exactly as stored, `imported_at` included). Once that
//! succeeded, the store flushes the archive, makes the header say version 2 (atomic rename)
//! and drops the format-1 trees. Until the header says 2, a crash leaves a format-1 archive
//! whose `morgue` tree the next open clears before starting over; after it, the next open
//! drops the format-1 trees left.

use morgue_store::Legacy;

use crate::engine::Key;
use crate::{Archive, BlobId, Error, MergePolicy, Prepared, Result, codec, group_of, keys, v1};

/// Articles per upgrade batch.
const BATCH: usize = 2000;

/// Re-imports every format-1 record of `archive`, then makes the archive format 2.
///
/// A record that does not decode, or whose body is missing or corrupted, cannot be carried
/// over and is left behind (format 1's `verify` reported those already); so is a body without
/// a record.
pub(crate) fn upgrade(archive: &Archive, legacy: &Legacy) -> Result<()> {
    let records = legacy.tree(v1::RECORDS_TREE)?;
    let mut batch: Vec<(Vec<u8>, crate::Record)> = Vec::with_capacity(BATCH);
    for kv in records.scan_prefix(b"") {
        let (k, v) = kv.map_err(Error::Store)?;
        let Ok(id) = <[u8; 32]>::try_from(&*k).map(BlobId::from_bytes) else {
            continue;
        };
        let Ok((record, _)) = codec::decode(&v) else {
            continue;
        };
        let body = match legacy.blob(&id) {
            Ok(Some(body)) => body,
            Ok(None) | Err(morgue_store::Error::Corrupted { .. }) => continue,
            Err(e) => return Err(e.into()),
        };
        batch.push((body, record));
        if batch.len() == BATCH {
            import(archive, std::mem::take(&mut batch))?;
        }
    }
    import(archive, batch)?;
    keep_spellings(archive, legacy)
}

/// Commits one batch of format-1 articles, records unchanged.
fn import(archive: &Archive, batch: Vec<(Vec<u8>, crate::Record)>) -> Result<()> {
    if batch.is_empty() {
        return Ok(());
    }
    let groups: Vec<String> = batch.iter().map(|(_, r)| group_of(r)).collect();
    let items: Vec<(&[u8], &str)> = batch
        .iter()
        .zip(&groups)
        .map(|((body, _), g)| (body.as_slice(), g.as_str()))
        .collect();
    let blobs = archive.store.prepare_batch(&items)?;
    let prepared = blobs
        .into_iter()
        .zip(batch)
        .map(|(blob, (_, record))| Prepared::new(blob, record, None, None))
        .collect();
    archive.commit(prepared, MergePolicy::FillEmpty)?;
    Ok(())
}

/// Gives every facet the spelling format 1 had first seen (the re-import ran in id order, not
/// in the order the articles came).
fn keep_spellings(archive: &Archive, legacy: &Legacy) -> Result<()> {
    let facets = legacy.tree(v1::FACETS_TREE)?;
    let _guard = archive.lock();
    let mut w = archive.store.writer();
    for kv in facets.scan_prefix(b"") {
        let (k, v) = kv.map_err(Error::Store)?;
        let (Some((&tag, name)), Some(display)) = (k.split_first(), v.get(9..)) else {
            continue;
        };
        let Some(def) = v1::FACET_TAGS.iter().find(|(t, _)| *t == tag) else {
            continue;
        };
        let (Ok(name), Ok(display)) = (std::str::from_utf8(name), std::str::from_utf8(display))
        else {
            continue;
        };
        let key = keys::facet_key(def.1, name);
        let current = archive.tree.get(&key).map_err(Error::Store)?;
        if let Some((count, first)) = current.as_deref().and_then(keys::parse_facet)
            && first != display
        {
            w.put(Key::new(key)?, keys::facet_value(count, display));
        }
    }
    w.commit()?;
    Ok(())
}
