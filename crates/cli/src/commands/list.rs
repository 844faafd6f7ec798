//! `morgue list`: query by reporter, service and date, newest first.

use std::io::{IsTerminal as _, Write as _};

use anyhow::Context as _;
use morgue_meta::{BlobId, Query, Record};

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
    args.filters.check()?;
    let server = ctx.server();
    let archive = match server {
        Some(_) => None,
        None => Some(ctx.open_to_read()?),
    };
    let limit = match (args.all, args.limit) {
        (false, Some(n)) => Some(n),
        (false, None) if args.format == ListFormat::Table => Some(TABLE_PAGE),
        _ => None,
    };
    // One more than asked, to tell the user when there is more.
    let asked = limit.map(|n| n.saturating_add(1));
    let mut hits: Box<dyn Iterator<Item = anyhow::Result<(BlobId, Record)>>> =
        match (&server, &archive) {
            (Some(server), _) => Box::new(server.articles(&args.filters, asked)),
            (None, Some(archive)) => {
                let query = Query {
                    limit: asked,
                    ..args.filters.to_query()
                };
                Box::new(
                    archive
                        .query(&query)
                        .context("querying the archive")?
                        .map(|hit| {
                            hit.map(|h| (h.id, h.record))
                                .context("reading a query result")
                        }),
                )
            }
            (None, None) => unreachable!("the archive is opened when no server holds it"),
        };
    let wanted = limit.unwrap_or(usize::MAX);

    let mut out = output::stdout();
    // Every format but the table streams: `--all` on a large archive holds one record at a time.
    let mut shown = 0usize;
    match args.format {
        ListFormat::Table => {
            let rows: Vec<(BlobId, Record)> =
                hits.by_ref().take(wanted).collect::<anyhow::Result<_>>()?;
            shown = rows.len();
            let rows: Vec<_> = rows.iter().map(|(id, record)| (id, record)).collect();
            write_table(&mut out, &rows, table_width())?;
        }
        ListFormat::Json => {
            // One array, one compact object a line.
            out.write_all(b"[")?;
            for hit in hits.by_ref().take(wanted) {
                let (id, record) = hit?;
                out.write_all(if shown == 0 { b"\n" } else { b",\n" })?;
                serde_json::to_writer(&mut out, &ArticleJson::new(&id, &record))?;
                shown += 1;
            }
            out.write_all(if shown == 0 { b"]\n" } else { b"\n]\n" })?;
        }
        ListFormat::Jsonl => {
            for hit in hits.by_ref().take(wanted) {
                let (id, record) = hit?;
                serde_json::to_writer(&mut out, &ArticleJson::new(&id, &record))?;
                writeln!(out)?;
                shown += 1;
            }
        }
        ListFormat::Csv => {
            let rows = hits
                .by_ref()
                .take(wanted)
                .map(|hit| hit.map(|(id, record)| (id, record, Vec::new())));
            shown = write_csv(&mut out, &[], rows)?;
        }
        ListFormat::Ids => {
            for hit in hits.by_ref().take(wanted) {
                writeln!(out, "{}", hit?.0)?;
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

pub(super) fn table_width() -> usize {
    let stdout = std::io::stdout();
    if stdout.is_terminal() {
        terminal_size::terminal_size_of(&stdout)
            .map_or(DEFAULT_WIDTH, |(terminal_size::Width(w), _)| usize::from(w))
    } else {
        DEFAULT_WIDTH
    }
}

/// How wide each column of the table is; `None` for a column left out.
#[derive(Debug, PartialEq, Eq)]
struct Layout {
    date: Option<usize>,
    service: Option<usize>,
    reporters: Option<usize>,
    title: usize,
}

const ID: usize = 12;
const DATE: usize = 10;
const GAP: usize = 2;

/// Fits the columns into `width`. Each column wants its widest cell (header included). When
/// that does not fit, columns get a useful minimum first (title 20, reporters 12, services 8),
/// then a comfortable width (title 40, reporters 24, services 16), then what they want
/// (reporters and services first: names are cut less gladly than titles). When even the
/// minimums do not fit, services are left out, then reporters, then (when the title would get
/// less than 10 columns beside it) the date.
fn layout(width: usize, service_want: usize, reporters_want: usize, title_want: usize) -> Layout {
    let mins = [
        service_want.min(8),
        reporters_want.min(12),
        title_want.min(20),
    ];
    let comfortable = [
        service_want.min(16),
        reporters_want.min(24),
        title_want.min(40),
    ];
    let wants = [service_want, reporters_want, title_want];
    // Which of services, reporters and date are shown, richest first.
    let choices = [
        [true, true, true],
        [false, true, true],
        [false, false, true],
        [false, false, false],
    ];
    let mut chosen = choices[choices.len() - 1];
    for choice in choices {
        let [service, reporters, date] = choice;
        // The date alone beside the title leaves it less room: 10 columns.
        let title_min = if service || reporters {
            mins[2]
        } else {
            title_want.min(10)
        };
        let need = ID
            + if date { GAP + DATE } else { 0 }
            + if service { GAP + mins[0] } else { 0 }
            + if reporters { GAP + mins[1] } else { 0 }
            + GAP
            + title_min;
        if need <= width {
            chosen = choice;
            break;
        }
    }
    let [show_service, show_reporters, show_date] = chosen;
    let shown = [show_service, show_reporters, true];
    let fixed =
        ID + if show_date { GAP + DATE } else { 0 } + shown.iter().filter(|&&s| s).count() * GAP;
    let mut widths = [0; 3];
    let mut left = width.saturating_sub(fixed);
    // Each stage raises the columns, in order, toward its target while room is left.
    for (stage, order) in [
        (mins, [0, 1, 2]),
        (comfortable, [0, 1, 2]),
        (wants, [1, 0, 2]),
    ] {
        for i in order {
            if shown[i] && widths[i] < stage[i] {
                let more = (stage[i] - widths[i]).min(left);
                widths[i] += more;
                left -= more;
            }
        }
    }
    Layout {
        date: show_date.then_some(DATE),
        service: show_service.then_some(widths[0]),
        reporters: show_reporters.then_some(widths[1]),
        title: widths[2],
    }
}

/// Columns: short id, date, services, reporters, title, each as wide as it needs and the
/// terminal allows ([`layout`]).
fn write_table(
    out: &mut impl std::io::Write,
    rows: &[(&BlobId, &Record)],
    width: usize,
) -> std::io::Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let cell = |values: &[String]| values.join(", ");
    let services: Vec<String> = rows.iter().map(|(_, r)| cell(&r.services)).collect();
    let reporters: Vec<String> = rows.iter().map(|(_, r)| cell(&r.reporters)).collect();
    let titles: Vec<String> = rows
        .iter()
        .map(|(_, r)| output::truncate(&r.title, usize::MAX))
        .collect();
    let widest = |header: &str, cells: &[String]| {
        cells
            .iter()
            .map(|c| output::width(&output::truncate(c, usize::MAX)))
            .chain([output::width(header)])
            .max()
            .unwrap_or(0)
    };
    let layout = layout(
        width,
        widest("SERVICE", &services),
        widest("REPORTERS", &reporters),
        widest("TITLE", &titles),
    );

    let row = |out: &mut dyn std::io::Write,
               id: &str,
               date: &str,
               service: &str,
               reporter: &str,
               title: &str| {
        let mut line = output::pad(id, ID);
        for (text, column) in [
            (date, layout.date),
            (service, layout.service),
            (reporter, layout.reporters),
        ] {
            if let Some(w) = column {
                line.push_str("  ");
                line.push_str(&output::pad(&output::truncate(text, w), w));
            }
        }
        line.push_str("  ");
        line.push_str(&output::truncate(title, layout.title));
        writeln!(out, "{}", line.trim_end())
    };
    row(out, "ID", "DATE", "SERVICE", "REPORTERS", "TITLE")?;
    for (((id, record), service), reporter) in rows.iter().zip(&services).zip(&reporters) {
        let id = id.to_string();
        let date = record
            .date
            .map(morgue_meta::ArticleDate::day_text)
            .unwrap_or_default();
        row(out, &id[..ID], &date, service, reporter, &record.title)?;
    }
    Ok(())
}

/// The CSV columns, in order: the fields of the article JSON object (morgue-model's one
/// encoder) with the date first and without the body.
fn csv_columns() -> Vec<&'static str> {
    let first = ["id", "date", "date_origin"];
    let rest = morgue_model::FIELDS
        .into_iter()
        .filter(|field| !first.contains(field) && *field != "body");
    first.into_iter().chain(rest).collect()
}

/// One row per article with a header, then the `more` columns (`search`'s score and snippet).
/// Each cell is the field of the article JSON object: text as it is, list fields and `extra` as
/// JSON (`["Doe; Jane","Roe"]`: no name can be mistaken for two), an absent date empty. Returns
/// the rows written.
pub(super) fn write_csv<R: std::borrow::Borrow<Record>>(
    out: &mut impl std::io::Write,
    more: &[&str],
    rows: impl Iterator<Item = anyhow::Result<(BlobId, R, Vec<String>)>>,
) -> anyhow::Result<usize> {
    let mut writer = csv::Writer::from_writer(out);
    let columns = csv_columns();
    writer.write_record(columns.iter().chain(more))?;
    let mut written = 0;
    for row in rows {
        let (id, record, extra_cells) = row?;
        let object = serde_json::to_value(ArticleJson::new(&id, record.borrow()))?;
        let cells = columns.iter().map(|&column| match &object[column] {
            serde_json::Value::Null => String::new(),
            serde_json::Value::String(text) => text.clone(),
            value => value.to_string(),
        });
        writer.write_record(cells.chain(extra_cells))?;
        written += 1;
    }
    writer.flush()?;
    Ok(written)
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
    fn a_40_column_terminal_gets_rows_of_40_columns_at_most() {
        let id = BlobId::of(b"body");
        let rec = record(
            "Dock Workers End Week-Long Strike at Southern Port",
            &["Cantonese"],
            &["Mei Lan Fong"],
        );
        for width in [30, 40, 50, 60] {
            let text = table(&[(&id, &rec)], width);
            for line in text.lines() {
                assert!(output::width(line) <= width, "{width}: {line:?}");
            }
        }
    }

    #[test]
    fn a_dropped_column_leaves_no_gap() {
        let id = BlobId::of(b"body");
        let rec = record("Harbor Strike Ends", &["Cantonese"], &["Mei Lan Fong"]);
        let text = table(&[(&id, &rec)], 40);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "ID            DATE        TITLE");
        assert!(
            lines[1].contains("2019-03-15  Harbor Strike"),
            "a gap: {:?}",
            lines[1]
        );
    }

    #[test]
    fn a_wide_terminal_shows_long_reporter_lists_whole() {
        let id = BlobId::of(b"body");
        let reporters = ["Mei Lan Fong", "Daniel Kerr", "Ana Ruiz", "Piet Maas"];
        let rec = record("Harbor Strike Ends", &["Cantonese"], &reporters);
        let text = table(&[(&id, &rec)], 200);
        assert!(
            text.contains("Mei Lan Fong, Daniel Kerr, Ana Ruiz, Piet Maas  Harbor Strike Ends"),
            "{text}"
        );
        assert!(!text.contains('…'), "{text}");
    }

    #[test]
    fn columns_shrink_to_their_minimums_before_one_is_dropped() {
        // Wants: services 9, reporters 40, title 60.
        assert_eq!(
            layout(100, 9, 40, 60),
            Layout {
                date: Some(DATE),
                service: Some(9),
                reporters: Some(24),
                title: 37,
            }
        );
        assert_eq!(
            layout(200, 9, 40, 60),
            Layout {
                date: Some(DATE),
                service: Some(9),
                reporters: Some(40),
                title: 60,
            }
        );
        // 12 + 2 + 10 + 2 + 12 + 2 + 20 = 60: no room for services.
        assert_eq!(
            layout(60, 9, 40, 60),
            Layout {
                date: Some(DATE),
                service: None,
                reporters: Some(12),
                title: 20,
            }
        );
        assert_eq!(
            layout(40, 9, 40, 60),
            Layout {
                date: Some(DATE),
                service: None,
                reporters: None,
                title: 14,
            }
        );
    }

    #[test]
    fn an_empty_table_prints_nothing() {
        assert_eq!(table(&[], 100), "");
    }
}
