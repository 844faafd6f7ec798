//! Running the `morgue` binary as a child, and measuring a child's peak memory.

use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use anyhow::{Context as _, Result};

/// The `morgue` binary and the archive it works on.
#[derive(Debug, Clone)]
pub struct Morgue {
    /// Path of the `morgue` executable.
    pub bin: PathBuf,
    /// The archive directory (`--archive`).
    pub archive: PathBuf,
}

impl Morgue {
    /// `morgue --archive ARCHIVE ARGS...` with a cleared environment.
    pub fn command<I, S>(&self, args: I) -> Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut cmd = Command::new(&self.bin);
        cmd.env_clear().env("NO_COLOR", "1");
        if let Some(path) = std::env::var_os("PATH") {
            cmd.env("PATH", path);
        }
        cmd.arg("--archive").arg(&self.archive).args(args);
        cmd.stdin(Stdio::null());
        cmd
    }

    /// Runs `morgue ARGS...` to the end and returns its output.
    pub fn run<I, S>(&self, args: I) -> Result<Output>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut cmd = self.command(args);
        cmd.output()
            .with_context(|| format!("running {}", self.bin.display()))
    }
}

/// Finds the `morgue` binary: `explicit` if given, else `$MORGUE_BIN`, else next to the
/// running executable (cargo puts every binary of a profile in one directory).
pub fn find_morgue(explicit: Option<&Path>) -> Result<PathBuf> {
    if let Some(path) = explicit {
        return Ok(path.to_owned());
    }
    if let Some(path) = std::env::var_os("MORGUE_BIN") {
        return Ok(PathBuf::from(path));
    }
    let exe = std::env::current_exe().context("locating this program")?;
    let mut dir = exe.parent().map(Path::to_path_buf).unwrap_or_default();
    // Test executables live one level down, in deps/.
    for _ in 0..2 {
        let candidate = dir.join(format!("morgue{}", std::env::consts::EXE_SUFFIX));
        if candidate.is_file() {
            return Ok(candidate);
        }
        if !dir.pop() {
            break;
        }
    }
    anyhow::bail!(
        "no morgue binary next to {}: build it first (cargo build --release -p morgue), \
         or pass --morgue PATH",
        exe.display()
    )
}

/// Polls a child's peak resident set size (`VmHWM` in `/proc/PID/status`) until stopped.
#[derive(Debug)]
pub struct PeakRss {
    peak_kib: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    poller: Option<JoinHandle<()>>,
}

impl PeakRss {
    /// Starts polling `child` every few milliseconds. `VmHWM` only grows, so the last reading
    /// before the child exits is its peak (up to the growth of its last few milliseconds).
    pub fn watch(child: &Child) -> PeakRss {
        let status = PathBuf::from(format!("/proc/{}/status", child.id()));
        let peak_kib = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let poller = {
            let (peak_kib, stop) = (Arc::clone(&peak_kib), Arc::clone(&stop));
            thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    if let Some(kib) = fs::read_to_string(&status).ok().and_then(|s| vm_hwm(&s)) {
                        peak_kib.fetch_max(kib, Ordering::Relaxed);
                    }
                    thread::sleep(Duration::from_millis(5));
                }
            })
        };
        PeakRss {
            peak_kib,
            stop,
            poller: Some(poller),
        }
    }

    /// Stops polling; the peak seen, in bytes.
    pub fn finish(mut self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(poller) = self.poller.take() {
            let _ = poller.join();
        }
        self.peak_kib.load(Ordering::Relaxed) * 1024
    }
}

/// The `VmHWM` figure (KiB) of a `/proc/PID/status` text.
pub fn vm_hwm(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Lossy text of a child's output stream, for messages.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_vm_hwm() {
        let status = "Name:\tmorgue\nVmPeak:\t  20000 kB\nVmHWM:\t    1234 kB\nVmRSS:\t 1000 kB\n";
        assert_eq!(vm_hwm(status), Some(1234));
        assert_eq!(vm_hwm("Name:\tzombie\n"), None);
    }

    #[test]
    fn measures_a_child() {
        let mut child = Command::new("sleep").arg("0.3").spawn().unwrap();
        let rss = PeakRss::watch(&child);
        child.wait().unwrap();
        let peak = rss.finish();
        assert!(peak > 0 && peak < 512 << 20, "{peak}");
    }
}
