//! End-to-end tests of the `morgue` binary: each runs the built binary (assert_cmd) with a
//! cleared environment on an archive in its own temporary directory.
//!
//! The binary is built by `cargo test --workspace` (crates/cli has an integration test of its
//! own, which makes cargo build it); with `-p morgue-tests` alone, run `cargo build -p morgue`
//! first.

mod common;

mod cli_defects;
mod corpus;
mod errors;
mod help;
mod hostile;
mod import;
mod lifecycle;
mod locking;
mod optimize;
mod query;
mod reliability;
