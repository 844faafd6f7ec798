//! `morgue export`: every article with its body, as JSON Lines that `import` reads back.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use anyhow::{Context as _, anyhow};

use super::Ctx;
use crate::args::ExportArgs;
use crate::output::{self, ArticleJson};
use crate::report::ExitStatus;

/// What an export wrote and what it could not.
#[derive(Debug, Default)]
struct Outcome {
    /// Articles written.
    exported: u64,
    /// Articles left out because their body cannot be read back: the id and why.
    damaged: Vec<(morgue_meta::BlobId, anyhow::Error)>,
}

pub fn run(args: &ExportArgs, ctx: &Ctx) -> anyhow::Result<ExitStatus> {
    let archive = ctx.open_existing()?;
    let outcome = match args.output.as_deref() {
        // `-o -` is standard output, as everywhere.
        None => to_stdout(&archive)?,
        Some(path) if path.as_os_str() == "-" => to_stdout(&archive)?,
        Some(path) => to_file(&archive, path)?,
    };
    for (id, err) in &outcome.damaged {
        let mut message = format!("article {id} left out");
        for line in crate::report::error_lines(err) {
            message.push_str(": ");
            message.push_str(&line);
        }
        eprintln!("{}: {message}", ctx.paint_error("error"));
    }
    let to_file = args.output.as_ref().is_some_and(|p| p.as_os_str() != "-");
    if !ctx.quiet && (to_file || !outcome.damaged.is_empty()) {
        let exported = super::plural(outcome.exported, "article", "articles");
        match outcome.damaged.len() {
            0 => eprintln!("exported {exported}"),
            n => eprintln!(
                "exported {exported}; {} left out (`morgue verify` lists every problem)",
                super::plural(n as u64, "damaged article", "damaged articles")
            ),
        }
    }
    Ok(if outcome.damaged.is_empty() {
        ExitStatus::Success
    } else {
        ExitStatus::Failure
    })
}

fn to_stdout(archive: &morgue_meta::Archive) -> anyhow::Result<Outcome> {
    let mut out = output::stdout();
    let outcome = write_all(archive, &mut out, "standard output")?;
    out.flush().context("writing standard output")?;
    Ok(outcome)
}

/// Writes beside the target and renames, so that a failed export leaves no half file.
fn to_file(archive: &morgue_meta::Archive, path: &Path) -> anyhow::Result<Outcome> {
    let mut tmp_name = path.file_name().unwrap_or_default().to_owned();
    tmp_name.push(".partial");
    let tmp = path.with_file_name(tmp_name);
    let file = File::create(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
    let mut out = BufWriter::new(file);
    // Reading the archive and writing the file fail with messages of their own: only the
    // second is about writing.
    let dest = path.display().to_string();
    let outcome = write_all(archive, &mut out, &dest).and_then(|outcome| {
        out.into_inner()
            .map_err(std::io::IntoInnerError::into_error)
            .and_then(|file| file.sync_all())
            .and_then(|()| std::fs::rename(&tmp, path))
            .with_context(|| format!("writing {dest}"))?;
        Ok(outcome)
    });
    if outcome.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    outcome
}

/// Writes every article whose body reads back; an article whose body does not is left out and
/// named in the outcome, and the export goes on.
fn write_all(
    archive: &morgue_meta::Archive,
    out: &mut impl Write,
    dest: &str,
) -> anyhow::Result<Outcome> {
    let mut outcome = Outcome::default();
    for item in archive.iter() {
        let (id, record) = item.context("reading the archive")?;
        let body = match super::body(archive, &id).and_then(|body| {
            String::from_utf8(body).map_err(|_| anyhow!("the body of {id} is not UTF-8"))
        }) {
            Ok(body) => body,
            Err(err) => {
                outcome.damaged.push((id, err));
                continue;
            }
        };
        serde_json::to_writer(&mut *out, &ArticleJson::new(&id, &record).with_body(&body))
            .map_err(anyhow::Error::from)
            .and_then(|()| Ok(out.write_all(b"\n")?))
            .with_context(|| format!("writing {dest}"))?;
        outcome.exported += 1;
    }
    Ok(outcome)
}
