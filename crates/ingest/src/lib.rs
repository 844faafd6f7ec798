//! morgue-ingest: format parsers (in progress).
#![deny(missing_docs)]
