//! The byline reader: "Reported by X for RFA's Y Service. Translated and edited by Z." in the
//! closing paragraphs of a plain-text article.

use crate::names::split_names;

/// How many closing paragraphs may hold the byline.
const BYLINE_PARAGRAPHS: usize = 3;

/// Words that open a byline sentence (lowercase).
const ROLE_STARTS: &[&str] = &[
    "reported",
    "translated",
    "edited",
    "written",
    "additional reporting",
];

/// What a byline names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Byline {
    /// "Reported by".
    pub reporters: Vec<String>,
    /// "Translated by".
    pub translators: Vec<String>,
    /// "Edited by".
    pub editors: Vec<String>,
    /// "Written (in English) by".
    pub writers: Vec<String>,
    /// "for RFA's Mandarin Service" -> "Mandarin".
    pub services: Vec<String>,
    /// The byline names RFA ("RFA's ... Service", "for RFA").
    pub names_rfa: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Reporter,
    Translator,
    Editor,
    Writer,
}

/// Reads the byline from the last paragraphs of a body (LF line endings). Only paragraphs made
/// entirely of byline sentences count, so a story sentence such as "…told RFA's Uyghur
/// Service." is never taken for one.
pub(crate) fn read_byline(body: &str) -> Byline {
    let paragraphs = paragraphs(body);
    let start = paragraphs.len().saturating_sub(BYLINE_PARAGRAPHS);
    let mut byline = Byline::default();
    for paragraph in &paragraphs[start..] {
        if let Some(found) = parse_paragraph(paragraph) {
            merge(&mut byline, found);
        }
    }
    byline
}

/// Paragraphs: runs of non-blank lines, each joined with single spaces.
fn paragraphs(body: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current: Vec<&str> = Vec::new();
    for line in body.lines() {
        if line.trim().is_empty() {
            if !current.is_empty() {
                out.push(current.join(" "));
                current.clear();
            }
        } else {
            current.push(line.trim());
        }
    }
    if !current.is_empty() {
        out.push(current.join(" "));
    }
    out
}

fn merge(into: &mut Byline, from: Byline) {
    for (target, source) in [
        (&mut into.reporters, from.reporters),
        (&mut into.translators, from.translators),
        (&mut into.editors, from.editors),
        (&mut into.writers, from.writers),
        (&mut into.services, from.services),
    ] {
        for item in source {
            if !target.contains(&item) {
                target.push(item);
            }
        }
    }
    into.names_rfa |= from.names_rfa;
}

/// A paragraph that is a byline, or `None`.
fn parse_paragraph(paragraph: &str) -> Option<Byline> {
    let mut byline = Byline::default();
    for sentence in sentences(paragraph) {
        merge(&mut byline, parse_sentence(sentence)?);
    }
    Some(byline)
}

/// Splits a paragraph at ". " where the next sentence opens with a role word, so that initials
/// ("John Q. Public") do not split a name.
fn sentences(paragraph: &str) -> Vec<&str> {
    let lower = paragraph.to_ascii_lowercase();
    let mut out = Vec::new();
    let mut start = 0;
    for (at, _) in lower.match_indices(". ") {
        let next = lower[at + 2..].trim_start();
        if ROLE_STARTS.iter().any(|role| next.starts_with(role)) {
            out.push(&paragraph[start..=at]);
            start = at + 2;
        }
    }
    out.push(&paragraph[start..]);
    out
}

/// One byline sentence: "<roles> by <people>[, and by <people>][ and <roles> by <people>]…",
/// e.g. "Reported by A for RFA's Cantonese Service, and by B for the Mandarin Service" or
/// "Translated by A and edited by B".
fn parse_sentence(sentence: &str) -> Option<Byline> {
    let sentence = sentence.trim().trim_end_matches('.');
    let lower = sentence.to_ascii_lowercase();
    // Pieces between the word "by": the first holds roles, each other holds people and, unless
    // it is the last, a connector with the roles of the next piece.
    let mut cuts = vec![0];
    for (at, _) in lower.match_indices(" by ") {
        cuts.push(at);
        cuts.push(at + 4);
    }
    cuts.push(sentence.len());
    if cuts.len() < 4 {
        return None;
    }
    let pieces: Vec<&str> = cuts
        .chunks(2)
        .map(|pair| &sentence[pair[0]..pair[1]])
        .collect();
    let mut roles = parse_roles(&pieces[0].to_ascii_lowercase())?;
    let mut byline = Byline::default();
    for (index, piece) in pieces.iter().enumerate().skip(1) {
        let (people, next_roles) = if index + 1 == pieces.len() {
            (trim_connector(piece), None)
        } else {
            split_connector(piece)?
        };
        let (names, service, rfa) = parse_clause(people)?;
        if let Some(service) = service
            && !byline.services.contains(&service)
        {
            byline.services.push(service);
        }
        byline.names_rfa |= rfa;
        for role in &roles {
            let target = match role {
                Role::Reporter => &mut byline.reporters,
                Role::Translator => &mut byline.translators,
                Role::Editor => &mut byline.editors,
                Role::Writer => &mut byline.writers,
            };
            for name in &names {
                if !target.contains(name) {
                    target.push(name.clone());
                }
            }
        }
        if let Some(next) = next_roles {
            roles = next;
        }
    }
    Some(byline)
}

/// "translated and written in english" -> [Translator, Writer]; `None` on any unknown word.
fn parse_roles(text: &str) -> Option<Vec<Role>> {
    let mut roles = Vec::new();
    for part in text.split(" and ").flat_map(|p| p.split(',')) {
        let role = match part.trim() {
            "reported" | "reporting" | "additional reporting" => Role::Reporter,
            "translated" => Role::Translator,
            "edited" => Role::Editor,
            "written" | "written in english" => Role::Writer,
            _ => return None,
        };
        roles.push(role);
    }
    (!roles.is_empty()).then_some(roles)
}

/// Splits "A for RFA's Lao Service, and" or "A and edited" (a piece followed by another "by")
/// into the people and, when named, the roles of the next piece (`None`: the same roles go on).
fn split_connector(piece: &str) -> Option<(&str, Option<Vec<Role>>)> {
    let lower = piece.to_ascii_lowercase();
    let bytes = lower.as_bytes();
    // Connector positions (byte offset, length), rightmost first: ",", ";" and the word "and".
    let mut candidates: Vec<(usize, usize)> = Vec::new();
    for (at, &b) in bytes.iter().enumerate() {
        if b == b',' || b == b';' {
            candidates.push((at, 1));
        } else if bytes[at..].starts_with(b" and") && bytes.get(at + 4).is_none_or(|&c| c == b' ') {
            candidates.push((at, 4));
        }
    }
    for &(at, len) in candidates.iter().rev() {
        let tail = lower[at + len..].trim();
        let head = trim_connector(&piece[..at]);
        if tail.is_empty() {
            return Some((head, None));
        }
        if let Some(roles) = parse_roles(tail) {
            return Some((head, Some(roles)));
        }
    }
    None
}

/// Removes trailing ",", ";" and "and" from a piece.
fn trim_connector(piece: &str) -> &str {
    let mut piece = piece.trim();
    loop {
        let before = piece;
        piece = piece.trim_end_matches([',', ';']).trim_end();
        let bytes = piece.as_bytes();
        if bytes.len() >= 4 && bytes[bytes.len() - 4..].eq_ignore_ascii_case(b" and") {
            // The four bytes are ASCII, so this is a character boundary.
            piece = &piece[..piece.len() - 4];
        }
        if piece == before {
            return piece;
        }
    }
}

/// People, service and whether RFA is named, in one clause: "X for RFA's Y Service", "RFA's Y
/// Service", "X and Z", "X for the Y Service".
fn parse_clause(clause: &str) -> Option<(Vec<String>, Option<String>, bool)> {
    let clause = clause.trim().trim_end_matches('.');
    if let Some((service, rfa)) = parse_service(clause) {
        return Some((Vec::new(), Some(service), rfa));
    }
    let (names_text, service, rfa) = match clause.find(" for ") {
        Some(at) => {
            let org = clause[at + 5..].trim();
            let (service, rfa) = match parse_service(org) {
                Some((service, rfa)) => (Some(service), rfa),
                None => (None, names_rfa(org)),
            };
            (&clause[..at], service, rfa)
        }
        None => (clause, None, false),
    };
    let names = split_names(names_text);
    if names.is_empty() || !names.iter().all(|n| looks_like_name(n)) {
        return None;
    }
    Some((names, service, rfa))
}

/// "RFA's Mandarin Service" -> ("Mandarin", true); "the Mandarin Service" -> ("Mandarin", false).
fn parse_service(text: &str) -> Option<(String, bool)> {
    let lower = text.to_ascii_lowercase();
    let stem = lower.strip_suffix(" service")?;
    let prefixes = [
        ("rfa's ", true),
        ("rfa’s ", true),
        ("radio free asia's ", true),
        ("radio free asia’s ", true),
        ("the ", false),
    ];
    let (prefix, rfa) = prefixes
        .iter()
        .find(|(prefix, _)| stem.starts_with(prefix))?;
    let (skip, rfa) = (prefix.len(), *rfa);
    let name = text[skip..stem.len()].trim();
    if name.is_empty() || name.split_whitespace().count() > 3 || !looks_like_name(name) {
        return None;
    }
    Some((name.to_string(), rfa))
}

/// Whether an affiliation is RFA itself.
fn names_rfa(org: &str) -> bool {
    let lower = org.to_ascii_lowercase();
    lower == "rfa"
        || lower == "radio free asia"
        || lower.starts_with("rfa's")
        || lower.starts_with("rfa’s")
}

/// A plausible person or service name: starts with a capital (or an uncased letter), at most six
/// words, no digits or sentence punctuation.
fn looks_like_name(name: &str) -> bool {
    let Some(first) = name.chars().next() else {
        return false;
    };
    first.is_alphabetic()
        && !first.is_lowercase()
        && name.len() <= 80
        && name.split_whitespace().count() <= 6
        && !name
            .chars()
            .any(|c| c.is_ascii_digit() || "\"():;!?“”".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Byline {
        read_byline(text)
    }

    #[test]
    fn reported_for_service_translated_and_edited() {
        let b = read(
            "Story text.\n\nReported by Ann Lee for RFA's Mandarin Service. Translated and edited by Bo Chan.",
        );
        assert_eq!(b.reporters, ["Ann Lee"]);
        assert_eq!(b.services, ["Mandarin"]);
        assert_eq!(b.translators, ["Bo Chan"]);
        assert_eq!(b.editors, ["Bo Chan"]);
        assert!(b.writers.is_empty());
        assert!(b.names_rfa);
    }

    #[test]
    fn service_without_reporter() {
        let b = read("Story.\n\nReported by RFA's Khmer Service.");
        assert!(b.reporters.is_empty());
        assert_eq!(b.services, ["Khmer"]);
        assert!(b.names_rfa);
    }

    #[test]
    fn two_reporters_two_services() {
        let b = read(
            "Story.\n\nReported by Ann Lee for RFA's Cantonese Service, and by Bo Chan for the Mandarin Service.",
        );
        assert_eq!(b.reporters, ["Ann Lee", "Bo Chan"]);
        assert_eq!(b.services, ["Cantonese", "Mandarin"]);
        assert!(b.names_rfa);
    }

    #[test]
    fn translator_only_and_two_translators() {
        let b = read("Story.\n\nTranslated by Cy Dee.");
        assert_eq!(b.translators, ["Cy Dee"]);
        assert!(b.editors.is_empty() && b.reporters.is_empty());
        let b = read("Story.\n\nTranslated by Cy Dee and Di Eng.");
        assert_eq!(b.translators, ["Cy Dee", "Di Eng"]);
    }

    #[test]
    fn written_in_english() {
        let b = read("Story.\n\nWritten in English by Ed Fox.");
        assert_eq!(b.writers, ["Ed Fox"]);
        assert!(b.translators.is_empty());
        let b = read("Story.\n\nTranslated and written in English by Ed Fox.");
        assert_eq!(b.writers, ["Ed Fox"]);
        assert_eq!(b.translators, ["Ed Fox"]);
    }

    #[test]
    fn reported_without_service() {
        let b = read("Story.\n\nReported by Jane Doe.");
        assert_eq!(b.reporters, ["Jane Doe"]);
        assert!(b.services.is_empty());
        assert!(!b.names_rfa);
    }

    #[test]
    fn roles_over_several_paragraphs() {
        let b = read(
            "Story.\n\nReported by Ann Lee for RFA's Lao Service.\n\nTranslated by Sy Vong. Edited by Kim Ra.",
        );
        assert_eq!(b.reporters, ["Ann Lee"]);
        assert_eq!(b.services, ["Lao"]);
        assert_eq!(b.translators, ["Sy Vong"]);
        assert_eq!(b.editors, ["Kim Ra"]);
    }

    #[test]
    fn story_mentions_are_not_bylines() {
        let b = read(
            "A farmer told RFA's Uyghur Service that the fields were flooded.\n\nThe water receded on Friday.",
        );
        assert_eq!(b, Byline::default());
        let b = read("Story.\n\nReported by state media, the figures were disputed by officials.");
        assert_eq!(b, Byline::default());
        let b = read("Reported by Ann Lee.\n\nOne.\n\nTwo.\n\nThree.");
        assert_eq!(b, Byline::default(), "only the last paragraphs count");
    }

    #[test]
    fn non_ascii_names() {
        let b = read("Story.\n\nReported by Zoë Aéé and Łukasz Żółć for RFA’s Tibetan Service.");
        assert_eq!(b.reporters, ["Zoë Aéé", "Łukasz Żółć"]);
        assert_eq!(b.services, ["Tibetan"]);
        assert!(b.names_rfa);
        let b = read("Story.\n\nTranslated by Aé andé and edited by Łé.");
        assert_eq!(b.translators, ["Aé andé"]);
        assert_eq!(b.editors, ["Łé"]);
        let b = read("Story.\n\nReported by Bo Chan for Radio Free Asia's Korean Service.");
        assert_eq!(b.services, ["Korean"]);
        assert!(b.names_rfa);
        let b = read("Story.\n\nTranslated by Aéé.");
        assert_eq!(b.translators, ["Aéé"]);
    }

    #[test]
    fn roles_change_inside_a_sentence() {
        let b = read("Story.\n\nTranslated by Cy Dee and edited by Di Eng.");
        assert_eq!(b.translators, ["Cy Dee"]);
        assert_eq!(b.editors, ["Di Eng"]);
        let b = read(
            "Story.\n\nReported by Ann Lee and Bo Chan for RFA's Lao Service, translated by Cy Dee, and edited by Di Eng and Ed Fox.",
        );
        assert_eq!(b.reporters, ["Ann Lee", "Bo Chan"]);
        assert_eq!(b.services, ["Lao"]);
        assert_eq!(b.translators, ["Cy Dee"]);
        assert_eq!(b.editors, ["Di Eng", "Ed Fox"]);
        let b = read("Story.\n\nReported by Ann Lee and by Bo Chan.");
        assert_eq!(b.reporters, ["Ann Lee", "Bo Chan"]);
        let b = read("Story.\n\nReported by Ann Lee and then by Bo Chan.");
        assert_eq!(
            b,
            Byline::default(),
            "an unknown connector word is no byline"
        );
    }

    #[test]
    fn initials_do_not_split() {
        let b = read("Story.\n\nReported by John Q. Public. Edited by Ann Lee.");
        assert_eq!(b.reporters, ["John Q. Public"]);
        assert_eq!(b.editors, ["Ann Lee"]);
    }
}
