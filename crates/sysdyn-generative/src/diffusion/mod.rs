//! Discrete-time diffusion (DDPM, Ho et al. 2020; DDIM, Song et al. 2021): noise schedules and
//! their closed forms ([`schedule`]), what the network predicts ([`parametrisation`]), W3's
//! ε-network with its step embedding ([`embedding`], [`network`]), the samplers
//! ([`sampler`]) with classifier-free guidance ([`guidance`]) and the exact noise of mixture
//! data ([`exact`]), and the training step on sysdyn's runtime ([`step`]).

use burn::tensor::{Tensor, TensorData};

use crate::error::GenerativeError;

pub mod embedding;
pub mod exact;
pub mod guidance;
pub mod network;
pub mod parametrisation;
pub mod sampler;
pub mod schedule;
pub mod step;

pub use embedding::TimeEmbedding;
pub use exact::MixtureNoise;
pub use guidance::Guided;
pub use network::{EpsNet, EpsNetConfig};
pub use parametrisation::{Coefficients, Prediction};
pub use sampler::{
    AncestralVariance, NoisePredictor, evenly_spaced_steps, sample_ancestral, sample_ddim,
};
pub use schedule::{Marginal, NoiseSchedule, Posterior};
pub use step::{DdpmConfig, DdpmStep};

/// Host values as a tensor on the device and in the dtype of `like`.
pub(crate) fn host_tensor_like<const D: usize, const E: usize>(
    values: Vec<f64>,
    shape: [usize; D],
    like: &Tensor<E>,
) -> Tensor<D> {
    let dtype = like.dtype();
    Tensor::from_data(
        TensorData::new(values, shape).convert_dtype(dtype),
        (&like.device(), dtype),
    )
}

/// A tensor's values on the host as `f64`, row-major.
pub(crate) fn host_values<const D: usize>(
    t: Tensor<D>,
    what: &'static str,
) -> Result<Vec<f64>, GenerativeError> {
    t.detach()
        .try_into_vec_as::<f64>()
        .map_err(|e| GenerativeError::HostRead {
            what,
            reason: format!("{e:?}"),
        })
}
