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
//! - `cli` (feature `cli`, with clap): the command-line options every sysdyn program shares
//!   (`--out`, `--quick`, the device flags, `--seed`, `--quiet`, `--load`, `--resume`), flattened
//!   into each program's own parser.
//! - [`fs`]: atomic file writes for figures, summaries and checkpoints.
//! - [`rng`]: counter-based seeded randomness that gives the same numbers on every backend.
//! - [`jet`]: forward-mode derivatives of networks with respect to their input (Jacobians,
//!   exact divergences, Laplacians), as tensor ops that burn differentiates with respect to
//!   the parameters; with an [`Mlp`](jet::Mlp) module that uses them.
//! - [`linalg`]: small dense matrices on the host: eigenvalues (stability analyses) and LU
//!   factorisation (Newton iterations of implicit solvers).
//! - `spectral` (feature `spectral`, with rustfft): periodic pseudo-spectral operators
//!   (derivatives, Laplacian, Poisson solve, 2/3 dealiasing) on host grids of any size.
//! - [`Tolerance`]: relative and absolute tolerances, scalar or per component, and the weighted
//!   RMS error norm that adaptive solvers control.
//!
//! A first use: a state is anything that implements [`State`]. Solvers combine stages with host
//! coefficients and control the weighted RMS norm of the error; randomness is reproducible from
//! a seed.
//!
//! ```
//! use sysdyn_core::{State, Tolerance, rng::SeededRng};
//!
//! let y = [1.0, 2.0];
//! let slope = [0.5, -1.0];
//! // y + h·(1·slope), as an explicit Euler step of size h = 0.1 computes it.
//! let next = y.add_stages(0.1, &[1.0], &[slope]);
//! assert!((next[0] - 1.05).abs() < 1e-15 && (next[1] - 1.9).abs() < 1e-15);
//!
//! // An error of 1e-7 against rtol 1e-6 is well inside the tolerance (norm < 1).
//! let tol = Tolerance::new(1e-6, 1e-9);
//! let norm = <[f64; 2]>::weighted_rms_norm(&[1e-7, 1e-7], &y, &next, &tol);
//! assert!(norm < 1.0);
//!
//! // The same seed gives the same numbers, on every backend and platform.
//! assert_eq!(SeededRng::new(7).normals(4), SeededRng::new(7).normals(4));
//! ```
//!
//! Errors are typed ([`thiserror`]) and say how to fix the input.

#![warn(missing_docs)]

#[cfg(feature = "cli")]
pub mod cli;
#[cfg(feature = "burn")]
pub mod device;
pub mod error;
pub mod fs;
#[cfg(feature = "burn")]
pub mod jet;
pub mod linalg;
pub mod rng;
#[cfg(feature = "spectral")]
pub mod spectral;
pub mod state;
pub mod threads;
pub mod tolerance;

pub use error::{CoreError, ShapeMismatch};
pub use state::State;
pub use tolerance::{Tol, Tolerance};

#[cfg(feature = "burn")]
pub use burn;
