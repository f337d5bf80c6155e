//! TR-BDF2 (Bank et al. 1985; Hosea & Shampine 1996), order 2 with an order-3 error estimate,
//! L-stable: a trapezoidal step to `t + γh`, then BDF2 through `t`, `t + γh` and `t + h`.

use crate::implicit::tableau::DirkTableau;

/// `γ = 2 - √2`: both stages then share the diagonal `d = γ/2` (one factorisation).
const D: f64 = 1.0 - std::f64::consts::FRAC_1_SQRT_2;
/// `w = √2 / 4`.
const W: f64 = std::f64::consts::SQRT_2 / 4.0;

/// TR-BDF2 as a three-stage, stiffly accurate ESDIRK, with Hosea and Shampine's third-order
/// embedded weights `b̂ = ((1 - w)/3, (3w + 1)/3, d/3)`.
pub const TRBDF2: DirkTableau = DirkTableau {
    name: "trbdf2",
    order: 2,
    embedded_order: Some(3),
    c: &[0.0, 2.0 * D, 1.0],
    a: &[&[0.0], &[D, D], &[W, W, D]],
    b: &[W, W, D],
    error: Some(&[W - (1.0 - W) / 3.0, W - (3.0 * W + 1.0) / 3.0, D - D / 3.0]),
};
