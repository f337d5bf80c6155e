//! The explicit Runge–Kutta methods, one file of tableau data each.
//!
//! To add a method: write `methods/<name>.rs` with one `pub const` [`ButcherTableau`], export it
//! here and add it to [`ALL`]; the shared tests check its consistency, order conditions and
//! empirical convergence order.

use crate::tableau::ButcherTableau;

mod dopri5;
mod euler;
mod rk4;

pub use dopri5::DOPRI5;
pub use euler::EULER;
pub use rk4::RK4;

/// Every explicit method in the crate.
pub const ALL: &[&ButcherTableau] = &[&EULER, &RK4, &DOPRI5];
