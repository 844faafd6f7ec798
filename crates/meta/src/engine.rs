//! The storage engine, as morgue-store exposes it: one place to swap it.

pub(crate) use morgue_store::engine::{Database, TREE, engine_error, sled, v1_blob};
pub(crate) use morgue_store::{PreparedBlob, Seq, Store, Writer};
