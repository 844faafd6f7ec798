//! The RFA / plain-text reader of morgue-ingest on arbitrary bytes.
//!
//! The first input byte picks the format (Auto, Rfa, Text) and the name (`.txt`, no extension,
//! stdin); the rest is the file. Reading must end, never panic, and every article
//! it gives must be a proper body: non-empty, LF line ends, no surrounding blank lines, within
//! the size cap.
#![no_main]

use libfuzzer_sys::fuzz_target;
use morgue_ingest::{Format, MAX_ARTICLE_BYTES, Overrides, read};

fuzz_target!(|data: &[u8]| {
    let Some((&selector, text)) = data.split_first() else {
        return;
    };
    let format = [Format::Auto, Format::Rfa, Format::Text][usize::from(selector % 3)];
    let name = ["story.txt", "story", "-", "STORY.TXT"][usize::from(selector / 3 % 4)];
    let entries = read(
        name,
        Box::new(std::io::Cursor::new(text.to_vec())),
        format,
        &Overrides::default(),
    );
    // Under Auto, stdin and names without extension are sniffed: `[` or `{` first reads as
    // JSON. Otherwise a text file is one article (or one error).
    let text_only = format != Format::Auto || name.to_ascii_lowercase().ends_with(".txt");
    let mut count = 0;
    for entry in entries {
        count += 1;
        if text_only {
            assert!(count <= 1, "a text file is one article");
            assert_eq!(entry.line, None);
        }
        if let Ok(parsed) = entry.outcome {
            let body = &parsed.draft.body;
            assert!(!body.trim().is_empty(), "empty body accepted");
            assert!(body.len() <= MAX_ARTICLE_BYTES);
            assert!(!body.contains('\r'), "CR left in the body");
            assert!(
                !body.starts_with('\n') && !body.ends_with('\n'),
                "blank lines around the body"
            );
            assert_eq!(parsed.draft.record.origin, name);
            // Dates come with their origin.
            assert_eq!(
                parsed.draft.record.date.is_some(),
                parsed.draft.record.date_origin.is_some()
            );
        }
    }
});
