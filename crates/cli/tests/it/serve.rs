//! `morgue serve`: the real binary on 127.0.0.1, port 0, asked through an HTTP client (ureq):
//! every route, status codes, the token, the body limit, hostile query strings.

use std::io::{BufRead as _, BufReader};
use std::process::{Child, Stdio};

use proptest::prelude::*;
use serde_json::Value;

use crate::common::{Env, stderr, stdout};

/// A running `morgue serve`, stopped with SIGTERM on drop.
pub(crate) struct Server {
    child: Child,
    base: String,
}

impl Server {
    pub(crate) fn start(env: &Env, extra: &[&str]) -> Server {
        let mut child = env
            .std_cmd()
            .args(["serve", "--addr", "127.0.0.1:0"])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let base = line
            .trim()
            .rsplit(' ')
            .next()
            .filter(|u| u.starts_with("http://127.0.0.1:"))
            .unwrap_or_else(|| panic!("no address printed: {line:?}"))
            .to_owned();
        Server { child, base }
    }

    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// SIGTERM, then the exit code.
    pub(crate) fn stop(mut self) -> Option<i32> {
        let pid = self.child.id().to_string();
        std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap();
        let status = self.child.wait().unwrap();
        status.code()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into()
}

/// GET: status and body.
fn get(url: &str) -> (u16, Vec<u8>) {
    let mut response = agent().get(url).call().unwrap();
    let status = response.status().as_u16();
    (status, response.body_mut().read_to_vec().unwrap())
}

fn get_json(url: &str) -> (u16, Value) {
    let (status, body) = get(url);
    let value = serde_json::from_slice(&body)
        .unwrap_or_else(|e| panic!("{url}: not JSON ({e}): {}", String::from_utf8_lossy(&body)));
    (status, value)
}

fn json_of(text: &str) -> Value {
    serde_json::from_str(text).unwrap()
}

#[test]
fn every_read_route_answers_as_the_cli_prints() {
    let env = Env::new();
    env.import_examples();
    // What the CLI prints, asked before the server holds the archive.
    let listed = json_of(&env.ok(&["list", "--format", "json"]));
    let filtered_cli = json_of(&env.ok(&[
        "list", "--format", "json", "--since", "2019", "--until", "2019-12",
    ]));
    let id = listed[0]["id"].as_str().unwrap().to_owned();
    let cat = env.cmd().args(["cat", &id]).output().unwrap().stdout;
    let reporters = json_of(&env.ok(&["reporters", "--format", "json"]));
    let services = json_of(&env.ok(&["services", "--format", "json"]));
    let mut expected_stats = json_of(&env.ok(&["stats", "--format", "json"]));
    let server = Server::start(&env, &[]);
    assert!(env.archive.join("SERVE").is_file());

    // Articles: list --format json's objects, newest first, in pages.
    let (status, page) = get_json(&server.url("/api/articles"));
    assert_eq!(status, 200);
    assert_eq!(page["articles"], listed);
    assert_eq!(page["next"], Value::Null);
    let mut paged = Vec::new();
    let mut url = server.url("/api/articles?limit=3");
    loop {
        let (status, page) = get_json(&url);
        assert_eq!(status, 200);
        paged.extend(page["articles"].as_array().unwrap().iter().cloned());
        match page["next"].as_str() {
            Some(next) => url = server.url(&format!("/api/articles?limit=3&cursor={next}")),
            None => break,
        }
    }
    assert_eq!(Value::Array(paged), listed);
    let (_, filtered) = get_json(&server.url("/api/articles?since=2019&until=2019-12"));
    assert_eq!(filtered["articles"], filtered_cli);

    // One article, by id and by prefix; its body byte for byte.
    let first = &listed[0];
    let id = id.as_str();
    assert_eq!(
        get_json(&server.url(&format!("/api/articles/{id}"))),
        (200, first.clone())
    );
    assert_eq!(
        get_json(&server.url(&format!("/api/articles/{}", &id[..8]))).1,
        *first
    );
    let mut response = agent()
        .get(&server.url(&format!("/api/articles/{id}/body")))
        .call()
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(
        response.headers()["content-type"].to_str().unwrap(),
        "text/plain; charset=utf-8"
    );
    assert_eq!(response.body_mut().read_to_vec().unwrap(), cat);
    let (status, error) = get_json(&server.url(&format!("/api/articles/{}", "f".repeat(64))));
    assert_eq!(status, 404);
    assert!(
        error["error"]
            .as_str()
            .unwrap()
            .contains("no article matches")
    );
    assert_eq!(get_json(&server.url("/api/articles/zz")).0, 400);

    // Facets and figures.
    assert_eq!(get_json(&server.url("/api/reporters")), (200, reporters));
    assert_eq!(get_json(&server.url("/api/services")), (200, services));
    let (status, mut stats) = get_json(&server.url("/api/stats"));
    assert_eq!(status, 200);
    // The disk bytes differ by the address file the server writes.
    stats["disk_bytes"] = Value::Null;
    expected_stats["disk_bytes"] = Value::Null;
    assert_eq!(stats, expected_stats);

    // Search: search --format json's hits.
    let (status, found) = get_json(&server.url("/api/search?q=market"));
    assert_eq!(status, 200);
    let hits = found["hits"].as_array().unwrap();
    assert!(!hits.is_empty());
    assert!(
        hits.iter()
            .all(|h| h["snippet"].is_string() && h["score"].is_number())
    );
    assert_eq!(get_json(&server.url("/api/search")).0, 400);
    assert_eq!(get_json(&server.url("/api/search?q=%22unclosed")).0, 400);
    // Pages of two, each after the `next` of the one before, are the whole answer, both orders;
    // a cursor of the other order or of nothing is a 400.
    for sort in ["relevance", "date"] {
        let url = |limit: usize, cursor: &str| {
            server.url(&format!(
                "/api/search?q=the&sort={sort}&limit={limit}&cursor={cursor}"
            ))
        };
        let ids = |page: &Value| -> Vec<Value> {
            let hits = page["hits"].as_array().unwrap();
            hits.iter().map(|h| h["id"].clone()).collect()
        };
        let (status, whole) = get_json(&url(1000, ""));
        assert_eq!(status, 200);
        let whole = ids(&whole);
        assert!(whole.len() > 4, "{sort}: {} hits", whole.len());
        let mut paged = Vec::new();
        let mut cursor = String::new();
        for _ in 0..whole.len() {
            let (status, page) = get_json(&url(2, &cursor));
            assert_eq!(status, 200, "{sort} after {cursor}: {page}");
            paged.extend(ids(&page));
            match page["next"].as_str() {
                Some(next) => cursor = next.to_owned(),
                None => break,
            }
        }
        assert_eq!(paged, whole, "{sort}");
        let other = if sort == "date" { "relevance" } else { "date" };
        let (_, first) = get_json(&url(2, ""));
        let next = first["next"].as_str().unwrap();
        let wrong = format!("/api/search?q=the&sort={other}&cursor={next}");
        let (status, error) = get_json(&server.url(&wrong));
        assert_eq!(status, 400, "{wrong}");
        assert!(
            error["error"].as_str().unwrap().contains("cursor"),
            "{error}"
        );
    }
    assert_eq!(get_json(&server.url("/api/search?q=the&cursor=7")).0, 400);

    // Errors are JSON with a fitting status.
    for (path, status) in [
        ("/api/nowhere", 404),
        ("/api/articles?limit=0", 400),
        ("/api/articles?since=2020&until=2019", 400),
        ("/api/articles?cursor=nothex", 400),
        ("/api/articles?reportr=x", 400),
        ("/api/articles?limit=1&limit=2", 400),
    ] {
        let (got, body) = get_json(&server.url(path));
        assert_eq!(got, status, "{path}");
        assert!(body["error"].is_string(), "{path}: {body}");
    }
    assert_eq!(server.stop(), Some(0));
    assert!(
        !env.archive.join("SERVE").exists(),
        "the address file is left"
    );
    // Closed cleanly: the CLI opens it again at once.
    env.ok(&["--wait", "0", "list"]);
}

#[test]
fn writes_need_the_token_and_an_import_answers_once_durable() {
    let env = Env::new();
    env.import_examples();
    let server = Server::start(&env, &["--token", "s3cret"]);
    let line =
        br#"{"title":"Served Story","body":"Imported through the server.","reporters":["Zed Served"]}
{"title":"Broken"
"#;
    let post = |token: Option<&str>| {
        let mut request = agent().post(&server.url("/api/import?format=jsonl"));
        if let Some(token) = token {
            request = request.header("Authorization", &format!("Bearer {token}"));
        }
        let mut response = request.send(&line[..]).unwrap();
        let status = response.status().as_u16();
        (
            status,
            json_of(&response.body_mut().read_to_string().unwrap()),
        )
    };
    assert_eq!(post(None).0, 401);
    assert_eq!(post(Some("wrong")).0, 401);
    let (status, summary) = post(Some("s3cret"));
    assert_eq!(status, 200, "{summary}");
    assert_eq!(summary["stored"], 1);
    assert_eq!(summary["duplicates"], 0);
    assert_eq!(summary["failed"].as_array().unwrap().len(), 1);
    assert_eq!(summary["failed"][0]["line"], 2);
    let (_, again) = post(Some("s3cret"));
    assert_eq!(again["duplicates"], 1);

    let (_, page) = get_json(&server.url("/api/articles?reporter=zed%20served"));
    let id = page["articles"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(page["articles"][0]["title"], "Served Story");
    let delete = |token: Option<&str>| {
        let mut request = agent().delete(&server.url(&format!("/api/articles/{id}")));
        if let Some(token) = token {
            request = request.header("Authorization", &format!("Bearer {token}"));
        }
        request.call().unwrap().status().as_u16()
    };
    assert_eq!(delete(None), 401);
    assert_eq!(delete(Some("s3cret")), 200);
    assert_eq!(get_json(&server.url(&format!("/api/articles/{id}"))).0, 404);
    assert_eq!(server.stop(), Some(0));
    assert!(env.titles(&["--reporter", "Zed Served"]).is_empty());
    assert_eq!(env.titles(&[]).len(), 7);
}

#[test]
fn a_body_past_the_limit_gets_413_and_nothing_is_stored() {
    let env = Env::new();
    env.import_examples();
    let server = Server::start(&env, &["--max-body", "1000"]);
    let big = format!(
        "{{\"title\":\"Too Big\",\"body\":\"{}\"}}\n",
        "word ".repeat(400)
    );
    let mut response = agent()
        .post(&server.url("/api/import"))
        .send(big.as_bytes())
        .unwrap();
    assert_eq!(response.status().as_u16(), 413);
    let body = json_of(&response.body_mut().read_to_string().unwrap());
    assert!(body["error"].is_string());
    assert_eq!(server.stop(), Some(0));
    assert_eq!(env.titles(&[]).len(), 7);
}

#[test]
fn a_non_loopback_address_without_a_token_is_refused() {
    let env = Env::new();
    env.import_examples();
    let out = env.run(&["serve", "--addr", "0.0.0.0:0"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("without a token"), "{}", stderr(&out));
    assert!(stdout(&out).is_empty());
    let out = env.run(&["serve", "--addr", "nowhere"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn hostile_query_strings_get_an_error_status_never_a_5xx() {
    let env = Env::new();
    env.import_examples();
    let server = Server::start(&env, &[]);
    // Bad UTF-8, a huge query, control characters.
    for path in [
        "/api/articles?reporter=%FF%FE".to_owned(),
        "/api/search?q=%FF".to_owned(),
        format!("/api/search?q={}", "a".repeat(60_000)),
        format!("/api/articles?service={}", "%00".repeat(1000)),
        "/api/articles/%FF%FF%FF%FF".to_owned(),
    ] {
        let (status, _) = get(&server.url(&path));
        assert!(
            (200..500).contains(&status),
            "{status} for {}",
            &path[..path.len().min(60)]
        );
    }
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig::with_cases(300));
    let query = proptest::string::string_regex(
        "(q|reporter|service|since|until|limit|cursor|x)=[%0-9A-Za-z\"*:() -]{0,30}(&(q|since|limit|cursor)=[%0-9a-f-]{0,12}){0,2}",
    )
    .unwrap();
    runner
        .run(&(query, any::<bool>()), |(query, search)| {
            let route = if search {
                "/api/search"
            } else {
                "/api/articles"
            };
            let url = server.url(&format!(
                "{route}?{}",
                query.replace(' ', "%20").replace('"', "%22")
            ));
            let (status, body) = get(&url);
            prop_assert!(
                status < 500,
                "{status} for {url}: {}",
                String::from_utf8_lossy(&body)
            );
            prop_assert!(
                serde_json::from_slice::<Value>(&body).is_ok(),
                "not JSON for {url}"
            );
            Ok(())
        })
        .unwrap();
    assert_eq!(server.stop(), Some(0));
}
