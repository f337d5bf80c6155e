//! The explicit Runge–Kutta methods, one file of tableau data each.
//!
//! To add a method: write `methods/<name>.rs` with one `pub const` [`ButcherTableau`], export it
//! here and add it to [`ALL`]; the shared tests check its consistency, order conditions and
//! empirical convergence order.

use crate::tableau::ButcherTableau;

mod bosh3;
mod dop853;
mod dopri5;
mod euler;
mod heun;
mod midpoint;
mod ralston;
mod rk4;
mod tsit5;

pub use bosh3::BOSH3;
pub use dop853::DOP853;
pub use dopri5::DOPRI5;
pub use euler::EULER;
pub use heun::HEUN;
pub use midpoint::MIDPOINT;
pub use ralston::RALSTON;
pub use rk4::RK4;
pub use tsit5::TSIT5;

/// Every explicit method in the crate, by increasing order.
pub const ALL: &[&ButcherTableau] = &[
    &EULER, &MIDPOINT, &HEUN, &RALSTON, &BOSH3, &RK4, &DOPRI5, &TSIT5, &DOP853,
];
