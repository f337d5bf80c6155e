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
//! - [`recovery`]: the recovery experiment (data from a reference solver, training, a held-out
//!   rollout) that the tests and the equation-discovery example share.
//!
//! ```
//! use sysdyn_physics::discovery::pdenet::{Derivative, MomentConstraint};
//! // u_xx on a 3 × 3 filter with every free moment zero: the classical [1, −2, 1] along x
//! // (rows are x), and u_xx to second order does not fit in 3 × 3 (needs 2 + 2 ≤ k).
//! let q = MomentConstraint::new(Derivative::new(2, 0), 1, 3)?.stencil()?;
//! let expected = [0.0, 1.0, 0.0, 0.0, -2.0, 0.0, 0.0, 1.0, 0.0];
//! assert!(q.iter().zip(expected).all(|(a, b)| (a - b).abs() < 1e-14));
//! assert!(MomentConstraint::new(Derivative::new(2, 0), 2, 3).is_err());
//! # Ok::<(), sysdyn_physics::PhysicsError>(())
//! ```

pub mod convection_diffusion;
pub mod derivatives;
pub mod model;
pub mod moment;
pub mod recovery;
pub mod step;
pub mod symnet;

pub use convection_diffusion::ConvectionDiffusion2d;
pub use derivatives::{FilterBank, periodic_pad};
pub use model::{PdeNet, PdeNetConfig};
pub use moment::{
    Derivative, MomentConstraint, MomentFilter, filter_from_moments, inverse_vandermonde,
    moments_of_filter, vandermonde,
};
pub use recovery::{HeldOutRollout, RecoveryConfig, ReferenceSolver, held_out_rollout};
pub use step::{HorizonSchedule, PdeNetStep, Regularisation, Trajectories};
pub use symnet::{Polynomial, ProductLayer, SymNet};
