//! Forecasting advection–diffusion by warping (de Bézenac, Pajot & Gallinari, ICLR 2018):
//! a CNN estimates the motion field `w` from the last `k` frames and the next frame is the
//! closed-form advection–diffusion step, a Gaussian-kernel warping of the last frame.
//!
//! - [`kernel`]: the differentiable warp [`GaussianWarp`] (windowed, with its truncation
//!   error), periodic or zero boundaries.
//! - [`estimator`]: the encoder–decoder, the warping and plain-CNN forecasters, the loss
//!   with the divergence, magnitude and smoothness penalties on `w`.
//! - [`data`]: frame sequences (the synthetic tracer with its true motion, or arrays by path)
//!   and their windows of `k + 1` frames.
//! - [`train`]: the training step on the `sysdyn-train` runtime.

pub mod data;
pub mod estimator;
pub mod kernel;
pub mod train;

pub use estimator::{
    DirectForecaster, EncoderDecoder, EncoderDecoderConfig, Forecaster, WarpingForecaster,
    WarpingLoss,
};
pub use kernel::{GaussianWarp, WarpBoundary};
