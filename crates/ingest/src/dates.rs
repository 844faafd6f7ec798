//! Dates: ISO 8601 dates, date-times, months and years; RFC 2822 date-times (RSS, e-mail); Unix
//! times in seconds, milliseconds, microseconds or nanoseconds (told apart by magnitude); and RFA
//! image names ending in `MMDDYY`.

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeDelta, Utc};
use morgue_model::ArticleDate;

/// What a date value says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DateRead {
    /// A date.
    Date(ArticleDate),
    /// A placeholder for "no date": `0`, `"unknown"`, `"n/a"`, `"0000-00-00"`, …
    Unknown,
    /// A Unix time outside the plausible range (before 1800, or more than a day from now):
    /// `unit` is how its magnitude was read, `date` what it would be (when chrono has it).
    Implausible {
        /// "seconds", "milliseconds", …
        unit: &'static str,
        /// The date the number would name.
        date: Option<String>,
    },
    /// Not a date morgue reads.
    Unparseable,
}

/// Texts that mean "no date" (compared in lowercase, trimmed).
const PLACEHOLDERS: &[&str] = &[
    "",
    "0",
    "0.0",
    "-",
    "--",
    "?",
    "unknown",
    "n/a",
    "na",
    "none",
    "null",
    "nil",
    "nan",
    "tbd",
    "undated",
    "no date",
    "not available",
    "0000",
    "0000-00-00",
    "0000-00-00 00:00:00",
    "0000-00-00t00:00:00",
    "0000-00-00t00:00:00z",
    "00/00/0000",
];

/// Reads a date written as text (a JSON string, or a JSON number's digits).
///
/// Calendar dates are taken as written, in the whole range chrono has, so every date `show` or
/// `export` prints reads back the same:
/// - ISO 8601: `2017-06-20`, `20170620` (eight digits that make a date), a month `2017-06` or
///   `201706`, a year `2017` (exactly four digits); date-times with or without offset
///   (`2017-06-20T08:30:00+02:00`, `2017-06-20 08:30:00Z`, `…+0200`, fractional seconds
///   dropped; without an offset UTC);
/// - RFC 2822: `Tue, 20 Jun 2017 08:30:00 +0000`, `… GMT` (the weekday is not checked).
///
/// Any other number is a Unix time whose unit its magnitude tells (below 10^11 seconds, then
/// milliseconds, microseconds, nanoseconds), accepted from 1800-01-01 to a day from now but not
/// within three years of 1970-01-01 (see [`from_unix_number`]).
/// Date-times are converted to UTC.
pub(crate) fn read_date_text(text: &str) -> DateRead {
    let text = text.trim();
    if PLACEHOLDERS.contains(&text.to_lowercase().as_str()) {
        return DateRead::Unknown;
    }
    if let Some(date) = period_or_basic_day(text) {
        return DateRead::Date(date);
    }
    if looks_numeric(text) {
        return text
            .parse::<f64>()
            .map_or(DateRead::Unparseable, from_unix_number);
    }
    calendar_text(text).map_or(DateRead::Unparseable, DateRead::Date)
}

/// The date of a text, `None` unless [`read_date_text`] finds one.
#[cfg(test)]
pub(crate) fn parse_date_text(text: &str) -> Option<ArticleDate> {
    match read_date_text(text) {
        DateRead::Date(date) => Some(date),
        _ => None,
    }
}

/// All-digit forms that are calendar dates: `YYYY`, `YYYYMM`, `YYYYMMDD`.
fn period_or_basic_day(text: &str) -> Option<ArticleDate> {
    if !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let number = |range: std::ops::Range<usize>| text[range].parse::<u32>().ok();
    match text.len() {
        4 => ArticleDate::year(number(0..4)? as i32),
        6 => ArticleDate::month(number(0..4)? as i32, number(4..6)?),
        8 => NaiveDate::parse_from_str(text, "%Y%m%d")
            .ok()
            .map(ArticleDate::from_day),
        _ => None,
    }
}

/// ISO 8601 and RFC 2822 forms with separators.
fn calendar_text(text: &str) -> Option<ArticleDate> {
    if let Ok(day) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Some(ArticleDate::from_day(day));
    }
    // A month: four-digit year, two-digit month.
    if text.len() == 7 && text.as_bytes()[4] == b'-' {
        let (year, month) = (text[..4].parse::<u32>(), text[5..].parse::<u32>());
        if let (Ok(year), Ok(month)) = (year, month)
            && text[..4]
                .bytes()
                .chain(text[5..].bytes())
                .all(|b| b.is_ascii_digit())
        {
            return ArticleDate::month(year as i32, month);
        }
        return None;
    }
    let with_t = text.replacen(' ', "T", 1);
    let with_t = with_t.as_str();
    // Offsets: "Z", "+02:00" (RFC 3339) and "+0200".
    if let Ok(dt) = DateTime::parse_from_rfc3339(with_t) {
        return Some(ArticleDate::from_datetime(dt.naive_utc()));
    }
    for format in ["%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%dT%H:%M%z"] {
        if let Ok(dt) = DateTime::parse_from_str(with_t, format) {
            return Some(ArticleDate::from_datetime(dt.naive_utc()));
        }
    }
    // Without an offset, or with "Z" where RFC 3339 does not apply (years beyond 9999).
    for format in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%dT%H:%M:%S%.fZ",
        "%Y-%m-%dT%H:%MZ",
    ] {
        if let Ok(dt) = NaiveDateTime::parse_from_str(with_t, format) {
            return Some(ArticleDate::from_datetime(dt));
        }
    }
    rfc2822(text)
}

/// RFC 2822 (`Tue, 15 Mar 2019 08:30:00 +0000`, `… GMT`, weekday optional and not checked:
/// feeds get it wrong).
fn rfc2822(text: &str) -> Option<ArticleDate> {
    let without_weekday = match text.split_once(',') {
        Some((weekday, rest)) if weekday.trim().chars().all(char::is_alphabetic) => rest.trim(),
        _ => text,
    };
    DateTime::parse_from_rfc2822(without_weekday)
        .ok()
        .map(|dt| ArticleDate::from_datetime(dt.naive_utc()))
}

/// Whether text is a plain decimal number (optionally signed, optionally fractional).
fn looks_numeric(text: &str) -> bool {
    let digits = text.strip_prefix('-').unwrap_or(text);
    !digits.is_empty()
        && digits.chars().all(|c| c.is_ascii_digit() || c == '.')
        && digits.chars().filter(|&c| c == '.').count() <= 1
        && digits.chars().any(|c| c.is_ascii_digit())
}

/// Unix times closer than this to 1970-01-01 (10^8 s: about three years, up to 1973-03-03)
/// are implausible.
const NEAR_EPOCH: f64 = 1e8;

/// A Unix time of unknown unit: seconds below 10^11 in magnitude (10^11 s is the year 5138),
/// milliseconds below 10^14, microseconds below 10^17, nanoseconds below 10^20; fractions of a
/// second dropped. Accepted from 1800-01-01 to a day from now, except within [`NEAR_EPOCH`]
/// seconds of 1970-01-01: a number that small is a short digit string or a counter ("201913",
/// `12`), never a real publication time in seconds.
pub(crate) fn from_unix_number(number: f64) -> DateRead {
    if number == 0.0 {
        return DateRead::Unknown;
    }
    if !number.is_finite() || number.abs() >= 1e20 {
        return DateRead::Unparseable;
    }
    if number.abs() < NEAR_EPOCH {
        return DateRead::Implausible {
            unit: "seconds",
            date: DateTime::from_timestamp(number.floor() as i64, 0)
                .map(|at| ArticleDate::from_datetime(at.naive_utc()).to_string()),
        };
    }
    let (unit, per_second) = match number.abs() {
        n if n < 1e11 => ("seconds", 1.0),
        n if n < 1e14 => ("milliseconds", 1e3),
        n if n < 1e17 => ("microseconds", 1e6),
        _ => ("nanoseconds", 1e9),
    };
    let seconds = (number / per_second).floor() as i64;
    let Some(at) = DateTime::from_timestamp(seconds, 0) else {
        return DateRead::Implausible { unit, date: None };
    };
    let earliest = NaiveDate::from_ymd_opt(1800, 1, 1).unwrap_or_default();
    let latest = Utc::now() + TimeDelta::days(1);
    if at.date_naive() < earliest || at > latest {
        return DateRead::Implausible {
            unit,
            date: Some(ArticleDate::from_datetime(at.naive_utc()).to_string()),
        };
    }
    DateRead::Date(ArticleDate::from_datetime(at.naive_utc()))
}

/// The date encoded at the end of an RFA image name: `china-passports-062017.jpg` -> 2017-06-20.
/// Years 96–99 are 19xx, others 20xx. `None` unless the stem ends in exactly six digits that make
/// a valid date.
pub(crate) fn date_from_image_name(image: &str) -> Option<NaiveDate> {
    let stem = image.rsplit_once('.').map_or(image, |(stem, _)| stem);
    let bytes = stem.as_bytes();
    if bytes.len() < 6 {
        return None;
    }
    let tail = &bytes[bytes.len() - 6..];
    if !tail.iter().all(u8::is_ascii_digit) {
        return None;
    }
    if bytes.len() > 6 && bytes[bytes.len() - 7].is_ascii_digit() {
        return None;
    }
    let number = |at: usize| u32::from(tail[at] - b'0') * 10 + u32::from(tail[at + 1] - b'0');
    let (month, day, yy) = (number(0), number(2), number(4));
    let year = if yy >= 96 { 1900 + yy } else { 2000 + yy };
    NaiveDate::from_ymd_opt(year as i32, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Datelike;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn at(y: i32, m: u32, d: u32, secs: u32) -> ArticleDate {
        ArticleDate {
            day: day(y, m, d),
            time: Some(secs),
            precision: morgue_model::DatePrecision::Day,
        }
    }

    #[test]
    fn iso_dates_and_times() {
        assert_eq!(
            parse_date_text("2017-06-20"),
            Some(ArticleDate::from_day(day(2017, 6, 20)))
        );
        assert_eq!(
            parse_date_text("2017-06-20T08:30:00Z"),
            Some(at(2017, 6, 20, 30_600))
        );
        assert_eq!(
            parse_date_text("2017-06-20T08:30:00"),
            Some(at(2017, 6, 20, 30_600))
        );
        assert_eq!(
            parse_date_text("2017-06-20 08:30:00"),
            Some(at(2017, 6, 20, 30_600))
        );
        assert_eq!(
            parse_date_text("2017-06-20T08:30:00.250Z"),
            Some(at(2017, 6, 20, 30_600))
        );
        assert_eq!(
            parse_date_text("2017-06-20T08:30"),
            Some(at(2017, 6, 20, 30_600))
        );
    }

    #[test]
    fn offsets_convert_to_utc() {
        assert_eq!(
            parse_date_text("2017-06-20T01:00:00+02:00"),
            Some(at(2017, 6, 19, 82_800))
        );
        assert_eq!(
            parse_date_text("2017-06-20T23:00:00-0100"),
            Some(at(2017, 6, 21, 0))
        );
    }

    #[test]
    fn unix_times_by_magnitude() {
        assert_eq!(parse_date_text("1497947400"), Some(at(2017, 6, 20, 30_600)));
        assert_eq!(
            parse_date_text("1497947400.75"),
            Some(at(2017, 6, 20, 30_600))
        );
        // Milliseconds, microseconds and nanoseconds of the same instant.
        for text in [
            "1497947400000",
            "1497947400250",
            "1497947400000000",
            "1497947400000000000",
        ] {
            assert_eq!(
                parse_date_text(text),
                Some(at(2017, 6, 20, 30_600)),
                "{text}"
            );
        }
        // The examples.
        assert_eq!(
            parse_date_text("1552638600000"),
            Some(at(2019, 3, 15, 8 * 3600 + 30 * 60))
        );
        assert_eq!(
            parse_date_text("1714557600000"),
            Some(at(2024, 5, 1, 36_000))
        );
        // Before 1970 (negative), down to 1800.
        assert_eq!(
            from_unix_number(-100_000_000.5),
            DateRead::Date(at(1966, 10, 31, 51_199))
        );
        assert_eq!(
            from_unix_number(-5_364_662_400.0),
            DateRead::Date(at(1800, 1, 1, 0))
        );
        assert_eq!(from_unix_number(f64::NAN), DateRead::Unparseable);
        assert_eq!(from_unix_number(1e300), DateRead::Unparseable);
    }

    #[test]
    fn implausible_unix_times() {
        // Before 1800.
        assert_eq!(
            from_unix_number(-5_364_662_401.0),
            DateRead::Implausible {
                unit: "seconds",
                date: Some("1799-12-31T23:59:59Z".into())
            }
        );
        // More than a day from now: 10^11 - 1 seconds is in the year 5138.
        assert!(matches!(
            read_date_text("99999999999"),
            DateRead::Implausible {
                unit: "seconds",
                ..
            }
        ));
        let in_two_days = (Utc::now().timestamp() + 2 * 86_400) as f64;
        assert!(matches!(
            from_unix_number(in_two_days * 1e3),
            DateRead::Implausible {
                unit: "milliseconds",
                ..
            }
        ));
        let in_an_hour = (Utc::now().timestamp() + 3600) as f64;
        assert!(matches!(from_unix_number(in_an_hour), DateRead::Date(_)));
    }

    #[test]
    fn years_and_months() {
        assert_eq!(parse_date_text("2019"), ArticleDate::year(2019));
        assert_eq!(parse_date_text("201903"), ArticleDate::month(2019, 3));
        assert_eq!(parse_date_text("2019-03"), ArticleDate::month(2019, 3));
        assert_eq!(parse_date_text(" 1850 "), ArticleDate::year(1850));
        assert_eq!(parse_date_text("2019-13"), None);
        assert_eq!(parse_date_text("2019-3"), None);
        assert_eq!(parse_date_text("2019-0x"), None);
        // Six digits that make no month are no date (and never 1970).
        assert_eq!(
            read_date_text("201913"),
            DateRead::Implausible {
                unit: "seconds",
                date: Some("1970-01-03T08:05:13Z".into())
            }
        );
        assert!(matches!(
            from_unix_number(-1.5),
            DateRead::Implausible { .. }
        ));
        assert!(matches!(
            from_unix_number(99_999_999.0),
            DateRead::Implausible { .. }
        ));
        assert!(matches!(from_unix_number(100_000_000.0), DateRead::Date(_)));
        assert_eq!(ArticleDate::year(2019).unwrap().to_string(), "2019");
        assert_eq!(ArticleDate::month(2019, 3).unwrap().to_string(), "2019-03");
    }

    #[test]
    fn placeholders_are_no_date() {
        for text in [
            "0",
            "",
            " Unknown ",
            "N/A",
            "none",
            "0000-00-00",
            "0000",
            "-",
            "TBD",
        ] {
            assert_eq!(read_date_text(text), DateRead::Unknown, "{text:?}");
        }
        assert_eq!(from_unix_number(0.0), DateRead::Unknown);
    }

    #[test]
    fn rfc_2822() {
        let expected = Some(at(2019, 3, 15, 30_600));
        assert_eq!(parse_date_text("Fri, 15 Mar 2019 08:30:00 +0000"), expected);
        assert_eq!(parse_date_text("Fri, 15 Mar 2019 08:30:00 GMT"), expected);
        // Feeds get the weekday wrong: it is not checked.
        assert_eq!(parse_date_text("Tue, 15 Mar 2019 08:30:00 +0000"), expected);
        assert_eq!(parse_date_text("15 Mar 2019 10:30:00 +0200"), expected);
        assert_eq!(parse_date_text("Fri, 15 Mar 2019 03:30:00 EST"), expected);
    }

    #[test]
    fn basic_format_date() {
        assert_eq!(
            parse_date_text("20170620"),
            Some(ArticleDate::from_day(day(2017, 6, 20)))
        );
        // Eight digits that are no date are no date (Unix seconds of 1973 at most).
        assert!(matches!(
            read_date_text("99999999"),
            DateRead::Implausible { .. }
        ));
    }

    proptest::proptest! {
        /// Every date the archive holds prints as text that reads back as the same date.
        #[test]
        fn display_reads_back(
            days in i64::from(NaiveDate::MIN.num_days_from_ce())..=i64::from(NaiveDate::MAX.num_days_from_ce()),
            time in proptest::option::of(0u32..86_400),
        ) {
            let day = NaiveDate::from_num_days_from_ce_opt(days as i32).unwrap();
            let date = ArticleDate { day, time, precision: morgue_model::DatePrecision::Day };
            proptest::prop_assert_eq!(parse_date_text(&date.to_string()), Some(date));
            // Periods: four-digit years.
            if (1..=9999).contains(&day.year()) {
                let year = ArticleDate::year(day.year()).unwrap();
                proptest::prop_assert_eq!(parse_date_text(&year.to_string()), Some(year));
                let month = ArticleDate::month(day.year(), day.month()).unwrap();
                proptest::prop_assert_eq!(parse_date_text(&month.to_string()), Some(month));
            }
        }
    }

    #[test]
    fn garbage_is_none() {
        for text in [
            "",
            "31-MAR-1987 605:12:19.12",
            "2017-13-01",
            "yesterday",
            "1.2.3",
            ".",
            "1e20",
        ] {
            assert_eq!(parse_date_text(text), None, "{text}");
        }
    }

    #[test]
    fn image_names() {
        assert_eq!(
            date_from_image_name("china-passports-062017.jpg"),
            Some(day(2017, 6, 20))
        );
        assert_eq!(
            date_from_image_name("flood-123198.png"),
            Some(day(1998, 12, 31))
        );
        assert_eq!(date_from_image_name("x-010100.gif"), Some(day(2000, 1, 1)));
        assert_eq!(
            date_from_image_name("x-022917.jpg"),
            None,
            "2017 is no leap year"
        );
        assert_eq!(date_from_image_name("x-133017.jpg"), None);
        assert_eq!(date_from_image_name("x-1062017.jpg"), None, "seven digits");
        assert_eq!(date_from_image_name("portrait.jpg"), None);
        assert_eq!(date_from_image_name("062017.jpg"), Some(day(2017, 6, 20)));
    }
}
