//! Person names: splitting name lists, author strings ("By Jane Doe, Reuters"), telling
//! organisations from people, and case repair of bylines written in capitals.

/// Outlets and wire services known by name (lowercase): after a comma, or as the whole of an
/// author string, they are the outlet, not a reporter.
const ORGANISATIONS: &[&str] = &[
    "associated press",
    "the associated press",
    "agence france-presse",
    "agence france presse",
    "reuters",
    "thomson reuters",
    "bloomberg",
    "xinhua",
    "kyodo",
    "yonhap",
    "tass",
    "interfax",
    "anadolu",
    "al jazeera",
    "staff",
    "staff writer",
    "staff writers",
    "staff reporter",
    "reuters staff",
    "wire staff",
    "editorial board",
    "the editorial board",
];

/// Last words that make a name an organisation ("BBC News", "Daily Herald", "Wire Service").
const ORGANISATION_WORDS: &[&str] = &[
    "news",
    "press",
    "agency",
    "wire",
    "wires",
    "service",
    "newsroom",
    "desk",
    "media",
    "network",
    "times",
    "post",
    "journal",
    "herald",
    "tribune",
    "gazette",
    "daily",
    "magazine",
    "radio",
    "television",
    "tv",
    "online",
    "bureau",
    "staff",
    "editors",
    "team",
    "inc",
    "inc.",
    "ltd",
    "ltd.",
    "llc",
    "corp",
    "corp.",
    "group",
    "institute",
    "university",
    "foundation",
    "association",
    "laboratory",
    "agencies",
];

/// Acronyms kept in capitals when a byline written in capitals is re-cased, and that make a
/// name an organisation when all its words are among them ("NASA JPL").
const ACRONYMS: &[&str] = &[
    "AP", "AFP", "UPI", "AAP", "DPA", "EFE", "ANSA", "PTI", "IANS", "ANI", "BBC", "CNN", "NPR",
    "NBC", "CBS", "ABC", "PBS", "FOX", "RFA", "VOA", "RFE", "RL", "NHK", "KBS", "CCTV", "ITN",
    "ITV", "DW", "WSJ", "NYT", "FT", "MSNBC", "NASA", "JPL", "ESA", "UN", "EU", "US", "UK", "USA",
];

/// Academic degrees and post-nominals: not names (compared in lowercase, stops removed).
const DEGREES: &[&str] = &[
    "phd", "md", "mba", "msc", "ma", "ba", "bsc", "dphil", "jd", "rn", "esq", "dds", "mph", "cpa",
    "llm", "edd", "psyd", "frcp",
];

/// What an author string names: people, and the outlet they wrote for when it says so.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Authors {
    /// The people, in order, without duplicates.
    pub names: Vec<String>,
    /// The outlet: the closing affiliation ("Reuters" in "By Jane Doe, Reuters"; "Reuters and
    /// AP" in "…, Reuters and AP"), or an organisation given as the author ("BBC News").
    pub affiliation: Option<String>,
}

/// Parses an author or byline string: "By Jane Doe, Reuters", "BY JANE DOE AND JOHN ROE, REUTERS",
/// "Jane Doe; John Roe", "Jane Doe, John Roe and Sam Poe", "Doe, Jane" (one person),
/// "Jane Doe, PhD", "By Ann Lee in Hong Kong", "BBC News" (an outlet).
///
/// Names keep the case they are written in, unless the whole string is in capitals: then each
/// name is title-cased, keeping known acronyms and Mc/Mac/O' right ("JOHN McDONALD").
pub(crate) fn parse_author_string(text: &str) -> Authors {
    // Capitals are judged on the names: "By JOHN McDONALD, Reuters" is in capitals.
    let names_part: Vec<&str> = text
        .split([';', '\n'])
        .map(|segment| segment.rsplit_once(',').map_or(segment, |(names, _)| names))
        .collect();
    let capitals = in_capitals(&names_part.join(" ")) || in_capitals(text);
    let mut out = Authors::default();
    for segment in text.split([';', '\n']) {
        let segment = strip_by(segment.trim());
        let mut parts: Vec<&str> = segment
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty() && !is_degree(p))
            .collect();
        // "Doe, Jane": one person, written last name first.
        if let [last, first] = parts.as_slice()
            && word_count(last) == 1
            && (1..=2).contains(&word_count(first))
            && split_and(first).len() == 1
            && !is_organisation(first, capitals)
            && !is_organisation(last, capitals)
        {
            let name = format!("{first} {last}");
            push_name(&mut out.names, &name, capitals);
            continue;
        }
        if parts.len() > 1 {
            let last = parts[parts.len() - 1];
            let pieces = split_and(last);
            if pieces
                .iter()
                .all(|p| word_count(p) == 1 || is_organisation(p, capitals))
            {
                parts.pop();
                let last = last.trim_end_matches('.').trim();
                if out.affiliation.is_none() && !last.is_empty() {
                    out.affiliation = Some(recase(last, capitals));
                }
            }
        }
        for part in parts {
            for piece in split_and(part) {
                let piece = strip_place(piece);
                if is_organisation(piece, capitals) {
                    if out.affiliation.is_none() {
                        out.affiliation = Some(recase(piece.trim_end_matches('.'), capitals));
                    }
                } else {
                    push_name(&mut out.names, piece, capitals);
                }
            }
        }
    }
    out
}

/// Splits a byline's list of names on ", " and " and " ("A, B and C").
pub(crate) fn split_names(text: &str) -> Vec<String> {
    let capitals = in_capitals(text);
    let mut names = Vec::new();
    for part in text.split(',') {
        for name in split_and(part) {
            push_name(&mut names, name, capitals);
        }
    }
    names
}

/// Adds a cleaned name unless empty or already present.
fn push_name(names: &mut Vec<String>, raw: &str, capitals: bool) {
    let name = clean_name(raw, capitals);
    if !name.is_empty() && !names.contains(&name) {
        names.push(name);
    }
}

/// Trims a name, drops a closing full stop (but not an initial's) and a closing degree, and
/// re-cases it when the byline is in capitals.
fn clean_name(raw: &str, capitals: bool) -> String {
    let mut words: Vec<&str> = raw.split_whitespace().collect();
    while words.len() > 1 && words.last().is_some_and(|w| is_degree(w)) {
        words.pop();
    }
    let joined = words.join(" ");
    let mut name = joined.as_str();
    // "Jane Doe." loses the stop; "John Q." keeps it (a one-letter word before the stop).
    if let Some(stripped) = name.strip_suffix('.') {
        let last_word = stripped.rsplit(' ').next().unwrap_or("");
        if last_word.chars().count() > 1 {
            name = stripped.trim_end();
        }
    }
    recase(name, capitals)
}

/// Removes " in <Place>" from a name ("Ann Lee in Hong Kong" -> "Ann Lee").
fn strip_place(name: &str) -> &str {
    let mut search = 0;
    while let Some(at) = name[search..].find(" in ") {
        let at = search + at;
        let after = name[at + 4..].trim_start();
        if at > 0 && after.chars().next().is_some_and(char::is_uppercase) {
            return name[..at].trim_end();
        }
        search = at + 4;
    }
    name
}

/// Splits on the word "and" (any case) and on "&". A leading "and " is dropped: after a serial
/// comma ("A, B, and C") the last piece starts with it.
fn split_and(text: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut rest = text.trim_start();
    for lead in ["and ", "& "] {
        if rest.len() > lead.len()
            && rest.is_char_boundary(lead.len())
            && rest[..lead.len()].eq_ignore_ascii_case(lead)
        {
            rest = rest[lead.len()..].trim_start();
        }
    }
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

fn word_count(text: &str) -> usize {
    text.split_whitespace().count()
}

/// Whether text is an academic degree or post-nominal ("PhD", "Ph.D.", "M.D.").
fn is_degree(text: &str) -> bool {
    let bare: String = text
        .chars()
        .filter(|c| *c != '.')
        .flat_map(char::to_lowercase)
        .collect();
    DEGREES.contains(&bare.trim())
}

/// Whether a name is an organisation or wire service rather than a person: known by name, ending
/// in a word such as "News" or "Press", or made only of acronyms ("NASA JPL"; in a byline
/// written in capitals only the known ones count, since "JANE DOE" is capitals too).
/// Whether a name names an organisation (a known outlet or wire, a last word such as "News" or
/// "Wire", or only acronyms), not a person.
pub(crate) fn looks_like_organisation(name: &str) -> bool {
    is_organisation(name, in_capitals(name))
}

fn is_organisation(name: &str, capitals: bool) -> bool {
    let name = name.trim().trim_end_matches('.');
    let lower = name.to_lowercase();
    if ORGANISATIONS.contains(&lower.as_str()) {
        return true;
    }
    let words: Vec<&str> = name.split_whitespace().collect();
    if words.len() > 1
        && words
            .last()
            .is_some_and(|w| ORGANISATION_WORDS.contains(&w.to_lowercase().as_str()))
    {
        return true;
    }
    !words.is_empty()
        && words.iter().all(|w| {
            ACRONYMS.contains(w)
                || (!capitals
                    && w.chars().count() >= 2
                    && w.chars().all(|c| c.is_uppercase() || c == '.'))
        })
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

/// Whether text is written in capitals: at least two capital letters and no small ones, except
/// the small letters of "Mc"/"Mac" before a capital ("McDONALD") and of "d'"/"l'" ("d'ARCY"), and
/// those of a leading "By ".
fn in_capitals(text: &str) -> bool {
    let (mut upper, mut lower) = (0, 0);
    for word in text.split(|c: char| !c.is_alphabetic()) {
        if word.eq_ignore_ascii_case("by") {
            continue;
        }
        let rest = &word[mac_prefix(word).unwrap_or(0)..];
        upper += rest.chars().filter(|c| c.is_uppercase()).count();
        lower += rest.chars().filter(|c| c.is_lowercase()).count();
    }
    // "d'ARCY": the split above leaves "d" as a word of its own.
    let particles = text
        .split(|c: char| !c.is_alphabetic() && c != '\'')
        .filter(|w| w.len() > 2 && (w.starts_with("d'") || w.starts_with("l'")))
        .count();
    upper >= 2 && lower <= particles
}

/// Length of a "Mc" or "Mac" prefix written in small letters before a capital ("McDONALD").
fn mac_prefix(word: &str) -> Option<usize> {
    for prefix in ["Mc", "Mac"] {
        if let Some(rest) = word.strip_prefix(prefix)
            && rest.chars().next().is_some_and(char::is_uppercase)
        {
            return Some(prefix.len());
        }
    }
    None
}

/// Text as written, or title-cased when the byline is in capitals.
fn recase(text: &str, capitals: bool) -> String {
    if capitals {
        title_case(text)
    } else {
        text.to_string()
    }
}

/// Title-cases text written in capitals, word by word ("JANE O'HARA-SMITH" -> "Jane
/// O'Hara-Smith"): known acronyms stay ("BBC"), "McDONALD" and "MCDONALD" become "McDonald",
/// "MacDONALD" becomes "MacDonald" (an all-capitals "MAC…" stays "Mac…": "MACK" is no Mac).
pub(crate) fn title_case(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        if word.is_empty() {
            return;
        }
        if ACRONYMS.contains(&word.as_str()) {
            out.push_str(word);
        } else if let Some(n) = mac_prefix(word) {
            out.push_str(&word[..n]);
            capitalise(&word[n..], out);
        } else if word.len() > 3 && word.starts_with("MC") {
            out.push_str("Mc");
            capitalise(&word[2..], out);
        } else {
            capitalise(word, out);
        }
        word.clear();
    };
    for c in text.chars() {
        if c.is_alphanumeric() {
            word.push(c);
        } else {
            flush(&mut word, &mut out);
            out.push(c);
        }
    }
    flush(&mut word, &mut out);
    out
}

/// The word with its first letter in capitals and the rest in small letters.
fn capitalise(word: &str, out: &mut String) {
    let mut chars = word.chars();
    if let Some(first) = chars.next() {
        out.extend(first.to_uppercase());
        for c in chars {
            out.extend(c.to_lowercase());
        }
    }
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
    fn serial_comma_before_and() {
        let a = parse_author_string("By Ann Q. Lee, Bo Chan-Wu, and Cy Doe, Wire");
        assert_eq!(a.names, ["Ann Q. Lee", "Bo Chan-Wu", "Cy Doe"]);
        assert_eq!(a.affiliation.as_deref(), Some("Wire"));
        assert_eq!(names("Ann Lee, & Bo Chan"), ["Ann Lee", "Bo Chan"]);
    }

    #[test]
    fn organisations_are_told_from_people() {
        assert!(looks_like_organisation("Metro Wire"));
        assert!(looks_like_organisation("Reuters"));
        assert!(!looks_like_organisation("Ann Lee"));
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
    fn case_is_kept_unless_all_capitals() {
        let a = parse_author_string("By JOHN McDONALD, Reuters");
        assert_eq!(a.names, ["John McDonald"]);
        assert_eq!(a.affiliation.as_deref(), Some("Reuters"));
        assert_eq!(names("BY JOHN MCDONALD"), ["John McDonald"]);
        assert_eq!(names("BY ANGUS MacLEOD"), ["Angus MacLeod"]);
        assert_eq!(names("BY JOE MACK"), ["Joe Mack"]);
        assert_eq!(names("By JOE HILDEBRAND"), ["Joe Hildebrand"]);
        assert_eq!(names("Danah boyd"), ["Danah boyd"]);
        assert_eq!(names("Jane DOE-Smith"), ["Jane DOE-Smith"]);
        let a = parse_author_string("BY JANE DOE, BBC");
        assert_eq!(a.affiliation.as_deref(), Some("BBC"));
    }

    #[test]
    fn organisations_are_the_outlet() {
        for (text, outlet) in [
            ("BBC News", "BBC News"),
            ("NASA JPL", "NASA JPL"),
            ("Reuters", "Reuters"),
            ("The Associated Press", "The Associated Press"),
            ("AFP", "AFP"),
        ] {
            let a = parse_author_string(text);
            assert!(a.names.is_empty(), "{text}: {:?}", a.names);
            assert_eq!(a.affiliation.as_deref(), Some(outlet), "{text}");
        }
        let a = parse_author_string("Jane Doe and John Roe, Reuters and AP");
        assert_eq!(a.names, ["Jane Doe", "John Roe"]);
        assert_eq!(a.affiliation.as_deref(), Some("Reuters and AP"));
        let a = parse_author_string("Jane Doe and Reuters Staff");
        assert_eq!(a.names, ["Jane Doe"]);
        assert_eq!(a.affiliation.as_deref(), Some("Reuters Staff"));
    }

    #[test]
    fn degrees_places_and_last_first() {
        let a = parse_author_string("Jane Doe, PhD");
        assert_eq!(a.names, ["Jane Doe"]);
        assert_eq!(a.affiliation, None);
        assert_eq!(names("Jane Doe, Ph.D., Reuters"), ["Jane Doe"]);
        assert_eq!(names("Jane Doe MD"), ["Jane Doe"]);
        assert_eq!(names("By Ann Lee in Hong Kong"), ["Ann Lee"]);
        assert_eq!(
            names("Ann Lee in Hong Kong and Bo Chan in Taipei"),
            ["Ann Lee", "Bo Chan"]
        );
        assert_eq!(names("Ann Lee in the field"), ["Ann Lee in the field"]);
        let a = parse_author_string("Doe, Jane");
        assert_eq!(a.names, ["Jane Doe"]);
        assert_eq!(a.affiliation, None);
        assert_eq!(names("Doe, Jane Q."), ["Jane Q. Doe"]);
        let a = parse_author_string("Doe, Reuters");
        assert_eq!(a.names, ["Doe"]);
        assert_eq!(a.affiliation.as_deref(), Some("Reuters"));
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
