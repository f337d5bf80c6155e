//! Generative adversarial networks: losses, penalties, spectral normalisation, the replay
//! buffer, and the Dirac-GAN view of their training dynamics. See the crate documentation.

pub mod conditional;
pub mod dirac;
pub mod loss;
pub mod models;
pub mod penalty;
pub mod replay;
pub mod spectral;
pub mod train;

pub use conditional::LabelEmbedding;
pub use dirac::{DiracGan, DiracObjective, linearised_update};
pub use loss::{GanLoss, LsganTargets};
pub use models::{Critic, Generator, SpectralMlp};
pub use penalty::{
    gradient_penalty, gradient_penalty_of, input_gradient, interpolate, r1_penalty, r1_penalty_of,
};
pub use replay::ReplayBuffer;
pub use spectral::SpectralLinear;
pub use train::{DataSampler, GanConfig, GanStep, UpdateOrder};
