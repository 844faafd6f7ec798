//! TEMPORARY stand-in for `morgue_store::engine` until the store branch is merged: same API as
//! CONTRACTS.md, on plain sled, bodies stored uncompressed. Replaced by a re-export after merge.
#![allow(dead_code, missing_docs, clippy::pedantic, clippy::all)]

use std::path::{Path, PathBuf};

pub(crate) use morgue_store::{BlobId, Error, Options, Result};
pub(crate) use sled;

#[derive(Clone, Debug)]
pub(crate) struct Database {
    db: sled::Db,
    path: PathBuf,
}

impl Database {
    pub(crate) fn open(dir: &Path, options: &Options) -> Result<Database> {
        if !dir.exists() && !options.create {
            return Err(Error::NoArchive {
                path: dir.to_path_buf(),
            });
        }
        let mut tries = 0;
        loop {
            match sled::open(dir) {
                Ok(db) => {
                    return Ok(Database {
                        db,
                        path: dir.to_path_buf(),
                    });
                }
                Err(e) => {
                    tries += 1;
                    if tries > 100 {
                        return Err(engine_error(e));
                    }
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
            }
        }
    }
    pub(crate) fn sled(&self) -> &sled::Db {
        &self.db
    }
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }
    pub(crate) fn disk_bytes(&self) -> Result<u64> {
        fn walk(p: &Path) -> u64 {
            let mut n = 0;
            if let Ok(rd) = std::fs::read_dir(p) {
                for e in rd.flatten() {
                    if let Ok(m) = e.metadata() {
                        n += if m.is_dir() { walk(&e.path()) } else { m.len() };
                    }
                }
            }
            n
        }
        Ok(walk(&self.path))
    }
}

pub(crate) struct PreparedBlob {
    pub id: BlobId,
    pub raw_len: u64,
    pub value: Vec<u8>,
}

#[derive(Debug)]
pub(crate) struct Store {
    tree: sled::Tree,
}

impl Store {
    pub(crate) fn on(db: &Database, _zstd_level: i32) -> Result<Store> {
        Ok(Store {
            tree: db.db.open_tree("blobs").map_err(engine_error)?,
        })
    }
    pub(crate) fn tree(&self) -> &sled::Tree {
        &self.tree
    }
    pub(crate) fn prepare(&self, bytes: &[u8]) -> Result<PreparedBlob> {
        let mut value = vec![1, 0];
        value.extend_from_slice(bytes);
        Ok(PreparedBlob {
            id: BlobId::of(bytes),
            raw_len: bytes.len() as u64,
            value,
        })
    }
    pub(crate) fn decode(&self, id: &BlobId, value: &[u8]) -> Result<Vec<u8>> {
        let body = value.get(2..).ok_or(Error::Corrupted { id: *id })?;
        if BlobId::of(body) != *id {
            return Err(Error::Corrupted { id: *id });
        }
        Ok(body.to_vec())
    }
    pub(crate) fn get(&self, id: &BlobId) -> Result<Option<Vec<u8>>> {
        match self.tree.get(id.as_bytes()).map_err(engine_error)? {
            Some(v) => self.decode(id, &v).map(Some),
            None => Ok(None),
        }
    }
    pub(crate) fn resolve(&self, prefix: &str) -> Result<BlobId> {
        let mut found = Vec::new();
        for kv in self.tree.iter() {
            let (k, _) = kv.map_err(engine_error)?;
            if let Ok(b) = <[u8; 32]>::try_from(&*k) {
                let id = BlobId::from_bytes(b);
                if id.to_string().starts_with(&prefix.to_ascii_lowercase()) {
                    found.push(id);
                }
            }
        }
        match found.len() {
            0 => Err(Error::NotFound {
                prefix: prefix.to_string(),
            }),
            1 => Ok(found[0]),
            _ => Err(Error::Ambiguous {
                prefix: prefix.to_string(),
                candidates: found,
            }),
        }
    }
}

pub(crate) fn engine_error(e: sled::Error) -> Error {
    Error::Engine(e.to_string())
}
