//! Encoders, decoders and the [`Vae`] that joins them with a likelihood.
//!
//! Data are rows `[batch, D]` (images flattened channel-major, `D = C·H·W`); codes are rows
//! `[batch, latent]`. An encoder returns `q(z|x)` as a [`DiagonalGaussian`] (its network
//! outputs `[μ, log σ²]`, `2·latent` wide); a decoder returns the raw parameters of
//! `p(x|z)`, whose meaning the [`Likelihood`] gives. A conditional model (`classes > 0`)
//! concatenates the label's one-hot vector to the encoder's input (as constant image planes
//! for the convolutional encoder) and to the decoder's input (Sohn et al. 2015).

use burn::module::{Module, ModuleDisplay, Param};
use burn::nn::Linear;
use burn::tensor::activation::relu;
use burn::tensor::module::{conv_transpose2d, conv2d};
use burn::tensor::ops::{ConvOptions, ConvTransposeOptions};
use burn::tensor::{Tensor, TensorData};
use sysdyn_core::device::SysDevice;
use sysdyn_core::jet::{Activation, JetForward, Mlp, MlpConfig};
use sysdyn_core::rng::SeededRng;

use crate::error::GenerativeError;
use crate::gan::dcgan::check_labels;
use crate::vae::bound::{FreeBits, LogMeanExp, check_samples, log_mean_exp};
use crate::vae::likelihood::Likelihood;
use crate::vae::posterior::{
    DiagonalGaussian, host_tensor_like, latent_width_error, standard_normal_like,
    standard_normal_log_prob,
};

/// `q(z|x)`: data rows to a diagonal Gaussian over codes.
pub trait Encoder: Module + ModuleDisplay {
    /// The data's width `D`.
    fn data_width(&self) -> usize;
    /// The code's width.
    fn latent_width(&self) -> usize;
    /// The number of classes of a conditional encoder (0: unconditional).
    fn classes(&self) -> usize {
        0
    }
    /// `q(z|x)` for the rows of `x` (`[batch, D]`), of the class of each row for a
    /// conditional encoder.
    fn encode(
        &self,
        x: Tensor<2>,
        labels: Option<&[usize]>,
    ) -> Result<DiagonalGaussian, GenerativeError>;
}

/// `p(x|z)`'s parameters from codes.
pub trait Decoder: Module + ModuleDisplay {
    /// The code's width.
    fn latent_width(&self) -> usize;
    /// The width of the output (the likelihood's parameters per row).
    fn output_width(&self) -> usize;
    /// The number of classes of a conditional decoder (0: unconditional).
    fn classes(&self) -> usize {
        0
    }
    /// The likelihood's parameters for the codes `z` (`[batch, latent]`).
    fn decode(&self, z: Tensor<2>, labels: Option<&[usize]>) -> Result<Tensor<2>, GenerativeError>;
}

/// The one-hot rows of `labels` (`[rows, classes]`) on the device and in the dtype of `like`,
/// after checking there is one label per row, each below `classes`.
pub fn one_hot_like(
    labels: &[usize],
    classes: usize,
    rows: usize,
    like: &Tensor<2>,
) -> Result<Tensor<2>, GenerativeError> {
    if labels.len() != rows {
        return Err(GenerativeError::ShapeMismatch {
            what: "rows and labels",
            left: vec![rows],
            right: vec![labels.len()],
        });
    }
    let mut values = vec![0.0; rows * classes];
    for (row, &label) in labels.iter().enumerate() {
        if label >= classes {
            return Err(GenerativeError::InvalidParameter {
                name: "label",
                value: label as f64,
                requirement: "labels must be below the model's number of classes",
            });
        }
        values[row * classes + label] = 1.0;
    }
    Ok(host_tensor_like(values, [rows, classes], like))
}

/// `[x, onehot(y)]` for a conditional network, `x` unchanged otherwise.
fn with_labels(
    x: Tensor<2>,
    classes: usize,
    labels: Option<&[usize]>,
) -> Result<Tensor<2>, GenerativeError> {
    check_labels(classes, labels)?;
    match labels {
        Some(labels) => {
            let [rows, _] = x.dims();
            let one_hot = one_hot_like(labels, classes, rows, &x)?;
            Ok(Tensor::cat(vec![x, one_hot], 1))
        }
        None => Ok(x),
    }
}

fn check_width(what: &'static str, x: &Tensor<2>, expected: usize) -> Result<(), GenerativeError> {
    let [_, width] = x.dims();
    if width == expected {
        Ok(())
    } else {
        Err(GenerativeError::ShapeMismatch {
            what,
            left: vec![width],
            right: vec![expected],
        })
    }
}

/// An MLP encoder: `[x, onehot(y)] ↦ [μ, log σ²]`.
#[derive(Module, Debug)]
pub struct MlpEncoder {
    net: Mlp,
    #[module(skip)]
    classes: usize,
}

impl MlpEncoder {
    /// An encoder from a network of input width `D + classes` and even output width
    /// `2·latent`.
    pub fn new(net: Mlp, classes: usize) -> Result<Self, GenerativeError> {
        let out = net.output_width();
        if out < 2 || !out.is_multiple_of(2) {
            return Err(GenerativeError::InvalidParameter {
                name: "encoder output width",
                value: out as f64,
                requirement: "must be 2·latent (μ and log σ²) with latent ≥ 1",
            });
        }
        if net.input_width() <= classes {
            return Err(GenerativeError::InvalidParameter {
                name: "encoder input width",
                value: net.input_width() as f64,
                requirement: "must be the data's width plus the number of classes",
            });
        }
        Ok(MlpEncoder { net, classes })
    }

    /// The network.
    pub fn network(&self) -> &Mlp {
        &self.net
    }
}

impl Encoder for MlpEncoder {
    fn data_width(&self) -> usize {
        self.net.input_width() - self.classes
    }

    fn latent_width(&self) -> usize {
        self.net.output_width() / 2
    }

    fn classes(&self) -> usize {
        self.classes
    }

    fn encode(
        &self,
        x: Tensor<2>,
        labels: Option<&[usize]>,
    ) -> Result<DiagonalGaussian, GenerativeError> {
        check_width("data width and the encoder's", &x, self.data_width())?;
        let input = with_labels(x, self.classes, labels)?;
        DiagonalGaussian::from_encoder_output(self.net.forward(input)?)
    }
}

/// An MLP decoder: `[z, onehot(y)] ↦` the likelihood's parameters.
#[derive(Module, Debug)]
pub struct MlpDecoder {
    net: Mlp,
    #[module(skip)]
    classes: usize,
}

impl MlpDecoder {
    /// A decoder from a network of input width `latent + classes`.
    pub fn new(net: Mlp, classes: usize) -> Result<Self, GenerativeError> {
        if net.input_width() <= classes {
            return Err(latent_width_error());
        }
        Ok(MlpDecoder { net, classes })
    }

    /// The network.
    pub fn network(&self) -> &Mlp {
        &self.net
    }
}

impl Decoder for MlpDecoder {
    fn latent_width(&self) -> usize {
        self.net.input_width() - self.classes
    }

    fn output_width(&self) -> usize {
        self.net.output_width()
    }

    fn classes(&self) -> usize {
        self.classes
    }

    fn decode(&self, z: Tensor<2>, labels: Option<&[usize]>) -> Result<Tensor<2>, GenerativeError> {
        check_width("code width and the decoder's", &z, self.latent_width())?;
        let input = with_labels(z, self.classes, labels)?;
        Ok(self.net.forward(input)?)
    }
}

/// An MLP VAE's shape: `D → hidden… → 2·latent` and `latent → reversed hidden… → output`.
#[derive(Debug, Clone, PartialEq)]
pub struct MlpVaeConfig {
    /// The data's width `D`.
    pub data_width: usize,
    /// The encoder's hidden widths (the decoder uses them reversed).
    pub hidden: Vec<usize>,
    /// The code's width.
    pub latent_width: usize,
    /// The hidden activation.
    pub activation: Activation,
    /// Classes of a conditional model (0: unconditional).
    pub classes: usize,
    /// The decoder's likelihood.
    pub likelihood: Likelihood,
}

impl MlpVaeConfig {
    /// An unconditional tanh MLP VAE.
    pub fn new(
        data_width: usize,
        hidden: Vec<usize>,
        latent_width: usize,
        likelihood: Likelihood,
    ) -> Self {
        MlpVaeConfig {
            data_width,
            hidden,
            latent_width,
            activation: Activation::Tanh,
            classes: 0,
            likelihood,
        }
    }

    /// Burda et al. (2016)'s two-layer MNIST model: 784-200-200-50, tanh, Bernoulli.
    pub fn burda_mnist() -> Self {
        Self::new(784, vec![200, 200], 50, Likelihood::Bernoulli)
    }

    /// The small ReLU MNIST model of many tutorials: 784-400-20, Bernoulli.
    pub fn relu_mnist() -> Self {
        Self::new(784, vec![400], 20, Likelihood::Bernoulli).with_activation(Activation::Relu)
    }

    /// With the hidden activation.
    pub fn with_activation(mut self, activation: Activation) -> Self {
        self.activation = activation;
        self
    }

    /// Conditioned on `classes` classes.
    pub fn with_classes(mut self, classes: usize) -> Self {
        self.classes = classes;
        self
    }

    /// Refuses empty widths and an invalid likelihood.
    pub fn validate(&self) -> Result<(), GenerativeError> {
        if self.latent_width == 0 {
            return Err(latent_width_error());
        }
        if self.data_width == 0 || self.hidden.contains(&0) {
            return Err(GenerativeError::InvalidParameter {
                name: "data or hidden width",
                value: 0.0,
                requirement: "every width must be at least 1",
            });
        }
        self.likelihood.validate()
    }

    /// The model, its weights drawn from `seed` (uniform in `±1/√fan_in`) in `device`'s
    /// precision.
    pub fn init(
        &self,
        device: &SysDevice,
        seed: u64,
    ) -> Result<Vae<MlpEncoder, MlpDecoder>, GenerativeError> {
        self.validate()?;
        let mut encoder_widths = vec![self.data_width + self.classes];
        encoder_widths.extend(&self.hidden);
        encoder_widths.push(2 * self.latent_width);
        let mut decoder_widths = vec![self.latent_width + self.classes];
        decoder_widths.extend(self.hidden.iter().rev());
        decoder_widths.push(self.likelihood.output_width(self.data_width));
        let encoder = MlpConfig::new(encoder_widths)
            .with_activation(self.activation)
            .init_seeded(device, seed)?;
        let decoder = MlpConfig::new(decoder_widths)
            .with_activation(self.activation)
            .init_seeded(device, seed.wrapping_add(1))?;
        Vae::new(
            MlpEncoder::new(encoder, self.classes)?,
            MlpDecoder::new(decoder, self.classes)?,
            self.likelihood,
            device,
        )
    }
}

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

/// The reconstruction and KL terms of the ELBO per row.
#[derive(Debug, Clone)]
pub struct ElboTerms {
    /// `E_q[log p(x|z)]` averaged over the samples, `[rows]`.
    pub reconstruction: Tensor<1>,
    /// `KL(q(z|x) ‖ N(0, I))`, `[rows]`.
    pub kl: Tensor<1>,
    /// The KL per latent dimension, `[rows, latent]`.
    pub kl_per_dimension: Tensor<2>,
}

impl ElboTerms {
    /// The ELBO per row, `reconstruction − kl`.
    pub fn bound(&self) -> Tensor<1> {
        self.reconstruction.clone() - self.kl.clone()
    }

    /// The loss to minimise, shape `[1]`: `−mean(reconstruction) + β·K`, with `K` the mean KL,
    /// or with free bits `Σⱼ max(λ, mean KLⱼ)`.
    pub fn loss(&self, beta: f64, free_bits: Option<FreeBits>) -> Tensor<1> {
        let kl = match free_bits {
            Some(free) => free.kl_term(self.kl_per_dimension.clone()),
            None => self.kl.clone().mean(),
        };
        self.reconstruction.clone().mean().neg() + kl.mul_scalar(beta)
    }
}

/// A variational autoencoder: an encoder `q(z|x)`, a decoder with its likelihood `p(x|z)`,
/// and the prior `N(0, I)`. With [`crate::vae::Variance::Shared`] it also holds the shared
/// decoder log-variance as a trained parameter (starting at 0, `σ² = 1`).
#[derive(Module, Debug)]
pub struct Vae<E: Encoder, D: Decoder> {
    /// `q(z|x)`.
    pub encoder: E,
    /// `p(x|z)`'s parameters.
    pub decoder: D,
    /// The shared `log σ²` of a Gaussian decoder with [`crate::vae::Variance::Shared`].
    pub log_var: Option<Param<Tensor<1>>>,
    #[module(skip)]
    likelihood: Likelihood,
}

impl<E: Encoder, D: Decoder> Vae<E, D> {
    /// Joins `encoder` and `decoder` (their code widths and classes must agree, and the
    /// decoder's output must be `likelihood.output_width(D)`); `device` holds the shared
    /// variance when there is one.
    pub fn new(
        encoder: E,
        decoder: D,
        likelihood: Likelihood,
        device: &SysDevice,
    ) -> Result<Self, GenerativeError> {
        likelihood.validate()?;
        if encoder.latent_width() == 0 || decoder.latent_width() == 0 {
            return Err(latent_width_error());
        }
        let pairs = [
            (
                "encoder's and decoder's code widths",
                encoder.latent_width(),
                decoder.latent_width(),
            ),
            (
                "encoder's and decoder's classes",
                encoder.classes(),
                decoder.classes(),
            ),
            (
                "decoder's output width and the likelihood's for the data",
                decoder.output_width(),
                likelihood.output_width(encoder.data_width()),
            ),
        ];
        for (what, left, right) in pairs {
            if left != right {
                return Err(GenerativeError::ShapeMismatch {
                    what,
                    left: vec![left],
                    right: vec![right],
                });
            }
        }
        let log_var = likelihood
            .has_shared_variance()
            .then(|| Param::from_tensor(device.zeros([1])));
        Ok(Vae {
            encoder,
            decoder,
            log_var,
            likelihood,
        })
    }

    /// The likelihood.
    pub fn likelihood(&self) -> Likelihood {
        self.likelihood
    }

    /// The data's width.
    pub fn data_width(&self) -> usize {
        self.encoder.data_width()
    }

    /// The code's width.
    pub fn latent_width(&self) -> usize {
        self.encoder.latent_width()
    }

    /// The number of classes (0: unconditional).
    pub fn classes(&self) -> usize {
        self.encoder.classes()
    }

    /// The shared decoder variance `σ²`, when the likelihood has one.
    pub fn shared_variance(&self) -> Option<f64> {
        self.log_var
            .as_ref()
            .map(|p| p.val().into_scalar::<f64>().exp())
    }

    /// `q(z|x)`.
    pub fn encode(
        &self,
        x: Tensor<2>,
        labels: Option<&[usize]>,
    ) -> Result<DiagonalGaussian, GenerativeError> {
        self.encoder.encode(x, labels)
    }

    /// `p(x|z)`'s parameters.
    pub fn decode(
        &self,
        z: Tensor<2>,
        labels: Option<&[usize]>,
    ) -> Result<Tensor<2>, GenerativeError> {
        self.decoder.decode(z, labels)
    }

    /// The mean of `p(x|z)` (see [`Likelihood::mean`]).
    pub fn decode_mean(
        &self,
        z: Tensor<2>,
        labels: Option<&[usize]>,
    ) -> Result<Tensor<2>, GenerativeError> {
        Ok(self.likelihood.mean(self.decode(z, labels)?))
    }

    /// `log p(x|z)` per row for the decoder's `output` at `z`.
    pub fn log_likelihood(
        &self,
        x: Tensor<2>,
        output: Tensor<2>,
    ) -> Result<Tensor<1>, GenerativeError> {
        self.likelihood
            .log_prob(x, output, self.log_var.as_ref().map(Param::val))
    }

    /// The ELBO's terms with `samples` reparametrised draws of `z` per row.
    pub fn elbo(
        &self,
        x: Tensor<2>,
        labels: Option<&[usize]>,
        samples: usize,
        rng: &mut SeededRng,
    ) -> Result<ElboTerms, GenerativeError> {
        check_samples(samples)?;
        let [rows, _] = x.dims();
        let posterior = self.encode(x.clone(), labels)?;
        let z = posterior.repeat(samples).sample(rng);
        let tiled = tile(labels, samples);
        let output = self.decode(z, tiled.as_deref())?;
        let log_px = self.log_likelihood(x.repeat_dim(0, samples), output)?;
        let reconstruction = log_px.reshape([samples, rows]).mean_dim(0).reshape([rows]);
        Ok(ElboTerms {
            reconstruction,
            kl: posterior.kl_to_standard_normal(),
            kl_per_dimension: posterior.kl_per_dimension(),
        })
    }

    /// The log importance weights `log p(x|zₛ) + log p(zₛ) − log q(zₛ|x)` of `samples` draws
    /// per row, `[samples, rows]`.
    pub fn log_weights(
        &self,
        x: Tensor<2>,
        labels: Option<&[usize]>,
        samples: usize,
        rng: &mut SeededRng,
    ) -> Result<Tensor<2>, GenerativeError> {
        check_samples(samples)?;
        let posterior = self.encode(x.clone(), labels)?;
        self.log_weights_of(&posterior, x, labels, samples, rng)
    }

    fn log_weights_of(
        &self,
        posterior: &DiagonalGaussian,
        x: Tensor<2>,
        labels: Option<&[usize]>,
        samples: usize,
        rng: &mut SeededRng,
    ) -> Result<Tensor<2>, GenerativeError> {
        let [rows, _] = x.dims();
        let stacked = posterior.repeat(samples);
        let eps = standard_normal_like(&stacked.mean(), rng);
        let z = stacked.sample_with(eps)?;
        let tiled = tile(labels, samples);
        let output = self.decode(z.clone(), tiled.as_deref())?;
        let log_px = self.log_likelihood(x.repeat_dim(0, samples), output)?;
        let log_w = log_px + standard_normal_log_prob(z.clone()) - stacked.log_prob(z)?;
        Ok(log_w.reshape([samples, rows]))
    }

    /// The IWAE bound `log (1/k) Σₛ wₛ` per row with `k = samples` (differentiable).
    pub fn iwae(
        &self,
        x: Tensor<2>,
        labels: Option<&[usize]>,
        samples: usize,
        rng: &mut SeededRng,
    ) -> Result<Tensor<1>, GenerativeError> {
        Ok(log_mean_exp(self.log_weights(x, labels, samples, rng)?))
    }

    /// The IWAE estimate of `log p(x)` per row with `samples` draws, evaluated `chunk` draws
    /// at a time (so `k` = 5000 fits memory) and combined on the host; no graph is kept.
    pub fn importance_log_likelihood(
        &self,
        x: Tensor<2>,
        labels: Option<&[usize]>,
        samples: usize,
        chunk: usize,
        rng: &mut SeededRng,
    ) -> Result<Vec<f64>, GenerativeError> {
        check_samples(samples)?;
        check_samples(chunk)?;
        let [rows, _] = x.dims();
        let posterior = self.encode(x.clone().detach(), labels)?;
        let mut total = LogMeanExp::new(rows);
        let mut done = 0;
        while done < samples {
            let now = chunk.min(samples - done);
            let log_w = self.log_weights_of(&posterior, x.clone(), labels, now, rng)?;
            total.add(&host_values(log_w.detach()), now)?;
            done += now;
        }
        Ok(total.value())
    }

    /// The decoder's mean at the posterior mean of each row: the reconstruction.
    pub fn reconstruct(
        &self,
        x: Tensor<2>,
        labels: Option<&[usize]>,
    ) -> Result<Tensor<2>, GenerativeError> {
        let posterior = self.encode(x, labels)?;
        self.decode_mean(posterior.mean(), labels)
    }

    /// `rows` samples: codes from the prior `N(0, I)` drawn by `rng` on `device`, decoded to
    /// the decoder's mean (of the given classes for a conditional model).
    pub fn sample(
        &self,
        rows: usize,
        labels: Option<&[usize]>,
        device: &SysDevice,
        rng: &mut SeededRng,
    ) -> Result<Tensor<2>, GenerativeError> {
        let z = device.randn(rng, [rows, self.latent_width()]);
        self.decode_mean(z, labels)
    }
}

/// `labels` repeated `times` times, matching [`DiagonalGaussian::repeat`]'s row layout.
fn tile(labels: Option<&[usize]>, times: usize) -> Option<Vec<usize>> {
    labels.map(|l| l.repeat(times))
}

/// The values of a tensor on the host as `f64` (a conversion that cannot fail for float
/// tensors; an empty vector otherwise).
pub(crate) fn host_values<const D: usize>(t: Tensor<D>) -> Vec<f64> {
    t.into_data()
        .convert::<f64>()
        .try_to_vec::<f64>()
        .unwrap_or_default()
}
