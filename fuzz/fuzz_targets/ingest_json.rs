//! The JSON and JSON Lines readers of morgue-ingest (its own streaming JSON scanner for `.json`
//! arrays, serde_json per object) on arbitrary bytes.
//!
//! The first input byte picks the format (Auto, Json, Jsonl) and the name (`.json`, `.jsonl`,
//! `.ndjson`, none); the rest is the input. Reading must end, never panic, keep line numbers
//! increasing, and give only proper bodies.
#![no_main]

use libfuzzer_sys::fuzz_target;
use morgue_ingest::{Format, MAX_ARTICLE_BYTES, Overrides, read};

fuzz_target!(|data: &[u8]| {
    let Some((&selector, text)) = data.split_first() else {
        return;
    };
    let format = [Format::Auto, Format::Json, Format::Jsonl][usize::from(selector % 3)];
    let name = ["a.json", "a.jsonl", "a.ndjson", "-"][usize::from(selector / 3 % 4)];
    let entries = read(
        name,
        Box::new(std::io::Cursor::new(text.to_vec())),
        format,
        &Overrides::default(),
    );
    let mut last_line = 0;
    let mut count = 0usize;
    for entry in entries {
        count += 1;
        // Each entry consumes at least one byte of input (or is the one final error).
        assert!(count <= text.len() + 2, "more entries than input bytes");
        if let Some(line) = entry.line {
            assert!(
                line >= 1 && line as usize <= text.len() + 1,
                "line {line} out of range"
            );
            assert!(
                line >= last_line,
                "line numbers go back: {last_line} then {line}"
            );
            last_line = line;
        }
        if let Ok(parsed) = entry.outcome {
            let body = &parsed.draft.body;
            assert!(!body.trim().is_empty(), "empty body accepted");
            assert!(body.len() <= MAX_ARTICLE_BYTES);
            assert!(!body.contains('\r'), "CR left in the body");
            assert_eq!(
                parsed.draft.record.date.is_some(),
                parsed.draft.record.date_origin.is_some()
            );
        }
    }
});
