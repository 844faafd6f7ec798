//! Random sequences of add / duplicate / remove / reopen, compared with an in-memory model.

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;

use super::day;
use crate::{
    AddOutcome, Archive, ArticleDate, BlobId, DateOrigin, Draft, MergePolicy, Query, Record,
    normalize,
};

const BODIES: usize = 8;
const REPORTERS: &[&str] = &["Qiao Long", "qiao  LONG", "Ann Lee", "ANN lee ", "Bob", " "];
const SERVICES: &[&str] = &["Mandarin", "MANDARIN", "Khmer", "Uyghur"];

#[derive(Debug, Clone)]
enum Op {
    Add(Vec<(usize, Record)>, MergePolicy),
    Remove(usize),
    Reopen,
}

fn body(i: usize) -> String {
    format!("body number {i}")
}

fn date() -> impl Strategy<Value = Option<ArticleDate>> {
    prop_oneof![
        Just(None),
        (
            19u32..23,
            prop::option::of(prop_oneof![Just(0u32), Just(3600), Just(86_399)])
        )
            .prop_map(|(d, time)| Some(ArticleDate {
                day: day(2017, 6, d),
                time,
                precision: crate::DatePrecision::Day,
            })),
        Just(ArticleDate::month(2017, 6)),
        Just(ArticleDate::year(2017)),
    ]
}

fn record() -> impl Strategy<Value = Record> {
    (
        prop::sample::subsequence(REPORTERS, 0..3),
        prop::sample::subsequence(SERVICES, 0..3),
        date(),
        prop::option::of(prop_oneof![Just("T1"), Just("T2")]),
        prop::option::of(prop_oneof![Just("a"), Just("b")]),
    )
        .prop_map(|(reporters, services, date, title, extra)| Record {
            title: title.unwrap_or_default().to_string(),
            reporters: reporters.iter().map(ToString::to_string).collect(),
            services: services.iter().map(ToString::to_string).collect(),
            date,
            date_origin: date.map(|_| DateOrigin::Parsed),
            imported_at: Some(1),
            extra: extra
                .map(|v| ("k".to_string(), v.to_string()))
                .into_iter()
                .collect(),
            ..Record::default()
        })
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (
            prop::collection::vec((0..BODIES, record()), 1..4),
            prop_oneof![Just(MergePolicy::FillEmpty), Just(MergePolicy::Overwrite)]
        )
            .prop_map(|(v, p)| Op::Add(v, p)),
        2 => (0..BODIES).prop_map(Op::Remove),
        1 => Just(Op::Reopen),
    ]
}

/// Every query worth asking of the model's vocabulary.
fn queries() -> Vec<Query> {
    let mut names: Vec<Option<String>> = vec![None, Some("nobody".into())];
    names.extend(["qiao long", "ANN LEE", "bob"].map(|n| Some(n.to_string())));
    let services: Vec<Option<String>> = vec![
        None,
        Some("mandarin".into()),
        Some("Khmer".into()),
        Some("uyghur".into()),
    ];
    let ranges = [
        (None, None),
        (Some(day(2017, 6, 20)), None),
        (None, Some(day(2017, 6, 20))),
        (Some(day(2017, 6, 20)), Some(day(2017, 6, 21))),
        (Some(day(2017, 6, 22)), Some(day(2017, 6, 19))),
    ];
    let mut out = Vec::new();
    for r in &names {
        for s in &services {
            for (since, until) in ranges {
                out.push(Query {
                    reporter: r.clone(),
                    service: s.clone(),
                    since,
                    until,
                    ..Query::default()
                });
            }
        }
    }
    out
}

fn has(names: &[String], q: &str) -> bool {
    let q = normalize(q);
    !q.is_empty() && names.iter().any(|n| normalize(n) == q)
}

/// The articles matching `q`, newest first; articles of the same date key, the last stored
/// first (`order`: when each was stored).
fn model_query(
    model: &BTreeMap<BlobId, Record>,
    order: &BTreeMap<BlobId, u64>,
    q: &Query,
) -> Vec<BlobId> {
    let mut hits: Vec<(&BlobId, &Record)> = model
        .iter()
        .filter(|(_, r)| q.reporter.as_deref().is_none_or(|n| has(&r.reporters, n)))
        .filter(|(_, r)| q.service.as_deref().is_none_or(|n| has(&r.services, n)))
        .filter(
            |(_, r)| match (q.since.is_some() || q.until.is_some(), r.date) {
                (false, _) => true,
                (true, None) => false,
                (true, Some(d)) => {
                    q.since.is_none_or(|s| d.day >= s) && q.until.is_none_or(|u| d.day <= u)
                }
            },
        )
        .collect();
    let key = |(id, r): &(&BlobId, &Record)| (crate::keys::date_key(r.date), order[*id]);
    hits.sort_by_key(|h| std::cmp::Reverse(key(h)));
    hits.into_iter().map(|(id, _)| *id).collect()
}

fn model_facets(
    model: &BTreeMap<BlobId, Record>,
    f: fn(&Record) -> &Vec<String>,
) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    for r in model.values() {
        let set: BTreeSet<String> = f(r)
            .iter()
            .map(|n| normalize(n))
            .filter(|n| !n.is_empty())
            .collect();
        for n in set {
            *out.entry(n).or_default() += 1;
        }
    }
    out
}

fn facets(list: Vec<crate::Facet>) -> BTreeMap<String, u64> {
    list.into_iter()
        .map(|f| (normalize(&f.name), f.count))
        .collect()
}

/// What a duplicate's draft `draft` does to the stored record under `policy`, written out
/// here for the fields [`record`] generates (not with `Record::merge`, which is under test):
/// `FillEmpty` fills a field only where the stored one is empty, `Overwrite` replaces it with
/// any non-empty draft value; an `extra` key is added when missing, replaced (`Overwrite`) when
/// different. Returns the names of the fields that changed, in the record's field order.
fn model_merge(stored: &mut Record, draft: &Record, policy: MergePolicy) -> Vec<&'static str> {
    // Every other field is empty in both: the generator sets only these.
    let generated = Record {
        title: draft.title.clone(),
        reporters: draft.reporters.clone(),
        services: draft.services.clone(),
        date: draft.date,
        date_origin: draft.date_origin,
        imported_at: draft.imported_at,
        extra: draft.extra.clone(),
        ..Record::default()
    };
    assert_eq!(
        &generated, draft,
        "the model merges only the generated fields"
    );
    let overwrite = policy == MergePolicy::Overwrite;
    let mut changed = Vec::new();
    if !draft.title.is_empty()
        && draft.title != stored.title
        && (stored.title.is_empty() || overwrite)
    {
        stored.title.clone_from(&draft.title);
        changed.push("title");
    }
    if !draft.reporters.is_empty()
        && draft.reporters != stored.reporters
        && (stored.reporters.is_empty() || overwrite)
    {
        stored.reporters.clone_from(&draft.reporters);
        changed.push("reporters");
    }
    if !draft.services.is_empty()
        && draft.services != stored.services
        && (stored.services.is_empty() || overwrite)
    {
        stored.services.clone_from(&draft.services);
        changed.push("services");
    }
    if draft.date.is_some() && draft.date != stored.date && (stored.date.is_none() || overwrite) {
        // The generator's origin is always `Parsed`.
        stored.date = draft.date;
        stored.date_origin = draft.date_origin;
        changed.push("date");
    }
    let mut extra_changed = false;
    for (key, value) in &draft.extra {
        let replace = match stored.extra.get(key) {
            None => true,
            Some(old) => overwrite && old != value,
        };
        if replace {
            stored.extra.insert(key.clone(), value.clone());
            extra_changed = true;
        }
    }
    if extra_changed {
        changed.push("extra");
    }
    changed
}

fn check(
    archive: &Archive,
    model: &BTreeMap<BlobId, Record>,
    order: &BTreeMap<BlobId, u64>,
) -> Result<(), TestCaseError> {
    for q in queries() {
        let expected = model_query(model, order, &q);
        let got: Vec<BlobId> = archive.query(&q).unwrap().map(|h| h.unwrap().id).collect();
        prop_assert_eq!(&got, &expected, "query {:?}", q);
        // The same list, two at a time through cursors.
        let mut paged = Vec::new();
        let mut after = None;
        loop {
            let page = Query {
                limit: Some(2),
                after,
                ..q.clone()
            };
            let hits: Vec<_> = archive.query(&page).unwrap().map(Result::unwrap).collect();
            prop_assert!(hits.len() <= 2);
            let Some(last) = hits.last() else { break };
            after = Some(last.cursor);
            paged.extend(hits.iter().map(|h| h.id));
        }
        prop_assert_eq!(&paged, &expected, "paged {:?}", q);
    }
    for (id, r) in model {
        prop_assert_eq!(archive.record(id).unwrap(), Some(r.clone()));
    }
    prop_assert_eq!(
        facets(archive.reporters().unwrap()),
        model_facets(model, |r| &r.reporters)
    );
    prop_assert_eq!(
        facets(archive.services().unwrap()),
        model_facets(model, |r| &r.services)
    );
    let stats = archive.stats().unwrap();
    prop_assert_eq!(stats.articles, model.len() as u64);
    prop_assert_eq!(
        stats.raw_bytes,
        model.keys().map(|_| body(0).len() as u64).sum::<u64>()
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn archive_matches_model(ops in prop::collection::vec(op(), 1..16)) {
        let dir = tempfile::tempdir().unwrap();
        let mut archive = Archive::open(dir.path()).unwrap();
        let mut model: BTreeMap<BlobId, Record> = BTreeMap::new();
        let mut order: BTreeMap<BlobId, u64> = BTreeMap::new();
        let mut stored = 0u64;
        for op in ops {
            match op {
                Op::Add(drafts, policy) => {
                    let mut expected = Vec::new();
                    for (i, r) in &drafts {
                        let id = BlobId::of(body(*i).as_bytes());
                        if let Some(stored) = model.get_mut(&id) {
                            let filled = model_merge(stored, r, policy);
                            expected.push(AddOutcome::Duplicate { id, filled });
                        } else {
                            model.insert(id, r.clone());
                            order.insert(id, stored);
                            stored += 1;
                            expected.push(AddOutcome::Added { id });
                        }
                    }
                    let drafts = drafts.into_iter().map(|(i, record)| Draft { body: body(i), record, original: None }).collect();
                    prop_assert_eq!(archive.add_batch(drafts, policy).unwrap(), expected);
                }
                Op::Remove(i) => {
                    let id = BlobId::of(body(i).as_bytes());
                    prop_assert_eq!(archive.remove(&id).unwrap(), model.remove(&id).is_some());
                }
                Op::Reopen => {
                    drop(archive);
                    archive = Archive::open(dir.path()).unwrap();
                }
            }
            check(&archive, &model, &order)?;
        }
        let report = archive.verify().unwrap();
        prop_assert!(report.problems.is_empty(), "{:?}", report.problems);
        prop_assert_eq!(report.articles, model.len() as u64);
    }
}
