//! Text checks and normalisation shared by all formats.

use crate::IngestError;

/// Checks that bytes are UTF-8 text and returns them without a UTF-8 byte-order mark.
///
/// Rejects UTF-16 (by its byte-order mark), binary data (a NUL byte) and invalid UTF-8, naming
/// the byte offset.
pub(crate) fn decode(bytes: &[u8]) -> Result<&str, IngestError> {
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return Err(IngestError::Utf16);
    }
    let (bom, bytes) = match bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        Some(rest) => (3, rest),
        None => (0, bytes),
    };
    if let Some(at) = bytes.iter().position(|&b| b == 0) {
        return Err(IngestError::Binary {
            offset: (bom + at) as u64,
        });
    }
    std::str::from_utf8(bytes).map_err(|e| IngestError::InvalidUtf8 {
        offset: (bom + e.valid_up_to()) as u64,
    })
}

/// Line endings normalised to LF (CRLF and lone CR).
pub(crate) fn normalize_newlines(text: &str) -> String {
    if text.contains('\r') {
        text.replace("\r\n", "\n").replace('\r', "\n")
    } else {
        text.to_string()
    }
}

/// A body as stored: LF line endings, leading blank lines and trailing whitespace removed
/// (the first line keeps its indentation). Without a carriage return the text is trimmed where
/// it is: no copy of the body (an import of JSON made two per article).
pub(crate) fn normalize_body(text: String) -> String {
    let mut text = if text.contains('\r') {
        normalize_newlines(&text)
    } else {
        text
    };
    let trimmed = trim_blank_lines(&text);
    let (start, len) = (
        trimmed.as_ptr() as usize - text.as_ptr() as usize,
        trimmed.len(),
    );
    text.truncate(start + len);
    text.drain(..start);
    text
}

/// Removes blank lines before the first non-blank line, and all trailing whitespace.
pub(crate) fn trim_blank_lines(text: &str) -> &str {
    let mut start = 0;
    for line in text.split_inclusive('\n') {
        if line.trim().is_empty() {
            start += line.len();
        } else {
            break;
        }
    }
    text[start..].trim_end()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_variants() {
        assert_eq!(decode(b"abc").unwrap(), "abc");
        assert_eq!(decode(b"\xEF\xBB\xBFabc").unwrap(), "abc");
        assert_eq!(
            decode(b"\xFF\xFEa\0").unwrap_err().to_string(),
            "UTF-16 is not supported, convert to UTF-8"
        );
        assert!(matches!(decode(b"\xFE\xFF\0a"), Err(IngestError::Utf16)));
        let err = decode(b"hello \xC3\x28 world").unwrap_err();
        assert_eq!(err.to_string(), "invalid UTF-8 at byte 6");
        let err = decode(b"\xEF\xBB\xBFab\xFF").unwrap_err();
        assert_eq!(err.to_string(), "invalid UTF-8 at byte 5");
        let err = decode(b"ab\0cd").unwrap_err();
        assert_eq!(
            err.to_string(),
            "binary data (NUL byte at byte 2), not text"
        );
    }

    #[test]
    fn normalize() {
        assert_eq!(
            normalize_body("\r\n \r\n  Indented\r\nnext\rlast \n\n".to_owned()),
            "  Indented\nnext\nlast"
        );
        assert_eq!(normalize_body(" \n\t\n".to_owned()), "");
        assert_eq!(
            normalize_body("\n  \n  Indented\nnext  \n\n".to_owned()),
            "  Indented\nnext"
        );
        assert_eq!(normalize_body("plain".to_owned()), "plain");
        assert_eq!(trim_blank_lines("a\n\nb"), "a\n\nb");
    }
}
