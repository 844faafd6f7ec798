//! The full-text index kept in step with the archive.

use super::{day, draft};
use crate::{
    Archive, ArticleDate, BlobId, Error, MergePolicy, OpenOptions, SearchCursor, SearchOptions,
    SearchOrder, TextQuery,
};

fn found(a: &Archive, q: &str) -> Vec<BlobId> {
    found_with(a, q, &SearchOptions::default())
}

fn found_with(a: &Archive, q: &str, options: &SearchOptions) -> Vec<BlobId> {
    a.search(&TextQuery::parse(q).unwrap(), options)
        .unwrap()
        .into_iter()
        .map(|h| h.id)
        .collect()
}

/// Every hit of `options` (no limit), read in pages of `page` hits, each page after the cursor
/// of the last hit of the page before, through its text form.
fn paged(a: &Archive, q: &str, options: &SearchOptions, page: usize) -> Vec<BlobId> {
    let query = TextQuery::parse(q).unwrap();
    let mut all = Vec::new();
    let mut after = None;
    // Pages that never end (a cursor not heeded) end the test, not hang it.
    let most = a.search(&query, options).unwrap().len() / page + 2;
    for _ in 0..most {
        let options = SearchOptions {
            limit: Some(page),
            after,
            ..options.clone()
        };
        let hits = a.search(&query, &options).unwrap();
        all.extend(hits.iter().map(|h| h.id));
        match hits.last() {
            Some(last) if hits.len() == page => {
                let text = last.cursor(options.order).to_string();
                after = Some(text.parse::<SearchCursor>().unwrap());
            }
            _ => return all,
        }
    }
    all
}

/// Adds `body` by Ann of Wire, dated `date`.
fn add_on(a: &Archive, body: &str, date: chrono::NaiveDate) -> BlobId {
    let date = Some(ArticleDate::from_day(date));
    a.add(
        draft(body, &["Ann"], &["Wire"], date),
        MergePolicy::FillEmpty,
    )
    .unwrap()
    .id()
}

fn add(a: &Archive, body: &str, reporter: &str, year: i32) -> BlobId {
    a.add(
        draft(
            body,
            &[reporter],
            &["S"],
            Some(ArticleDate::from_day(day(year, 1, 1))),
        ),
        MergePolicy::FillEmpty,
    )
    .unwrap()
    .id()
}

#[test]
fn durable_articles_are_found_and_removed_ones_are_not() {
    let dir = tempfile::tempdir().unwrap();
    let a = Archive::open(dir.path()).unwrap();
    let x = add(&a, "Vávra spoke about the 水电站", "Ann", 2001);
    // Not durable yet: not indexed (the index is never ahead of the archive).
    assert!(found(&a, "vavra").is_empty());
    a.flush().unwrap();
    assert_eq!(found(&a, "vavra"), [x]);
    assert_eq!(found(&a, "水电站"), [x]);
    let y = add(&a, "Vavra again, in the title too", "Bob", 2002);
    a.flush().unwrap();
    assert_eq!(found(&a, "vavra").len(), 2);
    assert!(a.remove(&x).unwrap());
    a.flush().unwrap();
    assert_eq!(found(&a, "vavra"), [y]);
    assert!(a.verify().unwrap().problems.is_empty());
    a.close().unwrap();
    let a = Archive::open_with(
        dir.path(),
        &OpenOptions {
            create: false,
            ..OpenOptions::default()
        },
    )
    .unwrap();
    assert_eq!(found(&a, "vavra"), [y]);
}

#[test]
fn filters_and_orders() {
    let dir = tempfile::tempdir().unwrap();
    let a = Archive::open(dir.path()).unwrap();
    let old = add(&a, "oil oil oil price", "Ann", 1987);
    let new = add(&a, "oil price", "Bob", 1999);
    a.flush().unwrap();
    assert_eq!(found(&a, "oil"), [old, new], "denser first");
    let by_date = SearchOptions {
        order: SearchOrder::Date,
        ..SearchOptions::default()
    };
    assert_eq!(found_with(&a, "oil", &by_date), [new, old]);
    let bob = SearchOptions {
        reporter: Some("BOB".into()),
        ..SearchOptions::default()
    };
    assert_eq!(found_with(&a, "oil", &bob), [new]);
    let eighties = SearchOptions {
        since: Some(day(1987, 1, 1)),
        until: Some(day(1987, 12, 31)),
        ..SearchOptions::default()
    };
    assert_eq!(found_with(&a, "price", &eighties), [old]);
    let one = SearchOptions {
        limit: Some(1),
        ..SearchOptions::default()
    };
    assert_eq!(found_with(&a, "oil", &one), [old]);
    let hits = a.search_str("oil", &SearchOptions::default()).unwrap();
    assert!(hits[0].score > hits[1].score);
    assert!(matches!(
        a.search_str("\"oil", &SearchOptions::default()),
        Err(Error::Text(_))
    ));
    let s = a
        .snippet(&TextQuery::parse("price").unwrap(), &new, 100)
        .unwrap();
    assert_eq!(s.marked("[", "]"), "oil [price]");
}

#[test]
fn a_crash_before_the_index_commit_is_caught_up_at_the_next_open() {
    let dir = tempfile::tempdir().unwrap();
    let (x, y);
    {
        let a = Archive::open(dir.path()).unwrap();
        x = add(&a, "first story", "Ann", 2001);
        a.flush().unwrap();
        y = add(&a, "second story", "Ann", 2001);
        assert!(a.remove(&x).unwrap());
        // Durable, but the process dies before the text index hears of it.
        a.flush_store().unwrap();
    }
    let a = Archive::open(dir.path()).unwrap();
    assert_eq!(found(&a, "story"), [y]);
    assert!(a.verify().unwrap().problems.is_empty());
}

#[test]
fn an_archive_of_no_article_without_an_index_finds_nothing() {
    let dir = tempfile::tempdir().unwrap();
    Archive::open(dir.path()).unwrap().close().unwrap();
    std::fs::remove_dir_all(dir.path().join(crate::TEXT_DIR)).unwrap();
    let read = OpenOptions {
        create: false,
        ..OpenOptions::default()
    };
    let a = Archive::open_with(dir.path(), &read).unwrap();
    let hits = a.search_str("story", &SearchOptions::default()).unwrap();
    assert!(hits.is_empty());
}

#[test]
fn a_read_open_of_an_archive_without_an_index_says_how_to_build_it() {
    let dir = tempfile::tempdir().unwrap();
    let a = Archive::open(dir.path()).unwrap();
    let x = add(&a, "a story", "Ann", 2001);
    a.close().unwrap();
    std::fs::remove_dir_all(dir.path().join(crate::TEXT_DIR)).unwrap();
    let read = OpenOptions {
        create: false,
        ..OpenOptions::default()
    };
    let a = Archive::open_with(dir.path(), &read).unwrap();
    let err = a
        .search_str("story", &SearchOptions::default())
        .unwrap_err();
    assert!(matches!(err, Error::NoTextIndex { .. }));
    assert!(err.to_string().contains("morgue reindex"), "{err}");
    let problems = a.verify().unwrap().problems;
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].what.contains("text index"), "{problems:?}");
    let sync = a.rebuild_text(&mut |_, _| {}).unwrap();
    assert_eq!((sync.added, sync.built), (1, true));
    assert_eq!(found(&a, "story"), [x]);
    a.optimize_text().unwrap();
    assert_eq!(found(&a, "story"), [x]);
    a.close().unwrap();
    // A write open builds a missing index by itself.
    std::fs::remove_dir_all(dir.path().join(crate::TEXT_DIR)).unwrap();
    let a = Archive::open(dir.path()).unwrap();
    assert_eq!(found(&a, "story"), [x]);
}

#[test]
fn a_write_open_reports_the_progress_of_a_first_build_only() {
    let dir = tempfile::tempdir().unwrap();
    let mut calls = Vec::new();
    let a = Archive::open_with_progress(dir.path(), &OpenOptions::default(), &mut |d, t| {
        calls.push((d, t));
    })
    .unwrap();
    // A new archive: the build of its empty index has nothing to report.
    assert!(calls.iter().all(|&(_, total)| total == 0), "{calls:?}");
    let ids: Vec<BlobId> = (0..1500)
        .map(|n| add(&a, &format!("story number {n}"), "Ann", 2001))
        .collect();
    a.close().unwrap();
    std::fs::remove_dir_all(dir.path().join(crate::TEXT_DIR)).unwrap();
    calls.clear();
    let a = Archive::open_with_progress(dir.path(), &OpenOptions::default(), &mut |d, t| {
        calls.push((d, t));
    })
    .unwrap();
    // Reported as it goes (every 1,000 articles) and at the end, against the article count.
    assert_eq!(calls, [(1000, 1500), (1500, 1500)]);
    assert_eq!(found(&a, "story").len(), ids.len());
    a.close().unwrap();
    // The index is there now: the next open has nothing to build.
    calls.clear();
    let a = Archive::open_with_progress(dir.path(), &OpenOptions::default(), &mut |d, t| {
        calls.push((d, t));
    })
    .unwrap();
    assert!(calls.is_empty(), "{calls:?}");
    assert_eq!(found(&a, "number 1499"), [ids[1499]]);
}

#[test]
fn verify_finds_an_article_missing_from_the_index_and_a_stray_document() {
    let dir = tempfile::tempdir().unwrap();
    let a = Archive::open(dir.path()).unwrap();
    add(&a, "one", "Ann", 2001);
    add(&a, "two", "Ann", 2001);
    a.flush().unwrap();
    {
        // Damage the index behind the archive's back: drop seq 0, add seq 99, same count.
        let state = a.text_state();
        let index = state.writer.as_ref().unwrap();
        index.delete(0).unwrap();
        index.add(99, "stray", "stray").unwrap();
        index.commit(2).unwrap();
    }
    let problems: Vec<String> = a.verify_text().unwrap().into_iter().collect();
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(
        problems.iter().any(|p| p.contains("not in the text index")),
        "{problems:?}"
    );
    assert!(
        problems.iter().any(|p| p.contains("seq 99")),
        "{problems:?}"
    );
    a.rebuild_text(&mut |_, _| {}).unwrap();
    assert!(a.verify().unwrap().problems.is_empty());
}

#[test]
fn a_duplicate_that_fills_the_title_is_reindexed() {
    let dir = tempfile::tempdir().unwrap();
    let a = Archive::open(dir.path()).unwrap();
    let mut d = draft("the body", &[], &[], None);
    d.record.title = String::new();
    let id = a.add(d.clone(), MergePolicy::FillEmpty).unwrap().id();
    a.flush().unwrap();
    assert!(found(&a, "title:headline").is_empty());
    d.record.title = "Headline".into();
    a.add(d, MergePolicy::FillEmpty).unwrap();
    a.flush().unwrap();
    assert_eq!(found(&a, "title:headline"), [id]);
    assert!(a.verify().unwrap().problems.is_empty());
}

/// Imports ten stories, `story numberI common`, with `options`; `on_durable` runs at each
/// acknowledgement of a commit.
fn import_ten(
    a: &Archive,
    options: &crate::import::ImportOptions,
    mut on_durable: impl FnMut() + Send,
) {
    use crate::import::{Event, Item, Parsed, Source};
    use std::sync::Arc;
    a.import(
        options,
        |feed| {
            for i in 0..10 {
                let source = Source {
                    path: Arc::from("f"),
                    line: Some(i),
                    seq: 0,
                };
                let draft = draft(&format!("story number{i} common"), &[], &[], None);
                let parsed = Parsed {
                    draft,
                    warnings: Vec::new(),
                };
                assert!(feed.push(Item::Parsed(source, Box::new(parsed))));
            }
        },
        |event| {
            if let Event::Durable { .. } = event {
                on_durable();
            }
        },
    )
    .unwrap();
}

/// Commits of at most two articles each, the text index committed as `text_commit_*` say.
fn small_commits(articles: u64, time: std::time::Duration) -> crate::import::ImportOptions {
    crate::import::ImportOptions {
        batch_articles: 2,
        commit_min: 1,
        prepare_articles: 1,
        text_commit_articles: articles,
        text_commit_time: time,
        ..crate::import::ImportOptions::default()
    }
}

/// What the text index's last commit covers, as another process would read it.
fn text_covered(a: &Archive) -> Option<u64> {
    match morgue_text::TextIndex::open(&a.text_dir()) {
        Ok(index) => index.covered().unwrap(),
        Err(morgue_text::Error::Missing { .. }) => None,
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn an_import_is_searchable_when_it_returns() {
    use crate::import::ImportOptions;
    let dir = tempfile::tempdir().unwrap();
    let a = Archive::open(dir.path()).unwrap();
    let options = ImportOptions {
        batch_articles: 3,
        commit_min: 1,
        prepare_articles: 2,
        ..ImportOptions::default()
    };
    import_ten(&a, &options, || {});
    assert_eq!(text_covered(&a), Some(10));
    assert_eq!(found(&a, "common").len(), 10);
    assert_eq!(found(&a, "number7").len(), 1);
    assert!(a.verify().unwrap().problems.is_empty());
}

#[test]
fn an_import_commits_the_text_index_every_so_many_articles() {
    use std::time::Duration;
    let dir = tempfile::tempdir().unwrap();
    let a = Archive::open(dir.path()).unwrap();
    // Seen at each acknowledgement: what the index's last commit covers.
    let mut seen = Vec::new();
    import_ten(&a, &small_commits(4, Duration::from_secs(3600)), || {
        seen.push(text_covered(&a));
    });
    assert!(seen.len() >= 5, "commits of two articles at most: {seen:?}");
    // Never committed for fewer than 4 articles: only after 4 of them, then 4 more.
    let committed: Vec<u64> = seen.iter().flatten().copied().collect();
    assert!(
        committed
            .windows(2)
            .all(|w| w[0] == w[1] || w[1] >= w[0] + 4),
        "{seen:?}"
    );
    assert!(committed.iter().all(|&c| c == 0 || c >= 4), "{seen:?}");
    assert!(
        committed.iter().any(|&c| c >= 4),
        "committed during the import: {seen:?}"
    );
    // The end of the import commits the rest.
    assert_eq!(text_covered(&a), Some(10));
    assert_eq!(found(&a, "common").len(), 10);

    // With no time to wait, every sync commits: the commit acknowledged before is searchable
    // by the next acknowledgement.
    let dir = tempfile::tempdir().unwrap();
    let a = Archive::open(dir.path()).unwrap();
    let mut seen = Vec::new();
    import_ten(&a, &small_commits(u64::MAX, Duration::ZERO), || {
        seen.push(text_covered(&a));
    });
    let last = seen.last().copied().flatten();
    assert!(last.is_some_and(|c| (1..10).contains(&c)), "{seen:?}");
    assert_eq!(text_covered(&a), Some(10));
}

#[test]
fn what_a_sync_indexed_but_did_not_commit_is_indexed_again_after_a_crash() {
    use crate::text::TextCommit;
    use std::time::Duration;
    let later = TextCommit::When {
        docs: u64::MAX,
        after: Duration::from_secs(3600),
    };
    let dir = tempfile::tempdir().unwrap();
    let a = Archive::open(dir.path()).unwrap();
    add(&a, "first story", "Ann", 2001);
    a.flush().unwrap();
    assert_eq!(text_covered(&a), Some(1));
    for i in 0..3 {
        add(&a, &format!("later story number{i}"), "Ann", 2001);
        a.flush_store().unwrap();
        let sync = a.sync_text_when(&mut |_, _| {}, later).unwrap();
        assert_eq!(sync.added, 1);
    }
    // Indexed, not committed: not searchable, and not what the index says it covers.
    assert_eq!(text_covered(&a), Some(1));
    assert_eq!(found(&a, "story").len(), 1);
    // As if the process died here: the handle is dropped, not closed.
    drop(a);
    let a = Archive::open(dir.path()).unwrap();
    // Opening for writing catches up from the last commit, each article once.
    assert_eq!(text_covered(&a), Some(4));
    assert_eq!(
        a.sync_text(&mut |_, _| {}).unwrap(),
        crate::TextSync::default()
    );
    assert_eq!(found(&a, "story").len(), 4);
    assert!(a.verify().unwrap().problems.is_empty());

    // Without a crash, a sync that commits commits what the ones before left.
    add(&a, "story five", "Ann", 2001);
    a.flush_store().unwrap();
    a.sync_text_when(&mut |_, _| {}, later).unwrap();
    assert_eq!(found(&a, "story").len(), 4);
    let sync = a.sync_text(&mut |_, _| {}).unwrap();
    assert_eq!(sync.added, 0);
    assert_eq!(text_covered(&a), Some(5));
    assert_eq!(found(&a, "story").len(), 5);
    assert!(a.verify().unwrap().problems.is_empty());
}

#[test]
fn a_limited_search_asks_again_when_hits_are_gone() {
    let dir = tempfile::tempdir().unwrap();
    let a = Archive::open(dir.path()).unwrap();
    let mut ids = Vec::new();
    for i in 0..6 {
        ids.push(add(&a, &format!("oil report number {i}"), "Ann", 2001));
    }
    a.flush().unwrap();
    {
        // Documents of no article that rank above every article (as a removed article's would
        // if the index lagged): the best 3 the index returns are all gone.
        let state = a.text_state();
        let index = state.writer.as_ref().unwrap();
        for seq in 100..105 {
            index.add(seq, "oil oil", "oil oil oil").unwrap();
        }
        index.commit(6).unwrap();
    }
    let all = found(&a, "oil");
    assert_eq!(all.len(), 6);
    for limit in [1, 3, 6, 10] {
        let options = SearchOptions {
            limit: Some(limit),
            ..SearchOptions::default()
        };
        assert_eq!(
            found_with(&a, "oil", &options),
            all[..limit.min(6)],
            "limit {limit}"
        );
    }
}

/// A search filtered by a name that few articles carry picks its hits by that name's posting
/// chunks; by one that more articles carry than there are hits, by the hits' records; in date
/// order, many hits are taken from a walk of the date index. Every way, the hits are the
/// unfiltered hits that pass the filters, in the same order.
#[test]
fn filtered_searches_are_the_unfiltered_hits_that_pass() {
    let dir = tempfile::tempdir().unwrap();
    let a = Archive::open(dir.path()).unwrap();
    let reporters = ["Ann", "Bob", "Cy", "Rare"];
    let mut ids = Vec::new();
    for i in 0..1_040u32 {
        // Rare on one article in 27; the others in turn. Dates all distinct, not in seq order.
        let reporter = if i % 27 == 5 {
            "Rare"
        } else {
            reporters[(i % 3) as usize]
        };
        let service = if i % 2 == 0 { "Wire" } else { "Desk" };
        let date = chrono::NaiveDate::from_ymd_opt(1985, 1, 1).unwrap()
            + chrono::Days::new(u64::from((i * 37) % 1_040) * 3);
        let body = if i < 240 {
            format!(
                "{} report {i}{}",
                "oil ".repeat(1 + (i % 5) as usize),
                match i {
                    7 => " unique",
                    _ if i % 40 == 0 => " scarce",
                    _ => "",
                }
            )
        } else {
            format!("filler {i}")
        };
        // The five oldest articles: a walk of the date index meets them last.
        let body = if (i * 37) % 1_040 < 5 {
            body + " ancient"
        } else {
            body
        };
        let id = a
            .add(
                draft(
                    &body,
                    &[reporter],
                    &[service],
                    Some(ArticleDate::from_day(date)),
                ),
                MergePolicy::FillEmpty,
            )
            .unwrap()
            .id();
        ids.push(id);
    }
    // One article without a date: last in date order, outside every date range.
    a.add(
        draft("oil undated scarce", &["Rare"], &["Wire"], None),
        MergePolicy::FillEmpty,
    )
    .unwrap();
    a.flush().unwrap();
    // A removed article of the rare reporter is found by no filter.
    assert!(a.remove(&ids[5]).unwrap());
    a.flush().unwrap();
    let every = |q: &str| {
        a.search_str(q, &SearchOptions::default())
            .unwrap()
            .into_iter()
            .map(|h| (h.id, h.record))
            .collect::<Vec<_>>()
    };
    // Hits in date order, with a limit: "oil" and "scarce" by a walk of the date index;
    // "unique" (one hit) by the hits' records; "ancient" by a walk given up (the hits are the
    // oldest) and then the records. Without a limit, one at a time: best first as the index
    // ranks them; in date order "oil", "scarce" and "oil -scarce" by a walk of the date index
    // (hits at least one in 200 articles), "unique" and "ancient" by their records, sorted.
    for q in ["oil", "scarce", "oil -scarce", "unique", "ancient"] {
        let all = every(q);
        for reporter in [None, Some("rare"), Some("ANN")] {
            for service in [None, Some("wire")] {
                for (since, until) in [
                    (None, None),
                    (Some(day(1987, 6, 1)), None),
                    (Some(day(1986, 1, 1)), Some(day(1988, 12, 31))),
                    // About 30 articles: fewer than the hits of "oil", picked by dates.
                    (Some(day(1987, 1, 1)), Some(day(1987, 3, 31))),
                ] {
                    for order in [SearchOrder::Relevance, SearchOrder::Date] {
                        for limit in [None, Some(3)] {
                            let options = SearchOptions {
                                reporter: reporter.map(Into::into),
                                service: service.map(Into::into),
                                since,
                                until,
                                limit,
                                order,
                                after: None,
                            };
                            let carries = |names: &[String], n: Option<&str>| {
                                n.is_none_or(|n| names.iter().any(|x| x.eq_ignore_ascii_case(n)))
                            };
                            let mut want: Vec<_> = all
                                .iter()
                                .filter(|(_, r)| {
                                    let d = r.date.map(|d| d.day);
                                    carries(&r.reporters, reporter)
                                        && carries(&r.services, service)
                                        && since.is_none_or(|s| d.is_some_and(|d| d >= s))
                                        && until.is_none_or(|u| d.is_some_and(|d| d <= u))
                                })
                                .map(|(id, r)| (*id, r.date))
                                .collect();
                            if order == SearchOrder::Date {
                                want.sort_by_key(|(_, d)| std::cmp::Reverse(d.map(|d| d.day)));
                            }
                            let want: Vec<BlobId> = want
                                .into_iter()
                                .map(|(id, _)| id)
                                .take(limit.unwrap_or(usize::MAX))
                                .collect();
                            assert!(!want.contains(&ids[5]));
                            assert_eq!(
                                found_with(&a, q, &options),
                                want,
                                "{q} {reporter:?} {service:?} {since:?} {until:?} {order:?} {limit:?}"
                            );
                            if limit.is_none() {
                                // Pages of 4, each after the cursor (as text) of the last.
                                assert_eq!(
                                    paged(&a, q, &options, 4),
                                    want,
                                    "paged: {q} {reporter:?} {service:?} {since:?} {until:?} {order:?}"
                                );
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Every hit of a search, best first or in date order (by a walk of the date index), is read
/// when the iterator reaches it: an article removed meanwhile is not given, one added is not
/// either (the hits are those of the search's start), and the rest come in the order of the
/// whole search.
#[test]
fn hits_one_at_a_time_are_read_when_reached() {
    for order in [SearchOrder::Relevance, SearchOrder::Date] {
        let dir = tempfile::tempdir().unwrap();
        let a = Archive::open(dir.path()).unwrap();
        for i in 0..40u32 {
            let date = chrono::NaiveDate::from_ymd_opt(1990, 1, 1).unwrap()
                + chrono::Days::new(u64::from((i * 7) % 40));
            let body = format!("{} tanker {i}", "oil ".repeat(1 + (i % 4) as usize));
            add_on(&a, &body, date);
        }
        a.flush().unwrap();
        let options = SearchOptions {
            order,
            ..SearchOptions::default()
        };
        let whole = found_with(&a, "oil", &options);
        assert_eq!(whole.len(), 40);
        let query = TextQuery::parse("oil").unwrap();
        let mut hits = a.search_iter(&query, &options).unwrap();
        assert_eq!(hits.next().unwrap().unwrap().id, whole[0]);
        // The last hit to come is removed; a new article with the word is added.
        assert!(a.remove(&whole[39]).unwrap());
        let new = draft("oil oil oil oil oil", &["Ann"], &["Wire"], None);
        let new = a.add(new, MergePolicy::FillEmpty).unwrap().id();
        a.flush().unwrap();
        let rest: Vec<BlobId> = hits.map(|h| h.unwrap().id).collect();
        assert_eq!(rest, whole[1..39], "{order:?}");
        assert!(!rest.contains(&new));
    }
}

/// A page after a cursor whose article was removed meanwhile starts at the first hit of the
/// same score (best first) or date (date order): it repeats hits, it skips none. A cursor of
/// the other order, or text that is no cursor, is an invalid cursor.
#[test]
fn a_page_after_a_removed_article_repeats_and_skips_nothing() {
    let query = TextQuery::parse("oil").unwrap();
    for order in [SearchOrder::Relevance, SearchOrder::Date] {
        let dir = tempfile::tempdir().unwrap();
        let a = Archive::open(dir.path()).unwrap();
        // Twelve articles of the same score, six on each of two dates.
        for i in 0..12u8 {
            let date = chrono::NaiveDate::from_ymd_opt(1990, 1, 1 + u32::from(i / 6)).unwrap();
            let body = format!("oil tanker {}", char::from(b'a' + i));
            add_on(&a, &body, date);
        }
        a.flush().unwrap();
        let all = SearchOptions {
            order,
            ..SearchOptions::default()
        };
        let whole = found_with(&a, "oil", &all);
        assert_eq!(whole.len(), 12);
        let first = SearchOptions {
            limit: Some(4),
            ..all.clone()
        };
        let page = a.search(&query, &first).unwrap();
        let cursor = page[3].cursor(order);
        // Not removed: the rest.
        let next = SearchOptions {
            after: Some(cursor),
            ..all.clone()
        };
        assert_eq!(found_with(&a, "oil", &next), whole[4..], "{order:?}");
        // Removed: best first all twelve tie, and in date order the cursor's date holds the
        // first six: the page starts again at the top, less the article removed.
        assert!(a.remove(&page[3].id).unwrap());
        a.flush().unwrap();
        let want: Vec<BlobId> = whole
            .iter()
            .filter(|id| **id != page[3].id)
            .copied()
            .collect();
        assert_eq!(found_with(&a, "oil", &next), want, "{order:?}");
        let other = match order {
            SearchOrder::Relevance => SearchOrder::Date,
            SearchOrder::Date => SearchOrder::Relevance,
        };
        let wrong = SearchOptions {
            order: other,
            ..next.clone()
        };
        assert!(matches!(
            a.search(&query, &wrong),
            Err(Error::InvalidCursor(_))
        ));
    }
    for text in ["", "s", "x00", "s0000000g", &format!("s{}", "0".repeat(71))] {
        assert!(
            matches!(text.parse::<SearchCursor>(), Err(Error::InvalidCursor(_))),
            "{text:?}"
        );
    }
}

#[test]
fn a_warm_text_index_is_reloaded_before_the_archive_searches_it() {
    use crate::WarmText;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a");
    let a = Archive::open(&path).unwrap();
    let first = add(&a, "harbor story one", "Ann", 2001);
    a.close().unwrap();

    let query = TextQuery::parse("harbor").unwrap();
    // Opened and searched before the archive is (as `morgue search` does on its own thread)…
    let warm = WarmText::open(&path, &query, Some(20)).unwrap();
    // …and an article committed meanwhile by another writer.
    let a = Archive::open(&path).unwrap();
    let second = add(&a, "harbor story two", "Ann", 2002);
    a.close().unwrap();

    // As a read command opens it.
    let reading = crate::OpenOptions {
        create: false,
        ..crate::OpenOptions::default()
    };
    let a = Archive::open_with(&path, &reading).unwrap();
    a.use_warm_text(warm);
    // Its hits are of another commit: not kept.
    assert!(!a.warm_hits_waiting());
    let mut hits = found(&a, "harbor");
    hits.sort();
    let mut both = vec![first, second];
    both.sort();
    assert_eq!(hits, both, "the warm index was searched without a reload");
    drop(a);

    // Nothing committed in between: the first search of the same query and limit takes the
    // warm hits, which are what it would have found; another limit searches the index.
    let limit = SearchOptions {
        limit: Some(5),
        ..SearchOptions::default()
    };
    for warm_limit in [Some(5), Some(6)] {
        let warm = WarmText::open(&path, &query, warm_limit).unwrap();
        let a = Archive::open_with(&path, &reading).unwrap();
        a.use_warm_text(warm);
        assert!(a.warm_hits_waiting());
        let mut hits = found_with(&a, "harbor", &limit);
        hits.sort();
        assert_eq!(hits, both);
        // Taken, or dropped: never used by a later search.
        assert!(!a.warm_hits_waiting(), "{warm_limit:?}");
        drop(a);
    }

    // The index of another archive is not taken: the archive searches its own.
    let other = tempfile::tempdir().unwrap();
    let b = Archive::open(other.path()).unwrap();
    let elsewhere = add(&b, "harbor story elsewhere", "Bo", 2003);
    b.close().unwrap();
    let a = Archive::open(&path).unwrap();
    a.use_warm_text(WarmText::open(other.path(), &query, None).unwrap());
    let hits = found(&a, "harbor");
    assert_eq!(hits.len(), 2);
    assert!(!hits.contains(&elsewhere));
    // A missing index is an error of its own, not a panic.
    assert!(WarmText::open(&dir.path().join("none"), &query, None).is_err());
}
