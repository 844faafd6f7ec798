//! CSV and TSV tables: a header row naming the fields, then one article per row.
//!
//! A row becomes the JSON object `{column: cell}` (empty cells left out) and goes through the
//! JSON reader, so that the column names are the JSON field names (`title`, `body`/`text`/
//! `content`, `author`, `date`, `url`, `publication`, …: one alias table, in `json.rs`), and the
//! same corpus as CSV and as JSON Lines gives the same articles and ids.

use std::io::{self, Read};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use serde_json::{Map, Value};

use crate::input::Source;
use crate::{IngestError, Parsed, json};

/// Bytes the CSV reader buffers from its input.
const BUFFER: usize = 64 << 10;

/// The input, counting the bytes read since the current row started: a row longer than the cap
/// (an unterminated quote swallowing the rest of a big file) is a read error, never held in
/// memory. It also keeps the parity of the double quotes seen, to tell an unterminated quote
/// at the end of the input.
struct Capped {
    source: Source,
    state: Arc<CapState>,
}

#[derive(Default)]
struct CapState {
    /// Bytes read since the last [`Table::next_row`] started.
    read: AtomicU64,
    /// The limit was hit.
    over: AtomicBool,
    /// An odd number of `"` read so far.
    odd_quotes: AtomicBool,
    /// The input ended.
    ended: AtomicBool,
    /// Bytes read in all.
    total: AtomicU64,
}

impl Read for Capped {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let max = crate::MAX_ARTICLE_BYTES as u64;
        if self.state.read.load(Ordering::Relaxed) > max {
            self.state.over.store(true, Ordering::Relaxed);
            return Err(io::Error::other("row too long"));
        }
        let n = self.source.read(buf)?;
        if n == 0 {
            self.state.ended.store(true, Ordering::Relaxed);
        }
        self.state.read.fetch_add(n as u64, Ordering::Relaxed);
        self.state.total.fetch_add(n as u64, Ordering::Relaxed);
        if buf[..n].iter().fold(false, |odd, &b| odd ^ (b == b'"')) {
            self.state.odd_quotes.fetch_xor(true, Ordering::Relaxed);
        }
        Ok(n)
    }
}

/// The rows of one table.
pub(crate) struct Table {
    reader: csv::Reader<Capped>,
    state: Arc<CapState>,
    /// The column names; `None` before the header row is read.
    columns: Option<Vec<String>>,
    record: csv::ByteRecord,
    done: bool,
}

impl std::fmt::Debug for Table {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Table")
            .field("columns", &self.columns)
            .finish_non_exhaustive()
    }
}

/// The field separator a name's extension implies: `,` for `.csv`, a tab for `.tsv`/`.tab`.
pub(crate) fn separator_of(base: &str) -> Option<u8> {
    use crate::input::has_extension;
    if has_extension(base, ".csv") {
        Some(b',')
    } else if has_extension(base, ".tsv") || has_extension(base, ".tab") {
        Some(b'\t')
    } else {
        None
    }
}

impl Table {
    /// A table separated by `separator`. A UTF-8 byte-order mark at the start is skipped.
    pub(crate) fn new(mut source: Source, separator: u8) -> Table {
        if let Ok(head) = source.fill_buf()
            && head.starts_with(&[0xEF, 0xBB, 0xBF])
        {
            source.consume(3);
        }
        let state = Arc::new(CapState::default());
        let reader = csv::ReaderBuilder::new()
            .delimiter(separator)
            // Any line end (csv's CRLF terminator miscounts lines); a `\r` before it is trimmed
            // from the last cell.
            .terminator(csv::Terminator::Any(b'\n'))
            .has_headers(false)
            .flexible(true)
            .buffer_capacity(BUFFER)
            .from_reader(Capped {
                source,
                state: Arc::clone(&state),
            });
        Table {
            reader,
            state,
            columns: None,
            record: csv::ByteRecord::new(),
            done: false,
        }
    }

    /// The next row as `(line, article or error)`; `None` at the end. The header row is read
    /// first; a header that cannot be read ends the table with its error on line 1.
    pub(crate) fn next_row(&mut self) -> Option<(u64, Result<Parsed, IngestError>)> {
        if self.done {
            return None;
        }
        if self.columns.is_none() {
            match self.read_record() {
                Ok(Some(_)) => self.columns = Some(column_names(&self.record)),
                Ok(None) => {
                    self.done = true;
                    return None;
                }
                Err(e) => {
                    self.done = true;
                    return Some((1, Err(e)));
                }
            }
        }
        loop {
            let line = match self.read_record() {
                Ok(Some(line)) => line,
                Ok(None) => {
                    self.done = true;
                    return None;
                }
                Err(e) => {
                    self.done = true;
                    let line = self.reader.position().line();
                    return Some((line, Err(e)));
                }
            };
            // A blank line is no row.
            if self.record.len() == 1 && self.record[0].trim_ascii().is_empty() {
                continue;
            }
            return Some((line, self.row()));
        }
    }

    /// Reads the next record into `self.record`; its line, `None` at the end.
    fn read_record(&mut self) -> Result<Option<u64>, IngestError> {
        self.state.read.store(0, Ordering::Relaxed);
        match self.reader.read_byte_record(&mut self.record) {
            Ok(true) => Ok(Some(self.record.position().map_or(1, csv::Position::line))),
            Ok(false) => Ok(None),
            Err(_) if self.state.over.load(Ordering::Relaxed) => Err(IngestError::RowTooLong {
                max: crate::MAX_ARTICLE_BYTES,
            }),
            Err(e) => match e.into_kind() {
                csv::ErrorKind::Io(e) => Err(IngestError::Io(e)),
                other => Err(IngestError::Io(io::Error::other(format!("{other:?}")))),
            },
        }
    }

    /// The current record as an article.
    fn row(&mut self) -> Result<Parsed, IngestError> {
        let columns = self.columns.as_deref().unwrap_or_default();
        // The last row, read to the end of the input inside quotes: a quote was never closed.
        if self.state.ended.load(Ordering::Relaxed)
            && self.state.odd_quotes.load(Ordering::Relaxed)
            && self.reader.position().byte() >= self.state.total.load(Ordering::Relaxed)
        {
            return Err(IngestError::UnterminatedQuote);
        }
        if self.record.len() != columns.len() {
            return Err(IngestError::Columns {
                found: self.record.len(),
                expected: columns.len(),
            });
        }
        let mut object = Map::new();
        let last = columns.len().saturating_sub(1);
        for (i, (name, cell)) in columns.iter().zip(self.record.iter()).enumerate() {
            let cell = if i == last {
                cell.strip_suffix(b"\r").unwrap_or(cell)
            } else {
                cell
            };
            let text = std::str::from_utf8(cell).map_err(|_| IngestError::InvalidUtf8Cell {
                column: name.clone(),
            })?;
            if !text.trim().is_empty() && !object.contains_key(name) {
                object.insert(name.clone(), Value::String(text.to_string()));
            }
        }
        json::parse_json_value(Value::Object(object))
    }
}

/// The header row's names, trimmed; an empty one is `column N` (1-based), so that its cells
/// are still kept.
fn column_names(record: &csv::ByteRecord) -> Vec<String> {
    record
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let name = String::from_utf8_lossy(name.strip_suffix(b"\r").unwrap_or(name));
            let name = name.trim_start_matches('\u{feff}').trim();
            if name.is_empty() {
                format!("column {}", i + 1)
            } else {
                name.to_string()
            }
        })
        .collect()
}
