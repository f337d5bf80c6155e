//! The digits 0–9 drawn as anti-aliased strokes with random thickness, height, slant and shift.

use std::f64::consts::PI;

use super::render::{coverage, segment_distance};
use super::{LabelledImages, between, check_range, check_side, image_rng};
use crate::error::DataError;

/// Polylines of a glyph in its unit box (`x` rightwards, `y` downwards, both in `[0, 1]`).
type Glyph = Vec<Vec<[f64; 2]>>;

/// Points of an elliptical arc (angles in degrees, `y` downwards: 0° right, 90° down).
fn arc(centre: [f64; 2], radii: [f64; 2], from: f64, to: f64) -> Vec<[f64; 2]> {
    let steps = (((to - from).abs() / 12.0).ceil() as usize).max(2);
    (0..=steps)
        .map(|k| {
            let a = (from + (to - from) * k as f64 / steps as f64) * PI / 180.0;
            [
                centre[0] + radii[0] * a.cos(),
                centre[1] + radii[1] * a.sin(),
            ]
        })
        .collect()
}

/// `start` followed by `rest`, as one polyline.
fn join(start: &[[f64; 2]], rest: Vec<[f64; 2]>) -> Vec<[f64; 2]> {
    let mut line = start.to_vec();
    line.extend(rest);
    line
}

/// The strokes of digit `d`.
fn glyph(d: usize) -> Glyph {
    match d {
        0 => vec![arc([0.5, 0.5], [0.5, 0.5], 0.0, 360.0)],
        1 => vec![vec![[0.2, 0.25], [0.6, 0.0], [0.6, 1.0]]],
        2 => {
            let mut stroke = arc([0.5, 0.28], [0.48, 0.28], 180.0, 400.0);
            stroke.extend([[0.0, 1.0], [1.0, 1.0]]);
            vec![stroke]
        }
        3 => vec![
            arc([0.5, 0.25], [0.45, 0.25], 200.0, 450.0),
            arc([0.5, 0.75], [0.5, 0.25], 270.0, 520.0),
        ],
        4 => vec![vec![[0.75, 1.0], [0.75, 0.0], [0.0, 0.7], [1.0, 0.7]]],
        5 => {
            let bowl = arc([0.5, 0.7], [0.47, 0.3], 235.0, 510.0);
            vec![join(&[[0.95, 0.0], [0.2, 0.0]], bowl)]
        }
        6 => vec![
            arc([0.5, 0.72], [0.45, 0.28], 0.0, 360.0),
            arc([0.8, 0.72], [0.75, 0.72], 180.0, 270.0),
        ],
        7 => vec![vec![[0.0, 0.0], [1.0, 0.0], [0.35, 1.0]]],
        8 => vec![
            arc([0.5, 0.25], [0.4, 0.25], 0.0, 360.0),
            arc([0.5, 0.75], [0.48, 0.25], 0.0, 360.0),
        ],
        _ => vec![
            arc([0.5, 0.3], [0.45, 0.3], 0.0, 360.0),
            vec![[0.95, 0.3], [0.9, 0.6], [0.6, 1.0]],
        ],
    }
}

/// How to draw a set of digits.
///
/// ```
/// use sysdyn_data::images::DigitsConfig;
///
/// let set = DigitsConfig::default().generate(100, 7)?;
/// assert_eq!((set.len(), set.rows, set.cols, set.classes), (100, 28, 28, 10));
/// assert_eq!(set.labels[..10], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
/// # Ok::<(), sysdyn_data::DataError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct DigitsConfig {
    /// Image side in pixels (8..=1024).
    pub side: usize,
    /// Range of the glyph height as a fraction of the side (inside `[0.2, 0.9]`); the width is
    /// 0.6 times the height.
    pub height: [f64; 2],
    /// Range of the stroke width as a fraction of the side (inside `[0.01, 0.3]`).
    pub thickness: [f64; 2],
    /// Range of the slant: horizontal shift of the top relative to the bottom, as a fraction of
    /// the height (inside `[-1, 1]`; positive leans right).
    pub slant: [f64; 2],
    /// Largest shift of the glyph's centre from the image centre, as a fraction of the side, in
    /// each direction (inside `[0, 0.3]`).
    pub shift: f64,
}

impl Default for DigitsConfig {
    /// 28 × 28, height 55–70 % of the side, strokes 7–12 %, slant ±0.25, shift up to 8 %.
    fn default() -> Self {
        DigitsConfig {
            side: 28,
            height: [0.55, 0.7],
            thickness: [0.07, 0.12],
            slant: [-0.25, 0.25],
            shift: 0.08,
        }
    }
}

impl DigitsConfig {
    /// `count` grey digit images from `seed`, labels cycling `0, 1, …, 9` (balanced classes;
    /// shuffle with an [`crate::EpochBatcher`]).
    pub fn generate(&self, count: usize, seed: u64) -> Result<LabelledImages, DataError> {
        check_side("digit images", self.side)?;
        check_range("digit height (fraction of the side)", self.height, 0.2, 0.9)?;
        check_range(
            "digit stroke thickness (fraction of the side)",
            self.thickness,
            0.01,
            0.3,
        )?;
        check_range("digit slant", self.slant, -1.0, 1.0)?;
        check_range("digit shift", [0.0, self.shift], 0.0, 0.3)?;
        let glyphs: Vec<Glyph> = (0..10).map(glyph).collect();
        let side = self.side as f64;
        let mut pixels = Vec::with_capacity(count * self.side * self.side);
        let mut labels = Vec::with_capacity(count);
        for i in 0..count {
            let digit = i % 10;
            let mut rng = image_rng(seed, i);
            let h = between(&mut rng, self.height) * side;
            let w = 0.6 * h;
            let half_width = 0.5 * between(&mut rng, self.thickness) * side;
            let slant = between(&mut rng, self.slant);
            let cx = side / 2.0 + between(&mut rng, [-self.shift, self.shift]) * side;
            let cy = side / 2.0 + between(&mut rng, [-self.shift, self.shift]) * side;
            let place = |[x, y]: [f64; 2]| {
                [
                    cx + (x - 0.5) * w + slant * (0.5 - y) * h,
                    cy + (y - 0.5) * h,
                ]
            };
            let segments: Vec<([f64; 2], [f64; 2])> = glyphs[digit]
                .iter()
                .flat_map(|line| line.windows(2).map(|s| (place(s[0]), place(s[1]))))
                .collect();
            for row in 0..self.side {
                for col in 0..self.side {
                    let p = [col as f64 + 0.5, row as f64 + 0.5];
                    let d = segments
                        .iter()
                        .map(|&(a, b)| segment_distance(p, a, b))
                        .fold(f64::INFINITY, f64::min);
                    pixels.push(coverage(d - half_width));
                }
            }
            labels.push(digit);
        }
        Ok(LabelledImages {
            pixels,
            labels,
            channels: 1,
            rows: self.side,
            cols: self.side,
            classes: 10,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glyphs_stay_in_their_box() {
        for d in 0..10 {
            for line in glyph(d) {
                assert!(line.len() >= 2, "digit {d}");
                for [x, y] in line {
                    assert!((-0.01..=1.01).contains(&x), "digit {d}: x {x}");
                    assert!((-0.01..=1.01).contains(&y), "digit {d}: y {y}");
                }
            }
        }
    }
}
