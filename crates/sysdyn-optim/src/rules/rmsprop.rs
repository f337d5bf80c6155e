//! RMSProp as WGAN trains its critic and generator (Arjovsky et al., 2017, with the
//! PyTorch/Torch defaults they used): no momentum, not centred,
//!
//! ```text
//! s_{k+1} = α s_k + (1 - α) g_k²,    θ_{k+1} = θ_k - η g_k / (√s_{k+1} + ε),    s_0 = 0.
//! ```
//!
//! burn's `RmsProp` with `momentum = 0` and `centered = false` is this update (its first step
//! sets `s_1 = (1 - α) g²`, i.e. `s_0 = 0`), so the burn path is burn's optimizer. burn keeps
//! `α` and `ε` as `f32`; on f64 tensors its iterates therefore match the f64 slice update to
//! about 1e-7 relative, not to the last bit.

use super::UpdateRule;
use crate::error::{OptimError, non_negative, unit_interval};

/// RMSProp hyper-parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RmsProp {
    alpha: f64,
    epsilon: f64,
}

/// The running mean of squared gradients `s_k`.
#[derive(Debug, Clone, PartialEq)]
pub struct RmsPropState {
    /// `s_k`, one entry per parameter component.
    pub square_avg: Vec<f64>,
}

impl RmsProp {
    /// The WGAN setting: `α = 0.99`, `ε = 1e-8`.
    pub fn wgan() -> Self {
        RmsProp {
            alpha: 0.99,
            epsilon: 1e-8,
        }
    }

    /// RMSProp with smoothing `alpha ∈ [0, 1)` and `epsilon >= 0`.
    pub fn new(alpha: f64, epsilon: f64) -> Result<Self, OptimError> {
        Ok(RmsProp {
            alpha: unit_interval("RMSProp alpha", alpha)?,
            epsilon: non_negative("RMSProp epsilon", epsilon)?,
        })
    }

    /// Smoothing factor `α`.
    pub fn alpha(&self) -> f64 {
        self.alpha
    }

    /// `ε` added to the root mean square.
    pub fn epsilon(&self) -> f64 {
        self.epsilon
    }
}

impl UpdateRule for RmsProp {
    type State = RmsPropState;

    fn name(&self) -> &'static str {
        "rmsprop"
    }

    fn init_state(&self, dim: usize) -> RmsPropState {
        RmsPropState {
            square_avg: vec![0.0; dim],
        }
    }

    fn update(&self, lr: f64, params: &mut [f64], grad: &[f64], state: &mut RmsPropState) {
        for ((p, g), s) in params.iter_mut().zip(grad).zip(state.square_avg.iter_mut()) {
            *s = self.alpha * *s + (1.0 - self.alpha) * g * g;
            *p -= lr * g / (s.sqrt() + self.epsilon);
        }
    }

    #[cfg(feature = "burn")]
    type BurnOptimizer = burn::optim::RmsProp;

    #[cfg(feature = "burn")]
    fn burn_optimizer(&self) -> burn::optim::RmsProp {
        // burn stores these as f32; the cast is the documented precision of burn's path.
        burn::optim::RmsPropConfig::new()
            .with_alpha(self.alpha as f32)
            .with_epsilon(self.epsilon as f32)
            .with_momentum(0.0)
            .with_centered(false)
            .build()
    }
}
