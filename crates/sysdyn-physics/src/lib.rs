//! # sysdyn-physics
//!
//! Physics for sysdyn: the simulators that generate every physics data set, with the
//! parameters, grids, horizons and seeding of the papers that use them; spatial operators;
//! equation discovery; physics-informed networks; hybrid physics + learning models; learning
//! across environments. Simulators run in `f64` on the host (rayon over trajectories) and as
//! burn tensor fields for training.
//!
//! - [`model`]: the one contract every simulator (and later every hybrid model) implements,
//!   [`PhysicalModel`]: named parameters, the host right-hand side, its Jacobian sparsity, and
//!   the batched tensor field with the parameters as tensors; [`ModelField`] hands any model to
//!   sysdyn-solvers.
//! - [`stencil`]: finite differences of orders 2 and 4 (first and second derivatives, five- and
//!   nine-point and fourth-order Laplacians) with periodic, Dirichlet and Neumann boundaries,
//!   and the spectral operators of `sysdyn_core::spectral` as matrices for the tensor path.
//! - [`simulators`]: damped pendulum, Lotka–Volterra (per environment), Lorenz-63,
//!   FitzHugh–Nagumo and Gray–Scott reaction–diffusion, damped wave, viscous Burgers (with the
//!   Cole–Hopf solution), KdV (integrating-factor RK4, two-soliton solution), 2D Navier–Stokes
//!   (vorticity, pseudo-spectral), Aliev–Panfilov and Mitchell–Schaeffer cardiac models; seeded
//!   data-set generators, bit-reproducible across thread counts.
//! - [`pinn`]: physics-informed networks: domains, collocation samplers (uniform, Latin
//!   hypercube, Sobol, residual-based refinement), residuals on the jet of `u`, boundary/
//!   initial/data terms, inverse parameters, annealed weights, Adam then L-BFGS.

#![warn(missing_docs)]

mod error;
pub mod model;
pub mod pinn;
pub mod simulators;
pub mod stencil;

pub use error::PhysicsError;
pub use model::{ModelField, PhysicalModel};
