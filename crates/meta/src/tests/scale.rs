//! Selectivity at 100,000 articles: a query reads only the index entries that can match.

use super::day;
use crate::{Archive, ArticleDate, Draft, Index, MergePolicy, Query, Record};

const ARTICLES: u32 = 100_000;
const REPORTERS: u32 = 1_000;
const SERVICES: u32 = 10;

fn article(i: u32) -> Draft {
    Draft {
        body: format!("{i}"),
        record: Record {
            reporters: vec![format!("Reporter {}", i % REPORTERS)],
            services: vec![format!("Service {}", i % SERVICES)],
            date: Some(ArticleDate::from_day(day(
                1990 + (i % 30) as i32,
                1 + i % 12,
                1 + i % 28,
            ))),
            ..Record::default()
        },
        original: None,
    }
}

#[test]
fn one_reporter_among_100_000_articles_visits_only_its_entries() {
    let dir = tempfile::tempdir().unwrap();
    let a = Archive::open(dir.path()).unwrap();
    for chunk in (0..ARTICLES).collect::<Vec<_>>().chunks(10_000) {
        let drafts = chunk.iter().map(|&i| article(i)).collect();
        a.add_batch(drafts, MergePolicy::FillEmpty).unwrap();
    }
    let per_reporter = u64::from(ARTICLES / REPORTERS);
    assert_eq!(a.stats().unwrap().articles, u64::from(ARTICLES));

    // One reporter: exactly its 100 entries.
    let q = Query {
        reporter: Some("reporter 7".into()),
        ..Query::default()
    };
    let mut hits = a.query(&q).unwrap();
    let found = hits.by_ref().map(Result::unwrap).count() as u64;
    assert_eq!(found, per_reporter);
    assert_eq!(hits.index(), Some(Index::Reporter));
    assert_eq!(hits.visited(), per_reporter);

    // With a service too, the reporter (100 articles) drives, not the service (10,000).
    let q = Query {
        service: Some("service 7".into()),
        ..q
    };
    let mut hits = a.query(&q).unwrap();
    assert_eq!(hits.by_ref().count() as u64, per_reporter);
    assert_eq!(
        (hits.index(), hits.visited()),
        (Some(Index::Reporter), per_reporter)
    );

    // A date range narrows the scan itself: reporter 7's articles are in years 1997, 2007, 2017.
    let q = Query {
        reporter: Some("Reporter 7".into()),
        since: Some(day(2007, 1, 1)),
        until: Some(day(2007, 12, 31)),
        ..Query::default()
    };
    let mut hits = a.query(&q).unwrap();
    let n = hits.by_ref().count() as u64;
    assert!(n > 0);
    assert_eq!(hits.visited(), n);

    // A limit stops the scan.
    let q = Query {
        reporter: Some("reporter 7".into()),
        limit: Some(5),
        ..Query::default()
    };
    let mut hits = a.query(&q).unwrap();
    assert_eq!(hits.by_ref().count(), 5);
    assert_eq!(hits.visited(), 5);

    // Unknown names visit nothing.
    let q = Query {
        reporter: Some("nobody".into()),
        ..Query::default()
    };
    let mut hits = a.query(&q).unwrap();
    assert_eq!(hits.by_ref().count(), 0);
    assert_eq!((hits.index(), hits.visited()), (None, 0));
}
