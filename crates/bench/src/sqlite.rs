//! The SQLite baseline: what a competent engineer would build instead of morgue.
//!
//! One table of articles keyed by the blake3 hex of the body, bodies zlib-compressed (level 6),
//! a reporters table, indexes on reporter name, service and date, the whole load in one
//! transaction, `INSERT OR IGNORE` for repeated bodies. WAL journal, `synchronous = FULL` (the
//! commit is durable, as morgue's flush is).

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

/// Loads a corpus file into a new database at `db` (removed first if present), streaming.
pub fn load(corpus_path: &Path, db: &Path, keep_ids: bool) -> Result<Loaded> {
    remove_db(db)?;
    let mut conn = open(db)?;
    conn.execute_batch(SCHEMA)?;
    let tx = conn.transaction()?;
    let mut out = Loaded::default();
    {
        let mut insert_article = tx.prepare(
            "INSERT OR IGNORE INTO articles (id, title, date, service, body) VALUES (?1, ?2, ?3, ?4, ?5)",
        )?;
        let mut insert_reporter =
            tx.prepare("INSERT INTO reporters (article_id, name) VALUES (?1, ?2)")?;
        let mut zlib = Zlib::new();
        out.lines = corpus::for_each(corpus_path, |a: Article| {
            let id = blake3::hash(a.body.as_bytes()).to_hex().to_string();
            let body = zlib.compress(a.body.as_bytes())?;
            let n = insert_article.execute(params![id, a.title, a.date, a.service, body])?;
            if n == 1 {
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
        let loaded = load(&corpus, &db, true).unwrap();
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
        assert!(db.body("nope").unwrap().is_none());
    }
}
