//! Yoshida's fourth-order composition (Yoshida 1990; also Forest & Ruth): three velocity-Verlet
//! steps of sizes `w1 h`, `w0 h`, `w1 h` with `w1 = 1/(2 - 2^{1/3})` and
//! `w0 = -2^{1/3}/(2 - 2^{1/3})`, so that the third-order error terms cancel. Symmetric, hence
//! time-reversible.

use super::{SplittingMethod, SubStep};

/// `w1 = 1 / (2 - 2^{1/3})`.
const W1: f64 = 1.351_207_191_959_657_6;
/// `w0 = -2^{1/3} / (2 - 2^{1/3}) = 1 - 2 w1`.
const W0: f64 = -1.702_414_383_919_315_3;

/// Yoshida's 4th-order method as kick-drift sub-steps: the adjacent half kicks of the composed
/// Verlet steps merge, leaving four kicks and three drifts per step.
pub const YOSHIDA4: SplittingMethod = SplittingMethod {
    name: "yoshida4",
    order: 4,
    first: SubStep::Kick,
    coefficients: &[
        W1 / 2.0,
        W1,
        (W0 + W1) / 2.0,
        W0,
        (W0 + W1) / 2.0,
        W1,
        W1 / 2.0,
    ],
};
