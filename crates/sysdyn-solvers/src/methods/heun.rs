//! Heun's method (explicit trapezoidal rule), order 2, with the embedded forward Euler solution
//! as its error estimate (the Heun–Euler 2(1) pair).

use crate::tableau::{ButcherTableau, ErrorEstimate};

/// Heun: the average of the slopes at the start and at an Euler predictor of the end point.
pub const HEUN: ButcherTableau = ButcherTableau {
    name: "heun",
    order: 2,
    embedded_order: Some(1),
    c: &[0.0, 1.0],
    a: &[&[], &[1.0]],
    b: &[0.5, 0.5],
    // b - b̂ with b̂ = (1, 0), forward Euler.
    error: ErrorEstimate::Embedded(&[-0.5, 0.5]),
    interpolant: None,
};
