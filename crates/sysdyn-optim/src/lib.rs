//! # sysdyn-optim
//!
//! Optimizers as dynamical systems, usable on any burn module.
//!
//! - [`rules`]: one file per optimizer, each a pure per-parameter update with its state, on
//!   plain `f64` slices and as a burn optimizer (burn 0.22's form: `step(lr, tensor, grad,
//!   state)`, wrapped in a `ModuleOptimizer` that saves and loads the state). Gradient descent,
//!   RMSProp (WGAN's form) and Adam are burn's own optimizers, which already have the exact
//!   form; heavy-ball (`v ← γv + η∇L`, `θ ← θ - v`) and Nesterov are implemented here because
//!   burn's momentum applies the learning rate after the velocity.
//! - [`sampler`]: mini-batches drawn without replacement within an epoch, reproducible from a
//!   seed.
//! - [`game`]: two-player games (GANs) played simultaneously, alternately, with extragradient or
//!   optimistic steps, on `f64` vectors and on a pair of burn modules.
//! - [`lbfgs`]: L-BFGS with a strong-Wolfe line search, a full-batch driver over the flattened
//!   parameter vector (not a per-tensor rule): on host closures `f(x) -> (f, ∇f)` and, with
//!   `burn`, on any module's parameters through autodiff (`Lbfgs::minimize_module`).
//! - [`flow`]: gradient flow and the heavy-ball ODE, integrated with `sysdyn-solvers` next to
//!   the discrete iterates.
//! - [`analysis`]: Jacobians, eigenvalues of small real matrices (complex ones included),
//!   measured and theoretical linear rates.
//! - [`problems`]: an ill-conditioned quadratic and Rosenbrock's function.
//!
//! Hyper-parameters are validated: a negative learning rate or a momentum outside `[0, 1)` is an
//! [`OptimError`] saying what range is expected.
//!
//! A first use: heavy-ball momentum on the quadratic `f(x) = x₁² + 10 x₂²` (gradient
//! `(2x₁, 20x₂)`) converges to the minimum at the origin.
//!
//! ```
//! use sysdyn_optim::{HeavyBall, iterate};
//!
//! let rule = HeavyBall::new(0.5)?;
//! let iterates = iterate(&rule, 0.05, &[1.0, 1.0], 200, |x| vec![2.0 * x[0], 20.0 * x[1]])?;
//! let last = iterates.last().unwrap();
//! assert!(last[0].abs() < 1e-8 && last[1].abs() < 1e-8);
//! # Ok::<(), sysdyn_optim::OptimError>(())
//! ```

#![warn(missing_docs)]

pub mod analysis;
pub mod error;
pub mod flow;
pub mod game;
pub mod lbfgs;
pub mod problems;
pub mod rules;
pub mod sampler;

pub use error::{OptimError, check_learning_rate};
pub use game::{GameScheme, Player};
pub use lbfgs::{AcceptedStep, Lbfgs, LbfgsReport, LbfgsStop};
pub use rules::{Adam, GradientDescent, HeavyBall, Nesterov, RmsProp, UpdateRule, iterate};
pub use sampler::EpochSampler;

#[cfg(feature = "burn")]
pub use game::GameOptimizer;
