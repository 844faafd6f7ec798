//! On-disk tests of the archive (each in its own temporary directory).

mod archive;
mod chunks;
mod fixture;
mod import;
mod model;
mod scale;

use crate::{ArticleDate, Draft, Record};

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
    }
}
