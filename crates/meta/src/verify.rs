//! Whole-archive operations: figures, the two-way integrity check and the index rebuild.

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::block::{self, Block};
use crate::engine::Key;
use crate::engine::Seq;
use crate::keys::{self, DATE_TAG, NAME_INDEXES, State};
use crate::posting::{self, Pos};
use crate::{Archive, BlobId, Error, Indexed, Result, codec, pages};

/// A name with its article count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facet {
    /// The name as first seen (original spelling).
    pub name: String,
    /// Articles that carry it.
    pub count: u64,
}

/// Archive figures.
#[derive(Debug, Clone, Default)]
pub struct ArchiveStats {
    /// Articles stored.
    pub articles: u64,
    /// Sum of body lengths.
    pub raw_bytes: u64,
    /// Sum of stored (compressed) body lengths (original pages not included).
    pub stored_bytes: u64,
    /// Bytes of the archive directory on disk.
    pub disk_bytes: u64,
    /// Articles per service, most first.
    pub per_service: Vec<Facet>,
    /// Articles per year, oldest first (undated articles are not counted here).
    pub per_year: Vec<(i32, u64)>,
    /// Original pages stored (each once, however many articles link it); not articles.
    pub pages: u64,
    /// Their bytes as fetched.
    pub page_bytes: u64,
    /// Their stored (compressed) bytes.
    pub page_stored_bytes: u64,
}

/// One problem found by [`Archive::verify`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The article the problem concerns; `None` for a problem of no single article (a facet
    /// count, the archive counters, a malformed key, an index entry whose article is gone).
    pub id: Option<BlobId>,
    /// What is wrong, in words (e.g. "body missing", "index reporter: entry for \"qiao long\" missing").
    pub what: String,
}

impl Problem {
    fn archive_wide(what: impl Into<String>) -> Problem {
        Problem {
            id: None,
            what: what.into(),
        }
    }

    fn new(id: BlobId, what: impl Into<String>) -> Problem {
        Problem {
            id: Some(id),
            what: what.into(),
        }
    }
}

/// Outcome of [`Archive::verify`].
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Articles checked.
    pub articles: u64,
    /// Index entries checked.
    pub index_entries: u64,
    /// Everything found wrong.
    pub problems: Vec<Problem>,
}

/// Facet counts by (tag, normalized name): count and the spelling first seen.
type FacetMap = BTreeMap<(u8, String), (u64, String)>;

/// Keys written per batch by `reindex`.
const REINDEX_BATCH: usize = 4096;
/// Entries per chunk written by `reindex`: room to grow before the first split.
const REINDEX_FILL: usize = posting::MAX_ENTRIES * 7 / 8;

/// The name of the index with tag `tag`, for messages.
fn index_name(tag: u8) -> &'static str {
    if tag == DATE_TAG {
        return "date";
    }
    NAME_INDEXES
        .iter()
        .find(|d| d.tag == tag)
        .map_or("?", |d| d.name)
}

/// What the records say the index entries are, compactly (a million articles fit in ~60 MB):
/// per seq its date key and a run of `(name hash, found)` in `entries`.
#[derive(Default)]
struct Expected {
    /// Date key per seq; `u64::MAX` for a seq without a (decodable) record.
    dates: Vec<u64>,
    /// `entries[starts[seq]..starts[seq + 1]]` are the seq's entries.
    starts: Vec<usize>,
    entries: Vec<(u64, bool)>,
    /// Name hash -> (index tag, normalized name), for messages.
    names: HashMap<u64, (u8, String)>,
}

/// The hash of an index name (the date index: tag `d`, empty name).
fn name_hash(tag: u8, norm: &str) -> u64 {
    use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
    BuildHasherDefault::<DefaultHasher>::default().hash_one((tag, norm))
}

impl Expected {
    /// Records `seq`'s entries (seqs come ascending).
    fn add(&mut self, seq: Seq, date: u64, names: impl Iterator<Item = (u8, String)>) {
        let seq = seq as usize;
        while self.dates.len() < seq {
            self.dates.push(u64::MAX);
            self.starts.push(self.entries.len());
        }
        self.dates.push(date);
        self.starts.push(self.entries.len());
        for (tag, norm) in names {
            let h = name_hash(tag, &norm);
            self.names.entry(h).or_insert((tag, norm));
            self.entries.push((h, false));
        }
    }

    fn has(&self, seq: Seq) -> bool {
        self.dates.get(seq as usize).is_some_and(|&d| d != u64::MAX)
    }

    fn slice_mut(&mut self, seq: Seq) -> &mut [(u64, bool)] {
        let seq = seq as usize;
        let start = self.starts[seq];
        let end = self
            .starts
            .get(seq + 1)
            .copied()
            .unwrap_or(self.entries.len());
        &mut self.entries[start..end]
    }
}

impl Archive {
    /// Figures: counters and facets as kept by every commit, articles per year from the date
    /// index, the stored bytes from the store, and the size of the directory. Reads no record
    /// and no body.
    pub fn stats(&self) -> Result<ArchiveStats> {
        let state = self.state_value()?.unwrap_or_default();
        let mut per_year: BTreeMap<i32, u64> = BTreeMap::new();
        for kv in self.tree.scan_prefix(posting::prefix(DATE_TAG, "")) {
            let (_, v) = kv.map_err(Error::Store)?;
            // A damaged chunk is skipped here: verify reports it.
            for (dk, _) in posting::decode(&v).unwrap_or_default() {
                if let Some(day) = keys::day_of_key(keys::real_date(dk)) {
                    use chrono::Datelike;
                    *per_year.entry(day.year()).or_default() += 1;
                }
            }
        }
        let (pages, page_bytes, page_stored_bytes) = self.page_totals()?;
        Ok(ArchiveStats {
            pages,
            page_bytes,
            page_stored_bytes,
            articles: state.articles,
            raw_bytes: state.raw_bytes,
            stored_bytes: self
                .store
                .stats()?
                .stored_bytes
                .saturating_sub(page_stored_bytes),
            disk_bytes: self.store.disk_bytes()?,
            per_service: self.services()?,
            per_year: per_year.into_iter().collect(),
        })
    }

    /// Checks bodies, records and indexes both ways: every record decodes, has a live body
    /// that decodes, hashes to its id and has the recorded length, and each of its index
    /// entries exists; every posting chunk is well formed and every entry in it belongs to a
    /// record that has that name and date; facet counts and counters equal what the records
    /// say; every live body has a record or is an original page; every page a record links is
    /// stored, and each stored page's reference count equals the records that link it.
    pub fn verify(&self) -> Result<Report> {
        let mut report = Report::default();
        let mut facets = FacetMap::new();
        let mut totals = State::default();
        let mut expected = Expected::default();
        // Records that do not decode: their bodies are not "without record".
        let mut undecodable: HashSet<Seq> = HashSet::new();
        // Original pages the records link: page id -> (records, length, first article).
        let mut linked: HashMap<BlobId, (u32, u64, BlobId)> = HashMap::new();

        // Records -> bodies.
        for kv in self.tree.scan_prefix([block::TAG]) {
            let (k, v) = kv.map_err(Error::Store)?;
            let (Some(b), Ok(decoded)) = (block::parse_key(&k), Block::decode(&v)) else {
                report.problems.push(Problem::archive_wide(format!(
                    "record block {} does not decode",
                    k.escape_ascii()
                )));
                continue;
            };
            for (slot, bytes) in decoded.present() {
                let seq = b * block::SLOTS as u32 + slot as u32;
                report.articles += 1;
                let (id, damaged) = match self.live_id(seq)? {
                    Ok(id) => (id, None),
                    Err(what) => (None, Some(what)),
                };
                let who = id.unwrap_or(BlobId::from_bytes([0; 32]));
                let (record, body_len) = match codec::decode(bytes) {
                    Ok(r) => r,
                    Err(e) => {
                        report
                            .problems
                            .push(Problem::new(who, format!("record does not decode: {e:?}")));
                        undecodable.insert(seq);
                        continue;
                    }
                };
                if let Some(what) = damaged {
                    report.problems.push(Problem::archive_wide(format!(
                        "record at sequence number {seq}: its body is damaged ({what})"
                    )));
                } else if id.is_none() {
                    report.problems.push(Problem::archive_wide(format!(
                        "record at sequence number {seq} has no live body"
                    )));
                } else {
                    match self.store.get_at(seq) {
                        Ok(None) => report.problems.push(Problem::new(who, "body missing")),
                        Ok(Some(body)) if body.len() as u64 != body_len => {
                            report.problems.push(Problem::new(
                                who,
                                format!("body is {} bytes, record says {body_len}", body.len()),
                            ));
                        }
                        Ok(Some(_)) => {}
                        Err(morgue_store::Error::Corrupted { .. }) => {
                            report.problems.push(Problem::new(who, "body corrupted"));
                        }
                        Err(e) => return Err(e.into()),
                    }
                }
                totals.articles += 1;
                totals.raw_bytes += body_len;
                if let Some(page) = &record.original {
                    let e = linked
                        .entry(BlobId::from_bytes(page.id))
                        .or_insert((0, page.len, who));
                    e.0 += 1;
                }
                let ix = Indexed::of(&record);
                let mut entries = vec![(DATE_TAG, String::new())];
                for (def, names) in NAME_INDEXES.iter().zip(ix.names) {
                    for (norm, display) in names {
                        facets
                            .entry((def.tag, norm.clone()))
                            .or_insert_with(|| (0, display))
                            .0 += 1;
                        entries.push((def.tag, norm));
                    }
                }
                expected.add(seq, ix.date, entries.into_iter());
            }
        }

        // Posting entries -> records.
        let mut previous: Option<(Vec<u8>, Pos)> = None;
        for kv in self.tree.scan_prefix([posting::TAG]) {
            let (k, v) = kv.map_err(Error::Store)?;
            let parsed = posting::parse_key(&k)
                .and_then(|(p, start)| Some((p, start, posting::parse_prefix(p)?)));
            let Some((prefix, start, (tag, norm))) = parsed else {
                report.problems.push(Problem::archive_wide(format!(
                    "malformed index key {}",
                    k.escape_ascii()
                )));
                continue;
            };
            let index = index_name(tag);
            let chunk = format!("index {index}: chunk of {norm:?} at {start:?}");
            let Some(entries) = posting::decode(&v) else {
                report
                    .problems
                    .push(Problem::archive_wide(format!("{chunk} does not decode")));
                continue;
            };
            let floor = match &previous {
                Some((p, last)) if p.as_slice() == prefix => Some(*last),
                _ => None,
            };
            let bad_shape = entries.is_empty()
                || entries.len() > posting::MAX_ENTRIES
                || entries[0] < start
                || floor.is_some_and(|last| last >= start);
            if bad_shape {
                report.problems.push(Problem::archive_wide(format!(
                    "{chunk} is malformed ({} entries)",
                    entries.len()
                )));
            }
            if let Some(last) = entries.last() {
                previous = Some((prefix.to_vec(), *last));
            }
            let hash = name_hash(tag, norm);
            for (dk, seq) in entries {
                report.index_entries += 1;
                let what = if expected.has(seq) {
                    let date = expected.dates[seq as usize];
                    match expected.slice_mut(seq).iter_mut().find(|(h, _)| *h == hash) {
                        None => Some("for a name the record lacks"),
                        Some(_) if keys::stored_date(tag, date, seq) != dk => {
                            Some("with another date")
                        }
                        Some((_, found)) => {
                            *found = true;
                            None
                        }
                    }
                } else {
                    Some("without record")
                };
                if let Some(what) = what {
                    let text = if tag == DATE_TAG {
                        format!("index date: entry {what}")
                    } else {
                        format!("index {index}: entry for {norm:?} {what}")
                    };
                    report
                        .problems
                        .push(match self.live_id(seq)?.ok().flatten() {
                            Some(id) => Problem::new(id, text),
                            None => {
                                Problem::archive_wide(format!("{text} (sequence number {seq})"))
                            }
                        });
                }
            }
        }

        // Records -> posting entries.
        for seq in 0..expected.dates.len() as Seq {
            if !expected.has(seq) {
                continue;
            }
            let missing: Vec<u64> = expected
                .slice_mut(seq)
                .iter()
                .filter(|(_, found)| !found)
                .map(|(h, _)| *h)
                .collect();
            if missing.is_empty() {
                continue;
            }
            let id = self.live_id(seq)?.ok().flatten();
            for h in missing {
                let (tag, norm) = expected.names.get(&h).cloned().unwrap_or_default();
                let text = if tag == DATE_TAG {
                    "index date: entry missing".to_string()
                } else {
                    format!("index {}: entry for {norm:?} missing", index_name(tag))
                };
                report.problems.push(match id {
                    Some(id) => Problem::new(id, text),
                    None => Problem::archive_wide(format!("{text} (sequence number {seq})")),
                });
            }
        }

        // Facets and counters.
        for kv in self.tree.scan_prefix([keys::FACET_TAG]) {
            let (k, v) = kv.map_err(Error::Store)?;
            let (tag, name) = match k.get(1..) {
                Some([tag, name @ ..]) => (*tag, String::from_utf8_lossy(name).into_owned()),
                _ => (0, String::new()),
            };
            let index = index_name(tag);
            let stored = keys::parse_facet(&v).map(|(c, _)| c);
            let expected = facets.remove(&(tag, name.clone())).map(|(c, _)| c);
            if stored != expected || stored.is_none() {
                report.problems.push(Problem::archive_wide(format!(
                    "index {index}: facet {name:?} counts {}, records say {}",
                    stored.map_or_else(|| "unreadable".to_string(), |c| c.to_string()),
                    expected.unwrap_or(0)
                )));
            }
        }
        for ((tag, name), (count, _)) in facets {
            report.problems.push(Problem::archive_wide(format!(
                "index {}: facet {name:?} missing, records say {count}",
                index_name(tag)
            )));
        }
        match self.state_value() {
            Ok(stored) => {
                let stored = stored.unwrap_or_default();
                if (stored.articles, stored.raw_bytes) != (totals.articles, totals.raw_bytes) {
                    report.problems.push(Problem::archive_wide(format!(
                        "counters say {} articles, {} raw bytes; records say {}, {} (reindex rebuilds them)",
                        stored.articles, stored.raw_bytes, totals.articles, totals.raw_bytes
                    )));
                }
            }
            Err(crate::Error::CorruptedValue { .. }) => {
                report.problems.push(Problem::archive_wide(
                    "the meta state (counters, index list) does not decode (reindex rebuilds it)",
                ));
            }
            Err(e) => return Err(e),
        }

        // Original pages: reference counts <-> records, and the pages themselves.
        let mut page_seqs: HashSet<Seq> = HashSet::new();
        for kv in self.tree.scan_prefix([pages::TAG]) {
            let (k, v) = kv.map_err(Error::Store)?;
            let (Some(seq), Some((count, len))) = (pages::parse_key(&k), pages::parse_value(&v))
            else {
                report.problems.push(Problem::archive_wide(format!(
                    "original page value {} does not decode (reindex rebuilds it)",
                    k.escape_ascii()
                )));
                continue;
            };
            let Ok(Some(page)) = self.live_id(seq)? else {
                report.problems.push(Problem::archive_wide(format!(
                    "original page at sequence number {seq} is counted but not stored"
                )));
                continue;
            };
            page_seqs.insert(seq);
            let expected = linked.remove(&page).map_or(0, |(n, _, _)| n);
            if expected != count {
                report.problems.push(Problem::archive_wide(format!(
                    "original page {page}: {count} records link it, records say {expected} (reindex rebuilds the count)"
                )));
            }
            match self.store.get_at(seq) {
                Ok(Some(bytes))
                    if bytes.starts_with(pages::PREFIX)
                        && (bytes.len() - pages::PREFIX.len()) as u64 == len => {}
                Ok(Some(_)) => report.problems.push(Problem::archive_wide(format!(
                    "original page {page} is not the page its count describes"
                ))),
                Ok(None) => {}
                Err(morgue_store::Error::Corrupted { .. }) => report.problems.push(
                    Problem::archive_wide(format!("original page {page} corrupted")),
                ),
                Err(e) => return Err(e.into()),
            }
        }
        for (page, (_, _, article)) in linked {
            let what = if self.store.seq_of(&page)?.is_some() {
                format!("original page {page}: its count is missing (reindex rebuilds it)")
            } else {
                format!("original page {page} missing")
            };
            report.problems.push(Problem::new(article, what));
        }

        // Bodies -> records.
        for item in self.store.live() {
            let (seq, id) = match item {
                Ok(live) => live,
                // Reported with its record above, or here when it has none.
                Err(morgue_store::Error::Damaged { what }) => {
                    if !report.problems.iter().any(|p| p.what.contains(&what)) {
                        report
                            .problems
                            .push(Problem::archive_wide(format!("damaged body: {what}")));
                    }
                    continue;
                }
                Err(e) => return Err(e.into()),
            };
            if !expected.has(seq) && !undecodable.contains(&seq) && !page_seqs.contains(&seq) {
                report
                    .problems
                    .push(Problem::new(id, "body without record"));
            }
        }
        report
            .problems
            .extend(self.verify_text()?.into_iter().map(Problem::archive_wide));
        Ok(report)
    }

    /// The id of the live body at `seq`; `Err(what)` when the store finds that body damaged.
    fn live_id(&self, seq: Seq) -> Result<Result<Option<BlobId>, String>> {
        match self.store.id_at(seq) {
            Ok(id) => Ok(Ok(id)),
            Err(
                e @ (morgue_store::Error::Damaged { .. } | morgue_store::Error::Corrupted { .. }),
            ) => Ok(Err(e.to_string())),
            Err(e) => Err(e.into()),
        }
    }

    /// Rebuilds every index, the facets and the counters from the record blocks; returns the
    /// number of articles indexed. Records that do not decode are skipped (`verify` reports
    /// them).
    ///
    /// Not one batch (an archive of a million articles would not fit one): writers wait, and
    /// the index list is forgotten durably first, so that an interrupted rebuild is redone at
    /// the next open before anything reads the indexes.
    pub fn reindex(&self) -> Result<u64> {
        let _guard = self.lock();
        // A damaged state is rebuilt like the rest.
        let mut state = match self.state_value() {
            Ok(state) => state.unwrap_or_default(),
            Err(crate::Error::CorruptedValue { .. }) => State::default(),
            Err(e) => return Err(e),
        };
        state.indexes = String::new();
        let mut w = self.store.writer();
        w.put(Key::new(keys::STATE_KEY)?, state.encode());
        w.commit()?;
        self.store.flush()?;

        // Clear the chunks and facets.
        let mut stale = Vec::new();
        for tag in [posting::TAG, keys::FACET_TAG, pages::TAG] {
            for kv in self.tree.scan_prefix([tag]) {
                stale.push(Key::new(kv.map_err(Error::Store)?.0.to_vec())?);
            }
        }
        for keys in stale.chunks(REINDEX_BATCH) {
            let mut w = self.store.writer();
            for k in keys {
                w.delete(k.clone());
            }
            w.commit()?;
        }

        // Gather every entry from the records.
        let mut facets = FacetMap::new();
        let mut totals = State {
            indexes: keys::index_list(),
            ..State::default()
        };
        let mut postings: HashMap<Vec<u8>, Vec<Pos>> = HashMap::new();
        let mut linked: BTreeMap<BlobId, (u32, u64)> = BTreeMap::new();
        for kv in self.tree.scan_prefix([block::TAG]) {
            let (k, v) = kv.map_err(Error::Store)?;
            let (Some(b), Ok(decoded)) = (block::parse_key(&k), Block::decode(&v)) else {
                continue;
            };
            for (slot, bytes) in decoded.present() {
                let seq = b * block::SLOTS as u32 + slot as u32;
                let Ok((record, body_len)) = codec::decode(bytes) else {
                    continue;
                };
                let ix = Indexed::of(&record);
                postings
                    .entry(posting::prefix(DATE_TAG, ""))
                    .or_default()
                    .push((keys::stored_date(DATE_TAG, ix.date, seq), seq));
                for (def, names) in NAME_INDEXES.iter().zip(ix.names) {
                    for (norm, display) in names {
                        postings
                            .entry(posting::prefix(def.tag, &norm))
                            .or_default()
                            .push((keys::stored_date(def.tag, ix.date, seq), seq));
                        facets.entry((def.tag, norm)).or_insert((0, display)).0 += 1;
                    }
                }
                totals.articles += 1;
                totals.raw_bytes += body_len;
                if let Some(page) = &record.original {
                    linked
                        .entry(BlobId::from_bytes(page.id))
                        .or_insert((0, page.len))
                        .0 += 1;
                }
            }
        }

        // Write them, chunked.
        let mut writes: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
        for (page, (count, len)) in linked {
            // A page that is gone stays gone: verify reports the records that link it.
            if let Some(seq) = self.store.seq_of(&page)? {
                writes.push((pages::key(seq).to_vec(), pages::value(count, len)));
            }
        }
        for (prefix, mut entries) in postings {
            entries.sort_unstable();
            entries.dedup();
            for chunk in entries.chunks(REINDEX_FILL) {
                writes.push((posting::key(&prefix, chunk[0]), posting::encode(chunk)));
            }
        }
        for ((tag, norm), (count, display)) in facets {
            writes.push((
                keys::facet_key(tag, &norm),
                keys::facet_value(count, &display),
            ));
        }
        for batch in writes.chunks(REINDEX_BATCH) {
            let mut w = self.store.writer();
            for (k, v) in batch {
                w.put(Key::new(k.clone())?, v.clone());
            }
            w.commit()?;
        }
        let mut w = self.store.writer();
        w.put(Key::new(keys::STATE_KEY)?, totals.encode());
        w.commit()?;
        self.store.flush()?;
        Ok(totals.articles)
    }
}
