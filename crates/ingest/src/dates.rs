//! Dates: ISO 8601 dates and date-times, Unix seconds, and RFA image names ending in `MMDDYY`.

use chrono::{DateTime, NaiveDate, NaiveDateTime};
use morgue_model::ArticleDate;

/// Parses an ISO 8601 date (`2017-06-20`), date-time with or without offset
/// (`2017-06-20T08:30:00+02:00`, `2017-06-20 08:30:00`, fractional seconds allowed; without an
/// offset it is taken as UTC) or Unix seconds given as text (`1497947400`, `1497947400.5`).
/// Date-times are converted to UTC.
pub(crate) fn parse_date_text(text: &str) -> Option<ArticleDate> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    // ISO 8601 basic format (`20170620`) before Unix seconds: 8 digits that make a date.
    if text.len() == 8
        && text.bytes().all(|b| b.is_ascii_digit())
        && let Ok(day) = NaiveDate::parse_from_str(text, "%Y%m%d")
    {
        return Some(ArticleDate::from_day(day));
    }
    if looks_numeric(text) {
        return text.parse::<f64>().ok().and_then(from_unix_seconds);
    }
    if let Ok(day) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Some(ArticleDate::from_day(day));
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
    for format in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M"] {
        if let Ok(dt) = NaiveDateTime::parse_from_str(with_t, format) {
            return Some(ArticleDate::from_datetime(dt));
        }
    }
    None
}

/// Whether text is a plain decimal number (optionally signed, optionally fractional).
fn looks_numeric(text: &str) -> bool {
    let digits = text.strip_prefix('-').unwrap_or(text);
    !digits.is_empty()
        && digits.chars().all(|c| c.is_ascii_digit() || c == '.')
        && digits.chars().filter(|&c| c == '.').count() <= 1
        && digits.chars().any(|c| c.is_ascii_digit())
}

/// Unix seconds (fractions dropped) as a UTC date-time; `None` when out of range.
pub(crate) fn from_unix_seconds(seconds: f64) -> Option<ArticleDate> {
    if !seconds.is_finite() || seconds.abs() > 1e14 {
        return None;
    }
    let whole = seconds.floor() as i64;
    DateTime::from_timestamp(whole, 0).map(|dt| ArticleDate::from_datetime(dt.naive_utc()))
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

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn at(y: i32, m: u32, d: u32, secs: u32) -> ArticleDate {
        ArticleDate {
            day: day(y, m, d),
            time: Some(secs),
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
    fn unix_seconds_as_text() {
        assert_eq!(parse_date_text("0"), Some(at(1970, 1, 1, 0)));
        assert_eq!(parse_date_text("1497947400"), Some(at(2017, 6, 20, 30_600)));
        assert_eq!(
            parse_date_text("1497947400.75"),
            Some(at(2017, 6, 20, 30_600))
        );
        assert_eq!(from_unix_seconds(-1.5), Some(at(1969, 12, 31, 86_398)));
        assert_eq!(from_unix_seconds(f64::NAN), None);
        assert_eq!(from_unix_seconds(1e300), None);
    }

    #[test]
    fn basic_format_date() {
        assert_eq!(
            parse_date_text("20170620"),
            Some(ArticleDate::from_day(day(2017, 6, 20)))
        );
        // Eight digits that are no date are Unix seconds.
        assert_eq!(parse_date_text("99999999"), Some(at(1973, 3, 3, 35_199)));
    }

    #[test]
    fn garbage_is_none() {
        for text in [
            "",
            "31-MAR-1987 605:12:19.12",
            "2017-13-01",
            "yesterday",
            "1.2.3",
            "-",
            ".",
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
