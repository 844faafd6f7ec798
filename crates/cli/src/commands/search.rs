//! `morgue search`: the articles whose title or body hold the query's words, best first.

use std::io::{IsTerminal as _, Write as _};

use anyhow::Context as _;
use morgue_meta::{SearchHit, SearchOptions, SearchOrder, WarmText};
use serde::Serialize;

use super::{Ctx, remote};
use crate::args::{ListFormat, SearchArgs, SearchSort};
use crate::output::{self, ArticleJson};
use crate::report::ExitStatus;

/// Hits shown when neither `--limit` nor `--all` is given, in every format.
const DEFAULT_LIMIT: usize = 50;
/// Characters of a snippet.
pub(super) const SNIPPET_CHARS: usize = 160;
/// The marks around a matched word in the machine formats' `snippet`.
pub const MARK_OPEN: &str = "[";
/// See [`MARK_OPEN`].
pub const MARK_CLOSE: &str = "]";

/// A hit as `--format json`/`jsonl` print it: the article object of `list`, plus `score` and
/// `snippet` (also the hits of the server's `/api/search`).
#[derive(Serialize)]
pub(super) struct HitJson<'a> {
    #[serde(flatten)]
    pub(super) article: ArticleJson<'a>,
    pub(super) score: f32,
    pub(super) snippet: String,
}

/// The marks of matched words in the table's snippets (private-use characters, replaced by the
/// colors, if any, once the text's own control characters are blanked).
const TABLE_MARKS: (&str, &str) = ("\u{E000}", "\u{E001}");

pub fn run(args: &SearchArgs, ctx: &Ctx) -> anyhow::Result<ExitStatus> {
    args.filters.check()?;
    let limit = if args.all {
        None
    } else {
        Some(args.limit.unwrap_or(DEFAULT_LIMIT))
    };
    let marks = if args.format == ListFormat::Table {
        TABLE_MARKS
    } else {
        (MARK_OPEN, MARK_CLOSE)
    };
    if let Some(server) = ctx.server() {
        let sort = match args.sort {
            SearchSort::Relevance => "relevance",
            SearchSort::Date => "date",
        };
        let mut pages = server.search(&args.query.text, &args.filters, sort, marks, limit);
        // The server gives every hit its snippet: nothing to make.
        let none = |_: &SearchHit| -> anyhow::Result<String> { Ok(String::new()) };
        let Some(limit) = limit else {
            // Every hit: printed a page at a time, as the pages come.
            let mut hits =
                pages.map(|v| v.and_then(|v| remote::hit(&v)).map(|(h, s)| (h, Some(s))));
            return print(args, ctx, &mut hits, false, &none);
        };
        let hits = pages
            .by_ref()
            .map(|v| v.and_then(|v| remote::hit(&v)))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let more = pages.more();
        let mut hits = hits.into_iter().take(limit).map(|(h, s)| Ok((h, Some(s))));
        return print(args, ctx, &mut hits, more, &none);
    }
    // The text index is opened and searched on a thread of its own while the archive opens
    // (sled's open is most of a fresh search on a large archive); the archive's search then
    // finds it warm. Not for `--all`, whose search would be done twice.
    let warm = match (limit, ctx.archive_dir()) {
        (Some(limit), Ok(dir)) => {
            let (dir, query) = (dir.to_path_buf(), args.query.parsed.clone());
            Some(std::thread::spawn(move || {
                WarmText::open(&dir, &query, Some(limit.saturating_add(1)))
            }))
        }
        _ => None,
    };
    let archive = ctx.open_to_read()?;
    if let Some(Ok(Ok(warm))) = warm.map(std::thread::JoinHandle::join) {
        archive.use_warm_text(warm);
    }
    let filters = args.filters.to_query();
    let options = SearchOptions {
        reporter: filters.reporter,
        service: filters.service,
        since: filters.since,
        until: filters.until,
        // One more than asked, to tell the user when there is more.
        limit: limit.map(|n| n.saturating_add(1)),
        order: match args.sort {
            SearchSort::Relevance => SearchOrder::Relevance,
            SearchSort::Date => SearchOrder::Date,
        },
        after: None,
    };
    let mut hits = archive
        .search_iter(&args.query.parsed, &options)
        .context("searching the archive")?;
    let snippet = |hit: &SearchHit| -> anyhow::Result<String> {
        archive
            .snippet(&args.query.parsed, &hit.id, SNIPPET_CHARS)
            .map(|s| s.marked(marks.0, marks.1))
            .with_context(|| format!("reading article {}", hit.id))
    };
    let Some(limit) = limit else {
        // Every hit: printed as read, not held (a common word at millions of articles).
        let mut hits = hits.map(|h| h.map(|h| (h, None)).context("searching the archive"));
        return print(args, ctx, &mut hits, false, &snippet);
    };
    let mut hits: Vec<SearchHit> = hits
        .by_ref()
        .collect::<Result<_, _>>()
        .context("searching the archive")?;
    let more = hits.len() > limit;
    hits.truncate(limit);
    print(
        args,
        ctx,
        &mut hits.into_iter().map(|h| Ok((h, None))),
        more,
        &snippet,
    )
}

/// Prints the hits in the format asked for, each with its snippet when it came with one (from a
/// server); `snippet` makes the others', marked as the format wants, when the format shows them.
fn print(
    args: &SearchArgs,
    ctx: &Ctx,
    hits: &mut dyn Iterator<Item = anyhow::Result<(SearchHit, Option<String>)>>,
    more: bool,
    snippet: &dyn Fn(&SearchHit) -> anyhow::Result<String>,
) -> anyhow::Result<ExitStatus> {
    let snippet = |hit: &SearchHit, given: Option<String>| given.map_or_else(|| snippet(hit), Ok);
    let mut out = output::stdout();
    let mut shown = 0;
    match args.format {
        ListFormat::Table => {
            let color = std::io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
            let width = super::list::table_width();
            for hit in hits {
                let (hit, given) = hit?;
                shown += 1;
                let id = hit.id.to_string();
                let date = hit.record.date.map(|d| d.to_string()).unwrap_or_default();
                let date: String = date.chars().take(10).collect();
                let head = format!("{}  {}  ", &id[..12], output::pad(&date, 10));
                let title = output::truncate(&hit.record.title, width.saturating_sub(26).max(10));
                writeln!(out, "{head}{title}")?;
                // Marked with private-use characters first, so that the text's own control
                // characters can be blanked without touching the escape sequences.
                let text: String = snippet(&hit, given)?
                    .chars()
                    .map(|c| if c.is_control() { ' ' } else { c })
                    .collect();
                let (open, close) = if color {
                    ("\x1b[1;33m", "\x1b[0m")
                } else {
                    ("", "")
                };
                writeln!(
                    out,
                    "    {}",
                    text.replace(TABLE_MARKS.0, open)
                        .replace(TABLE_MARKS.1, close)
                )?;
            }
        }
        ListFormat::Json | ListFormat::Jsonl => {
            let json = args.format == ListFormat::Json;
            if json {
                out.write_all(b"[")?;
            }
            for hit in hits {
                let (hit, given) = hit?;
                let value = HitJson {
                    article: ArticleJson::new(&hit.id, &hit.record),
                    score: hit.score,
                    snippet: snippet(&hit, given)?,
                };
                if json {
                    out.write_all(if shown == 0 { b"\n" } else { b",\n" })?;
                }
                shown += 1;
                serde_json::to_writer(&mut out, &value)?;
                if !json {
                    writeln!(out)?;
                }
            }
            if json {
                out.write_all(if shown == 0 { b"]\n" } else { b"\n]\n" })?;
            }
        }
        ListFormat::Csv => {
            let rows = hits.map(|hit| {
                let (hit, given) = hit?;
                let snippet = snippet(&hit, given)?;
                Ok((hit.id, hit.record, vec![hit.score.to_string(), snippet]))
            });
            shown = super::list::write_csv(&mut out, &["score", "snippet"], rows)?;
        }
        ListFormat::Ids => {
            for hit in hits {
                shown += 1;
                writeln!(out, "{}", hit?.0.id)?;
            }
        }
    }
    out.flush()?;
    drop(out);

    if !ctx.quiet && args.format == ListFormat::Table {
        if shown == 0 {
            eprintln!("no articles match");
        } else if more {
            eprintln!("showing the best {shown}; use --limit N or --all to see more");
        }
    }
    Ok(ExitStatus::Success)
}
