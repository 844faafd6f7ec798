//! Streaming a `.json` file: the elements of a top-level array (or a sequence of top-level
//! values) one at a time, each capped in size, without reading the whole file.
//!
//! This is a byte scanner that only finds where each value ends (tracking strings, escapes and
//! bracket depth with a counter, so deep nesting cannot overflow the stack); serde_json then
//! parses each value on its own.

use std::io::{self, BufRead};

use crate::input::Source;

/// A failure found while scanning; ends the stream unless it is `TooLarge`.
#[derive(Debug)]
pub(crate) enum ScanError {
    /// Reading failed.
    Io(io::Error),
    /// Bad JSON structure between values.
    Syntax(String),
    /// One value longer than the cap; skipped, the stream goes on.
    TooLarge,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Before the first value.
    Start,
    /// Inside the top-level array: before the first element.
    ArrayFirst,
    /// Inside the top-level array: after an element.
    ArrayNext,
    /// Top-level values one after another (no array).
    Sequence,
    /// After the end (or a fatal error).
    Done,
}

/// Yields the raw bytes of each article value and the 1-based line it starts on.
pub(crate) struct ValueStream {
    source: Source,
    max: usize,
    line: u64,
    state: State,
    /// Whether the file is a top-level array.
    pub(crate) is_array: bool,
}

impl std::fmt::Debug for ValueStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ValueStream")
            .field("line", &self.line)
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

impl ValueStream {
    pub(crate) fn new(source: Source, max: usize) -> Self {
        ValueStream {
            source,
            max,
            line: 1,
            state: State::Start,
            is_array: false,
        }
    }

    /// The next value as (start line, bytes or error); `None` at the end.
    pub(crate) fn next_value(&mut self) -> Option<(u64, Result<Vec<u8>, ScanError>)> {
        loop {
            match self.state {
                State::Done => return None,
                State::Start => match self.skip_whitespace(true) {
                    Err(e) => return self.fail(ScanError::Io(e)),
                    Ok(None) => {
                        return self.fail(ScanError::Syntax("no JSON value in the input".into()));
                    }
                    Ok(Some(b'[')) => {
                        self.source.consume(1);
                        self.is_array = true;
                        self.state = State::ArrayFirst;
                    }
                    Ok(Some(_)) => self.state = State::Sequence,
                },
                State::Sequence => match self.skip_whitespace(false) {
                    Err(e) => return self.fail(ScanError::Io(e)),
                    Ok(None) => {
                        self.state = State::Done;
                        return None;
                    }
                    Ok(Some(_)) => return Some(self.scan_value()),
                },
                State::ArrayFirst | State::ArrayNext => {
                    let first = self.state == State::ArrayFirst;
                    match self.skip_whitespace(false) {
                        Err(e) => return self.fail(ScanError::Io(e)),
                        Ok(None) => {
                            return self.fail(ScanError::Syntax(
                                "unexpected end of input inside the JSON array".into(),
                            ));
                        }
                        Ok(Some(b']')) => {
                            self.source.consume(1);
                            self.state = State::Done;
                            return match self.skip_whitespace(false) {
                                Err(e) => self.fail(ScanError::Io(e)),
                                Ok(None) => None,
                                Ok(Some(_)) => self.fail(ScanError::Syntax(format!(
                                    "trailing characters after the JSON array at line {}",
                                    self.line
                                ))),
                            };
                        }
                        Ok(Some(b',')) if !first => {
                            self.source.consume(1);
                            match self.skip_whitespace(false) {
                                Err(e) => return self.fail(ScanError::Io(e)),
                                Ok(Some(b']' | b',') | None) => {
                                    return self.fail(ScanError::Syntax(format!(
                                        "expected a value after `,` at line {}",
                                        self.line
                                    )));
                                }
                                Ok(Some(_)) => {
                                    self.state = State::ArrayNext;
                                    return Some(self.scan_value());
                                }
                            }
                        }
                        Ok(Some(_)) if first => {
                            self.state = State::ArrayNext;
                            return Some(self.scan_value());
                        }
                        Ok(Some(other)) => {
                            return self.fail(ScanError::Syntax(format!(
                                "expected `,` or `]` at line {}, found {:?}",
                                self.line,
                                char::from(other)
                            )));
                        }
                    }
                }
            }
        }
    }

    /// Ends the stream with an error; an `Option` so that `next_value` can return it directly.
    #[allow(clippy::unnecessary_wraps)]
    fn fail(&mut self, error: ScanError) -> Option<(u64, Result<Vec<u8>, ScanError>)> {
        self.state = State::Done;
        Some((self.line, Err(error)))
    }

    /// Skips whitespace (and, at the very start, a UTF-8 byte-order mark); returns the next byte
    /// without consuming it.
    fn skip_whitespace(&mut self, at_start: bool) -> io::Result<Option<u8>> {
        let mut bom_checked = !at_start;
        loop {
            let buf = fill(&mut self.source)?;
            if buf.is_empty() {
                return Ok(None);
            }
            if !bom_checked {
                bom_checked = true;
                if buf.starts_with(&[0xEF, 0xBB, 0xBF]) {
                    self.source.consume(3);
                    continue;
                }
            }
            let mut used = 0;
            let mut found = None;
            for &b in buf {
                if b == b'\n' {
                    self.line += 1;
                }
                if b.is_ascii_whitespace() {
                    used += 1;
                } else {
                    found = Some(b);
                    break;
                }
            }
            self.source.consume(used);
            if found.is_some() {
                return Ok(found);
            }
        }
    }

    /// Scans one value starting at the next byte; keeps at most `max` bytes of it.
    fn scan_value(&mut self) -> (u64, Result<Vec<u8>, ScanError>) {
        let start_line = self.line;
        let mut out = Vec::new();
        let mut too_large = false;
        let mut depth: u64 = 0;
        let mut in_string = false;
        let mut escaped = false;
        let mut started = false;
        loop {
            let buf = match fill(&mut self.source) {
                Ok(buf) => buf,
                Err(e) => {
                    self.state = State::Done;
                    return (start_line, Err(ScanError::Io(e)));
                }
            };
            if buf.is_empty() {
                // End of input: a complete scalar is fine, anything open is truncated.
                if depth > 0 || in_string {
                    self.state = State::Done;
                    return (
                        start_line,
                        Err(ScanError::Syntax(
                            "unexpected end of input inside a JSON value".into(),
                        )),
                    );
                }
                break;
            }
            let mut used = 0;
            let mut complete = false;
            for &b in buf {
                if in_string {
                    if escaped {
                        escaped = false;
                    } else if b == b'\\' {
                        escaped = true;
                    } else if b == b'"' {
                        in_string = false;
                        if depth == 0 {
                            used += 1;
                            complete = true;
                            break;
                        }
                    }
                } else {
                    match b {
                        b'"' => in_string = true,
                        b'{' | b'[' => depth += 1,
                        b'}' | b']' if depth > 0 => {
                            depth -= 1;
                            if depth == 0 {
                                used += 1;
                                complete = true;
                                break;
                            }
                        }
                        // A scalar ends at a delimiter, which is left for the caller.
                        b',' | b']' | b'}' if depth == 0 && started => {
                            complete = true;
                            break;
                        }
                        _ if depth == 0 && started && b.is_ascii_whitespace() => {
                            complete = true;
                            break;
                        }
                        // Outside any string, object or array only a scalar's bytes can follow
                        // (numbers, true, false, null): anything else is not JSON, and reading
                        // on to a delimiter could mean reading gigabytes of garbage.
                        _ if depth == 0
                            && !b.is_ascii_whitespace()
                            && !(b.is_ascii_alphanumeric() || matches!(b, b'-' | b'+' | b'.')) =>
                        {
                            self.state = State::Done;
                            return (
                                start_line,
                                Err(ScanError::Syntax(format!(
                                    "unexpected byte 0x{b:02x} outside a JSON value"
                                ))),
                            );
                        }
                        _ => {}
                    }
                }
                if b == b'\n' {
                    self.line += 1;
                }
                started = true;
                used += 1;
            }
            if !too_large {
                if out.len() + used > self.max {
                    too_large = true;
                    out = Vec::new();
                } else {
                    out.extend_from_slice(&buf[..used]);
                }
            }
            self.source.consume(used);
            if complete {
                break;
            }
        }
        if too_large {
            (start_line, Err(ScanError::TooLarge))
        } else {
            (start_line, Ok(out))
        }
    }
}

fn fill(source: &mut Source) -> io::Result<&[u8]> {
    loop {
        match source.fill_buf() {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
            Ok(_) => break,
        }
    }
    // Data is buffered now (or at the end): this call does not read.
    source.fill_buf()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(data: &str, max: usize) -> Vec<(u64, Result<String, String>)> {
        let source: Source = Box::new(io::Cursor::new(data.as_bytes().to_vec()));
        let mut stream = ValueStream::new(source, max);
        let mut out = Vec::new();
        while let Some((line, value)) = stream.next_value() {
            out.push((
                line,
                value
                    .map(|v| String::from_utf8(v).unwrap())
                    .map_err(|e| match e {
                        ScanError::TooLarge => "too large".to_string(),
                        ScanError::Syntax(s) => s,
                        ScanError::Io(e) => e.to_string(),
                    }),
            ));
        }
        out
    }

    #[test]
    fn array_elements_with_lines() {
        let v = values("[\n {\"a\": \"x]}\\\"\"},\n {\"b\": [1, {}]}\n]\n", 100);
        assert_eq!(
            v,
            vec![
                (2, Ok("{\"a\": \"x]}\\\"\"}".into())),
                (3, Ok("{\"b\": [1, {}]}".into()))
            ]
        );
        assert!(values("[]", 10).is_empty());
        assert_eq!(
            values("[1, \"s\"]", 10),
            vec![(1, Ok("1".into())), (1, Ok("\"s\"".into()))]
        );
    }

    #[test]
    fn single_object_and_sequence() {
        assert_eq!(
            values("\u{feff}{\"a\":1}", 100),
            vec![(1, Ok("{\"a\":1}".into()))]
        );
        assert_eq!(
            values("{}\n{}", 100),
            vec![(1, Ok("{}".into())), (2, Ok("{}".into()))]
        );
    }

    #[test]
    fn oversized_element_is_skipped() {
        let v = values("[{\"a\":\"0123456789\"}, {\"b\":1}]", 10);
        assert_eq!(
            v,
            vec![(1, Err("too large".into())), (1, Ok("{\"b\":1}".into()))]
        );
    }

    #[test]
    fn structural_errors_end_the_stream() {
        assert!(matches!(values("", 10)[..], [(1, Err(_))]));
        assert!(matches!(values("[{}", 10)[..], [(1, Ok(_)), (1, Err(_))]));
        assert!(matches!(
            values("[{} {}]", 10)[..],
            [(1, Ok(_)), (1, Err(_))]
        ));
        assert!(matches!(values("[{},]", 10)[..], [(1, Ok(_)), (1, Err(_))]));
        assert!(matches!(
            values("[{}] x", 10)[..],
            [(1, Ok(_)), (1, Err(_))]
        ));
        assert!(matches!(values("[{\"a\": \"open", 100)[..], [(1, Err(_))]));
    }

    #[test]
    fn deep_nesting_is_only_counted() {
        let deep = format!("[{}{}]", "[".repeat(100_000), "]".repeat(100_000));
        let v = values(&deep, 1 << 20);
        assert_eq!(v.len(), 1);
        assert!(v[0].1.is_ok());
    }
}
