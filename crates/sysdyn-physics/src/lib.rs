//! # sysdyn-physics
//!
//! Physics for sysdyn: the simulators that generate every physics data set, with the
//! parameters, grids, horizons and seeding of the papers that use them; spatial operators;
//! equation discovery; physics-informed networks; hybrid physics + learning models; learning
//! across environments. Simulators run in `f64` on the host (rayon over trajectories) and as
//! burn tensor fields for training.
//!
//! - [`model`]: the one contract every simulator and every hybrid model implements,
//!   [`PhysicalModel`]: named parameters, the host right-hand side, its Jacobian sparsity, and
//!   the batched tensor field with the parameters as tensors; [`ModelField`] hands any model to
//!   sysdyn-solvers.
//! - [`stencil`]: finite differences of orders 2 and 4 (first and second derivatives, five- and
//!   nine-point and fourth-order Laplacians) with periodic, Dirichlet and Neumann boundaries,
//!   and the spectral operators of `sysdyn_core::spectral` as matrices for the tensor path.
//! - [`simulators`]: damped pendulum, Lotka–Volterra (per environment), Lorenz-63,
//!   FitzHugh–Nagumo and Gray–Scott reaction–diffusion, damped wave, viscous Burgers (with the
//!   Cole–Hopf solution, and an exact reference at `ν = 0.01/π`), KdV (integrating-factor RK4, two-soliton solution), 2D Navier–Stokes
//!   (vorticity, pseudo-spectral), Aliev–Panfilov and Mitchell–Schaeffer cardiac models; seeded
//!   data-set generators, bit-reproducible across thread counts; `BurgersShocks` (Cole–Hopf
//!   fronts and merging shocks), `reference_trajectory` and `space_time_grid` give the
//!   equation-discovery data; a passive tracer in a cellular flow (the warping forecaster's
//!   data, with its true motion).
//! - [`pinn`]: physics-informed networks: domains, collocation samplers (uniform, Latin
//!   hypercube, Sobol, residual-based refinement), residuals on the jet of `u`, boundary/
//!   initial/data terms, inverse parameters, annealed weights, Adam then L-BFGS; the deep
//!   Galerkin method (fresh points every step) and Lagaris trial solutions for ODEs; on flex and
//!   ndarray a plain MLP's jets run on sysdyn-mlp's host engine (`pinn::host`, `PinnStep`'s
//!   default), the residual written once for both paths.
//! - [`discovery`]: equation discovery: candidate libraries, derivative
//!   estimators, sparse regression (STLSQ, SR3, ensembles), relative measurement noise
//!   (`add_noise`), SINDy with control and simulation,
//!   and PDE-FIND with TrainSTRidge; PDE-Net 2.0 on burn tensors (moment-constrained filters,
//!   SymNet, δt-block rollouts trained with a growing horizon on sysdyn-train, and the shared
//!   recovery experiment `pdenet::recovery`).
//! - [`hybrid`]: APHYNITY's augmented models `F_p + F_a` (themselves `PhysicalModel`s), the
//!   incomplete physics of the paper, the differentiable RK4 rollout, the objective
//!   `‖F_a‖² + λ L_traj` with its multiplier update, and the training step.
//! - [`warping`]: de Bézenac et al.'s advection–diffusion forecaster: a CNN motion
//!   estimator and the closed-form Gaussian-kernel warp, with its training step.
//! - [`environments`]: learning across environments: LEADS (`f + g_e` with its penalty, and
//!   the One-For-All / One-Per-Env baselines) and CoDA (`θ_e = θ_c + W ξ_e`, adaptation by a
//!   new context), every environment in one batched pass, trained on sysdyn-train.

#![warn(missing_docs)]

pub mod discovery;
pub mod environments;
mod error;
pub mod hybrid;
pub mod model;
pub mod pinn;
pub mod simulators;
pub mod stencil;
pub mod warping;

pub use error::PhysicsError;
pub use model::{ModelField, PhysicalModel};
