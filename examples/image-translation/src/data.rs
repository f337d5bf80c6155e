//! The procedural shapes and their edge maps (Pix2Pix's inputs), CycleGAN's two pairs of
//! domains (shapes ↔ colour-inverted shapes, thin upright digits ↔ thick slanted digits), and
//! the image statistics the scores use.

use sysdyn_core::rng::SeededRng;
use sysdyn_data::images::{DigitsConfig, ShapesConfig};

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
        draw_from(&self.train, rng, rows)
    }
}

/// Draws `rows` images of `images` (flattened, `PIXELS` each) uniformly with replacement.
fn draw_from(images: &[f64], rng: &mut SeededRng, rows: usize) -> Vec<f64> {
    let count = (images.len() / PIXELS) as u64;
    let mut out = Vec::with_capacity(rows * PIXELS);
    for _ in 0..rows {
        let i = rng.below(count) as usize;
        out.extend_from_slice(&images[i * PIXELS..(i + 1) * PIXELS]);
    }
    out
}

/// CycleGAN's pairs of domains.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PairKind {
    /// `X`: the shapes; `Y`: the same kind of shapes colour-inverted (`1 − x`).
    InvertedShapes,
    /// `X`: digits in a thin upright hand ([`thin_upright_digits`]); `Y`: digits in a thick
    /// slanted hand ([`thick_slanted_digits`]).
    DigitStyles,
}

impl PairKind {
    /// Both pairs, in the order they run.
    pub const ALL: [PairKind; 2] = [PairKind::InvertedShapes, PairKind::DigitStyles];

    /// The short name in run directories, figures and the summary.
    pub fn name(self) -> &'static str {
        match self {
            PairKind::InvertedShapes => "shapes",
            PairKind::DigitStyles => "digits",
        }
    }

    /// What `X` and `Y` are, for the progress lines.
    pub fn description(self) -> &'static str {
        match self {
            PairKind::InvertedShapes => "shapes ↔ inverted shapes",
            PairKind::DigitStyles => "thin upright digits ↔ thick slanted digits",
        }
    }
}

/// Digit glyph style A: thin strokes (5–7 % of the side), upright (slant within ±0.1).
pub fn thin_upright_digits() -> DigitsConfig {
    DigitsConfig {
        thickness: [0.05, 0.07],
        slant: [-0.1, 0.1],
        ..DigitsConfig::default()
    }
}

/// Digit glyph style B: thick strokes (13–17 % of the side), leaning right (slant 0.35–0.5).
pub fn thick_slanted_digits() -> DigitsConfig {
    DigitsConfig {
        thickness: [0.13, 0.17],
        slant: [0.35, 0.5],
        ..DigitsConfig::default()
    }
}

/// Two unpaired domains `X` and `Y` for CycleGAN, `[0, 1]` pixels: independent training sets
/// and held-out sets in which the `i`-th `Y` image is the `i`-th `X` image's true counterpart
/// (what an exact translation `F` would give), which scores how close `F` comes to it.
#[derive(Debug, Clone)]
pub struct DomainPair {
    /// Which pair.
    pub kind: PairKind,
    /// Training images of `X`.
    pub x_train: Vec<f64>,
    /// Training images of `Y`.
    pub y_train: Vec<f64>,
    /// Held-out images of `X`.
    pub x_test: Vec<f64>,
    /// Their counterparts in `Y`.
    pub y_test: Vec<f64>,
}

impl DomainPair {
    /// Shapes and their colour-inverted versions. The training sets hold the same shapes, but
    /// each domain draws its batches independently, so no batch holds a pair.
    pub fn inverted_shapes(shapes: &Shapes) -> DomainPair {
        DomainPair {
            kind: PairKind::InvertedShapes,
            x_train: shapes.train.clone(),
            y_train: invert(&shapes.train),
            x_test: shapes.test.clone(),
            y_test: invert(&shapes.test),
        }
    }

    /// Digits in the two hands: `train` of each from different seeds (no digit has its twin in
    /// the other set), and `test` held-out pairs drawn from one seed, so that the `i`-th images
    /// share the digit, height, position and the quantiles of stroke width and slant.
    pub fn digit_styles(train: usize, test: usize, seed: u64) -> Result<DomainPair, ExampleError> {
        let (a, b) = (thin_upright_digits(), thick_slanted_digits());
        let held_out = seed.wrapping_add(2_000_003);
        Ok(DomainPair {
            kind: PairKind::DigitStyles,
            x_train: a.generate(train, seed)?.pixels,
            y_train: b.generate(train, seed.wrapping_add(1_000_003))?.pixels,
            x_test: a.generate(test, held_out)?.pixels,
            y_test: b.generate(test, held_out)?.pixels,
        })
    }

    /// Number of training images of each domain.
    pub fn train_len(&self) -> usize {
        self.x_train.len() / PIXELS
    }

    /// Number of held-out images of each domain.
    pub fn test_len(&self) -> usize {
        self.x_test.len() / PIXELS
    }

    /// `rows` training images of `X` drawn uniformly with replacement.
    pub fn draw_x(&self, rng: &mut SeededRng, rows: usize) -> Vec<f64> {
        draw_from(&self.x_train, rng, rows)
    }

    /// `rows` training images of `Y` drawn uniformly with replacement.
    pub fn draw_y(&self, rng: &mut SeededRng, rows: usize) -> Vec<f64> {
        draw_from(&self.y_train, rng, rows)
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

    /// Ink (total intensity) and the row of its centroid.
    fn ink_and_centroid_row(image: &[f64]) -> (f64, f64) {
        let ink: f64 = image.iter().sum();
        let row: f64 = image
            .iter()
            .enumerate()
            .map(|(i, p)| (i / SIDE) as f64 * p)
            .sum();
        (ink, row / ink)
    }

    #[test]
    fn held_out_digit_pairs_are_one_digit_in_two_hands() {
        let pair = DomainPair::digit_styles(20, 10, 3).unwrap();
        assert_eq!((pair.train_len(), pair.test_len()), (20, 10));
        for i in 0..10 {
            let cut = |images: &[f64]| images[i * PIXELS..(i + 1) * PIXELS].to_vec();
            let (thin_ink, thin_row) = ink_and_centroid_row(&cut(&pair.x_test));
            let (thick_ink, thick_row) = ink_and_centroid_row(&cut(&pair.y_test));
            // Strokes 13–17 % of the side against 5–7 %: about 2.4 times the ink.
            assert!(thick_ink > 1.6 * thin_ink, "{i}: {thick_ink} vs {thin_ink}");
            // Same digit, height and position: the ink sits at the same height.
            assert!(
                (thick_row - thin_row).abs() < 1.5,
                "{i}: {thick_row} vs {thin_row}"
            );
        }
        // The training sets come from different seeds: no image has its twin at its index.
        let differs = (0..20).all(|i| {
            let (a, _) = ink_and_centroid_row(&pair.x_train[i * PIXELS..(i + 1) * PIXELS]);
            let (b, _) = ink_and_centroid_row(&pair.y_train[i * PIXELS..(i + 1) * PIXELS]);
            a != b
        });
        assert!(differs);
    }
}
