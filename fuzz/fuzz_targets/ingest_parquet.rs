//! The Parquet reader of morgue-parquet (the parquet crate's decoder, then each row as a JSON
//! object through morgue-ingest) on arbitrary bytes.
//!
//! Reading must end, never panic, number rows upward from 1, and give only proper bodies. The
//! seeds are morgue-parquet's samples: a dataset file and the hostile set (truncated, no body
//! column, numbers for titles and bodies, a timestamp out of range, a billion rows claimed).
#![no_main]

use libfuzzer_sys::fuzz_target;
use morgue_ingest::{MAX_ARTICLE_BYTES, Overrides};

fuzz_target!(|data: &[u8]| {
    let rows = morgue_parquet::read_bytes("a.parquet", data.to_vec(), &Overrides::default());
    let mut last_row = 0;
    for entry in rows {
        if let Some(row) = entry.line {
            assert!(row == last_row + 1, "rows go {last_row} then {row}");
            last_row = row;
        }
        if let Ok(parsed) = entry.outcome {
            let body = &parsed.draft.body;
            assert!(!body.trim().is_empty(), "empty body accepted");
            assert!(body.len() <= MAX_ARTICLE_BYTES);
            assert_eq!(
                parsed.draft.record.date.is_some(),
                parsed.draft.record.date_origin.is_some()
            );
        }
    }
});
