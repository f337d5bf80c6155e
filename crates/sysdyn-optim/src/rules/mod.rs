//! Update rules, one small file per optimizer.
//!
//! Every optimizer is a pure per-parameter update `(params, grad, state) -> (params, state)`,
//! the form burn's optimizers have. Each file holds
//!
//! - the validated hyper-parameters (a typed error for anything out of range);
//! - the update on plain `f64` slices ([`UpdateRule::update`]), used by the rate, game and flow
//!   analyses: fast, exact f64, no backend;
//! - the same update for burn modules (`UpdateRule::burn_optimizer`, a per-tensor burn
//!   `Optimizer`, and `UpdateRule::module_optimizer`, feature `burn`): our own
//!   `burn::optim::Optimizer` where burn's form differs from the one we need (heavy-ball,
//!   Nesterov), burn's optimizer where it is the same (SGD, RMSProp, Adam). Tests run both paths
//!   on one gradient sequence and compare the iterates.
//!
//! To add an optimizer: write `rules/<name>.rs` implementing [`UpdateRule`], export it here, and
//! add its hand-computed three-step test to `tests/update_formulas.rs`.

mod adam;
mod gradient_descent;
mod heavy_ball;
mod nesterov;
mod rmsprop;
#[cfg(feature = "burn")]
mod velocity;

#[cfg(feature = "burn")]
pub use adam::BurnAdam;
pub use adam::{Adam, AdamState};
pub use gradient_descent::GradientDescent;
pub use heavy_ball::HeavyBall;
pub use nesterov::Nesterov;
pub use rmsprop::{RmsProp, RmsPropState};
#[cfg(feature = "burn")]
pub use velocity::VelocityState;

use std::fmt::Debug;

use crate::error::{OptimError, check_learning_rate, same_len};

/// One optimizer's per-parameter update.
pub trait UpdateRule: Clone + Debug + Send + Sync + 'static {
    /// What the optimizer carries from one step to the next (per parameter vector).
    type State: Clone + Debug + PartialEq;

    /// Short name for tables and plots, e.g. `"heavy-ball"`.
    fn name(&self) -> &'static str;

    /// The state before the first step, for a parameter vector of `dim` components.
    fn init_state(&self, dim: usize) -> Self::State;

    /// One step with learning rate `lr`: updates `params` in place from `grad` and advances
    /// `state`. `params`, `grad` and `state` must have the same length (as [`iterate`] checks);
    /// otherwise only their common prefix is updated.
    fn update(&self, lr: f64, params: &mut [f64], grad: &[f64], state: &mut Self::State);

    /// The same update as a burn per-tensor optimizer: ours where burn's form differs from the
    /// one we need (heavy-ball, Nesterov), burn's own where it is the same (SGD, RMSProp, Adam).
    #[cfg(feature = "burn")]
    type BurnOptimizer: burn::optim::Optimizer;

    /// The rule as its burn per-tensor optimizer (for `sysdyn_train::Optim`, which saves and
    /// restores its state exactly, or any code driving a burn `Optimizer`).
    #[cfg(feature = "burn")]
    fn burn_optimizer(&self) -> Self::BurnOptimizer;

    /// The same rule as a burn [`ModuleOptimizer`](burn::optim::ModuleOptimizer), which applies
    /// it to every parameter of a module and can save and load its state.
    #[cfg(feature = "burn")]
    fn module_optimizer(&self) -> burn::optim::ModuleOptimizer {
        burn::optim::ModuleOptimizer::from(self.burn_optimizer())
    }
}

/// Runs `steps` updates of `rule` with learning rate `lr` from `x0`, where `grad(x)` is the
/// gradient at `x`; returns the `steps + 1` iterates, `x0` first.
///
/// Divergence is not an error (an analysis may want to watch it): iterates may become
/// non-finite. A gradient of the wrong length is.
pub fn iterate<R, G>(
    rule: &R,
    lr: f64,
    x0: &[f64],
    steps: usize,
    mut grad: G,
) -> Result<Vec<Vec<f64>>, OptimError>
where
    R: UpdateRule,
    G: FnMut(&[f64]) -> Vec<f64>,
{
    check_learning_rate(lr)?;
    let mut x = x0.to_vec();
    let mut state = rule.init_state(x.len());
    let mut out = Vec::with_capacity(steps + 1);
    out.push(x.clone());
    for _ in 0..steps {
        let g = grad(&x);
        same_len("gradient", x.len(), g.len())?;
        rule.update(lr, &mut x, &g, &mut state);
        out.push(x.clone());
    }
    Ok(out)
}
