//! Output helpers: the article JSON object (morgue-model's), text fitting for tables, byte sizes.

use std::io;

use unicode_width::{UnicodeWidthChar as _, UnicodeWidthStr as _};

/// A buffered, locked standard output. Callers `flush()` it explicitly so that a write error
/// (a closed pipe) is seen.
pub fn stdout() -> io::BufWriter<io::StdoutLock<'static>> {
    io::BufWriter::with_capacity(64 * 1024, io::stdout().lock())
}

// The article JSON object (`list`/`show --format json`, `export`) is morgue-model's, shared with
// the readers that take it back.
pub use morgue_model::{ArticleJson, timestamp};

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
}
