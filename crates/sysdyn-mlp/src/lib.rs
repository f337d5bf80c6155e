//! One fast engine for MLP-shaped networks on the CPU.
//!
//! An [`Mlp`] is a stack of affine layers `y = x W + b` (`W` row-major `[fan_in, fan_out]`,
//! burn's `Linear` layout) with an [`Activation`] after every layer but the last, held in host
//! memory in `f32` or `f64` ([`Float`]). On it, each as one fused pass over a batch split across
//! the rayon pool:
//!
//! - [`Mlp::forward`], and [`Mlp::forward_taped`] with [`Mlp::backward`]: parameter gradients
//!   and the input vector–Jacobian product;
//! - forward-mode jets: [`Mlp::jacobian`], [`Mlp::trace`] (a CNF's exact divergence),
//!   [`Mlp::laplacian`] (a PINN's second derivatives);
//! - [`Mlp::forward_trace_taped`] with [`Mlp::backward_trace`]: the output and the trace in one
//!   pass, and their vector–Jacobian product with respect to the parameters and the input;
//! - [`Mlp::second_order_jet_taped`] with [`Mlp::backward_second_order`]: the output, its first
//!   derivatives and listed second derivatives (diagonal or mixed) in one stacked pass, and the
//!   gradient of any loss of those channels (a PINN's residual on the host);
//!   [`Mlp::second_order_jet_retaped`] reuses an earlier tape's buffers.
//!
//! The kernels are chosen once at run time ([`kernel_path`]): on CPUs with AVX2 and FMA (or
//! AVX-512 on top, [`KernelPath::Avx512`]), the `gemm` crate for the hidden layers' products,
//! hand-written direct loops (compiled with AVX2/FMA or AVX-512) for the thin products from and
//! to a low-dimensional state, and vectorised f32 tanh and sigmoid; elsewhere, or with
//! `SYSDYN_PORTABLE_KERNELS=1`, portable hand-written kernels. [`Mlp::forward_taped_serial`]
//! runs a taped pass on the caller's thread, for callers that split the rows themselves. Results agree to rounding either way. With the default `burn` feature, the [`burn`] module copies a burn
//! `Linear` stack to the host, moves tensors in and out, and recognises the CPU devices where
//! that pays ([`crate::burn::is_cpu_device`]).
//!
//! ```
//! use sysdyn_mlp::{Activation, Mlp};
//!
//! // 2 → 3 → 1 with tanh: weights row-major [fan_in, fan_out], then the bias.
//! let params = [
//!     0.5, -0.3, 0.8, 0.1, 0.4, -0.6, // W0
//!     0.0, 0.1, -0.1, // b0
//!     1.0, -2.0, 0.5, // W1
//!     0.2, // b1
//! ];
//! let mlp = Mlp::<f64>::from_flat(&[2, 3, 1], &params, true, Activation::Tanh)?;
//! let x = [0.3, -0.7, 1.0, 0.5]; // two rows
//! let (y, tape) = mlp.forward_taped(&x, 2)?;
//! let grads = mlp.backward(&tape, &[1.0, 1.0])?; // d(y0 + y1)
//! assert_eq!(y.len(), 2);
//! assert_eq!(grads.params.len(), mlp.num_params());
//! assert_eq!(grads.input.len(), 4);
//! let jac = mlp.jacobian(&x, 2, ..)?; // [2, 1, 2]
//! let lap = mlp.laplacian(&x, 2, ..)?; // [2, 1]
//! // ∂y/∂x equals the input gradient of Σ y.
//! for (a, b) in jac.iter().zip(&grads.input) {
//!     assert!((a - b).abs() < 1e-15);
//! }
//! assert_eq!(lap.len(), 2);
//! # Ok::<(), sysdyn_mlp::MlpError>(())
//! ```

#![warn(missing_docs)]

mod activation;
#[cfg(feature = "burn")]
pub mod burn;
mod error;
mod float;
mod jets;
mod jets2;
mod kernels;
mod mlp;

pub use activation::Activation;
pub use error::MlpError;
pub use float::Float;
pub use jets::{TraceTape, ValueAndTrace};
pub use jets2::{SecondOrderJet, SecondOrderTape};
#[doc(hidden)]
pub use kernels::hand_written_gemm;
pub use kernels::{KernelPath, PORTABLE_ENV, kernel_path};
pub use mlp::{Gradients, Layer, Mlp, Tape};
