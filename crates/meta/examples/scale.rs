//! Measures the archive layout at scale: import rate, bytes on disk, open time and query
//! latency, with synthetic articles (short distinct bodies, one reporter among 1,000, one
//! service among 10, a date).
//!
//! ```text
//! cargo run --release -p morgue-meta --example scale -- [ARTICLES] [DIR]
//! cargo run --release -p morgue-meta --example scale -- --query DIR
//! cargo run --release -p morgue-meta --example scale -- --verify DIR
//! cargo run --release -p morgue-meta --example scale -- --reindex DIR
//! cargo run --release -p morgue-meta --example scale -- --breakdown DIR
//! ```
//!
//! Without DIR, a temporary directory is used and removed afterwards. Articles are committed
//! `BATCH` at a time (default 10,000, as `morgue import` does), with a flush after each commit;
//! `SCALE_BREAKDOWN=1` prints the keys and bytes per key tag of the archive's tree. At the end, the program
//! runs itself with `--query DIR`: a new process that opens the archive and lists the first 20
//! articles of one reporter, as a cold `morgue list --reporter X --limit 20` would (the page
//! cache is warm).

use std::time::Instant;

use morgue_meta::{Archive, ArticleDate, Draft, MergePolicy, Query, Record};

fn article(i: u64) -> Draft {
    let day = chrono::NaiveDate::from_ymd_opt(
        1990 + (i % 30) as i32,
        1 + (i % 12) as u32,
        1 + (i % 28) as u32,
    )
    .unwrap_or_default();
    Draft {
        body: format!(
            "Article number {i}. Reported by Reporter {} for Service {}.",
            i % 1000,
            i % 10
        ),
        record: Record {
            title: format!("Headline {i}"),
            reporters: vec![format!("Reporter {}", i % 1000)],
            services: vec![format!("Service {}", i % 10)],
            date: Some(ArticleDate::from_day(day)),
            ..Record::default()
        },
        original: None,
    }
}

/// Opens the archive at `dir` and lists one reporter's first 20 articles; prints the times.
fn query_only(dir: &str) -> Result<(), Box<dyn std::error::Error>> {
    let start = Instant::now();
    let archive = Archive::open(dir)?;
    let opened = start.elapsed().as_secs_f64();
    let query = Query {
        reporter: Some("reporter 7".into()),
        limit: Some(20),
        ..Query::default()
    };
    let count = archive.query(&query)?.collect::<Result<Vec<_>, _>>()?.len();
    println!(
        "new process: open {:.1} ms, open + list --reporter X --limit 20 ({count} hits) {:.1} ms",
        opened * 1e3,
        start.elapsed().as_secs_f64() * 1e3
    );
    Ok(())
}

/// Keys and bytes (keys + values) per key tag of the `morgue` tree.
fn breakdown(dir: &std::path::Path) -> Result<(), Box<dyn std::error::Error>> {
    // sled opened directly (the archive is closed): where the `SLED` pointer file says, else
    // in the archive directory (docs/format.md).
    let at = match std::fs::read_to_string(dir.join("SLED")) {
        Ok(name) => dir.join(name.trim_end()),
        Err(_) => dir.to_path_buf(),
    };
    let db = sled::open(at)?;
    let tree = db.open_tree("morgue")?;
    let mut tags: std::collections::BTreeMap<u8, (u64, u64)> = std::collections::BTreeMap::new();
    for kv in &tree {
        let (k, v) = kv?;
        let e = tags.entry(k.first().copied().unwrap_or(0)).or_default();
        e.0 += 1;
        e.1 += (k.len() + v.len()) as u64;
    }
    for (tag, (keys, bytes)) in tags {
        println!("tag {:?}: {keys} keys, {bytes} bytes", char::from(tag));
    }
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let first = args.next();
    if first.as_deref() == Some("--breakdown") {
        return breakdown(std::path::Path::new(
            &args.next().ok_or("--breakdown needs DIR")?,
        ));
    }
    if first.as_deref() == Some("--reindex") {
        let archive = Archive::open(args.next().ok_or("--reindex needs DIR")?)?;
        let start = Instant::now();
        let n = archive.reindex()?;
        println!(
            "reindex: {n} articles, {:.1} s",
            start.elapsed().as_secs_f64()
        );
        return Ok(());
    }
    if first.as_deref() == Some("--verify") {
        let archive = Archive::open(args.next().ok_or("--verify needs DIR")?)?;
        let start = Instant::now();
        let report = archive.verify()?;
        println!(
            "verify: {} articles, {} index entries, {} problems, {:.1} s",
            report.articles,
            report.index_entries,
            report.problems.len(),
            start.elapsed().as_secs_f64()
        );
        return Ok(());
    }
    if first.as_deref() == Some("--query") {
        return query_only(&args.next().ok_or("--query needs DIR")?);
    }
    let n: u64 = first.map_or(Ok(1_000_000), |a| a.parse())?;
    let temp = tempfile::tempdir()?;
    let dir = args
        .next()
        .map_or_else(|| temp.path().join("archive"), Into::into);

    let archive = Archive::open(&dir)?;
    let start = Instant::now();
    let batch: u64 = std::env::var("BATCH")
        .ok()
        .and_then(|b| b.parse().ok())
        .unwrap_or(10_000);
    let mut i = 0;
    while i < n {
        let drafts = (i..(i + batch).min(n)).map(article).collect();
        archive.add_batch(drafts, MergePolicy::FillEmpty)?;
        archive.flush()?;
        i += batch;
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "import: {n} articles in {secs:.1} s ({:.0} articles/s)",
        n as f64 / secs
    );
    let stats = archive.stats()?;
    println!(
        "disk: {} bytes ({:.0} per article; bodies {} raw, {} stored)",
        stats.disk_bytes,
        stats.disk_bytes as f64 / n as f64,
        stats.raw_bytes,
        stats.stored_bytes
    );
    drop(archive);

    let start = Instant::now();
    let archive = Archive::open(&dir)?;
    println!("open: {:.3} s", start.elapsed().as_secs_f64());
    let query = Query {
        reporter: Some("reporter 7".into()),
        limit: Some(20),
        ..Query::default()
    };
    let start = Instant::now();
    let mut hits = archive.query(&query)?;
    let count = hits.by_ref().collect::<Result<Vec<_>, _>>()?.len();
    println!(
        "list --reporter X --limit 20: {count} hits, {} entries visited, {:.3} ms",
        hits.visited(),
        start.elapsed().as_secs_f64() * 1e3
    );
    let query = Query {
        since: chrono::NaiveDate::from_ymd_opt(2005, 1, 1),
        until: chrono::NaiveDate::from_ymd_opt(2005, 12, 31),
        limit: Some(50),
        ..Query::default()
    };
    let start = Instant::now();
    let count = archive.query(&query)?.collect::<Result<Vec<_>, _>>()?.len();
    println!(
        "date range, first 50: {count} hits, {:.3} ms",
        start.elapsed().as_secs_f64() * 1e3
    );
    let start = Instant::now();
    let facets = archive.reporters()?.len();
    println!(
        "reporters(): {facets} facets, {:.3} ms",
        start.elapsed().as_secs_f64() * 1e3
    );
    drop(archive);
    if std::env::var_os("SCALE_BREAKDOWN").is_some() {
        breakdown(&dir)?;
    }
    let start = Instant::now();
    let status = std::process::Command::new(std::env::current_exe()?)
        .arg("--query")
        .arg(&dir)
        .status()?;
    println!(
        "whole process (spawn, open, query, exit): {:.1} ms",
        start.elapsed().as_secs_f64() * 1e3
    );
    if !status.success() {
        return Err("the query process failed".into());
    }
    Ok(())
}
