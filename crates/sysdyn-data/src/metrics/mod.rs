//! Sample-quality metrics for generative models, all on host row-major arrays.
//!
//! | metric | function | compares |
//! |---|---|---|
//! | sliced 2-Wasserstein distance | [`sliced_wasserstein`] | two sample sets |
//! | squared MMD, Gaussian kernel, unbiased | [`mmd_squared`], [`median_bandwidth`] | two sample sets |
//! | mode coverage, high-quality fraction | [`mode_coverage`] | samples against the modes of a mixture |
//! | negative log-likelihood, bits/dim | [`nll_nats`], [`bits_per_dim`], [`dequantized_bits_per_dim`] | a model's log-likelihoods |
//! | Fréchet distance of Gaussian fits | [`frechet_distance`] | two feature sets (in a classifier's feature space) |
//! | accuracy of class-conditional samples | [`class_accuracy`] | predicted against intended labels |
//! | mean ± sample std over seeds | [`mean_and_sample_std`], [`OverSeeds`] | one score per seed |

mod accuracy;
mod frechet;
mod likelihood;
mod mmd;
mod modes;
mod seeds;
mod wasserstein;

pub use accuracy::{ClassAccuracy, class_accuracy};
pub use frechet::{GaussianFit, frechet_distance, frechet_distance_gaussians};
pub use likelihood::{ByteScaling, bits_per_dim, dequantize, dequantized_bits_per_dim, nll_nats};
pub use mmd::{median_bandwidth, mmd_squared};
pub use modes::{ModeReport, Modes, mode_coverage};
pub use seeds::{OverSeeds, mean_and_sample_std};
pub use wasserstein::sliced_wasserstein;
