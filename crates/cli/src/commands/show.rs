//! `morgue show ID`: metadata, a blank line, the body.

use std::io::Write as _;

use anyhow::{Context as _, anyhow};
use morgue_meta::{BlobId, Record};

use super::Ctx;
use crate::args::{ShowArgs, ShowFormat};
use crate::output::{self, ArticleJson};
use crate::report::ExitStatus;

pub fn run(args: &ShowArgs, ctx: &Ctx) -> anyhow::Result<ExitStatus> {
    let (id, record, body) = if let Some(server) = ctx.server() {
        let (id, record) = server.record(&args.id)?;
        let body = server.body(&id.to_string())?;
        (id, record, body)
    } else {
        let archive = ctx.open_to_read()?;
        let id = super::resolve(&archive, &args.id)?;
        let record = archive
            .record(&id)
            .with_context(|| format!("reading the record of {id}"))?
            .ok_or_else(|| anyhow!("article {id} has no record"))?;
        // Read (and verify) the body before printing anything: a corrupted article prints
        // nothing.
        let body = super::body(&archive, &id)?;
        (id, record, body)
    };
    let body = String::from_utf8(body).map_err(|_| anyhow!("the body of {id} is not UTF-8"))?;

    let mut out = output::stdout();
    match args.format {
        ShowFormat::Text => {
            for (name, value) in fields(&id, &record) {
                writeln!(out, "{}{value}", output::pad(&format!("{name}:"), 13))?;
            }
            writeln!(out)?;
            out.write_all(body.as_bytes())?;
            if !body.ends_with('\n') {
                writeln!(out)?;
            }
        }
        ShowFormat::Json => {
            serde_json::to_writer_pretty(
                &mut out,
                &ArticleJson::new(&id, &record).with_body(&body),
            )?;
            writeln!(out)?;
        }
    }
    out.flush()?;
    Ok(ExitStatus::Success)
}

/// The metadata lines of `show`: id and title always, other fields when known.
pub(super) fn fields(id: &BlobId, r: &Record) -> Vec<(&'static str, String)> {
    let mut lines = vec![("id", id.to_string()), ("title", r.title.clone())];
    let lists = [
        ("reporters", &r.reporters),
        ("translators", &r.translators),
        ("editors", &r.editors),
        ("writers", &r.writers),
        ("services", &r.services),
    ];
    lines.extend(
        lists
            .into_iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(n, v)| (n, v.join(", "))),
    );
    if let Some(date) = r.date {
        let origin = r
            .date_origin
            .map(|o| format!(" ({})", o.as_str()))
            .unwrap_or_default();
        lines.push(("date", format!("{date}{origin}")));
    }
    let texts = [
        ("outlet", &r.outlet),
        ("url", &r.url),
        ("image", &r.image),
        ("caption", &r.caption),
        ("source id", &r.source_id),
        ("origin", &r.origin),
    ];
    lines.extend(
        texts
            .into_iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(n, v)| (n, v.clone())),
    );
    if !r.tags.is_empty() {
        lines.push(("tags", r.tags.join(", ")));
    }
    if let Some(at) = r.imported_at.and_then(output::timestamp) {
        lines.push(("imported", at));
    }
    for (name, value) in &r.extra {
        lines.push(("extra", format!("{name} = {value}")));
    }
    if let Some(page) = &r.original {
        lines.push((
            "original",
            format!(
                "{} bytes, {} (morgue cat --original)",
                page.len, page.media_type
            ),
        ));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_skip_what_is_unknown() {
        let id = BlobId::of(b"x");
        let record = Record {
            title: "Harbor Strike Ends".into(),
            reporters: vec!["Mei Lan Fong".into()],
            ..Record::default()
        };
        let names: Vec<&str> = fields(&id, &record).into_iter().map(|(n, _)| n).collect();
        assert_eq!(names, ["id", "title", "reporters"]);
    }
}
