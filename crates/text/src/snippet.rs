//! Snippets: a short excerpt of a body with the query's words marked.

use std::ops::Range;

use crate::TextQuery;
use crate::analyze;

/// An excerpt of a text and the byte ranges, within it, of the words the query matched.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Snippet {
    /// The excerpt, whitespace collapsed to single spaces; `…` where it cuts the text.
    pub text: String,
    /// Marked ranges of `text`, in order, not overlapping.
    pub marks: Vec<Range<usize>>,
}

impl Snippet {
    /// The excerpt with each mark between `open` and `close` (the CLI's machine formats use
    /// `[` and `]`; brackets of the text itself are left as they are).
    pub fn marked(&self, open: &str, close: &str) -> String {
        let mut out = String::with_capacity(self.text.len() + 8 * self.marks.len());
        let mut at = 0;
        for m in &self.marks {
            out.push_str(&self.text[at..m.start]);
            out.push_str(open);
            out.push_str(&self.text[m.clone()]);
            out.push_str(close);
            at = m.end;
        }
        out.push_str(&self.text[at..]);
        out
    }
}

/// An excerpt of `body` of about `max_chars` characters around the densest cluster of the
/// words `query` looks for (not those it excludes), each occurrence marked; the start of the
/// body, unmarked, when none occurs in it.
pub fn snippet(query: &TextQuery, body: &str, max_chars: usize) -> Snippet {
    // A query holds a handful of terms: a scan of a short list beats hashing every word.
    let mut exact: Vec<&str> = query
        .wanted_terms()
        .filter(|(_, p)| !p)
        .map(|(t, _)| t)
        .collect();
    exact.sort_unstable();
    exact.dedup();
    let prefixes: Vec<&str> = query
        .wanted_terms()
        .filter(|(_, p)| *p)
        .map(|(t, _)| t)
        .collect();
    let mut hits: Vec<Range<usize>> = Vec::new();
    analyze::analyze_lent(body, &mut |text, from, to, _| {
        if exact.contains(&text) || prefixes.iter().any(|p| text.starts_with(p)) {
            // Overlapping bigrams merge into one mark.
            match hits.last_mut() {
                Some(last) if from <= last.end => last.end = last.end.max(to),
                _ => hits.push(from..to),
            }
        }
    });
    let max_bytes_of = |from: usize| {
        body[from..]
            .char_indices()
            .nth(max_chars)
            .map_or(body.len(), |(i, _)| from + i)
    };
    // The window (starting at a hit) that holds the most hits.
    let mut best = (0usize, None::<usize>);
    for (i, h) in hits.iter().enumerate() {
        let end = max_bytes_of(h.start);
        let n = hits[i..].iter().take_while(|o| o.end <= end).count();
        if n > best.0 {
            best = (n, Some(i));
        }
    }
    let start = match best.1 {
        None => 0,
        Some(i) => {
            // Some context before the first hit: up to a fifth of the window, from a space.
            let h = hits[i].start;
            let back = body[..h]
                .char_indices()
                .rev()
                .nth(max_chars / 5)
                .map_or(0, |(j, _)| j);
            match body[back..h].find(char::is_whitespace) {
                Some(s) if back > 0 => back + s,
                _ => back,
            }
        }
    };
    let end = max_bytes_of(start);
    let mut out = Snippet::default();
    if start > 0 {
        out.text.push('…');
    }
    let mut space = false;
    let mut open: Option<usize> = None;
    let mut marks = hits
        .iter()
        .filter(|h| h.start >= start && h.end <= end)
        .peekable();
    for (i, c) in body[start..end].char_indices() {
        let at = start + i;
        if let Some(m) = marks.peek()
            && at == m.end
        {
            if let Some(o) = open.take() {
                out.marks.push(o..out.text.len());
            }
            marks.next();
        }
        if c.is_whitespace() {
            space = true;
            continue;
        }
        if space && !out.text.is_empty() && !out.text.ends_with('…') {
            out.text.push(' ');
        }
        space = false;
        if let Some(m) = marks.peek()
            && at == m.start
        {
            open = Some(out.text.len());
        }
        out.text.push(c);
    }
    if let Some(o) = open.take() {
        out.marks.push(o..out.text.len());
    }
    if end < body.len() {
        out.text.push('…');
    }
    out
}
