//! Nesterov's accelerated gradient in Sutskever's momentum form
//!
//! ```text
//! v_{k+1} = γ v_k + η ∇L(θ_k - γ v_k),    θ_{k+1} = θ_k - v_{k+1},    v_0 = 0.
//! ```
//!
//! The gradient is taken at the look-ahead point `φ_k = θ_k - γ v_k`. A per-parameter optimizer
//! only sees the gradient at the parameters it holds, so the parameters it holds are `φ`:
//! substituting `θ_k = φ_k + γ v_k` gives
//!
//! ```text
//! v_{k+1} = γ v_k + η ∇L(φ_k),    φ_{k+1} = φ_k - (γ v_{k+1} + η ∇L(φ_k)),
//! ```
//!
//! which is what [`UpdateRule::update`] does; `θ_k = φ_k + γ v_k` is recovered from the state
//! when needed, and `φ = θ` at the start and at convergence (`v → 0`).
//!
//! burn's `nesterov: true` momentum is this form with the learning rate applied after the
//! velocity (and a dampening, default 0.1): the same iterates only for a constant `η`, `d = 0`
//! and up to the `f32` rounding of its momentum factor. See [`HeavyBall`](super::HeavyBall).

use super::UpdateRule;
use crate::error::{OptimError, unit_interval};

/// Nesterov momentum with factor `γ ∈ [0, 1)`; the learning rate `η` is given per step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Nesterov {
    gamma: f64,
}

impl Nesterov {
    /// Nesterov momentum `gamma`; errors unless `0 <= gamma < 1`.
    pub fn new(gamma: f64) -> Result<Self, OptimError> {
        Ok(Nesterov {
            gamma: unit_interval("momentum gamma", gamma)?,
        })
    }

    /// The momentum factor `γ`.
    pub fn gamma(&self) -> f64 {
        self.gamma
    }

    /// The momentum-form iterate `θ = φ + γ v` from the held parameters `φ` and the velocity.
    pub fn momentum_iterate(&self, lookahead: &[f64], velocity: &[f64]) -> Vec<f64> {
        lookahead
            .iter()
            .zip(velocity)
            .map(|(p, v)| p + self.gamma * v)
            .collect()
    }
}

impl UpdateRule for Nesterov {
    /// The velocity `v_k`.
    type State = Vec<f64>;

    fn name(&self) -> &'static str {
        "nesterov"
    }

    fn init_state(&self, dim: usize) -> Vec<f64> {
        vec![0.0; dim]
    }

    fn update(&self, lr: f64, params: &mut [f64], grad: &[f64], velocity: &mut Vec<f64>) {
        for ((p, g), v) in params.iter_mut().zip(grad).zip(velocity.iter_mut()) {
            let step = lr * g;
            *v = self.gamma * *v + step;
            *p -= self.gamma * *v + step;
        }
    }

    #[cfg(feature = "burn")]
    type BurnOptimizer = Nesterov;

    #[cfg(feature = "burn")]
    fn burn_optimizer(&self) -> Nesterov {
        *self
    }
}

#[cfg(feature = "burn")]
impl burn::optim::Optimizer for Nesterov {
    type State<const D: usize> = super::VelocityState<D>;

    fn step<const D: usize>(
        &self,
        lr: f64,
        tensor: burn::tensor::Tensor<D>,
        grad: burn::tensor::Tensor<D>,
        state: Option<Self::State<D>>,
    ) -> (burn::tensor::Tensor<D>, Option<Self::State<D>>) {
        // The same operations in the same order as the slice update, so f64 iterates agree.
        let step = grad.mul_scalar(lr);
        let velocity = match state {
            Some(s) => s.velocity_on(&step.device()).mul_scalar(self.gamma) + step.clone(),
            None => step.clone(),
        };
        let tensor = tensor - (velocity.clone().mul_scalar(self.gamma) + step);
        (tensor, Some(super::VelocityState::new(velocity)))
    }

    fn to_device<const D: usize>(
        state: Self::State<D>,
        device: &burn::tensor::Device,
    ) -> Self::State<D> {
        state.to_device(device)
    }
}
