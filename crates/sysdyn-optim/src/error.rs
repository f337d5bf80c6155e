//! Typed errors: each says which input was wrong and what range it must lie in.

use sysdyn_core::linalg::LinalgError;
use sysdyn_solvers::SolveError;
use thiserror::Error;

/// Why an optimizer, sampler, game or analysis could not be set up or run.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum OptimError {
    /// A hyper-parameter is outside its valid range.
    #[error("invalid {name} = {value}: it must be {expected}")]
    InvalidHyperParameter {
        /// The hyper-parameter, e.g. "learning rate" or "momentum gamma".
        name: &'static str,
        /// The value that was given.
        value: f64,
        /// The valid range in words, e.g. "in [0, 1)".
        expected: &'static str,
    },
    /// A sampler was asked for batches of an empty data set or of size zero.
    #[error("invalid mini-batch setup: {items} items in batches of {batch_size}: {reason}")]
    InvalidBatching {
        /// Number of items in the data set.
        items: usize,
        /// Requested batch size.
        batch_size: usize,
        /// What is wrong and how to fix it.
        reason: &'static str,
    },
    /// Two vectors or matrices that must agree in size do not.
    #[error("dimension mismatch in {context}: expected {expected}, got {got}")]
    DimensionMismatch {
        /// What was being combined.
        context: &'static str,
        /// The required size.
        expected: usize,
        /// The given size.
        got: usize,
    },
    /// A matrix, vector or iterate holds NaN or infinity.
    #[error(
        "non-finite value in {context} (component {component}); check the inputs, or reduce the \
         step size if the iteration diverged"
    )]
    NonFinite {
        /// Where it was found.
        context: &'static str,
        /// Index of the first non-finite component.
        component: usize,
    },
    /// A tensor could not be read back to the host (a device error).
    #[error("could not read {what} back to the host: {reason}")]
    HostRead {
        /// Which tensor.
        what: &'static str,
        /// The backend's reason.
        reason: String,
    },
    /// A matrix computation (eigenvalues, products) failed.
    #[error(transparent)]
    Linalg(#[from] LinalgError),
    /// An ODE solve of a flow failed.
    #[error("flow integration failed: {0}")]
    Solve(#[from] SolveError),
}

/// Checks that `value` is finite and strictly positive.
pub(crate) fn positive(name: &'static str, value: f64) -> Result<f64, OptimError> {
    if value.is_finite() && value > 0.0 {
        Ok(value)
    } else {
        Err(OptimError::InvalidHyperParameter {
            name,
            value,
            expected: "a finite number > 0",
        })
    }
}

/// Checks that `value` lies in `[0, 1)`: a momentum or decay factor that forgets.
pub(crate) fn unit_interval(name: &'static str, value: f64) -> Result<f64, OptimError> {
    if (0.0..1.0).contains(&value) {
        Ok(value)
    } else {
        Err(OptimError::InvalidHyperParameter {
            name,
            value,
            expected: "in [0, 1)",
        })
    }
}

/// Checks that `value` is finite and non-negative (e.g. an epsilon that may be zero).
pub(crate) fn non_negative(name: &'static str, value: f64) -> Result<f64, OptimError> {
    if value.is_finite() && value >= 0.0 {
        Ok(value)
    } else {
        Err(OptimError::InvalidHyperParameter {
            name,
            value,
            expected: "a finite number >= 0",
        })
    }
}

/// Checks a learning rate (finite, > 0).
pub fn check_learning_rate(lr: f64) -> Result<f64, OptimError> {
    positive("learning rate", lr)
}

/// Index of the first non-finite component, as an error.
pub(crate) fn finite(context: &'static str, values: &[f64]) -> Result<(), OptimError> {
    match values.iter().position(|v| !v.is_finite()) {
        None => Ok(()),
        Some(component) => Err(OptimError::NonFinite { context, component }),
    }
}

/// Checks that a slice has the expected length.
pub(crate) fn same_len(
    context: &'static str,
    expected: usize,
    got: usize,
) -> Result<(), OptimError> {
    if expected == got {
        Ok(())
    } else {
        Err(OptimError::DimensionMismatch {
            context,
            expected,
            got,
        })
    }
}
