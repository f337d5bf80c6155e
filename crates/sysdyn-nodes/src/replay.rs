//! Re-running a solve along a known step grid, for checkpointing.
//!
//! A checkpointed gradient first solves forward with `SaveAt::Steps` (no autodiff graph), which
//! gives the accepted step grid and the state at every grid point. Later it re-runs pieces of
//! that grid from stored states, with or without a graph. Taking the very steps of the first
//! solve, and producing outputs with the same rule as `sysdyn_solvers::solve` (an output time
//! equal to a step's end takes the end state; one inside a step is interpolated with the
//! method's continuous extension), makes every replayed value identical to the forward one.

use burn::tensor::Tensor;
use sysdyn_solvers::{OdeMethod, VectorField};

/// States at every point of `grid` (starting with `y0`) and outputs at `saves`, which must lie
/// in `(grid[0], grid[last]]` in the direction of integration, in order.
pub(crate) fn replay<F, M>(
    f: &mut F,
    method: &M,
    grid: &[f64],
    y0: Tensor<2>,
    saves: &[f64],
    nfe: &mut usize,
) -> (Vec<Tensor<2>>, Vec<Tensor<2>>)
where
    F: VectorField<Tensor<2>>,
    M: OdeMethod<Tensor<2>>,
{
    let mut ws = method.workspace();
    let mut states = Vec::with_capacity(grid.len());
    let mut outputs = Vec::with_capacity(saves.len());
    let mut next = 0;
    let mut y = y0;
    states.push(y.clone());
    for window in grid.windows(2) {
        let (t, t_new) = (window[0], window[1]);
        let h = t_new - t;
        let attempt = method.attempt(f, t, &y, h, None, &mut ws, nfe);
        while next < saves.len() && (saves[next] - t_new) * h <= 0.0 {
            let tau = saves[next];
            outputs.push(if tau == t_new {
                attempt.y1.clone()
            } else {
                let theta = ((tau - t) / h).clamp(0.0, 1.0);
                method.interpolate(f, t, &y, &attempt.y1, h, theta, &mut ws, nfe)
            });
            next += 1;
        }
        method.accept(&mut ws);
        y = attempt.y1;
        states.push(y.clone());
    }
    (states, outputs)
}

/// Index of the grid step `[grid[k], grid[k + 1]]` that `solve` would attribute the output time
/// `tau` to: the first step whose end is at or beyond `tau` in the direction of integration.
pub(crate) fn step_of(grid: &[f64], tau: f64) -> usize {
    let dir = (grid[grid.len() - 1] - grid[0]).signum();
    let steps = grid.len() - 1;
    (0..steps)
        .find(|&k| (tau - grid[k + 1]) * dir <= 0.0)
        .unwrap_or(steps - 1)
}
