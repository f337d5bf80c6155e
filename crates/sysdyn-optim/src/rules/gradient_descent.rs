//! Plain (stochastic) gradient descent: `θ ← θ - η g`.
//!
//! burn's `Sgd` without momentum or weight decay is exactly this update, so the burn path is
//! burn's optimizer (tested identical on three steps). Mini-batches drawn without replacement
//! come from [`EpochSampler`](crate::sampler::EpochSampler); the update itself does not care
//! where the gradient came from.

use super::UpdateRule;

/// Gradient descent, `θ_{k+1} = θ_k - η ∇L(θ_k)`. It has no hyper-parameter besides the
/// learning rate and no state.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct GradientDescent;

impl UpdateRule for GradientDescent {
    type State = ();

    fn name(&self) -> &'static str {
        "gd"
    }

    fn init_state(&self, _dim: usize) -> Self::State {}

    fn update(&self, lr: f64, params: &mut [f64], grad: &[f64], _state: &mut ()) {
        for (p, g) in params.iter_mut().zip(grad) {
            *p -= lr * g;
        }
    }

    #[cfg(feature = "burn")]
    type BurnOptimizer = burn::optim::Sgd;

    #[cfg(feature = "burn")]
    fn burn_optimizer(&self) -> burn::optim::Sgd {
        // No momentum, no weight decay, no clipping: `tensor - lr * grad`.
        burn::optim::SgdConfig::new().build()
    }
}
