//! The export: rows buffered per partition, written a row group at a time.

use std::collections::BTreeMap;
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::builder::{ListBuilder, StringBuilder};
use arrow_array::{ArrayRef, RecordBatch, StringArray, TimestampMicrosecondArray};
use arrow_schema::SchemaRef;
use chrono::Datelike as _;
use morgue_model::Record;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;
use parquet::schema::types::ColumnPath;

use crate::partition::{NONE, escape};
use crate::schema::export_schema;

/// The file in the temporary directory that says it is an unfinished export of morgue's, so that
/// the next export may remove it.
const MARKER: &str = ".morgue-export-partial";

/// How an export is laid out and how much it may hold in memory.
#[derive(Debug, Clone)]
pub struct ExportOptions {
    /// Write the `body` column (`false`: metadata only, `export --no-body`).
    pub body: bool,
    /// A row group ends at this many rows...
    pub row_group_rows: usize,
    /// ...or once its rows hold this many bytes of text (bodies and metadata, uncompressed).
    pub row_group_bytes: usize,
    /// Rows buffered over all partitions at most (bytes of text): past it, the partition holding
    /// the most is written out as a (smaller) row group.
    pub buffer_bytes: usize,
    /// Files open for writing at once, at most: past it, the file written least recently is
    /// finished, and that partition's next rows go to its next file (`part-1.parquet`, ...).
    pub max_open_files: usize,
    /// The zstd level (1-22).
    pub zstd_level: i32,
}

impl Default for ExportOptions {
    /// Row groups of 100,000 rows or 64 MiB of text, 256 MiB buffered at most, 64 open files,
    /// zstd level 3.
    fn default() -> Self {
        ExportOptions {
            body: true,
            row_group_rows: 100_000,
            row_group_bytes: 64 << 20,
            buffer_bytes: 256 << 20,
            max_open_files: 64,
            zstd_level: 3,
        }
    }
}

/// What an export wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExportSummary {
    /// Rows (articles) written.
    pub rows: u64,
    /// Parquet files written.
    pub files: u64,
    /// Row groups written.
    pub row_groups: u64,
    /// Bytes of the Parquet files.
    pub bytes: u64,
}

/// Why an export failed. Nothing is left at the destination when it does.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExportError {
    /// The destination exists and is not an empty directory.
    #[error("{} exists and is not an empty directory: export into a new directory", .0.display())]
    Exists(PathBuf),
    /// The temporary directory exists and is not an unfinished export of morgue's.
    #[error(
        "{} exists and is not an unfinished morgue export: remove it or choose another destination",
        .0.display()
    )]
    TempExists(PathBuf),
    /// Reading or writing the file system failed.
    #[error("{}: {source}", .path.display())]
    Io {
        /// The path written.
        path: PathBuf,
        /// The error.
        source: io::Error,
    },
    /// The Parquet writer failed.
    #[error("{}: writing Parquet: {message}", .path.display())]
    Parquet {
        /// The file written.
        path: PathBuf,
        /// The writer's message.
        message: String,
    },
}

fn io_error(path: &Path) -> impl FnOnce(io::Error) -> ExportError + '_ {
    move |source| ExportError::Io {
        path: path.to_owned(),
        source,
    }
}

fn parquet_error(path: &Path) -> impl FnOnce(parquet::errors::ParquetError) -> ExportError + '_ {
    move |e| ExportError::Parquet {
        path: path.to_owned(),
        message: e.to_string(),
    }
}

/// One article waiting to be written.
#[derive(Debug)]
struct Row {
    id: String,
    record: Record,
    body: Option<String>,
}

impl Row {
    /// Bytes of text the row holds (what a row group is measured by).
    fn size(&self) -> usize {
        let r = &self.record;
        let lists: usize = [
            &r.reporters,
            &r.translators,
            &r.editors,
            &r.writers,
            &r.services,
            &r.tags,
        ]
        .iter()
        .flat_map(|l| l.iter())
        .map(|s| s.len() + 8)
        .sum();
        let extra: usize = r.extra.iter().map(|(k, v)| k.len() + v.len() + 4).sum();
        64 + self.id.len()
            + r.title.len()
            + r.outlet.len()
            + r.url.len()
            + r.image.len()
            + r.caption.len()
            + r.source_id.len()
            + r.origin.len()
            + lists
            + extra
            + self.body.as_ref().map_or(0, String::len)
    }
}

/// One partition directory: its buffered rows and its open file.
#[derive(Debug, Default)]
struct Part {
    rows: Vec<Row>,
    bytes: usize,
    writer: Option<(PathBuf, ArrowWriter<File>)>,
    /// The number of this partition's next file.
    next_file: usize,
    /// When the open file was last written to (the exporter's clock).
    used: u64,
}

/// Writes a Parquet export; see the crate's documentation.
///
/// Dropped without [`Exporter::finish`] (an error, a panic), it removes what it wrote.
#[derive(Debug)]
pub struct Exporter {
    dest: PathBuf,
    tmp: PathBuf,
    options: ExportOptions,
    schema: SchemaRef,
    properties: WriterProperties,
    /// By partition directory (relative).
    parts: BTreeMap<PathBuf, Part>,
    buffered: usize,
    open: usize,
    clock: u64,
    summary: ExportSummary,
    finished: bool,
}

impl Exporter {
    /// Starts an export into the directory `dest`, which must not exist or be empty. Files are
    /// written under `dest` with `.partial` appended (an unfinished export left there by a killed
    /// one is removed first) and renamed to `dest` by [`Exporter::finish`].
    pub fn create(dest: &Path, options: ExportOptions) -> Result<Exporter, ExportError> {
        if dest.exists() {
            let empty = dest.is_dir()
                && std::fs::read_dir(dest)
                    .map_err(io_error(dest))?
                    .next()
                    .is_none();
            if !empty {
                return Err(ExportError::Exists(dest.to_owned()));
            }
        }
        let mut tmp_name = dest.file_name().unwrap_or_default().to_owned();
        tmp_name.push(".partial");
        let tmp = dest.with_file_name(tmp_name);
        if tmp.exists() {
            if !tmp.join(MARKER).is_file() {
                return Err(ExportError::TempExists(tmp));
            }
            std::fs::remove_dir_all(&tmp).map_err(io_error(&tmp))?;
        }
        std::fs::create_dir_all(&tmp).map_err(io_error(&tmp))?;
        let marker = tmp.join(MARKER);
        std::fs::write(&marker, b"").map_err(io_error(&marker))?;
        let level = ZstdLevel::try_new(options.zstd_level).unwrap_or_default();
        let properties = WriterProperties::builder()
            .set_compression(Compression::ZSTD(level))
            // Row groups are cut here, by rows and bytes: one batch is one row group.
            .set_max_row_group_row_count(None)
            .set_key_value_metadata(Some(vec![KeyValue::new(
                crate::EXPORT_KEY.to_string(),
                crate::EXPORT_VERSION.to_string(),
            )]))
            .set_created_by(format!("morgue {}", env!("CARGO_PKG_VERSION")))
            // Ids and bodies are (nearly) unique: a dictionary would only be tried and dropped.
            .set_column_dictionary_enabled(ColumnPath::from("id"), false)
            .set_column_dictionary_enabled(ColumnPath::from("body"), false)
            .build();
        Ok(Exporter {
            dest: dest.to_owned(),
            tmp,
            schema: Arc::new(export_schema(options.body)),
            options,
            properties,
            parts: BTreeMap::new(),
            buffered: 0,
            open: 0,
            clock: 0,
            summary: ExportSummary::default(),
            finished: false,
        })
    }

    /// The partition directory of a record, relative to the export's root:
    /// `service=S/year=YYYY`, where S is the first service ([`NONE`] for none), escaped, and
    /// YYYY the year of the date ([`NONE`] when undated).
    pub fn partition_of(record: &Record) -> PathBuf {
        let service = record
            .services
            .first()
            .map_or(NONE.to_string(), |s| escape(s));
        let year = record
            .date
            .map_or(NONE.to_string(), |d| d.day.year().to_string());
        PathBuf::from(format!("service={service}")).join(format!("year={year}"))
    }

    /// Adds one article: its id (written as given, the 64-hex id), record and body (ignored
    /// when the export has no body column).
    pub fn push(
        &mut self,
        id: &str,
        record: &Record,
        body: Option<&str>,
    ) -> Result<(), ExportError> {
        let row = Row {
            id: id.to_string(),
            record: record.clone(),
            body: if self.options.body {
                Some(body.unwrap_or_default().to_string())
            } else {
                None
            },
        };
        let size = row.size();
        let dir = Self::partition_of(record);
        let part = self.parts.entry(dir.clone()).or_default();
        part.rows.push(row);
        part.bytes += size;
        self.buffered += size;
        if part.rows.len() >= self.options.row_group_rows
            || part.bytes >= self.options.row_group_bytes
        {
            self.flush_part(&dir)?;
        }
        while self.buffered > self.options.buffer_bytes {
            let Some(largest) = self
                .parts
                .iter()
                .filter(|(_, p)| !p.rows.is_empty())
                .max_by_key(|(_, p)| p.bytes)
                .map(|(d, _)| d.clone())
            else {
                break;
            };
            self.flush_part(&largest)?;
        }
        Ok(())
    }

    /// Writes a partition's buffered rows as one row group of its open file (opening one, and
    /// maybe finishing the least recently used other, first).
    fn flush_part(&mut self, dir: &Path) -> Result<(), ExportError> {
        let needs_file = self.parts.get(dir).is_some_and(|p| p.writer.is_none());
        if needs_file {
            if self.open >= self.options.max_open_files.max(1) {
                let oldest = self
                    .parts
                    .iter()
                    .filter(|(_, p)| p.writer.is_some())
                    .min_by_key(|(_, p)| p.used)
                    .map(|(d, _)| d.clone());
                if let Some(oldest) = oldest {
                    self.close_file(&oldest)?;
                }
            }
            let full_dir = self.tmp.join(dir);
            std::fs::create_dir_all(&full_dir).map_err(io_error(&full_dir))?;
            let Some(part) = self.parts.get_mut(dir) else {
                return Ok(());
            };
            let path = full_dir.join(format!("part-{}.parquet", part.next_file));
            part.next_file += 1;
            let file = File::create(&path).map_err(io_error(&path))?;
            let writer =
                ArrowWriter::try_new(file, self.schema.clone(), Some(self.properties.clone()))
                    .map_err(parquet_error(&path))?;
            part.writer = Some((path, writer));
            self.open += 1;
        }
        self.clock += 1;
        let Some(part) = self.parts.get_mut(dir) else {
            return Ok(());
        };
        let rows = std::mem::take(&mut part.rows);
        self.buffered -= part.bytes;
        part.bytes = 0;
        part.used = self.clock;
        if rows.is_empty() {
            return Ok(());
        }
        let Some((path, writer)) = part.writer.as_mut() else {
            return Ok(());
        };
        let batch = batch(&self.schema, &rows).map_err(|e| ExportError::Parquet {
            path: path.clone(),
            message: e.to_string(),
        })?;
        writer.write(&batch).map_err(parquet_error(path))?;
        writer.flush().map_err(parquet_error(path))?;
        self.summary.rows += rows.len() as u64;
        self.summary.row_groups += 1;
        Ok(())
    }

    /// Finishes a partition's open file: footer, sync.
    fn close_file(&mut self, dir: &Path) -> Result<(), ExportError> {
        let Some((path, writer)) = self.parts.get_mut(dir).and_then(|p| p.writer.take()) else {
            return Ok(());
        };
        self.open -= 1;
        let file = writer.into_inner().map_err(parquet_error(&path))?;
        file.sync_all().map_err(io_error(&path))?;
        self.summary.bytes += file.metadata().map_err(io_error(&path))?.len();
        self.summary.files += 1;
        Ok(())
    }

    /// Writes what is buffered, finishes every file and renames the directory to its
    /// destination.
    pub fn finish(mut self) -> Result<ExportSummary, ExportError> {
        let dirs: Vec<PathBuf> = self.parts.keys().cloned().collect();
        for dir in &dirs {
            if !self.parts[dir].rows.is_empty() {
                self.flush_part(dir)?;
            }
            self.close_file(dir)?;
        }
        let marker = self.tmp.join(MARKER);
        std::fs::remove_file(&marker).map_err(io_error(&marker))?;
        if self.dest.exists() {
            // Checked empty by `create`; a directory that filled since is not removed.
            std::fs::remove_dir(&self.dest).map_err(io_error(&self.dest))?;
        }
        std::fs::rename(&self.tmp, &self.dest).map_err(io_error(&self.dest))?;
        self.finished = true;
        if let Some(parent) = self.dest.parent()
            && let Ok(dir) = File::open(if parent.as_os_str().is_empty() {
                Path::new(".")
            } else {
                parent
            })
        {
            let _ = dir.sync_all();
        }
        Ok(self.summary.clone())
    }
}

impl Drop for Exporter {
    fn drop(&mut self) {
        if !self.finished {
            let _ = std::fs::remove_dir_all(&self.tmp);
        }
    }
}

/// `extra` as the JSON export writes it ([`morgue_model::extra_object`]), as JSON text.
fn extra_json(record: &Record) -> String {
    serde_json::Value::Object(morgue_model::extra_object(record)).to_string()
}

/// The rows as one record batch of the export's schema.
fn batch(schema: &SchemaRef, rows: &[Row]) -> Result<RecordBatch, arrow_schema::ArrowError> {
    let strings = |f: &dyn Fn(&Row) -> &str| -> ArrayRef {
        Arc::new(StringArray::from_iter_values(rows.iter().map(f)))
    };
    let list = |f: &dyn Fn(&Record) -> &Vec<String>| -> ArrayRef {
        let mut builder = ListBuilder::new(StringBuilder::new());
        for row in rows {
            for item in f(&row.record) {
                builder.values().append_value(item);
            }
            builder.append(true);
        }
        Arc::new(builder.finish())
    };
    let micros = |f: &dyn Fn(&Record) -> Option<i64>| -> ArrayRef {
        Arc::new(
            TimestampMicrosecondArray::from(rows.iter().map(|r| f(&r.record)).collect::<Vec<_>>())
                .with_timezone("UTC"),
        )
    };
    let mut columns: Vec<ArrayRef> = Vec::with_capacity(schema.fields().len());
    for field in schema.fields() {
        let column = match field.name().as_str() {
            "id" => strings(&|r| &r.id),
            "title" => strings(&|r| &r.record.title),
            "outlet" => strings(&|r| &r.record.outlet),
            "url" => strings(&|r| &r.record.url),
            "image" => strings(&|r| &r.record.image),
            "caption" => strings(&|r| &r.record.caption),
            "source_id" => strings(&|r| &r.record.source_id),
            "origin" => strings(&|r| &r.record.origin),
            "body" => strings(&|r| r.body.as_deref().unwrap_or_default()),
            "reporters" => list(&|r| &r.reporters),
            "translators" => list(&|r| &r.translators),
            "editors" => list(&|r| &r.editors),
            "writers" => list(&|r| &r.writers),
            "services" => list(&|r| &r.services),
            "tags" => list(&|r| &r.tags),
            // chrono's dates (±262,000 years) all fit in i64 microseconds (±292,000).
            "date" => micros(&|r| r.date.map(|d| d.to_datetime().and_utc().timestamp_micros())),
            "imported_at" => micros(&|r| r.imported_at.and_then(|s| s.checked_mul(1_000_000))),
            "date_text" => Arc::new(StringArray::from(
                rows.iter()
                    .map(|r| r.record.date.map(|d| d.to_string()))
                    .collect::<Vec<_>>(),
            )),
            "date_origin" => Arc::new(StringArray::from(
                rows.iter()
                    .map(|r| r.record.date_origin.map(morgue_model::DateOrigin::as_str))
                    .collect::<Vec<_>>(),
            )),
            "extra" => Arc::new(StringArray::from_iter_values(
                rows.iter().map(|r| extra_json(&r.record)),
            )),
            other => {
                return Err(arrow_schema::ArrowError::SchemaError(format!(
                    "no column {other}"
                )));
            }
        };
        columns.push(column);
    }
    RecordBatch::try_new(schema.clone(), columns)
}
