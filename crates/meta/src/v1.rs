//! Format 1, read only: the trees an archive written by format 1 holds, for the upgrade at open.
//!
//! A format-1 archive keeps one sled key per body (`blobs`), per record (`meta:records`, keyed by
//! the 32-byte id, value = the record codec of `codec.rs`, unchanged in format 2) and per index
//! entry. The upgrade reads only the records and the bodies: the indexes, facets and counters
//! are rebuilt from them.

/// The tree of records: id (32 bytes) -> record value.
pub(crate) const RECORDS_TREE: &str = "meta:records";
/// The tree of facets: `[tag] + normalized name` -> `[01][count u64 BE][first spelling]`.
pub(crate) const FACETS_TREE: &str = "meta:facets";
/// Format-1 facet tags and the format-2 index tags they became (reporter, service).
pub(crate) const FACET_TAGS: &[(u8, u8)] = &[(1, b'r'), (2, b's')];
/// Every tree format 1 wrote (`blobs`: morgue-store's): the store drops them once the upgrade
/// is durable.
#[cfg(test)]
pub(crate) const TREES: &[&str] = &[
    "blobs",
    RECORDS_TREE,
    "meta:index:date",
    "meta:index:reporter",
    "meta:index:service",
    "meta:facets",
    "meta:meta",
];
