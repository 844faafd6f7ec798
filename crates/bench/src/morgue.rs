//! The morgue side through the library, mirroring what `morgue import` then `morgue optimize` do:
//! the import runs morgue-meta's pipeline (`Archive::import`, the one `morgue import` runs: read
//! on one thread, where morgue-ingest parses JSON Lines on all cores; hash and compress chunks of
//! drafts on all cores, the store training the archive's zstd dictionaries once it has seen
//! enough bodies; one committer commits, flushes and only then reports), then recompresses what
//! came before the dictionaries.

use std::fs::File;
use std::io::BufReader;
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result};
use morgue_ingest::{Format, Overrides};
use morgue_meta::import::{Event, Flush, ImportOptions, Item, Source};
use morgue_meta::{
    Archive, BlobId, Hit, OpenOptions, OptimizeReport, Query, SearchOptions, Snippet, TextQuery,
};

/// What an import did.
#[derive(Debug, Clone, Default)]
pub struct Imported {
    pub added: u64,
    pub duplicates: u64,
    pub errors: u64,
}

/// Imports a corpus file into an open archive through the library's pipeline with the CLI's
/// limits, except at most `batch` articles per commit; flushes after every commit (as the CLI
/// does) unless `flush_at_end`.
pub fn import(
    archive: &Archive,
    corpus: &Path,
    batch: usize,
    flush_at_end: bool,
) -> Result<Imported> {
    let file = File::open(corpus).with_context(|| format!("opening {}", corpus.display()))?;
    let name: Arc<str> = Arc::from(corpus.to_string_lossy());
    let defaults = ImportOptions::default();
    let batch = batch.max(1);
    let options = ImportOptions {
        batch_articles: batch,
        prepare_articles: defaults.prepare_articles.min(batch),
        commit_min: defaults.commit_min.min(batch),
        flush: if flush_at_end {
            Flush::AtEnd
        } else {
            Flush::EveryCommit
        },
        ..defaults
    };
    let summary = archive.import(
        &options,
        |feed| {
            let entries = morgue_ingest::read(
                &name,
                Box::new(BufReader::with_capacity(1 << 20, file)),
                Format::Auto,
                &Overrides::default(),
            );
            for entry in entries {
                let source = Source {
                    path: name.clone(),
                    line: entry.line,
                    seq: 0,
                };
                let item = match entry.outcome {
                    Ok(parsed) => Item::Parsed(source, Box::new(parsed)),
                    Err(err) => Item::Failed(source, err.to_string()),
                };
                if !feed.push(item) {
                    return; // the import failed: its error is returned below
                }
            }
        },
        |_: Event| {},
    )?;
    archive.flush()?;
    Ok(Imported {
        added: summary.stored,
        duplicates: summary.duplicates,
        errors: summary.failed,
    })
}

/// `morgue optimize` in-process, as the CLI does it: merges the text index's segments, then
/// recompresses with trained dictionaries, then closes the archive (flush, sled's compaction
/// when due, and sled's snapshot written now rather than at the next open).
pub fn optimize(archive: Archive) -> Result<OptimizeReport> {
    archive.optimize_text()?;
    let report = archive.optimize(&mut |_| {})?;
    archive.close()?;
    Ok(report)
}

/// Opens an existing archive.
pub fn open_existing(dir: &Path) -> Result<Archive> {
    Archive::open_with(
        dir,
        &OpenOptions {
            create: false,
            ..OpenOptions::default()
        },
    )
    .with_context(|| format!("opening archive {}", dir.display()))
}

/// Articles of a reporter, newest first.
pub fn by_reporter(archive: &Archive, name: &str, limit: usize) -> Result<Vec<Hit>> {
    let q = Query {
        reporter: Some(name.to_owned()),
        limit: Some(limit),
        ..Query::default()
    };
    Ok(archive.query(&q)?.collect::<Result<Vec<_>, _>>()?)
}

/// Articles dated in `since..=until`, newest first.
pub fn by_date(
    archive: &Archive,
    since: chrono::NaiveDate,
    until: chrono::NaiveDate,
    limit: usize,
) -> Result<Vec<Hit>> {
    let q = Query {
        since: Some(since),
        until: Some(until),
        limit: Some(limit),
        ..Query::default()
    };
    Ok(archive.query(&q)?.collect::<Result<Vec<_>, _>>()?)
}

/// Characters of a snippet (as `morgue search`).
const SNIPPET_CHARS: usize = 160;

/// `morgue search`'s work for one query: the best `limit` hits (dated in `since..=until` when
/// given), each with its snippet.
pub fn search(
    archive: &Archive,
    query: &TextQuery,
    dates: Option<(chrono::NaiveDate, chrono::NaiveDate)>,
    limit: usize,
) -> Result<Vec<Snippet>> {
    let options = SearchOptions {
        since: dates.map(|d| d.0),
        until: dates.map(|d| d.1),
        limit: Some(limit),
        ..SearchOptions::default()
    };
    let hits = archive.search(query, &options)?;
    hits.iter()
        .map(|h| Ok(archive.snippet(query, &h.id, SNIPPET_CHARS)?))
        .collect()
}

/// How many articles a query matches (dated in `since..=until` when given).
pub fn search_count(
    archive: &Archive,
    query: &TextQuery,
    dates: Option<(chrono::NaiveDate, chrono::NaiveDate)>,
) -> Result<u64> {
    let options = SearchOptions {
        since: dates.map(|d| d.0),
        until: dates.map(|d| d.1),
        ..SearchOptions::default()
    };
    Ok(archive.search(query, &options)?.len() as u64)
}

/// Every article id (for sampling), in id order.
pub fn ids(archive: &Archive) -> Result<Vec<BlobId>> {
    archive
        .iter()
        .map(|r| r.map(|(id, _)| id).map_err(Into::into))
        .collect()
}

/// The logical content of one sled tree, or of one key tag of the `morgue` tree.
#[derive(Debug, Clone, Default)]
pub struct TreeSpace {
    pub name: String,
    pub keys: u64,
    pub key_bytes: u64,
    pub value_bytes: u64,
}

/// What the one-byte key tags of format 2 hold (docs/format.md).
fn tag_name(tag: u8) -> &'static str {
    match tag {
        b'S' => "store state",
        b'B' => "slot tables",
        b'I' => "id index runs",
        b'J' => "id index directory",
        b'D' => "zstd dictionaries",
        b'G' => "groups",
        b'm' => "meta state",
        b'r' => "record blocks",
        b'x' => "posting chunks",
        b'f' => "facets",
        _ => "other",
    }
}

/// Keys and bytes per sled tree of an archive, per key tag in format 2's one tree, and the pack
/// files (for "where do the bytes on disk go").
pub fn space(dir: &Path) -> Result<Vec<TreeSpace>> {
    // sled opened directly (the archive is closed): in the directory the `SLED` pointer file
    // names, else in the archive directory (docs/format.md).
    if !dir.join(morgue_store::HEADER_FILE).is_file() {
        anyhow::bail!("no archive at {}", dir.display());
    }
    let at = match std::fs::read_to_string(dir.join("SLED")) {
        Ok(name) => dir.join(name.trim_end()),
        Err(_) => dir.to_path_buf(),
    };
    let db = sled::Config::new()
        .path(&at)
        .open()
        .with_context(|| format!("opening sled in {}", at.display()))?;
    let mut out: Vec<TreeSpace> = Vec::new();
    for name in db.tree_names() {
        let tree = db.open_tree(&name)?;
        let tree_name = String::from_utf8_lossy(&name).into_owned();
        let tagged = tree_name == "morgue";
        let mut per_tag = std::collections::BTreeMap::<Option<u8>, TreeSpace>::new();
        for kv in &tree {
            let (k, v) = kv?;
            let tag = if tagged { k.first().copied() } else { None };
            let t = per_tag.entry(tag).or_insert_with(|| TreeSpace {
                name: match tag {
                    Some(tag) => format!("{tree_name} {:?} ({})", char::from(tag), tag_name(tag)),
                    None => tree_name.clone(),
                },
                ..TreeSpace::default()
            });
            t.keys += 1;
            t.key_bytes += k.len() as u64;
            t.value_bytes += v.len() as u64;
        }
        out.extend(per_tag.into_values());
    }
    // The bodies' own append-only files (format 2): one entry for them all.
    if let Ok(entries) = std::fs::read_dir(dir.join("packs")) {
        let mut packs = TreeSpace {
            name: "pack files (bodies)".into(),
            ..TreeSpace::default()
        };
        for entry in entries.filter_map(Result::ok) {
            packs.keys += 1;
            packs.value_bytes += entry.metadata().map_or(0, |m| m.len());
        }
        if packs.keys > 0 {
            out.push(packs);
        }
    }
    out.sort_by_key(|t| std::cmp::Reverse(t.key_bytes + t.value_bytes));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn import_counts_stored_duplicates_and_errors() {
        let dir = tempfile::tempdir().unwrap();
        let corpus = dir.path().join("c.jsonl");
        std::fs::write(
            &corpus,
            "{\"body\": \"one\"}\n{not json\n{\"body\": \"two\"}\n{\"body\": \"one\"}\n",
        )
        .unwrap();
        for flush_at_end in [false, true] {
            let archive = Archive::open(dir.path().join(format!("a{flush_at_end}"))).unwrap();
            let imported = import(&archive, &corpus, 1, flush_at_end).unwrap();
            assert_eq!(
                (imported.added, imported.duplicates, imported.errors),
                (2, 1, 1)
            );
        }
    }
}
