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
    // ISO 8601 basic format with a time: "20180619T055000+0900".
    for format in ["%Y%m%dT%H%M%S%z", "%Y%m%dT%H%M%S%.f%z"] {
        if let Ok(dt) = DateTime::parse_from_str(with_t, format) {
            return Some(ArticleDate::from_datetime(dt.naive_utc()));
        }
    }
    if let Some(date) = zone_to_offset(text).and_then(|t| calendar_text(&t)) {
        return Some(date);
    }
    rfc2822(text)
}

/// Time zone abbreviations pages write after an ISO time, and their offsets. Ambiguous ones
/// (IST, CST as China's) are read as listed.
const ZONES: &[(&str, &str)] = &[
    ("UTC", "+00:00"),
    ("GMT", "+00:00"),
    ("WET", "+00:00"),
    ("WEST", "+01:00"),
    ("CET", "+01:00"),
    ("CEST", "+02:00"),
    ("EET", "+02:00"),
    ("EEST", "+03:00"),
    ("MSK", "+03:00"),
    ("IST", "+05:30"),
    ("HKT", "+08:00"),
    ("SGT", "+08:00"),
    ("JST", "+09:00"),
    ("KST", "+09:00"),
    ("AEST", "+10:00"),
    ("AEDT", "+11:00"),
    ("EST", "-05:00"),
    ("EDT", "-04:00"),
    ("CST", "-06:00"),
    ("CDT", "-05:00"),
    ("MST", "-07:00"),
    ("MDT", "-06:00"),
    ("PST", "-08:00"),
    ("PDT", "-07:00"),
];

/// An ISO date-time ending in a zone abbreviation ("2021-01-03T17:40:00EET", "… 17:40 EET")
/// with the abbreviation replaced by its offset.
fn zone_to_offset(text: &str) -> Option<String> {
    let head = text.trim_end_matches(|c: char| c.is_ascii_uppercase());
    let zone = &text[head.len()..];
    let head = head.trim_end();
    if !head.starts_with(|c: char| c.is_ascii_digit())
        || !head.ends_with(|c: char| c.is_ascii_digit())
        || !head.contains(':')
    {
        return None;
    }
    let (_, offset) = ZONES.iter().find(|(name, _)| *name == zone)?;
    Some(format!("{head}{offset}"))
}

/// Month names (lowercase) of the languages news pages are most often in, each with its month.
const MONTHS: &[(&str, u32)] = &[
    ("january", 1),
    ("february", 2),
    ("march", 3),
    ("april", 4),
    ("may", 5),
    ("june", 6),
    ("july", 7),
    ("august", 8),
    ("september", 9),
    ("october", 10),
    ("november", 11),
    ("december", 12),
    ("jan", 1),
    ("feb", 2),
    ("mar", 3),
    ("apr", 4),
    ("jun", 6),
    ("jul", 7),
    ("aug", 8),
    ("sep", 9),
    ("sept", 9),
    ("oct", 10),
    ("nov", 11),
    ("dec", 12),
    // Spanish, Portuguese, Italian, French, German.
    ("enero", 1),
    ("febrero", 2),
    ("marzo", 3),
    ("abril", 4),
    ("mayo", 5),
    ("junio", 6),
    ("julio", 7),
    ("agosto", 8),
    ("septiembre", 9),
    ("setiembre", 9),
    ("octubre", 10),
    ("noviembre", 11),
    ("diciembre", 12),
    ("janeiro", 1),
    ("fevereiro", 2),
    ("março", 3),
    ("maio", 5),
    ("junho", 6),
    ("julho", 7),
    ("setembro", 9),
    ("outubro", 10),
    ("novembro", 11),
    ("dezembro", 12),
    ("gennaio", 1),
    ("febbraio", 2),
    ("aprile", 4),
    ("maggio", 5),
    ("giugno", 6),
    ("luglio", 7),
    ("settembre", 9),
    ("ottobre", 10),
    ("dicembre", 12),
    ("janvier", 1),
    ("février", 2),
    ("mars", 3),
    ("avril", 4),
    ("mai", 5),
    ("juin", 6),
    ("juillet", 7),
    ("août", 8),
    ("septembre", 9),
    ("octobre", 10),
    ("novembre", 11),
    ("décembre", 12),
    ("januar", 1),
    ("februar", 2),
    ("märz", 3),
    ("juni", 6),
    ("juli", 7),
    ("oktober", 10),
    ("dezember", 12),
];

/// The first calendar day written in a text: `2019-01-21` (also with `/` or `.`),
/// `2018年6月18日`, `14 May 2020`, `9 de enero de 2014`, `December 27, 2014`. Years from 1990 to
/// 2099 only, so that prices and counts are not read as dates.
pub(crate) fn day_in_text(text: &str) -> Option<NaiveDate> {
    let words: Vec<&str> = text
        .split(|c: char| c.is_whitespace() || matches!(c, ',' | '|' | '(' | ')' | '·' | '•'))
        .filter(|w| !w.is_empty())
        .collect();
    let year = |w: &str| {
        let w = w.trim_end_matches(['.', ':', ';']);
        (w.len() == 4 && w.bytes().all(|b| b.is_ascii_digit()))
            .then(|| w.parse::<i32>().ok())
            .flatten()
            .filter(|y| (1990..2100).contains(y))
    };
    let day = |w: &str| {
        let w = w.trim_end_matches(['.', ',']);
        let w = w.trim_end_matches(|c: char| c.is_ascii_alphabetic() && w.len() > 2); // 14th
        w.parse::<u32>().ok().filter(|d| (1..=31).contains(d))
    };
    let month = |w: &str| {
        let w = w.trim_end_matches(['.', ',']).to_lowercase();
        MONTHS.iter().find(|(name, _)| *name == w).map(|(_, m)| *m)
    };
    for (i, word) in words.iter().enumerate() {
        if let Some(date) = numeric_day(word) {
            return Some(date);
        }
        let at = |k: usize| words.get(i + k).copied().unwrap_or("");
        // 14 May 2020; 9 de enero de 2014
        if let Some(d) = day(word) {
            let (m, y) = if at(1) == "de" {
                (
                    month(at(2)),
                    year(if at(3) == "de" { at(4) } else { at(3) }),
                )
            } else {
                (month(at(1)), year(at(2)))
            };
            if let (Some(m), Some(y)) = (m, y)
                && let Some(date) = NaiveDate::from_ymd_opt(y, m, d)
            {
                return Some(date);
            }
        }
        // December 27, 2014
        if let (Some(m), Some(d), Some(y)) = (month(word), day(at(1)), year(at(2)))
            && let Some(date) = NaiveDate::from_ymd_opt(y, m, d)
        {
            return Some(date);
        }
    }
    None
}

/// A word that is a day in digits: `2019-01-21` (or with `/`, `.`), `2018年6月18日`.
fn numeric_day(word: &str) -> Option<NaiveDate> {
    let (y, rest) = word.split_at_checked(4)?;
    let y: i32 = y.parse().ok().filter(|y| (1990..2100).contains(y))?;
    let mut parts = rest
        .split(['-', '/', '.', '年', '月', '日'])
        .filter(|p| !p.is_empty());
    let sep = rest.chars().next()?;
    if !matches!(sep, '-' | '/' | '.' | '年') {
        return None;
    }
    let m: u32 = parts.next()?.parse().ok()?;
    let d_text = parts.next()?;
    let digits: String = d_text.chars().take_while(char::is_ascii_digit).collect();
    if digits.is_empty() || digits.len() > 2 {
        return None;
    }
    if sep == '年' && !rest.contains('日') {
        return None;
    }
    NaiveDate::from_ymd_opt(y, m, digits.parse().ok()?)
}

/// The day a page's address names: `/2013/8/3/`, `/2020/05/14/`, `/2020-05-14/`, also with one
/// section between the year and the month (`/2013/world/8/3/`).
pub(crate) fn day_in_url(url: &str) -> Option<NaiveDate> {
    let path = url.split_once("://").map_or(url, |(_, rest)| rest);
    let parts: Vec<&str> = path.split('/').collect();
    for (i, part) in parts.iter().enumerate() {
        if let Some(date) = numeric_day(part).filter(|_| part.len() == 10) {
            return Some(date);
        }
        let year = (part.len() == 4)
            .then(|| part.parse::<i32>().ok())
            .flatten()
            .filter(|y| (1990..2100).contains(y));
        let number = |k: usize| {
            parts
                .get(i + k)
                .filter(|p| (1..=2).contains(&p.len()))
                .and_then(|p| p.parse::<u32>().ok())
        };
        let Some(y) = year else { continue };
        for skip in [0, 1] {
            if skip == 1 && number(1).is_some() {
                break;
            }
            if let (Some(m), Some(d)) = (number(1 + skip), number(2 + skip))
                && let Some(date) = NaiveDate::from_ymd_opt(y, m, d)
            {
                return Some(date);
            }
        }
    }
    None
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
    fn basic_format_date_times_and_zone_names() {
        assert_eq!(
            parse_date_text("20180619T055000+0900"),
            Some(at(2018, 6, 18, 20 * 3600 + 50 * 60))
        );
        assert_eq!(
            parse_date_text("2021-01-03T17:40:00EET"),
            Some(at(2021, 1, 3, 15 * 3600 + 40 * 60))
        );
        assert_eq!(
            parse_date_text("2021-01-03 17:40 EDT"),
            Some(at(2021, 1, 3, 21 * 3600 + 40 * 60))
        );
        assert_eq!(parse_date_text("2021-01-03T17:40:00XYZ"), None);
    }

    #[test]
    fn days_written_in_text() {
        assert_eq!(
            day_in_text("Ann Lee Thu, 14 May 2020 17:55 UTC"),
            Some(day(2020, 5, 14))
        );
        assert_eq!(
            day_in_text("on December 27, 2014 at 12:06 PM"),
            Some(day(2014, 12, 27))
        );
        assert_eq!(
            day_in_text("jueves, 09 enero 2014 - 10:21 h"),
            Some(day(2014, 1, 9))
        );
        assert_eq!(day_in_text("el 9 de enero de 2014"), Some(day(2014, 1, 9)));
        assert_eq!(
            day_in_text("Submitted on Mon, 2019-01-21 13:49"),
            Some(day(2019, 1, 21))
        );
        assert_eq!(
            day_in_text("2018年6月18日 10:01 発信地"),
            Some(day(2018, 6, 18))
        );
        assert_eq!(day_in_text("2023/11/17 20:52"), Some(day(2023, 11, 17)));
        assert_eq!(day_in_text("12 apples cost 2014 dollars in May"), None);
        assert_eq!(day_in_text("31 February 2020"), None);
    }

    #[test]
    fn days_in_addresses() {
        assert_eq!(
            day_in_url("http://example.org/2013/middle_east/8/3/x.html"),
            Some(day(2013, 8, 3))
        );
        assert_eq!(day_in_url("http://example.org/2013/a/b/8/3/x.html"), None);
        assert_eq!(
            day_in_url("https://example.org/2013/8/3/x/"),
            Some(day(2013, 8, 3))
        );
        assert_eq!(
            day_in_url("https://example.org/news/2020-05-14/story"),
            Some(day(2020, 5, 14))
        );
        assert_eq!(day_in_url("https://example.org/a/2020/13/40/"), None);
        assert_eq!(day_in_url("https://example.org/p/12345"), None);
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
