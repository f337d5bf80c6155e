//! Generative adversarial networks: losses, penalties, spectral normalisation, the replay
//! buffer, and the Dirac-GAN view of their training dynamics. See the crate documentation.

pub mod conditional;
pub mod cyclegan;
pub mod dcgan;
pub mod dirac;
pub mod loss;
pub mod models;
pub mod patchgan;
pub mod penalty;
pub mod pix2pix;
pub mod replay;
pub mod resnet_generator;
pub mod spectral;
pub mod train;
pub mod unet;

pub use conditional::LabelEmbedding;
pub use cyclegan::{CycleCritics, CycleGanConfig, CycleGanStep, CycleGenerators};
pub use dcgan::{
    CriticConditioning, CriticNorm, DcganConfig, DcganCritic, DcganGenerator,
    GeneratorConditioning, ImageShape, LEAKY_SLOPE,
};
pub use dirac::{DiracGan, DiracObjective, linearised_update};
pub use loss::{GanLoss, LsganTargets};
pub use models::{Critic, Generator, SpectralMlp};
pub use patchgan::{PatchGan, PatchGanConfig};
pub use penalty::{
    gradient_penalty, gradient_penalty_of, input_gradient, interpolate, r1_penalty, r1_penalty_of,
};
pub use pix2pix::{PairedSampler, Pix2PixConfig, Pix2PixStep};
pub use replay::ReplayBuffer;
pub use resnet_generator::{ResnetGenerator, ResnetGeneratorConfig};
pub use spectral::{SpectralLinear, SpectralNorm};
pub use train::{DataSampler, GanConfig, GanStep, LabelledSampler, UpdateOrder};
pub use unet::{UNet, UNetConfig};
