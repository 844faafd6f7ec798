//! The upgrade of a format-1 archive that holds only blobs (no article records).

use crate::engine::{BLOB_TREE, Database, TREE, decode_v1, engine_error};
use crate::error::{Error, Result};
use crate::id::BlobId;
use crate::{FORMAT_VERSION, Store};

/// Bodies per commit of the upgrade.
const BATCH: usize = 1000;

/// Upgrades the format-1 archive `db` to format 2, when it holds blobs only: clears any
/// leftover `morgue` tree, stores every v1 blob (in id order, group "") through the commit
/// path, flushes, writes header version 2, then drops the v1 blob tree. A crash at any point
/// leaves either a format-1 archive (the next open redoes the upgrade) or a format-2 one
/// (whose next open drops the leftover v1 tree).
///
/// [`Error::UpgradeNeedsArchive`] when the v1 trees of morgue-meta (`meta:…`) hold anything;
/// [`Error::Corrupted`] when a v1 blob does not decode to its id (nothing is changed then).
pub(crate) fn upgrade_blobs(db: &Database, level: i32) -> Result<()> {
    let sled = db.sled();
    for name in sled.tree_names() {
        if name.starts_with(b"meta:") && !sled.open_tree(&name).map_err(engine_error)?.is_empty() {
            return Err(Error::UpgradeNeedsArchive {
                path: db.path().to_path_buf(),
            });
        }
    }
    sled.drop_tree(TREE).map_err(engine_error)?;
    let store = Store::on(db, level)?;
    let blobs = sled.open_tree(BLOB_TREE).map_err(engine_error)?;
    let mut bodies: Vec<Vec<u8>> = Vec::with_capacity(BATCH);
    let mut iter = blobs.iter();
    loop {
        bodies.clear();
        for kv in iter.by_ref() {
            let (key, value) = kv.map_err(engine_error)?;
            // A key that is not 32 bytes long names no blob (v1's verify reports it).
            let Some(id) = BlobId::from_key(&key) else {
                continue;
            };
            bodies.push(decode_v1(&id, &value)?);
            if bodies.len() == BATCH {
                break;
            }
        }
        if bodies.is_empty() {
            break;
        }
        let items: Vec<(&[u8], &str)> = bodies.iter().map(|b| (b.as_slice(), "")).collect();
        let prepared = store.prepare_batch(&items)?;
        let mut writer = store.writer();
        writer.place_many(prepared)?;
        writer.commit()?;
    }
    store.flush()?;
    drop(store);
    db.set_version(FORMAT_VERSION)?;
    sled.drop_tree(BLOB_TREE).map_err(engine_error)?;
    db.flush()
}
