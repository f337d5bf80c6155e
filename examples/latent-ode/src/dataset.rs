//! Noisy, irregularly observed Archimedean spirals, clockwise and counter-clockwise.
//!
//! Spiral `i` follows `x(t) = r(u) (cos σu, sin σu)`, `u = s + t`, with radius
//! `r(u) = 2.5 − 0.08 u` shrinking linearly with the angle (an Archimedean spiral), a random
//! start `s ~ U[0, 2π)` and a random direction `σ = ±1`. Every spiral lives on the grid of
//! [`GRID_POINTS`] evenly spaced times on `[0, 6π]` (three turns). The first [`WINDOW`] grid
//! times are the observation window: each of its points is observed with probability
//! [`OBSERVE_PROBABILITY`] (the first always, it anchors `z₀`), with Gaussian noise of standard
//! deviation [`NOISE_STD`]. The remaining grid times are for extrapolation.

use std::f64::consts::PI;

use sysdyn_core::rng::SeededRng;
use sysdyn_nodes::{IrregularSeries, NodeError};

/// Grid times on `[0, 6π]`.
pub const GRID_POINTS: usize = 100;
/// End of the grid.
pub const T_END: f64 = 6.0 * PI;
/// Grid points in the observation window (the rest is extrapolated).
pub const WINDOW: usize = 60;
/// Probability that a window point is observed.
pub const OBSERVE_PROBABILITY: f64 = 0.5;
/// Standard deviation of the observation noise.
pub const NOISE_STD: f64 = 0.1;

/// One spiral: its truth on the whole grid and its noisy observations in the window.
#[derive(Debug, Clone)]
pub struct Spiral {
    /// Clockwise (`σ = −1`) or counter-clockwise.
    pub clockwise: bool,
    /// Noise-free positions at every grid time.
    pub truth: Vec<[f64; 2]>,
    /// Which window points are observed.
    pub observed: Vec<bool>,
    /// Noisy positions at the window points (meaningful where observed).
    pub noisy: Vec<[f64; 2]>,
}

/// The grid times.
pub fn grid() -> Vec<f64> {
    (0..GRID_POINTS)
        .map(|k| T_END * k as f64 / (GRID_POINTS - 1) as f64)
        .collect()
}

fn radius(u: f64) -> f64 {
    2.5 - 0.08 * u
}

/// `n` spirals drawn from `rng`, alternating directions.
pub fn spirals(n: usize, rng: &mut SeededRng) -> Vec<Spiral> {
    let ts = grid();
    (0..n)
        .map(|i| {
            let clockwise = i % 2 == 1;
            let sigma = if clockwise { -1.0 } else { 1.0 };
            let start = 2.0 * PI * rng.uniform();
            let truth: Vec<[f64; 2]> = ts
                .iter()
                .map(|&t| {
                    let u = start + t;
                    [radius(u) * (sigma * u).cos(), radius(u) * (sigma * u).sin()]
                })
                .collect();
            let observed: Vec<bool> = (0..WINDOW)
                .map(|k| k == 0 || rng.uniform() < OBSERVE_PROBABILITY)
                .collect();
            let noisy = truth[..WINDOW]
                .iter()
                .map(|p| {
                    [
                        p[0] + NOISE_STD * rng.normal(),
                        p[1] + NOISE_STD * rng.normal(),
                    ]
                })
                .collect();
            Spiral {
                clockwise,
                truth,
                observed,
                noisy,
            }
        })
        .collect()
}

/// The observation windows of `spirals` as one batch on the window's grid.
pub fn window_series(spirals: &[&Spiral]) -> Result<IrregularSeries, NodeError> {
    let times = grid()[..WINDOW].to_vec();
    let values = spirals
        .iter()
        .flat_map(|s| s.noisy.iter().flatten().copied())
        .collect();
    let mask = spirals.iter().flat_map(|s| s.observed.clone()).collect();
    IrregularSeries::new(times, values, mask, 2)
}
