//! Normalizing flows: one [`Flow`] trait that every invertible layer implements and that
//! composes.
//!
//! A flow is an invertible map `f` from data `x` to latent `z = f(x)`. Its density is
//! `log p(x) = log p_Z(f(x)) + log|det ∂f/∂x|` (the change of variables), so every layer returns
//! its output *and* the log-determinant of its Jacobian, per row, in both directions:
//!
//! - [`Flow::forward`]: `x ↦ (z, log|det ∂z/∂x|)` — density evaluation and maximum likelihood;
//! - [`Flow::inverse`]: `z ↦ (x, log|det ∂x/∂z|)` — sampling and reverse-KL training.
//!
//! The two log-determinants of one point are negatives of each other. A flow over vectors is
//! `Flow<2>` (`[batch, features]`), over images `Flow<4>` (`[batch, channels, height, width]`).
//! A conditional flow takes a context `[batch, context_width]`; unconditional layers reject one
//! (they return [`GenerativeError::Unsupported`] when given a context they would ignore,
//! so a context is never silently dropped).

pub mod actnorm;
pub mod base;
pub mod chain;
mod checks;
pub mod cnf;
pub mod conv1x1;
pub mod coupling;
pub mod dequantise;
pub mod host;
mod host_adam;
pub mod iaf;
pub mod made;
pub mod maf;
pub mod model;
pub mod multiscale;
pub mod permutation;
pub mod residual;
pub mod revnet;
mod rows;
pub mod spline;
pub mod spline_autoregressive;
pub mod squeeze;
pub mod step;

use burn::module::Module;
use burn::tensor::Tensor;

use crate::error::GenerativeError;

/// A batch transformed by a flow layer, with the log-determinant of the layer's Jacobian at
/// each row (`[batch]`).
#[derive(Debug, Clone)]
pub struct Transformed<const D: usize> {
    /// The transformed batch, the same rank as the input.
    pub value: Tensor<D>,
    /// `log|det J|` of the map that was applied, one per row of the batch, `[batch]`.
    pub log_det: Tensor<1>,
}

/// An invertible layer with a tractable log-determinant: the one abstraction of every flow.
pub trait Flow<const D: usize>: Module {
    /// `z = f(x)` and `log|det ∂f/∂x|` per row (data → latent).
    fn forward(
        &self,
        x: Tensor<D>,
        context: Option<&Tensor<2>>,
    ) -> Result<Transformed<D>, GenerativeError>;

    /// `x = f⁻¹(z)` and `log|det ∂f⁻¹/∂z|` per row (latent → data).
    fn inverse(
        &self,
        z: Tensor<D>,
        context: Option<&Tensor<2>>,
    ) -> Result<Transformed<D>, GenerativeError>;

    /// The width of the context this layer takes (`[batch, width]`); 0 for an unconditional
    /// layer, which refuses a context. A composition hands its context only to the layers that
    /// take one (and refuses one when none does), so a conditional flow can mix conditional
    /// couplings with unconditional permutations, normalisations and squeezes. A conditional
    /// layer must override this.
    fn context_width(&self) -> usize {
        0
    }

    /// Data-dependent initialisation from a first batch `x` (Glow's ActNorm sets its bias and
    /// scale so that this batch leaves it with zero mean and unit variance). Layers without
    /// such an initialisation return themselves unchanged; a composition initialises each layer
    /// on the output of the (already initialised) layers before it.
    fn initialise(self, x: Tensor<D>, context: Option<&Tensor<2>>) -> Result<Self, GenerativeError>
    where
        Self: Sized,
    {
        let _ = (x, context);
        Ok(self)
    }
}
