//! Two-dimensional toy distributions for flows, diffusion models and GANs, with exact
//! log-densities where they exist.
//!
//! Samples are drawn on the host from a [`SeededRng`] (the same points on every backend and for
//! every seed) and returned row-major, `n × 2`. The mixtures (eight Gaussians, the 25-Gaussian
//! grid), the checkerboard and the concentric circles have closed-form densities
//! ([`Toy2d::log_density`]); the others answer [`DataError::NoExactDensity`]. The mixtures also
//! give their modes ([`Toy2d::modes`]) for the mode-coverage metric.
//!
//! | distribution | definition |
//! |---|---|
//! | [`Toy2d::TwoMoons`] | two interleaved half circles of radius 1 (centres `(0, 0)` and `(1, ½)`), noise σ = 0.05; even rows on the upper moon, odd rows on the lower |
//! | [`Toy2d::EightGaussians`] | 8 equally weighted Gaussians, σ = 0.1, centres on the circle of radius 2 at angles `2πk/8` |
//! | [`Toy2d::Checkerboard`] | uniform on the 8 black unit squares of a 4 × 4 board on `[-2, 2]²` (squares whose column and row, counted from the lower left, have the same parity) |
//! | [`Toy2d::Grid25`] | 25 equally weighted Gaussians, σ = 0.05, centres on the grid `{-2, -1, 0, 1, 2}²` |
//! | [`Toy2d::SwissRoll`] | `(t cos t, t sin t) / 5` with `t = 1.5π (1 + 2u)`, `u ~ U(0, 1)`, noise σ = 0.1 (scikit-learn's `make_swiss_roll` with noise 0.5, divided by 5) |
//! | [`Toy2d::Circles`] | two concentric rings of radius 1 and 2, equally likely, angle uniform, noise σ = 0.08 |
//! | [`Toy2d::Pinwheel`] | 5 arms: radial coordinate `r ~ N(1, 0.3²)`, tangential `s ~ N(0, 0.1²)`, rotated by `2πk/5 + 0.25 eʳ`, times 2 (as in FFJORD's toy data) |

use std::f64::consts::PI;

use sysdyn_core::rng::SeededRng;

use crate::error::{DataError, rows_of};
use crate::metrics::Modes;

/// A toy density to sample from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Toy2d {
    /// Two interleaved half circles (as in scikit-learn's `make_moons`) with Gaussian noise of
    /// standard deviation 0.05.
    TwoMoons,
    /// Eight Gaussians of standard deviation 0.1 on a circle of radius 2.
    EightGaussians,
    /// Uniform on the black squares of a 4 × 4 checkerboard covering `[-2, 2]²`.
    Checkerboard,
    /// 25 Gaussians of standard deviation 0.05 on the grid `{-2, -1, 0, 1, 2}²`.
    Grid25,
    /// A noisy two-dimensional swiss roll (a spiral), inside about `[-2.8, 2.8]²`.
    SwissRoll,
    /// Two noisy concentric circles of radius 1 and 2.
    Circles,
    /// A pinwheel of five curved arms.
    Pinwheel,
}

/// Standard deviation of each of the eight Gaussians.
pub const EIGHT_GAUSSIANS_STD: f64 = 0.1;
/// Radius of the circle the eight Gaussians sit on.
pub const EIGHT_GAUSSIANS_RADIUS: f64 = 2.0;
/// Standard deviation of each Gaussian of the 25-Gaussian grid.
pub const GRID25_STD: f64 = 0.05;
/// Noise standard deviation of the concentric circles.
pub const CIRCLES_STD: f64 = 0.08;
/// Radii of the concentric circles.
pub const CIRCLES_RADII: [f64; 2] = [1.0, 2.0];
/// Noise standard deviation of the swiss roll.
pub const SWISS_ROLL_STD: f64 = 0.1;

impl Toy2d {
    /// Every toy distribution.
    pub const ALL: [Toy2d; 7] = [
        Toy2d::TwoMoons,
        Toy2d::EightGaussians,
        Toy2d::Checkerboard,
        Toy2d::Grid25,
        Toy2d::SwissRoll,
        Toy2d::Circles,
        Toy2d::Pinwheel,
    ];

    /// A short name (`two-moons`, `eight-gaussians`, `checkerboard`, `grid-25`, `swiss-roll`,
    /// `circles`, `pinwheel`).
    pub fn name(self) -> &'static str {
        match self {
            Toy2d::TwoMoons => "two-moons",
            Toy2d::EightGaussians => "eight-gaussians",
            Toy2d::Checkerboard => "checkerboard",
            Toy2d::Grid25 => "grid-25",
            Toy2d::SwissRoll => "swiss-roll",
            Toy2d::Circles => "circles",
            Toy2d::Pinwheel => "pinwheel",
        }
    }

    /// The distribution with this [`name`](Toy2d::name).
    pub fn from_name(name: &str) -> Result<Toy2d, DataError> {
        Toy2d::ALL
            .into_iter()
            .find(|d| d.name() == name)
            .ok_or_else(|| DataError::InvalidArgument {
                context: "toy distribution name",
                reason: format!(
                    "unknown name {name:?}; choose one of {}",
                    Toy2d::ALL.map(Toy2d::name).join(", ")
                ),
            })
    }

    /// `n` samples, row-major `n × 2`.
    pub fn sample(self, n: usize, rng: &mut SeededRng) -> Vec<f64> {
        let mut out = Vec::with_capacity(2 * n);
        for i in 0..n {
            let (x, y) = match self {
                Toy2d::TwoMoons => {
                    let angle = PI * rng.uniform();
                    let (x, y) = if i % 2 == 0 {
                        (angle.cos(), angle.sin())
                    } else {
                        (1.0 - angle.cos(), 0.5 - angle.sin())
                    };
                    (x + 0.05 * rng.normal(), y + 0.05 * rng.normal())
                }
                Toy2d::EightGaussians => {
                    let k = rng.below(8) as f64;
                    let angle = 2.0 * PI * k / 8.0;
                    (
                        2.0 * angle.cos() + 0.1 * rng.normal(),
                        2.0 * angle.sin() + 0.1 * rng.normal(),
                    )
                }
                Toy2d::Checkerboard => {
                    // Column and row of a black square, then a uniform point inside it.
                    let column = rng.below(4) as f64;
                    let row = 2.0 * rng.below(2) as f64 + (column as u64 % 2) as f64;
                    (-2.0 + column + rng.uniform(), -2.0 + row + rng.uniform())
                }
                Toy2d::Grid25 => {
                    let k = rng.below(25);
                    (
                        (k % 5) as f64 - 2.0 + GRID25_STD * rng.normal(),
                        (k / 5) as f64 - 2.0 + GRID25_STD * rng.normal(),
                    )
                }
                Toy2d::SwissRoll => {
                    let t = 1.5 * PI * (1.0 + 2.0 * rng.uniform());
                    (
                        t * t.cos() / 5.0 + SWISS_ROLL_STD * rng.normal(),
                        t * t.sin() / 5.0 + SWISS_ROLL_STD * rng.normal(),
                    )
                }
                Toy2d::Circles => {
                    let r = CIRCLES_RADII[rng.below(2) as usize];
                    let angle = 2.0 * PI * rng.uniform();
                    (
                        r * angle.cos() + CIRCLES_STD * rng.normal(),
                        r * angle.sin() + CIRCLES_STD * rng.normal(),
                    )
                }
                Toy2d::Pinwheel => {
                    let arm = rng.below(5) as f64;
                    let radial = 1.0 + 0.3 * rng.normal();
                    let tangential = 0.1 * rng.normal();
                    let angle = 2.0 * PI * arm / 5.0 + 0.25 * radial.exp();
                    let (s, c) = angle.sin_cos();
                    (
                        2.0 * (radial * c + tangential * s),
                        2.0 * (tangential * c - radial * s),
                    )
                }
            };
            out.push(x);
            out.push(y);
        }
        out
    }

    /// Whether [`log_density`](Toy2d::log_density) has a closed form for this distribution.
    pub fn has_exact_density(self) -> bool {
        matches!(
            self,
            Toy2d::EightGaussians | Toy2d::Grid25 | Toy2d::Checkerboard | Toy2d::Circles
        )
    }

    /// The exact log-density (natural log) at each point of `points` (row-major `n × 2`).
    ///
    /// Mixtures and the circles are evaluated with a log-sum-exp, so far-away points give large
    /// negative values rather than `-inf`; the checkerboard is `ln(1/8)` on its black squares and
    /// `-inf` elsewhere. Two moons, the swiss roll and the pinwheel have no closed form:
    /// [`DataError::NoExactDensity`].
    pub fn log_density(self, points: &[f64]) -> Result<Vec<f64>, DataError> {
        rows_of("toy log-density points", points, 2, 0)?;
        let pairs = points.chunks_exact(2);
        match self {
            Toy2d::EightGaussians | Toy2d::Grid25 => {
                let modes = self.modes()?;
                Ok(pairs.map(|p| modes.mixture_log_density(p)).collect())
            }
            Toy2d::Checkerboard => Ok(pairs
                .map(|p| {
                    let (c, r) = ((p[0] + 2.0).floor(), (p[1] + 2.0).floor());
                    let inside = (0.0..4.0).contains(&c) && (0.0..4.0).contains(&r);
                    if inside && (r - c).rem_euclid(2.0) == 0.0 {
                        (1.0f64 / 8.0).ln()
                    } else {
                        f64::NEG_INFINITY
                    }
                })
                .collect()),
            Toy2d::Circles => Ok(pairs
                .map(|p| {
                    let rho = p[0].hypot(p[1]);
                    let s2 = CIRCLES_STD * CIRCLES_STD;
                    let terms = CIRCLES_RADII.map(|r| {
                        // Uniform ring ⊛ isotropic Gaussian: e^{-(ρ²+R²)/2σ²} I₀(ρR/σ²)/(2πσ²).
                        let z = rho * r / s2;
                        0.5f64.ln() - (2.0 * PI * s2).ln() - (rho * rho + r * r) / (2.0 * s2)
                            + ln_bessel_i0(z)
                    });
                    log_sum_exp(&terms)
                })
                .collect()),
            Toy2d::TwoMoons | Toy2d::SwissRoll | Toy2d::Pinwheel => {
                Err(DataError::NoExactDensity {
                    distribution: self.name(),
                })
            }
        }
    }

    /// The modes of a Gaussian mixture (eight Gaussians, the 25-Gaussian grid), for
    /// [`crate::metrics::mode_coverage`]; [`DataError::NoModes`] for the others.
    pub fn modes(self) -> Result<Modes, DataError> {
        match self {
            Toy2d::EightGaussians => {
                let centres = (0..8)
                    .flat_map(|k| {
                        let angle = 2.0 * PI * k as f64 / 8.0;
                        [
                            EIGHT_GAUSSIANS_RADIUS * angle.cos(),
                            EIGHT_GAUSSIANS_RADIUS * angle.sin(),
                        ]
                    })
                    .collect();
                Modes::new(centres, 2, EIGHT_GAUSSIANS_STD)
            }
            Toy2d::Grid25 => {
                let centres = (0..25)
                    .flat_map(|k| [(k % 5) as f64 - 2.0, (k / 5) as f64 - 2.0])
                    .collect();
                Modes::new(centres, 2, GRID25_STD)
            }
            _ => Err(DataError::NoModes {
                distribution: self.name(),
            }),
        }
    }
}

/// `ln Σ exp(v)` without overflow.
pub(crate) fn log_sum_exp(values: &[f64]) -> f64 {
    let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if max == f64::NEG_INFINITY {
        return max;
    }
    max + values.iter().map(|v| (v - max).exp()).sum::<f64>().ln()
}

/// `ln I₀(z)` for `z ≥ 0`: the power series below 15, the asymptotic expansion above
/// (relative error below 1e-12 in both ranges).
fn ln_bessel_i0(z: f64) -> f64 {
    if z < 15.0 {
        // I₀(z) = Σ (z²/4)^k / (k!)²
        let q = z * z / 4.0;
        let (mut term, mut sum) = (1.0, 1.0);
        for k in 1..200 {
            term *= q / (k * k) as f64;
            sum += term;
            if term < 1e-17 * sum {
                break;
            }
        }
        sum.ln()
    } else {
        // I₀(z) ~ eᶻ/√(2πz) Σ ((2k−1)!!)² / (k! 8ᵏ zᵏ)
        let (mut term, mut sum) = (1.0, 1.0);
        for k in 1..30 {
            let odd = (2 * k - 1) as f64;
            term *= odd * odd / (k as f64 * 8.0 * z);
            sum += term;
            if term < 1e-17 * sum {
                break;
            }
        }
        z - 0.5 * (2.0 * PI * z).ln() + sum.ln()
    }
}

/// Mean negative log-likelihood of `test` (`n × 2`) under the single Gaussian (mean and full
/// covariance) fitted to `train` by maximum likelihood: the baseline a density model must beat.
/// NaN when `train` has fewer than two distinct points; a trailing odd value is ignored.
pub fn gaussian_baseline_nll(train: &[f64], test: &[f64]) -> f64 {
    let n = (train.len() / 2) as f64;
    let mean = [
        train.iter().step_by(2).sum::<f64>() / n,
        train.iter().skip(1).step_by(2).sum::<f64>() / n,
    ];
    let mut cov = [0.0; 3]; // xx, xy, yy
    for p in train.chunks_exact(2) {
        let (dx, dy) = (p[0] - mean[0], p[1] - mean[1]);
        cov[0] += dx * dx / n;
        cov[1] += dx * dy / n;
        cov[2] += dy * dy / n;
    }
    let det = cov[0] * cov[2] - cov[1] * cov[1];
    let m = (test.len() / 2) as f64;
    let quad: f64 = test
        .chunks_exact(2)
        .map(|p| {
            let (dx, dy) = (p[0] - mean[0], p[1] - mean[1]);
            (cov[2] * dx * dx - 2.0 * cov[1] * dx * dy + cov[0] * dy * dy) / det
        })
        .sum::<f64>()
        / m;
    0.5 * quad + 0.5 * det.ln() + (2.0 * PI).ln()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaussian_baseline_of_gaussian_data_is_its_entropy() {
        // For N(0, diag(1, 4)) the expected NLL is the entropy: ln(2π) + ½ ln(4) + 1.
        let mut rng = SeededRng::new(3);
        let draw = |rng: &mut SeededRng, n: usize| -> Vec<f64> {
            (0..n)
                .flat_map(|_| [rng.normal(), 2.0 * rng.normal()])
                .collect()
        };
        let train = draw(&mut rng, 50_000);
        let test = draw(&mut rng, 50_000);
        let entropy = (2.0 * PI).ln() + 0.5 * 4f64.ln() + 1.0;
        assert!((gaussian_baseline_nll(&train, &test) - entropy).abs() < 0.02);
    }

    #[test]
    fn samples_lie_where_the_densities_live() {
        let mut rng = SeededRng::new(5);
        let moons = Toy2d::TwoMoons.sample(2000, &mut rng);
        // Distance to the moon's circle is at most a few noise standard deviations.
        for (i, p) in moons.chunks(2).enumerate() {
            let centre = if i % 2 == 0 { (0.0, 0.0) } else { (1.0, 0.5) };
            let r = ((p[0] - centre.0).powi(2) + (p[1] - centre.1).powi(2)).sqrt();
            assert!((r - 1.0).abs() < 0.3, "moon point {p:?}");
        }
        let gaussians = Toy2d::EightGaussians.sample(2000, &mut rng);
        for p in gaussians.chunks(2) {
            let r = (p[0] * p[0] + p[1] * p[1]).sqrt();
            assert!((r - 2.0).abs() < 0.6, "eight-Gaussians point {p:?}");
        }
        let board = Toy2d::Checkerboard.sample(2000, &mut rng);
        for p in board.chunks(2) {
            let (c, r) = ((p[0] + 2.0).floor() as i64, (p[1] + 2.0).floor() as i64);
            assert!((0..4).contains(&c) && (0..4).contains(&r));
            assert_eq!(
                (r - c).rem_euclid(2),
                0,
                "checkerboard point {p:?} on a white square"
            );
        }
    }

    #[test]
    fn bessel_i0_matches_both_expansions_where_they_meet() {
        // Known values: I₀(1) = 1.2660658777520082, I₀(20) = 4.355828255955353e7.
        assert!((ln_bessel_i0(1.0) - 1.2660658777520082f64.ln()).abs() < 1e-13);
        assert!((ln_bessel_i0(20.0) - 4.355828255955353e7f64.ln()).abs() < 1e-12);
        assert_eq!(ln_bessel_i0(0.0), 0.0);
        // Continuity across the switch at 15.
        let below = ln_bessel_i0(15.0 - 1e-9);
        let above = ln_bessel_i0(15.0);
        assert!((below - above).abs() < 1e-9, "{below} {above}");
    }

    #[test]
    fn names_round_trip() {
        for d in Toy2d::ALL {
            assert_eq!(Toy2d::from_name(d.name()).unwrap(), d);
        }
        let err = Toy2d::from_name("moons").unwrap_err();
        assert!(err.to_string().contains("two-moons"), "{err}");
    }
}
