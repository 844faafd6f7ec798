//! A small LRU of decoded record blocks, shared by readers and invalidated by commits.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use crate::block::Block;

/// Decoded blocks kept.
const CAPACITY: usize = 64;

#[derive(Debug, Default)]
struct Inner {
    /// Bumped by every invalidation: a block read before it is not cached after it.
    generation: u64,
    tick: u64,
    blocks: HashMap<u32, (Arc<Block>, u64)>,
}

/// The cache. Readers call [`BlockCache::get`] with a loader; a commit calls
/// [`BlockCache::invalidate`] with the blocks it wrote, after its batch is applied.
#[derive(Debug, Default)]
pub(crate) struct BlockCache {
    inner: Mutex<Inner>,
}

impl BlockCache {
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
            if let Some((b, used)) = inner.blocks.get_mut(&block) {
                *used = tick;
                return Ok(Arc::clone(b));
            }
            inner.generation
        };
        let loaded = Arc::new(load()?);
        let mut inner = self.lock();
        if inner.generation == generation {
            if inner.blocks.len() >= CAPACITY
                && let Some(oldest) = inner
                    .blocks
                    .iter()
                    .min_by_key(|(_, (_, used))| *used)
                    .map(|(k, _)| *k)
            {
                inner.blocks.remove(&oldest);
            }
            let tick = inner.tick;
            inner.blocks.insert(block, (Arc::clone(&loaded), tick));
        }
        Ok(loaded)
    }

    /// Forgets `blocks`, and makes every load begun before this call uncacheable.
    pub(crate) fn invalidate(&self, blocks: impl IntoIterator<Item = u32>) {
        let mut inner = self.lock();
        inner.generation += 1;
        for b in blocks {
            inner.blocks.remove(&b);
        }
    }

    /// Forgets everything (tests that edit values behind the archive's back).
    #[cfg(test)]
    pub(crate) fn clear(&self) {
        let mut inner = self.lock();
        inner.generation += 1;
        inner.blocks.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caches_evicts_and_invalidates() {
        let cache = BlockCache::default();
        let mut loads = 0;
        for round in 0..2 {
            for b in 0..CAPACITY as u32 {
                cache
                    .get(b, || {
                        loads += 1;
                        Ok::<_, ()>(Block::default())
                    })
                    .unwrap();
            }
            assert_eq!(loads, CAPACITY, "round {round}");
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
}
