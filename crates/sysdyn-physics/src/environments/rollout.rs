//! Rolling a learned field out over the data's time grid, with LEADS's teacher forcing.
//!
//! Each interval `[t_k, t_{k+1}]` is integrated by `substeps` fixed steps of sysdyn-solvers'
//! RK4 tableau, taken by the crate's one explicit Runge–Kutta step (the one of
//! [`crate::hybrid::rollout()`]) (LEADS: one RK4 step per output interval, torchdiffeq's `rk4` on the data grid) on the
//! tensor state `[E, B, d]`, so burn's autodiff differentiates through the solver. Interval `k`
//! starts from the prediction at `t_k`, or, when `restarts[k]` is set, from the data at `t_k`
//! (teacher forcing; interval 0 always starts from the data).
//!
//! LEADS draws the restarts anew at every training step, each interval independently with
//! probability `ε`, where `ε = 0.99^i` and `i` grows by one every 10 steps ([`TeacherForcing`]):
//! training starts with short segments and ends with whole trajectories. Evaluation never
//! restarts.

use burn::tensor::Tensor;
use sysdyn_core::State;
use sysdyn_core::rng::SeededRng;
use sysdyn_solvers::SolveError;
use sysdyn_solvers::methods::RK4;

use crate::error::PhysicsError;
use crate::hybrid::rollout::explicit_step;

/// LEADS's schedule of restart probabilities, `ε(step) = decay^(1 + ⌊step / every⌋)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TeacherForcing {
    /// The factor per stage, in `[0, 1]` (LEADS: 0.99).
    pub decay: f64,
    /// Steps per stage, ≥ 1 (LEADS: 10).
    pub every: u64,
}

impl TeacherForcing {
    /// LEADS's schedule: `ε = 0.99^i`, `i` growing every 10 steps.
    pub fn leads() -> Self {
        TeacherForcing {
            decay: 0.99,
            every: 10,
        }
    }

    /// No teacher forcing: every interval continues from the prediction.
    pub fn none() -> Self {
        TeacherForcing {
            decay: 0.0,
            every: 1,
        }
    }

    /// Checks `decay ∈ [0, 1]` and `every ≥ 1`.
    pub fn validate(&self) -> Result<(), PhysicsError> {
        if !(0.0..=1.0).contains(&self.decay) {
            return Err(PhysicsError::InvalidParameter {
                name: "decay",
                value: self.decay,
                requirement: "the teacher-forcing decay must lie in [0, 1]",
            });
        }
        if self.every == 0 {
            return Err(PhysicsError::InvalidParameter {
                name: "every",
                value: 0.0,
                requirement: "steps per teacher-forcing stage must be at least 1",
            });
        }
        Ok(())
    }

    /// The restart probability at training step `step` (0-based).
    pub fn epsilon(&self, step: u64) -> f64 {
        let stage = 1 + step / self.every.max(1);
        self.decay.powf(stage as f64)
    }

    /// The restarts of one step over `intervals` intervals: interval 0 always, each later one
    /// with probability [`TeacherForcing::epsilon`].
    pub fn draw(&self, step: u64, intervals: usize, rng: &mut SeededRng) -> Vec<bool> {
        let eps = self.epsilon(step);
        (0..intervals)
            .map(|k| k == 0 || rng.uniform() < eps)
            .collect()
    }
}

/// The predicted trajectories `[E, B, T, d]` of `field` (autonomous, on states `[E, B, d]`)
/// over the grid of `data: [E, B, T, d]` with step `dt`: `prediction[.., 0, ..] = data[.., 0, ..]`,
/// interval `k` integrated by `substeps` RK4 steps from the prediction or, where `restarts[k]`,
/// from the data (see the module docs). A non-finite state ends it with
/// [`SolveError::NonFiniteState`]. `restarts` needs `T − 1` entries (an empty slice means
/// none beyond the first).
pub fn rollout<F>(
    mut field: F,
    data: &Tensor<4>,
    dt: f64,
    substeps: usize,
    restarts: &[bool],
) -> Result<Tensor<4>, PhysicsError>
where
    F: FnMut(&Tensor<3>) -> Tensor<3>,
{
    let [e, b, t, d] = data.dims();
    if !restarts.is_empty() && restarts.len() + 1 != t {
        return Err(PhysicsError::SizeMismatch {
            what: "teacher-forcing restarts against the intervals of the time grid",
            expected: t.saturating_sub(1),
            got: restarts.len(),
        });
    }
    if substeps == 0 || !(dt.is_finite() && dt > 0.0) {
        return Err(PhysicsError::InvalidParameter {
            name: "substeps or dt",
            value: dt,
            requirement: "need at least one RK4 step per interval and a positive finite dt",
        });
    }
    let at = |k: usize| data.clone().narrow(2, k, 1).reshape([e, b, d]);
    let h = dt / substeps as f64;
    // Autonomous: the stage times are not used.
    let mut rhs = |_t: f64, y: Tensor<3>| Ok(field(&y));
    let mut states = vec![at(0)];
    let mut current = at(0);
    for k in 0..t.saturating_sub(1) {
        let mut y = if k > 0 && restarts.get(k).copied().unwrap_or(false) {
            at(k)
        } else {
            current
        };
        for s in 0..substeps {
            y = explicit_step(&mut rhs, &RK4, s as f64 * h, h, y)?;
            // As sysdyn-solvers' fixed-step loop: a diverged state stops the rollout with the
            // step that produced it (one host read per step).
            if let Some(component) = y.first_non_finite() {
                return Err(SolveError::NonFiniteState {
                    t: (s + 1) as f64 * h,
                    component,
                    step: Some(h),
                }
                .into());
            }
        }
        current = y;
        states.push(current.clone());
    }
    Ok(Tensor::stack(states, 2))
}

/// The mean squared error of each environment, `[E]`, between `prediction` and `data`
/// (`[E, B, T, d]`).
pub fn mse_per_env(prediction: Tensor<4>, data: Tensor<4>) -> Tensor<1> {
    let [e, b, t, d] = data.dims();
    (prediction - data)
        .square()
        .reshape([e, b * t * d])
        .mean_dim(1)
        .reshape([e])
}
