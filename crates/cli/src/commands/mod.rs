//! One module per subcommand, each with `run(args, &Ctx) -> anyhow::Result<ExitStatus>`.

mod cat;
mod completions;
mod export;
mod facets;
mod import;
mod list;
mod man;
mod optimize;
mod reindex;
mod remote;
mod rm;
mod search;
mod serve;
mod show;
mod stats;
mod verify;
mod web;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context as _, anyhow};
use morgue_meta::{Archive, BlobId, OpenOptions};

use crate::args::{Command, GlobalArgs};
use crate::report::ExitStatus;

/// What every command needs besides its own arguments.
#[derive(Debug)]
pub struct Ctx {
    /// The archive directory, when one is known.
    archive: Option<PathBuf>,
    /// `-q`: print only errors.
    pub quiet: bool,
    /// `-v`: print more.
    pub verbose: bool,
    /// `--wait`: how long to wait for another process to release the archive.
    wait: Option<Duration>,
    /// Whether stderr may carry color.
    color: bool,
}

impl Ctx {
    /// Builds the context from the global options.
    pub fn new(global: &GlobalArgs) -> Ctx {
        // An empty MORGUE_ARCHIVE counts as unset, as an empty NO_COLOR does.
        let from_env = std::env::var_os("MORGUE_ARCHIVE")
            .filter(|dir| !dir.is_empty())
            .map(PathBuf::from);
        let archive = global.archive.clone().or(from_env).or_else(|| {
            directories::ProjectDirs::from("", "", "morgue").map(|dirs| dirs.data_dir().to_owned())
        });
        Ctx {
            archive,
            quiet: global.quiet,
            verbose: global.verbose,
            wait: global.wait,
            color: crate::report::stderr_color(),
        }
    }

    /// The archive directory.
    pub fn archive_dir(&self) -> anyhow::Result<&Path> {
        self.archive.as_deref().ok_or_else(|| {
            anyhow!(
                "cannot find a default archive directory: pass --archive DIR or set MORGUE_ARCHIVE"
            )
        })
    }

    fn open_with(&self, create: bool) -> anyhow::Result<Archive> {
        let dir = self.archive_dir()?;
        // Read commands wait a little for another command to finish by default; `import`
        // (which creates) fails at once unless told to wait.
        let wait = self.wait.or((!create).then_some(DEFAULT_WAIT));
        let options = OpenOptions {
            create,
            wait,
            ..OpenOptions::default()
        };
        let mut bar: Option<indicatif::ProgressBar> = None;
        let opened = Archive::open_with_progress(dir, &options, &mut |done, total| {
            if total > 0 {
                let bar = bar.get_or_insert_with(|| self.text_build_bar(total));
                bar.set_length(total.max(done));
                bar.set_position(done);
            }
        });
        if let Some(bar) = bar {
            bar.finish_and_clear();
        }
        let archive = opened.map_err(|err| match err {
            morgue_meta::Error::Store(morgue_store::Error::Locked { path }) => {
                anyhow!(locked_message(&path, wait))
            }
            err => err.into(),
        })?;
        if let Some(from) = archive.upgraded_from()
            && !self.quiet
        {
            eprintln!(
                "upgraded the archive at {} from format {from} to format {}",
                dir.display(),
                morgue_store::FORMAT_VERSION
            );
        }
        Ok(archive)
    }

    /// The `morgue serve` holding the archive, when one runs (see docs/serve.md): commands
    /// then send it their requests instead of opening the archive.
    pub fn server(&self) -> Option<remote::Server> {
        remote::Server::find(self.archive.as_deref()?)
    }

    /// Fails, naming the server, when a `morgue serve` holds the archive: for the commands that
    /// need the archive to themselves.
    pub fn no_server(&self, command: &str) -> anyhow::Result<()> {
        match (self.server(), self.archive.as_deref()) {
            (Some(server), Some(dir)) => Err(server.busy(dir, command)),
            _ => Ok(()),
        }
    }

    /// A progress bar on stderr, ticking by itself, when stderr is a terminal and not `-q`;
    /// hidden otherwise. `shape` gives its length (`None`: unknown) and its indicatif template,
    /// and is called only for a bar that shows (a length may cost a look at the archive).
    pub(crate) fn progress_bar(
        &self,
        shape: impl FnOnce() -> (Option<u64>, &'static str),
    ) -> indicatif::ProgressBar {
        use std::io::IsTerminal as _;
        if self.quiet || !std::io::stderr().is_terminal() {
            return indicatif::ProgressBar::hidden();
        }
        let (total, template) = shape();
        let style = indicatif::ProgressStyle::with_template(template)
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> ");
        let bar = indicatif::ProgressBar::with_draw_target(
            total,
            indicatif::ProgressDrawTarget::stderr(),
        )
        .with_style(style);
        bar.enable_steady_tick(Duration::from_millis(120));
        bar
    }

    /// The progress bar of a first build of the text index.
    fn text_build_bar(&self, total: u64) -> indicatif::ProgressBar {
        self.progress_bar(|| {
            (
                Some(total),
                "building the text index {elapsed_precise} [{wide_bar}] {human_pos}/{human_len} articles, ETA {eta}",
            )
        })
    }

    /// Opens the archive, creating it when missing (for `import`).
    pub fn open(&self) -> anyhow::Result<Archive> {
        self.open_with(true)
    }

    /// Opens an existing archive; fails with "no archive at DIR" when there is none.
    pub fn open_existing(&self) -> anyhow::Result<Archive> {
        self.open_with(false)
    }

    /// Opens an existing archive for a command that only reads it (`list`, `search`, `show`,
    /// `cat`, `reporters`, `services`, `stats`, `export`): see [`Reading`].
    pub fn open_to_read(&self) -> anyhow::Result<Reading> {
        self.open_existing().map(Reading::new)
    }

    /// Opens an existing archive to change it (`rm`, `reindex`, `optimize`): fails, changing
    /// nothing, when the archive can only be read.
    pub fn open_to_change(&self) -> anyhow::Result<Archive> {
        let archive = self.open_existing()?;
        if archive.read_only() {
            anyhow::bail!(
                "archive {} is read-only (a read-only mount or directory): it can be read, not changed",
                archive.path().display()
            );
        }
        Ok(archive)
    }

    /// `label` in bold red when stderr takes color.
    pub fn paint_error(&self, label: &str) -> String {
        self.paint(label, "1;31")
    }

    /// `label` in bold yellow when stderr takes color.
    pub fn paint_warning(&self, label: &str) -> String {
        self.paint(label, "1;33")
    }

    fn paint(&self, label: &str, sgr: &str) -> String {
        if self.color {
            format!("\x1b[{sgr}m{label}\x1b[0m")
        } else {
            label.to_owned()
        }
    }
}

/// Before `import` creates an archive: fails, creating nothing, when none of `paths` exists
/// (standard input, `-`, always counts as there). Each missing path is reported.
pub fn check_inputs(paths: &[PathBuf], ctx: &Ctx) -> anyhow::Result<()> {
    let mut missing = Vec::new();
    for path in paths {
        if path.as_os_str() == "-" {
            return Ok(());
        }
        match std::fs::metadata(path) {
            Ok(_) => return Ok(()),
            Err(err) => missing.push(format!("{}: {err}", path.display())),
        }
    }
    for line in &missing {
        eprintln!("{}: {line}", ctx.paint_error("error"));
    }
    Err(anyhow!(
        "nothing to import, so no archive was created at {}",
        ctx.archive_dir()?.display()
    ))
}

/// How long a read command waits for another process to release the archive, unless `--wait`
/// says otherwise.
pub const DEFAULT_WAIT: Duration = Duration::from_secs(5);

/// The "in use" error: which archive, who holds it (as its lock file says), how long we waited.
fn locked_message(path: &Path, wait: Option<Duration>) -> String {
    let mut message = format!(
        "archive {} is in use by another morgue process",
        path.display()
    );
    if let Some(holder) = morgue_store::lock_holder(path) {
        let (pid, command) = holder.split_once(' ').unwrap_or((&holder, ""));
        let _ = write!(message, " (process {pid}");
        if !command.is_empty() {
            let _ = write!(message, ": {command}");
        }
        message.push(')');
    }
    if let Some((url, _)) = serve::server_address(path) {
        let _ = write!(message, " (`morgue serve` holds it: its API is at {url})");
    }
    match wait {
        Some(wait) if !wait.is_zero() => {
            let _ = write!(message, ": gave up after waiting {}", seconds(wait));
        }
        _ => message.push_str(": use --wait SECONDS to wait for it"),
    }
    message
}

/// A duration for people: `1 second`, `2.5 seconds`.
fn seconds(duration: Duration) -> String {
    if duration == Duration::from_secs(1) {
        "1 second".to_owned()
    } else {
        format!("{} seconds", duration.as_secs_f64())
    }
}

/// `count` and the noun, singular or plural: `1 body`, `2 bodies`.
pub fn plural(count: u64, singular: &str, plural: &str) -> String {
    format!("{count} {}", if count == 1 { singular } else { plural })
}

/// Ends a command that wrote: flushes, and has the storage engine write its snapshot now
/// ([`Archive::close`]): sled 0.34 writes one only when it opens, replaying its whole log since
/// the last one, so without this the next command (a `list` after an import) would pay for it.
pub fn close(archive: Archive) -> anyhow::Result<()> {
    archive.close().context("writing the archive to disk")
}

/// An archive opened by a command that only reads it ([`Ctx::open_to_read`]); it derefs to the
/// [`Archive`].
///
/// Dropped, it is not closed: the command is over and its process about to exit, so sled is left
/// as a kill would leave it, which it is made to survive (docs/reliability.md). Nothing a read
/// wrote needs keeping: sled's open zero-fills its free segments (again at the next open) and
/// its cleaner may have rewritten pages still held where they were. Closing would fsync those
/// writes and free sled's page cache piece by piece: about 3 ms of a 50 ms `list` at 10,000,000
/// articles (docs/performance.md). The lock goes with the process (a file lock). An archive
/// read from a private copy of its sled files (a read-only mount: the copy is deleted on drop)
/// or upgraded to this format by the open is dropped as usual.
pub struct Reading(Option<Archive>);

impl Reading {
    fn new(archive: Archive) -> Reading {
        Reading(Some(archive))
    }
}

/// Whether a [`Reading`] of `archive` closes it when dropped.
fn closes_after_reading(archive: &Archive) -> bool {
    archive.read_only() || archive.upgraded_from().is_some()
}

impl std::ops::Deref for Reading {
    type Target = Archive;

    fn deref(&self) -> &Archive {
        // `None` only inside `drop`.
        self.0
            .as_ref()
            .expect("a Reading holds its archive until dropped")
    }
}

impl Drop for Reading {
    fn drop(&mut self) {
        if let Some(archive) = self.0.take() {
            if closes_after_reading(&archive) {
                drop(archive);
            } else {
                std::mem::forget(archive);
            }
        }
    }
}

/// Runs one command.
pub fn run(command: Command, ctx: &Ctx) -> anyhow::Result<ExitStatus> {
    match command {
        Command::Import(args) => import::run(&args, ctx),
        Command::List(args) => list::run(&args, ctx),
        Command::Search(args) => search::run(&args, ctx),
        Command::Show(args) => show::run(&args, ctx),
        Command::Cat(args) => cat::run(&args, ctx),
        Command::Reporters(args) => facets::run(facets::Facet::Reporters, &args, ctx),
        Command::Services(args) => facets::run(facets::Facet::Services, &args, ctx),
        Command::Stats(args) => stats::run(&args, ctx),
        Command::Verify => verify::run(ctx),
        Command::Reindex => reindex::run(ctx),
        Command::Optimize(args) => optimize::run(&args, ctx),
        Command::Rm(args) => rm::run(&args, ctx),
        Command::Export(args) => export::run(&args, ctx),
        Command::Serve(args) => serve::run(&args, ctx),
        Command::Completions(args) => completions::run(&args, ctx),
        Command::Man(args) => man::run(&args, ctx),
    }
}

/// The article named by an id or unique prefix. An ambiguous prefix fails with every candidate
/// and its title.
pub fn resolve(archive: &Archive, prefix: &str) -> anyhow::Result<BlobId> {
    use morgue_meta::Error as Meta;
    use morgue_store::Error as Store;
    match archive.resolve(prefix) {
        Ok(id) => Ok(id),
        Err(Meta::Store(Store::Ambiguous {
            prefix, candidates, ..
        })) => {
            let mut message = format!("id prefix {prefix} is ambiguous; it matches:");
            for id in candidates {
                let title = match archive.record(&id) {
                    Ok(Some(record)) => record.title,
                    Ok(None) | Err(_) => String::new(),
                };
                let _ = write!(message, "\n  {id}  {title}");
            }
            Err(anyhow!(message))
        }
        Err(Meta::Store(Store::NotFound { prefix, .. })) => {
            Err(anyhow!("no article matches {prefix}"))
        }
        Err(err) => Err(err.into()),
    }
}

/// The body of an article, which must exist.
pub fn body(archive: &Archive, id: &BlobId) -> anyhow::Result<Vec<u8>> {
    archive
        .body(id)
        .with_context(|| format!("reading the body of {id}"))?
        .ok_or_else(|| anyhow!("article {id} has no body"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_are_said_in_seconds() {
        assert_eq!(seconds(Duration::from_secs(1)), "1 second");
        assert_eq!(seconds(Duration::from_secs(2)), "2 seconds");
        assert_eq!(seconds(Duration::from_millis(500)), "0.5 seconds");
    }

    #[test]
    fn plurals_agree_with_the_count() {
        assert_eq!(plural(1, "body", "bodies"), "1 body");
        assert_eq!(plural(0, "body", "bodies"), "0 bodies");
        assert_eq!(plural(2, "article", "articles"), "2 articles");
    }
}
