//! The inverse autoregressive flow (IAF; Kingma et al. 2016): the affine autoregressive layer
//! whose [`Made`] reads the *latent*, so that sampling is parallel and density sequential — the
//! mirror image of [`super::maf`].
//!
//! Sampling (latent → data), one parallel pass:
//!
//! ```text
//! x_i = z_i · exp(α_i(z_{<i})) + μ_i(z_{<i}),        log|det ∂x/∂z| = Σ_i α_i(z_{<i}).
//! ```
//!
//! Density (data → latent) recovers `z` one dimension at a time,
//! `z_i = (x_i − μ_i(z_{<i})) · exp(−α_i(z_{<i}))`: `D` passes, pass `k` fixing the dimension of
//! degree `k`, and `log|det ∂z/∂x| = −Σ_i α_i(z_{<i})` from the last pass. IAF suits
//! reverse-KL training and variational posteriors (fast sampling, with the density of its own
//! samples known from the same pass).

use burn::module::Module;
use burn::tensor::Tensor;

use super::made::Made;
use super::{Flow, Transformed};
use crate::error::GenerativeError;

/// An inverse autoregressive flow layer: parallel sampling, sequential density.
#[derive(Module, Debug)]
pub struct Iaf {
    /// The conditioner, `(μ, α)` of `z`.
    pub made: Made,
}

impl Iaf {
    /// An IAF layer around `made`.
    pub fn new(made: Made) -> Self {
        Iaf { made }
    }
}

impl Flow<2> for Iaf {
    fn forward(
        &self,
        x: Tensor<2>,
        context: Option<&Tensor<2>>,
    ) -> Result<Transformed<2>, GenerativeError> {
        // Pass k makes the latent dimension of degree k exact: it depends only on degrees < k.
        let mut z = x.zeros_like();
        let mut log_scale = x.zeros_like();
        for _ in 0..self.made.features() {
            let out = self.made.forward(z, context)?;
            z = (x.clone() - out.shift) * out.log_scale.clone().neg().exp();
            log_scale = out.log_scale;
        }
        let [batch, _] = z.dims();
        Ok(Transformed {
            value: z,
            log_det: log_scale.sum_dim(1).neg().reshape([batch]),
        })
    }

    fn inverse(
        &self,
        z: Tensor<2>,
        context: Option<&Tensor<2>>,
    ) -> Result<Transformed<2>, GenerativeError> {
        let out = self.made.forward(z.clone(), context)?;
        let x = z * out.log_scale.clone().exp() + out.shift;
        let [batch, _] = x.dims();
        Ok(Transformed {
            value: x,
            log_det: out.log_scale.sum_dim(1).reshape([batch]),
        })
    }
}
