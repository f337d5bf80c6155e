//! A convolutional VQ-VAE for small images (van den Oord et al. 2017, scaled down): the
//! encoder's strided convolutions take a `C × H × W` image to a `D × H/4 × W/4` map (28×28 →
//! 14×14 → 7×7), every position is quantised to its nearest code, and the decoder's
//! transposed convolutions take the quantised map back to the image. The loss is
//! `mean (x̂ − x)² + codebook loss + β · commitment loss` (the codebook loss only without EMA).
//!
//! ```text
//! encoder: conv 4×4/2 C→h, ReLU, conv 4×4/2 h→h, ReLU, conv 3×3/1 h→D
//! decoder: conv 3×3/1 D→h, ReLU, convᵀ 4×4/2 h→h, ReLU, convᵀ 4×4/2 h→C
//! ```

use burn::module::{Module, Param};
use burn::tensor::activation::relu;
use burn::tensor::module::{conv_transpose2d, conv2d};
use burn::tensor::ops::{ConvOptions, ConvTransposeOptions};
use burn::tensor::{Device, Tensor, TensorData};
use sysdyn_core::rng::SeededRng;

use crate::error::GenerativeError;
use crate::inputs::ImageShape;
use crate::vq::codebook::{Quantised, flatten_positions, unflatten_positions};
use crate::vq::quantiser::{QuantiserConfig, VectorQuantiser};

/// The sizes of a VQ-VAE; [`VqVaeConfig::validate`] checks them.
#[derive(Debug, Clone, PartialEq)]
pub struct VqVaeConfig {
    /// The images' layout (sides divisible by 4).
    pub image: ImageShape,
    /// Channels of the hidden convolutions.
    pub hidden: usize,
    /// The quantiser (`K`, `D`, `β`, EMA, restarts).
    pub quantiser: QuantiserConfig,
}

impl VqVaeConfig {
    /// A VQ-VAE for 28×28 grey images with 32 hidden channels and `quantiser`.
    pub fn new(quantiser: QuantiserConfig) -> Self {
        VqVaeConfig {
            image: ImageShape::new(1, 28, 28),
            hidden: 32,
            quantiser,
        }
    }

    /// With images of another layout.
    pub fn with_image(mut self, image: ImageShape) -> Self {
        self.image = image;
        self
    }

    /// With `hidden` hidden channels.
    pub fn with_hidden(mut self, hidden: usize) -> Self {
        self.hidden = hidden;
        self
    }

    /// The side of the code grid, `(H/4, W/4)` (7×7 for 28×28).
    pub fn grid(&self) -> (usize, usize) {
        (self.image.rows / 4, self.image.cols / 4)
    }

    /// Checks the sizes.
    pub fn validate(&self) -> Result<(), GenerativeError> {
        self.quantiser.validate()?;
        let ImageShape {
            channels,
            rows,
            cols,
        } = self.image;
        if channels == 0 {
            return Err(GenerativeError::InvalidParameter {
                name: "image channels",
                value: 0.0,
                requirement: "must be at least 1 (1 for grey images)",
            });
        }
        for (name, side) in [("image rows", rows), ("image columns", cols)] {
            if side == 0 || !side.is_multiple_of(4) {
                return Err(GenerativeError::InvalidParameter {
                    name,
                    value: side as f64,
                    requirement: "must be a positive multiple of 4 (two halvings, 28 → 7)",
                });
            }
        }
        if self.hidden == 0 {
            return Err(GenerativeError::InvalidParameter {
                name: "hidden channels",
                value: 0.0,
                requirement: "must be at least 1",
            });
        }
        Ok(())
    }

    /// The model, its weights drawn by `rng` (He-normal convolutions, zero biases) in
    /// `device`'s default float type.
    pub fn init(&self, device: &Device, rng: &mut SeededRng) -> Result<VqVae, GenerativeError> {
        self.validate()?;
        let (c, h, d) = (self.image.channels, self.hidden, self.quantiser.width);
        let conv = |rng: &mut SeededRng, out: usize, input: usize, k: usize| {
            he_param(rng, [out, input, k, k], input * k * k, device)
        };
        // A transposed convolution's weight is `[in, out, k, k]`; each output sums over
        // about `in · k² / 4` inputs at stride 2.
        let conv_t = |rng: &mut SeededRng, input: usize, out: usize| {
            he_param(rng, [input, out, 4, 4], input * 4, device)
        };
        let zeros = |n: usize| Param::from_tensor(Tensor::zeros([n], device));
        let encoder = vec![conv(rng, h, c, 4), conv(rng, h, h, 4), conv(rng, d, h, 3)];
        let encoder_biases = vec![zeros(h), zeros(h), zeros(d)];
        let decoder_in = conv(rng, h, d, 3);
        let decoder = vec![conv_t(rng, h, h), conv_t(rng, h, c)];
        let decoder_biases = vec![zeros(h), zeros(h), zeros(c)];
        let quantiser = self.quantiser.init(device, rng)?;
        Ok(VqVae {
            encoder,
            encoder_biases,
            quantiser,
            decoder_in,
            decoder,
            decoder_biases,
            config: self.clone(),
        })
    }
}

/// A VQ-VAE: encoder, quantiser, decoder.
#[derive(Module, Debug)]
pub struct VqVae {
    encoder: Vec<Param<Tensor<4>>>,
    encoder_biases: Vec<Param<Tensor<1>>>,
    /// The vector quantiser.
    pub quantiser: VectorQuantiser,
    decoder_in: Param<Tensor<4>>,
    decoder: Vec<Param<Tensor<4>>>,
    decoder_biases: Vec<Param<Tensor<1>>>,
    #[module(skip)]
    config: VqVaeConfig,
}

/// One pass of a batch through the VQ-VAE.
#[derive(Debug, Clone)]
pub struct VqVaePass {
    /// The encoder outputs of every position, `[batch·h·w, D]` (batch, then raster order).
    pub encoded: Tensor<2>,
    /// Their quantisation (codes, straight-through values, codebook and commitment losses).
    pub quantised: Quantised,
    /// The decoded images, `[batch, C·H·W]`.
    pub reconstruction: Tensor<2>,
    /// `mean (x̂ − x)²`.
    pub reconstruction_loss: Tensor<1>,
    /// The reconstruction loss plus the quantiser's.
    pub loss: Tensor<1>,
}

impl VqVae {
    /// The sizes it was built with.
    pub fn config(&self) -> &VqVaeConfig {
        &self.config
    }

    /// The encoder's output map `z_e`, `[batch, D, H/4, W/4]`, of flattened images
    /// `[batch, C·H·W]`.
    pub fn encode(&self, images: Tensor<2>) -> Result<Tensor<4>, GenerativeError> {
        let [batch, features] = images.dims();
        let ImageShape {
            channels,
            rows,
            cols,
        } = self.config.image;
        if features != self.config.image.features() {
            return Err(GenerativeError::ShapeMismatch {
                what: "image width (channels·rows·cols) and the VQ-VAE's images",
                left: vec![features],
                right: vec![self.config.image.features()],
            });
        }
        if batch == 0 {
            return Err(GenerativeError::EmptyBatch {
                what: "images to encode",
            });
        }
        let x = images.reshape([batch, channels, rows, cols]);
        let h = relu(conv2d(
            x,
            self.encoder[0].val(),
            Some(self.encoder_biases[0].val()),
            halving(),
        ));
        let h = relu(conv2d(
            h,
            self.encoder[1].val(),
            Some(self.encoder_biases[1].val()),
            halving(),
        ));
        Ok(conv2d(
            h,
            self.encoder[2].val(),
            Some(self.encoder_biases[2].val()),
            same_3x3(),
        ))
    }

    /// Flattened images `[batch, C·H·W]` decoded from a (quantised) map `[batch, D, h, w]`.
    pub fn decode(&self, map: Tensor<4>) -> Result<Tensor<2>, GenerativeError> {
        let [batch, width, rows, cols] = map.dims();
        if batch == 0 {
            return Err(GenerativeError::EmptyBatch {
                what: "code maps to decode",
            });
        }
        let (grid_rows, grid_cols) = self.config.grid();
        if [width, rows, cols] != [self.config.quantiser.width, grid_rows, grid_cols] {
            return Err(GenerativeError::ShapeMismatch {
                what: "map to decode (D, h, w) and the VQ-VAE's code grid",
                left: vec![width, rows, cols],
                right: vec![self.config.quantiser.width, grid_rows, grid_cols],
            });
        }
        let h = relu(conv2d(
            map,
            self.decoder_in.val(),
            Some(self.decoder_biases[0].val()),
            same_3x3(),
        ));
        let h = relu(conv_transpose2d(
            h,
            self.decoder[0].val(),
            Some(self.decoder_biases[1].val()),
            doubling(),
        ));
        let x = conv_transpose2d(
            h,
            self.decoder[1].val(),
            Some(self.decoder_biases[2].val()),
            doubling(),
        );
        Ok(x.reshape([batch, self.config.image.features()]))
    }

    /// Encodes, quantises and decodes `images` (`[batch, C·H·W]`), with the losses.
    pub fn forward(&self, images: Tensor<2>) -> Result<VqVaePass, GenerativeError> {
        let z_e = self.encode(images.clone())?;
        let (map, quantised) = self.quantiser.quantise_map(z_e.clone())?;
        let reconstruction = self.decode(map)?;
        let reconstruction_loss = (reconstruction.clone() - images).square().mean();
        let loss = reconstruction_loss.clone() + self.quantiser.loss(&quantised);
        Ok(VqVaePass {
            encoded: flatten_positions(z_e),
            quantised,
            reconstruction,
            reconstruction_loss,
            loss,
        })
    }

    /// The code grid of each image, `batch · h · w` indices (batch, then raster order).
    pub fn encode_codes(&self, images: Tensor<2>) -> Result<Vec<usize>, GenerativeError> {
        let z_e = self.encode(images)?;
        self.quantiser.codebook.assign(flatten_positions(z_e))
    }

    /// Images `[batch, C·H·W]` decoded from code grids (`batch · h · w` indices in batch, then
    /// raster order).
    pub fn decode_codes(&self, codes: &[usize]) -> Result<Tensor<2>, GenerativeError> {
        let (rows, cols) = self.config.grid();
        let per_image = rows * cols;
        if codes.is_empty() || !codes.len().is_multiple_of(per_image) {
            return Err(GenerativeError::ShapeMismatch {
                what: "code indices and whole code grids (h·w each)",
                left: vec![codes.len()],
                right: vec![per_image],
            });
        }
        let vectors = self.quantiser.codebook.lookup(codes)?;
        let map = unflatten_positions(vectors, codes.len() / per_image, rows, cols)?;
        self.decode(map)
    }
}

/// 4×4 kernel, stride 2, padding 1: halves the side.
fn halving() -> ConvOptions<2> {
    ConvOptions::new([2, 2], [1, 1], [1, 1], 1)
}

/// 3×3 kernel, stride 1, padding 1: keeps the side.
fn same_3x3() -> ConvOptions<2> {
    ConvOptions::new([1, 1], [1, 1], [1, 1], 1)
}

/// 4×4 kernel, stride 2, padding 1 transposed: doubles the side.
fn doubling() -> ConvTransposeOptions<2> {
    ConvTransposeOptions::new([2, 2], [1, 1], [0, 0], [1, 1], 1)
}

/// Weights from `N(0, 2 / fan_in)` (He et al. 2015, for ReLU networks).
pub(crate) fn he_param<const D: usize>(
    rng: &mut SeededRng,
    shape: [usize; D],
    fan_in: usize,
    device: &Device,
) -> Param<Tensor<D>> {
    let count = shape.iter().product();
    let std = (2.0 / fan_in as f64).sqrt();
    let values: Vec<f64> = rng.normals(count).into_iter().map(|v| v * std).collect();
    Param::from_tensor(Tensor::from_data(TensorData::new(values, shape), device))
}
