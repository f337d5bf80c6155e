//! The digits: procedurally drawn (no download) or MNIST from `--mnist DIR`, pixels scaled to
//! `[−1, 1]` (the generator ends in `tanh`), split into training and held-out images; and the
//! blurred-data baseline of the Fréchet distance.

use std::path::Path;

use sysdyn_core::rng::SeededRng;
use sysdyn_data::LabelledImages;
use sysdyn_data::idx::{Split, load_split};
use sysdyn_data::images::DigitsConfig;
use sysdyn_generative::gan::ImageShape;

use crate::ExampleError;

/// Standard deviation, in pixels, of the Gaussian blur of the baseline.
pub const BLUR_SIGMA: f64 = 1.0;

/// Training and held-out digits, pixels in `[−1, 1]`, flattened row-major.
#[derive(Debug, Clone)]
pub struct Digits {
    /// Layout of one image.
    pub image: ImageShape,
    /// Number of classes.
    pub classes: usize,
    /// Training pixels.
    pub train: Vec<f64>,
    /// Training labels.
    pub train_labels: Vec<usize>,
    /// Held-out pixels.
    pub test: Vec<f64>,
    /// Held-out labels.
    pub test_labels: Vec<usize>,
    /// Where they come from.
    pub source: String,
}

fn scaled(images: &LabelledImages) -> Vec<f64> {
    images.pixels.iter().map(|p| 2.0 * p - 1.0).collect()
}

impl Digits {
    /// `train` and `test` procedural digits (28×28), drawn from `seed`.
    pub fn procedural(train: usize, test: usize, seed: u64) -> Result<Digits, ExampleError> {
        let config = DigitsConfig::default();
        let train_set = config.generate(train, seed)?;
        let test_set = config.generate(test, seed.wrapping_add(1_000_003))?;
        Ok(Digits::from_sets(
            &train_set,
            &test_set,
            "procedural digits (sysdyn-data)",
        ))
    }

    /// The first `train` and `test` images of the MNIST IDX files in `dir`.
    pub fn mnist(dir: &Path, train: usize, test: usize) -> Result<Digits, ExampleError> {
        let train_set = load_split(dir, Split::Train, Some(train), 10)?;
        let test_set = load_split(dir, Split::Test, Some(test), 10)?;
        for (what, count, needed) in [
            ("the MNIST training split", train_set.len(), 10),
            ("the MNIST test split", test_set.len(), 4),
        ] {
            if count < needed {
                return Err(ExampleError::TooFewImages {
                    what: format!("{what} in {}", dir.display()),
                    count,
                    needed,
                });
            }
        }
        Ok(Digits::from_sets(
            &train_set,
            &test_set,
            &format!("MNIST ({})", dir.display()),
        ))
    }

    fn from_sets(train: &LabelledImages, test: &LabelledImages, source: &str) -> Digits {
        Digits {
            image: ImageShape::new(train.channels, train.rows, train.cols),
            classes: train.classes,
            train: scaled(train),
            train_labels: train.labels.clone(),
            test: scaled(test),
            test_labels: test.labels.clone(),
            source: source.to_string(),
        }
    }

    /// `rows` training images drawn uniformly with replacement, with their labels (the set is
    /// never empty: `--train-images` is at least 10 and a loaded MNIST split is checked).
    pub fn train_batch(&self, rng: &mut SeededRng, rows: usize) -> (Vec<f64>, Vec<usize>) {
        let len = self.image.features();
        let count = self.train_labels.len() as u64;
        let mut pixels = Vec::with_capacity(rows * len);
        let mut labels = Vec::with_capacity(rows);
        for _ in 0..rows {
            let i = rng.below(count) as usize;
            pixels.extend_from_slice(&self.train[i * len..(i + 1) * len]);
            labels.push(self.train_labels[i]);
        }
        (pixels, labels)
    }

    /// Held-out images `range`, flattened.
    pub fn test_images(&self, range: std::ops::Range<usize>) -> &[f64] {
        let len = self.image.features();
        &self.test[range.start * len..range.end * len]
    }
}

/// Every channel of every image convolved with a normalised Gaussian of standard deviation
/// `sigma` pixels (kernel radius 3σ, borders extended): the baseline a generator's samples must
/// beat in Fréchet distance.
pub fn blur(pixels: &[f64], image: ImageShape, sigma: f64) -> Vec<f64> {
    let radius = (3.0 * sigma).ceil() as isize;
    let weights: Vec<f64> = (-radius..=radius)
        .map(|k| (-(k * k) as f64 / (2.0 * sigma * sigma)).exp())
        .collect();
    let total: f64 = weights.iter().sum();
    let weights: Vec<f64> = weights.iter().map(|w| w / total).collect();
    let (rows, cols) = (image.rows as isize, image.cols as isize);
    let clamp = |v: isize, n: isize| v.clamp(0, n - 1) as usize;
    let mut out = vec![0.0; pixels.len()];
    for (plane, blurred) in pixels
        .chunks(image.rows * image.cols)
        .zip(out.chunks_mut(image.rows * image.cols))
    {
        let mut across = vec![0.0; plane.len()];
        for r in 0..rows {
            for c in 0..cols {
                across[(r * cols + c) as usize] = (-radius..=radius)
                    .map(|k| {
                        weights[(k + radius) as usize]
                            * plane[(r * cols) as usize + clamp(c + k, cols)]
                    })
                    .sum();
            }
        }
        for r in 0..rows {
            for c in 0..cols {
                blurred[(r * cols + c) as usize] = (-radius..=radius)
                    .map(|k| {
                        weights[(k + radius) as usize]
                            * across[clamp(r + k, rows) * cols as usize + c as usize]
                    })
                    .sum();
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blurring_keeps_constant_images_and_the_mean_and_smooths_an_impulse() {
        let image = ImageShape::new(1, 9, 9);
        let constant = vec![0.3; 81];
        assert!(
            blur(&constant, image, 1.0)
                .iter()
                .all(|v| (v - 0.3).abs() < 1e-12)
        );
        let mut impulse = vec![0.0; 81];
        impulse[4 * 9 + 4] = 1.0;
        let blurred = blur(&impulse, image, 1.0);
        // Away from the borders the mass is kept and the centre holds 1/(2πσ²) of it, nearly.
        assert!((blurred.iter().sum::<f64>() - 1.0).abs() < 1e-9);
        let centre = blurred[4 * 9 + 4];
        assert!(
            (centre - 1.0 / (2.0 * std::f64::consts::PI)).abs() < 0.01,
            "{centre}"
        );
        assert!((blurred[4 * 9 + 5] - blurred[3 * 9 + 4]).abs() < 1e-12);
    }
}
