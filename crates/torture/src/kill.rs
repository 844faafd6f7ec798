//! The kill test: `morgue import -v` killed with SIGKILL at random instants, the archive
//! checked after every kill.
//!
//! Per iteration: import a new generation of generated articles mixed with a quarter of the
//! previous generation (duplicates by then, or not yet stored if the previous import was
//! killed early), read the `stored <id>` lines the importer prints once a batch is durable,
//! kill it after a random delay, then check that
//! - `morgue verify` exits 0,
//! - `morgue list --all --format ids` lists every id ever acknowledged in this archive, and
//!   nothing that was not generated for it,
//! - `morgue export` gives every listed article's body byte for byte,
//! - `morgue cat ID` of a sample of acknowledged ids prints exactly the body,
//! - the full-text index is never ahead of the archive and, once `verify` (which catches it
//!   up, as a command that writes does) has opened the archive, finds every durable article:
//!   `morgue search title:generated`, a word of every title, finds exactly the listed articles
//!   (before `verify` too, it finds none that is not listed), and a word only one title holds
//!   finds that article, for the sample of acknowledged ids.
//!
//! The archive accumulates across iterations and starts afresh every `fresh_every`
//! iterations, so that it stays small enough to check after every kill. Without an explicit
//! `max_delay`, the first import of each run is timed to completion and the delays are drawn up
//! to that time, so that most kills land while the importer is writing.
//!
//! The victim may also be `morgue reindex` or `morgue optimize`, run after imports that ran to
//! their end ([`Victim`]); the same checks follow each kill.

use std::collections::{HashMap, HashSet};
use std::ffi::OsStr;
use std::fs::{self, File};
use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use morgue_store::BlobId;

use crate::corpus::{self, Article};
use crate::process::{Morgue, text};
use crate::rng::Rng;

/// How to run the kill test.
#[derive(Debug, Clone)]
pub struct KillOptions {
    /// The `morgue` binary.
    pub morgue: PathBuf,
    /// A directory for the inputs and the archives (created if missing).
    pub work_dir: PathBuf,
    /// Kills to attempt.
    pub iterations: u32,
    /// New articles per iteration.
    pub articles: usize,
    /// Seed of the articles and of the delays.
    pub seed: u64,
    /// Longest delay before a kill (delays are uniform in `0..=max_delay`); `None`: the time
    /// the first, unkilled import took.
    pub max_delay: Option<Duration>,
    /// Acknowledged ids checked with `morgue cat` after each iteration.
    pub cat_sample: usize,
    /// Start a new archive every this many iterations (0: never).
    pub fresh_every: u32,
    /// Percentage of kills that come within the first 50 ms (during open and recovery).
    pub early_percent: u8,
    /// The command killed.
    pub victim: Victim,
}

/// The command the kill test kills.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Victim {
    /// `morgue import -v`.
    #[default]
    Import,
    /// `morgue reindex`, after an import that ran to its end.
    Reindex,
    /// `morgue optimize`, after imports that ran to their end in pieces too small to train a
    /// dictionary, all under one service (so that, from 1,000 articles on, optimize trains the
    /// service's dictionary and recompresses every body of it; run it with `fresh_every` 1 for
    /// that work in every iteration).
    Optimize,
}

/// Articles per import command before an optimize victim: under the 500 bodies from which an
/// import batch trains the archive's first dictionary.
const OPTIMIZE_PIECE: usize = 400;

/// A delay that never comes: the command runs to its end.
const FOREVER: Duration = Duration::from_secs(24 * 3600);

/// The window of early kills, in milliseconds.
const EARLY_MS: u64 = 50;

/// What a kill run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KillReport {
    /// Iterations run.
    pub iterations: u32,
    /// Imports killed while running.
    pub killed: u32,
    /// Imports that had finished before their kill came.
    pub finished: u32,
    /// Archives used (a fresh one every `fresh_every` iterations).
    pub archives: u32,
    /// Articles acknowledged (`stored <id>` lines), over all archives of the run.
    pub acknowledged: u64,
    /// Bodies compared byte for byte (export and cat), over all iterations.
    pub bodies_checked: u64,
    /// Acknowledged articles missing or different after a kill: a run that loses one fails
    /// with an error instead, so a report always says 0.
    pub lost: u64,
    /// Largest archive seen (articles).
    pub max_articles: u64,
    /// The longest kill delay used.
    pub max_delay: Duration,
    /// Wall time of the run.
    pub elapsed: Duration,
}

/// One archive's life: the articles generated for it and the ids acknowledged in it.
struct ArchiveState {
    morgue: Morgue,
    known: HashMap<BlobId, Article>,
    previous: Vec<Article>,
    acknowledged: HashSet<BlobId>,
}

/// Runs the kill test; `log` gets one line per iteration. An error names the iteration, what
/// was wrong, and where the damaged archive was kept.
pub fn run(options: &KillOptions, mut log: impl FnMut(&str)) -> Result<KillReport> {
    let start = Instant::now();
    fs::create_dir_all(&options.work_dir)
        .with_context(|| format!("creating {}", options.work_dir.display()))?;
    let input = options.work_dir.join("input.jsonl");
    let stderr_path = options.work_dir.join("import.stderr");
    let mut rng = Rng::new(options.seed ^ 0x005e_ed0f_4b11);
    let mut report = KillReport::default();
    let mut state: Option<ArchiveState> = None;
    let mut max_delay = options.max_delay;
    let mut generation = 0u64;

    for iteration in 1..=options.iterations {
        let fresh = state.is_none()
            || (options.fresh_every > 0 && (iteration - 1) % options.fresh_every == 0);
        if fresh {
            if let Some(old) = state.take() {
                match fs::remove_dir_all(&old.morgue.archive) {
                    // A kill before the archive was created leaves none.
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                        return Err(e)
                            .with_context(|| format!("removing {}", old.morgue.archive.display()));
                    }
                    _ => {}
                }
            }
            report.archives += 1;
            state = Some(ArchiveState {
                morgue: Morgue {
                    bin: options.morgue.clone(),
                    archive: options
                        .work_dir
                        .join(format!("archive-{}", report.archives)),
                },
                known: HashMap::new(),
                previous: Vec::new(),
                acknowledged: HashSet::new(),
            });
        }
        let Some(st) = state.as_mut() else {
            bail!("no archive state");
        };

        // The input: a new generation, and a quarter of the previous one at a random place.
        generation += 1;
        let new = corpus::articles(
            options.articles,
            options.seed.wrapping_add(generation << 20),
        );
        let old_count = st.previous.len() / 4;
        let old_start = rng.below(st.previous.len() as u64) as usize;
        let old = (0..old_count).map(|k| &st.previous[(old_start + k) % st.previous.len()]);
        let insert_at = rng.below(new.len() as u64 + 1) as usize;
        corpus::write_jsonl(
            &input,
            new[..insert_at].iter().chain(old).chain(&new[insert_at..]),
        )
        .with_context(|| format!("writing {}", input.display()))?;
        for article in &new {
            st.known.insert(article.id, article.clone());
        }
        st.previous = new;

        // The first import of the run calibrates the delays when none was given.
        // A share of the kills land in the first 50 ms: while sled opens and recovers from the
        // previous kill (and writes its snapshot), or while a new archive is being created.
        let early = rng.below(100) < u64::from(options.early_percent);
        let (delay, calibrating) = match max_delay {
            Some(_) if early => (Duration::from_millis(rng.below(EARLY_MS + 1)), false),
            Some(max) => (
                Duration::from_millis(rng.below(max.as_millis() as u64 + 1)),
                false,
            ),
            None => (FOREVER, true),
        };
        let import = [
            "import".as_ref(),
            "-v".as_ref(),
            "--format".as_ref(),
            "jsonl".as_ref(),
            input.as_os_str(),
        ];
        let (new_acks, killed, took) = match options.victim {
            Victim::Import => spawn_and_kill(&st.morgue, &import, &stderr_path, delay)?,
            Victim::Reindex => {
                // Import to the end, then kill a rebuild of the indexes.
                let (acks, _, _) = spawn_and_kill(&st.morgue, &import, &stderr_path, FOREVER)?;
                let (_, killed, took) =
                    spawn_and_kill(&st.morgue, &["reindex".as_ref()], &stderr_path, delay)?;
                (acks, killed, took)
            }
            Victim::Optimize => {
                // Import in small pieces, each to its end, then kill optimize.
                let piece = options.work_dir.join("piece.jsonl");
                let all = fs::read_to_string(&input)
                    .with_context(|| format!("reading {}", input.display()))?;
                let lines: Vec<&str> = all.lines().collect();
                let mut acks = Vec::new();
                for chunk in lines.chunks(OPTIMIZE_PIECE) {
                    let mut text = chunk.join("\n");
                    text.push('\n');
                    fs::write(&piece, text)
                        .with_context(|| format!("writing {}", piece.display()))?;
                    let args = [
                        "import".as_ref(),
                        "-v".as_ref(),
                        "--format".as_ref(),
                        "jsonl".as_ref(),
                        "--service".as_ref(),
                        "Optimize Desk".as_ref(),
                        piece.as_os_str(),
                    ];
                    acks.extend(spawn_and_kill(&st.morgue, &args, &stderr_path, FOREVER)?.0);
                }
                let (_, killed, took) =
                    spawn_and_kill(&st.morgue, &["optimize".as_ref()], &stderr_path, delay)?;
                (acks, killed, took)
            }
        };
        if calibrating {
            max_delay = Some(took);
            log(&format!(
                "calibration: the command killed takes {took:?} on this input; kills come within that"
            ));
        }
        report.max_delay = report.max_delay.max(max_delay.unwrap_or_default());
        let new_count = new_acks.len();
        report.acknowledged += new_count as u64;
        st.acknowledged.extend(new_acks);
        if killed {
            report.killed += 1;
        } else {
            report.finished += 1;
        }

        let checked = check(st, options.cat_sample, &mut rng).with_context(|| {
            let kept = keep(&st.morgue.archive, &options.work_dir, iteration);
            format!(
                "iteration {iteration} (seed {}, generation {generation}, kill after {delay:?}): \
                 archive kept at {kept}; importer stderr in {}",
                options.seed,
                stderr_path.display()
            )
        })?;
        report.bodies_checked += checked.bodies;
        report.max_articles = report.max_articles.max(checked.articles);
        report.iterations = iteration;
        log(&format!(
            "iteration {iteration}: {}, {new_count} newly acknowledged, {} articles in archive \
             {}, all {} acknowledged there present and byte-exact",
            if killed {
                format!("killed after {delay:?}")
            } else {
                format!("finished before its kill was due ({delay:?})")
            },
            checked.articles,
            report.archives,
            st.acknowledged.len()
        ));
    }
    report.elapsed = start.elapsed();
    Ok(report)
}

/// Runs `morgue ARGS`, kills it after `delay` unless it finished; returns the ids it
/// acknowledged (`stored <id>` lines), whether it was killed, and how long it ran. A command
/// that finished must have exited 0.
fn spawn_and_kill(
    morgue: &Morgue,
    args: &[&OsStr],
    stderr_path: &Path,
    delay: Duration,
) -> Result<(Vec<BlobId>, bool, Duration)> {
    let stderr =
        File::create(stderr_path).with_context(|| format!("creating {}", stderr_path.display()))?;
    let started = Instant::now();
    let mut child = morgue
        .command(args)
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .with_context(|| format!("starting {}", morgue.bin.display()))?;
    let stdout = child.stdout.take().context("child stdout")?;
    let (tx, rx) = mpsc::channel();
    let reader = thread::spawn(move || {
        let mut acks = Vec::new();
        let mut bad = Vec::new();
        // A line counts only with its newline: a kill can cut the importer's last write short,
        // and a cut line acknowledges nothing (it is reported when the import was not killed).
        let mut cut = None;
        let mut reader = BufReader::new(stdout);
        let mut raw = Vec::new();
        loop {
            raw.clear();
            match reader.read_until(b'\n', &mut raw) {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
            let line = String::from_utf8_lossy(&raw).into_owned();
            let Some(line) = line.strip_suffix('\n') else {
                cut = Some(line);
                break;
            };
            if let Some(hex) = line.strip_prefix("stored ") {
                match hex.parse::<BlobId>() {
                    Ok(id) if hex.len() == 64 => acks.push(id),
                    _ => bad.push(line.to_owned()),
                }
            }
        }
        let _ = tx.send((acks, bad, cut));
    });
    // Sleep in slices so that a finished import is noticed (and not "killed") early.
    let deadline = Instant::now() + delay;
    let mut exited = None;
    loop {
        if let Some(status) = child.try_wait().context("waiting for morgue import")? {
            exited = Some(status);
            break;
        }
        let now = Instant::now();
        if now >= deadline {
            break;
        }
        thread::sleep((deadline - now).min(Duration::from_millis(20)));
    }
    let killed = exited.is_none();
    let took = started.elapsed();
    if killed {
        // SIGKILL on Unix. The child may exit between try_wait and kill; that is fine.
        let _ = child.kill();
    }
    let status = child.wait().context("reaping morgue import")?;
    let _ = reader.join();
    let (acks, mut bad, cut) = rx.recv().context("reading the importer's stdout")?;
    if let Some(cut) = cut.filter(|_| !killed) {
        bad.push(cut);
    }
    if !bad.is_empty() {
        bail!("the importer printed malformed stored lines: {bad:?}");
    }
    if !killed && !status.success() {
        let err = fs::read(stderr_path).unwrap_or_default();
        bail!("morgue {args:?} finished with {status}: {}", text(&err));
    }
    Ok((acks, killed, took))
}

/// What one check looked at.
#[derive(Debug)]
struct Checked {
    articles: u64,
    bodies: u64,
}

fn check(st: &ArchiveState, cat_sample: usize, rng: &mut Rng) -> Result<Checked> {
    let (morgue, by_id, acknowledged) = (&st.morgue, &st.known, &st.acknowledged);
    if !morgue.archive.exists() {
        // Killed before it created anything: then nothing can have been acknowledged.
        if acknowledged.is_empty() {
            return Ok(Checked {
                articles: 0,
                bodies: 0,
            });
        }
        bail!(
            "the archive vanished with {} acknowledged",
            acknowledged.len()
        );
    }
    // Before anything catches the text index up: whatever it finds must be in the archive. A
    // search may fail only for want of an index (a kill while the archive was being created).
    let early = match search_ids(morgue, "title:generated")? {
        Ok(ids) => Some(ids),
        Err(err) if err.contains("no text index") || err.contains("no archive at ") => None,
        Err(err) => bail!("morgue search before verify failed: {err}"),
    };
    let verify = morgue.run(["verify"])?;
    // Killed while creating the archive (the directory is there, with our lock file and maybe
    // the header's temporary file, but no header yet): there is no archive, which is right
    // when nothing was acknowledged. The next import must create it in that directory.
    if !verify.status.success()
        && acknowledged.is_empty()
        && text(&verify.stderr).starts_with("error: no archive at ")
    {
        return Ok(Checked {
            articles: 0,
            bodies: 0,
        });
    }
    if !verify.status.success() {
        bail!(
            "morgue verify failed ({}):\n{}{}",
            verify.status,
            head(&text(&verify.stdout), 20),
            head(&text(&verify.stderr), 20)
        );
    }

    let list = morgue.run(["list", "--all", "--format", "ids"])?;
    if !list.status.success() {
        bail!(
            "morgue list failed ({}): {}",
            list.status,
            text(&list.stderr)
        );
    }
    let mut listed = HashSet::new();
    for line in text(&list.stdout).lines() {
        let id: BlobId = line
            .parse()
            .map_err(|e| anyhow::anyhow!("list printed {line:?}: {e}"))?;
        if !by_id.contains_key(&id) {
            bail!("list shows {id}, which was never generated for this archive");
        }
        listed.insert(id);
    }
    let missing: Vec<_> = acknowledged.difference(&listed).collect();
    if !missing.is_empty() {
        bail!(
            "{} acknowledged articles are missing, e.g. {}",
            missing.len(),
            missing[0]
        );
    }

    let export = morgue.run(["export"])?;
    if !export.status.success() {
        bail!(
            "morgue export failed ({}): {}",
            export.status,
            text(&export.stderr)
        );
    }
    let mut bodies = 0;
    let mut exported = HashSet::new();
    for line in text(&export.stdout).lines() {
        let value: serde_json::Value =
            serde_json::from_str(line).with_context(|| format!("export printed {line:?}"))?;
        let (Some(id), Some(body)) = (value["id"].as_str(), value["body"].as_str()) else {
            bail!("export line without id or body: {line}");
        };
        let id: BlobId = id
            .parse()
            .map_err(|e| anyhow::anyhow!("export id {id:?}: {e}"))?;
        match by_id.get(&id) {
            Some(article) if article.body == body => {}
            Some(_) => bail!("export gives a different body for {id}"),
            None => bail!("export gives {id}, which was never generated for this archive"),
        }
        bodies += 1;
        exported.insert(id);
    }
    if exported != listed {
        bail!(
            "export has {} articles, list {}",
            exported.len(),
            listed.len()
        );
    }

    if let Some(early) = early
        && let Some(id) = early.difference(&listed).next()
    {
        bail!(
            "the text index was ahead of the archive: search found {id} (of {} found), which list does not show",
            early.len()
        );
    }
    let found = match search_ids(morgue, "title:generated")? {
        Ok(ids) => ids,
        // Killed before the new archive's index was made: no article, and the next command
        // that writes builds it (search says to run reindex meanwhile).
        Err(err) if listed.is_empty() && err.contains("no text index") => HashSet::new(),
        Err(err) => bail!("morgue search failed: {err}"),
    };
    if found != listed {
        bail!(
            "search title:generated found {} articles, list shows {}; e.g. {:?} not found, {:?} not listed",
            found.len(),
            listed.len(),
            listed.difference(&found).next(),
            found.difference(&listed).next()
        );
    }

    let mut sample: Vec<&BlobId> = acknowledged.iter().collect();
    sample.sort();
    for _ in 0..cat_sample.min(sample.len()) {
        let id = **rng.pick(&sample);
        if let Some(article) = by_id.get(&id) {
            let query = format!("title:{}", article.word);
            match search_ids(morgue, &query)? {
                Ok(ids) if ids.len() == 1 && ids.contains(&id) => {}
                Ok(ids) => bail!("search {query} found {ids:?}, not only {id}"),
                Err(err) => bail!("morgue search {query} failed: {err}"),
            }
        }
        let out = morgue.run(["cat", &id.to_string()])?;
        let want = by_id
            .get(&id)
            .map(|a| a.body.as_bytes())
            .unwrap_or_default();
        if !out.status.success() || out.stdout != want {
            bail!(
                "morgue cat {id} ({}) did not print the body: {}",
                out.status,
                text(&out.stderr)
            );
        }
        bodies += 1;
    }
    Ok(Checked {
        articles: listed.len() as u64,
        bodies,
    })
}

/// `morgue search QUERY --all --format ids`: the ids found, or the command's stderr when it
/// failed.
fn search_ids(morgue: &Morgue, query: &str) -> Result<Result<HashSet<BlobId>, String>> {
    let out = morgue.run(["search", "--all", "--format", "ids", "--", query])?;
    if !out.status.success() {
        return Ok(Err(format!("({}) {}", out.status, text(&out.stderr))));
    }
    let mut ids = HashSet::new();
    for line in text(&out.stdout).lines() {
        let id: BlobId = line
            .parse()
            .map_err(|e| anyhow::anyhow!("search printed {line:?}: {e}"))?;
        if !ids.insert(id) {
            bail!("search {query} printed {id} twice");
        }
    }
    Ok(Ok(ids))
}

/// The first `n` lines of `text`, and how many more there were.
fn head(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = String::new();
    for line in lines.iter().take(n) {
        out.push_str(line);
        out.push('\n');
    }
    if lines.len() > n {
        out.push_str(&(lines.len() - n).to_string());
        out.push_str(" more lines\n");
    }
    out
}

/// Copies a failed archive aside for investigation; the path, or why it could not be kept.
/// Names sled's snapshot files, the usual suspects when sled's recovery fails (a partial
/// `snap.*.generating` left by a kill: sled issues #1527, #1533).
fn keep(archive: &Path, work_dir: &Path, iteration: u32) -> String {
    let dest = work_dir.join(format!("failed-iteration-{iteration}"));
    // sled lives in the archive directory, or in `sled.NNNNNNNN/` once compacted (docs/format.md).
    let mut dirs = vec![archive.to_owned()];
    if let Ok(entries) = fs::read_dir(archive) {
        dirs.extend(
            entries
                .filter_map(Result::ok)
                .filter(|e| e.file_name().to_string_lossy().starts_with("sled."))
                .map(|e| e.path()),
        );
    }
    let mut snapshots: Vec<String> = dirs
        .iter()
        .filter_map(|dir| fs::read_dir(dir).ok())
        .flat_map(|entries| {
            entries.filter_map(Result::ok).filter_map(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                let len = e.metadata().map(|m| m.len()).unwrap_or_default();
                name.starts_with("snap.")
                    .then(|| format!("{name} ({len} bytes)"))
            })
        })
        .collect();
    snapshots.sort();
    match copy_dir(archive, &dest) {
        Ok(()) => format!("{} (sled snapshots: {snapshots:?})", dest.display()),
        Err(e) => format!("(not kept: {e}; sled snapshots: {snapshots:?})"),
    }
}

fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    fs::create_dir_all(to)?;
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            fs::copy(entry.path(), target)?;
        }
    }
    Ok(())
}
