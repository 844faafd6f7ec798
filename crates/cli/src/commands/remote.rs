//! The CLI through a running `morgue serve`: while a server holds the archive (its address file
//! `SERVE` names a live process that accepts connections), commands send their requests there
//! and print what they would print reading the archive themselves. The answers are turned back
//! into the archive's own types (records, facets, figures), so that the same code formats them.

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::io::Read;
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::time::Duration;

use anyhow::{Context as _, anyhow, bail};
use morgue_meta::{
    ArchiveStats, ArticleDate, BlobId, DateOrigin, Facet, OriginalRef, Record, SearchHit,
};
use serde_json::Value;

use crate::args::FilterArgs;

/// Articles or hits asked for in one request (the API's most).
const PAGE: usize = 1000;
/// The largest error answer read.
const ERROR_LIMIT: u64 = 1 << 20;

/// A running server holding the archive.
pub struct Server {
    /// `http://ADDR`.
    pub url: String,
    /// Its process id.
    pub pid: String,
    agent: ureq::Agent,
    /// `MORGUE_TOKEN`, sent with the requests that change the archive.
    token: Option<String>,
}

impl Server {
    /// The server holding the archive at `dir`: `None` without an address file, when the file
    /// is stale (its process is gone) or when nothing answers at its address.
    pub fn find(dir: &Path) -> Option<Server> {
        let (url, pid) = super::serve::server_address(dir)?;
        let addr: SocketAddr = url.strip_prefix("http://")?.parse().ok()?;
        TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok()?;
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        Some(Server {
            url,
            pid,
            agent,
            token: std::env::var("MORGUE_TOKEN").ok().filter(|t| !t.is_empty()),
        })
    }

    /// "`morgue serve` at URL (process PID)", for messages.
    pub fn name(&self) -> String {
        format!("`morgue serve` at {} (process {})", self.url, self.pid)
    }

    /// The error of a command that needs the archive to itself.
    pub fn busy(&self, dir: &Path, command: &str) -> anyhow::Error {
        anyhow!(
            "archive {} is held by {}: `morgue {command}` needs the archive to itself; stop the \
             server (Ctrl-C, or kill -TERM {}) and run it again",
            dir.display(),
            self.name(),
            self.pid
        )
    }

    fn address(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }

    /// The answer when its status is a success; else the server's error as the command's.
    fn check(
        &self,
        answer: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> anyhow::Result<ureq::http::Response<ureq::Body>> {
        let mut response = answer.with_context(|| format!("asking {}", self.name()))?;
        let status = response.status().as_u16();
        if status < 400 {
            return Ok(response);
        }
        let body = response
            .body_mut()
            .with_config()
            .limit(ERROR_LIMIT)
            .read_to_vec()
            .unwrap_or_default();
        let value: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        let Some(message) = value["error"].as_str() else {
            bail!("{} answered with status {status}", self.name());
        };
        match status {
            401 => bail!(
                "{} needs its token to change the archive: set MORGUE_TOKEN",
                self.name()
            ),
            409 => {
                // As `resolve` says it: every candidate with its title.
                let mut text = format!("{message}; it matches:");
                for candidate in value["candidates"].as_array().into_iter().flatten() {
                    let _ = write!(
                        text,
                        "\n  {}  {}",
                        candidate["id"].as_str().unwrap_or(""),
                        candidate["title"].as_str().unwrap_or("")
                    );
                }
                Err(anyhow!(text))
            }
            _ => {
                // A failure of the archive comes with its causes, line by line: the same
                // error chain as without a server.
                let causes: Vec<&str> = value["causes"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .collect();
                match causes.split_last() {
                    Some((last, outer)) if !outer.is_empty() => Err(outer
                        .iter()
                        .rev()
                        .fold(anyhow!((*last).to_owned()), |err, line| {
                            err.context((*line).to_owned())
                        })),
                    _ => Err(anyhow!(message.to_owned())),
                }
            }
        }
    }

    fn get(&self, path: &str, params: &[(&str, String)]) -> anyhow::Result<Vec<u8>> {
        let mut request = self.agent.get(self.address(path));
        for (name, value) in params {
            request = request.query(*name, value);
        }
        let mut response = self.check(request.call())?;
        response
            .body_mut()
            .with_config()
            .limit(u64::MAX)
            .read_to_vec()
            .with_context(|| format!("reading the answer of {}", self.name()))
    }

    fn get_json(&self, path: &str, params: &[(&str, String)]) -> anyhow::Result<Value> {
        let body = self.get(path, params)?;
        serde_json::from_slice(&body)
            .with_context(|| format!("{} answered with malformed JSON", self.name()))
    }

    /// The articles of `list`: the filters, at most `limit`, newest first, asked a page at a time.
    pub fn articles<'a>(
        &'a self,
        filters: &FilterArgs,
        limit: Option<usize>,
    ) -> impl Iterator<Item = anyhow::Result<(BlobId, Record)>> + 'a {
        self.pages("/api/articles", "articles", filter_params(filters), limit)
            .map(|value| value.and_then(|v| article(&v)))
    }

    /// The hits of `search` (objects: read them with [`hit`]), each with its snippet marked with
    /// `marks`, at most `limit`, asked a page at a time; [`Pages::more`] says at the end whether
    /// more than `limit` match.
    pub fn search<'a>(
        &'a self,
        query: &str,
        filters: &FilterArgs,
        sort: &str,
        marks: (&str, &str),
        limit: Option<usize>,
    ) -> Pages<'a> {
        let mut params = filter_params(filters);
        params.extend([
            ("q", query.to_owned()),
            ("sort", sort.to_owned()),
            ("open", marks.0.to_owned()),
            ("close", marks.1.to_owned()),
        ]);
        self.pages("/api/search", "hits", params, limit)
    }

    fn pages(
        &self,
        path: &'static str,
        field: &'static str,
        params: Vec<(&'static str, String)>,
        limit: Option<usize>,
    ) -> Pages<'_> {
        Pages {
            server: self,
            path,
            field,
            params,
            buffer: VecDeque::new(),
            next: None,
            started: false,
            remaining: limit,
        }
    }

    /// The article an id or unique prefix names, with its record.
    pub fn record(&self, prefix: &str) -> anyhow::Result<(BlobId, Record)> {
        article(&self.get_json(&format!("/api/articles/{}", encode(prefix)), &[])?)
    }

    /// The body of an article, byte for byte.
    pub fn body(&self, prefix: &str) -> anyhow::Result<Vec<u8>> {
        self.get(&format!("/api/articles/{}/body", encode(prefix)), &[])
    }

    /// The page an article was extracted from, byte for byte (`cat --original`).
    pub fn original(&self, prefix: &str) -> anyhow::Result<Vec<u8>> {
        self.get(&format!("/api/articles/{}/original", encode(prefix)), &[])
    }

    /// `reporters` or `services`, most first.
    pub fn facets(&self, reporters: bool) -> anyhow::Result<Vec<Facet>> {
        let path = if reporters {
            "/api/reporters"
        } else {
            "/api/services"
        };
        facets(&self.get_json(path, &[])?)
    }

    /// The figures of `stats`.
    pub fn stats(&self) -> anyhow::Result<ArchiveStats> {
        let value = self.get_json("/api/stats", &[])?;
        let number = |name: &str| {
            value[name]
                .as_u64()
                .with_context(|| format!("the figures lack {name}"))
        };
        let per_year = value["per_year"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|row| {
                let year = row["year"].as_i64().and_then(|y| i32::try_from(y).ok());
                year.zip(row["count"].as_u64())
                    .context("a malformed year in the figures")
            })
            .collect::<anyhow::Result<_>>()?;
        Ok(ArchiveStats {
            articles: number("articles")?,
            raw_bytes: number("raw_bytes")?,
            stored_bytes: number("stored_bytes")?,
            disk_bytes: number("disk_bytes")?,
            per_service: facets(&value["per_service"])?,
            per_year,
            pages: value["pages"]["count"].as_u64().unwrap_or(0),
            page_bytes: value["pages"]["raw_bytes"].as_u64().unwrap_or(0),
            page_stored_bytes: value["pages"]["stored_bytes"].as_u64().unwrap_or(0),
        })
    }

    /// Removes the article an id or unique prefix names, once durable; its full id.
    pub fn remove(&self, prefix: &str) -> anyhow::Result<BlobId> {
        let mut request = self
            .agent
            .delete(self.address(&format!("/api/articles/{}", encode(prefix))));
        if let Some(token) = &self.token {
            request = request.header("Authorization", format!("Bearer {token}"));
        }
        let mut response = self.check(request.call())?;
        let body = response.body_mut().read_to_vec()?;
        let value: Value = serde_json::from_slice(&body)?;
        value["removed"]
            .as_str()
            .and_then(|id| id.parse().ok())
            .with_context(|| format!("{} did not say what it removed", self.name()))
    }

    /// Sends one input to `POST /api/import` as it is read (chunked), with `params`; the
    /// server's summary, given once what it stored is durable.
    pub fn import(&self, params: &[(&str, String)], input: &mut dyn Read) -> anyhow::Result<Value> {
        let mut request = self.agent.post(self.address("/api/import"));
        for (name, value) in params {
            request = request.query(*name, value);
        }
        if let Some(token) = &self.token {
            request = request.header("Authorization", format!("Bearer {token}"));
        }
        let answer = request.send(ureq::SendBody::from_reader(input));
        let mut response = self.check(answer)?;
        let body = response
            .body_mut()
            .with_config()
            .limit(u64::MAX)
            .read_to_vec()?;
        serde_json::from_slice(&body)
            .with_context(|| format!("{} answered with malformed JSON", self.name()))
    }
}

/// The objects of a paged route (`/api/articles`, `/api/search`), fetched a page at a time,
/// each page from the `next` cursor of the one before.
pub struct Pages<'a> {
    server: &'a Server,
    path: &'static str,
    /// The answer's field that holds a page's objects.
    field: &'static str,
    params: Vec<(&'static str, String)>,
    buffer: VecDeque<Value>,
    next: Option<String>,
    started: bool,
    /// Objects still wanted; `None`: every one.
    remaining: Option<usize>,
}

impl Pages<'_> {
    /// Whether the server has more than was asked for (once the objects asked for are read).
    pub fn more(&self) -> bool {
        self.next.is_some()
    }
}

impl Iterator for Pages<'_> {
    type Item = anyhow::Result<Value>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(value) = self.buffer.pop_front() {
            return Some(Ok(value));
        }
        if self.remaining == Some(0) || (self.started && self.next.is_none()) {
            return None;
        }
        let page = self.remaining.map_or(PAGE, |n| n.min(PAGE));
        let mut params = self.params.clone();
        params.push(("limit", page.to_string()));
        if let Some(cursor) = self.next.take() {
            params.push(("cursor", cursor));
        }
        self.started = true;
        let answer = match self.server.get_json(self.path, &params) {
            Ok(answer) => answer,
            Err(err) => {
                self.remaining = Some(0);
                return Some(Err(err));
            }
        };
        self.next = answer["next"].as_str().map(str::to_owned);
        if let Value::Array(objects) = &answer[self.field] {
            self.buffer.extend(objects.iter().cloned());
        }
        if let Some(n) = &mut self.remaining {
            *n = n.saturating_sub(self.buffer.len());
        }
        self.buffer.pop_front().map(Ok)
    }
}

/// A hit of `/api/search`: the article, its score, its snippet (marked).
pub fn hit(value: &Value) -> anyhow::Result<(SearchHit, String)> {
    let (id, record) = article(value)?;
    let score =
        serde_json::from_value::<f32>(value["score"].clone()).context("a hit without its score")?;
    let snippet = value["snippet"].as_str().unwrap_or("").to_owned();
    Ok((SearchHit { id, record, score }, snippet))
}

fn filter_params(filters: &FilterArgs) -> Vec<(&'static str, String)> {
    let mut params = Vec::new();
    if let Some(reporter) = &filters.reporter {
        params.push(("reporter", reporter.clone()));
    }
    if let Some(service) = &filters.service {
        params.push(("service", service.clone()));
    }
    if let Some(since) = filters.since {
        params.push(("since", since.first.format("%Y-%m-%d").to_string()));
    }
    if let Some(until) = filters.until {
        params.push(("until", until.last.format("%Y-%m-%d").to_string()));
    }
    params
}

/// An id prefix as one path segment: every byte but letters and digits percent-encoded.
fn encode(text: &str) -> String {
    let mut out = String::new();
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() {
            out.push(char::from(byte));
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}

fn facets(value: &Value) -> anyhow::Result<Vec<Facet>> {
    value
        .as_array()
        .into_iter()
        .flatten()
        .map(|row| {
            let name = row["name"].as_str().context("a facet without its name")?;
            let count = row["count"].as_u64().context("a facet without its count")?;
            Ok(Facet {
                name: name.to_owned(),
                count,
            })
        })
        .collect()
}

/// The id and record of an article JSON object: the inverse of [`morgue_model::ArticleJson`].
/// `extra` values come back as compact JSON text, as the importer stores them.
pub fn article(value: &Value) -> anyhow::Result<(BlobId, Record)> {
    let object = value
        .as_object()
        .context("the server answered something else than an article")?;
    let text = |name: &str| {
        object
            .get(name)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned()
    };
    let list = |name: &str| -> Vec<String> {
        object
            .get(name)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect()
    };
    let id: BlobId = text("id")
        .parse()
        .map_err(|_| anyhow!("an article without a valid id: {:?}", text("id")))?;
    let date = object.get("date").and_then(Value::as_str);
    let date = match date {
        None => None,
        Some(text) => Some(parse_date(text).with_context(|| format!("a malformed date {text:?}"))?),
    };
    let extra = object
        .get("extra")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .map(|(name, value)| (name.clone(), value.to_string()))
        .collect();
    let record = Record {
        title: text("title"),
        reporters: list("reporters"),
        translators: list("translators"),
        editors: list("editors"),
        writers: list("writers"),
        services: list("services"),
        outlet: text("outlet"),
        date,
        date_origin: object
            .get("date_origin")
            .and_then(Value::as_str)
            .and_then(DateOrigin::from_name),
        url: text("url"),
        image: text("image"),
        caption: text("caption"),
        tags: list("tags"),
        source_id: text("source_id"),
        origin: text("origin"),
        imported_at: object
            .get("imported_at")
            .and_then(Value::as_str)
            .and_then(morgue_model::parse_timestamp),
        extra,
        original: match object.get("original") {
            Some(page) => Some(OriginalRef {
                id: page["id"]
                    .as_str()
                    .and_then(|id| id.parse::<BlobId>().ok())
                    .map(|id| *id.as_bytes())
                    .context("an original page without a valid id")?,
                len: page["len"].as_u64().unwrap_or(0),
                media_type: page["media_type"].as_str().unwrap_or("").to_owned(),
            }),
            None => None,
        },
    };
    Ok((id, record))
}

/// A date as [`ArticleDate`] displays it: `YYYY`, `YYYY-MM`, `YYYY-MM-DD` or
/// `YYYY-MM-DDTHH:MM:SSZ`.
fn parse_date(text: &str) -> Option<ArticleDate> {
    use chrono::{NaiveDate, NaiveDateTime};
    let number = |range: std::ops::Range<usize>| text.get(range)?.parse::<u32>().ok();
    match text.len() {
        4 => ArticleDate::year(i32::try_from(number(0..4)?).ok()?),
        7 => ArticleDate::month(i32::try_from(number(0..4)?).ok()?, number(5..7)?),
        10 => NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .ok()
            .map(ArticleDate::from_day),
        _ => NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%SZ")
            .ok()
            .map(ArticleDate::from_datetime),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_read_back_as_they_display() {
        for text in ["2019", "2019-03", "2019-03-15", "2019-03-15T12:34:56Z"] {
            let date = parse_date(text).unwrap_or_else(|| panic!("{text}"));
            assert_eq!(date.to_string(), text);
        }
        assert!(parse_date("15 March").is_none());
    }

    #[test]
    fn article_objects_read_back_as_the_record() {
        let record = Record {
            title: "Harbor Strike Ends".into(),
            reporters: vec!["Mei Lan Fong".into(), "Doe; Jane".into()],
            services: vec!["Cantonese".into()],
            date: parse_date("2019-03-15T01:02:03Z"),
            date_origin: Some(DateOrigin::Parsed),
            url: "https://example.org/a".into(),
            imported_at: Some(1_700_000_000),
            extra: [("n".to_owned(), r#"{"a":[1,2.5,"x"]}"#.to_owned())].into(),
            ..Record::default()
        };
        let id = BlobId::of(b"body");
        let value = serde_json::to_value(morgue_model::ArticleJson::new(&id, &record)).unwrap();
        let (back_id, back) = article(&value).unwrap();
        assert_eq!(back_id, id);
        assert_eq!(back, record);
    }

    #[test]
    fn prefixes_are_one_path_segment() {
        assert_eq!(encode("91b5"), "91b5");
        assert_eq!(encode("a/../b c"), "a%2F%2E%2E%2Fb%20c");
    }
}
