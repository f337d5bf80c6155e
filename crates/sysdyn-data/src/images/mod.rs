//! Small labelled image sets: procedurally rendered shapes and digits (no download), and the
//! type every loader returns.
//!
//! - [`ShapesConfig`]: circles, squares, triangles, crosses and rings ([`Shape`]) at random
//!   positions, sizes and rotations, anti-aliased, grey or coloured, any side (28 and 32 are
//!   typical).
//! - [`DigitsConfig`]: the digits 0–9 drawn as strokes with random thickness, height, slant and
//!   shift, anti-aliased, with their labels: an MNIST stand-in for tests and CI smoke runs.
//!
//! Image `i` depends only on the seed and `i` (its own random stream), so a larger set extends a
//! smaller one with the same seed.

mod digits;
mod render;
mod shapes;

pub use digits::DigitsConfig;
pub use shapes::{Shape, ShapesConfig};

use sysdyn_core::rng::{CounterRng, SeededRng};

use crate::error::DataError;

/// Images with labels, pixel values in `[0, 1]`.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelledImages {
    /// Pixel values, `[count, channels, rows, cols]` row-major.
    pub pixels: Vec<f64>,
    /// Labels, `0..classes`.
    pub labels: Vec<usize>,
    /// Channels per image (1 grey, 3 RGB).
    pub channels: usize,
    /// Image height.
    pub rows: usize,
    /// Image width.
    pub cols: usize,
    /// Number of classes.
    pub classes: usize,
}

/// Images and labels gathered for one mini-batch.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageBatch {
    /// Pixel values, `shape` row-major.
    pub pixels: Vec<f64>,
    /// Labels.
    pub labels: Vec<usize>,
    /// `[batch, channels, rows, cols]`.
    pub shape: [usize; 4],
}

impl ImageBatch {
    /// The labels one-hot encoded, row-major `batch × classes` (labels are below `classes` when
    /// the batch comes from [`LabelledImages::gather`] with the set's own class count).
    pub fn one_hot(&self, classes: usize) -> Vec<f64> {
        let mut out = vec![0.0; self.labels.len() * classes];
        for (i, &l) in self.labels.iter().enumerate() {
            if l < classes {
                out[i * classes + l] = 1.0;
            }
        }
        out
    }
}

impl LabelledImages {
    /// Number of images.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Values per image, `channels × rows × cols`.
    pub fn image_len(&self) -> usize {
        self.channels * self.rows * self.cols
    }

    /// The pixels of image `index` (`channels × rows × cols`), `None` past the end.
    pub fn image(&self, index: usize) -> Option<&[f64]> {
        let len = self.image_len();
        self.pixels.get(index * len..(index + 1) * len)
    }

    /// The images and labels at `indices` (e.g. one batch of an [`crate::EpochBatcher`]).
    pub fn gather(&self, indices: &[usize]) -> Result<ImageBatch, DataError> {
        let len = self.image_len();
        let mut pixels = Vec::with_capacity(indices.len() * len);
        let mut labels = Vec::with_capacity(indices.len());
        for &i in indices {
            let image = self.image(i).ok_or_else(|| DataError::InvalidArgument {
                context: "image batch indices",
                reason: format!("index {i} is past the {} images", self.len()),
            })?;
            pixels.extend_from_slice(image);
            labels.push(self.labels[i]);
        }
        Ok(ImageBatch {
            pixels,
            labels,
            shape: [indices.len(), self.channels, self.rows, self.cols],
        })
    }

    /// Pixels quantised to bytes (`round(255 v)`), e.g. to write IDX files.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.pixels
            .iter()
            .map(|v| (v.clamp(0.0, 1.0) * 255.0).round() as u8)
            .collect()
    }
}

/// The random stream of image `index` of a set generated from `seed`.
pub(crate) fn image_rng(seed: u64, index: usize) -> SeededRng {
    SeededRng::new(CounterRng::new(seed).fork(index as u64).bits(0))
}

/// A uniform draw in `[lo, hi]`.
pub(crate) fn between(rng: &mut SeededRng, [lo, hi]: [f64; 2]) -> f64 {
    lo + (hi - lo) * rng.uniform()
}

/// Checks an image side.
pub(crate) fn check_side(context: &'static str, side: usize) -> Result<(), DataError> {
    if (8..=1024).contains(&side) {
        Ok(())
    } else {
        Err(DataError::InvalidArgument {
            context,
            reason: format!("image side {side} is outside 8..=1024 (28 and 32 are typical)"),
        })
    }
}

/// Checks a range `[lo, hi]` with `min <= lo <= hi <= max`.
pub(crate) fn check_range(
    context: &'static str,
    [lo, hi]: [f64; 2],
    min: f64,
    max: f64,
) -> Result<(), DataError> {
    if lo.is_finite() && hi.is_finite() && min <= lo && lo <= hi && hi <= max {
        Ok(())
    } else {
        Err(DataError::InvalidArgument {
            context,
            reason: format!("[{lo}, {hi}] must be an ordered range inside [{min}, {max}]"),
        })
    }
}
