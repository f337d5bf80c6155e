//! # sysdyn-physics
//!
//! Physics for sysdyn: the simulators that generate every physics data set, with the
//! parameters, grids, horizons and seeding of the papers that use them; spatial operators;
//! equation discovery; physics-informed networks; hybrid physics + learning models; learning
//! across environments. Simulators run in `f64` on the host (rayon over trajectories) and as
//! burn tensor fields for training.
//!
//! - [`pinn`]: physics-informed networks: domains, collocation samplers (uniform, Latin
//!   hypercube, Sobol, residual-based refinement), residuals on the jet of `u`, boundary/
//!   initial/data terms, inverse parameters, annealed weights, Adam then L-BFGS.

#![warn(missing_docs)]

mod error;
pub mod pinn;

pub use error::PhysicsError;
