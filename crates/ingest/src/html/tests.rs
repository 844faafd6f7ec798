//! Pages written for these tests.

use super::*;

/// A news page the way sites write them: JSON-LD, Open Graph, navigation, a share bar,
/// related links and comments around the story.
const PAGE: &str = r##"<!DOCTYPE html>
<html lang="en-GB">
<head>
<meta charset="utf-8">
<title>Harbor strike ends after three weeks | Example Post</title>
<meta property="og:site_name" content="Example Post">
<meta property="og:title" content="Harbor strike ends after three weeks">
<meta property="og:image" content="https://example.org/img/dock.jpg">
<meta property="article:published_time" content="2019-03-15T08:30:00+02:00">
<meta property="article:tag" content="Labour">
<meta property="article:tag" content="Shipping">
<link rel="canonical" href="https://example.org/news/harbor-strike">
<script type="application/ld+json">
{"@context": "https://schema.org", "@graph": [
  {"@type": "WebSite", "name": "Example Post"},
  {"@type": "NewsArticle", "headline": "Harbor strike ends after three weeks",
   "datePublished": "2019-03-15T08:30:00+02:00",
   "author": [{"@type": "Person", "name": "Ann Lee"}, {"@type": "Person", "name": "Bo Chan"}],
   "publisher": {"@type": "Organization", "name": "Example Post"}}
]}
</script>
<style>body { color: black; }</style>
</head>
<body>
<nav><ul><li><a href="/">Home</a></li><li><a href="/world">World</a></li><li><a href="/sport">Sport</a></li></ul></nav>
<div class="share"><a href="#">Share on social media</a> <a href="#">Email</a></div>
<article>
<h1>Harbor strike ends after three weeks</h1>
<p class="byline">By Ann Lee and Bo Chan</p>
<p>Dock workers at the city's main harbor went back to work on Friday after a strike of three weeks, their union said, ending a dispute that had left ships waiting at anchor.</p>
<p>The union's leader said the agreement, signed late on Thursday, raised pay by six percent over two years and limited night shifts, which workers had called unsafe.</p>
<p>Shipping companies said it would take days to clear the backlog of containers, and that some vessels had already sailed for other ports along the coast.</p>
<script>trackPageView();</script>
</article>
<aside class="related"><h2>Related</h2><ul><li><a href="/a">Ferry fares rise</a></li><li><a href="/b">Port opens new berth</a></li></ul></aside>
<section id="comments"><h2>Comments</h2><p>First!</p></section>
<footer>© Example Post</footer>
</body>
</html>
"##;

fn parse(html: &str) -> Parsed {
    parse_html(html.as_bytes(), &PageInfo::default()).unwrap()
}

#[test]
fn a_news_page_gives_its_metadata_and_main_text() {
    let p = parse(PAGE);
    let r = &p.draft.record;
    assert_eq!(r.title, "Harbor strike ends after three weeks");
    assert_eq!(r.reporters, ["Ann Lee", "Bo Chan"]);
    assert_eq!(r.outlet, "Example Post");
    assert_eq!(r.url, "https://example.org/news/harbor-strike");
    assert_eq!(r.image, "https://example.org/img/dock.jpg");
    assert_eq!(r.tags, ["Labour", "Shipping"]);
    let date = r.date.unwrap();
    // 08:30 at +02:00 is 06:30 UTC.
    assert_eq!(date.to_datetime().to_string(), "2019-03-15 06:30:00");
    assert_eq!(r.date_origin, Some(morgue_model::DateOrigin::Given));
    assert_eq!(r.extra.get("lang").map(String::as_str), Some("\"en-GB\""));
    assert_eq!(
        r.extra.get("date_from").map(String::as_str),
        Some("\"json-ld datePublished\"")
    );
    let body = &p.draft.body;
    assert!(
        body.starts_with("Dock workers at the city's main harbor"),
        "{body}"
    );
    assert!(body.contains("six percent over two years"), "{body}");
    assert!(body.ends_with("ports along the coast."), "{body}");
    assert_eq!(body.matches("\n\n").count(), 2, "{body}");
    for junk in [
        "Home",
        "Share on",
        "Related",
        "Ferry fares",
        "First!",
        "trackPageView",
        "color:",
    ] {
        assert!(!body.contains(junk), "{junk} in {body}");
    }
}

#[test]
fn metadata_without_json_ld() {
    let page = PAGE
        .replace(r#"<script type="application/ld+json">"#, "<!--")
        .replace("]}\n</script>", "]} -->")
        .replace(
            r#"<meta property="og:title" content="Harbor strike ends after three weeks">"#,
            "",
        );
    let p = parse(&page);
    let r = &p.draft.record;
    // The <h1> (the one on the page) is the title; the byline element gives the reporters.
    assert_eq!(r.title, "Harbor strike ends after three weeks");
    assert_eq!(r.reporters, ["Ann Lee", "Bo Chan"]);
    assert_eq!(
        r.extra.get("date_from").map(String::as_str),
        Some("\"article:published_time\"")
    );
}

#[test]
fn bylines_in_other_languages_and_with_times() {
    let page = |byline: &str| {
        format!(
            "<html><head><title>Un titre assez long pour un article - Le Site</title></head><body><article>\
             <div class=\"byline\">{byline}</div><p>{}</p></article></body></html>",
            "Le texte de l'article, assez long pour être retenu par l'extracteur. ".repeat(8)
        )
    };
    assert_eq!(
        parse(&page("Par Jeanne Dupont et Marc Roux"))
            .draft
            .record
            .reporters
            .len(),
        1
    );
    assert_eq!(
        parse(&page("Von Anna Schmidt")).draft.record.reporters,
        ["Anna Schmidt"]
    );
    assert_eq!(
        parse(&page("By JOE HILDEBRAND Updated 3:46 PM"))
            .draft
            .record
            .reporters,
        ["Joe Hildebrand"]
    );
    let p = parse(&page("Updated 3:46 PM"));
    assert!(
        p.draft.record.reporters.is_empty(),
        "{:?}",
        p.draft.record.reporters
    );
    // <title> without the site's suffix.
    assert_eq!(p.draft.record.title, "Un titre assez long pour un article");
}

#[test]
fn time_datetime_is_a_parsed_date() {
    let page = format!(
        "<html><body><article><h1>A headline here</h1><time datetime=\"2021-06-01T23:30:00-04:00\">June 1</time><p>{}</p></article></body></html>",
        "Words of the story go on for a while here. ".repeat(10)
    );
    let r = parse(&page).draft.record;
    assert_eq!(
        r.date.unwrap().to_datetime().to_string(),
        "2021-06-02 03:30:00"
    );
    assert_eq!(r.date_origin, Some(morgue_model::DateOrigin::Parsed));
}

#[test]
fn shift_jis_and_gbk_pages_become_utf8() {
    for (label, text) in [
        (
            "Shift_JIS",
            "港湾ストライキが終わった。労働組合によると、労働者は金曜日に仕事に戻った。",
        ),
        ("GBK", "港口罢工结束了。工会说，工人们星期五回去上班了。"),
    ] {
        let html = format!(
            "<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset={label}\"><title>{}</title></head>\
             <body><article><p>{}</p></article></body></html>",
            &text[..text.find('。').unwrap()],
            text.repeat(6)
        );
        let encoding = Encoding::for_label(label.as_bytes()).unwrap();
        let (bytes, _, bad) = encoding.encode(&html);
        assert!(!bad);
        let p = parse_html(&bytes, &PageInfo::default()).unwrap();
        assert!(p.draft.body.contains(text), "{label}: {}", p.draft.body);
        assert_eq!(p.draft.record.title, &text[..text.find('。').unwrap()]);
        // The same page, the charset given by HTTP and not by the page.
        let plain = html.replace(&format!("; charset={label}"), "");
        let (bytes, _, _) = encoding.encode(&plain);
        let info = PageInfo {
            charset: Some(label),
            ..PageInfo::default()
        };
        assert!(parse_html(&bytes, &info).unwrap().draft.body.contains(text));
    }
}

#[test]
fn hostile_pages_are_refused_quickly() {
    let deep = "<div>".repeat(1_000_000);
    assert!(matches!(
        parse_html(deep.as_bytes(), &PageInfo::default()),
        Err(IngestError::PageTooComplex { .. })
    ));
    let many = "<br>".repeat(MAX_ELEMENTS + 1);
    assert!(matches!(
        parse_html(many.as_bytes(), &PageInfo::default()),
        Err(IngestError::PageTooComplex { .. })
    ));
    // Unclosed paragraphs do not nest.
    let page = format!(
        "<html><body><article>{}</article></body></html>",
        "<p>A paragraph of the story that goes on for a little while.".repeat(2000)
    );
    assert!(parse_html(page.as_bytes(), &PageInfo::default()).is_ok());
    // A page with no text is an error.
    assert!(matches!(
        parse_html(
            b"<html><body><nav><a href=/>x</a></nav></body></html>",
            &PageInfo::default()
        ),
        Err(IngestError::NoArticleText)
    ));
}

#[test]
fn sniffing() {
    assert!(looks_like_html(b"\xef\xbb\xbf  <!DOCTYPE html><html>"));
    assert!(looks_like_html(b"<!-- saved --><html lang=en>"));
    assert!(!looks_like_html(b"<?xml version=\"1.0\"?><rss>"));
    assert!(!looks_like_html(b"Headline\n\n<html> in text"));
}

/// A page around `inner` (put in `<body>`), with `head` in `<head>`, and enough story text.
fn page_with(head: &str, inner: &str) -> String {
    format!(
        "<html><head>{head}</head><body>{inner}<article><p>{}</p><p>{}</p></article></body></html>",
        "The council voted on Tuesday to keep the old library open for another year, after a campaign by readers that gathered thousands of names.",
        "Its director said the building would need a new roof before winter, and that the money would come from the city's repair fund."
    )
}

#[test]
fn the_shown_headline_wins_over_a_shortened_one() {
    // The meta title leaves out the words the <h1> starts with.
    let html = page_with(
        r#"<meta property="og:title" content="Library stays open">"#,
        "<h1>After a long campaign: Library stays open</h1><h1>Most read</h1>",
    );
    assert_eq!(
        parse(&html).draft.record.title,
        "After a long campaign: Library stays open"
    );
    // Two <h1> with one text (a page that prints its headline twice) and no meta title.
    let html = page_with(
        "<title>Library stays open-Example Daily</title>",
        "<h1>Library stays open</h1><div><h1>Library stays open</h1></div>",
    );
    assert_eq!(parse(&html).draft.record.title, "Library stays open");
    // "Headline -- Site".
    let html = page_with(
        r#"<meta property="og:site_name" content="Example.net"><meta property="og:title" content="Library stays open -- Example.net">"#,
        "",
    );
    assert_eq!(parse(&html).draft.record.title, "Library stays open");
}

#[test]
fn outlets_and_editors_are_not_reporters() {
    // A JSON-LD "Person" that is a wire, and one named as the site.
    let html = page_with(
        r#"<link rel="canonical" href="https://www.examplenews.com/a/1">
        <script type="application/ld+json">{"@type": "NewsArticle", "headline": "Library stays open",
        "author": [{"@type": "Person", "name": "Metro Wire"}, {"@type": "Person", "name": "ExampleNews"}]}</script>"#,
        "",
    );
    assert!(parse(&html).draft.record.reporters.is_empty());
    // The author meta tag names the editor the text credits at its end.
    let html = page_with(r#"<meta name="author" content="王芳">"#, "")
        .replace("</article>", "<p>（编辑：王芳 李明）</p></article>");
    assert!(parse(&html).draft.record.reporters.is_empty());
}

#[test]
fn a_by_line_at_the_end_of_the_text_names_the_reporter() {
    let html = page_with(r#"<meta name="author" content="City Desk">"#, "").replace(
        "</article>",
        "<p>-- By Ann Lee Follow @annlee</p></article>",
    );
    assert_eq!(parse(&html).draft.record.reporters, ["Ann Lee"]);
    // Not a name: a sentence that starts with "By".
    let html = page_with("", "").replace(
        "</article>",
        "<p>By then the doors had closed for good.</p></article>",
    );
    assert!(parse(&html).draft.record.reporters.is_empty());
}

#[test]
fn dates_from_other_metas_time_text_the_address_and_under_the_headline() {
    let date = |html: &str| {
        let r = parse(html).draft.record;
        (
            r.date.map(|d| d.day.to_string()),
            r.extra
                .get("date_from")
                .map(|s| s.trim_matches('"').to_string()),
        )
    };
    // A meta tag of another name that says publication, in a zone abbreviation.
    let html = page_with(
        r#"<meta name="recs:publishtime" content="2021-01-03T23:40:00EET"><meta name="recs:modifiedtime" content="2021-02-01T00:00:00Z">"#,
        "",
    );
    assert_eq!(
        date(&html),
        (Some("2021-01-03".into()), Some("meta".into()))
    );
    // A <time> whose datetime is not ISO: its day.
    let html = page_with(
        "",
        r#"<time datetime="jueves, 09 enero 2014 10:21">jueves, 09 enero 2014</time>"#,
    );
    assert_eq!(
        date(&html),
        (Some("2014-01-09".into()), Some("time datetime".into()))
    );
    // The address.
    let html = page_with(
        r#"<link rel="canonical" href="https://example.org/2013/world/8/3/story.html">"#,
        "",
    );
    assert_eq!(
        date(&html),
        (Some("2013-08-03".into()), Some("address".into()))
    );
    // Printed under the headline.
    let html = page_with(
        "",
        r#"<h1>Library stays open</h1><div class="info">Ann Lee<br>Thu, 14 May 2020 17:55 UTC</div>"#,
    );
    assert_eq!(
        date(&html),
        (
            Some("2020-05-14".into()),
            Some("text after the headline".into())
        )
    );
}

#[test]
fn subheadings_stay_and_captions_and_furniture_go() {
    let html = page_with("", "").replace(
        "</article>",
        r#"<h2 class="subheader">What the roof will cost</h2>
        <p>The repair fund holds enough for the roof and for new shelves in the reading room.</p>
        <figure><img src="a.jpg"><figcaption>The reading room in May.</figcaption></figure>
        <div class="image-caption">Readers queue at the door.</div>
        <p>Ad Feedback</p><p>02:12 - Source: Example</p><p>&lt;&lt;</p><p>12</p>
        <p>© Example Photos</p></article>"#,
    );
    let body = parse(&html).draft.body;
    assert!(body.contains("What the roof will cost"), "{body}");
    for gone in [
        "reading room in May",
        "queue at the door",
        "Ad Feedback",
        "02:12",
        "<<",
        "\n12",
        "Example Photos",
    ] {
        assert!(!body.contains(gone), "{gone:?} in {body}");
    }
}

#[test]
fn furniture_filter_keeps_a_story_of_repeated_lines() {
    let body = drop_page_furniture("Gallery\nOne line.\nGallery\nTwo lines.\nGallery");
    assert_eq!(body, "One line.\nTwo lines.");
}

#[test]
fn scripts_styles_and_comments_are_emptied_before_parsing() {
    let page = r#"<html><head><script type="application/ld+json">{"headline": "Kept"}</script>
<SCRIPT src="a.js" data-x='1>2'>var a = "<p>not text</p>";</SCRIPT><style>p { color: red }</style>
<!-- <p>a comment</p> --></head><body><p>Story</p><script>unclosed"#;
    let out = without_scripts(page);
    assert!(out.contains(r#"{"headline": "Kept"}"#));
    assert!(
        out.contains(r#"<SCRIPT src="a.js" data-x='1>2'></SCRIPT>"#),
        "{out}"
    );
    assert!(out.contains("<style></style>"));
    assert!(!out.contains("not text") && !out.contains("a comment") && !out.contains("color"));
    // An unclosed script is left as it is.
    assert!(out.ends_with("<p>Story</p><script>unclosed"));
}

#[test]
fn attributes_nothing_reads_are_dropped_before_parsing() {
    let page = r#"<div class="story" data-uri="x>y" id=main onclick='go()' data-n=3><img src="a.jpg" srcset="a 1x, b 2x" sizes="100vw" alt="A"/><p>Text</p></div><a href="/b">b</a>"#;
    let out = without_scripts(page);
    assert_eq!(
        out,
        r#"<div class="story" id=main><img src="a.jpg" alt="A" /><p>Text</p></div><a href="/b">b</a>"#
    );
    // A tag it cannot read is left as it is.
    assert_eq!(without_unread_attributes(r#"<p ="x" data-a=1>"#), None);
}
