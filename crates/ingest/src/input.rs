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

/// Reads up to `n` bytes (fewer only at the end of input).
fn peek(input: &mut dyn Read, n: usize) -> io::Result<Vec<u8>> {
    let mut prefix = Vec::with_capacity(n);
    input.take(n as u64).read_to_end(&mut prefix)?;
    Ok(prefix)
}

/// Wraps the input in a decompressor: by the file name's suffix when it has one, else by magic
/// bytes (zstd `28 B5 2F FD`, gzip `1F 8B`), so standard input may be compressed too.
pub(crate) fn open(
    input: Box<dyn Read + Send>,
    compression: Option<Compression>,
) -> io::Result<Source> {
    let mut input = input;
    let compression = if let Some(c) = compression {
        c
    } else {
        let prefix = peek(&mut input, 4)?;
        let found = if prefix.starts_with(&[0x28, 0xB5, 0x2F, 0xFD]) {
            Compression::Zstd
        } else if prefix.starts_with(&[0x1F, 0x8B]) {
            Compression::Gzip
        } else {
            Compression::None
        };
        input = Box::new(io::Cursor::new(prefix).chain(input));
        found
    };
    Ok(match compression {
        Compression::None => Box::new(BufReader::with_capacity(INPUT_BUFFER, input)),
        Compression::Zstd => Box::new(BufReader::with_capacity(
            INPUT_BUFFER,
            zstd::stream::read::Decoder::new(input)?,
        )),
        Compression::Gzip => Box::new(BufReader::with_capacity(
            INPUT_BUFFER,
            flate2::read::MultiGzDecoder::new(input),
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
}

impl LineReader {
    pub(crate) fn new(max: usize) -> Self {
        LineReader {
            max,
            buf: Vec::new(),
            more: false,
        }
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
