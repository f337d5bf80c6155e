//! Deep residual networks as discretised ODEs (Haber & Ruthotto 2017).
//!
//! A residual block `Y_{j+1} = Y_j + h σ(Y_j K_j + b_j)` is a forward Euler step of
//! `dY/dt = σ(Y K(t) + b(t))` with the layers as samples of `K(t)`, `b(t)` at `t_j = j h`. That
//! view gives:
//!
//! - blocks from other schemes ([`BlockScheme`]: midpoint, RK4, Adams–Bashforth 2, leapfrog);
//! - architectures whose continuous dynamics are stable by construction: antisymmetric layer
//!   matrices ([`WeightForm::Antisymmetric`]), the second-order Hamiltonian network
//!   ([`HamiltonianNet`], `K = −CᵀC`, leapfrog) and the two-stream [`VerletNet`], which is exactly
//!   invertible;
//! - [`ConvResNet`]: blocks on images whose layer operator is a 3×3 convolution over channels
//!   (free or antisymmetric);
//! - regularisers in depth ([`regularise`]) and multi-level training: `prolong` doubles the
//!   depth, halves `h` and interpolates the parameters, so the refined network computes the same
//!   function up to discretisation error;
//! - [`stability`] diagnostics: layer spectra, the forward Euler condition, perturbation growth.

pub mod conv;
mod depth;
pub mod error;
pub mod hamiltonian;
pub mod network;
pub mod regularise;
pub mod stability;

use burn::tensor::Tensor;

pub use conv::ConvResNet;
pub use error::ResNetError;
pub use hamiltonian::{HamiltonianNet, TwoStream, VerletNet};
pub use network::{BlockScheme, ResNet, WeightForm};
pub use regularise::{smoothness_in_depth, weight_decay};
pub use stability::{
    eigenvalues, forward_euler_amplification, forward_euler_stable, layer_spectra,
    perturbation_growth, spread,
};
/// Eigenvalues are complex numbers (from the small dense eigenvalue routine of
/// `sysdyn_core::linalg`).
pub use sysdyn_core::linalg::Complex;

/// What the regularisers and diagnostics need of a depth-as-time network.
pub trait DepthNetwork {
    /// Depth spacing `h`.
    fn step_size(&self) -> f64;
    /// Every depth-indexed parameter as an `[N, a, b]` stack (vectors as `[N, 1, n]`).
    fn parameter_stacks(&self) -> Vec<Tensor<3>>;
    /// The square matrices whose spectra govern each layer's linearised dynamics.
    fn layer_matrices(&self) -> Vec<Tensor<2>>;
    /// The states `Y_0, …, Y_N` of a batch (the main stream for two-stream networks, whose
    /// companion starts at zero).
    fn states(&self, y0: Tensor<2>) -> Result<Vec<Tensor<2>>, ResNetError>;
}

impl DepthNetwork for ResNet {
    fn step_size(&self) -> f64 {
        ResNet::step_size(self)
    }
    fn parameter_stacks(&self) -> Vec<Tensor<3>> {
        ResNet::parameter_stacks(self)
    }
    fn layer_matrices(&self) -> Vec<Tensor<2>> {
        ResNet::layer_matrices(self)
    }
    fn states(&self, y0: Tensor<2>) -> Result<Vec<Tensor<2>>, ResNetError> {
        self.trajectory(y0)
    }
}

impl DepthNetwork for HamiltonianNet {
    fn step_size(&self) -> f64 {
        HamiltonianNet::step_size(self)
    }
    fn parameter_stacks(&self) -> Vec<Tensor<3>> {
        HamiltonianNet::parameter_stacks(self)
    }
    fn layer_matrices(&self) -> Vec<Tensor<2>> {
        HamiltonianNet::layer_matrices(self)
    }
    fn states(&self, y0: Tensor<2>) -> Result<Vec<Tensor<2>>, ResNetError> {
        self.trajectory(y0)
    }
}

impl DepthNetwork for VerletNet {
    fn step_size(&self) -> f64 {
        VerletNet::step_size(self)
    }
    fn parameter_stacks(&self) -> Vec<Tensor<3>> {
        VerletNet::parameter_stacks(self)
    }
    fn layer_matrices(&self) -> Vec<Tensor<2>> {
        VerletNet::layer_matrices(self)
    }
    fn states(&self, y0: Tensor<2>) -> Result<Vec<Tensor<2>>, ResNetError> {
        Ok(self.trajectory(y0, None)?.ys)
    }
}
