//! The crate's errors.

use thiserror::Error;

/// What went wrong in a physics model, a simulator or an equation-discovery method, and how to
/// fix it.
#[derive(Debug, Error)]
pub enum PhysicsError {
    /// A grid too small for the operator or stencil applied to it.
    #[error("{what}: a grid of {got} points is too small; at least {needed} are needed")]
    GridTooSmall {
        /// What was applied.
        what: &'static str,
        /// The points given.
        got: usize,
        /// The points needed.
        needed: usize,
    },
    /// Two sizes that must agree (parameter vector and model, data and grid) do not.
    #[error("{what}: expected {expected}, got {got}")]
    SizeMismatch {
        /// What was compared.
        what: &'static str,
        /// The size the model expects.
        expected: usize,
        /// The size given.
        got: usize,
    },
    /// A parameter outside its valid range.
    #[error("{name} = {value} is invalid: {requirement}")]
    InvalidParameter {
        /// The parameter's name.
        name: &'static str,
        /// The value given.
        value: f64,
        /// What it must satisfy.
        requirement: &'static str,
    },
    /// Data with a NaN or infinite value.
    #[error("{what} contains a non-finite value at index {index}; clean or drop it first")]
    NonFinite {
        /// Which data.
        what: &'static str,
        /// The first non-finite position (flattened).
        index: usize,
    },
    /// Input that is empty where at least one element is needed.
    #[error("{what} is empty; pass at least one {unit}")]
    Empty {
        /// What was empty.
        what: &'static str,
        /// What one element is.
        unit: &'static str,
    },
    /// An environment without trajectories, where each environment must have at least one.
    #[error(
        "environment {env} has no trajectories; give every environment at least one, or drop \
         it from the environment list"
    )]
    EmptyEnvironment {
        /// The environment's index.
        env: usize,
    },
    /// Time stamps that are not uniformly spaced where a method needs a uniform step.
    #[error(
        "{what}: time stamps are not uniform (step {index} is {step}, the first is {first}); \\
         resample onto a uniform grid"
    )]
    NonUniformTimes {
        /// Which data.
        what: &'static str,
        /// The index of the first step that differs.
        index: usize,
        /// That step.
        step: f64,
        /// The first step.
        first: f64,
    },
    /// A simulation's ODE solve failed.
    #[error("the solve failed: {0}")]
    Solve(#[from] sysdyn_solvers::SolveError),
    /// A spectral operator failed.
    #[error("spectral operator: {0}")]
    Spectral(#[from] sysdyn_core::spectral::SpectralError),
    /// A network's input derivatives could not be computed by the jets.
    #[error("jet: {0}")]
    Jet(#[from] sysdyn_core::jet::JetError),
    /// Training failed in the runtime (divergence, checkpoint I/O).
    #[error("training: {0}")]
    Train(#[from] sysdyn_train::TrainError),
    /// A tensor's values could not be read back to the host.
    #[error("reading {what} to the host failed: {reason}")]
    HostRead {
        /// Which values.
        what: &'static str,
        /// The backend's reason.
        reason: String,
    },
    /// A data file could not be read.
    #[error("data: {0}")]
    Data(#[from] sysdyn_data::DataError),
    /// A linear solve (least squares, sparse LU) failed.
    #[error("linear algebra: {0}")]
    Linalg(String),
    /// An optimizer (L-BFGS) refused its settings or its start.
    #[error("optimizer: {0}")]
    Optim(#[from] sysdyn_optim::OptimError),
    /// The host MLP engine (the PINN fast path) refused a network or a buffer.
    #[error("host engine: {0}")]
    Engine(#[from] sysdyn_mlp::MlpError),
}
