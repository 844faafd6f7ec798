//! One `Archive` shared by 8 threads: one imports batches while seven run queries and read
//! records and bodies. Every read must be consistent: an article is either wholly there (its
//! record, its body hashing to its id, its index entries) or not at all.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;

use morgue_meta::{Archive, ArticleDate, BlobId, DateOrigin, Draft, MergePolicy, Query, Record};

const BATCHES: usize = 40;
const PER_BATCH: usize = 25;
const READERS: usize = 7;
const REPORTERS: [&str; 4] = ["Ana Ruiz", "Li Wei", "Sam Okafor", "Mira Jensen"];
const SERVICES: [&str; 3] = ["Mandarin", "Khmer", "Uyghur"];

/// Article `n`: its body names `n`, and so do its title and its fields, so that a reader can
/// tell from the body alone what the record must say.
fn draft(n: usize) -> Draft {
    let reporter = REPORTERS[n % REPORTERS.len()];
    let service = SERVICES[n % SERVICES.len()];
    let day = chrono::NaiveDate::from_ymd_opt(2000 + (n % 20) as i32, 1 + (n % 12) as u32, 1)
        .expect("valid date");
    Draft {
        body: format!(
            "Body of article {n}.\n\n{}",
            "Filler text for the body. ".repeat(n % 50 + 1)
        ),
        record: Record {
            title: format!("Article {n}"),
            reporters: vec![reporter.to_owned()],
            services: vec![service.to_owned()],
            date: Some(ArticleDate::from_day(day)),
            date_origin: Some(DateOrigin::Given),
            ..Record::default()
        },
        original: None,
    }
}

/// The article number a body names.
fn number_of(body: &[u8]) -> usize {
    let text = std::str::from_utf8(body).expect("UTF-8 body");
    let rest = text.strip_prefix("Body of article ").expect("body prefix");
    rest[..rest.find('.').expect("period")]
        .parse()
        .expect("number")
}

/// Checks one article wholly: body hashes to the id, the record matches the body, and the
/// record is what `record()` gives.
fn check_article(archive: &Archive, id: &BlobId, record: &Record) -> usize {
    let body = archive
        .body(id)
        .expect("body read")
        .expect("a listed article has its body");
    assert_eq!(BlobId::of(&body), *id, "body does not hash to its id");
    let n = number_of(&body);
    let want = draft(n).record;
    assert_eq!(record.title, want.title);
    assert_eq!(record.reporters, want.reporters);
    assert_eq!(record.services, want.services);
    assert_eq!(record.date, want.date);
    let again = archive
        .record(id)
        .expect("record read")
        .expect("record present");
    assert_eq!(&again, record);
    n
}

fn reader(
    archive: &Archive,
    done: &AtomicBool,
    acknowledged: &Mutex<Vec<BlobId>>,
    which: usize,
) -> u64 {
    let mut reads = 0u64;
    let mut round = 0usize;
    loop {
        let finished = done.load(Ordering::Acquire);
        round += 1;
        let reporter = REPORTERS[(which + round) % REPORTERS.len()];
        let service = SERVICES[(which + round) % SERVICES.len()];
        let query = match round % 4 {
            0 => Query {
                reporter: Some(reporter.to_lowercase()),
                ..Query::default()
            },
            1 => Query {
                service: Some(service.to_uppercase()),
                ..Query::default()
            },
            2 => Query {
                since: chrono::NaiveDate::from_ymd_opt(2005, 1, 1),
                until: chrono::NaiveDate::from_ymd_opt(2010, 12, 31),
                ..Query::default()
            },
            _ => Query {
                reporter: Some(reporter.to_owned()),
                service: Some(service.to_owned()),
                ..Query::default()
            },
        };
        let mut last_date = None;
        for hit in archive.query(&query).expect("query") {
            let hit = hit.expect("hit");
            check_article(archive, &hit.id, &hit.record);
            // The index entry that found it agrees with the record.
            if let Some(r) = &query.reporter {
                assert!(
                    hit.record
                        .reporters
                        .iter()
                        .any(|x| x.eq_ignore_ascii_case(r))
                );
            }
            if let Some(s) = &query.service {
                assert!(
                    hit.record
                        .services
                        .iter()
                        .any(|x| x.eq_ignore_ascii_case(s))
                );
            }
            if let (Some(since), Some(until)) = (query.since, query.until) {
                let day = hit.record.date.expect("dated").day;
                assert!(since <= day && day <= until, "{day} outside the range");
            }
            // Newest first.
            if let (Some(prev), Some(date)) = (last_date, hit.record.date) {
                assert!(prev >= date, "results out of order");
            }
            last_date = hit.record.date;
            reads += 1;
        }
        // Everything acknowledged so far is wholly there, and found by its reporter.
        let known: Vec<BlobId> = acknowledged.lock().expect("lock").clone();
        if let Some(id) = known.get(round.wrapping_mul(7919) % known.len().max(1)) {
            let record = archive
                .record(id)
                .expect("record read")
                .expect("acknowledged record");
            let n = check_article(archive, id, &record);
            let by_reporter = Query {
                reporter: Some(draft(n).record.reporters[0].clone()),
                ..Query::default()
            };
            let found = archive
                .query(&by_reporter)
                .expect("query")
                .any(|hit| hit.expect("hit").id == *id);
            assert!(
                found,
                "acknowledged article {n} is not in its reporter's index"
            );
            reads += 1;
        }
        if finished {
            return reads;
        }
    }
}

#[test]
fn eight_threads_one_writer_seven_readers_see_consistent_articles() {
    let dir = tempfile::tempdir().expect("tempdir");
    let archive = Arc::new(Archive::open(dir.path().join("archive")).expect("open"));
    let done = Arc::new(AtomicBool::new(false));
    let acknowledged = Arc::new(Mutex::new(Vec::new()));

    let readers: Vec<_> = (0..READERS)
        .map(|which| {
            let (archive, done, acknowledged) = (
                Arc::clone(&archive),
                Arc::clone(&done),
                Arc::clone(&acknowledged),
            );
            thread::spawn(move || reader(&archive, &done, &acknowledged, which))
        })
        .collect();

    let writer = {
        let (archive, done, acknowledged) = (
            Arc::clone(&archive),
            Arc::clone(&done),
            Arc::clone(&acknowledged),
        );
        thread::spawn(move || {
            for batch in 0..BATCHES {
                let drafts = (0..PER_BATCH)
                    .map(|k| draft(batch * PER_BATCH + k))
                    .collect();
                let outcomes = archive
                    .add_batch(drafts, MergePolicy::FillEmpty)
                    .expect("add_batch");
                assert_eq!(outcomes.len(), PER_BATCH);
                let ids: Vec<BlobId> = outcomes.iter().map(morgue_meta::AddOutcome::id).collect();
                acknowledged.lock().expect("lock").extend(ids);
                if batch % 10 == 9 {
                    archive.flush().expect("flush");
                }
            }
            done.store(true, Ordering::Release);
        })
    };
    writer.join().expect("writer");
    let reads: u64 = readers.into_iter().map(|r| r.join().expect("reader")).sum();
    assert!(reads > 0, "the readers read nothing");

    // At the end: everything there, indexes clean.
    let total = BATCHES * PER_BATCH;
    let all: Vec<_> = archive.iter().collect::<Result<_, _>>().expect("iter");
    assert_eq!(all.len(), total);
    let mut numbers: Vec<usize> = all
        .iter()
        .map(|(id, record)| check_article(&archive, id, record))
        .collect();
    numbers.sort_unstable();
    assert_eq!(numbers, (0..total).collect::<Vec<_>>());
    let report = archive.verify().expect("verify");
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    assert_eq!(report.articles, total as u64);
}
