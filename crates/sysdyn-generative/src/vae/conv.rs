//! A small convolutional encoder and decoder for square images (28×28: two stride-2
//! convolutions to 7×7 and back with transposed convolutions), optionally conditioned on a
//! label given to the encoder as constant one-hot image planes and to the decoder as a one-hot
//! vector next to the code.

use burn::module::{Module, Param};
use burn::nn::Linear;
use burn::tensor::activation::relu;
use burn::tensor::module::{conv_transpose2d, conv2d};
use burn::tensor::ops::{ConvOptions, ConvTransposeOptions};
use burn::tensor::{Tensor, TensorData};
use sysdyn_core::device::SysDevice;
use sysdyn_core::rng::SeededRng;

use crate::error::GenerativeError;
use crate::inputs::check_labels;
use crate::vae::likelihood::Likelihood;
use crate::vae::models::{Decoder, Encoder, Vae, check_width, one_hot_like, with_labels};
use crate::vae::posterior::{DiagonalGaussian, latent_width_error};

/// Every convolution has a 4×4 kernel, stride 2, padding 1: it halves (doubles) a side.
const KERNEL: usize = 4;

fn down() -> ConvOptions<2> {
    ConvOptions::new([2, 2], [1, 1], [1, 1], 1)
}

fn up() -> ConvTransposeOptions<2> {
    ConvTransposeOptions::new([2, 2], [1, 1], [0, 0], [1, 1], 1)
}

fn uniform_param<const D: usize>(
    rng: &mut SeededRng,
    shape: [usize; D],
    fan_in: usize,
    device: &SysDevice,
) -> Param<Tensor<D>> {
    let bound = 1.0 / (fan_in as f64).sqrt();
    let values: Vec<f64> = rng
        .uniforms(shape.iter().product())
        .into_iter()
        .map(|u| bound * (2.0 * u - 1.0))
        .collect();
    let dtype = device.dtype();
    let data = TensorData::new(values, shape).convert_dtype(dtype);
    Param::from_tensor(Tensor::from_data(data, (device.device(), dtype)))
}

fn linear(rng: &mut SeededRng, fan_in: usize, fan_out: usize, device: &SysDevice) -> Linear {
    Linear {
        weight: uniform_param(rng, [fan_in, fan_out], fan_in, device),
        bias: Some(uniform_param(rng, [fan_out], fan_in, device)),
    }
}

/// A small convolutional VAE for square images of side divisible by 4 (28×28: two stride-2
/// convolutions to 7×7, a linear layer to the code; a linear layer and two transposed
/// convolutions back), ReLU between layers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ConvVaeConfig {
    /// Image channels `C`.
    pub channels: usize,
    /// Image side `S` (a multiple of 4).
    pub side: usize,
    /// Channels after the first convolution (twice that after the second), e.g. 32.
    pub width: usize,
    /// The code's width.
    pub latent_width: usize,
    /// Classes of a conditional model (0: unconditional).
    pub classes: usize,
    /// The decoder's likelihood.
    pub likelihood: Likelihood,
}

impl ConvVaeConfig {
    /// An unconditional model for `channels × side × side` images.
    pub fn new(
        channels: usize,
        side: usize,
        width: usize,
        latent_width: usize,
        likelihood: Likelihood,
    ) -> Self {
        ConvVaeConfig {
            channels,
            side,
            width,
            latent_width,
            classes: 0,
            likelihood,
        }
    }

    /// Conditioned on `classes` classes.
    pub fn with_classes(mut self, classes: usize) -> Self {
        self.classes = classes;
        self
    }

    /// Refuses sides not divisible by 4, empty widths and an invalid likelihood.
    pub fn validate(&self) -> Result<(), GenerativeError> {
        if self.latent_width == 0 {
            return Err(latent_width_error());
        }
        if self.side == 0 || !self.side.is_multiple_of(4) {
            return Err(GenerativeError::InvalidParameter {
                name: "image side",
                value: self.side as f64,
                requirement: "must be a positive multiple of 4 (two stride-2 convolutions)",
            });
        }
        if self.channels == 0 || self.width == 0 {
            return Err(GenerativeError::InvalidParameter {
                name: "channels or width",
                value: 0.0,
                requirement: "must be at least 1",
            });
        }
        self.likelihood.validate()
    }

    fn features(&self) -> usize {
        2 * self.width * (self.side / 4) * (self.side / 4)
    }

    /// The model, its weights drawn from `seed` (uniform in `±1/√fan_in`) in the default
    /// precision of `device`.
    pub fn init(
        &self,
        device: &SysDevice,
        seed: u64,
    ) -> Result<Vae<ConvEncoder, ConvDecoder>, GenerativeError> {
        self.validate()?;
        let mut rng = SeededRng::new(seed);
        let (c, w) = (self.channels, self.width);
        let input = c + self.classes;
        let area = KERNEL * KERNEL;
        let encoder = ConvEncoder {
            kernels: vec![
                uniform_param(&mut rng, [w, input, KERNEL, KERNEL], input * area, device),
                uniform_param(&mut rng, [2 * w, w, KERNEL, KERNEL], w * area, device),
            ],
            biases: vec![
                uniform_param(&mut rng, [w], input * area, device),
                uniform_param(&mut rng, [2 * w], w * area, device),
            ],
            head: linear(&mut rng, self.features(), 2 * self.latent_width, device),
            config: *self,
        };
        let out_channels = self.likelihood.output_width(c);
        let decoder = ConvDecoder {
            project: linear(
                &mut rng,
                self.latent_width + self.classes,
                self.features(),
                device,
            ),
            // Transposed kernels are [in, out, k, k]; each output sees in·k²/4 inputs.
            kernels: vec![
                uniform_param(
                    &mut rng,
                    [2 * w, w, KERNEL, KERNEL],
                    2 * w * area / 4,
                    device,
                ),
                uniform_param(
                    &mut rng,
                    [w, out_channels, KERNEL, KERNEL],
                    w * area / 4,
                    device,
                ),
            ],
            biases: vec![
                uniform_param(&mut rng, [w], 2 * w * area / 4, device),
                uniform_param(&mut rng, [out_channels], w * area / 4, device),
            ],
            config: *self,
        };
        Vae::new(encoder, decoder, self.likelihood, device)
    }
}

/// The convolutional encoder of [`ConvVaeConfig`].
#[derive(Module, Debug)]
pub struct ConvEncoder {
    kernels: Vec<Param<Tensor<4>>>,
    biases: Vec<Param<Tensor<1>>>,
    head: Linear,
    #[module(skip)]
    config: ConvVaeConfig,
}

impl Encoder for ConvEncoder {
    fn data_width(&self) -> usize {
        self.config.channels * self.config.side * self.config.side
    }

    fn latent_width(&self) -> usize {
        self.config.latent_width
    }

    fn classes(&self) -> usize {
        self.config.classes
    }

    fn encode(
        &self,
        x: Tensor<2>,
        labels: Option<&[usize]>,
    ) -> Result<DiagonalGaussian, GenerativeError> {
        check_width(
            "image width (C·H·W) and the encoder's",
            &x,
            self.data_width(),
        )?;
        check_labels(self.config.classes, labels)?;
        let [rows, _] = x.dims();
        let (c, s) = (self.config.channels, self.config.side);
        let mut h = x.clone().reshape([rows, c, s, s]);
        if let Some(labels) = labels {
            let k = self.config.classes;
            let planes = one_hot_like(labels, k, rows, &x)?
                .reshape([rows, k, 1, 1])
                .expand([rows, k, s, s]);
            h = Tensor::cat(vec![h, planes], 1);
        }
        for (kernel, bias) in self.kernels.iter().zip(&self.biases) {
            h = relu(conv2d(h, kernel.val(), Some(bias.val()), down()));
        }
        let flat = h.reshape([rows, self.config.features()]);
        DiagonalGaussian::from_encoder_output(self.head.forward(flat))
    }
}

/// The convolutional decoder of [`ConvVaeConfig`]; its output is flattened channel-major,
/// `[rows, C'·S·S]` with `C'` the likelihood's parameter channels.
#[derive(Module, Debug)]
pub struct ConvDecoder {
    project: Linear,
    kernels: Vec<Param<Tensor<4>>>,
    biases: Vec<Param<Tensor<1>>>,
    #[module(skip)]
    config: ConvVaeConfig,
}

impl Decoder for ConvDecoder {
    fn latent_width(&self) -> usize {
        self.config.latent_width
    }

    fn output_width(&self) -> usize {
        let s = self.config.side;
        self.config.likelihood.output_width(self.config.channels) * s * s
    }

    fn classes(&self) -> usize {
        self.config.classes
    }

    fn decode(&self, z: Tensor<2>, labels: Option<&[usize]>) -> Result<Tensor<2>, GenerativeError> {
        check_width("code width and the decoder's", &z, self.config.latent_width)?;
        let [rows, _] = z.dims();
        let input = with_labels(z, self.config.classes, labels)?;
        let quarter = self.config.side / 4;
        let mut h = relu(self.project.forward(input)).reshape([
            rows,
            2 * self.config.width,
            quarter,
            quarter,
        ]);
        let last = self.kernels.len() - 1;
        for (i, (kernel, bias)) in self.kernels.iter().zip(&self.biases).enumerate() {
            h = conv_transpose2d(h, kernel.val(), Some(bias.val()), up());
            if i < last {
                h = relu(h);
            }
        }
        Ok(h.reshape([rows, self.output_width()]))
    }
}
