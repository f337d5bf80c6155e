//! A style-based generator for small images (Karras, Laine & Aila 2019, "StyleGAN"), in its
//! parts: a mapping network `z → w`, a learned constant input, and synthesis layers that each
//! add per-pixel noise scaled per channel, apply LeakyReLU 0.2 and then AdaIN with a style
//! computed from `w` ([`AdaIn`]); nearest-neighbour upsampling and 3×3 convolutions between
//! resolutions; a 1×1 convolution to the image, `tanh`.
//!
//! The noise inputs are part of the latent code: [`Generator::generate`] reads `z` from the first
//! [`StyleGeneratorConfig::z_width`] columns and the noise maps from the rest, so every random
//! input comes from the caller's seeded stream (a GAN step draws the whole code from N(0, 1)),
//! and a run resumes or repeats exactly. [`StyleGenerator::generate_mixed`] mixes styles: the
//! codes of one latent for the coarse layers and of another for the fine ones.

use burn::module::{Module, Param};
use burn::tensor::activation::{leaky_relu, tanh};
use burn::tensor::module::conv2d;
use burn::tensor::ops::ConvOptions;
use burn::tensor::{Device, Tensor, TensorData};
use sysdyn_core::rng::SeededRng;

use crate::error::GenerativeError;
use crate::gan::models::Generator;
use crate::inputs::{ImageShape, check_labels};
use crate::style::adain::{AdaIn, AdaInConfig};

/// LeakyReLU's negative slope in the mapping network and the synthesis layers.
const SLOPE: f64 = 0.2;

/// The sizes of a [`StyleGenerator`]. [`StyleGeneratorConfig::validate`] checks them.
#[derive(Debug, Clone, PartialEq)]
pub struct StyleGeneratorConfig {
    /// The images' layout.
    pub image: ImageShape,
    /// Width of the latent code `z`.
    pub z_width: usize,
    /// Width of the style code `w`.
    pub w_width: usize,
    /// Layers of the mapping network (StyleGAN: 8).
    pub mapping_layers: usize,
    /// Feature channels of every synthesis layer.
    pub channels: usize,
    /// Resolution doublings from the constant input (`rows / 2^levels`) to the image.
    pub levels: usize,
}

impl StyleGeneratorConfig {
    /// A generator of `image`s from codes `z` of width `z_width`, styles `w` as wide as `z`,
    /// four mapping layers, `channels` feature maps, and 2 levels (a 7×7 constant for 28×28).
    pub fn new(image: ImageShape, z_width: usize, channels: usize) -> Self {
        StyleGeneratorConfig {
            image,
            z_width,
            w_width: z_width,
            mapping_layers: 4,
            channels,
            levels: 2,
        }
    }

    /// With `levels` resolution doublings.
    pub fn with_levels(mut self, levels: usize) -> Self {
        self.levels = levels;
        self
    }

    /// With `layers` mapping layers.
    pub fn with_mapping_layers(mut self, layers: usize) -> Self {
        self.mapping_layers = layers;
        self
    }

    /// The side of each synthesis layer, `(rows, cols)`, coarse to fine: two per resolution.
    pub fn layer_sides(&self) -> Vec<(usize, usize)> {
        (0..=self.levels)
            .flat_map(|level| {
                let shift = self.levels - level;
                let side = (self.image.rows >> shift, self.image.cols >> shift);
                [side, side]
            })
            .collect()
    }

    /// The number of style (AdaIN) layers, `2 (levels + 1)`: the crossover points of style
    /// mixing are `1..style_layers()`.
    pub fn style_layers(&self) -> usize {
        2 * (self.levels + 1)
    }

    /// Width of the whole latent input: `z` and then one noise map per synthesis layer.
    pub fn latent_width(&self) -> usize {
        self.z_width + self.layer_sides().iter().map(|(r, c)| r * c).sum::<usize>()
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
        for (name, value) in [
            ("z_width", self.z_width),
            ("w_width", self.w_width),
            ("mapping_layers", self.mapping_layers),
            ("channels", self.channels),
        ] {
            if value == 0 {
                return invalid(name, 0, "must be at least 1");
            }
        }
        self.image
            .check_levels("style generator size", self.channels, self.levels, 0)?;
        Ok(())
    }

    /// The generator, its weights drawn by `rng` in the default float type of `device`.
    pub fn init(
        &self,
        device: &Device,
        rng: &mut SeededRng,
    ) -> Result<StyleGenerator, GenerativeError> {
        self.validate()?;
        let mut mapping = Vec::with_capacity(self.mapping_layers);
        let mut mapping_biases = Vec::with_capacity(self.mapping_layers);
        for layer in 0..self.mapping_layers {
            let input = if layer == 0 {
                self.z_width
            } else {
                self.w_width
            };
            mapping.push(he_param(rng, [input, self.w_width], input, device));
            mapping_biases.push(zeros_param([self.w_width], device));
        }
        let (base_rows, base_cols) = (
            self.image.rows >> self.levels,
            self.image.cols >> self.levels,
        );
        let constant = Param::from_tensor(Tensor::ones(
            [1, self.channels, base_rows, base_cols],
            device,
        ));
        // One convolution per synthesis layer but the first (which is the constant).
        let convolutions = self.style_layers() - 1;
        let kernels = (0..convolutions)
            .map(|_| {
                he_param(
                    rng,
                    [self.channels, self.channels, 3, 3],
                    9 * self.channels,
                    device,
                )
            })
            .collect();
        let biases = (0..convolutions)
            .map(|_| zeros_param([self.channels], device))
            .collect();
        let noise_scales = (0..self.style_layers())
            .map(|_| zeros_param([self.channels], device))
            .collect();
        let mut styles = Vec::with_capacity(self.style_layers());
        for _ in 0..self.style_layers() {
            let mut adain = AdaInConfig::new(self.w_width, self.channels).init(device)?;
            // Seeded weights, so the whole generator is a function of the seed, of unit gain
            // (He): each style moves its channels' scales and biases by O(1) from the start.
            // (A tenth of that, AdaInConfig's default for a layer that starts near plain
            // instance norm, left the untrained generator nearly blind to z, and it collapsed.)
            adain.style.weight = scaled_param(
                rng,
                [self.w_width, 2 * self.channels],
                (2.0 / self.w_width as f64).sqrt(),
                device,
            );
            styles.push(adain);
        }
        let to_image = he_param(
            rng,
            [self.image.channels, self.channels, 1, 1],
            self.channels,
            device,
        );
        Ok(StyleGenerator {
            mapping,
            mapping_biases,
            constant,
            kernels,
            biases,
            noise_scales,
            styles,
            to_image,
            to_image_bias: zeros_param([self.image.channels], device),
            config: self.clone(),
        })
    }
}

/// The style-based generator: see the module documentation.
#[derive(Module, Debug)]
pub struct StyleGenerator {
    mapping: Vec<Param<Tensor<2>>>,
    mapping_biases: Vec<Param<Tensor<1>>>,
    constant: Param<Tensor<4>>,
    kernels: Vec<Param<Tensor<4>>>,
    biases: Vec<Param<Tensor<1>>>,
    noise_scales: Vec<Param<Tensor<1>>>,
    styles: Vec<AdaIn>,
    to_image: Param<Tensor<4>>,
    to_image_bias: Param<Tensor<1>>,
    #[module(skip)]
    config: StyleGeneratorConfig,
}

impl StyleGenerator {
    /// The sizes it was built with.
    pub fn config(&self) -> &StyleGeneratorConfig {
        &self.config
    }

    /// The mapping network: `z` (`[n, z_width]`) normalised to unit mean square per row, then
    /// `mapping_layers` affine layers with LeakyReLU 0.2, `w` `[n, w_width]`.
    pub fn style_code(&self, z: Tensor<2>) -> Result<Tensor<2>, GenerativeError> {
        let [_, width] = z.dims();
        if width != self.config.z_width {
            return Err(GenerativeError::ShapeMismatch {
                what: "latent code z (width)",
                left: vec![width],
                right: vec![self.config.z_width],
            });
        }
        let norm = z.clone().square().mean_dim(1).add_scalar(1e-8).sqrt();
        let mut h = z / norm;
        for (weight, bias) in self.mapping.iter().zip(&self.mapping_biases) {
            h = leaky_relu(h.matmul(weight.val()) + bias.val().unsqueeze(), SLOPE);
        }
        Ok(h)
    }

    /// Images from one style code per style layer (`styles[i]` `[n, w_width]`) and the noise
    /// maps, `[n, Σ rows·cols]` (coarse to fine, as [`StyleGeneratorConfig::layer_sides`]).
    pub fn synthesize(
        &self,
        styles: &[Tensor<2>],
        noise: Tensor<2>,
    ) -> Result<Tensor<2>, GenerativeError> {
        let config = &self.config;
        if styles.len() != config.style_layers() {
            return Err(GenerativeError::ShapeMismatch {
                what: "style codes (one per style layer)",
                left: vec![styles.len()],
                right: vec![config.style_layers()],
            });
        }
        let [n, noise_width] = noise.dims();
        let sides = config.layer_sides();
        let expected: usize = sides.iter().map(|(r, c)| r * c).sum();
        if noise_width != expected {
            return Err(GenerativeError::ShapeMismatch {
                what: "noise maps (width)",
                left: vec![noise_width],
                right: vec![expected],
            });
        }
        let channels = config.channels;
        let (rows, cols) = sides[0];
        let mut x = self.constant.val().expand([n, channels, rows, cols]);
        let mut offset = 0;
        for (layer, &(rows, cols)) in sides.iter().enumerate() {
            if layer > 0 {
                // Layers 2, 4, …: the first of a new resolution.
                if layer % 2 == 0 {
                    x = upsample_nearest(x);
                }
                let options = ConvOptions::new([1, 1], [1, 1], [1, 1], 1);
                x = conv2d(
                    x,
                    self.kernels[layer - 1].val(),
                    Some(self.biases[layer - 1].val()),
                    options,
                );
            }
            // Per-pixel noise, one map per image, scaled per channel.
            let map = noise
                .clone()
                .narrow(1, offset, rows * cols)
                .reshape([n, 1, rows, cols]);
            offset += rows * cols;
            let scale = self.noise_scales[layer].val().reshape([1, channels, 1, 1]);
            x = leaky_relu(x + map * scale, SLOPE);
            x = self.styles[layer].forward(x, styles[layer].clone())?;
        }
        let to_image = conv2d(
            x,
            self.to_image.val(),
            Some(self.to_image_bias.val()),
            ConvOptions::new([1, 1], [0, 0], [1, 1], 1),
        );
        Ok(tanh(to_image).reshape([n, config.image.features()]))
    }

    fn split_latent(&self, latent: Tensor<2>) -> Result<(Tensor<2>, Tensor<2>), GenerativeError> {
        let [n, width] = latent.dims();
        if width != self.config.latent_width() {
            return Err(GenerativeError::ShapeMismatch {
                what: "style generator input (z, then the noise maps)",
                left: vec![width],
                right: vec![self.config.latent_width()],
            });
        }
        if n == 0 {
            return Err(GenerativeError::EmptyBatch {
                what: "latent codes",
            });
        }
        let z_width = self.config.z_width;
        Ok((
            latent.clone().narrow(1, 0, z_width),
            latent.narrow(1, z_width, width - z_width),
        ))
    }

    /// Style mixing: the styles of `first` for the layers before `crossover`, those of `second`
    /// from `crossover` on; the noise maps of `first`. `crossover` must be in
    /// `0..=style_layers()` (0: all `second`, `style_layers()`: all `first`).
    pub fn generate_mixed(
        &self,
        first: Tensor<2>,
        second: Tensor<2>,
        crossover: usize,
    ) -> Result<Tensor<2>, GenerativeError> {
        let layers = self.config.style_layers();
        if crossover > layers {
            return Err(GenerativeError::InvalidParameter {
                name: "crossover",
                value: crossover as f64,
                requirement: "must be at most the number of style layers",
            });
        }
        if first.dims() != second.dims() {
            return Err(GenerativeError::ShapeMismatch {
                what: "the two latents of style mixing",
                left: first.dims().to_vec(),
                right: second.dims().to_vec(),
            });
        }
        let (z_first, noise) = self.split_latent(first)?;
        let (z_second, _) = self.split_latent(second)?;
        let (w_first, w_second) = (self.style_code(z_first)?, self.style_code(z_second)?);
        let styles: Vec<Tensor<2>> = (0..layers)
            .map(|l| {
                if l < crossover {
                    w_first.clone()
                } else {
                    w_second.clone()
                }
            })
            .collect();
        self.synthesize(&styles, noise)
    }
}

impl Generator for StyleGenerator {
    fn latent_width(&self) -> usize {
        self.config.latent_width()
    }

    fn generate(
        &self,
        latent: Tensor<2>,
        labels: Option<&[usize]>,
    ) -> Result<Tensor<2>, GenerativeError> {
        check_labels(0, labels)?;
        let (z, noise) = self.split_latent(latent)?;
        let w = self.style_code(z)?;
        let styles = vec![w; self.config.style_layers()];
        self.synthesize(&styles, noise)
    }
}

/// Doubles the sides of feature maps `[n, c, h, w]` by repeating every pixel 2×2.
fn upsample_nearest(x: Tensor<4>) -> Tensor<4> {
    let [n, c, h, w] = x.dims();
    x.reshape([n, c, h, 1, w, 1])
        .expand([n, c, h, 2, w, 2])
        .reshape([n, c, 2 * h, 2 * w])
}

/// He-scaled normal weights, standard deviation `sqrt(2 / fan_in)`.
fn he_param<const D: usize>(
    rng: &mut SeededRng,
    shape: [usize; D],
    fan_in: usize,
    device: &Device,
) -> Param<Tensor<D>> {
    scaled_param(rng, shape, (2.0 / fan_in as f64).sqrt(), device)
}

/// Normal weights of standard deviation `std`.
fn scaled_param<const D: usize>(
    rng: &mut SeededRng,
    shape: [usize; D],
    std: f64,
    device: &Device,
) -> Param<Tensor<D>> {
    let values: Vec<f64> = rng
        .normals(shape.iter().product())
        .into_iter()
        .map(|v| v * std)
        .collect();
    Param::from_tensor(Tensor::from_data(TensorData::new(values, shape), device))
}

fn zeros_param<const D: usize>(shape: [usize; D], device: &Device) -> Param<Tensor<D>> {
    Param::from_tensor(Tensor::zeros(shape, device))
}
