//! MLP encoders and decoders (Kingma & Welling 2014; Burda et al. 2016's 784-200-200-50),
//! optionally conditioned on a one-hot label concatenated to their inputs.

use burn::module::Module;
use burn::tensor::Tensor;
use sysdyn_core::device::SysDevice;
use sysdyn_core::jet::{Activation, JetForward, Mlp, MlpConfig};

use crate::error::GenerativeError;
use crate::vae::likelihood::Likelihood;
use crate::vae::models::{Decoder, Encoder, Vae, check_width, with_labels};
use crate::vae::posterior::{DiagonalGaussian, latent_width_error};

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
