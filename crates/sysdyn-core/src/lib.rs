//! # sysdyn-core
//!
//! The ground every sysdyn crate stands on:
//!
//! - [`State`]: the one abstraction over "a point in state space" that every solver is written
//!   against. It is implemented for plain `f64` data (`f64`, `[f64; N]`, `Vec<f64>`: no burn
//!   needed, no allocation per step for fixed-size arrays) and, with a backend feature, for burn
//!   tensors of any rank on any device. The same solver code therefore runs on a stack array, on
//!   the CPU backends and on a GPU.
//! - [`device`]: the typed device and precision policy (`ndarray`, `flex`, `wgpu`; f64 allowed on
//!   CPU backends only), chosen by cargo feature and at run time.
//! - [`cli`]: the command-line options every sysdyn program shares (`--out`, `--quick`, the
//!   device flags), with the program's own flags through a callback.
//! - [`rng`]: counter-based seeded randomness that gives the same numbers on every backend.
//! - [`jet`]: forward-mode derivatives of networks with respect to their input (Jacobians,
//!   exact divergences, Laplacians), as tensor ops that burn differentiates with respect to
//!   the parameters; with an [`Mlp`](jet::Mlp) module that uses them.
//! - [`linalg`]: small dense matrices on the host: eigenvalues (stability analyses) and LU
//!   factorisation (Newton iterations of implicit solvers).
//! - [`Tolerance`]: relative and absolute tolerances, scalar or per component, and the weighted
//!   RMS error norm that adaptive solvers control.
//!
//! Errors are typed ([`thiserror`]) and say how to fix the input.

#[cfg(feature = "burn")]
pub mod cli;
#[cfg(feature = "burn")]
pub mod device;
pub mod error;
#[cfg(feature = "burn")]
pub mod jet;
pub mod linalg;
pub mod rng;
pub mod state;
pub mod tolerance;

pub use error::{CoreError, ShapeMismatch};
pub use state::State;
pub use tolerance::{Tol, Tolerance};

#[cfg(feature = "burn")]
pub use burn;
