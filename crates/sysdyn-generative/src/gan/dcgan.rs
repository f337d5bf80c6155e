//! DCGAN players for small images (Radford, Metz & Chintala 2016): a generator of transposed
//! convolutions with batch normalisation and ReLU, ending in `tanh`, and a critic of strided
//! convolutions with LeakyReLU 0.2, optionally class-conditioned (label channels or a projection
//! discriminator).
//!
//! Both players work on flattened images, `[batch, channels·rows·cols]`, so they plug into the
//! same [`GanStep`](crate::gan::GanStep) as the MLP players.
//!
//! # The critic's input gradient
//!
//! The gradient penalties need `∇ₓD(x)` inside a loss that is differentiated again with respect
//! to the critic's parameters, and burn's autodiff is first order. For MLP critics the
//! forward-mode jets of `sysdyn_core::jet` compute it with one tangent per input feature. For an
//! image that would be one tangent per pixel (784 stacked copies of the batch for 28×28), so
//! [`DcganCritic::input_gradient`] instead writes out the reverse pass of its own layers as
//! ordinary tensor operations: the head's row, LeakyReLU's slope mask (`1` or `0.2`, piecewise
//! constant), and each strided convolution's adjoint, the transposed convolution with the same
//! kernel. That costs about one more forward pass, and burn differentiates it like any other
//! loss. Supported layers: strided convolutions, LeakyReLU, the linear head, label channels and
//! the projection term, and spectral normalisation ([`CriticNorm::Spectral`]: the normalised
//! kernels are constants of the pass, so the adjoint uses them as they are). A critic with
//! batch normalisation is refused
//! ([`GenerativeError::Unsupported`]): batch statistics couple the rows, so a per-sample gradient
//! is not what the penalty constrains (the WGAN-GP paper drops batch norm from the critic too).

use burn::module::{Module, Param};
use burn::nn::{BatchNorm, BatchNormConfig};
use burn::tensor::activation::{leaky_relu, relu, tanh};
use burn::tensor::module::{conv_transpose2d, conv2d};
use burn::tensor::ops::{ConvOptions, ConvTransposeOptions};
use burn::tensor::{Device, Tensor, TensorData};
use sysdyn_core::rng::SeededRng;

use crate::error::GenerativeError;
use crate::gan::conditional::LabelEmbedding;
use crate::gan::models::{Critic, Generator};
use crate::gan::spectral::{SpectralNorm, matrix_view};
pub use crate::inputs::ImageShape;
pub(crate) use crate::inputs::{check_labels, check_width};

/// LeakyReLU's slope for negative inputs in the critic (DCGAN's 0.2).
pub const LEAKY_SLOPE: f64 = 0.2;
/// Every (transposed) convolution has a 4×4 kernel, stride 2 and padding 1: it halves (doubles)
/// the image side exactly.
const KERNEL: usize = 4;
const STRIDE: usize = 2;
const PADDING: usize = 1;
/// DCGAN's initialisation: weights from N(0, 0.02²).
const INIT_STD: f64 = 0.02;

/// Normalisation inside the critic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CriticNorm {
    /// None: the WGAN-GP and R1 critics (their penalties need per-sample input gradients).
    None,
    /// Batch normalisation after every convolution but the first, as DCGAN's discriminator.
    Batch,
    /// Spectral normalisation (Miyato et al. 2018) of every convolution kernel (seen as
    /// `[out, in·4·4]`) and of the linear head, one power iteration per critic update
    /// ([`Critic::before_update`]); the projection table is left as it is.
    Spectral,
}

/// How a conditional critic sees the class.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CriticConditioning {
    /// The label's embedding appended to the image as constant channels (conditional GAN,
    /// Mirza & Osindero 2014).
    LabelChannels,
    /// The projection discriminator (Miyato & Koyama 2018): `D(x, y) = ψ(φ(x)) + ⟨e(y), φ(x)⟩`
    /// with `φ` the flattened last convolution features.
    Projection,
}

/// How a conditional generator sees the class.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GeneratorConditioning {
    /// The label's embedding appended to `z` (conditional GAN, Mirza & Osindero 2014).
    Concat,
    /// Conditional batch norm: the generator maps `z` alone, and each batch norm's output is
    /// scaled and shifted per channel by a learned vector of the class (de Vries et al. 2017,
    /// the generator of Miyato & Koyama 2018). Batch statistics are then those of `z`'s
    /// features only: with the label in the input, between-class differences can dominate
    /// them and normalise the within-class variation from `z` away.
    BatchNorm,
}

/// The sizes of a DCGAN pair. [`DcganConfig::validate`] checks them.
#[derive(Debug, Clone, PartialEq)]
pub struct DcganConfig {
    /// The images' layout.
    pub image: ImageShape,
    /// The latent code's width.
    pub latent_width: usize,
    /// Channels of the critic's first convolution and of the generator's last hidden layer;
    /// they double at each level further from the image (DCGAN: 64 or 128).
    pub width: usize,
    /// Resolution levels: the generator starts from `rows / 2^levels` (7 for 28×28 with 2
    /// levels, 4 for 32×32 with 3) and the critic ends there.
    pub levels: usize,
    /// Classes of a conditional pair (0: unconditional).
    pub classes: usize,
    /// Width of the generator's label embedding (and of the critic's label channels).
    pub label_width: usize,
    /// The critic's normalisation.
    pub critic_norm: CriticNorm,
    /// How a conditional critic sees the class.
    pub conditioning: CriticConditioning,
    /// How a conditional generator sees the class.
    pub generator_conditioning: GeneratorConditioning,
    /// Standard deviation of the initial conditional batch norm tables (`γ` and `β` per class
    /// and channel; 0: every class starts with the plain batch norm).
    pub class_norm_std: f64,
    /// The critic's minibatch standard deviation channel (Karras et al. 2018): before its last
    /// convolution the critic appends one constant channel holding the standard deviation of
    /// that layer's features over the batch, averaged over features and positions, so it can
    /// tell a batch of near-identical samples (a dropped or collapsed mode) from a varied one.
    pub minibatch_std: bool,
}

impl DcganConfig {
    /// An unconditional pair for `image`, with DCGAN's batch-normalised critic and as many
    /// levels (up to 3) as halve the image's sides exactly down to at least 4 pixels.
    pub fn new(image: ImageShape, latent_width: usize, width: usize) -> Self {
        let mut levels = 0;
        while levels < 3
            && image.rows.is_multiple_of(1 << (levels + 1))
            && image.cols.is_multiple_of(1 << (levels + 1))
            && image.rows >> (levels + 1) >= 4
            && image.cols >> (levels + 1) >= 4
        {
            levels += 1;
        }
        DcganConfig {
            image,
            latent_width,
            width,
            levels: levels.max(1),
            classes: 0,
            label_width: 0,
            critic_norm: CriticNorm::Batch,
            conditioning: CriticConditioning::Projection,
            generator_conditioning: GeneratorConditioning::Concat,
            // Zero tables start the generator label-blind while the projection critic's class
            // term starts small too: on procedural digits the generator then settled on weak
            // class adherence (37 % and 73 % of samples in the class asked for, two seeds);
            // drawn from N(0, 0.5²), the classes differ from the first step (97 %).
            class_norm_std: 0.5,
            minibatch_std: false,
        }
    }

    /// With the given generator conditioning (for a conditional pair).
    pub fn with_generator_conditioning(mut self, conditioning: GeneratorConditioning) -> Self {
        self.generator_conditioning = conditioning;
        self
    }

    /// With conditional batch norm tables drawn from N(0, `std`²) (0: zeros).
    pub fn with_class_norm_std(mut self, std: f64) -> Self {
        self.class_norm_std = std;
        self
    }

    /// With or without the critic's minibatch standard deviation channel. Batch norm after the
    /// last convolution would subtract most of that channel's (batch-constant) contribution
    /// again, so it goes with [`CriticNorm::None`].
    pub fn with_minibatch_std(mut self, on: bool) -> Self {
        self.minibatch_std = on;
        self
    }

    /// Conditioned on `classes` classes, the generator's label embedding `label_width` wide.
    pub fn with_classes(
        mut self,
        classes: usize,
        label_width: usize,
        conditioning: CriticConditioning,
    ) -> Self {
        self.classes = classes;
        self.label_width = label_width;
        self.conditioning = conditioning;
        self
    }

    /// With the given critic normalisation.
    pub fn with_critic_norm(mut self, norm: CriticNorm) -> Self {
        self.critic_norm = norm;
        self
    }

    /// With `levels` resolution levels.
    pub fn with_levels(mut self, levels: usize) -> Self {
        self.levels = levels;
        self
    }

    /// The smallest feature map, `(rows, cols)`.
    pub fn base(&self) -> (usize, usize) {
        (
            self.image.rows >> self.levels,
            self.image.cols >> self.levels,
        )
    }

    /// Channels after the critic's convolution `level` (0-based), and of the generator's input
    /// to its transposed convolution `levels − 1 − level`.
    fn channels_at(&self, level: usize) -> usize {
        self.width << level
    }

    /// Checks the sizes.
    pub fn validate(&self) -> Result<(), GenerativeError> {
        let invalid = |name, value: usize, requirement| {
            Err(GenerativeError::InvalidParameter {
                name,
                value: value as f64,
                requirement,
            })
        };
        self.image
            .check_levels("DCGAN size", self.width, self.levels, 1)?;
        if self.latent_width == 0 {
            return invalid("latent_width", 0, "must be at least 1");
        }
        if self.classes > 0 && self.label_width == 0 {
            return invalid(
                "label_width",
                0,
                "a conditional pair needs a label embedding at least 1 wide",
            );
        }
        if !self.class_norm_std.is_finite() || self.class_norm_std < 0.0 {
            return Err(GenerativeError::InvalidParameter {
                name: "class_norm_std",
                value: self.class_norm_std,
                requirement: "must be finite and at least 0",
            });
        }
        Ok(())
    }

    /// The generator, its weights drawn by `rng` in the default float type of `device`.
    pub fn init_generator(
        &self,
        device: &Device,
        rng: &mut SeededRng,
    ) -> Result<DcganGenerator, GenerativeError> {
        self.validate()?;
        let (base_rows, base_cols) = self.base();
        let top = self.channels_at(self.levels - 1);
        let concat =
            self.classes > 0 && self.generator_conditioning == GeneratorConditioning::Concat;
        let embedding = concat
            .then(|| LabelEmbedding::new(self.classes, self.label_width, device, rng))
            .transpose()?;
        let input = self.latent_width + if concat { self.label_width } else { 0 };
        let project = normal_param(rng, [input, top * base_rows * base_cols], device);
        let project_bias = zeros_param([top * base_rows * base_cols], device);
        let mut norms = vec![BatchNormConfig::new(top).init(device)];
        let mut kernels = Vec::with_capacity(self.levels);
        let mut biases = Vec::with_capacity(self.levels);
        for step in 0..self.levels {
            let level = self.levels - 1 - step;
            let input = self.channels_at(level);
            let output = if level == 0 {
                self.image.channels
            } else {
                self.channels_at(level - 1)
            };
            kernels.push(normal_param(rng, [input, output, KERNEL, KERNEL], device));
            biases.push(zeros_param([output], device));
            if level > 0 {
                norms.push(BatchNormConfig::new(output).init(device));
            }
        }
        let class_norms = if self.classes > 0
            && self.generator_conditioning == GeneratorConditioning::BatchNorm
        {
            norms
                .iter()
                .map(|norm| {
                    let width = 2 * norm.gamma.dims()[0];
                    if self.class_norm_std == 0.0 {
                        return LabelEmbedding::zeros(self.classes, width, device);
                    }
                    let mut table = LabelEmbedding::new(self.classes, width, device, rng)?;
                    // A new leaf, as for the projection table above.
                    table.table = Param::from_tensor(
                        table.table.val().mul_scalar(self.class_norm_std).detach(),
                    );
                    Ok(table)
                })
                .collect::<Result<Vec<_>, _>>()?
        } else {
            Vec::new()
        };
        Ok(DcganGenerator {
            embedding,
            class_norms,
            project,
            project_bias,
            norms,
            kernels,
            biases,
            config: self.clone(),
        })
    }

    /// The critic, its weights drawn by `rng` in the default float type of `device`.
    pub fn init_critic(
        &self,
        device: &Device,
        rng: &mut SeededRng,
    ) -> Result<DcganCritic, GenerativeError> {
        self.validate()?;
        let (base_rows, base_cols) = self.base();
        let features = self.channels_at(self.levels - 1) * base_rows * base_cols;
        let label_channels = match (self.classes, self.conditioning) {
            (0, _) | (_, CriticConditioning::Projection) => 0,
            (_, CriticConditioning::LabelChannels) => self.label_width,
        };
        let embedding = match (self.classes, self.conditioning) {
            (0, _) => None,
            (classes, CriticConditioning::LabelChannels) => {
                Some(LabelEmbedding::new(classes, self.label_width, device, rng)?)
            }
            (classes, CriticConditioning::Projection) => {
                let mut table = LabelEmbedding::new(classes, features, device, rng)?;
                // Start the class term small against the base score. The scaled table must be
                // a new leaf: a parameter holding a graph node would be consumed by the first
                // backward pass.
                table.table = Param::from_tensor(table.table.val().mul_scalar(INIT_STD).detach());
                Some(table)
            }
        };
        let mut kernels = Vec::with_capacity(self.levels);
        let mut biases = Vec::with_capacity(self.levels);
        let mut norms = Vec::new();
        for level in 0..self.levels {
            let input = if level == 0 {
                self.image.channels + label_channels
            } else {
                self.channels_at(level - 1)
            } + usize::from(self.minibatch_std && level + 1 == self.levels);
            let output = self.channels_at(level);
            kernels.push(normal_param(rng, [output, input, KERNEL, KERNEL], device));
            biases.push(zeros_param([output], device));
            if level > 0 && self.critic_norm == CriticNorm::Batch {
                norms.push(BatchNormConfig::new(output).init(device));
            }
        }
        let head = normal_param(rng, [features, 1], device);
        let spectral = if self.critic_norm == CriticNorm::Spectral {
            let mut norms: Vec<SpectralNorm> = kernels
                .iter()
                .map(|kernel| SpectralNorm::new(&kernel.val(), rng))
                .collect();
            norms.push(SpectralNorm::new(&head.val(), rng));
            norms
        } else {
            Vec::new()
        };
        Ok(DcganCritic {
            embedding,
            kernels,
            biases,
            norms,
            spectral,
            head,
            head_bias: zeros_param([1], device),
            config: self.clone(),
        })
    }
}

/// The DCGAN generator: `z` (with the label's embedding appended, when conditional) → a linear
/// map to the smallest feature map → batch norm, ReLU → transposed convolutions that double the
/// side, each but the last followed by batch norm and ReLU → `tanh`, pixels in `[−1, 1]`.
#[derive(Module, Debug)]
pub struct DcganGenerator {
    embedding: Option<LabelEmbedding>,
    /// Conditional batch norm's `[γ, β]` tables, one per batch norm (empty otherwise).
    class_norms: Vec<LabelEmbedding>,
    project: Param<Tensor<2>>,
    project_bias: Param<Tensor<1>>,
    norms: Vec<BatchNorm>,
    kernels: Vec<Param<Tensor<4>>>,
    biases: Vec<Param<Tensor<1>>>,
    #[module(skip)]
    config: DcganConfig,
}

impl DcganGenerator {
    /// The sizes it was built with.
    pub fn config(&self) -> &DcganConfig {
        &self.config
    }
}

impl Generator for DcganGenerator {
    fn latent_width(&self) -> usize {
        self.config.latent_width
    }

    fn classes(&self) -> usize {
        self.config.classes
    }

    fn generate(
        &self,
        z: Tensor<2>,
        labels: Option<&[usize]>,
    ) -> Result<Tensor<2>, GenerativeError> {
        let [batch, width] = z.dims();
        check_width("generator input (latent code)", width, self.latent_width())?;
        if batch == 0 {
            return Err(GenerativeError::EmptyBatch {
                what: "latent codes",
            });
        }
        check_labels(self.config.classes, labels)?;
        let input = match (&self.embedding, labels) {
            (Some(embedding), Some(labels)) => embedding.concat(z, labels)?,
            _ => z,
        };
        // Batch norm, then the class's scale and shift under conditional batch norm.
        let normalise = |level: usize, h: Tensor<4>| -> Result<Tensor<4>, GenerativeError> {
            let h = self.norms[level].forward(h);
            match (self.class_norms.get(level), labels) {
                (Some(table), Some(labels)) => table.modulate(h, labels),
                _ => Ok(h),
            }
        };
        let config = &self.config;
        let (base_rows, base_cols) = config.base();
        let top = config.channels_at(config.levels - 1);
        let h = input.matmul(self.project.val()) + self.project_bias.val().unsqueeze();
        let mut h = relu(normalise(0, h.reshape([batch, top, base_rows, base_cols]))?);
        let last = self.kernels.len() - 1;
        for (step, (kernel, bias)) in self.kernels.iter().zip(&self.biases).enumerate() {
            h = conv_transpose2d(h, kernel.val(), Some(bias.val()), upsample_options());
            h = if step < last {
                relu(normalise(step + 1, h)?)
            } else {
                tanh(h)
            };
        }
        Ok(h.reshape([batch, config.image.features()]))
    }
}

/// The DCGAN critic: strided 4×4 convolutions that halve the side, LeakyReLU 0.2 (with batch
/// norm after all but the first, for [`CriticNorm::Batch`]), then a linear head to one score;
/// conditional critics see the label as extra channels or through the projection term.
#[derive(Module, Debug)]
pub struct DcganCritic {
    embedding: Option<LabelEmbedding>,
    kernels: Vec<Param<Tensor<4>>>,
    biases: Vec<Param<Tensor<1>>>,
    norms: Vec<BatchNorm>,
    /// Spectral normalisation of each kernel and then of the head (empty otherwise).
    spectral: Vec<SpectralNorm>,
    head: Param<Tensor<2>>,
    head_bias: Param<Tensor<1>>,
    #[module(skip)]
    config: DcganConfig,
}

/// What the critic's forward pass keeps for its input gradient.
struct CriticPass {
    /// The pre-activations of each convolution.
    pre_activations: Vec<Tensor<4>>,
    /// The flattened last features `φ(x)`.
    features: Tensor<2>,
}

impl DcganCritic {
    /// The sizes it was built with.
    pub fn config(&self) -> &DcganConfig {
        &self.config
    }

    /// Convolution `level`'s kernel, spectrally normalised under [`CriticNorm::Spectral`].
    fn kernel(&self, level: usize) -> Tensor<4> {
        let kernel = self.kernels[level].val();
        match self.spectral.get(level) {
            Some(norm) => norm.normalised(kernel),
            None => kernel,
        }
    }

    /// The head's column, spectrally normalised under [`CriticNorm::Spectral`].
    fn head(&self) -> Tensor<2> {
        let head = self.head.val();
        match self.spectral.last() {
            Some(norm) => norm.normalised(head),
            None => head,
        }
    }

    /// The current estimates of the largest singular values of the kernels' matrix views and
    /// of the head (empty unless the critic is spectrally normalised).
    pub fn sigmas(&self) -> Vec<f64> {
        let weights = self.kernels.iter().map(|k| matrix_view(k.val()));
        weights
            .chain(std::iter::once(self.head.val()))
            .zip(&self.spectral)
            .map(|(w, norm)| norm.sigma(w).into_scalar::<f64>())
            .collect()
    }

    /// The flattened features `φ(x)` of the last convolution, `[batch, features]`: the
    /// representation a projection discriminator scores (and a Fréchet distance can compare).
    pub fn features(
        &self,
        x: Tensor<2>,
        labels: Option<&[usize]>,
    ) -> Result<Tensor<2>, GenerativeError> {
        Ok(self.pass(x, labels)?.features)
    }

    fn pass(&self, x: Tensor<2>, labels: Option<&[usize]>) -> Result<CriticPass, GenerativeError> {
        let config = &self.config;
        let [batch, width] = x.dims();
        check_width(
            "critic input (flattened image channels·rows·cols)",
            width,
            config.image.features(),
        )?;
        if batch == 0 {
            return Err(GenerativeError::EmptyBatch {
                what: "critic input",
            });
        }
        check_labels(config.classes, labels)?;
        let ImageShape {
            channels,
            rows,
            cols,
        } = config.image;
        let mut h = x.reshape([batch, channels, rows, cols]);
        if let (Some(embedding), CriticConditioning::LabelChannels, Some(labels)) =
            (&self.embedding, config.conditioning, labels)
        {
            let planes = embedding
                .embed(labels)?
                .reshape([batch, config.label_width, 1, 1])
                .expand([batch, config.label_width, rows, cols]);
            h = Tensor::cat(vec![h, planes], 1);
        }
        let mut pre_activations = Vec::with_capacity(self.kernels.len());
        for (level, bias) in self.biases.iter().enumerate() {
            if config.minibatch_std && level + 1 == self.kernels.len() {
                h = with_minibatch_std(h);
            }
            let mut z = conv2d(
                h,
                self.kernel(level),
                Some(bias.val()),
                downsample_options(),
            );
            if level > 0 && !self.norms.is_empty() {
                z = self.norms[level - 1].forward(z);
            }
            h = leaky_relu(z.clone(), LEAKY_SLOPE);
            pre_activations.push(z);
        }
        let features = h.flatten(1, 3);
        Ok(CriticPass {
            pre_activations,
            features,
        })
    }

    fn head_score(
        &self,
        features: Tensor<2>,
        labels: Option<&[usize]>,
    ) -> Result<Tensor<2>, GenerativeError> {
        let base = features.clone().matmul(self.head()) + self.head_bias.val().unsqueeze();
        match (&self.embedding, self.config.conditioning, labels) {
            (Some(embedding), CriticConditioning::Projection, Some(labels)) => {
                embedding.project(base, features, labels)
            }
            _ => Ok(base),
        }
    }
}

impl Critic for DcganCritic {
    fn classes(&self) -> usize {
        self.config.classes
    }

    fn before_update(&mut self) {
        let weights: Vec<Tensor<2>> = self
            .kernels
            .iter()
            .map(|k| matrix_view(k.val()))
            .chain(std::iter::once(self.head.val()))
            .collect();
        for (norm, weight) in self.spectral.iter_mut().zip(&weights) {
            norm.power_iteration(weight);
        }
    }

    fn score(&self, x: Tensor<2>, labels: Option<&[usize]>) -> Result<Tensor<2>, GenerativeError> {
        let pass = self.pass(x, labels)?;
        self.head_score(pass.features, labels)
    }

    fn input_gradient(
        &self,
        x: Tensor<2>,
        labels: Option<&[usize]>,
    ) -> Result<Tensor<2>, GenerativeError> {
        if !self.norms.is_empty() {
            return Err(GenerativeError::Unsupported {
                what: "the input gradient of a critic with batch normalisation (batch statistics \
                       couple the rows); build the critic with CriticNorm::None for gradient \
                       penalties",
            });
        }
        if self.config.minibatch_std {
            return Err(GenerativeError::Unsupported {
                what: "the input gradient of a critic with the minibatch standard deviation \
                       channel (it couples the rows); build the critic without it for gradient \
                       penalties",
            });
        }
        let config = &self.config;
        let [batch, _] = x.dims();
        let pass = self.pass(x, labels)?;
        let [_, feature_width] = pass.features.dims();
        // ∂score/∂φ: the head's column, plus e(y) for the projection term.
        let mut cotangent = self
            .head()
            .reshape([1, feature_width])
            .expand([batch, feature_width]);
        if let (Some(embedding), CriticConditioning::Projection, Some(labels)) =
            (&self.embedding, config.conditioning, labels)
        {
            cotangent = cotangent + embedding.embed(labels)?;
        }
        let last = &pass.pre_activations[pass.pre_activations.len() - 1];
        let mut g = cotangent.reshape(last.dims());
        for (level, z) in pass.pre_activations.iter().enumerate().rev() {
            g = g * leaky_relu_slope(z);
            let input_side = (config.image.rows >> level, config.image.cols >> level);
            g = conv_transpose2d(
                g,
                self.kernel(level),
                None,
                adjoint_options(z.dims(), input_side),
            );
        }
        let ImageShape {
            channels,
            rows,
            cols,
        } = config.image;
        Ok(g.narrow(1, 0, channels)
            .reshape([batch, channels * rows * cols]))
    }
}

/// `h` (`[batch, channels, rows, cols]`) with one more channel, constant over the batch and the
/// positions: the standard deviation over the batch of every feature of `h`, averaged.
fn with_minibatch_std(h: Tensor<4>) -> Tensor<4> {
    let [batch, _, rows, cols] = h.dims();
    let spread = h
        .clone()
        .var_bias(0)
        .add_scalar(1e-8)
        .sqrt()
        .mean()
        .reshape([1, 1, 1, 1])
        .expand([batch, 1, rows, cols]);
    Tensor::cat(vec![h, spread], 1)
}

/// LeakyReLU's derivative at `z`: 1 where `z > 0`, [`LEAKY_SLOPE`] elsewhere, in `z`'s dtype.
fn leaky_relu_slope(z: &Tensor<4>) -> Tensor<4> {
    z.ones_like()
        .mask_fill(z.clone().lower_equal_elem(0.0), LEAKY_SLOPE)
        .detach()
}

pub(crate) fn downsample_options() -> ConvOptions<2> {
    ConvOptions::new([STRIDE; 2], [PADDING; 2], [1; 2], 1)
}

pub(crate) fn upsample_options() -> ConvTransposeOptions<2> {
    ConvTransposeOptions::new([STRIDE; 2], [PADDING; 2], [0; 2], [1; 2], 1)
}

/// The transposed convolution that is the adjoint of a downsampling convolution from an input
/// of side `input_side` to the output `output` (`[batch, channels, rows, cols]`): the output
/// padding restores the input's side where the stride dropped a remainder.
fn adjoint_options(output: [usize; 4], input_side: (usize, usize)) -> ConvTransposeOptions<2> {
    let restored = |out: usize| (out - 1) * STRIDE + KERNEL - 2 * PADDING;
    let padding_out = [
        input_side.0.saturating_sub(restored(output[2])),
        input_side.1.saturating_sub(restored(output[3])),
    ];
    ConvTransposeOptions::new([STRIDE; 2], [PADDING; 2], padding_out, [1; 2], 1)
}

pub(crate) fn normal_param<const D: usize>(
    rng: &mut SeededRng,
    shape: [usize; D],
    device: &Device,
) -> Param<Tensor<D>> {
    let count = shape.iter().product();
    let values: Vec<f64> = rng
        .normals(count)
        .into_iter()
        .map(|v| v * INIT_STD)
        .collect();
    Param::from_tensor(Tensor::from_data(TensorData::new(values, shape), device))
}

pub(crate) fn zeros_param<const D: usize>(shape: [usize; D], device: &Device) -> Param<Tensor<D>> {
    Param::from_tensor(Tensor::zeros(shape, device))
}
