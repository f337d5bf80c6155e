//! Tools to analyse optimizers as dynamical systems: small dense matrices and their complex
//! eigenvalues ([`Matrix::eigenvalues`], from `sysdyn_core::linalg`), Jacobians of vector fields by central differences
//! ([`jacobian_fd`]), and linear convergence rates, measured ([`measured_rate`]) and predicted
//! for quadratics ([`gd_optimal`], [`heavy_ball_optimal`]), and empirical orders
//! ([`log_log_slope`]).

mod jacobian;
mod rates;

pub use jacobian::jacobian_fd;
pub use rates::{QuadraticTuning, gd_optimal, heavy_ball_optimal, log_log_slope, measured_rate};
pub use sysdyn_core::linalg::{Complex, Matrix, two_by_two_eigenvalues};
