//! Seeded mini-batches over indices, without replacement within an epoch.
//!
//! Each epoch is a fresh permutation of `0..items` cut into consecutive batches (the last one
//! shorter unless dropped). Epoch `e`'s order depends only on the seed and `e`, so a run is
//! reproducible and an epoch can be regenerated alone (after resuming from a checkpoint, say).
//! Batches are index lists: [`crate::LabelledImages::gather`] and [`gather_rows`] turn them
//! into data.

use sysdyn_core::rng::{CounterRng, SeededRng};

use crate::error::DataError;

/// Yields mini-batches of indices, each index once per epoch.
///
/// ```
/// use sysdyn_data::EpochBatcher;
///
/// let mut batcher = EpochBatcher::new(10, 4, 7)?;
/// let epoch: Vec<Vec<usize>> = (0..batcher.batches_per_epoch()).map(|_| batcher.next_batch()).collect();
/// assert_eq!(epoch.iter().map(Vec::len).collect::<Vec<_>>(), [4, 4, 2]);
/// assert_eq!(epoch, batcher.epoch_batches(0));
/// let mut seen = epoch.concat();
/// seen.sort();
/// assert_eq!(seen, (0..10).collect::<Vec<_>>());
/// # Ok::<(), sysdyn_data::DataError>(())
/// ```
#[derive(Debug, Clone)]
pub struct EpochBatcher {
    items: usize,
    batch_size: usize,
    drop_last: bool,
    streams: CounterRng,
    epoch: u64,
    batch: usize,
    order: Vec<usize>,
}

impl EpochBatcher {
    /// Batches of `batch_size` over `items` indices (both at least 1), shuffled from `seed`.
    pub fn new(items: usize, batch_size: usize, seed: u64) -> Result<Self, DataError> {
        if items == 0 || batch_size == 0 {
            return Err(DataError::InvalidArgument {
                context: "epoch batcher",
                reason: format!(
                    "{items} items in batches of {batch_size}: both must be at least 1"
                ),
            });
        }
        let streams = CounterRng::new(seed);
        let mut batcher = EpochBatcher {
            items,
            batch_size,
            drop_last: false,
            streams,
            epoch: 0,
            batch: 0,
            order: Vec::new(),
        };
        batcher.order = batcher.epoch_order(0);
        Ok(batcher)
    }

    /// Drops a short final batch (all batches then have `batch_size` indices); needs
    /// `batch_size <= items`.
    pub fn drop_last(mut self, drop: bool) -> Result<Self, DataError> {
        if drop && self.batch_size > self.items {
            return Err(DataError::InvalidArgument {
                context: "epoch batcher",
                reason: format!(
                    "dropping the short last batch of {} items in batches of {} leaves no batch; \
                     keep it or use a smaller batch",
                    self.items, self.batch_size
                ),
            });
        }
        self.drop_last = drop;
        Ok(self)
    }

    /// Number of batches per epoch.
    pub fn batches_per_epoch(&self) -> usize {
        if self.drop_last {
            self.items / self.batch_size
        } else {
            self.items.div_ceil(self.batch_size)
        }
    }

    /// The epoch the next batch belongs to.
    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    /// The order of the indices in epoch `epoch` (a permutation of `0..items`).
    pub fn epoch_order(&self, epoch: u64) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.items).collect();
        SeededRng::new(self.streams.fork(epoch).bits(0)).shuffle(&mut order);
        order
    }

    /// The batches of epoch `epoch`, independent of the batcher's position.
    pub fn epoch_batches(&self, epoch: u64) -> Vec<Vec<usize>> {
        self.epoch_order(epoch)
            .chunks(self.batch_size)
            .take(self.batches_per_epoch())
            .map(<[usize]>::to_vec)
            .collect()
    }

    /// The next batch, moving on to a freshly shuffled epoch when this one is used up.
    pub fn next_batch(&mut self) -> Vec<usize> {
        if self.batch == self.batches_per_epoch() {
            self.epoch += 1;
            self.batch = 0;
            self.order = self.epoch_order(self.epoch);
        }
        let start = self.batch * self.batch_size;
        let end = (start + self.batch_size).min(self.items);
        self.batch += 1;
        self.order[start..end].to_vec()
    }
}

/// The rows `indices` of a row-major `n × dim` array (a batch of toy points, say).
pub fn gather_rows(data: &[f64], dim: usize, indices: &[usize]) -> Result<Vec<f64>, DataError> {
    if dim == 0 || !data.len().is_multiple_of(dim) {
        return Err(DataError::Shape {
            context: "gathered rows",
            expected: format!("a row-major array of rows of {dim} values (dim ≥ 1)"),
            got: format!("{} values", data.len()),
        });
    }
    let rows = data.len() / dim;
    let mut out = Vec::with_capacity(indices.len() * dim);
    for &i in indices {
        if i >= rows {
            return Err(DataError::InvalidArgument {
                context: "gathered rows",
                reason: format!("index {i} is past the {rows} rows"),
            });
        }
        out.extend_from_slice(&data[i * dim..(i + 1) * dim]);
    }
    Ok(out)
}
