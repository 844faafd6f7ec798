//! RFA plain text and plain text: headline, optional image line, body, byline, optional footer.

use morgue_model::{ArticleDate, DateOrigin, Draft};

use crate::byline::read_byline;
use crate::dates::date_from_image_name;
use crate::text::{normalize_newlines, trim_blank_lines};
use crate::{IngestError, Parsed};

/// Image file extensions an RFA image line may name.
const IMAGE_EXTENSIONS: &[&str] = &["jpg", "jpeg", "png", "gif"];

/// Which reading of a text file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TextKind {
    /// Decide by content.
    Auto,
    /// RFA plain text: image line and site footer recognised.
    Rfa,
    /// Plain text: headline and body only.
    Plain,
}

/// Parses a decoded text article.
pub(crate) fn parse_text(text: &str, kind: TextKind) -> Result<Parsed, IngestError> {
    let text = normalize_newlines(text);
    let mut lines = text.split('\n');
    let mut title = "";
    for line in lines.by_ref() {
        if !line.trim().is_empty() {
            title = line.trim();
            break;
        }
    }
    let rest: Vec<&str> = lines.collect();
    let rfa = match kind {
        TextKind::Rfa => true,
        TextKind::Plain => false,
        TextKind::Auto => looks_like_rfa(&rest),
    };
    let mut draft = Draft::default();
    draft.record.title = title.to_string();
    let mut body_lines: &[&str] = &rest;
    if rfa {
        let first = body_lines.iter().position(|l| !l.trim().is_empty());
        if let Some(at) = first
            && let Some((image, caption)) = image_line(body_lines[at])
        {
            draft.record.image = image.to_string();
            draft.record.caption = caption.to_string();
            body_lines = &body_lines[at + 1..];
        }
        if let Some(at) = body_lines.iter().position(|l| footer_start(l)) {
            if names_rfa(&body_lines[at..].join("\n")) {
                draft.record.outlet = "RFA".to_string();
            }
            body_lines = &body_lines[..at];
        }
    }
    let body = trim_blank_lines(&body_lines.join("\n")).to_string();
    if body.is_empty() {
        return Err(IngestError::EmptyBody);
    }
    let byline = read_byline(&body);
    let record = &mut draft.record;
    record.reporters = byline.reporters;
    record.translators = byline.translators;
    record.editors = byline.editors;
    record.writers = byline.writers;
    record.services = byline.services;
    if byline.names_rfa {
        record.outlet = "RFA".to_string();
    }
    if let Some(day) = date_from_image_name(&record.image) {
        record.date = Some(ArticleDate::from_day(day));
        record.date_origin = Some(DateOrigin::Inferred);
    }
    draft.body = body;
    Ok(Parsed {
        draft,
        warnings: Vec::new(),
    })
}

/// RFA marks: an image line right after the headline, or a site footer.
fn looks_like_rfa(rest: &[&str]) -> bool {
    let image = rest
        .iter()
        .find(|l| !l.trim().is_empty())
        .is_some_and(|l| image_line(l).is_some());
    image || rest.iter().any(|l| footer_start(l))
}

/// `name.jpg Caption.` -> (name.jpg, Caption.). The file name is one word with an image extension.
fn image_line(line: &str) -> Option<(&str, &str)> {
    let line = line.trim();
    let (name, caption) = match line.split_once(char::is_whitespace) {
        Some((name, caption)) => (name, caption.trim()),
        None => (line, ""),
    };
    let (stem, ext) = name.rsplit_once('.')?;
    let ext = ext.to_ascii_lowercase();
    if stem.is_empty()
        || !IMAGE_EXTENSIONS.contains(&ext.as_str())
        || name.contains(['/', '\\', ':'])
    {
        return None;
    }
    Some((name, caption))
}

/// The first line of a site footer: the comment-form notice, or RFA's copyright line.
fn footer_start(line: &str) -> bool {
    let line = line.trim();
    if line.starts_with("Add your comment by filling out the form below") {
        return true;
    }
    let lower = line.to_lowercase();
    lower.starts_with("copyright")
        && (lower.contains("used with the permission of radio free asia")
            || lower.contains("rfa. used with"))
}

fn names_rfa(text: &str) -> bool {
    text.contains("RFA") || text.contains("Radio Free Asia")
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    const STORY: &str = "Harbor Workers Strike Over Pay\n\
        \n\
        harbor-strike-031519.jpg Dock workers gather at the gate.\n\
        \n\
        Dock workers walked off the job on Friday, a union leader said.\n\
        \n\
        Talks stall\n\
        \n\
        Negotiations ended without a deal, a worker told RFA's Lao Service.\n\
        \n\
        Reported by Ann Lee for RFA's Lao Service. Translated and edited by Bo Chan.\n\
        \n\
        \n\
        Add your comment by filling out the form below in plain text. RFA moderates comments.";

    const BODY: &str = "Dock workers walked off the job on Friday, a union leader said.\n\
        \n\
        Talks stall\n\
        \n\
        Negotiations ended without a deal, a worker told RFA's Lao Service.\n\
        \n\
        Reported by Ann Lee for RFA's Lao Service. Translated and edited by Bo Chan.";

    fn parse(text: &str) -> Draft {
        parse_text(text, TextKind::Auto).unwrap().draft
    }

    #[test]
    fn full_rfa_article() {
        let d = parse(STORY);
        let r = &d.record;
        assert_eq!(r.title, "Harbor Workers Strike Over Pay");
        assert_eq!(r.image, "harbor-strike-031519.jpg");
        assert_eq!(r.caption, "Dock workers gather at the gate.");
        assert_eq!(d.body, BODY);
        assert_eq!(r.reporters, ["Ann Lee"]);
        assert_eq!(r.services, ["Lao"]);
        assert_eq!(r.translators, ["Bo Chan"]);
        assert_eq!(r.editors, ["Bo Chan"]);
        assert!(r.writers.is_empty());
        assert_eq!(r.outlet, "RFA");
        assert_eq!(
            r.date,
            Some(ArticleDate::from_day(
                NaiveDate::from_ymd_opt(2019, 3, 15).unwrap()
            ))
        );
        assert_eq!(r.date_origin, Some(DateOrigin::Inferred));
    }

    #[test]
    fn crlf_and_bom_free_text_parse_the_same() {
        let crlf = STORY.replace('\n', "\r\n");
        assert_eq!(parse(&crlf), parse(STORY));
    }

    #[test]
    fn copyright_footer() {
        let text = "Title\n\nBody line.\n\nCopyright © 2019, RFA. Used with the permission of Radio Free Asia, 2025 M St. NW.";
        let d = parse(text);
        assert_eq!(d.body, "Body line.");
        assert_eq!(d.record.outlet, "RFA");
        assert!(d.record.reporters.is_empty());
    }

    #[test]
    fn no_image_no_byline_no_footer() {
        let d = parse("Title only line\n\nFirst paragraph.\n\nSecond paragraph.\n");
        assert_eq!(d.record.title, "Title only line");
        assert_eq!(d.body, "First paragraph.\n\nSecond paragraph.");
        assert_eq!(d.record.image, "");
        assert_eq!(d.record.outlet, "");
        assert_eq!(d.record.date, None);
        assert_eq!(d.record.date_origin, None);
    }

    #[test]
    fn image_without_date_and_without_caption() {
        let d = parse("T\n\nportrait.png\n\nText.");
        assert_eq!(d.record.image, "portrait.png");
        assert_eq!(d.record.caption, "");
        assert_eq!(d.record.date, None);
        assert_eq!(d.body, "Text.");
    }

    #[test]
    fn plain_text_reads_closing_byline() {
        let d = parse(
            "\n\nCity Council Votes\n\nThe council voted on Monday.\n\nReported by Jane Doe.",
        );
        assert_eq!(d.record.title, "City Council Votes");
        assert_eq!(
            d.body,
            "The council voted on Monday.\n\nReported by Jane Doe."
        );
        assert_eq!(d.record.reporters, ["Jane Doe"]);
        assert_eq!(d.record.outlet, "");
        assert!(d.record.services.is_empty());
    }

    #[test]
    fn forced_plain_keeps_image_line_in_body() {
        let d = parse_text("T\n\nx-010203.jpg Cap.\n\nText.", TextKind::Plain)
            .unwrap()
            .draft;
        assert_eq!(d.record.image, "");
        assert_eq!(d.body, "x-010203.jpg Cap.\n\nText.");
        assert_eq!(d.record.date, None);
    }

    #[test]
    fn forced_rfa_reads_image() {
        let d = parse_text("T\n\nx-010203.jpg Cap.\n\nText.", TextKind::Rfa)
            .unwrap()
            .draft;
        assert_eq!(d.record.image, "x-010203.jpg");
        assert_eq!(
            d.record.date.map(|d| d.day),
            NaiveDate::from_ymd_opt(2003, 1, 2)
        );
    }

    #[test]
    fn empty_bodies_are_errors() {
        for text in [
            "",
            "  \n \n",
            "Headline only\n\n",
            "T\n\nimg-010203.jpg Cap.\n\nAdd your comment by filling out the form below.",
        ] {
            assert!(
                matches!(
                    parse_text(text, TextKind::Auto),
                    Err(IngestError::EmptyBody)
                ),
                "{text:?}"
            );
        }
    }
}
