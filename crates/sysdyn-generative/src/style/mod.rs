//! Style-based generation (Karras et al. 2019): adaptive instance normalisation and the
//! style-based generator (mapping network, constant input, noise inputs, style mixing).

pub mod adain;
pub mod generator;

pub use adain::{
    AdaIn, AdaInConfig, adaptive_instance_norm, channel_statistics, transfer_statistics,
};
pub use generator::{StyleGenerator, StyleGeneratorConfig};
