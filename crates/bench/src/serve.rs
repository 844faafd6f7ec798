//! `morgue-bench serve`: a load test of `morgue serve` on loopback, side by side with Datasette
//! on the SQLite baseline of the same corpus (issue 16, "How well").
//!
//! CLIENTS threads each send REQUESTS requests (bounded too by `--max-seconds`), mixed over list,
//! filtered list, search, show and facets, on one keep-alive connection each. Against morgue, an
//! import runs through the server at the same time (`POST /api/import`, streamed): a corpus of
//! distinct articles generated from the corpus (new bodies, so that it stores rather than finds
//! duplicates); afterwards every article it acknowledged must be visible. Against Datasette
//! (`datasette serve -i`, the baseline database, its default settings) the same kinds of request,
//! through its JSON API and its SQL. Reported: requests, errors, requests per second, p50/p99
//! latency, and the server's peak RSS. Everything binds 127.0.0.1 and stops by itself.

use std::fmt::Write as _;
use std::io::{BufRead as _, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use clap::Args;
use serde::Serialize;
use serde_json::Value;

use crate::corpus;

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The JSON Lines corpus (default as for the main run).
    #[arg(long)]
    pub corpus: Option<PathBuf>,
    /// The `morgue` binary. Default: next to this binary.
    #[arg(long)]
    pub morgue_bin: Option<PathBuf>,
    /// The `datasette` program. Default: `$HOME/.cache/morgue-venv/bin/datasette`; Datasette's
    /// side is skipped (with a notice) when it is not there.
    #[arg(long)]
    pub datasette: Option<PathBuf>,
    /// Skip Datasette.
    #[arg(long)]
    pub skip_datasette: bool,
    /// Client threads.
    #[arg(long, default_value_t = 16)]
    pub clients: usize,
    /// Requests per client thread.
    #[arg(long, default_value_t = 2000)]
    pub requests: usize,
    /// Each side's load stops after this many seconds even if requests are left.
    #[arg(long, default_value_t = 300)]
    pub max_seconds: u64,
    /// Articles of the import run through morgue's server during the load.
    #[arg(long, default_value_t = 19_043)]
    pub import: u64,
    /// Serve a generated archive of this many articles instead of the corpus (morgue only: for
    /// the server's memory at scale).
    #[arg(long, value_name = "N")]
    pub scale: Option<u64>,
    /// Where the archive, the database and the generated files go (kept). Default: a temporary
    /// directory, removed after.
    #[arg(long)]
    pub work_dir: Option<PathBuf>,
}

/// The kinds of request in the mix, in turn.
const KINDS: [&str; 5] = ["list", "filtered list", "search", "show", "facets"];

/// Search queries: words and phrases of the Reuters corpus.
const QUERIES: [&str; 10] = [
    "oil",
    "bank rate",
    "trade deficit",
    "wheat",
    "dollar",
    "merger",
    "crude prices",
    "coffee",
    "strike",
    "gold",
];

/// One side's figures.
#[derive(Debug, Default, Serialize)]
pub struct Side {
    pub server: String,
    pub requests: u64,
    pub errors: u64,
    pub seconds: f64,
    pub requests_per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    /// p50 and p99 of each kind of request, milliseconds.
    pub per_kind: Vec<(String, f64, f64)>,
    pub peak_rss_bytes: Option<u64>,
    /// The first errors seen.
    pub first_errors: Vec<String>,
}

#[derive(Debug, Default, Serialize)]
struct ImportFigures {
    articles_acknowledged: u64,
    failed: u64,
    seconds: f64,
    visible_afterwards: u64,
}

#[derive(Debug, Default, Serialize)]
struct Report {
    machine: String,
    load_before: String,
    clients: usize,
    requests_per_client: usize,
    archive_articles: u64,
    morgue: Side,
    import: ImportFigures,
    datasette: Option<Side>,
    notes: Vec<String>,
}

/// What a client asks: a path (with query) per kind.
trait Plan: Send + Sync {
    fn path(&self, kind: usize, n: u64) -> String;
}

struct MorguePlan {
    ids: Vec<String>,
    reporters: Vec<String>,
}

impl Plan for MorguePlan {
    fn path(&self, kind: usize, n: u64) -> String {
        let pick = |len: usize| (corpus::mix(n) % len.max(1) as u64) as usize;
        match kind {
            0 => "/api/articles?limit=20".to_owned(),
            1 if n.is_multiple_of(2) => format!(
                "/api/articles?reporter={}&limit=20",
                encode(&self.reporters[pick(self.reporters.len())])
            ),
            1 => format!(
                "/api/articles?since=1987-03-{:02}&until=1987-04-{:02}&limit=20",
                1 + n % 28,
                1 + n % 28
            ),
            2 => format!(
                "/api/search?q={}&limit=20",
                encode(QUERIES[pick(QUERIES.len())])
            ),
            3 if n.is_multiple_of(2) => format!("/api/articles/{}", self.ids[pick(self.ids.len())]),
            3 => format!("/api/articles/{}/body", self.ids[pick(self.ids.len())]),
            _ if n.is_multiple_of(2) => "/api/reporters".to_owned(),
            _ => "/api/services".to_owned(),
        }
    }
}

struct DatasettePlan {
    ids: Vec<String>,
    reporters: Vec<String>,
}

impl Plan for DatasettePlan {
    fn path(&self, kind: usize, n: u64) -> String {
        let pick = |len: usize| (corpus::mix(n) % len.max(1) as u64) as usize;
        match kind {
            0 => "/baseline/articles.json?_sort_desc=date&_size=20&_nocol=body".to_owned(),
            1 if n.is_multiple_of(2) => format!(
                "/baseline.json?sql={}&name={}",
                encode(
                    "SELECT a.id, a.title, a.date, a.service FROM reporters r \
                     JOIN articles a ON a.id = r.article_id WHERE r.name = :name \
                     ORDER BY a.date DESC LIMIT 20"
                ),
                encode(&corpus::normalize_name(
                    &self.reporters[pick(self.reporters.len())]
                ))
            ),
            1 => format!(
                "/baseline/articles.json?date__gte=1987-03-{:02}&date__lt=1987-04-{:02}\
                 &_sort_desc=date&_size=20&_nocol=body",
                1 + n % 28,
                2 + n % 28
            ),
            2 => format!(
                "/baseline.json?sql={}&q={}",
                encode(
                    "SELECT a.id, a.title, a.date, a.service, f.rank FROM (SELECT rowid, rank \
                     FROM fts WHERE fts MATCH :q ORDER BY rank LIMIT 20) f \
                     JOIN articles a ON a.rowid = f.rowid ORDER BY f.rank"
                ),
                encode(&fts_query(QUERIES[pick(QUERIES.len())]))
            ),
            3 => format!("/baseline/articles/{}.json", self.ids[pick(self.ids.len())]),
            _ if n.is_multiple_of(2) => "/baseline/reporters.json?_facet=name&_size=0".to_owned(),
            _ => "/baseline/articles.json?_facet=service&_size=0".to_owned(),
        }
    }
}

/// Every word required, as morgue's query does.
fn fts_query(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" AND ")
}

fn encode(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into()
}

fn get(agent: &ureq::Agent, url: &str) -> Result<(u16, Vec<u8>)> {
    let mut response = agent.get(url).call()?;
    let status = response.status().as_u16();
    let body = response
        .body_mut()
        .with_config()
        .limit(1 << 30)
        .read_to_vec()?;
    Ok((status, body))
}

fn get_json(agent: &ureq::Agent, url: &str) -> Result<Value> {
    let (status, body) = get(agent, url)?;
    if status != 200 {
        bail!("{url}: status {status}: {}", String::from_utf8_lossy(&body));
    }
    Ok(serde_json::from_slice(&body)?)
}

/// A server process, killed on drop (SIGTERM first).
struct Process {
    child: Child,
}

impl Process {
    fn peak_rss(&self) -> Option<u64> {
        crate::measure::peak_rss_of(self.child.id())
    }

    fn stop(mut self) -> Result<()> {
        let pid = self.child.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status()?;
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait()? {
                if !status.success() {
                    bail!("the server exited with {status}");
                }
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        bail!("the server did not stop within 60 seconds of SIGTERM")
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// The load: `clients` threads, `requests` each, kinds in turn; stops at `max` seconds.
fn load(base: &str, plan: &Arc<dyn Plan>, args: &ServeArgs, name: &str) -> Side {
    let deadline = Instant::now() + Duration::from_secs(args.max_seconds);
    let started = Instant::now();
    let threads: Vec<_> = (0..args.clients)
        .map(|t| {
            let plan = Arc::clone(plan);
            let base = base.to_owned();
            let requests = args.requests;
            std::thread::spawn(move || {
                let agent = agent();
                let mut times: Vec<(usize, u32)> = Vec::with_capacity(requests);
                let mut errors = Vec::new();
                for i in 0..requests {
                    if Instant::now() > deadline {
                        break;
                    }
                    let kind = (i + t) % KINDS.len();
                    let n = (t as u64) << 32 | i as u64;
                    let url = format!("{base}{}", plan.path(kind, n));
                    let at = Instant::now();
                    let outcome = get(&agent, &url);
                    let micros = u32::try_from(at.elapsed().as_micros()).unwrap_or(u32::MAX);
                    match outcome {
                        Ok((200, _)) => times.push((kind, micros)),
                        Ok((status, body)) => errors.push(format!(
                            "{url}: {status}: {}",
                            String::from_utf8_lossy(&body[..body.len().min(200)])
                        )),
                        Err(e) => errors.push(format!("{url}: {e}")),
                    }
                }
                (times, errors)
            })
        })
        .collect();
    let mut times = Vec::new();
    let mut errors = Vec::new();
    for thread in threads {
        match thread.join() {
            Ok((t, e)) => {
                times.extend(t);
                errors.extend(e);
            }
            Err(_) => errors.push("a client thread panicked".to_owned()),
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    let quantile = |values: &mut Vec<u32>, q: f64| -> f64 {
        if values.is_empty() {
            return 0.0;
        }
        values.sort_unstable();
        let i = ((values.len() as f64 - 1.0) * q).round() as usize;
        f64::from(values[i]) / 1000.0
    };
    let mut all: Vec<u32> = times.iter().map(|&(_, m)| m).collect();
    let per_kind = KINDS
        .iter()
        .enumerate()
        .map(|(k, kind)| {
            let mut these: Vec<u32> = times
                .iter()
                .filter(|&&(x, _)| x == k)
                .map(|&(_, m)| m)
                .collect();
            (
                (*kind).to_owned(),
                quantile(&mut these, 0.5),
                quantile(&mut these, 0.99),
            )
        })
        .collect();
    let requests = (times.len() + errors.len()) as u64;
    Side {
        server: name.to_owned(),
        requests,
        errors: errors.len() as u64,
        seconds,
        requests_per_second: requests as f64 / seconds,
        p50_ms: quantile(&mut all, 0.5),
        p99_ms: quantile(&mut all, 0.99),
        per_kind,
        peak_rss_bytes: None,
        first_errors: errors.into_iter().take(5).collect(),
    }
}

pub fn run(args: &ServeArgs) -> Result<()> {
    let corpus_path = args
        .corpus
        .clone()
        .unwrap_or_else(crate::bench::default_corpus);
    if !corpus_path.exists() {
        bail!("corpus {} not found", corpus_path.display());
    }
    let me = std::env::current_exe()?;
    let morgue = args
        .morgue_bin
        .clone()
        .or_else(|| me.parent().map(|d| d.join("morgue")))
        .filter(|p| p.exists())
        .context("no morgue binary (cargo build --release -p morgue, or --morgue-bin)")?;
    let (_tmp, work) = if let Some(d) = &args.work_dir {
        std::fs::create_dir_all(d)?;
        (None, d.clone())
    } else {
        let t = tempfile::Builder::new()
            .prefix("morgue-bench-serve-")
            .tempdir()?;
        let p = t.path().to_path_buf();
        (Some(t), p)
    };
    let mut report = Report {
        machine: crate::measure::machine(),
        load_before: std::fs::read_to_string("/proc/loadavg").unwrap_or_default(),
        clients: args.clients,
        requests_per_client: args.requests,
        ..Report::default()
    };

    // The archive: the corpus, or N generated articles.
    let archive = work.join("archive");
    let sources = corpus::distinct(corpus::read_all(&corpus_path)?);
    let served_corpus = match args.scale {
        None => corpus_path.clone(),
        Some(n) => {
            let path = work.join("scale.jsonl");
            if !path.exists() {
                eprintln!("generating {n} articles");
                corpus::generate(&sources, n, &path)?;
            }
            path
        }
    };
    if !archive.exists() {
        eprintln!("importing {} into the archive", served_corpus.display());
        let status = Command::new(&morgue)
            .arg("--archive")
            .arg(&archive)
            .args(["-q", "import"])
            .arg(&served_corpus)
            .status()?;
        if !status.success() {
            bail!("the import of {} failed", served_corpus.display());
        }
    }
    // The import run during the load: new bodies (the generated articles after the first
    // `scale` ones, which the archive may already hold).
    let import_path = work.join("import.jsonl");
    corpus::generate_from(&sources, args.scale.unwrap_or(0), args.import, &import_path)?;

    // morgue serve.
    let mut child = Command::new(&morgue)
        .arg("--archive")
        .arg(&archive)
        .args(["serve", "--addr", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    let mut line = String::new();
    BufReader::new(child.stdout.take().context("no stdout")?).read_line(&mut line)?;
    let server = Process { child };
    let base = line
        .trim()
        .rsplit(' ')
        .next()
        .filter(|u| u.starts_with("http://127.0.0.1:"))
        .with_context(|| format!("morgue serve printed {line:?}"))?
        .to_owned();
    let client = agent();
    let stats = get_json(&client, &format!("{base}/api/stats"))?;
    report.archive_articles = stats["articles"].as_u64().unwrap_or(0);
    let mut ids = Vec::new();
    let page = get_json(&client, &format!("{base}/api/articles?limit=1000"))?;
    for a in page["articles"].as_array().into_iter().flatten() {
        ids.extend(a["id"].as_str().map(str::to_owned));
    }
    let reporters: Vec<String> = get_json(&client, &format!("{base}/api/reporters"))?
        .as_array()
        .into_iter()
        .flatten()
        .take(50)
        .filter_map(|r| r["name"].as_str().map(str::to_owned))
        .collect();
    if ids.is_empty() || reporters.is_empty() {
        bail!("the archive has no articles or no reporters");
    }
    let plan: Arc<dyn Plan> = Arc::new(MorguePlan {
        ids,
        reporters: reporters.clone(),
    });

    // The import through the server, during the load.
    let importing = Arc::new(AtomicBool::new(true));
    let import_thread = {
        let base = base.clone();
        let path = import_path.clone();
        let importing = Arc::clone(&importing);
        std::thread::spawn(move || -> Result<(Value, f64)> {
            let at = Instant::now();
            let mut file = std::fs::File::open(&path)?;
            let mut response = agent()
                .post(format!(
                    "{base}/api/import?format=jsonl&events=true&name=import.jsonl"
                ))
                .send(ureq::SendBody::from_reader(&mut file))?;
            let body = response
                .body_mut()
                .with_config()
                .limit(1 << 30)
                .read_to_vec()?;
            importing.store(false, Ordering::SeqCst);
            Ok((serde_json::from_slice(&body)?, at.elapsed().as_secs_f64()))
        })
    };
    eprintln!("morgue: load of {} x {}", args.clients, args.requests);
    let mut side = load(&base, &plan, args, "morgue serve");
    if importing.load(Ordering::SeqCst) {
        report
            .notes
            .push("the import outlasted the load: waited for it".to_owned());
    }
    let (summary, import_seconds) = import_thread
        .join()
        .map_err(|_| anyhow::anyhow!("the import thread panicked"))??;
    let acknowledged: Vec<String> = summary["events"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["stored"].as_str().or(e["duplicate"].as_str()))
        .map(str::to_owned)
        .collect();
    let mut visible = 0;
    for id in &acknowledged {
        if get(&client, &format!("{base}/api/articles/{id}"))?.0 == 200 {
            visible += 1;
        }
    }
    report.import = ImportFigures {
        articles_acknowledged: acknowledged.len() as u64,
        failed: summary["failed"].as_array().map_or(0, |f| f.len() as u64),
        seconds: import_seconds,
        visible_afterwards: visible,
    };
    side.peak_rss_bytes = server.peak_rss();
    server.stop()?;
    report.morgue = side;

    // Datasette on the baseline.
    let datasette = args.datasette.clone().unwrap_or_else(|| {
        PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
            .join(".cache/morgue-venv/bin/datasette")
    });
    if args.skip_datasette || args.scale.is_some() {
        report.notes.push("Datasette skipped".to_owned());
    } else if !datasette.exists() {
        report.notes.push(format!(
            "Datasette skipped: {} not found (pip install datasette==0.65.5 into $HOME/.cache/morgue-venv)",
            datasette.display()
        ));
    } else {
        report.datasette = Some(datasette_side(
            &datasette,
            &corpus_path,
            &work,
            &reporters,
            args,
        )?);
    }
    println!("{}", serde_json::to_string_pretty(&report)?);
    print_text(&report);
    Ok(())
}

fn datasette_side(
    datasette: &Path,
    corpus_path: &Path,
    work: &Path,
    reporters: &[String],
    args: &ServeArgs,
) -> Result<Side> {
    let db = work.join("baseline.db");
    if !db.exists() {
        eprintln!("loading the SQLite baseline");
        crate::sqlite::load(corpus_path, &db, false, true)?;
    }
    let ids = crate::sqlite::Db::open(&db)?.ids()?;
    let port = free_port()?;
    let version = Command::new(datasette).arg("--version").output()?;
    let child = Command::new(datasette)
        .arg("serve")
        .arg("-i")
        .arg(&db)
        .args(["-h", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    let server = Process { child };
    let base = format!("http://127.0.0.1:{port}");
    let client = agent();
    let ready = Instant::now();
    while get(&client, &format!("{base}/-/versions.json")).is_err() {
        if ready.elapsed() > Duration::from_secs(60) {
            bail!("Datasette did not answer within 60 seconds");
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let plan: Arc<dyn Plan> = Arc::new(DatasettePlan {
        ids,
        reporters: reporters.to_vec(),
    });
    eprintln!("datasette: load of {} x {}", args.clients, args.requests);
    let name = String::from_utf8_lossy(&version.stdout).trim().to_owned();
    let mut side = load(&base, &plan, args, &format!("{name} (-i)"));
    side.peak_rss_bytes = server.peak_rss();
    drop(server);
    Ok(side)
}

fn print_text(report: &Report) {
    eprintln!();
    eprintln!(
        "machine: {}; load before: {}",
        report.machine,
        report.load_before.trim()
    );
    eprintln!(
        "{} clients x {} requests; archive of {} articles",
        report.clients, report.requests_per_client, report.archive_articles
    );
    let sides: Vec<&Side> = std::iter::once(&report.morgue)
        .chain(report.datasette.as_ref())
        .collect();
    for side in &sides {
        eprintln!(
            "{:<28} {:>7} requests {:>4} errors {:>8.1} req/s  p50 {:>7.2} ms  p99 {:>8.2} ms  peak RSS {}",
            side.server,
            side.requests,
            side.errors,
            side.requests_per_second,
            side.p50_ms,
            side.p99_ms,
            side.peak_rss_bytes
                .map_or("-".to_owned(), |b| format!("{} MiB", b >> 20))
        );
        for (kind, p50, p99) in &side.per_kind {
            eprintln!("    {kind:<14} p50 {p50:>7.2} ms  p99 {p99:>8.2} ms");
        }
        for e in &side.first_errors {
            eprintln!("    error: {e}");
        }
    }
    let i = &report.import;
    eprintln!(
        "import through the server during the load: {} acknowledged in {:.1} s ({} failed), {} visible afterwards",
        i.articles_acknowledged, i.seconds, i.failed, i.visible_afterwards
    );
    if let Some(d) = &report.datasette {
        eprintln!(
            "morgue / Datasette: {:.1}x the requests/s, {:.3}x the p99",
            report.morgue.requests_per_second / d.requests_per_second,
            report.morgue.p99_ms / d.p99_ms
        );
    }
    for note in &report.notes {
        eprintln!("note: {note}");
    }
}
