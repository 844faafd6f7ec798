//! The bulk importer (`Archive::import`): what it reports, when, and in what batches.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use super::draft;
use crate::import::{
    Event, Flush, ImportError, ImportOptions, ImportSummary, Item, Parsed, Source,
};
use crate::{Archive, BlobId, Draft, Error, MergePolicy};

fn source(line: u64) -> Source {
    Source {
        path: Arc::from("in.jsonl"),
        line: Some(line),
        seq: 0,
    }
}

fn parsed(line: u64, draft: Draft, warnings: &[&str]) -> Item {
    Item::Parsed(
        source(line),
        Box::new(Parsed {
            draft,
            warnings: warnings.iter().map(ToString::to_string).collect(),
        }),
    )
}

/// Small limits, so that a few articles make several commits.
fn small(flush: Flush) -> ImportOptions {
    ImportOptions {
        batch_articles: 3,
        prepare_articles: 2,
        commit_min: 0,
        flush,
        ..ImportOptions::default()
    }
}

/// Imports `items` and returns the events, in order, with the result.
fn import(
    archive: &Archive,
    options: &ImportOptions,
    items: Vec<Item>,
) -> (Vec<Event>, Result<ImportSummary, ImportError>) {
    let events = Mutex::new(Vec::new());
    let result = archive.import(
        options,
        |feed| {
            for item in items {
                assert!(feed.push(item));
            }
        },
        |event| events.lock().unwrap().push(event),
    );
    (events.into_inner().unwrap(), result)
}

/// What happened, in order: a flush (with the ids durable then) or a report of a stored id.
#[derive(Debug)]
enum Seen {
    Flushed(HashSet<BlobId>),
    Stored(BlobId),
}

#[test]
fn an_article_is_reported_only_after_the_flush_that_made_it_durable() {
    for flush in [Flush::EveryCommit, Flush::AtEnd] {
        let dir = tempfile::tempdir().unwrap();
        let archive = Archive::open(dir.path().join("a")).unwrap();
        let seen = Mutex::new(Vec::new());
        let watched = |archive: &Archive| {
            archive.flush()?;
            let ids = archive
                .iter()
                .map(|r| r.map(|(id, _)| id))
                .collect::<crate::Result<HashSet<_>>>()?;
            seen.lock().unwrap().push(Seen::Flushed(ids));
            Ok(())
        };
        let items: Vec<Item> = (0..10)
            .map(|n| parsed(n, draft(&format!("body {n}"), &["Ann Lee"], &[], None), &[]))
            .collect();
        let summary = archive
            .import_with(
                &small(flush),
                |feed| {
                    for item in items {
                        assert!(feed.push(item));
                    }
                },
                |event| {
                    if let Event::Stored { id, .. } = event {
                        seen.lock().unwrap().push(Seen::Stored(id));
                    }
                },
                &watched,
            )
            .unwrap();
        assert_eq!(summary.stored, 10);
        let seen = seen.into_inner().unwrap();
        let flushes = seen
            .iter()
            .filter(|s| matches!(s, Seen::Flushed(_)))
            .count();
        match flush {
            // 10 articles, at most 3 a commit.
            Flush::EveryCommit => assert!(flushes >= 4, "{flushes} flushes"),
            _ => assert_eq!(flushes, 1),
        }
        let mut durable = HashSet::new();
        let mut reported = 0;
        for s in &seen {
            match s {
                Seen::Flushed(ids) => durable.clone_from(ids),
                Seen::Stored(id) => {
                    assert!(durable.contains(id), "{id} reported before a flush held it");
                    reported += 1;
                }
            }
        }
        assert_eq!(reported, 10);
    }
}

#[test]
fn duplicates_failures_refusals_and_warnings_are_reported_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let archive = Archive::open(dir.path().join("a")).unwrap();
    let stored = archive
        .add(draft("old", &[], &[], None), MergePolicy::FillEmpty)
        .unwrap()
        .id();
    let items = vec![
        parsed(1, draft("new", &[], &[], None), &["odd date"]),
        Item::Failed(source(2), "invalid JSON".into()),
        parsed(3, draft("", &[], &[], None), &[]),
        // A duplicate of an article stored before, and one of the same import.
        parsed(4, draft("old", &["Ann Lee"], &[], None), &[]),
        parsed(5, draft("new", &[], &[], None), &[]),
    ];
    let (events, result) = import(&archive, &ImportOptions::default(), items);
    assert_eq!(
        result.unwrap(),
        ImportSummary {
            stored: 1,
            duplicates: 2,
            filled: 1,
            failed: 2,
            warnings: 1,
            skipped: 0,
        }
    );
    let new_id = BlobId::of(b"new");
    let line = |e: &Event| match e {
        Event::Warning { source, .. }
        | Event::Failed { source, .. }
        | Event::Rejected { source, .. }
        | Event::Stored { source, .. }
        | Event::Duplicate { source, .. } => source.line,
        Event::Durable { .. } => None,
    };
    // Warnings, failures and refusals come as the drafts are gathered and prepared; the
    // articles once their commit is durable.
    assert_eq!(events.len(), 7, "{events:?}");
    assert!(matches!(&events[0], Event::Warning { message, .. } if message == "odd date"));
    assert!(matches!(&events[1], Event::Failed { reason, .. } if reason == "invalid JSON"));
    assert!(matches!(
        &events[2],
        Event::Rejected {
            error: Error::EmptyBody,
            ..
        }
    ));
    assert!(matches!(&events[3], Event::Stored { id, .. } if *id == new_id));
    assert!(
        matches!(&events[4], Event::Duplicate { id, filled, .. } if *id == stored && *filled == ["reporters"])
    );
    assert!(
        matches!(&events[5], Event::Duplicate { id, filled, .. } if *id == new_id && filled.is_empty())
    );
    assert!(matches!(
        events[6],
        Event::Durable {
            articles: 3,
            total: 3
        }
    ));
    let lines: Vec<_> = events.iter().map(line).collect();
    assert_eq!(
        lines,
        [Some(1), Some(2), Some(3), Some(1), Some(4), Some(5), None]
    );
    assert_eq!(
        archive.record(&stored).unwrap().unwrap().reporters,
        ["Ann Lee"]
    );
}

/// The sizes of the commits an import made.
fn commits(events: &[Event]) -> Vec<usize> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Durable { articles, .. } => Some(*articles),
            _ => None,
        })
        .collect()
}

#[test]
fn commits_hold_at_most_batch_articles() {
    let dir = tempfile::tempdir().unwrap();
    let archive = Archive::open(dir.path().join("a")).unwrap();
    let items = (0..10)
        .map(|n| parsed(n, draft(&format!("body {n}"), &[], &[], None), &[]))
        .collect();
    let (events, result) = import(&archive, &small(Flush::EveryCommit), items);
    assert_eq!(result.unwrap().stored, 10);
    let sizes = commits(&events);
    assert!(sizes.iter().all(|&n| (1..=3).contains(&n)), "{sizes:?}");
    assert_eq!(sizes.iter().sum::<usize>(), 10);
}

#[test]
fn commits_hold_at_most_batch_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let archive = Archive::open(dir.path().join("a")).unwrap();
    let items = (0..5)
        .map(|n| parsed(n, draft(&format!("body number {n}"), &[], &[], None), &[]))
        .collect();
    let options = ImportOptions {
        batch_bytes: 8,
        commit_min: 0,
        ..ImportOptions::default()
    };
    let (events, result) = import(&archive, &options, items);
    assert_eq!(result.unwrap().stored, 5);
    // Every body is larger than a batch: each goes alone.
    assert_eq!(commits(&events), [1, 1, 1, 1, 1]);
}

#[test]
fn an_article_of_a_slow_input_is_stored_within_the_batch_time() {
    let dir = tempfile::tempdir().unwrap();
    let archive = Archive::open(dir.path().join("a")).unwrap();
    let options = ImportOptions {
        batch_time: Duration::from_millis(100),
        ..ImportOptions::default()
    };
    let (stored_tx, stored_rx) = mpsc::channel();
    let waited = Mutex::new(None);
    let waited_ref = &waited;
    let summary = archive
        .import(
            &options,
            move |feed| {
                let start = Instant::now();
                assert!(feed.push(parsed(1, draft("first", &[], &[], None), &[])));
                assert!(feed.send());
                // The input stays open (a pipe with nothing more yet): the article must be
                // stored anyway, long before the input ends.
                let got = stored_rx.recv_timeout(Duration::from_secs(20));
                *waited_ref.lock().unwrap() = Some((got.is_ok(), start.elapsed()));
                assert!(feed.push(parsed(2, draft("second", &[], &[], None), &[])));
            },
            move |event| {
                if let Event::Stored { id, .. } = event {
                    let _ = stored_tx.send(id);
                }
            },
        )
        .unwrap();
    let (got, elapsed) = waited.into_inner().unwrap().unwrap();
    assert!(
        got,
        "the first article was not stored while the input was open"
    );
    assert!(elapsed < Duration::from_secs(10), "{elapsed:?}");
    assert_eq!(summary.stored, 2);
}
