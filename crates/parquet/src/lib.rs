//! morgue-parquet: morgue's archive as Parquet files, and Parquet files as articles.
//!
//! - [`Exporter`] writes articles (an id, a [`Record`], maybe a body) as zstd-compressed
//!   Parquet files under a directory, partitioned Hive-style by service and year
//!   (`service=reuters/year=1987/part-0.parquet`), one row per article, streaming: rows are
//!   buffered per partition up to a row group and written out, so memory stays bounded whatever
//!   the number of articles. The whole tree is written under a temporary name and renamed when
//!   complete.
//! - [`read`] reads one Parquet file (morgue's own export, or a published dataset with columns
//!   such as `text`, `title`, `date`, `url`, `authors`) and yields the same
//!   [`morgue_ingest::Entry`] items as the JSON readers: each row becomes a JSON object that
//!   [`morgue_ingest::read_object`] reads with the JSON readers' field names, so both formats take
//!   the same aliases.
//!
//! No Arrow or Parquet type appears in this crate's API. The columns, partition values and
//! errors are described in docs/formats.md ("Parquet").
//!
//! ```
//! use morgue_model::Record;
//! use morgue_parquet::{ExportOptions, Exporter};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = tempfile::tempdir()?;
//! let dest = dir.path().join("dataset");
//! let mut export = Exporter::create(&dest, ExportOptions::default())?;
//! let record = Record { title: "Rain".into(), services: vec!["Wire".into()], ..Record::default() };
//! export.push("0f3a", &record, Some("It rained."))?;
//! let summary = export.finish()?;
//! assert_eq!(summary.rows, 1);
//! let file = dest.join("service=Wire/year=__HIVE_DEFAULT_PARTITION__/part-0.parquet");
//!
//! let mut rows = morgue_parquet::read(
//!     &file.display().to_string(),
//!     std::fs::File::open(&file)?,
//!     &morgue_ingest::Overrides::default(),
//! );
//! let parsed = rows.next().ok_or("no row")?.outcome?;
//! assert_eq!(parsed.draft.body, "It rained.");
//! assert_eq!(parsed.draft.record.title, "Rain");
//! assert!(rows.next().is_none());
//! # Ok(())
//! # }
//! ```
#![deny(missing_docs)]

mod partition;
mod read;
pub mod samples;
mod schema;
mod write;

pub use morgue_model::Record;
pub use partition::{NONE, escape, partition_values, unescape};
pub use read::{Rows, read, read_bytes};
pub use write::{ExportError, ExportOptions, ExportSummary, Exporter};

/// The key of the Parquet file metadata that marks morgue's own export; its value is the
/// version of the export's columns ([`EXPORT_VERSION`]).
pub const EXPORT_KEY: &str = "morgue.export";
/// The version of the export's columns, written under [`EXPORT_KEY`].
pub const EXPORT_VERSION: &str = "1";

/// Whether a directory import takes this file: a name ending in `.parquet` (any case).
pub fn accepts(file_name: &str) -> bool {
    let lower = file_name.to_ascii_lowercase();
    lower.len() > ".parquet".len() && lower.ends_with(".parquet")
}

/// Whether these are the first bytes of a Parquet file (`PAR1`).
pub fn is_parquet(head: &[u8]) -> bool {
    head.starts_with(b"PAR1")
}

#[cfg(test)]
mod tests;
