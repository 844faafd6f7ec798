//! The upgrade of a format-1 archive to format 2, at `Archive::open`.
//!
//! Every format-1 record is re-imported, in id order, with its body, through the format-2
//! commit path in batches (the records exactly as stored, `imported_at` included); then the
//! archive is flushed, the header says version 2 (atomic rename) and the format-1 trees are
//! dropped. Until the header says 2, a crash leaves a format-1 archive whose `morgue` tree the
//! next open clears before starting over; after it, the next open drops the format-1 trees
//! left.

use crate::engine::{Database, sled, v1_blob};
use crate::{
    Archive, BlobId, MergePolicy, Prepared, Result, codec, engine_err, group_of, keys, v1,
};

/// Articles per upgrade batch.
const BATCH: usize = 2000;

/// Re-imports every format-1 record of `archive`, then makes the archive format 2.
///
/// A record that does not decode, or whose body is missing or corrupted, cannot be carried
/// over and is left behind (format 1's `verify` reported those already); so is a body without
/// a record.
pub(crate) fn upgrade(archive: &Archive) -> Result<()> {
    let records = archive
        .db
        .sled()
        .open_tree(v1::RECORDS_TREE)
        .map_err(engine_err)?;
    let mut batch: Vec<(Vec<u8>, crate::Record)> = Vec::with_capacity(BATCH);
    for kv in &records {
        let (k, v) = kv.map_err(engine_err)?;
        let Ok(id) = <[u8; 32]>::try_from(&*k).map(BlobId::from_bytes) else {
            continue;
        };
        let Ok((record, _)) = codec::decode(&v) else {
            continue;
        };
        let body = match v1_blob(&archive.db, &id) {
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
    drop(records);
    keep_spellings(archive)?;
    archive.flush()?;
    archive.db.set_version(morgue_store::FORMAT_VERSION)?;
    drop_v1_trees(&archive.db)
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
        .map(|(blob, (_, record))| Prepared::new(blob, record, None))
        .collect();
    archive.commit(prepared, MergePolicy::FillEmpty)?;
    Ok(())
}

/// Gives every facet the spelling format 1 had first seen (the re-import ran in id order, not
/// in the order the articles came).
fn keep_spellings(archive: &Archive) -> Result<()> {
    let facets = archive
        .db
        .sled()
        .open_tree(v1::FACETS_TREE)
        .map_err(engine_err)?;
    let _guard = archive.lock();
    let mut w = archive.store.writer();
    for kv in &facets {
        let (k, v) = kv.map_err(engine_err)?;
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
        let current = archive.tree.get(&key).map_err(engine_err)?;
        if let Some((count, first)) = current.as_deref().and_then(keys::parse_facet)
            && first != display
        {
            w.put(key, keys::facet_value(count, display));
        }
    }
    w.commit()?;
    Ok(())
}

/// Drops whatever format-1 trees a database of format 2 still holds (an upgrade interrupted
/// after its header change).
pub(crate) fn drop_v1_trees(db: &Database) -> Result<()> {
    let names = db.sled().tree_names();
    for tree in v1::TREES {
        if names.iter().any(|n| n.as_ref() == tree.as_bytes()) {
            drop_tree(db.sled(), tree)?;
        }
    }
    Ok(())
}

fn drop_tree(db: &sled::Db, name: &str) -> Result<()> {
    db.drop_tree(name).map_err(engine_err)?;
    Ok(())
}
