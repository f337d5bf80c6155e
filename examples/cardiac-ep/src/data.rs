//! The "true" tissue: Aliev–Panfilov on a 24 × 24 slab, its potential `u ∈ [0, 1]` recorded in
//! milliseconds from the stimulus on through the depolarisation phase.
//!
//! **Not the paper's data.** Kashtanova et al. simulate the ten Tusscher–Panfilov ionic model
//! (about twenty state variables); this example generates its data with the two-variable
//! Aliev–Panfilov model (`sysdyn_physics::simulators::cardiac::AlievPanfilov`), so the published
//! numbers are a reference, not a like-for-like comparison.
//!
//! Units: Aliev–Panfilov is dimensionless; the usual scaling `t[ms] = 12.9 · t_AP` maps its time to
//! milliseconds, and its `u` is already a normalised transmembrane potential. With grid spacing
//! `dx = 0.5` (dimensionless) the front moves about `√(kD/2)(1 − 2a)/dx/12.9 ≈ 0.22` cells per
//! millisecond, so a 50 ms forecast sees the wave cross about half the slab.

use sysdyn_physics::simulators::cardiac::AlievPanfilov;

use crate::ExampleError;

/// Milliseconds per dimensionless Aliev–Panfilov time unit.
pub const MS_PER_AP_TIME: f64 = 12.9;
/// The slab's side (cells).
pub const SIDE: usize = 24;
/// Aliev–Panfilov's grid spacing (dimensionless).
pub const AP_SPACING: f64 = 0.5;

/// The Aliev–Panfilov diffusion `D = 1` in cells² per millisecond: `D / dx² / 12.9`.
pub fn diffusion_cells_per_ms() -> f64 {
    1.0 / (AP_SPACING * AP_SPACING) / MS_PER_AP_TIME
}

/// Recorded potentials: `count` trajectories of `frames` frames of `SIDE²` cells each.
#[derive(Debug, Clone)]
pub struct SlabData {
    /// Frame times (ms), from the stimulus (0) on.
    pub times_ms: Vec<f64>,
    /// `potential[k][i]` is trajectory `k`'s frame `i`, row-major `SIDE × SIDE`.
    pub potential: Vec<Vec<Vec<f64>>>,
}

impl SlabData {
    /// The number of trajectories.
    pub fn count(&self) -> usize {
        self.potential.len()
    }

    /// The first `frames` frames of every trajectory.
    pub fn truncated(&self, frames: usize) -> SlabData {
        SlabData {
            times_ms: self.times_ms[..frames.min(self.times_ms.len())].to_vec(),
            potential: self
                .potential
                .iter()
                .map(|t| t[..frames.min(t.len())].to_vec())
                .collect(),
        }
    }
}

/// The frame times `0, dt, …, horizon` (ms).
pub fn frame_times(dt_ms: f64, horizon_ms: f64) -> Vec<f64> {
    let n = (horizon_ms / dt_ms).round() as usize;
    (0..=n).map(|i| i as f64 * dt_ms).collect()
}

/// `count` Aliev–Panfilov slabs, each stimulated from rest by `u = 1` on a random 6 × 6 square,
/// recorded at `times_ms` (Dopri5 at `rtol = 1e-7`); seed `seed`.
pub fn simulate(count: usize, seed: u64, times_ms: &[f64]) -> Result<SlabData, ExampleError> {
    let model = AlievPanfilov::tissue(SIDE, SIDE, AP_SPACING)?;
    let times_ap: Vec<f64> = times_ms.iter().map(|t| t / MS_PER_AP_TIME).collect();
    let dataset = model.dataset(count, seed, &times_ap)?;
    let cells = SIDE * SIDE;
    let potential = dataset
        .trajectories
        .iter()
        .map(|t| t.states.iter().map(|s| s[..cells].to_vec()).collect())
        .collect();
    Ok(SlabData {
        times_ms: times_ms.to_vec(),
        potential,
    })
}
