//! Mini-batches drawn without replacement within an epoch.
//!
//! Each epoch is a fresh permutation of `0..items` cut into consecutive batches, so every index
//! appears exactly once per epoch (the last batch is shorter when the batch size does not divide
//! the data set, unless it is dropped). Epoch `e`'s permutation depends only on the seed and `e`
//! (a [`CounterRng`] sub-stream seeds a [`SeededRng`] per epoch), so a run is reproducible and an
//! epoch can be regenerated on its own, e.g. after resuming from a checkpoint.

use sysdyn_core::rng::{CounterRng, SeededRng};

use crate::error::OptimError;

/// What to do with a final batch smaller than the batch size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LastBatch {
    /// Keep it (every index is used every epoch).
    #[default]
    Keep,
    /// Drop it (all batches have the same size; up to `batch_size - 1` indices skip an epoch).
    Drop,
}

/// Yields mini-batches of indices, without replacement within each epoch.
///
/// ```
/// use sysdyn_optim::sampler::EpochSampler;
///
/// let mut sampler = EpochSampler::new(10, 4, 7)?;
/// let epoch = sampler.next_epoch();
/// assert_eq!(epoch.iter().map(Vec::len).collect::<Vec<_>>(), [4, 4, 2]);
/// let mut seen: Vec<usize> = epoch.concat();
/// seen.sort();
/// assert_eq!(seen, (0..10).collect::<Vec<_>>());
/// # Ok::<(), sysdyn_optim::OptimError>(())
/// ```
#[derive(Debug, Clone)]
pub struct EpochSampler {
    items: usize,
    batch_size: usize,
    last_batch: LastBatch,
    streams: CounterRng,
    epoch: u64,
    pending: Vec<Vec<usize>>,
}

impl EpochSampler {
    /// A sampler over `items` indices in batches of `batch_size`, seeded by `seed`.
    pub fn new(items: usize, batch_size: usize, seed: u64) -> Result<Self, OptimError> {
        if items == 0 || batch_size == 0 {
            return Err(OptimError::InvalidBatching {
                items,
                batch_size,
                reason: "both must be at least 1",
            });
        }
        Ok(EpochSampler {
            items,
            batch_size,
            last_batch: LastBatch::Keep,
            streams: CounterRng::new(seed),
            epoch: 0,
            pending: Vec::new(),
        })
    }

    /// Sets the policy for a short final batch. Dropping it needs `batch_size <= items`, or no
    /// batch would remain.
    pub fn last_batch(mut self, policy: LastBatch) -> Result<Self, OptimError> {
        if policy == LastBatch::Drop && self.batch_size > self.items {
            return Err(OptimError::InvalidBatching {
                items: self.items,
                batch_size: self.batch_size,
                reason: "dropping the short last batch would leave no batch; keep it or use a \
                         batch size no larger than the data set",
            });
        }
        self.last_batch = policy;
        Ok(self)
    }

    /// Number of indices.
    pub fn items(&self) -> usize {
        self.items
    }

    /// Batch size.
    pub fn batch_size(&self) -> usize {
        self.batch_size
    }

    /// Number of batches per epoch.
    pub fn batches_per_epoch(&self) -> usize {
        match self.last_batch {
            LastBatch::Keep => self.items.div_ceil(self.batch_size),
            LastBatch::Drop => self.items / self.batch_size,
        }
    }

    /// Index of the epoch the next batch belongs to (0 before any batch was drawn).
    pub fn epoch(&self) -> u64 {
        if self.pending.is_empty() {
            self.epoch
        } else {
            self.epoch - 1
        }
    }

    /// The batches of epoch `epoch`, independent of the sampler's position.
    pub fn epoch_batches(&self, epoch: u64) -> Vec<Vec<usize>> {
        let mut order: Vec<usize> = (0..self.items).collect();
        SeededRng::new(self.streams.fork(epoch).bits(0)).shuffle(&mut order);
        let mut batches: Vec<Vec<usize>> = order
            .chunks(self.batch_size)
            .map(<[usize]>::to_vec)
            .collect();
        if self.last_batch == LastBatch::Drop
            && batches.last().is_some_and(|b| b.len() < self.batch_size)
        {
            batches.pop();
        }
        batches
    }

    /// The remaining batches of the current epoch, or all of the next one; advances the sampler
    /// past them.
    pub fn next_epoch(&mut self) -> Vec<Vec<usize>> {
        if self.pending.is_empty() {
            let batches = self.epoch_batches(self.epoch);
            self.epoch += 1;
            batches
        } else {
            let mut rest = std::mem::take(&mut self.pending);
            rest.reverse();
            rest
        }
    }

    /// The next batch, starting a new epoch when the current one is used up.
    pub fn next_batch(&mut self) -> Vec<usize> {
        loop {
            if let Some(batch) = self.pending.pop() {
                return batch;
            }
            let mut batches = self.epoch_batches(self.epoch);
            self.epoch += 1;
            // Stored reversed so that `pop` yields them in order.
            batches.reverse();
            self.pending = batches;
        }
    }
}

impl Iterator for EpochSampler {
    type Item = Vec<usize>;

    /// Never ends: epochs follow each other.
    fn next(&mut self) -> Option<Vec<usize>> {
        Some(self.next_batch())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_index_appears_exactly_once_per_epoch() {
        for (items, batch) in [(10, 3), (64, 8), (7, 7), (5, 9), (1, 1)] {
            let mut sampler = EpochSampler::new(items, batch, 11).unwrap();
            let mut previous: Option<Vec<usize>> = None;
            for epoch in 0..5 {
                let mut counts = vec![0usize; items];
                let mut order = Vec::new();
                for _ in 0..sampler.batches_per_epoch() {
                    assert_eq!(sampler.epoch(), epoch);
                    let b = sampler.next_batch();
                    assert!(!b.is_empty() && b.len() <= batch);
                    for &i in &b {
                        counts[i] += 1;
                    }
                    order.extend(b);
                }
                assert!(
                    counts.iter().all(|&c| c == 1),
                    "{items}/{batch}: {counts:?}"
                );
                if items > 3 {
                    assert_ne!(previous.as_ref(), Some(&order), "epochs are reshuffled");
                }
                previous = Some(order);
            }
        }
    }

    #[test]
    fn same_seed_same_batches_and_epochs_regenerate() {
        let a: Vec<_> = EpochSampler::new(20, 6, 3).unwrap().take(12).collect();
        let b: Vec<_> = EpochSampler::new(20, 6, 3).unwrap().take(12).collect();
        let c: Vec<_> = EpochSampler::new(20, 6, 4).unwrap().take(12).collect();
        assert_eq!(a, b);
        assert_ne!(a, c);
        let s = EpochSampler::new(20, 6, 3).unwrap();
        assert_eq!(s.epoch_batches(2), a[8..12].to_vec());
    }

    #[test]
    fn drop_last_gives_equal_batches() {
        let mut s = EpochSampler::new(10, 4, 1)
            .unwrap()
            .last_batch(LastBatch::Drop)
            .unwrap();
        assert_eq!(s.batches_per_epoch(), 2);
        let epoch = s.next_epoch();
        assert_eq!(epoch.len(), 2);
        assert!(epoch.iter().all(|b| b.len() == 4));
        let mut seen = epoch.concat();
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), 8);
    }

    #[test]
    fn next_epoch_finishes_a_started_epoch() {
        let mut s = EpochSampler::new(9, 2, 5).unwrap();
        let first = s.next_batch();
        let rest = s.next_epoch();
        let mut all = vec![first];
        all.extend(rest);
        assert_eq!(all, s.epoch_batches(0));
        assert_eq!(s.epoch(), 1);
    }

    #[test]
    fn empty_setups_are_refused() {
        assert!(matches!(
            EpochSampler::new(0, 3, 1),
            Err(OptimError::InvalidBatching { .. })
        ));
        assert!(EpochSampler::new(3, 0, 1).is_err());
        let too_big = EpochSampler::new(3, 4, 1).unwrap();
        assert!(too_big.clone().last_batch(LastBatch::Drop).is_err());
        assert!(too_big.last_batch(LastBatch::Keep).is_ok());
    }
}
