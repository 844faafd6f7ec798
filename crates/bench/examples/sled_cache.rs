//! How much memory sled 0.34 keeps of the pages a workload reads, whatever its cache capacity:
//! random `get`s over one tree of fixed-size values, the process's resident set printed as they
//! go (docs/performance.md, "sled's cache does not bound the pages read").
//!
//! ```sh
//! cargo run --release -p morgue-bench --example sled_cache -- DIR VALUES VALUE_BYTES GETS CACHE_BYTES
//! ```
//!
//! The first run with a new DIR writes VALUES values of VALUE_BYTES each and stops; each later
//! run opens it with a cache of CACHE_BYTES and reads GETS random keys.

use std::path::Path;

use anyhow::{Context as _, bail};

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [dir, values, value_bytes, gets, cache] = args.as_slice() else {
        bail!("usage: sled_cache DIR VALUES VALUE_BYTES GETS CACHE_BYTES");
    };
    let values: u64 = values.parse().context("VALUES")?;
    let value_bytes: usize = value_bytes.parse().context("VALUE_BYTES")?;
    let gets: u64 = gets.parse().context("GETS")?;
    let cache: u64 = cache.parse().context("CACHE_BYTES")?;
    if values == 0 {
        bail!("VALUES must be at least 1");
    }
    let fresh = !Path::new(dir).exists();
    let db = sled::Config::new()
        .path(dir)
        .cache_capacity(cache)
        .open()
        .with_context(|| format!("opening sled in {dir}"))?;
    if fresh {
        for i in 0..values {
            db.insert(i.to_be_bytes(), vec![(i % 251) as u8; value_bytes])?;
        }
        db.flush()?;
        println!("wrote {values} values of {value_bytes} bytes in {dir}");
        return Ok(());
    }
    println!("opened: {} KB resident", resident_kb()?);
    // xorshift64: the same keys on every run.
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let step = (gets / 8).max(1);
    for g in 1..=gets {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let key = (x % values).to_be_bytes();
        if db.get(key)?.is_none() {
            bail!(
                "key {} missing: was {dir} written with {values} values?",
                x % values
            );
        }
        if g % step == 0 || g == gets {
            println!("{g} gets: {} KB resident", resident_kb()?);
        }
    }
    Ok(())
}

/// VmRSS of this process, in KB.
fn resident_kb() -> anyhow::Result<u64> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .context("no VmRSS in /proc/self/status")
}
