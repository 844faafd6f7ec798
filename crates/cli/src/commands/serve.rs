//! `morgue serve`: the archive as a JSON API over HTTP (axum on tokio), opened once and served
//! until SIGINT or SIGTERM.
//!
//! The objects are the CLI's: articles are morgue-model's article JSON (as `list --format
//! json`), figures are `stats --format json`'s, facets `reporters --format json`'s, an import's
//! answer is `import --summary json`'s, and an import runs morgue-meta's one pipeline
//! ([`morgue_meta::Archive::import`]) fed by the reader `morgue import` uses.

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Context as _;
use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{DefaultBodyLimit, Path as UrlPath, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use morgue_ingest::{Format, Overrides};
use morgue_meta::import::{Event, ImportOptions};
use morgue_meta::{
    Archive, BlobId, Cursor, MergePolicy, SearchCursor, SearchOptions, SearchOrder, TextQuery,
};
use serde::Serialize;
use serde_json::json;

use super::Ctx;
use crate::args::{FilterArgs, ServeArgs};
use crate::dates::Period;
use crate::output::ArticleJson;
use crate::report::ExitStatus;

/// The file in the archive directory that names a running server's address (removed at
/// shutdown).
pub const ADDRESS_FILE: &str = "SERVE";
/// Articles or hits per page when `limit` is not given, and the most a page may hold.
const DEFAULT_LIMIT: usize = 50;
const MAX_LIMIT: usize = 1000;

pub(super) struct App {
    pub(super) archive: Archive,
    token: Option<String>,
    /// `--max-body`: the largest request body.
    max_body: usize,
}

pub fn run(args: &ServeArgs, ctx: &Ctx) -> anyhow::Result<ExitStatus> {
    let Ok(addr) = args.addr.parse::<SocketAddr>() else {
        eprintln!(
            "{}: --addr {:?} is not an address with a port (e.g. 127.0.0.1:7070)",
            ctx.paint_error("error"),
            args.addr
        );
        return Ok(ExitStatus::Usage);
    };
    let token = args.token.clone().filter(|t| !t.is_empty());
    if !addr.ip().is_loopback() && token.is_none() {
        eprintln!(
            "{}: refusing to serve on {addr} without a token: anyone who can reach it could \
             import and delete articles. Pass --token T (or set MORGUE_TOKEN), or bind a \
             loopback address such as 127.0.0.1",
            ctx.paint_error("error")
        );
        return Ok(ExitStatus::Usage);
    }
    let dir = ctx.archive_dir()?.to_path_buf();
    let archive = if dir.exists() {
        ctx.open_existing()?
    } else {
        ctx.open()?
    };
    let app = Arc::new(App {
        archive,
        token,
        max_body: args.max_body,
    });
    // The archive's calls run on tokio's blocking pool. Its default (up to 512 threads) gives
    // every concurrent request a thread, each keeping an allocator heap of its own, and past a
    // few per core they only wait on each other: two per core (at least four, one of which a
    // streamed import may hold) bound the server's memory under load and cut its p99
    // (docs/performance.md, "Sharing the archive").
    let cores = std::thread::available_parallelism().map_or(2, usize::from);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .max_blocking_threads((2 * cores).max(4))
        .enable_all()
        .build()
        .context("starting the server's runtime")?;
    let served = runtime.block_on(serve(Arc::clone(&app), addr, &dir, ctx));
    // In-flight requests are done; blocking tasks too once the runtime is gone.
    drop(runtime);
    let _ = std::fs::remove_file(dir.join(ADDRESS_FILE));
    served?;
    let app = Arc::into_inner(app).context("a request still holds the archive")?;
    super::close(app.archive)?;
    Ok(ExitStatus::Success)
}

async fn serve(app: Arc<App>, addr: SocketAddr, dir: &Path, ctx: &Ctx) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("binding {addr}"))?;
    let local = listener.local_addr()?;
    let stop = shutdown().context("listening for SIGINT and SIGTERM")?;
    write_address_file(dir, local)?;
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "serving {} on http://{local}", dir.display())?;
        out.flush()?;
    }
    if !ctx.quiet {
        eprintln!("stop with Ctrl-C (or SIGTERM): requests in flight are finished first");
    }
    axum::serve(listener, router(app))
        .with_graceful_shutdown(stop)
        .await
        .context("serving")
}

/// Writes `http://ADDR` and this process's id, one a line, into the address file (atomically:
/// a temporary file renamed).
fn write_address_file(dir: &Path, addr: SocketAddr) -> anyhow::Result<()> {
    let path = dir.join(ADDRESS_FILE);
    let temp = dir.join(format!("{ADDRESS_FILE}.tmp"));
    std::fs::write(&temp, format!("http://{addr}\n{}\n", std::process::id()))
        .and_then(|()| std::fs::rename(&temp, &path))
        .or_else(|e| {
            let _ = std::fs::remove_file(&temp);
            // A read-only archive has no room for it: served all the same.
            if matches!(
                e.kind(),
                std::io::ErrorKind::ReadOnlyFilesystem | std::io::ErrorKind::PermissionDenied
            ) {
                Ok(())
            } else {
                Err(e)
            }
        })
        .with_context(|| format!("writing {}", path.display()))
}

/// The address (`http://ADDR`) and process id of the server holding the archive at `dir`, as
/// its address file says; `None` when there is none, or when it is stale (its process is gone).
pub fn server_address(dir: &Path) -> Option<(String, String)> {
    let text = std::fs::read_to_string(dir.join(ADDRESS_FILE)).ok()?;
    let mut lines = text.lines();
    let url = lines.next()?.to_owned();
    let pid = lines.next()?;
    if pid.is_empty() || !pid.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Path::new("/proc")
        .join(pid)
        .exists()
        .then(|| (url, pid.to_owned()))
}

/// Listens for SIGINT and SIGTERM from now on, and resolves at the first. Called before the
/// address is announced: a signal sent as soon as the server answers must stop it gracefully,
/// not find no handler yet and kill it (axum polls its shutdown future in a task of its own,
/// which may not have run by then).
fn shutdown() -> std::io::Result<impl Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = terminate.recv() => {}
        }
    })
}

fn router(app: Arc<App>) -> Router {
    let limit = app.max_body;
    Router::new()
        .route("/api/articles", get(list))
        .route("/api/articles/{id}", get(show).delete(remove))
        .route("/api/articles/{id}/body", get(body))
        .route("/api/articles/{id}/original", get(original))
        .route("/api/search", get(search))
        .route("/api/reporters", get(reporters))
        .route("/api/services", get(services))
        .route("/api/stats", get(stats))
        .route("/api/import", post(import))
        .merge(super::web::routes())
        .fallback(|uri: axum::http::Uri| async move {
            if uri.path().starts_with("/api/") {
                ApiError::new(StatusCode::NOT_FOUND, "no such page").into_response()
            } else {
                super::web::not_found()
            }
        })
        .layer(DefaultBodyLimit::max(limit))
        .with_state(app)
}

/// An error answer: `{"error": "..."}` with its status.
#[derive(Debug)]
struct ApiError {
    status: StatusCode,
    body: serde_json::Value,
}

impl ApiError {
    fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            body: json!({ "error": message.into() }),
        }
    }

    fn bad(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, message)
    }

    /// A failure of the archive: `error` says it in one line, `causes` line by line (as the
    /// CLI prints an error: what failed, then each cause).
    fn internal(err: &anyhow::Error) -> ApiError {
        let lines = crate::report::error_lines(err);
        ApiError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            body: json!({ "error": lines.join(": "), "causes": lines }),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, axum::Json(self.body)).into_response()
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> ApiError {
        ApiError::bad(format!("malformed query string: {}", rejection.body_text()))
    }
}

type Answer = Result<Response, ApiError>;

fn ok_json(value: &impl Serialize) -> Response {
    axum::Json(value).into_response()
}

/// Runs `work` on the blocking pool: the archive's calls read disk. The API's and the web
/// page's handlers both use it, each with its own error (a failed task becomes an internal one).
pub(super) async fn blocking<T, E>(
    app: &Arc<App>,
    work: impl FnOnce(&Archive) -> Result<T, E> + Send + 'static,
) -> Result<T, E>
where
    T: Send + 'static,
    E: From<tokio::task::JoinError> + Send + 'static,
{
    let app = Arc::clone(app);
    tokio::task::spawn_blocking(move || work(&app.archive)).await?
}

/// A task of the blocking pool that failed (panicked or was cancelled), as the error behind it.
pub(super) fn task_failed(e: &tokio::task::JoinError) -> anyhow::Error {
    anyhow::anyhow!("the request's task failed: {e}")
}

impl From<tokio::task::JoinError> for ApiError {
    fn from(e: tokio::task::JoinError) -> ApiError {
        ApiError::internal(&task_failed(&e))
    }
}

/// The query string's parameters; a name given twice is refused.
struct Params(Vec<(String, String)>);

impl Params {
    fn of(query: Result<Query<Vec<(String, String)>>, QueryRejection>) -> Result<Params, ApiError> {
        let Query(pairs) = query?;
        for (i, (name, _)) in pairs.iter().enumerate() {
            if pairs[..i].iter().any(|(n, _)| n == name) {
                return Err(ApiError::bad(format!("parameter {name:?} given twice")));
            }
        }
        Ok(Params(pairs))
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Refuses a parameter not in `known` (a misspelt filter must not widen the answer).
    fn only(&self, known: &[&str]) -> Result<(), ApiError> {
        match self.0.iter().find(|(n, _)| !known.contains(&n.as_str())) {
            Some((name, _)) => Err(ApiError::bad(format!(
                "unknown parameter {name:?} (known: {})",
                known.join(", ")
            ))),
            None => Ok(()),
        }
    }

    fn limit(&self) -> Result<usize, ApiError> {
        match self.get("limit") {
            None => Ok(DEFAULT_LIMIT),
            Some(text) => match text.parse::<usize>() {
                Ok(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
                _ => Err(ApiError::bad(format!(
                    "limit must be a whole number from 1 to {MAX_LIMIT}, found {text:?}"
                ))),
            },
        }
    }
}

/// The filters `list` and `search` share ([`FilterArgs`], as the CLI's), from the query
/// string.
fn filters(params: &Params) -> Result<FilterArgs, ApiError> {
    let name = |key: &str| {
        params
            .get(key)
            .map(|v| v.split_whitespace().collect::<Vec<_>>().join(" "))
            .filter(|v| !v.is_empty())
    };
    let period = |key: &str| -> Result<Option<Period>, ApiError> {
        match params.get(key).filter(|v| !v.trim().is_empty()) {
            None => Ok(None),
            Some(text) => Period::parse(text)
                .map(Some)
                .map_err(|e| ApiError::bad(format!("{key}: {e}"))),
        }
    };
    let filters = FilterArgs {
        reporter: name("reporter"),
        service: name("service"),
        since: period("since")?,
        until: period("until")?,
    };
    filters
        .check()
        .map_err(|e| ApiError::bad(e.to_string().replace("--", "")))?;
    Ok(filters)
}

const FILTERS: [&str; 6] = ["reporter", "service", "since", "until", "limit", "cursor"];

async fn list(
    State(app): State<Arc<App>>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Answer {
    let params = Params::of(query)?;
    params.only(&FILTERS)?;
    let filters = filters(&params)?;
    let limit = params.limit()?;
    let after = match params.get("cursor").filter(|c| !c.is_empty()) {
        None => None,
        Some(text) => Some(
            text.parse::<Cursor>()
                .map_err(|_| ApiError::bad(format!("malformed cursor {text:?}")))?,
        ),
    };
    let query = morgue_meta::Query {
        limit: Some(limit + 1),
        after,
        ..filters.to_query()
    };
    let body = blocking(&app, move |archive| {
        let hits = archive
            .query(&query)
            .and_then(Iterator::collect::<Result<Vec<_>, _>>)
            .map_err(|e| ApiError::internal(&e.into()))?;
        let next = (hits.len() > limit).then(|| hits[limit - 1].cursor.to_string());
        let articles: Vec<_> = hits
            .iter()
            .take(limit)
            .map(|h| ArticleJson::new(&h.id, &h.record))
            .collect();
        serde_json::to_value(json!({ "articles": articles, "next": next }))
            .map_err(|e| ApiError::internal(&e.into()))
    })
    .await?;
    Ok(ok_json(&body))
}

async fn search(
    State(app): State<Arc<App>>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Answer {
    let params = Params::of(query)?;
    let mut known = FILTERS.to_vec();
    known.extend(["q", "sort", "open", "close"]);
    params.only(&known)?;
    let order = match params.get("sort") {
        None | Some("relevance") => SearchOrder::Relevance,
        Some("date") => SearchOrder::Date,
        Some(other) => {
            return Err(ApiError::bad(format!(
                "sort must be relevance or date, found {other:?}"
            )));
        }
    };
    // The marks around matched words in the snippets (`[` and `]` unless told).
    let mark = |name: &str, default: &str| match params.get(name) {
        None => Ok(default.to_owned()),
        Some(mark) if mark.chars().count() <= 8 => Ok(mark.to_owned()),
        Some(_) => Err(ApiError::bad(format!(
            "{name}: a mark is 8 characters at most"
        ))),
    };
    let open = mark("open", super::search::MARK_OPEN)?;
    let close = mark("close", super::search::MARK_CLOSE)?;
    let filters = filters(&params)?.to_query();
    let limit = params.limit()?;
    let text = params
        .get("q")
        .filter(|q| !q.trim().is_empty())
        .ok_or_else(|| ApiError::bad("q (the query) is missing"))?;
    let query = TextQuery::parse(text).map_err(|e| ApiError::bad(format!("q: {e}")))?;
    // The cursor of a search is where its last page ended (`SearchHit::cursor`).
    let after = match params.get("cursor").filter(|c| !c.is_empty()) {
        None => None,
        Some(text) => Some(
            text.parse::<SearchCursor>()
                .map_err(|_| ApiError::bad(format!("malformed cursor {text:?}")))?,
        ),
    };
    let options = SearchOptions {
        reporter: filters.reporter,
        service: filters.service,
        since: filters.since,
        until: filters.until,
        limit: Some(limit + 1),
        order,
        after,
    };
    let body = blocking(&app, move |archive| {
        let hits = match archive.search(&query, &options) {
            Ok(hits) => hits,
            Err(morgue_meta::Error::NoTextIndex { .. }) => Vec::new(),
            Err(morgue_meta::Error::InvalidCursor(text)) => {
                return Err(ApiError::bad(format!(
                    "cursor {text:?} is not one of a search by {}",
                    if order == SearchOrder::Date {
                        "date"
                    } else {
                        "relevance"
                    }
                )));
            }
            Err(e) => return Err(ApiError::internal(&e.into())),
        };
        let more = hits.len() > limit;
        let mut out = Vec::new();
        for hit in hits.iter().take(limit) {
            let snippet = archive
                .snippet(&query, &hit.id, super::search::SNIPPET_CHARS)
                .map_err(|e| ApiError::internal(&e.into()))?;
            out.push(super::search::HitJson {
                article: ArticleJson::new(&hit.id, &hit.record),
                score: hit.score,
                snippet: snippet.marked(&open, &close),
            });
        }
        let next = more.then(|| hits[limit - 1].cursor(order).to_string());
        serde_json::to_value(json!({ "hits": out, "next": next }))
            .map_err(|e| ApiError::internal(&e.into()))
    })
    .await?;
    Ok(ok_json(&body))
}

/// The article an id or unique prefix names: 400 for a malformed one, 404 unknown, 409
/// ambiguous (with the candidates).
fn resolve(archive: &Archive, prefix: &str) -> Result<BlobId, ApiError> {
    use morgue_meta::Error as Meta;
    use morgue_store::Error as Store;
    // The messages are the CLI's (`commands::resolve`): the CLI through a server prints them.
    match archive.resolve(prefix) {
        Ok(id) => Ok(id),
        Err(Meta::Store(Store::Ambiguous { candidates, prefix })) => {
            let candidates: Vec<_> = candidates
                .iter()
                .map(|id| {
                    let title = archive
                        .record(id)
                        .ok()
                        .flatten()
                        .map(|r| r.title)
                        .unwrap_or_default();
                    json!({ "id": id.to_string(), "title": title })
                })
                .collect();
            Err(ApiError {
                status: StatusCode::CONFLICT,
                body: json!({
                    "error": format!("id prefix {prefix} is ambiguous"),
                    "candidates": candidates,
                }),
            })
        }
        Err(Meta::Store(Store::NotFound { prefix })) => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            format!("no article matches {prefix}"),
        )),
        Err(e @ Meta::Store(Store::InvalidId { .. })) => Err(ApiError::bad(
            crate::report::error_lines(&e.into()).join(": "),
        )),
        Err(e) => Err(ApiError::internal(&e.into())),
    }
}

async fn show(State(app): State<Arc<App>>, UrlPath(prefix): UrlPath<String>) -> Answer {
    let body = blocking(&app, move |archive| {
        let id = resolve(archive, &prefix)?;
        let record = archive
            .record(&id)
            .map_err(|e| {
                ApiError::internal(
                    &anyhow::Error::new(e).context(format!("reading the record of {id}")),
                )
            })?
            .ok_or_else(|| {
                ApiError::new(StatusCode::NOT_FOUND, format!("article {id} has no record"))
            })?;
        let mut value = serde_json::to_value(ArticleJson::new(&id, &record))
            .map_err(|e| ApiError::internal(&e.into()))?;
        // One article's answer also says where its page as fetched is (HTML and WARC imports):
        // `GET /api/articles/{id}/original` gives its bytes.
        if let (Some(page), Some(object)) = (&record.original, value.as_object_mut()) {
            object.insert(
                "original".to_owned(),
                json!({
                    "id": BlobId::from_bytes(page.id).to_string(),
                    "len": page.len,
                    "media_type": page.media_type,
                }),
            );
        }
        Ok::<_, ApiError>(value)
    })
    .await?;
    Ok(ok_json(&body))
}

async fn body(State(app): State<Arc<App>>, UrlPath(prefix): UrlPath<String>) -> Answer {
    let bytes = blocking(&app, move |archive| {
        let id = resolve(archive, &prefix)?;
        archive
            .body(&id)
            .map_err(|e| {
                ApiError::internal(
                    &anyhow::Error::new(e).context(format!("reading the body of {id}")),
                )
            })?
            .ok_or_else(|| {
                ApiError::new(StatusCode::NOT_FOUND, format!("article {id} has no body"))
            })
    })
    .await?;
    Ok(bytes_answer("text/plain; charset=utf-8", bytes))
}

/// Bytes as they are stored, with their media type.
fn bytes_answer(media_type: &'static str, bytes: Vec<u8>) -> Response {
    (
        [(header::CONTENT_TYPE, HeaderValue::from_static(media_type))],
        bytes,
    )
        .into_response()
}

/// The page an article was extracted from, as fetched: its bytes are the site's, in the
/// site's character set, so they go as `application/octet-stream`.
async fn original(State(app): State<Arc<App>>, UrlPath(prefix): UrlPath<String>) -> Answer {
    let bytes = blocking(&app, move |archive| {
        let id = resolve(archive, &prefix)?;
        match archive.original(&id) {
            Ok(Some((_, page))) => Ok(page),
            Ok(None) => Err(ApiError::new(
                StatusCode::NOT_FOUND,
                super::cat::no_original(&id),
            )),
            Err(e) => Err(ApiError::internal(
                &anyhow::Error::new(e).context(format!("reading the original page of {id}")),
            )),
        }
    })
    .await?;
    Ok(bytes_answer("application/octet-stream", bytes))
}

async fn reporters(State(app): State<Arc<App>>) -> Answer {
    facet(&app, true).await
}

async fn services(State(app): State<Arc<App>>) -> Answer {
    facet(&app, false).await
}

async fn facet(app: &Arc<App>, reporters: bool) -> Answer {
    let body = blocking(app, move |archive| {
        let facets = if reporters {
            archive.reporters()
        } else {
            archive.services()
        }
        .map_err(|e| ApiError::internal(&e.into()))?;
        serde_json::to_value(super::facets::rows(&facets))
            .map_err(|e| ApiError::internal(&e.into()))
    })
    .await?;
    Ok(ok_json(&body))
}

async fn stats(State(app): State<Arc<App>>) -> Answer {
    let body = blocking(&app, |archive| {
        let stats = archive.stats().map_err(|e| ApiError::internal(&e.into()))?;
        serde_json::to_value(super::stats::json(&stats)).map_err(|e| ApiError::internal(&e.into()))
    })
    .await?;
    Ok(ok_json(&body))
}

/// Writes need the token, when one is set: `Authorization: Bearer T`.
fn authorize(app: &App, headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(token) = &app.token else {
        return Ok(());
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    // Compared in constant time: no byte of the token leaks through timing.
    let equal = given.is_some_and(|g| {
        g.len() == token.len()
            && g.bytes()
                .zip(token.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
    });
    if equal {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "this request changes the archive: it needs the header Authorization: Bearer TOKEN",
        ))
    }
}

fn writable(app: &App) -> Result<(), ApiError> {
    if app.archive.read_only() {
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "the archive is read-only: it can be read, not changed",
        ))
    } else {
        Ok(())
    }
}

/// The input format of an import: `?format=`, else the Content-Type, else detected.
fn import_format(params: &Params, headers: &HeaderMap) -> Result<Format, ApiError> {
    if let Some(name) = params.get("format") {
        return match name {
            "auto" => Ok(Format::Auto),
            "rfa" => Ok(Format::Rfa),
            "text" => Ok(Format::Text),
            "json" => Ok(Format::Json),
            "jsonl" => Ok(Format::Jsonl),
            "csv" => Ok(Format::Csv),
            "tsv" => Ok(Format::Tsv),
            "html" => Ok(Format::Html),
            "warc" => Ok(Format::Warc),
            other => Err(ApiError::bad(format!(
                "format must be auto, rfa, text, json, jsonl, csv, tsv, html or warc, found {other:?}"
            ))),
        };
    }
    let kind = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        });
    Ok(match kind.as_deref() {
        Some("application/x-ndjson" | "application/jsonl" | "application/x-jsonlines") => {
            Format::Jsonl
        }
        Some("application/json") => Format::Json,
        Some("text/csv") => Format::Csv,
        Some("text/tab-separated-values") => Format::Tsv,
        Some("text/html") => Format::Html,
        _ => Format::Auto,
    })
}

/// `import`'s `--service`, `--reporter` and `--date`, from `?service=`, `?reporter=` and
/// `?date=YYYY-MM-DD`.
fn import_overrides(params: &Params) -> Result<Overrides, ApiError> {
    let text = |name: &str| {
        params
            .get(name)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    };
    let date = match params.get("date").filter(|v| !v.is_empty()) {
        None => None,
        Some(text) => Some(
            chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .map(morgue_meta::ArticleDate::from_day)
                .map_err(|_| ApiError::bad(format!("date: expected YYYY-MM-DD, found {text:?}")))?,
        ),
    };
    Ok(Overrides {
        service: text("service"),
        reporter: text("reporter"),
        date,
    })
}

/// The request body as a reader for the import, on the blocking pool: each read waits for the
/// next piece the client sends (memory holds one piece at a time), and fails once more than
/// `limit` bytes came.
struct BodyReader {
    body: axum::body::Body,
    runtime: tokio::runtime::Handle,
    piece: Bytes,
    received: usize,
    limit: usize,
    /// Set when the body went past the limit.
    over: Arc<AtomicBool>,
}

impl std::io::Read for BodyReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        use axum::body::HttpBody as _;
        while self.piece.is_empty() {
            let body = &mut self.body;
            let frame = self.runtime.block_on(std::future::poll_fn(|cx| {
                std::pin::Pin::new(&mut *body).poll_frame(cx)
            }));
            match frame {
                None => return Ok(0),
                Some(Err(err)) => return Err(std::io::Error::other(err)),
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data() {
                        self.received = self.received.saturating_add(data.len());
                        if self.received > self.limit {
                            self.over.store(true, Ordering::SeqCst);
                            return Err(std::io::Error::other(format!(
                                "the request body is past the limit of {} bytes",
                                self.limit
                            )));
                        }
                        self.piece = data;
                    }
                }
            }
        }
        let n = buf.len().min(self.piece.len());
        buf[..n].copy_from_slice(&self.piece.split_to(n));
        Ok(n)
    }
}

async fn import(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
    body: axum::body::Body,
) -> Answer {
    authorize(&app, &headers)?;
    writable(&app)?;
    let params = Params::of(query)?;
    params.only(&[
        "format",
        "overwrite",
        "name",
        "service",
        "reporter",
        "date",
        "events",
    ])?;
    let format = import_format(&params, &headers)?;
    let flag = |name: &str| match params.get(name) {
        None | Some("false" | "0") => Ok(false),
        Some("true" | "1" | "") => Ok(true),
        Some(other) => Err(ApiError::bad(format!(
            "{name}: expected true or false, found {other:?}"
        ))),
    };
    let policy = if flag("overwrite")? {
        MergePolicy::Overwrite
    } else {
        MergePolicy::FillEmpty
    };
    let listed = flag("events")?;
    let overrides = import_overrides(&params)?;
    // The name the input is reported under (and its format detected by, as `morgue import`
    // does a file's): a label, never opened.
    let name: Arc<str> = Arc::from(
        params
            .get("name")
            .filter(|n| !n.is_empty())
            .unwrap_or("request"),
    );
    let too_big = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("request body: past the limit of {} bytes", app.max_body),
        )
    };
    // A declared length past the limit is refused before anything is read.
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > app.max_body as u64) {
        return Err(too_big());
    }
    let over = Arc::new(AtomicBool::new(false));
    let reader = BodyReader {
        body,
        runtime: tokio::runtime::Handle::current(),
        piece: Bytes::new(),
        received: 0,
        limit: app.max_body,
        over: Arc::clone(&over),
    };
    let summary = blocking(&app, move |archive| {
        let mut tally = super::import::Tally::default();
        // `events=true`: the stored and duplicate articles one by one, for `morgue import -v`
        // through the server.
        let mut events = Vec::new();
        let options = ImportOptions {
            policy,
            ..ImportOptions::default()
        };
        let reader: Box<dyn std::io::Read + Send> = Box::new(reader);
        archive
            .import(
                &options,
                |feed| {
                    super::import::read_one(&name, 0, reader, format, &overrides, feed);
                },
                |event| {
                    if listed {
                        match &event {
                            Event::Stored { id, .. } => {
                                events.push(json!({ "stored": id.to_string() }));
                            }
                            Event::Duplicate { source, id, filled } => events.push(json!({
                                "duplicate": id.to_string(),
                                "line": source.line,
                                "filled": filled,
                            })),
                            _ => {}
                        }
                    }
                    tally.count(event);
                },
            )
            .map_err(|e| ApiError::internal(&anyhow::Error::new(e)))?;
        tally.sort();
        let mut summary =
            serde_json::to_value(tally.to_json()).map_err(|e| ApiError::internal(&e.into()))?;
        if listed {
            summary["events"] = serde_json::Value::Array(events);
        }
        Ok::<_, ApiError>(summary)
    })
    .await?;
    if over.load(Ordering::SeqCst) {
        // What came before the limit was stored: the answer says what.
        let mut error = too_big();
        error.body["summary"] = summary;
        return Err(error);
    }
    Ok(ok_json(&summary))
}

async fn remove(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    UrlPath(prefix): UrlPath<String>,
) -> Answer {
    authorize(&app, &headers)?;
    writable(&app)?;
    let body = blocking(&app, move |archive| {
        let id = resolve(archive, &prefix)?;
        let removed = archive
            .remove(&id)
            .map_err(|e| ApiError::internal(&e.into()))?;
        if !removed {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                format!("no article matches {prefix}"),
            ));
        }
        archive.flush().map_err(|e| ApiError::internal(&e.into()))?;
        Ok(json!({ "removed": id.to_string() }))
    })
    .await?;
    Ok(ok_json(&body))
}
