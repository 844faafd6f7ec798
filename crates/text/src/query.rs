//! The query syntax (docs/cli.md): words are ANDed; `"exact phrase"`; `a OR b`; `-word` and
//! `-"phrase"` exclude; `word*` matches words that start with `word`; `title:` and `body:`
//! restrict a word or phrase to one field (by default both are searched).

use crate::analyze::{self, Term};

/// Where a word or phrase is looked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Title or body.
    Any,
    /// The title only.
    Title,
    /// The body only.
    Body,
}

/// One word or phrase of a query, analyzed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Atom {
    /// Where it is looked for.
    pub scope: Scope,
    /// Its terms in order (one for a plain word, several for a phrase or a CJK string).
    pub terms: Vec<String>,
    /// Whether the last term is a prefix (`word*`).
    pub prefix: bool,
}

/// A parsed query: every group must match (a group matches when one of its atoms does), and
/// no excluded atom may.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextQuery {
    /// Groups of alternatives (`a OR b` is one group of two), all required.
    pub groups: Vec<Vec<Atom>>,
    /// Excluded atoms.
    pub excluded: Vec<Atom>,
}

/// Why a query does not parse. The message says what is wrong; `at` is a character position
/// (from 1) where one applies.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum QueryError {
    /// Nothing searchable.
    #[error("the query has no word to search for")]
    Empty,
    /// A `"` without its closing `"`.
    #[error("the quote at character {at} is not closed")]
    UnclosedQuote {
        /// Position of the opening quote.
        at: usize,
    },
    /// `OR` at the start, at the end, or twice in a row.
    #[error("OR at character {at} needs a word on each side")]
    DanglingOr {
        /// Position of the OR.
        at: usize,
    },
    /// `-word OR ...`.
    #[error("an excluded word cannot be an alternative of OR (character {at})")]
    ExcludedAlternative {
        /// Position of the excluded word.
        at: usize,
    },
    /// `-`, `title:` or `*` with nothing to apply to.
    #[error("{what} at character {at} is not followed by a word")]
    Dangling {
        /// The operator.
        what: String,
        /// Its position.
        at: usize,
    },
    /// A word or phrase that holds no letter or digit (`-!!`, `"..."`, `title:?`).
    #[error("{text:?} at character {at} holds no letter or digit to search for")]
    NoTerms {
        /// The text as written.
        text: String,
        /// Its position.
        at: usize,
    },
    /// Only exclusions.
    #[error("the query only excludes: add a word to search for")]
    OnlyExclusions,
}

/// One lexical item.
#[derive(Debug)]
enum Item {
    Or(usize),
    Atom {
        at: usize,
        negated: bool,
        scope: Scope,
        text: String,
        prefix: bool,
    },
}

fn lex(query: &str) -> Result<Vec<Item>, QueryError> {
    let chars: Vec<char> = query.chars().collect();
    let mut items = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_whitespace() {
            i += 1;
            continue;
        }
        let at = i + 1;
        // Operators before a word or a quote: `-`, `title:`, `body:`.
        let mut negated = false;
        let mut scope = Scope::Any;
        if chars[i] == '-' {
            negated = true;
            i += 1;
        }
        let rest: String = chars[i..].iter().take(6).collect();
        for (name, s) in [("title:", Scope::Title), ("body:", Scope::Body)] {
            if rest.starts_with(name) {
                scope = s;
                i += name.chars().count();
                break;
            }
        }
        let operator = || {
            let mut s = String::new();
            if negated {
                s.push('-');
            }
            match scope {
                Scope::Any => {}
                Scope::Title => s.push_str("title:"),
                Scope::Body => s.push_str("body:"),
            }
            s
        };
        if i >= chars.len() || chars[i].is_whitespace() {
            return Err(QueryError::Dangling {
                what: operator(),
                at,
            });
        }
        let text: String;
        if chars[i] == '"' {
            let open = i;
            let Some(len) = chars[i + 1..].iter().position(|&c| c == '"') else {
                return Err(QueryError::UnclosedQuote { at: open + 1 });
            };
            text = chars[i + 1..i + 1 + len].iter().collect();
            i += len + 2;
        } else {
            let len = chars[i..]
                .iter()
                .position(|&c| c.is_whitespace() || c == '"')
                .unwrap_or(chars.len() - i);
            text = chars[i..i + len].iter().collect();
            i += len;
            if text == "OR" && !negated && scope == Scope::Any {
                items.push(Item::Or(at));
                continue;
            }
        }
        let (text, prefix) = match text.strip_suffix('*') {
            Some(stem) => (stem.to_string(), true),
            None if i < chars.len() && chars[i] == '*' => {
                i += 1;
                (text, true)
            }
            None => (text, false),
        };
        if text.is_empty() && prefix {
            return Err(QueryError::Dangling {
                what: format!("{}*", operator()),
                at,
            });
        }
        items.push(Item::Atom {
            at,
            negated,
            scope,
            text,
            prefix,
        });
    }
    Ok(items)
}

fn atom(at: usize, scope: Scope, text: &str, prefix: bool) -> Result<Atom, QueryError> {
    let terms: Vec<String> = analyze::analyze(text)
        .into_iter()
        .map(|t: Term| t.text)
        .collect();
    if terms.is_empty() {
        return Err(QueryError::NoTerms {
            text: text.to_string(),
            at,
        });
    }
    Ok(Atom {
        scope,
        terms,
        prefix,
    })
}

impl TextQuery {
    /// Parses a query (see the module documentation).
    pub fn parse(query: &str) -> Result<TextQuery, QueryError> {
        let items = lex(query)?;
        let mut groups: Vec<Vec<Atom>> = Vec::new();
        let mut excluded = Vec::new();
        // Whether the next atom joins the last group (after OR).
        let mut join = false;
        let mut last_was_atom = false;
        let mut last_excluded = false;
        let mut last_or = 0;
        for item in items {
            match item {
                Item::Or(at) => {
                    if !last_was_atom || join {
                        return Err(QueryError::DanglingOr { at });
                    }
                    if last_excluded {
                        return Err(QueryError::ExcludedAlternative { at });
                    }
                    join = true;
                    last_was_atom = false;
                    last_or = at;
                }
                Item::Atom {
                    at,
                    negated,
                    scope,
                    text,
                    prefix,
                } => {
                    let a = atom(at, scope, &text, prefix)?;
                    if negated {
                        if join {
                            return Err(QueryError::ExcludedAlternative { at });
                        }
                        excluded.push(a);
                        last_was_atom = true;
                        last_excluded = true;
                        continue;
                    }
                    match groups.last_mut() {
                        Some(group) if join => group.push(a),
                        _ => groups.push(vec![a]),
                    }
                    join = false;
                    last_was_atom = true;
                    last_excluded = false;
                }
            }
        }
        if join {
            return Err(QueryError::DanglingOr { at: last_or });
        }
        if groups.is_empty() {
            return Err(if excluded.is_empty() {
                QueryError::Empty
            } else {
                QueryError::OnlyExclusions
            });
        }
        Ok(TextQuery { groups, excluded })
    }

    /// Every term of the query that is not excluded, with whether it is a prefix: what a
    /// snippet marks.
    pub fn wanted_terms(&self) -> impl Iterator<Item = (&str, bool)> {
        self.groups.iter().flatten().flat_map(|a| {
            let last = a.terms.len() - 1;
            a.terms
                .iter()
                .enumerate()
                .map(move |(i, t)| (t.as_str(), a.prefix && i == last))
        })
    }
}
