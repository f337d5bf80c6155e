//! An autoregressive prior over a VQ-VAE's code grid, so the VQ-VAE can sample: a small
//! PixelCNN (van den Oord et al. 2016) on the one-hot codes, `p(k) = Π_p p(k_p | k_{<p})` in
//! raster order.
//!
//! ```text
//! one-hot codes [b, K, h, w] → masked conv A (5×5) K→F, ReLU
//!                            → L × (masked conv B (3×3) F→F, ReLU)
//!                            → masked conv B (1×1) F→K: logits of k_p at every p
//! ```
//!
//! Training minimises the cross-entropy `−(1/(b·h·w)) Σ log p(k_p | k_{<p})` of the data's code
//! grids (all positions at once: the masks make each position's logits see only earlier
//! codes). Sampling is ancestral: position by position in raster order, each code drawn from
//! its softmax given the codes drawn before it, with a seeded random stream.

use burn::module::Module;
use burn::tensor::activation::{log_softmax, relu, softmax};
use burn::tensor::{Device, Tensor};
use sysdyn_core::rng::SeededRng;

use crate::error::GenerativeError;
use crate::vq::codebook::{host_values, one_hot};
use crate::vq::masked_conv::{MaskType, MaskedConv2d};

/// The sizes of a PixelCNN prior.
#[derive(Debug, Clone, PartialEq)]
pub struct PixelCnnConfig {
    /// The number of codes `K`.
    pub codes: usize,
    /// The code grid, `(h, w)` (7×7 for a 28×28 VQ-VAE).
    pub grid: (usize, usize),
    /// Hidden channels `F`.
    pub width: usize,
    /// Type-B hidden layers `L`.
    pub layers: usize,
    /// The first (type-A) layer's kernel (odd).
    pub first_kernel: usize,
    /// The hidden (type-B) layers' kernel (odd).
    pub kernel: usize,
}

impl PixelCnnConfig {
    /// A prior over `grid` codes of `K` kinds: 64 channels, 3 type-B layers, kernels 5 and 3.
    pub fn new(codes: usize, grid: (usize, usize)) -> Self {
        PixelCnnConfig {
            codes,
            grid,
            width: 64,
            layers: 3,
            first_kernel: 5,
            kernel: 3,
        }
    }

    /// With `width` hidden channels.
    pub fn with_width(mut self, width: usize) -> Self {
        self.width = width;
        self
    }

    /// With `layers` type-B hidden layers.
    pub fn with_layers(mut self, layers: usize) -> Self {
        self.layers = layers;
        self
    }

    /// Checks the sizes (the kernels are checked by [`MaskedConv2d::new`]).
    pub fn validate(&self) -> Result<(), GenerativeError> {
        let invalid = |name, value: usize, requirement| {
            Err(GenerativeError::InvalidParameter {
                name,
                value: value as f64,
                requirement,
            })
        };
        if self.codes == 0 {
            return invalid("codes K", 0, "the prior needs at least one code");
        }
        if self.grid.0 == 0 || self.grid.1 == 0 {
            return invalid("code grid", 0, "rows and columns must be at least 1");
        }
        if self.width == 0 {
            return invalid("prior width F", 0, "must be at least 1");
        }
        Ok(())
    }

    /// The prior, its weights drawn by `rng` in `device`'s default float type.
    pub fn init(
        &self,
        device: &Device,
        rng: &mut SeededRng,
    ) -> Result<PixelCnnPrior, GenerativeError> {
        self.validate()?;
        let first = MaskedConv2d::new(
            self.codes,
            self.width,
            self.first_kernel,
            MaskType::A,
            device,
            rng,
        )?;
        let hidden = (0..self.layers)
            .map(|_| {
                MaskedConv2d::new(
                    self.width,
                    self.width,
                    self.kernel,
                    MaskType::B,
                    device,
                    rng,
                )
            })
            .collect::<Result<Vec<_>, _>>()?;
        let output = MaskedConv2d::new(self.width, self.codes, 1, MaskType::B, device, rng)?;
        Ok(PixelCnnPrior {
            first,
            hidden,
            output,
            config: self.clone(),
        })
    }
}

/// A PixelCNN over code grids.
#[derive(Module, Debug)]
pub struct PixelCnnPrior {
    first: MaskedConv2d,
    hidden: Vec<MaskedConv2d>,
    output: MaskedConv2d,
    #[module(skip)]
    config: PixelCnnConfig,
}

impl PixelCnnPrior {
    /// The sizes it was built with.
    pub fn config(&self) -> &PixelCnnConfig {
        &self.config
    }

    /// The number of grids in `codes`, refusing partial grids and codes `≥ K`.
    fn grids(&self, codes: &[usize]) -> Result<usize, GenerativeError> {
        let per_grid = self.config.grid.0 * self.config.grid.1;
        if codes.is_empty() || !codes.len().is_multiple_of(per_grid) {
            return Err(GenerativeError::ShapeMismatch {
                what: "code indices and whole code grids (h·w each)",
                left: vec![codes.len()],
                right: vec![per_grid],
            });
        }
        Ok(codes.len() / per_grid)
    }

    /// The logits of `k_p` at every position `p` given the codes before it, `[b, K, h, w]`,
    /// for `b` code grids (`b · h · w` indices, batch then raster order).
    pub fn logits(&self, codes: &[usize]) -> Result<Tensor<4>, GenerativeError> {
        let batch = self.grids(codes)?;
        let (rows, cols) = self.config.grid;
        let k = self.config.codes;
        let x = one_hot(codes, k, &self.output.bias.val())?
            .reshape([batch, rows, cols, k])
            .permute([0, 3, 1, 2]);
        let mut h = relu(self.first.forward(x)?);
        for layer in &self.hidden {
            h = relu(layer.forward(h)?);
        }
        self.output.forward(h)
    }

    /// The cross-entropy `−mean_p log p(k_p | k_{<p})` of the code grids (nats per position).
    pub fn negative_log_likelihood(&self, codes: &[usize]) -> Result<Tensor<1>, GenerativeError> {
        let logits = self.logits(codes)?;
        let [batch, k, rows, cols] = logits.dims();
        let targets = one_hot(codes, k, &self.output.bias.val())?
            .reshape([batch, rows, cols, k])
            .permute([0, 3, 1, 2]);
        Ok((log_softmax(logits, 1) * targets).sum_dim(1).mean().neg())
    }

    /// `grids` code grids drawn ancestrally in raster order from `rng` (`grids · h · w`
    /// indices, batch then raster order).
    pub fn sample(&self, grids: usize, rng: &mut SeededRng) -> Result<Vec<usize>, GenerativeError> {
        if grids == 0 {
            return Err(GenerativeError::EmptyBatch {
                what: "code grids to sample",
            });
        }
        let (rows, cols) = self.config.grid;
        let k = self.config.codes;
        let per_grid = rows * cols;
        let mut codes = vec![0usize; grids * per_grid];
        for i in 0..rows {
            for j in 0..cols {
                let probabilities = softmax(
                    self.logits(&codes)?
                        .detach()
                        .slice([0..grids, 0..k, i..i + 1, j..j + 1]),
                    1,
                );
                let probabilities = host_values(probabilities, "prior probabilities")?;
                for (grid, p) in probabilities.chunks(k).enumerate() {
                    codes[grid * per_grid + i * cols + j] = categorical(p, rng.uniform());
                }
            }
        }
        Ok(codes)
    }
}

/// The index `k` with `Σ_{i<k} p_i ≤ u < Σ_{i≤k} p_i` (the last index if rounding leaves `u`
/// above the total).
fn categorical(p: &[f64], u: f64) -> usize {
    let mut cumulative = 0.0;
    for (k, &pk) in p.iter().enumerate() {
        cumulative += pk;
        if u < cumulative {
            return k;
        }
    }
    p.len() - 1
}
