//! Format 1, read for the upgrade only: its trees, its blob values, and the upgrade of an
//! archive that holds only blobs (no article records). [`crate::Store::open_upgrading`] runs
//! an upgrade and marks the archive upgraded only once it succeeded.

use crate::dir::{Database, engine_error};
use crate::error::{Error, Result};
use crate::id::BlobId;
use crate::view::Legacy;
use crate::{Store, v1};

/// Name of the sled tree that held the blobs in format 1.
pub(crate) const BLOB_TREE: &str = "blobs";
/// The prefix of the names of the trees format 1's archive layer (morgue-meta) kept.
const ARCHIVE_TREES: &[u8] = b"meta:";

/// Bodies per commit of the upgrade.
const BATCH: usize = 1000;

/// [`Error::UpgradeNeedsArchive`] when the format-1 trees of morgue-meta (`meta:…`) hold
/// anything: [`Store::open_with`] leaves such an archive as it is.
pub(crate) fn refuse_archive_trees(db: &Database) -> Result<()> {
    let sled = db.sled();
    for name in sled.tree_names() {
        if name.starts_with(ARCHIVE_TREES)
            && !sled.open_tree(&name).map_err(engine_error)?.is_empty()
        {
            return Err(Error::UpgradeNeedsArchive {
                path: db.path().to_path_buf(),
            });
        }
    }
    Ok(())
}

/// Upgrades a format-1 archive that holds blobs only (the `upgrade` of
/// [`Store::open_with`]): stores every v1 blob (in id order, group "") through the commit
/// path. [`Error::Corrupted`] when a v1 blob does not decode to its id (the archive stays
/// format 1).
pub(crate) fn upgrade_blobs(store: &Store, legacy: &Legacy) -> Result<()> {
    let blobs = legacy.tree(BLOB_TREE)?;
    let mut bodies: Vec<Vec<u8>> = Vec::with_capacity(BATCH);
    let mut iter = blobs.scan_prefix(b"");
    loop {
        bodies.clear();
        for kv in iter.by_ref() {
            let (key, value) = kv?;
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
    Ok(())
}

/// Drops the trees format 1 wrote (the blobs, and the archive layer's `meta:…`) that a
/// format-2 database still holds: an upgrade interrupted after its header change, or just
/// finished.
pub(crate) fn drop_legacy_trees(db: &Database) -> Result<()> {
    let sled = db.sled();
    for name in sled.tree_names() {
        if *name == *BLOB_TREE.as_bytes() || name.starts_with(ARCHIVE_TREES) {
            sled.drop_tree(&name).map_err(engine_error)?;
        }
    }
    Ok(())
}

/// The body `id` of a format-1 archive, from its [`BLOB_TREE`], decoded and re-hashed
/// ([`Error::Corrupted`] when it does not match), or `None`.
pub(crate) fn v1_blob(db: &Database, id: &BlobId) -> Result<Option<Vec<u8>>> {
    let tree = db.sled().open_tree(BLOB_TREE).map_err(engine_error)?;
    match tree.get(id.as_bytes()).map_err(engine_error)? {
        Some(value) => decode_v1(id, &value).map(Some),
        None => Ok(None),
    }
}

/// Decodes a value of the format-1 [`BLOB_TREE`] stored under `id` and checks that it hashes
/// to `id`: [`Error::Corrupted`] when it does not decode or does not match.
pub(crate) fn decode_v1(id: &BlobId, value: &[u8]) -> Result<Vec<u8>> {
    match v1::decode(value) {
        Ok(body) if BlobId::of(&body) == *id => Ok(body),
        _ => Err(Error::Corrupted { id: *id }),
    }
}
