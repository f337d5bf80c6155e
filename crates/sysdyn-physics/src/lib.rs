//! # sysdyn-physics
//!
//! Physics for sysdyn: the simulators that generate every physics data set, with the
//! parameters, grids, horizons and seeding of the papers that use them; spatial operators;
//! equation discovery; physics-informed networks; hybrid physics + learning models; learning
//! across environments. Simulators run in `f64` on the host (rayon over trajectories) and as
//! burn tensor fields for training.
//!
//! - [`discovery`]: equation discovery: candidate libraries, derivative
//!   estimators, sparse regression (STLSQ, SR3, ensembles), SINDy with control and simulation,
//!   and PDE-FIND with TrainSTRidge; PDE-Net 2.0 on burn tensors (moment-constrained filters,
//!   SymNet, δt-block rollouts trained with a growing horizon on sysdyn-train).

#![warn(missing_docs)]

pub mod discovery;
mod error;

pub use error::PhysicsError;
