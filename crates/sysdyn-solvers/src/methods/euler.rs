//! The explicit (forward) Euler method, order 1.

use crate::tableau::{ButcherTableau, ErrorEstimate};

/// Forward Euler: `y1 = y + h f(t, y)`.
pub const EULER: ButcherTableau = ButcherTableau {
    name: "euler",
    order: 1,
    embedded_order: None,
    c: &[0.0],
    a: &[&[]],
    b: &[1.0],
    error: ErrorEstimate::None,
    interpolant: None,
};
