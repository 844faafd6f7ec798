//! The benchmark run: the Reuters comparison, then the generated corpus at scale.

use std::collections::HashMap;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use chrono::{Datelike, NaiveDate};

use crate::RunArgs;
use crate::corpus::{self, Article};
use crate::measure::{self, ChildRun};
use crate::morgue;
use crate::report::{Report, Unit};
use crate::search;
use crate::sqlite;

const SEED: u64 = 0x0062_656e_6368;
const QUERY_LIMIT: usize = 50;
const LIST_LIMIT: &str = "20";
/// The word of the cold `morgue search WORD --limit 20` processes at scale: in about one
/// article of twenty of Reuters, and so of the generated corpus.
const COLD_SEARCH_WORD: &str = "oil";

fn log(msg: &str) {
    eprintln!("[morgue-bench] {msg}");
}

pub(crate) fn default_corpus() -> PathBuf {
    if let Some(p) = std::env::var_os("MORGUE_CORPUS") {
        return PathBuf::from(p);
    }
    let rel = Path::new("../shared/corpus/reuters-21578.jsonl.zst");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let from_root = root.join(rel);
    if from_root.exists() {
        from_root
    } else {
        rel.to_path_buf()
    }
}

/// A month of a corpus: (first day, last day).
fn busiest_month(articles: &[Article]) -> Option<(NaiveDate, NaiveDate)> {
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for a in articles {
        if let Some(d) = &a.date {
            *counts.entry(&d[..7]).or_default() += 1;
        }
    }
    let (ym, _) = counts
        .into_iter()
        .max_by(|a, b| a.1.cmp(&b.1).then_with(|| b.0.cmp(a.0)))?;
    let first = NaiveDate::parse_from_str(&format!("{ym}-01"), "%Y-%m-%d").ok()?;
    let next = if first.month() == 12 {
        NaiveDate::from_ymd_opt(first.year() + 1, 1, 1)?
    } else {
        NaiveDate::from_ymd_opt(first.year(), first.month() + 1, 1)?
    };
    Some((first, next.pred_opt()?))
}

/// What both sides are asked.
struct Workload {
    reporter: String,
    month: (NaiveDate, NaiveDate),
}

struct Ctx<'a> {
    args: &'a RunArgs,
    work: PathBuf,
    morgue_bin: Option<PathBuf>,
    me: PathBuf,
}

pub fn run(args: &RunArgs) -> Result<()> {
    if args.skip_compare && args.scale.is_none() {
        bail!("--skip-compare needs --scale");
    }
    if args.incremental.is_some() && args.scale.is_none() {
        bail!("--incremental needs --scale");
    }
    let corpus_path = args.corpus.clone().unwrap_or_else(default_corpus);
    if !corpus_path.exists() {
        bail!(
            "corpus {} not found (give --corpus PATH or set MORGUE_CORPUS)",
            corpus_path.display()
        );
    }
    let (_tmp, work) = if let Some(d) = &args.work_dir {
        std::fs::create_dir_all(d).with_context(|| format!("creating {}", d.display()))?;
        (None, d.clone())
    } else {
        let t = tempfile::Builder::new().prefix("morgue-bench-").tempdir()?;
        let p = t.path().to_path_buf();
        (Some(t), p)
    };
    let me = std::env::current_exe().context("locating the bench binary")?;
    let morgue_bin = args
        .morgue_bin
        .clone()
        .or_else(|| me.parent().map(|d| d.join("morgue")))
        .filter(|p| p.exists());
    let ctx = Ctx {
        args,
        work,
        morgue_bin,
        me,
    };

    let mut report = Report {
        machine: measure::machine(),
        corpus: corpus_path.display().to_string(),
        ..Report::default()
    };
    match &ctx.morgue_bin {
        Some(b) => report.note(format!("morgue binary: {}", b.display())),
        None => report.note("no morgue binary found (build it: cargo build --release -p morgue): whole-command figures skipped"),
    }

    log(&format!("reading {}", corpus_path.display()));
    let articles = corpus::read_all(&corpus_path)?;
    let workload = Workload {
        reporter: corpus::top_reporter(&articles)
            .map(|(n, _)| n)
            .unwrap_or_default(),
        month: busiest_month(&articles).context("no dated article in the corpus")?,
    };
    let scale_file = if let Some(n) = args.scale {
        {
            let out = ctx.work.join(format!("generated-{n}.jsonl"));
            log(&format!("generating {n} articles into {}", out.display()));
            let sources = corpus::distinct(articles);
            let start = Instant::now();
            let top = corpus::generate(&sources, n, &out)?;
            log(&format!(
                "generated in {:.1} s",
                start.elapsed().as_secs_f64()
            ));
            // The further articles: the generated ones after the first n, new bodies.
            let more = match args.incremental {
                Some(k) => {
                    let more = ctx.work.join(format!("generated-{n}-plus-{k}.jsonl"));
                    corpus::generate_from(&sources, n, k, &more)?;
                    Some((k, more))
                }
                None => None,
            };
            Some((n, out, top, more))
        }
    } else {
        drop(articles);
        None
    };

    let mut reuters_rate = None;
    if !args.skip_compare {
        reuters_rate = compare(&ctx, &corpus_path, &workload, &mut report)?;
    }
    if let Some((n, file, (reporter, count), more)) = scale_file {
        let first = scale(&ctx, n, &file, &reporter, count, reuters_rate, &mut report)?;
        if let Some((k, more)) = more {
            incremental(&ctx, n, &file, first, k, &more, &mut report)?;
            let _ = std::fs::remove_file(&more);
        }
        let _ = std::fs::remove_file(&file);
    }

    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", report.table());
    }
    Ok(())
}

fn arg(p: &Path) -> String {
    p.display().to_string()
}

fn remove_dir(p: &Path) -> Result<()> {
    if p.exists() {
        std::fs::remove_dir_all(p).with_context(|| format!("removing {}", p.display()))?;
    }
    Ok(())
}

/// Query latencies of both sides, in seconds: (list by reporter, date range, get by id).
#[derive(Debug, Default)]
struct Latencies {
    sqlite: Option<[f64; 3]>,
    morgue: Option<[f64; 3]>,
    /// Rows returned by (reporter, date range) for (sqlite, morgue).
    rows: [[usize; 2]; 2],
    /// Articles in the morgue archive.
    morgue_articles: usize,
}

fn timed(f: impl FnOnce() -> Result<()>) -> Result<f64> {
    let start = Instant::now();
    f()?;
    Ok(start.elapsed().as_secs_f64())
}

/// Runs the queries on whichever sides are given, interleaved (one query of each side in turn),
/// so that both see the same machine load; each latency is the mean over the repeats.
fn latencies(ctx: &Ctx, w: &Workload, db: Option<&Path>, dir: Option<&Path>) -> Result<Latencies> {
    let sdb = db.map(sqlite::Db::open).transpose()?;
    let archive = dir.map(morgue::open_existing).transpose()?;
    let s_ids = sdb
        .as_ref()
        .map(sqlite::Db::ids)
        .transpose()?
        .unwrap_or_default();
    let m_ids = archive
        .as_ref()
        .map(morgue::ids)
        .transpose()?
        .unwrap_or_default();
    let since = w.month.0.format("%Y-%m-%d").to_string();
    let until = w
        .month
        .1
        .succ_opt()
        .unwrap_or(w.month.1)
        .format("%Y-%m-%d")
        .to_string();
    let (reporter, (first, last)) = (w.reporter.as_str(), w.month);

    let mut out = Latencies {
        morgue_articles: m_ids.len(),
        ..Latencies::default()
    };
    // Warm-up, and the row counts.
    if let Some(d) = &sdb {
        out.rows[0] = [
            d.by_reporter(reporter, QUERY_LIMIT)?.len(),
            d.by_date(&since, &until, QUERY_LIMIT)?.len(),
        ];
    }
    if let Some(a) = &archive {
        out.rows[1] = [
            morgue::by_reporter(a, reporter, QUERY_LIMIT)?.len(),
            morgue::by_date(a, first, last, QUERY_LIMIT)?.len(),
        ];
    }
    let mut sums = [[0.0f64; 3]; 2];
    let reps = ctx.args.repeats.max(1);
    for _ in 0..reps {
        if let Some(d) = &sdb {
            sums[0][0] += timed(|| {
                black_box(d.by_reporter(reporter, QUERY_LIMIT)?);
                Ok(())
            })?;
            sums[0][1] += timed(|| {
                black_box(d.by_date(&since, &until, QUERY_LIMIT)?);
                Ok(())
            })?;
        }
        if let Some(a) = &archive {
            sums[1][0] += timed(|| {
                black_box(morgue::by_reporter(a, reporter, QUERY_LIMIT)?);
                Ok(())
            })?;
            sums[1][1] += timed(|| {
                black_box(morgue::by_date(a, first, last, QUERY_LIMIT)?);
                Ok(())
            })?;
        }
    }
    let gets = ctx.args.gets.max(1);
    let s_sample = corpus::sample(s_ids.len(), gets, SEED);
    let m_sample = corpus::sample(m_ids.len(), gets, SEED);
    for k in 0..gets {
        if let (Some(d), Some(&i)) = (&sdb, s_sample.get(k)) {
            sums[0][2] += timed(|| {
                black_box(d.body(&s_ids[i])?.context("sampled id missing")?);
                Ok(())
            })?;
        }
        if let (Some(a), Some(&i)) = (&archive, m_sample.get(k)) {
            sums[1][2] += timed(|| {
                black_box(a.body(&m_ids[i])?.context("sampled id missing")?);
                Ok(())
            })?;
        }
    }
    let mean = |s: [f64; 3]| [s[0] / reps as f64, s[1] / reps as f64, s[2] / gets as f64];
    out.sqlite = sdb.map(|_| mean(sums[0]));
    out.morgue = archive.map(|_| mean(sums[1]));
    Ok(out)
}

/// Full-text latencies of both sides over [`search::QUERIES`], interleaved.
#[derive(Debug, Default)]
struct SearchLatencies {
    /// Every timed run, in seconds: (sqlite, morgue).
    samples: [Vec<f64>; 2],
    /// Per query: matches (sqlite, morgue) and median seconds (sqlite, morgue).
    per_query: Vec<([u64; 2], [f64; 2])>,
    /// Per query: the fastest run's seconds (sqlite, morgue).
    fastest: Vec<[f64; 2]>,
}

/// The `p`-th percentile (0..=100) of some times (nearest rank).
fn percentile(times: &[f64], p: f64) -> f64 {
    let mut t = times.to_vec();
    t.sort_by(f64::total_cmp);
    if t.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * t.len() as f64).ceil() as usize;
    t[rank.clamp(1, t.len()) - 1]
}

/// Runs every full-text query on both sides, `rounds` times, one query of each side in turn.
fn search_latencies(w: &Workload, db: &Path, dir: &Path, rounds: usize) -> Result<SearchLatencies> {
    let sdb = sqlite::Db::open(db)?;
    let archive = morgue::open_existing(dir)?;
    let since = w.month.0.format("%Y-%m-%d").to_string();
    let until = w
        .month
        .1
        .succ_opt()
        .unwrap_or(w.month.1)
        .format("%Y-%m-%d")
        .to_string();
    let parsed: Vec<morgue_meta::TextQuery> = search::QUERIES
        .iter()
        .map(|t| {
            morgue_meta::TextQuery::parse(t.morgue)
                .with_context(|| format!("parsing {:?}", t.morgue))
        })
        .collect::<Result<_>>()?;
    let s_dates = |t: &search::TextQuery| t.dated.then_some((since.as_str(), until.as_str()));
    let m_dates = |t: &search::TextQuery| t.dated.then_some(w.month);
    let mut out = SearchLatencies::default();
    let mut per: Vec<[Vec<f64>; 2]> = vec![[Vec::new(), Vec::new()]; parsed.len()];
    // The counts (and a warm-up).
    let mut counts = Vec::new();
    for (t, q) in search::QUERIES.iter().zip(&parsed) {
        counts.push([
            sdb.search_count(t.fts5, s_dates(t))
                .with_context(|| format!("FTS5 query {:?}", t.fts5))?,
            morgue::search_count(&archive, q, m_dates(t))?,
        ]);
    }
    for _ in 0..rounds.max(1) {
        for (k, (t, q)) in search::QUERIES.iter().zip(&parsed).enumerate() {
            let s = timed(|| {
                for hit in sdb.search(t.fts5, s_dates(t), search::LIMIT)? {
                    black_box((hit.row.id, hit.rank, hit.snippet));
                }
                Ok(())
            })?;
            let m = timed(|| {
                black_box(morgue::search(&archive, q, m_dates(t), search::LIMIT)?);
                Ok(())
            })?;
            per[k][0].push(s);
            per[k][1].push(m);
            out.samples[0].push(s);
            out.samples[1].push(m);
        }
    }
    out.per_query = counts
        .into_iter()
        .zip(&per)
        .map(|(c, [s, m])| (c, [median(s), median(m)]))
        .collect();
    let min = |t: &[f64]| t.iter().copied().fold(f64::INFINITY, f64::min);
    out.fastest = per.iter().map(|[s, m]| [min(s), min(m)]).collect();
    Ok(out)
}

fn add_queries(report: &mut Report, section: &str, s: Option<[f64; 3]>, m: Option<[f64; 3]>) {
    let names = [
        "list by reporter (50, newest first)",
        "date range (a month, 50)",
        "get by id (mean of random ids)",
    ];
    for (k, name) in names.iter().enumerate() {
        report.add(
            section,
            name,
            Unit::Seconds,
            s.map(|x| x[k]),
            m.map(|x| x[k]),
        );
    }
}

/// Cold list processes: medians of (morgue, sqlite), interleaved.
fn cold_lists(
    ctx: &Ctx,
    archive: &Path,
    db: Option<&Path>,
    reporter: &str,
) -> Result<(ChildRun, Option<ChildRun>)> {
    let Some(bin) = &ctx.morgue_bin else {
        bail!("no morgue binary")
    };
    let m_argv = vec![
        arg(bin),
        "--archive".into(),
        arg(archive),
        "list".into(),
        "--reporter".into(),
        reporter.into(),
        "--limit".into(),
        LIST_LIMIT.into(),
    ];
    let s_argv = db.map(|db| {
        vec![
            arg(&ctx.me),
            "sqlite-list".into(),
            "--db".into(),
            arg(db),
            "--reporter".into(),
            reporter.into(),
            "--limit".into(),
            LIST_LIMIT.into(),
        ]
    });
    let (mut m_runs, mut s_runs) = (Vec::new(), Vec::new());
    for _ in 0..ctx.args.cold_runs.max(1) {
        m_runs.push(cold_run(ctx, &m_argv)?);
        if let Some(a) = &s_argv {
            s_runs.push(cold_run(ctx, a)?);
        }
    }
    Ok((median_run(&m_runs), s_argv.map(|_| median_run(&s_runs))))
}

/// One cold process: `argv` in a new process, after the page cache is dropped with
/// `--drop-caches`.
fn cold_run(ctx: &Ctx, argv: &[String]) -> Result<ChildRun> {
    if ctx.args.drop_caches {
        measure::drop_caches()?;
    }
    measure::run_child(argv)
}

/// Cold `morgue search COLD_SEARCH_WORD --limit 20` processes (best first, each hit with its
/// snippet, as a user's first search prints them): their median.
fn cold_searches(ctx: &Ctx, archive: &Path) -> Result<ChildRun> {
    let Some(bin) = &ctx.morgue_bin else {
        bail!("no morgue binary")
    };
    let argv = vec![
        arg(bin),
        "--archive".into(),
        arg(archive),
        "search".into(),
        COLD_SEARCH_WORD.into(),
        "--limit".into(),
        LIST_LIMIT.into(),
    ];
    let mut runs = Vec::new();
    for _ in 0..ctx.args.cold_runs.max(1) {
        let run = cold_run(ctx, &argv)?;
        if run.code != 0 {
            bail!("{argv:?} exited with {}", run.code);
        }
        runs.push(run);
    }
    Ok(median_run(&runs))
}

/// The Reuters comparison. Returns morgue's whole-command import rate (articles/s), if measured.
fn compare(
    ctx: &Ctx,
    corpus_path: &Path,
    w: &Workload,
    report: &mut Report,
) -> Result<Option<f64>> {
    let sec_in = "Reuters, in-process (library)";
    let sec_cmd = "Reuters, whole commands (processes)";
    report.note(format!(
        "in-process morgue import: {} articles per commit, flush {}; cold list: {}",
        ctx.args.batch,
        if ctx.args.flush_at_end {
            "once at the end"
        } else {
            "after every batch, as the CLI"
        },
        if ctx.args.drop_caches {
            "page cache dropped before every run"
        } else {
            "a new process, page cache warm"
        }
    ));
    report.note(format!(
        "queries: reporter {:?}; date range {}..={}; {} random ids; {} repeats; cold list --limit {LIST_LIMIT}, median of {} runs",
        w.reporter, w.month.0, w.month.1, ctx.args.gets, ctx.args.repeats, ctx.args.cold_runs
    ));

    // In-process, SQLite's load and morgue's import in turn, each into a new database or
    // archive; the medians are reported.
    let db = ctx.work.join("baseline.sqlite");
    let dir = ctx.work.join("morgue-lib");
    let runs = ctx.args.import_runs.max(1);
    let (mut s_times, mut m_times, mut m_optimizes) = (Vec::new(), Vec::new(), Vec::new());
    let (mut s_rss, mut m_rss) = (None, None);
    let mut last = None;
    for run in 1..=runs {
        sqlite::remove_db(&db)?;
        log(&format!("SQLite: in-process load ({run} of {runs})"));
        measure::reset_peak_rss();
        let start = Instant::now();
        let loaded = sqlite::load(corpus_path, &db, false, true)?;
        s_times.push(start.elapsed().as_secs_f64());
        // The first run's: later ones start with what the other side's runs left allocated.
        if run == 1 {
            s_rss = measure::peak_rss();
        }

        remove_dir(&dir)?;
        log(&format!(
            "morgue: in-process import and optimize ({run} of {runs})"
        ));
        measure::reset_peak_rss();
        let start = Instant::now();
        let archive = morgue_meta::Archive::open(&dir)?;
        let imported =
            morgue::import(&archive, corpus_path, ctx.args.batch, ctx.args.flush_at_end)?;
        let opt_start = Instant::now();
        let optimized = morgue::optimize(archive)?;
        m_optimizes.push(opt_start.elapsed().as_secs_f64());
        m_times.push(start.elapsed().as_secs_f64());
        if run == 1 {
            m_rss = measure::peak_rss();
        }
        last = Some((loaded, imported, optimized));
    }
    let Some((loaded, imported, optimized)) = last else {
        anyhow::bail!("no import run");
    };
    let (s_import, m_import, m_optimize) =
        (median(&s_times), median(&m_times), median(&m_optimizes));
    let (s_disk, m_disk) = (sqlite::disk_bytes(&db), measure::disk_bytes(&dir));
    log(&format!(
        "morgue: {} articles ({} duplicates, {} errors), median {m_import:.2} s (SQLite {s_import:.2} s); queries, interleaved",
        imported.added, imported.duplicates, imported.errors
    ));
    report.note(format!(
        "in-process import times, {runs} runs each (sqlite / morgue): {} / {}",
        seconds_list(&s_times),
        seconds_list(&m_times)
    ));
    let lat = latencies(ctx, w, Some(&db), Some(&dir))?;
    let (s_q, m_q) = (
        lat.sqlite.unwrap_or_default(),
        lat.morgue.unwrap_or_default(),
    );
    let [s_n, m_n] = lat.rows;

    let (sa, ma) = (loaded.articles as f64, imported.added as f64);
    report.add(sec_in, "articles stored", Unit::Count, Some(sa), Some(ma));
    report.add(
        sec_in,
        "import time",
        Unit::Seconds,
        Some(s_import),
        Some(m_import),
    );
    report.add(
        sec_in,
        "of which optimize",
        Unit::Seconds,
        None,
        Some(m_optimize),
    );
    report.add(
        sec_in,
        "import rate",
        Unit::Rate,
        Some(sa / s_import),
        Some(ma / m_import),
    );
    report.add(
        sec_in,
        "peak RSS of the bench process",
        Unit::Bytes,
        s_rss.map(|x| x as f64),
        m_rss.map(|x| x as f64),
    );
    report.add(
        sec_in,
        "bytes on disk",
        Unit::Bytes,
        Some(s_disk as f64),
        Some(m_disk as f64),
    );
    report.add(
        sec_in,
        "bytes on disk per article",
        Unit::Bytes,
        Some(s_disk as f64 / sa),
        Some(m_disk as f64 / ma),
    );
    add_queries(report, sec_in, Some(s_q), Some(m_q));
    report.note(format!(
        "rows returned (sqlite / morgue): by reporter {} / {}, date range {} / {}",
        s_n[0], m_n[0], s_n[1], m_n[1]
    ));
    report.note(format!("morgue in-process archive files: {}", sizes(&dir)));

    // Full text: the index's bytes, then the queries.
    let (s_text, m_text) = (
        sqlite::fts_bytes(&db)? as f64,
        measure::disk_bytes(&dir.join(morgue_meta::TEXT_DIR)) as f64,
    );
    report.add(
        sec_in,
        "text index bytes (FTS5 table / text/)",
        Unit::Bytes,
        Some(s_text),
        Some(m_text),
    );
    log("full-text queries, interleaved");
    let text = search_latencies(w, &db, &dir, ctx.args.search_rounds)?;
    // Each query's latency is its median over the rounds (one run in a round can lose a whole
    // scheduling slice on a busy machine); p50 and p99 are over those per-query figures.
    let per_query =
        |side: usize| -> Vec<f64> { text.per_query.iter().map(|(_, m)| m[side]).collect() };
    let p = |side: usize, q: f64| percentile(&per_query(side), q);
    let (s50, m50, s99, m99) = (p(0, 50.0), p(1, 50.0), p(0, 99.0), p(1, 99.0));
    report.note(format!(
        "full-text queries, over every single run instead of per-query medians (sqlite / morgue): p50 {:.0} / {:.0} µs, p99 {:.0} / {:.0} µs",
        percentile(&text.samples[0], 50.0) * 1e6,
        percentile(&text.samples[1], 50.0) * 1e6,
        percentile(&text.samples[0], 99.0) * 1e6,
        percentile(&text.samples[1], 99.0) * 1e6
    ));
    let fastest = |side: usize| -> Vec<f64> { text.fastest.iter().map(|f| f[side]).collect() };
    report.note(format!(
        "full-text queries, over each query's fastest run (what a quiet machine approaches; sqlite / morgue): p50 {:.0} / {:.0} µs, p99 {:.0} / {:.0} µs",
        percentile(&fastest(0), 50.0) * 1e6,
        percentile(&fastest(1), 50.0) * 1e6,
        percentile(&fastest(0), 99.0) * 1e6,
        percentile(&fastest(1), 99.0) * 1e6
    ));
    report.add(
        sec_in,
        &format!(
            "search p50 ({} queries, {} hits, snippets)",
            search::QUERIES.len(),
            search::LIMIT
        ),
        Unit::Seconds,
        Some(s50),
        Some(m50),
    );
    report.add(sec_in, "search p99", Unit::Seconds, Some(s99), Some(m99));
    report.note(format!(
        "full-text queries: {} rounds of {} queries, {} hits each; per query (morgue query: matches sqlite / morgue, median sqlite / morgue): {}",
        ctx.args.search_rounds.max(1),
        search::QUERIES.len(),
        search::LIMIT,
        search::QUERIES
            .iter()
            .zip(text.per_query.iter().zip(&text.fastest))
            .map(|(t, ((c, m), f))| format!(
                "{}{}: {} / {}, {:.0} / {:.0} µs (fastest {:.0} / {:.0} µs)",
                t.morgue,
                if t.dated { " (dated)" } else { "" },
                c[0],
                c[1],
                m[0] * 1e6,
                m[1] * 1e6,
                f[0] * 1e6,
                f[1] * 1e6
            ))
            .collect::<Vec<_>>()
            .join("; ")
    ));
    report.goal(
        "text index bytes ≤ 0.5× the FTS5 table's",
        format!("{:.2}×", m_text / s_text),
        m_text <= 0.5 * s_text,
    );
    report.goal(
        "search latency p50 ≤ FTS5's",
        format!(
            "{:.2}× ({:.0} vs {:.0} µs)",
            m50 / s50,
            m50 * 1e6,
            s50 * 1e6
        ),
        m50 <= s50,
    );
    report.goal(
        "search latency p99 ≤ FTS5's",
        format!(
            "{:.2}× ({:.0} vs {:.0} µs)",
            m99 / s99,
            m99 * 1e6,
            s99 * 1e6
        ),
        m99 <= s99,
    );
    report.note(format!(
        "morgue in-process optimize: {} bodies recompressed, stored body bytes {} -> {}, {} dictionaries trained",
        optimized.recompressed,
        crate::report::fmt(Unit::Bytes, Some(optimized.bytes_before as f64)),
        crate::report::fmt(Unit::Bytes, Some(optimized.bytes_after as f64)),
        optimized.dicts_trained
    ));
    report.goal(
        "in-process import (+ optimize) time ≤ 0.5× SQLite+FTS5's",
        format!("{:.2}×", m_import / s_import),
        m_import <= 0.5 * s_import,
    );
    report.goal(
        "list-by-reporter latency ≤ SQLite's",
        format!("{:.2}×", m_q[0] / s_q[0]),
        m_q[0] <= s_q[0],
    );
    report.goal(
        "get-by-id latency ≤ SQLite's",
        format!("{:.2}×", m_q[2] / s_q[2]),
        m_q[2] <= s_q[2],
    );

    // Whole commands.
    let Some(bin) = &ctx.morgue_bin else {
        return Ok(None);
    };
    let db_cmd = ctx.work.join("baseline-cmd.sqlite");
    let dir_cmd = ctx.work.join("morgue-cmd");
    let (mut s_runs, mut m_runs, mut m_imports, mut m_opts) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for run in 1..=runs {
        sqlite::remove_db(&db_cmd)?;
        log(&format!("SQLite: whole-command load ({run} of {runs})"));
        s_runs.push(measure::run_child(&[
            arg(&ctx.me),
            "sqlite-load".into(),
            "--corpus".into(),
            arg(corpus_path),
            "--db".into(),
            arg(&db_cmd),
        ])?);
        remove_dir(&dir_cmd)?;
        log(&format!(
            "morgue: whole-command import, then optimize ({run} of {runs})"
        ));
        let (both, import, optimize) = import_and_optimize(bin, corpus_path, &dir_cmd)?;
        m_runs.push(both);
        m_imports.push(import);
        m_opts.push(optimize);
    }
    report.note(format!(
        "whole-command import times, {runs} runs each (sqlite / morgue import + optimize): {} / {}",
        seconds_list(&s_runs.iter().map(|r| r.secs).collect::<Vec<_>>()),
        seconds_list(&m_runs.iter().map(|r| r.secs).collect::<Vec<_>>())
    ));
    let s_run = median_run(&s_runs);
    let m_run = median_run(&m_runs);
    let m_import_run = median_run(&m_imports);
    let m_opt_run = median_run(&m_opts);
    let s_disk = sqlite::disk_bytes(&db_cmd) as f64;
    let m_disk = measure::disk_bytes(&dir_cmd) as f64;
    log("cold list processes");
    let (m_list, s_list) = cold_lists(ctx, &dir_cmd, Some(&db_cmd), &w.reporter)?;
    let s_list = s_list.context("no sqlite list runs")?;
    report.add(
        sec_cmd,
        "import command time",
        Unit::Seconds,
        Some(s_run.secs),
        Some(m_run.secs),
    );
    report.add(
        sec_cmd,
        "of which optimize",
        Unit::Seconds,
        None,
        Some(m_opt_run.secs),
    );
    report.add(
        sec_cmd,
        "import rate",
        Unit::Rate,
        Some(sa / s_run.secs),
        Some(ma / m_run.secs),
    );
    report.add(
        sec_cmd,
        "peak RSS of the import process",
        Unit::Bytes,
        Some(s_run.max_rss as f64),
        Some(m_import_run.max_rss as f64),
    );
    report.add(
        sec_cmd,
        "peak RSS of the optimize process",
        Unit::Bytes,
        None,
        Some(m_opt_run.max_rss as f64),
    );
    report.add(
        sec_cmd,
        "bytes on disk",
        Unit::Bytes,
        Some(s_disk),
        Some(m_disk),
    );
    report.add(
        sec_cmd,
        "bytes on disk per article",
        Unit::Bytes,
        Some(s_disk / sa),
        Some(m_disk / ma),
    );
    report.add(
        sec_cmd,
        "cold list --reporter --limit 20 (median)",
        Unit::Seconds,
        Some(s_list.secs),
        Some(m_list.secs),
    );
    report.add(
        sec_cmd,
        "peak RSS of the list process",
        Unit::Bytes,
        Some(s_list.max_rss as f64),
        Some(m_list.max_rss as f64),
    );
    report.note(format!("morgue command archive files: {}", sizes(&dir_cmd)));
    space_notes(report, "Reuters archive", &dir_cmd, ma);
    report.goal(
        "whole-command import + optimize time ≤ 0.5× SQLite+FTS5's",
        format!("{:.2}×", m_run.secs / s_run.secs),
        m_run.secs <= 0.5 * s_run.secs,
    );
    report.goal(
        "bytes on disk ≤ 0.6× SQLite+FTS5's (after import + optimize)",
        format!(
            "{:.2}× ({:.0} vs {:.0} bytes per article)",
            m_disk / s_disk,
            m_disk / ma,
            s_disk / sa
        ),
        m_disk <= 0.6 * s_disk,
    );
    Ok(Some(ma / m_run.secs))
}

/// `morgue import FILE` then `morgue optimize` on a new archive, as two processes. Returns
/// (both: summed time and the larger peak RSS, the import alone, the optimize alone).
/// The median of some times (the upper one of an even count).
fn median(times: &[f64]) -> f64 {
    let mut t = times.to_vec();
    t.sort_by(f64::total_cmp);
    t.get(t.len() / 2).copied().unwrap_or(0.0)
}

/// Child runs as one: the median time and the highest peak RSS.
fn median_run(runs: &[ChildRun]) -> ChildRun {
    let (secs, max_rss) = measure::median_runs(runs);
    ChildRun {
        secs,
        max_rss,
        code: 0,
    }
}

/// Times in milliseconds, for a note.
fn seconds_list(times: &[f64]) -> String {
    times
        .iter()
        .map(|t| format!("{:.0}", t * 1000.0))
        .collect::<Vec<_>>()
        .join(" ")
        + " ms"
}

fn import_and_optimize(
    bin: &Path,
    file: &Path,
    dir: &Path,
) -> Result<(ChildRun, ChildRun, ChildRun)> {
    let import = measure::run_child(&[
        arg(bin),
        "--archive".into(),
        arg(dir),
        "import".into(),
        arg(file),
    ])?;
    let optimize =
        measure::run_child(&[arg(bin), "--archive".into(), arg(dir), "optimize".into()])?;
    let both = ChildRun {
        secs: import.secs + optimize.secs,
        max_rss: import.max_rss.max(optimize.max_rss),
        code: 0,
    };
    Ok((both, import, optimize))
}

/// `--incremental K`: K further articles into an empty archive and into the archive of n (the
/// cost of an import must follow what it adds, not what is there), then the n articles again
/// into the archive of n (all duplicates: a re-run after an interrupted import).
fn incremental(
    ctx: &Ctx,
    n: u64,
    file: &Path,
    first_secs: f64,
    k: u64,
    more: &Path,
    report: &mut Report,
) -> Result<()> {
    let Some(bin) = &ctx.morgue_bin else {
        report.note("--incremental skipped: it needs the morgue binary");
        return Ok(());
    };
    let scaled = ctx.work.join(format!("morgue-scale-{n}"));
    let empty = ctx.work.join(format!("morgue-incremental-{k}"));
    remove_dir(&empty)?;
    let import = |dir: &Path, input: &Path| {
        measure::run_child(&[
            arg(bin),
            "--archive".into(),
            arg(dir),
            "-q".into(),
            "import".into(),
            arg(input),
        ])
    };
    log(&format!("morgue: {k} more articles into an empty archive"));
    let alone = import(&empty, more)?;
    log(&format!(
        "morgue: {k} more articles into the archive of {n}"
    ));
    let into = import(&scaled, more)?;
    remove_dir(&empty)?;
    let mb = |bytes: u64| crate::report::fmt(Unit::Bytes, Some(bytes as f64));
    let (time_ratio, rss_ratio) = (
        into.secs / alone.secs,
        into.max_rss as f64 / alone.max_rss.max(1) as f64,
    );
    report.goal(
        &format!("{k} articles into the archive of {n}: ≤ 1.5× the time and memory of into an empty one"),
        format!(
            "{:.2} s and {} vs {:.2} s and {} ({time_ratio:.2}× the time, {rss_ratio:.2}× the memory)",
            into.secs,
            mb(into.max_rss),
            alone.secs,
            mb(alone.max_rss)
        ),
        time_ratio <= 1.5 && rss_ratio <= 1.5,
    );
    log(&format!("morgue: the {n} articles again (all duplicates)"));
    let first = measure::disk_bytes(&scaled);
    let again = import(&scaled, file)?;
    report.note(format!(
        "re-run of the import of {n} into its own archive (every article a duplicate): {:.1} s \
         ({:.2}× the first import's {first_secs:.1} s), peak RSS {}; archive {} before, {} after",
        again.secs,
        again.secs / first_secs,
        mb(again.max_rss),
        mb(first),
        mb(measure::disk_bytes(&scaled))
    ));
    Ok(())
}

/// Notes on where the bytes of an archive go: logical keys and values per tree against the files.
fn space_notes(report: &mut Report, label: &str, dir: &Path, articles: f64) {
    let trees = match morgue::space(dir) {
        Ok(t) => t,
        Err(e) => {
            report.note(format!("{label}: space breakdown failed: {e:#}"));
            return;
        }
    };
    let files = measure::disk_bytes(dir) as f64;
    let logical: u64 = trees.iter().map(|t| t.key_bytes + t.value_bytes).sum();
    let keys: u64 = trees.iter().map(|t| t.keys).sum();
    let b = |x: f64| crate::report::fmt(Unit::Bytes, Some(x));
    report.note(format!(
        "{label}: files {} = {:.2}× the {} of sled keys and values and pack files ({keys} sled keys and pack files, {:.1} per article; {:.0} file bytes per key)",
        b(files),
        files / logical.max(1) as f64,
        b(logical as f64),
        keys as f64 / articles.max(1.0),
        files / keys.max(1) as f64
    ));
    for t in trees {
        report.note(format!(
            "{label}: tree {}: {} keys, keys {} + values {} ({:.0} B per article)",
            t.name,
            t.keys,
            b(t.key_bytes as f64),
            b(t.value_bytes as f64),
            (t.key_bytes + t.value_bytes) as f64 / articles.max(1.0)
        ));
    }
}

fn sizes(dir: &Path) -> String {
    let files = measure::file_sizes(dir);
    let shown: Vec<String> = files
        .iter()
        .take(6)
        .map(|(n, b)| format!("{n} {}", crate::report::fmt(Unit::Bytes, Some(*b as f64))))
        .collect();
    format!("{} files; {}", files.len(), shown.join(", "))
}

/// The generated corpus at scale; the import's wall time, in seconds.
fn scale(
    ctx: &Ctx,
    n: u64,
    file: &Path,
    reporter: &str,
    reporter_count: usize,
    reuters_rate: Option<f64>,
    report: &mut Report,
) -> Result<f64> {
    let section = format!("generated corpus, {n} articles");
    let sec = section.as_str();
    report.note(format!(
        "generated corpus: {} of JSON Lines; reporter {reporter:?} has {reporter_count} articles",
        crate::report::fmt(Unit::Bytes, Some(measure::disk_bytes(file) as f64))
    ));
    let dir = ctx.work.join(format!("morgue-scale-{n}"));
    remove_dir(&dir)?;
    log(&format!("morgue: importing {n} generated articles"));
    let (m_run, m_import_run, m_opt_run) = if let Some(bin) = &ctx.morgue_bin {
        import_and_optimize(bin, file, &dir)?
    } else {
        measure::reset_peak_rss();
        let start = Instant::now();
        let archive = morgue_meta::Archive::open(&dir)?;
        morgue::import(&archive, file, ctx.args.batch, ctx.args.flush_at_end)?;
        let import = ChildRun {
            secs: start.elapsed().as_secs_f64(),
            max_rss: measure::peak_rss().unwrap_or(0),
            code: 0,
        };
        let start = Instant::now();
        morgue::optimize(archive)?;
        report.note("scale import and optimize ran in-process (no morgue binary)");
        let both = ChildRun {
            secs: import.secs + start.elapsed().as_secs_f64(),
            max_rss: measure::peak_rss().unwrap_or(0),
            code: 0,
        };
        let optimize = ChildRun {
            secs: both.secs - import.secs,
            ..both.clone()
        };
        (both, import, optimize)
    };
    let m_disk = measure::disk_bytes(&dir) as f64;

    let (s_run, db) = if ctx.args.scale_sqlite {
        let db = ctx.work.join(format!("baseline-scale-{n}.sqlite"));
        sqlite::remove_db(&db)?;
        log("SQLite: loading the generated corpus");
        let run = measure::run_child(&[
            arg(&ctx.me),
            "sqlite-load".into(),
            "--corpus".into(),
            arg(file),
            "--db".into(),
            arg(&db),
        ])?;
        (Some(run), Some(db))
    } else {
        (None, None)
    };
    let s_disk = db.as_deref().map(|d| sqlite::disk_bytes(d) as f64);

    // In-process: open, then queries.
    log("morgue: open and queries at scale");
    measure::reset_peak_rss();
    let start = Instant::now();
    let (open_secs, open_rss) = {
        let _archive = morgue::open_existing(&dir)?;
        (start.elapsed().as_secs_f64(), measure::peak_rss())
    };
    let w = Workload {
        reporter: reporter.to_owned(),
        month: (
            NaiveDate::from_ymd_opt(2001, 3, 1).unwrap_or_default(),
            NaiveDate::from_ymd_opt(2001, 3, 31).unwrap_or_default(),
        ),
    };
    let lat = latencies(ctx, &w, db.as_deref(), Some(&dir))?;
    let articles = lat.morgue_articles as f64;
    let (s_q, m_q) = (lat.sqlite, lat.morgue.unwrap_or_default());

    let (m_list, s_list) = if ctx.morgue_bin.is_some() {
        log("cold list processes at scale");
        let (m, s) = cold_lists(ctx, &dir, db.as_deref(), reporter)?;
        (Some(m), s)
    } else {
        (None, None)
    };
    let m_search = if ctx.morgue_bin.is_some() {
        log("cold search processes at scale");
        Some(cold_searches(ctx, &dir)?)
    } else {
        None
    };

    let sa = n as f64;
    report.add(
        sec,
        "articles stored",
        Unit::Count,
        s_run.as_ref().map(|_| sa),
        Some(articles),
    );
    report.add(
        sec,
        "import time",
        Unit::Seconds,
        s_run.as_ref().map(|r| r.secs),
        Some(m_run.secs),
    );
    report.add(
        sec,
        "import rate",
        Unit::Rate,
        s_run.as_ref().map(|r| sa / r.secs),
        Some(articles / m_run.secs),
    );
    report.add(
        sec,
        "of which optimize",
        Unit::Seconds,
        None,
        Some(m_opt_run.secs),
    );
    report.add(
        sec,
        "peak RSS of the import",
        Unit::Bytes,
        s_run.as_ref().map(|r| r.max_rss as f64),
        Some(m_import_run.max_rss as f64),
    );
    report.add(
        sec,
        "peak RSS of optimize",
        Unit::Bytes,
        None,
        Some(m_opt_run.max_rss as f64),
    );
    report.add(sec, "bytes on disk", Unit::Bytes, s_disk, Some(m_disk));
    report.add(
        sec,
        "bytes on disk per article",
        Unit::Bytes,
        s_disk.map(|d| d / sa),
        Some(m_disk / articles),
    );
    report.add(
        sec,
        "open the archive (in-process, warm cache)",
        Unit::Seconds,
        None,
        Some(open_secs),
    );
    report.add(
        sec,
        "peak RSS of the bench process after the open",
        Unit::Bytes,
        None,
        open_rss.map(|x| x as f64),
    );
    add_queries(report, sec, s_q, Some(m_q));
    if let Some(m) = &m_list {
        report.add(
            sec,
            "cold list --reporter --limit 20 (median)",
            Unit::Seconds,
            s_list.as_ref().map(|r| r.secs),
            Some(m.secs),
        );
        report.add(
            sec,
            "peak RSS of the list process",
            Unit::Bytes,
            s_list.as_ref().map(|r| r.max_rss as f64),
            Some(m.max_rss as f64),
        );
    }
    if let Some(m) = &m_search {
        report.add(
            sec,
            &format!("cold search {COLD_SEARCH_WORD} --limit 20 (median)"),
            Unit::Seconds,
            None,
            Some(m.secs),
        );
        report.add(
            sec,
            "peak RSS of the search process",
            Unit::Bytes,
            None,
            Some(m.max_rss as f64),
        );
    }
    report.note(format!("morgue archive at scale: {}", sizes(&dir)));
    space_notes(report, "archive at scale", &dir, articles);

    let rate = articles / m_run.secs;
    match reuters_rate {
        Some(r) => report.goal(
            &format!("import rate at {n} within 20% of the Reuters rate"),
            format!("{rate:.0}/s vs {r:.0}/s ({:.2}×)", rate / r),
            rate >= 0.8 * r,
        ),
        None => report.note(format!(
            "import rate at scale {rate:.0}/s (no Reuters rate to compare with)"
        )),
    }
    if let Some(m) = &m_list {
        report.goal(
            &format!("cold `morgue list --reporter X --limit 20` at {n} under 50 ms"),
            format!("{:.1} ms", m.secs * 1e3),
            m.secs < 0.05,
        );
    }
    if let Some(m) = &m_search {
        report.goal(
            &format!("cold `morgue search {COLD_SEARCH_WORD} --limit 20` at {n} under 50 ms"),
            format!("{:.1} ms", m.secs * 1e3),
            m.secs < 0.05,
        );
    }
    report.goal(
        &format!("peak RSS of import and of optimize at {n} under 512 MB"),
        format!(
            "{} and {}",
            crate::report::fmt(Unit::Bytes, Some(m_import_run.max_rss as f64)),
            crate::report::fmt(Unit::Bytes, Some(m_opt_run.max_rss as f64))
        ),
        m_run.max_rss < 512 * 1024 * 1024,
    );
    Ok(m_import_run.secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_by_nearest_rank() {
        // Whole numbers of seconds: exact in f64, compared as integers.
        let whole = |x: f64| x as i64;
        let t: Vec<f64> = (1..=24).map(f64::from).collect();
        assert_eq!(whole(percentile(&t, 50.0)), 12);
        assert_eq!(whole(percentile(&t, 99.0)), 24);
        assert_eq!(whole(percentile(&t, 0.0)), 1);
        assert_eq!(whole(percentile(&[3.0, 1.0, 2.0], 50.0)), 2);
        assert_eq!(whole(percentile(&[], 50.0)), 0);
        assert_eq!(whole(median(&[3.0, 1.0, 2.0, 4.0])), 3);
    }
}
