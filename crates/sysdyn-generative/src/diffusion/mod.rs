//! Discrete-time diffusion (DDPM, Ho et al. 2020; DDIM, Song et al. 2021): noise schedules and
//! their closed forms ([`schedule`]), what the network predicts ([`parametrisation`]), W3's
//! ε-network with its step embedding ([`embedding`], [`network`]), a small U-Net for images
//! ([`unet`]), what both share ([`denoiser`]), the samplers ([`sampler`]: ancestral, DDIM on
//! evenly spaced or quadratic sub-sequences, `x̂₀` clipping) with classifier-free guidance
//! ([`guidance`]) and classifier guidance by a noise-conditional classifier
//! ([`classifier_guidance`]), the exact noise of mixture data ([`exact`]), and the training
//! step on sysdyn's runtime ([`step`]); on CPU devices an unconditional MLP ε-network's
//! sampling and training run on the host engine ([`host`]).

pub mod classifier_guidance;
pub mod denoiser;
pub mod embedding;
pub mod exact;
pub mod guidance;
pub mod host;
pub mod network;
pub mod parametrisation;
pub mod sampler;
pub mod schedule;
pub mod step;
pub mod unet;

pub use classifier_guidance::{
    ClassifierGuided, NoiseConditionalClassifier, NoisyClassifier, NoisyClassifierConfig,
    NoisyClassifierStep,
};
pub use denoiser::Denoiser;
pub use embedding::TimeEmbedding;
pub use exact::MixtureNoise;
pub use guidance::Guided;
pub use host::{EpsPredictor, HostEpsNet};
pub use network::{EpsNet, EpsNetConfig};
pub use parametrisation::{Coefficients, Prediction};
pub use sampler::{
    AncestralVariance, DataRange, NoisePredictor, evenly_spaced_steps, quadratic_steps,
    sample_ancestral, sample_ancestral_clipped, sample_ddim, sample_ddim_clipped,
};
pub use schedule::{Marginal, NoiseSchedule, Posterior};
pub use step::{DdpmConfig, DdpmStep};
pub use unet::{DiffusionUNet, DiffusionUNetConfig};
