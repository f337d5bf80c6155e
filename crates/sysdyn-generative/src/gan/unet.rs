//! The U-Net generator of Pix2Pix (Isola et al. 2017; Ronneberger et al. 2015): strided 4×4
//! convolutions halve the image down to `rows / 2^levels` (LeakyReLU 0.2, batch norm after all
//! but the first), transposed convolutions double it back (batch norm and ReLU), and every
//! decoder level sees the encoder's features of the same size beside its own (the skip
//! connections), so fine detail of the input reaches the output without passing the bottleneck.
//! The last layer ends in `tanh`. Pix2Pix's dropout (its only noise source) is left out: with
//! it off, the generator is a deterministic translation, which the L1 comparison with the
//! L1-only baseline needs.

use burn::module::{Module, Param};
use burn::nn::{BatchNorm, BatchNormConfig};
use burn::tensor::activation::{leaky_relu, relu, tanh};
use burn::tensor::module::{conv_transpose2d, conv2d};
use burn::tensor::{Device, Tensor};
use sysdyn_core::rng::SeededRng;

use crate::error::GenerativeError;
use crate::gan::dcgan::{
    ImageShape, LEAKY_SLOPE, check_width, downsample_options, normal_param, upsample_options,
    zeros_param,
};

/// The sizes of a [`UNet`].
#[derive(Debug, Clone, PartialEq)]
pub struct UNetConfig {
    /// The input images' layout.
    pub input: ImageShape,
    /// Channels of the output images (same rows and columns as the input).
    pub output_channels: usize,
    /// Channels of the first encoder level; they double at each level.
    pub width: usize,
    /// Encoder (and decoder) levels.
    pub levels: usize,
}

impl UNetConfig {
    /// A U-Net from `input` images to images of `output_channels` channels, `width` channels
    /// at the first level, 2 levels (28×28 → 14×14 → 7×7 and back).
    pub fn new(input: ImageShape, output_channels: usize, width: usize) -> Self {
        UNetConfig {
            input,
            output_channels,
            width,
            levels: 2,
        }
    }

    /// With `levels` levels.
    pub fn with_levels(mut self, levels: usize) -> Self {
        self.levels = levels;
        self
    }

    fn channels_at(&self, level: usize) -> usize {
        self.width << level
    }

    /// Checks the sizes.
    pub fn validate(&self) -> Result<(), GenerativeError> {
        self.input.check_levels(
            "U-Net size",
            self.width.min(self.output_channels),
            self.levels,
            1,
        )?;
        Ok(())
    }

    /// The network, weights drawn from N(0, 0.02²) by `rng` in the default float type of
    /// `device`.
    pub fn init(&self, device: &Device, rng: &mut SeededRng) -> Result<UNet, GenerativeError> {
        self.validate()?;
        let levels = self.levels;
        let mut down_kernels = Vec::with_capacity(levels);
        let mut down_biases = Vec::with_capacity(levels);
        let mut down_norms = Vec::with_capacity(levels);
        for level in 0..levels {
            let input = if level == 0 {
                self.input.channels
            } else {
                self.channels_at(level - 1)
            };
            let output = self.channels_at(level);
            down_kernels.push(normal_param(rng, [output, input, 4, 4], device));
            down_biases.push(zeros_param([output], device));
            if level > 0 {
                down_norms.push(BatchNormConfig::new(output).init(device));
            }
        }
        let mut up_kernels = Vec::with_capacity(levels);
        let mut up_biases = Vec::with_capacity(levels);
        let mut up_norms = Vec::with_capacity(levels);
        for level in (0..levels).rev() {
            // The deepest level takes the bottleneck alone; the others its output and the skip.
            let input = if level == levels - 1 {
                self.channels_at(level)
            } else {
                2 * self.channels_at(level)
            };
            let output = if level == 0 {
                self.output_channels
            } else {
                self.channels_at(level - 1)
            };
            // Transposed-convolution weights are [input, output, k, k].
            up_kernels.push(normal_param(rng, [input, output, 4, 4], device));
            up_biases.push(zeros_param([output], device));
            if level > 0 {
                up_norms.push(BatchNormConfig::new(output).init(device));
            }
        }
        Ok(UNet {
            down_kernels,
            down_biases,
            down_norms,
            up_kernels,
            up_biases,
            up_norms,
            config: self.clone(),
        })
    }
}

/// The U-Net: see the module documentation. Works on flattened images, `[batch,
/// channels·rows·cols]`.
#[derive(Module, Debug)]
pub struct UNet {
    down_kernels: Vec<Param<Tensor<4>>>,
    down_biases: Vec<Param<Tensor<1>>>,
    down_norms: Vec<BatchNorm>,
    up_kernels: Vec<Param<Tensor<4>>>,
    up_biases: Vec<Param<Tensor<1>>>,
    up_norms: Vec<BatchNorm>,
    #[module(skip)]
    config: UNetConfig,
}

impl UNet {
    /// The sizes it was built with.
    pub fn config(&self) -> &UNetConfig {
        &self.config
    }

    /// The translation of flattened input images `[batch, input features]`, flattened output
    /// images in `[−1, 1]`.
    pub fn forward(&self, x: Tensor<2>) -> Result<Tensor<2>, GenerativeError> {
        let config = &self.config;
        let [batch, width] = x.dims();
        check_width(
            "U-Net input (flattened image channels·rows·cols)",
            width,
            config.input.features(),
        )?;
        if batch == 0 {
            return Err(GenerativeError::EmptyBatch {
                what: "U-Net input",
            });
        }
        let ImageShape {
            channels,
            rows,
            cols,
        } = config.input;
        let mut h = x.reshape([batch, channels, rows, cols]);
        let mut skips = Vec::with_capacity(config.levels);
        for (level, (kernel, bias)) in self.down_kernels.iter().zip(&self.down_biases).enumerate() {
            h = conv2d(h, kernel.val(), Some(bias.val()), downsample_options());
            if level > 0 {
                h = self.down_norms[level - 1].forward(h);
            }
            h = leaky_relu(h, LEAKY_SLOPE);
            skips.push(h.clone());
        }
        let last = config.levels - 1;
        for (step, (kernel, bias)) in self.up_kernels.iter().zip(&self.up_biases).enumerate() {
            let level = last - step;
            if level < last {
                h = Tensor::cat(vec![h, skips[level].clone()], 1);
            }
            h = conv_transpose2d(h, kernel.val(), Some(bias.val()), upsample_options());
            h = if level > 0 {
                relu(self.up_norms[step].forward(h))
            } else {
                tanh(h)
            };
        }
        Ok(h.reshape([batch, config.output_channels * rows * cols]))
    }
}
