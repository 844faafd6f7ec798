//! An LRU of decoded record blocks, bounded in bytes, shared by readers and invalidated by
//! commits.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use crate::block::Block;

/// Bytes of decoded blocks kept (their records and slot tables, [`Block::weight`]): 8 MiB,
/// several hundred blocks (tens of thousands of records) of news metadata. A miss costs a sled read and a zstd
/// decompression of the whole block (64 records) to return one record: a server answering
/// searches (20 hits from all over the archive each) keeps the blocks of the articles it
/// returns most; one command process reads few blocks and never fills it.
pub(crate) const BLOCK_CACHE_BYTES: usize = 8 << 20;

#[derive(Debug, Default)]
struct Inner {
    /// Bumped by every invalidation: a block read before it is not cached after it.
    generation: u64,
    tick: u64,
    /// Block -> (the block, its weight, the tick it was last used at).
    blocks: HashMap<u32, (Arc<Block>, usize, u64)>,
    /// The weights of `blocks`, summed.
    bytes: usize,
}

/// The cache. Readers call [`BlockCache::get`] with a loader; a commit calls
/// [`BlockCache::invalidate`] with the blocks it wrote, after its batch is applied.
#[derive(Debug)]
pub(crate) struct BlockCache {
    inner: Mutex<Inner>,
    cap: usize,
}

impl Default for BlockCache {
    fn default() -> Self {
        Self::with_cap(BLOCK_CACHE_BYTES)
    }
}

impl BlockCache {
    /// A cache of at most `cap` bytes of blocks (at least one block is kept, whatever its size).
    pub(crate) fn with_cap(cap: usize) -> Self {
        BlockCache {
            inner: Mutex::default(),
            cap,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The decoded block `block`, from the cache or from `load` (outside the lock).
    pub(crate) fn get<E>(
        &self,
        block: u32,
        load: impl FnOnce() -> Result<Block, E>,
    ) -> Result<Arc<Block>, E> {
        let generation = {
            let mut inner = self.lock();
            inner.tick += 1;
            let tick = inner.tick;
            if let Some((b, _, used)) = inner.blocks.get_mut(&block) {
                *used = tick;
                return Ok(Arc::clone(b));
            }
            inner.generation
        };
        let loaded = Arc::new(load()?);
        let mut inner = self.lock();
        if inner.generation == generation {
            let weight = loaded.weight();
            while inner.bytes + weight > self.cap
                && let Some(oldest) = inner
                    .blocks
                    .iter()
                    .min_by_key(|(_, (_, _, used))| *used)
                    .map(|(k, _)| *k)
            {
                inner.remove(oldest);
            }
            let tick = inner.tick;
            inner.bytes += weight;
            if let Some((_, old, _)) = inner
                .blocks
                .insert(block, (Arc::clone(&loaded), weight, tick))
            {
                // Another reader cached the same block meanwhile.
                inner.bytes -= old;
            }
        }
        Ok(loaded)
    }

    /// Forgets `blocks`, and makes every load begun before this call uncacheable.
    pub(crate) fn invalidate(&self, blocks: impl IntoIterator<Item = u32>) {
        let mut inner = self.lock();
        inner.generation += 1;
        for b in blocks {
            inner.remove(b);
        }
    }

    /// Forgets everything (tests that edit values behind the archive's back).
    #[cfg(test)]
    pub(crate) fn clear(&self) {
        let mut inner = self.lock();
        inner.generation += 1;
        inner.blocks.clear();
        inner.bytes = 0;
    }
}

impl Inner {
    fn remove(&mut self, block: u32) {
        if let Some((_, weight, _)) = self.blocks.remove(&block) {
            self.bytes -= weight;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caches_evicts_and_invalidates() {
        const BLOCKS: usize = 8;
        let cache = BlockCache::with_cap(BLOCKS * Block::default().weight());
        let mut loads = 0;
        for round in 0..2 {
            for b in 0..BLOCKS as u32 {
                cache
                    .get(b, || {
                        loads += 1;
                        Ok::<_, ()>(Block::default())
                    })
                    .unwrap();
            }
            assert_eq!(loads, BLOCKS, "round {round}");
        }
        // One more block evicts the least recently used (block 0).
        cache.get(999, || Ok::<_, ()>(Block::default())).unwrap();
        let mut reloaded = false;
        cache
            .get(0, || {
                reloaded = true;
                Ok::<_, ()>(Block::default())
            })
            .unwrap();
        assert!(reloaded);
        cache.invalidate([5]);
        let mut reloaded = false;
        cache
            .get(5, || {
                reloaded = true;
                Ok::<_, ()>(Block::default())
            })
            .unwrap();
        assert!(reloaded);
        // A load that straddles an invalidation is returned but not cached.
        let stale = cache.get(7777, || {
            cache.invalidate([7777]);
            Ok::<_, ()>(Block::default())
        });
        assert!(stale.is_ok());
        let mut reloaded = false;
        cache
            .get(7777, || {
                reloaded = true;
                Ok::<_, ()>(Block::default())
            })
            .unwrap();
        assert!(reloaded);
        cache.clear();
        assert!(cache.lock().blocks.is_empty());
    }

    fn block_of(bytes: usize) -> Block {
        let mut b = Block::default();
        b.set(0, Some(vec![7; bytes]));
        b
    }

    #[test]
    fn bounded_by_bytes() {
        let small = block_of(100).weight();
        let cache = BlockCache::with_cap(10 * small);
        for b in 0..10 {
            cache.get(b, || Ok::<_, ()>(block_of(100))).unwrap();
        }
        assert_eq!(cache.lock().bytes, 10 * small);
        // A block as heavy as five small ones evicts the five least recently used.
        cache.get(0, || Ok::<_, ()>(block_of(100))).unwrap(); // 0 is now the most recent
        let big = block_of(5 * small - Block::default().weight());
        assert_eq!(big.weight(), 5 * small);
        cache.get(100, || Ok::<_, ()>(big)).unwrap();
        let inner = cache.lock();
        assert_eq!(inner.bytes, 10 * small);
        let mut kept: Vec<u32> = inner.blocks.keys().copied().collect();
        kept.sort_unstable();
        assert_eq!(kept, [0, 6, 7, 8, 9, 100]);
        assert_eq!(
            inner.bytes,
            inner.blocks.values().map(|(_, w, _)| w).sum::<usize>()
        );
        drop(inner);
        // A block heavier than the whole cache is still kept (alone).
        cache
            .get(200, || Ok::<_, ()>(block_of(20 * small)))
            .unwrap();
        let inner = cache.lock();
        assert_eq!(inner.blocks.keys().copied().collect::<Vec<_>>(), [200]);
        drop(inner);
        cache.invalidate([200]);
        assert_eq!(cache.lock().bytes, 0);
    }
}
