//! Vector-quantised autoencoders (VQ-VAE, van den Oord, Vinyals & Kavukcuoglu 2017): a
//! discrete latent code per position of an image's feature map, learned through the
//! straight-through estimator, and an autoregressive prior over the code grid to sample
//! from. See the crate documentation for the parts.

pub mod codebook;
pub mod ema;
pub mod masked_conv;
pub mod metrics;
pub mod model;
pub mod prior;
pub mod quantiser;
pub mod restart;
pub mod step;

pub use codebook::{
    Codebook, DEFAULT_COMMITMENT, Quantised, check_commitment, flatten_positions,
    unflatten_positions,
};
pub use ema::{EmaCodebook, EmaConfig, laplace_smoothed};
pub use masked_conv::{MaskType, MaskedConv2d, mask_values};
pub use metrics::CodeUsage;
pub use model::{VqVae, VqVaeConfig, VqVaePass};
pub use prior::{PixelCnnConfig, PixelCnnPrior};
pub use quantiser::{QuantiserConfig, VectorQuantiser};
pub use restart::{DeadCodeRestart, DeadCodeRule};
pub use step::{CodeSampler, PriorStep, VqVaeStep};
