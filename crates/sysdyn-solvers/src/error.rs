//! Typed failures of a solve. Each carries the context a user needs to act on it.

use sysdyn_core::ShapeMismatch;
use sysdyn_core::tolerance::ToleranceError;
use thiserror::Error;

/// Why a solve could not start or did not finish.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum SolveError {
    /// The time span has a non-finite end.
    #[error("invalid time span [{t0}, {t1}]: both ends must be finite numbers")]
    InvalidTimeSpan {
        /// Start time.
        t0: f64,
        /// End time.
        t1: f64,
    },
    /// A tolerance is out of range.
    #[error("invalid tolerance: {0}")]
    InvalidTolerance(#[from] ToleranceError),
    /// A requested output time is not finite, outside the span, or out of order.
    #[error(
        "invalid output time ts[{index}] = {value}: {reason}; output times must be finite, inside \
         the time span and ordered in the direction of integration"
    )]
    InvalidOutputTimes {
        /// Index of the offending time.
        index: usize,
        /// The offending time.
        value: f64,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A step-size option is invalid (non-positive fixed step, min above max, ...).
    #[error("invalid step-size option: {0}")]
    InvalidStepOption(String),
    /// The first step given to an adaptive solve is not a finite positive size.
    #[error(
        "invalid first step {first_step}: the first step is a size, a finite positive number; \
         the direction of integration comes from the time span, forward or backward{}",
        if first_step.is_finite() && *first_step != 0.0 {
            format!(", so write `first_step({})`", first_step.abs())
        } else {
            String::new()
        }
    )]
    InvalidFirstStep {
        /// The first step that was given.
        first_step: f64,
    },
    /// A step size (fixed, first or largest allowed) is too small for f64 time to resolve at the
    /// times it would be taken: `t + step` would round back to about `t`.
    #[error(
        "{what} {step:e} is too small to move time at t = {t}: f64 time there resolves steps of \
         {min_step:e} and above (16 machine epsilons of |t|); use a larger step, or measure time \
         from an origin inside the span (e.g. t - {t}) so that small steps become representable"
    )]
    StepBelowTimeResolution {
        /// Which step option: "the fixed step", "the first step" or "the largest step (max_step)".
        what: &'static str,
        /// Its value.
        step: f64,
        /// The time at which it is too small.
        t: f64,
        /// The smallest step f64 time resolves there.
        min_step: f64,
    },
    /// The initial state has no components, so there is nothing to integrate.
    #[error(
        "the initial state has no components (shape {shape:?}); give a state with at least one \
         component"
    )]
    EmptyState {
        /// The shape of the state.
        shape: Vec<usize>,
    },
    /// An adaptive solve was asked of a method without an error estimate.
    #[error(
        "method `{method}` has no embedded error estimate, so it cannot adapt its step; use a \
         fixed step (`SolveConfig::fixed`) or an adaptive method such as Dopri5 or Tsit5"
    )]
    NotAdaptive {
        /// The method.
        method: &'static str,
    },
    /// The state (initial, or after a step) contains NaN or infinity.
    #[error(
        "non-finite state at t = {t} (component {component}{}); check the initial state and the \
         vector field, or reduce the step size",
        if let Some(h) = step { format!(", after a step of {h:e}") } else { String::new() }
    )]
    NonFiniteState {
        /// Time at which the non-finite state appeared.
        t: f64,
        /// First non-finite component (row-major index).
        component: usize,
        /// The step that produced it (`None` for the initial state).
        step: Option<f64>,
    },
    /// The step size fell below what f64 time can resolve at `t` (16 machine epsilons of `|t|`,
    /// or the `min_step` option if larger): the solution is probably blowing up or has a
    /// singularity near `t`.
    #[error(
        "step size underflow at t = {t}: step {h:e} is below the minimum {h_min:e} (last error \
         norm {error_norm:e}); the solution may blow up or be singular near t = {t}, or the \
         tolerances are too tight"
    )]
    StepSizeUnderflow {
        /// Time reached.
        t: f64,
        /// The step size that was too small.
        h: f64,
        /// The smallest step allowed.
        h_min: f64,
        /// The error norm of the last rejected step (NaN or infinite if the state overflowed).
        error_norm: f64,
    },
    /// The solve took `max_steps` steps without reaching the end.
    #[error(
        "maximum number of steps ({max_steps}) exceeded at t = {t} with step size {h:e}; \
         raise `max_steps`{}",
        if *stiff { ". The steps are limited by stability, not accuracy: the problem is stiff \
                     for this explicit method; use an implicit solver such as \
                     `sysdyn_solvers::implicit::ESDIRK4` (or `TRBDF2`)" } else { "" }
    )]
    MaxStepsExceeded {
        /// Time reached.
        t: f64,
        /// The step limit.
        max_steps: usize,
        /// The last step size.
        h: f64,
        /// Whether the failure looks like stiffness: steps limited by stability rather than
        /// accuracy (see [`crate::stiffness`]).
        stiff: bool,
    },
    /// The Newton matrix `I - hγJ` of an implicit fixed-step solve is singular at this step size.
    #[error(
        "the Newton matrix I - hγJ is singular at t = {t} with the fixed step {h:e}: the step \
         size meets an eigenvalue of the Jacobian (hγλ = 1); use another fixed step or an \
         adaptive solve (`SolveConfig::adaptive`), which steps around it"
    )]
    SingularNewtonMatrix {
        /// Time of the step.
        t: f64,
        /// The step size.
        h: f64,
    },
    /// A sparse Jacobian is inconsistent (pattern of the wrong size, an entry outside it).
    #[cfg(feature = "sparse")]
    #[error(transparent)]
    SparseJacobian(#[from] crate::sparse::SparseJacobianError),
    /// The vector field returned a state of a different shape than it was given.
    #[error(transparent)]
    Shape(#[from] ShapeMismatch),
}
