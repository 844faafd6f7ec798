//! The storage engine, as morgue-store exposes it: one place to swap it.

pub(crate) use morgue_store::{Key, PreparedBlob, Seq, Store, Value, View, Writer};
