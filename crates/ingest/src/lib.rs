//! morgue-ingest: format parsers. API SKELETON (todo!() bodies) — the real crate replaces it.
#![deny(missing_docs)]

use morgue_meta::{ArticleDate, Draft};

/// Input format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// Detect from the name and content.
    #[default]
    Auto,
    /// RFA plain text.
    Rfa,
    /// Plain text.
    Text,
    /// One JSON object (or an array of them).
    Json,
    /// JSON Lines.
    Jsonl,
}

/// Values that replace the parsed ones on every draft.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// services = [service]
    pub service: Option<String>,
    /// reporters = [reporter]
    pub reporter: Option<String>,
    /// date = date, origin Given
    pub date: Option<ArticleDate>,
}

/// A parsed article.
#[derive(Debug, Clone)]
pub struct Parsed {
    /// The draft.
    pub draft: Draft,
    /// Warnings about this article.
    pub warnings: Vec<String>,
}

/// Why an input (or one line of it) could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IngestError {
    /// Placeholder.
    #[error("{0}")]
    Other(String),
}

/// One article, or the error for one input unit.
#[derive(Debug)]
pub struct Entry {
    /// 1-based line for JSON Lines.
    pub line: Option<u64>,
    /// The article or the error.
    pub outcome: Result<Parsed, IngestError>,
}

/// Iterator over the entries of one input.
pub struct Entries {}

impl std::fmt::Debug for Entries {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Entries")
    }
}

impl Iterator for Entries {
    type Item = Entry;
    fn next(&mut self) -> Option<Entry> {
        todo!()
    }
}

/// Maximum size of one article.
pub const MAX_ARTICLE_BYTES: usize = 64 << 20;

/// Reads one input.
pub fn read(
    name: &str,
    input: Box<dyn std::io::Read + Send>,
    format: Format,
    overrides: &Overrides,
) -> Entries {
    let _ = (name, input, format, overrides);
    todo!()
}

/// Whether a directory import takes this file.
pub fn accepts(file_name: &str) -> bool {
    todo!("{file_name}")
}
