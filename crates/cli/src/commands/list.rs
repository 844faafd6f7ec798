//! `morgue list`: query by reporter, service and date, newest first.

use std::io::{IsTerminal as _, Write as _};

use anyhow::Context as _;
use morgue_meta::{BlobId, Hit, Query, Record};

use super::Ctx;
use crate::args::{ListArgs, ListFormat};
use crate::output::{self, ArticleJson};
use crate::report::ExitStatus;

/// Table width when stdout is not a terminal.
const DEFAULT_WIDTH: usize = 100;

/// Rows of the table when neither `--limit` nor `--all` is given. The machine formats have no
/// default limit: a script gets every match.
const TABLE_PAGE: usize = 50;

pub fn run(args: &ListArgs, ctx: &Ctx) -> anyhow::Result<ExitStatus> {
    if let (Some(since), Some(until)) = (args.since, args.until)
        && since.first > until.last
    {
        anyhow::bail!("--since {} is after --until {}", since.first, until.last);
    }
    let archive = ctx.open_existing()?;
    let limit = match (args.all, args.limit) {
        (false, Some(n)) => Some(n),
        (false, None) if args.format == ListFormat::Table => Some(TABLE_PAGE),
        _ => None,
    };
    let query = Query {
        reporter: args.reporter.clone(),
        service: args.service.clone(),
        since: args.since.map(|p| p.first),
        until: args.until.map(|p| p.last),
        // One more than asked, to tell the user when there is more.
        limit: limit.map(|n| n.saturating_add(1)),
        after: None,
    };
    let mut hits = archive
        .query(&query)
        .context("querying the archive")?
        .map(|hit| hit.context("reading a query result"));
    let wanted = limit.unwrap_or(usize::MAX);

    let mut out = output::stdout();
    // Every format but the table streams: `--all` on a large archive holds one record at a time.
    let mut shown = 0usize;
    match args.format {
        ListFormat::Table => {
            let rows: Vec<Hit> = hits.by_ref().take(wanted).collect::<anyhow::Result<_>>()?;
            shown = rows.len();
            let rows: Vec<_> = rows.iter().map(|h| (&h.id, &h.record)).collect();
            write_table(&mut out, &rows, table_width())?;
        }
        ListFormat::Json => {
            // One array, one compact object a line.
            out.write_all(b"[")?;
            for hit in hits.by_ref().take(wanted) {
                let hit = hit?;
                out.write_all(if shown == 0 { b"\n" } else { b",\n" })?;
                serde_json::to_writer(&mut out, &ArticleJson::new(&hit.id, &hit.record))?;
                shown += 1;
            }
            out.write_all(if shown == 0 { b"]\n" } else { b"\n]\n" })?;
        }
        ListFormat::Jsonl => {
            for hit in hits.by_ref().take(wanted) {
                let hit = hit?;
                serde_json::to_writer(&mut out, &ArticleJson::new(&hit.id, &hit.record))?;
                writeln!(out)?;
                shown += 1;
            }
        }
        ListFormat::Csv => shown = write_csv(&mut out, hits.by_ref().take(wanted))?,
        ListFormat::Ids => {
            for hit in hits.by_ref().take(wanted) {
                writeln!(out, "{}", hit?.id)?;
                shown += 1;
            }
        }
    }
    out.flush()?;
    drop(out);

    if !ctx.quiet && args.format == ListFormat::Table {
        if shown == 0 {
            eprintln!("no articles match");
        } else if limit.is_some() && hits.next().is_some() {
            eprintln!("showing the first {shown}; use --limit N or --all to see more");
        }
    }
    Ok(ExitStatus::Success)
}

fn table_width() -> usize {
    let stdout = std::io::stdout();
    if stdout.is_terminal() {
        terminal_size::terminal_size_of(&stdout)
            .map_or(DEFAULT_WIDTH, |(terminal_size::Width(w), _)| usize::from(w))
    } else {
        DEFAULT_WIDTH
    }
}

/// Columns: short id, date, services, reporters, title; the title takes what is left.
fn write_table(
    out: &mut impl std::io::Write,
    rows: &[(&BlobId, &Record)],
    width: usize,
) -> std::io::Result<()> {
    const ID: usize = 12;
    const DATE: usize = 10;
    const GAP: usize = 2;
    const TITLE_MIN: usize = 20;
    let cell = |values: &[String]| values.join(", ");
    let services: Vec<String> = rows.iter().map(|(_, r)| cell(&r.services)).collect();
    let reporters: Vec<String> = rows.iter().map(|(_, r)| cell(&r.reporters)).collect();
    let widest = |header: &str, cells: &[String], cap: usize| {
        cells
            .iter()
            .map(|c| output::width(c))
            .chain([output::width(header)])
            .max()
            .unwrap_or(0)
            .min(cap)
    };
    // Services and reporters take what they need up to a cap; the title keeps at least
    // TITLE_MIN columns, the other two shrink when the terminal is narrow.
    let avail = width.saturating_sub(ID + DATE + 4 * GAP);
    let mut service_w = widest("SERVICE", &services, 16);
    let mut reporter_w = widest("REPORTERS", &reporters, 24);
    if avail.saturating_sub(service_w + reporter_w) < TITLE_MIN {
        let budget = avail.saturating_sub(TITLE_MIN);
        reporter_w = reporter_w.min(budget * 3 / 5);
        service_w = service_w.min(budget - reporter_w);
    }
    let title_w = avail.saturating_sub(service_w + reporter_w).max(TITLE_MIN);

    let row = |out: &mut dyn std::io::Write,
               id: &str,
               date: &str,
               service: &str,
               reporter: &str,
               title: &str| {
        let line = format!(
            "{}  {}  {}  {}  {}",
            output::pad(id, ID),
            output::pad(date, DATE),
            output::pad(&output::truncate(service, service_w), service_w),
            output::pad(&output::truncate(reporter, reporter_w), reporter_w),
            output::truncate(title, title_w),
        );
        writeln!(out, "{}", line.trim_end())
    };
    if rows.is_empty() {
        return Ok(());
    }
    row(out, "ID", "DATE", "SERVICE", "REPORTERS", "TITLE")?;
    for (((id, record), service), reporter) in rows.iter().zip(&services).zip(&reporters) {
        let id = id.to_string();
        let date = record
            .date
            .map(|d| d.day.format("%Y-%m-%d").to_string())
            .unwrap_or_default();
        row(out, &id[..ID], &date, service, reporter, &record.title)?;
    }
    Ok(())
}

/// A list field as one CSV cell: a JSON array (`["Doe; Jane","Roe"]`), so that no name can be
/// mistaken for two.
fn json_list(values: &[String]) -> String {
    serde_json::Value::from(values.to_vec()).to_string()
}

/// `extra` as one CSV cell: a JSON object of the input's other fields, as `list --format json`
/// gives it.
fn json_extra(record: &Record) -> String {
    let map: serde_json::Map<String, serde_json::Value> = record
        .extra
        .iter()
        .map(|(name, text)| {
            // Extra values are kept as JSON text; anything else is given back as a string.
            let value = serde_json::from_str(text)
                .unwrap_or_else(|_| serde_json::Value::String(text.clone()));
            (name.clone(), value)
        })
        .collect();
    serde_json::Value::Object(map).to_string()
}

/// One row per article with a header; list fields and `extra` as JSON. Returns the rows written.
fn write_csv(
    out: &mut impl std::io::Write,
    hits: impl Iterator<Item = anyhow::Result<Hit>>,
) -> anyhow::Result<usize> {
    let mut writer = csv::Writer::from_writer(out);
    writer.write_record([
        "id",
        "date",
        "date_origin",
        "title",
        "reporters",
        "translators",
        "editors",
        "writers",
        "services",
        "outlet",
        "url",
        "image",
        "caption",
        "tags",
        "source_id",
        "origin",
        "imported_at",
        "extra",
    ])?;
    let mut rows = 0;
    for hit in hits {
        let hit = hit?;
        let r = &hit.record;
        writer.write_record([
            hit.id.to_string(),
            r.date.map(|d| d.to_string()).unwrap_or_default(),
            r.date_origin
                .map(|o| o.as_str().to_owned())
                .unwrap_or_default(),
            r.title.clone(),
            json_list(&r.reporters),
            json_list(&r.translators),
            json_list(&r.editors),
            json_list(&r.writers),
            json_list(&r.services),
            r.outlet.clone(),
            r.url.clone(),
            r.image.clone(),
            r.caption.clone(),
            json_list(&r.tags),
            r.source_id.clone(),
            r.origin.clone(),
            r.imported_at
                .and_then(output::timestamp)
                .unwrap_or_default(),
            json_extra(r),
        ])?;
        rows += 1;
    }
    writer.flush()?;
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(title: &str, services: &[&str], reporters: &[&str]) -> Record {
        Record {
            title: title.to_owned(),
            services: services.iter().map(|s| (*s).to_owned()).collect(),
            reporters: reporters.iter().map(|s| (*s).to_owned()).collect(),
            date: chrono::NaiveDate::from_ymd_opt(2019, 3, 15)
                .map(morgue_meta::ArticleDate::from_day),
            ..Record::default()
        }
    }

    fn table(rows: &[(&BlobId, &Record)], width: usize) -> String {
        let mut out = Vec::new();
        write_table(&mut out, rows, width).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn table_lines_fit_the_width() {
        let id = BlobId::of(b"body");
        let long = record(
            &"A very long headline about the harbor ".repeat(5),
            &["Cantonese"],
            &["Mei Lan Fong"],
        );
        for width in [60, 80, 100, 200] {
            let text = table(&[(&id, &long)], width);
            for line in text.lines() {
                assert!(output::width(line) <= width, "{width}: {line:?}");
            }
            assert!(text.contains('…'));
        }
    }

    #[test]
    fn table_shows_short_id_date_service_reporters_title() {
        let id = BlobId::of(b"body");
        let rec = record("Harbor Strike Ends", &["Lao", "Khmer"], &["Mei Lan Fong"]);
        let text = table(&[(&id, &rec)], 100);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2);
        assert!(lines[0].starts_with("ID "));
        let short = &id.to_string()[..12];
        assert!(lines[1].starts_with(short), "{}", lines[1]);
        for part in [
            "2019-03-15",
            "Lao, Khmer",
            "Mei Lan Fong",
            "Harbor Strike Ends",
        ] {
            assert!(lines[1].contains(part), "{part} missing in {}", lines[1]);
        }
    }

    #[test]
    fn an_empty_table_prints_nothing() {
        assert_eq!(table(&[], 100), "");
    }
}
