//! HTML pages: one page, one article.
//!
//! The body is the page's main text as found by `dom_smoothie` (a port of Mozilla's
//! Readability), as plain-text paragraphs. The metadata is read here, from what pages declare:
//! JSON-LD, Open Graph and `article:` meta tags, other meta tags, byline elements, `<time>`, the
//! canonical link and `<html lang>`. The metadata is gathered into a JSON object and read by the
//! JSON reader, so that an HTML page and a JSON article fill the record by the same rules.
//!
//! Hostile pages are bounded before any parsing: a page is at most [`crate::MAX_ARTICLE_BYTES`],
//! at most [`MAX_ELEMENTS`] tags and at most [`MAX_DEPTH`] elements deep (the HTML parser's
//! work grows with depth, and the extractor recurses).

use dom_query::{Document, Selection};
use encoding_rs::Encoding;
use serde_json::{Map, Value};

use crate::{IngestError, Parsed, dates, json, names};

/// Most tags a page may hold.
pub(crate) const MAX_ELEMENTS: usize = 250_000;
/// Deepest nesting of elements a page may have.
pub(crate) const MAX_DEPTH: usize = 512;
/// Fewest letters and digits of a page's main text: less is a page with no article text.
const MIN_TEXT: usize = 25;

/// Metadata a caller knows of the page besides its bytes (a WARC record's).
#[derive(Debug, Clone, Default)]
pub(crate) struct PageInfo<'a> {
    /// The charset of an HTTP `Content-Type` header.
    pub charset: Option<&'a str>,
    /// Fields for the record's `extra`, as strings.
    pub extra: Vec<(&'static str, String)>,
    /// The URL the page was fetched from: the record's `url` when the page names none.
    pub url: Option<&'a str>,
}

/// Whether the start of an input looks like an HTML page: `<!doctype html` or an `<html`
/// tag near the start (after a byte-order mark, whitespace and comments).
pub(crate) fn looks_like_html(head: &[u8]) -> bool {
    let head = head.strip_prefix(&[0xEF, 0xBB, 0xBF][..]).unwrap_or(head);
    let head = head.trim_ascii_start();
    if head.first() != Some(&b'<') {
        return false;
    }
    let lower = head[..head.len().min(4096)].to_ascii_lowercase();
    lower.starts_with(b"<!doctype html")
        || lower.windows(5).any(|w| w == b"<html")
        || lower.windows(5).any(|w| w == b"<head")
        || lower.windows(5).any(|w| w == b"<body")
}

/// Reads one page into an article.
pub(crate) fn parse_html(bytes: &[u8], info: &PageInfo<'_>) -> Result<Parsed, IngestError> {
    let text = decode(bytes, info.charset);
    check_shape(&text)?;
    let text = without_scripts(&text);
    let document = Document::from(text.as_str());
    let mut object = metadata(&document);
    if !object.contains_key("url")
        && let Some(url) = info.url
    {
        object.insert("url".into(), Value::String(url.to_string()));
    }
    let url = object
        .get("url")
        .and_then(Value::as_str)
        .filter(|u| u.starts_with("http://") || u.starts_with("https://"))
        .map(str::to_string);
    keep_subheadings(&document);
    drop_captions(&document);
    let config = dom_smoothie::Config {
        text_mode: dom_smoothie::TextMode::Formatted,
        ..dom_smoothie::Config::default()
    };
    let mut reader =
        dom_smoothie::Readability::with_document(document, url.as_deref(), Some(config))
            .or_else(|_| {
                dom_smoothie::Readability::with_document(
                    Document::from(text.as_str()),
                    None,
                    Some(dom_smoothie::Config {
                        text_mode: dom_smoothie::TextMode::Formatted,
                        ..dom_smoothie::Config::default()
                    }),
                )
            })
            .map_err(|_| IngestError::NoArticleText)?;
    let article = reader.parse().map_err(|_| IngestError::NoArticleText)?;
    let text = paragraphs(&article.text_content);
    // Furniture is a small part of a page: a filter that would take half the text away is
    // wrong about this page, and the text stays as the extractor gave it.
    let cleaned = drop_page_furniture(&text);
    let letters = |t: &str| t.chars().filter(|c| c.is_alphanumeric()).count();
    let body = if letters(&cleaned) * 2 >= letters(&text) {
        cleaned
    } else {
        text
    };
    if body.chars().filter(|c| c.is_alphanumeric()).count() < MIN_TEXT {
        return Err(IngestError::NoArticleText);
    }
    if !object.contains_key("title") && !article.title.trim().is_empty() {
        object.insert(
            "title".into(),
            Value::String(article.title.trim().to_string()),
        );
    }
    let extra = object
        .entry("extra")
        .or_insert_with(|| Value::Object(Map::new()));
    if let Value::Object(extra) = extra {
        for (name, value) in &info.extra {
            extra.insert((*name).to_string(), Value::String(value.clone()));
        }
        if extra.is_empty() {
            object.remove("extra");
        }
    }
    let body_byline = body_byline(&body);
    let editors = editor_names(&body);
    object.insert("body".into(), Value::String(body));
    let mut parsed = json::parse_json_value(Value::Object(object))?;
    let record = &mut parsed.draft.record;
    let host = url.as_deref().and_then(site_label);
    let outlet = squash(&record.outlet);
    record.reporters.retain(|name| {
        plausible_name(name)
            && !names::looks_like_organisation(name)
            && squash(name) != outlet
            && host.as_deref() != Some(squash(name).as_str())
            && !editors.iter().any(|e| e == name)
    });
    if record.reporters.is_empty()
        && let Some(byline) = body_byline
    {
        record.reporters = names::parse_author_string(&byline)
            .names
            .into_iter()
            .filter(|n| plausible_name(n) && !names::looks_like_organisation(n))
            .collect();
    }
    Ok(parsed)
}

/// The page as text: by its byte-order mark, else the charset the caller or a `<meta>` in the
/// first 4 KiB declares, else UTF-8 when the bytes are valid UTF-8, else windows-1252 (what
/// browsers assume). Undecodable bytes become U+FFFD.
/// Borrowed when the bytes are already UTF-8.
fn decode<'a>(bytes: &'a [u8], declared: Option<&str>) -> std::borrow::Cow<'a, str> {
    if let Some((encoding, bom)) = Encoding::for_bom(bytes) {
        return encoding.decode_without_bom_handling(&bytes[bom..]).0;
    }
    let declared = declared
        .and_then(|label| Encoding::for_label(label.trim().as_bytes()))
        .or_else(|| meta_charset(&bytes[..bytes.len().min(4096)]))
        // A page that says UTF-16 without a byte-order mark is ASCII-compatible: UTF-8.
        .map(Encoding::output_encoding);
    let encoding = match declared {
        Some(encoding) => encoding,
        None if std::str::from_utf8(bytes).is_ok() => encoding_rs::UTF_8,
        None => encoding_rs::WINDOWS_1252,
    };
    encoding.decode_without_bom_handling(bytes).0
}

/// The charset a `<meta charset>` or `<meta http-equiv content="…; charset=…">` declares.
fn meta_charset(head: &[u8]) -> Option<&'static Encoding> {
    let lower = head.to_ascii_lowercase();
    let mut from = 0;
    while let Some(at) = find(&lower[from..], b"charset") {
        let mut i = from + at + b"charset".len();
        from = i;
        while lower.get(i).is_some_and(u8::is_ascii_whitespace) {
            i += 1;
        }
        if lower.get(i) != Some(&b'=') {
            continue;
        }
        i += 1;
        while lower
            .get(i)
            .is_some_and(|b| b.is_ascii_whitespace() || *b == b'"' || *b == b'\'')
        {
            i += 1;
        }
        let end = lower[i..]
            .iter()
            .position(|b| !(b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b':' | b'.')))
            .map_or(lower.len(), |n| i + n);
        if let Some(encoding) = Encoding::for_label(&lower[i..end]) {
            return Some(encoding);
        }
    }
    None
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(haystack, needle)
}

/// Elements that never nest: void elements, and ones whose end tag may be left out and that
/// the parser closes by itself.
const NOT_NESTING: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source",
    "track", "wbr", "p", "li", "dt", "dd", "option", "tr", "td", "th", "rp", "rt",
];

/// Refuses pages too big for the parser: more than [`MAX_ELEMENTS`] tags, or elements nested
/// deeper than [`MAX_DEPTH`] (counted on the tags, script and style contents and comments
/// skipped). One linear pass.
fn check_shape(text: &str) -> Result<(), IngestError> {
    let bytes = text.as_bytes();
    let (mut elements, mut depth, mut deepest) = (0usize, 0usize, 0usize);
    let mut i = 0;
    while let Some(at) = memchr::memchr(b'<', &bytes[i..]) {
        i += at + 1;
        if bytes[i..].starts_with(b"!--") {
            i = find(&bytes[i..], b"-->").map_or(bytes.len(), |n| i + n + 3);
            continue;
        }
        let closing = bytes.get(i) == Some(&b'/');
        let start = if closing { i + 1 } else { i };
        let len = bytes[start..]
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric())
            .count();
        if len == 0 || !bytes[start].is_ascii_alphabetic() {
            continue;
        }
        let name = text[start..start + len].to_ascii_lowercase();
        i = start + len;
        if closing {
            if !NOT_NESTING.contains(&name.as_str()) {
                depth = depth.saturating_sub(1);
            }
            continue;
        }
        elements += 1;
        if elements > MAX_ELEMENTS {
            return Err(IngestError::PageTooComplex {
                what: format!("more than {MAX_ELEMENTS} elements"),
            });
        }
        let tag_end = bytes[i..]
            .iter()
            .position(|&b| b == b'>')
            .map_or(bytes.len(), |n| i + n);
        let self_closing = tag_end > 0 && bytes.get(tag_end - 1) == Some(&b'/');
        if matches!(name.as_str(), "script" | "style" | "textarea" | "title") {
            i = end_tag(bytes, tag_end.min(bytes.len()), name.as_bytes());
            continue;
        }
        i = tag_end.min(bytes.len());
        if !self_closing && !NOT_NESTING.contains(&name.as_str()) {
            depth += 1;
            deepest = deepest.max(depth);
            if deepest > MAX_DEPTH {
                return Err(IngestError::PageTooComplex {
                    what: format!("elements nested more than {MAX_DEPTH} deep"),
                });
            }
        }
    }
    Ok(())
}

/// The page without what neither the metadata nor the extractor reads: the contents of its
/// `<script>` elements (but not of JSON-LD ones) and `<style>` elements, its comments, and the
/// `data-*`, `srcset`, `sizes` and `on*` attributes of its tags. On news pages these are most
/// of the bytes (a 2.5 MB page keeps 0.3 MB), and the HTML parser's time goes with the bytes.
/// One linear pass; the tags themselves stay.
fn without_scripts(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len() / 2);
    let mut copied = 0;
    let mut i = 0;
    while let Some(at) = memchr::memchr(b'<', &bytes[i..]) {
        let start = i + at;
        let rest = &bytes[start + 1..];
        if rest.starts_with(b"!--") {
            let end = find(&bytes[start + 4..], b"-->").map_or(bytes.len(), |n| start + 4 + n + 3);
            out.push_str(&text[copied..start]);
            copied = end;
            i = end;
            continue;
        }
        let name = if starts_with_tag(rest, b"script") {
            &b"script"[..]
        } else if starts_with_tag(rest, b"style") {
            &b"style"[..]
        } else {
            i = start + 1;
            if rest.first().is_some_and(u8::is_ascii_alphabetic) {
                let end = tag_end(bytes, start + 1);
                if let Some(tag) = without_unread_attributes(&text[start..end]) {
                    out.push_str(&text[copied..start]);
                    out.push_str(&tag);
                    copied = end;
                }
                i = end.max(start + 1);
            }
            continue;
        };
        let open_end = tag_end(bytes, start + 1 + name.len());
        let open = &bytes[start..open_end];
        let json_ld = open.windows(7).any(|w| w.eq_ignore_ascii_case(b"ld+json"));
        let after_close = end_tag(bytes, open_end, name);
        if after_close == bytes.len() {
            // Not closed: the parser reads the rest as the element's text; nothing to strip.
            break;
        }
        let close = after_close - name.len() - 2;
        if json_ld || close <= open_end {
            i = open_end.max(start + 1);
            continue;
        }
        out.push_str(&text[copied..open_end]);
        copied = close;
        i = close + 2;
    }
    out.push_str(&text[copied..]);
    out
}

/// A start tag without the attributes nothing reads (`data-*`, `srcset`, `sizes`, `on*`
/// handlers), or `None` when it has none of them. On news pages these are most of the bytes of
/// the markup that is left once the scripts are emptied.
fn without_unread_attributes(tag: &str) -> Option<String> {
    let b = tag.as_bytes();
    let unread = |name: &[u8]| {
        let lower = name.to_ascii_lowercase();
        lower.starts_with(b"data-")
            || lower.starts_with(b"on")
            || lower == b"srcset"
            || lower == b"sizes"
    };
    // The tag's name.
    let mut i = 1;
    while i < b.len() && !b[i].is_ascii_whitespace() && b[i] != b'>' && b[i] != b'/' {
        i += 1;
    }
    let mut kept: Vec<(usize, usize)> = Vec::new();
    let mut dropped = false;
    loop {
        while i < b.len() && (b[i].is_ascii_whitespace() || b[i] == b'/') {
            i += 1;
        }
        if i >= b.len() || b[i] == b'>' {
            break;
        }
        let from = i;
        while i < b.len() && !b[i].is_ascii_whitespace() && !matches!(b[i], b'=' | b'>' | b'/') {
            i += 1;
        }
        let name = &b[from..i];
        let mut j = i;
        while j < b.len() && b[j].is_ascii_whitespace() {
            j += 1;
        }
        if j < b.len() && b[j] == b'=' {
            j += 1;
            while j < b.len() && b[j].is_ascii_whitespace() {
                j += 1;
            }
            if j < b.len() && (b[j] == b'"' || b[j] == b'\'') {
                let quote = b[j];
                j += 1;
                while j < b.len() && b[j] != quote {
                    j += 1;
                }
                j = (j + 1).min(b.len());
            } else {
                while j < b.len() && !b[j].is_ascii_whitespace() && b[j] != b'>' {
                    j += 1;
                }
            }
            i = j;
        }
        if name.is_empty() {
            // A stray '=' or quote: leave the tag as it is.
            return None;
        }
        if unread(name) {
            dropped = true;
        } else {
            kept.push((from, i));
        }
    }
    if !dropped {
        return None;
    }
    let name_end = tag[1..]
        .find(|c: char| c.is_ascii_whitespace() || c == '>' || c == '/')
        .map_or(tag.len(), |n| n + 1);
    let mut out = String::with_capacity(tag.len());
    out.push_str(&tag[..name_end]);
    for (from, to) in kept {
        out.push(' ');
        out.push_str(&tag[from..to]);
    }
    if tag.trim_end_matches('>').ends_with('/') {
        out.push_str(" /");
    }
    out.push('>');
    Some(out)
}

/// Whether `rest` (after a `<`) starts with the tag `name` (any case) followed by the end of
/// the name.
fn starts_with_tag(rest: &[u8], name: &[u8]) -> bool {
    rest.get(..name.len())
        .is_some_and(|n| n.eq_ignore_ascii_case(name))
        && rest
            .get(name.len())
            .is_some_and(|&b| b.is_ascii_whitespace() || b == b'>' || b == b'/')
}

/// The offset just after the `>` that ends a start tag whose attributes begin at `from`,
/// quoted attribute values skipped; the end of the input when there is none.
fn tag_end(bytes: &[u8], from: usize) -> usize {
    let mut quote = None;
    for (k, &b) in bytes.iter().enumerate().skip(from) {
        match quote {
            Some(q) if b == q => quote = None,
            None if b == b'"' || b == b'\'' => quote = Some(b),
            None if b == b'>' => return k + 1,
            _ => {}
        }
    }
    bytes.len()
}

/// The offset just after the `</name` (any case) that closes a raw-text element whose content
/// starts at `from`, or the end of the input. Linear in what it skips.
fn end_tag(bytes: &[u8], from: usize, name: &[u8]) -> usize {
    let mut i = from;
    while let Some(at) = memchr::memmem::find(&bytes[i..], b"</") {
        let start = i + at + 2;
        if bytes
            .get(start..start + name.len())
            .is_some_and(|n| n.eq_ignore_ascii_case(name))
        {
            return start + name.len();
        }
        i = start;
    }
    bytes.len()
}

/// The extractor's text as paragraphs: lines trimmed, runs of blank lines made one.
fn paragraphs(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut blank = false;
    for line in text.lines() {
        let line = line.split_whitespace().collect::<Vec<_>>().join(" ");
        if line.is_empty() {
            blank = true;
            continue;
        }
        if !out.is_empty() {
            out.push_str(if blank { "\n\n" } else { "\n" });
        }
        out.push_str(&line);
        blank = false;
    }
    out
}

/// A "By Ann Lee" line among the first or last three lines of the main text (a dash before it,
/// and a "Follow @…" or date after the name, are left out), as "By …".
fn body_byline(body: &str) -> Option<String> {
    let lines: Vec<&str> = body.lines().filter(|l| !l.trim().is_empty()).collect();
    let ends = lines
        .iter()
        .take(3)
        .chain(lines.iter().skip(lines.len().saturating_sub(3)));
    for line in ends {
        let line = line.trim_start_matches(['-', '\u{2013}', '\u{2014}', ' ']);
        if line.chars().count() > 100
            || !line.get(..3).is_some_and(|b| b.eq_ignore_ascii_case("by "))
        {
            continue;
        }
        let mut words = Vec::new();
        for word in line[3..].split_whitespace() {
            let lower = word.to_lowercase();
            if word.starts_with('@')
                || word.chars().any(|c| c.is_ascii_digit())
                || [
                    "follow",
                    "email",
                    "twitter",
                    "|",
                    "on",
                    "updated",
                    "published",
                ]
                .contains(&lower.as_str())
            {
                break;
            }
            words.push(word);
        }
        let capitalised = words
            .iter()
            .all(|w| w.chars().next().is_some_and(char::is_uppercase) || ["and", "&"].contains(w));
        if (2..=8).contains(&words.len()) && capitalised {
            return Some(format!("By {}", words.join(" ")));
        }
    }
    None
}

/// Names the main text gives as its editors ("（编辑：严玉洁 王辉）", "【责任编辑：…】",
/// "Editing by Ann Lee"): a page's `author` meta tag often names them, and they are not its
/// reporters.
fn editor_names(body: &str) -> Vec<String> {
    let mut out = Vec::new();
    for label in [
        "编辑：",
        "编辑:",
        "編輯：",
        "編集：",
        "Editing by ",
        "Edited by ",
    ] {
        let mut rest = body;
        while let Some(at) = rest.find(label) {
            rest = &rest[at + label.len()..];
            let end = rest
                .find(['）', ')', '】', ']', '\n', ';', '.'])
                .unwrap_or(rest.len());
            for name in rest[..end].split([' ', '\u{3000}', '、', ',', '，']) {
                let name = name.trim();
                if !name.is_empty() && name != "and" {
                    out.push(name.to_string());
                }
            }
        }
    }
    out
}

/// A name in lower case without spaces or punctuation, to compare with a site's name.
fn squash(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// The distinctive label of an address's host: "example" for `https://www.example.co.uk/x`.
fn site_label(url: &str) -> Option<String> {
    let host = url
        .split_once("://")?
        .1
        .split(['/', ':', '?', '#'])
        .next()?;
    let labels: Vec<&str> = host.split('.').filter(|l| !l.is_empty()).collect();
    let generic = [
        "www", "com", "co", "org", "net", "news", "edition", "m", "amp",
    ];
    labels
        .iter()
        .rev()
        .skip(1)
        .find(|l| l.len() > 2 && !generic.contains(l))
        .map(|l| squash(l))
}

/// Takes the class and id off the story's subheadings (`<h2 class="subheader">`): the
/// extractor reads "header" in a class as page furniture and would drop them with their text.
fn keep_subheadings(document: &Document) {
    for heading in document.select("h2, h3, h4").nodes() {
        let marked = ["class", "id"].iter().any(|a| {
            heading.attr(a).is_some_and(|v| {
                let v = v.to_ascii_lowercase();
                v.contains("subhead") || v.contains("sub-head") || v.contains("sub_head")
            })
        });
        if marked {
            heading.remove_attr("class");
            heading.remove_attr("id");
        }
    }
}

/// Removes picture captions and credits (`<figcaption>`, and elements of under 500 characters
/// whose class says caption): the text of the story does not have them.
fn drop_captions(document: &Document) {
    for node in document
        .select(r#"figcaption, [class*="caption" i], [class*="credit" i]"#)
        .nodes()
    {
        if node.text().len() < 500 {
            node.remove_from_parent();
        }
    }
}

/// Lines of page furniture the extractor keeps with the story: buttons and labels ("Ad
/// Feedback", "HIDE CAPTION", "Advertisement"), video lengths ("02:12 - Source: …"), lines
/// with no letter (pagers: "<<", "8", ">"), and short lines repeated three times or more
/// (a gallery's title under each picture).
fn drop_page_furniture(body: &str) -> String {
    const LABELS: &[&str] = &[
        "ad feedback",
        "video ad feedback",
        "advertisement",
        "hide caption",
        "show caption",
        "link copied!",
        "skip advertisement",
        "continue reading",
        "read more",
        "related stories",
        "story highlights",
        "share this",
        "share this article",
    ];
    let mut counts: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for line in body.lines() {
        *counts.entry(line).or_default() += 1;
    }
    let video_length = |line: &str| {
        let (head, _) = line.split_once(" - ").unwrap_or((line, ""));
        line.len() < 60
            && head.len() <= 5
            && head.contains(':')
            && head.chars().all(|c| c.is_ascii_digit() || c == ':')
    };
    let mut out = String::with_capacity(body.len());
    let mut blank = false;
    for line in body.lines() {
        if line.is_empty() {
            blank = true;
            continue;
        }
        let furniture = LABELS.contains(&line.to_lowercase().as_str())
            || video_length(line)
            || !line.chars().any(char::is_alphabetic)
            || (line.len() < 200
                && (line.starts_with('\u{a9}')
                    || line.to_lowercase().contains("all rights reserved")))
            || (line.chars().count() < 80 && counts.get(line).is_some_and(|n| *n >= 3));
        if furniture {
            continue;
        }
        if !out.is_empty() {
            out.push_str(if blank { "\n\n" } else { "\n" });
        }
        out.push_str(line);
        blank = false;
    }
    out
}

/// Whether a reporter's name is a name: not a time or date ("Updated 3:46 PM"), not a link.
fn plausible_name(name: &str) -> bool {
    let lower = name.to_lowercase();
    !name.chars().any(|c| c.is_ascii_digit())
        && !lower.starts_with("http")
        && !lower.contains('@')
        && !["updated", "published", "posted", "modified"]
            .iter()
            .any(|w| lower.split_whitespace().any(|x| x == *w))
        && name.chars().count() <= 60
}

/// Types of JSON-LD objects that describe an article.
const ARTICLE_TYPES: &[&str] = &[
    "NewsArticle",
    "Article",
    "ReportageNewsArticle",
    "AnalysisNewsArticle",
    "OpinionNewsArticle",
    "BackgroundNewsArticle",
    "BlogPosting",
    "LiveBlogPosting",
    "Report",
    "ScholarlyArticle",
];

/// The JSON-LD object that describes the article, if any.
fn json_ld(document: &Document) -> Option<Map<String, Value>> {
    let mut fallback = None;
    for script in &document.select(r#"script[type="application/ld+json"]"#) {
        let Ok(value) = serde_json::from_str::<Value>(script.text().trim()) else {
            continue;
        };
        let mut stack = vec![value];
        while let Some(value) = stack.pop() {
            match value {
                Value::Array(items) => stack.extend(items.into_iter().rev()),
                Value::Object(mut object) => {
                    if let Some(graph) = object.remove("@graph") {
                        stack.push(graph);
                    }
                    let typed = match object.get("@type") {
                        Some(Value::String(t)) => ARTICLE_TYPES.contains(&t.as_str()),
                        Some(Value::Array(ts)) => ts
                            .iter()
                            .any(|t| t.as_str().is_some_and(|t| ARTICLE_TYPES.contains(&t))),
                        _ => false,
                    };
                    if typed {
                        return Some(object);
                    }
                    if fallback.is_none() && object.contains_key("headline") {
                        fallback = Some(object);
                    }
                }
                _ => {}
            }
        }
    }
    fallback
}

/// The page's `<meta>` tags with a `content`, read once: the `property`, `name` and `itemprop`
/// of each (lower case) and its trimmed content.
struct Metas(Vec<([Option<String>; 3], String)>);

impl Metas {
    fn of(document: &Document) -> Metas {
        Metas(
            document
                .select("meta[content]")
                .iter()
                .map(|m| {
                    let key = |a: &str| m.attr(a).map(|v| v.trim().to_ascii_lowercase());
                    let content = m
                        .attr("content")
                        .map_or(String::new(), |c| c.trim().to_string());
                    ([key("property"), key("name"), key("itemprop")], content)
                })
                .collect(),
        )
    }
}

/// The `content` of the first `<meta>` whose `property`, `name` or `itemprop` is one of
/// `names` (in that order of preference; compared ignoring case), not empty.
fn meta(metas: &Metas, names: &[&str]) -> Option<String> {
    names.iter().find_map(|name| {
        let name = name.to_ascii_lowercase();
        (0..3).find_map(|attr| {
            metas
                .0
                .iter()
                .find(|(keys, content)| {
                    keys[attr].as_deref() == Some(name.as_str()) && !content.is_empty()
                })
                .map(|(_, content)| content.clone())
        })
    })
}

/// Every `content` of the `<meta>` tags whose `property` or `name` is `name`.
fn meta_all(metas: &Metas, name: &str) -> Vec<String> {
    let name = name.to_ascii_lowercase();
    let mut out: Vec<String> = Vec::new();
    for attr in 0..2 {
        for (keys, content) in &metas.0 {
            if keys[attr].as_deref() == Some(name.as_str())
                && !content.is_empty()
                && !out.contains(content)
            {
                out.push(content.clone());
            }
        }
    }
    out
}

/// A JSON-LD value as text: a string, or an object's `name`/`url`/`@id`, or the first of a list.
fn ld_text(value: &Value, keys: &[&str]) -> Option<String> {
    match value {
        Value::String(s) => Some(s.trim().to_string()).filter(|s| !s.is_empty()),
        Value::Object(o) => keys
            .iter()
            .find_map(|k| o.get(*k).and_then(|v| ld_text(v, keys))),
        Value::Array(items) => items.iter().find_map(|v| ld_text(v, keys)),
        _ => None,
    }
}

fn text_of(selection: &Selection<'_>) -> String {
    selection
        .text()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// The page's metadata as a JSON article object (without the body).
fn metadata(document: &Document) -> Map<String, Value> {
    let metas = Metas::of(document);
    let ld = json_ld(document).unwrap_or_default();
    let mut object = Map::new();
    let mut extra = Map::new();
    let put = |object: &mut Map<String, Value>, key: &str, value: Option<String>| {
        if let Some(value) = value.filter(|v| !v.trim().is_empty()) {
            object.insert(key.to_string(), Value::String(value));
        }
    };

    let site = meta(&metas, &["og:site_name"])
        .or_else(|| ld.get("publisher").and_then(|p| ld_text(p, &["name"])));
    put(&mut object, "outlet", site.clone());

    // Title: JSON-LD headline, og:title, the <h1> (when the page's <h1>s say one thing),
    // <title> without the site's name; an <h1> that ends with the title found is the headline
    // as shown, with words before it that the short title leaves out.
    let headings = h1_texts(document);
    let title = ld
        .get("headline")
        .and_then(|v| ld_text(v, &[]))
        .or_else(|| meta(&metas, &["og:title", "twitter:title"]))
        .map(|t| strip_site(&t, site.as_deref()))
        .map(|t| {
            let plain = t.split_whitespace().collect::<Vec<_>>().join(" ");
            headings
                .iter()
                .find(|h| h.len() > plain.len() && h.ends_with(&plain))
                .cloned()
                .unwrap_or(t)
        })
        .or_else(|| (headings.len() == 1).then(|| headings[0].clone()))
        .or_else(|| {
            let title = text_of(&document.select("head title").first());
            Some(strip_site(&title, site.as_deref())).filter(|t| !t.is_empty())
        });
    put(&mut object, "title", title.clone());

    // Reporters: JSON-LD author, meta author, article:author, byline elements.
    if let Some(author) = ld.get("author").filter(|a| !a.is_null()) {
        object.insert("author".into(), author.clone());
    } else if let Some(author) = meta(
        &metas,
        &[
            "author",
            "byl",
            "sailthru.author",
            "parsely-author",
            "dc.creator",
        ],
    ) {
        object.insert("author".into(), Value::String(strip_by_words(&author)));
    } else if let Some(author) = meta_all(&metas, "article:author")
        .into_iter()
        .filter(|a| !a.starts_with("http"))
        .reduce(|a, b| format!("{a}; {b}"))
    {
        object.insert("author".into(), Value::String(author));
    } else if let Some(byline) = byline(document) {
        object.insert("author".into(), Value::String(byline));
    }

    // Address: the canonical link, og:url, JSON-LD url.
    let canonical = document
        .select(r#"link[rel="canonical" i]"#)
        .iter()
        .find_map(|l| l.attr("href").map(|h| h.trim().to_string()))
        .filter(|h| h.starts_with("http"));
    put(
        &mut object,
        "url",
        canonical
            .or_else(|| meta(&metas, &["og:url"]))
            .or_else(|| ld.get("url").and_then(|v| ld_text(v, &[]))),
    );

    // Date: JSON-LD datePublished, article:published_time, other meta dates (the first that
    // reads as a date), <time datetime>, the day in the address, a day written just after the
    // headline.
    let mut given: Vec<(String, &str)> = Vec::new();
    given.extend(
        ld.get("datePublished")
            .and_then(|v| ld_text(v, &[]))
            .map(|d| (d, "json-ld datePublished")),
    );
    given.extend(meta(&metas, &["article:published_time"]).map(|d| (d, "article:published_time")));
    given.extend(
        meta(
            &metas,
            &[
                "datePublished",
                "og:published_time",
                "pubdate",
                "publishdate",
                "publish-date",
                "dc.date.issued",
                "dc.date",
                "dcterms.created",
                "date",
                "sailthru.date",
                "parsely-pub-date",
            ],
        )
        .map(|d| (d, "meta")),
    );
    given.extend(publication_metas(&metas).into_iter().map(|d| (d, "meta")));
    let given = given
        .into_iter()
        .find_map(|(date, from)| match dates::read_date_text(&date) {
            dates::DateRead::Date(_) => Some((date, from)),
            _ => dates::day_in_text(&date).map(|day| (day.to_string(), from)),
        });
    let address = object
        .get("url")
        .and_then(Value::as_str)
        .map(str::to_string);
    if let Some((date, from)) = given {
        object.insert("date".into(), Value::String(date));
        extra.insert("date_from".into(), Value::String(from.into()));
    } else if let Some(time) = document
        .select("article time[datetime], time[datetime]")
        .iter()
        .find_map(|t| {
            let given = t.attr("datetime").map(|d| d.trim().to_string())?;
            match dates::read_date_text(&given) {
                dates::DateRead::Date(_) => Some(given),
                // "jueves, 09 enero 2014 10:21": the day, from the attribute or the text.
                _ => dates::day_in_text(&given)
                    .or_else(|| dates::day_in_text(&t.text()))
                    .map(|d| d.to_string()),
            }
        })
    {
        object.insert("date".into(), Value::String(time));
        object.insert("date_origin".into(), Value::String("parsed".into()));
        extra.insert("date_from".into(), Value::String("time datetime".into()));
    } else if let Some((day, from)) = address
        .as_deref()
        .and_then(dates::day_in_url)
        .map(|d| (d, "address"))
        .or_else(|| {
            dates::day_in_text(&text_after_headline(document, title.as_deref()))
                .map(|d| (d, "text after the headline"))
        })
    {
        object.insert("date".into(), Value::String(day.to_string()));
        object.insert("date_origin".into(), Value::String("parsed".into()));
        extra.insert("date_from".into(), Value::String(from.into()));
    }

    // Tags: article:tag, keywords (meta or JSON-LD).
    let mut tags = meta_all(&metas, "article:tag");
    if tags.is_empty() {
        let keywords =
            meta(&metas, &["keywords", "news_keywords"]).or_else(|| match ld.get("keywords") {
                Some(Value::Array(items)) => Some(
                    items
                        .iter()
                        .filter_map(Value::as_str)
                        .collect::<Vec<_>>()
                        .join(","),
                ),
                Some(Value::String(s)) => Some(s.clone()),
                _ => None,
            });
        tags.extend(
            keywords
                .iter()
                .flat_map(|k| k.split(','))
                .map(|t| t.trim().to_string()),
        );
    }
    tags.retain(|t| !t.is_empty());
    if !tags.is_empty() {
        object.insert(
            "tags".into(),
            Value::Array(tags.into_iter().map(Value::String).collect()),
        );
    }

    put(
        &mut object,
        "image",
        meta(&metas, &["og:image", "og:image:url", "twitter:image"])
            .or_else(|| ld.get("image").and_then(|v| ld_text(v, &["url", "@id"]))),
    );

    let lang = document
        .select("html")
        .first()
        .attr("lang")
        .map(|l| l.trim().to_string())
        .filter(|l| !l.is_empty());
    if let Some(lang) = lang {
        extra.insert("lang".into(), Value::String(lang));
    }
    if !extra.is_empty() {
        object.insert("extra".into(), Value::Object(extra));
    }
    object
}

/// The distinct texts of the page's `<h1>` elements, in order.
fn h1_texts(document: &Document) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for h in &document.select("h1") {
        let text = text_of(&h);
        if !text.is_empty() && !out.contains(&text) {
            out.push(text);
        }
    }
    out
}

/// The `content` of `<meta>` tags whose name says publication ("cxenseparse:recs:publishtime",
/// "article_date_original", "publish_date"), not a change or an end.
fn publication_metas(metas: &Metas) -> Vec<String> {
    let mut out = Vec::new();
    for (keys, content) in &metas.0 {
        let key = keys.iter().flatten().next().map_or("", String::as_str);
        let publication = key.contains("publish") || key.contains("date_original");
        let dated = key.contains("date") || key.contains("time");
        let other = ["modif", "updat", "end", "expir", "type"]
            .iter()
            .any(|w| key.contains(w));
        if publication && dated && !other && !content.is_empty() {
            out.push(content.clone());
        }
    }
    out
}

/// Up to a few hundred characters of the page's text that follow its headline (the `<h1>`
/// whose text is the title, else the first): where pages print the date under the headline.
fn text_after_headline(document: &Document, title: Option<&str>) -> String {
    const LIMIT: usize = 400;
    let headings = document.select("h1");
    let Some(start) = headings
        .nodes()
        .iter()
        .find(|h| {
            title.is_some_and(|t| h.text().split_whitespace().collect::<Vec<_>>().join(" ") == t)
        })
        .or_else(|| headings.nodes().first())
        .copied()
    else {
        return String::new();
    };
    let mut out = String::new();
    let mut node = start;
    loop {
        let mut sibling = node.next_sibling();
        while let Some(s) = sibling {
            let name = s.node_name().map(|n| n.to_ascii_lowercase());
            if !matches!(name.as_deref(), Some("script" | "style" | "noscript")) {
                out.push(' ');
                out.push_str(&s.text());
                if out.len() >= LIMIT {
                    return out;
                }
            }
            sibling = s.next_sibling();
        }
        match node.parent() {
            Some(parent)
                if !matches!(
                    parent
                        .node_name()
                        .map(|n| n.to_ascii_lowercase())
                        .as_deref(),
                    Some("body" | "html") | None
                ) =>
            {
                node = parent;
            }
            _ => return out,
        }
    }
}

/// A byline element's text: `rel=author` links (one name each), else `itemprop=author`,
/// `.byline`, `.author`; cut before a date or time ("By Ann Lee Updated 3:46 PM").
fn byline(document: &Document) -> Option<String> {
    let links: Vec<String> = document
        .select(r#"a[rel="author"]"#)
        .iter()
        .map(|a| text_of(&a))
        .filter(|t| !t.is_empty())
        .collect();
    if !links.is_empty() {
        let mut unique: Vec<String> = Vec::new();
        for l in links {
            if !unique.contains(&l) {
                unique.push(l);
            }
        }
        return Some(unique.join("; "));
    }
    for selector in [
        r#"[itemprop="author"] [itemprop="name"]"#,
        r#"[itemprop="author"]"#,
        ".byline",
        ".article-byline",
        ".author-name",
        ".author",
    ] {
        let found = document.select(selector);
        if let Some(text) = found
            .iter()
            .map(|n| text_of(&n))
            .find(|t| !t.is_empty() && t.len() < 200)
        {
            return Some(strip_by_words(&cut_at_date(&text)));
        }
    }
    None
}

/// A byline's text up to a date, time or update note.
fn cut_at_date(text: &str) -> String {
    let mut out = Vec::new();
    for word in text.split_whitespace() {
        let lower = word.to_lowercase();
        let lower = lower.trim_matches(|c: char| !c.is_alphanumeric());
        if word.chars().any(|c| c.is_ascii_digit())
            || ["updated", "published", "posted", "modified", "|", "•", "·"].contains(&lower)
            || word == "|"
            || word == "•"
        {
            break;
        }
        out.push(word);
    }
    out.join(" ")
}

/// "Par Ann Lee", "Von Ann Lee", "Por Ann Lee", "Door Ann Lee", "Di Ann Lee" → "By Ann Lee"
/// (the name parser reads English "By").
fn strip_by_words(text: &str) -> String {
    let trimmed = text.trim();
    for word in ["par ", "von ", "por ", "door ", "di ", "av ", "af "] {
        if trimmed.len() > word.len()
            && trimmed.is_char_boundary(word.len())
            && trimmed[..word.len()].eq_ignore_ascii_case(word)
        {
            return format!("By {}", trimmed[word.len()..].trim());
        }
    }
    trimmed.to_string()
}

/// A page title without the site's name: "Headline | Site", "Headline - Site", "Site: Headline".
fn strip_site(title: &str, site: Option<&str>) -> String {
    let title = title.split_whitespace().collect::<Vec<_>>().join(" ");
    for separator in [
        " | ", " - ", " – ", " — ", " -- ", " :: ", " · ", " • ", " » ",
    ] {
        let parts: Vec<&str> = title.split(separator).collect();
        if parts.len() < 2 {
            continue;
        }
        if let Some(site) = site {
            let rest: Vec<&str> = parts
                .iter()
                .copied()
                .filter(|p| !p.trim().eq_ignore_ascii_case(site.trim()))
                .collect();
            if rest.len() < parts.len() {
                return rest.join(separator).trim().to_string();
            }
        }
        // Without a known site name: the site is the last part when it is short.
        let last = parts[parts.len() - 1];
        if last.split_whitespace().count() <= 4 && parts[0].split_whitespace().count() >= 3 {
            return parts[..parts.len() - 1].join(separator).trim().to_string();
        }
    }
    title.trim().to_string()
}

#[cfg(test)]
mod tests;
