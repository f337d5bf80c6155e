//! The data: one trajectory of the cubic spiral `dy/dt = y³ A` (Chen et al. 2018), solved
//! accurately on the host, and mini-batches of short windows cut from it.

use sysdyn_core::rng::SeededRng;
use sysdyn_solvers::methods::DOP853;
use sysdyn_solvers::{SaveAt, SolveConfig, SolveError, solve};

/// The matrix of the true dynamics, applied to the row vector `y³`.
pub const A: [[f64; 2]; 2] = [[-0.1, 2.0], [-2.0, -0.1]];
/// The initial state.
pub const Y0: [f64; 2] = [2.0, 0.0];
/// End of the observed interval `[0, T_END]`.
pub const T_END: f64 = 25.0;
/// Number of observed points (evenly spaced, both ends included).
pub const POINTS: usize = 1000;

/// The true field `y³ A` (row vector times matrix): `(-0.1 y₀³ - 2 y₁³, 2 y₀³ - 0.1 y₁³)`.
pub fn true_field(y: &[f64; 2]) -> [f64; 2] {
    let c = [y[0].powi(3), y[1].powi(3)];
    [
        c[0] * A[0][0] + c[1] * A[1][0],
        c[0] * A[0][1] + c[1] * A[1][1],
    ]
}

/// The observed trajectory: times and states.
#[derive(Debug, Clone)]
pub struct Trajectory {
    /// `POINTS` times from 0 to `T_END`.
    pub ts: Vec<f64>,
    /// The states at those times.
    pub ys: Vec<[f64; 2]>,
}

/// Solves the true dynamics with DOP853 at rtol = atol = 1e-12.
pub fn true_trajectory() -> Result<Trajectory, SolveError> {
    let ts: Vec<f64> = (0..POINTS)
        .map(|k| T_END * k as f64 / (POINTS - 1) as f64)
        .collect();
    let config = SolveConfig::adaptive(1e-12, 1e-12).save_at(SaveAt::Times(ts.clone()));
    let mut f = |_t: f64, y: &[f64; 2]| true_field(y);
    let sol = solve(&mut f, &DOP853, (0.0, T_END), Y0, &config)?;
    Ok(Trajectory { ts, ys: sol.ys })
}

/// A mini-batch: `size` windows of `length` consecutive observations, row-major.
#[derive(Debug, Clone)]
pub struct Batch {
    /// Window starts, `size × 2`.
    pub starts: Vec<f64>,
    /// Observations `k = 0..length` of every window: `targets[k]` is `size × 2`.
    pub targets: Vec<Vec<f64>>,
    /// Times relative to the window start (the field is autonomous).
    pub times: Vec<f64>,
}

/// Draws a batch of `size` windows of `length` points, starts uniform over the trajectory.
pub fn batch(data: &Trajectory, size: usize, length: usize, rng: &mut SeededRng) -> Batch {
    let starts_idx: Vec<usize> = (0..size)
        .map(|_| rng.below((POINTS - length) as u64) as usize)
        .collect();
    let starts = starts_idx.iter().flat_map(|&s| data.ys[s]).collect();
    let targets = (0..length)
        .map(|k| starts_idx.iter().flat_map(|&s| data.ys[s + k]).collect())
        .collect();
    let times = data.ts[..length].to_vec();
    Batch {
        starts,
        targets,
        times,
    }
}
