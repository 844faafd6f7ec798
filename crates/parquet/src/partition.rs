//! Hive-style partition directories: `key=value`, values escaped as Hive and Spark escape them.

use std::path::Path;

/// The partition value of an article without the partition's field (no service, no date):
/// Hive's name for a null partition, which Spark, Trino and pyarrow read as null.
pub const NONE: &str = "__HIVE_DEFAULT_PARTITION__";

/// Whether Hive/Spark escape this character in a partition value (their `escapePathName`):
/// control characters, `"`, `#`, `%`, `'`, `*`, `/`, `:`, `=`, `?`, `\`, DEL, `{`, `[`, `]`, `^`.
fn needs_escape(c: char) -> bool {
    c.is_ascii_control()
        || matches!(
            c,
            '"' | '#' | '%' | '\'' | '*' | '/' | ':' | '=' | '?' | '\\' | '{' | '[' | ']' | '^'
        )
}

/// A partition value as a directory name: the characters Hive escapes as `%XX` (uppercase hex;
/// so `/`, `=` and `%` never reach the file system), everything else (spaces, any non-ASCII
/// letter) as it is. A value equal to [`NONE`] gets its first `_` escaped, so that it is not read
/// as null; an empty value is [`NONE`].
///
/// ```
/// assert_eq!(morgue_parquet::escape("AC/DC=rock"), "AC%2FDC%3Drock");
/// assert_eq!(morgue_parquet::escape("Mandarin"), "Mandarin");
/// assert_eq!(morgue_parquet::unescape("AC%2FDC%3Drock"), "AC/DC=rock");
/// ```
pub fn escape(value: &str) -> String {
    if value.is_empty() {
        return NONE.to_string();
    }
    let mut out = String::with_capacity(value.len());
    for (i, c) in value.chars().enumerate() {
        if needs_escape(c) || (i == 0 && c == '_' && value == NONE) || (i == 0 && c == '.') {
            let mut buf = [0; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                const HEX: &[u8; 16] = b"0123456789ABCDEF";
                out.push('%');
                out.push(char::from(HEX[usize::from(b >> 4)]));
                out.push(char::from(HEX[usize::from(b & 15)]));
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// The inverse of [`escape`]: every `%XX` (two hex digits) is the byte XX; anything else is kept
/// as it is. Bytes that do not make UTF-8 are replaced (U+FFFD).
pub fn unescape(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(hi), Some(lo)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push(hi << 4 | lo);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// The Hive partition values of a file, from the `key=value` directories of its path (unescaped),
/// outermost first; a value of [`NONE`] is null (`None`). The file name itself is not one.
///
/// ```
/// use std::path::Path;
/// let values = morgue_parquet::partition_values(Path::new(
///     "out/service=AC%2FDC/year=__HIVE_DEFAULT_PARTITION__/part-0.parquet",
/// ));
/// assert_eq!(values, [("service".to_string(), Some("AC/DC".to_string())), ("year".to_string(), None)]);
/// ```
pub fn partition_values(path: &Path) -> Vec<(String, Option<String>)> {
    let Some(parent) = path.parent() else {
        return Vec::new();
    };
    parent
        .components()
        .filter_map(|c| {
            let c = c.as_os_str().to_str()?;
            let (key, value) = c.split_once('=')?;
            if key.is_empty() {
                return None;
            }
            let value = (value != NONE).then(|| unescape(value));
            Some((unescape(key), value))
        })
        .collect()
}
