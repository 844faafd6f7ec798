//! Regression tests for what fuzzing and the hostile-input run found in morgue-ingest.

use std::io::Read;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use morgue_ingest::{Format, Overrides, read};

/// `len` bytes of `byte`, counting how many were read.
struct Endless {
    byte: u8,
    left: u64,
    read: Arc<AtomicU64>,
}

impl Read for Endless {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = buf
            .len()
            .min(usize::try_from(self.left).unwrap_or(usize::MAX));
        buf[..n].fill(self.byte);
        self.left -= n as u64;
        self.read.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

fn endless(byte: u8, len: u64) -> (Box<dyn Read + Send>, Arc<AtomicU64>) {
    let read = Arc::new(AtomicU64::new(0));
    let input = Endless {
        byte,
        left: len,
        read: Arc::clone(&read),
    };
    (Box::new(input), read)
}

/// A `.json` input that starts with a byte no JSON value can start with is refused, and every
/// entry is an error.
#[test]
fn a_json_file_of_nul_bytes_is_refused() {
    let (input, _) = endless(0, 1 << 20);
    let entries: Vec<_> = read("bomb.json", input, Format::Json, &Overrides::default()).collect();
    assert!(!entries.is_empty());
    assert!(entries.iter().all(|e| e.outcome.is_err()));
}

/// FOUND by the hostile-input run (`bomb.json.zst`, 8 GiB of zeros): a `.json` input of NUL
/// bytes is scanned to its very end as one giant top-level scalar before it is reported
/// ("article longer than 64 MiB"): about a minute for 8 GiB. Memory stayed bounded, so this was
/// a matter of time, not safety. Fixed in jsonstream.rs, `scan_value`: at depth 0 outside a
/// string, the first byte that cannot occur in a JSON scalar ends the input with a syntax error.
#[test]
fn a_json_file_of_nul_bytes_is_refused_without_reading_it_all() {
    let (input, consumed) = endless(0, 256 << 20);
    let entries: Vec<_> = read("bomb.json", input, Format::Json, &Overrides::default()).collect();
    assert!(entries.iter().all(|e| e.outcome.is_err()));
    let consumed = consumed.load(Ordering::Relaxed);
    assert!(
        consumed <= 1 << 20,
        "read {consumed} bytes of an invalid JSON input"
    );
}

/// A JSON Lines line above the cap is skipped, and the line after it is read.
#[test]
fn a_line_above_the_cap_is_skipped_and_the_next_one_read() {
    let mut input = b"{\"title\": \"x\", \"body\": \"".to_vec();
    input.resize(input.len() + (65 << 20), b'a');
    input.extend_from_slice(b"\"}\n{\"body\": \"after the long line\"}\n");
    let entries: Vec<_> = read(
        "long.jsonl",
        Box::new(std::io::Cursor::new(input)),
        Format::Auto,
        &Overrides::default(),
    )
    .collect();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0].line, Some(1));
    assert_eq!(
        entries[0]
            .outcome
            .as_ref()
            .err()
            .map(ToString::to_string)
            .as_deref(),
        Some("line longer than 64 MiB")
    );
    assert_eq!(entries[1].line, Some(2));
    let body = entries[1].outcome.as_ref().map(|p| p.draft.body.as_str());
    assert_eq!(body.ok(), Some("after the long line"));
}
