//! The exact noise predictor of Gaussian-mixture data: the minimiser of the simple loss is
//! `ε*(x_t, t) = E[ε | x_t] = −σ_t ∇ log p_t(x_t)` (Tweedie), with `σ_t = √(1 − ᾱ_t)` and
//! `p_t` the mixture noised with `m = √ᾱ_t`, `s = σ_t` ([`GaussianMixture::score`]). Samplers
//! run with it reproduce the data up to their discretisation error alone.

use burn::tensor::Tensor;

use crate::diffusion::sampler::NoisePredictor;
use crate::diffusion::schedule::NoiseSchedule;
use crate::error::GenerativeError;
use crate::host::{host_tensor, host_values};
use crate::mixture::GaussianMixture;

/// `ε*(x, t) = −σ_t ∇ log p_t(x)` of `mixture` data under `schedule`.
#[derive(Debug, Clone, Copy)]
pub struct MixtureNoise<'a> {
    /// The data distribution.
    pub mixture: &'a GaussianMixture,
    /// The forward process.
    pub schedule: &'a NoiseSchedule,
}

impl NoisePredictor for MixtureNoise<'_> {
    fn predict(&mut self, x: Tensor<2>, t: usize) -> Result<Tensor<2>, GenerativeError> {
        let marginal = self.schedule.marginal(t)?;
        let dims = x.dims();
        if dims[1] != self.mixture.dim() {
            return Err(GenerativeError::ShapeMismatch {
                what: "state width and the mixture's dimension",
                left: vec![dims[1]],
                right: vec![self.mixture.dim()],
            });
        }
        let values = host_values(x.clone(), "diffusion state")?;
        let score = self
            .mixture
            .score(&values, marginal.signal, marginal.noise)?;
        let epsilon = score.into_iter().map(|s| -marginal.noise * s).collect();
        Ok(host_tensor(epsilon, dims, &x))
    }
}
