//! The motion estimator of de Bézenac et al. (2018) and the forecasters built on it.
//!
//! [`EncoderDecoder`]: a small U-Net-like CNN from the last `k` frames `[batch, k, H, W]` to
//! `outputs` channels: at each of `levels` encoder levels two 3×3 convolutions (ReLU), the
//! second of the next level strided by 2 (the downsampling); the decoder upsamples by 2
//! (nearest), concatenates the encoder's features of the same size (the skip connections)
//! and applies a 3×3 convolution (ReLU); a last 3×3 convolution gives the output. Weights are
//! He-normal from a seeded stream (the head scaled by 0.1, so training starts near zero
//! motion).
//!
//! [`WarpingForecaster`]: `w = w_max tanh(net(frames))` (cells per step, bounded so the
//! warp's window holds it, see [`GaussianWarp::truncation_error`]) and the next frame
//! `Î_{t+1} = warp(I_t, w)`. [`DirectForecaster`]: the same network with one output channel,
//! read as the next frame itself (the plain-CNN baseline).
//!
//! [`WarpingLoss`]: the training objective, `‖Î − I‖²` (mean over pixels) plus penalties on the
//! motion field with weights that are data: `λ_div ⟨(∇·w)²⟩ + λ_mag ⟨|w|²⟩ + λ_smooth ⟨|∇w|²⟩`
//! (central differences on the frame's grid; the paper's divergence, magnitude and smoothness
//! terms).

use burn::module::{Module, Param};
use burn::tensor::activation::{relu, tanh};
use burn::tensor::module::conv2d;
use burn::tensor::ops::ConvOptions;
use burn::tensor::{Device, Tensor, TensorData};
use sysdyn_core::rng::SeededRng;

use crate::error::PhysicsError;
use crate::warping::kernel::{GaussianWarp, WarpBoundary};

/// The sizes of an [`EncoderDecoder`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EncoderDecoderConfig {
    /// Input frames `k`.
    pub inputs: usize,
    /// Output channels.
    pub outputs: usize,
    /// Channels of the first level; they double at each level.
    pub width: usize,
    /// Downsampling levels (the frame side must be divisible by `2^levels`).
    pub levels: usize,
}

impl EncoderDecoderConfig {
    /// `inputs` frames to `outputs` channels, `width` channels at the top, two levels.
    pub fn new(inputs: usize, outputs: usize, width: usize) -> Self {
        EncoderDecoderConfig {
            inputs,
            outputs,
            width,
            levels: 2,
        }
    }

    /// With `levels` downsampling levels.
    pub fn with_levels(mut self, levels: usize) -> Self {
        self.levels = levels;
        self
    }

    fn channels(&self, level: usize) -> usize {
        self.width << level
    }

    /// The network, weights drawn by `rng` in `device`'s default float type. Errors: a zero
    /// size.
    pub fn init(
        &self,
        device: &Device,
        rng: &mut SeededRng,
    ) -> Result<EncoderDecoder, PhysicsError> {
        for (name, value) in [
            ("inputs", self.inputs),
            ("outputs", self.outputs),
            ("width", self.width),
        ] {
            if value == 0 {
                return Err(PhysicsError::InvalidParameter {
                    name,
                    value: 0.0,
                    requirement: "the encoder-decoder needs at least one channel here",
                });
            }
        }
        let mut encoder = Vec::new();
        for level in 0..=self.levels {
            let input = if level == 0 {
                self.inputs
            } else {
                self.channels(level - 1)
            };
            let c = self.channels(level);
            encoder.push(Conv::new(input, c, 1.0, device, rng));
            encoder.push(Conv::new(c, c, 1.0, device, rng));
        }
        let mut decoder = Vec::new();
        for level in (1..=self.levels).rev() {
            let c = self.channels(level) + self.channels(level - 1);
            decoder.push(Conv::new(c, self.channels(level - 1), 1.0, device, rng));
        }
        let head = Conv::new(self.width, self.outputs, 0.1, device, rng);
        Ok(EncoderDecoder {
            encoder,
            decoder,
            head,
            config: *self,
        })
    }
}

/// A 3×3 convolution with bias.
#[derive(Module, Debug)]
pub struct Conv {
    kernel: Param<Tensor<4>>,
    bias: Param<Tensor<1>>,
}

impl Conv {
    fn new(input: usize, output: usize, gain: f64, device: &Device, rng: &mut SeededRng) -> Self {
        let std = gain * (2.0 / (9 * input) as f64).sqrt();
        let shape = [output, input, 3, 3];
        let values: Vec<f64> = rng
            .normals(shape.iter().product())
            .into_iter()
            .map(|v| v * std)
            .collect();
        Conv {
            kernel: Param::from_tensor(Tensor::from_data(TensorData::new(values, shape), device)),
            bias: Param::from_tensor(Tensor::zeros([output], device)),
        }
    }

    fn forward(&self, x: Tensor<4>, stride: usize) -> Tensor<4> {
        conv2d(
            x,
            self.kernel.val(),
            Some(self.bias.val()),
            ConvOptions::new([stride; 2], [1; 2], [1; 2], 1),
        )
    }
}

/// The encoder–decoder (see the module docs).
#[derive(Module, Debug)]
pub struct EncoderDecoder {
    encoder: Vec<Conv>,
    decoder: Vec<Conv>,
    head: Conv,
    #[module(skip)]
    config: EncoderDecoderConfig,
}

/// Nearest-neighbour upsampling by 2.
fn upsample(x: Tensor<4>) -> Tensor<4> {
    let [b, c, h, w] = x.dims();
    let x: Tensor<6> = x.reshape([b, c, h, 1, w, 1]);
    x.repeat_dim(3, 2)
        .repeat_dim(5, 2)
        .reshape([b, c, 2 * h, 2 * w])
}

impl EncoderDecoder {
    /// The sizes.
    pub fn config(&self) -> EncoderDecoderConfig {
        self.config
    }

    /// `[batch, outputs, H, W]` from `frames: [batch, inputs, H, W]`. Errors: a wrong number of
    /// input channels, or a side not divisible by `2^levels`.
    pub fn forward(&self, frames: Tensor<4>) -> Result<Tensor<4>, PhysicsError> {
        let [_, channels, rows, cols] = frames.dims();
        if channels != self.config.inputs {
            return Err(PhysicsError::SizeMismatch {
                what: "input frames (channels of [batch, k, H, W])",
                expected: self.config.inputs,
                got: channels,
            });
        }
        let factor = 1usize << self.config.levels;
        if rows % factor != 0 || cols % factor != 0 || rows == 0 || cols == 0 {
            return Err(PhysicsError::SizeMismatch {
                what: "frame side (must be a positive multiple of 2^levels)",
                expected: factor * rows.div_ceil(factor).max(1),
                got: rows.min(cols),
            });
        }
        let mut h = frames;
        let mut skips = Vec::new();
        for (level, pair) in self.encoder.chunks(2).enumerate() {
            let stride = if level == 0 { 1 } else { 2 };
            h = relu(pair[0].forward(h, stride));
            h = relu(pair[1].forward(h, 1));
            skips.push(h.clone());
        }
        let levels = self.config.levels;
        for (step, conv) in self.decoder.iter().enumerate() {
            let skip = skips[levels - 1 - step].clone();
            h = relu(conv.forward(Tensor::cat(vec![upsample(h), skip], 1), 1));
        }
        Ok(self.head.forward(h, 1))
    }
}

/// A forecaster of the next frame from the last `k`.
pub trait Forecaster: Module {
    /// The frames it reads.
    fn history(&self) -> usize;

    /// The next frame `[batch, 1, H, W]` from `frames: [batch, k, H, W]` (oldest first), and the
    /// motion field `[batch, 2, H, W]` it used, if any.
    fn forecast(&self, frames: Tensor<4>) -> Result<(Tensor<4>, Option<Tensor<4>>), PhysicsError>;
}

/// The warping forecaster: a motion estimator and the Gaussian warp (see the module docs).
#[derive(Module, Debug)]
pub struct WarpingForecaster {
    /// The motion estimator (two output channels: `w_x`, `w_y` before the bound).
    pub estimator: EncoderDecoder,
    #[module(skip)]
    warp: GaussianWarp,
    #[module(skip)]
    max_displacement: f64,
}

impl WarpingForecaster {
    /// The forecaster reading `history` frames with an estimator of `width` channels, bounding
    /// the motion by `max_displacement` cells per step (positive, and within the window:
    /// `max_displacement < R`).
    pub fn new(
        history: usize,
        width: usize,
        warp: GaussianWarp,
        max_displacement: f64,
        device: &Device,
        rng: &mut SeededRng,
    ) -> Result<Self, PhysicsError> {
        let max_displacement = crate::model::positive("max_displacement", max_displacement)?;
        if max_displacement >= warp.radius() as f64 {
            return Err(PhysicsError::InvalidParameter {
                name: "max_displacement",
                value: max_displacement,
                requirement: "must be below the warp's window radius R (better: R − 4 kernel \
                              widths); widen the window",
            });
        }
        let estimator = EncoderDecoderConfig::new(history, 2, width).init(device, rng)?;
        Ok(WarpingForecaster {
            estimator,
            warp,
            max_displacement,
        })
    }

    /// The warp.
    pub fn warp(&self) -> GaussianWarp {
        self.warp
    }

    /// The bound on the motion, cells per step.
    pub fn max_displacement(&self) -> f64 {
        self.max_displacement
    }

    /// The motion field `[batch, 2, H, W]` of `frames`.
    pub fn motion(&self, frames: Tensor<4>) -> Result<Tensor<4>, PhysicsError> {
        Ok(tanh(self.estimator.forward(frames)?).mul_scalar(self.max_displacement))
    }
}

impl Forecaster for WarpingForecaster {
    fn history(&self) -> usize {
        self.estimator.config.inputs
    }

    fn forecast(&self, frames: Tensor<4>) -> Result<(Tensor<4>, Option<Tensor<4>>), PhysicsError> {
        let k = self.history();
        let last = frames.clone().narrow(1, k - 1, 1);
        let motion = self.motion(frames)?;
        Ok((self.warp.apply(last, motion.clone())?, Some(motion)))
    }
}

/// The plain CNN baseline: the encoder–decoder's single output channel is the next frame.
#[derive(Module, Debug)]
pub struct DirectForecaster {
    /// The network.
    pub net: EncoderDecoder,
}

impl DirectForecaster {
    /// The baseline reading `history` frames with `width` channels at the top.
    pub fn new(
        history: usize,
        width: usize,
        device: &Device,
        rng: &mut SeededRng,
    ) -> Result<Self, PhysicsError> {
        Ok(DirectForecaster {
            net: EncoderDecoderConfig::new(history, 1, width).init(device, rng)?,
        })
    }
}

impl Forecaster for DirectForecaster {
    fn history(&self) -> usize {
        self.net.config.inputs
    }

    fn forecast(&self, frames: Tensor<4>) -> Result<(Tensor<4>, Option<Tensor<4>>), PhysicsError> {
        Ok((self.net.forward(frames)?, None))
    }
}

/// The training objective (see the module docs); the weights are data.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WarpingLoss {
    /// Weight of the divergence penalty `⟨(∇·w)²⟩`.
    pub divergence: f64,
    /// Weight of the magnitude penalty `⟨|w|²⟩`.
    pub magnitude: f64,
    /// Weight of the smoothness penalty `⟨|∇w|²⟩`.
    pub smoothness: f64,
    /// The boundary of the finite differences.
    pub boundary: WarpBoundary,
}

impl WarpingLoss {
    /// The weights `(λ_div, λ_mag, λ_smooth)` (each finite and ≥ 0).
    pub fn new(
        divergence: f64,
        magnitude: f64,
        smoothness: f64,
        boundary: WarpBoundary,
    ) -> Result<Self, PhysicsError> {
        Ok(WarpingLoss {
            divergence: crate::model::non_negative("divergence weight", divergence)?,
            magnitude: crate::model::non_negative("magnitude weight", magnitude)?,
            smoothness: crate::model::non_negative("smoothness weight", smoothness)?,
            boundary,
        })
    }

    /// The loss and its parts `(total, prediction MSE, penalty)` for a prediction, its target
    /// and the motion used (none for a direct forecaster).
    pub fn loss(
        &self,
        prediction: Tensor<4>,
        target: Tensor<4>,
        motion: Option<Tensor<4>>,
    ) -> Result<Tensor<1>, PhysicsError> {
        if prediction.dims() != target.dims() {
            return Err(PhysicsError::SizeMismatch {
                what: "prediction and target elements",
                expected: target.dims().iter().product(),
                got: prediction.dims().iter().product(),
            });
        }
        let mse = (prediction - target).powi_scalar(2).mean();
        Ok(match motion {
            Some(w) => mse + self.penalty(w),
            None => mse,
        })
    }

    /// `λ_div ⟨(∇·w)²⟩ + λ_mag ⟨|w|²⟩ + λ_smooth ⟨|∇w|²⟩` of `w: [batch, 2, H, W]`.
    pub fn penalty(&self, w: Tensor<4>) -> Tensor<1> {
        let wx = w.clone().narrow(1, 0, 1);
        let wy = w.clone().narrow(1, 1, 1);
        let (dx_wx, dy_wx) = (self.diff(wx.clone(), 3), self.diff(wx, 2));
        let (dx_wy, dy_wy) = (self.diff(wy.clone(), 3), self.diff(wy, 2));
        let divergence = (dx_wx.clone() + dy_wy.clone()).powi_scalar(2).mean();
        let magnitude = w.powi_scalar(2).mean().mul_scalar(2.0);
        let smoothness = (dx_wx.powi_scalar(2)
            + dy_wx.powi_scalar(2)
            + dx_wy.powi_scalar(2)
            + dy_wy.powi_scalar(2))
        .mean();
        divergence.mul_scalar(self.divergence)
            + magnitude.mul_scalar(self.magnitude)
            + smoothness.mul_scalar(self.smoothness)
    }

    /// The central difference `(f(i + 1) − f(i − 1)) / 2` along `dim` (cells), periodic or
    /// with zeros beyond the edges.
    fn diff(&self, f: Tensor<4>, dim: usize) -> Tensor<4> {
        match self.boundary {
            WarpBoundary::Periodic => {
                (f.clone().roll_dim(-1, dim) - f.roll_dim(1, dim)).mul_scalar(0.5)
            }
            WarpBoundary::Zero => {
                let n = f.dims()[dim];
                let mut pad = [(0, 0); 2];
                pad[dim - 2] = (1, 1);
                let padded = f.pad(pad, burn::tensor::ops::PadMode::Constant(0.0));
                (padded.clone().narrow(dim, 2, n) - padded.narrow(dim, 0, n)).mul_scalar(0.5)
            }
        }
    }
}
