//! Output helpers: the article JSON object, text fitting for tables, byte sizes.

use std::io;

use morgue_meta::{BlobId, Record};
use serde::Serialize;
use unicode_width::{UnicodeWidthChar as _, UnicodeWidthStr as _};

/// A buffered, locked standard output. Callers `flush()` it explicitly so that a write error
/// (a closed pipe) is seen.
pub fn stdout() -> io::BufWriter<io::StdoutLock<'static>> {
    io::BufWriter::with_capacity(64 * 1024, io::stdout().lock())
}

/// One article as JSON: the shape of `list --format json`, `show --format json` and `export`
/// (docs/cli.md, `list`: "The object has, in this order, …"). Fields serialize in declaration
/// order.
#[derive(Debug, Serialize)]
pub struct ArticleJson<'a> {
    id: String,
    title: &'a str,
    reporters: &'a [String],
    translators: &'a [String],
    editors: &'a [String],
    writers: &'a [String],
    services: &'a [String],
    outlet: &'a str,
    date: Option<String>,
    date_origin: Option<&'static str>,
    url: &'a str,
    image: &'a str,
    caption: &'a str,
    tags: &'a [String],
    source_id: &'a str,
    origin: &'a str,
    imported_at: Option<String>,
    extra: serde_json::Map<String, serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    body: Option<&'a str>,
}

impl<'a> ArticleJson<'a> {
    /// The object for a record, without body.
    pub fn new(id: &BlobId, record: &'a Record) -> Self {
        let extra = record
            .extra
            .iter()
            .map(|(name, text)| {
                // Extra values are kept as JSON text; anything else is given back as a string.
                let value = serde_json::from_str(text)
                    .unwrap_or_else(|_| serde_json::Value::String(text.clone()));
                (name.clone(), value)
            })
            .collect();
        ArticleJson {
            id: id.to_string(),
            title: &record.title,
            reporters: &record.reporters,
            translators: &record.translators,
            editors: &record.editors,
            writers: &record.writers,
            services: &record.services,
            outlet: &record.outlet,
            date: record.date.map(|d| d.to_string()),
            date_origin: record.date_origin.map(morgue_meta::DateOrigin::as_str),
            url: &record.url,
            image: &record.image,
            caption: &record.caption,
            tags: &record.tags,
            source_id: &record.source_id,
            origin: &record.origin,
            imported_at: record.imported_at.and_then(timestamp),
            extra,
            body: None,
        }
    }

    /// The same object with the body.
    pub fn with_body(mut self, body: &'a str) -> Self {
        self.body = Some(body);
        self
    }
}

/// Seconds since the epoch as RFC 3339 UTC (`2026-11-27T07:05:57Z`).
pub fn timestamp(secs: i64) -> Option<String> {
    chrono::DateTime::from_timestamp(secs, 0).map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
}

/// The display width of a text on a terminal.
pub fn width(text: &str) -> usize {
    text.width()
}

/// `text` cut to at most `max` columns, ending in "…" when cut. Control characters become spaces.
pub fn truncate(text: &str, max: usize) -> String {
    let clean: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if clean.width() <= max {
        return clean;
    }
    if max == 0 {
        return String::new();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in clean.chars() {
        let w = c.width().unwrap_or(0);
        if used + w > max - 1 {
            break;
        }
        out.push(c);
        used += w;
    }
    out.push('…');
    out
}

/// `text` padded with spaces to `columns`.
pub fn pad(text: &str, columns: usize) -> String {
    let mut out = text.to_owned();
    out.extend(std::iter::repeat_n(
        ' ',
        columns.saturating_sub(text.width()),
    ));
    out
}

/// A byte count for people: `1.2 MiB`.
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncate_marks_the_cut() {
        assert_eq!(truncate("Kazakhs Hit Out", 100), "Kazakhs Hit Out");
        assert_eq!(truncate("Kazakhs Hit Out", 8), "Kazakhs…");
        assert_eq!(width(&truncate("Kazakhs Hit Out", 8)), 8);
        assert_eq!(truncate("abc", 0), "");
        assert_eq!(truncate("tab\there", 20), "tab here");
    }

    #[test]
    fn truncate_counts_wide_characters_as_two_columns() {
        let cut = truncate("中国护照问题报道", 7);
        assert!(width(&cut) <= 7, "{cut}");
        assert!(cut.ends_with('…'));
    }

    #[test]
    fn pad_fills_to_the_column() {
        assert_eq!(pad("ab", 4), "ab  ");
        assert_eq!(pad("abcdef", 4), "abcdef");
    }

    #[test]
    fn human_bytes_picks_a_unit() {
        assert_eq!(human_bytes(12), "12 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(3 << 20), "3.0 MiB");
    }

    #[test]
    fn timestamps_are_rfc3339_utc() {
        assert_eq!(timestamp(0).as_deref(), Some("1970-01-01T00:00:00Z"));
        assert_eq!(
            timestamp(1_497_916_800).as_deref(),
            Some("2017-06-20T00:00:00Z")
        );
    }
}
