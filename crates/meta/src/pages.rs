//! Original pages: the bytes an article was extracted from, kept as fetched beside it.
//!
//! A page is a blob of the store like a body, but never an article: its stored bytes are
//! [`PREFIX`] followed by the page, and the prefix starts with a byte that no UTF-8 text starts
//! with, so that a page can never be an article's body (whose id is the blake3 of UTF-8 text).
//! Records link their page by id ([`morgue_model::OriginalRef`]); each stored page has a
//! reference count under `p` + its sequence number, so that removing an article drops its page
//! only when no other record links it. docs/format.md has the bytes.

use morgue_model::{Original, OriginalRef, Record};

use crate::engine::{Key, PreparedBlob, Seq, Writer};
use crate::{Archive, BlobId, Error, Result, corrupted};

/// Key tag of page reference counts.
pub(crate) const TAG: u8 = b'p';
/// Version byte of a page reference value.
const VERSION: u8 = 1;
/// What a stored page blob starts with: `FF` then `morgue page` and a newline (13 bytes).
pub(crate) const PREFIX: &[u8] = b"\xffmorgue page\n";

/// The key of the page at `seq`: `p` + seq (u32 BE).
pub(crate) fn key(seq: Seq) -> [u8; 5] {
    let mut k = [TAG, 0, 0, 0, 0];
    k[1..].copy_from_slice(&seq.to_be_bytes());
    k
}

/// The seq of a page key.
pub(crate) fn parse_key(k: &[u8]) -> Option<Seq> {
    match k {
        [TAG, rest @ ..] => Some(Seq::from_be_bytes(rest.try_into().ok()?)),
        _ => None,
    }
}

/// A page value: `[01][records linking it, u32 BE][page length u64 BE]`.
pub(crate) fn value(count: u32, len: u64) -> Vec<u8> {
    let mut v = Vec::with_capacity(13);
    v.push(VERSION);
    v.extend_from_slice(&count.to_be_bytes());
    v.extend_from_slice(&len.to_be_bytes());
    v
}

/// Parses a page value: (count, page length).
pub(crate) fn parse_value(v: &[u8]) -> Option<(u32, u64)> {
    match v {
        [VERSION, count @ .., _, _, _, _, _, _, _, _] if count.len() == 4 => Some((
            u32::from_be_bytes(count.try_into().ok()?),
            u64::from_be_bytes(v[5..13].try_into().ok()?),
        )),
        _ => None,
    }
}

/// The blob a page is stored as: [`PREFIX`] + its bytes.
pub(crate) fn blob(original: &Original) -> Vec<u8> {
    let mut out = Vec::with_capacity(PREFIX.len() + original.bytes.len());
    out.extend_from_slice(PREFIX);
    out.extend_from_slice(&original.bytes);
    out
}

/// The store group a page is compressed in: `html:` + the host of the record's URL (without
/// `www.`), so that the pages of one site share a dictionary.
pub(crate) fn group(record: &Record) -> String {
    let host = record
        .url
        .split_once("://")
        .map_or("", |(_, rest)| rest)
        .split(['/', '?', '#'])
        .next()
        .unwrap_or("");
    let host = host.rsplit('@').next().unwrap_or(host);
    let host = host.split(':').next().unwrap_or(host).to_ascii_lowercase();
    let host = host.strip_prefix("www.").unwrap_or(&host);
    format!("html:{host}")
}

/// The reference a record keeps to its page.
pub(crate) fn reference(blob: &PreparedBlob, original: &Original) -> OriginalRef {
    OriginalRef {
        id: *blob.id.as_bytes(),
        len: original.bytes.len() as u64,
        media_type: original.media_type.clone(),
    }
}

/// The changes one commit makes to page references: per page id, the change of its count,
/// the page's length, and its prepared blob when a draft brought it.
#[derive(Default)]
pub(crate) struct Changes {
    pages: std::collections::BTreeMap<BlobId, (i64, u64, Option<PreparedBlob>)>,
}

impl Changes {
    /// A record now links `page` (whose blob the draft brought, when it did).
    pub(crate) fn link(&mut self, page: &OriginalRef, blob: Option<PreparedBlob>) {
        let e = self
            .pages
            .entry(BlobId::from_bytes(page.id))
            .or_insert((0, page.len, None));
        e.0 += 1;
        if e.2.is_none() {
            e.2 = blob;
        }
    }

    /// A record no longer links `page`.
    pub(crate) fn unlink(&mut self, page: &OriginalRef) {
        self.pages
            .entry(BlobId::from_bytes(page.id))
            .or_insert((0, page.len, None))
            .0 -= 1;
    }

    /// Stages the counts (and the pages placed or removed) in `w`. A page linked but neither
    /// stored nor brought by a draft is an internal error; one unlinked that is not stored is
    /// left alone (verify reports the record that linked it).
    pub(crate) fn apply(self, archive: &Archive, w: &mut Writer<'_>) -> Result<()> {
        for (id, (delta, len, blob)) in self.pages {
            if delta == 0 {
                continue;
            }
            let found = w.find(&id)?;
            let current = match found {
                Some(seq) => archive.page_count(seq)?.unwrap_or(0),
                None => 0,
            };
            let count = i64::from(current) + delta;
            match (found, count > 0) {
                (Some(seq), true) => {
                    let count = u32::try_from(count).unwrap_or(u32::MAX);
                    w.put(Key::new(key(seq).to_vec())?, value(count, len));
                }
                (Some(seq), false) => {
                    w.delete(Key::new(key(seq).to_vec())?);
                    w.remove(seq)?;
                }
                (None, true) => {
                    let blob = blob.ok_or(Error::Internal("a page linked without its bytes"))?;
                    let placed = w.place(blob)?;
                    let count = u32::try_from(count).unwrap_or(u32::MAX);
                    w.put(Key::new(key(placed.seq).to_vec())?, value(count, len));
                }
                (None, false) => {}
            }
        }
        Ok(())
    }
}

impl Archive {
    /// The number of records linking the page at `seq` (`None` when no page is there).
    pub(crate) fn page_count(&self, seq: Seq) -> Result<Option<u32>> {
        let k = key(seq);
        match self.tree.get(k).map_err(Error::Store)? {
            None => Ok(None),
            Some(v) => parse_value(&v)
                .map(|(count, _)| Some(count))
                .ok_or_else(|| corrupted(&k)),
        }
    }

    /// The original page of an article, as fetched, with its reference: `None` when the
    /// article is not stored or has no original page. A page the record links that the store
    /// does not hold is [`Error::MissingOriginal`].
    pub fn original(&self, id: &BlobId) -> Result<Option<(OriginalRef, Vec<u8>)>> {
        let Some(record) = self.record(id)? else {
            return Ok(None);
        };
        let Some(page) = record.original else {
            return Ok(None);
        };
        let page_id = BlobId::from_bytes(page.id);
        let Some(bytes) = self.store.get(&page_id)? else {
            return Err(Error::MissingOriginal {
                id: *id,
                page: page_id,
            });
        };
        match bytes.strip_prefix(PREFIX) {
            Some(page_bytes) => {
                let page_bytes = page_bytes.to_vec();
                Ok(Some((page, page_bytes)))
            }
            None => Err(Error::MissingOriginal {
                id: *id,
                page: page_id,
            }),
        }
    }

    /// Pages stored (each once, however many records link it), their bytes as fetched and
    /// their stored (compressed) bytes.
    pub(crate) fn page_totals(&self) -> Result<(u64, u64, u64)> {
        let (mut pages, mut bytes, mut stored) = (0, 0, 0);
        for kv in self.tree.scan_prefix([TAG]) {
            let (k, v) = kv.map_err(Error::Store)?;
            if let (Some(seq), Some((_, len))) = (parse_key(&k), parse_value(&v)) {
                pages += 1;
                bytes += len;
                stored += self.store.stored_len_at(seq)?.unwrap_or(0);
            }
        }
        Ok((pages, bytes, stored))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pinned_bytes_and_parsing() {
        assert_eq!(key(0x0102_0304), [b'p', 1, 2, 3, 4]);
        assert_eq!(parse_key(&key(77)), Some(77));
        assert_eq!(parse_key(b"p123"), None);
        let v = value(2, 70_000);
        assert_eq!(v, [1, 0, 0, 0, 2, 0, 0, 0, 0, 0, 1, 0x11, 0x70]);
        assert_eq!(parse_value(&v), Some((2, 70_000)));
        assert_eq!(parse_value(&v[..12]), None);
        let mut bad = v.clone();
        bad[0] = 2;
        assert_eq!(parse_value(&bad), None);
        // 0xFF is no byte of any UTF-8 text: a page is never an article's body.
        assert_eq!(PREFIX[0], 0xff);
        assert_eq!(PREFIX.len(), 13);
    }

    #[test]
    fn groups_are_per_site() {
        let group_of = |url: &str| {
            group(&Record {
                url: url.into(),
                ..Record::default()
            })
        };
        assert_eq!(
            group_of("https://www.Example.com/a/b?c"),
            "html:example.com"
        );
        assert_eq!(
            group_of("http://user@news.example.org:8080/x"),
            "html:news.example.org"
        );
        assert_eq!(group_of(""), "html:");
        assert_eq!(group_of("not a url"), "html:");
    }
}
