//! Format-2 specifics seen through the public API: chunk splits and re-keys across commits,
//! per-draft preparation errors, cursors through their text form, optimize.

use std::collections::BTreeMap;

use super::{day, draft};
use crate::{
    AddOutcome, Archive, ArticleDate, BlobId, Cursor, Draft, Error, MergePolicy, Query, keys,
    posting,
};

/// Article `i` of one reporter and one service: a date among 60 days (some with a time).
fn article(i: u32) -> Draft {
    let d = ArticleDate {
        day: day(2010, 1, 1) + chrono::Days::new(u64::from((i * 7919) % 60)),
        time: i.is_multiple_of(3).then_some(i % 86_400),
        precision: crate::DatePrecision::Day,
    };
    let mut a = draft(&format!("article {i}"), &["Ann Lee"], &["Desk"], Some(d));
    if i.is_multiple_of(5) {
        a.record.reporters.push("Bob".into());
    }
    a
}

/// Newest first: (date key, order stored) descending.
fn expected(model: &BTreeMap<BlobId, (u64, u32)>, keep: impl Fn(u64) -> bool) -> Vec<BlobId> {
    let mut v: Vec<(&BlobId, &(u64, u32))> =
        model.iter().filter(|(_, (dk, _))| keep(*dk)).collect();
    v.sort_by_key(|(_, pos)| std::cmp::Reverse(**pos));
    v.into_iter().map(|(id, _)| *id).collect()
}

fn ids(a: &Archive, q: &Query) -> Vec<BlobId> {
    a.query(q).unwrap().map(|h| h.unwrap().id).collect()
}

#[test]
fn chunks_split_and_shrink_across_commits() {
    let dir = tempfile::tempdir().unwrap();
    let a = Archive::open(dir.path()).unwrap();
    let mut model: BTreeMap<BlobId, (u64, u32)> = BTreeMap::new();
    let mut order = 0;
    // Descending article numbers put ever earlier dates first: re-keys as well as splits.
    for batch in [(900..1300).rev().collect::<Vec<u32>>(), (0..900).collect()] {
        for part in batch.chunks(450) {
            let drafts: Vec<Draft> = part.iter().map(|&i| article(i)).collect();
            for d in &drafts {
                let dk = keys::date_key(d.record.date);
                model.insert(BlobId::of(d.body.as_bytes()), (dk, order));
                order += 1;
            }
            let out = a.add_batch(drafts, MergePolicy::FillEmpty).unwrap();
            assert!(out.iter().all(|o| matches!(o, AddOutcome::Added { .. })));
        }
    }
    let chunks = a.tree.scan_prefix(posting::prefix(b'r', "ann lee")).count();
    assert!(chunks >= 3, "{chunks} chunks for 1,300 entries");
    let report = a.verify().unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    assert_eq!(report.index_entries, 1300 * 3 + 260);

    // Remove a third, in one batch of removes each its own commit.
    for i in (0..1300).step_by(3) {
        let id = BlobId::of(format!("article {i}").as_bytes());
        assert!(a.remove(&id).unwrap());
        model.remove(&id);
    }
    let report = a.verify().unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);

    let all = expected(&model, |_| true);
    assert_eq!(ids(&a, &Query::default()), all);
    // Export order: the order articles were first stored.
    let mut stored: Vec<(u32, BlobId)> = model.iter().map(|(id, (_, o))| (*o, *id)).collect();
    stored.sort();
    let exported: Vec<BlobId> = a.iter().map(|r| r.unwrap().0).collect();
    assert_eq!(
        exported,
        stored.into_iter().map(|(_, id)| id).collect::<Vec<_>>()
    );
    let q = Query {
        reporter: Some("ann lee".into()),
        service: Some("DESK".into()),
        ..Query::default()
    };
    assert_eq!(ids(&a, &q), all);
    // Bob: every fifth article; checked against the record when Desk drives.
    let q = Query {
        reporter: Some("bob".into()),
        ..Query::default()
    };
    let bobs: Vec<BlobId> = all
        .iter()
        .filter(|id| a.record(id).unwrap().unwrap().reporters.len() == 2)
        .copied()
        .collect();
    assert_eq!(ids(&a, &q), bobs);

    // A date range visits only its own entries, on the date index and on a name.
    let (since, until) = (day(2010, 1, 10), day(2010, 1, 20));
    let inside = |dk: u64| dk >= keys::day_key(since) && dk < keys::day_key(day(2010, 1, 21));
    let want = expected(&model, inside);
    assert!(want.len() > 100);
    for reporter in [None, Some("Ann Lee".to_string())] {
        let q = Query {
            since: Some(since),
            until: Some(until),
            reporter,
            ..Query::default()
        };
        let mut hits = a.query(&q).unwrap();
        let got: Vec<BlobId> = hits.by_ref().map(|h| h.unwrap().id).collect();
        assert_eq!(got, want);
        assert_eq!(hits.visited(), want.len() as u64, "{:?}", hits.index());
    }

    // Paging through the text form of cursors, with the last hit of a page removed between
    // pages: nothing is skipped.
    let mut after: Option<Cursor> = None;
    let mut paged: Vec<BlobId> = Vec::new();
    let mut removed = Vec::new();
    loop {
        let q = Query {
            limit: Some(97),
            after,
            ..Query::default()
        };
        let hits: Vec<_> = a.query(&q).unwrap().map(Result::unwrap).collect();
        let Some(last) = hits.last() else { break };
        after = Some(last.cursor.to_string().parse().unwrap());
        for h in &hits {
            if !paged.contains(&h.id) {
                paged.push(h.id);
            }
        }
        if removed.len() < 3 {
            assert!(a.remove(&last.id).unwrap());
            removed.push(last.id);
        }
    }
    assert_eq!(paged, all);
    assert_eq!(
        a.stats().unwrap().articles,
        (all.len() - removed.len()) as u64
    );
    assert!(a.verify().unwrap().problems.is_empty());
}

#[test]
fn prepare_batch_fails_per_draft() {
    let dir = tempfile::tempdir().unwrap();
    let a = Archive::open(dir.path()).unwrap();
    let late = ArticleDate {
        day: day(2020, 1, 1),
        time: Some(86_400),
        precision: crate::DatePrecision::Day,
    };
    let drafts = vec![
        draft("good one", &["Ann"], &["Khmer"], None),
        draft("", &["Ann"], &[], None),
        draft("bad time", &[], &[], Some(late)),
        draft("good two", &[], &[], None),
    ];
    let out = a.prepare_batch(drafts).unwrap();
    assert_eq!(out.len(), 4);
    assert!(matches!(out[1], Err(Error::EmptyBody)));
    assert!(matches!(out[2], Err(Error::InvalidRecord(_))));
    let ok: Vec<_> = out.into_iter().filter_map(Result::ok).collect();
    assert_eq!(ok[0].id(), BlobId::of(b"good one"));
    assert_eq!(ok[1].id(), BlobId::of(b"good two"));
    let outcomes = a.commit(ok, MergePolicy::FillEmpty).unwrap();
    assert_eq!(outcomes.len(), 2);
    assert_eq!(a.stats().unwrap().articles, 2);
    assert!(a.prepare_batch(Vec::new()).unwrap().is_empty());
}

#[test]
fn a_batch_with_its_own_duplicates_and_optimize() {
    let dir = tempfile::tempdir().unwrap();
    let a = Archive::open(dir.path()).unwrap();
    let mut second = draft("same body", &[], &["Desk"], None);
    second.record.title = String::new();
    second.record.url = "https://example.invalid/x".into();
    let out = a
        .add_batch(
            vec![draft("same body", &["Ann"], &[], None), second],
            MergePolicy::FillEmpty,
        )
        .unwrap();
    let id = BlobId::of(b"same body");
    assert_eq!(
        out,
        [
            AddOutcome::Added { id },
            AddOutcome::Duplicate {
                id,
                filled: vec!["services", "url"]
            }
        ]
    );
    let q = Query {
        service: Some("desk".into()),
        ..Query::default()
    };
    assert_eq!(ids(&a, &q), [id]);
    let mut calls = 0;
    a.optimize(&mut |_| calls += 1).unwrap();
    assert_eq!(a.body(&id).unwrap().unwrap(), b"same body");
    assert_eq!(ids(&a, &q), [id]);
    assert!(a.verify().unwrap().problems.is_empty());
}

mod hostile {
    use proptest::prelude::*;

    use super::super::{draft, poke};
    use crate::block::{self, Block};
    use crate::{Archive, MergePolicy, Query, keys, posting};

    proptest! {
        #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

        /// Arbitrary bytes where a damaged disk would put them — a record block, the record
        /// bytes of a slot, a posting chunk, a facet, the state — never make a read panic.
        #[test]
        fn damaged_values_never_panic(
            raw in prop::collection::vec(any::<u8>(), 0..300),
            record in prop::collection::vec(any::<u8>(), 0..120),
            chunk in prop::collection::vec(any::<u8>(), 0..80),
            facet in prop::collection::vec(any::<u8>(), 0..20),
            state in prop::collection::vec(any::<u8>(), 0..40),
        ) {
            let dir = tempfile::tempdir().unwrap();
            let a = Archive::open(dir.path()).unwrap();
            let batch = (0..3)
                .map(|i| draft(&format!("real {i}"), &["Ann"], &["S"], None))
                .collect();
            a.add_batch(batch, MergePolicy::FillEmpty).unwrap();
            // Block 1: seqs without bodies; block 0: slot 1's record bytes replaced.
            poke(&a, block::key(1), raw);
            let mut b0 = Block::decode(&a.tree.get(block::key(0)).unwrap().unwrap()).unwrap();
            b0.set(1, Some(record));
            poke(&a, block::key(0), b0.encode());
            poke(&a, posting::key(&posting::prefix(b'r', "zed"), (0, 2)), chunk);
            poke(&a, keys::facet_key(b'r', "zed"), facet);
            a.blocks.clear();
            let _ = a.iter().count();
            let _ = a.query(&Query::default()).map(Iterator::count);
            let q = Query { reporter: Some("zed".into()), ..Query::default() };
            let _ = a.query(&q).map(Iterator::count);
            let _ = a.reporters();
            let _ = a.stats();
            prop_assert!(a.verify().is_ok());
            poke(&a, keys::STATE_KEY, state);
            prop_assert!(a.verify().is_ok());
            let _ = a.stats();
            prop_assert!(a.reindex().is_ok());
        }
    }
}
