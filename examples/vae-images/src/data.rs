//! The digits: procedurally drawn (no download) or MNIST from `--mnist DIR`, grey values in
//! `[0, 1]`, split into training and held-out images. The Bernoulli models see them
//! *dynamically binarised* (Burda et al. 2016): every draw of a training batch samples each
//! pixel `x ~ Bernoulli(grey)` afresh; the held-out set is binarised once, from a fixed seed,
//! so every model is scored on the same binary images.

use std::path::Path;

use sysdyn_core::rng::SeededRng;
use sysdyn_data::LabelledImages;
use sysdyn_data::idx::{Split, load_split};
use sysdyn_data::images::DigitsConfig;

use crate::ExampleError;

/// Training and held-out digits, grey values in `[0, 1]`, flattened row-major.
#[derive(Debug, Clone)]
pub struct Digits {
    /// Image side (28).
    pub side: usize,
    /// Number of classes.
    pub classes: usize,
    /// Training pixels.
    pub train: Vec<f64>,
    /// Training labels.
    pub train_labels: Vec<usize>,
    /// Held-out grey pixels.
    pub test: Vec<f64>,
    /// Held-out pixels binarised once (the NLL's test set).
    pub test_binary: Vec<f64>,
    /// Held-out labels.
    pub test_labels: Vec<usize>,
    /// Where they come from.
    pub source: String,
}

/// The seed of the held-out set's one binarisation.
const TEST_BINARISATION_SEED: u64 = 0xB1_4A21;

impl Digits {
    /// `train` and `test` procedural digits (28×28), drawn from `seed`.
    pub fn procedural(train: usize, test: usize, seed: u64) -> Result<Digits, ExampleError> {
        let config = DigitsConfig::default();
        let train_set = config.generate(train, seed)?;
        let test_set = config.generate(test, seed.wrapping_add(1_000_003))?;
        Digits::from_sets(&train_set, &test_set, "procedural digits (sysdyn-data)")
    }

    /// The first `train` and `test` images of the MNIST IDX files in `dir`.
    pub fn mnist(dir: &Path, train: usize, test: usize) -> Result<Digits, ExampleError> {
        let train_set = load_split(dir, Split::Train, Some(train), 10)?;
        let test_set = load_split(dir, Split::Test, Some(test), 10)?;
        Digits::from_sets(&train_set, &test_set, &format!("MNIST ({})", dir.display()))
    }

    fn from_sets(
        train: &LabelledImages,
        test: &LabelledImages,
        source: &str,
    ) -> Result<Digits, ExampleError> {
        for (what, set, needed) in [("training set", train, 10), ("held-out set", test, 20)] {
            if set.len() < needed {
                return Err(ExampleError::TooFewImages {
                    what: format!("the {what} of {source}"),
                    count: set.len(),
                    needed,
                });
            }
        }
        if train.channels != 1 || train.rows != train.cols || !train.rows.is_multiple_of(4) {
            return Err(ExampleError::Shape(format!(
                "the digits must be square grey images of a side divisible by 4, not {}×{}×{}",
                train.channels, train.rows, train.cols
            )));
        }
        let mut rng = SeededRng::new(TEST_BINARISATION_SEED);
        let test_binary = binarise(&test.pixels, &mut rng);
        Ok(Digits {
            side: train.rows,
            classes: train.classes,
            train: train.pixels.clone(),
            train_labels: train.labels.clone(),
            test: test.pixels.clone(),
            test_binary,
            test_labels: test.labels.clone(),
            source: source.to_string(),
        })
    }

    /// Pixels per image.
    pub fn features(&self) -> usize {
        self.side * self.side
    }

    /// The number of held-out images.
    pub fn test_len(&self) -> usize {
        self.test_labels.len()
    }

    /// `rows` training images drawn uniformly with replacement (grey), with their labels.
    pub fn grey_batch(&self, rng: &mut SeededRng, rows: usize) -> (Vec<f64>, Vec<usize>) {
        let len = self.features();
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

    /// `rows` training images dynamically binarised: drawn as [`Digits::grey_batch`], then every
    /// pixel `x ~ Bernoulli(grey)` from the same stream.
    pub fn binary_batch(&self, rng: &mut SeededRng, rows: usize) -> (Vec<f64>, Vec<usize>) {
        let (grey, labels) = self.grey_batch(rng, rows);
        (binarise(&grey, rng), labels)
    }
}

/// Each value `p ∈ [0, 1]` replaced by a draw of `Bernoulli(p)` (1 with probability `p`).
pub fn binarise(grey: &[f64], rng: &mut SeededRng) -> Vec<f64> {
    grey.iter()
        .map(|&p| if rng.uniform() < p { 1.0 } else { 0.0 })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binarisation_keeps_the_mean_within_sampling_error_and_is_binary() {
        let grey: Vec<f64> = (0..20_000).map(|i| (i % 101) as f64 / 100.0).collect();
        let binary = binarise(&grey, &mut SeededRng::new(3));
        assert!(binary.iter().all(|&b| b == 0.0 || b == 1.0));
        // Pixels of value 0 and 1 are never flipped.
        for (g, b) in grey.iter().zip(&binary) {
            if *g == 0.0 || *g == 1.0 {
                assert_eq!(g, b);
            }
        }
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
        // The variance of the mean of n Bernoulli draws is at most 1/(4n): 3 standard errors.
        let bound = 3.0 * (0.25 / grey.len() as f64).sqrt();
        assert!((mean(&binary) - mean(&grey)).abs() < bound);
    }

    #[test]
    fn a_dynamically_binarised_batch_changes_from_draw_to_draw_but_not_for_a_seed() {
        let digits = Digits::procedural(20, 20, 1).unwrap();
        let a = digits.binary_batch(&mut SeededRng::new(5), 4);
        let b = digits.binary_batch(&mut SeededRng::new(5), 4);
        assert_eq!(a, b);
        // Same images (labels drawn first from the same stream), other binarisation.
        let mut rng = SeededRng::new(5);
        let first = digits.binary_batch(&mut rng, 4);
        let second = digits.binary_batch(&mut rng, 4);
        assert_ne!(first.0, second.0);
    }
}
