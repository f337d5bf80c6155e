//! Polyak's heavy-ball momentum in its exact textbook form
//!
//! ```text
//! v_{k+1} = γ v_k + η ∇L(θ_k),    θ_{k+1} = θ_k - v_{k+1},    v_0 = 0.
//! ```
//!
//! burn's momentum (`SgdConfig` with `MomentumConfig`) keeps `u_{k+1} = μ u_k + (1 - d) g` and
//! steps `θ -= η u`: the learning rate is applied *after* the velocity, a dampening `d`
//! (default 0.1) scales the gradient, and `μ` is stored as `f32`. With `d = 0` and a constant `η`
//! the two agree (`v = η u`, up to `μ`'s rounding), but once `η` changes (a schedule) burn
//! rescales the whole remembered velocity while the form above only scales the new gradient.
//! The rate and ODE analyses rest on the form above, so it is implemented here.

use super::UpdateRule;
use crate::error::{OptimError, unit_interval};

/// Heavy-ball momentum with factor `γ ∈ [0, 1)`; the learning rate `η` is given per step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HeavyBall {
    gamma: f64,
}

impl HeavyBall {
    /// Heavy-ball with momentum `gamma`; errors unless `0 <= gamma < 1`.
    pub fn new(gamma: f64) -> Result<Self, OptimError> {
        Ok(HeavyBall {
            gamma: unit_interval("momentum gamma", gamma)?,
        })
    }

    /// The momentum factor `γ`.
    pub fn gamma(&self) -> f64 {
        self.gamma
    }
}

impl UpdateRule for HeavyBall {
    /// The velocity `v_k`.
    type State = Vec<f64>;

    fn name(&self) -> &'static str {
        "heavy-ball"
    }

    fn init_state(&self, dim: usize) -> Vec<f64> {
        vec![0.0; dim]
    }

    fn update(&self, lr: f64, params: &mut [f64], grad: &[f64], velocity: &mut Vec<f64>) {
        for ((p, g), v) in params.iter_mut().zip(grad).zip(velocity.iter_mut()) {
            *v = self.gamma * *v + lr * g;
            *p -= *v;
        }
    }

    #[cfg(feature = "burn")]
    type BurnOptimizer = HeavyBall;

    #[cfg(feature = "burn")]
    fn burn_optimizer(&self) -> HeavyBall {
        *self
    }
}

#[cfg(feature = "burn")]
impl burn::optim::Optimizer for HeavyBall {
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
            Some(s) => s.velocity_on(&step.device()).mul_scalar(self.gamma) + step,
            // v_0 = 0: γ·0 + η g = η g exactly.
            None => step,
        };
        let tensor = tensor - velocity.clone();
        (tensor, Some(super::VelocityState::new(velocity)))
    }

    fn to_device<const D: usize>(
        state: Self::State<D>,
        device: &burn::tensor::Device,
    ) -> Self::State<D> {
        state.to_device(device)
    }
}
