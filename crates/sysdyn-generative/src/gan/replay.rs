//! The image replay buffer of CycleGAN (Shrivastava et al. 2017; Zhu et al. 2017): the
//! discriminator is shown a mix of the generator's newest images and older ones, which damps
//! the oscillation of the two players.

use sysdyn_core::rng::SeededRng;

use crate::error::GenerativeError;

/// A pool of up to `capacity` past samples. [`ReplayBuffer::exchange`] takes each new sample
/// and returns what the discriminator sees in its place: while the pool is filling, the sample
/// itself (and it is kept); afterwards, with probability ½ the sample itself, else a random
/// stored one, which the new sample replaces. A capacity of 0 returns every sample unchanged.
#[derive(Debug, Clone)]
pub struct ReplayBuffer<T> {
    capacity: usize,
    pool: Vec<T>,
}

impl<T: Clone> ReplayBuffer<T> {
    /// An empty pool holding up to `capacity` samples (CycleGAN uses 50).
    pub fn new(capacity: usize) -> Self {
        ReplayBuffer {
            capacity,
            pool: Vec::with_capacity(capacity),
        }
    }

    /// The pool's capacity.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// How many samples are stored.
    pub fn len(&self) -> usize {
        self.pool.len()
    }

    /// The stored samples, oldest slots first.
    pub fn samples(&self) -> &[T] {
        &self.pool
    }

    /// A pool of `capacity` already holding `samples` (a checkpointed pool restored).
    pub fn with_samples(capacity: usize, samples: Vec<T>) -> Result<Self, GenerativeError> {
        if samples.len() > capacity {
            return Err(GenerativeError::InvalidParameter {
                name: "replay pool samples",
                value: samples.len() as f64,
                requirement: "a pool holds at most its capacity",
            });
        }
        Ok(ReplayBuffer {
            capacity,
            pool: samples,
        })
    }

    /// Whether nothing is stored yet.
    pub fn is_empty(&self) -> bool {
        self.pool.is_empty()
    }

    /// The samples the discriminator sees in place of `samples` (same count, same order).
    pub fn exchange(
        &mut self,
        samples: Vec<T>,
        rng: &mut SeededRng,
    ) -> Result<Vec<T>, GenerativeError> {
        if samples.is_empty() {
            return Err(GenerativeError::EmptyBatch {
                what: "replay buffer samples",
            });
        }
        if self.capacity == 0 {
            return Ok(samples);
        }
        let mut out = Vec::with_capacity(samples.len());
        for sample in samples {
            if self.pool.len() < self.capacity {
                self.pool.push(sample.clone());
                out.push(sample);
            } else if rng.uniform() < 0.5 {
                let slot = rng.below(self.capacity as u64) as usize;
                let old = std::mem::replace(&mut self.pool[slot], sample);
                out.push(old);
            } else {
                out.push(sample);
            }
        }
        Ok(out)
    }
}
