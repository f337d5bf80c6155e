//! The masked autoregressive flow (MAF; Papamakarios et al. 2017): an affine autoregressive
//! layer whose shift and log-scale come from a [`Made`] applied to the *data*.
//!
//! Density (data → latent) is one parallel pass, every dimension at once:
//!
//! ```text
//! z_i = (x_i − μ_i(x_{<i})) · exp(−α_i(x_{<i})),        log|det ∂z/∂x| = −Σ_i α_i(x_{<i}),
//! ```
//!
//! the Jacobian being triangular in the order with diagonal `exp(−α_i)`. Sampling (latent →
//! data) inverts it one dimension at a time, `x_i = z_i · exp(α_i(x_{<i})) + μ_i(x_{<i})`:
//! `D` passes of the network, pass `k` fixing the dimension of degree `k` (every earlier one is
//! already exact), so after `D` passes the whole row is exact and the last pass's `α` gives
//! `log|det ∂x/∂z| = +Σ_i α_i(x_{<i})`. Stack MAF layers with permutations between them
//! (the flow chain) so every dimension gets to depend on every other.

use burn::module::Module;
use burn::tensor::Tensor;

use super::made::Made;
use super::{Flow, Transformed};
use crate::error::GenerativeError;

/// A masked autoregressive flow layer: parallel density, sequential sampling.
#[derive(Module, Debug)]
pub struct Maf {
    /// The conditioner, `(μ, α)` of `x`.
    pub made: Made,
}

impl Maf {
    /// A MAF layer around `made`.
    pub fn new(made: Made) -> Self {
        Maf { made }
    }
}

impl Flow<2> for Maf {
    fn forward(
        &self,
        x: Tensor<2>,
        context: Option<&Tensor<2>>,
    ) -> Result<Transformed<2>, GenerativeError> {
        let out = self.made.forward(x.clone(), context)?;
        let z = (x - out.shift) * out.log_scale.clone().neg().exp();
        let [batch, _] = z.dims();
        Ok(Transformed {
            value: z,
            log_det: out.log_scale.sum_dim(1).neg().reshape([batch]),
        })
    }

    fn inverse(
        &self,
        z: Tensor<2>,
        context: Option<&Tensor<2>>,
    ) -> Result<Transformed<2>, GenerativeError> {
        // Pass k makes the dimension of degree k exact: it depends only on degrees < k.
        let mut x = z.zeros_like();
        let mut log_scale = z.zeros_like();
        for _ in 0..self.made.features() {
            let out = self.made.forward(x, context)?;
            x = z.clone() * out.log_scale.clone().exp() + out.shift;
            log_scale = out.log_scale;
        }
        let [batch, _] = x.dims();
        Ok(Transformed {
            value: x,
            log_det: log_scale.sum_dim(1).reshape([batch]),
        })
    }
}
