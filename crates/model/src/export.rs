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
}

impl<'a> ArticleJson<'a> {
    /// The object for the article `id` (written as it displays: the 64-hex id) and its record,
    /// without body.
    pub fn new(id: &impl fmt::Display, record: &'a Record) -> Self {
        let extra = record
            .extra
            .iter()
            .map(|(name, text)| {
                // Extra values are kept as JSON text; anything else is given back as a string.
                let value = serde_json::from_str(text)
                    .unwrap_or_else(|_| serde_json::Value::String(text.clone()));
                (name.clone(), value)
            })
            .collect();
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
        }
    }

    /// The same object with the body.
    #[must_use]
    pub fn with_body(mut self, body: &'a str) -> Self {
        self.body = Some(body);
        self
    }
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
