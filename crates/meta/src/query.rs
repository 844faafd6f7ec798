//! Queries: a backward walk over the posting chunks of the most selective index.

use crate::keys::{self, DATE_TAG, NAME_INDEXES};
use crate::posting::{self, Pos};
use crate::{Archive, BlobId, Error, Record, Result, Seq, corrupted, normalize};

/// A metadata query. All given criteria must match; results come newest first (articles of the
/// same date key: the last stored first), articles without a date last.
#[derive(Debug, Clone, Default)]
pub struct Query {
    /// Reporter name, matched case-insensitively with whitespace collapsed.
    pub reporter: Option<String>,
    /// Service name, matched the same way.
    pub service: Option<String>,
    /// First day included.
    pub since: Option<chrono::NaiveDate>,
    /// Last day included.
    pub until: Option<chrono::NaiveDate>,
    /// At most this many results.
    pub limit: Option<usize>,
    /// Resume strictly after this position (from [`Hit::cursor`]).
    pub after: Option<Cursor>,
}

/// An opaque position in query order; displays as and parses from 80 hex characters (the
/// article's 8-byte date key, then its id).
///
/// A cursor that went through its text form finds its place again through the article's id;
/// when that article was removed meanwhile, the next page starts at the first article of the
/// same date key (it may repeat a few articles of that date, never skips one).
#[derive(Debug, Clone, Copy)]
pub struct Cursor {
    pub(crate) date_key: u64,
    pub(crate) id: BlobId,
    /// The article's sequence number, when known (cursors from hits; not in the text form).
    pub(crate) seq: Option<Seq>,
}

/// Two cursors are equal when their text forms are.
impl PartialEq for Cursor {
    fn eq(&self, other: &Self) -> bool {
        (self.date_key, self.id) == (other.date_key, other.id)
    }
}

impl Eq for Cursor {}

impl std::fmt::Display for Cursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:016x}{}", self.date_key, self.id)
    }
}

impl std::str::FromStr for Cursor {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let bad = || Error::InvalidCursor(s.to_string());
        if s.len() != 80 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(bad());
        }
        let date_key = u64::from_str_radix(&s[..16], 16).map_err(|_| bad())?;
        let id = s[16..].parse::<BlobId>().map_err(|_| bad())?;
        Ok(Cursor {
            date_key,
            id,
            seq: None,
        })
    }
}

/// One query result.
#[derive(Debug, Clone)]
pub struct Hit {
    /// The article id.
    pub id: BlobId,
    /// Its record.
    pub record: Record,
    /// Where to resume after this hit.
    pub cursor: Cursor,
}

/// The index a query walks (see [`Hits::index`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Index {
    /// The reporter's posting chunks (the query names a reporter with fewer articles than its
    /// service, if it names one).
    Reporter,
    /// The service's posting chunks.
    Service,
    /// The date index (no name given).
    Date,
}

impl Index {
    /// The index's name, as in messages: `"reporter"`, `"service"` or `"date"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Index::Reporter => "reporter",
            Index::Service => "service",
            Index::Date => "date",
        }
    }
}

/// The results of [`Archive::query`]: newest first, undated last.
///
/// Besides the hits, it tells which index it walks and how many index entries it has visited,
/// so that callers and tests can see that a query reads only entries that can match.
pub struct Hits<'a> {
    archive: &'a Archive,
    /// Chunk prefix of the walked name; `None` when nothing can match or the walk is over.
    prefix: Option<Vec<u8>>,
    /// One walk per epoch of the name (one in all for an index without epochs), merged.
    walks: Vec<Walk>,
    /// Names checked on the record: index position and normalized name.
    check: Vec<(usize, String)>,
    remaining: usize,
    visited: u64,
    index: Option<Index>,
}

impl std::fmt::Debug for Hits<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hits")
            .field("index", &self.index)
            .field("walks", &self.walks.len())
            .field("visited", &self.visited)
            .field("remaining", &self.remaining)
            .finish_non_exhaustive()
    }
}

/// A backward walk over the chunks of one name, between two stored positions (within one
/// epoch, in an index that keeps them).
#[derive(Debug)]
struct Walk {
    /// Entries of the current chunk not yet visited, ascending (visited from the end).
    pending: Vec<Pos>,
    /// Start of the current chunk: the next chunk read is the one below it.
    chunk_start: Option<Pos>,
    /// Every entry visited from now on is below this (the cursor, the `until` bound, or the
    /// last entry visited).
    below: Pos,
    /// Entries below this are out of range.
    lo: Pos,
    /// The walk has nothing more.
    done: bool,
}

impl Walk {
    fn new(lo: Pos, below: Pos) -> Walk {
        Walk {
            pending: Vec::new(),
            chunk_start: None,
            below,
            lo,
            done: below <= lo,
        }
    }

    /// The next entry of the walk (not taken), reading chunks as needed.
    fn head(&mut self, archive: &Archive, prefix: &[u8]) -> Result<Option<Pos>> {
        while !self.done {
            while let Some(&pos) = self.pending.last() {
                if pos >= self.below {
                    // Above the bound, or seen already in a chunk a commit split.
                    self.pending.pop();
                    continue;
                }
                if pos < self.lo {
                    break;
                }
                return Ok(Some(pos));
            }
            // Left pending: an entry below `lo`, so the walk is over.
            if !self.pending.is_empty() || !self.next_chunk(archive, prefix)? {
                self.done = true;
                self.pending.clear();
            }
        }
        Ok(None)
    }

    /// Loads the chunk below the current one into `pending`; false when there is none.
    fn next_chunk(&mut self, archive: &Archive, prefix: &[u8]) -> Result<bool> {
        // The chunk holding `below - 1` starts below `below`; later ones start below the
        // current chunk's start.
        let upper = match self.chunk_start {
            Some(start) if start <= self.lo => return Ok(false),
            Some(start) => start.min(self.below),
            None => self.below,
        };
        let mut range = archive
            .tree
            .range::<Vec<u8>, _>(prefix.to_vec()..posting::key(prefix, upper));
        let Some(kv) = range.next_back() else {
            return Ok(false);
        };
        let (k, v) = kv.map_err(Error::Store)?;
        let start = match posting::parse_key(&k) {
            Some((p, start)) if p == prefix => start,
            _ => return Err(corrupted(&k)),
        };
        let entries = posting::decode(&v).ok_or_else(|| corrupted(&k))?;
        self.chunk_start = Some(start);
        self.pending = entries;
        Ok(true)
    }
}

impl Hits<'_> {
    /// Index entries visited so far (matching or not).
    pub fn visited(&self) -> u64 {
        self.visited
    }

    /// The index walked, or `None` when the query cannot match anything (an unknown name, an
    /// empty date range) and no index is read.
    pub fn index(&self) -> Option<Index> {
        self.index
    }

    /// Takes the newest entry left in all the walks and returns its position (the date key
    /// without the epoch); `None` when every walk is over.
    pub(crate) fn take_next(&mut self) -> Result<Option<Pos>> {
        let Some(prefix) = &self.prefix else {
            return Ok(None);
        };
        let mut best: Option<(usize, Pos)> = None;
        for (i, walk) in self.walks.iter_mut().enumerate() {
            if let Some((dk, seq)) = walk.head(self.archive, prefix)? {
                let real = (keys::real_date(dk), seq);
                if best.is_none_or(|(_, b)| real > b) {
                    best = Some((i, real));
                }
            }
        }
        let Some((i, real)) = best else {
            return Ok(None);
        };
        let walk = &mut self.walks[i];
        walk.below = walk.pending.pop().expect("the head is pending");
        Ok(Some(real))
    }

    /// The hit at `pos`, if its record is there and matches the names checked on it.
    fn hit_at(&self, (date_key, seq): Pos) -> Result<Option<Hit>> {
        let Some((id, record)) = self.archive.live_record(seq)? else {
            return Ok(None);
        };
        Ok(carries(&record, &self.check).then_some(Hit {
            id,
            record,
            cursor: Cursor {
                date_key,
                id,
                seq: Some(seq),
            },
        }))
    }

    /// Ends the walk.
    fn finish(&mut self) {
        self.prefix = None;
        self.walks.clear();
    }
}

impl Iterator for Hits<'_> {
    type Item = Result<Hit>;

    /// The next hit. An article that cannot be read (a damaged record or body) gives an error
    /// and the walk goes on after it; a chunk that cannot be read ends the walk with an error.
    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if self.remaining == 0 {
                self.finish();
                return None;
            }
            let pos = match self.take_next() {
                Ok(Some(pos)) => pos,
                Ok(None) => {
                    self.finish();
                    return None;
                }
                Err(e) => {
                    self.finish();
                    return Some(Err(e));
                }
            };
            self.visited += 1;
            match self.hit_at(pos) {
                Ok(Some(hit)) => {
                    self.remaining -= 1;
                    return Some(Ok(hit));
                }
                Ok(None) => {}
                Err(e) => return Some(Err(e)),
            }
        }
    }
}

/// Whether `record` carries every name of `names` (index position, normalized name).
pub(crate) fn carries(record: &Record, names: &[(usize, String)]) -> bool {
    names.iter().all(|(i, norm)| {
        (NAME_INDEXES[*i].values)(record)
            .iter()
            .any(|n| normalize(n) == *norm)
    })
}

impl Archive {
    /// Runs a query. The iterator also reports which index it walks ([`Hits::index`]) and how
    /// many entries it visits ([`Hits::visited`]).
    ///
    /// The most selective criterion drives the walk: with a reporter and a service, the name
    /// with fewer articles (facet counts); with one name, its chunks; with only dates or
    /// nothing, the date index. The walk starts at the chunk holding the `until` bound (or the
    /// cursor) and goes backwards, chunk by chunk, until the `since` bound; the other name is
    /// checked on the record.
    pub fn query(&self, query: &Query) -> Result<Hits<'_>> {
        let mut hits = Hits {
            archive: self,
            prefix: None,
            walks: Vec::new(),
            check: Vec::new(),
            remaining: query.limit.unwrap_or(usize::MAX),
            visited: 0,
            index: None,
        };
        let names: Vec<(usize, String)> = [
            (keys::REPORTER, &query.reporter),
            (keys::SERVICE, &query.service),
        ]
        .into_iter()
        .filter_map(|(i, n)| n.as_deref().map(|n| (i, normalize(n))))
        .collect();
        // Pick the name with the fewest articles.
        let mut counted = Vec::with_capacity(names.len());
        for (i, norm) in names {
            let count = self.facet_count(i, &norm)?;
            if count == 0 {
                return Ok(hits);
            }
            counted.push((count, i, norm));
        }
        counted.sort_by_key(|(count, ..)| *count);
        let mut counted = counted.into_iter();
        let driver = counted.next();
        hits.check = counted.map(|(_, i, norm)| (i, norm)).collect();

        // Date bounds: [lo, below).
        let dated = query.since.is_some() || query.until.is_some();
        let lo = match query.since {
            Some(day) => (keys::day_key(day), 0),
            None => (u64::from(dated), 0),
        };
        let mut below = (u64::MAX, u32::MAX);
        if let Some(day) = query.until {
            below = match day.succ_opt() {
                Some(next) => (keys::day_key(next), 0),
                None => (u64::MAX, 0),
            };
        }
        if let Some(c) = &query.after {
            let seq = self.cursor_seq(c)?;
            // An article removed since: resume at the top of its date key.
            let at = (c.date_key, seq.unwrap_or(u32::MAX));
            below = below.min(at);
        }
        if below <= lo {
            return Ok(hits);
        }
        let (tag, prefix, index) = match &driver {
            Some((_, i, norm)) => (
                NAME_INDEXES[*i].tag,
                posting::prefix(NAME_INDEXES[*i].tag, norm),
                if *i == keys::REPORTER {
                    Index::Reporter
                } else {
                    Index::Service
                },
            ),
            None => (DATE_TAG, posting::prefix(DATE_TAG, ""), Index::Date),
        };
        hits.walks = if keys::epoched(tag) {
            // One walk per epoch up to the name's last: the bounds within each.
            let within = |epoch: u64, (dk, seq): Pos| {
                let base = keys::epoch_base(epoch);
                if dk <= keys::DATE_MASK {
                    (base | dk, seq)
                } else if epoch < keys::MAX_EPOCH {
                    (keys::epoch_base(epoch + 1), 0)
                } else {
                    (u64::MAX, u32::MAX)
                }
            };
            (0..=self.last_epoch(&prefix)?)
                .map(|e| Walk::new(within(e, lo), within(e, below)))
                .collect()
        } else {
            vec![Walk::new(lo, below)]
        };
        hits.prefix = Some(prefix);
        hits.index = Some(index);
        Ok(hits)
    }

    /// The positions (date key, seq) of the articles that carry the query's name with the
    /// fewest articles, within its dates, newest first: its posting chunks alone, no record
    /// read (a second name is not checked). Without a name, every position within the dates.
    /// `None` when there are more than `at_most`.
    pub(crate) fn positions(&self, query: &Query, at_most: usize) -> Result<Option<Vec<Pos>>> {
        let mut hits = self.query(&Query {
            limit: None,
            after: None,
            ..query.clone()
        })?;
        let mut positions = Vec::new();
        while let Some(pos) = hits.take_next()? {
            if positions.len() == at_most {
                return Ok(None);
            }
            positions.push(pos);
        }
        Ok(Some(positions))
    }

    /// The epoch of the newest entry of the name with chunk prefix `prefix` (0 when it has
    /// none): the last entry of its last chunk, the highest stored position.
    fn last_epoch(&self, prefix: &[u8]) -> Result<u64> {
        let end = posting::key(prefix, (u64::MAX, u32::MAX));
        let Some(kv) = self.tree.range(prefix.to_vec()..=end).next_back() else {
            return Ok(0);
        };
        let (k, v) = kv.map_err(Error::Store)?;
        let last = posting::decode(&v)
            .and_then(|entries| entries.last().copied())
            .ok_or_else(|| corrupted(&k))?;
        Ok(last.0 >> keys::DATE_BITS)
    }

    /// The seq of a cursor's article: the one it carries, else its id's while the article is
    /// there with the cursor's date key; `None` when it is gone.
    pub(crate) fn cursor_seq(&self, cursor: &Cursor) -> Result<Option<Seq>> {
        if cursor.seq.is_some() {
            return Ok(cursor.seq);
        }
        Ok(self
            .store
            .seq_of(&cursor.id)?
            .filter(|&s| self.date_key_at(s).ok().flatten() == Some(cursor.date_key)))
    }

    /// The date key of the record at `seq`, if it has one that decodes.
    fn date_key_at(&self, seq: crate::Seq) -> Result<Option<u64>> {
        Ok(self
            .record_bytes(seq)?
            .and_then(|b| crate::codec::decode(&b).ok())
            .map(|(r, _)| keys::date_key(r.date)))
    }

    /// Articles carrying a normalized name, from its facet.
    pub(crate) fn facet_count(&self, index: usize, norm: &str) -> Result<u64> {
        let key = keys::facet_key(NAME_INDEXES[index].tag, norm);
        Ok(self
            .tree
            .get(key)
            .map_err(Error::Store)?
            .and_then(|v| keys::parse_facet(&v).map(|(c, _)| c))
            .unwrap_or(0))
    }
}
