//! Discrete-time diffusion (DDPM, Ho et al. 2020; DDIM, Song et al. 2021): noise schedules and
//! their closed forms ([`schedule`]), what the network predicts ([`parametrisation`]), W3's
//! ε-network with its step embedding ([`embedding`], [`network`]), the samplers
//! ([`sampler`]) with classifier-free guidance ([`guidance`]) and the exact noise of mixture
//! data ([`exact`]), and the training step on sysdyn's runtime ([`step`]); on CPU devices an unconditional
//! MLP ε-network's sampling and training run on the host engine ([`host`]).

pub mod embedding;
pub mod exact;
pub mod guidance;
pub mod host;
pub mod network;
pub mod parametrisation;
pub mod sampler;
pub mod schedule;
pub mod step;

pub use embedding::TimeEmbedding;
pub use exact::MixtureNoise;
pub use guidance::Guided;
pub use host::{EpsPredictor, HostEpsNet};
pub use network::{EpsNet, EpsNetConfig};
pub use parametrisation::{Coefficients, Prediction};
pub use sampler::{
    AncestralVariance, NoisePredictor, evenly_spaced_steps, sample_ancestral, sample_ddim,
};
pub use schedule::{Marginal, NoiseSchedule, Posterior};
pub use step::{DdpmConfig, DdpmStep};
