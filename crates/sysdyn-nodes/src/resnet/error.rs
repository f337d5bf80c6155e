//! Typed failures of the depth-as-time networks and their diagnostics. Each says what to change.

use thiserror::Error;

/// Why a residual or recurrent network could not be built, run or analysed.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum ResNetError {
    /// A parameter or input tensor has the wrong shape.
    #[error("{what} has shape {got:?} but {expected}; reshape it or build the network to match")]
    Shape {
        /// Which tensor.
        what: &'static str,
        /// What the network needs.
        expected: String,
        /// What it got.
        got: Vec<usize>,
    },
    /// The step size is not a positive finite number.
    #[error("the step size (depth spacing) h must be positive and finite, got {0}")]
    StepSize(f64),
    /// A network needs at least one layer.
    #[error("a network needs at least one layer; give parameters with a leading depth of N >= 1")]
    NoLayers,
    /// A value is out of range.
    #[error("invalid {what}: {reason}")]
    Invalid {
        /// Which value.
        what: &'static str,
        /// What is wrong with it and how to fix it.
        reason: String,
    },
    /// The eigenvalue routine failed (a non-finite matrix, or no convergence).
    #[error("eigenvalues of layer {layer}'s matrix: {reason}")]
    Eigen {
        /// Which layer.
        layer: usize,
        /// The routine's message.
        reason: String,
    },
}

pub(crate) fn shape_error(
    what: &'static str,
    expected: impl Into<String>,
    got: Vec<usize>,
) -> ResNetError {
    ResNetError::Shape {
        what,
        expected: expected.into(),
        got,
    }
}

pub(crate) fn check_step(h: f64) -> Result<(), ResNetError> {
    if h.is_finite() && h > 0.0 {
        Ok(())
    } else {
        Err(ResNetError::StepSize(h))
    }
}
