//! Measures the store alone on the Reuters corpus: prepare + commit of every body in batches of
//! 1,000 with a flush after each, bytes on disk, get latency, open times, optimize.
//!
//! `cargo run -p morgue-store --release --example bench_reuters [CORPUS.jsonl.zst]`
//! (default: `$MORGUE_CORPUS`, else `../shared/corpus/reuters-21578.jsonl.zst` from the workspace
//! root). Prints a notice and exits when the corpus is absent.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::time::Instant;

use morgue_store::{BlobId, Store};

fn corpus() -> PathBuf {
    if let Some(p) = std::env::args_os().nth(1) {
        return p.into();
    }
    if let Some(dir) = std::env::var_os("MORGUE_CORPUS") {
        return PathBuf::from(dir).join("reuters-21578.jsonl.zst");
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/reuters-21578.jsonl.zst")
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = corpus();
    let Ok(file) = std::fs::File::open(&path) else {
        println!("corpus {} not found: nothing measured", path.display());
        return Ok(());
    };
    let mut articles: Vec<(Vec<u8>, String)> = Vec::new();
    for line in BufReader::new(zstd::stream::Decoder::new(file)?).lines() {
        let v: serde_json::Value = serde_json::from_str(&line?)?;
        let body = v["body"].as_str().unwrap_or_default().as_bytes().to_vec();
        let service = v["service"].as_str().unwrap_or_default().to_lowercase();
        articles.push((body, service));
    }
    let raw: usize = articles.iter().map(|(b, _)| b.len()).sum();
    println!("{} bodies, {} bytes", articles.len(), raw);

    for grouped in [false, true] {
        let dir = tempfile::tempdir()?;
        let start = Instant::now();
        let mut ids = Vec::new();
        let (mut t_prep, mut t_commit, mut t_flush) = (0.0, 0.0, 0.0);
        {
            let store = Store::open(dir.path())?;
            let batch_size: usize = std::env::var("BATCH")
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(1000);
            for batch in articles.chunks(batch_size) {
                let items: Vec<(&[u8], &str)> = batch
                    .iter()
                    .map(|(b, s)| (b.as_slice(), if grouped { s.as_str() } else { "" }))
                    .collect();
                let t = Instant::now();
                let prepared = store.prepare_batch(&items)?;
                if t_prep == 0.0 {
                    println!(
                        "  first batch prepare (with training): {:.3} s",
                        t.elapsed().as_secs_f64()
                    );
                }
                t_prep += t.elapsed().as_secs_f64();
                let t = Instant::now();
                let mut w = store.writer();
                for p in prepared {
                    ids.push(w.place(p)?.id);
                }
                w.commit()?;
                t_commit += t.elapsed().as_secs_f64();
                let t = Instant::now();
                store.flush()?;
                t_flush += t.elapsed().as_secs_f64();
            }
            println!("  prepare {t_prep:.3} s, place+commit {t_commit:.3} s, flush {t_flush:.3} s");
            let took = start.elapsed();
            let stats = store.stats()?;
            let disk = store.disk_bytes()?;
            println!(
                "groups {grouped}: import {:.3} s ({:.0} bodies/s); {} bodies, frames {} B ({:.2}x), \
                 disk {} B ({:.0} B/body)",
                took.as_secs_f64(),
                articles.len() as f64 / took.as_secs_f64(),
                stats.blobs,
                stats.stored_bytes,
                stats.raw_bytes as f64 / stats.stored_bytes as f64,
                disk,
                disk as f64 / stats.blobs as f64
            );
            let t = Instant::now();
            store.close()?;
            println!(
                "  close (with a sled snapshot): {:.1} ms",
                t.elapsed().as_secs_f64() * 1e3
            );
        }
        let du = std::process::Command::new("du")
            .args(["-ab"])
            .arg(dir.path())
            .output()?;
        for line in String::from_utf8_lossy(&du.stdout).lines() {
            if !line.contains("/blobs/") {
                println!("  du {line}");
            }
        }
        println!(
            "  blob files: {}",
            std::fs::read_dir(dir.path().join("blobs")).map_or(0, Iterator::count)
        );
        for which in ["first", "second"] {
            let t = Instant::now();
            let store = Store::open(dir.path())?;
            println!(
                "  {which} open after import: {:.1} ms",
                t.elapsed().as_secs_f64() * 1e3
            );
            drop(store);
        }
        let store = Store::open(dir.path())?;
        // get latency: ids in a scrambled order.
        let count = 20_000usize;
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let picks: Vec<BlobId> = (0..count)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                ids[(state % ids.len() as u64) as usize]
            })
            .collect();
        let t = Instant::now();
        let mut bytes = 0;
        for id in &picks {
            bytes += store.get(id)?.map_or(0, |b| b.len());
        }
        println!(
            "  get: {:.1} µs per body ({bytes} bytes read)",
            t.elapsed().as_secs_f64() * 1e6 / count as f64
        );
        let t = Instant::now();
        for id in &picks {
            std::hint::black_box(store.seq_of(id)?);
        }
        println!(
            "  seq_of: {:.1} µs",
            t.elapsed().as_secs_f64() * 1e6 / count as f64
        );
        let t = Instant::now();
        let report = store.optimize(&mut |_| {})?;
        store.flush()?;
        println!(
            "  optimize: {:.3} s, {} recompressed, {} dicts trained, frames {} -> {} B, disk {} B",
            t.elapsed().as_secs_f64(),
            report.recompressed,
            report.dicts_trained,
            report.bytes_before,
            report.bytes_after,
            store.disk_bytes()?
        );
        let t = Instant::now();
        store.close()?;
        let store = Store::open(dir.path())?;
        println!(
            "  close after optimize (sled rewritten afresh): {:.1} ms, disk {} B",
            t.elapsed().as_secs_f64() * 1e3,
            store.disk_bytes()?
        );
        let du = std::process::Command::new("du")
            .args(["-ab"])
            .arg(dir.path())
            .output()?;
        for line in String::from_utf8_lossy(&du.stdout).lines() {
            if !line.contains("/blobs/") && !line.contains("LOCK") && !line.contains("MORGUE") {
                println!("  du {line}");
            }
        }
        let t = Instant::now();
        let v = store.verify()?;
        println!(
            "  verify: {:.3} s, clean {}",
            t.elapsed().as_secs_f64(),
            v.is_clean()
        );
    }
    Ok(())
}
