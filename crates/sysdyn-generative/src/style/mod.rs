//! Style-based generation (Karras et al. 2019): adaptive instance normalisation.

pub mod adain;

pub use adain::{
    AdaIn, AdaInConfig, adaptive_instance_norm, channel_statistics, transfer_statistics,
};
