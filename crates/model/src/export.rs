//! The article JSON object: the shape of `list --format json`, `show --format json` and `export`
//! (docs/formats.md), which the JSON readers of morgue-ingest read back as the same record.

use std::fmt;

use serde::Serialize;

use crate::{DateOrigin, Record};

/// The fields of the article JSON object, in the order they are written. `body` is written only
/// with the body ([`ArticleJson::with_body`]).
pub const FIELDS: [&str; 19] = [
    "id",
    "title",
    "reporters",
    "translators",
    "editors",
    "writers",
    "services",
    "outlet",
    "date",
    "date_origin",
    "url",
    "image",
    "caption",
    "tags",
    "source_id",
    "origin",
    "imported_at",
    "extra",
    "body",
];

/// One article as JSON, serialised with serde (`serde_json::to_writer(out, &ArticleJson::new(..))`).
/// Fields serialise in the order of [`FIELDS`]: dates as `YYYY-MM-DD` or RFC 3339,
/// `imported_at` as RFC 3339 UTC, `extra` values as the JSON they hold.
#[derive(Debug, Serialize)]
pub struct ArticleJson<'a> {
    id: String,
    title: &'a str,
    reporters: &'a [String],
    translators: &'a [String],
    editors: &'a [String],
    writers: &'a [String],
    services: &'a [String],
    outlet: &'a str,
    date: Option<String>,
    date_origin: Option<&'static str>,
    url: &'a str,
    image: &'a str,
    caption: &'a str,
    tags: &'a [String],
    source_id: &'a str,
    origin: &'a str,
    imported_at: Option<String>,
    extra: serde_json::Map<String, serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    body: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    original: Option<OriginalJson<'a>>,
}

/// A record's `extra` as the exports write it: an object whose members are the JSON values
/// kept (extra values are kept as JSON text; one that is not is given back as a string).
pub fn extra_object(record: &Record) -> serde_json::Map<String, serde_json::Value> {
    record
        .extra
        .iter()
        .map(|(name, text)| {
            let value = serde_json::from_str(text)
                .unwrap_or_else(|_| serde_json::Value::String(text.clone()));
            (name.clone(), value)
        })
        .collect()
}

/// The `original` member of an exported article (`export --originals`): the page as fetched.
#[derive(Debug, Serialize)]
struct OriginalJson<'a> {
    media_type: &'a str,
    base64: String,
}

impl<'a> ArticleJson<'a> {
    /// The object for the article `id` (written as it displays: the 64-hex id) and its record,
    /// without body.
    pub fn new(id: &impl fmt::Display, record: &'a Record) -> Self {
        let extra = extra_object(record);
        ArticleJson {
            id: id.to_string(),
            title: &record.title,
            reporters: &record.reporters,
            translators: &record.translators,
            editors: &record.editors,
            writers: &record.writers,
            services: &record.services,
            outlet: &record.outlet,
            date: record.date.map(|d| d.to_string()),
            date_origin: record.date_origin.map(DateOrigin::as_str),
            url: &record.url,
            image: &record.image,
            caption: &record.caption,
            tags: &record.tags,
            source_id: &record.source_id,
            origin: &record.origin,
            imported_at: record.imported_at.and_then(timestamp),
            extra,
            body: None,
            original: None,
        }
    }

    /// The same object with the body.
    #[must_use]
    pub fn with_body(mut self, body: &'a str) -> Self {
        self.body = Some(body);
        self
    }
}

impl<'a> ArticleJson<'a> {
    /// The same object with the article's original page (written last, as `original`:
    /// `{"media_type": "...", "base64": "..."}`, standard base64 with padding), which the JSON
    /// readers of morgue-ingest read back as the draft's original.
    #[must_use]
    pub fn with_original(mut self, media_type: &'a str, bytes: &[u8]) -> Self {
        self.original = Some(OriginalJson {
            media_type,
            base64: base64_encode(bytes),
        });
        self
    }
}

const BASE64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 (RFC 4648, with padding).
pub fn base64_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(BASE64[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Decodes standard base64 (padding optional, ASCII whitespace ignored); `None` on any other
/// character or a length that is not whole.
pub fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    let (mut acc, mut bits) = (0u32, 0u32);
    let mut padding = 0;
    for c in text.bytes().filter(|c| !c.is_ascii_whitespace()) {
        if c == b'=' {
            padding += 1;
            continue;
        }
        if padding > 0 {
            return None;
        }
        let v = BASE64.iter().position(|&b| b == c)? as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    // Leftover bits must be zero padding of a whole number of characters.
    (bits < 6 && acc == 0 && padding <= 2).then_some(out)
}

/// Seconds since the epoch as RFC 3339 UTC (`2026-11-27T07:05:57Z`), as `imported_at` is
/// written; `None` outside chrono's range.
pub fn timestamp(secs: i64) -> Option<String> {
    chrono::DateTime::from_timestamp(secs, 0).map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
}

/// Reads an RFC 3339 time (any offset) as seconds since the epoch: the inverse of [`timestamp`].
pub fn parse_timestamp(text: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(text.trim())
        .ok()
        .map(|t| t.timestamp())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::ArticleDate;

    #[test]
    fn fields_are_written_in_order_and_extra_as_json() {
        let record = Record {
            title: "T".into(),
            date: Some(ArticleDate {
                day: chrono::NaiveDate::from_ymd_opt(2019, 3, 15).unwrap(),
                time: Some(45_296),
                precision: crate::DatePrecision::Day,
            }),
            date_origin: Some(DateOrigin::Parsed),
            imported_at: Some(1_700_000_000),
            extra: BTreeMap::from([
                ("n".to_string(), "[1,2]".to_string()),
                ("raw".to_string(), "not json".to_string()),
            ]),
            ..Record::default()
        };
        let text =
            serde_json::to_string(&ArticleJson::new(&"abc", &record).with_body("B")).unwrap();
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        let object = value.as_object().unwrap();
        // serde_json's map sorts its keys: check the order in the text itself.
        let mut at = 0;
        for field in FIELDS {
            let found = text[at..]
                .find(&format!("\"{field}\":"))
                .unwrap_or_else(|| panic!("{field} missing or out of order in {text}"));
            at += found;
        }
        assert_eq!(object.len(), FIELDS.len());
        assert_eq!(object["date"], "2019-03-15T12:34:56Z");
        assert_eq!(object["date_origin"], "parsed");
        assert_eq!(object["imported_at"], "2023-11-14T22:13:20Z");
        assert_eq!(object["extra"]["n"], serde_json::json!([1, 2]));
        assert_eq!(object["extra"]["raw"], "not json");
        assert_eq!(object["body"], "B");

        let bare = serde_json::to_value(ArticleJson::new(&"abc", &Record::default())).unwrap();
        assert!(bare.get("body").is_none(), "no body unless given");
        assert_eq!(bare["date"], serde_json::Value::Null);
    }

    #[test]
    fn base64_round_trips_and_rejects_garbage() {
        for (bytes, text) in [
            (&b""[..], ""),
            (b"f", "Zg=="),
            (b"fo", "Zm8="),
            (b"foo", "Zm9v"),
            (b"foob", "Zm9vYg=="),
            (b"\xff\x00\xfe", "/wD+"),
        ] {
            assert_eq!(base64_encode(bytes), text);
            assert_eq!(base64_decode(text).as_deref(), Some(bytes));
        }
        assert_eq!(base64_decode("Zm9vYg").as_deref(), Some(&b"foob"[..]));
        assert_eq!(base64_decode("Zm 9v\n").as_deref(), Some(&b"foo"[..]));
        assert!(base64_decode("Zm9v!").is_none());
        assert!(base64_decode("Z").is_none());
        assert!(base64_decode("Zg==Zg").is_none());
        let all: Vec<u8> = (0..=255).collect();
        assert_eq!(base64_decode(&base64_encode(&all)), Some(all));
        let json = serde_json::to_value(
            ArticleJson::new(&"abc", &Record::default()).with_original("text/html", b"<p>"),
        )
        .unwrap();
        assert_eq!(
            json["original"],
            serde_json::json!({"media_type": "text/html", "base64": "PHA+"})
        );
    }

    #[test]
    fn timestamps_are_rfc3339_utc_and_read_back() {
        assert_eq!(timestamp(0).as_deref(), Some("1970-01-01T00:00:00Z"));
        assert_eq!(
            timestamp(1_497_916_800).as_deref(),
            Some("2017-06-20T00:00:00Z")
        );
        assert_eq!(parse_timestamp("2017-06-20T00:00:00Z"), Some(1_497_916_800));
        assert_eq!(
            parse_timestamp(" 2017-06-20T02:00:00+02:00"),
            Some(1_497_916_800)
        );
        assert_eq!(parse_timestamp("2017-06-20"), None);
    }
}
