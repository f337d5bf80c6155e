//! Dense linear algebra on the host in `f64`: the one place for the small matrices sysdyn needs.
//!
//! - [`Matrix`]: a dense real matrix with products, the transpose and the trace, and its
//!   (possibly complex) eigenvalues by balancing, Hessenberg reduction and Francis double-shift
//!   QR ([`Matrix::eigenvalues`]): stability of games, iteration matrices and ResNet layers.
//! - [`LuFactors`]: `P A = L U` with partial pivoting, for the Newton iterations of implicit ODE
//!   methods (`(I − h γ J) Δ = r`).
//!
//! Whatever the state type of a solve (an array, a vector, a tensor on a GPU), these systems are
//! assembled on the host, densely: memory grows as `n²` and a factorisation or an eigenvalue
//! computation costs `O(n³)`. That is right for small systems (chemical kinetics, circuits,
//! layer matrices: up to a few hundred unknowns) and wrong for discretised PDEs with thousands of
//! unknowns, which need sparse or matrix-free (Krylov) solvers.

mod lu;
mod matrix;

pub use lu::LuFactors;
pub use matrix::{Complex, Matrix, two_by_two_eigenvalues};

use thiserror::Error;

/// Why a matrix operation could not be done.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum LinalgError {
    /// Two sizes that must agree do not.
    #[error("dimension mismatch in {context}: expected {expected}, got {got}")]
    DimensionMismatch {
        /// What was being combined.
        context: &'static str,
        /// The required size.
        expected: usize,
        /// The given size.
        got: usize,
    },
    /// A square matrix was required.
    #[error("{context} needs a square matrix, got {rows}x{cols}")]
    NotSquare {
        /// What needed it.
        context: &'static str,
        /// Rows given.
        rows: usize,
        /// Columns given.
        cols: usize,
    },
    /// A matrix or vector holds NaN or infinity.
    #[error(
        "non-finite value in {context} (component {component}); check the inputs, or reduce the \
         step size if an iteration diverged"
    )]
    NonFinite {
        /// Where it was found.
        context: &'static str,
        /// Index of the first non-finite component (row-major for a matrix).
        component: usize,
    },
    /// The QR eigenvalue iteration did not deflate within its iteration budget.
    #[error(
        "eigenvalue iteration did not converge for a {size}x{size} matrix after {iterations} \
         iterations; the matrix may be badly scaled (rescale it) or defective"
    )]
    EigenNoConvergence {
        /// Matrix size.
        size: usize,
        /// Iterations spent.
        iterations: usize,
    },
    /// LU elimination found no usable pivot: the matrix is singular to working precision.
    #[error("the matrix is singular to working precision (zero pivot in column {column})")]
    Singular {
        /// The column where elimination found no non-zero pivot.
        column: usize,
    },
}

/// Index of the first non-finite component, as an error.
fn finite(context: &'static str, values: &[f64]) -> Result<(), LinalgError> {
    match values.iter().position(|v| !v.is_finite()) {
        None => Ok(()),
        Some(component) => Err(LinalgError::NonFinite { context, component }),
    }
}

/// Checks that a size is the expected one.
fn same_len(context: &'static str, expected: usize, got: usize) -> Result<(), LinalgError> {
    if expected == got {
        Ok(())
    } else {
        Err(LinalgError::DimensionMismatch {
            context,
            expected,
            got,
        })
    }
}
