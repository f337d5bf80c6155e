//! Procedurally rendered geometric shapes with labels.

use std::f64::consts::TAU;

use super::render::{box_distance, rasterise};
use super::{LabelledImages, between, check_range, check_side, image_rng};
use crate::error::DataError;

/// A shape class; its label is its index in [`Shape::ALL`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Shape {
    /// A filled disc.
    Circle,
    /// A filled square.
    Square,
    /// A filled equilateral triangle.
    Triangle,
    /// A plus sign: two crossing bars.
    Cross,
    /// An annulus.
    Ring,
}

impl Shape {
    /// Every shape, in label order.
    pub const ALL: [Shape; 5] = [
        Shape::Circle,
        Shape::Square,
        Shape::Triangle,
        Shape::Cross,
        Shape::Ring,
    ];

    /// The label of this shape.
    pub fn label(self) -> usize {
        self as usize
    }

    /// A short name.
    pub fn name(self) -> &'static str {
        match self {
            Shape::Circle => "circle",
            Shape::Square => "square",
            Shape::Triangle => "triangle",
            Shape::Cross => "cross",
            Shape::Ring => "ring",
        }
    }

    /// Signed distance at `(x, y)` in the shape's frame for size `r`: every shape lies within
    /// `1.02 r` of its centre (the cross's corners; the others within `r`).
    fn distance(self, x: f64, y: f64, r: f64) -> f64 {
        match self {
            Shape::Circle => x.hypot(y) - r,
            // Half side r / √2: the corners lie on the circle of radius r.
            Shape::Square => {
                let h = r / 2f64.sqrt();
                box_distance(x, y, h, h)
            }
            // Circumradius r (side r √3), centred on its centroid.
            Shape::Triangle => {
                let k = 3f64.sqrt();
                let half_side = r * k / 2.0;
                let mut px = x.abs() - half_side;
                let mut py = y + half_side / k;
                if px + k * py > 0.0 {
                    (px, py) = ((px - k * py) / 2.0, (-k * px - py) / 2.0);
                }
                px -= px.clamp(-2.0 * half_side, 0.0);
                -px.hypot(py) * py.signum()
            }
            // Arms of length r from the centre, width 0.35 r.
            Shape::Cross => {
                let w = 0.35 * r;
                box_distance(x, y, r, w / 2.0).min(box_distance(x, y, w / 2.0, r))
            }
            // Outer radius r, inner radius 0.55 r.
            Shape::Ring => (x.hypot(y) - 0.775 * r).abs() - 0.225 * r,
        }
    }
}

/// How to render a set of shapes.
///
/// ```
/// use sysdyn_data::images::ShapesConfig;
///
/// let set = ShapesConfig::default().generate(50, 3)?;
/// assert_eq!((set.len(), set.channels, set.rows, set.cols, set.classes), (50, 1, 28, 28, 5));
/// assert!(set.pixels.iter().all(|v| (0.0..=1.0).contains(v)));
/// # Ok::<(), sysdyn_data::DataError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ShapesConfig {
    /// Image side in pixels (8..=1024).
    pub side: usize,
    /// 1 (grey, white shapes) or 3 (RGB: each image's shape has a random saturated colour).
    pub channels: usize,
    /// Range of the shape's radius as a fraction of the side (inside `[0.05, 0.45]`).
    pub radius: [f64; 2],
    /// Whether shapes are rotated by a uniform random angle.
    pub rotate: bool,
}

impl Default for ShapesConfig {
    /// 28 × 28 grey images, radii 15–35 % of the side, rotated.
    fn default() -> Self {
        ShapesConfig {
            side: 28,
            channels: 1,
            radius: [0.15, 0.35],
            rotate: true,
        }
    }
}

impl ShapesConfig {
    /// `count` images with their shape labels ([`Shape::label`]), from `seed`. Each shape is
    /// drawn uniformly from [`Shape::ALL`] and placed wholly inside the image.
    pub fn generate(&self, count: usize, seed: u64) -> Result<LabelledImages, DataError> {
        check_side("shape images", self.side)?;
        check_range(
            "shape radius (fraction of the side)",
            self.radius,
            0.05,
            0.45,
        )?;
        if self.channels != 1 && self.channels != 3 {
            return Err(DataError::InvalidArgument {
                context: "shape image channels",
                reason: format!("{} channels; use 1 (grey) or 3 (RGB)", self.channels),
            });
        }
        let side = self.side as f64;
        let plane = self.side * self.side;
        let mut pixels = Vec::with_capacity(count * self.channels * plane);
        let mut labels = Vec::with_capacity(count);
        for i in 0..count {
            let mut rng = image_rng(seed, i);
            let shape = Shape::ALL[rng.below(Shape::ALL.len() as u64) as usize];
            let r = between(&mut rng, self.radius) * side;
            // Every shape lies within 1.02 r of its centre: keep that disc a pixel inside the
            // image, so that no anti-aliased edge touches the border pixels.
            let margin = 1.02 * r + 1.0;
            let cx = between(&mut rng, [margin, side - margin]);
            let cy = between(&mut rng, [margin, side - margin]);
            let angle = if self.rotate {
                TAU * rng.uniform()
            } else {
                0.0
            };
            let (s, c) = angle.sin_cos();
            let grey = rasterise(self.side, |x, y| {
                let (dx, dy) = (x - cx, y - cy);
                shape.distance(c * dx + s * dy, -s * dx + c * dy, r)
            });
            if self.channels == 1 {
                pixels.extend(grey);
            } else {
                let colour = saturated_colour(rng.uniform());
                for weight in colour {
                    pixels.extend(grey.iter().map(|v| v * weight));
                }
            }
            labels.push(shape.label());
        }
        Ok(LabelledImages {
            pixels,
            labels,
            channels: self.channels,
            rows: self.side,
            cols: self.side,
            classes: Shape::ALL.len(),
        })
    }
}

/// A fully saturated, full-value colour of hue `h ∈ [0, 1)` (HSV with S = V = 1), RGB in `[0, 1]`.
fn saturated_colour(h: f64) -> [f64; 3] {
    let channel = |offset: f64| {
        let k = (offset + 6.0 * h) % 6.0;
        1.0 - (k.min(4.0 - k).clamp(0.0, 1.0))
    };
    [channel(5.0), channel(3.0), channel(1.0)]
}

#[cfg(test)]
mod tests {
    use std::f64::consts::PI;

    use super::*;

    fn area(shape: Shape, r: f64) -> f64 {
        rasterise(64, |x, y| shape.distance(x - 32.0, y - 32.0, r))
            .iter()
            .sum()
    }

    #[test]
    fn rendered_areas_match_the_geometry() {
        let r = 20.0;
        let cases = [
            (Shape::Circle, PI * r * r),
            (Shape::Square, 2.0 * r * r),
            (Shape::Triangle, 3.0 * 3f64.sqrt() / 4.0 * r * r),
            (Shape::Cross, {
                let w = 0.35 * r;
                2.0 * (2.0 * r * w) - w * w
            }),
            (Shape::Ring, PI * r * r * (1.0 - 0.55f64 * 0.55)),
        ];
        for (shape, exact) in cases {
            let got = area(shape, r);
            assert!(
                (got - exact).abs() < 0.02 * exact,
                "{shape:?}: {got} vs {exact}"
            );
        }
    }

    #[test]
    fn colours_are_saturated() {
        assert_eq!(saturated_colour(0.0), [1.0, 0.0, 0.0]);
        let green = saturated_colour(1.0 / 3.0);
        assert!((green[1] - 1.0).abs() < 1e-12 && green[0].abs() < 1e-12);
        for k in 0..100 {
            let c = saturated_colour(k as f64 / 100.0);
            assert!((c.iter().copied().fold(0.0, f64::max) - 1.0).abs() < 1e-12);
        }
    }
}
