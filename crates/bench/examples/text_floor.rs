//! What a text index of Reuters costs, the index alone, three ways side by side in one run:
//! tantivy with its own default tokenizer (the least analysis tantivy offers: no folding, no
//! CJK bigrams), morgue's text index (`morgue-text`: tantivy with morgue's analyzer), and
//! SQLite's contentless FTS5 table as issue 15's anchor defines it. Each indexes the title and
//! body of every distinct article with positions, commits (synced), and tantivy's two are merged
//! into one segment (what `optimize` does); time and bytes on disk of each, the median of
//! `ROUNDS` rounds, the three in turn in each round (docs/performance.md, "What tantivy costs by
//! itself").
//!
//! ```sh
//! cargo run --release -p morgue-bench --example text_floor -- CORPUS.jsonl.zst [ROUNDS]
//! ```

use std::io::BufRead as _;
use std::path::Path;
use std::time::Instant;

use anyhow::{Context as _, bail};
use tantivy::schema::{IndexRecordOption, NumericOptions, Schema, TextFieldIndexing, TextOptions};
use tantivy::{Index, IndexWriter, TantivyDocument};

/// The writer's memory, as morgue-text's.
const WRITER_BYTES: usize = 64 << 20;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (corpus, rounds) = match args.as_slice() {
        [corpus] => (corpus.clone(), 3),
        [corpus, rounds] => (corpus.clone(), rounds.parse().context("ROUNDS")?),
        _ => bail!("usage: text_floor CORPUS.jsonl.zst [ROUNDS]"),
    };
    let articles = read(Path::new(&corpus))?;
    let words: usize = articles
        .iter()
        .map(|(t, b)| t.split_whitespace().count() + b.split_whitespace().count())
        .sum();
    println!(
        "{} distinct articles, {} words separated by white space",
        articles.len(),
        words
    );
    let mut runs: [Vec<(f64, f64, u64)>; 3] = Default::default();
    for round in 0..rounds {
        for (way, run) in runs.iter_mut().enumerate() {
            let dir = tempfile::tempdir()?;
            let figures = match way {
                0 => tantivy_default(&articles, dir.path())?,
                1 => morgue_text(&articles, dir.path())?,
                _ => fts5(&articles, dir.path())?,
            };
            println!(
                "round {round} {}: index {:.3} s, merge {:.3} s, {} bytes",
                NAMES[way], figures.0, figures.1, figures.2
            );
            run.push(figures);
        }
    }
    println!("\nmedians of {rounds} rounds:");
    for (way, run) in runs.iter_mut().enumerate() {
        let index = median(run.iter().map(|r| r.0).collect());
        let merge = median(run.iter().map(|r| r.1).collect());
        let bytes = run[0].2;
        println!(
            "{:<28} index {index:.3} s + merge {merge:.3} s = {:.3} s, {bytes} bytes ({:.2} MB)",
            NAMES[way],
            index + merge,
            bytes as f64 / 1e6
        );
    }
    Ok(())
}

const NAMES: [&str; 3] = [
    "tantivy, default tokenizer",
    "morgue-text",
    "SQLite FTS5 (contentless)",
];

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Title and body of every distinct article (by body) of a JSON Lines corpus, zstd or plain.
fn read(path: &Path) -> anyhow::Result<Vec<(String, String)>> {
    let file = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let reader: Box<dyn std::io::Read> = if path.extension().is_some_and(|e| e == "zst") {
        Box::new(zstd::Decoder::new(file)?)
    } else {
        Box::new(file)
    };
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    for (n, line) in std::io::BufReader::new(reader).lines().enumerate() {
        let line = line.with_context(|| format!("{}:{}", path.display(), n + 1))?;
        let value: serde_json::Value =
            serde_json::from_str(&line).with_context(|| format!("{}:{}", path.display(), n + 1))?;
        let text = |key: &str| value[key].as_str().unwrap_or_default().to_owned();
        let (title, body) = (text("title"), text("body"));
        if seen.insert(blake3::hash(body.as_bytes())) {
            out.push((title, body));
        }
    }
    Ok(out)
}

/// Bytes of the files under `dir`.
fn dir_bytes(dir: &Path) -> anyhow::Result<u64> {
    let mut sum = 0;
    for entry in std::fs::read_dir(dir)? {
        let meta = entry?.metadata()?;
        sum += if meta.is_dir() { 0 } else { meta.len() };
    }
    Ok(sum)
}

/// tantivy alone: the same fields as morgue-text's (title and body with frequencies and
/// positions, an indexed fast `seq`), its default tokenizer.
fn tantivy_default(articles: &[(String, String)], dir: &Path) -> anyhow::Result<(f64, f64, u64)> {
    let mut b = Schema::builder();
    let text = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer("default")
            .set_index_option(IndexRecordOption::WithFreqsAndPositions),
    );
    let title = b.add_text_field("title", text.clone());
    let body = b.add_text_field("body", text);
    let seq = b.add_u64_field("seq", NumericOptions::default().set_indexed().set_fast());
    let index = Index::create_in_dir(dir, b.build())?;
    let start = Instant::now();
    let mut writer: IndexWriter = index.writer(WRITER_BYTES)?;
    for (n, (t, bd)) in articles.iter().enumerate() {
        let mut doc = TantivyDocument::default();
        doc.add_text(title, t);
        doc.add_text(body, bd);
        doc.add_u64(seq, n as u64);
        writer.add_document(doc)?;
    }
    writer.commit()?;
    let indexed = start.elapsed().as_secs_f64();
    let start = Instant::now();
    let ids = index.searchable_segment_ids()?;
    if ids.len() > 1 {
        writer.merge(&ids).wait()?;
    }
    writer.wait_merging_threads()?;
    Ok((indexed, start.elapsed().as_secs_f64(), dir_bytes(dir)?))
}

/// morgue's text index: morgue's analyzer, morgue-text's writer, its commit and merge.
fn morgue_text(articles: &[(String, String)], dir: &Path) -> anyhow::Result<(f64, f64, u64)> {
    let path = dir.join("text");
    let start = Instant::now();
    let index = morgue_text::TextIndex::open_writable(&path)?;
    for (n, (t, b)) in articles.iter().enumerate() {
        index.add(n as u64, t, b)?;
    }
    index.commit(articles.len() as u64)?;
    let indexed = start.elapsed().as_secs_f64();
    let start = Instant::now();
    index.merge()?;
    drop(index);
    Ok((indexed, start.elapsed().as_secs_f64(), dir_bytes(&path)?))
}

/// SQLite's contentless FTS5 table alone, as the bench's baseline makes it (one transaction,
/// WAL, `synchronous = FULL`), checkpointed; its bytes are the database file.
fn fts5(articles: &[(String, String)], dir: &Path) -> anyhow::Result<(f64, f64, u64)> {
    let db = dir.join("fts.db");
    let start = Instant::now();
    let mut conn = rusqlite::Connection::open(&db)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.execute_batch(
        "CREATE VIRTUAL TABLE fts USING fts5(title, body, content='', detail=full,
            tokenize='unicode61 remove_diacritics 2');",
    )?;
    let tx = conn.transaction()?;
    {
        let mut insert = tx.prepare("INSERT INTO fts(rowid, title, body) VALUES (?1, ?2, ?3)")?;
        for (n, (t, b)) in articles.iter().enumerate() {
            insert.execute(rusqlite::params![n as i64 + 1, t, b])?;
        }
    }
    tx.commit()?;
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")?;
    let indexed = start.elapsed().as_secs_f64();
    drop(conn);
    Ok((indexed, 0.0, std::fs::metadata(&db)?.len()))
}
