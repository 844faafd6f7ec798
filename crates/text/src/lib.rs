//! morgue-text: the full-text index of a morgue archive.
//!
//! A [tantivy](https://docs.rs/tantivy) index (version pinned: `=0.27.0`) in a directory of
//! its own (morgue-meta puts it in the archive's `text/`), with morgue's own analyzer
//! ([`analyze`]: Unicode words, lowercased, diacritics folded; CJK, Thai, Lao, Khmer and
//! Burmese as character bigrams; no stemming) and query syntax ([`TextQuery`]). Each document
//! is one article: its title and body, indexed with positions (for phrases), and its sequence
//! number `seq` (indexed and a fast field), by which hits map back to articles and deletes are
//! made. No text is stored: snippets are cut from the body the caller reads from the archive
//! ([`snippet`]). The index is derived data: each commit records in its payload the sequence
//! number up to which it covers the archive ([`TextIndex::covered`]), so that its owner can
//! catch up after a crash; [`TextIndex::clear`] and re-adding everything rebuilds it.
//!
//! ```
//! use morgue_text::{TextIndex, TextQuery};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = tempfile::tempdir()?;
//! let index = TextIndex::open_writable(dir.path())?;
//! index.add(0, "Dam on the Mekong", "Vávra visited the 水电站 in Laos.")?;
//! index.add(1, "Rates", "Interest rates rose.")?;
//! index.commit(2)?;
//! assert_eq!(index.covered()?, Some(2));
//!
//! let query = TextQuery::parse("vavra 水电")?;
//! let hits = index.search(&query, None)?;
//! assert_eq!(hits.iter().map(|h| h.seq).collect::<Vec<_>>(), [0]);
//! let snippet = morgue_text::snippet(&query, "Vávra visited the 水电站 in Laos.", 80);
//! assert_eq!(snippet.marked("[", "]"), "[Vávra] visited the [水电]站 in Laos.");
//! # Ok(())
//! # }
//! ```
#![deny(missing_docs)]

pub mod analyze;
mod exclude;
mod pread;
mod query;
mod readonly;
mod snippet;

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::Column;
use tantivy::query::{BooleanQuery, Occur, PhrasePrefixQuery, PhraseQuery, Query, TermQuery};
use tantivy::schema::{
    Field, IndexRecordOption, NumericOptions, Schema, TextFieldIndexing, TextOptions,
};
use tantivy::tokenizer::{Token, TokenStream, Tokenizer};
use tantivy::{
    DocId, Index, IndexReader, IndexWriter, ReloadPolicy, Score, Searcher, SegmentReader, Term,
};

pub use query::{Atom, QueryError, Scope, TextQuery};
pub use snippet::{Snippet, snippet};

/// The name of the analyzer in the index's schema.
const TOKENIZER: &str = "morgue";

/// The version of the analyzer and schema: an index written by another one is rebuilt. Part of
/// the commit payload.
pub const VERSION: u32 = 1;

/// How many distinct words a prefix (`word*`) expands to, at most, per field and segment.
pub const MAX_EXPANSIONS: u32 = 1000;

/// Memory the index writer may use before it writes a segment.
const WRITER_BYTES: usize = 64 << 20;

/// The most documents one merge in the background may merge (see [`BoundedMerges`]): what
/// bounds the memory of the text index's merges during an import, whatever the archive's size.
const MAX_BACKGROUND_MERGE_DOCS: u64 = 1_000_000;

/// A segment that [`TextIndex::merge`] leaves as it is holds at least this many times the
/// live documents of all smaller segments together.
pub const KEEP_RATIO: u64 = 4;

/// Which segments [`TextIndex::merge`] merges, given each segment's (live documents, deleted
/// documents): their positions in `segments`, ascending. Taken from the largest down, each
/// segment is kept as it is while it has no deleted document and holds at least
/// [`KEEP_RATIO`] times the live documents of all smaller segments together; the first that
/// does not, and every smaller one, are merged into one. So the merged segments, with the
/// kept ones, again satisfy the rule (a second merge merges nothing), a segment with a
/// removed article is always rewritten (its words leave the disk), and one segment is merged
/// alone only to drop its deleted documents.
pub fn merge_plan(segments: &[(u32, u32)]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..segments.len()).collect();
    order.sort_by_key(|&i| Reverse(segments[i].0));
    let mut smaller: u64 = segments.iter().map(|s| u64::from(s.0)).sum();
    let mut kept = 0;
    for &i in &order {
        let (live, deleted) = segments[i];
        smaller -= u64::from(live);
        if deleted > 0 || u64::from(live) < KEEP_RATIO * smaller {
            break;
        }
        kept += 1;
    }
    let mut merged = order.split_off(kept);
    if let [only] = merged[..]
        && segments[only].1 == 0
    {
        merged.clear();
    }
    merged.sort_unstable();
    merged
}

/// Result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Errors of the text index.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// There is no index in the directory.
    #[error("no text index in {dir}")]
    Missing {
        /// The directory.
        dir: PathBuf,
    },
    /// From tantivy: I/O, a damaged index, a lock.
    #[error("text index {dir}: {source}")]
    Tantivy {
        /// The directory.
        dir: PathBuf,
        /// tantivy's error.
        source: tantivy::TantivyError,
    },
    /// A query that does not parse.
    #[error(transparent)]
    Query(#[from] QueryError),
    /// A write through an index opened for reading.
    #[error("text index {dir} is open for reading only")]
    ReadOnly {
        /// The directory.
        dir: PathBuf,
    },
}

/// One hit: the article's sequence number and its BM25 score.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Found {
    /// The article's sequence number.
    pub seq: u64,
    /// Its score (BM25, summed over the query's terms and fields).
    pub score: f32,
}

#[derive(Debug, Clone, Copy)]
struct Fields {
    title: Field,
    body: Field,
    seq: Field,
}

/// The text index of one directory. `Send + Sync`.
pub struct TextIndex {
    dir: PathBuf,
    index: Index,
    /// Made by the first search, not at open: a reader opens every segment (their term
    /// dictionaries, norms and `seq` columns), which an import or `optimize` never needs.
    reader: Mutex<Option<IndexReader>>,
    /// Set by a commit or a merge: the reader is reloaded when next used, not at once (an
    /// import commits many times and searches never).
    stale: AtomicBool,
    fields: Fields,
    writer: Option<Mutex<IndexWriter>>,
}

impl std::fmt::Debug for TextIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TextIndex")
            .field("dir", &self.dir)
            .field("writable", &self.writer.is_some())
            .finish_non_exhaustive()
    }
}

fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let text = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(TOKENIZER)
            .set_index_option(IndexRecordOption::WithFreqsAndPositions),
    );
    let title = b.add_text_field("title", text.clone());
    let body = b.add_text_field("body", text);
    let seq = b.add_u64_field("seq", NumericOptions::default().set_indexed().set_fast());
    (b.build(), Fields { title, body, seq })
}

/// tantivy's view of [`analyze::analyze`]. Each clone (tantivy keeps one per field and
/// indexing thread) reuses its tokens, and their strings, from one text to the next.
#[derive(Debug, Clone, Default)]
struct MorgueTokenizer {
    tokens: Vec<Token>,
}

/// Tokens kept for reuse past a text, at most: a huge body's do not stay allocated.
const KEPT_TOKENS: usize = 1 << 16;

struct Tokens<'a> {
    buffer: &'a mut Vec<Token>,
    len: usize,
    next: usize,
}

impl Tokenizer for MorgueTokenizer {
    type TokenStream<'a> = Tokens<'a>;
    fn token_stream<'a>(&'a mut self, text: &'a str) -> Tokens<'a> {
        if self.tokens.len() > KEPT_TOKENS {
            self.tokens.truncate(KEPT_TOKENS);
            self.tokens.shrink_to_fit();
        }
        let tokens = &mut self.tokens;
        let mut len = 0;
        analyze::analyze_lent(text, &mut |term, from, to, position| {
            if let Some(t) = tokens.get_mut(len) {
                t.text.clear();
                t.text.push_str(term);
                t.offset_from = from;
                t.offset_to = to;
                t.position = position;
                t.position_length = 1;
            } else {
                tokens.push(Token {
                    offset_from: from,
                    offset_to: to,
                    position,
                    text: term.to_string(),
                    position_length: 1,
                });
            }
            len += 1;
        });
        Tokens {
            buffer: tokens,
            len,
            next: 0,
        }
    }
}

impl TokenStream for Tokens<'_> {
    fn advance(&mut self) -> bool {
        self.next += 1;
        self.next <= self.len
    }
    fn token(&self) -> &Token {
        &self.buffer[self.next - 1]
    }
    fn token_mut(&mut self) -> &mut Token {
        &mut self.buffer[self.next - 1]
    }
}

/// The commit payload: `morgue-text VERSION covered SEQ`.
fn payload(covered: u64) -> String {
    format!("morgue-text {VERSION} covered {covered}")
}

fn parse_payload(p: &str) -> Option<u64> {
    let rest = p.strip_prefix(&format!("morgue-text {VERSION} covered "))?;
    rest.parse().ok()
}

impl TextIndex {
    /// Whether `dir` holds an index (its `meta.json`).
    pub fn exists(dir: &Path) -> bool {
        dir.join("meta.json").is_file()
    }

    /// Opens the index in `dir` for reading; [`Error::Missing`] when there is none.
    pub fn open(dir: &Path) -> Result<TextIndex> {
        if !Self::exists(dir) {
            return Err(Error::Missing {
                dir: dir.to_path_buf(),
            });
        }
        Self::open_in(dir, false)
    }

    /// Opens the index in `dir` for writing, creating the directory and an empty index when
    /// missing. An index of another schema is replaced by an empty one (its owner rebuilds).
    pub fn open_writable(dir: &Path) -> Result<TextIndex> {
        Self::open_in(dir, true)
    }

    fn open_in(dir: &Path, write: bool) -> Result<TextIndex> {
        let err = |source| Error::Tantivy {
            dir: dir.to_path_buf(),
            source,
        };
        let (schema, fields) = schema();
        let exists = Self::exists(dir);
        if !exists {
            std::fs::create_dir_all(dir).map_err(|e| err(e.into()))?;
        }
        // Writers read through pread (see the pread module), readers through the map; on
        // read-only media with a lock that needs no file.
        let mmap = || {
            tantivy::directory::MmapDirectory::open(dir)
                .map_err(|e| err(tantivy::TantivyError::from(e)))
        };
        let directory: Box<dyn tantivy::Directory> = if write {
            Box::new(pread::PreadDir::open(dir).map_err(err)?)
        } else if readonly::is_read_only(dir) {
            Box::new(readonly::ReadOnlyDir(mmap()?))
        } else {
            Box::new(mmap()?)
        };
        let index = if exists {
            let index = Index::open(directory).map_err(err)?;
            if index.schema() != schema && write {
                drop(index);
                std::fs::remove_dir_all(dir).map_err(|e| err(e.into()))?;
                return Self::open_in(dir, write);
            }
            index
        } else {
            Index::create(directory, schema, tantivy::IndexSettings::default()).map_err(err)?
        };
        index
            .tokenizers()
            .register(TOKENIZER, MorgueTokenizer::default());
        let writer = if write {
            let w: IndexWriter = index.writer(WRITER_BYTES).map_err(err)?;
            w.set_merge_policy(Box::new(BoundedMerges::new(MAX_BACKGROUND_MERGE_DOCS)));
            Some(Mutex::new(w))
        } else {
            None
        };
        Ok(TextIndex {
            dir: dir.to_path_buf(),
            index,
            reader: Mutex::new(None),
            stale: AtomicBool::new(false),
            fields,
            writer,
        })
    }

    fn err(&self, source: tantivy::TantivyError) -> Error {
        Error::Tantivy {
            dir: self.dir.clone(),
            source,
        }
    }

    fn writer(&self) -> Result<std::sync::MutexGuard<'_, IndexWriter>> {
        match &self.writer {
            Some(w) => Ok(w.lock().unwrap_or_else(PoisonError::into_inner)),
            None => Err(Error::ReadOnly {
                dir: self.dir.clone(),
            }),
        }
    }

    /// The directory of the index.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The sequence number up to which (exclusive) the last commit covers the archive, from
    /// its payload; `None` for an index never committed by this version of morgue-text (to be
    /// rebuilt).
    pub fn covered(&self) -> Result<Option<u64>> {
        let metas = self.index.load_metas().map_err(|e| self.err(e))?;
        Ok(metas.payload.as_deref().and_then(parse_payload))
    }

    /// Adds an article (not searchable before [`TextIndex::commit`]).
    pub fn add(&self, seq: u64, title: &str, body: &str) -> Result<()> {
        let mut doc = tantivy::TantivyDocument::default();
        doc.add_u64(self.fields.seq, seq);
        doc.add_text(self.fields.title, title);
        doc.add_text(self.fields.body, body);
        self.writer()?.add_document(doc).map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Deletes the article `seq` (at the next commit; documents added before this call only).
    pub fn delete(&self, seq: u64) -> Result<()> {
        self.writer()?
            .delete_term(Term::from_field_u64(self.fields.seq, seq));
        Ok(())
    }

    /// Deletes every document (at the next commit): the start of a rebuild.
    pub fn clear(&self) -> Result<()> {
        self.writer()?
            .delete_all_documents()
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Commits what was added and deleted, recording that the index now covers every article
    /// below `covered`, and makes it searchable.
    pub fn commit(&self, covered: u64) -> Result<()> {
        {
            let mut w = self.writer()?;
            let mut prepared = w.prepare_commit().map_err(|e| self.err(e))?;
            prepared.set_payload(&payload(covered));
            prepared.commit().map_err(|e| self.err(e))?;
        }
        self.stale.store(true, Ordering::Release);
        Ok(())
    }

    /// The searcher of the last commit: the reader is made on first use, and reloaded if a
    /// commit or a merge came since it was last used.
    fn searcher(&self) -> Result<Searcher> {
        let mut slot = self.reader.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(reader) = slot.as_ref() {
            if self.stale.swap(false, Ordering::AcqRel)
                && let Err(e) = reader.reload()
            {
                self.stale.store(true, Ordering::Release);
                return Err(self.err(e));
            }
            return Ok(reader.searcher());
        }
        self.stale.store(false, Ordering::Release);
        let reader: IndexReader = self
            .index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()
            .map_err(|e| self.err(e))?;
        let searcher = reader.searcher();
        *slot = Some(reader);
        Ok(searcher)
    }

    /// The segments of the last commit, from the index's list of them (no segment is opened).
    fn segment_metas(&self) -> Result<Vec<tantivy::SegmentMeta>> {
        self.index
            .searchable_segment_metas()
            .map_err(|e| self.err(e))
    }

    /// Merges the segments [`merge_plan`] picks into one (dropping their deleted documents),
    /// and waits for it: the small segments, not the large ones that hold [`KEEP_RATIO`] times
    /// all smaller ones together and nothing deleted. After a merge the index has at most
    /// about log4(documents) segments, and merging after a small import rewrites what the
    /// import added, not the whole index.
    pub fn merge(&self) -> Result<()> {
        let mut w = self.writer()?;
        let metas = self.segment_metas()?;
        let sizes: Vec<(u32, u32)> = metas
            .iter()
            .map(|m| (m.num_docs(), m.num_deleted_docs()))
            .collect();
        let ids: Vec<_> = merge_plan(&sizes)
            .into_iter()
            .map(|i| metas[i].id())
            .collect();
        // A segment's files are kept while anything holds its meta: let them go before the
        // merge, whose end deletes the files of the merged segments.
        drop(metas);
        if !ids.is_empty() {
            w.merge(&ids).wait().map_err(|e| self.err(e))?;
            self.stale.store(true, Ordering::Release);
        }
        Ok(())
    }

    /// Number of segments (for tests and stats).
    pub fn segments(&self) -> Result<usize> {
        Ok(self.segment_metas()?.len())
    }

    /// Number of documents (live) in the index.
    pub fn len(&self) -> Result<u64> {
        let metas = self.segment_metas()?;
        Ok(metas.iter().map(|m| u64::from(m.num_docs())).sum())
    }

    /// Whether the index holds no document.
    pub fn is_empty(&self) -> Result<bool> {
        Ok(self.len()? == 0)
    }

    /// The tantivy query of a parsed [`TextQuery`].
    pub fn tantivy_query(&self, query: &TextQuery) -> Box<dyn Query> {
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for group in &query.groups {
            // Alternatives (`OR`) stay a union of unions, although one flat union of term
            // queries is what block-max WAND can prune: the flat union would add the scores of
            // three or more terms in an order that depends on pruning, so the best n could
            // differ from every hit truncated in the last bit of a score.
            let mut alternatives: Vec<Box<dyn Query>> =
                group.iter().map(|a| self.atom_query(a)).collect();
            let q = if alternatives.len() == 1 {
                alternatives.remove(0)
            } else {
                Box::new(BooleanQuery::union(alternatives))
            };
            clauses.push((Occur::Must, q));
        }
        for a in &query.excluded {
            clauses.push((
                Occur::MustNot,
                Box::new(exclude::Guarded(self.atom_query(a))),
            ));
        }
        // One required clause and nothing excluded (a query of one word or phrase): the clause
        // itself, which matches and scores the same. Wrapped, tantivy sees a boolean query of
        // one opaque scorer and must score every match; bare, a word searched in title and
        // body is a union of term queries, which skips the blocks of postings that cannot rank
        // among the best kept so far (block-max WAND, [`BestHits`]).
        if clauses.len() == 1 && clauses[0].0 == Occur::Must {
            return clauses.remove(0).1;
        }
        Box::new(BooleanQuery::new(clauses))
    }

    fn atom_query(&self, a: &Atom) -> Box<dyn Query> {
        let fields: &[Field] = match a.scope {
            Scope::Any => &[self.fields.title, self.fields.body],
            Scope::Title => &[self.fields.title],
            Scope::Body => &[self.fields.body],
        };
        let mut per: Vec<Box<dyn Query>> = fields
            .iter()
            .map(|&f| {
                let terms: Vec<Term> = a
                    .terms
                    .iter()
                    .map(|t| Term::from_field_text(f, t))
                    .collect();
                let q: Box<dyn Query> = if a.prefix {
                    let mut q = PhrasePrefixQuery::new(terms);
                    q.set_max_expansions(MAX_EXPANSIONS);
                    Box::new(q)
                } else if terms.len() == 1 {
                    Box::new(TermQuery::new(
                        terms.into_iter().next().expect("one term"),
                        IndexRecordOption::WithFreqs,
                    ))
                } else {
                    Box::new(PhraseQuery::new(terms))
                };
                q
            })
            .collect();
        if per.len() == 1 {
            per.remove(0)
        } else {
            Box::new(BooleanQuery::union(per))
        }
    }

    /// Every article matching `query`, best first (BM25; ties: the higher seq first); with a
    /// limit, the best `limit` of them, the same as every one truncated, but kept in a heap of
    /// `limit` per segment instead of collecting and sorting every match (a common word matches
    /// hundreds of thousands of articles at 10,000,000).
    pub fn search(&self, query: &TextQuery, limit: Option<usize>) -> Result<Vec<Found>> {
        self.search_read(query, limit).map(|(found, _)| found)
    }

    /// [`TextIndex::search`], with the commit it read: equal to what [`TextIndex::reload`] says
    /// later exactly when the index searched then is the index searched now.
    pub fn search_read(
        &self,
        query: &TextQuery,
        limit: Option<usize>,
    ) -> Result<(Vec<Found>, Read)> {
        let q = self.tantivy_query(query);
        let searcher = self.searcher()?;
        let read = Read::of(&searcher);
        let mut found = match limit {
            None => searcher.search(&*q, &AllHits { scores: true }),
            Some(limit) => searcher.search(&*q, &BestHits { limit }),
        }
        .map_err(|e| self.err(e))?;
        found.sort_by_key(|f| Reverse(Ranked(*f)));
        if let Some(limit) = limit {
            found.truncate(limit);
        }
        Ok((found, read))
    }

    /// Reloads the reader to the index's last commit (cheap when nothing was committed since:
    /// the segments' files stay mapped) and says which commit the next search reads. For an
    /// index opened, and searched, before its archive was.
    pub fn reload(&self) -> Result<Read> {
        self.stale.store(true, Ordering::Release);
        Ok(Read::of(&self.searcher()?))
    }

    /// The seq of every document in the index, sorted (a seq indexed twice appears twice): for
    /// verify.
    pub fn seqs(&self) -> Result<Vec<u64>> {
        let searcher = self.searcher()?;
        let mut found = searcher
            .search(&tantivy::query::AllQuery, &AllHits { scores: false })
            .map_err(|e| self.err(e))?;
        let mut seqs: Vec<u64> = found.drain(..).map(|f| f.seq).collect();
        seqs.sort_unstable();
        Ok(seqs)
    }
}

/// What a search read of the index: its segments, and the deletions of each.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Read(Vec<(tantivy::index::SegmentId, Option<u64>)>);

impl Read {
    fn of(searcher: &Searcher) -> Read {
        Read(
            searcher
                .segment_readers()
                .iter()
                .map(|r| (r.segment_id(), r.delete_opstamp()))
                .collect(),
        )
    }
}

/// Collects every hit's seq (and score).
struct AllHits {
    scores: bool,
}

struct SegmentHits {
    seqs: Column<u64>,
    found: Vec<Found>,
}

impl Collector for AllHits {
    type Fruit = Vec<Found>;
    type Child = SegmentHits;

    fn for_segment(&self, _: u32, segment: &SegmentReader) -> tantivy::Result<SegmentHits> {
        Ok(SegmentHits {
            seqs: segment.fast_fields().u64("seq")?,
            found: Vec::new(),
        })
    }

    fn requires_scoring(&self) -> bool {
        self.scores
    }

    fn merge_fruits(&self, fruits: Vec<Vec<Found>>) -> tantivy::Result<Vec<Found>> {
        Ok(fruits.into_iter().flatten().collect())
    }
}

impl SegmentCollector for SegmentHits {
    type Fruit = Vec<Found>;

    fn collect(&mut self, doc: DocId, score: Score) {
        if let Some(seq) = self.seqs.first(doc) {
            self.found.push(Found { seq, score });
        }
    }

    fn harvest(self) -> Vec<Found> {
        self.found
    }
}

/// A hit in the order of results: the greater is the better (higher score, then higher seq).
#[derive(Debug, Clone, Copy)]
struct Ranked(Found);

impl Ord for Ranked {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0
            .score
            .total_cmp(&other.0.score)
            .then(self.0.seq.cmp(&other.0.seq))
    }
}

impl PartialOrd for Ranked {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Ranked {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other).is_eq()
    }
}

impl Eq for Ranked {}

/// Collects the best `limit` hits of each segment (by [`Ranked`]).
struct BestHits {
    limit: usize,
}

struct SegmentBest {
    seqs: Column<u64>,
    limit: usize,
    /// The best hits so far, the worst of them on top.
    heap: BinaryHeap<Reverse<Ranked>>,
}

impl Collector for BestHits {
    type Fruit = Vec<Found>;
    type Child = SegmentBest;

    fn for_segment(&self, _: u32, segment: &SegmentReader) -> tantivy::Result<SegmentBest> {
        Ok(SegmentBest {
            seqs: segment.fast_fields().u64("seq")?,
            limit: self.limit,
            heap: BinaryHeap::with_capacity(self.limit.min(1 << 16) + 1),
        })
    }

    fn requires_scoring(&self) -> bool {
        true
    }

    fn merge_fruits(&self, fruits: Vec<Vec<Found>>) -> tantivy::Result<Vec<Found>> {
        Ok(fruits.into_iter().flatten().collect())
    }

    /// As tantivy's own top-documents collector: the query is told, after each hit kept, the
    /// score a hit must now beat ([`SegmentBest::threshold`]), and may skip what cannot (whole
    /// blocks of postings, by their maximum score). The hits kept are the same as if every
    /// match were collected.
    fn collect_segment(
        &self,
        weight: &dyn tantivy::query::Weight,
        segment_ord: u32,
        reader: &SegmentReader,
    ) -> tantivy::Result<Vec<Found>> {
        let mut best = self.for_segment(segment_ord, reader)?;
        let alive = reader.alive_bitset();
        weight.for_each_pruning(Score::MIN, reader, &mut |doc, score| {
            if alive.is_none_or(|a| a.is_alive(doc)) {
                best.collect(doc, score);
            }
            best.threshold()
        })?;
        Ok(best.harvest())
    }
}

impl SegmentBest {
    /// The score a hit must exceed to be passed on to [`SegmentCollector::collect`]: any score
    /// until `limit` hits are kept, then just below the worst kept — a hit of the same score
    /// may still rank above it (the higher seq wins a tie), so it must not be skipped.
    fn threshold(&self) -> Score {
        if self.limit == 0 {
            return Score::INFINITY;
        }
        match self.heap.peek() {
            Some(Reverse(Ranked(worst))) if self.heap.len() >= self.limit => {
                worst.score.next_down()
            }
            _ => Score::MIN,
        }
    }
}

impl SegmentCollector for SegmentBest {
    type Fruit = Vec<Found>;

    fn collect(&mut self, doc: DocId, score: Score) {
        let Some(seq) = self.seqs.first(doc) else {
            return;
        };
        let hit = Reverse(Ranked(Found { seq, score }));
        if self.heap.len() < self.limit {
            self.heap.push(hit);
        } else if self.heap.peek().is_some_and(|worst| hit < *worst) {
            // `hit` ranks above the worst kept (the order is reversed).
            self.heap.pop();
            self.heap.push(hit);
        }
    }

    fn harvest(self) -> Vec<Found> {
        self.heap.into_iter().map(|Reverse(Ranked(f))| f).collect()
    }
}

#[allow(dead_code)]
fn _assert_send_sync() {
    fn is<T: Send + Sync>() {}
    is::<TextIndex>();
}

#[cfg(test)]
mod tests;

/// The merges the writer runs in the background while an import adds documents: tantivy's
/// [`LogMergePolicy`](tantivy::indexer::LogMergePolicy) (segments of similar sizes, eight or
/// more at a time), restricted to segments of at most an eighth of `max_docs` documents and
/// with each merge split into groups of at most `max_docs` documents. A merge's memory and
/// time follow the documents it merges: without the bound, the default policy merged segments
/// of up to 10,000,000 documents during an import, so the import's memory grew with the
/// archive. What is left unmerged, [`TextIndex::merge`] (`optimize`) merges.
#[derive(Debug)]
struct BoundedMerges {
    log: tantivy::indexer::LogMergePolicy,
    max_docs: u64,
}

impl BoundedMerges {
    fn new(max_docs: u64) -> Self {
        let mut log = tantivy::indexer::LogMergePolicy::default();
        log.set_max_docs_before_merge(usize::try_from(max_docs / 8).unwrap_or(usize::MAX));
        BoundedMerges { log, max_docs }
    }
}

impl tantivy::indexer::MergePolicy for BoundedMerges {
    fn compute_merge_candidates(
        &self,
        segments: &[tantivy::index::SegmentMeta],
    ) -> Vec<tantivy::indexer::MergeCandidate> {
        let docs = |id: &tantivy::index::SegmentId| {
            segments
                .iter()
                .find(|s| s.id() == *id)
                .map_or(0, |s| u64::from(s.num_docs()))
        };
        let mut merges = Vec::new();
        for candidate in self.log.compute_merge_candidates(segments) {
            // Smallest first, each segment's size looked up once.
            let mut sized: Vec<(u64, tantivy::index::SegmentId)> =
                candidate.0.into_iter().map(|id| (docs(&id), id)).collect();
            sized.sort_by_key(|&(n, _)| n);
            let mut group = Vec::new();
            let mut total = 0;
            for (n, id) in sized {
                if total + n > self.max_docs && !group.is_empty() {
                    if group.len() > 1 {
                        merges.push(tantivy::indexer::MergeCandidate(std::mem::take(&mut group)));
                    } else {
                        group.clear();
                    }
                    total = 0;
                }
                total += n;
                group.push(id);
            }
            if group.len() > 1 {
                merges.push(tantivy::indexer::MergeCandidate(group));
            }
        }
        merges
    }
}
