//! A small U-Net noise predictor for images (Ho et al. 2020; Ronneberger et al. 2015):
//! `ε̂(x_t, t, y)` for flattened `channels × rows × cols` images.
//!
//! - Time: the sinusoidal step embedding of dimension `c₀` ([`TimeEmbedding`]) through
//!   `Linear(c₀, 4c₀) → SiLU → Linear(4c₀, 4c₀)`, giving `e(t)`; class conditioning adds a learned
//!   row `c(y)` of a `[classes + 1, 4c₀]` table, `e = e(t) + c(y)`, the last row the null class
//!   `∅` that label dropout trains and classifier-free guidance evaluates `ε(x, ∅)` with.
//! - ResNet block (in → out channels):
//!   `h = conv₃(SiLU(GN(x))) + W_e SiLU(e)` (the embedding added per channel),
//!   `h = conv₃(SiLU(GN(h)))`, output `h + skip(x)` (`skip` a 1×1 convolution when in ≠ out).
//! - Levels `l = 0 … L−1` with channels `c_l`: a 3×3 input convolution to `c₀`, per level a
//!   ResNet block to `c_l` whose output is kept as the skip, then a stride-2 3×3 convolution
//!   (halving the size) below the last level; at the lowest resolution a ResNet block, optional
//!   single-head self-attention `h + W_o softmax(QKᵀ/√c) V` over the pixels, another block; up
//!   the levels a ResNet block on `[h, skip_l]` to `c_l`, then nearest-neighbour ×2 upsampling and
//!   a 3×3 convolution to `c_{l−1}`; `GN → SiLU → conv₃` to the image channels.
//!
//! 28×28 images with two levels run 28 → 14; three levels 28 → 14 → 7 (sides divisible by
//! `2^{L−1}`). GroupNorm uses `groups` groups, which must divide every `c_l`.

use burn::module::{Module, Param};
use burn::nn::{GroupNorm, GroupNormConfig};
use burn::tensor::activation::{silu, softmax};
use burn::tensor::module::conv2d;
use burn::tensor::ops::ConvOptions;
use burn::tensor::{Device, Tensor, TensorData};
use sysdyn_core::rng::SeededRng;

use crate::diffusion::denoiser::Denoiser;
use crate::diffusion::embedding::TimeEmbedding;
use crate::diffusion::sampler::NoisePredictor;
use crate::error::GenerativeError;
use crate::host::host_tensor;
use crate::inputs::ImageShape;

/// The sizes of a [`DiffusionUNet`].
#[derive(Debug, Clone, PartialEq)]
pub struct DiffusionUNetConfig {
    /// The images' layout.
    pub image: ImageShape,
    /// Channels `c_l` of each level (e.g. `[32, 64]`).
    pub channels: Vec<usize>,
    /// GroupNorm groups (dividing every `c_l`; 8 typical).
    pub groups: usize,
    /// Self-attention at the lowest resolution.
    pub attention: bool,
    /// Classes to condition on (0: unconditional).
    pub classes: usize,
}

impl DiffusionUNetConfig {
    /// Levels of `channels`, 8 groups (fewer when a level has fewer channels), no attention,
    /// unconditional.
    pub fn new(image: ImageShape, channels: Vec<usize>) -> Self {
        let groups = channels.iter().fold(8, |g, &c| gcd(g, c.max(1)));
        DiffusionUNetConfig {
            image,
            channels,
            groups,
            attention: false,
            classes: 0,
        }
    }

    /// With `groups` GroupNorm groups.
    pub fn with_groups(mut self, groups: usize) -> Self {
        self.groups = groups;
        self
    }

    /// With or without self-attention at the lowest resolution.
    pub fn with_attention(mut self, attention: bool) -> Self {
        self.attention = attention;
        self
    }

    /// Conditioned on `classes` classes (and the null class).
    pub fn with_classes(mut self, classes: usize) -> Self {
        self.classes = classes;
        self
    }

    /// The width of the time embedding `e`, `4c₀`.
    pub fn embedding_width(&self) -> usize {
        4 * self.channels.first().copied().unwrap_or(0)
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
        let levels = self.channels.len();
        if levels == 0 {
            return invalid("U-Net levels", 0, "give at least one level of channels");
        }
        let ImageShape {
            channels,
            rows,
            cols,
        } = self.image;
        if channels == 0 || rows == 0 || cols == 0 {
            return invalid(
                "U-Net image size",
                channels * rows * cols,
                "channels, rows and columns must be at least 1",
            );
        }
        let factor = 1usize << (levels - 1);
        if !rows.is_multiple_of(factor) || !cols.is_multiple_of(factor) {
            return invalid(
                "U-Net image side",
                rows.min(cols),
                "rows and columns must be divisible by 2^(levels − 1) (28×28: at most 3 levels)",
            );
        }
        if self.groups == 0 {
            return invalid("GroupNorm groups", 0, "must be at least 1");
        }
        if let Some(&c) = self
            .channels
            .iter()
            .find(|c| **c == 0 || !c.is_multiple_of(self.groups))
        {
            return invalid(
                "U-Net channels",
                c,
                "every level's channels must be a positive multiple of the GroupNorm groups",
            );
        }
        if !self.channels[0].is_multiple_of(2) {
            return invalid(
                "U-Net first-level channels",
                self.channels[0],
                "must be even (they are the sinusoidal embedding's dimension)",
            );
        }
        Ok(())
    }

    /// The network, convolutions and linear maps He-initialised (`N(0, 2/fan_in)`) by `rng`,
    /// the class table `N(0, 1)`, in the default float type of `device`.
    pub fn init(
        &self,
        device: &Device,
        rng: &mut SeededRng,
    ) -> Result<DiffusionUNet, GenerativeError> {
        self.validate()?;
        let c = &self.channels;
        let levels = c.len();
        let emb = self.embedding_width();
        let time_dim = c[0];
        let groups = self.groups;
        let block = |rng: &mut SeededRng, input, output| {
            ResBlock::new(rng, input, output, emb, groups, device)
        };
        let input_conv = he(rng, [c[0], self.image.channels, 3, 3], device);
        let input_bias = zeros([c[0]], device);
        let mut down = Vec::with_capacity(levels);
        let mut downsample = Vec::new();
        let mut downsample_bias = Vec::new();
        for level in 0..levels {
            let input = if level == 0 { c[0] } else { c[level - 1] };
            down.push(block(rng, input, c[level]));
            if level + 1 < levels {
                downsample.push(he(rng, [c[level], c[level], 3, 3], device));
                downsample_bias.push(zeros([c[level]], device));
            }
        }
        let deepest = c[levels - 1];
        let middle = vec![block(rng, deepest, deepest), block(rng, deepest, deepest)];
        let attention = self
            .attention
            .then(|| Attention::new(rng, deepest, groups, device));
        let mut up = Vec::with_capacity(levels);
        let mut upsample = Vec::new();
        let mut upsample_bias = Vec::new();
        for level in (0..levels).rev() {
            up.push(block(rng, 2 * c[level], c[level]));
            if level > 0 {
                upsample.push(he(rng, [c[level - 1], c[level], 3, 3], device));
                upsample_bias.push(zeros([c[level - 1]], device));
            }
        }
        let class_table = (self.classes > 0).then(|| {
            let values = rng.normals((self.classes + 1) * emb);
            Param::from_tensor(Tensor::from_data(
                TensorData::new(values, [self.classes + 1, emb]),
                device,
            ))
        });
        Ok(DiffusionUNet {
            time_in: he(rng, [time_dim, emb], device),
            time_in_bias: zeros([emb], device),
            time_out: he(rng, [emb, emb], device),
            time_out_bias: zeros([emb], device),
            class_table,
            input_conv,
            input_bias,
            down,
            downsample,
            downsample_bias,
            middle,
            attention,
            up,
            upsample,
            upsample_bias,
            output_norm: GroupNormConfig::new(groups, c[0]).init(device),
            output_conv: he(rng, [self.image.channels, c[0], 3, 3], device),
            output_bias: zeros([self.image.channels], device),
            config: self.clone(),
        })
    }
}

fn gcd(a: usize, b: usize) -> usize {
    if b == 0 { a } else { gcd(b, a % b) }
}

/// He-scaled normal weights, fan-in the product of all but the first axis (convolutions
/// `[out, in, k, k]`) or the first axis (linear maps `[in, out]`).
fn he<const D: usize>(rng: &mut SeededRng, shape: [usize; D], device: &Device) -> Param<Tensor<D>> {
    let fan_in: usize = if D == 2 {
        shape[0]
    } else {
        shape[1..].iter().product()
    };
    let std = (2.0 / fan_in.max(1) as f64).sqrt();
    let values: Vec<f64> = rng
        .normals(shape.iter().product())
        .into_iter()
        .map(|v| v * std)
        .collect();
    Param::from_tensor(Tensor::from_data(TensorData::new(values, shape), device))
}

fn zeros<const D: usize>(shape: [usize; D], device: &Device) -> Param<Tensor<D>> {
    Param::from_tensor(Tensor::zeros(shape, device))
}

fn same() -> ConvOptions<2> {
    ConvOptions::new([1, 1], [1, 1], [1, 1], 1)
}

/// `x W + b` for `x` `[n, in]`.
fn linear(x: Tensor<2>, weight: &Param<Tensor<2>>, bias: &Param<Tensor<1>>) -> Tensor<2> {
    x.matmul(weight.val()) + bias.val().unsqueeze()
}

/// The ResNet block of the module docs.
#[derive(Module, Debug)]
pub struct ResBlock {
    norm_in: GroupNorm,
    conv_in: Param<Tensor<4>>,
    bias_in: Param<Tensor<1>>,
    time: Param<Tensor<2>>,
    time_bias: Param<Tensor<1>>,
    norm_out: GroupNorm,
    conv_out: Param<Tensor<4>>,
    bias_out: Param<Tensor<1>>,
    skip: Option<Param<Tensor<4>>>,
}

impl ResBlock {
    fn new(
        rng: &mut SeededRng,
        input: usize,
        output: usize,
        embedding: usize,
        groups: usize,
        device: &Device,
    ) -> Self {
        ResBlock {
            norm_in: GroupNormConfig::new(groups, input).init(device),
            conv_in: he(rng, [output, input, 3, 3], device),
            bias_in: zeros([output], device),
            time: he(rng, [embedding, output], device),
            time_bias: zeros([output], device),
            norm_out: GroupNormConfig::new(groups, output).init(device),
            conv_out: he(rng, [output, output, 3, 3], device),
            bias_out: zeros([output], device),
            skip: (input != output).then(|| he(rng, [output, input, 1, 1], device)),
        }
    }

    /// `x` `[n, in, h, w]`, `embedding` `SiLU(e)` `[n, E]`.
    fn forward(&self, x: Tensor<4>, embedding: Tensor<2>) -> Tensor<4> {
        let h = silu(self.norm_in.forward(x.clone()));
        let h = conv2d(h, self.conv_in.val(), Some(self.bias_in.val()), same());
        let [n, channels, _, _] = h.dims();
        let shift = linear(embedding, &self.time, &self.time_bias).reshape([n, channels, 1, 1]);
        let h = silu(self.norm_out.forward(h + shift));
        let h = conv2d(h, self.conv_out.val(), Some(self.bias_out.val()), same());
        let skip = match &self.skip {
            Some(kernel) => conv2d(
                x,
                kernel.val(),
                None,
                ConvOptions::new([1, 1], [0, 0], [1, 1], 1),
            ),
            None => x,
        };
        h + skip
    }
}

/// Single-head self-attention over the pixels with a residual connection.
#[derive(Module, Debug)]
pub struct Attention {
    norm: GroupNorm,
    qkv: Param<Tensor<2>>,
    qkv_bias: Param<Tensor<1>>,
    out: Param<Tensor<2>>,
    out_bias: Param<Tensor<1>>,
}

impl Attention {
    fn new(rng: &mut SeededRng, channels: usize, groups: usize, device: &Device) -> Self {
        Attention {
            norm: GroupNormConfig::new(groups, channels).init(device),
            qkv: he(rng, [channels, 3 * channels], device),
            qkv_bias: zeros([3 * channels], device),
            out: he(rng, [channels, channels], device),
            out_bias: zeros([channels], device),
        }
    }

    fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let [n, c, rows, cols] = x.dims();
        let pixels = rows * cols;
        let tokens = self
            .norm
            .forward(x.clone())
            .reshape([n, c, pixels])
            .swap_dims(1, 2)
            .reshape([n * pixels, c]);
        let qkv = linear(tokens, &self.qkv, &self.qkv_bias).reshape([n, pixels, 3 * c]);
        let q = qkv.clone().narrow(2, 0, c);
        let k = qkv.clone().narrow(2, c, c);
        let v = qkv.narrow(2, 2 * c, c);
        let weights = softmax(q.matmul(k.swap_dims(1, 2)) / (c as f64).sqrt(), 2);
        let attended = weights.matmul(v).reshape([n * pixels, c]);
        let out = linear(attended, &self.out, &self.out_bias)
            .reshape([n, pixels, c])
            .swap_dims(1, 2)
            .reshape([n, c, rows, cols]);
        x + out
    }
}

/// Nearest-neighbour ×2 upsampling, `[n, c, h, w] → [n, c, 2h, 2w]`.
fn upsample_nearest(x: Tensor<4>) -> Tensor<4> {
    let [n, c, rows, cols] = x.dims();
    x.reshape([n, c, rows, 1, cols, 1])
        .repeat_dim(3, 2)
        .repeat_dim(5, 2)
        .reshape([n, c, 2 * rows, 2 * cols])
}

/// The U-Net noise predictor (module docs). Works on flattened images `[n, c·rows·cols]`.
#[derive(Module, Debug)]
pub struct DiffusionUNet {
    time_in: Param<Tensor<2>>,
    time_in_bias: Param<Tensor<1>>,
    time_out: Param<Tensor<2>>,
    time_out_bias: Param<Tensor<1>>,
    /// `[classes + 1, 4c₀]`, the last row the null class.
    class_table: Option<Param<Tensor<2>>>,
    input_conv: Param<Tensor<4>>,
    input_bias: Param<Tensor<1>>,
    down: Vec<ResBlock>,
    downsample: Vec<Param<Tensor<4>>>,
    downsample_bias: Vec<Param<Tensor<1>>>,
    middle: Vec<ResBlock>,
    attention: Option<Attention>,
    up: Vec<ResBlock>,
    upsample: Vec<Param<Tensor<4>>>,
    upsample_bias: Vec<Param<Tensor<1>>>,
    output_norm: GroupNorm,
    output_conv: Param<Tensor<4>>,
    output_bias: Param<Tensor<1>>,
    #[module(skip)]
    config: DiffusionUNetConfig,
}

impl DiffusionUNet {
    /// The sizes it was built with.
    pub fn config(&self) -> &DiffusionUNetConfig {
        &self.config
    }

    /// The class table `[classes + 1, 4c₀]` (the last row the null class), if conditional.
    pub fn class_table(&self) -> Option<Tensor<2>> {
        self.class_table.as_ref().map(|table| table.val())
    }

    /// `ε̂(x, t, y)` for flattened images `x`, one step per row, and for a conditional network
    /// one label per row (`Some`) or the null class for every row (`None`).
    pub fn forward(
        &self,
        x: Tensor<2>,
        steps: &[usize],
        labels: Option<&[usize]>,
    ) -> Result<Tensor<2>, GenerativeError> {
        self.predict_with_labels(x, steps, labels)
    }

    /// `e = MLP(emb(t)) + c(y)`, `[n, 4c₀]`.
    fn embedding(
        &self,
        steps: &[usize],
        classes: Option<&[usize]>,
        like: &Tensor<2>,
    ) -> Result<Tensor<2>, GenerativeError> {
        let rows = steps.len();
        let sinusoid = TimeEmbedding::new(self.config.channels[0])?.tensor_like(steps, like);
        let hidden = silu(linear(sinusoid, &self.time_in, &self.time_in_bias));
        let mut e = linear(hidden, &self.time_out, &self.time_out_bias);
        if let (Some(table), Some(classes)) = (&self.class_table, classes) {
            if classes.len() != rows {
                return Err(GenerativeError::ShapeMismatch {
                    what: "rows and labels",
                    left: vec![rows],
                    right: vec![classes.len()],
                });
            }
            let width = self.config.classes + 1;
            if let Some(&class) = classes.iter().find(|c| **c >= width) {
                return Err(GenerativeError::InvalidParameter {
                    name: "class index",
                    value: class as f64,
                    requirement: "must be at most the number of classes (which is the null class)",
                });
            }
            let mut one_hot = vec![0.0; rows * width];
            for (row, &class) in classes.iter().enumerate() {
                one_hot[row * width + class] = 1.0;
            }
            e = e + host_tensor(one_hot, [rows, width], like).matmul(table.val());
        }
        Ok(e)
    }
}

impl Denoiser for DiffusionUNet {
    fn data_width(&self) -> usize {
        self.config.image.features()
    }

    fn classes(&self) -> usize {
        self.config.classes
    }

    fn forward_classes(
        &self,
        x: Tensor<2>,
        steps: &[usize],
        classes: Option<&[usize]>,
    ) -> Result<Tensor<2>, GenerativeError> {
        let [rows, width] = x.dims();
        if width != self.data_width() {
            return Err(GenerativeError::ShapeMismatch {
                what: "flattened image width and the U-Net's (channels·rows·cols)",
                left: vec![width],
                right: vec![self.data_width()],
            });
        }
        if rows == 0 {
            return Err(GenerativeError::EmptyBatch {
                what: "U-Net input",
            });
        }
        if steps.len() != rows {
            return Err(GenerativeError::ShapeMismatch {
                what: "rows and diffusion steps (one step per row)",
                left: vec![rows],
                right: vec![steps.len()],
            });
        }
        let embedding = silu(self.embedding(steps, classes, &x)?);
        let ImageShape {
            channels,
            rows: height,
            cols,
        } = self.config.image;
        let mut h = x.reshape([rows, channels, height, cols]);
        h = conv2d(
            h,
            self.input_conv.val(),
            Some(self.input_bias.val()),
            same(),
        );
        let mut skips = Vec::with_capacity(self.down.len());
        for (level, block) in self.down.iter().enumerate() {
            h = block.forward(h, embedding.clone());
            skips.push(h.clone());
            if let (Some(kernel), Some(bias)) =
                (self.downsample.get(level), self.downsample_bias.get(level))
            {
                let stride = ConvOptions::new([2, 2], [1, 1], [1, 1], 1);
                h = conv2d(h, kernel.val(), Some(bias.val()), stride);
            }
        }
        h = self.middle[0].forward(h, embedding.clone());
        if let Some(attention) = &self.attention {
            h = attention.forward(h);
        }
        h = self.middle[1].forward(h, embedding.clone());
        for (step, block) in self.up.iter().enumerate() {
            let Some(skip) = skips.pop() else {
                break;
            };
            h = block.forward(Tensor::cat(vec![h, skip], 1), embedding.clone());
            if let (Some(kernel), Some(bias)) =
                (self.upsample.get(step), self.upsample_bias.get(step))
            {
                h = conv2d(upsample_nearest(h), kernel.val(), Some(bias.val()), same());
            }
        }
        h = silu(self.output_norm.forward(h));
        h = conv2d(
            h,
            self.output_conv.val(),
            Some(self.output_bias.val()),
            same(),
        );
        Ok(h.reshape([rows, width]))
    }
}

/// An unconditional U-Net, or a conditional one evaluated at the null class `ε(x, ∅)`.
impl NoisePredictor for &DiffusionUNet {
    fn predict(&mut self, x: Tensor<2>, t: usize) -> Result<Tensor<2>, GenerativeError> {
        let [rows, _] = x.dims();
        self.forward_classes(
            x,
            &vec![t; rows],
            (self.config.classes > 0)
                .then(|| vec![self.config.classes; rows])
                .as_deref(),
        )
    }
}
