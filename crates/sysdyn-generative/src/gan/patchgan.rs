//! The PatchGAN discriminator of Pix2Pix and CycleGAN (Isola et al. 2017): a fully
//! convolutional network whose output is a map of logits, one per overlapping image patch, so it
//! judges local texture and sharpness and leaves the global structure to the L1 or cycle loss.
//!
//! Layers: `levels` strided 4×4 convolutions (LeakyReLU 0.2, batch norm after all but the first),
//! one 3×3 convolution at stride 1 (batch norm, LeakyReLU), and a 3×3 convolution to one
//! channel. Each logit sees a patch of [`PatchGanConfig::receptive_field`] pixels: the paper's
//! 70×70 patches on 256×256 images are 27 % of the side, and one level gives 12 pixels on a
//! 28×28 image (43 %), two levels 26 (93 %).

use burn::module::{Module, Param};
use burn::nn::{BatchNorm, BatchNormConfig};
use burn::tensor::activation::leaky_relu;
use burn::tensor::module::conv2d;
use burn::tensor::ops::ConvOptions;
use burn::tensor::{Device, Tensor};
use sysdyn_core::rng::SeededRng;

use crate::error::GenerativeError;
use crate::gan::dcgan::{
    ImageShape, LEAKY_SLOPE, check_width, downsample_options, normal_param, zeros_param,
};

/// The sizes of a [`PatchGan`].
#[derive(Debug, Clone, PartialEq)]
pub struct PatchGanConfig {
    /// What the discriminator sees: for Pix2Pix the input and the output image stacked as
    /// channels, for CycleGAN one image.
    pub input: ImageShape,
    /// Channels of the first convolution; they double at each level.
    pub width: usize,
    /// Strided levels.
    pub levels: usize,
}

impl PatchGanConfig {
    /// A discriminator of `input` images with `width` channels and one strided level.
    pub fn new(input: ImageShape, width: usize) -> Self {
        PatchGanConfig {
            input,
            width,
            levels: 1,
        }
    }

    /// With `levels` strided levels.
    pub fn with_levels(mut self, levels: usize) -> Self {
        self.levels = levels;
        self
    }

    /// The side in pixels of the patch each logit sees.
    pub fn receptive_field(&self) -> usize {
        // Two 3×3 convolutions at stride 1 (3, then 5 pixels), then each 4×4 stride-2 level
        // maps a field f to 2(f − 1) + 4.
        (0..self.levels).fold(5, |field, _| 2 * (field - 1) + 4)
    }

    /// The logit map's side, `(rows, cols)`.
    pub fn output_side(&self) -> (usize, usize) {
        (
            self.input.rows >> self.levels,
            self.input.cols >> self.levels,
        )
    }

    fn channels_at(&self, level: usize) -> usize {
        self.width << level
    }

    /// Checks the sizes.
    pub fn validate(&self) -> Result<(), GenerativeError> {
        self.input
            .check_levels("PatchGAN size", self.width, self.levels, 1)?;
        Ok(())
    }

    /// The discriminator, weights drawn from N(0, 0.02²) by `rng` in the default float type
    /// of `device`.
    pub fn init(&self, device: &Device, rng: &mut SeededRng) -> Result<PatchGan, GenerativeError> {
        self.validate()?;
        let mut kernels = Vec::with_capacity(self.levels + 2);
        let mut biases = Vec::with_capacity(self.levels + 2);
        let mut norms = Vec::with_capacity(self.levels);
        for level in 0..self.levels {
            let input = if level == 0 {
                self.input.channels
            } else {
                self.channels_at(level - 1)
            };
            let output = self.channels_at(level);
            kernels.push(normal_param(rng, [output, input, 4, 4], device));
            biases.push(zeros_param([output], device));
            if level > 0 {
                norms.push(BatchNormConfig::new(output).init(device));
            }
        }
        let top = self.channels_at(self.levels - 1);
        kernels.push(normal_param(rng, [top, top, 3, 3], device));
        biases.push(zeros_param([top], device));
        norms.push(BatchNormConfig::new(top).init(device));
        kernels.push(normal_param(rng, [1, top, 3, 3], device));
        biases.push(zeros_param([1], device));
        Ok(PatchGan {
            kernels,
            biases,
            norms,
            config: self.clone(),
        })
    }
}

/// The PatchGAN: see the module documentation.
#[derive(Module, Debug)]
pub struct PatchGan {
    kernels: Vec<Param<Tensor<4>>>,
    biases: Vec<Param<Tensor<1>>>,
    norms: Vec<BatchNorm>,
    #[module(skip)]
    config: PatchGanConfig,
}

impl PatchGan {
    /// The sizes it was built with.
    pub fn config(&self) -> &PatchGanConfig {
        &self.config
    }

    /// The logit map `[batch, 1, rows / 2^levels, cols / 2^levels]` of flattened images
    /// `[batch, channels·rows·cols]`.
    pub fn forward(&self, x: Tensor<2>) -> Result<Tensor<4>, GenerativeError> {
        let config = &self.config;
        let [batch, width] = x.dims();
        check_width(
            "PatchGAN input (flattened image channels·rows·cols)",
            width,
            config.input.features(),
        )?;
        if batch == 0 {
            return Err(GenerativeError::EmptyBatch {
                what: "PatchGAN input",
            });
        }
        let ImageShape {
            channels,
            rows,
            cols,
        } = config.input;
        let mut h = x.reshape([batch, channels, rows, cols]);
        let same = ConvOptions::new([1, 1], [1, 1], [1, 1], 1);
        let levels = config.levels;
        for (layer, (kernel, bias)) in self.kernels.iter().zip(&self.biases).enumerate() {
            let options = if layer < levels {
                downsample_options()
            } else {
                same.clone()
            };
            h = conv2d(h, kernel.val(), Some(bias.val()), options);
            if layer == levels + 1 {
                break; // the logits
            }
            if layer > 0 {
                h = self.norms[layer - 1].forward(h);
            }
            h = leaky_relu(h, LEAKY_SLOPE);
        }
        Ok(h)
    }
}
