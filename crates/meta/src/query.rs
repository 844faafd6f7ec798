//! Queries: a reverse range scan of the most selective index.

use std::ops::Bound;

use crate::engine::sled;
use crate::keys::{self, NAME_INDEXES, TAIL_LEN};
use crate::{Archive, BlobId, Cursor, Hit, Query, Result, engine_err, normalize};

/// The results of [`Archive::search`]: newest first, undated last.
///
/// Besides the hits, it tells which index it scans and how many index entries it has visited,
/// so that callers and tests can see that a query reads only entries that can match.
pub struct Hits<'a> {
    archive: &'a Archive,
    /// The range being scanned, consumed from its end; `None` when nothing can match.
    scan: Option<sled::Iter>,
    /// Length of the name prefix of the scanned keys (0 for the date index).
    prefix_len: usize,
    /// A second name criterion, checked with a point lookup: index position and normalized name.
    check: Option<(usize, String)>,
    remaining: usize,
    visited: u64,
    index: &'static str,
}

impl std::fmt::Debug for Hits<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hits")
            .field("index", &self.index)
            .field("visited", &self.visited)
            .field("remaining", &self.remaining)
            .finish_non_exhaustive()
    }
}

impl Hits<'_> {
    /// Index entries visited so far (matching or not).
    pub fn visited(&self) -> u64 {
        self.visited
    }

    /// The index scanned: `"reporter"`, `"service"`, `"date"`, or `"none"` when the query
    /// cannot match anything (an unknown name, an empty date range).
    pub fn index(&self) -> &'static str {
        self.index
    }

    fn next_hit(&mut self) -> Option<Result<Hit>> {
        if self.remaining == 0 {
            return None;
        }
        let scan = self.scan.as_mut()?;
        loop {
            let key = match scan.next_back()? {
                Ok((k, _)) => k,
                Err(e) => return Some(Err(engine_err(e))),
            };
            self.visited += 1;
            let Some((date_key, id)) = key.get(self.prefix_len..).and_then(keys::parse_tail) else {
                continue; // malformed key: verify reports it
            };
            if let Some((index, norm)) = &self.check {
                let other = keys::name_key(norm, date_key, &id);
                match self.archive.names[*index].contains_key(other) {
                    Ok(true) => {}
                    Ok(false) => continue,
                    Err(e) => return Some(Err(engine_err(e))),
                }
            }
            match self.archive.record(&id) {
                Ok(Some(record)) => {
                    self.remaining -= 1;
                    return Some(Ok(Hit {
                        id,
                        record,
                        cursor: Cursor { date_key, id },
                    }));
                }
                Ok(None) => {} // dangling entry: verify reports it
                Err(e) => return Some(Err(e)),
            }
        }
    }
}

impl Iterator for Hits<'_> {
    type Item = Result<Hit>;

    fn next(&mut self) -> Option<Self::Item> {
        let hit = self.next_hit();
        if hit.is_none() {
            self.scan = None;
        }
        hit
    }
}

impl Archive {
    /// Runs a query, returning an iterator that also reports which index it scans and how many
    /// entries it visits. [`Archive::query`] is the same iterator behind `impl Iterator`.
    ///
    /// The most selective criterion drives the scan: with a reporter and a service, the name
    /// with fewer articles (facet counts); with one name, its index; with only dates or nothing,
    /// the date index. The scan covers exactly the keys of that name inside the date range and
    /// before the cursor, newest first; the other name is checked by a point lookup of its index
    /// key, so no record is read to filter.
    pub fn search(&self, query: &Query) -> Result<Hits<'_>> {
        let mut hits = Hits {
            archive: self,
            scan: None,
            prefix_len: 0,
            check: None,
            remaining: query.limit.unwrap_or(usize::MAX),
            visited: 0,
            index: "none",
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
        hits.check = counted.next().map(|(_, i, norm)| (i, norm));

        // Date bounds as tails: [lo, hi).
        let dated = query.since.is_some() || query.until.is_some();
        let lo = match query.since {
            Some(day) => keys::day_key(day),
            None => u64::from(dated),
        };
        let mut hi: Option<[u8; TAIL_LEN]> = match query.until {
            Some(day) => day
                .succ_opt()
                .map(|next| keys::tail(keys::day_key(next), &BlobId::from_bytes([0; 32]))),
            None => None,
        };
        if let Some(c) = &query.after {
            let at = keys::tail(c.date_key, &c.id);
            if hi.is_none_or(|h| at < h) {
                hi = Some(at);
            }
        }
        let lo = keys::tail(lo, &BlobId::from_bytes([0; 32]));
        if hi.is_some_and(|h| h <= lo) {
            return Ok(hits);
        }

        let (tree, prefix, index) = match &driver {
            Some((_, i, norm)) => (
                &self.names[*i],
                keys::name_prefix(norm),
                NAME_INDEXES[*i].name,
            ),
            None => (&self.date, Vec::new(), "date"),
        };
        let with = |t: &[u8]| {
            let mut k = prefix.clone();
            k.extend_from_slice(t);
            k
        };
        let end = match hi {
            Some(h) => Bound::Excluded(with(&h)),
            None if prefix.is_empty() => Bound::Unbounded,
            None => {
                // Just past every key of this name: the terminator 0x00 becomes 0x01.
                let mut k = prefix.clone();
                if let Some(last) = k.last_mut() {
                    *last = 1;
                }
                Bound::Excluded(k)
            }
        };
        hits.prefix_len = prefix.len();
        hits.scan = Some(tree.range::<Vec<u8>, _>((Bound::Included(with(&lo)), end)));
        hits.index = index;
        Ok(hits)
    }

    /// Articles carrying a normalized name, from the facets tree.
    fn facet_count(&self, index: usize, norm: &str) -> Result<u64> {
        let key = keys::facet_key(NAME_INDEXES[index].tag, norm);
        Ok(self
            .facets
            .get(key)
            .map_err(engine_err)?
            .and_then(|v| keys::parse_facet(&v).map(|(c, _)| c))
            .unwrap_or(0))
    }
}
