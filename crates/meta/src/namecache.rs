//! The posting-chunk cache: decoded chunks of recently committed names, kept for the next
//! commit and bounded in bytes.

use crate::posting::{NameChunks, Pos};

/// The most a [`NameCache`] holds, in estimated bytes of decoded entries. At 1,000,000
/// articles the three indexes hold about 2.7 million entries, about 65 MB by this estimate
/// (vectors keep spare capacity): the generated 1M import of docs/performance.md took the same
/// time with this cap as with twice it, and peaked 33 MB lower. Beyond the cap the least
/// recently committed names are dropped, so memory stays bounded whatever the size of the
/// archive; a dropped name is read from the tree again when a commit needs it.
pub(crate) const NAME_CACHE_BYTES: usize = 64 << 20;

/// Decoded posting chunks of recently committed names, bounded by [`NAME_CACHE_BYTES`].
#[derive(Debug, Default)]
pub(crate) struct NameCache {
    /// Chunk prefix -> (chunks, their estimated bytes, the tick they were put back at).
    names: std::collections::HashMap<Vec<u8>, (NameChunks, usize, u64)>,
    /// Sum of the estimated bytes.
    bytes: usize,
    tick: u64,
    cap: usize,
}

impl NameCache {
    /// An empty cache holding at most `cap` estimated bytes.
    pub(crate) fn with_cap(cap: usize) -> NameCache {
        NameCache {
            cap,
            ..NameCache::default()
        }
    }

    /// Takes a name out (a commit is about to change it).
    pub(crate) fn remove(&mut self, prefix: &[u8]) -> Option<NameChunks> {
        let (chunks, bytes, _) = self.names.remove(prefix)?;
        self.bytes -= bytes;
        Some(chunks)
    }

    /// Puts back names as they are once committed, then drops the least recently put back
    /// names while the cache is over its cap.
    pub(crate) fn extend(&mut self, names: impl IntoIterator<Item = (Vec<u8>, NameChunks)>) {
        self.tick += 1;
        for (prefix, chunks) in names {
            let bytes = estimated_bytes(&chunks);
            self.bytes += bytes;
            if let Some((_, old, _)) = self.names.insert(prefix, (chunks, bytes, self.tick)) {
                self.bytes -= old;
            }
        }
        if self.bytes > self.cap {
            let mut by_age: Vec<(u64, usize, Vec<u8>)> = self
                .names
                .iter()
                .map(|(k, (_, bytes, tick))| (*tick, *bytes, k.clone()))
                .collect();
            by_age.sort_unstable();
            for (_, _, prefix) in by_age {
                if self.bytes <= self.cap {
                    break;
                }
                self.remove(&prefix);
            }
        }
    }

    /// Forgets everything.
    pub(crate) fn clear(&mut self) {
        self.names.clear();
        self.bytes = 0;
    }

    /// Estimated bytes held.
    #[cfg(test)]
    pub(crate) fn bytes(&self) -> usize {
        self.bytes
    }

    /// Whether the name with chunk prefix `prefix` is held.
    #[cfg(test)]
    pub(crate) fn contains(&self, prefix: &[u8]) -> bool {
        self.names.contains_key(prefix)
    }

    /// Names held.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.names.len()
    }
}

/// Estimated heap bytes of decoded chunks: each entry, plus a B-tree slot and a vector
/// header per chunk.
fn estimated_bytes(chunks: &NameChunks) -> usize {
    chunks
        .values()
        .map(|v| v.capacity() * std::mem::size_of::<Pos>() + 64)
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(entries: u32) -> NameChunks {
        let mut chunks = NameChunks::new();
        chunks.insert((0, 0), (0..entries).map(|i| (u64::from(i), i)).collect());
        chunks
    }

    #[test]
    fn the_cache_stays_under_its_cap_dropping_the_oldest_names() {
        let per_name = estimated_bytes(&name(100));
        let mut cache = NameCache::with_cap(per_name * 3);
        cache.extend([(b"a".to_vec(), name(100)), (b"b".to_vec(), name(100))]);
        cache.extend([(b"c".to_vec(), name(100))]);
        assert_eq!(cache.len(), 3);
        cache.extend([(b"d".to_vec(), name(100))]);
        assert!(cache.bytes() <= per_name * 3);
        assert_eq!(cache.len(), 3);
        // One of the two oldest went; the newest ones are there.
        assert!(cache.remove(b"c").is_some());
        assert!(cache.remove(b"d").is_some());
        assert_eq!(
            usize::from(cache.remove(b"a").is_some()) + usize::from(cache.remove(b"b").is_some()),
            1
        );
        assert_eq!(cache.bytes(), 0);
    }

    #[test]
    fn putting_a_name_back_replaces_its_size() {
        let mut cache = NameCache::with_cap(usize::MAX);
        cache.extend([(b"a".to_vec(), name(10))]);
        cache.extend([(b"a".to_vec(), name(1000))]);
        assert_eq!(cache.len(), 1);
        assert_eq!(cache.bytes(), estimated_bytes(&name(1000)));
        cache.clear();
        assert_eq!((cache.len(), cache.bytes()), (0, 0));
    }
}
