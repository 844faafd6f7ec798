//! The storage engine, as morgue-store exposes it: one place to swap it.

pub(crate) use morgue_store::Store;
pub(crate) use morgue_store::engine::{Database, PreparedBlob, engine_error, sled};
