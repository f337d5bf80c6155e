//! APHYNITY's objective and constraint update (Yin et al., ICLR 2021, §3.2, Algorithm 1):
//!
//! `min_{θ_p, θ_a} ‖F_a‖² + λ · L_traj(θ_p, θ_a)`, then after each batch
//! `λ ← λ + τ₂ · L_traj` (an increasing penalty that enforces `L_traj → 0`), with `N_iter`
//! gradient steps (Adam, learning rate `τ₁`) on the same batch before each update of `λ`.
//!
//! - `L_traj = mean ‖X̂(t_i) − X(t_i)‖²` over trajectories, times (the initial one included, as
//!   in the authors' code: its error is zero) and components ([`trajectory_loss`]).
//! - `‖F_a‖²` is evaluated on the *data* states `X(t_i)` and averaged over trajectories, times
//!   and grid cells ([`augmentation_penalty`]): for a state of shape `[C, n, n]` the norm at a
//!   cell is over the `C` channels; for an ODE state `[d]` over its `d` components. For the
//!   pendulum the authors normalise by the state: `(‖F_a(X)‖ / (‖X‖ + ε))²` with `ε = 1e-5`
//!   ([`PenaltyNorm::L2Normalized`]); the PDEs use the plain `‖F_a(X)‖²` ([`PenaltyNorm::L2`]).
//!   (yuan-yin/APHYNITY, `experiments.py`, `min_op` `l2_normalized` / `l2`.)
//!
//! The baselines (Param ODE/PDE, Neural ODE, the naive sum `F_p + F_a`) minimise `L_traj`
//! alone: [`AphynityObjective::Trajectory`].

use burn::tensor::Tensor;

use crate::error::PhysicsError;

/// How `‖F_a‖²` is measured.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PenaltyNorm {
    /// `‖F_a(X)‖²`.
    L2,
    /// `(‖F_a(X)‖ / (‖X‖ + ε))²`.
    L2Normalized {
        /// The `ε` that keeps the ratio finite at `X = 0` (1e-5 in the authors' code).
        epsilon: f64,
    },
}

/// What a hybrid model minimises.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum AphynityObjective {
    /// `L_traj` alone (Param ODE/PDE, Neural ODE, naive `F_p + F_a`).
    Trajectory,
    /// `‖F_a‖² + λ L_traj` with `λ ← λ + τ₂ L_traj` after each batch.
    Aphynity {
        /// The penalty's norm.
        norm: PenaltyNorm,
        /// `λ₀`.
        lambda0: f64,
        /// `τ₂`.
        tau2: f64,
    },
}

impl AphynityObjective {
    /// The pendulum's setting in the authors' code: normalised penalty, `λ₀ = 1`, `τ₂ = 1`.
    pub fn pendulum() -> Self {
        AphynityObjective::Aphynity {
            norm: PenaltyNorm::L2Normalized { epsilon: 1e-5 },
            lambda0: 1.0,
            tau2: 1.0,
        }
    }

    /// The PDEs' setting in the authors' code: plain penalty, `λ₀ = 1`, `τ₂ = 1e-3`.
    pub fn pde() -> Self {
        AphynityObjective::Aphynity {
            norm: PenaltyNorm::L2,
            lambda0: 1.0,
            tau2: 1e-3,
        }
    }

    /// Checks `λ₀ ≥ 0`, `τ₂ ≥ 0`, `ε > 0` (all finite).
    pub fn validate(&self) -> Result<(), PhysicsError> {
        if let AphynityObjective::Aphynity {
            norm,
            lambda0,
            tau2,
        } = *self
        {
            crate::model::non_negative("lambda0", lambda0)?;
            crate::model::non_negative("tau2", tau2)?;
            if let PenaltyNorm::L2Normalized { epsilon } = norm {
                crate::model::positive("epsilon", epsilon)?;
            }
        }
        Ok(())
    }
}

/// The multiplier `λ` and its update rule `λ ← λ + τ₂ · L_traj`.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Multiplier {
    /// The current `λ`.
    pub lambda: f64,
    /// `τ₂`.
    pub tau2: f64,
}

impl Multiplier {
    /// `λ = λ₀` with step `τ₂` (both finite and ≥ 0).
    pub fn new(lambda0: f64, tau2: f64) -> Result<Self, PhysicsError> {
        Ok(Multiplier {
            lambda: crate::model::non_negative("lambda0", lambda0)?,
            tau2: crate::model::non_negative("tau2", tau2)?,
        })
    }

    /// `λ ← λ + τ₂ · L_traj` for the batch's trajectory loss (finite, ≥ 0); returns the new `λ`.
    pub fn update(&mut self, trajectory_loss: f64) -> Result<f64, PhysicsError> {
        let loss = crate::model::non_negative("trajectory loss", trajectory_loss)?;
        self.lambda += self.tau2 * loss;
        Ok(self.lambda)
    }
}

/// `mean (X̂ − X)²` over every entry of two `[batch, times, n]` tensors.
pub fn trajectory_loss(predicted: Tensor<3>, target: Tensor<3>) -> Result<Tensor<1>, PhysicsError> {
    let (p, q) = (predicted.dims(), target.dims());
    if p != q {
        return Err(PhysicsError::SizeMismatch {
            what: "predicted and target trajectories (batch · times · n)",
            expected: q.iter().product(),
            got: p.iter().product(),
        });
    }
    Ok((predicted - target).powi_scalar(2).mean())
}

/// `‖F_a‖²` (see the module docs) for `F_a(X)` and `X`, both `[rows, state_len]`, of states of
/// shape `state_shape` (`[d]` for an ODE, `[C, …]` for fields of `C` channels).
pub fn augmentation_penalty(
    fa: Tensor<2>,
    states: Tensor<2>,
    state_shape: &[usize],
    norm: PenaltyNorm,
) -> Result<Tensor<1>, PhysicsError> {
    let [rows, len] = fa.dims();
    let expected: usize = state_shape.iter().product();
    crate::stencil::check_len("F_a columns", expected, len)?;
    crate::stencil::check_len("state rows for the penalty", rows, states.dims()[0])?;
    crate::stencil::check_len("state columns for the penalty", expected, states.dims()[1])?;
    // Channels × cells: an ODE state is one cell of `d` channels.
    let (channels, cells) = match state_shape {
        [d] => (*d, 1),
        [c, ..] if *c > 0 => (*c, len / c),
        _ => {
            return Err(PhysicsError::Empty {
                what: "state shape",
                unit: "dimension",
            });
        }
    };
    let squared_norm = |x: Tensor<2>| -> Tensor<3> {
        x.reshape([rows, channels, cells]).powi_scalar(2).sum_dim(1)
    };
    let fa2 = squared_norm(fa);
    let per_cell = match norm {
        PenaltyNorm::L2 => fa2,
        PenaltyNorm::L2Normalized { epsilon } => {
            let x_norm = squared_norm(states).sqrt().add_scalar(epsilon);
            fa2 / x_norm.powi_scalar(2)
        }
    };
    Ok(per_cell.mean())
}
