//! Backward (implicit) Euler, order 1, L-stable.

use crate::implicit::tableau::DirkTableau;

/// Backward Euler `y1 = y + h f(t + h, y1)`, written as a two-stage ESDIRK whose explicit first
/// stage `f(t, y)` (known from the last step) gives an embedded forward-Euler solution: the error
/// estimate `h (f(t + h, y1) - f(t, y))` costs nothing extra.
pub const BACKWARD_EULER: DirkTableau = DirkTableau {
    name: "backward_euler",
    order: 1,
    embedded_order: Some(1),
    c: &[0.0, 1.0],
    a: &[&[0.0], &[0.0, 1.0]],
    b: &[0.0, 1.0],
    error: Some(&[-1.0, 1.0]),
};
