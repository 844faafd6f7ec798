//! `morgue man`: the man pages, as roff: morgue(1) and one page per command (morgue-import(1),
//! ...), which morgue(1) refers to.

use std::io::Write as _;

use anyhow::{Context as _, anyhow};
use clap::CommandFactory as _;

use super::Ctx;
use crate::args::{Cli, ManArgs};
use crate::output;
use crate::report::ExitStatus;

pub fn run(args: &ManArgs, _ctx: &Ctx) -> anyhow::Result<ExitStatus> {
    let top = command();
    if let Some(dir) = &args.dir {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        for page in pages(&top) {
            let page = man(page);
            let path = dir.join(page.get_filename());
            page.generate_to(dir)
                .with_context(|| format!("writing {}", path.display()))?;
        }
        return Ok(ExitStatus::Success);
    }
    let page = match &args.command {
        None => top,
        Some(name) => top
            .find_subcommand(name)
            .filter(|sub| !sub.is_hide_set())
            .cloned()
            .ok_or_else(|| {
                anyhow!("morgue has no command {name:?} (`morgue --help` lists the commands)")
            })?,
    };
    let mut out = output::stdout();
    man(page).render(&mut out)?;
    out.flush()?;
    Ok(ExitStatus::Success)
}

/// morgue's command, built (which names each command's page `morgue-<command>`, as morgue(1)
/// refers to it), without clap's `help` command: it has no page of its own.
fn command() -> clap::Command {
    let mut top = Cli::command().disable_help_subcommand(true);
    top.build();
    top
}

/// The page of a command, its footer naming morgue and its version (clap_mangen would name the
/// command alone: "list ").
fn man(page: clap::Command) -> clap_mangen::Man {
    clap_mangen::Man::new(page).source(format!("morgue {}", env!("CARGO_PKG_VERSION")))
}

/// morgue's page, then one per command.
fn pages(top: &clap::Command) -> Vec<clap::Command> {
    std::iter::once(top.clone())
        .chain(
            top.get_subcommands()
                .filter(|sub| !sub.is_hide_set())
                .cloned(),
        )
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_command_has_a_page_named_as_morgue_1_refers_to_it() {
        let names: Vec<String> = pages(&command())
            .into_iter()
            .map(|page| clap_mangen::Man::new(page).get_filename())
            .collect();
        for name in [
            "morgue.1",
            "morgue-import.1",
            "morgue-list.1",
            "morgue-man.1",
        ] {
            assert!(
                names.iter().any(|n| n == name),
                "{name} missing from {names:?}"
            );
        }
        assert!(!names.iter().any(|n| n == "morgue-help.1"), "{names:?}");
    }

    #[test]
    fn a_command_page_names_morgue_and_its_version() {
        let list = command().find_subcommand("list").cloned().unwrap();
        let mut roff = Vec::new();
        man(list).render(&mut roff).unwrap();
        let roff = String::from_utf8(roff).unwrap();
        let version = format!("morgue {}", env!("CARGO_PKG_VERSION"));
        assert!(
            roff.lines()
                .any(|l| l.starts_with(".TH morgue-list 1") && l.contains(&version)),
            "{roff}"
        );
    }
}
