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

use crate::{IngestError, Parsed, json};

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
    let body = paragraphs(&article.text_content);
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
    object.insert("body".into(), Value::String(body));
    let mut parsed = json::parse_json_value(Value::Object(object))?;
    let record = &mut parsed.draft.record;
    record.reporters.retain(|name| plausible_name(name));
    Ok(parsed)
}

/// The page as text: by its byte-order mark, else the charset the caller or a `<meta>` in the
/// first 4 KiB declares, else UTF-8 when the bytes are valid UTF-8, else windows-1252 (what
/// browsers assume). Undecodable bytes become U+FFFD.
fn decode(bytes: &[u8], declared: Option<&str>) -> String {
    if let Some((encoding, bom)) = Encoding::for_bom(bytes) {
        return encoding
            .decode_without_bom_handling(&bytes[bom..])
            .0
            .into_owned();
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
    encoding.decode_without_bom_handling(bytes).0.into_owned()
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
    haystack.windows(needle.len()).position(|w| w == needle)
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
    while let Some(at) = bytes[i..].iter().position(|&b| b == b'<') {
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
            let end = format!("</{name}");
            let rest = text[tag_end.min(text.len())..].to_ascii_lowercase();
            i = rest
                .find(&end)
                .map_or(bytes.len(), |n| tag_end + n + end.len());
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

/// The `content` of the first `<meta>` whose `property`, `name` or `itemprop` is one of
/// `names` (in that order of preference), trimmed and not empty.
fn meta(document: &Document, names: &[&str]) -> Option<String> {
    names.iter().find_map(|name| {
        ["property", "name", "itemprop"].iter().find_map(|attr| {
            let selection = document.select(&format!(r#"meta[{attr}="{name}" i]"#));
            selection.iter().find_map(|m| {
                m.attr("content")
                    .map(|c| c.trim().to_string())
                    .filter(|c| !c.is_empty())
            })
        })
    })
}

/// Every `content` of the `<meta>` tags whose `property` or `name` is `name`.
fn meta_all(document: &Document, name: &str) -> Vec<String> {
    let mut out = Vec::new();
    for attr in ["property", "name"] {
        for m in &document.select(&format!(r#"meta[{attr}="{name}" i]"#)) {
            if let Some(c) = m.attr("content") {
                let c = c.trim();
                if !c.is_empty() && !out.iter().any(|o: &String| o == c) {
                    out.push(c.to_string());
                }
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
    let ld = json_ld(document).unwrap_or_default();
    let mut object = Map::new();
    let mut extra = Map::new();
    let put = |object: &mut Map<String, Value>, key: &str, value: Option<String>| {
        if let Some(value) = value.filter(|v| !v.trim().is_empty()) {
            object.insert(key.to_string(), Value::String(value));
        }
    };

    let site = meta(document, &["og:site_name"])
        .or_else(|| ld.get("publisher").and_then(|p| ld_text(p, &["name"])));
    put(&mut object, "outlet", site.clone());

    // Title: JSON-LD headline, og:title, the one <h1>, <title> without the site's name.
    let title = ld
        .get("headline")
        .and_then(|v| ld_text(v, &[]))
        .or_else(|| meta(document, &["og:title", "twitter:title"]))
        .or_else(|| {
            let h1 = document.select("h1");
            (h1.length() == 1)
                .then(|| text_of(&h1))
                .filter(|t| !t.is_empty())
        })
        .or_else(|| {
            let title = text_of(&document.select("head title").first());
            Some(strip_site(&title, site.as_deref())).filter(|t| !t.is_empty())
        });
    put(
        &mut object,
        "title",
        title.map(|t| strip_site(&t, site.as_deref())),
    );

    // Reporters: JSON-LD author, meta author, article:author, byline elements.
    if let Some(author) = ld.get("author").filter(|a| !a.is_null()) {
        object.insert("author".into(), author.clone());
    } else if let Some(author) = meta(
        document,
        &[
            "author",
            "byl",
            "sailthru.author",
            "parsely-author",
            "dc.creator",
        ],
    ) {
        object.insert("author".into(), Value::String(strip_by_words(&author)));
    } else if let Some(author) = meta_all(document, "article:author")
        .into_iter()
        .filter(|a| !a.starts_with("http"))
        .reduce(|a, b| format!("{a}; {b}"))
    {
        object.insert("author".into(), Value::String(author));
    } else if let Some(byline) = byline(document) {
        object.insert("author".into(), Value::String(byline));
    }

    // Date: JSON-LD datePublished, article:published_time, other meta dates, <time datetime>.
    let given = ld
        .get("datePublished")
        .and_then(|v| ld_text(v, &[]))
        .map(|d| (d, "json-ld datePublished"))
        .or_else(|| {
            meta(document, &["article:published_time"]).map(|d| (d, "article:published_time"))
        })
        .or_else(|| {
            meta(
                document,
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
            .map(|d| (d, "meta"))
        });
    if let Some((date, from)) = given {
        object.insert("date".into(), Value::String(date));
        extra.insert("date_from".into(), Value::String(from.into()));
    } else if let Some(time) = document
        .select("article time[datetime], time[datetime]")
        .iter()
        .find_map(|t| t.attr("datetime").map(|d| d.trim().to_string()))
        .filter(|d| !d.is_empty())
    {
        object.insert("date".into(), Value::String(time));
        object.insert("date_origin".into(), Value::String("parsed".into()));
        extra.insert("date_from".into(), Value::String("time datetime".into()));
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
            .or_else(|| meta(document, &["og:url"]))
            .or_else(|| ld.get("url").and_then(|v| ld_text(v, &[]))),
    );

    // Tags: article:tag, keywords (meta or JSON-LD).
    let mut tags = meta_all(document, "article:tag");
    if tags.is_empty() {
        let keywords =
            meta(document, &["keywords", "news_keywords"]).or_else(|| match ld.get("keywords") {
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
        meta(document, &["og:image", "og:image:url", "twitter:image"])
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
    for separator in [" | ", " - ", " – ", " — ", " :: ", " · ", " • "] {
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
