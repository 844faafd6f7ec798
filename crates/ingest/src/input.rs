//! Input plumbing: transparent decompression, bounded reads and bounded line reading.

use std::io::{self, BufRead, BufReader, Read};

/// Bytes buffered from each input: the lines read ahead at once come from one buffer.
const INPUT_BUFFER: usize = 256 << 10;

/// A buffered, `Send` byte source.
pub(crate) type Source = Box<dyn BufRead + Send>;

/// Compression of an input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Compression {
    None,
    Zstd,
    Gzip,
}

/// Splits a file name into its compression suffix and the name without it.
pub(crate) fn compression_of(name: &str) -> (Option<Compression>, &str) {
    if has_extension(name, ".zst") {
        (Some(Compression::Zstd), &name[..name.len() - 4])
    } else if has_extension(name, ".gz") {
        (Some(Compression::Gzip), &name[..name.len() - 3])
    } else {
        (None, name)
    }
}

/// Whether a name ends with `ext` (which starts with a dot), ignoring ASCII case.
pub(crate) fn has_extension(name: &str, ext: &str) -> bool {
    let (name, ext) = (name.as_bytes(), ext.as_bytes());
    name.len() >= ext.len() && name[name.len() - ext.len()..].eq_ignore_ascii_case(ext)
}

/// Wraps the input in a decompressor: by the file name's suffix when it has one, else by magic
/// bytes (zstd `28 B5 2F FD`, gzip `1F 8B`), so standard input may be compressed too. A name
/// that promises a compression the content does not start with is an error ("not gzip").
///
/// The magic bytes are peeked from the input's buffer, without consuming them, so that the
/// first buffer of the result holds as much of the start as the first read gave (what
/// [`other_type`] looks at).
pub(crate) fn open(
    input: Box<dyn Read + Send>,
    compression: Option<Compression>,
) -> io::Result<Source> {
    const ZSTD: &[u8] = &[0x28, 0xB5, 0x2F, 0xFD];
    const GZIP: &[u8] = &[0x1F, 0x8B];
    let mut buffered = BufReader::with_capacity(INPUT_BUFFER, input);
    let head = loop {
        match buffered.fill_buf() {
            Ok(head) => break head,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    };
    let compression = if let Some(c) = compression {
        // The name promises a compression: say so when the content is not compressed that way
        // (a decoder would only report a confusing "unexpected end of file").
        let (magic, what) = match c {
            Compression::Zstd => (ZSTD, "zstd"),
            Compression::Gzip => (GZIP, "gzip"),
            Compression::None => (&[][..], ""),
        };
        let n = head.len().min(magic.len());
        if head[..n] != magic[..n] || (head.is_empty() && !magic.is_empty()) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("not {what}: the name says {what}-compressed, the content is not"),
            ));
        }
        c
    } else if head.starts_with(ZSTD) {
        Compression::Zstd
    } else if head.starts_with(GZIP) {
        Compression::Gzip
    } else {
        Compression::None
    };
    Ok(match compression {
        Compression::None => Box::new(buffered),
        Compression::Zstd => Box::new(BufReader::with_capacity(
            INPUT_BUFFER,
            zstd::stream::read::Decoder::with_buffer(buffered)?,
        )),
        Compression::Gzip => Box::new(BufReader::with_capacity(
            INPUT_BUFFER,
            flate2::read::MultiGzDecoder::new(buffered),
        )),
    })
}

/// Peeks at the first non-whitespace byte of a source without consuming it.
pub(crate) fn first_significant_byte(source: &mut Source) -> io::Result<Option<u8>> {
    loop {
        let buf = source.fill_buf()?;
        if buf.is_empty() {
            return Ok(None);
        }
        // Skip a UTF-8 byte-order mark and whitespace.
        let skip = if buf.starts_with(&[0xEF, 0xBB, 0xBF]) {
            3
        } else {
            0
        };
        let rest = &buf[skip..];
        if let Some(at) = rest.iter().position(|b| !b.is_ascii_whitespace()) {
            return Ok(Some(rest[at]));
        }
        let len = buf.len();
        source.consume(len);
    }
}

/// What kind of file of another type the start of an input shows, if any: markup (HTML, XML)
/// or a table (CSV, TSV, also known by the name's extension). `base` is the name without a
/// compression suffix.
pub(crate) fn other_type(source: &mut Source, base: &str) -> io::Result<Option<&'static str>> {
    if has_extension(base, ".csv") {
        return Ok(Some("a CSV table"));
    }
    if has_extension(base, ".tsv") || has_extension(base, ".tab") {
        return Ok(Some("a TSV table"));
    }
    let head = source.fill_buf()?;
    let head = head.strip_prefix(&[0xEF, 0xBB, 0xBF][..]).unwrap_or(head);
    let start = head.iter().position(|b| !b.is_ascii_whitespace());
    let Some(start) = start else { return Ok(None) };
    let head = &head[start..];
    if head.first() == Some(&b'<')
        && head
            .get(1)
            .is_some_and(|b| b.is_ascii_alphabetic() || *b == b'!' || *b == b'?')
    {
        let lower = head[..head.len().min(4096)].to_ascii_lowercase();
        let html = lower.windows(5).any(|w| w == b"<html") || lower.starts_with(b"<!doctype html");
        return Ok(Some(if html { "HTML" } else { "XML or other markup" }));
    }
    if head.first().is_some_and(|b| matches!(b, b'{' | b'[')) {
        return Ok(None);
    }
    Ok(table_separator(head).map(|sep| {
        if sep == b'\t' {
            "a TSV table"
        } else {
            "a CSV table"
        }
    }))
}

/// The separator of a table, when the start of the input is one (see [`table_separator`]);
/// input starting with `{`, `[` or `<` is none.
pub(crate) fn sniff_table(source: &mut Source) -> io::Result<Option<u8>> {
    let head = source.fill_buf()?;
    let head = head.strip_prefix(&[0xEF, 0xBB, 0xBF][..]).unwrap_or(head);
    let head = head.trim_ascii_start();
    if head
        .first()
        .is_some_and(|b| matches!(b, b'{' | b'[' | b'<'))
    {
        return Ok(None);
    }
    Ok(table_separator(head))
}

/// The separator of a table with a header row: the first records (up to six) each hold the same
/// number (at least two) of commas or tabs outside double quotes, and the first line's fields
/// look like column names: at most 3 words and 40 bytes, not a number, no closing full stop.
fn table_separator(head: &[u8]) -> Option<u8> {
    // Records end at a line end outside double quotes (a quoted cell may hold line ends).
    let mut quoted = false;
    let lines: Vec<&[u8]> = head
        .split(|&b| {
            if b == b'"' {
                quoted = !quoted;
            }
            b == b'\n' && !quoted
        })
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
        .filter(|l| !l.iter().all(u8::is_ascii_whitespace))
        .take(6)
        .collect();
    if lines.len() < 2 {
        return None;
    }
    let count = |line: &[u8], sep: u8| {
        let mut quoted = false;
        line.iter()
            .filter(|&&b| {
                if b == b'"' {
                    quoted = !quoted;
                }
                b == sep && !quoted
            })
            .count()
    };
    [b',', b'\t'].into_iter().find(|&sep| {
        let n = count(lines[0], sep);
        n >= 2
            && lines[1..].iter().all(|l| count(l, sep) == n)
            && lines[0].split(|&b| b == sep).all(|field| {
                let field = field.trim_ascii();
                !field.is_empty()
                    && field.len() <= 40
                    && !field.iter().all(u8::is_ascii_digit)
                    && !field.ends_with(b".")
                    && field
                        .split(u8::is_ascii_whitespace)
                        .filter(|w| !w.is_empty())
                        .count()
                        <= 3
            })
    })
}

/// Reads the whole input, or reports that it is longer than `max` bytes.
pub(crate) fn read_capped(source: &mut Source, max: usize) -> io::Result<Result<Vec<u8>, ()>> {
    let mut bytes = Vec::new();
    source.take(max as u64 + 1).read_to_end(&mut bytes)?;
    Ok(if bytes.len() > max {
        Err(())
    } else {
        Ok(bytes)
    })
}

/// One line of input.
#[derive(Debug)]
pub(crate) enum Line {
    /// The line's bytes, without the line ending.
    Text(Vec<u8>),
    /// The line was longer than the cap; its bytes were skipped, not kept.
    TooLong,
}

/// Reads lines with a hard cap: a longer line is skipped without being buffered.
#[derive(Debug)]
pub(crate) struct LineReader {
    max: usize,
    buf: Vec<u8>,
    /// Whether bytes after the last line were already buffered when it ended.
    more: bool,
    /// Bytes consumed from the source so far.
    consumed: u64,
    /// Offset in the source of the last line read.
    start: u64,
}

impl LineReader {
    pub(crate) fn new(max: usize) -> Self {
        LineReader {
            max,
            buf: Vec::new(),
            more: false,
            consumed: 0,
            start: 0,
        }
    }

    /// Offset in the source of the first byte of the last line read.
    pub(crate) fn line_start(&self) -> u64 {
        self.start
    }

    /// Whether the source already held bytes after the last line read: the next
    /// [`LineReader::next_line`] can start without waiting for input.
    pub(crate) fn more_buffered(&self) -> bool {
        self.more
    }

    /// The next line, `None` at the end of input.
    pub(crate) fn next_line(&mut self, source: &mut dyn BufRead) -> io::Result<Option<Line>> {
        self.buf.clear();
        self.more = false;
        self.start = self.consumed;
        let mut too_long = false;
        let mut any = false;
        loop {
            let chunk = match source.fill_buf() {
                Ok(chunk) => chunk,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if chunk.is_empty() {
                break;
            }
            any = true;
            let (piece, used, done) = match chunk.iter().position(|&b| b == b'\n') {
                Some(at) => (&chunk[..at], at + 1, true),
                None => (chunk, chunk.len(), false),
            };
            if !too_long {
                if self.buf.len() + piece.len() > self.max {
                    too_long = true;
                    self.buf = Vec::new();
                } else {
                    // A whole line in one chunk (the usual case) is allocated once, exactly.
                    if self.buf.is_empty() && done {
                        self.buf.reserve_exact(piece.len());
                    }
                    self.buf.extend_from_slice(piece);
                }
            }
            let rest = chunk.len() - used;
            source.consume(used);
            self.consumed += used as u64;
            if done {
                self.more = rest > 0;
                break;
            }
        }
        if !any {
            return Ok(None);
        }
        if too_long {
            return Ok(Some(Line::TooLong));
        }
        if self.buf.last() == Some(&b'\r') {
            self.buf.pop();
        }
        Ok(Some(Line::Text(std::mem::take(&mut self.buf))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(data: &[u8], max: usize) -> Vec<Option<Vec<u8>>> {
        let mut source = io::Cursor::new(data.to_vec());
        let mut reader = LineReader::new(max);
        let mut out = Vec::new();
        while let Some(line) = reader.next_line(&mut source).unwrap() {
            out.push(match line {
                Line::Text(t) => Some(t),
                Line::TooLong => None,
            });
        }
        out
    }

    #[test]
    fn splits_lines_and_caps_length() {
        assert_eq!(
            lines(b"a\r\nbb\n\nc", 10),
            vec![
                Some(b"a".to_vec()),
                Some(b"bb".to_vec()),
                Some(vec![]),
                Some(b"c".to_vec())
            ]
        );
        assert_eq!(
            lines(b"12345\n123456\n1\n", 5),
            vec![Some(b"12345".to_vec()), None, Some(b"1".to_vec())]
        );
        assert!(lines(b"", 5).is_empty());
    }

    #[test]
    fn long_line_is_not_buffered() {
        // A 3 MiB line with a 1 KiB cap: the reader keeps at most the cap.
        let mut data = vec![b'x'; 3 << 20];
        data.extend_from_slice(b"\nok\n");
        let mut source = BufReader::with_capacity(4096, io::Cursor::new(data));
        let mut reader = LineReader::new(1024);
        assert!(matches!(
            reader.next_line(&mut source).unwrap(),
            Some(Line::TooLong)
        ));
        assert!(reader.buf.capacity() <= 1024 + 4096);
        assert!(
            matches!(reader.next_line(&mut source).unwrap(), Some(Line::Text(t)) if t == b"ok")
        );
    }

    #[test]
    fn compression_by_name_and_magic() {
        assert_eq!(
            compression_of("a.JSONL.ZST"),
            (Some(Compression::Zstd), "a.JSONL")
        );
        assert_eq!(
            compression_of("a.txt.gz"),
            (Some(Compression::Gzip), "a.txt")
        );
        assert_eq!(compression_of("a.txt"), (None, "a.txt"));
        let packed = zstd::encode_all(&b"hello"[..], 3).unwrap();
        let mut source = open(Box::new(io::Cursor::new(packed)), None).unwrap();
        let mut out = String::new();
        source.read_to_string(&mut out).unwrap();
        assert_eq!(out, "hello");
    }
}
