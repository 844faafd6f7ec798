//! `morgue export`: every article with its body, as JSON Lines that `import` reads back.

use std::fs::File;
use std::io::{BufWriter, Write};

use anyhow::{Context as _, anyhow};

use super::Ctx;
use crate::args::ExportArgs;
use crate::output::{self, ArticleJson};
use crate::report::ExitStatus;

pub fn run(args: &ExportArgs, ctx: &Ctx) -> anyhow::Result<ExitStatus> {
    let archive = ctx.open_existing()?;
    let n = match &args.output {
        None => {
            let mut out = output::stdout();
            let n = write_all(&archive, &mut out)?;
            out.flush()?;
            n
        }
        Some(path) => {
            // Write beside the target and rename, so that a failed export leaves no half file.
            let mut tmp_name = path.file_name().unwrap_or_default().to_owned();
            tmp_name.push(".partial");
            let tmp = path.with_file_name(tmp_name);
            let file = File::create(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
            let mut out = BufWriter::new(file);
            let n = write_all(&archive, &mut out)
                .and_then(|n| {
                    let file = out
                        .into_inner()
                        .map_err(std::io::IntoInnerError::into_error)?;
                    file.sync_all()?;
                    Ok(n)
                })
                .and_then(|n| {
                    std::fs::rename(&tmp, path)?;
                    Ok(n)
                });
            match n {
                Ok(n) => n,
                Err(err) => {
                    let _ = std::fs::remove_file(&tmp);
                    return Err(err.context(format!("writing {}", path.display())));
                }
            }
        }
    };
    if !ctx.quiet && args.output.is_some() {
        eprintln!("exported {n} articles");
    }
    Ok(ExitStatus::Success)
}

fn write_all(archive: &morgue_meta::Archive, out: &mut impl Write) -> anyhow::Result<u64> {
    let mut n = 0;
    for item in archive.iter() {
        let (id, record) = item.context("reading the archive")?;
        let body = super::body(archive, &id)?;
        let body = String::from_utf8(body).map_err(|_| anyhow!("the body of {id} is not UTF-8"))?;
        serde_json::to_writer(&mut *out, &ArticleJson::new(&id, &record).with_body(&body))?;
        out.write_all(b"\n")?;
        n += 1;
    }
    Ok(n)
}
