//! The SQLite baseline: what a competent engineer would build instead of morgue.
//!
//! One table of articles keyed by the blake3 hex of the body, bodies zlib-compressed (level 6),
//! a reporters table, indexes on reporter name, service and date, the whole load in one
//! transaction, `INSERT OR IGNORE` for repeated bodies. WAL journal, `synchronous = FULL` (the
//! commit is durable, as morgue's flush is). Full-text search: a contentless FTS5 table
//! `fts(title, body)` (`content=''`, `detail=full`, tokenizer `unicode61 remove_diacritics 2`:
//! Unicode words, lowercased, diacritics folded, as morgue's analyzer does for Latin script),
//! keyed by the article's rowid and filled in the same transaction (issue 15's anchor).

use std::io::{Read, Write};
use std::path::Path;

use anyhow::{Context, Result};
use flate2::Compression;
use flate2::read::ZlibDecoder;
use flate2::write::ZlibEncoder;
use rusqlite::{Connection, params};

use crate::corpus::{self, Article};

const SCHEMA: &str = "
CREATE TABLE articles (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    date TEXT,
    service TEXT NOT NULL,
    body BLOB NOT NULL
);
CREATE TABLE reporters (
    article_id TEXT NOT NULL REFERENCES articles(id),
    name TEXT NOT NULL
);
CREATE INDEX reporters_name ON reporters(name);
CREATE INDEX articles_service ON articles(service);
CREATE INDEX articles_date ON articles(date);
";

/// The full-text table (contentless: the text is in `articles`, compressed).
const FTS_SCHEMA: &str = "
CREATE VIRTUAL TABLE fts USING fts5(title, body, content='', detail=full,
    tokenize='unicode61 remove_diacritics 2');
";

/// What a load did.
#[derive(Debug, Clone, Default)]
pub struct Loaded {
    /// Lines read.
    pub lines: u64,
    /// Distinct articles stored.
    pub articles: u64,
    /// Ids of the stored articles.
    pub ids: Vec<String>,
}

fn open(db: &Path) -> Result<Connection> {
    let conn = Connection::open(db).with_context(|| format!("opening {}", db.display()))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    Ok(conn)
}

/// Loads a corpus file into a new database at `db` (removed first if present), streaming; with
/// `fts`, fills the full-text table too.
pub fn load(corpus_path: &Path, db: &Path, keep_ids: bool, fts: bool) -> Result<Loaded> {
    remove_db(db)?;
    let mut conn = open(db)?;
    conn.execute_batch(SCHEMA)?;
    if fts {
        conn.execute_batch(FTS_SCHEMA)?;
    }
    let tx = conn.transaction()?;
    let mut out = Loaded::default();
    {
        let mut insert_article = tx.prepare(
            "INSERT OR IGNORE INTO articles (id, title, date, service, body) VALUES (?1, ?2, ?3, ?4, ?5)",
        )?;
        let mut insert_reporter =
            tx.prepare("INSERT INTO reporters (article_id, name) VALUES (?1, ?2)")?;
        let mut insert_text = if fts {
            Some(tx.prepare("INSERT INTO fts (rowid, title, body) VALUES (?1, ?2, ?3)")?)
        } else {
            None
        };
        let mut zlib = Zlib::new();
        out.lines = corpus::for_each(corpus_path, |a: Article| {
            let id = blake3::hash(a.body.as_bytes()).to_hex().to_string();
            let body = zlib.compress(a.body.as_bytes())?;
            let n = insert_article.execute(params![id, a.title, a.date, a.service, body])?;
            if n == 1 {
                if let Some(st) = &mut insert_text {
                    st.execute(params![tx.last_insert_rowid(), a.title, a.body])?;
                }
                for r in &a.reporters {
                    insert_reporter.execute(params![id, r])?;
                }
                out.articles += 1;
                if keep_ids {
                    out.ids.push(id);
                }
            }
            Ok(())
        })?;
    }
    tx.commit()?;
    conn.close().map_err(|(_, e)| e)?;
    Ok(out)
}

/// A reused zlib level-6 encoder (a new encoder per body costs an allocation of its large state).
struct Zlib(ZlibEncoder<Vec<u8>>);

impl Zlib {
    fn new() -> Zlib {
        Zlib(ZlibEncoder::new(Vec::new(), Compression::new(6)))
    }

    fn compress(&mut self, bytes: &[u8]) -> Result<Vec<u8>> {
        self.0.write_all(bytes)?;
        Ok(self.0.reset(Vec::with_capacity(bytes.len() / 2))?)
    }
}

/// Removes a database and its side files.
pub fn remove_db(db: &Path) -> Result<()> {
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let p = side(db, suffix);
        if p.exists() {
            std::fs::remove_file(&p).with_context(|| format!("removing {}", p.display()))?;
        }
    }
    Ok(())
}

fn side(db: &Path, suffix: &str) -> std::path::PathBuf {
    let mut s = db.as_os_str().to_owned();
    s.push(suffix);
    s.into()
}

/// Bytes on disk: the database file plus its WAL and journal, if any.
pub fn disk_bytes(db: &Path) -> u64 {
    ["", "-wal", "-journal"]
        .iter()
        .filter_map(|s| std::fs::metadata(side(db, s)).ok())
        .map(|m| m.len())
        .sum()
}

/// Bytes of the full-text table's pages (its shadow tables), from `dbstat`.
pub fn fts_bytes(db: &Path) -> Result<u64> {
    let conn = Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .with_context(|| format!("opening {}", db.display()))?;
    let bytes: i64 = conn.query_row(
        "SELECT coalesce(sum(pgsize), 0) FROM dbstat WHERE name LIKE 'fts\\_%' ESCAPE '\\'",
        [],
        |r| r.get(0),
    )?;
    Ok(bytes as u64)
}

/// One full-text hit: the article's row, its rank and a snippet of its body.
#[derive(Debug, Clone)]
pub struct TextHit {
    pub row: Row,
    pub rank: f64,
    pub snippet: String,
}

/// The words of an FTS5 query (without its operators and the `*` of a prefix), lowercased.
fn query_words(query: &str) -> Vec<String> {
    query
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty() && !["OR", "AND", "NOT", "NEAR", "title", "body"].contains(w))
        .map(str::to_lowercase)
        .collect()
}

/// A snippet the way a hand-written baseline would cut one: about `max` characters of the body
/// from a little before the first occurrence of a query word (ASCII case-insensitive; the
/// body's start when none occurs).
fn snippet(body: &str, words: &[String], max: usize) -> String {
    let lower = body.to_ascii_lowercase();
    let first = words
        .iter()
        .filter_map(|w| lower.find(w.as_str()))
        .min()
        .unwrap_or(0);
    let mut from = first.saturating_sub(40);
    while !body.is_char_boundary(from) {
        from -= 1;
    }
    body[from..].chars().take(max).collect()
}

/// Characters of a snippet (as `morgue search`).
pub const SNIPPET_CHARS: usize = 160;

/// One row of a metadata query.
#[derive(Debug, Clone)]
pub struct Row {
    pub id: String,
    pub title: String,
    pub date: Option<String>,
    pub service: String,
}

/// An open baseline database with its queries.
#[derive(Debug)]
pub struct Db {
    conn: Connection,
}

impl Db {
    pub fn open(db: &Path) -> Result<Db> {
        let conn = Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE)
            .with_context(|| format!("opening {}", db.display()))?;
        Ok(Db { conn })
    }

    /// Articles of a reporter, newest first.
    pub fn by_reporter(&self, name: &str, limit: usize) -> Result<Vec<Row>> {
        let mut st = self.conn.prepare_cached(
            "SELECT a.id, a.title, a.date, a.service FROM reporters r JOIN articles a ON a.id = r.article_id
             WHERE r.name = ?1 ORDER BY a.date DESC LIMIT ?2",
        )?;
        let rows = st.query_map(params![name, limit as i64], row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Articles dated in `[since, until)` (ISO strings), newest first.
    pub fn by_date(&self, since: &str, until: &str, limit: usize) -> Result<Vec<Row>> {
        let mut st = self.conn.prepare_cached(
            "SELECT id, title, date, service FROM articles WHERE date >= ?1 AND date < ?2
             ORDER BY date DESC LIMIT ?3",
        )?;
        let rows = st.query_map(params![since, until, limit as i64], row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The decompressed body of an article.
    pub fn body(&self, id: &str) -> Result<Option<Vec<u8>>> {
        let mut st = self
            .conn
            .prepare_cached("SELECT body FROM articles WHERE id = ?1")?;
        let mut rows = st.query(params![id])?;
        let Some(r) = rows.next()? else {
            return Ok(None);
        };
        let blob: Vec<u8> = r.get(0)?;
        let mut out = Vec::with_capacity(blob.len() * 3);
        ZlibDecoder::new(&blob[..]).read_to_end(&mut out)?;
        Ok(Some(out))
    }

    /// The best `limit` articles for an FTS5 query (`bm25` rank; dated in `[since, until)` when
    /// given), each with a snippet of its decompressed body (FTS5's `snippet()` needs the text
    /// in the table, which a contentless table does not hold).
    /// Without dates, the rank is limited inside FTS5 before the join (its fast path).
    pub fn search(
        &self,
        query: &str,
        dates: Option<(&str, &str)>,
        limit: usize,
    ) -> Result<Vec<TextHit>> {
        let mut st;
        let mut rows = match dates {
            None => {
                st = self.conn.prepare_cached(
                    "SELECT a.id, a.title, a.date, a.service, a.body, f.rank
                     FROM (SELECT rowid, rank FROM fts WHERE fts MATCH ?1 ORDER BY rank LIMIT ?2) f
                     JOIN articles a ON a.rowid = f.rowid ORDER BY f.rank",
                )?;
                st.query(params![query, limit as i64])?
            }
            Some((since, until)) => {
                st = self.conn.prepare_cached(
                    "SELECT a.id, a.title, a.date, a.service, a.body, fts.rank
                     FROM fts JOIN articles a ON a.rowid = fts.rowid
                     WHERE fts MATCH ?1 AND a.date >= ?2 AND a.date < ?3
                     ORDER BY fts.rank LIMIT ?4",
                )?;
                st.query(params![query, since, until, limit as i64])?
            }
        };
        let words = query_words(query);
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let blob: Vec<u8> = r.get(4)?;
            let mut body = Vec::with_capacity(blob.len() * 3);
            ZlibDecoder::new(&blob[..]).read_to_end(&mut body)?;
            out.push(TextHit {
                row: row(r)?,
                rank: r.get(5)?,
                snippet: snippet(&String::from_utf8_lossy(&body), &words, SNIPPET_CHARS),
            });
        }
        Ok(out)
    }

    /// How many articles an FTS5 query matches (dated in `[since, until)` when given).
    pub fn search_count(&self, query: &str, dates: Option<(&str, &str)>) -> Result<u64> {
        let n: i64 = match dates {
            None => self
                .conn
                .prepare_cached("SELECT count(*) FROM fts WHERE fts MATCH ?1")?
                .query_row(params![query], |r| r.get(0))?,
            Some((since, until)) => self
                .conn
                .prepare_cached(
                    "SELECT count(*) FROM fts JOIN articles a ON a.rowid = fts.rowid
                     WHERE fts MATCH ?1 AND a.date >= ?2 AND a.date < ?3",
                )?
                .query_row(params![query, since, until], |r| r.get(0))?,
        };
        Ok(n as u64)
    }

    /// All ids (for sampling).
    pub fn ids(&self) -> Result<Vec<String>> {
        let mut st = self
            .conn
            .prepare("SELECT id FROM articles ORDER BY rowid")?;
        let rows = st.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Row> {
    Ok(Row {
        id: r.get(0)?,
        title: r.get(1)?,
        date: r.get(2)?,
        service: r.get(3)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reused_encoder_round_trips() {
        let mut z = Zlib::new();
        for text in ["one body", "", "another, longer body with more words in it"] {
            let packed = z.compress(text.as_bytes()).unwrap();
            let mut back = Vec::new();
            ZlibDecoder::new(&packed[..])
                .read_to_end(&mut back)
                .unwrap();
            assert_eq!(back, text.as_bytes());
        }
    }

    #[test]
    fn load_and_query() {
        let dir = tempfile::tempdir().unwrap();
        let corpus = dir.path().join("c.jsonl");
        std::fs::write(
            &corpus,
            concat!(
                r#"{"title":"One","date":"2001-02-03T04:05:06Z","service":"S","author":"By Ann Lee, X","body":"first body"}"#,
                "\n",
                r#"{"title":"Two","date":"2001-03-01","service":"S","author":"By Ann Lee and Bo Ek, X","body":"second body"}"#,
                "\n",
                r#"{"title":"Dup","date":"2001-03-02","service":"S","body":"first body"}"#,
                "\n"
            ),
        )
        .unwrap();
        let db = dir.path().join("b.sqlite");
        let loaded = load(&corpus, &db, true, true).unwrap();
        assert_eq!((loaded.lines, loaded.articles, loaded.ids.len()), (3, 2, 2));
        let db = Db::open(&db).unwrap();
        let ann = db.by_reporter("ann lee", 50).unwrap();
        assert_eq!(
            ann.iter().map(|r| r.title.as_str()).collect::<Vec<_>>(),
            ["Two", "One"]
        );
        let march = db.by_date("2001-03-01", "2001-04-01", 50).unwrap();
        assert_eq!(march.len(), 1);
        assert_eq!(db.body(&loaded.ids[0]).unwrap().unwrap(), b"first body");
        // The FTS5 table: every stored article once (the duplicate's title is not added).
        assert_eq!(db.search_count("body", None).unwrap(), 2);
        assert_eq!(db.search_count("dup", None).unwrap(), 0);
        assert_eq!(db.search_count("title:two", None).unwrap(), 1);
        assert_eq!(
            db.search_count("body", Some(("2001-03-01", "2001-04-01")))
                .unwrap(),
            1
        );
        let hits = db.search("second OR first", None, 10).unwrap();
        assert_eq!(hits.len(), 2);
        let hit = &db.search("\"second body\"", None, 10).unwrap()[0];
        assert_eq!(
            (hit.row.title.as_str(), hit.snippet.as_str()),
            ("Two", "second body")
        );
        assert!(fts_bytes(dir.path().join("b.sqlite").as_path()).unwrap() > 0);
        assert!(db.body("nope").unwrap().is_none());
    }
}
