//! WARC files (ISO 28500, versions 1.0 and 1.1): every `response` record holding an HTML page
//! fetched with HTTP status 200 becomes an article; other records are skipped and counted.
//!
//! The file is streamed: a record's block is read only when it is a response within
//! [`crate::MAX_ARTICLE_BYTES`], and skipped otherwise. `.warc.gz` (one gzip member per record)
//! and `.warc.zst` are decompressed by the input layer; offsets are in the decompressed
//! stream. A record whose header does not parse, or whose `Content-Length` lies, is an error
//! at its offset, and reading goes on at the next line that starts a record (`WARC/1.`).

use std::io::{self, BufRead, Read};

use crate::html::{self, PageInfo};
use crate::input::Source;
use crate::{IngestError, Parsed};

/// Longest header line read (a WARC or HTTP header).
const MAX_LINE: usize = 64 << 10;
/// Most header lines in one WARC or HTTP header.
const MAX_HEADERS: usize = 512;

/// The records of one WARC file.
pub(crate) struct Warc {
    source: Source,
    /// Bytes consumed so far.
    offset: u64,
    /// Records skipped: not responses, not HTML, not status 200.
    pub(crate) skipped: u64,
    done: bool,
}

impl std::fmt::Debug for Warc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Warc")
            .field("offset", &self.offset)
            .field("skipped", &self.skipped)
            .finish_non_exhaustive()
    }
}

/// Whether the start of an input is a WARC record.
pub(crate) fn looks_like_warc(head: &[u8]) -> bool {
    head.trim_ascii_start().starts_with(b"WARC/1.")
}

/// A header line read: its bytes without the line end, or why not.
enum HeaderLine {
    Line(Vec<u8>),
    End,
}

impl Warc {
    pub(crate) fn new(source: Source) -> Warc {
        Warc {
            source,
            offset: 0,
            skipped: 0,
            done: false,
        }
    }

    /// The next article or error, with the offset of its record; `None` at the end.
    pub(crate) fn next_record(&mut self) -> Option<(u64, Result<Parsed, IngestError>)> {
        while !self.done {
            match self.record() {
                Ok(Some((offset, Some(outcome)))) => return Some((offset, outcome)),
                Ok(Some((_, None))) => {}
                Ok(None) => self.done = true,
                Err((offset, e, fatal)) => {
                    if fatal {
                        self.done = true;
                    }
                    return Some((offset, Err(e)));
                }
            }
        }
        None
    }

    /// Reads one line (up to `\n`), capped at [`MAX_LINE`] bytes.
    fn line(&mut self) -> io::Result<HeaderLine> {
        let mut line = Vec::new();
        let read = (&mut self.source)
            .take(MAX_LINE as u64 + 1)
            .read_until(b'\n', &mut line)?;
        self.offset += read as u64;
        if read == 0 {
            return Ok(HeaderLine::End);
        }
        if line.last() == Some(&b'\n') {
            line.pop();
            if line.last() == Some(&b'\r') {
                line.pop();
            }
        }
        Ok(HeaderLine::Line(line))
    }

    /// Skips `n` bytes; how many there were.
    fn skip(&mut self, n: u64) -> io::Result<u64> {
        let skipped = io::copy(&mut (&mut self.source).take(n), &mut io::sink())?;
        self.offset += skipped;
        Ok(skipped)
    }

    /// One record: `Ok(None)` at the end of the input; `Ok(Some((offset, None)))` for a record
    /// skipped; `Err((offset, error, fatal))` for a bad record (fatal: the input cannot be read
    /// on).
    #[allow(clippy::type_complexity)]
    fn record(
        &mut self,
    ) -> Result<Option<(u64, Option<Result<Parsed, IngestError>>)>, (u64, IngestError, bool)> {
        let io_error = |offset, e: io::Error| (offset, IngestError::Io(e), true);
        // Blank lines between records; then the version line.
        let (start, version) = loop {
            let start = self.offset;
            match self.line().map_err(|e| io_error(start, e))? {
                HeaderLine::End => return Ok(None),
                HeaderLine::Line(line) if line.trim_ascii().is_empty() => {}
                HeaderLine::Line(line) => break (start, line),
            }
        };
        if !version.starts_with(b"WARC/1.") {
            // Resynchronise: skip to the next line that starts a record.
            let err = IngestError::Warc(format!(
                "expected a record (WARC/1.0 or WARC/1.1), found {:?}",
                String::from_utf8_lossy(&version[..version.len().min(40)])
            ));
            self.resync().map_err(|e| io_error(start, e))?;
            return Err((start, err, false));
        }
        let headers = self.headers().map_err(|e| (start, e, true))?;
        let get = |name: &str| {
            headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str())
        };
        let Some(length) = get("Content-Length").and_then(|l| l.trim().parse::<u64>().ok()) else {
            let err = IngestError::Warc("record without a valid Content-Length".into());
            self.resync().map_err(|e| io_error(start, e))?;
            return Err((start, err, false));
        };
        let kind = get("WARC-Type").unwrap_or("").trim().to_ascii_lowercase();
        let content_type = get("Content-Type").unwrap_or("").to_ascii_lowercase();
        let wanted = kind == "response" && content_type.starts_with("application/http");
        if !wanted || length > crate::MAX_ARTICLE_BYTES as u64 {
            let skipped = self.skip(length).map_err(|e| io_error(start, e))?;
            if skipped < length {
                return Err((start, truncated(length, skipped), true));
            }
            self.record_end().map_err(|e| io_error(start, e))?;
            if wanted {
                return Err((
                    start,
                    IngestError::TooLarge {
                        max: crate::MAX_ARTICLE_BYTES,
                    },
                    false,
                ));
            }
            self.skipped += 1;
            return Ok(Some((start, None)));
        }
        let mut block = Vec::with_capacity(length as usize);
        let read = (&mut self.source)
            .take(length)
            .read_to_end(&mut block)
            .map_err(|e| io_error(start, e))?;
        self.offset += read as u64;
        if (read as u64) < length {
            return Err((start, truncated(length, read as u64), true));
        }
        let lying = !self.record_end().map_err(|e| io_error(start, e))?;
        if lying {
            let err = IngestError::Warc(format!(
                "Content-Length {length} does not end the record (no blank line after it)"
            ));
            self.resync().map_err(|e| io_error(start, e))?;
            return Err((start, err, false));
        }
        let target = get("WARC-Target-URI").map(|u| u.trim().trim_matches(['<', '>']).to_string());
        let date = get("WARC-Date").map(|d| d.trim().to_string());
        Ok(Some((
            start,
            self.response(&block, target.as_deref(), date),
        )))
    }

    /// Reads `Name: value` header lines up to a blank line.
    fn headers(&mut self) -> Result<Vec<(String, String)>, IngestError> {
        let mut headers: Vec<(String, String)> = Vec::new();
        loop {
            match self.line().map_err(IngestError::Io)? {
                HeaderLine::End => {
                    return Err(IngestError::Warc(
                        "the input ends inside a record header".into(),
                    ));
                }
                HeaderLine::Line(line) if line.is_empty() => return Ok(headers),
                HeaderLine::Line(line) => {
                    if headers.len() >= MAX_HEADERS || line.len() > MAX_LINE {
                        return Err(IngestError::Warc("record header too long".into()));
                    }
                    let line = String::from_utf8_lossy(&line).into_owned();
                    if line.starts_with([' ', '\t']) {
                        if let Some((_, value)) = headers.last_mut() {
                            value.push(' ');
                            value.push_str(line.trim());
                        }
                    } else if let Some((name, value)) = line.split_once(':') {
                        headers.push((name.trim().to_string(), value.trim().to_string()));
                    }
                }
            }
        }
    }

    /// Reads the `\r\n\r\n` after a block: whether it was there (at the end of the input, or
    /// after a record without it, what follows is read as the next record).
    fn record_end(&mut self) -> io::Result<bool> {
        let head = self.source.fill_buf()?;
        if head.is_empty() {
            return Ok(true);
        }
        let n = head.len().min(4);
        let ok = head[..n].iter().all(|&b| b == b'\r' || b == b'\n');
        if !ok {
            return Ok(head.starts_with(b"WARC/1."));
        }
        let blank = head[..n]
            .iter()
            .take_while(|&&b| b == b'\r' || b == b'\n')
            .count();
        self.source.consume(blank);
        self.offset += blank as u64;
        Ok(true)
    }

    /// Skips lines until one that starts a record (left unread).
    fn resync(&mut self) -> io::Result<()> {
        loop {
            let head = self.source.fill_buf()?;
            if head.is_empty() || head.starts_with(b"WARC/1.") {
                return Ok(());
            }
            // Up to the end of this line (or of the buffer: the line goes on in the next one,
            // and a record starts only at a line's start).
            let used = head
                .iter()
                .position(|&b| b == b'\n')
                .map_or(head.len(), |at| at + 1);
            self.source.consume(used);
            self.offset += used as u64;
        }
    }

    /// A response record's HTTP message: an article when it is a 200 with an HTML body, `None`
    /// (and counted as skipped) otherwise.
    fn response(
        &mut self,
        block: &[u8],
        target: Option<&str>,
        date: Option<String>,
    ) -> Option<Result<Parsed, IngestError>> {
        let Some(head_end) = find(block, b"\r\n\r\n")
            .map(|n| (n, n + 4))
            .or_else(|| find(block, b"\n\n").map(|n| (n, n + 2)))
        else {
            return Some(Err(IngestError::Warc(
                "HTTP response without a header end".into(),
            )));
        };
        let head = String::from_utf8_lossy(&block[..head_end.0]);
        let mut lines = head.lines();
        let status = lines
            .next()
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|s| s.parse::<u16>().ok());
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
            .collect();
        let get = |name: &str| {
            headers
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.as_str())
        };
        let media_type = get("content-type").unwrap_or("").to_string();
        let content_type = media_type.to_ascii_lowercase();
        let html =
            content_type.starts_with("text/html") || content_type.starts_with("application/xhtml");
        if status != Some(200) || !html {
            self.skipped += 1;
            return None;
        }
        let mut body = block[head_end.1..].to_vec();
        if get("transfer-encoding").is_some_and(|t| t.to_ascii_lowercase().contains("chunked")) {
            match dechunk(&body) {
                Ok(plain) => body = plain,
                Err(e) => return Some(Err(e)),
            }
        }
        if let Some(coding) = get("content-encoding") {
            match decode_content(&body, &coding.trim().to_ascii_lowercase()) {
                Ok(plain) => body = plain,
                Err(e) => return Some(Err(e)),
            }
        }
        let charset = content_type
            .split(';')
            .filter_map(|p| p.trim().strip_prefix("charset="))
            .map(|c| c.trim_matches(['"', '\'']).to_string())
            .next();
        let mut extra = Vec::new();
        if let Some(target) = target {
            extra.push(("warc_target_uri", target.to_string()));
        }
        if let Some(date) = date {
            extra.push(("warc_date", date));
        }
        let info = PageInfo {
            charset: charset.as_deref(),
            extra,
            url: target,
        };
        Some(
            html::parse_html(&body, &info)
                .map(|parsed| crate::keep_page(parsed, body, &media_type)),
        )
    }
}

fn truncated(length: u64, found: u64) -> IngestError {
    IngestError::Warc(format!(
        "truncated record: Content-Length {length}, the input ends after {found} bytes"
    ))
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Decodes an HTTP chunked body.
fn dechunk(mut body: &[u8]) -> Result<Vec<u8>, IngestError> {
    let bad = || IngestError::Warc("bad HTTP chunked encoding".into());
    let mut out = Vec::with_capacity(body.len());
    loop {
        let end = find(body, b"\r\n").ok_or_else(bad)?;
        let size = std::str::from_utf8(&body[..end]).map_err(|_| bad())?;
        let size = size.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size, 16).map_err(|_| bad())?;
        body = &body[end + 2..];
        if size == 0 {
            return Ok(out);
        }
        if size > body.len() {
            return Err(bad());
        }
        out.extend_from_slice(&body[..size]);
        body = body[size..].strip_prefix(b"\r\n").unwrap_or(&body[size..]);
    }
}

/// Decodes an HTTP content encoding, at most [`crate::MAX_ARTICLE_BYTES`] of it.
fn decode_content(body: &[u8], coding: &str) -> Result<Vec<u8>, IngestError> {
    let max = crate::MAX_ARTICLE_BYTES as u64;
    let mut out = Vec::new();
    let read = match coding {
        "identity" | "" => return Ok(body.to_vec()),
        "gzip" | "x-gzip" => flate2::read::MultiGzDecoder::new(body)
            .take(max + 1)
            .read_to_end(&mut out),
        "deflate" => {
            // Servers send zlib streams or raw deflate under this name.
            let zlib = flate2::read::ZlibDecoder::new(body)
                .take(max + 1)
                .read_to_end(&mut out);
            if zlib.is_err() {
                out.clear();
                flate2::read::DeflateDecoder::new(body)
                    .take(max + 1)
                    .read_to_end(&mut out)
            } else {
                zlib
            }
        }
        "zstd" => zstd::stream::read::Decoder::new(body)
            .and_then(|d| d.take(max + 1).read_to_end(&mut out)),
        other => {
            return Err(IngestError::Warc(format!(
                "HTTP content encoding {other:?} is not supported"
            )));
        }
    };
    match read {
        Ok(_) if out.len() as u64 > max => Err(IngestError::TooLarge {
            max: crate::MAX_ARTICLE_BYTES,
        }),
        Ok(_) => Ok(out),
        Err(e) => Err(IngestError::Warc(format!(
            "HTTP content encoding {coding}: {e}"
        ))),
    }
}

#[cfg(test)]
mod tests;
