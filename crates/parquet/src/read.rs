//! Parquet rows as articles: each row becomes a JSON object, read by morgue-ingest's JSON rules.

use std::fs::File;
use std::path::Path;

use arrow_array::cast::AsArray as _;
use arrow_array::types::{
    Float16Type, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type, UInt8Type,
    UInt16Type, UInt32Type, UInt64Type,
};
use arrow_array::{Array, RecordBatch};
use arrow_schema::{DataType, TimeUnit};
use chrono::{DateTime, SecondsFormat, Utc};
use morgue_ingest::{BODY_FIELDS, Entry, IngestError, Overrides};
use parquet::arrow::arrow_reader::{ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder};
use parquet::file::reader::ChunkReader;
use serde_json::{Map, Value};

use crate::partition::partition_values;
use crate::schema::DATE_TEXT;

/// Rows read from a file at a time: the memory a reader holds is a batch of this many rows
/// (and the column chunks of one row group, as stored).
const BATCH_ROWS: usize = 256;

/// Rows a row group may claim, at most: a footer claiming more (a damaged or hostile file) is
/// refused before any row is read.
const MAX_ROW_GROUP_ROWS: i64 = 1 << 31;

/// Reads the rows of one Parquet file as articles.
///
/// `name` is the path as the user gave it: it names the file in errors, is each record's
/// `origin` unless the row has one, and its `key=value` directories are Hive partition columns
/// (`service=reuters/year=1987/part-0.parquet`), added to each row that has no column of that
/// name (not for morgue's own export, whose columns already hold them). Each entry's `line` is
/// the 1-based row in the file.
///
/// A file that is not Parquet, is truncated or has no body column is one error (`line` `None`);
/// a row that cannot be read is that row's error, and the others are read on. A file whose data
/// breaks off mid-way (or holds fewer rows than its footer claims) ends with an error for the
/// file (`line` `None`) whose message names the row where it did; the rows before it are read.
pub fn read(name: &str, file: File, overrides: &Overrides) -> Rows {
    Rows {
        name: name.to_string(),
        overrides: overrides.clone(),
        state: State::Start(Input::File(file)),
    }
}

/// [`read`] for a file's bytes in memory (the fuzz target's input).
pub fn read_bytes(name: &str, bytes: Vec<u8>, overrides: &Overrides) -> Rows {
    Rows {
        name: name.to_string(),
        overrides: overrides.clone(),
        state: State::Start(Input::Bytes(bytes::Bytes::from(bytes))),
    }
}

/// The entries of one Parquet file; see [`read`].
#[derive(Debug)]
pub struct Rows {
    name: String,
    overrides: Overrides,
    state: State,
}

enum Input {
    File(File),
    Bytes(bytes::Bytes),
}

enum State {
    Start(Input),
    Reading(Box<Reading>),
    Done,
}

impl std::fmt::Debug for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            State::Start(_) => "start",
            State::Reading(_) => "reading",
            State::Done => "done",
        })
    }
}

struct Reading {
    reader: ParquetRecordBatchReader,
    /// morgue's own export: `date_text` is the date, `extra` JSON, partitions ignored.
    own: bool,
    /// Partition columns the file lacks, with their values.
    partitions: Vec<(String, Option<String>)>,
    /// Column names, in order.
    columns: Vec<String>,
    batch: Option<RecordBatch>,
    /// The next row in `batch`.
    at: usize,
    /// Rows yielded so far from the file.
    row: u64,
    /// Rows the footer says the file has.
    claimed: u64,
    /// Warnings about the whole file, given with its first row.
    notes: Vec<String>,
}

/// A file-level error.
fn unreadable(message: impl Into<String>) -> IngestError {
    IngestError::Unreadable(message.into())
}

impl Rows {
    fn error(line: Option<u64>, error: IngestError) -> Entry {
        Entry {
            line,
            outcome: Err(error),
        }
    }

    fn start(&mut self, input: Input) -> Option<Entry> {
        match input {
            Input::File(file) => self.start_with(file),
            Input::Bytes(bytes) => self.start_with(bytes),
        }
    }

    fn start_with<T: ChunkReader + 'static>(&mut self, input: T) -> Option<Entry> {
        let builder = match ParquetRecordBatchReaderBuilder::try_new(input) {
            Ok(builder) => builder,
            Err(e) => {
                return Some(Self::error(
                    None,
                    unreadable(format!("not a readable Parquet file: {e}")),
                ));
            }
        };
        let metadata = builder.metadata().clone();
        let mut claimed: u64 = 0;
        for (i, group) in metadata.row_groups().iter().enumerate() {
            let rows = group.num_rows();
            if !(0..=MAX_ROW_GROUP_ROWS).contains(&rows) {
                return Some(Self::error(
                    None,
                    unreadable(format!(
                        "damaged Parquet file: row group {i} claims {rows} rows (at most \
                         {MAX_ROW_GROUP_ROWS} are read)"
                    )),
                ));
            }
            claimed += rows as u64;
        }
        let own = metadata
            .file_metadata()
            .key_value_metadata()
            .is_some_and(|kv| {
                kv.iter()
                    .any(|kv| kv.key == crate::EXPORT_KEY && kv.value.is_some())
            });
        let schema = builder.schema().clone();
        let columns: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
        if !columns.iter().any(|c| BODY_FIELDS.contains(&c.as_str())) {
            return Some(Self::error(
                None,
                unreadable(format!(
                    "no body column: none of the columns {} (the file has {})",
                    BODY_FIELDS.join(", "),
                    if columns.is_empty() {
                        "none".to_string()
                    } else {
                        columns.join(", ")
                    }
                )),
            ));
        }
        let mut notes = Vec::new();
        for field in schema.fields() {
            if !readable(field.data_type()) {
                notes.push(format!(
                    "column `{}` of type {} is not read",
                    field.name(),
                    field.data_type()
                ));
            }
        }
        let partitions = if own {
            Vec::new()
        } else {
            partition_values(Path::new(&self.name))
                .into_iter()
                .filter(|(key, _)| !columns.contains(key))
                .collect()
        };
        let reader = match builder.with_batch_size(BATCH_ROWS).build() {
            Ok(reader) => reader,
            Err(e) => {
                return Some(Self::error(
                    None,
                    unreadable(format!("not a readable Parquet file: {e}")),
                ));
            }
        };
        self.state = State::Reading(Box::new(Reading {
            reader,
            own,
            partitions,
            columns,
            batch: None,
            at: 0,
            row: 0,
            claimed,
            notes,
        }));
        self.next_row()
    }

    fn next_row(&mut self) -> Option<Entry> {
        let State::Reading(reading) = &mut self.state else {
            return None;
        };
        loop {
            if let Some(batch) = &reading.batch
                && reading.at < batch.num_rows()
            {
                let at = reading.at;
                reading.at += 1;
                reading.row += 1;
                let line = Some(reading.row);
                let (object, mut notes) = row_object(reading, batch, at);
                if reading.row == 1 {
                    notes.splice(0..0, reading.notes.drain(..));
                }
                let mut entry = morgue_ingest::read_object(
                    &self.name,
                    line,
                    Value::Object(object),
                    &self.overrides,
                );
                if let Ok(parsed) = &mut entry.outcome {
                    parsed.warnings.extend(notes);
                }
                return Some(entry);
            }
            match reading.reader.next() {
                Some(Ok(batch)) => {
                    reading.batch = Some(batch);
                    reading.at = 0;
                }
                Some(Err(e)) => {
                    let row = reading.row + 1;
                    self.state = State::Done;
                    return Some(Self::error(
                        None,
                        unreadable(format!(
                            "damaged Parquet file: rows from {row} on cannot be read: {e}"
                        )),
                    ));
                }
                None => {
                    let (row, claimed) = (reading.row, reading.claimed);
                    self.state = State::Done;
                    if row < claimed {
                        return Some(Self::error(
                            None,
                            unreadable(format!(
                                "damaged Parquet file: its footer claims {claimed} rows, the \
                                 data holds {row}"
                            )),
                        ));
                    }
                    return None;
                }
            }
        }
    }
}

impl Iterator for Rows {
    type Item = Entry;

    fn next(&mut self) -> Option<Entry> {
        match std::mem::replace(&mut self.state, State::Done) {
            State::Start(input) => self.start(input),
            state @ State::Reading(_) => {
                self.state = state;
                self.next_row()
            }
            State::Done => None,
        }
    }
}

/// One row as a JSON object (null columns left out), with warnings about values not taken.
fn row_object(
    reading: &Reading,
    batch: &RecordBatch,
    row: usize,
) -> (Map<String, Value>, Vec<String>) {
    let mut object = Map::new();
    let mut notes = Vec::new();
    for (name, column) in reading.columns.iter().zip(batch.columns()) {
        match value(column.as_ref(), row) {
            Ok(Some(value)) => {
                object.insert(name.clone(), value);
            }
            Ok(None) | Err(Unread::Type) => {}
            Err(Unread::Value(why)) => {
                notes.push(format!("column `{name}`: {why}; kept in extra"));
                object
                    .entry("extra".to_string())
                    .or_insert_with(|| Value::Object(Map::new()));
                if let Some(Value::Object(extra)) = object.get_mut("extra") {
                    extra.insert(name.clone(), Value::String(why));
                }
            }
        }
    }
    if reading.own {
        // morgue's own columns: the exact date, and `extra` as the object it was.
        if let Some(text) = object.remove(DATE_TEXT) {
            object.insert("date".to_string(), text);
        }
        if let Some(Value::String(text)) = object.get("extra")
            && let Ok(Value::Object(members)) = serde_json::from_str::<Value>(text)
        {
            object.insert("extra".to_string(), Value::Object(members));
        }
    }
    for (key, value) in &reading.partitions {
        if let Some(value) = value {
            object
                .entry(key.clone())
                .or_insert_with(|| Value::String(value.clone()));
        }
    }
    (object, notes)
}

/// Why a value was not read.
enum Unread {
    /// The column's type is not read at all (said once per file).
    Type,
    /// This value cannot be read: why.
    Value(String),
}

/// Whether values of this type are read.
fn readable(data_type: &DataType) -> bool {
    match data_type {
        DataType::Null
        | DataType::Boolean
        | DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::Int64
        | DataType::UInt8
        | DataType::UInt16
        | DataType::UInt32
        | DataType::UInt64
        | DataType::Float16
        | DataType::Float32
        | DataType::Float64
        | DataType::Utf8
        | DataType::LargeUtf8
        | DataType::Utf8View
        | DataType::Binary
        | DataType::LargeBinary
        | DataType::BinaryView
        | DataType::Date32
        | DataType::Date64
        | DataType::Timestamp(..) => true,
        DataType::List(item) | DataType::LargeList(item) | DataType::FixedSizeList(item, _) => {
            readable(item.data_type())
        }
        DataType::Struct(fields) => fields.iter().all(|f| readable(f.data_type())),
        DataType::Dictionary(_, values) => readable(values),
        _ => false,
    }
}

fn number(n: impl Into<serde_json::Number>) -> Value {
    Value::Number(n.into())
}

fn float(x: f64) -> Option<Value> {
    serde_json::Number::from_f64(x).map(Value::Number)
}

/// An instant as RFC 3339 UTC (`2019-03-15T08:30:00Z`, fractions of a second kept).
fn instant(raw: i64, unit: TimeUnit) -> Result<Option<Value>, Unread> {
    let at: Option<DateTime<Utc>> = match unit {
        TimeUnit::Second => DateTime::from_timestamp(raw, 0),
        TimeUnit::Millisecond => DateTime::from_timestamp_millis(raw),
        TimeUnit::Microsecond => DateTime::from_timestamp_micros(raw),
        TimeUnit::Nanosecond => Some(DateTime::from_timestamp_nanos(raw)),
    };
    match at {
        Some(at) => Ok(Some(Value::String(
            at.to_rfc3339_opts(SecondsFormat::AutoSi, true),
        ))),
        None => Err(Unread::Value(format!(
            "timestamp {raw} ({}) out of range",
            match unit {
                TimeUnit::Second => "seconds",
                TimeUnit::Millisecond => "milliseconds",
                TimeUnit::Microsecond => "microseconds",
                TimeUnit::Nanosecond => "nanoseconds",
            }
        ))),
    }
}

/// The value at `row` as JSON; `None` when null.
fn value(array: &dyn Array, row: usize) -> Result<Option<Value>, Unread> {
    if !readable(array.data_type()) {
        return Err(Unread::Type);
    }
    if array.is_null(row) {
        return Ok(None);
    }
    let bytes_text = |bytes: &[u8]| match std::str::from_utf8(bytes) {
        Ok(text) => Ok(Some(Value::String(text.to_string()))),
        Err(e) => Err(Unread::Value(format!(
            "binary value is not UTF-8 text (invalid byte at {})",
            e.valid_up_to()
        ))),
    };
    Ok(Some(match array.data_type() {
        DataType::Null => return Ok(None),
        DataType::Boolean => Value::Bool(array.as_boolean().value(row)),
        DataType::Int8 => number(array.as_primitive::<Int8Type>().value(row)),
        DataType::Int16 => number(array.as_primitive::<Int16Type>().value(row)),
        DataType::Int32 => number(array.as_primitive::<Int32Type>().value(row)),
        DataType::Int64 => number(array.as_primitive::<Int64Type>().value(row)),
        DataType::UInt8 => number(array.as_primitive::<UInt8Type>().value(row)),
        DataType::UInt16 => number(array.as_primitive::<UInt16Type>().value(row)),
        DataType::UInt32 => number(array.as_primitive::<UInt32Type>().value(row)),
        DataType::UInt64 => number(array.as_primitive::<UInt64Type>().value(row)),
        DataType::Float16 => {
            return Ok(float(f64::from(
                array.as_primitive::<Float16Type>().value(row),
            )));
        }
        DataType::Float32 => {
            return Ok(float(f64::from(
                array.as_primitive::<Float32Type>().value(row),
            )));
        }
        DataType::Float64 => return Ok(float(array.as_primitive::<Float64Type>().value(row))),
        DataType::Utf8 => Value::String(array.as_string::<i32>().value(row).to_string()),
        DataType::LargeUtf8 => Value::String(array.as_string::<i64>().value(row).to_string()),
        DataType::Utf8View => Value::String(array.as_string_view().value(row).to_string()),
        DataType::Binary => return bytes_text(array.as_binary::<i32>().value(row)),
        DataType::LargeBinary => return bytes_text(array.as_binary::<i64>().value(row)),
        DataType::BinaryView => return bytes_text(array.as_binary_view().value(row)),
        DataType::Date32 => {
            let days = array
                .as_primitive::<arrow_array::types::Date32Type>()
                .value(row);
            match chrono::NaiveDate::from_epoch_days(days) {
                Some(day) => Value::String(day.format("%Y-%m-%d").to_string()),
                None => return Err(Unread::Value(format!("date {days} (days) out of range"))),
            }
        }
        DataType::Date64 => {
            let millis = array
                .as_primitive::<arrow_array::types::Date64Type>()
                .value(row);
            return instant(millis, TimeUnit::Millisecond);
        }
        DataType::Timestamp(unit, _) => {
            // Without a time zone, the time is taken as UTC (as a JSON date-time without offset).
            let raw = match unit {
                TimeUnit::Second => array
                    .as_primitive::<arrow_array::types::TimestampSecondType>()
                    .value(row),
                TimeUnit::Millisecond => array
                    .as_primitive::<arrow_array::types::TimestampMillisecondType>()
                    .value(row),
                TimeUnit::Microsecond => array
                    .as_primitive::<arrow_array::types::TimestampMicrosecondType>()
                    .value(row),
                TimeUnit::Nanosecond => array
                    .as_primitive::<arrow_array::types::TimestampNanosecondType>()
                    .value(row),
            };
            return instant(raw, *unit);
        }
        DataType::List(_) => list(array.as_list::<i32>().value(row).as_ref())?,
        DataType::LargeList(_) => list(array.as_list::<i64>().value(row).as_ref())?,
        DataType::FixedSizeList(..) => list(array.as_fixed_size_list().value(row).as_ref())?,
        DataType::Struct(fields) => {
            let array = array.as_struct();
            let mut object = Map::new();
            for (field, column) in fields.iter().zip(array.columns()) {
                if let Some(value) = value(column.as_ref(), row)? {
                    object.insert(field.name().clone(), value);
                }
            }
            Value::Object(object)
        }
        DataType::Dictionary(..) => {
            let Some(dictionary) = array.as_any_dictionary_opt() else {
                return Err(Unread::Type);
            };
            let key = dictionary.normalized_keys()[row];
            return value(dictionary.values().as_ref(), key);
        }
        _ => return Err(Unread::Type),
    }))
}

/// The items of one list value (null items left out).
fn list(items: &dyn Array) -> Result<Value, Unread> {
    let mut out = Vec::with_capacity(items.len());
    for i in 0..items.len() {
        if let Some(value) = value(items, i)? {
            out.push(value);
        }
    }
    Ok(Value::Array(out))
}
