//! What a reader of inputs hands on: articles read, where each came from, and what could not be
//! read.

use std::fmt;
use std::sync::Arc;

use crate::Draft;

/// One article read from an input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    /// The article.
    pub draft: Draft,
    /// Things worth telling the user that did not stop the import, e.g. an unparseable date.
    pub warnings: Vec<String>,
}

/// Where an article (or a failure) comes from: the input as the user named it and, for JSON,
/// the line. Displays as `PATH` or `PATH:LINE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// The input as named (`-` for standard input).
    pub path: Arc<str>,
    /// The 1-based line, when the input holds several articles.
    pub line: Option<u64>,
    /// The input's position in reading order, so that messages can be listed in that order.
    pub seq: usize,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}", self.path),
            None => f.write_str(&self.path),
        }
    }
}

/// One entry of an input, with its source: an article read, or why one could not be read.
#[derive(Debug)]
pub enum Item {
    /// An article and its warnings.
    Parsed(Source, Box<Parsed>),
    /// Nothing could be stored from here; the reason, for the user.
    Failed(Source, String),
}

impl Item {
    /// Where the entry comes from.
    pub fn source(&self) -> &Source {
        match self {
            Item::Parsed(source, _) | Item::Failed(source, _) => source,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_show_path_and_line() {
        let source = Source {
            path: Arc::from("in.jsonl"),
            line: Some(7),
            seq: 0,
        };
        assert_eq!(source.to_string(), "in.jsonl:7");
        let source = Source {
            path: Arc::from("a.txt"),
            line: None,
            seq: 0,
        };
        assert_eq!(source.to_string(), "a.txt");
    }
}
