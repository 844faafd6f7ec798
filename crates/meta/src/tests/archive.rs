use std::collections::BTreeMap;
use std::sync::Arc;

use super::{day, draft, poke, unpoke};
use crate::block::{self, Block};
use crate::posting::{self, Pos};
use crate::tx::Chunks;
use crate::{
    AddOutcome, Archive, ArticleDate, BlobId, Cursor, Error, MergePolicy, OpenOptions, Query, keys,
};

/// Rewrites the record bytes of article `id` behind the archive's back.
fn set_record_bytes(a: &Archive, id: &BlobId, f: impl FnOnce(&[u8]) -> Vec<u8>) {
    let seq = a.store.seq_of(id).unwrap().unwrap();
    let (b, slot) = block::locate(seq);
    let key = block::key(b);
    let mut decoded = Block::decode(&a.tree.get(key).unwrap().unwrap()).unwrap();
    let bytes = f(decoded.get(slot).unwrap());
    decoded.set(slot, Some(bytes));
    poke(a, key, decoded.encode());
    a.blocks.clear();
}

/// Adds or removes one posting entry behind the archive's back.
fn edit_posting(a: &Archive, prefix: &[u8], pos: Pos, add: bool) {
    let mut staged = posting::Staged::default();
    let src = Chunks(&a.tree);
    if add {
        staged.insert(&src, prefix, pos).unwrap();
    } else {
        assert!(staged.remove(&src, prefix, pos).unwrap());
    }
    for (k, v) in staged.writes() {
        match v {
            Some(v) => poke(a, k, v),
            None => unpoke(a, k),
        }
    }
}

fn ids(archive: &Archive, q: &Query) -> Vec<BlobId> {
    archive.query(q).unwrap().map(|h| h.unwrap().id).collect()
}

#[test]
fn add_query_body_and_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    let a = Archive::open(dir.path()).unwrap();
    let d1 = draft(
        "one",
        &["Qiao Long"],
        &["Mandarin"],
        Some(ArticleDate::from_day(day(2017, 6, 20))),
    );
    let id1 = a.add(d1.clone(), MergePolicy::FillEmpty).unwrap().id();
    assert_eq!(id1, BlobId::of(b"one"));
    assert_eq!(a.body(&id1).unwrap().unwrap(), b"one");
    let rec = a.record(&id1).unwrap().unwrap();
    assert!(rec.imported_at.is_some(), "imported_at set by the archive");

    // A duplicate with more metadata fills the empty fields only.
    let mut d2 = d1.clone();
    d2.record.title = "other title".into();
    d2.record.url = "https://example.invalid/1".into();
    d2.record.reporters = vec!["Someone Else".into()];
    let out = a.add(d2.clone(), MergePolicy::FillEmpty).unwrap();
    assert_eq!(
        out,
        AddOutcome::Duplicate {
            id: id1,
            filled: vec!["url"]
        }
    );
    let rec2 = a.record(&id1).unwrap().unwrap();
    assert_eq!(rec2.title, rec.title);
    assert_eq!(rec2.url, "https://example.invalid/1");
    assert_eq!(rec2.imported_at, rec.imported_at);

    // Overwrite replaces, and moves the index entries.
    let out = a.add(d2, MergePolicy::Overwrite).unwrap();
    assert_eq!(
        out,
        AddOutcome::Duplicate {
            id: id1,
            filled: vec!["title", "reporters"]
        }
    );
    let by = |r: &str| Query {
        reporter: Some(r.into()),
        ..Query::default()
    };
    assert!(ids(&a, &by("qiao long")).is_empty());
    assert_eq!(ids(&a, &by("SOMEONE  else")), vec![id1]);
    assert_eq!(a.reporters().unwrap().len(), 1);
    assert_eq!(a.reporters().unwrap()[0].name, "Someone Else");

    assert!(matches!(
        a.add(draft("", &[], &[], None), MergePolicy::FillEmpty),
        Err(Error::EmptyBody)
    ));
    assert!(a.verify().unwrap().problems.is_empty());
}

#[test]
fn facets_keep_first_spelling_and_counts() {
    let dir = tempfile::tempdir().unwrap();
    let a = Archive::open(dir.path()).unwrap();
    a.add(
        draft("a", &["Qiao Long", "QIAO LONG"], &["Mandarin"], None),
        MergePolicy::FillEmpty,
    )
    .unwrap();
    a.add(
        draft("b", &["qiao  long"], &["Mandarin", "Khmer"], None),
        MergePolicy::FillEmpty,
    )
    .unwrap();
    a.add(
        draft("c", &["Ann"], &["Khmer"], None),
        MergePolicy::FillEmpty,
    )
    .unwrap();
    let r = a.reporters().unwrap();
    assert_eq!(r[0].name, "Qiao Long");
    assert_eq!(r[0].count, 2);
    assert_eq!((r[1].name.as_str(), r[1].count), ("Ann", 1));
    let s = a.services().unwrap();
    assert_eq!(
        s.iter()
            .map(|f| (f.name.as_str(), f.count))
            .collect::<Vec<_>>(),
        [("Khmer", 2), ("Mandarin", 2)]
    );
    assert!(a.remove(&BlobId::of(b"c")).unwrap());
    assert_eq!(a.reporters().unwrap().len(), 1);
    let st = a.stats().unwrap();
    assert_eq!(st.articles, 2);
    assert_eq!(st.raw_bytes, 2);
    assert!(st.stored_bytes > 0 && st.disk_bytes > 0);
}

#[test]
fn dates_order_ranges_and_cursor() {
    let dir = tempfile::tempdir().unwrap();
    let a = Archive::open(dir.path()).unwrap();
    let at = |d, t| {
        Some(ArticleDate {
            day: day(2017, 6, d),
            time: t,
            precision: crate::DatePrecision::Day,
        })
    };
    let batch = vec![
        draft("undated", &["R"], &[], None),
        draft("d20", &["R"], &[], at(20, None)),
        draft("d20t", &["R"], &[], at(20, Some(60))),
        draft("d21", &["R"], &[], at(21, None)),
        draft("d19", &["R"], &[], at(19, Some(86_399))),
    ];
    let out = a.add_batch(batch, MergePolicy::FillEmpty).unwrap();
    let id = |s: &str| BlobId::of(s.as_bytes());
    let all = ids(&a, &Query::default());
    assert_eq!(
        all,
        [id("d21"), id("d20t"), id("d20"), id("d19"), id("undated")]
    );
    assert_eq!(out.len(), 5);
    let q = Query {
        since: Some(day(2017, 6, 20)),
        until: Some(day(2017, 6, 20)),
        ..Query::default()
    };
    assert_eq!(ids(&a, &q), [id("d20t"), id("d20")]);
    let q = Query {
        until: Some(day(2017, 6, 30)),
        reporter: Some("r".into()),
        ..Query::default()
    };
    assert_eq!(
        ids(&a, &q).len(),
        4,
        "a date range never matches undated articles"
    );
    let st = a.stats().unwrap();
    assert_eq!(st.per_year, [(2017, 4)]);

    // Paging with a cursor through its text form.
    let mut after: Option<Cursor> = None;
    let mut paged = Vec::new();
    loop {
        let q = Query {
            limit: Some(2),
            after,
            reporter: Some("R".into()),
            ..Query::default()
        };
        let hits: Vec<_> = a.query(&q).unwrap().map(Result::unwrap).collect();
        if hits.is_empty() {
            break;
        }
        paged.extend(hits.iter().map(|h| h.id));
        let text = hits.last().unwrap().cursor.to_string();
        assert_eq!(text.len(), 80);
        let parsed: Cursor = text.parse().unwrap();
        assert_eq!(parsed, hits.last().unwrap().cursor);
        after = Some(parsed);
    }
    assert_eq!(paged, all);
    assert!(matches!(
        "zz".parse::<Cursor>(),
        Err(Error::InvalidCursor(_))
    ));
    assert!(matches!(
        "g".repeat(80).parse::<Cursor>(),
        Err(Error::InvalidCursor(_))
    ));
    let q = Query {
        since: Some(day(2017, 6, 22)),
        until: Some(day(2017, 6, 21)),
        ..Query::default()
    };
    assert!(ids(&a, &q).is_empty());
}

#[test]
fn invalid_time_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let a = Archive::open(dir.path()).unwrap();
    let d = draft(
        "x",
        &[],
        &[],
        Some(ArticleDate {
            day: day(2020, 1, 1),
            time: Some(86_400),
            precision: crate::DatePrecision::Day,
        }),
    );
    assert!(matches!(
        a.add(d, MergePolicy::FillEmpty),
        Err(Error::InvalidRecord(_))
    ));
}

#[test]
fn remove_takes_everything_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let a = Archive::open(dir.path()).unwrap();
    let keep = a
        .add(
            draft("keep", &["Ann"], &["S"], None),
            MergePolicy::FillEmpty,
        )
        .unwrap()
        .id();
    let gone = a
        .add(
            draft(
                "gone",
                &["Ann", "Bob"],
                &["S"],
                Some(ArticleDate::from_day(day(2001, 1, 1))),
            ),
            MergePolicy::FillEmpty,
        )
        .unwrap()
        .id();
    assert!(a.remove(&gone).unwrap());
    assert!(!a.remove(&gone).unwrap());
    assert_eq!(a.record(&gone).unwrap(), None);
    assert_eq!(a.body(&gone).unwrap(), None);
    assert_eq!(ids(&a, &Query::default()), [keep]);
    assert_eq!(
        a.reporters()
            .unwrap()
            .iter()
            .map(|f| (f.name.as_str(), f.count))
            .collect::<Vec<_>>(),
        [("Ann", 1)]
    );
    assert_eq!(a.stats().unwrap().articles, 1);
    assert!(a.stats().unwrap().per_year.is_empty());
    let report = a.verify().unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    assert_eq!(report.articles, 1);
    assert_eq!(report.index_entries, 3);
}

#[test]
fn failed_commit_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let a = Archive::open(dir.path()).unwrap();
    let bad = a
        .add(draft("bad", &[], &[], None), MergePolicy::FillEmpty)
        .unwrap()
        .id();
    // Damage the stored record: a later duplicate of it makes the commit fail.
    set_record_bytes(&a, &bad, |_| vec![9, 9]);
    let batch = vec![
        draft("new", &["Ann"], &["S"], None),
        draft("bad", &["Ann"], &[], None),
    ];
    let err = a.add_batch(batch, MergePolicy::FillEmpty).unwrap_err();
    assert!(matches!(err, Error::CorruptedRecord { id } if id == bad));
    let new = BlobId::of(b"new");
    assert_eq!(a.record(&new).unwrap(), None);
    assert_eq!(a.body(&new).unwrap(), None);
    assert!(a.reporters().unwrap().is_empty());
    assert_eq!(a.stats().unwrap().articles, 1);
}

#[test]
fn verify_finds_damage_and_reindex_repairs_it() {
    let dir = tempfile::tempdir().unwrap();
    let a = Archive::open(dir.path()).unwrap();
    let batch = (0..20)
        .map(|i| {
            draft(
                &format!("body {i}"),
                &[&format!("R{}", i % 3)],
                &["S"],
                Some(ArticleDate::from_day(day(2000 + i, 1, 1))),
            )
        })
        .collect();
    a.add_batch(batch, MergePolicy::FillEmpty).unwrap();
    let report = a.verify().unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    assert_eq!((report.articles, report.index_entries), (20, 60));

    // Delete one reporter entry, add a stray one, damage a facet.
    let victim = BlobId::of(b"body 4");
    let dk = keys::date_key(Some(ArticleDate::from_day(day(2004, 1, 1))));
    let victim_seq = a.store.seq_of(&victim).unwrap().unwrap();
    edit_posting(&a, &posting::prefix(b'r', "r1"), (dk, victim_seq), false);
    edit_posting(&a, &posting::prefix(b's', "s"), (0, 9999), true);
    poke(&a, keys::facet_key(b'r', "r0"), keys::facet_value(99, "R0"));
    let state = keys::State {
        indexes: keys::index_list(),
        ..keys::State::default()
    };
    poke(&a, keys::STATE_KEY, state.encode());
    let problems = a.verify().unwrap().problems;
    assert!(
        problems
            .iter()
            .any(|p| p.id.is_none() && p.what.starts_with("counters say 0 articles")),
        "{problems:?}"
    );
    assert!(
        problems
            .iter()
            .any(|p| p.id == Some(victim) && p.what == "index reporter: entry for \"r1\" missing"),
        "{problems:?}"
    );
    assert!(
        problems.iter().any(|p| p.id.is_none()
            && p.what == "index service: entry for \"s\" without record (sequence number 9999)"),
        "{problems:?}"
    );
    assert!(
        problems
            .iter()
            .any(|p| p.id.is_none()
                && p.what == "index reporter: facet \"r0\" counts 99, records say 7"),
        "{problems:?}"
    );
    assert_eq!(problems.len(), 4, "{problems:?}");

    assert_eq!(a.reindex().unwrap(), 20);
    assert!(a.verify().unwrap().problems.is_empty());
    assert_eq!(a.stats().unwrap().articles, 20);
    let q = Query {
        reporter: Some("r1".into()),
        ..Query::default()
    };
    assert!(ids(&a, &q).contains(&victim));

    // A damaged record, a missing body, a corrupted body, a body without record.
    let damaged = BlobId::of(b"body 7");
    set_record_bytes(&a, &damaged, |b| [b, &[0][..]].concat());
    let bodiless = BlobId::of(b"body 8");
    let bodiless_seq = a.store.seq_of(&bodiless).unwrap().unwrap();
    let mut w = a.store.writer();
    assert!(w.remove(bodiless_seq).unwrap());
    w.commit().unwrap();
    // The header of a body's record in the pack file (its id, then 23 bytes ending in a check)
    // says where the body is: damaged, that body no longer verifies.
    let flipped = BlobId::of(b"body 19");
    let pack = a.path().join("packs").join("00000000.pack");
    let mut v = std::fs::read(&pack).unwrap();
    let at = v.windows(32).position(|w| w == flipped.as_bytes()).unwrap();
    v[at + 54] ^= 0xff;
    std::fs::write(&pack, v).unwrap();
    let orphan = a.store.prepare_batch(&[(&b"orphan"[..], "")]).unwrap();
    let mut w = a.store.writer();
    for blob in orphan {
        w.place(blob).unwrap();
    }
    w.commit().unwrap();
    let problems = a.verify().unwrap().problems;
    // Depending on what the damaged bytes say, the store finds the body corrupted (its id is
    // known) or damaged (where it is, is not).
    let flipped_seq = a.store.seq_of(&flipped).ok().flatten();
    assert!(
        problems
            .iter()
            .any(|p| (p.id == Some(flipped) && p.what == "body corrupted")
                || (p.id.is_none()
                    && p.what.starts_with(&format!(
                        "record at sequence number {}: its body is damaged",
                        flipped_seq.unwrap_or(19)
                    )))),
        "{problems:?}"
    );
    assert!(
        problems
            .iter()
            .any(|p| p.id == Some(damaged) && p.what.starts_with("record does not decode")),
        "{problems:?}"
    );
    assert!(
        problems.iter().any(|p| p.id.is_none()
            && p.what == format!("record at sequence number {bodiless_seq} has no live body")),
        "{problems:?}"
    );
    assert!(
        problems
            .iter()
            .any(|p| p.id == Some(BlobId::of(b"orphan")) && p.what == "body without record"),
        "{problems:?}"
    );
    assert!(matches!(a.record(&damaged), Err(Error::CorruptedRecord { id }) if id == damaged));
    // A listing reports the two unreadable articles and goes on past them.
    let results: Vec<_> = a.query(&Query::default()).unwrap().collect();
    assert_eq!(results.iter().filter(|r| r.is_err()).count(), 2);
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 17);
}

#[test]
fn changed_index_list_triggers_reindex_at_open() {
    let dir = tempfile::tempdir().unwrap();
    {
        let a = Archive::open(dir.path()).unwrap();
        a.add(draft("x", &["Ann"], &["S"], None), MergePolicy::FillEmpty)
            .unwrap();
        for k in a.tree.scan_prefix(b"xr").map(|kv| kv.map(|(k, _)| k)) {
            unpoke(&a, k.unwrap());
        }
        let mut state = a.state_value().unwrap().unwrap();
        state.indexes = "reporter".into();
        poke(&a, keys::STATE_KEY, state.encode());
        a.flush().unwrap();
    }
    let a = Archive::open(dir.path()).unwrap();
    let q = Query {
        reporter: Some("ann".into()),
        ..Query::default()
    };
    assert_eq!(ids(&a, &q), [BlobId::of(b"x")]);
    assert!(a.verify().unwrap().problems.is_empty());
}

/// 50 articles (four epochs of 16 in tests), one a day from 2017-06-01 but stored in a
/// shuffled order, so that every epoch holds old and new dates; services "A" and "B".
fn epoch_archive(dir: &std::path::Path) -> (Archive, Vec<(chrono::NaiveDate, BlobId)>) {
    let a = Archive::open(dir).unwrap();
    let mut days: Vec<u32> = (0..50).map(|i| (i * 17) % 50).collect();
    days.dedup();
    assert_eq!(days.len(), 50);
    let mut stored = Vec::new();
    for (n, i) in days.into_iter().enumerate() {
        let date = day(2017, 6, 1) + chrono::Days::new(u64::from(i));
        let service = if n % 2 == 0 { "A" } else { "B" };
        let id = a
            .add(
                draft(
                    &format!("epoch article {i}"),
                    &["Ann"],
                    &[service],
                    Some(ArticleDate::from_day(date)),
                ),
                MergePolicy::FillEmpty,
            )
            .unwrap()
            .id();
        stored.push((date, id));
    }
    (a, stored)
}

#[test]
fn walks_merge_the_epochs_newest_first() {
    let dir = tempfile::tempdir().unwrap();
    let (a, stored) = epoch_archive(dir.path());
    // The date index holds entries of four epochs, each sorted by date within.
    let epochs: std::collections::BTreeSet<u64> = a
        .tree
        .scan_prefix(posting::prefix(keys::DATE_TAG, ""))
        .flat_map(|kv| posting::decode(&kv.unwrap().1).unwrap())
        .map(|(dk, _)| dk >> keys::DATE_BITS)
        .collect();
    assert_eq!(epochs.into_iter().collect::<Vec<_>>(), [0, 1, 2, 3]);
    let mut newest_first = stored.clone();
    newest_first.sort_by_key(|x| std::cmp::Reverse(x.0));
    let all: Vec<BlobId> = newest_first.iter().map(|(_, id)| *id).collect();
    assert_eq!(ids(&a, &Query::default()), all);
    // A date range, a service, and pages of 7 through cursors.
    let q = Query {
        service: Some("a".into()),
        since: Some(day(2017, 6, 10)),
        until: Some(day(2017, 7, 5)),
        ..Query::default()
    };
    let want: Vec<BlobId> = newest_first
        .iter()
        .filter(|(d, id)| {
            (day(2017, 6, 10)..=day(2017, 7, 5)).contains(d)
                && stored.iter().position(|(_, s)| s == id).unwrap() % 2 == 0
        })
        .map(|(_, id)| *id)
        .collect();
    assert_eq!(ids(&a, &q), want);
    let mut paged = Vec::new();
    let mut after = None;
    loop {
        let page: Vec<_> = a
            .query(&Query {
                limit: Some(7),
                after,
                ..q.clone()
            })
            .unwrap()
            .map(Result::unwrap)
            .collect();
        let Some(last) = page.last() else { break };
        after = Some(last.cursor);
        paged.extend(page.iter().map(|h| h.id));
    }
    assert_eq!(paged, want);
    // A reporter's index keeps epochs too: a walk per epoch, merged, the same order.
    let reporter_epochs: std::collections::BTreeSet<u64> = a
        .tree
        .scan_prefix(posting::prefix(b'r', "ann"))
        .flat_map(|kv| posting::decode(&kv.unwrap().1).unwrap())
        .map(|(dk, _)| dk >> keys::DATE_BITS)
        .collect();
    assert_eq!(
        reporter_epochs.into_iter().collect::<Vec<_>>(),
        [0, 1, 2, 3]
    );
    let hits = a
        .query(&Query {
            reporter: Some("ann".into()),
            ..Query::default()
        })
        .unwrap();
    assert_eq!(hits.index(), Some(crate::Index::Reporter));
    assert_eq!(hits.map(|h| h.unwrap().id).collect::<Vec<_>>(), all);
    assert!(a.verify().unwrap().problems.is_empty());
}

/// Archives of earlier builds are rebuilt at their first open: before epochs (every index by
/// date alone, index list `reporter,service`), and with epochs in the date and service indexes
/// only (`reporter,service;epoch=N`, before the reporter index kept them).
#[test]
fn postings_laid_out_before_epochs_are_rebuilt_at_open() {
    let before_epochs = (
        &[keys::DATE_TAG, b's', b'r'][..],
        "reporter,service".to_string(),
    );
    let before_reporter_epochs = (
        &[b'r'][..],
        format!("reporter,service;epoch={}", keys::EPOCH_BITS),
    );
    for (tags, list) in [before_epochs, before_reporter_epochs] {
        postings_laid_out_so_are_rebuilt_at_open(tags, &list);
    }
}

/// An archive whose indexes `tags` are sorted by date alone, under the index list `list`, is
/// rebuilt at open: epochs in every index, queries and removals right.
fn postings_laid_out_so_are_rebuilt_at_open(tags: &[u8], list: &str) {
    let dir = tempfile::tempdir().unwrap();
    let stored = {
        let (a, stored) = epoch_archive(dir.path());
        // Rewrite the indexes as an earlier build held them: sorted by date alone, under the
        // index list of then.
        for &tag in tags {
            let mut names: BTreeMap<Vec<u8>, Vec<Pos>> = BTreeMap::new();
            let chunks: Vec<_> = a
                .tree
                .scan_prefix([posting::TAG, tag])
                .map(Result::unwrap)
                .collect();
            for (k, v) in chunks {
                let (prefix, _) = posting::parse_key(&k).unwrap();
                names.entry(prefix.to_vec()).or_default().extend(
                    posting::decode(&v)
                        .unwrap()
                        .into_iter()
                        .map(|(dk, seq)| (keys::real_date(dk), seq)),
                );
                unpoke(&a, &k);
            }
            for (prefix, mut entries) in names {
                entries.sort_unstable();
                poke(
                    &a,
                    posting::key(&prefix, entries[0]),
                    posting::encode(&entries),
                );
            }
        }
        let mut state = a.state_value().unwrap().unwrap();
        state.indexes = list.into();
        poke(&a, keys::STATE_KEY, state.encode());
        a.flush().unwrap();
        stored
    };
    let a = Archive::open(dir.path()).unwrap();
    assert_eq!(
        a.state_value().unwrap().unwrap().indexes,
        keys::index_list()
    );
    for tag in [keys::DATE_TAG, b's', b'r'] {
        let max_epoch = a
            .tree
            .scan_prefix([posting::TAG, tag])
            .flat_map(|kv| posting::decode(&kv.unwrap().1).unwrap())
            .map(|(dk, _)| dk >> keys::DATE_BITS)
            .max();
        assert_eq!(max_epoch, Some(3), "{list}: index {}", tag as char);
    }
    let mut newest_first = stored;
    newest_first.sort_by_key(|x| std::cmp::Reverse(x.0));
    let all: Vec<BlobId> = newest_first.iter().map(|(_, id)| *id).collect();
    assert_eq!(ids(&a, &Query::default()), all);
    let by_reporter = Query {
        reporter: Some("ann".into()),
        ..Query::default()
    };
    assert_eq!(ids(&a, &by_reporter), all);
    assert!(a.verify().unwrap().problems.is_empty());
    // Removing an article of a late epoch finds its entries where they now are.
    a.remove(&all[0]).unwrap();
    assert_eq!(ids(&a, &Query::default()), all[1..]);
    assert!(a.verify().unwrap().problems.is_empty());
}

#[test]
fn reopen_after_drop_and_missing_archive() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("arch");
    let opts = OpenOptions {
        create: false,
        ..OpenOptions::default()
    };
    assert!(matches!(
        Archive::open_with(&path, &opts),
        Err(Error::Store(morgue_store::Error::NoArchive { .. }))
    ));
    let id = {
        let a = Archive::open(&path).unwrap();
        let id = a
            .add(draft("kept", &["Ann"], &[], None), MergePolicy::FillEmpty)
            .unwrap()
            .id();
        a.flush().unwrap();
        id
    };
    let a = Archive::open_with(&path, &opts).unwrap();
    assert_eq!(a.body(&id).unwrap().unwrap(), b"kept");
    assert_eq!(a.resolve(&id.to_string()[..6]).unwrap(), id);
    assert_eq!(a.iter().map(|r| r.unwrap().0).collect::<Vec<_>>(), [id]);
    assert_eq!(a.path(), path);
}

#[test]
fn shared_between_threads() {
    let dir = tempfile::tempdir().unwrap();
    let a = Arc::new(Archive::open(dir.path()).unwrap());
    let handles: Vec<_> = (0..4)
        .map(|t| {
            let a = Arc::clone(&a);
            std::thread::spawn(move || {
                let prepared = (0..25)
                    .map(|i| {
                        a.prepare(draft(&format!("{t}-{i}"), &["Ann"], &[], None))
                            .unwrap()
                    })
                    .collect();
                a.commit(prepared, MergePolicy::FillEmpty).unwrap().len()
            })
        })
        .collect();
    let n: usize = handles.into_iter().map(|h| h.join().unwrap()).sum();
    assert_eq!(n, 100);
    assert_eq!(a.reporters().unwrap()[0].count, 100);
    assert_eq!(a.stats().unwrap().articles, 100);
    assert!(a.verify().unwrap().problems.is_empty());
}

#[test]
fn a_second_open_is_refused_while_the_first_lives() {
    let dir = tempfile::tempdir().unwrap();
    let a = Archive::open(dir.path()).unwrap();
    let second = Archive::open(dir.path());
    assert!(
        matches!(
            second,
            Err(Error::Store(morgue_store::Error::Locked { .. }))
        ),
        "{second:?}"
    );
    drop(a);
    assert!(Archive::open(dir.path()).is_ok());
}

#[test]
fn close_leaves_a_snapshot_and_everything_reopens() {
    let dir = tempfile::tempdir().unwrap();
    let a = Archive::open(dir.path()).unwrap();
    let id = a
        .add(
            draft("closed", &["Ann"], &["S"], None),
            MergePolicy::FillEmpty,
        )
        .unwrap()
        .id();
    a.close().unwrap();
    let snapshots = std::fs::read_dir(dir.path())
        .unwrap()
        .filter(|e| {
            let name = e.as_ref().unwrap().file_name();
            let name = name.to_string_lossy();
            name.starts_with("snap.") && !name.ends_with(".generating")
        })
        .count();
    assert!(snapshots >= 1);
    let a = Archive::open(dir.path()).unwrap();
    assert_eq!(a.body(&id).unwrap().unwrap(), b"closed");
    let q = Query {
        reporter: Some("ann".into()),
        ..Query::default()
    };
    assert_eq!(ids(&a, &q), [id]);
    assert!(a.verify().unwrap().problems.is_empty());
}

#[test]
fn a_damaged_state_is_rebuilt_at_open() {
    let dir = tempfile::tempdir().unwrap();
    {
        let a = Archive::open(dir.path()).unwrap();
        a.add(draft("x", &["Ann"], &["S"], None), MergePolicy::FillEmpty)
            .unwrap();
        poke(&a, keys::STATE_KEY, &b"\x02short"[..]);
        assert!(matches!(
            a.stats(),
            Err(Error::CorruptedValue { key }) if key == "m"
        ));
        let problems = a.verify().unwrap().problems;
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].what.starts_with("the meta state"));
        a.flush().unwrap();
    }
    let a = Archive::open(dir.path()).unwrap();
    assert_eq!(a.stats().unwrap().articles, 1);
    assert!(a.verify().unwrap().problems.is_empty());
}

#[test]
fn damaged_chunks_and_blocks_are_reported_and_reindex_repairs_chunks() {
    let dir = tempfile::tempdir().unwrap();
    let a = Archive::open(dir.path()).unwrap();
    let batch = (0..10)
        .map(|i| draft(&format!("b{i}"), &["Ann"], &["S"], None))
        .collect();
    a.add_batch(batch, MergePolicy::FillEmpty).unwrap();
    let chunk = a
        .tree
        .scan_prefix(posting::prefix(b'r', "ann"))
        .map(|kv| kv.map(|(k, _)| k))
        .next()
        .unwrap()
        .unwrap();
    poke(&a, &chunk, &b"\x02\xff"[..]);
    let problems = a.verify().unwrap().problems;
    assert!(
        problems.iter().any(|p| p.what.ends_with("does not decode")),
        "{problems:?}"
    );
    assert_eq!(
        problems
            .iter()
            .filter(|p| p.what == "index reporter: entry for \"ann\" missing")
            .count(),
        10
    );
    let q = Query {
        reporter: Some("ann".into()),
        ..Query::default()
    };
    // The walk needs the chunk (the reporter's last epoch is read from its last chunk, which
    // here is the only one): the query fails, and says why.
    let first = a.query(&q).and_then(|mut hits| hits.next().unwrap());
    assert!(matches!(first, Err(Error::CorruptedValue { .. })));
    // A commit that needs the chunk fails whole, and says why.
    let err = a
        .add(draft("b10", &["Ann"], &[], None), MergePolicy::FillEmpty)
        .unwrap_err();
    assert!(matches!(err, Error::CorruptedValue { .. }));
    assert_eq!(a.reindex().unwrap(), 10);
    assert!(a.verify().unwrap().problems.is_empty());
    assert_eq!(ids(&a, &q).len(), 10);

    // A damaged record block: its records are reported, the archive still opens and lists.
    poke(&a, block::key(0), &b"\x02\x01junk"[..]);
    a.blocks.clear();
    let problems = a.verify().unwrap().problems;
    assert!(
        problems
            .iter()
            .any(|p| p.what.starts_with("record block") && p.what.ends_with("does not decode")),
        "{problems:?}"
    );
    let b0 = BlobId::of(b"b0");
    assert!(matches!(a.record(&b0), Err(Error::CorruptedRecord { id }) if id == b0));
    assert!(a.iter().next().unwrap().is_err());
}

#[test]
fn an_interrupted_reindex_is_finished_at_open() {
    let dir = tempfile::tempdir().unwrap();
    {
        let a = Archive::open(dir.path()).unwrap();
        let batch = (0..5)
            .map(|i| draft(&format!("r{i}"), &["Ann"], &["S"], None))
            .collect();
        a.add_batch(batch, MergePolicy::FillEmpty).unwrap();
        // What reindex leaves when killed after clearing: an empty index list, no chunks, no
        // facets.
        let mut state = a.state_value().unwrap().unwrap();
        state.indexes = String::new();
        poke(&a, keys::STATE_KEY, state.encode());
        for tag in [b'x', b'f'] {
            for k in a.tree.scan_prefix([tag]).map(|kv| kv.map(|(k, _)| k)) {
                unpoke(&a, k.unwrap());
            }
        }
        a.flush().unwrap();
    }
    let a = Archive::open(dir.path()).unwrap();
    assert_eq!(ids(&a, &Query::default()).len(), 5);
    assert_eq!(a.reporters().unwrap()[0].count, 5);
    assert!(a.verify().unwrap().problems.is_empty());
}

#[test]
fn bulk_commits_keep_the_chunks_right() {
    use std::collections::BTreeMap;
    let dir = tempfile::tempdir().unwrap();
    let a = Archive::open(dir.path()).unwrap();
    let reporters = ["Ann", "Bo", "Cy", "Di", "Ed", "Flo", "Gus"];
    let services = ["S1", "S2", "S3"];
    let make = |i: usize| {
        let date = (!i.is_multiple_of(11)).then(|| {
            ArticleDate::from_day(day(1990, 1, 1) + chrono::Days::new((i * 7919 % 4000) as u64))
        });
        draft(
            &format!("body {i}"),
            &[reporters[i % 7], reporters[i * 3 % 7]],
            &[services[i % 3]],
            date,
        )
    };
    let mut model: BTreeMap<&str, u64> = BTreeMap::new();
    let count = |i: usize, model: &mut BTreeMap<&str, u64>, delta: i64| {
        let mut names = vec![reporters[i % 7], reporters[i * 3 % 7]];
        names.dedup();
        for n in names {
            let c = model.entry(n).or_default();
            *c = c.checked_add_signed(delta).unwrap();
        }
    };
    // Two bulk commits (the second touches cached names), a removal and a small add (the
    // general staging and the uncached path), a failed bulk commit, another bulk commit.
    a.add_batch((0..1200).map(make).collect(), MergePolicy::FillEmpty)
        .unwrap();
    (0..1200).for_each(|i| count(i, &mut model, 1));
    a.add_batch((1200..2500).map(make).collect(), MergePolicy::FillEmpty)
        .unwrap();
    (1200..2500).for_each(|i| count(i, &mut model, 1));
    for i in (0..2500).step_by(97) {
        assert!(
            a.remove(&BlobId::of(format!("body {i}").as_bytes()))
                .unwrap()
        );
        count(i, &mut model, -1);
    }
    a.add(make(2500), MergePolicy::FillEmpty).unwrap();
    count(2500, &mut model, 1);
    let bad = BlobId::of(b"body 2501");
    a.add(make(2501), MergePolicy::FillEmpty).unwrap();
    count(2501, &mut model, 1);
    let mut good = Vec::new();
    set_record_bytes(&a, &bad, |old| {
        good = old.to_vec();
        vec![9, 9]
    });
    let failing: Vec<_> = (5000..6100).chain([2501]).map(make).collect();
    assert!(a.add_batch(failing, MergePolicy::FillEmpty).is_err());
    set_record_bytes(&a, &bad, |_| good);
    a.add_batch((2502..4000).map(make).collect(), MergePolicy::FillEmpty)
        .unwrap();
    (2502..4000).for_each(|i| count(i, &mut model, 1));

    // The date index (3,600 entries) and a reporter's (about 1,100) span several chunks.
    let chunks_of = |tag: u8, norm: &str| a.tree.scan_prefix(posting::prefix(tag, norm)).count();
    assert!(chunks_of(crate::keys::DATE_TAG, "") > 4);
    assert!(chunks_of(b'r', "ann") > 1);
    let check = |a: &Archive| {
        let report = a.verify().unwrap();
        assert!(report.problems.is_empty(), "{:?}", report.problems);
        let dated = ids(
            a,
            &Query {
                since: Some(day(1990, 1, 1)),
                ..Query::default()
            },
        );
        let removed = |i: usize| i < 2500 && i.is_multiple_of(97);
        assert_eq!(
            dated.len(),
            (0..4000)
                .filter(|&i: &usize| !i.is_multiple_of(11) && !removed(i))
                .count()
        );
        for (name, n) in &model {
            let q = Query {
                reporter: Some((*name).to_string()),
                ..Query::default()
            };
            assert_eq!(ids(a, &q).len() as u64, *n, "{name}");
        }
    };
    check(&a);
    a.close().unwrap();
    check(&Archive::open(dir.path()).unwrap());
}

#[test]
fn original_pages_are_linked_counted_and_checked() {
    use crate::{Original, pages};
    let dir = tempfile::tempdir().unwrap();
    let a = Archive::open(dir.path().join("a")).unwrap();
    let page = Original {
        bytes: b"<html>\x93\x8c page</html>".to_vec(),
        media_type: "text/html; charset=Shift_JIS".into(),
    };
    let with_page = |body: &str| crate::Draft {
        original: Some(page.clone()),
        ..super::draft(body, &[], &[], None)
    };
    // Two articles from the same page (an extractor that changed): one page, counted twice.
    let first = a
        .add(with_page("one body"), MergePolicy::FillEmpty)
        .unwrap()
        .id();
    let second = a
        .add(with_page("another body"), MergePolicy::FillEmpty)
        .unwrap()
        .id();
    let (reference, bytes) = a.original(&first).unwrap().unwrap();
    assert_eq!(bytes, page.bytes);
    assert_eq!(reference.media_type, page.media_type);
    assert_eq!(a.page_totals().unwrap().0, 1);
    assert_eq!(a.stats().unwrap().articles, 2);
    assert!(a.verify().unwrap().problems.is_empty());
    // The page's id is no article.
    let page_id = BlobId::from_bytes(reference.id);
    assert!(a.record(&page_id).unwrap().is_none());
    assert!(!a.remove(&page_id).unwrap());
    assert!(a.resolve(&page_id.to_string()).is_err());
    // Removing one article keeps the page the other links; removing both drops it.
    assert!(a.remove(&first).unwrap());
    assert_eq!(a.original(&second).unwrap().unwrap().1, page.bytes);
    assert!(a.verify().unwrap().problems.is_empty());
    // reindex rebuilds a lost count.
    let seq = a.store.seq_of(&page_id).unwrap().unwrap();
    super::unpoke(&a, pages::key(seq));
    let problems = a.verify().unwrap().problems;
    assert!(
        problems
            .iter()
            .any(|p| p.what.contains("its count is missing")),
        "{problems:?}"
    );
    a.reindex().unwrap();
    assert!(a.verify().unwrap().problems.is_empty());
    // A page lost behind the archive's back: verify names the article.
    let mut w = a.store.writer();
    w.remove(seq).unwrap();
    w.commit().unwrap();
    let problems = a.verify().unwrap().problems;
    assert!(
        problems
            .iter()
            .any(|p| p.id == Some(second) && p.what.contains("missing")),
        "{problems:?}"
    );
    assert!(matches!(
        a.original(&second),
        Err(crate::Error::MissingOriginal { .. })
    ));
}
