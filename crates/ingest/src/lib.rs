//! morgue-ingest: turns RFA plain text, plain text, JSON, JSON Lines, CSV/TSV tables, HTML pages
//! and WARC files into article drafts.
//!
//! [`read`] takes a reader and the name the user gave it (used to pick the format and any
//! `.zst`/`.gz` decompression) and yields one [`Entry`] per article: a [`Draft`] with warnings,
//! or an [`IngestError`] saying why that article was not read. Input is streamed: JSON Lines and
//! JSON arrays are read one article at a time, and no article may exceed [`MAX_ARTICLE_BYTES`],
//! so memory stays bounded whatever the file size. Nothing here panics on bad input.
//!
//! The formats and the fields they fill are described in `docs/formats.md`.
//!
//! ```
//! use std::fs::File;
//! use morgue_ingest::{read, Format, Overrides};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = tempfile::tempdir()?;
//! let path = dir.path().join("articles.jsonl");
//! std::fs::write(
//!     &path,
//!     "{\"title\": \"Rain\", \"body\": \"It rained.\", \"author\": \"By Ann Lee, Wire\"}\n\
//!      {\"title\": \"Sun\"}\n",
//! )?;
//! let mut entries = read("articles.jsonl", Box::new(File::open(&path)?), Format::Auto, &Overrides::default());
//!
//! let first = entries.next().ok_or("no entry")?;
//! let parsed = first.outcome?;
//! assert_eq!(first.line, Some(1));
//! assert_eq!(parsed.draft.body, "It rained.");
//! assert_eq!(parsed.draft.record.reporters, ["Ann Lee"]);
//! assert_eq!(parsed.draft.record.origin, "articles.jsonl");
//!
//! let second = entries.next().ok_or("no entry")?;
//! assert_eq!(second.line, Some(2));
//! assert_eq!(second.outcome.err().map(|e| e.to_string()).as_deref(),
//!            Some("no body: none of the fields body, text, maintext, content, article"));
//! assert!(entries.next().is_none());
//! # Ok(())
//! # }
//! ```
#![deny(missing_docs)]

mod byline;
mod dates;
mod html;
mod input;
mod json;
mod jsonstream;
mod names;
mod rfa;
mod table;
mod text;
mod warc;

use std::collections::VecDeque;
use std::fmt;
use std::io::{BufRead, Read};
use std::str::FromStr;
use std::sync::mpsc;

pub use morgue_model::{ArticleDate, DateOrigin, Draft, Parsed, Record};

use input::{Compression, Line, LineReader, Source};
use jsonstream::{ScanError, ValueStream};
use rfa::TextKind;
use table::Table;
use warc::Warc;

/// The largest article (and the longest JSON Lines line) accepted: 64 MiB.
pub const MAX_ARTICLE_BYTES: usize = 64 << 20;

/// JSON Lines are read ahead, up to this many lines (and [`LOOKAHEAD_BYTES`]) at a time, and
/// parsed together on all cores: parsing one line at a time made the reading thread the
/// slowest stage of an import. Only lines already buffered are read ahead, so a slow input
/// (a pipe) still yields each line as soon as it has arrived.
const LOOKAHEAD_LINES: usize = 256;
/// Bytes of JSON Lines read ahead at most (one longer line is still read alone).
const LOOKAHEAD_BYTES: usize = 4 << 20;
/// Chunks of read-ahead lines being parsed at once, at most.
const LOOKAHEAD_CHUNKS: usize = 4;

/// How to read an input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// By the file name's extension (`.txt`, `.json`, `.jsonl`, `.ndjson`, each maybe `.zst` or
    /// `.gz`); otherwise by content: `[` starts JSON, `{` starts JSON Lines, anything else is
    /// text, which is RFA plain text when it has an RFA image line or site footer.
    #[default]
    Auto,
    /// RFA plain text: headline, image line, body, byline, site footer.
    Rfa,
    /// Plain text: headline (first non-empty line) and body (the rest); the byline is read too.
    Text,
    /// One JSON object, an array of objects, or objects one after another.
    Json,
    /// JSON Lines: one object per line.
    Jsonl,
    /// A table with a header row: comma-separated unless the name (`.tsv`, `.tab`) or the
    /// content says tabs.
    Csv,
    /// A table with a header row, tab-separated.
    Tsv,
    /// An HTML page: one article, its main text and metadata.
    Html,
    /// A WARC file: one article per HTML response record.
    Warc,
}

impl FromStr for Format {
    type Err = String;

    /// `auto`, `rfa`, `text`, `json`, `jsonl`, `csv`, `tsv`, `html` or `warc`.
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        match name {
            "auto" => Ok(Format::Auto),
            "rfa" => Ok(Format::Rfa),
            "text" => Ok(Format::Text),
            "json" => Ok(Format::Json),
            "jsonl" | "ndjson" => Ok(Format::Jsonl),
            "csv" => Ok(Format::Csv),
            "tsv" => Ok(Format::Tsv),
            "html" => Ok(Format::Html),
            "warc" => Ok(Format::Warc),
            other => Err(format!(
                "unknown format {other:?} (expected auto, rfa, text, json, jsonl, csv, tsv, html \
                 or warc)"
            )),
        }
    }
}

/// Values given on the command line that replace the parsed ones on every draft of an import.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overrides {
    /// Replaces `services` with `[service]`.
    pub service: Option<String>,
    /// Replaces `reporters` with `[reporter]`.
    pub reporter: Option<String>,
    /// Replaces `date`, with `date_origin` = given.
    pub date: Option<ArticleDate>,
}

impl Overrides {
    /// Applies the overrides to a draft.
    pub fn apply(&self, draft: &mut Draft) {
        let record = &mut draft.record;
        if let Some(service) = &self.service {
            record.services = vec![service.clone()];
        }
        if let Some(reporter) = &self.reporter {
            record.reporters = vec![reporter.clone()];
        }
        if let Some(date) = self.date {
            record.date = Some(date);
            record.date_origin = Some(DateOrigin::Given);
        }
    }
}

/// One article, or why it could not be read.
#[derive(Debug)]
pub struct Entry {
    /// For JSON Lines, the 1-based line; for a `.json` file, the line where the object starts;
    /// for a table, the line its row starts on; for a WARC file, the byte offset of the record
    /// (in the decompressed stream); `None` for text and HTML files (one article per file).
    pub line: Option<u64>,
    /// The article or the error.
    pub outcome: Result<Parsed, IngestError>,
}

/// Why an article could not be read. The `Display` text is the reason alone; the caller adds the
/// file name and line.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IngestError {
    /// The text is not valid UTF-8.
    #[error("invalid UTF-8 at byte {offset}")]
    InvalidUtf8 {
        /// Offset of the first invalid byte in the (decompressed) input.
        offset: u64,
    },
    /// The input holds NUL bytes: binary data, not text.
    #[error("binary data (NUL byte at byte {offset}), not text")]
    Binary {
        /// Offset of the first NUL byte.
        offset: u64,
    },
    /// The input starts with a UTF-16 byte-order mark.
    #[error("UTF-16 is not supported, convert to UTF-8")]
    Utf16,
    /// The article body is empty or only whitespace.
    #[error("empty body")]
    EmptyBody,
    /// A JSON object has none of the body fields.
    #[error("no body: none of the fields body, text, maintext, content, article")]
    MissingBody,
    /// An article is longer than [`MAX_ARTICLE_BYTES`].
    #[error("article longer than {} MiB", .max >> 20)]
    TooLarge {
        /// The limit in bytes.
        max: usize,
    },
    /// A JSON Lines line is longer than [`MAX_ARTICLE_BYTES`]; it was skipped.
    #[error("line longer than {} MiB", .max >> 20)]
    LineTooLong {
        /// The limit in bytes.
        max: usize,
    },
    /// The JSON does not parse (serde_json's message, with line and column), or the structure of
    /// a `.json` file is broken.
    #[error("invalid JSON: {0}")]
    InvalidJson(String),
    /// A JSON value that should be an article object is something else.
    #[error("expected a JSON object, found {found}")]
    NotAnObject {
        /// "an array", "a string", …
        found: &'static str,
    },
    /// An essential field has a value of the wrong type.
    #[error("field `{field}`: expected {expected}, found {found}")]
    WrongType {
        /// The field name.
        field: String,
        /// What it should be.
        expected: &'static str,
        /// What it is.
        found: &'static str,
    },
    /// The input is a file of a type morgue does not import: markup other than HTML, or
    /// anything given as JSON that is a table or a page.
    #[error(
        "{what}, not an article: morgue imports RFA text, plain text, JSON, JSON Lines, CSV, \
         HTML and WARC (use --format text to store it as text anyway)"
    )]
    OtherType {
        /// "HTML", "XML or other markup", "a CSV table", "a TSV table".
        what: &'static str,
    },
    /// A JSON input (by its name or `--format json`) that does not start like JSON at all.
    #[error("not JSON: the input starts with {start:?}, not `{{` or `[`")]
    NotJson {
        /// The first characters of the input.
        start: String,
    },
    /// A file of a binary format (Parquet) that cannot be read, or not from here on: damaged,
    /// truncated, or without the columns an article needs. The reason, naming what is wrong.
    #[error("{0}")]
    Unreadable(String),
    /// A table row has more or fewer cells than the header row has columns.
    #[error("row has {found} fields, the header row has {expected}")]
    Columns {
        /// Cells in the row.
        found: usize,
        /// Columns in the header row.
        expected: usize,
    },
    /// A table's last row reaches the end of the input inside a quoted field.
    #[error("unterminated quote: the row runs to the end of the input")]
    UnterminatedQuote,
    /// A table row (an unterminated quote, often) is longer than [`MAX_ARTICLE_BYTES`]; the
    /// rest of the input is not read.
    #[error(
        "row longer than {} MiB (an unterminated quote?); the rest of the input is not read",
        .max >> 20
    )]
    RowTooLong {
        /// The limit in bytes.
        max: usize,
    },
    /// A table cell is not valid UTF-8.
    #[error("invalid UTF-8 in column `{column}`")]
    InvalidUtf8Cell {
        /// The column's name.
        column: String,
    },
    /// An HTML page in which the extractor found no article text.
    #[error("no article text in the page")]
    NoArticleText,
    /// An HTML page too big or too deeply nested to parse safely.
    #[error("page too complex to read: {what}")]
    PageTooComplex {
        /// What limit it exceeds.
        what: String,
    },
    /// A WARC record that cannot be read: a broken header, a lying or missing
    /// `Content-Length`, a truncated record, a broken HTTP message.
    #[error("WARC: {0}")]
    Warc(String),
    /// Reading or decompressing the input failed; no more articles are read from it.
    #[error("read error: {0}")]
    Io(std::io::Error),
}

/// The body fields of a JSON object, in the order tried: `body`, `text`, `maintext`, `content`,
/// `article`. Readers of other formats with named columns (morgue-parquet) take the same names.
pub const BODY_FIELDS: &[&str] = json::BODY;

/// One article given as a JSON object (any `serde_json::Value`; anything but an object is an
/// error), read with the field names and rules of the JSON readers (docs/formats.md), with the
/// overrides applied and `name` as the origin unless the object gives one. For readers of other
/// formats with named fields (morgue-parquet turns each Parquet row into such an object), so that
/// every format takes the same aliases. A body longer than [`MAX_ARTICLE_BYTES`] is an error, as
/// in the other formats.
pub fn read_object(
    name: &str,
    line: Option<u64>,
    object: serde_json::Value,
    overrides: &Overrides,
) -> Entry {
    let outcome = std::panic::catch_unwind(|| json::parse_json_value(object))
        .unwrap_or_else(|_| {
            Err(IngestError::InvalidJson(
                "the parser failed on this row (a bug in morgue; please report it)".into(),
            ))
        })
        .and_then(|parsed| {
            if parsed.draft.body.len() > MAX_ARTICLE_BYTES {
                Err(IngestError::TooLarge {
                    max: MAX_ARTICLE_BYTES,
                })
            } else {
                Ok(parsed)
            }
        });
    finish(name, overrides, line, outcome)
}

/// Whether a directory import takes this file: `.txt`, `.json`, `.jsonl`, `.ndjson`, `.csv`,
/// `.tsv`, `.tab`, `.html`, `.htm`, `.xhtml`, `.warc`, each also with `.zst` or `.gz`
/// (case-insensitive).
pub fn accepts(file_name: &str) -> bool {
    let (_, base) = input::compression_of(file_name);
    let base = base.to_ascii_lowercase();
    [
        ".txt", ".json", ".jsonl", ".ndjson", ".csv", ".tsv", ".tab", ".html", ".htm", ".xhtml",
        ".warc",
    ]
    .iter()
    .any(|ext| base.ends_with(ext) && base.len() > ext.len())
}

/// Reads the articles of one input.
///
/// `name` is the path as the user gave it (`-` for standard input): its extension chooses the
/// format under [`Format::Auto`] and the decompression (`.zst`, `.gz`; without such a suffix,
/// compressed input is recognised by its magic bytes), and it becomes each record's `origin`
/// unless a JSON object gives one. The overrides are applied to every draft.
///
/// Nothing is read until the first call to `next`. A read or decompression error yields one
/// [`Entry`] with [`IngestError::Io`] and ends the iteration.
pub fn read(
    name: &str,
    input: Box<dyn Read + Send>,
    format: Format,
    overrides: &Overrides,
) -> Entries {
    Entries {
        name: name.to_string(),
        format,
        overrides: overrides.clone(),
        state: State::Start(input),
    }
}

/// The entries of one input; see [`read`].
pub struct Entries {
    name: String,
    format: Format,
    overrides: Overrides,
    state: State,
}

enum State {
    Start(Box<dyn Read + Send>),
    Lines {
        source: Source,
        reader: LineReader,
        line: u64,
        /// Entries parsed, not yet yielded.
        ready: std::vec::IntoIter<Entry>,
        /// Chunks of lines being parsed on the thread pool, in input order.
        parsing: VecDeque<mpsc::Receiver<Vec<Entry>>>,
        /// The input ended (or failed): only what is parsed or parsing is left.
        ended: bool,
    },
    /// A `.json` input, and the articles of a wrapper object not yet yielded.
    Values(ValueStream, VecDeque<Entry>),
    /// A CSV or TSV table.
    Table(Box<Table>),
    /// A WARC file.
    Warc(Box<Warc>),
    Done,
}

impl fmt::Debug for Entries {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match &self.state {
            State::Start(_) => "start",
            State::Lines { .. } => "json lines",
            State::Values(..) => "json",
            State::Table(_) => "table",
            State::Warc(_) => "warc",
            State::Done => "done",
        };
        f.debug_struct("Entries")
            .field("name", &self.name)
            .field("format", &self.format)
            .field("overrides", &self.overrides)
            .field("state", &state)
            .finish()
    }
}

/// The format a name's extension implies, after removing any compression suffix.
fn format_of(base: &str) -> Option<Format> {
    use input::has_extension;
    if has_extension(base, ".json") {
        Some(Format::Json)
    } else if has_extension(base, ".jsonl") || has_extension(base, ".ndjson") {
        Some(Format::Jsonl)
    } else if has_extension(base, ".txt") {
        Some(Format::Auto)
    } else if has_extension(base, ".html")
        || has_extension(base, ".htm")
        || has_extension(base, ".xhtml")
    {
        Some(Format::Html)
    } else if has_extension(base, ".warc") {
        Some(Format::Warc)
    } else {
        None
    }
}

/// Reads up to [`LOOKAHEAD_LINES`] lines (and [`LOOKAHEAD_BYTES`]), stopping early when the
/// next line would have to wait for input; blank lines are skipped. Sets `ended` at the end of
/// the input or after a read error (the error is the last item).
fn read_ahead(
    source: &mut Source,
    reader: &mut LineReader,
    line: &mut u64,
    ended: &mut bool,
) -> Vec<(u64, u64, Result<Vec<u8>, IngestError>)> {
    let mut raw = Vec::new();
    let mut bytes = 0;
    while raw.len() < LOOKAHEAD_LINES && bytes < LOOKAHEAD_BYTES {
        *line += 1;
        let number = *line;
        let next = reader.next_line(source);
        let mut offset = reader.line_start();
        match next {
            Err(e) => {
                raw.push((number, offset, Err(IngestError::Io(e))));
                *ended = true;
                break;
            }
            Ok(None) => {
                *ended = true;
                break;
            }
            Ok(Some(Line::TooLong)) => raw.push((
                number,
                offset,
                Err(IngestError::LineTooLong {
                    max: MAX_ARTICLE_BYTES,
                }),
            )),
            Ok(Some(Line::Text(mut text))) => {
                if number == 1 && text.starts_with(&[0xEF, 0xBB, 0xBF]) {
                    text.drain(..3);
                    offset += 3;
                }
                if !text.iter().all(u8::is_ascii_whitespace) {
                    bytes += text.len();
                    raw.push((number, offset, Ok(text)));
                }
            }
        }
        if !reader.more_buffered() {
            break;
        }
    }
    raw
}

/// Parses one JSON line on the thread pool, where a panic would abort the process: a bug of
/// the parser on some input becomes that line's error instead (the panic message is still
/// printed), and the import goes on.
fn parse_line_guarded(text: &[u8], offset: u64) -> Vec<Result<Parsed, IngestError>> {
    std::panic::catch_unwind(|| json::parse_json_bytes_many(text, Some(offset))).unwrap_or_else(
        |_| {
            vec![Err(IngestError::InvalidJson(
                "the parser failed on this line (a bug in morgue; please report it)".into(),
            ))]
        },
    )
}

/// An entry with the overrides applied and the input's name as the origin of its draft.
fn finish(
    name: &str,
    overrides: &Overrides,
    line: Option<u64>,
    outcome: Result<Parsed, IngestError>,
) -> Entry {
    let outcome = outcome.map(|mut parsed| {
        overrides.apply(&mut parsed.draft);
        if parsed.draft.record.origin.is_empty() {
            name.clone_into(&mut parsed.draft.record.origin);
        }
        parsed
    });
    Entry { line, outcome }
}

impl Entries {
    /// Whether the next entry (or the end) is known without waiting for more input: the caller
    /// may wait for it before passing on what it has. Always false for inputs other than JSON
    /// Lines.
    pub fn has_buffered(&self) -> bool {
        match &self.state {
            State::Lines {
                reader,
                ready,
                parsing,
                ended,
                ..
            } => ready.len() > 0 || !parsing.is_empty() || *ended || reader.more_buffered(),
            State::Done => true,
            State::Start(_) | State::Values(..) | State::Table(_) | State::Warc(_) => false,
        }
    }

    fn finish(&self, line: Option<u64>, outcome: Result<Parsed, IngestError>) -> Entry {
        finish(&self.name, &self.overrides, line, outcome)
    }

    fn start(&mut self, input: Box<dyn Read + Send>) -> Option<Entry> {
        let (compression, base) = input::compression_of(&self.name);
        let compression: Option<Compression> = compression;
        let mut source = match input::open(input, compression) {
            Ok(source) => source,
            Err(e) => return Some(self.finish(None, Err(IngestError::Io(e)))),
        };
        match source.fill_buf() {
            Ok(head) if head.starts_with(&[0xFF, 0xFE]) || head.starts_with(&[0xFE, 0xFF]) => {
                return Some(self.finish(None, Err(IngestError::Utf16)));
            }
            Ok(_) => {}
            Err(e) => return Some(self.finish(None, Err(IngestError::Io(e)))),
        }
        // Tables: by `--format`, the name or the content.
        let separator = match (self.format, format_of(base)) {
            (Format::Csv, _) => match table::separator_of(base) {
                Some(separator) => Ok(Some(separator)),
                None => input::sniff_table(&mut source).map(|s| Some(s.unwrap_or(b','))),
            },
            (Format::Tsv, _) => Ok(Some(b'\t')),
            (Format::Auto, None | Some(Format::Auto)) => match table::separator_of(base) {
                Some(separator) => Ok(Some(separator)),
                None => input::sniff_table(&mut source),
            },
            _ => Ok(None),
        };
        match separator {
            Ok(Some(separator)) => {
                self.state = State::Table(Box::new(Table::new(source, separator)));
                return self.next_row();
            }
            Ok(None) => {}
            Err(e) => return Some(self.finish(None, Err(IngestError::Io(e)))),
        }
        // Web pages and WARC files: by `--format`, the name or the content.
        let web = match (self.format, format_of(base)) {
            (Format::Html | Format::Warc, _) => Ok(Some(self.format)),
            (Format::Auto, Some(format @ (Format::Html | Format::Warc))) => Ok(Some(format)),
            (Format::Auto, None | Some(Format::Auto)) => source.fill_buf().map(|head| {
                if warc::looks_like_warc(head) {
                    Some(Format::Warc)
                } else if html::looks_like_html(head) {
                    Some(Format::Html)
                } else {
                    None
                }
            }),
            _ => Ok(None),
        };
        match web {
            Ok(Some(Format::Warc)) => {
                self.state = State::Warc(Box::new(Warc::new(source)));
                return self.next_record();
            }
            Ok(Some(_)) => {
                let outcome = match input::read_capped(&mut source, MAX_ARTICLE_BYTES) {
                    Err(e) => Err(IngestError::Io(e)),
                    Ok(Err(())) => Err(IngestError::TooLarge {
                        max: MAX_ARTICLE_BYTES,
                    }),
                    Ok(Ok(bytes)) => html_guarded(bytes),
                };
                return Some(self.finish(None, outcome));
            }
            Ok(None) => {}
            Err(e) => return Some(self.finish(None, Err(IngestError::Io(e)))),
        }
        // Markup, and tables given as JSON, are refused unless the user asked for text: stored
        // as text they would be junk articles.
        if matches!(self.format, Format::Auto | Format::Json | Format::Jsonl) {
            match input::other_type(&mut source, base) {
                Ok(Some(what)) => {
                    return Some(self.finish(None, Err(IngestError::OtherType { what })));
                }
                Ok(None) => {}
                Err(e) => return Some(self.finish(None, Err(IngestError::Io(e)))),
            }
        }
        let format = match (self.format, format_of(base)) {
            (Format::Auto, None) => match input::first_significant_byte(&mut source) {
                Ok(Some(b'[')) => Format::Json,
                Ok(Some(b'{')) => Format::Jsonl,
                Ok(_) => Format::Auto,
                Err(e) => return Some(self.finish(None, Err(IngestError::Io(e)))),
            },
            (Format::Auto, Some(format)) | (format, _) => format,
        };
        // A JSON file that does not start like JSON is one error, not one per value the
        // scanner would find in it.
        if format == Format::Json {
            match input::first_significant_byte(&mut source) {
                Ok(Some(b'[' | b'{') | None) => {}
                Ok(Some(_)) => {
                    let start = source.fill_buf().map_or_else(
                        |_| String::new(),
                        |head| {
                            let head = head.strip_prefix(&[0xEF, 0xBB, 0xBF][..]).unwrap_or(head);
                            String::from_utf8_lossy(head.trim_ascii_start())
                                .chars()
                                .take(20)
                                .collect()
                        },
                    );
                    return Some(self.finish(None, Err(IngestError::NotJson { start })));
                }
                Err(e) => return Some(self.finish(None, Err(IngestError::Io(e)))),
            }
        }
        let kind = match format {
            Format::Json => {
                self.state =
                    State::Values(ValueStream::new(source, MAX_ARTICLE_BYTES), VecDeque::new());
                return self.next_value();
            }
            Format::Jsonl => {
                self.state = State::Lines {
                    source,
                    reader: LineReader::new(MAX_ARTICLE_BYTES),
                    line: 0,
                    ready: Vec::new().into_iter(),
                    parsing: VecDeque::new(),
                    ended: false,
                };
                return self.next_line();
            }
            Format::Auto | Format::Csv | Format::Tsv | Format::Html | Format::Warc => {
                TextKind::Auto
            }
            Format::Rfa => TextKind::Rfa,
            Format::Text => TextKind::Plain,
        };
        let outcome = match input::read_capped(&mut source, MAX_ARTICLE_BYTES) {
            Err(e) => Err(IngestError::Io(e)),
            Ok(Err(())) => Err(IngestError::TooLarge {
                max: MAX_ARTICLE_BYTES,
            }),
            Ok(Ok(bytes)) => text::decode(&bytes).and_then(|text| rfa::parse_text(text, kind)),
        };
        Some(self.finish(None, outcome))
    }

    fn next_line(&mut self) -> Option<Entry> {
        loop {
            let State::Lines {
                source,
                reader,
                line,
                ready,
                parsing,
                ended,
            } = &mut self.state
            else {
                return None;
            };
            if let Some(entry) = ready.next() {
                return Some(entry);
            }
            // Read ahead while lines are at hand (or nothing else is left to wait for), and
            // have them parsed on the thread pool meanwhile.
            while !*ended
                && parsing.len() < LOOKAHEAD_CHUNKS
                && (parsing.is_empty() || reader.more_buffered())
            {
                let raw = read_ahead(source, reader, line, ended);
                let (tx, rx) = mpsc::sync_channel(1);
                let (name, overrides) = (self.name.clone(), self.overrides.clone());
                rayon::spawn(move || {
                    let parsed: Vec<Entry> = raw
                        .into_iter()
                        .flat_map(|(number, offset, text)| {
                            let outcomes = match text {
                                Ok(text) => parse_line_guarded(&text, offset),
                                Err(e) => vec![Err(e)],
                            };
                            outcomes
                                .into_iter()
                                .map(|outcome| finish(&name, &overrides, Some(number), outcome))
                                .collect::<Vec<_>>()
                        })
                        .collect();
                    // The receiver is gone only when the iteration was dropped.
                    let _ = tx.send(parsed);
                });
                parsing.push_back(rx);
            }
            let Some(next) = parsing.pop_front() else {
                self.state = State::Done;
                return None;
            };
            // A chunk whose task died (it cannot panic: see `parse_line_guarded`) would drop its
            // sender: end the input rather than hang.
            if let Ok(parsed) = next.recv() {
                *ready = parsed.into_iter();
            } else {
                self.state = State::Done;
                return None;
            }
        }
    }

    fn next_value(&mut self) -> Option<Entry> {
        let State::Values(stream, pending) = &mut self.state else {
            return None;
        };
        if let Some(entry) = pending.pop_front() {
            return Some(entry);
        }
        let (line, value) = stream.next_value()?;
        let outcomes = match value {
            Ok(bytes) => json::parse_json_bytes_many(&bytes, None),
            Err(ScanError::TooLarge) => vec![Err(IngestError::TooLarge {
                max: MAX_ARTICLE_BYTES,
            })],
            Err(ScanError::Syntax(message)) => vec![Err(IngestError::InvalidJson(message))],
            Err(ScanError::Io(e)) => vec![Err(IngestError::Io(e))],
        };
        let (name, overrides) = (&self.name, &self.overrides);
        pending.extend(
            outcomes
                .into_iter()
                .map(|outcome| finish(name, overrides, Some(line), outcome)),
        );
        pending.pop_front().or_else(|| self.next_value())
    }
}

/// Reads one HTML page; a panic of the parser or extractor on some page becomes that page's
/// error, and the import goes on.
fn html_guarded(bytes: Vec<u8>) -> Result<Parsed, IngestError> {
    let parsed = std::panic::catch_unwind(|| html::parse_html(&bytes, &html::PageInfo::default()))
        .unwrap_or(Err(IngestError::NoArticleText));
    parsed.map(|parsed| keep_page(parsed, bytes, "text/html"))
}

/// The article with the page it was read from, kept as fetched (see [`Draft::original`]).
pub(crate) fn keep_page(mut parsed: Parsed, bytes: Vec<u8>, media_type: &str) -> Parsed {
    parsed.draft.original = Some(morgue_model::Original {
        bytes,
        media_type: media_type.to_string(),
    });
    parsed
}

impl Entries {
    /// WARC records skipped so far (not responses, not HTML, not HTTP 200); 0 for other inputs.
    pub fn skipped_records(&self) -> u64 {
        match &self.state {
            State::Warc(warc) => warc.skipped,
            _ => 0,
        }
    }

    fn next_record(&mut self) -> Option<Entry> {
        let State::Warc(warc) = &mut self.state else {
            return None;
        };
        let (offset, outcome) = warc.next_record()?;
        Some(self.finish(Some(offset), outcome))
    }

    fn next_row(&mut self) -> Option<Entry> {
        let State::Table(table) = &mut self.state else {
            return None;
        };
        let (line, outcome) = table.next_row()?;
        Some(self.finish(Some(line), outcome))
    }
}

impl Iterator for Entries {
    type Item = Entry;

    fn next(&mut self) -> Option<Entry> {
        match std::mem::replace(&mut self.state, State::Done) {
            State::Start(input) => self.start(input),
            state @ State::Lines { .. } => {
                self.state = state;
                self.next_line()
            }
            state @ State::Values(..) => {
                self.state = state;
                self.next_value()
            }
            state @ State::Table(_) => {
                self.state = state;
                self.next_row()
            }
            state @ State::Warc(_) => {
                self.state = state;
                self.next_record()
            }
            State::Done => None,
        }
    }
}

#[cfg(test)]
mod tests;
