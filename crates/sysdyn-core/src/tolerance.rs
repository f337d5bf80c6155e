//! Relative and absolute tolerances, scalar or per component.
//!
//! The error an adaptive solver controls is the weighted RMS norm
//! `sqrt(mean_i (e_i / (atol_i + rtol_i * max(|y0_i|, |y1_i|)))^2)`, computed by
//! [`State::weighted_rms_norm`]. A step is accepted when this is
//! at most one.

use thiserror::Error;

use crate::{ShapeMismatch, State};

/// One tolerance: the same for every component, or one value per component (a state of the same
/// shape as the solution).
#[derive(Debug, Clone, PartialEq)]
pub enum Tol<S> {
    /// The same value for every component.
    Scalar(f64),
    /// One value per component, laid out like the state.
    PerComponent(S),
}

impl<S> From<f64> for Tol<S> {
    fn from(value: f64) -> Self {
        Tol::Scalar(value)
    }
}

/// Relative and absolute tolerance of an adaptive solve.
#[derive(Debug, Clone, PartialEq)]
pub struct Tolerance<S> {
    /// Relative tolerance: must be positive.
    pub rtol: Tol<S>,
    /// Absolute tolerance: must be non-negative.
    pub atol: Tol<S>,
}

/// Why a tolerance was rejected.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum ToleranceError {
    /// A relative tolerance that is not positive and finite.
    #[error(
        "rtol must be positive and finite, got {value} (component {component:?}); \
         typical values are 1e-3 to 1e-10"
    )]
    Rtol {
        /// The offending value.
        value: f64,
        /// Its component, for a per-component tolerance.
        component: Option<usize>,
    },
    /// A relative tolerance below what f64 arithmetic can deliver.
    #[error(
        "rtol = {value:e} is below what f64 arithmetic can achieve (minimum {min:e}); \
         use at least {min:e}"
    )]
    RtolTooSmall {
        /// The offending value.
        value: f64,
        /// The smallest accepted value.
        min: f64,
    },
    /// An absolute tolerance that is negative or not finite.
    #[error(
        "atol must be non-negative and finite, got {value} (component {component:?}); \
         use 0 for pure relative control"
    )]
    Atol {
        /// The offending value.
        value: f64,
        /// Its component, for a per-component tolerance.
        component: Option<usize>,
    },
    /// A per-component tolerance whose shape differs from the state's.
    #[error(transparent)]
    Shape(#[from] ShapeMismatch),
}

/// The smallest relative tolerance accepted: below about 100 ulps the error estimate is rounding
/// noise and step-size control cannot converge.
pub const MIN_RTOL: f64 = 100.0 * f64::EPSILON;

impl<S> Tolerance<S> {
    /// Scalar tolerances.
    pub fn new(rtol: f64, atol: f64) -> Self {
        Tolerance {
            rtol: Tol::Scalar(rtol),
            atol: Tol::Scalar(atol),
        }
    }

    /// Tolerances that may be per component, e.g. `Tolerance::per_component(1e-6, atol_vector)`.
    pub fn with(rtol: impl Into<Tol<S>>, atol: impl Into<Tol<S>>) -> Self {
        Tolerance {
            rtol: rtol.into(),
            atol: atol.into(),
        }
    }
}

impl<S: State> Tolerance<S> {
    /// Checks the tolerances against a state `y` of the solution's shape.
    pub fn validate(&self, y: &S) -> Result<(), ToleranceError> {
        check_tol(&self.rtol, y, "per-component rtol", |value, component| {
            if !(value.is_finite() && value > 0.0) {
                Err(ToleranceError::Rtol { value, component })
            } else if value < MIN_RTOL {
                Err(ToleranceError::RtolTooSmall {
                    value,
                    min: MIN_RTOL,
                })
            } else {
                Ok(())
            }
        })?;
        check_tol(&self.atol, y, "per-component atol", |value, component| {
            if value.is_finite() && value >= 0.0 {
                Ok(())
            } else {
                Err(ToleranceError::Atol { value, component })
            }
        })
    }
}

fn check_tol<S: State>(
    tol: &Tol<S>,
    y: &S,
    context: &str,
    check: impl Fn(f64, Option<usize>) -> Result<(), ToleranceError>,
) -> Result<(), ToleranceError> {
    match tol {
        Tol::Scalar(value) => check(*value, None),
        Tol::PerComponent(values) => {
            if values.shape() != y.shape() {
                return Err(ShapeMismatch {
                    context: context.to_string(),
                    expected: y.shape(),
                    got: values.shape(),
                }
                .into());
            }
            values
                .to_f64_vec()
                .into_iter()
                .enumerate()
                .try_for_each(|(i, v)| check(v, Some(i)))
        }
    }
}
