//! CycleGAN's ResNet generator (Zhu et al. 2017, after Johnson et al. 2016): a 7×7 convolution,
//! `levels` strided 3×3 convolutions down, `blocks` residual blocks (two 3×3 convolutions with
//! instance norm and ReLU, added to their input), as many transposed convolutions back up, and a
//! 7×7 convolution to the image, `tanh`; instance norm and ReLU after every other convolution.
//! The paper's 2 levels and 6 or 9 blocks on 128–256 pixel images are scaled here by
//! [`ResnetGeneratorConfig`] (28×28: 1 level, 3 blocks by default).

use burn::module::{Module, Param};
use burn::nn::{InstanceNorm, InstanceNormConfig};
use burn::tensor::activation::{relu, tanh};
use burn::tensor::module::{conv_transpose2d, conv2d};
use burn::tensor::ops::{ConvOptions, ConvTransposeOptions};
use burn::tensor::{Device, Tensor};
use sysdyn_core::rng::SeededRng;

use crate::error::GenerativeError;
use crate::gan::dcgan::{ImageShape, check_width, normal_param, zeros_param};

/// The sizes of a [`ResnetGenerator`].
#[derive(Debug, Clone, PartialEq)]
pub struct ResnetGeneratorConfig {
    /// The images' layout (input and output alike).
    pub image: ImageShape,
    /// Channels after the first convolution; they double at each level down.
    pub width: usize,
    /// Strided levels down (and transposed ones up).
    pub levels: usize,
    /// Residual blocks at the bottom.
    pub blocks: usize,
}

impl ResnetGeneratorConfig {
    /// A generator of `image`s with `width` channels, one level and three residual blocks.
    pub fn new(image: ImageShape, width: usize) -> Self {
        ResnetGeneratorConfig {
            image,
            width,
            levels: 1,
            blocks: 3,
        }
    }

    /// With `levels` levels and `blocks` residual blocks.
    pub fn with_depth(mut self, levels: usize, blocks: usize) -> Self {
        self.levels = levels;
        self.blocks = blocks;
        self
    }

    /// Checks the sizes.
    pub fn validate(&self) -> Result<(), GenerativeError> {
        self.image
            .check_levels("ResNet generator size", self.width, self.levels, 0)?;
        Ok(())
    }

    /// The generator, weights drawn from N(0, 0.02²) by `rng` in the default float type of
    /// `device`.
    pub fn init(
        &self,
        device: &Device,
        rng: &mut SeededRng,
    ) -> Result<ResnetGenerator, GenerativeError> {
        self.validate()?;
        let layer = |input: usize, output: usize, kernel: usize, rng: &mut SeededRng| ConvLayer {
            kernel: normal_param(rng, [output, input, kernel, kernel], device),
            bias: zeros_param([output], device),
            norm: InstanceNormConfig::new(output).init(device),
        };
        let top = self.width << self.levels;
        let stem = layer(self.image.channels, self.width, 7, rng);
        let down = (0..self.levels)
            .map(|l| layer(self.width << l, self.width << (l + 1), 3, rng))
            .collect();
        let blocks = (0..self.blocks)
            .map(|_| ResidualBlock {
                first: layer(top, top, 3, rng),
                second: layer(top, top, 3, rng),
            })
            .collect();
        // Transposed convolutions: weights [input, output, k, k].
        let up = (0..self.levels)
            .rev()
            .map(|l| ConvLayer {
                kernel: normal_param(rng, [self.width << (l + 1), self.width << l, 3, 3], device),
                bias: zeros_param([self.width << l], device),
                norm: InstanceNormConfig::new(self.width << l).init(device),
            })
            .collect();
        let head = normal_param(rng, [self.image.channels, self.width, 7, 7], device);
        Ok(ResnetGenerator {
            stem,
            down,
            blocks,
            up,
            head,
            head_bias: zeros_param([self.image.channels], device),
            config: self.clone(),
        })
    }
}

/// A convolution with its instance norm.
#[derive(Module, Debug)]
struct ConvLayer {
    kernel: Param<Tensor<4>>,
    bias: Param<Tensor<1>>,
    norm: InstanceNorm,
}

impl ConvLayer {
    /// Convolution (stride 1 or 2, "same" padding for odd kernels), instance norm.
    fn conv(&self, x: Tensor<4>, stride: usize) -> Tensor<4> {
        let padding = self.kernel.dims()[2] / 2;
        let options = ConvOptions::new([stride; 2], [padding; 2], [1; 2], 1);
        self.norm
            .forward(conv2d(x, self.kernel.val(), Some(self.bias.val()), options))
    }

    /// Transposed 3×3 convolution doubling the side, instance norm.
    fn conv_up(&self, x: Tensor<4>) -> Tensor<4> {
        let options = ConvTransposeOptions::new([2; 2], [1; 2], [1; 2], [1; 2], 1);
        self.norm.forward(conv_transpose2d(
            x,
            self.kernel.val(),
            Some(self.bias.val()),
            options,
        ))
    }
}

/// `x + IN(conv(ReLU(IN(conv(x)))))`.
#[derive(Module, Debug)]
struct ResidualBlock {
    first: ConvLayer,
    second: ConvLayer,
}

/// The ResNet generator: see the module documentation. Works on flattened images.
#[derive(Module, Debug)]
pub struct ResnetGenerator {
    stem: ConvLayer,
    down: Vec<ConvLayer>,
    blocks: Vec<ResidualBlock>,
    up: Vec<ConvLayer>,
    head: Param<Tensor<4>>,
    head_bias: Param<Tensor<1>>,
    #[module(skip)]
    config: ResnetGeneratorConfig,
}

impl ResnetGenerator {
    /// The sizes it was built with.
    pub fn config(&self) -> &ResnetGeneratorConfig {
        &self.config
    }

    /// The translation of flattened images `[batch, channels·rows·cols]`, in `[−1, 1]`.
    pub fn forward(&self, x: Tensor<2>) -> Result<Tensor<2>, GenerativeError> {
        let ImageShape {
            channels,
            rows,
            cols,
        } = self.config.image;
        let [batch, width] = x.dims();
        check_width(
            "ResNet generator input (flattened image channels·rows·cols)",
            width,
            channels * rows * cols,
        )?;
        if batch == 0 {
            return Err(GenerativeError::EmptyBatch {
                what: "ResNet generator input",
            });
        }
        let mut h = relu(self.stem.conv(x.reshape([batch, channels, rows, cols]), 1));
        for layer in &self.down {
            h = relu(layer.conv(h, 2));
        }
        for block in &self.blocks {
            let inner = relu(block.first.conv(h.clone(), 1));
            h = h + block.second.conv(inner, 1);
        }
        for layer in &self.up {
            h = relu(layer.conv_up(h));
        }
        let options = ConvOptions::new([1; 2], [3; 2], [1; 2], 1);
        let out = tanh(conv2d(
            h,
            self.head.val(),
            Some(self.head_bias.val()),
            options,
        ));
        Ok(out.reshape([batch, channels * rows * cols]))
    }
}
