//! The web readers of morgue-ingest (CSV/TSV tables, HTML pages, WARC files) on arbitrary bytes.
//!
//! The first input byte picks the format (Auto, Csv, Tsv, Html, Warc) and the name; the rest is
//! the input. Reading must end, never panic, keep line numbers (offsets for WARC) increasing,
//! and give only proper bodies.
#![no_main]

use libfuzzer_sys::fuzz_target;
use morgue_ingest::{Format, MAX_ARTICLE_BYTES, Overrides, read};

fuzz_target!(|data: &[u8]| {
    let Some((&selector, text)) = data.split_first() else {
        return;
    };
    let format = [
        Format::Auto,
        Format::Csv,
        Format::Tsv,
        Format::Html,
        Format::Warc,
    ][usize::from(selector % 5)];
    let name = ["a.csv", "a.tsv", "a.html", "a.warc", "-"][usize::from(selector / 5 % 5)];
    let entries = read(
        name,
        Box::new(std::io::Cursor::new(text.to_vec())),
        format,
        &Overrides::default(),
    );
    let mut last = 0;
    let mut count = 0usize;
    for entry in entries {
        count += 1;
        assert!(count <= text.len() + 2, "more entries than input bytes");
        if let Some(line) = entry.line {
            assert!(line >= last, "positions go back: {last} then {line}");
            last = line;
        }
        if let Ok(parsed) = entry.outcome {
            let body = &parsed.draft.body;
            assert!(!body.trim().is_empty(), "empty body accepted");
            assert!(body.len() <= MAX_ARTICLE_BYTES);
            assert!(!body.contains('\r'), "CR left in the body");
        }
    }
});
