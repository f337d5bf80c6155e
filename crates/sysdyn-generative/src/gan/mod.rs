//! Generative adversarial networks: losses, penalties, spectral normalisation, the replay
//! buffer, and the Dirac-GAN view of their training dynamics. See the crate documentation.

pub mod dirac;
pub mod loss;
pub mod penalty;
pub mod replay;
pub mod spectral;

pub use dirac::{DiracGan, DiracObjective, linearised_update};
pub use loss::{GanLoss, LsganTargets};
pub use penalty::{gradient_penalty, input_gradient, interpolate, r1_penalty};
pub use replay::ReplayBuffer;
pub use spectral::SpectralLinear;
