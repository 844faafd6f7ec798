//! The full-text queries both sides are asked (issue 15): a fixed list, each written in morgue's
//! syntax and in FTS5's, meaning the same thing.
//!
//! Words are ANDed on both sides (FTS5's implicit AND); `"…"` is a phrase on both; `OR` is
//! `OR`; morgue's `-word` is FTS5's `NOT word`; `word*` a prefix on both; morgue's
//! `title:word` is FTS5's column filter `title:word`. Two queries carry a date filter (the
//! busiest month of the corpus): `--since`/`--until` for morgue, `a.date` for SQLite. Reuters
//! holds no CJK text, so no CJK query is in the list (both sides would find nothing; the CJK
//! analyzers differ anyway: FTS5's unicode61 keeps a run of CJK characters as one token).

/// One query, in both syntaxes.
#[derive(Debug, Clone, Copy)]
pub struct TextQuery {
    /// As `morgue search` takes it.
    pub morgue: &'static str,
    /// As FTS5's `MATCH` takes it.
    pub fts5: &'static str,
    /// Restricted to the workload's month.
    pub dated: bool,
}

const fn q(morgue: &'static str, fts5: &'static str) -> TextQuery {
    TextQuery {
        morgue,
        fts5,
        dated: false,
    }
}

const fn dated(morgue: &'static str, fts5: &'static str) -> TextQuery {
    TextQuery {
        morgue,
        fts5,
        dated: true,
    }
}

/// Hits asked for per query (with a snippet each on morgue's side, the body read on SQLite's).
pub const LIMIT: usize = 20;

/// The queries (24).
pub const QUERIES: &[TextQuery] = &[
    // single words, rare to very common
    q("coffee", "coffee"),
    q("copper", "copper"),
    q("bundesbank", "bundesbank"),
    q("inflation", "inflation"),
    q("oil", "oil"),
    q("said", "said"),
    // words ANDed
    q("oil price", "oil price"),
    q("wheat corn", "wheat corn"),
    q("sugar brazil", "sugar brazil"),
    q("crude oil opec", "crude oil opec"),
    // phrases
    q("\"interest rates\"", "\"interest rates\""),
    q("\"trade deficit\"", "\"trade deficit\""),
    q("\"federal reserve\"", "\"federal reserve\""),
    q("japan \"trade surplus\"", "japan \"trade surplus\""),
    // OR
    q("opec OR cartel", "opec OR cartel"),
    q(
        "merger OR acquisition OR takeover",
        "merger OR acquisition OR takeover",
    ),
    q(
        "tokyo OR london OR frankfurt",
        "tokyo OR london OR frankfurt",
    ),
    // exclusion
    q("dollar -yen", "dollar NOT yen"),
    q("\"net loss\" -profit", "\"net loss\" NOT profit"),
    // prefix
    q("bank*", "bank*"),
    q("export* grain", "export* grain"),
    // fields
    q("title:strike", "title:strike"),
    // with a date filter
    dated("oil", "oil"),
    dated("\"interest rates\"", "\"interest rates\""),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_query_parses_on_both_sides() {
        assert!(QUERIES.len() >= 20);
        for t in QUERIES {
            morgue_meta::TextQuery::parse(t.morgue).unwrap();
        }
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE VIRTUAL TABLE fts USING fts5(title, body, content='', detail=full,
             tokenize='unicode61 remove_diacritics 2');
             INSERT INTO fts (rowid, title, body) VALUES (1, 'Strike', 'Oil prices and the yen');",
        )
        .unwrap();
        let mut matched = 0;
        for t in QUERIES {
            let n: i64 = conn
                .query_row(
                    "SELECT count(*) FROM fts WHERE fts MATCH ?1",
                    [t.fts5],
                    |r| r.get(0),
                )
                .unwrap();
            matched += n;
        }
        // "oil" (twice: once dated), "title:strike"; "oil price" needs "price", not "prices".
        assert_eq!(matched, 3);
    }
}
