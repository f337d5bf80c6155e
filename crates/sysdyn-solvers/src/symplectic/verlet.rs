//! Störmer–Verlet (leapfrog), order 2, in its two forms.

use super::{SplittingMethod, SubStep};

/// Velocity Verlet (kick-drift-kick): `p ← p + h/2 F(q)`, `q ← q + h v(p)`, `p ← p + h/2 F(q)`.
/// The closing force evaluation is reused by the next step's opening kick, so a step costs one
/// force and one velocity evaluation.
pub const VELOCITY_VERLET: SplittingMethod = SplittingMethod {
    name: "velocity_verlet",
    order: 2,
    first: SubStep::Kick,
    coefficients: &[0.5, 1.0, 0.5],
};

/// Position Verlet (drift-kick-drift): `q ← q + h/2 v(p)`, `p ← p + h F(q)`,
/// `q ← q + h/2 v(p)`.
pub const POSITION_VERLET: SplittingMethod = SplittingMethod {
    name: "position_verlet",
    order: 2,
    first: SubStep::Drift,
    coefficients: &[0.5, 1.0, 0.5],
};
