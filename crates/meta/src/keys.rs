//! Index keys and small fixed-layout values (never bincode: keys must sort correctly).

use crate::BlobId;
use crate::codec::{day_from_epoch, days_since_epoch};
use crate::record::{ArticleDate, Record};

/// One name index: a tree of `normalized name, 0x00, date key, id` keys plus a facet tag.
#[derive(Debug)]
pub(crate) struct IndexDef {
    /// Name used in messages and in the stored index list ("reporter").
    pub name: &'static str,
    /// sled tree name.
    pub tree: &'static str,
    /// Facet key prefix byte.
    pub tag: u8,
    /// The names this index holds for a record.
    pub values: fn(&Record) -> &[String],
}

/// Every name index. Adding one (translator, tag, outlet…) is one line here: the archive notices
/// the changed list at open and rebuilds the indexes.
pub(crate) const NAME_INDEXES: &[IndexDef] = &[
    IndexDef {
        name: "reporter",
        tree: "meta:index:reporter",
        tag: 1,
        values: |r| &r.reporters,
    },
    IndexDef {
        name: "service",
        tree: "meta:index:service",
        tag: 2,
        values: |r| &r.services,
    },
];

/// Position of the reporter index in [`NAME_INDEXES`].
pub(crate) const REPORTER: usize = 0;
/// Position of the service index in [`NAME_INDEXES`].
pub(crate) const SERVICE: usize = 1;

/// The tree of records.
pub(crate) const RECORDS_TREE: &str = "meta:records";
/// The date index tree.
pub(crate) const DATE_TREE: &str = "meta:index:date";
/// The facets tree.
pub(crate) const FACETS_TREE: &str = "meta:facets";
/// The tree of archive-wide values (counters, index list).
pub(crate) const META_TREE: &str = "meta:meta";
/// Key of the counters value in [`META_TREE`].
pub(crate) const COUNTERS_KEY: &[u8] = b"counters";
/// Key of the index list value in [`META_TREE`].
pub(crate) const INDEXES_KEY: &[u8] = b"indexes";

/// Version byte of facet, counters and index-list values.
pub(crate) const VALUE_VERSION: u8 = 1;

/// Length of the `date key + id` tail of every index key.
pub(crate) const TAIL_LEN: usize = 8 + 32;

/// Normalizes a name for matching: Unicode lowercase, runs of whitespace collapsed to one space,
/// surrounding whitespace trimmed, control characters (including NUL) removed.
///
/// ```
/// assert_eq!(morgue_meta::normalize("  Qiao\t\nLONG "), "qiao long");
/// ```
pub fn normalize(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut pending_space = false;
    for c in name.chars() {
        if c.is_whitespace() {
            pending_space = !out.is_empty();
        } else if !c.is_control() {
            if pending_space {
                out.push(' ');
                pending_space = false;
            }
            out.extend(c.to_lowercase());
        }
    }
    out
}

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

/// `date key (8 bytes BE) + id (32 bytes)`: the date index key, and the tail of name keys.
pub(crate) fn tail(date_key: u64, id: &BlobId) -> [u8; TAIL_LEN] {
    let mut t = [0u8; TAIL_LEN];
    t[..8].copy_from_slice(&date_key.to_be_bytes());
    t[8..].copy_from_slice(id.as_bytes());
    t
}

/// Splits a tail into date key and id.
pub(crate) fn parse_tail(t: &[u8]) -> Option<(u64, BlobId)> {
    if t.len() != TAIL_LEN {
        return None;
    }
    let dk = u64::from_be_bytes(t[..8].try_into().ok()?);
    let id = BlobId::from_bytes(t[8..].try_into().ok()?);
    Some((dk, id))
}

/// `normalized name, 0x00`: the prefix of every key of one name.
pub(crate) fn name_prefix(norm: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(norm.len() + 1 + TAIL_LEN);
    k.extend_from_slice(norm.as_bytes());
    k.push(0);
    k
}

/// A name index key.
pub(crate) fn name_key(norm: &str, date_key: u64, id: &BlobId) -> Vec<u8> {
    let mut k = name_prefix(norm);
    k.extend_from_slice(&tail(date_key, id));
    k
}

/// Splits a name index key into normalized name, date key and id.
pub(crate) fn parse_name_key(k: &[u8]) -> Option<(&str, u64, BlobId)> {
    let split = k.len().checked_sub(TAIL_LEN + 1)?;
    if k[split] != 0 {
        return None;
    }
    let name = std::str::from_utf8(&k[..split]).ok()?;
    let (dk, id) = parse_tail(&k[split + 1..])?;
    Some((name, dk, id))
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

/// Facet key: `[tag] + normalized name`.
pub(crate) fn facet_key(tag: u8, norm: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(1 + norm.len());
    k.push(tag);
    k.extend_from_slice(norm.as_bytes());
    k
}

/// Facet value: `[version][count u64 BE][display name UTF-8]`.
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

/// Archive-wide totals, kept exact by every transaction.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Counters {
    pub articles: u64,
    pub raw_bytes: u64,
    pub stored_bytes: u64,
}

impl Counters {
    /// `[version][articles u64 BE][raw bytes u64 BE][stored bytes u64 BE]`.
    pub(crate) fn encode(&self) -> [u8; 25] {
        let mut v = [0u8; 25];
        v[0] = VALUE_VERSION;
        v[1..9].copy_from_slice(&self.articles.to_be_bytes());
        v[9..17].copy_from_slice(&self.raw_bytes.to_be_bytes());
        v[17..25].copy_from_slice(&self.stored_bytes.to_be_bytes());
        v
    }
    /// Parses the value written by [`Counters::encode`].
    pub(crate) fn decode(v: &[u8]) -> Option<Counters> {
        if v.len() != 25 || v[0] != VALUE_VERSION {
            return None;
        }
        let n = |i: usize| v[i..i + 8].try_into().ok().map(u64::from_be_bytes);
        Some(Counters {
            articles: n(1)?,
            raw_bytes: n(9)?,
            stored_bytes: n(17)?,
        })
    }
}

/// The index-list value: `[version]` then the index names joined by `,`.
pub(crate) fn indexes_value() -> Vec<u8> {
    let mut v = vec![VALUE_VERSION];
    let names: Vec<&str> = NAME_INDEXES.iter().map(|d| d.name).collect();
    v.extend_from_slice(names.join(",").as_bytes());
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    #[test]
    fn normalisation() {
        assert_eq!(normalize("Qiao Long"), "qiao long");
        assert_eq!(normalize("  QIAO \t\n  LONG  "), "qiao long");
        assert_eq!(normalize("Qi\0ao\u{7}"), "qiao");
        assert_eq!(normalize("ÉLODIE Ärger"), "élodie ärger");
        assert_eq!(normalize("İ"), "i\u{307}");
        assert_eq!(normalize("a\u{a0}b"), "a b");
        assert_eq!(normalize(" \t "), "");
        assert_eq!(normalize("\0"), "");
        assert!(!normalize("x\0y\u{1}").contains('\0'));
    }

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
            }),
            Some(ArticleDate::from_day(d(1970, 1, 1))),
            Some(ArticleDate {
                day: d(1970, 1, 1),
                time: Some(0),
            }),
            Some(ArticleDate {
                day: d(1970, 1, 1),
                time: Some(1),
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
    fn name_keys_round_trip_and_sort() {
        let id = BlobId::from_bytes([7; 32]);
        let k = name_key("qiao long", 5, &id);
        assert_eq!(k.len(), 9 + 1 + 40);
        assert_eq!(parse_name_key(&k), Some(("qiao long", 5, id)));
        // "qiao" sorts before "qiao long" whatever the dates: the 0x00 terminator.
        assert!(name_key("qiao", u64::MAX, &id) < name_key("qiao long", 0, &id));
        assert_eq!(parse_name_key(b"short"), None);
    }

    #[test]
    fn small_values_round_trip() {
        let c = Counters {
            articles: 1,
            raw_bytes: 2,
            stored_bytes: 3,
        };
        assert_eq!(Counters::decode(&c.encode()), Some(c));
        assert_eq!(
            parse_facet(&facet_value(9, "Qiao Long")),
            Some((9, "Qiao Long"))
        );
        assert_eq!(facet_key(1, "ab"), vec![1, b'a', b'b']);
    }
}
