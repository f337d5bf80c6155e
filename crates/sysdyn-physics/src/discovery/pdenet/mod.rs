//! PDE-Net 2.0 (Long, Lu & Dong 2019): learning a PDE from data with a numeric–symbolic
//! network, on burn tensors (flex, ndarray, wgpu).
//!
//! - [`moment`]: filters whose moment matrix is partly frozen so that each approximates a
//!   chosen derivative to a chosen order; the exact map between filters and moments.
//! - [`derivatives`]: a bank of such filters applied to periodic fields.
//! - [`symnet`]: SymNet, the network of products, and its expansion into a printable
//!   polynomial.
//! - [`model`]: the δt-block `u + δt · SymNet(u, ∂u, …)` and its rollout.
//! - [`step`]: training with a growing rollout horizon and ℓ1 penalties on sysdyn-train.
//! - [`convection_diffusion`]: exact periodic solutions of `u_t = a u_x + b u_y + ν Δu`, the
//!   reference data.

pub mod convection_diffusion;
pub mod derivatives;
pub mod model;
pub mod moment;
pub mod step;
pub mod symnet;

pub use convection_diffusion::ConvectionDiffusion2d;
pub use derivatives::{FilterBank, periodic_pad};
pub use model::{PdeNet, PdeNetConfig};
pub use moment::{
    Derivative, MomentConstraint, MomentFilter, filter_from_moments, inverse_vandermonde,
    moments_of_filter, vandermonde,
};
pub use step::{HorizonSchedule, PdeNetStep, Regularisation, Trajectories};
pub use symnet::{Polynomial, ProductLayer, SymNet};
