//! The explicit midpoint method (modified Euler), order 2.

use crate::tableau::{ButcherTableau, ErrorEstimate};

/// Explicit midpoint: an Euler half step, then a full step with the slope at the midpoint.
pub const MIDPOINT: ButcherTableau = ButcherTableau {
    name: "midpoint",
    order: 2,
    embedded_order: None,
    c: &[0.0, 0.5],
    a: &[&[], &[0.5]],
    b: &[0.0, 1.0],
    error: ErrorEstimate::None,
    interpolant: None,
};
