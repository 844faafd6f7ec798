//! Timing, memory and disk measurements.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

/// Resets this process's peak RSS (Linux ≥ 4.0; ignored where unsupported).
pub fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// This process's peak RSS in bytes since start or the last [`reset_peak_rss`] (VmHWM).
pub fn peak_rss() -> Option<u64> {
    status_bytes("self", "VmHWM:")
}

/// The peak RSS in bytes of the running process `pid` (VmHWM).
pub fn peak_rss_of(pid: u32) -> Option<u64> {
    status_bytes(&pid.to_string(), "VmHWM:")
}

/// A `kB` field of `/proc/PROCESS/status`, in bytes.
fn status_bytes(process: &str, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{process}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    let kb: u64 = line[field.len()..]
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kb * 1024)
}

/// Writes dirty pages and drops the page cache, so that the next process reads from disk.
pub fn drop_caches() -> Result<()> {
    let status = Command::new("sync").status().context("running sync")?;
    if !status.success() {
        bail!("sync failed");
    }
    std::fs::write("/proc/sys/vm/drop_caches", "3").context("dropping the page cache (needs root)")
}

/// Size of a directory tree (sum of file lengths), or of one file.
pub fn disk_bytes(path: &Path) -> u64 {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.is_dir() => file_sizes(path).iter().map(|f| f.1).sum(),
        Ok(meta) => meta.len(),
        Err(_) => 0,
    }
}

fn walk(base: &Path, dir: &Path, out: &mut Vec<(String, u64)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.filter_map(Result::ok) {
        let path = e.path();
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        if meta.is_dir() {
            walk(base, &path, out);
        } else {
            let name = path
                .strip_prefix(base)
                .unwrap_or(&path)
                .display()
                .to_string();
            out.push((name, meta.len()));
        }
    }
}

/// Sizes of the files under a directory, largest first (for "where do the bytes go").
pub fn file_sizes(dir: &Path) -> Vec<(String, u64)> {
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort_by_key(|f| std::cmp::Reverse(f.1));
    out
}

/// What one child process did, as measured by the `exec` runner.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ChildRun {
    /// Wall time from spawn to exit.
    pub secs: f64,
    /// Peak RSS of the child, in bytes.
    pub max_rss: u64,
    /// Exit code (-1 when killed by a signal).
    pub code: i32,
}

/// The runner side (subcommand `exec`): runs `argv`, waits, prints a [`ChildRun`] as JSON.
/// Being the only child of this process, its `RUSAGE_CHILDREN` peak is the child's own.
pub fn exec(argv: &[String], quiet: bool) -> Result<()> {
    let Some((prog, args)) = argv.split_first() else {
        bail!("exec: no command")
    };
    let mut cmd = Command::new(prog);
    cmd.args(args).stdin(Stdio::null());
    if quiet {
        cmd.stdout(Stdio::null());
    } else {
        cmd.stdout(Stdio::inherit());
    }
    let start = Instant::now();
    let status = cmd.status().with_context(|| format!("running {prog}"))?;
    let secs = start.elapsed().as_secs_f64();
    let usage = nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_CHILDREN)
        .context("getrusage")?;
    let run = ChildRun {
        secs,
        max_rss: usage.max_rss() as u64 * 1024,
        code: status.code().unwrap_or(-1),
    };
    println!("{}", serde_json::to_string(&run)?);
    Ok(())
}

/// Runs `argv` through this binary's `exec` runner; fails with the child's stderr when it fails.
pub fn run_child(argv: &[String]) -> Result<ChildRun> {
    let me = std::env::current_exe().context("locating the bench binary")?;
    let out = Command::new(me)
        .arg("exec")
        .arg("--")
        .args(argv)
        .stdin(Stdio::null())
        .output()
        .context("running the exec runner")?;
    let text = String::from_utf8_lossy(&out.stdout);
    let run: ChildRun = text
        .lines()
        .last()
        .and_then(|l| serde_json::from_str(l).ok())
        .with_context(|| {
            format!(
                "runner output {text:?}, stderr {}",
                String::from_utf8_lossy(&out.stderr)
            )
        })?;
    if run.code != 0 {
        bail!(
            "`{}` exited with {}: {}",
            argv.join(" "),
            run.code,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(run)
}

/// Median of the child runs' wall times and the largest peak RSS.
pub fn median_runs(runs: &[ChildRun]) -> (f64, u64) {
    let mut t: Vec<f64> = runs.iter().map(|r| r.secs).collect();
    t.sort_by(f64::total_cmp);
    let med = if t.is_empty() { 0.0 } else { t[t.len() / 2] };
    (med, runs.iter().map(|r| r.max_rss).max().unwrap_or(0))
}

/// A short description of the machine.
pub fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, std::num::NonZero::get);
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| {
                    l["MemTotal:".len()..]
                        .trim()
                        .trim_end_matches("kB")
                        .trim()
                        .parse::<u64>()
                        .ok()
                })
        })
        .map_or_else(
            || "? GiB".into(),
            |kb| format!("{:.1} GiB", kb as f64 / (1024.0 * 1024.0)),
        );
    format!("{cpu}, {cores} cores, {mem} RAM")
}
