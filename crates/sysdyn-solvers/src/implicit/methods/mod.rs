//! The implicit methods, one file of tableau data each.
//!
//! To add a method: write `methods/<name>.rs` with one `pub const` [`DirkTableau`], export it
//! here and add it to [`ALL`]; the shared tests check its structure, order conditions,
//! stability and empirical convergence order.

use super::tableau::DirkTableau;

mod backward_euler;
mod esdirk4;
mod trapezoid;
mod trbdf2;

pub use backward_euler::BACKWARD_EULER;
pub use esdirk4::ESDIRK4;
pub use trapezoid::TRAPEZOID;
pub use trbdf2::TRBDF2;

/// Every implicit method in the crate.
pub const ALL: &[&DirkTableau] = &[&BACKWARD_EULER, &TRAPEZOID, &TRBDF2, &ESDIRK4];
