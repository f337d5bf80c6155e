//! Bogacki–Shampine 3(2) (Bogacki & Shampine 1989), the method of MATLAB's ode23 and diffrax's
//! `Bosh3`: four stages with first-same-as-last, so three evaluations per step.
//!
//! Its dense output is the cubic Hermite interpolant through the step's end points and slopes
//! (the generic fallback), which is third order like the method itself.

use crate::tableau::{ButcherTableau, ErrorEstimate};

/// Bogacki–Shampine 3(2).
pub const BOSH3: ButcherTableau = ButcherTableau {
    name: "bosh3",
    order: 3,
    embedded_order: Some(2),
    c: &[0.0, 0.5, 0.75, 1.0],
    a: &[
        &[],
        &[0.5],
        &[0.0, 0.75],
        &[2.0 / 9.0, 1.0 / 3.0, 4.0 / 9.0],
    ],
    b: &[2.0 / 9.0, 1.0 / 3.0, 4.0 / 9.0, 0.0],
    // b - b̂, with b̂ = (7/24, 1/4, 1/3, 1/8) the second-order weights.
    error: ErrorEstimate::Embedded(&[-5.0 / 72.0, 1.0 / 12.0, 1.0 / 9.0, -1.0 / 8.0]),
    interpolant: None,
};
