//! The article record: everything morgue knows about an article besides its body.
//!
//! These types are the contract between the importers (`morgue-ingest`), the archive
//! (`morgue-meta`) and the CLI. They carry no storage detail: the byte encoding lives in
//! morgue-meta's private `codec` module (see docs/format.md).

use std::collections::BTreeMap;
use std::fmt;

/// What to do with the metadata of a draft whose body is already stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MergePolicy {
    /// Fill fields of the stored record that are empty; never change non-empty ones.
    #[default]
    FillEmpty,
    /// Replace every field the draft has a value for (`import --overwrite`).
    Overwrite,
}

/// Where an article's date came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DateOrigin {
    /// Given explicitly: a JSON field, or `--date` on the command line.
    Given,
    /// Read from the article text.
    Parsed,
    /// Guessed from indirect evidence, such as an RFA image name ending in `MMDDYY`.
    Inferred,
}

impl DateOrigin {
    /// The lowercase name used in JSON output and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            DateOrigin::Given => "given",
            DateOrigin::Parsed => "parsed",
            DateOrigin::Inferred => "inferred",
        }
    }

    /// Parses the lowercase name written by [`DateOrigin::as_str`].
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "given" => Some(DateOrigin::Given),
            "parsed" => Some(DateOrigin::Parsed),
            "inferred" => Some(DateOrigin::Inferred),
            _ => None,
        }
    }
}

/// How much of an [`ArticleDate`] is known: the day, or only its month or year.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DatePrecision {
    /// The day is known (and maybe the time of day).
    #[default]
    Day,
    /// Only the month: `day` is the month's first day, and there is no time.
    Month,
    /// Only the year: `day` is January 1, and there is no time.
    Year,
}

/// A calendar date in UTC, with an optional time of day; or only a month or a year.
///
/// Ordered chronologically; a date without a time sorts before any time on the same day, and a
/// month or year sorts on its first day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ArticleDate {
    /// The calendar day (the first day of the period when `precision` is a month or year).
    pub day: chrono::NaiveDate,
    /// Seconds since midnight UTC, when the time is known (`0..86_400`); `None` for a period.
    pub time: Option<u32>,
    /// Whether the day is known, or only the month or year.
    pub precision: DatePrecision,
}

impl ArticleDate {
    /// A date with no time of day.
    pub fn from_day(day: chrono::NaiveDate) -> Self {
        ArticleDate {
            day,
            time: None,
            precision: DatePrecision::Day,
        }
    }

    /// A UTC date and time.
    pub fn from_datetime(dt: chrono::NaiveDateTime) -> Self {
        use chrono::Timelike;
        ArticleDate {
            day: dt.date(),
            time: Some(dt.time().num_seconds_from_midnight()),
            precision: DatePrecision::Day,
        }
    }

    /// A whole year (`None` when chrono cannot represent it).
    pub fn year(year: i32) -> Option<Self> {
        Some(ArticleDate {
            day: chrono::NaiveDate::from_ymd_opt(year, 1, 1)?,
            time: None,
            precision: DatePrecision::Year,
        })
    }

    /// A whole month (`None` for an invalid month).
    pub fn month(year: i32, month: u32) -> Option<Self> {
        Some(ArticleDate {
            day: chrono::NaiveDate::from_ymd_opt(year, month, 1)?,
            time: None,
            precision: DatePrecision::Month,
        })
    }

    /// The date without its time of day, as much of it as is known: `YYYY-MM-DD`, or `YYYY-MM`
    /// for a month and `YYYY` for a year (the table's DATE column).
    ///
    /// ```
    /// use morgue_model::ArticleDate;
    /// assert_eq!(ArticleDate::year(2019).unwrap().day_text(), "2019");
    /// assert_eq!(ArticleDate::month(2019, 3).unwrap().day_text(), "2019-03");
    /// let day = chrono::NaiveDate::from_ymd_opt(2019, 3, 15).unwrap();
    /// assert_eq!(ArticleDate::from_datetime(day.and_hms_opt(8, 30, 0).unwrap()).day_text(), "2019-03-15");
    /// ```
    pub fn day_text(self) -> String {
        let format = match self.precision {
            DatePrecision::Day => "%Y-%m-%d",
            DatePrecision::Month => "%Y-%m",
            DatePrecision::Year => "%Y",
        };
        self.day.format(format).to_string()
    }

    /// The instant as a UTC date-time (midnight when no time is known).
    pub fn to_datetime(self) -> chrono::NaiveDateTime {
        let secs = self.time.unwrap_or(0).min(86_399);
        let time = chrono::NaiveTime::from_num_seconds_from_midnight_opt(secs, 0)
            .unwrap_or(chrono::NaiveTime::MIN);
        self.day.and_time(time)
    }
}

impl fmt::Display for ArticleDate {
    /// `YYYY-MM-DD`, or RFC 3339 (`YYYY-MM-DDTHH:MM:SSZ`) when a time is known; `YYYY-MM` for
    /// a month and `YYYY` for a year.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.precision, self.time) {
            (DatePrecision::Year, _) => write!(f, "{}", self.day.format("%Y")),
            (DatePrecision::Month, _) => write!(f, "{}", self.day.format("%Y-%m")),
            (DatePrecision::Day, None) => write!(f, "{}", self.day.format("%Y-%m-%d")),
            (DatePrecision::Day, Some(_)) => {
                write!(f, "{}", self.to_datetime().format("%Y-%m-%dT%H:%M:%SZ"))
            }
        }
    }
}

/// The metadata of one article. The article's id (the blake3 of its body) is not part of it:
/// it is the key the record is stored under.
///
/// Lists keep the original spelling and order of names; matching is case-insensitive (see
/// [`crate::normalize`]). Empty strings and empty lists mean "unknown".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Record {
    /// Headline.
    pub title: String,
    /// Reporters ("Reported by").
    pub reporters: Vec<String>,
    /// Translators ("Translated by").
    pub translators: Vec<String>,
    /// Editors ("Edited by").
    pub editors: Vec<String>,
    /// Writers ("Written in English by").
    pub writers: Vec<String>,
    /// Services or desks, e.g. "Mandarin".
    pub services: Vec<String>,
    /// The outlet, e.g. "RFA".
    pub outlet: String,
    /// Publication date, if known.
    pub date: Option<ArticleDate>,
    /// Where the date came from; `None` exactly when `date` is `None`.
    pub date_origin: Option<DateOrigin>,
    /// The article's web address.
    pub url: String,
    /// File name of the article's image.
    pub image: String,
    /// Caption of the article's image.
    pub caption: String,
    /// Tags or keywords.
    pub tags: Vec<String>,
    /// The id an input gave the article (for example the `id` field of a JSON object).
    pub source_id: String,
    /// The file the article was imported from (`-` for standard input).
    pub origin: String,
    /// When the article was first imported, as seconds since the Unix epoch (UTC).
    pub imported_at: Option<i64>,
    /// Fields of a JSON input that no other field takes: name to JSON text of the value.
    pub extra: BTreeMap<String, String>,
    /// The page the article was extracted from, kept as fetched beside it (HTML and WARC
    /// imports): set by the archive when the draft carries an [`Original`].
    pub original: Option<OriginalRef>,
}

/// Where a record's original page is: the id of its stored bytes, their length and media type.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OriginalRef {
    /// The 32 bytes of the page's id in the archive's store (see docs/format.md: the blake3 of
    /// the page's bytes behind a fixed prefix, so that a page is never an article body).
    pub id: [u8; 32],
    /// Length of the page in bytes, as fetched.
    pub len: u64,
    /// Its media type as the input gave it (`text/html`, or an HTTP `Content-Type` such as
    /// `text/html; charset=Shift_JIS`).
    pub media_type: String,
}

/// A page as fetched: the bytes an article was extracted from (a `.html` file's bytes, or a
/// WARC response's HTTP payload after its transfer and content encodings are undone).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Original {
    /// The bytes, exactly.
    pub bytes: Vec<u8>,
    /// Their media type (`text/html` when the input says nothing more).
    pub media_type: String,
}

impl fmt::Debug for Original {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Original")
            .field("len", &self.bytes.len())
            .field("media_type", &self.media_type)
            .finish()
    }
}

/// An article ready to be added to an archive: its body and what is known of it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Draft {
    /// The body text exactly as it will be stored and returned by `cat`.
    pub body: String,
    /// Metadata. `imported_at` is set by the archive when left `None`.
    pub record: Record,
    /// The page the article was extracted from, to keep beside it (`None` for inputs that are
    /// not web pages). `record.original` is set from it when stored.
    pub original: Option<Original>,
}

impl Record {
    /// Merges the metadata of `draft` (a duplicate of this article) into `self` under `policy`;
    /// returns the names of the fields that changed, in field order.
    ///
    /// [`MergePolicy::FillEmpty`] sets fields that are empty here and non-empty in the draft;
    /// [`MergePolicy::Overwrite`] sets every field that is non-empty in the draft. `date` moves
    /// together with `date_origin`. `extra` merges per key: missing keys are added, and
    /// `Overwrite` also replaces the values of keys present in both. `original` moves like a
    /// field. `imported_at` never changes.
    pub fn merge(&mut self, draft: &Record, policy: MergePolicy) -> Vec<&'static str> {
        let overwrite = policy == MergePolicy::Overwrite;
        let mut changed = Vec::new();
        macro_rules! field {
            ($f:ident) => {
                if !draft.$f.is_empty() && (self.$f.is_empty() || overwrite) && self.$f != draft.$f
                {
                    self.$f.clone_from(&draft.$f);
                    changed.push(stringify!($f));
                }
            };
        }
        field!(title);
        field!(reporters);
        field!(translators);
        field!(editors);
        field!(writers);
        field!(services);
        field!(outlet);
        if draft.date.is_some()
            && (self.date.is_none() || overwrite)
            && (self.date, self.date_origin) != (draft.date, draft.date_origin)
        {
            self.date = draft.date;
            self.date_origin = draft.date_origin;
            changed.push("date");
        }
        field!(url);
        field!(image);
        field!(caption);
        field!(tags);
        field!(source_id);
        field!(origin);
        if draft.original.is_some()
            && (self.original.is_none() || overwrite)
            && self.original != draft.original
        {
            self.original.clone_from(&draft.original);
            changed.push("original");
        }
        let mut extra_changed = false;
        for (k, v) in &draft.extra {
            match self.extra.get(k) {
                Some(old) if old == v || !overwrite => {}
                _ => {
                    self.extra.insert(k.clone(), v.clone());
                    extra_changed = true;
                }
            }
        }
        if extra_changed {
            changed.push("extra");
        }
        changed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fill_empty_never_overwrites() {
        let mut stored = Record {
            title: "Old".into(),
            reporters: vec!["A".into()],
            extra: [("k".to_string(), "1".to_string())].into_iter().collect(),
            imported_at: Some(5),
            ..Record::default()
        };
        let day = chrono::NaiveDate::from_ymd_opt(2020, 1, 2).unwrap();
        let draft = Record {
            title: "New".into(),
            reporters: vec!["B".into()],
            services: vec!["S".into()],
            date: Some(ArticleDate::from_day(day)),
            date_origin: Some(DateOrigin::Given),
            extra: [
                ("k".to_string(), "2".to_string()),
                ("j".to_string(), "3".to_string()),
            ]
            .into_iter()
            .collect(),
            imported_at: Some(9),
            ..Record::default()
        };
        let mut a = stored.clone();
        assert_eq!(
            a.merge(&draft, MergePolicy::FillEmpty),
            ["services", "date", "extra"]
        );
        assert_eq!(a.title, "Old");
        assert_eq!(a.reporters, ["A"]);
        assert_eq!(a.extra["k"], "1");
        assert_eq!(a.extra["j"], "3");
        assert_eq!(a.imported_at, Some(5));
        assert!(
            a.merge(&draft, MergePolicy::FillEmpty).is_empty(),
            "idempotent"
        );

        assert_eq!(
            stored.merge(&draft, MergePolicy::Overwrite),
            ["title", "reporters", "services", "date", "extra"]
        );
        assert_eq!(stored.title, "New");
        assert_eq!(stored.extra["k"], "2");
        assert_eq!(stored.imported_at, Some(5));
        // Empty draft fields never clear anything.
        let before = stored.clone();
        assert!(
            stored
                .merge(&Record::default(), MergePolicy::Overwrite)
                .is_empty()
        );
        assert_eq!(stored, before);
    }
}
