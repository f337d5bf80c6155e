//! The trapezoidal rule (Crank–Nicolson), order 2, A-stable but not L-stable.

use crate::implicit::tableau::DirkTableau;

/// The trapezoidal rule `y1 = y + h/2 (f(t, y) + f(t + h, y1))`: a two-stage ESDIRK. Its
/// embedded solution is forward Euler, so the error estimate (of order 1) is conservative. Stiff
/// components are not damped (`R(-∞) = -1`): they flip sign each step. Prefer
/// [`TRBDF2`](super::TRBDF2) or [`ESDIRK4`](super::ESDIRK4) for stiff problems.
pub const TRAPEZOID: DirkTableau = DirkTableau {
    name: "trapezoid",
    order: 2,
    embedded_order: Some(1),
    c: &[0.0, 1.0],
    a: &[&[0.0], &[0.5, 0.5]],
    b: &[0.5, 0.5],
    error: Some(&[-0.5, 0.5]),
};
