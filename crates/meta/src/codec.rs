//! The byte encoding of records: the only place that knows bincode.
//!
//! A stored record value is `[version u8 = 1][bincode 2 "standard" encoding of RecordV1]`, where
//! `RecordV1` is a private struct of primitive fields (see docs/format.md); or, for a record whose
//! date is only a month or a year, `[version u8 = 2][the same RecordV1 bytes][precision u8]`;
//! or, for a record that links its original page, `[version u8 = 3][the same RecordV1 bytes]
//! [precision u8, 0 for a day][page id, 32 bytes][page length u64 BE][media type, UTF-8, to the
//! end]`.
//! Changing `Record` does not change the bytes: only an explicit new version here does.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use morgue_model::{ArticleDate, DateOrigin, DatePrecision, OriginalRef, Record};

/// The record value format this build writes for a record whose date (if any) is a day.
pub(crate) const RECORD_VERSION: u8 = 1;
/// The record value format this build writes for a record whose date is a month or a year:
/// version 1's bytes followed by one precision byte ([`PRECISION_MONTH`] or [`PRECISION_YEAR`]).
pub(crate) const RECORD_VERSION_PERIOD: u8 = 2;
/// The record value format this build writes for a record with an original page: version 1's
/// bytes, a precision byte (`0` a day or no date, else as version 2), then the page's id, length
/// and media type.
pub(crate) const RECORD_VERSION_ORIGINAL: u8 = 3;
/// Precision byte of a version-3 value: the date (if any) is a day.
const PRECISION_DAY: u8 = 0;
/// Precision byte of a version-2 value: the date is a month.
const PRECISION_MONTH: u8 = 1;
/// Precision byte of a version-2 value: the date is a year.
const PRECISION_YEAR: u8 = 2;

/// Largest record value decoded: bounds allocations on hostile bytes.
const LIMIT: usize = 64 << 20;

fn config() -> impl bincode::config::Config {
    bincode::config::standard().with_limit::<LIMIT>()
}

/// Version 1 of the stored record. Field order is part of the format.
#[derive(Serialize, Deserialize)]
struct RecordV1 {
    title: String,
    reporters: Vec<String>,
    translators: Vec<String>,
    editors: Vec<String>,
    writers: Vec<String>,
    services: Vec<String>,
    outlet: String,
    /// Days since 1970-01-01 and seconds since midnight.
    date: Option<(i32, Option<u32>)>,
    /// 0 none, 1 given, 2 parsed, 3 inferred.
    date_origin: u8,
    url: String,
    image: String,
    caption: String,
    tags: Vec<String>,
    source_id: String,
    origin: String,
    imported_at: Option<i64>,
    extra: Vec<(String, String)>,
    /// Length of the body in bytes.
    body_len: u64,
}

/// Why a value does not decode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DecodeError {
    /// Empty value.
    Empty,
    /// Unknown format version.
    Version(u8),
    /// Malformed bincode, trailing bytes or an out-of-range field.
    Malformed(String),
}

/// Days between 1970-01-01 and `day`.
pub(crate) fn days_since_epoch(day: NaiveDate) -> i64 {
    (day - NaiveDate::default()).num_days()
}

/// The day `days` after 1970-01-01.
pub(crate) fn day_from_epoch(days: i64) -> Option<NaiveDate> {
    NaiveDate::default().checked_add_signed(chrono::TimeDelta::try_days(days)?)
}

/// Encodes a record and the length of its body.
pub(crate) fn encode(record: &Record, body_len: u64) -> Vec<u8> {
    let v = RecordV1 {
        title: record.title.clone(),
        reporters: record.reporters.clone(),
        translators: record.translators.clone(),
        editors: record.editors.clone(),
        writers: record.writers.clone(),
        services: record.services.clone(),
        outlet: record.outlet.clone(),
        date: record
            .date
            .map(|d| (days_since_epoch(d.day) as i32, d.time)),
        date_origin: match record.date_origin {
            None => 0,
            Some(DateOrigin::Given) => 1,
            Some(DateOrigin::Parsed) => 2,
            Some(DateOrigin::Inferred) => 3,
        },
        url: record.url.clone(),
        image: record.image.clone(),
        caption: record.caption.clone(),
        tags: record.tags.clone(),
        source_id: record.source_id.clone(),
        origin: record.origin.clone(),
        imported_at: record.imported_at,
        extra: record
            .extra
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        body_len,
    };
    let precision = match record.date.map(|d| d.precision) {
        None | Some(DatePrecision::Day) => None,
        Some(DatePrecision::Month) => Some(PRECISION_MONTH),
        Some(DatePrecision::Year) => Some(PRECISION_YEAR),
    };
    let version = match (&record.original, precision) {
        (Some(_), _) => RECORD_VERSION_ORIGINAL,
        (None, Some(_)) => RECORD_VERSION_PERIOD,
        (None, None) => RECORD_VERSION,
    };
    let mut out = vec![version];
    // Encoding into a Vec only fails beyond the configured limit; records never get there
    // because drafts are bounded well below it, and an error here would be a bug.
    if let Err(e) = bincode::serde::encode_into_std_write(&v, &mut out, config()) {
        unreachable!("record encoding failed: {e}");
    }
    match &record.original {
        None => out.extend(precision),
        Some(original) => {
            out.push(precision.unwrap_or(PRECISION_DAY));
            out.extend_from_slice(&original.id);
            out.extend_from_slice(&original.len.to_be_bytes());
            out.extend_from_slice(original.media_type.as_bytes());
        }
    }
    out
}

/// Decodes a record value into the record and its body length.
pub(crate) fn decode(bytes: &[u8]) -> Result<(Record, u64), DecodeError> {
    let (&version, rest) = bytes.split_first().ok_or(DecodeError::Empty)?;
    if !matches!(
        version,
        RECORD_VERSION | RECORD_VERSION_PERIOD | RECORD_VERSION_ORIGINAL
    ) {
        return Err(DecodeError::Version(version));
    }
    let (v, used): (RecordV1, usize) = bincode::serde::decode_from_slice(rest, config())
        .map_err(|e| DecodeError::Malformed(e.to_string()))?;
    let tail = &rest[used..];
    let precision_of = |byte: Option<&u8>, day: Option<u8>| match byte {
        Some(&n) if Some(n) == day => Ok(DatePrecision::Day),
        Some(&PRECISION_MONTH) => Ok(DatePrecision::Month),
        Some(&PRECISION_YEAR) => Ok(DatePrecision::Year),
        Some(n) => Err(DecodeError::Malformed(format!("date precision {n}"))),
        None => Err(DecodeError::Malformed("no date precision".into())),
    };
    let (precision, original) = match version {
        RECORD_VERSION => (DatePrecision::Day, None),
        RECORD_VERSION_PERIOD => {
            if tail.len() > 1 {
                return Err(DecodeError::Malformed(format!(
                    "{} trailing bytes",
                    tail.len() - 1
                )));
            }
            (precision_of(tail.first(), None)?, None)
        }
        _ => {
            let precision = precision_of(tail.first(), Some(PRECISION_DAY))?;
            if tail.len() < 41 {
                return Err(DecodeError::Malformed(
                    "original page reference cut short".into(),
                ));
            }
            let id: [u8; 32] = tail[1..33].try_into().unwrap_or([0; 32]);
            let len = u64::from_be_bytes(tail[33..41].try_into().unwrap_or([0; 8]));
            let media_type = std::str::from_utf8(&tail[41..])
                .map_err(|_| DecodeError::Malformed("media type is not UTF-8".into()))?
                .to_string();
            (
                precision,
                Some(OriginalRef {
                    id,
                    len,
                    media_type,
                }),
            )
        }
    };
    if version == RECORD_VERSION && !tail.is_empty() {
        return Err(DecodeError::Malformed(format!(
            "{} trailing bytes",
            tail.len()
        )));
    }
    let date = match v.date {
        None if precision == DatePrecision::Day => None,
        None => {
            return Err(DecodeError::Malformed(
                "date precision without a date".into(),
            ));
        }
        Some((days, time)) => {
            let day = day_from_epoch(i64::from(days))
                .ok_or_else(|| DecodeError::Malformed(format!("day {days} out of range")))?;
            if time.is_some_and(|t| t >= 86_400) {
                return Err(DecodeError::Malformed("time of day out of range".into()));
            }
            let first = match precision {
                DatePrecision::Day => day,
                DatePrecision::Month => day.with_day(1).unwrap_or(day),
                DatePrecision::Year => day.with_day(1).and_then(|d| d.with_month(1)).unwrap_or(day),
            };
            if precision != DatePrecision::Day && (time.is_some() || first != day) {
                return Err(DecodeError::Malformed(
                    "a month or year that is not its first day".into(),
                ));
            }
            Some(ArticleDate {
                day,
                time,
                precision,
            })
        }
    };
    let date_origin = match v.date_origin {
        0 => None,
        1 => Some(DateOrigin::Given),
        2 => Some(DateOrigin::Parsed),
        3 => Some(DateOrigin::Inferred),
        n => return Err(DecodeError::Malformed(format!("date origin {n}"))),
    };
    let record = Record {
        title: v.title,
        reporters: v.reporters,
        translators: v.translators,
        editors: v.editors,
        writers: v.writers,
        services: v.services,
        outlet: v.outlet,
        date,
        date_origin,
        url: v.url,
        image: v.image,
        caption: v.caption,
        tags: v.tags,
        source_id: v.source_id,
        origin: v.origin,
        imported_at: v.imported_at,
        extra: v.extra.into_iter().collect::<BTreeMap<_, _>>(),
        original,
    };
    Ok((record, v.body_len))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Record {
        Record {
            title: "T".into(),
            reporters: vec!["Ann".into()],
            services: vec!["Svc".into()],
            date: Some(ArticleDate {
                day: NaiveDate::from_ymd_opt(2017, 6, 20).unwrap(),
                time: Some(3600),
                precision: DatePrecision::Day,
            }),
            date_origin: Some(DateOrigin::Inferred),
            url: "u".into(),
            imported_at: Some(1_700_000_000),
            extra: [("k".to_string(), "1".to_string())].into_iter().collect(),
            ..Record::default()
        }
    }

    #[test]
    fn pinned_bytes() {
        let bytes = encode(&sample(), 300);
        // If this fails, the stored format changed: bump RECORD_VERSION, keep a decoder for the
        // old version and log the change in docs/format.md.
        let expected: &[u8] = &[
            1, // version
            1, b'T', // title
            1, 3, b'A', b'n', b'n', // reporters
            0, 0, 0, // translators, editors, writers
            1, 3, b'S', b'v', b'c', // services
            0,    // outlet
            // date: Some((17337, Some(3600))): signed ints are zigzag varints, 0xfb = u16 follows
            1, 0xfb, 0x72, 0x87, 1, 0xfb, 0x10, 0x0e, 3, // date origin: inferred
            1, b'u', 0, 0, // url, image, caption
            0, 0, 0, // tags, source_id, origin
            1, 0xfc, 0x00, 0xe2, 0xa7, 0xca, // imported_at: zigzag 3_400_000_000, 0xfc = u32
            1, 1, b'k', 1, b'1', // extra
            0xfb, 0x2c, 0x01, // body_len 300
        ];
        assert_eq!(bytes, expected, "{bytes:?}");
        assert_eq!(decode(&bytes), Ok((sample(), 300)));
    }

    #[test]
    fn periods_are_version_2() {
        for (date, byte) in [
            (ArticleDate::month(2019, 3).unwrap(), PRECISION_MONTH),
            (ArticleDate::year(2019).unwrap(), PRECISION_YEAR),
        ] {
            let record = Record {
                date: Some(date),
                date_origin: Some(DateOrigin::Given),
                ..sample()
            };
            let bytes = encode(&record, 300);
            // Version 2 is version 1's bytes (with the period's first day) plus the precision.
            let day = Record {
                date: Some(ArticleDate::from_day(date.day)),
                ..record.clone()
            };
            let mut expected = encode(&day, 300);
            expected[0] = RECORD_VERSION_PERIOD;
            expected.push(byte);
            assert_eq!(bytes, expected);
            assert_eq!(decode(&bytes), Ok((record, 300)));
            // Other precision bytes, and a period that does not start on its first day, fail.
            let mut bad = bytes.clone();
            *bad.last_mut().unwrap() = 3;
            assert!(matches!(decode(&bad), Err(DecodeError::Malformed(_))));
            let mut bad = encode(&sample(), 300);
            bad[0] = RECORD_VERSION_PERIOD;
            bad.push(byte);
            assert!(matches!(decode(&bad), Err(DecodeError::Malformed(_))));
        }
        let mut no_date = encode(&Record::default(), 0);
        no_date[0] = RECORD_VERSION_PERIOD;
        no_date.push(PRECISION_YEAR);
        assert!(matches!(decode(&no_date), Err(DecodeError::Malformed(_))));
    }

    #[test]
    fn originals_are_version_3() {
        let original = OriginalRef {
            id: [7; 32],
            len: 70_000,
            media_type: "text/html; charset=Shift_JIS".into(),
        };
        for date in [
            None,
            Some(ArticleDate::from_day(
                NaiveDate::from_ymd_opt(2019, 3, 15).unwrap(),
            )),
            Some(ArticleDate::month(2019, 3).unwrap()),
        ] {
            let record = Record {
                date,
                date_origin: date.map(|_| DateOrigin::Given),
                original: Some(original.clone()),
                ..sample()
            };
            let bytes = encode(&record, 300);
            // Version 3 is version 1's bytes, the precision byte, then the page reference.
            let without = Record {
                original: None,
                date: date.map(|d| ArticleDate::from_day(d.day)),
                ..record.clone()
            };
            let mut expected = encode(&without, 300);
            expected[0] = RECORD_VERSION_ORIGINAL;
            expected.push(match date.map(|d| d.precision) {
                Some(DatePrecision::Month) => PRECISION_MONTH,
                _ => PRECISION_DAY,
            });
            expected.extend_from_slice(&[7; 32]);
            expected.extend_from_slice(&[0, 0, 0, 0, 0, 1, 0x11, 0x70]);
            expected.extend_from_slice(b"text/html; charset=Shift_JIS");
            assert_eq!(bytes, expected);
            assert_eq!(decode(&bytes), Ok((record, 300)));
            // Cut inside the reference: malformed, never a panic.
            for cut in 1..=41 {
                let n = bytes.len() - original.media_type.len() - 41 + cut - 1;
                assert!(decode(&bytes[..n]).is_err(), "cut {cut}");
            }
        }
        // A media type that is not UTF-8, and a precision byte of 3, fail.
        let mut bad = encode(
            &Record {
                original: Some(original.clone()),
                ..sample()
            },
            1,
        );
        bad.push(0xff);
        assert!(matches!(decode(&bad), Err(DecodeError::Malformed(_))));
        // Records without an original keep writing versions 1 and 2.
        assert_eq!(encode(&sample(), 1)[0], RECORD_VERSION);
    }

    #[test]
    fn round_trip_default() {
        let bytes = encode(&Record::default(), 0);
        assert_eq!(decode(&bytes), Ok((Record::default(), 0)));
    }

    #[test]
    fn rejects_version_trailing_and_garbage() {
        let mut bytes = encode(&sample(), 1);
        bytes[0] = 4;
        assert_eq!(decode(&bytes), Err(DecodeError::Version(4)));
        let mut bytes = encode(&sample(), 1);
        bytes.push(0);
        assert!(matches!(decode(&bytes), Err(DecodeError::Malformed(_))));
        assert_eq!(decode(&[]), Err(DecodeError::Empty));
        // A string claiming an enormous length must fail, not allocate.
        let hostile = [1u8, 0xfd, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f];
        assert!(matches!(decode(&hostile), Err(DecodeError::Malformed(_))));
        // A list claiming an enormous count must fail too.
        let hostile = [1u8, 0, 0xfd, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f];
        assert!(matches!(decode(&hostile), Err(DecodeError::Malformed(_))));
    }

    #[test]
    fn every_truncation_and_byte_flip_is_handled() {
        let with_page = Record {
            original: Some(OriginalRef {
                id: [9; 32],
                len: 5,
                media_type: "t".into(),
            }),
            ..sample()
        };
        for record in [sample(), with_page] {
            let bytes = encode(&record, 300);
            // Version 3's media type runs to the end: a cut inside it is still a record.
            let whole = bytes.len() - record.original.as_ref().map_or(0, |o| o.media_type.len());
            for n in 0..whole {
                assert!(decode(&bytes[..n]).is_err(), "prefix {n}");
            }
            for i in 0..bytes.len() {
                for x in [1u8, 0x80, 0xff] {
                    let mut b = bytes.clone();
                    b[i] ^= x;
                    let _ = decode(&b); // must not panic
                }
            }
        }
    }
}
