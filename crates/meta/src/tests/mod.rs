//! On-disk tests of the archive (each in its own temporary directory).

mod archive;
mod chunks;
mod fixture;
mod import;
mod model;
mod scale;
mod text;

use crate::engine::Key;
use crate::{Archive, ArticleDate, Draft, Record};

/// Writes `value` under our key `key` behind the archive's back (through the store's writer:
/// the archive's caches do not see it).
pub(crate) fn poke(a: &Archive, key: impl AsRef<[u8]>, value: impl AsRef<[u8]>) {
    let mut w = a.store.writer();
    w.put(Key::new(key.as_ref()).unwrap(), value.as_ref().to_vec());
    w.commit().unwrap();
}

/// Deletes our key `key` behind the archive's back.
pub(crate) fn unpoke(a: &Archive, key: impl AsRef<[u8]>) {
    let mut w = a.store.writer();
    w.delete(Key::new(key.as_ref()).unwrap());
    w.commit().unwrap();
}

pub(crate) fn day(y: i32, m: u32, d: u32) -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

pub(crate) fn draft(
    body: &str,
    reporters: &[&str],
    services: &[&str],
    date: Option<ArticleDate>,
) -> Draft {
    Draft {
        body: body.to_string(),
        record: Record {
            title: format!("title of {body}"),
            reporters: reporters.iter().map(ToString::to_string).collect(),
            services: services.iter().map(ToString::to_string).collect(),
            date,
            date_origin: date.map(|_| crate::DateOrigin::Given),
            ..Record::default()
        },
        original: None,
    }
}
