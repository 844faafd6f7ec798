//! The store alone at scale: `N` generated distinct bodies (default 200,000, ~700 bytes of
//! word soup each) in commits of `BATCH` (default 10,000) with a flush after each; prints time,
//! bytes on disk, peak memory (VmHWM) every 10 commits.
//!
//! `N=1000000 cargo run -p morgue-store --release --example scale_store`

use std::time::Instant;

use morgue_store::Store;

fn body(i: u64) -> Vec<u8> {
    const WORDS: [&str; 24] = [
        "market",
        "shares",
        "company",
        "said",
        "percent",
        "government",
        "oil",
        "bank",
        "trade",
        "prices",
        "year",
        "dollar",
        "exports",
        "week",
        "analysts",
        "rose",
        "fell",
        "Tuesday",
        "billion",
        "rates",
        "central",
        "official",
        "growth",
        "quarter",
    ];
    let mut x = i.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut out = format!("Article {i}. ");
    for _ in 0..100 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.push_str(WORDS[(x % WORDS.len() as u64) as usize]);
        out.push(' ');
    }
    out.into_bytes()
}

fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let n: u64 = std::env::var("N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200_000);
    let batch: u64 = std::env::var("BATCH")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let dir = tempfile::tempdir()?;
    let store = Store::open(dir.path())?;
    let start = Instant::now();
    let mut done = 0;
    let mut commits = 0;
    while done < n {
        let bodies: Vec<Vec<u8>> = (done..(done + batch).min(n)).map(body).collect();
        let items: Vec<(&[u8], &str)> = bodies.iter().map(|b| (b.as_slice(), "wire")).collect();
        let prepared = store.prepare_batch(&items)?;
        let mut w = store.writer();
        if std::env::var_os("ONE_BY_ONE").is_some() {
            for p in prepared {
                w.place(p)?;
            }
        } else {
            w.place_many(prepared)?;
        }
        w.commit()?;
        store.flush()?;
        done += bodies.len() as u64;
        commits += 1;
        if commits % 10 == 0 || done == n {
            println!(
                "{done} bodies: {:.1} s ({:.0}/s), disk {} MB, peak RSS {:.0} MB, {} stored",
                start.elapsed().as_secs_f64(),
                done as f64 / start.elapsed().as_secs_f64(),
                store.disk_bytes()? >> 20,
                peak_rss_mb(),
                store.stats()?.blobs
            );
        }
    }
    let t = Instant::now();
    store.close()?;
    let t_open = Instant::now();
    let store = Store::open(dir.path())?;
    println!(
        "close {:.0} ms, open {:.1} ms, disk {} MB",
        t.elapsed().as_secs_f64() * 1e3,
        t_open.elapsed().as_secs_f64() * 1e3,
        store.disk_bytes()? >> 20
    );
    Ok(())
}
