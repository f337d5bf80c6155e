//! A family of initial conditions solved as one batched system on a burn device: the state is a
//! `[orbits, 2]` tensor, one adaptive Dopri5 solve advances every orbit with a common step, and
//! dense output gives the states at the requested times. Compared with the plain f64 path.

use std::time::Instant;

use serde::Serialize;
use sysdyn_core::State;
use sysdyn_core::burn::tensor::Tensor;
use sysdyn_core::device::{Precision, SysDevice};
use sysdyn_solvers::methods::DOPRI5;
use sysdyn_solvers::{SaveAt, SolveConfig, solve};

use crate::ExampleError;
use crate::experiments::{max_abs_diff, reference_from};
use crate::problem::{SPAN, batched_field, field};

/// Tolerances of the batched solve: what the precision can honour (f32 has ~7 digits).
pub fn tolerances(precision: Precision) -> (f64, f64) {
    match precision {
        Precision::F64 => (1e-8, 1e-8),
        Precision::F32 => (1e-6, 1e-6),
    }
}

/// What the batched solve gave, with its comparison against the plain path.
#[derive(Debug, Clone, Serialize)]
pub struct BatchedResult {
    /// Backend and precision, e.g. `flex:f32`.
    pub device: String,
    /// Number of orbits in the batch.
    pub orbits: usize,
    /// Method.
    pub method: &'static str,
    /// Relative tolerance.
    pub rtol: f64,
    /// Absolute tolerance.
    pub atol: f64,
    /// Accepted steps (common to every orbit).
    pub accepted: usize,
    /// Rejected steps.
    pub rejected: usize,
    /// Batched vector-field evaluations.
    pub nfe: usize,
    /// Largest difference from solving each orbit separately with `[f64; 2]` states at the same
    /// tolerances (the batch shares one step size, and may run in f32).
    pub max_deviation_vs_f64: f64,
    /// Largest difference from DOP853 reference solutions (rtol = atol = 1e-13).
    pub max_error_vs_reference: f64,
    /// The same for the separate f64 solves: what the tolerance alone gives.
    pub plain_max_error_vs_reference: f64,
    /// Wall-clock time of the batched solve, seconds.
    pub wall_s: f64,
    /// Wall-clock time of the separate f64 solves, seconds.
    pub plain_wall_s: f64,
    /// Output times.
    #[serde(skip)]
    pub ts: Vec<f64>,
    /// `orbits[k][i]`: orbit `k` at `ts[i]`.
    #[serde(skip)]
    pub trajectories: Vec<Vec<[f64; 2]>>,
}

/// Solves the family `y0s` on `device` at the times `ts`.
pub fn solve_family(
    device: &SysDevice,
    y0s: &[[f64; 2]],
    ts: &[f64],
) -> Result<BatchedResult, ExampleError> {
    let n = y0s.len();
    let (rtol, atol) = tolerances(device.spec().precision);
    let flat: Vec<f64> = y0s.iter().flatten().copied().collect();
    let y0: Tensor<2> = device.tensor(flat, [n, 2])?;
    let config = SolveConfig::adaptive(rtol, atol)
        .save_at(SaveAt::Times(ts.to_vec()))
        .max_steps(1_000_000);
    let start = Instant::now();
    let sol = solve(&mut batched_field, &DOPRI5, SPAN, y0, &config)?;
    // Reading the states back is part of the batched path's cost.
    let host: Vec<Vec<f64>> = sol.ys.iter().map(State::to_f64_vec).collect();
    let wall_s = start.elapsed().as_secs_f64();

    let trajectories: Vec<Vec<[f64; 2]>> = (0..n)
        .map(|k| {
            host.iter()
                .map(|row| [row[2 * k], row[2 * k + 1]])
                .collect()
        })
        .collect();

    let plain_config = SolveConfig::adaptive(rtol, atol)
        .save_at(SaveAt::Times(ts.to_vec()))
        .max_steps(1_000_000);
    let plain_start = Instant::now();
    let mut plain = Vec::with_capacity(n);
    for &y0 in y0s {
        plain.push(solve(&mut field, &DOPRI5, SPAN, y0, &plain_config)?);
    }
    let plain_wall_s = plain_start.elapsed().as_secs_f64();

    let mut max_deviation_vs_f64: f64 = 0.0;
    let mut max_error_vs_reference: f64 = 0.0;
    let mut plain_max_error_vs_reference: f64 = 0.0;
    for (k, &y0) in y0s.iter().enumerate() {
        let reference = reference_from(y0, ts)?;
        for (i, state) in trajectories[k].iter().enumerate() {
            let plain_state = &plain[k].ys[i];
            max_deviation_vs_f64 = max_deviation_vs_f64.max(max_abs_diff(state, plain_state));
            max_error_vs_reference =
                max_error_vs_reference.max(max_abs_diff(state, &reference.ys[i]));
            plain_max_error_vs_reference =
                plain_max_error_vs_reference.max(max_abs_diff(plain_state, &reference.ys[i]));
        }
    }
    Ok(BatchedResult {
        device: device.spec().to_string(),
        orbits: n,
        method: "dopri5",
        rtol,
        atol,
        accepted: sol.stats.accepted,
        rejected: sol.stats.rejected,
        nfe: sol.stats.nfe,
        max_deviation_vs_f64,
        max_error_vs_reference,
        plain_max_error_vs_reference,
        wall_s,
        plain_wall_s,
        ts: sol.ts,
        trajectories,
    })
}
