//! End-to-end tests of the `morgue` binary: each runs the binary cargo built for this test
//! target (`CARGO_BIN_EXE_morgue`) with a cleared environment on an archive in its own
//! temporary directory. `cargo test -p morgue --test it NAME` runs one.

mod common;

mod cli_defects;
mod corpus;
mod errors;
mod help;
mod hostile;
mod import;
mod input_defects;
mod lifecycle;
mod locking;
mod optimize;
mod originals;
mod parquet;
mod query;
mod readonly;
mod reliability;
mod search;
mod serve;
mod through_server;
mod version;
mod web;
