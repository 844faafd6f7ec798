//! morgue-model: what an article is, shared by every other crate of morgue.
//!
//! - [`Record`] (an article's metadata), [`Draft`] (a body and its record, ready to store),
//!   [`ArticleDate`], [`DateOrigin`] and [`MergePolicy`] (what a duplicate does to the stored
//!   record);
//! - [`normalize`], how names are matched;
//! - [`ArticleJson`], the one encoder of the article JSON object that `list`, `show` and
//!   `export` print and that the JSON readers of morgue-ingest read back;
//! - [`Parsed`], [`Source`] and [`Item`]: an article read from an input, where it came from,
//!   and what a reader hands to the import pipeline of morgue-meta.
//!
//! It depends on no storage crate: the parsers (morgue-ingest) use it without linking the archive.
//!
//! ```
//! use morgue_model::{ArticleJson, Draft, MergePolicy, Record};
//!
//! let mut stored = Record { title: "Port Reopens".into(), ..Record::default() };
//! let draft = Draft {
//!     body: "The port reopened.".into(),
//!     record: Record { reporters: vec!["Ann Lee".into()], ..Record::default() },
//!     original: None,
//! };
//! assert_eq!(stored.merge(&draft.record, MergePolicy::FillEmpty), ["reporters"]);
//!
//! let json = serde_json::to_value(ArticleJson::new(&"0f3a", &stored))?;
//! assert_eq!(json["reporters"][0], "Ann Lee");
//! assert_eq!(morgue_model::normalize(" Ann  LEE "), "ann lee");
//! # Ok::<(), serde_json::Error>(())
//! ```
#![deny(missing_docs)]

mod export;
mod names;
mod record;
mod source;

pub use export::{ArticleJson, FIELDS, extra_object, parse_timestamp, timestamp};
pub use export::{base64_decode, base64_encode};
pub use names::normalize;
pub use record::{
    ArticleDate, DateOrigin, DatePrecision, Draft, MergePolicy, Original, OriginalRef, Record,
};
pub use source::{Item, Parsed, Source};
