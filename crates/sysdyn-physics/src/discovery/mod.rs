//! Equation discovery: sparse regression of derivatives on libraries of candidate functions.
//!
//! - [`library`]: candidate functions Θ(x): polynomials, Fourier modes, named closures, their
//!   concatenations and tensor products, with printable names.
//! - [`derivative`]: time derivatives of samples: finite differences, Savitzky–Golay, smoothed
//!   finite differences, spectral, Chartrand's total-variation regularisation.
//! - [`regression`]: STLSQ, SR3 (ℓ0, ℓ1) and bagged ensembles, on the normal equations
//!   (faer's Cholesky); [`stlsq`] runs STLSQ on given matrices.
//! - [`sindy`]: the SINDy model (library + differentiator + optimizer), fitted with optional
//!   control inputs, printed as equations, simulated with sysdyn-solvers and scored by R².
//! - [`pdefind`]: PDE-FIND with finite-difference or polynomial-interpolation derivatives and
//!   TrainSTRidge.
//! - [`noise`]: Gaussian measurement noise relative to each signal's standard deviation.
//! - [`pdenet`]: PDE-Net 2.0 on burn tensors: moment-constrained filters, SymNet, δt-block
//!   rollouts trained on sysdyn-train with a growing horizon.
//!
//! Everything but PDE-Net runs on the host in `f64`; matrices are [`sysdyn_core::linalg::Matrix`] (row-major,
//! samples in rows), coefficients come back one row per target (PySINDy's `coef_`).

mod dense;
pub mod derivative;
pub mod library;
pub mod noise;
pub mod pdefind;
pub mod pdenet;
pub mod regression;
pub mod sindy;

pub use derivative::{Differentiator, savitzky_golay_weights};
pub use library::{CustomFunction, Library};
pub use noise::add_noise;
pub use pdefind::{PdeDerivatives, PdeFind, PdeModel, PdeSystem, TrainStRidge};
pub use regression::{Ensemble, EnsembleFit, Optimizer, Sr3, Sr3Regularizer, Stlsq, stlsq};
pub use sindy::{FittedSindy, Sindy, Trajectory, r2_score};
