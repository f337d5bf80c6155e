//! The classical fourth-order Runge–Kutta method.

use crate::tableau::{ButcherTableau, ErrorEstimate};

/// Classical RK4 (Kutta 1901): nodes 0, ½, ½, 1 and weights ⅙, ⅓, ⅓, ⅙.
pub const RK4: ButcherTableau = ButcherTableau {
    name: "rk4",
    order: 4,
    embedded_order: None,
    c: &[0.0, 0.5, 0.5, 1.0],
    a: &[&[], &[0.5], &[0.0, 0.5], &[0.0, 0.0, 1.0]],
    b: &[1.0 / 6.0, 1.0 / 3.0, 1.0 / 3.0, 1.0 / 6.0],
    error: ErrorEstimate::None,
    interpolant: None,
};
