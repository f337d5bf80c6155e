//! Errors shared by every crate: shape mismatches and device-policy violations.

use thiserror::Error;

/// Two states (or a state and a per-component tolerance) do not have the same shape.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("shape mismatch in {context}: expected {expected:?}, got {got:?}")]
pub struct ShapeMismatch {
    /// Where the mismatch was found, e.g. "per-component atol" or "vector field output".
    pub context: String,
    /// The shape that was required.
    pub expected: Vec<usize>,
    /// The shape that was given.
    pub got: Vec<usize>,
}

/// Errors of the device and precision policy and of other core facilities.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum CoreError {
    /// The backend was asked for at run time but its cargo feature was not compiled in.
    #[error(
        "backend `{backend}` was not compiled in; rebuild with `--features {backend}` \
         (compiled backends: {compiled})"
    )]
    BackendNotCompiled {
        /// The requested backend.
        backend: String,
        /// The backends this build has, comma separated.
        compiled: String,
    },
    /// A backend or precision name could not be parsed.
    #[error("unknown {what} `{given}`; expected one of: {expected}")]
    UnknownName {
        /// "backend" or "precision".
        what: &'static str,
        /// The text that was given.
        given: String,
        /// The accepted names.
        expected: &'static str,
    },
    /// f64 was requested on a backend where it is not reliable.
    #[error(
        "f64 is not supported on `{backend}`: GPU f64 transcendental functions are unreliable \
         there; use f32 on `{backend}`, or an f64-capable CPU backend (`flex`, `ndarray`)"
    )]
    PrecisionUnsupported {
        /// The backend.
        backend: String,
    },
    /// The device's default dtype was already fixed to another precision in this process.
    #[error(
        "the `{backend}` device's default float type is already {current:?} in this process and \
         cannot be changed to {requested:?}; create tensors with an explicit dtype \
         (`SysDevice::tensor_from`) instead of relying on the default"
    )]
    DefaultsAlreadySet {
        /// The backend.
        backend: String,
        /// The dtype it already has.
        current: String,
        /// The dtype requested.
        requested: String,
    },
    /// A shape mismatch.
    #[error(transparent)]
    Shape(#[from] ShapeMismatch),
}
