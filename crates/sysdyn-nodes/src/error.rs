//! Typed failures of neural-ODE solves, gradients and flows. Each says what to change.

use sysdyn_core::ShapeMismatch;
use sysdyn_core::jet::JetError;
use sysdyn_solvers::SolveError;
use thiserror::Error;

/// Why a neural-ODE solve, its gradient or a flow computation could not be done.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum NodeError {
    /// The output times are too few, not finite, or not strictly monotone.
    #[error(
        "invalid output times: {reason}; give at least two finite times, strictly increasing \
         (or strictly decreasing to integrate backwards), the first being the initial time"
    )]
    Times {
        /// What is wrong with them.
        reason: String,
    },
    /// The initial state is not a `[batch, dim]` tensor the field accepts.
    #[error(transparent)]
    Shape(#[from] ShapeMismatch),
    /// The forward or backward solve failed.
    #[error("{phase} solve failed: {source}")]
    Solve {
        /// "forward", "adjoint" or "checkpoint replay".
        phase: &'static str,
        /// The solver's error.
        #[source]
        source: SolveError,
    },
    /// A gradient was asked of a field whose parameters do not record gradients.
    #[error(
        "the vector field's parameters are not on an autodiff device or do not require \
         gradients, so {what} cannot be computed; build the module on `device.autodiff()` \
         (e.g. `DeviceSpec::with_autodiff(true)`) and keep it in training mode"
    )]
    NotTrainable {
        /// What was asked for.
        what: &'static str,
    },
    /// `backward` was given a loss that does not depend on the trajectory through autodiff.
    #[error(
        "the loss is not tracked by autodiff; compute it from the trajectory's states \
         (`Trajectory::states`) on an autodiff device"
    )]
    UntrackedLoss,
    /// An option of the gradient method is out of range.
    #[error("invalid option: {0}")]
    Option(String),
    /// A jet (exact trace or Jacobian-vector product) could not be formed.
    #[error(transparent)]
    Jet(#[from] JetError),
    /// Observations of an irregularly sampled series are malformed (see [`crate::latent`]).
    #[error(
        "invalid observations: {reason}; give `batch × times × dim` values, a `batch × times` \
         mask, and finite values wherever the mask marks an observation"
    )]
    Observations {
        /// What is wrong with them.
        reason: String,
    },
}

impl NodeError {
    pub(crate) fn forward(source: SolveError) -> Self {
        NodeError::Solve {
            phase: "forward",
            source,
        }
    }

    pub(crate) fn adjoint(source: SolveError) -> Self {
        NodeError::Solve {
            phase: "adjoint",
            source,
        }
    }
}
