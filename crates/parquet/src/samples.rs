//! Parquet files written for tests: a published dataset's shape, and hostile files (damaged,
//! lying, of the wrong types), with what `import` must make of each. Used by this crate's tests,
//! morgue-torture's hostile set and the fuzz target's seeds, so that none of them needs Arrow.

use std::sync::Arc;

use arrow_array::builder::{ListBuilder, StringBuilder};
use arrow_array::{ArrayRef, Int64Array, RecordBatch, StringArray, TimestampMicrosecondArray};
use parquet::arrow::ArrowWriter;
use parquet::file::metadata::{ParquetMetaDataReader, ParquetMetaDataWriter};

/// What `import` must make of a row or of a whole file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expect {
    /// The row at this 1-based position is stored with exactly this body.
    Stored {
        /// The row.
        row: u64,
        /// Its body.
        body: String,
    },
    /// The row is stored or reported, never anything else (rows before a damage).
    Maybe {
        /// The row.
        row: u64,
        /// Its body.
        body: String,
    },
    /// An error naming the file and, when `Some`, this row.
    Reported {
        /// The row, or `None` for the whole file.
        row: Option<u64>,
    },
}

/// One Parquet file written for a test.
#[derive(Debug, Clone)]
pub struct Sample {
    /// A file name for it.
    pub name: &'static str,
    /// What is odd about it.
    pub what: &'static str,
    /// The file's bytes.
    pub bytes: Vec<u8>,
    /// What `import` must make of it.
    pub expect: Vec<Expect>,
}

fn write(batch: &RecordBatch) -> Vec<u8> {
    let mut out = Vec::new();
    // Writing a well-formed batch into memory cannot fail.
    let mut writer = ArrowWriter::try_new(&mut out, batch.schema(), None).expect("writer");
    writer.write(batch).expect("write");
    writer.close().expect("close");
    out
}

fn batch(columns: Vec<(&str, ArrayRef)>) -> RecordBatch {
    RecordBatch::try_from_iter(columns).expect("columns of one length")
}

fn strings(values: &[&str]) -> ArrayRef {
    Arc::new(StringArray::from(values.to_vec()))
}

/// A Hugging Face style dataset file (`text`, `title`, `date` as a timestamp, `url`, `authors`
/// as a list, `source`), as pyarrow writes one, with the given bodies.
pub fn dataset(bodies: &[&str]) -> Vec<u8> {
    let mut authors = ListBuilder::new(StringBuilder::new());
    for i in 0..bodies.len() {
        authors.values().append_value(format!("Ann Lee {i}"));
        authors.values().append_value("Bo Chan");
        authors.append(true);
    }
    let dates: Vec<Option<i64>> = (0..bodies.len())
        .map(|i| Some(1_552_638_600_000_000 + i as i64 * 86_400_000_000))
        .collect();
    let titles: Vec<String> = (0..bodies.len()).map(|i| format!("Story {i}")).collect();
    let urls: Vec<String> = (0..bodies.len())
        .map(|i| format!("https://example.org/{i}"))
        .collect();
    write(&batch(vec![
        ("text", strings(bodies)),
        ("title", Arc::new(StringArray::from(titles)) as ArrayRef),
        (
            "date",
            Arc::new(TimestampMicrosecondArray::from(dates).with_timezone("UTC")),
        ),
        ("url", Arc::new(StringArray::from(urls))),
        ("authors", Arc::new(authors.finish())),
        ("source", strings(&vec!["example.org"; bodies.len()])),
    ]))
}

/// The same file with its footer rewritten to claim `rows` rows in its first row group.
fn claiming(bytes: &[u8], rows: i64) -> Vec<u8> {
    let data = bytes::Bytes::copy_from_slice(bytes);
    let metadata = ParquetMetaDataReader::new()
        .parse_and_finish(&data)
        .expect("metadata of a file just written");
    let footer = u32::from_le_bytes(
        bytes[bytes.len() - 8..bytes.len() - 4]
            .try_into()
            .expect("4"),
    );
    let keep = bytes.len() - 8 - footer as usize;
    let mut builder = metadata.into_builder();
    let groups: Vec<_> = builder
        .take_row_groups()
        .into_iter()
        .map(|g| {
            g.into_builder()
                .set_num_rows(rows)
                .build()
                .expect("row group")
        })
        .collect();
    let metadata = builder.set_row_groups(groups).build();
    let mut out = bytes[..keep].to_vec();
    ParquetMetaDataWriter::new(&mut out, &metadata)
        .finish()
        .expect("footer");
    out
}

/// The hostile files; `body(tag)` makes a distinct body for each article that must be stored.
pub fn hostile(body: &mut dyn FnMut(&str) -> String) -> Vec<Sample> {
    let mut samples = Vec::new();

    let (a, b) = (body("parquet truncated a"), body("parquet truncated b"));
    let whole = dataset(&[&a, &b]);
    samples.push(Sample {
        name: "truncated.parquet",
        what: "a Parquet file cut in half",
        bytes: whole[..whole.len() / 2].to_vec(),
        expect: vec![Expect::Reported { row: None }],
    });

    samples.push(Sample {
        name: "no-body.parquet",
        what: "a Parquet file with no body column",
        bytes: write(&batch(vec![
            ("title", strings(&["A title", "Another"])),
            (
                "url",
                strings(&["https://example.org/1", "https://example.org/2"]),
            ),
        ])),
        expect: vec![Expect::Reported { row: None }],
    });

    let (a, b) = (
        body("parquet title number a"),
        body("parquet title number b"),
    );
    samples.push(Sample {
        name: "title-number.parquet",
        what: "numbers for titles",
        bytes: write(&batch(vec![
            ("title", Arc::new(Int64Array::from(vec![5, 6])) as ArrayRef),
            ("text", strings(&[&a, &b])),
        ])),
        expect: vec![
            Expect::Stored { row: 1, body: a },
            Expect::Stored { row: 2, body: b },
        ],
    });

    samples.push(Sample {
        name: "body-number.parquet",
        what: "numbers for bodies",
        bytes: write(&batch(vec![
            ("title", strings(&["One", "Two"])),
            ("body", Arc::new(Int64Array::from(vec![1, 2])) as ArrayRef),
        ])),
        expect: vec![
            Expect::Reported { row: Some(1) },
            Expect::Reported { row: Some(2) },
        ],
    });

    let a = body("parquet timestamp out of range");
    samples.push(Sample {
        name: "timestamp-out-of-range.parquet",
        what: "a timestamp out of range",
        bytes: write(&batch(vec![
            ("text", strings(&[&a])),
            (
                "date",
                Arc::new(TimestampMicrosecondArray::from(vec![i64::MAX]).with_timezone("UTC"))
                    as ArrayRef,
            ),
        ])),
        expect: vec![Expect::Stored { row: 1, body: a }],
    });

    let (a, b) = (
        body("parquet billion rows a"),
        body("parquet billion rows b"),
    );
    samples.push(Sample {
        name: "billion-rows.parquet",
        what: "a row group claiming a billion rows",
        bytes: claiming(&dataset(&[&a, &b]), 1_000_000_000),
        expect: vec![
            Expect::Maybe { row: 1, body: a },
            Expect::Maybe { row: 2, body: b },
            Expect::Reported { row: None },
        ],
    });

    samples
}
