//! Generated articles: distinct made-up bodies (our own words, never a real corpus) written as
//! JSON Lines that `morgue import` reads, with the body and id morgue must give back.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

use morgue_store::BlobId;
use serde_json::json;

use crate::rng::Rng;

/// Words the bodies are made of, a few of them outside ASCII.
const WORDS: &[&str] = &[
    "council",
    "market",
    "river",
    "harbour",
    "vote",
    "budget",
    "school",
    "bridge",
    "rain",
    "festival",
    "minister",
    "village",
    "court",
    "ruling",
    "farmers",
    "prices",
    "night",
    "train",
    "station",
    "library",
    "museum",
    "strike",
    "workers",
    "union",
    "mayor",
    "election",
    "café",
    "naïve",
    "señora",
    "Zürich",
    "北京",
    "市场",
    "Ελλάδα",
    "доклад",
    "the",
    "a",
    "of",
    "and",
    "in",
    "on",
    "said",
    "after",
    "before",
    "today",
    "yesterday",
    "residents",
    "officials",
    "report",
];
const REPORTERS: &[&str] = &[
    "Ana Ruiz",
    "Li Wei",
    "Sam Okafor",
    "Mira Jensen",
    "Tomás Silva",
];
const SERVICES: &[&str] = &["Mandarin", "Khmer", "Uyghur", "Tibetan", "English"];

/// One generated article.
#[derive(Debug, Clone)]
pub struct Article {
    /// Its id: blake3 of the body.
    pub id: BlobId,
    /// The body, exactly as morgue must store it (LF line ends, no surrounding blank lines).
    pub body: String,
    /// The JSON Lines line that imports it (without the newline).
    pub line: String,
    /// A word only this article's title holds (`g<seed>n<n>`), to find it by `morgue search`.
    pub word: String,
}

/// `count` distinct articles from `seed`: mostly 0.3–6 KB, about one in a hundred near 256 KB.
pub fn articles(count: usize, seed: u64) -> Vec<Article> {
    let mut rng = Rng::new(seed);
    (0..count).map(|n| article(n, seed, &mut rng)).collect()
}

fn article(n: usize, seed: u64, rng: &mut Rng) -> Article {
    let target = if rng.below(100) == 0 {
        rng.between(200_000, 260_000)
    } else {
        rng.between(300, 6000)
    } as usize;
    let mut body = format!("Article {n} of run {seed:x}.");
    while body.len() < target {
        body.push_str("\n\n");
        let sentences = rng.between(1, 5);
        for s in 0..sentences {
            if s > 0 {
                body.push(' ');
            }
            let words = rng.between(4, 18);
            for w in 0..words {
                if w > 0 {
                    body.push(' ');
                }
                body.push_str(rng.pick::<&str>(WORDS));
            }
            body.push('.');
        }
    }
    let word = format!("g{seed:x}n{n}");
    let title = format!(
        "Generated story {n} {word}: {} {}",
        rng.pick(WORDS),
        rng.pick(WORDS)
    );
    let date = format!(
        "{}-{:02}-{:02}",
        rng.between(1996, 2025),
        rng.between(1, 12),
        rng.between(1, 28)
    );
    let line = json!({
        "title": title,
        "body": body,
        "reporters": [rng.pick(REPORTERS)],
        "services": [rng.pick(SERVICES)],
        "date": date,
        "url": format!("https://example.invalid/story/{seed:x}/{n}"),
    })
    .to_string();
    Article {
        id: BlobId::of(body.as_bytes()),
        body,
        line,
        word,
    }
}

/// Writes `articles` as JSON Lines to `path`, and syncs it.
pub fn write_jsonl<'a>(
    path: &Path,
    articles: impl IntoIterator<Item = &'a Article>,
) -> io::Result<()> {
    let mut out = BufWriter::new(File::create(path)?);
    for article in articles {
        out.write_all(article.line.as_bytes())?;
        out.write_all(b"\n")?;
    }
    out.into_inner()
        .map_err(io::IntoInnerError::into_error)?
        .sync_all()
}

/// The articles by id.
pub fn by_id(articles: &[Article]) -> HashMap<BlobId, &Article> {
    articles.iter().map(|a| (a.id, a)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn articles_are_distinct_reproducible_and_clean() {
        let a = articles(300, 42);
        let b = articles(300, 42);
        assert_eq!(a.len(), 300);
        assert_eq!(by_id(&a).len(), 300, "bodies must be distinct");
        assert!(
            a.iter()
                .zip(&b)
                .all(|(x, y)| x.id == y.id && x.line == y.line)
        );
        for article in &a {
            assert_eq!(article.body.trim(), article.body);
            assert!(!article.body.contains('\r'));
            let value: serde_json::Value = serde_json::from_str(&article.line).unwrap();
            assert_eq!(value["body"], article.body.as_str());
        }
        assert_ne!(articles(1, 1)[0].id, articles(1, 2)[0].id);
    }
}
