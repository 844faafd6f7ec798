//! `morgue stats`: articles, bytes, compression, per service and per year.

use std::io::Write as _;

use anyhow::Context as _;
use serde::Serialize;

use super::Ctx;
use crate::args::{StatsArgs, StatsFormat};
use crate::output::{self, human_bytes};
use crate::report::ExitStatus;

/// The figures as `stats --format json` prints them (and `GET /api/stats` answers).
#[derive(Debug, Serialize)]
pub(super) struct Json<'a> {
    articles: u64,
    raw_bytes: u64,
    stored_bytes: u64,
    /// raw / stored; null when nothing is stored.
    ratio: Option<f64>,
    disk_bytes: u64,
    per_service: Vec<NameCount<'a>>,
    per_year: Vec<YearCount>,
    /// Original pages kept (HTML and WARC imports; not articles), when there are any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pages: Option<Pages>,
}

#[derive(Debug, Serialize)]
struct Pages {
    count: u64,
    raw_bytes: u64,
    stored_bytes: u64,
}

#[derive(Debug, Serialize)]
struct NameCount<'a> {
    name: &'a str,
    count: u64,
}

#[derive(Debug, Serialize)]
struct YearCount {
    year: i32,
    count: u64,
}

/// The JSON object of the figures.
pub(super) fn json(stats: &morgue_meta::ArchiveStats) -> Json<'_> {
    let ratio =
        (stats.stored_bytes > 0).then(|| stats.raw_bytes as f64 / stats.stored_bytes as f64);
    Json {
        articles: stats.articles,
        raw_bytes: stats.raw_bytes,
        stored_bytes: stats.stored_bytes,
        ratio: ratio.map(|r| (r * 1000.0).round() / 1000.0),
        disk_bytes: stats.disk_bytes,
        per_service: stats
            .per_service
            .iter()
            .map(|f| NameCount {
                name: &f.name,
                count: f.count,
            })
            .collect(),
        per_year: stats
            .per_year
            .iter()
            .map(|&(year, count)| YearCount { year, count })
            .collect(),
        pages: (stats.pages > 0).then_some(Pages {
            count: stats.pages,
            raw_bytes: stats.page_bytes,
            stored_bytes: stats.page_stored_bytes,
        }),
    }
}

pub fn run(args: &StatsArgs, ctx: &Ctx) -> anyhow::Result<ExitStatus> {
    let stats = if let Some(server) = ctx.server() {
        server.stats()?
    } else {
        let archive = ctx.open_to_read()?;
        archive.stats().context("computing figures")?
    };
    let ratio =
        (stats.stored_bytes > 0).then(|| stats.raw_bytes as f64 / stats.stored_bytes as f64);
    let mut out = output::stdout();
    match args.format {
        StatsFormat::Json => {
            let json = json(&stats);
            serde_json::to_writer_pretty(&mut out, &json)?;
            writeln!(out)?;
        }
        StatsFormat::Text => {
            writeln!(out, "articles       {}", stats.articles)?;
            writeln!(
                out,
                "raw bytes      {} ({})",
                stats.raw_bytes,
                human_bytes(stats.raw_bytes)
            )?;
            writeln!(
                out,
                "stored bytes   {} ({})",
                stats.stored_bytes,
                human_bytes(stats.stored_bytes)
            )?;
            match ratio {
                Some(r) => writeln!(out, "ratio          {r:.2}")?,
                None => writeln!(out, "ratio          -")?,
            }
            if stats.pages > 0 {
                writeln!(
                    out,
                    "original pages {}, {} raw bytes ({}), stored in {} ({})",
                    stats.pages,
                    stats.page_bytes,
                    human_bytes(stats.page_bytes),
                    stats.page_stored_bytes,
                    human_bytes(stats.page_stored_bytes)
                )?;
            }
            writeln!(
                out,
                "disk bytes     {} ({})",
                stats.disk_bytes,
                human_bytes(stats.disk_bytes)
            )?;
            if !stats.per_service.is_empty() {
                writeln!(out, "\nper service")?;
                let width = stats
                    .per_service
                    .iter()
                    .map(|f| f.count.to_string().len())
                    .max()
                    .unwrap_or(1);
                for f in &stats.per_service {
                    writeln!(out, "  {:>width$}  {}", f.count, f.name)?;
                }
            }
            if !stats.per_year.is_empty() {
                writeln!(out, "\nper year")?;
                let width = stats
                    .per_year
                    .iter()
                    .map(|(_, c)| c.to_string().len())
                    .max()
                    .unwrap_or(1);
                for (year, count) in &stats.per_year {
                    writeln!(out, "  {year}  {count:>width$}")?;
                }
            }
        }
    }
    out.flush()?;
    Ok(ExitStatus::Success)
}
