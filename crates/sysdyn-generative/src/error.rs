//! The crate's errors.

use sysdyn_core::jet::JetError;
use thiserror::Error;

/// What went wrong in a generative model, and how to fix it.
#[derive(Debug, Error)]
pub enum GenerativeError {
    /// Two tensors that must match (real and fake batches, logits) do not.
    #[error("{what}: shapes {left:?} and {right:?} differ; pass batches of the same shape")]
    ShapeMismatch {
        /// What was being compared.
        what: &'static str,
        /// The first shape.
        left: Vec<usize>,
        /// The second shape.
        right: Vec<usize>,
    },
    /// A batch with no rows.
    #[error("{what}: the batch is empty; pass at least one row")]
    EmptyBatch {
        /// What was empty.
        what: &'static str,
    },
    /// A hyper-parameter outside its valid range.
    #[error("{name} = {value} is invalid: {requirement}")]
    InvalidParameter {
        /// The parameter's name.
        name: &'static str,
        /// The value given.
        value: f64,
        /// What it must satisfy.
        requirement: &'static str,
    },
    /// A model cannot do what the configuration asks of it.
    #[error("not supported: {what}")]
    Unsupported {
        /// What is not supported, and what to use instead.
        what: &'static str,
    },
    /// The game analysis failed (a singular or non-finite Jacobian).
    #[error("game analysis: {0}")]
    Game(String),
    /// A critic's input derivative could not be computed by the jets.
    #[error("the critic's input gradient: {0}")]
    Jet(#[from] JetError),
    /// An ODE solve (the probability-flow ODE, its likelihood) failed.
    #[error("the ODE solve failed: {0}")]
    Solve(#[from] sysdyn_solvers::SolveError),
    /// An SDE solve (the reverse-time SDE, a predictor step) failed.
    #[error("the SDE solve failed: {0}")]
    Sde(#[from] sysdyn_solvers::sde::SdeError),
    /// An iteration (the fixed-point inverse of a residual flow) did not reach its tolerance
    /// within its budget; its last iterate is not returned, since it is not the answer.
    #[error(
        "{what} did not converge: change {change:e} after {iterations} iterations, tolerance \
         {tolerance:e}; raise the iteration budget or the tolerance, or lower the Lipschitz \
         constant"
    )]
    NotConverged {
        /// What was iterated.
        what: &'static str,
        /// Iterations made.
        iterations: usize,
        /// The last change between iterates (max-abs).
        change: f64,
        /// The tolerance asked for.
        tolerance: f64,
    },
    /// A neural ODE solve (a continuous normalizing flow) failed.
    #[error("the neural ODE failed: {0}")]
    Node(#[from] sysdyn_nodes::NodeError),
    /// A tensor's values could not be read back to the host (e.g. to assign codes).
    #[error("reading {what} back to the host failed: {reason}")]
    HostRead {
        /// What was being read.
        what: &'static str,
        /// The backend's message.
        reason: String,
    },
}

/// `Ok` when `value` is finite and positive.
pub(crate) fn check_positive(name: &'static str, value: f64) -> Result<(), GenerativeError> {
    if value.is_finite() && value > 0.0 {
        Ok(())
    } else {
        Err(GenerativeError::InvalidParameter {
            name,
            value,
            requirement: "must be finite and > 0",
        })
    }
}
