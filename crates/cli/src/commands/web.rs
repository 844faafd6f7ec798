//! The web page of `morgue serve`: server-rendered HTML for people, beside the JSON API.
//!
//! `GET /` browses the archive newest first (as `list`) or, given `q`, searches it (as
//! `search`), with the filters of both (reporter, service, since, until), facet counts, pages
//! by cursor and a snippet per article; `GET /articles/{id}` shows one article, its metadata
//! and its body. No JavaScript; one stylesheet, embedded in the binary (`web/morgue.css`).
//!
//! Everything the archive holds is text: it reaches the page only through [`esc`], the one
//! escape function, and every page is sent with a Content-Security-Policy that allows no
//! script at all.

use std::collections::HashMap;
use std::fmt::{self, Write as _};
use std::sync::Arc;

use axum::Router;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path as UrlPath, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::Datelike as _;
use morgue_meta::{Archive, BlobId, Cursor, Record, SearchOptions, SearchOrder, TextQuery};

use super::serve::{App, blocking};
use crate::args::FilterArgs;
use crate::dates::Period;

/// The stylesheet, served at [`CSS_PATH`] (a path that changes with the version, so that it
/// can be cached for good).
const CSS: &str = include_str!("web/morgue.css");
const CSS_PATH: &str = concat!("/assets/morgue-", env!("CARGO_PKG_VERSION"), ".css");
/// Articles per page.
const PAGE: usize = 20;
/// The most matching articles read to count a filtered or searched page's facets.
pub(super) const FACET_SCAN: usize = 2000;
/// Names of a facet shown at once; the rest (up to [`FACET_MAX`]) behind "more".
const FACET_ROWS: usize = 8;
const FACET_MAX: usize = 100;
/// Characters of a snippet (as `search`'s).
const SNIPPET_CHARS: usize = super::search::SNIPPET_CHARS;
/// Nothing may run: the pages have no script, and a body that slipped through as markup could
/// still do nothing.
const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self' data:; \
                   form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// The page routes, merged into the server's router.
pub(super) fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/", get(front))
        .route("/articles/{id}", get(article))
        .route(CSS_PATH, get(css))
}

/// The answer to a path no route takes that is not under `/api/`.
pub(super) fn not_found() -> Response {
    PageError::new(StatusCode::NOT_FOUND, "There is no such page.").into_response()
}

// ---------------------------------------------------------------------------------------------
// Escaping and URLs

/// Text escaped for HTML, in element content and in quoted attribute values alike.
pub(super) fn esc(text: &str) -> Esc<'_> {
    Esc(text)
}

/// See [`esc`].
pub(super) struct Esc<'a>(&'a str);

impl fmt::Display for Esc<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rest = self.0;
        while let Some(at) = rest.find(['&', '<', '>', '"', '\'', '\0']) {
            f.write_str(&rest[..at])?;
            f.write_str(match rest.as_bytes()[at] {
                b'&' => "&amp;",
                b'<' => "&lt;",
                b'>' => "&gt;",
                b'"' => "&quot;",
                b'\'' => "&#39;",
                _ => "\u{FFFD}",
            })?;
            rest = &rest[at + 1..];
        }
        f.write_str(rest)
    }
}

/// `text` percent-encoded for a query string (all but the unreserved characters).
fn url_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// `1234567` as `1,234,567`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Errors

/// An error page: a status and what went wrong, with the search form (as it was asked).
#[derive(Debug)]
struct PageError {
    status: StatusCode,
    message: String,
    form: Box<Form>,
    /// More HTML (already escaped), e.g. the candidates of an ambiguous id.
    more: String,
}

impl PageError {
    fn new(status: StatusCode, message: impl Into<String>) -> PageError {
        PageError {
            status,
            message: message.into(),
            form: Box::default(),
            more: String::new(),
        }
    }

    fn bad(form: &Form, message: impl Into<String>) -> PageError {
        PageError {
            form: Box::new(form.clone()),
            ..PageError::new(StatusCode::BAD_REQUEST, message)
        }
    }

    fn internal(err: &anyhow::Error) -> PageError {
        PageError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!(
                "The archive failed: {}",
                crate::report::error_lines(err).join(": ")
            ),
        )
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let heading = match self.status {
            StatusCode::NOT_FOUND => "Not found",
            StatusCode::BAD_REQUEST => "Bad request",
            StatusCode::CONFLICT => "Which article?",
            _ => "Something went wrong",
        };
        let mut main = String::new();
        let _ = write!(
            main,
            "<section class=\"error\"><h1>{heading}</h1><p class=\"message\">{}</p>{}\
             <p><a href=\"/\">Browse the archive</a></p></section>",
            esc(&self.message),
            self.more,
        );
        let title = format!("{} {heading}", self.status.as_u16());
        html(self.status, &document(&title, &self.form, &main))
    }
}

fn internal(err: impl Into<anyhow::Error>) -> PageError {
    PageError::internal(&err.into())
}

impl From<tokio::task::JoinError> for PageError {
    fn from(e: tokio::task::JoinError) -> PageError {
        PageError::internal(&super::serve::task_failed(&e))
    }
}

// ---------------------------------------------------------------------------------------------
// The document

/// An HTML answer with the page's headers.
fn html(status: StatusCode, page: &str) -> Response {
    (
        status,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            ),
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(CSP),
            ),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
            (
                header::REFERRER_POLICY,
                HeaderValue::from_static("no-referrer"),
            ),
        ],
        page.to_owned(),
    )
        .into_response()
}

/// A whole page: head, the header with the search form, `main`.
fn document(title: &str, form: &Form, main: &str) -> String {
    let mut out = String::with_capacity(main.len() + 2048);
    let _ = write!(
        out,
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{} · morgue</title>\n<link rel=\"stylesheet\" href=\"{CSS_PATH}\">\n\
         <link rel=\"icon\" href=\"data:,\">\n</head>\n<body>\n<header class=\"top\">\n\
         <a class=\"home\" href=\"/\">morgue</a>\n{}</header>\n<main>\n{main}</main>\n\
         <footer>morgue · <a href=\"/api/articles\">JSON API</a></footer>\n\
         </body>\n</html>\n",
        esc(title),
        form.render(),
    );
    out
}

async fn css() -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/css; charset=utf-8"),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=31536000, immutable"),
            ),
        ],
        CSS,
    )
        .into_response()
}

// ---------------------------------------------------------------------------------------------
// The form: the query string of `/`

/// What `/` was asked: the search box and the filters, as typed.
#[derive(Debug, Clone, Default)]
struct Form {
    q: String,
    reporter: String,
    service: String,
    since: String,
    until: String,
}

impl Form {
    const NAMES: [&'static str; 5] = ["q", "reporter", "service", "since", "until"];

    /// The form and the cursor from a query string: an unknown parameter or one given twice is
    /// refused (a misspelt filter must not widen the page).
    fn parse(
        query: Result<Query<Vec<(String, String)>>, QueryRejection>,
    ) -> Result<(Form, Option<String>), PageError> {
        let Query(pairs) = query.map_err(|r| {
            PageError::bad(
                &Form::default(),
                format!("malformed query string: {}", r.body_text()),
            )
        })?;
        let mut form = Form::default();
        let mut cursor = None;
        let mut seen: Vec<&str> = Vec::new();
        for (name, value) in &pairs {
            if seen.contains(&name.as_str()) {
                return Err(PageError::bad(
                    &form,
                    format!("parameter {name:?} given twice"),
                ));
            }
            seen.push(name);
            let value = value.clone();
            match name.as_str() {
                "q" => form.q = value,
                "reporter" => form.reporter = value,
                "service" => form.service = value,
                "since" => form.since = value,
                "until" => form.until = value,
                "cursor" => cursor = Some(value).filter(|c| !c.is_empty()),
                _ => {
                    return Err(PageError::bad(
                        &form,
                        format!(
                            "unknown parameter {name:?} (known: {}, cursor)",
                            Form::NAMES.join(", ")
                        ),
                    ));
                }
            }
        }
        Ok((form, cursor))
    }

    fn get(&self, name: &str) -> &str {
        match name {
            "q" => &self.q,
            "reporter" => &self.reporter,
            "service" => &self.service,
            "since" => &self.since,
            "until" => &self.until,
            _ => "",
        }
    }

    /// The filters, as the API reads them: names with whitespace collapsed, periods parsed.
    fn filters(&self) -> Result<FilterArgs, PageError> {
        let name = |v: &str| Some(v.split_whitespace().collect::<Vec<_>>().join(" "));
        let period = |key: &str, text: &str| -> Result<Option<Period>, PageError> {
            if text.trim().is_empty() {
                return Ok(None);
            }
            Period::parse(text)
                .map(Some)
                .map_err(|e| PageError::bad(self, format!("{key}: {e}")))
        };
        let filters = FilterArgs {
            reporter: name(&self.reporter).filter(|v| !v.is_empty()),
            service: name(&self.service).filter(|v| !v.is_empty()),
            since: period("since", &self.since)?,
            until: period("until", &self.until)?,
        };
        filters
            .check()
            .map_err(|e| PageError::bad(self, e.to_string().replace("--", "")))?;
        Ok(filters)
    }

    /// The URL of `/` with this form, `changes` applied (`None` removes a parameter), and a
    /// cursor.
    fn url(&self, changes: &[(&str, Option<&str>)], cursor: Option<&str>) -> String {
        let mut pairs = Vec::new();
        for name in Form::NAMES {
            let value = changes
                .iter()
                .find(|(n, _)| *n == name)
                .map_or(Some(self.get(name)), |(_, v)| *v);
            if let Some(value) = value.filter(|v| !v.trim().is_empty()) {
                pairs.push(format!("{name}={}", url_encode(value)));
            }
        }
        if let Some(cursor) = cursor {
            pairs.push(format!("cursor={}", url_encode(cursor)));
        }
        if pairs.is_empty() {
            "/".to_owned()
        } else {
            format!("/?{}", pairs.join("&"))
        }
    }

    /// The search form: the box, the dates, the chosen reporter and service kept as hidden
    /// fields (each shown, with a link that drops it, above the results).
    fn render(&self) -> String {
        let mut out = String::new();
        let _ = write!(
            out,
            "<form class=\"search\" method=\"get\" action=\"/\" role=\"search\">\n\
             <input type=\"search\" name=\"q\" value=\"{}\" dir=\"auto\" \
             placeholder=\"words or &quot;a phrase&quot;\" \
             title=\"words, &quot;a phrase&quot;, a OR b, -not, pre*, title:word\" \
             aria-label=\"Search the archive\">\n\
             <button type=\"submit\">Search</button>\n\
             <div class=\"dates\"><label>since <input name=\"since\" value=\"{}\" \
             placeholder=\"YYYY-MM-DD\" size=\"10\" inputmode=\"numeric\"></label>\n\
             <label>until <input name=\"until\" value=\"{}\" placeholder=\"YYYY-MM-DD\" \
             size=\"10\" inputmode=\"numeric\"></label></div>\n",
            esc(&self.q),
            esc(&self.since),
            esc(&self.until),
        );
        for name in ["reporter", "service"] {
            let value = self.get(name);
            if !value.trim().is_empty() {
                let _ = writeln!(
                    out,
                    "<input type=\"hidden\" name=\"{name}\" value=\"{}\">",
                    esc(value)
                );
            }
        }
        out.push_str("</form>\n");
        out
    }
}

// ---------------------------------------------------------------------------------------------
// `/`: browse or search

/// One article of a page of results.
struct Row {
    id: BlobId,
    record: Record,
    /// The snippet, already HTML (escaped, with `<mark>`).
    snippet: String,
}

/// A facet: names (or years) with counts, most first.
#[derive(Default)]
struct Facets {
    reporters: Vec<(String, u64)>,
    services: Vec<(String, u64)>,
    years: Vec<(i32, u64)>,
    /// What the counts count, said under them.
    basis: String,
}

/// The results of `/`.
struct Results {
    rows: Vec<Row>,
    /// How many articles match; `more` when at least that many (counting stopped there).
    count: usize,
    more: bool,
    facets: Facets,
    /// The cursor of the next page.
    next: Option<String>,
}

async fn front(
    State(app): State<Arc<App>>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Response, PageError> {
    let (form, cursor) = Form::parse(query)?;
    let filters = form.filters()?;
    let text = if form.q.trim().is_empty() {
        None
    } else {
        Some(TextQuery::parse(&form.q).map_err(|e| PageError::bad(&form, format!("q: {e}")))?)
    };
    let page = blocking(&app, move |archive| {
        let results = match &text {
            Some(text) => search(archive, &form, &filters, text, cursor.as_deref())?,
            None => browse(archive, &form, &filters, cursor.as_deref())?,
        };
        Ok::<_, PageError>(render_results(&form, &results, cursor.is_some()))
    })
    .await?;
    Ok(html(StatusCode::OK, &page))
}

fn search(
    archive: &Archive,
    form: &Form,
    filters: &FilterArgs,
    text: &TextQuery,
    cursor: Option<&str>,
) -> Result<Results, PageError> {
    // The cursor of a search is how many hits came before (the API's names the last hit; the
    // page reads the first `FACET_SCAN` hits for its facets anyway).
    let skip = match cursor {
        None => 0,
        Some(c) => c
            .parse::<usize>()
            .ok()
            .filter(|&n| n <= 1_000_000)
            .ok_or_else(|| PageError::bad(form, format!("malformed cursor {c:?}")))?,
    };
    let filters = filters.to_query();
    let want = FACET_SCAN.max(skip + PAGE) + 1;
    let options = SearchOptions {
        reporter: filters.reporter,
        service: filters.service,
        since: filters.since,
        until: filters.until,
        limit: Some(want),
        order: SearchOrder::Relevance,
        after: None,
    };
    let hits = match archive.search(text, &options) {
        Ok(hits) => hits,
        Err(morgue_meta::Error::NoTextIndex { .. }) => Vec::new(),
        Err(e) => return Err(internal(e)),
    };
    let more = hits.len() >= want;
    let counted = hits.len().min(FACET_SCAN);
    let mut facets = count_facets(hits[..counted].iter().map(|h| &h.record));
    facets.basis = scanned_basis(more, "best");
    let mut rows = Vec::new();
    for hit in hits.iter().skip(skip).take(PAGE) {
        let snippet = archive
            .snippet(text, &hit.id, SNIPPET_CHARS)
            .map_err(internal)?;
        rows.push(Row {
            id: hit.id,
            record: hit.record.clone(),
            snippet: marked(&snippet),
        });
    }
    let next = (hits.len() > skip + PAGE).then(|| (skip + PAGE).to_string());
    Ok(Results {
        rows,
        count: if more { want - 1 } else { hits.len() },
        more,
        facets,
        next,
    })
}

/// What facets counted over the matches read for them say of themselves: all of them, or (when
/// there were more) the first `FACET_SCAN` in the order shown (`which`: "best", "newest").
fn scanned_basis(more: bool, which: &str) -> String {
    if more {
        format!(
            "Counted over the {which} {} matches.",
            thousands(FACET_SCAN as u64)
        )
    } else {
        "Counted over the matching articles.".to_owned()
    }
}

fn browse(
    archive: &Archive,
    form: &Form,
    filters: &FilterArgs,
    cursor: Option<&str>,
) -> Result<Results, PageError> {
    let after = cursor
        .map(|c| {
            c.parse::<Cursor>()
                .map_err(|_| PageError::bad(form, format!("malformed cursor {c:?}")))
        })
        .transpose()?;
    let query = |limit: usize, after: Option<Cursor>| -> Result<Vec<morgue_meta::Hit>, PageError> {
        archive
            .query(&morgue_meta::Query {
                limit: Some(limit),
                after,
                ..filters.to_query()
            })
            .and_then(Iterator::collect::<Result<Vec<_>, _>>)
            .map_err(internal)
    };
    let (count, more, facets, scanned) = if filters.any() {
        let scanned = query(FACET_SCAN + 1, None)?;
        let more = scanned.len() > FACET_SCAN;
        let mut facets = count_facets(scanned.iter().take(FACET_SCAN).map(|h| &h.record));
        facets.basis = scanned_basis(more, "newest");
        (scanned.len().min(FACET_SCAN), more, facets, Some(scanned))
    } else {
        // The whole archive: the counts every commit keeps, nothing to read.
        let stats = archive.stats().map_err(internal)?;
        let names = |facets: Vec<morgue_meta::Facet>| {
            facets
                .into_iter()
                .take(FACET_MAX)
                .map(|f| (f.name, f.count))
                .collect()
        };
        let mut years = stats.per_year.clone();
        years.sort_by_key(|&(year, _)| std::cmp::Reverse(year));
        let facets = Facets {
            reporters: names(archive.reporters().map_err(internal)?),
            services: names(stats.per_service),
            years,
            basis: "Counted over the whole archive.".to_owned(),
        };
        let count = usize::try_from(stats.articles).unwrap_or(usize::MAX);
        (count, false, facets, None)
    };
    let page = match (scanned, after) {
        // The first page of a filtered view is the start of what was counted.
        (Some(mut scanned), None) => {
            scanned.truncate(PAGE + 1);
            scanned
        }
        (_, after) => query(PAGE + 1, after)?,
    };
    let next = (page.len() > PAGE).then(|| page[PAGE - 1].cursor.to_string());
    let mut rows = Vec::new();
    for hit in page.into_iter().take(PAGE) {
        let body = archive.body(&hit.id).map_err(internal)?.unwrap_or_default();
        rows.push(Row {
            id: hit.id,
            snippet: esc(&excerpt(&String::from_utf8_lossy(&body))).to_string(),
            record: hit.record,
        });
    }
    Ok(Results {
        rows,
        count,
        more,
        facets,
        next,
    })
}

/// A search snippet as HTML: the text escaped, the matched words in `<mark>`.
fn marked(snippet: &morgue_meta::Snippet) -> String {
    let mut out = String::new();
    let mut at = 0;
    for m in &snippet.marks {
        let _ = write!(
            out,
            "{}<mark>{}</mark>",
            esc(&snippet.text[at..m.start]),
            esc(&snippet.text[m.clone()])
        );
        at = m.end;
    }
    let _ = write!(out, "{}", esc(&snippet.text[at..]));
    out
}

/// The start of a body, whitespace collapsed, about [`SNIPPET_CHARS`] characters (cut at a
/// word where one ends near there), `…` where it is cut.
fn excerpt(body: &str) -> String {
    let mut out = String::new();
    let mut chars = 0;
    for word in body.split_whitespace() {
        let n = word.chars().count();
        if chars > 0 && chars + 1 + n > SNIPPET_CHARS {
            out.push_str(" …");
            return out;
        }
        if chars > 0 {
            out.push(' ');
            chars += 1;
        }
        if n > SNIPPET_CHARS {
            // Text without spaces (Chinese, say): cut it.
            out.extend(word.chars().take(SNIPPET_CHARS - chars));
            out.push('…');
            return out;
        }
        out.push_str(word);
        chars += n;
    }
    out
}

/// Reporters, services and years counted over `records`: names that differ only in case or
/// spacing count as one (as the archive's facets), shown as first met.
fn count_facets<'a>(records: impl Iterator<Item = &'a Record>) -> Facets {
    #[derive(Default)]
    struct Tally {
        index: HashMap<String, usize>,
        rows: Vec<(String, u64)>,
    }
    impl Tally {
        fn add(&mut self, name: &str) {
            let key = morgue_model::normalize(name);
            if key.is_empty() {
                return;
            }
            let at = *self.index.entry(key).or_insert_with(|| {
                self.rows.push((name.to_owned(), 0));
                self.rows.len() - 1
            });
            self.rows[at].1 += 1;
        }
        fn most_first(mut self) -> Vec<(String, u64)> {
            self.rows
                .sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            self.rows.truncate(FACET_MAX);
            self.rows
        }
    }
    let (mut reporters, mut services) = (Tally::default(), Tally::default());
    let mut years: HashMap<i32, u64> = HashMap::new();
    for record in records {
        // An article names each reporter once, however spelt.
        let mut seen = Vec::new();
        for name in &record.reporters {
            let key = morgue_model::normalize(name);
            if !seen.contains(&key) {
                reporters.add(name);
                seen.push(key);
            }
        }
        seen.clear();
        for name in &record.services {
            let key = morgue_model::normalize(name);
            if !seen.contains(&key) {
                services.add(name);
                seen.push(key);
            }
        }
        if let Some(date) = record.date {
            *years.entry(date.day.year()).or_default() += 1;
        }
    }
    let mut years: Vec<_> = years.into_iter().collect();
    years.sort_by_key(|&(year, _)| std::cmp::Reverse(year));
    Facets {
        reporters: reporters.most_first(),
        services: services.most_first(),
        years,
        basis: String::new(),
    }
}

fn render_results(form: &Form, results: &Results, paged: bool) -> String {
    let mut main = String::new();
    main.push_str("<div class=\"layout\">\n<section class=\"results\">\n");
    // What is shown: the count, the query, the filters (each with a link that drops it).
    let (noun, verb) = if results.count == 1 && !results.more {
        ("article", "matches")
    } else {
        ("articles", "match")
    };
    let count = thousands(results.count as u64);
    let count = if results.more {
        format!("more than {count}")
    } else {
        count
    };
    let _ = write!(main, "<p class=\"count\"><strong>{count}</strong> {noun}");
    if form.q.trim().is_empty() {
        main.push_str(", newest first");
    } else {
        let _ = write!(
            main,
            " {verb} <q dir=\"auto\">{}</q>, best first",
            esc(form.q.trim())
        );
    }
    main.push_str("</p>\n");
    let chosen: Vec<(&str, &str)> = [
        ("reporter", "reporter"),
        ("service", "service"),
        ("since", "since"),
        ("until", "until"),
    ]
    .into_iter()
    .filter(|(name, _)| !form.get(name).trim().is_empty())
    .collect();
    if !chosen.is_empty() {
        main.push_str("<ul class=\"chosen\">");
        for (name, label) in chosen {
            let _ = write!(
                main,
                "<li>{label}: <span dir=\"auto\">{}</span> <a href=\"{}\" title=\"drop this \
                 filter\" aria-label=\"drop the {label} filter\">✕</a></li>",
                esc(form.get(name).trim()),
                esc(&form.url(&[(name, None)], None)),
            );
        }
        main.push_str("</ul>\n");
    }
    if results.rows.is_empty() {
        main.push_str("<p class=\"none\">No article matches.</p>\n");
    } else {
        main.push_str("<ol class=\"hits\">\n");
        for row in &results.rows {
            render_row(&mut main, form, row);
        }
        main.push_str("</ol>\n");
    }
    if paged || results.next.is_some() {
        main.push_str("<nav class=\"pager\">");
        if paged {
            let _ = write!(
                main,
                "<a href=\"{}\">« first page</a>",
                esc(&form.url(&[], None))
            );
        }
        if let Some(next) = &results.next {
            let _ = write!(
                main,
                "<a rel=\"next\" href=\"{}\">next page »</a>",
                esc(&form.url(&[], Some(next)))
            );
        }
        main.push_str("</nav>\n");
    }
    main.push_str("</section>\n");
    render_facets(&mut main, form, &results.facets);
    main.push_str("</div>\n");
    let title = if form.q.trim().is_empty() {
        "Browse".to_owned()
    } else {
        format!("Search: {}", form.q.trim())
    };
    document(&title, form, &main)
}

fn render_row(out: &mut String, form: &Form, row: &Row) {
    let r = &row.record;
    let lang = lang_attr(r);
    let title = if r.title.trim().is_empty() {
        "(no title)"
    } else {
        r.title.as_str()
    };
    let _ = write!(
        out,
        "<li class=\"hit\">\n<h2><a href=\"/articles/{}\" dir=\"auto\"{lang}>{}</a></h2>\n\
         <p class=\"meta\">",
        row.id,
        esc(title)
    );
    let mut parts = Vec::new();
    if let Some(date) = r.date {
        parts.push(format!(
            "<time datetime=\"{}\">{}</time>",
            date.day.format("%Y-%m-%d"),
            esc(&date.day_text())
        ));
    }
    if !r.reporters.is_empty() {
        let names: Vec<String> = r
            .reporters
            .iter()
            .map(|n| {
                format!(
                    "<a class=\"reporter\" href=\"{}\" dir=\"auto\">{}</a>",
                    esc(&form.url(&[("reporter", Some(n))], None)),
                    esc(n)
                )
            })
            .collect();
        parts.push(names.join(", "));
    }
    for service in &r.services {
        parts.push(format!(
            "<a class=\"service\" href=\"{}\" dir=\"auto\">{}</a>",
            esc(&form.url(&[("service", Some(service))], None)),
            esc(service)
        ));
    }
    out.push_str(&parts.join(" · "));
    let _ = write!(
        out,
        "</p>\n<p class=\"snippet\" dir=\"auto\"{lang}>{}</p>\n</li>\n",
        row.snippet
    );
}

fn render_facets(out: &mut String, form: &Form, facets: &Facets) {
    out.push_str("<aside class=\"facets\" aria-label=\"filters\">\n");
    let years: Vec<(String, u64)> = facets
        .years
        .iter()
        .map(|(y, n)| (y.to_string(), *n))
        .collect();
    let lists = [
        ("Reporters", "reporter", &facets.reporters),
        ("Services", "service", &facets.services),
        ("Years", "year", &years),
    ];
    for (heading, name, rows) in lists {
        if rows.is_empty() {
            continue;
        }
        let _ = writeln!(out, "<section class=\"facet\"><h2>{heading}</h2>");
        let item = |(value, count): &(String, u64)| -> String {
            let (on, href) = if name == "year" {
                let on = form.since.trim() == value && form.until.trim() == value;
                let v = (!on).then_some(value.as_str());
                (on, form.url(&[("since", v), ("until", v)], None))
            } else {
                let on = morgue_model::normalize(form.get(name)) == morgue_model::normalize(value);
                (
                    on,
                    form.url(&[(name, (!on).then_some(value.as_str()))], None),
                )
            };
            format!(
                "<li{}><a href=\"{}\" dir=\"auto\">{}</a> <span class=\"n\">{}</span></li>",
                if on { " class=\"on\"" } else { "" },
                esc(&href),
                esc(value),
                thousands(*count)
            )
        };
        out.push_str("<ul>");
        for row in rows.iter().take(FACET_ROWS) {
            out.push_str(&item(row));
        }
        out.push_str("</ul>\n");
        if rows.len() > FACET_ROWS {
            let _ = write!(
                out,
                "<details><summary>{} more</summary><ul>",
                rows.len() - FACET_ROWS
            );
            for row in rows.iter().skip(FACET_ROWS) {
                out.push_str(&item(row));
            }
            out.push_str("</ul></details>\n");
        }
        out.push_str("</section>\n");
    }
    let _ = writeln!(
        out,
        "<p class=\"basis\">{}</p>\n</aside>",
        esc(&facets.basis)
    );
}

// ---------------------------------------------------------------------------------------------
// `/articles/{id}`

/// The article an id or unique prefix names: 400 for a malformed one, 404 unknown, 409
/// ambiguous (with links to the candidates).
fn resolve(archive: &Archive, prefix: &str) -> Result<BlobId, PageError> {
    use morgue_meta::Error as Meta;
    use morgue_store::Error as Store;
    if !((4..=64).contains(&prefix.len()) && prefix.bytes().all(|b| b.is_ascii_hexdigit())) {
        return Err(PageError::new(
            StatusCode::BAD_REQUEST,
            "An article is named by its id, or a prefix of it: 4 to 64 hex characters.",
        ));
    }
    match archive.resolve(prefix) {
        Ok(id) => Ok(id),
        Err(Meta::Store(Store::Ambiguous { candidates, .. })) => {
            let mut more = String::from("<ul class=\"candidates\">");
            for id in &candidates {
                let title = archive
                    .record(id)
                    .ok()
                    .flatten()
                    .map(|r| r.title)
                    .unwrap_or_default();
                let _ = write!(
                    more,
                    "<li><a href=\"/articles/{id}\"><code>{}</code></a> <span dir=\"auto\">{}</span></li>",
                    &id.to_string()[..12],
                    esc(&title)
                );
            }
            more.push_str("</ul>");
            Err(PageError {
                more,
                ..PageError::new(
                    StatusCode::CONFLICT,
                    format!("The id prefix {prefix} names more than one article:"),
                )
            })
        }
        Err(Meta::Store(Store::NotFound { .. })) => Err(PageError::new(
            StatusCode::NOT_FOUND,
            format!("No article has an id starting with {prefix}."),
        )),
        Err(e) => Err(internal(e)),
    }
}

async fn article(
    State(app): State<Arc<App>>,
    prefix: Result<UrlPath<String>, PathRejection>,
) -> Result<Response, PageError> {
    let UrlPath(prefix) = prefix.map_err(|r| {
        PageError::new(
            StatusCode::BAD_REQUEST,
            format!("malformed path: {}", r.body_text()),
        )
    })?;
    let page = blocking(&app, move |archive| {
        let id = resolve(archive, &prefix)?;
        let record = archive
            .record(&id)
            .map_err(internal)?
            .ok_or_else(|| PageError::new(StatusCode::NOT_FOUND, format!("No article {id}.")))?;
        let body = archive.body(&id).map_err(internal)?.ok_or_else(|| {
            PageError::new(StatusCode::NOT_FOUND, format!("Article {id} has no body."))
        })?;
        Ok::<_, PageError>(render_article(&id, &record, &body))
    })
    .await?;
    Ok(html(StatusCode::OK, &page))
}

fn render_article(id: &BlobId, r: &Record, body: &[u8]) -> String {
    let form = Form::default();
    let lang = lang_attr(r);
    let title = if r.title.trim().is_empty() {
        "(no title)"
    } else {
        r.title.as_str()
    };
    let mut main = String::new();
    let _ = write!(
        main,
        "<article class=\"article\">\n<h1 dir=\"auto\"{lang}>{}</h1>\n<dl class=\"fields\">\n",
        esc(title)
    );
    for (name, value) in super::show::fields(id, r) {
        let value = match name {
            "title" => continue,
            "id" => format!("<code>{}</code>", esc(&value)),
            "reporters" | "services" => {
                let (key, names) = if name == "reporters" {
                    ("reporter", &r.reporters)
                } else {
                    ("service", &r.services)
                };
                names
                    .iter()
                    .map(|n| {
                        format!(
                            "<a href=\"{}\" dir=\"auto\">{}</a>",
                            esc(&form.url(&[(key, Some(n))], None)),
                            esc(n)
                        )
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            }
            "url" if value.starts_with("https://") || value.starts_with("http://") => format!(
                "<a href=\"{}\" rel=\"noreferrer nofollow\">{}</a>",
                esc(&value),
                esc(&value)
            ),
            // The page as fetched: a download (application/octet-stream), never shown as a
            // page of ours, since its scripts would run.
            "original" => format!(
                "<a href=\"/api/articles/{id}/original\">{}</a>",
                esc(&value)
            ),
            _ => format!("<span dir=\"auto\">{}</span>", esc(&value)),
        };
        let _ = writeln!(main, "<dt>{}</dt><dd>{value}</dd>", esc(name));
    }
    let _ = write!(
        main,
        "</dl>\n<p class=\"raw\"><a href=\"/api/articles/{id}/body\">raw body</a> \
         ({} bytes, exactly as stored) · <a href=\"/api/articles/{id}\">JSON</a></p>\n\
         <div class=\"body\"{lang}>\n",
        thousands(body.len() as u64)
    );
    let text = String::from_utf8_lossy(body);
    let text = text.replace("\r\n", "\n");
    for paragraph in text.split("\n\n") {
        let paragraph = paragraph.trim_matches('\n');
        if !paragraph.trim().is_empty() {
            let _ = writeln!(main, "<p dir=\"auto\">{}</p>", esc(paragraph));
        }
    }
    main.push_str("</div>\n</article>\n");
    document(title, &form, &main)
}

// ---------------------------------------------------------------------------------------------
// Languages

/// ` lang="…"`: the language an import recorded (`extra.lang` from HTML's `<html lang>`, or a
/// JSON `language`), else the one a known service is in (RFA's language services), else
/// `lang=""` (unknown: not the page's English).
fn lang_attr(r: &Record) -> String {
    let given = ["lang", "language"].into_iter().find_map(|key| {
        let value: String = serde_json::from_str(r.extra.get(key)?).ok()?;
        let valid = (2..=35).contains(&value.len())
            && value
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        valid.then(|| value.replace('_', "-"))
    });
    let lang = given.or_else(|| {
        r.services.iter().find_map(|s| {
            let tag = match s.trim().to_lowercase().as_str() {
                "uyghur" | "uighur" => "ug",
                "mandarin" | "chinese" => "zh",
                "cantonese" => "yue",
                "tibetan" => "bo",
                "korean" => "ko",
                "japanese" => "ja",
                "vietnamese" => "vi",
                "burmese" | "myanmar" => "my",
                "khmer" | "cambodian" => "km",
                "lao" => "lo",
                "thai" => "th",
                "arabic" => "ar",
                "persian" | "farsi" => "fa",
                "urdu" => "ur",
                "hebrew" => "he",
                "russian" => "ru",
                "english" => "en",
                _ => return None,
            };
            Some(tag.to_owned())
        })
    });
    format!(" lang=\"{}\"", esc(lang.as_deref().unwrap_or("")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn esc_leaves_no_markup() {
        assert_eq!(
            esc("<script>alert('x')</script> & \"q\" &amp;").to_string(),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot; &amp;amp;"
        );
        assert_eq!(esc("ئۇيغۇر 中文\0").to_string(), "ئۇيغۇر 中文\u{FFFD}");
    }

    #[test]
    fn urls_keep_the_form_and_encode_it() {
        let form = Form {
            q: "harbor strike".into(),
            reporter: "Ana Ruiz".into(),
            ..Form::default()
        };
        assert_eq!(
            form.url(&[("service", Some("Coast & Wire"))], Some("7")),
            "/?q=harbor%20strike&reporter=Ana%20Ruiz&service=Coast%20%26%20Wire&cursor=7"
        );
        assert_eq!(form.url(&[("reporter", None), ("q", None)], None), "/");
    }

    #[test]
    fn snippets_mark_escaped_words() {
        let snippet = morgue_meta::Snippet {
            text: "a <b> harbor & more".into(),
            marks: vec![6..12, 15..19],
        };
        assert_eq!(
            marked(&snippet),
            "a &lt;b&gt; <mark>harbor</mark> &amp; <mark>more</mark>"
        );
    }

    #[test]
    fn excerpts_cut_at_words_and_long_runs() {
        assert_eq!(excerpt("  a\n\nb  c "), "a b c");
        let long = "word ".repeat(100);
        let cut = excerpt(&long);
        assert!(cut.ends_with(" …") && cut.chars().count() <= SNIPPET_CHARS + 2);
        let han = "字".repeat(400);
        assert_eq!(excerpt(&han).chars().count(), SNIPPET_CHARS + 1);
    }

    #[test]
    fn facets_count_each_name_once_per_article() {
        let record = |reporters: &[&str], service: &str| Record {
            reporters: reporters.iter().map(|s| (*s).to_owned()).collect(),
            services: vec![service.to_owned()],
            ..Record::default()
        };
        let records = [
            record(&["Ana Ruiz", "ana  ruiz"], "Coastwire"),
            record(&["ANA RUIZ", "Piet Maas"], "coastwire"),
            record(&["Piet Maas"], "Inland"),
        ];
        let facets = count_facets(records.iter());
        assert_eq!(
            facets.reporters,
            [("Ana Ruiz".to_owned(), 2), ("Piet Maas".to_owned(), 2)]
        );
        assert_eq!(
            facets.services,
            [("Coastwire".to_owned(), 2), ("Inland".to_owned(), 1)]
        );
    }

    #[test]
    fn language_from_the_import_then_the_service() {
        let mut r = Record {
            services: vec!["Uyghur".into()],
            ..Record::default()
        };
        assert_eq!(lang_attr(&r), " lang=\"ug\"");
        r.extra.insert("language".into(), "\"zh-Hant\"".into());
        assert_eq!(lang_attr(&r), " lang=\"zh-Hant\"");
        r.extra.insert("language".into(), "\"\\\"><x\"".into());
        assert_eq!(lang_attr(&r), " lang=\"ug\"");
        assert_eq!(lang_attr(&Record::default()), " lang=\"\"");
    }

    #[test]
    fn thousands_are_grouped() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
