//! `morgue-bench html`: morgue's HTML extraction against trafilatura on a page set, in one run.
//!
//! The page set is a directory of saved pages and an `expected.jsonl` (one object a line:
//! `file`, `title`, `reporters`, `date`, `body`, …) as `crates/bench/pageset/build.py` writes it.
//! morgue reads each page in-process through `morgue_ingest::read` with `Format::Html` (what
//! `morgue import` does with a `.html` file); trafilatura reads the same files through
//! `scripts/trafilatura_pages.py` in the Python it is installed in. Both are scored the same way:
//!
//! - title: equal after normalisation ([`norm_text`]: NFKC, lower case, one kind of quote and
//!   dash, runs of spaces made one);
//! - reporters: the same set of names after [`norm_name`] (no reporter expected and none found
//!   is right);
//! - date: the same calendar day (an expected instant with an offset matches its day in that
//!   offset or in UTC);
//! - body: token F1 against the expected text ([`tokens`]: words, and single characters of the
//!   scripts written without spaces), median and mean over the pages that have an expected body.
//!
//! Speed: pages per second on one core (morgue: one thread pinned to CPU 0; trafilatura: one
//! process pinned with `taskset -c 0` where `taskset` exists) and on all cores (morgue: a thread per core;
//! trafilatura: a `multiprocessing` pool of a process per core), on the same pages read into
//! memory first.

use std::collections::{BTreeSet, HashMap};
use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use chrono::{DateTime, NaiveDate};
use clap::Args;
use morgue_ingest::{Format, Overrides};
use serde::Serialize;
use serde_json::Value;
use unicode_normalization::UnicodeNormalization;

/// Options of `morgue-bench html`.
#[derive(Debug, Args)]
pub struct HtmlArgs {
    /// The page set: a directory with the pages and `expected.jsonl`.
    #[arg(long)]
    pub pages: PathBuf,
    /// The Python that has trafilatura. Default: `$HOME/.cache/morgue-venv/bin/python`.
    #[arg(long)]
    pub python: Option<PathBuf>,
    /// Skip trafilatura (morgue's figures only).
    #[arg(long)]
    pub no_trafilatura: bool,
    /// Seconds each morgue speed run lasts, at least.
    #[arg(long, default_value_t = 5.0)]
    pub seconds: f64,
    /// Times trafilatura reads the page set in its one-core speed run (a process per core
    /// reads it this many times per process).
    #[arg(long, default_value_t = 2)]
    pub rounds: usize,
    /// Print each page's fields and scores.
    #[arg(long)]
    pub verbose: bool,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    /// Write each extractor's body of each page here (`FILE.morgue.txt`,
    /// `FILE.trafilatura.txt`), to compare with the expected text.
    #[arg(long)]
    pub dump: Option<PathBuf>,
}

/// What one extractor found in one page.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Found {
    pub title: Option<String>,
    pub reporters: Vec<String>,
    /// `YYYY-MM-DD` (the UTC day for morgue, the day trafilatura gives).
    pub date: Option<String>,
    pub body: String,
    pub error: Option<String>,
}

/// One page of the set, as expected.
#[derive(Debug, Clone)]
struct Page {
    file: String,
    site: String,
    lang: String,
    title: String,
    reporters: Vec<String>,
    date: String,
    body: Option<String>,
    bytes: Vec<u8>,
}

/// Per-field scores of one extractor.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Scores {
    pub pages: usize,
    pub title: usize,
    pub reporters: usize,
    pub date: usize,
    pub bodies: usize,
    pub body_f1_median: f64,
    pub body_f1_mean: f64,
    pub errors: usize,
}

/// Pages per second.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Speed {
    pub one_core: f64,
    pub all_cores: f64,
    pub cores: usize,
}

#[derive(Debug, Serialize)]
struct Report {
    pages: usize,
    sites: usize,
    languages: BTreeSet<String>,
    bytes: usize,
    morgue: Scores,
    morgue_speed: Speed,
    trafilatura: Option<Scores>,
    trafilatura_speed: Option<Speed>,
    trafilatura_version: Option<String>,
    load_before: Option<String>,
}

/// Runs the comparison and prints the report.
pub fn run(args: &HtmlArgs) -> Result<()> {
    let pages = load(&args.pages)?;
    if pages.is_empty() {
        bail!(
            "no pages in {}",
            args.pages.join("expected.jsonl").display()
        );
    }
    let load_before = std::fs::read_to_string("/proc/loadavg").ok();
    let morgue_found: Vec<Found> = pages.iter().map(|p| morgue(&p.file, &p.bytes)).collect();
    let morgue_scores = score(&pages, &morgue_found, args.verbose, "morgue");
    dump(args, &pages, &morgue_found, "morgue")?;
    let (traf_scores, traf_version) = if args.no_trafilatura {
        (None, None)
    } else {
        let python = python(args);
        let found = trafilatura_extract(&python, &args.pages, &pages)?;
        let scores = score(&pages, &found, args.verbose, "trafilatura");
        dump(args, &pages, &found, "trafilatura")?;
        (Some(scores), trafilatura_version(&python))
    };
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let min = Duration::from_secs_f64(args.seconds);
    let morgue_speed = Speed {
        one_core: morgue_speed(&pages, 1, min),
        all_cores: morgue_speed(&pages, cores, min),
        cores,
    };
    let traf_speed = if args.no_trafilatura {
        None
    } else {
        let python = python(args);
        Some(Speed {
            one_core: trafilatura_speed(&python, &args.pages, &pages, 1, args.rounds)?,
            all_cores: trafilatura_speed(&python, &args.pages, &pages, cores, args.rounds * cores)?,
            cores,
        })
    };
    let report = Report {
        pages: pages.len(),
        sites: pages.iter().map(|p| &p.site).collect::<BTreeSet<_>>().len(),
        languages: pages.iter().map(|p| p.lang.clone()).collect(),
        bytes: pages.iter().map(|p| p.bytes.len()).sum(),
        morgue: morgue_scores,
        morgue_speed,
        trafilatura: traf_scores,
        trafilatura_speed: traf_speed,
        trafilatura_version: traf_version,
        load_before: load_before.map(|l| l.trim().to_string()),
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_report(&report);
    }
    Ok(())
}

fn dump(args: &HtmlArgs, pages: &[Page], found: &[Found], who: &str) -> Result<()> {
    let Some(dir) = &args.dump else {
        return Ok(());
    };
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    for (page, got) in pages.iter().zip(found) {
        let path = dir.join(format!("{}.{who}.txt", page.file));
        std::fs::write(&path, &got.body).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

fn python(args: &HtmlArgs) -> PathBuf {
    args.python.clone().unwrap_or_else(|| {
        PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
            .join(".cache/morgue-venv/bin/python")
    })
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/trafilatura_pages.py")
}

fn load(dir: &Path) -> Result<Vec<Page>> {
    let path = dir.join("expected.jsonl");
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let mut pages = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let v: Value = serde_json::from_str(line)
            .with_context(|| format!("{}:{}: not JSON", path.display(), n + 1))?;
        let s = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
        let file = s("file");
        let bytes = std::fs::read(dir.join(&file))
            .with_context(|| format!("{}:{}: reading {file}", path.display(), n + 1))?;
        pages.push(Page {
            site: s("site"),
            lang: s("lang"),
            title: s("title"),
            reporters: v
                .get("reporters")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default(),
            date: s("date"),
            body: v.get("body").and_then(Value::as_str).map(str::to_string),
            file,
            bytes,
        });
    }
    Ok(pages)
}

/// morgue's reading of one page: what `morgue import PAGE.html` stores.
pub fn morgue(name: &str, bytes: &[u8]) -> Found {
    let mut entries = morgue_ingest::read(
        name,
        Box::new(Cursor::new(bytes.to_vec())),
        Format::Html,
        &Overrides::default(),
    );
    match entries.next().map(|e| e.outcome) {
        Some(Ok(parsed)) => {
            let record = parsed.draft.record;
            Found {
                title: Some(record.title).filter(|t| !t.is_empty()),
                reporters: record.reporters,
                date: record.date.map(|d| d.day.to_string()),
                body: parsed.draft.body,
                error: None,
            }
        }
        Some(Err(e)) => Found {
            error: Some(e.to_string()),
            ..Found::default()
        },
        None => Found {
            error: Some("no article".into()),
            ..Found::default()
        },
    }
}

fn trafilatura_extract(python: &Path, dir: &Path, pages: &[Page]) -> Result<Vec<Found>> {
    let output = Command::new(python)
        .arg(script())
        .arg("extract")
        .args(pages.iter().map(|p| dir.join(&p.file)))
        .output()
        .with_context(|| format!("running {} (is trafilatura installed?)", python.display()))?;
    if !output.status.success() {
        bail!(
            "trafilatura_pages.py extract failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let mut by_file: HashMap<String, Found> = HashMap::new();
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let v: Value = serde_json::from_str(line).context("trafilatura_pages.py printed")?;
        let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
        by_file.insert(
            s("file").unwrap_or_default(),
            Found {
                title: s("title"),
                reporters: v
                    .get("reporters")
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .filter_map(Value::as_str)
                            .map(str::to_string)
                            .collect()
                    })
                    .unwrap_or_default(),
                date: s("date"),
                body: s("body").unwrap_or_default(),
                error: s("error"),
            },
        );
    }
    Ok(pages
        .iter()
        .map(|p| {
            by_file.remove(&p.file).unwrap_or_else(|| Found {
                error: Some("no output".into()),
                ..Found::default()
            })
        })
        .collect())
}

fn trafilatura_version(python: &Path) -> Option<String> {
    let out = Command::new(python)
        .args(["-c", "import trafilatura; print(trafilatura.__version__)"])
        .output()
        .ok()?;
    Some(String::from_utf8_lossy(&out.stdout).trim().to_string()).filter(|v| !v.is_empty())
}

/// trafilatura's pages per second: one process pinned to CPU 0, or a pool of `procs`.
fn trafilatura_speed(
    python: &Path,
    dir: &Path,
    pages: &[Page],
    procs: usize,
    rounds: usize,
) -> Result<f64> {
    let pinned = procs == 1 && Command::new("taskset").arg("-V").output().is_ok();
    let mut command = if pinned {
        let mut c = Command::new("taskset");
        c.args(["-c", "0"]).arg(python);
        c
    } else {
        Command::new(python)
    };
    let output = command
        .arg(script())
        .args(["speed", "--procs", &procs.to_string()])
        .args(["--rounds", &rounds.to_string()])
        .args(pages.iter().map(|p| dir.join(&p.file)))
        .output()
        .context("running trafilatura_pages.py speed")?;
    if !output.status.success() {
        bail!(
            "trafilatura_pages.py speed failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let v: Value = serde_json::from_slice(&output.stdout).context("trafilatura speed output")?;
    let n = v.get("pages").and_then(Value::as_f64).unwrap_or(0.0);
    let s = v.get("seconds").and_then(Value::as_f64).unwrap_or(f64::NAN);
    Ok(n / s)
}

/// morgue's pages per second with `threads` threads, each taking the next page of the set
/// (round and round) until `min` has passed.
fn morgue_speed(pages: &[Page], threads: usize, min: Duration) -> f64 {
    let next = AtomicUsize::new(0);
    let start = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                if threads == 1 {
                    pin_to_cpu0();
                }
                while start.elapsed() < min {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let page = &pages[i % pages.len()];
                    std::hint::black_box(morgue(&page.file, &page.bytes));
                }
            });
        }
    });
    let elapsed = start.elapsed().as_secs_f64();
    // The pages taken and not finished before the clock stopped still count: each thread
    // finishes the page it took, and the clock is read after all have.
    next.load(Ordering::Relaxed) as f64 / elapsed
}

/// Pins the calling thread to CPU 0, as `taskset -c 0` pins trafilatura's one process (best
/// effort: where it fails the thread runs unpinned, still one thread).
fn pin_to_cpu0() {
    let mut set = nix::sched::CpuSet::new();
    if set.set(0).is_ok() {
        let _ = nix::sched::sched_setaffinity(nix::unistd::Pid::from_raw(0), &set);
    }
}

fn score(pages: &[Page], found: &[Found], verbose: bool, who: &str) -> Scores {
    let mut s = Scores {
        pages: pages.len(),
        ..Scores::default()
    };
    let mut f1s = Vec::new();
    for (page, got) in pages.iter().zip(found) {
        let title = got
            .title
            .as_deref()
            .is_some_and(|t| norm_text(t) == norm_text(&page.title));
        let reporters = names(&got.reporters) == names(&page.reporters);
        let date = got
            .date
            .as_deref()
            .is_some_and(|d| date_matches(&page.date, d));
        s.title += usize::from(title);
        s.reporters += usize::from(reporters);
        s.date += usize::from(date);
        s.errors += usize::from(got.error.is_some());
        let f1 = page.body.as_deref().map(|b| f1(b, &got.body));
        if let Some(f) = f1 {
            f1s.push(f);
        }
        if verbose {
            let mark = |ok: bool| if ok { "ok " } else { "BAD" };
            eprintln!("{who} {}", page.file);
            if let Some(e) = &got.error {
                eprintln!("  error: {e}");
            }
            eprintln!(
                "  title {} {:?} (expected {:?})",
                mark(title),
                got.title,
                page.title
            );
            eprintln!(
                "  reporters {} {:?} (expected {:?})",
                mark(reporters),
                got.reporters,
                page.reporters
            );
            eprintln!(
                "  date {} {:?} (expected {:?})",
                mark(date),
                got.date,
                page.date
            );
            if let Some(f) = f1 {
                eprintln!("  body f1 {f:.3} ({} chars)", got.body.chars().count());
            }
        }
    }
    s.bodies = f1s.len();
    if !f1s.is_empty() {
        f1s.sort_by(f64::total_cmp);
        s.body_f1_mean = f1s.iter().sum::<f64>() / f1s.len() as f64;
        let m = f1s.len() / 2;
        s.body_f1_median = if f1s.len() % 2 == 1 {
            f1s[m]
        } else {
            f64::midpoint(f1s[m - 1], f1s[m])
        };
    }
    s
}

/// A title for comparison: NFKC, lower case, curly quotes and dashes made plain, whitespace
/// runs made one space, trimmed.
pub fn norm_text(text: &str) -> String {
    let mapped: String = text
        .nfkc()
        .flat_map(char::to_lowercase)
        .map(|c| match c {
            '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}' | '\u{2032}' | '`' => '\'',
            '\u{201C}' | '\u{201D}' | '\u{201E}' | '\u{201F}' | '\u{2033}' | '«' | '»' => '"',
            '\u{2010}'..='\u{2015}' | '\u{2212}' => '-',
            c => c,
        })
        .collect();
    mapped.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A name for comparison: [`norm_text`], then only letters, digits and single spaces.
pub fn norm_name(name: &str) -> String {
    let text = norm_text(name);
    let kept: String = text
        .chars()
        .map(|c| if c.is_alphanumeric() { c } else { ' ' })
        .collect();
    kept.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn names(list: &[String]) -> BTreeSet<String> {
    list.iter()
        .map(|n| norm_name(n))
        .filter(|n| !n.is_empty())
        .collect()
}

/// Whether `got` (`YYYY-MM-DD…`) is the expected day: `expected` is a day, or an instant whose
/// day in its own offset or in UTC counts.
pub fn date_matches(expected: &str, got: &str) -> bool {
    let Some(got) = got.get(..10).and_then(|d| d.parse::<NaiveDate>().ok()) else {
        return false;
    };
    if let Ok(day) = expected.parse::<NaiveDate>() {
        return day == got;
    }
    match DateTime::parse_from_rfc3339(expected) {
        Ok(t) => t.date_naive() == got || t.naive_utc().date() == got,
        Err(_) => false,
    }
}

/// Whether a character belongs to a script written without spaces between words (Han, kana,
/// Thai, Lao, Myanmar, Khmer): each such character is a token.
fn unspaced(c: char) -> bool {
    matches!(c as u32,
        0x0E00..=0x0EFF        // Thai, Lao
        | 0x1000..=0x109F      // Myanmar
        | 0x1780..=0x17FF      // Khmer
        | 0x3040..=0x30FF      // Hiragana, Katakana
        | 0x3400..=0x4DBF      // CJK Extension A
        | 0x4E00..=0x9FFF      // CJK Unified Ideographs
        | 0xF900..=0xFAFF      // CJK Compatibility Ideographs
        | 0x20000..=0x2FFFF) // CJK Extensions B-F
}

/// Whether a character is part of a word: a letter or digit, or a combining mark (Arabic,
/// Indic and Myanmar vowel signs are marks).
fn wordlike(c: char) -> bool {
    c.is_alphanumeric()
        || matches!(c as u32, 0x0300..=0x036F | 0x0610..=0x061A | 0x064B..=0x065F | 0x0670 | 0x06D6..=0x06ED | 0x0900..=0x0DFF)
}

/// The tokens of a text for F1: lower-cased NFKC words, and each character of the unspaced
/// scripts on its own.
pub fn tokens(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    for c in text.nfkc().flat_map(char::to_lowercase) {
        if unspaced(c) {
            if !word.is_empty() {
                out.push(std::mem::take(&mut word));
            }
            if wordlike(c) || c.is_alphabetic() || (c as u32) >= 0x3040 {
                out.push(c.to_string());
            }
        } else if wordlike(c) {
            word.push(c);
        } else if !word.is_empty() {
            out.push(std::mem::take(&mut word));
        }
    }
    if !word.is_empty() {
        out.push(word);
    }
    out
}

/// Token F1 of `got` against `expected` (bags of tokens); two empty texts score 1.
pub fn f1(expected: &str, got: &str) -> f64 {
    let e = tokens(expected);
    let g = tokens(got);
    if e.is_empty() && g.is_empty() {
        return 1.0;
    }
    if e.is_empty() || g.is_empty() {
        return 0.0;
    }
    let mut counts: HashMap<&str, i64> = HashMap::new();
    for t in &e {
        *counts.entry(t).or_default() += 1;
    }
    let mut common = 0i64;
    for t in &g {
        if let Some(n) = counts.get_mut(t.as_str())
            && *n > 0
        {
            *n -= 1;
            common += 1;
        }
    }
    if common == 0 {
        return 0.0;
    }
    let p = common as f64 / g.len() as f64;
    let r = common as f64 / e.len() as f64;
    2.0 * p * r / (p + r)
}

fn print_report(r: &Report) {
    println!(
        "page set: {} pages, {} sites, languages {}, {:.1} MB",
        r.pages,
        r.sites,
        r.languages.iter().cloned().collect::<Vec<_>>().join(" "),
        r.bytes as f64 / 1e6
    );
    if let Some(v) = &r.trafilatura_version {
        println!("trafilatura {v}");
    }
    if let Some(l) = &r.load_before {
        println!("load average before the run: {l}");
    }
    let pct = |n: usize, d: usize| 100.0 * n as f64 / d.max(1) as f64;
    println!("\n| field | morgue | trafilatura |\n|---|---|---|");
    let t = r.trafilatura.as_ref();
    let row = |name: &str, f: &dyn Fn(&Scores) -> String| {
        println!(
            "| {name} | {} | {} |",
            f(&r.morgue),
            t.map_or("-".to_string(), f)
        );
    };
    row("title", &|s| {
        format!("{:.0}% ({}/{})", pct(s.title, s.pages), s.title, s.pages)
    });
    row("reporters", &|s| {
        format!(
            "{:.0}% ({}/{})",
            pct(s.reporters, s.pages),
            s.reporters,
            s.pages
        )
    });
    row("date", &|s| {
        format!("{:.0}% ({}/{})", pct(s.date, s.pages), s.date, s.pages)
    });
    row("body F1, median", &|s| format!("{:.3}", s.body_f1_median));
    row("body F1, mean", &|s| format!("{:.3}", s.body_f1_mean));
    row("pages with no article", &|s| s.errors.to_string());
    println!("\n| pages/s | morgue | trafilatura | ratio |\n|---|---|---|---|");
    let ts = r.trafilatura_speed.as_ref();
    let speed_row = |name: &str, m: f64, t: Option<f64>| {
        println!(
            "| {name} | {m:.1} | {} | {} |",
            t.map_or("-".into(), |t| format!("{t:.2}")),
            t.map_or("-".into(), |t| format!("{:.1}x", m / t))
        );
    };
    speed_row("one core", r.morgue_speed.one_core, ts.map(|s| s.one_core));
    speed_row(
        &format!("all cores ({})", r.morgue_speed.cores),
        r.morgue_speed.all_cores,
        ts.map(|s| s.all_cores),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_compare_without_quote_and_space_differences() {
        assert_eq!(
            norm_text("Trump\u{2019}s  \u{201C}Deal\u{201D}\u{3000}Now"),
            norm_text("trump's \"deal\" now")
        );
        assert_ne!(norm_text("A title"), norm_text("A title | Site"));
    }

    #[test]
    fn names_compare_without_punctuation() {
        assert_eq!(
            norm_name("Amanda \"Tania Mae\" Tan"),
            "amanda tania mae tan"
        );
        assert_eq!(norm_name("James S.A. Corey"), norm_name("james s a corey"));
    }

    #[test]
    fn dates_match_the_local_or_utc_day() {
        assert!(date_matches("2018-06-19T05:50:00+09:00", "2018-06-19"));
        assert!(date_matches("2018-06-19T05:50:00+09:00", "2018-06-18"));
        assert!(!date_matches("2018-06-19T05:50:00+09:00", "2018-06-20"));
        assert!(date_matches("2014-01-09", "2014-01-09T10:00"));
        assert!(!date_matches("2014-01-09", "nonsense"));
    }

    #[test]
    fn unspaced_scripts_are_tokenised_by_character() {
        assert_eq!(tokens("東京の雨"), vec!["東", "京", "の", "雨"]);
        assert_eq!(tokens("Hello, World!"), vec!["hello", "world"]);
        // Arabic words keep their marks.
        assert_eq!(tokens("قالَ هذا").len(), 2);
    }

    #[test]
    fn f1_counts_shared_tokens() {
        assert!((f1("a b c d", "a b c d") - 1.0).abs() < 1e-9);
        assert!((f1("a b c d", "a b") - 2.0 / 3.0).abs() < 1e-9);
        assert!(f1("a b", "c d").abs() < 1e-9);
        assert!(f1("a", "").abs() < 1e-9);
    }
}
