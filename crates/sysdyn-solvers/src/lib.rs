//! # sysdyn-solvers
//!
//! ODE solvers for plain `f64` arrays and burn tensors alike (anything that implements
//! [`sysdyn_core::State`]).
//!
//! - [`tableau`]: explicit Runge–Kutta methods are data, a [`ButcherTableau`] that checks itself;
//!   [`methods`] holds one small file per method.
//! - [`solve()`]: the integration loop; the step-size policy ([`StepSize`], [`PidController`]) and
//!   the output ([`SaveAt`]) are separate, typed options in a [`SolveConfig`].
//! - Failures come back as a typed [`SolveError`] with the time, step and component involved.

pub mod controller;
pub mod error;
pub mod explicit_rk;
pub mod method;
pub mod methods;
pub mod solve;
pub mod tableau;
pub mod term;
pub mod trees;

pub use controller::PidController;
pub use error::SolveError;
pub use method::{Attempt, OdeMethod};
pub use solve::{Adaptive, SaveAt, Solution, SolveConfig, Stats, StepSize, solve};
pub use tableau::{ButcherTableau, ErrorEstimate, Interpolant};
pub use term::VectorField;
