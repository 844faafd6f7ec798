//! Whole-archive operations: figures, the two-way integrity check and the index rebuild.

use std::collections::BTreeMap;

use crate::keys::{self, Counters, NAME_INDEXES};
use crate::{Archive, ArchiveStats, BlobId, Indexed, Problem, Report, Result, codec, engine_err};

/// Facet counts by (tag, normalized name): count and the spelling first seen.
type FacetMap = BTreeMap<(u8, String), (u64, String)>;

fn id_of(key: &[u8]) -> Option<BlobId> {
    <[u8; 32]>::try_from(key).ok().map(BlobId::from_bytes)
}

impl Archive {
    /// Figures: counters and facets as kept by every transaction, articles per year from the date
    /// index keys, and the size of the directory. Reads no record and no body.
    pub fn stats(&self) -> Result<ArchiveStats> {
        let c = self.counters()?;
        let mut per_year: BTreeMap<i32, u64> = BTreeMap::new();
        // Undated articles have date key 0: start after them.
        for kv in self
            .date
            .range(&keys::tail(1, &BlobId::from_bytes([0; 32]))[..]..)
        {
            let (k, _) = kv.map_err(engine_err)?;
            if let Some(day) = keys::parse_tail(&k).and_then(|(dk, _)| keys::day_of_key(dk)) {
                use chrono::Datelike;
                *per_year.entry(day.year()).or_default() += 1;
            }
        }
        Ok(ArchiveStats {
            articles: c.articles,
            raw_bytes: c.raw_bytes,
            stored_bytes: c.stored_bytes,
            disk_bytes: self.db.disk_bytes()?,
            per_service: self.services()?,
            per_year: per_year.into_iter().collect(),
        })
    }

    fn counters(&self) -> Result<Counters> {
        Ok(self
            .meta
            .get(keys::COUNTERS_KEY)
            .map_err(engine_err)?
            .and_then(|v| Counters::decode(&v))
            .unwrap_or_default())
    }

    /// Checks bodies, records and indexes both ways:
    /// every record decodes, its body exists, decodes and hashes to its id, and each of its index
    /// entries exists; every index entry points to a record that has that name and date; facet
    /// counts and counters equal what the records say; every body has a record.
    pub fn verify(&self) -> Result<Report> {
        let mut report = Report::default();
        let problems = &mut report.problems;
        let mut facets = FacetMap::new();
        let mut totals = Counters::default();

        // Records -> bodies and index entries.
        for kv in &self.records {
            let (k, v) = kv.map_err(engine_err)?;
            let Some(id) = id_of(&k) else {
                problems.push(Problem::archive_wide(format!("malformed record key {k:?}")));
                continue;
            };
            report.articles += 1;
            let (record, body_len) = match codec::decode(&v) {
                Ok(r) => r,
                Err(e) => {
                    problems.push(Problem::new(id, format!("record does not decode: {e:?}")));
                    continue;
                }
            };
            match self.store.tree().get(&k).map_err(engine_err)? {
                None => problems.push(Problem::new(id, "body missing")),
                Some(stored) => {
                    totals.stored_bytes += stored.len() as u64;
                    match self.store.decode(&id, &stored) {
                        Err(_) => problems.push(Problem::new(id, "body corrupted")),
                        Ok(body) if body.len() as u64 != body_len => problems.push(Problem::new(
                            id,
                            format!("body is {} bytes, record says {body_len}", body.len()),
                        )),
                        Ok(_) => {}
                    }
                }
            }
            totals.articles += 1;
            totals.raw_bytes += body_len;
            let ix = Indexed::of(&record);
            if !self
                .date
                .contains_key(keys::tail(ix.date, &id))
                .map_err(engine_err)?
            {
                problems.push(Problem::new(id, "index date: entry missing"));
            }
            for ((def, tree), names) in NAME_INDEXES.iter().zip(&self.names).zip(&ix.names) {
                for (norm, display) in names {
                    let key = keys::name_key(norm, ix.date, &id);
                    if !tree.contains_key(key).map_err(engine_err)? {
                        problems.push(Problem::new(
                            id,
                            format!("index {}: entry for {norm:?} missing", def.name),
                        ));
                    }
                    facets
                        .entry((def.tag, norm.clone()))
                        .or_insert_with(|| (0, display.clone()))
                        .0 += 1;
                }
            }
        }

        // Index entries -> records.
        for kv in &self.date {
            let (k, _) = kv.map_err(engine_err)?;
            report.index_entries += 1;
            let Some((dk, id)) = keys::parse_tail(&k) else {
                problems.push(Problem::archive_wide(format!(
                    "index date: malformed key {k:?}"
                )));
                continue;
            };
            match self.indexed(&id)? {
                None => problems.push(Problem::new(id, "index date: entry without record")),
                Some(ix) if ix.date != dk => {
                    problems.push(Problem::new(id, "index date: entry has another date"));
                }
                Some(_) => {}
            }
        }
        for (i, (def, tree)) in NAME_INDEXES.iter().zip(&self.names).enumerate() {
            for kv in tree {
                let (k, _) = kv.map_err(engine_err)?;
                report.index_entries += 1;
                let Some((norm, dk, id)) = keys::parse_name_key(&k) else {
                    problems.push(Problem::archive_wide(format!(
                        "index {}: malformed key {k:?}",
                        def.name
                    )));
                    continue;
                };
                let what = match self.indexed(&id)? {
                    None => Some("without record"),
                    Some(ix) if !ix.names[i].iter().any(|(n, _)| n == norm) => {
                        Some("for a name the record lacks")
                    }
                    Some(ix) if ix.date != dk => Some("with another date"),
                    Some(_) => None,
                };
                if let Some(what) = what {
                    problems.push(Problem::new(
                        id,
                        format!("index {}: entry for {norm:?} {what}", def.name),
                    ));
                }
            }
        }

        // Facets and counters.
        for kv in &self.facets {
            let (k, v) = kv.map_err(engine_err)?;
            let (tag, name) = match k.split_first() {
                Some((&tag, name)) => (tag, String::from_utf8_lossy(name).into_owned()),
                None => (0, String::new()),
            };
            let index = NAME_INDEXES
                .iter()
                .find(|d| d.tag == tag)
                .map_or("?", |d| d.name);
            let stored = keys::parse_facet(&v).map(|(c, _)| c);
            let expected = facets.remove(&(tag, name.clone())).map(|(c, _)| c);
            if stored != expected || stored.is_none() {
                problems.push(Problem::archive_wide(format!(
                    "index {index}: facet {name:?} counts {}, records say {}",
                    stored.map_or_else(|| "unreadable".to_string(), |c| c.to_string()),
                    expected.unwrap_or(0)
                )));
            }
        }
        for ((tag, name), (count, _)) in facets {
            let index = NAME_INDEXES
                .iter()
                .find(|d| d.tag == tag)
                .map_or("?", |d| d.name);
            problems.push(Problem::archive_wide(format!(
                "index {index}: facet {name:?} missing, records say {count}"
            )));
        }
        let stored = self.counters()?;
        if stored != totals {
            problems.push(Problem::archive_wide(format!(
                "counters say {} articles, {} raw bytes, {} stored bytes; records say {}, {}, {} (reindex rebuilds them)",
                stored.articles,
                stored.raw_bytes,
                stored.stored_bytes,
                totals.articles,
                totals.raw_bytes,
                totals.stored_bytes
            )));
        }

        // Bodies -> records.
        for kv in self.store.tree() {
            let (k, _) = kv.map_err(engine_err)?;
            if let Some(id) = id_of(&k)
                && !self.records.contains_key(&k).map_err(engine_err)?
            {
                problems.push(Problem::new(id, "body without record"));
            }
        }
        Ok(report)
    }

    /// What the indexes should hold for a stored record; `None` when absent or undecodable.
    fn indexed(&self, id: &BlobId) -> Result<Option<Indexed>> {
        Ok(self
            .records
            .get(id.as_bytes())
            .map_err(engine_err)?
            .and_then(|v| codec::decode(&v).ok())
            .map(|(r, _)| Indexed::of(&r)))
    }

    /// Rebuilds every index, the facets and the counters from the records; returns the number of
    /// articles indexed. Records that do not decode are skipped (`verify` reports them).
    ///
    /// Not one transaction (an archive of a million articles would not fit one): writers wait,
    /// and an interrupted rebuild leaves incomplete indexes that the next `reindex` completes.
    pub fn reindex(&self) -> Result<u64> {
        use crate::engine::sled::Batch;
        const BATCH: usize = 10_000;

        let _guard = self.lock();
        // Forget the index list first, durably: if the rebuild is interrupted, the next open sees
        // no list and rebuilds before anything reads the indexes.
        self.meta.remove(keys::INDEXES_KEY).map_err(engine_err)?;
        self.db.flush()?;
        self.date.clear().map_err(engine_err)?;
        for tree in &self.names {
            tree.clear().map_err(engine_err)?;
        }
        self.facets.clear().map_err(engine_err)?;

        let mut facets = FacetMap::new();
        let mut totals = Counters::default();
        let mut date_batch = Batch::default();
        let mut name_batches: Vec<Batch> = self.names.iter().map(|_| Batch::default()).collect();
        let mut pending = 0;
        for kv in &self.records {
            let (k, v) = kv.map_err(engine_err)?;
            let (Some(id), Ok((record, body_len))) = (id_of(&k), codec::decode(&v)) else {
                continue;
            };
            let ix = Indexed::of(&record);
            date_batch.insert(&keys::tail(ix.date, &id)[..], &[][..]);
            for ((def, batch), names) in NAME_INDEXES.iter().zip(&mut name_batches).zip(ix.names) {
                for (norm, display) in names {
                    batch.insert(keys::name_key(&norm, ix.date, &id), &[][..]);
                    facets.entry((def.tag, norm)).or_insert((0, display)).0 += 1;
                }
            }
            totals.articles += 1;
            totals.raw_bytes += body_len;
            if let Some(stored) = self.store.tree().get(&k).map_err(engine_err)? {
                totals.stored_bytes += stored.len() as u64;
            }
            pending += 1;
            if pending == BATCH {
                self.date
                    .apply_batch(std::mem::take(&mut date_batch))
                    .map_err(engine_err)?;
                for (tree, batch) in self.names.iter().zip(&mut name_batches) {
                    tree.apply_batch(std::mem::take(batch))
                        .map_err(engine_err)?;
                }
                pending = 0;
            }
        }
        self.date.apply_batch(date_batch).map_err(engine_err)?;
        for (tree, batch) in self.names.iter().zip(name_batches) {
            tree.apply_batch(batch).map_err(engine_err)?;
        }
        let mut batch = Batch::default();
        for ((tag, norm), (count, display)) in facets {
            batch.insert(
                keys::facet_key(tag, &norm),
                keys::facet_value(count, &display),
            );
        }
        self.facets.apply_batch(batch).map_err(engine_err)?;
        self.meta
            .insert(keys::COUNTERS_KEY, &totals.encode()[..])
            .map_err(engine_err)?;
        self.meta
            .insert(keys::INDEXES_KEY, keys::indexes_value())
            .map_err(engine_err)?;
        Ok(totals.articles)
    }
}
