//! Tests on the real corpora in `../shared/corpus` (or `$MORGUE_CORPUS`), skipped with a notice
//! when absent. Nothing of the corpus text is copied here: expectations come from the files.

use std::path::PathBuf;

use crate::common::{Env, stderr, workspace_root};

fn corpus() -> Option<PathBuf> {
    let dir = std::env::var_os("MORGUE_CORPUS").map_or_else(
        || workspace_root().join("..").join("shared").join("corpus"),
        PathBuf::from,
    );
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "notice: corpus not found at {}; skipping (set MORGUE_CORPUS)",
            dir.display()
        );
        None
    }
}

#[test]
fn the_rfa_seed_article_is_found_by_reporter_service_and_month() {
    let Some(corpus) = corpus() else { return };
    let rfa = corpus.join("rfa");
    let Some(seed) = std::fs::read_dir(&rfa).ok().and_then(|entries| {
        entries
            .flatten()
            .map(|e| e.path())
            .find(|p| p.extension().is_some_and(|x| x == "txt"))
    }) else {
        eprintln!("notice: no RFA seed article in {}; skipping", rfa.display());
        return;
    };
    let text = std::fs::read_to_string(&seed).unwrap();
    let headline = text
        .trim_start_matches('\u{feff}')
        .lines()
        .next()
        .unwrap()
        .trim()
        .to_owned();

    let env = Env::new();
    let out = env.cmd().arg("import").arg(&rfa).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    for filters in [
        &["--reporter", "qiao long"][..],
        &["--service", "mandarin"],
        &["--since", "2017-06", "--until", "2017-06"],
        &[
            "--reporter",
            "Qiao Long",
            "--service",
            "Mandarin",
            "--since",
            "2017-06-20",
            "--until",
            "2017-06-20",
        ],
    ] {
        assert_eq!(env.titles(filters), [headline.as_str()], "{filters:?}");
    }
    for filters in [
        &["--until", "2017-05"][..],
        &["--since", "2017-07"],
        &["--reporter", "qiao"],
    ] {
        assert_eq!(env.titles(filters), Vec::<String>::new(), "{filters:?}");
    }
    let article = &env.list_json(&[])[0];
    assert_eq!(article["date"], "2017-06-20");
    assert_eq!(article["date_origin"], "inferred");
    assert_eq!(article["translators"], article["editors"]);

    // The body: after the headline and image line, byline kept, footer dropped.
    let id = article["id"].as_str().unwrap();
    let body = env.ok(&["cat", id]);
    assert!(
        text.contains(body.as_str()),
        "the body is a verbatim part of the file"
    );
    assert!(!body.starts_with(&headline));
    assert!(
        body.trim_end().ends_with("Luisetta Mudie."),
        "byline kept, footer dropped"
    );
    assert_eq!(env.run(&["verify"]).status.code(), Some(0));
}

#[test]
fn the_bbc_sections_import_with_a_service_each() {
    let Some(corpus) = corpus() else { return };
    let section = corpus.join("bbc").join("tech");
    if !section.is_dir() {
        eprintln!("notice: no BBC corpus at {}; skipping", section.display());
        return;
    }
    let files = std::fs::read_dir(&section).unwrap().count();
    let env = Env::new();
    let out = env
        .cmd()
        .args(["import", "--service", "BBC Tech"])
        .arg(&section)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let listed = env.ok(&["list", "--all", "--format", "ids", "--service", "bbc tech"]);
    let n = listed.lines().count();
    // One article per file: each stored, or a duplicate of an earlier one (the BBC set has
    // a few); the list shows exactly the stored ones.
    let said = stderr(&out);
    let summary = said
        .lines()
        .find(|l| l.starts_with("stored "))
        .unwrap_or_else(|| panic!("no summary: {said}"));
    let count = |label: &str| -> usize {
        let rest = &summary[summary.find(label).expect(label) + label.len()..];
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        digits.parse().expect("a count")
    };
    let (stored, duplicates) = (count("stored "), count("duplicates "));
    assert_eq!(stored + duplicates, files, "{summary}");
    assert_eq!(n, stored, "{summary}");
    assert_eq!(env.run(&["verify"]).status.code(), Some(0));
}

/// A plain scan's words of a text: runs of letters and digits, lowercased (what morgue's
/// analyzer makes of English text: it splits at every character that is not a letter, a digit
/// or a mark, so `U.S.` is `u`, `s` and `oil's` is `oil`, `s`).
fn scan_words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// Whether `words` holds `phrase` (words in a row).
fn holds(words: &[String], phrase: &[&str]) -> bool {
    words
        .windows(phrase.len())
        .any(|w| w.iter().zip(phrase).all(|(a, b)| a == b))
}

/// Recall on Reuters-21578: for words (rare to very common, and pieces of `U.S.`) and phrases,
/// `morgue search` finds exactly the articles a plain scan of `morgue export` finds: whole
/// words, lowercased, in the title or the body (a phrase within one of them). Reuters is
/// English in ASCII, so the scan needs no folding of diacritics.
#[test]
fn search_finds_exactly_what_a_plain_scan_of_reuters_finds() {
    let Some(corpus) = corpus() else { return };
    let file = corpus.join("reuters-21578.jsonl.zst");
    if !file.is_file() {
        eprintln!("notice: no Reuters corpus at {}; skipping", file.display());
        return;
    }
    let env = Env::new();
    let out = env.cmd().arg("import").arg(&file).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    let export = env.ok(&["export"]);
    let articles: Vec<(String, Vec<String>, Vec<String>)> = export
        .lines()
        .map(|line| {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            (
                v["id"].as_str().unwrap().to_owned(),
                scan_words(v["title"].as_str().unwrap_or_default()),
                scan_words(v["body"].as_str().unwrap()),
            )
        })
        .collect();
    assert!(articles.len() > 18_000, "{} articles", articles.len());

    let queries: &[&[&str]] = &[
        &["coffee"],
        &["opec"],
        &["bundesbank"],
        &["cocoa"],
        &["strike"],
        &["yen"],
        &["said"],
        &["u"],
        &["interest", "rates"],
        &["trade", "deficit"],
        &["federal", "reserve", "board"],
    ];
    for phrase in queries {
        let query = if phrase.len() == 1 {
            phrase[0].to_owned()
        } else {
            format!("\"{}\"", phrase.join(" "))
        };
        let scanned: std::collections::BTreeSet<&str> = articles
            .iter()
            .filter(|(_, title, body)| holds(title, phrase) || holds(body, phrase))
            .map(|(id, _, _)| id.as_str())
            .collect();
        let out = env.ok(&["search", "--all", "--format", "ids", "--", &query]);
        let found: std::collections::BTreeSet<&str> = out.lines().collect();
        assert!(!scanned.is_empty(), "{query}: the scan found nothing");
        let missed: Vec<_> = scanned.difference(&found).take(5).collect();
        let extra: Vec<_> = found.difference(&scanned).take(5).collect();
        assert!(
            missed.is_empty() && extra.is_empty(),
            "{query}: the scan finds {}, search {}; missed {missed:?}, extra {extra:?}",
            scanned.len(),
            found.len()
        );
    }
}
