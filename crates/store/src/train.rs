//! Dictionary training: the policy that decides when a group gets its own zstd dictionary, the
//! copies of bodies kept meanwhile ([`Samples`]), and the small commit that installs one.

use std::collections::BTreeMap;
use std::sync::Arc;

use rayon::prelude::*;

use crate::dir::engine_error;
use crate::error::{Error, Result};
use crate::format;
use crate::frame::{self, Dict};
use crate::store::{Cache, Groups, Store};

/// Bodies of a batch before the store trains a dictionary for the default group on them
/// (and at least [`TRAIN_MIN_BYTES`] of them).
pub(crate) const TRAIN_DEFAULT_MIN: usize = 500;
/// Bytes of a batch before the store trains a dictionary for the default group.
pub(crate) const TRAIN_MIN_BYTES: usize = 256 << 10;
/// Bodies of one group in a batch before the store trains that group's own dictionary.
pub(crate) const TRAIN_GROUP_MIN: usize = 1000;
/// Bodies of one group before the store trains that group's own dictionary when they are
/// large: at least this many, of at least [`TRAIN_LARGE_BYTES`] (web pages, tens or hundreds of
/// KB each, whose site's template a hundred of them show as well as a thousand).
pub(crate) const TRAIN_LARGE_MIN: usize = 100;
/// Bytes of the bodies of one group that, with [`TRAIN_LARGE_MIN`] of them, get it a dictionary.
pub(crate) const TRAIN_LARGE_BYTES: usize = 4 << 20;
/// Bodies a dictionary is trained on, at most (at prepare time).
pub(crate) const TRAIN_SAMPLES: usize = 1000;

impl Store {
    /// Trains the dictionaries the policy asks for before a batch is compressed: each group
    /// without its own dictionary once [`TRAIN_GROUP_MIN`] of its bodies (or
    /// [`TRAIN_LARGE_MIN`] of [`TRAIN_LARGE_BYTES`] in all) have been prepared
    /// (in this batch and earlier ones of this process), and the default group, when it has
    /// none, once the bodies left to it (those of groups without a dictionary of their own,
    /// counting the ones trained now) reach [`TRAIN_DEFAULT_MIN`] and [`TRAIN_MIN_BYTES`]. Until
    /// then, copies of up to [`TRAIN_SAMPLES`] of their bodies wait in [`Samples`], so that
    /// small batches train the same dictionaries as large ones.
    pub(crate) fn train_for_batch(&self, items: &[(&[u8], &str)], groups: &[u16]) -> Result<()> {
        let cache = self.cache();
        let own = |g: u16| cache.groups.list.get(usize::from(g)).map_or(0, |(_, d)| *d);
        let mut per_group: BTreeMap<u16, Vec<&[u8]>> = BTreeMap::new();
        for ((body, _), g) in items.iter().zip(groups) {
            if *g != 0 && own(*g) == 0 {
                per_group.entry(*g).or_default().push(body);
            }
        }
        let mut samples = self.samples();
        let mut wanted: Vec<(u16, Vec<Vec<u8>>)> = Vec::new();
        let mut trained_now: Vec<u16> = Vec::new();
        for (g, bodies) in per_group {
            let bytes = bodies.iter().map(|b| b.len()).sum();
            let needs = [(TRAIN_GROUP_MIN, 0), (TRAIN_LARGE_MIN, TRAIN_LARGE_BYTES)];
            if let Some(all) = samples.add_any(g, &bodies, bytes, &needs) {
                wanted.push((g, all));
                trained_now.push(g);
            }
        }
        if own(0) == 0 {
            let left: Vec<&[u8]> = items
                .iter()
                .zip(groups)
                .filter(|(_, g)| own(**g) == 0 && !trained_now.contains(*g))
                .map(|((b, _), _)| *b)
                .collect();
            let bytes = left.iter().map(|b| b.len()).sum();
            if let Some(all) = samples.add(0, &left, bytes, TRAIN_DEFAULT_MIN, TRAIN_MIN_BYTES) {
                wanted.push((0, all));
            }
        }
        drop(samples);
        if wanted.is_empty() {
            return Ok(());
        }
        let trained: Vec<(u16, Option<Vec<u8>>)> = wanted
            .into_par_iter()
            .map(|(g, bodies)| {
                let samples = spread(bodies.iter().map(Vec::as_slice), TRAIN_SAMPLES);
                (g, frame::train(&samples, self.level()))
            })
            .collect();
        for (g, dict) in trained {
            if let Some(dict) = dict {
                self.install_dict(g, dict, false)?;
            }
        }
        Ok(())
    }

    /// Stores a trained dictionary as the dictionary of `group` (`D`, `G` and `S` in one small
    /// commit). Unless `replace`, a group that got a dictionary meanwhile keeps it.
    pub(crate) fn install_dict(&self, group: u16, bytes: Vec<u8>, replace: bool) -> Result<u32> {
        let _state = self.lock_state();
        let cache = self.cache();
        let Some((name, current)) = cache.groups.list.get(usize::from(group)).cloned() else {
            return Err(Error::Internal(format!("no group {group}")));
        };
        if current != 0 && !replace {
            return Ok(current);
        }
        let id = cache.state.next_dict;
        let dict = Dict::new(id, bytes, self.level());
        // Used at once by the batch that trained it; and zstd must take it.
        dict.encoder()?;
        let mut state = cache.state;
        state.next_dict = id
            .checked_add(1)
            .ok_or_else(|| Error::Internal("no dictionary ids left".into()))?;
        let mut batch = sled::Batch::default();
        batch.insert(&format::key_dict(id), format::encode_dict(&dict.bytes));
        batch.insert(&format::key_group(group), format::encode_group(id, &name));
        batch.insert(&format::key_state(), state.encode());
        self.tree().apply_batch(batch).map_err(engine_error)?;
        let mut groups: Groups = (*cache.groups).clone();
        groups.list[usize::from(group)].1 = id;
        let mut dicts = (*cache.dicts).clone();
        dicts.insert(id, Arc::new(dict));
        self.set_cache(Cache {
            state,
            runs: Arc::clone(&cache.runs),
            dicts: Arc::new(dicts),
            groups: Arc::new(groups),
        });
        Ok(id)
    }
}

/// Up to `n` of `items`, spread evenly.
fn spread<'a>(items: impl ExactSizeIterator<Item = &'a [u8]>, n: usize) -> Vec<&'a [u8]> {
    let len = items.len();
    let step = len.div_ceil(n.max(1)).max(1);
    items.step_by(step).collect()
}

/// Copies of bodies kept for the dictionaries not trained yet, per group (0: the bodies left
/// to the default group), between the batches of one process: at most [`TRAIN_SAMPLES`] bodies
/// per group, and [`SAMPLE_BYTES`] in all.
#[derive(Debug, Default)]
pub(crate) struct Samples {
    groups: BTreeMap<u16, Waiting>,
    /// Bytes of the bodies kept.
    kept_bytes: usize,
}

/// What was seen of one group.
#[derive(Debug, Default)]
struct Waiting {
    /// Bodies prepared so far, and their bytes.
    seen: usize,
    seen_bytes: usize,
    kept: Vec<Vec<u8>>,
}

/// Bytes of bodies [`Samples`] keeps at most.
pub(crate) const SAMPLE_BYTES: usize = 16 << 20;

impl Samples {
    /// Counts `bodies` (of `bytes` bytes) as seen for `group`. Once the group has seen `min`
    /// bodies and `min_bytes`, returns the bodies to train its dictionary on (those kept
    /// before, then these) and forgets the group; until then keeps copies of some.
    pub(crate) fn add(
        &mut self,
        group: u16,
        bodies: &[&[u8]],
        bytes: usize,
        min: usize,
        min_bytes: usize,
    ) -> Option<Vec<Vec<u8>>> {
        self.add_any(group, bodies, bytes, &[(min, min_bytes)])
    }

    /// [`Samples::add`] with several needs: the group is ready once it meets any of them
    /// (`(min bodies, min bytes)` each).
    pub(crate) fn add_any(
        &mut self,
        group: u16,
        bodies: &[&[u8]],
        bytes: usize,
        needs: &[(usize, usize)],
    ) -> Option<Vec<Vec<u8>>> {
        if bodies.is_empty() {
            return None;
        }
        let waiting = self.groups.entry(group).or_default();
        waiting.seen += bodies.len();
        waiting.seen_bytes += bytes;
        let ready = needs
            .iter()
            .any(|&(min, min_bytes)| waiting.seen >= min && waiting.seen_bytes >= min_bytes);
        if ready {
            let waiting = self.groups.remove(&group)?;
            self.kept_bytes -= waiting.kept.iter().map(Vec::len).sum::<usize>();
            let mut all = waiting.kept;
            // The batch's own bodies, evenly, up to what training takes.
            let room = TRAIN_SAMPLES
                .saturating_sub(all.len())
                .max(TRAIN_SAMPLES / 2);
            all.extend(
                spread(bodies.iter().copied(), room)
                    .into_iter()
                    .map(<[u8]>::to_vec),
            );
            return Some(all);
        }
        for body in bodies {
            if waiting.kept.len() >= TRAIN_SAMPLES || self.kept_bytes + body.len() > SAMPLE_BYTES {
                break;
            }
            self.kept_bytes += body.len();
            waiting.kept.push(body.to_vec());
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_wait_until_a_group_has_enough_then_train_on_all_it_kept() {
        let mut samples = Samples::default();
        let bodies: Vec<Vec<u8>> = (0..1500u32).map(|i| i.to_le_bytes().repeat(8)).collect();
        let refs: Vec<&[u8]> = bodies.iter().map(Vec::as_slice).collect();
        // 600 + 399 bodies of group 3: not yet; their copies wait.
        assert!(samples.add(3, &refs[..600], 600 * 32, 1000, 0).is_none());
        assert!(samples.add(3, &refs[600..999], 399 * 32, 1000, 0).is_none());
        assert_eq!(samples.kept_bytes, 999 * 32);
        // Another group's count is its own.
        assert!(samples.add(4, &refs[..10], 320, 1000, 0).is_none());
        // The 1,000th body of group 3: everything kept, then the batch, and the group is
        // forgotten (its bytes given back).
        let all = samples.add(3, &refs[999..1000], 32, 1000, 0).unwrap();
        assert_eq!(all.len(), 1000);
        assert_eq!(all[0], bodies[0]);
        assert_eq!(all[999], bodies[999]);
        assert_eq!(samples.kept_bytes, 10 * 32);
        assert!(!samples.groups.contains_key(&3));
        // A byte minimum holds back a group with enough bodies.
        assert!(
            samples
                .add(5, &refs[..600], 600 * 32, 500, 1 << 20)
                .is_none()
        );
        assert!(
            samples.add(5, &[], 0, 500, 0).is_none(),
            "nothing new, nothing done"
        );
    }

    #[test]
    fn samples_keep_at_most_a_training_set_per_group_and_bounded_bytes() {
        let mut samples = Samples::default();
        let big = vec![7u8; 1 << 20];
        let refs: Vec<&[u8]> = std::iter::repeat_n(big.as_slice(), 40).collect();
        for g in 1..=3 {
            assert!(samples.add(g, &refs, 40 << 20, 10_000, 0).is_none());
        }
        assert!(samples.kept_bytes <= SAMPLE_BYTES, "{}", samples.kept_bytes);
        let small = [1u8; 8];
        let many: Vec<&[u8]> = std::iter::repeat_n(&small[..], 3 * TRAIN_SAMPLES).collect();
        let mut samples = Samples::default();
        assert!(samples.add(9, &many, many.len() * 8, 10_000, 0).is_none());
        assert_eq!(samples.groups[&9].kept.len(), TRAIN_SAMPLES);
        assert_eq!(samples.groups[&9].seen, 3 * TRAIN_SAMPLES);
    }

    #[test]
    fn large_bodies_are_ready_sooner() {
        let mut samples = Samples::default();
        let page = vec![b'<'; 50 << 10];
        let pages: Vec<&[u8]> = std::iter::repeat_n(page.as_slice(), 60).collect();
        let needs = [(TRAIN_GROUP_MIN, 0), (TRAIN_LARGE_MIN, TRAIN_LARGE_BYTES)];
        // 60 pages of 50 KB: 3 MB, not yet; 120: enough bytes and bodies.
        assert!(
            samples
                .add_any(7, &pages, 60 * page.len(), &needs)
                .is_none()
        );
        let all = samples.add_any(7, &pages, 60 * page.len(), &needs).unwrap();
        assert!(all.len() >= 60, "{}", all.len());
        // Small bodies wait for the count.
        let small = [b'a'; 100];
        let bodies: Vec<&[u8]> = std::iter::repeat_n(&small[..], 500).collect();
        assert!(samples.add_any(8, &bodies, 500 * 100, &needs).is_none());
    }

    #[test]
    fn spread_takes_evenly() {
        let items: Vec<Vec<u8>> = (0..10u8).map(|i| vec![i]).collect();
        let s = spread(items.iter().map(Vec::as_slice), 3);
        assert_eq!(s, [&[0u8][..], &[4], &[8]]);
        assert_eq!(spread(items.iter().map(Vec::as_slice), 100).len(), 10);
    }
}
