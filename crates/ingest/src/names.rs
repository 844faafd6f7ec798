//! Person names: splitting name lists, author strings ("By Jane Doe, Reuters") and case repair.

/// Outlet or role words that may close an author string after a comma, besides any single word.
const AFFILIATIONS: &[&str] = &[
    "associated press",
    "the associated press",
    "agence france-presse",
    "agence france presse",
    "staff",
    "staff writer",
    "staff reporter",
    "reuters staff",
];

/// What an author string names: people, and the outlet they wrote for when it says so.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Authors {
    /// The people, in order, without duplicates.
    pub names: Vec<String>,
    /// The closing affiliation ("Reuters" in "By Jane Doe, Reuters"), title-cased when in capitals.
    pub affiliation: Option<String>,
}

/// Parses an author or byline string: "By Jane Doe, Reuters", "BY JANE DOE AND JOHN ROE, REUTERS",
/// "Jane Doe; John Roe", "Jane Doe, John Roe and Sam Poe".
pub(crate) fn parse_author_string(text: &str) -> Authors {
    let mut out = Authors::default();
    for segment in text.split([';', '\n']) {
        let segment = strip_by(segment.trim());
        let mut parts: Vec<&str> = segment.split(',').map(str::trim).collect();
        if parts.len() > 1 {
            let last = parts[parts.len() - 1];
            if is_affiliation(last) {
                parts.pop();
                let last = last.trim_end_matches('.').trim();
                if out.affiliation.is_none() && !last.is_empty() {
                    out.affiliation = Some(fix_case(last));
                }
            }
        }
        for part in parts {
            for name in split_and(part) {
                push_name(&mut out.names, name);
            }
        }
    }
    out
}

/// Splits a byline's list of names on ", " and " and " ("A, B and C").
pub(crate) fn split_names(text: &str) -> Vec<String> {
    let mut names = Vec::new();
    for part in text.split(',') {
        for name in split_and(part) {
            push_name(&mut names, name);
        }
    }
    names
}

/// Adds a cleaned name unless empty or already present.
fn push_name(names: &mut Vec<String>, raw: &str) {
    let name = clean_name(raw);
    if !name.is_empty() && !names.contains(&name) {
        names.push(name);
    }
}

/// Trims a name, drops a closing full stop (but not an initial's) and repairs all-capitals case.
fn clean_name(raw: &str) -> String {
    let mut name = raw.trim();
    // "Jane Doe." loses the stop; "John Q." keeps it (a one-letter word before the stop).
    if let Some(stripped) = name.strip_suffix('.') {
        let last_word = stripped.rsplit(' ').next().unwrap_or("");
        if last_word.chars().count() > 1 {
            name = stripped.trim_end();
        }
    }
    let collapsed = name.split_whitespace().collect::<Vec<_>>().join(" ");
    fix_case(&collapsed)
}

/// Splits on the word "and" (any case) and on "&".
fn split_and(text: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut rest = text;
    loop {
        let lower = rest.to_ascii_lowercase();
        let found = [" and ", " & "]
            .iter()
            .filter_map(|sep| lower.find(sep).map(|at| (at, sep.len())))
            .min();
        let Some((at, len)) = found else {
            parts.push(rest);
            return parts;
        };
        parts.push(&rest[..at]);
        rest = &rest[at + len..];
    }
}

/// Removes a leading "By " (any case).
fn strip_by(text: &str) -> &str {
    let bytes = text.as_bytes();
    if bytes.len() > 3 && bytes[..2].eq_ignore_ascii_case(b"by") && bytes[2].is_ascii_whitespace() {
        text[3..].trim_start()
    } else {
        text
    }
}

/// Whether the text after the last comma of an author string names an outlet, not a person.
fn is_affiliation(text: &str) -> bool {
    let lower = text.to_lowercase();
    !text.is_empty() && (!text.contains(' ') || AFFILIATIONS.contains(&lower.as_str()))
}

/// Title-cases text written mostly in capitals ("JANE DOE" -> "Jane Doe", "TED d'AFFLISIO" ->
/// "Ted D'Afflisio"); leaves other text as written, and so one short word ("AP", "AFP", "RFA"),
/// which is more likely an acronym.
pub(crate) fn fix_case(text: &str) -> String {
    let upper = text.chars().filter(|c| c.is_uppercase()).count();
    let lower = text.chars().filter(|c| c.is_lowercase()).count();
    let acronym = !text.contains(' ') && text.chars().count() <= 3;
    if upper <= lower || upper < 2 || acronym {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut start_of_word = true;
    for c in text.chars() {
        if start_of_word {
            out.extend(c.to_uppercase());
        } else {
            out.extend(c.to_lowercase());
        }
        start_of_word = !c.is_alphanumeric();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(text: &str) -> Vec<String> {
        parse_author_string(text).names
    }

    #[test]
    fn by_name_comma_outlet() {
        let a = parse_author_string("By Jane Doe, Reuters");
        assert_eq!(a.names, ["Jane Doe"]);
        assert_eq!(a.affiliation.as_deref(), Some("Reuters"));
    }

    #[test]
    fn all_capitals_become_title_case() {
        let a = parse_author_string("BY JANE DOE AND JOHN ROE, REUTERS");
        assert_eq!(a.names, ["Jane Doe", "John Roe"]);
        assert_eq!(a.affiliation.as_deref(), Some("Reuters"));
        assert_eq!(names("by MARY O'HARA-SMITH"), ["Mary O'Hara-Smith"]);
        assert_eq!(names("By ANNE d'ARCY, Wire"), ["Anne D'Arcy"]);
    }

    #[test]
    fn mixed_case_is_kept() {
        assert_eq!(names("by jan van der Berg"), ["jan van der Berg"]);
        assert_eq!(names("Li Na"), ["Li Na"]);
    }

    #[test]
    fn semicolons_commas_and_ampersands() {
        assert_eq!(names("Jane Doe; John Roe"), ["Jane Doe", "John Roe"]);
        assert_eq!(
            names("Jane Doe, John Roe and Sam Poe"),
            ["Jane Doe", "John Roe", "Sam Poe"]
        );
        assert_eq!(names("Jane Doe & John Roe"), ["Jane Doe", "John Roe"]);
        assert_eq!(names("Jane Doe, Associated Press"), ["Jane Doe"]);
        let a = parse_author_string("by Jane Doe, Wire.");
        assert_eq!(a.affiliation.as_deref(), Some("Wire"));
        let a = parse_author_string("BY JANE DOE, AP");
        assert_eq!(a.names, ["Jane Doe"]);
        assert_eq!(a.affiliation.as_deref(), Some("AP"));
    }

    #[test]
    fn no_affiliation_and_duplicates() {
        let a = parse_author_string("by Jane Doe");
        assert_eq!(a.names, ["Jane Doe"]);
        assert_eq!(a.affiliation, None);
        assert_eq!(names("Jane Doe; Jane Doe"), ["Jane Doe"]);
        assert!(names("  ").is_empty());
        assert!(
            names("By").len() == 1,
            "a lone word is a name, not a prefix"
        );
    }

    #[test]
    fn split_byline_names() {
        assert_eq!(split_names("Ann Lee and Bo Chan"), ["Ann Lee", "Bo Chan"]);
        assert_eq!(
            split_names("Ann Lee, Bo Chan and Cy Dee"),
            ["Ann Lee", "Bo Chan", "Cy Dee"]
        );
        assert_eq!(split_names("John Q."), ["John Q."]);
        assert_eq!(split_names("John Quill."), ["John Quill"]);
    }
}
