//! `morgue reporters` and `morgue services`: names with article counts, most first.

use std::io::Write as _;

use anyhow::Context as _;
use serde::Serialize;

use super::Ctx;
use crate::args::{FacetArgs, FacetFormat};
use crate::output;
use crate::report::ExitStatus;

/// Which facet to list.
#[derive(Debug, Clone, Copy)]
pub enum Facet {
    Reporters,
    Services,
}

/// A name and its count, as `--format json` prints it (and the API answers).
#[derive(Debug, Serialize)]
pub(super) struct Row<'a> {
    name: &'a str,
    count: u64,
}

/// The JSON rows of a facet, most first.
pub(super) fn rows(facets: &[morgue_meta::Facet]) -> Vec<Row<'_>> {
    facets
        .iter()
        .map(|f| Row {
            name: &f.name,
            count: f.count,
        })
        .collect()
}

pub fn run(facet: Facet, args: &FacetArgs, ctx: &Ctx) -> anyhow::Result<ExitStatus> {
    let facets = if let Some(server) = ctx.server() {
        server.facets(matches!(facet, Facet::Reporters))?
    } else {
        let archive = ctx.open_to_read()?;
        match facet {
            Facet::Reporters => archive.reporters().context("counting reporters")?,
            Facet::Services => archive.services().context("counting services")?,
        }
    };
    let mut out = output::stdout();
    match args.format {
        FacetFormat::Table => {
            let width = facets
                .iter()
                .map(|f| f.count.to_string().len())
                .max()
                .unwrap_or(1);
            for f in &facets {
                writeln!(out, "{:>width$}  {}", f.count, f.name)?;
            }
        }
        FacetFormat::Json => {
            let rows = rows(&facets);
            serde_json::to_writer_pretty(&mut out, &rows)?;
            writeln!(out)?;
        }
        FacetFormat::Csv => {
            let mut writer = csv::Writer::from_writer(&mut out);
            writer.write_record(["name", "count"])?;
            for f in &facets {
                writer.write_record([f.name.as_str(), &f.count.to_string()])?;
            }
            writer.flush()?;
        }
    }
    out.flush()?;
    Ok(ExitStatus::Success)
}
