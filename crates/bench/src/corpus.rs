//! Reading the JSON Lines corpus for the SQLite baseline, and generating large corpora from it.
//!
//! The baseline parses the fields itself (it must not lean on morgue's parsers): `title`, `date`,
//! `service`, `author` (a byline string such as "By Jane Doe and John Roe, Reuters") and `body`.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::path::Path;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

/// One article as the baseline sees it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Article {
    pub title: String,
    /// ISO 8601 (`YYYY-MM-DD...`), or `None` when absent or malformed.
    pub date: Option<String>,
    pub service: String,
    /// Normalised (lowercase, single spaces) reporter names.
    pub reporters: Vec<String>,
    pub body: String,
}

#[derive(Deserialize)]
struct Line {
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    date: Option<String>,
    #[serde(default)]
    service: Option<String>,
    #[serde(default)]
    author: Option<String>,
    #[serde(default)]
    body: Option<String>,
}

/// Opens a corpus file, decompressing `.zst` transparently.
pub fn open(path: &Path) -> Result<Box<dyn BufRead + Send>> {
    let file = File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let name = path.to_string_lossy();
    let reader: Box<dyn Read + Send> = if name.ends_with(".zst") {
        Box::new(zstd::Decoder::new(file).with_context(|| format!("reading {}", path.display()))?)
    } else {
        Box::new(file)
    };
    Ok(Box::new(BufReader::with_capacity(1 << 20, reader)))
}

/// Calls `f` on every article of a JSON Lines corpus (lines without a body are skipped).
/// Returns the number of lines read.
pub fn for_each(path: &Path, mut f: impl FnMut(Article) -> Result<()>) -> Result<u64> {
    let mut reader = open(path)?;
    let mut line = String::new();
    let mut count = 0;
    loop {
        line.clear();
        let n = reader
            .read_line(&mut line)
            .with_context(|| format!("reading {}", path.display()))?;
        if n == 0 {
            break;
        }
        count += 1;
        if line.trim().is_empty() {
            continue;
        }
        let parsed: Line = serde_json::from_str(&line)
            .with_context(|| format!("{}: line {count}", path.display()))?;
        let Some(body) = parsed.body.filter(|b| !b.is_empty()) else {
            continue;
        };
        f(Article {
            title: parsed.title.unwrap_or_default(),
            date: parsed.date.filter(|d| is_iso_date(d)),
            service: parsed.service.unwrap_or_default(),
            reporters: parsed
                .author
                .as_deref()
                .map(byline_names)
                .unwrap_or_default(),
            body,
        })?;
    }
    Ok(count)
}

/// Reads a whole corpus into memory.
pub fn read_all(path: &Path) -> Result<Vec<Article>> {
    let mut out = Vec::new();
    for_each(path, |a| {
        out.push(a);
        Ok(())
    })?;
    Ok(out)
}

fn is_iso_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 10
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && b[5..7].iter().all(u8::is_ascii_digit)
        && b[7] == b'-'
        && b[8..10].iter().all(u8::is_ascii_digit)
}

/// Lowercase with whitespace collapsed: how both sides match names.
pub fn normalize_name(name: &str) -> String {
    name.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// The names of a byline string: `By Jane Doe and John Roe, Reuters` gives `jane doe` and
/// `john roe`.
pub fn byline_names(byline: &str) -> Vec<String> {
    let mut s = byline.trim();
    if s.len() >= 3 && s[..3].eq_ignore_ascii_case("by ") {
        s = &s[3..];
    }
    let s = s.split(',').next().unwrap_or("");
    s.split(" and ")
        .flat_map(|p| p.split(" AND "))
        .map(normalize_name)
        .filter(|n| !n.is_empty())
        .collect()
}

/// The most frequent reporter name of a corpus (ties: the smallest name), with its count.
pub fn top_reporter(articles: &[Article]) -> Option<(String, usize)> {
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for a in articles {
        for r in &a.reporters {
            *counts.entry(r.as_str()).or_default() += 1;
        }
    }
    counts
        .into_iter()
        .max_by(|a, b| a.1.cmp(&b.1).then_with(|| b.0.cmp(a.0)))
        .map(|(n, c)| (n.to_owned(), c))
}

/// A small, fast, deterministic pseudo-random function (splitmix64).
pub fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// `n` indexes in `0..len`, deterministic for a seed (with repetition).
pub fn sample(len: usize, n: usize, seed: u64) -> Vec<usize> {
    if len == 0 {
        return Vec::new();
    }
    (0..n as u64)
        .map(|i| (mix(seed ^ mix(i)) % len as u64) as usize)
        .collect()
}

// Our own name lists for generated reporters (2,000 combinations).
const FIRST: [&str; 50] = [
    "Ada", "Bruno", "Carla", "Dmitri", "Elena", "Farid", "Greta", "Hiro", "Ines", "Jonas", "Kemal",
    "Lena", "Marco", "Nadia", "Oskar", "Priya", "Quentin", "Rosa", "Samir", "Tove", "Umar", "Vera",
    "Wen", "Xavier", "Yara", "Zoltan", "Amara", "Bao", "Chiara", "Diego", "Eszter", "Femi",
    "Gustav", "Hana", "Ivo", "Jana", "Kofi", "Lars", "Mei", "Nils", "Olga", "Pavel", "Rania",
    "Sven", "Tariq", "Ulla", "Viktor", "Wanda", "Yusuf", "Zara",
];
const LAST: [&str; 40] = [
    "Abbott",
    "Bianchi",
    "Castillo",
    "Dubois",
    "Eriksen",
    "Fischer",
    "Gallo",
    "Horvat",
    "Ibrahim",
    "Jensen",
    "Kowalski",
    "Lindqvist",
    "Moreau",
    "Novak",
    "Okafor",
    "Petrov",
    "Quinn",
    "Rossi",
    "Santos",
    "Tanaka",
    "Ueda",
    "Varga",
    "Weber",
    "Xu",
    "Yilmaz",
    "Zhang",
    "Andersen",
    "Brennan",
    "Costa",
    "Dimitrov",
    "Esposito",
    "Ferreira",
    "Gruber",
    "Haddad",
    "Ivanova",
    "Jovanovic",
    "Kim",
    "Larsen",
    "Mendes",
    "Nakamura",
];
const SERVICES: [&str; 8] = [
    "Reuters",
    "Business",
    "Markets",
    "World",
    "Politics",
    "Sport",
    "Technology",
    "Energy",
];

/// The generated reporter `k` (`0..2000`).
pub fn reporter_name(k: u64) -> String {
    let k = k % (FIRST.len() * LAST.len()) as u64;
    format!(
        "{} {}",
        FIRST[(k % FIRST.len() as u64) as usize],
        LAST[(k / FIRST.len() as u64) as usize]
    )
}

#[derive(Serialize)]
struct OutLine<'a> {
    id: String,
    title: &'a str,
    date: String,
    service: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    author: Option<String>,
    body: String,
}

/// Generated article `i` from the distinct source bodies: paragraphs rotated, a counter sentence
/// appended (which makes every body distinct), a date spread over 1987..2026, one of 8 services,
/// and for two articles in three a reporter (one in ten of those a pair) out of 2,000.
pub fn generated(sources: &[Article], i: u64) -> Option<(Article, Option<String>)> {
    if sources.is_empty() {
        return None;
    }
    let n = sources.len() as u64;
    let src = &sources[(i % n) as usize];
    let variant = i / n;
    let h = mix(i ^ 0x6d6f_7267_7565);
    let paragraphs: Vec<&str> = src.body.split("\n    ").collect();
    let rot = (variant as usize) % paragraphs.len().max(1);
    let mut body = String::with_capacity(src.body.len() + 40);
    for (k, p) in paragraphs[rot..]
        .iter()
        .chain(&paragraphs[..rot])
        .enumerate()
    {
        if k > 0 {
            body.push_str("\n    ");
        }
        body.push_str(p.trim_end());
    }
    body.push_str("\n    Archive reference ");
    body.push_str(&i.to_string());
    body.push('.');
    // 1987-01-01 + up to 40 years of days; a time of day.
    let day = chrono::NaiveDate::from_ymd_opt(1987, 1, 1)?
        .checked_add_days(chrono::Days::new((h >> 8) % 14_600))?;
    let secs = (h >> 32) % 86_400;
    let date = format!(
        "{}T{:02}:{:02}:{:02}Z",
        day.format("%Y-%m-%d"),
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    );
    let service = SERVICES[((h >> 40) % SERVICES.len() as u64) as usize];
    let author = match h % 30 {
        0..=9 => None,
        10..=11 => Some(format!(
            "By {} and {}, Reuters",
            reporter_name(h >> 16),
            reporter_name((h >> 16) + 1 + (h >> 48) % 7)
        )),
        _ => Some(format!("By {}, Reuters", reporter_name(h >> 16))),
    };
    let article = Article {
        title: src.title.clone(),
        date: Some(date),
        service: service.to_owned(),
        reporters: author.as_deref().map(byline_names).unwrap_or_default(),
        body,
    };
    Some((article, author))
}

/// Writes `count` generated articles as JSON Lines to `out`. Returns the most frequent reporter
/// and its count.
pub fn generate(sources: &[Article], count: u64, out: &Path) -> Result<(String, usize)> {
    generate_from(sources, 0, count, out)
}

/// Writes the generated articles `start..start + count` as JSON Lines to `out` (as
/// [`generate`]).
pub fn generate_from(
    sources: &[Article],
    start: u64,
    count: u64,
    out: &Path,
) -> Result<(String, usize)> {
    let file = File::create(out).with_context(|| format!("creating {}", out.display()))?;
    let mut w = BufWriter::with_capacity(1 << 20, file);
    let mut counts: HashMap<String, usize> = HashMap::new();
    for i in start..start + count {
        let Some((a, author)) = generated(sources, i) else {
            break;
        };
        for r in &a.reporters {
            *counts.entry(r.clone()).or_default() += 1;
        }
        let line = OutLine {
            id: format!("generated/{i}"),
            title: &a.title,
            date: a.date.clone().unwrap_or_default(),
            service: &a.service,
            author,
            body: a.body,
        };
        serde_json::to_writer(&mut w, &line)?;
        w.write_all(b"\n")?;
    }
    w.flush()
        .with_context(|| format!("writing {}", out.display()))?;
    let top = counts
        .into_iter()
        .max_by(|a, b| a.1.cmp(&b.1).then_with(|| b.0.cmp(&a.0)))
        .unwrap_or_default();
    Ok(top)
}

/// The distinct bodies of a corpus, in first-seen order.
pub fn distinct(articles: Vec<Article>) -> Vec<Article> {
    let mut seen = std::collections::HashSet::new();
    articles
        .into_iter()
        .filter(|a| seen.insert(blake3::hash(a.body.as_bytes())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sources() -> Vec<Article> {
        // Our own text, a few paragraphs each, two identical bodies on purpose.
        let bodies = [
            "The harbour board met on Tuesday.\n    It approved the new crane.\n    Work starts in May.",
            "Grain prices rose slightly.\n    Traders cited the dry weather.",
            "A single paragraph with no break.",
            "A single paragraph with no break.",
        ];
        bodies
            .iter()
            .map(|b| Article {
                title: "T".into(),
                body: (*b).into(),
                ..Article::default()
            })
            .collect()
    }

    #[test]
    fn generated_bodies_are_distinct() {
        let src = sources();
        let mut seen = std::collections::HashSet::new();
        for i in 0..5_000 {
            let (a, _) = generated(&src, i).unwrap();
            assert!(seen.insert(a.body), "body {i} repeats");
        }
    }

    #[test]
    fn generation_is_deterministic() {
        let src = sources();
        for i in [0, 1, 7, 999, 123_456] {
            assert_eq!(generated(&src, i), generated(&src, i));
        }
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a.jsonl"), dir.path().join("b.jsonl"));
        let top_a = generate(&src, 300, &a).unwrap();
        let top_b = generate(&src, 300, &b).unwrap();
        assert_eq!(top_a, top_b);
        assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
        let back = read_all(&a).unwrap();
        assert_eq!(back.len(), 300);
        assert!(back.iter().all(|x| x.date.is_some()));
        assert!(back.iter().any(|x| x.reporters.len() == 2));
        assert!(back.iter().any(|x| x.reporters.is_empty()));
    }

    #[test]
    fn bylines() {
        assert_eq!(byline_names("By Michael Gelb, Reuters"), ["michael gelb"]);
        assert_eq!(
            byline_names("BY NAILENE CHOU WIEST, Reuters"),
            ["nailene chou wiest"]
        );
        assert_eq!(
            byline_names("By Norma Cohen and Geert Linnebank, Reuters"),
            ["norma cohen", "geert linnebank"]
        );
        assert!(byline_names("").is_empty());
    }
}
