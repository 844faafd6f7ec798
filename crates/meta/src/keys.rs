//! Index definitions, date keys, facet and state values (never bincode: keys must sort
//! correctly).

use crate::codec::{day_from_epoch, days_since_epoch};
use morgue_model::{ArticleDate, Record, normalize};

/// One name index: its posting chunks and facets carry `tag`.
#[derive(Debug)]
pub(crate) struct IndexDef {
    /// Name used in messages and in the stored index list ("reporter").
    pub name: &'static str,
    /// Index tag byte of its chunk and facet keys.
    pub tag: u8,
    /// The names this index holds for a record.
    pub values: fn(&Record) -> &[String],
    /// Whether its entries are kept by epoch ([`stored_date`]): names whose chunks every
    /// import would otherwise rewrite — a service holds a large share of the archive, and a
    /// reporter's articles span every date, so an import of new articles of all dates
    /// touched each of its chunks (all of the reporter index at 10M, in every commit).
    pub epochs: bool,
}

/// Every name index. Adding one (translator, tag, outlet…) is one line here: the archive notices
/// the changed list at open and rebuilds the indexes.
pub(crate) const NAME_INDEXES: &[IndexDef] = &[
    IndexDef {
        name: "reporter",
        tag: b'r',
        values: |r| &r.reporters,
        epochs: true,
    },
    IndexDef {
        name: "service",
        tag: b's',
        values: |r| &r.services,
        epochs: true,
    },
];

/// Index tag of the date index.
pub(crate) const DATE_TAG: u8 = b'd';

/// Bits of a date key: `(days + 2^31) << 17 | seconds` takes 49 bits for every date chrono
/// holds; the bits above carry the epoch in the indexes that keep epochs ([`epoched`]).
pub(crate) const DATE_BITS: u32 = 49;
/// The highest epoch the bits above a date key hold (every later seq is in it).
pub(crate) const MAX_EPOCH: u64 = (1 << (64 - DATE_BITS)) - 1;

/// Sequence numbers per epoch, as a power of two: 2^18 (262,144 articles). An import adds
/// articles of every date, so if the date index's entries were sorted by date alone each commit
/// would rewrite nearly every chunk of it (and of each large service) however large the
/// archive. Sorted by epoch first, a commit touches only the chunks of the newest epoch: what
/// a commit costs stops growing with the archive past one epoch, and a walk by date merges one
/// walk per epoch (docs/format.md). 2^18 rather than 2^20: a commit rewrites at most a
/// quarter as much (50,000 articles into a 3M archive, its indexes rebuilt by each build:
/// 3.3-3.6 s and 428-451 MiB instead of 3.4-4.0 s and 475-504 MiB), for 12 walks instead of 3
/// at 3M (a cold `list` took the same time) and 39 instead of 10 at 10M; 2^16 was slower and
/// larger than 2^18 (docs/performance.md). Four (16 seqs) in tests, so that small archives
/// span many epochs.
#[cfg(not(test))]
pub(crate) const EPOCH_BITS: u32 = 18;
#[cfg(test)]
pub(crate) const EPOCH_BITS: u32 = 4;

/// Whether the index with tag `tag` keeps its entries by epoch.
pub(crate) fn epoched(tag: u8) -> bool {
    tag == DATE_TAG || NAME_INDEXES.iter().any(|d| d.tag == tag && d.epochs)
}

/// The epoch of a sequence number.
pub(crate) fn epoch(seq: u32) -> u64 {
    (u64::from(seq) >> EPOCH_BITS).min(MAX_EPOCH)
}

/// The date component an entry of index `tag` is stored with: the date key, with the seq's
/// epoch above its [`DATE_BITS`] in the indexes that keep epochs.
pub(crate) fn stored_date(tag: u8, date_key: u64, seq: u32) -> u64 {
    if epoched(tag) {
        epoch_base(epoch(seq)) | (date_key & DATE_MASK)
    } else {
        date_key
    }
}

/// The date key of a stored date component (the epoch taken off).
pub(crate) fn real_date(stored: u64) -> u64 {
    stored & DATE_MASK
}

/// The lowest stored date component of epoch `epoch`.
pub(crate) fn epoch_base(epoch: u64) -> u64 {
    epoch << DATE_BITS
}

/// The bits of a date key.
pub(crate) const DATE_MASK: u64 = (1 << DATE_BITS) - 1;

/// Position of the reporter index in [`NAME_INDEXES`].
pub(crate) const REPORTER: usize = 0;
/// Position of the service index in [`NAME_INDEXES`].
pub(crate) const SERVICE: usize = 1;

/// Key of the meta state value.
pub(crate) const STATE_KEY: &[u8] = b"m";
/// Key tag of facets.
pub(crate) const FACET_TAG: u8 = b'f';

/// Version byte of every format-2 value.
pub(crate) const VALUE_VERSION: u8 = 2;

/// The order-preserving date key: 0 when undated, else
/// `((days since 1970-01-01 + 2^31) << 17) | (seconds of day + 1, or 0 without a time)`.
pub(crate) fn date_key(date: Option<ArticleDate>) -> u64 {
    match date {
        None => 0,
        Some(d) => day_key(d.day) | d.time.map_or(0, |s| u64::from(s.min(86_399)) + 1),
    }
}

/// The lowest date key of a day.
pub(crate) fn day_key(day: chrono::NaiveDate) -> u64 {
    ((days_since_epoch(day) + (1 << 31)) as u64) << 17
}

/// The day of a non-zero date key.
pub(crate) fn day_of_key(key: u64) -> Option<chrono::NaiveDate> {
    if key == 0 {
        return None;
    }
    day_from_epoch((key >> 17) as i64 - (1 << 31))
}

/// The distinct normalized names of one index in a record, with the spelling first seen; empty
/// names are not indexed.
pub(crate) fn names(def: &IndexDef, record: &Record) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for n in (def.values)(record) {
        let norm = normalize(n);
        if !norm.is_empty() && !out.iter().any(|(m, _)| *m == norm) {
            out.push((norm, n.clone()));
        }
    }
    out
}

/// Facet key: `f` + index tag + normalized name.
pub(crate) fn facet_key(tag: u8, norm: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(2 + norm.len());
    k.push(FACET_TAG);
    k.push(tag);
    k.extend_from_slice(norm.as_bytes());
    k
}

/// Facet value: `[02][count u64 BE][display name UTF-8]`.
pub(crate) fn facet_value(count: u64, display: &str) -> Vec<u8> {
    let mut v = Vec::with_capacity(9 + display.len());
    v.push(VALUE_VERSION);
    v.extend_from_slice(&count.to_be_bytes());
    v.extend_from_slice(display.as_bytes());
    v
}

/// Parses a facet value.
pub(crate) fn parse_facet(v: &[u8]) -> Option<(u64, &str)> {
    if v.len() < 9 || v[0] != VALUE_VERSION {
        return None;
    }
    let count = u64::from_be_bytes(v[1..9].try_into().ok()?);
    Some((count, std::str::from_utf8(&v[9..]).ok()?))
}

/// The meta state (`m`): archive totals, kept exact by every commit, and the index list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct State {
    /// Articles stored.
    pub articles: u64,
    /// Sum of the records' body lengths.
    pub raw_bytes: u64,
    /// Reserved, written as 0: the store keeps the exact stored bytes (its `S` value).
    pub stored_bytes: u64,
    /// The name indexes the postings were built for, joined by `,`; empty while a rebuild runs.
    pub indexes: String,
}

impl State {
    /// `[02][articles u64 BE][raw bytes u64 BE][stored bytes u64 BE][index list UTF-8]`.
    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(25 + self.indexes.len());
        v.push(VALUE_VERSION);
        v.extend_from_slice(&self.articles.to_be_bytes());
        v.extend_from_slice(&self.raw_bytes.to_be_bytes());
        v.extend_from_slice(&self.stored_bytes.to_be_bytes());
        v.extend_from_slice(self.indexes.as_bytes());
        v
    }

    /// Parses the value written by [`State::encode`].
    pub(crate) fn decode(v: &[u8]) -> Option<State> {
        if v.len() < 25 || v[0] != VALUE_VERSION {
            return None;
        }
        let n = |i: usize| v[i..i + 8].try_into().ok().map(u64::from_be_bytes);
        Some(State {
            articles: n(1)?,
            raw_bytes: n(9)?,
            stored_bytes: n(17)?,
            indexes: String::from_utf8(v[25..].to_vec()).ok()?,
        })
    }
}

/// The index list this build declares: the name indexes' names joined by `,`, then `;epoch=`
/// and [`EPOCH_BITS`], then `;epochs=` and the names of those that keep epochs (an archive
/// whose postings were laid out otherwise, before epochs, with another size or other indexes
/// with epochs, is rebuilt at open).
pub(crate) fn index_list() -> String {
    let names = |keep: fn(&IndexDef) -> bool| -> String {
        let names: Vec<&str> = NAME_INDEXES
            .iter()
            .filter(|d| keep(d))
            .map(|d| d.name)
            .collect();
        names.join(",")
    };
    format!(
        "{};epoch={EPOCH_BITS};epochs={}",
        names(|_| true),
        names(|d| d.epochs)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    #[test]
    fn date_keys_sort_like_dates() {
        let d = |y, m, dd| NaiveDate::from_ymd_opt(y, m, dd).unwrap();
        let mut dates = vec![
            None,
            Some(ArticleDate::from_day(d(1900, 1, 1))),
            Some(ArticleDate::from_day(d(1969, 12, 31))),
            Some(ArticleDate {
                day: d(1969, 12, 31),
                time: Some(86_399),
                precision: crate::DatePrecision::Day,
            }),
            Some(ArticleDate::from_day(d(1970, 1, 1))),
            Some(ArticleDate {
                day: d(1970, 1, 1),
                time: Some(0),
                precision: crate::DatePrecision::Day,
            }),
            Some(ArticleDate {
                day: d(1970, 1, 1),
                time: Some(1),
                precision: crate::DatePrecision::Day,
            }),
            Some(ArticleDate::from_day(d(2017, 6, 20))),
            Some(ArticleDate::from_day(NaiveDate::MAX)),
            Some(ArticleDate::from_day(NaiveDate::MIN)),
        ];
        dates.sort();
        let keys: Vec<u64> = dates.iter().map(|d| date_key(*d)).collect();
        assert!(keys.windows(2).all(|w| w[0] < w[1]), "{keys:?}");
        assert_eq!(keys[0], 0);
        assert!(keys[1] > 0);
        for d in dates.iter().flatten() {
            assert_eq!(day_of_key(date_key(Some(*d))), Some(d.day));
        }
        assert_eq!(
            date_key(Some(ArticleDate::from_day(d(1970, 1, 1)))),
            1 << 48
        );
    }

    #[test]
    fn epochs_sit_above_every_date_key() {
        let d = |y, m, dd| NaiveDate::from_ymd_opt(y, m, dd).unwrap();
        // The extreme dates chrono holds, with a time: below 2^49.
        for day in [chrono::NaiveDate::MIN, chrono::NaiveDate::MAX] {
            let mut date = ArticleDate::from_day(day);
            date.time = Some(86_399);
            assert!(date_key(Some(date)) <= DATE_MASK, "{day}");
        }
        let dk = date_key(Some(ArticleDate::from_day(d(1987, 3, 1))));
        let seq = 5 << EPOCH_BITS | 3;
        assert_eq!(epoch(seq), 5);
        assert_eq!(stored_date(DATE_TAG, dk, seq), (5 << DATE_BITS) | dk);
        assert_eq!(stored_date(b's', dk, seq), (5 << DATE_BITS) | dk);
        assert_eq!(stored_date(b'r', dk, seq), (5 << DATE_BITS) | dk);
        // A tag that keeps no epochs (none of the name indexes now) stores the date key.
        assert!(!epoched(b'z'));
        assert_eq!(stored_date(b'z', dk, seq), dk);
        assert_eq!(real_date(stored_date(DATE_TAG, dk, seq)), dk);
        assert_eq!(stored_date(DATE_TAG, 0, 3), 0);
        // Stored positions sort by epoch, then date: an old date of a later epoch sorts after
        // a new date of an earlier one.
        let later = date_key(Some(ArticleDate::from_day(d(2020, 1, 1))));
        assert!(stored_date(DATE_TAG, dk, 1 << EPOCH_BITS) > stored_date(DATE_TAG, later, 0));
        // The last epoch holds every later seq.
        assert_eq!(
            epoch(u32::MAX),
            MAX_EPOCH.min(u64::from(u32::MAX) >> EPOCH_BITS)
        );
    }

    #[test]
    fn small_values_round_trip() {
        let st = State {
            articles: 1,
            raw_bytes: 2,
            stored_bytes: 0,
            indexes: index_list(),
        };
        let v = st.encode();
        assert_eq!(&v[..9], &[2, 0, 0, 0, 0, 0, 0, 0, 1]);
        assert_eq!(
            &v[25..],
            b"reporter,service;epoch=4;epochs=reporter,service"
        );
        assert_eq!(State::decode(&v), Some(st));
        assert_eq!(State::decode(&v[..24]), None);
        assert_eq!(
            parse_facet(&facet_value(9, "Qiao Long")),
            Some((9, "Qiao Long"))
        );
        assert_eq!(facet_key(b'r', "ab"), b"frab");
    }
}
