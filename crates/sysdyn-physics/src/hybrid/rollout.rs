//! A differentiable fixed-step rollout of a tensor field over a data time grid.
//!
//! Between consecutive output times `t_i → t_{i+1}` it takes `substeps` equal steps of an
//! explicit Runge–Kutta method given as sysdyn-solvers' tableau data (classical
//! [`RK4`](sysdyn_solvers::methods::RK4) by default, as APHYNITY's `odeint(method="rk4")`):
//!
//! `k_i = f(t + c_i h, y + h Σ_j a_ij k_j)`, `y ← y + h Σ_i b_i k_i`.
//!
//! Every operation is a burn tensor operation, so burn's autodiff differentiates the trajectory
//! loss through the solver (backprop through the solver, exact for the discrete scheme): what
//! APHYNITY trains with. sysdyn-nodes' `NeuralOde` solves neural fields with the same
//! gradients; this rollout exists because a hybrid field also carries physical parameters and
//! PDE operators that are not a `NeuralField`.

use burn::tensor::Tensor;
use sysdyn_solvers::ButcherTableau;

use crate::error::PhysicsError;

/// The states `[y(t_0), y(t_1), …]` of `dy/dt = field(t, y)` from `y0 = y(t_0)`, each
/// `[batch, n]`, with `substeps` steps of `method` per output interval. Errors: fewer than one
/// time, non-increasing times, `substeps = 0`, or the field's own error.
pub fn rollout<F>(
    mut field: F,
    method: &ButcherTableau,
    y0: Tensor<2>,
    times: &[f64],
    substeps: usize,
) -> Result<Vec<Tensor<2>>, PhysicsError>
where
    F: Fn(f64, Tensor<2>) -> Result<Tensor<2>, PhysicsError>,
{
    if times.is_empty() {
        return Err(PhysicsError::Empty {
            what: "rollout times",
            unit: "time",
        });
    }
    if substeps == 0 {
        return Err(PhysicsError::InvalidParameter {
            name: "substeps",
            value: 0.0,
            requirement: "must be at least 1 step per output interval",
        });
    }
    let mut states = Vec::with_capacity(times.len());
    let mut y = y0;
    states.push(y.clone());
    for (i, pair) in times.windows(2).enumerate() {
        let span = pair[1] - pair[0];
        if !(span.is_finite() && span > 0.0) {
            return Err(PhysicsError::InvalidParameter {
                name: "rollout times",
                value: span,
                requirement: "must increase strictly (a step between consecutive times is ≤ 0)",
            });
        }
        let h = span / substeps as f64;
        for s in 0..substeps {
            let t = pair[0] + s as f64 * h;
            y = explicit_step(&mut field, method, t, h, y)?;
        }
        debug_assert_eq!(states.len(), i + 1);
        states.push(y.clone());
    }
    Ok(states)
}

/// One step `y ← y + h Σ_i b_i k_i`, `k_i = f(t + c_i h, y + h Σ_j a_ij k_j)`, of the explicit
/// tableau `method` on a tensor state of any rank: the one Runge–Kutta step of this crate's
/// tensor rollouts (this module's and [`crate::environments::rollout()`]'s). Stages whose
/// coefficient is zero are skipped, not multiplied by zero, so they add no graph nodes.
pub(crate) fn explicit_step<const D: usize, F>(
    field: &mut F,
    method: &ButcherTableau,
    t: f64,
    h: f64,
    y: Tensor<D>,
) -> Result<Tensor<D>, PhysicsError>
where
    F: FnMut(f64, Tensor<D>) -> Result<Tensor<D>, PhysicsError>,
{
    let mut ks: Vec<Tensor<D>> = Vec::with_capacity(method.b.len());
    for (i, &c) in method.c.iter().enumerate() {
        let mut stage = y.clone();
        for (k, &a) in ks.iter().zip(method.a[i]) {
            if a != 0.0 {
                stage = stage + k.clone().mul_scalar(h * a);
            }
        }
        ks.push(field(t + c * h, stage)?);
    }
    let mut next = y;
    for (k, &b) in ks.into_iter().zip(method.b) {
        if b != 0.0 {
            next = next + k.mul_scalar(h * b);
        }
    }
    Ok(next)
}

/// The rollout's states stacked as `[batch, times, n]`.
pub fn stack_states(states: Vec<Tensor<2>>) -> Tensor<3> {
    let stacked: Vec<Tensor<3>> = states.into_iter().map(|s| s.unsqueeze_dim(1)).collect();
    Tensor::cat(stacked, 1)
}
