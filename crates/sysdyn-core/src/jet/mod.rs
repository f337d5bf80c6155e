//! Forward-mode derivatives of networks with respect to their input ("jets").
//!
//! burn's autodiff is first order: it gives the gradient of a loss with respect to parameters,
//! but not derivatives of a network's *output with respect to its input* that the loss itself
//! contains: PINN residuals (`u_x`, `u_xx`), the exact trace `tr(∂f/∂z)` of a continuous
//! normalising flow, gradient penalties, Hamiltonian fields `∂H/∂q`. These are computed here by
//! forward-mode propagation: each layer moves the value together with its tangents (and
//! second-order terms) as ordinary tensor ops, so burn's autodiff then differentiates the
//! result with respect to the parameters like any other loss.
//!
//! - [`Jet`]: a batch of values with `k` stacked tangents and optional second-order terms;
//!   seeded with [`Jet::coordinates`] (unit vectors: Jacobians, traces, Hessian diagonals,
//!   Laplacians) or [`Jet::directions`] (Jacobian-vector products), moved with [`Jet::linear`]
//!   and [`Jet::activate`], read with [`Jet::jacobian`], [`Jet::trace`],
//!   [`Jet::hessian_diagonal`], [`Jet::laplacian`], [`Jet::second_order`].
//! - [`SecondOrder`]: diagonal terms `v_iᵀ H v_i`, or mixed terms `v_aᵀ H v_c` for listed pairs.
//! - [`Activation`]: tanh, sigmoid, softplus, SiLU, sin, ReLU (first order only: its second
//!   derivative is zero almost everywhere) and the identity, each with σ' and σ'' written from
//!   σ's value.
//! - [`JetForward`]: implement `forward_jet` for a network and get [`JetForward::jvp`],
//!   [`JetForward::jacobian`], [`JetForward::divergence`], [`JetForward::hessian_diagonal`] and
//!   [`JetForward::laplacian`].
//! - [`Mlp`] / [`MlpConfig`]: a burn module whose `forward` and `forward_jet` share parameters.
//!
//! Inputs of the form `[z, t]` (a time-dependent field) are handled by seeding only the `z`
//! columns: `..d`. The `t` column then has zero tangent and is held fixed.
//!
//! Cost: one pass carries all `k` directions in stacked `[k, batch, width]` tensors, so each
//! layer costs one matmul per derivative order regardless of `k`; see [`Jet`] for op counts.
//! Full Jacobians, traces and Laplacians need `k` = number of differentiated columns, which
//! suits small inputs (a PINN's coordinates, a low-dimensional ODE state).
//!
//! ```
//! use sysdyn_core::device::{Backend, DeviceSpec, Precision};
//! use sysdyn_core::jet::{Activation, JetForward, MlpConfig};
//!
//! let device = DeviceSpec::new(Backend::Flex, Precision::F64).init()?;
//! // f(z, t) with z in R^2: input [z, t] of width 3, output of width 2.
//! let field = MlpConfig::new(vec![3, 16, 2])
//!     .with_activation(Activation::Tanh)
//!     .init_seeded(&device, 7)?;
//! let x = device.tensor(vec![0.1, -0.2, 0.5, 0.3, 0.4, 0.5], [2, 3])?;
//! let div = field.divergence(x.clone(), ..2)?; // tr(∂f/∂z): [2, 1]
//! let jac = field.jacobian(x.clone(), ..)?; // [2, 2, 3]
//! let lap = field.laplacian(x, ..2)?; // Δ_z f: [2, 2]
//! assert_eq!(div.dims(), [2, 1]);
//! assert_eq!(jac.dims(), [2, 2, 3]);
//! assert_eq!(lap.dims(), [2, 2]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod activation;
mod error;
mod mlp;
mod model;
mod propagation;

pub use activation::Activation;
pub use error::JetError;
pub use mlp::{Mlp, MlpConfig};
pub use model::JetForward;
pub use propagation::{Jet, SecondOrder};
