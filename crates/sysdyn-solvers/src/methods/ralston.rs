//! Ralston's second-order method (Ralston 1962): the two-stage method of order 2 with the
//! smallest bound on the third-order error terms.

use crate::tableau::{ButcherTableau, ErrorEstimate};

/// Ralston: second stage at `c = 2/3`, weights `1/4, 3/4`.
pub const RALSTON: ButcherTableau = ButcherTableau {
    name: "ralston",
    order: 2,
    embedded_order: None,
    c: &[0.0, 2.0 / 3.0],
    a: &[&[], &[2.0 / 3.0]],
    b: &[0.25, 0.75],
    error: ErrorEstimate::None,
    interpolant: None,
};
