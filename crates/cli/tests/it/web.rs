//! The web page of `morgue serve` (`GET /`, `/articles/{id}`): the real binary on 127.0.0.1
//! port 0, its HTML read through an HTTP client (ureq), and what a real browser, headless
//! Chromium, renders of it. The browser test prints a notice and skips when no Chromium can be
//! found (`chromium` or `chromium-browser` on PATH, or the path in MORGUE_CHROMIUM).
//!
//! The screenshots in docs/img are made by the ignored test `web_screenshots`:
//! `cargo test -p morgue --test it web_screenshots -- --ignored`.

use std::io::Read as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use proptest::prelude::*;

use crate::common::{Env, workspace_root};
use crate::serve::Server;

/// Articles written for these tests: English ones from two services, one in Uyghur (Arabic
/// script, right to left), one in Chinese, one whose title and body hold markup.
const FIXTURE: &str = "crates/cli/tests/it/fixtures/web.jsonl";
const SCRIPT_TITLE: &str = "Court Reads Out <script>alert(\"title\")</script> & Other Markup";
const UYGHUR_TITLE: &str = "قەشقەردە يېڭى كۇتۇپخانا ئېچىلدى";
const CHINESE_TITLE: &str = "港口罢工结束，货船恢复装卸";

fn fixture() -> Env {
    let env = Env::new();
    env.ok(&["import", FIXTURE]);
    env
}

/// A GET: status, Content-Type, Content-Security-Policy and body.
struct Page {
    status: u16,
    kind: String,
    csp: String,
    text: String,
}

fn get(url: &str) -> Page {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut response = agent.get(url).call().unwrap();
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    };
    let (kind, csp) = (header("content-type"), header("content-security-policy"));
    Page {
        status: response.status().as_u16(),
        kind,
        csp,
        text: response.body_mut().read_to_string().unwrap(),
    }
}

/// The article links of a results page, in order: (id, title as HTML).
fn hits(html: &str) -> Vec<(String, String)> {
    html.split("<h2><a href=\"/articles/")
        .skip(1)
        .map(|rest| {
            let id = rest[..64].to_owned();
            let title = rest.split_once('>').unwrap().1;
            let title = title.split_once("</a>").unwrap().0.to_owned();
            (id, title)
        })
        .collect()
}

/// The href of the "next page" link, unescaped.
fn next_link(html: &str) -> Option<String> {
    let rest = html.split_once("<a rel=\"next\" href=\"")?.1;
    Some(rest.split_once('"')?.0.replace("&amp;", "&"))
}

/// `text` as the page escapes it.
fn escaped(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

#[test]
fn web_page_escapes_every_text_and_answers_errors_as_pages() {
    let env = fixture();
    let script_id = env.id_of(SCRIPT_TITLE);
    let uyghur_id = env.id_of(UYGHUR_TITLE);
    let script_body = env.ok(&["cat", &script_id]);
    let expected: Vec<String> = env.titles(&[]).iter().map(|t| escaped(t)).collect();
    let server = Server::start(&env, &[]);

    let front = get(&server.url("/"));
    assert_eq!(front.status, 200);
    assert_eq!(front.kind, "text/html; charset=utf-8");
    assert!(front.csp.contains("default-src 'none'"), "{}", front.csp);
    assert!(
        front
            .text
            .contains("<strong>8</strong> articles, newest first")
    );
    let titles: Vec<String> = hits(&front.text).into_iter().map(|(_, t)| t).collect();
    assert_eq!(titles, expected);
    // The pages hold no script: a title or body that held one is shown as text.
    assert!(!front.text.to_lowercase().contains("<script"));
    assert!(front.text.contains(&escaped(SCRIPT_TITLE)));
    // The whole archive's facets, as `services` counts them.
    assert!(
        front.text.contains(
            "href=\"/?service=Coastwire\" dir=\"auto\">Coastwire</a> <span class=\"n\">3</span>"
        ),
        "{}",
        front.text
    );

    // The stylesheet the page names is served.
    let css = front
        .text
        .split_once("rel=\"stylesheet\" href=\"")
        .unwrap()
        .1;
    let css = get(&server.url(css.split_once('"').unwrap().0));
    assert_eq!(
        (css.status, css.kind.as_str()),
        (200, "text/css; charset=utf-8")
    );
    assert!(css.text.contains(":lang(ug)"));

    // The article: metadata, the body as text in paragraphs, the raw body's link.
    let article = get(&server.url(&format!("/articles/{}", &script_id[..10])));
    assert_eq!(article.status, 200);
    assert!(!article.text.to_lowercase().contains("<script"));
    assert!(article.text.contains(
        "<p dir=\"auto\">The filing quoted the page&#39;s source as it was: \
         &lt;script&gt;alert(&quot;body&quot;)&lt;/script&gt; followed by &lt;b&gt;bold&lt;/b&gt; \
         text and the entity &amp;amp; written out.</p>"
    ));
    let raw = format!("href=\"/api/articles/{script_id}/body\"");
    assert!(article.text.contains(&raw));
    assert_eq!(
        get(&server.url(&format!("/api/articles/{script_id}/body"))).text,
        script_body
    );
    let uyghur = get(&server.url(&format!("/articles/{uyghur_id}")));
    assert!(
        uyghur
            .text
            .contains(&format!("<h1 dir=\"auto\" lang=\"ug\">{UYGHUR_TITLE}</h1>"))
    );

    // Errors are pages with their status; the API's stay JSON.
    for (path, status, says) in [
        (
            "/articles/00000000",
            404,
            "No article has an id starting with 00000000.",
        ),
        ("/articles/zz", 400, "4 to 64 hex characters"),
        (
            "/?q=%22harbor",
            400,
            "q: the quote at character 1 is not closed",
        ),
        (
            "/?since=2020-13",
            400,
            "since: &quot;2020-13&quot; is not a valid month",
        ),
        ("/?since=2022&until=2020", 400, "is after until"),
        (
            "/?sevice=Coastwire",
            400,
            "unknown parameter &quot;sevice&quot;",
        ),
        (
            "/?cursor=%3Cb%3E",
            400,
            "malformed cursor &quot;&lt;b&gt;&quot;",
        ),
        ("/no/such/page", 404, "There is no such page."),
    ] {
        let page = get(&server.url(path));
        assert_eq!(page.status, status, "{path}: {}", page.text);
        assert_eq!(page.kind, "text/html; charset=utf-8", "{path}");
        assert!(page.text.contains(says), "{path}: {}", page.text);
        assert!(page.text.contains("<form class=\"search\""), "{path}");
    }
    // A bad query keeps what was typed in the box, escaped.
    let bad = get(&server.url("/?q=%22%3Cb%3E"));
    assert!(
        bad.text.contains("name=\"q\" value=\"&quot;&lt;b&gt;\""),
        "{}",
        bad.text
    );
    let api = get(&server.url("/api/no/such"));
    assert_eq!((api.status, api.kind.as_str()), (404, "application/json"));
    assert_eq!(server.stop(), Some(0));
}

#[test]
fn web_pages_follow_cursors_and_count_facets_as_the_cli() {
    // 45 articles: three pages of browsing and of searching.
    let env = Env::new();
    let mut lines = String::new();
    for i in 0..45 {
        let (reporter, service) = match i % 3 {
            0 => ("Ana Ruiz", "Coastwire"),
            1 => ("Piet Maas", "Coastwire"),
            _ => ("Sara Lind", "Inland"),
        };
        lines.push_str(
            &serde_json::json!({
                "title": format!("Tide report {i:02}"),
                "author": reporter,
                "service": service,
                "date": format!("20{:02}-0{}-1{}", 10 + i / 10, 1 + i % 9, i % 10),
                "body": format!("The tide table for day {i} of the harbor survey."),
            })
            .to_string(),
        );
        lines.push('\n');
    }
    let file = env.dir.path().join("tides.jsonl");
    std::fs::write(&file, lines).unwrap();
    env.ok(&["import", file.to_str().unwrap()]);
    let listed: Vec<String> = env
        .list_json(&[])
        .iter()
        .map(|a| a["id"].as_str().unwrap().to_owned())
        .collect();
    let searched = env.ok(&["search", "--all", "--format", "ids", "tide harbor"]);
    let searched: Vec<&str> = searched.lines().collect();
    let by_ana = env.list_json(&["--reporter", "ana ruiz", "--since", "2012"]);
    let server = Server::start(&env, &[]);

    for (start, expected) in [
        ("/", listed.iter().map(String::as_str).collect::<Vec<_>>()),
        ("/?q=tide+harbor", searched.clone()),
    ] {
        let mut seen = Vec::new();
        let mut url = server.url(start);
        let mut pages = 0;
        loop {
            let page = get(&url);
            assert_eq!(page.status, 200, "{url}: {}", page.text);
            pages += 1;
            seen.extend(hits(&page.text).into_iter().map(|(id, _)| id));
            if start.contains("q=") {
                // Every snippet marks what was searched for.
                assert_eq!(
                    page.text.matches("<p class=\"snippet\"").count(),
                    page.text.matches("<mark>harbor</mark>").count()
                );
            }
            match next_link(&page.text) {
                Some(next) => url = server.url(&next),
                None => break,
            }
        }
        assert_eq!(pages, 3, "{start}");
        assert_eq!(seen, expected, "{start}");
    }

    // A filtered page counts what matches, and its facets count within it.
    let page = get(&server.url("/?reporter=ANA+RUIZ&since=2012"));
    assert!(
        page.text
            .contains(&format!("<strong>{}</strong> articles", by_ana.len())),
        "{}",
        page.text
    );
    assert!(page.text.contains(&format!(
        "dir=\"auto\">Coastwire</a> <span class=\"n\">{}</span>",
        by_ana.len()
    )));
    assert!(!page.text.contains(">Inland</a>"));
    // The chosen reporter is marked and its link drops it.
    assert!(
        page.text
            .contains("<li class=\"on\"><a href=\"/?since=2012\" dir=\"auto\">Ana Ruiz</a>")
    );
    assert_eq!(server.stop(), Some(0));
}

#[test]
fn hostile_page_requests_get_an_html_error_never_a_5xx() {
    let env = fixture();
    let server = Server::start(&env, &[]);
    let paths = [
        "/?q=%FF%FE".to_owned(),
        format!("/?q={}", "a".repeat(60_000)),
        format!("/?reporter={}", "%00".repeat(1000)),
        "/articles/%FF%FF%FF%FF".to_owned(),
        "/articles/%3Cscript%3E".to_owned(),
    ];
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig::with_cases(200));
    let query = proptest::string::string_regex(
        "(q|reporter|service|since|until|cursor|x)=[%0-9A-Za-z<>&\"*:() -]{0,30}(&(q|since|until|cursor)=[%0-9a-f-]{0,12}){0,2}",
    )
    .unwrap();
    let check = |path: &str| -> Result<(), TestCaseError> {
        let page = get(&server.url(path));
        let shown = &path[..path.len().min(80)];
        prop_assert!(
            (200..500).contains(&page.status),
            "{} for {shown}",
            page.status
        );
        prop_assert_eq!(&page.kind, "text/html; charset=utf-8", "{}", shown);
        prop_assert!(page.text.ends_with("</html>\n"), "{shown}");
        prop_assert!(!page.text.contains("<script"), "{shown}: {}", page.text);
        Ok(())
    };
    for path in &paths {
        check(path).unwrap();
    }
    runner
        .run(&query, |query| {
            check(&format!(
                "/?{}",
                query
                    .replace(' ', "%20")
                    .replace('"', "%22")
                    .replace('<', "%3C")
                    .replace('>', "%3E")
            ))
        })
        .unwrap();
    assert_eq!(server.stop(), Some(0));
}

// ---------------------------------------------------------------------------------------------
// Headless Chromium

/// A headless Chromium with a profile of its own.
struct Browser {
    exe: PathBuf,
    profile: tempfile::TempDir,
}

impl Browser {
    /// MORGUE_CHROMIUM, else `chromium` or `chromium-browser` on PATH.
    fn find() -> Option<Browser> {
        let exe = std::env::var_os("MORGUE_CHROMIUM")
            .map(PathBuf::from)
            .filter(|p| p.is_file())
            .or_else(|| {
                let path = std::env::var_os("PATH")?;
                std::env::split_paths(&path).find_map(|dir| {
                    ["chromium", "chromium-browser"]
                        .iter()
                        .map(|name| dir.join(name))
                        .find(|p| p.is_file())
                })
            })?;
        Some(Browser {
            exe,
            profile: tempfile::tempdir().ok()?,
        })
    }

    /// Runs Chromium headless with `args`; its standard output. Killed after two minutes
    /// (a hung browser fails the test instead of stalling it).
    fn run(&self, args: &[&str]) -> String {
        let mut child = Command::new(&self.exe)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--no-first-run",
                "--hide-scrollbars",
            ])
            .arg(format!("--user-data-dir={}", self.profile.path().display()))
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", self.exe.display()));
        let mut stdout = child.stdout.take().unwrap();
        let reader = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = stdout.read_to_string(&mut text);
            text
        });
        let start = Instant::now();
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                assert!(status.success(), "chromium {args:?} failed: {status}");
                break;
            }
            if start.elapsed() > Duration::from_secs(120) {
                let _ = child.kill();
                let _ = child.wait();
                panic!("chromium {args:?} did not finish in two minutes");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        reader.join().unwrap()
    }

    /// The DOM Chromium built from the page at `url`, serialised.
    fn dom(&self, url: &str) -> String {
        let dom = self.run(&["--dump-dom", url]);
        assert!(dom.contains("</html>"), "{url}: no document: {dom}");
        dom
    }

    fn screenshot(&self, url: &str, file: &std::path::Path, (width, height): (u32, u32)) {
        self.run(&[
            &format!("--screenshot={}", file.display()),
            &format!("--window-size={width},{height}"),
            url,
        ]);
        assert!(file.is_file(), "no screenshot of {url}");
    }
}

#[test]
fn web_page_in_chromium() {
    let Some(browser) = Browser::find() else {
        eprintln!(
            "notice: no chromium (PATH or MORGUE_CHROMIUM); the browser test of the web page is \
             skipped (apt-get install chromium)"
        );
        return;
    };
    let env = fixture();
    let script_id = env.id_of(SCRIPT_TITLE);
    let uyghur_id = env.id_of(UYGHUR_TITLE);
    let server = Server::start(&env, &[]);

    // The front page: every article, newest first, with the count.
    let front = browser.dom(&server.url("/"));
    assert!(
        front.contains("<strong>8</strong> articles, newest first"),
        "{front}"
    );
    for title in [
        UYGHUR_TITLE,
        CHINESE_TITLE,
        "Harbor Strike Ends After Three Days",
    ] {
        assert!(front.contains(title), "{title} not shown: {front}");
    }
    // No element came out of the stored text: the browser saw it as text.
    assert!(!front.contains("<script"), "{front}");
    assert!(front.contains(
        "Court Reads Out &lt;script&gt;alert(\"title\")&lt;/script&gt; &amp; Other Markup"
    ));
    assert!(front.contains("<meta name=\"viewport\""));

    // A search by the URL's query string: the count, the hits, the words marked.
    let search = browser.dom(&server.url("/?q=harbor"));
    assert!(
        search.contains("<strong>2</strong> articles match"),
        "{search}"
    );
    assert_eq!(search.matches("<mark>harbor</mark>").count(), 2, "{search}");
    assert!(search.contains("Harbor Pilots Warn of Fog Season Delays"));
    assert!(!search.contains(CHINESE_TITLE));
    let chinese = browser.dom(&server.url("/?q=%E7%BD%A2%E5%B7%A5"));
    assert!(
        chinese.contains("<strong>1</strong> article matches"),
        "{chinese}"
    );
    assert!(chinese.contains("<mark>罢工</mark>"), "{chinese}");
    assert!(chinese.contains("lang=\"zh\""));

    // A filtered page: only that service, its facets counted within it.
    let filtered = browser.dom(&server.url("/?service=coastwire"));
    assert!(
        filtered.contains("<strong>3</strong> articles"),
        "{filtered}"
    );
    assert!(filtered.contains("Ferry Timetable Changes for Winter"));
    assert!(!filtered.contains("Night Market Moves"));
    for (name, count) in [("Ana Ruiz", 2), ("Piet Maas", 2)] {
        assert!(
            filtered.contains(&format!("{name}</a> <span class=\"n\">{count}</span>")),
            "{name}: {filtered}"
        );
    }
    assert!(filtered.contains("service: <span dir=\"auto\">coastwire</span>"));

    // The article: its body as text (markup and entities shown, not run), the raw body's link.
    let article = browser.dom(&server.url(&format!("/articles/{script_id}")));
    assert!(!article.contains("<script"), "{article}");
    assert!(!article.contains("<b>bold"), "{article}");
    assert!(article.contains(
        "&lt;script&gt;alert(\"body\")&lt;/script&gt; followed by &lt;b&gt;bold&lt;/b&gt; text \
         and the entity &amp;amp; written out."
    ));
    assert!(article.contains(&format!(
        "<a href=\"/api/articles/{script_id}/body\">raw body</a>"
    )));
    assert!(article.contains("<dt>reporters</dt>"));
    // Right to left: the Uyghur article's title and paragraphs take their direction from
    // their text, and carry its language.
    let uyghur = browser.dom(&server.url(&format!("/articles/{uyghur_id}")));
    assert!(uyghur.contains(&format!("<h1 dir=\"auto\" lang=\"ug\">{UYGHUR_TITLE}</h1>")));
    assert!(uyghur.contains("<div class=\"body\" lang=\"ug\">"));
    // An unknown article: a page saying so.
    let missing = browser.dom(&server.url("/articles/00000000"));
    assert!(missing.contains("No article has an id starting with 00000000."));
    assert_eq!(server.stop(), Some(0));
}

/// Makes the screenshots of docs/img (one per view). Run by hand:
/// `cargo test -p morgue --test it web_screenshots -- --ignored`; CJK text needs a font
/// with Han characters (Debian: `apt-get install fonts-droid-fallback`).
#[test]
#[ignore = "writes docs/img; run by hand when the page changes"]
fn web_screenshots() {
    let browser = Browser::find().expect("chromium (PATH or MORGUE_CHROMIUM)");
    let env = fixture();
    let uyghur_id = env.id_of(UYGHUR_TITLE);
    let server = Server::start(&env, &[]);
    let dir = workspace_root().join("docs/img");
    std::fs::create_dir_all(&dir).unwrap();
    for (name, path, size) in [
        (
            "web-search.png",
            "/?q=harbor+OR+%E6%B8%AF%E5%8F%A3".to_owned(),
            (1200, 900),
        ),
        (
            "web-filtered.png",
            "/?service=Coastwire&since=2021".to_owned(),
            (1200, 900),
        ),
        (
            "web-article.png",
            format!("/articles/{uyghur_id}"),
            (1200, 700),
        ),
        ("web-phone.png", "/".to_owned(), (390, 844)),
    ] {
        browser.screenshot(&server.url(&path), &dir.join(name), size);
    }
    assert_eq!(server.stop(), Some(0));
}
