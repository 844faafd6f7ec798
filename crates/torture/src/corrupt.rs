//! Deliberate damage to an archive, through the storage engine, while no morgue process holds
//! it: the corruption tests use it to check that `cat`, `show` and `verify` notice.

use std::path::Path;

use anyhow::{Context as _, Result, bail};
use morgue_store::engine::{Database, engine_error};
use morgue_store::{BlobId, Options};

/// Flips one bit of the stored value of blob `id` (in its payload, so that the value still
/// parses but no longer hashes to its id). Returns the offset flipped.
pub fn flip_body_byte(archive: &Path, id: &BlobId) -> Result<usize> {
    let db = open(archive)?;
    let tree = db
        .sled()
        .open_tree(morgue_store::engine::BLOB_TREE)
        .map_err(engine_error)?;
    let Some(value) = tree.get(id.as_bytes()).map_err(engine_error)? else {
        bail!("no stored body {id}");
    };
    let mut value = value.to_vec();
    if value.len() < 7 {
        bail!("the stored value of {id} is only {} bytes", value.len());
    }
    // Past the 6-byte value header: a payload byte near the middle.
    let at = 6 + (value.len() - 6) / 2;
    value[at] ^= 0x01;
    tree.insert(id.as_bytes(), value).map_err(engine_error)?;
    db.sled().flush().map_err(engine_error)?;
    Ok(at)
}

/// Removes every key of tree `tree` that contains the 32 bytes of `id`; returns how many.
/// With an index tree, this deletes the article's index entries there.
pub fn delete_entries(archive: &Path, tree: &str, id: &BlobId) -> Result<usize> {
    let db = open(archive)?;
    let names: Vec<String> = db
        .sled()
        .tree_names()
        .iter()
        .map(|n| String::from_utf8_lossy(n).into_owned())
        .collect();
    if !names.iter().any(|n| n == tree) {
        bail!("no tree {tree:?}; the archive has {names:?}");
    }
    let tree = db.sled().open_tree(tree).map_err(engine_error)?;
    let mut doomed = Vec::new();
    for item in &tree {
        let (key, _) = item.map_err(engine_error)?;
        if key.windows(32).any(|w| w == id.as_bytes()) {
            doomed.push(key);
        }
    }
    for key in &doomed {
        tree.remove(key).map_err(engine_error)?;
    }
    db.sled().flush().map_err(engine_error)?;
    Ok(doomed.len())
}

/// The names of the archive's trees (sled's default tree excluded).
pub fn tree_names(archive: &Path) -> Result<Vec<String>> {
    let db = open(archive)?;
    Ok(db
        .sled()
        .tree_names()
        .iter()
        .map(|n| String::from_utf8_lossy(n).into_owned())
        .filter(|n| n != "__sled__default")
        .collect())
}

fn open(archive: &Path) -> Result<Database> {
    let options = Options {
        create: false,
        ..Options::default()
    };
    Database::open(archive, &options).with_context(|| format!("opening {}", archive.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use morgue_store::{Error, Store};

    #[test]
    fn a_flipped_body_reads_as_corrupted() {
        let dir = tempfile::tempdir().unwrap();
        let archive = dir.path().join("a");
        let body = b"a body long enough to have a payload in the middle".repeat(3);
        let id = Store::open(&archive).unwrap().put(&body).unwrap();
        flip_body_byte(&archive, &id).unwrap();
        let store = Store::open(&archive).unwrap();
        assert!(matches!(store.get(&id), Err(Error::Corrupted { id: bad }) if bad == id));
        drop(store);
        assert!(flip_body_byte(&archive, &BlobId::of(b"absent")).is_err());
    }

    #[test]
    fn deletes_keys_that_hold_an_id() {
        let dir = tempfile::tempdir().unwrap();
        let archive = dir.path().join("a");
        let id = BlobId::of(b"x");
        {
            let db = Database::open(&archive, &Options::default()).unwrap();
            let tree = db.sled().open_tree("idx").unwrap();
            let mut key = b"name\x00".to_vec();
            key.extend_from_slice(id.as_bytes());
            tree.insert(key, b"").unwrap();
            tree.insert(b"other", b"").unwrap();
        }
        assert!(tree_names(&archive).unwrap().contains(&"idx".to_owned()));
        assert_eq!(delete_entries(&archive, "idx", &id).unwrap(), 1);
        assert_eq!(delete_entries(&archive, "idx", &id).unwrap(), 0);
        assert!(delete_entries(&archive, "nope", &id).is_err());
    }
}
