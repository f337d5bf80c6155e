//! The numerical experiments on plain `f64` arrays: a tight reference solution, every explicit
//! method against it, and a work–precision study of the adaptive methods.

use std::time::Instant;

use serde::Serialize;
use sysdyn_solvers::methods::{BOSH3, DOP853, DOPRI5, EULER, HEUN, MIDPOINT, RALSTON, RK4, TSIT5};
use sysdyn_solvers::{ButcherTableau, SaveAt, Solution, SolveConfig, SolveError, solve};

use crate::problem::{FINAL, MODEL, SPAN, Y0, field};

/// Tolerance of the reference solution (DOP853): far below every error it is compared with.
pub const REFERENCE_TOL: f64 = 1e-13;
/// Step of the fixed-step methods.
pub const FIXED_STEP: f64 = 0.01;
/// Tolerance (rtol = atol) of the adaptive methods in the method comparison.
pub const ADAPTIVE_TOL: f64 = 1e-8;

/// Methods run with fixed steps of [`FIXED_STEP`].
pub const FIXED_METHODS: [&ButcherTableau; 5] = [&EULER, &MIDPOINT, &HEUN, &RALSTON, &RK4];
/// Methods run with error control at [`ADAPTIVE_TOL`] and in the work–precision study.
pub const ADAPTIVE_METHODS: [&ButcherTableau; 4] = [&BOSH3, &DOPRI5, &TSIT5, &DOP853];

/// The largest absolute component difference of two states.
pub fn max_abs_diff(a: &[f64; 2], b: &[f64; 2]) -> f64 {
    (a[0] - b[0]).abs().max((a[1] - b[1]).abs())
}

/// The reference trajectory on the output grid.
#[derive(Debug, Clone)]
pub struct Reference {
    /// Output times (the last is the end of the span).
    pub ts: Vec<f64>,
    /// States at the output times.
    pub ys: Vec<[f64; 2]>,
    /// Its function evaluations.
    pub nfe: usize,
    /// Its final state's distance from the published final state (a check of both).
    pub error_vs_published: f64,
}

/// `n` evenly spaced output times covering the span, ends included.
pub fn output_grid(n: usize) -> Vec<f64> {
    sysdyn_plot::linspace(SPAN.0, SPAN.1, n.max(2))
}

/// DOP853 at rtol = atol = 1e-13 from `y0`, at the times `ts`.
pub fn reference_from(y0: [f64; 2], ts: &[f64]) -> Result<Solution<[f64; 2]>, SolveError> {
    let config = SolveConfig::adaptive(REFERENCE_TOL, REFERENCE_TOL)
        .save_at(SaveAt::Times(ts.to_vec()))
        .max_steps(1_000_000);
    solve(&mut field, &DOP853, SPAN, y0, &config)
}

/// The reference solution of W1 on `ts`.
pub fn reference(ts: &[f64]) -> Result<Reference, SolveError> {
    let sol = reference_from(Y0, ts)?;
    Ok(Reference {
        ts: sol.ts.clone(),
        error_vs_published: max_abs_diff(sol.last(), &FINAL),
        nfe: sol.stats.nfe,
        ys: sol.ys,
    })
}

/// How a method chooses its steps in the comparison.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum StepPolicy {
    /// Fixed steps of size `h`.
    Fixed {
        /// Step size.
        h: f64,
    },
    /// Error control with these tolerances.
    Adaptive {
        /// Relative tolerance.
        rtol: f64,
        /// Absolute tolerance.
        atol: f64,
    },
}

impl StepPolicy {
    fn config(self) -> SolveConfig<[f64; 2]> {
        match self {
            StepPolicy::Fixed { h } => SolveConfig::fixed(h),
            StepPolicy::Adaptive { rtol, atol } => SolveConfig::adaptive(rtol, atol),
        }
        .max_steps(1_000_000)
    }
}

/// One method's results on W1.
#[derive(Debug, Clone, Serialize)]
pub struct MethodResult {
    /// Method name.
    pub method: &'static str,
    /// Order of the method.
    pub order: u32,
    /// Step policy.
    pub step: StepPolicy,
    /// State at t = 15.
    pub final_state: [f64; 2],
    /// Max-norm distance of the final state from the published one.
    pub final_error: f64,
    /// Largest max-norm distance from the reference trajectory over the output grid (dense
    /// output between steps).
    pub trajectory_error: f64,
    /// Largest `|V(y(t)) − V(y0)|` of the conserved quantity over the output grid.
    pub invariant_drift: f64,
    /// Accepted steps.
    pub accepted: usize,
    /// Rejected steps.
    pub rejected: usize,
    /// Vector-field evaluations.
    pub nfe: usize,
    /// Wall-clock time of the solve (final state only), seconds.
    pub wall_s: f64,
}

/// Runs `method` with `step` on W1: the final-state solve (statistics, timing) and the solve on
/// the reference grid (trajectory error, invariant drift). Returns the trajectory too.
pub fn run_method(
    method: &ButcherTableau,
    step: StepPolicy,
    reference: &Reference,
) -> Result<(MethodResult, Vec<[f64; 2]>), SolveError> {
    let start = Instant::now();
    let final_only = solve(&mut field, method, SPAN, Y0, &step.config())?;
    let wall_s = start.elapsed().as_secs_f64();
    let on_grid = solve(
        &mut field,
        method,
        SPAN,
        Y0,
        &step.config().save_at(SaveAt::Times(reference.ts.clone())),
    )?;
    let trajectory_error = on_grid
        .ys
        .iter()
        .zip(&reference.ys)
        .map(|(y, r)| max_abs_diff(y, r))
        .fold(0.0, f64::max);
    let v0 = MODEL.invariant(&Y0);
    let invariant_drift = on_grid
        .ys
        .iter()
        .map(|y| (MODEL.invariant(y) - v0).abs())
        .fold(0.0, f64::max);
    let final_state = *final_only.last();
    let stats = final_only.stats;
    Ok((
        MethodResult {
            method: method.name,
            order: method.order,
            step,
            final_state,
            final_error: max_abs_diff(&final_state, &FINAL),
            trajectory_error,
            invariant_drift,
            accepted: stats.accepted,
            rejected: stats.rejected,
            nfe: stats.nfe,
            wall_s,
        },
        on_grid.ys,
    ))
}

/// One point of a work–precision curve.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct WorkPoint {
    /// Relative tolerance (= absolute tolerance) for adaptive methods, `None` for fixed steps.
    pub rtol: Option<f64>,
    /// Step size for fixed-step methods.
    pub h: Option<f64>,
    /// Vector-field evaluations.
    pub nfe: usize,
    /// Max-norm error of the final state.
    pub error: f64,
}

/// A method's work–precision curve.
#[derive(Debug, Clone, Serialize)]
pub struct WorkCurve {
    /// Method name.
    pub method: &'static str,
    /// Points in order of decreasing tolerance (or step).
    pub points: Vec<WorkPoint>,
}

/// Error against work for every adaptive method over `rtols` (with atol = rtol), and for RK4
/// with fixed steps `hs` for comparison.
pub fn work_precision(rtols: &[f64], hs: &[f64]) -> Result<Vec<WorkCurve>, SolveError> {
    let mut curves = Vec::new();
    for method in ADAPTIVE_METHODS {
        let mut points = Vec::new();
        for &rtol in rtols {
            let config = StepPolicy::Adaptive { rtol, atol: rtol }.config();
            let sol = solve(&mut field, method, SPAN, Y0, &config)?;
            points.push(WorkPoint {
                rtol: Some(rtol),
                h: None,
                nfe: sol.stats.nfe,
                error: max_abs_diff(sol.last(), &FINAL),
            });
        }
        curves.push(WorkCurve {
            method: method.name,
            points,
        });
    }
    let mut points = Vec::new();
    for &h in hs {
        let sol = solve(
            &mut field,
            &RK4,
            SPAN,
            Y0,
            &StepPolicy::Fixed { h }.config(),
        )?;
        points.push(WorkPoint {
            rtol: None,
            h: Some(h),
            nfe: sol.stats.nfe,
            error: max_abs_diff(sol.last(), &FINAL),
        });
    }
    curves.push(WorkCurve {
        method: "rk4 (fixed step)",
        points,
    });
    Ok(curves)
}
