//! The procedural shapes, their edge maps (Pix2Pix's inputs) and their colour-inverted versions
//! (CycleGAN's second domain), with the image statistics the scores use.

use sysdyn_core::rng::SeededRng;
use sysdyn_data::images::ShapesConfig;

use crate::ExampleError;

/// Side of the images.
pub const SIDE: usize = 28;
/// Pixels per image.
pub const PIXELS: usize = SIDE * SIDE;

/// Grey shapes in `[0, 1]`, training and held-out.
#[derive(Debug, Clone)]
pub struct Shapes {
    /// Training images, flattened.
    pub train: Vec<f64>,
    /// Held-out images, flattened.
    pub test: Vec<f64>,
}

impl Shapes {
    /// `train` and `test` images of `sysdyn_data`'s default shapes (28×28, rotated) from `seed`.
    pub fn new(train: usize, test: usize, seed: u64) -> Result<Shapes, ExampleError> {
        let config = ShapesConfig::default();
        Ok(Shapes {
            train: config.generate(train, seed)?.pixels,
            test: config.generate(test, seed.wrapping_add(1_000_003))?.pixels,
        })
    }

    /// Number of training images.
    pub fn train_len(&self) -> usize {
        self.train.len() / PIXELS
    }

    /// `rows` training images drawn uniformly with replacement, flattened.
    pub fn draw(&self, rng: &mut SeededRng, rows: usize) -> Vec<f64> {
        let count = self.train_len() as u64;
        let mut out = Vec::with_capacity(rows * PIXELS);
        for _ in 0..rows {
            let i = rng.below(count) as usize;
            out.extend_from_slice(&self.train[i * PIXELS..(i + 1) * PIXELS]);
        }
        out
    }
}

/// The edge map of grey images in `[0, 1]`: the larger of the two central differences' magnitudes
/// at each pixel, doubled and clipped to `[0, 1]` (borders replicate the edge pixel).
pub fn edges(images: &[f64]) -> Vec<f64> {
    let mut out = Vec::with_capacity(images.len());
    for image in images.chunks(PIXELS) {
        let at = |r: isize, c: isize| {
            let r = r.clamp(0, SIDE as isize - 1) as usize;
            let c = c.clamp(0, SIDE as isize - 1) as usize;
            image[r * SIDE + c]
        };
        for r in 0..SIDE as isize {
            for c in 0..SIDE as isize {
                let dx = (at(r, c + 1) - at(r, c - 1)).abs();
                let dy = (at(r + 1, c) - at(r - 1, c)).abs();
                out.push((dx.max(dy)).min(1.0));
            }
        }
    }
    out
}

/// `1 − p` for every pixel.
pub fn invert(images: &[f64]) -> Vec<f64> {
    images.iter().map(|p| 1.0 - p).collect()
}

/// `[0, 1]` pixels to the networks' `[−1, 1]`.
pub fn to_signed(images: &[f64]) -> Vec<f64> {
    images.iter().map(|p| 2.0 * p - 1.0).collect()
}

/// The networks' `[−1, 1]` pixels to `[0, 1]`.
pub fn to_unit(images: &[f64]) -> Vec<f64> {
    images.iter().map(|p| (p + 1.0) / 2.0).collect()
}

/// Sharpness: the mean image-gradient magnitude `√(∂x² + ∂y²)` (forward differences) over all
/// pixels of all images, in `[0, 1]` pixel units.
pub fn sharpness(images: &[f64]) -> f64 {
    let mut total = 0.0;
    let mut count = 0usize;
    for image in images.chunks(PIXELS) {
        for r in 0..SIDE - 1 {
            for c in 0..SIDE - 1 {
                let p = image[r * SIDE + c];
                let dx = image[r * SIDE + c + 1] - p;
                let dy = image[(r + 1) * SIDE + c] - p;
                total += (dx * dx + dy * dy).sqrt();
                count += 1;
            }
        }
    }
    total / count.max(1) as f64
}

/// Mean absolute difference.
pub fn mean_abs_difference(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).sum::<f64>() / a.len().max(1) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edges_mark_a_step_and_nothing_on_flat_ground() {
        // Left half black, right half white: the two columns beside the step are edges.
        let image: Vec<f64> = (0..PIXELS)
            .map(|i| if i % SIDE >= SIDE / 2 { 1.0 } else { 0.0 })
            .collect();
        let e = edges(&image);
        for r in 0..SIDE {
            for c in 0..SIDE {
                let expected = if c == SIDE / 2 - 1 || c == SIDE / 2 {
                    1.0
                } else {
                    0.0
                };
                assert_eq!(e[r * SIDE + c], expected, "({r}, {c})");
            }
        }
    }

    #[test]
    fn sharpness_of_a_step_and_of_a_ramp() {
        // A vertical step: one unit jump per row, on one of 27 columns of differences.
        let step: Vec<f64> = (0..PIXELS)
            .map(|i| if i % SIDE >= SIDE / 2 { 1.0 } else { 0.0 })
            .collect();
        assert!((sharpness(&step) - 1.0 / 27.0).abs() < 1e-12);
        // A horizontal ramp rising 1/27 per column: every difference is 1/27.
        let ramp: Vec<f64> = (0..PIXELS).map(|i| (i % SIDE) as f64 / 27.0).collect();
        assert!((sharpness(&ramp) - 1.0 / 27.0).abs() < 1e-12);
        assert_eq!(sharpness(&vec![0.3; PIXELS]), 0.0);
        assert_eq!(mean_abs_difference(&[0.0, 1.0], &[0.5, 0.5]), 0.5);
    }
}
