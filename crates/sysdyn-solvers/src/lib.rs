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
//! - [`implicit`]: stiff solvers (backward Euler, trapezoid, TR-BDF2, ESDIRK4) as tableau data,
//!   with Newton iterations on the host ([`linalg`], [`jacobian`]); [`stiffness`] diagnoses
//!   explicit solves that run out of steps on stiff problems.
//! - `sparse` (feature `sparse`, with faer): sparse Jacobians (a pattern, with or without the
//!   values) and sparse LU factorisations of the Newton matrices, for discretised PDEs.
//! - [`events`]: zero crossings located on the dense output, terminating or with callbacks.
//! - [`symplectic`]: Verlet and Yoshida splitting methods for separable Hamiltonian systems.
//! - [`sde`]: Itô and Stratonovich SDEs (Euler–Maruyama, Milstein, stochastic and reversible
//!   Heun) driven by a reproducible [`brownian`] motion.
//!
//! A first use: the exponential decay `y' = -y` with adaptive Tsitouras 5(4), against its exact
//! solution.
//!
//! ```
//! use sysdyn_solvers::{SolveConfig, methods::TSIT5, solve};
//!
//! let mut decay = |_t: f64, y: &f64| -y;
//! let config = SolveConfig::adaptive(1e-10, 1e-12);
//! let solution = solve(&mut decay, &TSIT5, (0.0, 2.0), 1.0, &config)?;
//! assert!((solution.last() - (-2.0f64).exp()).abs() < 1e-8);
//! # Ok::<(), sysdyn_solvers::SolveError>(())
//! ```

#![warn(missing_docs)]

pub mod brownian;
pub mod controller;
pub mod error;
pub mod events;
pub mod explicit_rk;
mod grid;
pub mod implicit;
pub mod jacobian;
pub mod method;
pub mod methods;
pub mod sde;
pub mod solve;
#[cfg(feature = "sparse")]
pub mod sparse;
pub mod stiffness;
pub mod symplectic;
pub mod tableau;
pub mod term;
pub mod trees;

pub use controller::PidController;
pub use error::SolveError;
pub use method::{Attempt, OdeMethod};
pub use solve::{Adaptive, SaveAt, Solution, SolveConfig, Stats, StepSize, solve};
/// Host dense linear algebra (Newton systems): [`linalg::Matrix`], [`linalg::LuFactors`].
pub use sysdyn_core::linalg;
pub use tableau::{ButcherTableau, ErrorEstimate, Interpolant};
pub use term::VectorField;

// The README's examples are compiled and run as doc tests, so they cannot go stale.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
struct ReadmeDoctests;
