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

use anyhow::Context as _;
use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, Path as UrlPath, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use morgue_ingest::{Format, Overrides};
use morgue_meta::import::ImportOptions;
use morgue_meta::{Archive, BlobId, Cursor, MergePolicy, SearchOptions, SearchOrder, TextQuery};
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
    let runtime = tokio::runtime::Builder::new_multi_thread()
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
        .with_graceful_shutdown(shutdown())
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

/// The address of the server holding the archive at `dir`, as its address file says; `None`
/// when there is none, or when it is stale (its process is gone).
pub fn server_address(dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(dir.join(ADDRESS_FILE)).ok()?;
    let mut lines = text.lines();
    let url = lines.next()?.to_owned();
    let pid = lines.next()?;
    Path::new("/proc").join(pid).exists().then_some(url)
}

async fn shutdown() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
}

fn router(app: Arc<App>) -> Router {
    let limit = app.max_body;
    Router::new()
        .route("/api/articles", get(list))
        .route("/api/articles/{id}", get(show).delete(remove))
        .route("/api/articles/{id}/body", get(body))
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

    fn internal(err: &anyhow::Error) -> ApiError {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            crate::report::error_lines(err).join(": "),
        )
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

/// Runs `work` on the blocking pool: the archive's calls read disk.
async fn blocking<T: Send + 'static>(
    app: &Arc<App>,
    work: impl FnOnce(&Archive) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    let app = Arc::clone(app);
    tokio::task::spawn_blocking(move || work(&app.archive))
        .await
        .map_err(|e| ApiError::internal(&anyhow::anyhow!("the request's task failed: {e}")))?
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
    known.push("q");
    params.only(&known)?;
    let filters = filters(&params)?.to_query();
    let limit = params.limit()?;
    let text = params
        .get("q")
        .filter(|q| !q.trim().is_empty())
        .ok_or_else(|| ApiError::bad("q (the query) is missing"))?;
    let query = TextQuery::parse(text).map_err(|e| ApiError::bad(format!("q: {e}")))?;
    // The cursor of a search is how many hits came before.
    let skip = match params.get("cursor").filter(|c| !c.is_empty()) {
        None => 0,
        Some(text) => text
            .parse::<usize>()
            .ok()
            .filter(|&n| n <= 1_000_000)
            .ok_or_else(|| ApiError::bad(format!("malformed cursor {text:?}")))?,
    };
    let options = SearchOptions {
        reporter: filters.reporter,
        service: filters.service,
        since: filters.since,
        until: filters.until,
        limit: Some(skip + limit + 1),
        order: SearchOrder::Relevance,
    };
    let body = blocking(&app, move |archive| {
        let hits = match archive.search(&query, &options) {
            Ok(hits) => hits,
            Err(morgue_meta::Error::NoTextIndex { .. }) => Vec::new(),
            Err(e) => return Err(ApiError::internal(&e.into())),
        };
        let more = hits.len() > skip + limit;
        let mut out = Vec::new();
        for hit in hits.iter().skip(skip).take(limit) {
            let snippet = archive
                .snippet(&query, &hit.id, super::search::SNIPPET_CHARS)
                .map_err(|e| ApiError::internal(&e.into()))?;
            out.push(super::search::HitJson {
                article: ArticleJson::new(&hit.id, &hit.record),
                score: hit.score,
                snippet: snippet.marked(super::search::MARK_OPEN, super::search::MARK_CLOSE),
            });
        }
        let next = more.then(|| (skip + limit).to_string());
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
    if !((4..=64).contains(&prefix.len()) && prefix.bytes().all(|b| b.is_ascii_hexdigit())) {
        return Err(ApiError::bad(
            "expected an id or id prefix of 4 to 64 hex characters",
        ));
    }
    match archive.resolve(prefix) {
        Ok(id) => Ok(id),
        Err(Meta::Store(Store::Ambiguous { candidates, .. })) => {
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
        Err(Meta::Store(Store::NotFound { .. })) => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            format!("no article matches {prefix}"),
        )),
        Err(e) => Err(ApiError::internal(&e.into())),
    }
}

async fn show(State(app): State<Arc<App>>, UrlPath(prefix): UrlPath<String>) -> Answer {
    let body = blocking(&app, move |archive| {
        let id = resolve(archive, &prefix)?;
        let record = archive
            .record(&id)
            .map_err(|e| ApiError::internal(&e.into()))?
            .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, format!("no article {id}")))?;
        serde_json::to_value(ArticleJson::new(&id, &record))
            .map_err(|e| ApiError::internal(&e.into()))
    })
    .await?;
    Ok(ok_json(&body))
}

async fn body(State(app): State<Arc<App>>, UrlPath(prefix): UrlPath<String>) -> Answer {
    let bytes = blocking(&app, move |archive| {
        let id = resolve(archive, &prefix)?;
        archive
            .body(&id)
            .map_err(|e| ApiError::internal(&e.into()))?
            .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, format!("no article {id}")))
    })
    .await?;
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        )],
        bytes,
    )
        .into_response())
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
            other => Err(ApiError::bad(format!(
                "format must be auto, rfa, text, json or jsonl, found {other:?}"
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
        _ => Format::Auto,
    })
}

async fn import(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Answer {
    authorize(&app, &headers)?;
    writable(&app)?;
    let params = Params::of(query)?;
    params.only(&["format", "overwrite"])?;
    let format = import_format(&params, &headers)?;
    let policy = match params.get("overwrite") {
        None | Some("false" | "0") => MergePolicy::FillEmpty,
        Some("true" | "1" | "") => MergePolicy::Overwrite,
        Some(other) => {
            return Err(ApiError::bad(format!(
                "overwrite: expected true or false, found {other:?}"
            )));
        }
    };
    let body = body.map_err(|rejection| {
        ApiError::new(
            rejection.status(),
            format!(
                "request body: {} (the limit is {} bytes)",
                rejection.body_text(),
                app.max_body
            ),
        )
    })?;
    let summary = blocking(&app, move |archive| {
        let mut tally = super::import::Tally::default();
        let options = ImportOptions {
            policy,
            ..ImportOptions::default()
        };
        let reader: Box<dyn std::io::Read + Send> = Box::new(std::io::Cursor::new(body));
        archive
            .import(
                &options,
                |feed| {
                    super::import::read_one(
                        &Arc::from("request"),
                        0,
                        reader,
                        format,
                        &Overrides::default(),
                        feed,
                    );
                },
                |event| tally.count(event),
            )
            .map_err(|e| ApiError::internal(&anyhow::Error::new(e)))?;
        tally.sort();
        serde_json::to_value(tally.to_json()).map_err(|e| ApiError::internal(&e.into()))
    })
    .await?;
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
