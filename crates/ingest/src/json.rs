//! One JSON object -> one draft: field names of morgue's own export and of common scrapers.

use morgue_model::{DateOrigin, Draft, Record, parse_timestamp};
use serde_json::{Map, Value};

use crate::dates::{DateRead, read_date_text};
use crate::names::parse_author_string;
use crate::text::normalize_body;
use crate::{IngestError, Parsed};

/// Body fields, first match wins.
pub(crate) const BODY: &[&str] = &["body", "text", "maintext", "content", "article"];
/// Reporter fields, first match wins.
const PEOPLE: &[&str] = &["reporters", "authors", "author", "byline"];
/// Service fields, first match wins (`source` only when it is not an object: NewsAPI's
/// `source: {id, name}` names the outlet).
const SERVICE: &[&str] = &[
    "services",
    "service",
    "source_domain",
    "source",
    "hostname",
    "sitename",
];
/// Date fields, first match wins.
const DATE: &[&str] = &[
    "date",
    "published",
    "publish_date",
    "date_publish",
    "published_at",
    "publishedAt",
    "datePublished",
    "pubDate",
];
/// Title fields, first match wins.
const TITLE: &[&str] = &["title", "headline"];
/// Image fields, first match wins.
const IMAGE: &[&str] = &["image", "urlToImage"];
/// Fields of a wrapper object whose array holds the articles (`{"articles": [...]}`, NewsAPI).
const WRAPPERS: &[&str] = &["articles"];
/// Address fields, first match wins.
const URL: &[&str] = &["url", "canonical_link", "link"];
/// Tag fields, first match wins.
const TAGS: &[&str] = &["tags", "keywords"];
/// Outlet fields, first match wins (`publication`: the "All the News" datasets).
const OUTLET: &[&str] = &["outlet", "publication"];

/// Parses bytes holding one JSON value into a draft.
#[cfg(test)]
pub(crate) fn parse_json_bytes(bytes: &[u8]) -> Result<Parsed, IngestError> {
    let value: Value = serde_json::from_slice(bytes).map_err(|e| json_error(&e))?;
    parse_json_value(value)
}

/// Parses bytes holding one JSON value into drafts: one, or one per element of a wrapper's
/// array (`{"articles": [...]}`: an object with no body field and an `articles` array).
///
/// `offset` is where the bytes start in the input, when known: invalid UTF-8 is then reported
/// as "invalid UTF-8 at byte N" of the input, as for text files.
pub(crate) fn parse_json_bytes_many(
    bytes: &[u8],
    offset: Option<u64>,
) -> Vec<Result<Parsed, IngestError>> {
    let value: Value = match serde_json::from_slice(bytes) {
        Ok(value) => value,
        Err(e) => {
            // serde_json says "invalid unicode code point"; say where the bad byte is.
            if let (Some(offset), Err(bad)) = (offset, std::str::from_utf8(bytes)) {
                return vec![Err(IngestError::InvalidUtf8 {
                    offset: offset + bad.valid_up_to() as u64,
                })];
            }
            return vec![Err(json_error(&e))];
        }
    };
    match unwrap_articles(value) {
        Ok(items) => items.into_iter().map(parse_json_value).collect(),
        Err(value) => vec![parse_json_value(value)],
    }
}

/// The articles of a wrapper object, or the value back when it is none.
fn unwrap_articles(value: Value) -> Result<Vec<Value>, Value> {
    let Value::Object(mut object) = value else {
        return Err(value);
    };
    let wrapper = if BODY.iter().any(|f| object.contains_key(*f)) {
        None
    } else {
        WRAPPERS
            .iter()
            .find(|w| matches!(object.get(**w), Some(Value::Array(_))))
            .copied()
    };
    match wrapper {
        Some(field) => match object.remove(field) {
            Some(Value::Array(items)) => Ok(items),
            _ => Err(Value::Object(object)),
        },
        None => Err(Value::Object(object)),
    }
}

/// serde_json's error as ours.
fn json_error(e: &serde_json::Error) -> IngestError {
    IngestError::InvalidJson(e.to_string())
}

/// Turns one JSON object into a draft.
///
/// A missing, empty or non-string body is an error. Any other known field with a value of the
/// wrong shape gives a warning; its value is then kept in `extra` under its own name, so nothing
/// is lost. `null` counts as absent. Fields that no name takes go to `extra` as compact JSON.
pub(crate) fn parse_json_value(value: Value) -> Result<Parsed, IngestError> {
    let Value::Object(mut object) = value else {
        return Err(IngestError::NotAnObject {
            found: kind(&value),
        });
    };
    object.retain(|_, v| !v.is_null());
    let mut fields = Fields {
        object,
        warnings: Vec::new(),
        extra: Map::new(),
    };

    let body = match fields.take_first(BODY) {
        Some((_, Value::String(body))) => normalize_body(body),
        Some((name, other)) => {
            return Err(IngestError::WrongType {
                field: name,
                expected: "a string",
                found: kind(&other),
            });
        }
        None => return Err(IngestError::MissingBody),
    };
    if body.is_empty() {
        return Err(IngestError::EmptyBody);
    }

    let mut record = Record::default();
    if let Some(title) = fields.string(TITLE) {
        record.title = title.trim().to_string();
    }
    if let Some((name, value)) = fields.take_first(PEOPLE) {
        match value {
            Value::String(text) => {
                let authors = parse_author_string(&text);
                record.reporters = authors.names;
                if let Some(outlet) = authors.affiliation {
                    record.outlet = outlet;
                }
            }
            // schema.org: `[{"name": …}]`, or one `{"@type": "Person", "name": …}`; an
            // Organization is the outlet.
            Value::Array(items) if items.iter().any(Value::is_object) => {
                for item in items {
                    match item {
                        Value::String(name) => push_person(&mut record.reporters, &name),
                        Value::Object(person) => {
                            take_person(&mut record, &person, &name, &mut fields);
                        }
                        other => fields.wrong(&name, "a name or an object with a name", other),
                    }
                }
            }
            Value::Object(person) => take_person(&mut record, &person, &name, &mut fields),
            other => record.reporters = fields.list_value(&name, other).unwrap_or_default(),
        }
    }
    record.translators = fields.list(&["translators"]);
    record.editors = fields.list(&["editors"]);
    record.writers = fields.list(&["writers"]);
    // NewsAPI: `source: {"id": …, "name": …}` names the outlet.
    if let Some(Value::Object(source)) = fields.object.get("source")
        && let Some(Value::String(name)) = source.get("name")
    {
        let name = name.trim().to_string();
        if !name.is_empty() {
            record.outlet = name;
        }
        if let Some(source) = fields.object.remove("source") {
            fields.extra.insert("source".to_string(), source);
        }
    }
    record.services = fields.services();
    if let Some(outlet) = fields.string(OUTLET)
        && !outlet.trim().is_empty()
    {
        record.outlet = outlet.trim().to_string();
    }
    if let Some((name, value)) = fields.take_first(DATE) {
        let read = match &value {
            Value::String(text) => read_date_text(text),
            // A number's digits: `2019` is a year, `1552638600000` Unix milliseconds.
            Value::Number(n) => read_date_text(&n.to_string()),
            _ => DateRead::Unparseable,
        };
        let raw = compact(&value);
        let warning = match read {
            DateRead::Date(date) => {
                record.date = Some(date);
                record.date_origin = Some(DateOrigin::Given);
                None
            }
            DateRead::Unknown => Some(format!("date {raw} in `{name}` means no date")),
            DateRead::Implausible { unit, date } => Some(format!(
                "implausible date {raw} in `{name}` (as Unix {unit}: {}; accepted are 1800-01-01 \
                 to a day from now, not within three years of 1970)",
                date.as_deref().unwrap_or("out of range")
            )),
            DateRead::Unparseable => Some(format!("unparseable date {raw} in `{name}`")),
        };
        if let Some(warning) = warning {
            fields
                .warnings
                .push(format!("{warning}; imported without a date"));
            fields.extra.insert(name, value);
        }
    }
    if let Some(origin) = fields.string(&["date_origin"]) {
        match DateOrigin::from_name(origin.trim()) {
            Some(origin) if record.date.is_some() => record.date_origin = Some(origin),
            Some(_) => {}
            None => fields
                .warnings
                .push(format!("unknown date_origin {origin:?}; ignored")),
        }
    }
    record.url = fields.string(URL).unwrap_or_default().trim().to_string();
    record.image = fields.string(IMAGE).unwrap_or_default();
    record.caption = fields.string(&["caption"]).unwrap_or_default();
    record.tags = fields.list_or_split(TAGS);
    record.origin = fields.string(&["origin"]).unwrap_or_default();
    if let Some(at) = fields.string(&["imported_at"]) {
        match parse_timestamp(&at) {
            Some(at) => record.imported_at = Some(at),
            None => fields
                .warnings
                .push(format!("unparseable imported_at {at:?}; ignored")),
        }
    }
    if let Some(source_id) = fields.id(&["source_id"]) {
        record.source_id = source_id;
    }
    match fields.object.remove("id") {
        // morgue's own id (an `export` read back): hashed only when the field looks like one.
        Some(Value::String(id)) if is_own_id(&id, &body) => {}
        Some(id) if record.source_id.is_empty() => match id {
            Value::String(id) => record.source_id = id,
            Value::Number(n) => record.source_id = n.to_string(),
            other => fields.wrong("id", "a string or number", other),
        },
        Some(id) => {
            fields.extra.insert("id".to_string(), id);
        }
        None => {}
    }
    // morgue's own `original` (an `export --originals` read back): the page as fetched.
    let original = match fields.object.remove("original") {
        Some(Value::Object(page)) if page.get("base64").is_some_and(Value::is_string) => {
            let text = page.get("base64").and_then(Value::as_str).unwrap_or("");
            if let Some(bytes) = morgue_model::base64_decode(text) {
                Some(morgue_model::Original {
                    bytes,
                    media_type: page
                        .get("media_type")
                        .and_then(Value::as_str)
                        .unwrap_or("text/html")
                        .to_string(),
                })
            } else {
                fields
                    .warnings
                    .push("`original.base64` is not base64; kept in extra".into());
                fields
                    .extra
                    .insert("original".to_string(), Value::Object(page));
                None
            }
        }
        Some(other) => {
            fields.extra.insert("original".to_string(), other);
            None
        }
        None => None,
    };
    if let Some(extra) = fields.object.remove("extra") {
        match extra {
            Value::Object(members) => {
                for (name, value) in members {
                    fields.extra.entry(name).or_insert(value);
                }
            }
            other => {
                fields.extra.insert("extra".to_string(), other);
            }
        }
    }
    let Fields {
        object,
        mut warnings,
        extra,
    } = fields;
    for (name, value) in extra.into_iter().chain(object) {
        record.extra.insert(name, compact(&value));
    }
    warnings.dedup();
    Ok(Parsed {
        draft: Draft {
            body,
            record,
            original,
        },
        warnings,
    })
}

/// Adds a name unless empty or already present.
fn push_person(names: &mut Vec<String>, name: &str) {
    let name = name.trim();
    if !name.is_empty() && !names.iter().any(|n| n == name) {
        names.push(name.to_string());
    }
}

/// A schema.org-style author object: a person's `name` is a reporter; an `Organization`'s is
/// the outlet (unless one is known); an object without a string `name` is a warning, kept in
/// `extra`.
fn take_person(record: &mut Record, person: &Map<String, Value>, field: &str, fields: &mut Fields) {
    let Some(Value::String(name)) = person.get("name") else {
        fields.wrong(
            field,
            "names, or objects with a name",
            Value::Object(person.clone()),
        );
        return;
    };
    let organisation = matches!(person.get("@type"), Some(Value::String(t)) if t == "Organization" || t == "NewsMediaOrganization");
    if organisation {
        if record.outlet.is_empty() {
            name.trim().clone_into(&mut record.outlet);
        }
    } else {
        push_person(&mut record.reporters, name);
    }
}

/// The remaining fields of an object, with the warnings and extras gathered so far.
struct Fields {
    object: Map<String, Value>,
    warnings: Vec<String>,
    extra: Map<String, Value>,
}

impl Fields {
    /// Removes and returns the first present field among `names`. The others stay, and end up
    /// in `extra`.
    fn take_first(&mut self, names: &[&str]) -> Option<(String, Value)> {
        let name = names.iter().find(|n| self.object.contains_key(**n))?;
        self.object.remove(*name).map(|v| ((*name).to_string(), v))
    }

    /// Records a wrong-shaped value: a warning, and the value kept in `extra`.
    fn wrong(&mut self, name: &str, expected: &str, value: Value) {
        self.warnings.push(format!(
            "field `{name}`: expected {expected}, found {}; kept in extra",
            kind(&value)
        ));
        self.extra.insert(name.to_string(), value);
    }

    /// A string field.
    fn string(&mut self, names: &[&str]) -> Option<String> {
        match self.take_first(names)? {
            (_, Value::String(s)) => Some(s),
            (name, other) => {
                self.wrong(&name, "a string", other);
                None
            }
        }
    }

    /// An id: a string or a number.
    fn id(&mut self, names: &[&str]) -> Option<String> {
        match self.take_first(names)? {
            (_, Value::String(s)) => Some(s),
            (_, Value::Number(n)) => Some(n.to_string()),
            (name, other) => {
                self.wrong(&name, "a string or number", other);
                None
            }
        }
    }

    /// A list of names: an array of strings, or one string.
    fn list(&mut self, names: &[&str]) -> Vec<String> {
        match self.take_first(names) {
            Some((name, value)) => self.list_value(&name, value).unwrap_or_default(),
            None => Vec::new(),
        }
    }

    fn list_value(&mut self, name: &str, value: Value) -> Option<Vec<String>> {
        match value {
            Value::String(s) => Some(clean_list(std::iter::once(s))),
            Value::Array(items) if items.iter().all(Value::is_string) => {
                Some(clean_list(items.into_iter().filter_map(|v| match v {
                    Value::String(s) => Some(s),
                    _ => None,
                })))
            }
            other => {
                self.wrong(name, "a string or an array of strings", other);
                None
            }
        }
    }

    /// Services: the first service field whose value is not a web address (trafilatura's `source`
    /// is the page's URL); a skipped address stays in `extra`.
    fn services(&mut self) -> Vec<String> {
        let is_address = |v: &Value| {
            v.as_str().is_some_and(|s| {
                let s = s.trim_start().to_ascii_lowercase();
                s.starts_with("http://") || s.starts_with("https://")
            })
        };
        for name in SERVICE {
            match self.object.get(*name) {
                Some(value) if is_address(value) => {
                    if let Some(value) = self.object.remove(*name) {
                        self.extra.insert((*name).to_string(), value);
                    }
                }
                Some(_) => return self.list(&[name]),
                None => {}
            }
        }
        Vec::new()
    }

    /// Tags: an array of strings, or one string of comma-separated tags.
    fn list_or_split(&mut self, names: &[&str]) -> Vec<String> {
        match self.take_first(names) {
            Some((_, Value::String(s))) => clean_list(s.split(',').map(str::to_string)),
            Some((name, value)) => self.list_value(&name, value).unwrap_or_default(),
            None => Vec::new(),
        }
    }
}

/// Trimmed, non-empty, first occurrence of each.
fn clean_list(items: impl Iterator<Item = String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for item in items {
        let item = item.trim();
        if !item.is_empty() && !out.iter().any(|o| o == item) {
            out.push(item.to_string());
        }
    }
    out
}

/// Compact JSON text of a value.
fn compact(value: &Value) -> String {
    value.to_string()
}

/// "an array", "a number", … for messages.
fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Whether `id` is the 64-hex blake3 id of `body`, as `morgue export` writes it.
fn is_own_id(id: &str, body: &str) -> bool {
    id.len() == 64
        && id.bytes().all(|b| b.is_ascii_hexdigit())
        && id.eq_ignore_ascii_case(blake3::hash(body.as_bytes()).to_hex().as_str())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;
    use morgue_model::ArticleDate;
    use std::collections::BTreeMap;

    fn parse(json: &str) -> Parsed {
        parse_json_bytes(json.as_bytes()).unwrap()
    }

    fn err(json: &str) -> String {
        parse_json_bytes(json.as_bytes()).unwrap_err().to_string()
    }

    #[test]
    fn scraper_fields() {
        let p = parse(
            r#"{"maintext": "Line one.\r\nLine two.\n", "title": " A Title ", "authors": ["Ann Lee", "Bo Chan"],
                "source_domain": "example.org", "date_publish": "2020-02-03 04:05:06", "canonical_link": "https://example.org/a",
                "keywords": ["x", "y"], "language": "en", "id": 17}"#,
        );
        let r = &p.draft.record;
        assert_eq!(p.draft.body, "Line one.\nLine two.");
        assert_eq!(r.title, "A Title");
        assert_eq!(r.reporters, ["Ann Lee", "Bo Chan"]);
        assert_eq!(r.services, ["example.org"]);
        let when = NaiveDate::from_ymd_opt(2020, 2, 3)
            .unwrap()
            .and_hms_opt(4, 5, 6)
            .unwrap();
        assert_eq!(r.date, Some(ArticleDate::from_datetime(when)));
        assert_eq!(r.date_origin, Some(DateOrigin::Given));
        assert_eq!(r.url, "https://example.org/a");
        assert_eq!(r.tags, ["x", "y"]);
        assert_eq!(r.source_id, "17");
        assert_eq!(
            r.extra,
            BTreeMap::from([("language".to_string(), "\"en\"".to_string())])
        );
        assert!(p.warnings.is_empty());
    }

    #[test]
    fn author_and_byline_strings() {
        let p = parse(
            r#"{"text": "b", "author": "BY JANE DOE AND JOHN ROE, REUTERS", "service": "Wire"}"#,
        );
        assert_eq!(p.draft.record.reporters, ["Jane Doe", "John Roe"]);
        assert_eq!(p.draft.record.outlet, "Reuters");
        assert_eq!(p.draft.record.services, ["Wire"]);
        let p = parse(r#"{"text": "b", "author": "By Jane Doe, Wire", "outlet": ""}"#);
        assert_eq!(
            p.draft.record.outlet, "Wire",
            "an empty outlet field does not erase it"
        );
        let p = parse(r#"{"text": "b", "byline": "Jane Doe; John Roe", "outlet": "Daily"}"#);
        assert_eq!(p.draft.record.reporters, ["Jane Doe", "John Roe"]);
        assert_eq!(p.draft.record.outlet, "Daily");
    }

    #[test]
    fn first_match_wins_and_the_rest_is_kept() {
        let p =
            parse(r#"{"body": "first", "text": "second", "reporters": ["A B"], "author": "C D"}"#);
        assert_eq!(p.draft.body, "first");
        assert_eq!(p.draft.record.reporters, ["A B"]);
        assert_eq!(
            p.draft.record.extra.get("text").map(String::as_str),
            Some("\"second\"")
        );
        assert_eq!(
            p.draft.record.extra.get("author").map(String::as_str),
            Some("\"C D\"")
        );
        let p = parse(r#"{"body": null, "text": "fallback"}"#);
        assert_eq!(p.draft.body, "fallback");
    }

    #[test]
    fn dates_as_numbers_and_strings() {
        let at = |json: &str| parse(json).draft.record.date;
        let expected = Some(ArticleDate {
            day: NaiveDate::from_ymd_opt(2017, 6, 20).unwrap(),
            time: Some(30_600),
            precision: morgue_model::DatePrecision::Day,
        });
        assert_eq!(at(r#"{"body": "b", "date": 1497947400}"#), expected);
        assert_eq!(at(r#"{"body": "b", "published": 1497947400.9}"#), expected);
        assert_eq!(
            at(r#"{"body": "b", "publish_date": "1497947400"}"#),
            expected
        );
        assert_eq!(
            at(r#"{"body": "b", "published_at": "2017-06-20T10:30:00+02:00"}"#),
            expected
        );
        assert_eq!(
            at(r#"{"body": "b", "date": "2017-06-20"}"#),
            Some(ArticleDate::from_day(
                NaiveDate::from_ymd_opt(2017, 6, 20).unwrap()
            ))
        );
    }

    #[test]
    fn unparseable_date_is_a_warning() {
        let p = parse(r#"{"body": "b", "date": "31-MAR-1987 605:12:19.12"}"#);
        assert_eq!(p.draft.record.date, None);
        assert_eq!(p.draft.record.date_origin, None);
        assert_eq!(
            p.warnings,
            ["unparseable date \"31-MAR-1987 605:12:19.12\" in `date`; imported without a date"]
        );
        assert_eq!(
            p.draft.record.extra.get("date").map(String::as_str),
            Some("\"31-MAR-1987 605:12:19.12\"")
        );
        let p = parse(r#"{"body": "b", "date": true}"#);
        assert_eq!(p.draft.record.date, None);
        assert_eq!(p.warnings.len(), 1);
        assert_eq!(
            p.draft.record.extra.get("date").map(String::as_str),
            Some("true")
        );
    }

    #[test]
    fn epoch_units_periods_and_placeholders() {
        let p = parse(r#"{"body": "b", "published": 1552638600000}"#);
        assert_eq!(
            p.draft.record.date.map(|d| d.to_string()).as_deref(),
            Some("2019-03-15T08:30:00Z")
        );
        assert!(p.warnings.is_empty());
        let p = parse(r#"{"body": "b", "date": "1714557600000"}"#);
        assert_eq!(
            p.draft.record.date.map(|d| d.to_string()).as_deref(),
            Some("2024-05-01T10:00:00Z")
        );
        for (json, shown) in [
            (r#"{"body": "b", "date": "2019"}"#, "2019"),
            (r#"{"body": "b", "date": 2019}"#, "2019"),
            (r#"{"body": "b", "date": "201903"}"#, "2019-03"),
            (r#"{"body": "b", "date": "2019-03"}"#, "2019-03"),
        ] {
            let p = parse(json);
            assert_eq!(
                p.draft.record.date.map(|d| d.to_string()).as_deref(),
                Some(shown),
                "{json}"
            );
            assert_eq!(p.draft.record.date_origin, Some(DateOrigin::Given));
        }
        let p = parse(r#"{"body": "b", "date": 0}"#);
        assert_eq!(p.draft.record.date, None);
        assert_eq!(
            p.warnings,
            ["date 0 in `date` means no date; imported without a date"]
        );
        assert_eq!(
            p.draft.record.extra.get("date").map(String::as_str),
            Some("0")
        );
        let p = parse(r#"{"body": "b", "date": "unknown"}"#);
        assert_eq!(p.draft.record.date, None);
        assert_eq!(p.warnings.len(), 1);
        let p = parse(r#"{"body": "b", "published": 99999999999999}"#);
        assert_eq!(p.draft.record.date, None);
        assert_eq!(
            p.warnings,
            [
                "implausible date 99999999999999 in `published` (as Unix milliseconds: \
                 5138-11-16T09:46:39Z; accepted are 1800-01-01 to a day from now, not within three years of 1970); imported \
                 without a date"
            ]
        );
        assert_eq!(
            p.draft.record.extra.get("published").map(String::as_str),
            Some("99999999999999")
        );
    }

    #[test]
    fn wrong_shapes() {
        assert_eq!(
            err(r#"{"body": 5}"#),
            "field `body`: expected a string, found a number"
        );
        assert_eq!(err("[1]"), "expected a JSON object, found an array");
        assert_eq!(
            err(r#"{"title": "t"}"#),
            "no body: none of the fields body, text, maintext, content, article"
        );
        assert_eq!(err(r#"{"body": " \n "}"#), "empty body");
        assert!(err("{").starts_with("invalid JSON: "));
        let p = parse(r#"{"body": "b", "title": 5, "tags": [1, 2], "reporters": {"a": 1}}"#);
        assert_eq!(p.draft.record.title, "");
        assert!(p.draft.record.tags.is_empty());
        assert!(p.draft.record.reporters.is_empty());
        assert_eq!(p.warnings.len(), 3);
        assert!(p.warnings.contains(
            &"field `title`: expected a string, found a number; kept in extra".to_string()
        ));
        assert_eq!(
            p.draft.record.extra.get("title").map(String::as_str),
            Some("5")
        );
        assert_eq!(
            p.draft.record.extra.get("tags").map(String::as_str),
            Some("[1,2]")
        );
    }

    #[test]
    fn own_id_is_not_a_source_id() {
        let id = blake3::hash(b"body").to_hex().to_string();
        let p = parse(&format!(r#"{{"body": "body", "id": "{id}"}}"#));
        assert_eq!(p.draft.record.source_id, "");
        assert!(p.draft.record.extra.is_empty());
        let p = parse(r#"{"body": "body", "id": "abc", "source_id": "xyz"}"#);
        assert_eq!(p.draft.record.source_id, "xyz");
        assert_eq!(
            p.draft.record.extra.get("id").map(String::as_str),
            Some("\"abc\"")
        );
    }

    #[test]
    fn trafilatura_shape() {
        let p = parse(
            r#"{"text": "b", "raw_text": "b", "author": "Ann Lee; Bo Chan", "source": "https://example.org/x",
                "hostname": "example.org", "categories": "", "tags": "", "fingerprint": "f"}"#,
        );
        let r = &p.draft.record;
        assert_eq!(r.reporters, ["Ann Lee", "Bo Chan"]);
        assert_eq!(r.services, ["example.org"]);
        assert!(r.tags.is_empty());
        assert_eq!(
            r.extra.get("source").map(String::as_str),
            Some("\"https://example.org/x\"")
        );
        assert_eq!(
            r.extra.keys().collect::<Vec<_>>(),
            ["categories", "fingerprint", "raw_text", "source"]
        );
    }

    #[test]
    fn tags_as_a_string() {
        let p = parse(r#"{"body": "b", "tags": "a, b,, c"}"#);
        assert_eq!(p.draft.record.tags, ["a", "b", "c"]);
    }

    #[test]
    fn deep_nesting_is_a_clean_error() {
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        let e = err(&deep);
        assert!(e.contains("recursion limit"), "{e}");
        let deep = format!(
            "{{\"body\": \"b\", \"x\": {}{}}}",
            "{\"a\":".repeat(100_000),
            "}".repeat(100_000)
        );
        assert!(err(&deep).contains("recursion limit"));
    }
}
