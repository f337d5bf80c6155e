//! RealNVP's multi-scale architecture (Dinh et al. 2017), as Glow uses it: at each level the
//! image is squeezed 2×2 (`[c, h, w] → [4c, h/2, w/2]`), transformed by that level's flow, and
//! — except at the last level — half of its channels are factored out: they go to the latent
//! as they are, and only the other half is transformed further. The latent is the
//! concatenation of the factored-out halves and the last level's output, flattened per row,
//! `[batch, c·h·w, 1, 1]`. Squeezes and splits only reorder coordinates, so
//! `log|det J| = Σ_levels log|det J_level|`.
//!
//! A 1×28×28 digit with two levels: level 1 works on 4×14×14 and factors out 2×14×14, level 2
//! on 8×7×7; the latent has 392 + 392 = 784 entries.

use burn::module::Module;
use burn::tensor::Tensor;
use sysdyn_core::device::SysDevice;

use crate::error::GenerativeError;
use crate::flow::actnorm::ActNorm;
use crate::flow::chain::{Chain, ImageLayer};
use crate::flow::checks::{context_for, zero_log_det};
use crate::flow::conv1x1::InvertibleConv1x1;
use crate::flow::coupling::{ConvAffineCoupling, ImageMask, Parity, ScaleBound};
use crate::flow::squeeze::{squeeze, unsqueeze};
use crate::flow::{Flow, Transformed};

/// A multi-scale flow over images of one shape: squeeze, level flow, factor out half.
#[derive(Module, Debug)]
pub struct MultiScale {
    levels: Vec<Chain<ImageLayer>>,
    /// `[channels, height, width]` of the data.
    #[module(skip)]
    image: [usize; 3],
}

/// The shapes `[c, h, w]` each level works on (after its squeeze), for an image and a number
/// of levels; sides that cannot be halved are refused.
fn level_shapes(image: [usize; 3], levels: usize) -> Result<Vec<[usize; 3]>, GenerativeError> {
    if levels == 0 || image.contains(&0) {
        return Err(GenerativeError::InvalidParameter {
            name: "multi-scale levels",
            value: levels as f64,
            requirement: "needs at least one level and a non-empty image",
        });
    }
    let [mut c, mut h, mut w] = image;
    let mut shapes = Vec::with_capacity(levels);
    for level in 0..levels {
        if !h.is_multiple_of(2) || !w.is_multiple_of(2) {
            return Err(GenerativeError::InvalidParameter {
                name: "multi-scale levels",
                value: levels as f64,
                requirement: "every level squeezes 2×2: the sides must be divisible by \
                              2^levels (28×28: up to 2 levels)",
            });
        }
        (c, h, w) = (4 * c, h / 2, w / 2);
        shapes.push([c, h, w]);
        if level + 1 < levels {
            c /= 2;
        }
    }
    Ok(shapes)
}

/// How [`MultiScaleConfig::init`] builds each level.
#[derive(Debug, Clone, PartialEq)]
pub struct MultiScaleConfig {
    /// `[channels, height, width]` of the data.
    pub image: [usize; 3],
    /// Squeeze–flow–split levels.
    pub levels: usize,
    /// Steps per level; each is ActNorm, an invertible 1×1 convolution and an affine coupling
    /// whose masks cycle checkerboard (even, odd) then channel-wise (even, odd).
    pub steps: usize,
    /// Hidden widths of each coupling's convolutional conditioner.
    pub hidden: Vec<usize>,
    /// The couplings' log-scale bound.
    pub bound: ScaleBound,
    /// The width of the context the couplings are conditioned on (0: unconditional).
    pub context_width: usize,
}

impl MultiScaleConfig {
    /// `levels` levels of `steps` steps with conditioners of `hidden` widths, scales bounded by
    /// `2 tanh(ŝ / 2)`.
    pub fn new(image: [usize; 3], levels: usize, steps: usize, hidden: Vec<usize>) -> Self {
        MultiScaleConfig {
            image,
            levels,
            steps,
            hidden,
            bound: ScaleBound::Tanh { bound: 2.0 },
            context_width: 0,
        }
    }

    /// With couplings conditioned on a context of `width` (a conditional flow).
    pub fn with_context(mut self, width: usize) -> Self {
        self.context_width = width;
        self
    }

    /// The flow, its weights drawn from `seed`.
    pub fn init(&self, device: &SysDevice, seed: u64) -> Result<MultiScale, GenerativeError> {
        let shapes = level_shapes(self.image, self.levels)?;
        let masks = [
            ImageMask::Checkerboard(Parity::Even),
            ImageMask::Checkerboard(Parity::Odd),
            ImageMask::Channel(Parity::Even),
            ImageMask::Channel(Parity::Odd),
        ];
        let mut next_seed = seed;
        let mut seed = || {
            next_seed = next_seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
            next_seed
        };
        let levels = shapes
            .iter()
            .map(|&[c, _, _]| {
                let mut layers = Vec::with_capacity(3 * self.steps);
                for step in 0..self.steps {
                    layers.push(ImageLayer::ActNorm(ActNorm::new(device, c)?));
                    layers.push(ImageLayer::Conv1x1(InvertibleConv1x1::new(
                        device,
                        c,
                        seed(),
                    )?));
                    layers.push(ImageLayer::Affine(ConvAffineCoupling::new(
                        device,
                        c,
                        &self.hidden,
                        masks[step % masks.len()],
                        self.bound,
                        self.context_width,
                        seed(),
                    )?));
                }
                Ok(Chain::new(layers))
            })
            .collect::<Result<Vec<_>, GenerativeError>>()?;
        MultiScale::new(self.image, levels)
    }
}

impl MultiScale {
    /// A multi-scale flow over `image` (`[c, h, w]`) with one flow per level; each level's flow
    /// must keep the shape of its (squeezed) input.
    pub fn new(image: [usize; 3], levels: Vec<Chain<ImageLayer>>) -> Result<Self, GenerativeError> {
        level_shapes(image, levels.len())?;
        Ok(MultiScale { levels, image })
    }

    /// The latent width per row, `c·h·w`.
    pub fn latent_width(&self) -> usize {
        self.image.iter().product()
    }

    /// Refuses a context when no level takes one.
    fn check_context(&self, context: Option<&Tensor<2>>) -> Result<(), GenerativeError> {
        if context.is_some() && self.context_width() == 0 {
            return Err(GenerativeError::Unsupported {
                what: "a context for an unconditional multi-scale flow: build it with \
                       MultiScaleConfig::with_context",
            });
        }
        Ok(())
    }

    fn check_image(&self, x: &Tensor<4>) -> Result<(), GenerativeError> {
        let [b, c, h, w] = x.dims();
        if b == 0 {
            return Err(GenerativeError::EmptyBatch {
                what: "multi-scale flow input",
            });
        }
        if [c, h, w] != self.image {
            return Err(GenerativeError::ShapeMismatch {
                what: "image shape and the multi-scale flow's",
                left: vec![c, h, w],
                right: self.image.to_vec(),
            });
        }
        Ok(())
    }

    /// The data → latent direction.
    fn run(
        &self,
        x: Tensor<4>,
        context: Option<&Tensor<2>>,
    ) -> Result<Transformed<4>, GenerativeError> {
        self.check_image(&x)?;
        self.check_context(context)?;
        let batch = x.dims()[0];
        let mut log_det = zero_log_det(&x);
        let mut h = x;
        let mut pieces = Vec::with_capacity(self.levels.len());
        for (index, level) in self.levels.iter().enumerate() {
            let out = level.forward(squeeze(h)?, context_for(level, context))?;
            log_det = log_det + out.log_det;
            h = out.value;
            if index + 1 < self.levels.len() {
                let [_, c, hh, ww] = h.dims();
                let half = c / 2;
                pieces.push(
                    h.clone()
                        .narrow(1, 0, half)
                        .reshape([batch, half * hh * ww]),
                );
                h = h.narrow(1, half, c - half);
            }
        }
        let rest: usize = h.dims()[1..].iter().product();
        pieces.push(h.reshape([batch, rest]));
        Ok(Transformed {
            value: Tensor::cat(pieces, 1).reshape([batch, self.latent_width(), 1, 1]),
            log_det,
        })
    }
}

impl Flow<4> for MultiScale {
    fn context_width(&self) -> usize {
        self.levels
            .iter()
            .map(Flow::context_width)
            .max()
            .unwrap_or(0)
    }

    fn forward(
        &self,
        x: Tensor<4>,
        context: Option<&Tensor<2>>,
    ) -> Result<Transformed<4>, GenerativeError> {
        self.run(x, context)
    }

    fn inverse(
        &self,
        z: Tensor<4>,
        context: Option<&Tensor<2>>,
    ) -> Result<Transformed<4>, GenerativeError> {
        let [batch, width, one, other] = z.dims();
        if batch == 0 {
            return Err(GenerativeError::EmptyBatch {
                what: "multi-scale flow latent",
            });
        }
        if [width, one, other] != [self.latent_width(), 1, 1] {
            return Err(GenerativeError::ShapeMismatch {
                what: "latent shape and the multi-scale flow's [batch, c·h·w, 1, 1]",
                left: vec![batch, width, one, other],
                right: vec![batch, self.latent_width(), 1, 1],
            });
        }
        self.check_context(context)?;
        let shapes = level_shapes(self.image, self.levels.len())?;
        let flat = z.reshape([batch, width]);
        // The factored-out halves first, in level order, then the last level's output.
        let mut offset = 0;
        let mut pieces = Vec::with_capacity(shapes.len());
        for (index, &[c, h, w]) in shapes.iter().enumerate() {
            let channels = if index + 1 < shapes.len() { c / 2 } else { c };
            let size = channels * h * w;
            pieces.push(
                flat.clone()
                    .narrow(1, offset, size)
                    .reshape([batch, channels, h, w]),
            );
            offset += size;
        }
        let mut log_det = zero_log_det(&flat);
        let mut h: Option<Tensor<4>> = None;
        for (level, piece) in self.levels.iter().zip(pieces).rev() {
            let input = match h {
                None => piece,
                Some(kept) => Tensor::cat(vec![piece, kept], 1),
            };
            let out = level.inverse(input, context_for(level, context))?;
            log_det = log_det + out.log_det;
            h = Some(unsqueeze(out.value)?);
        }
        let value = h.ok_or(GenerativeError::InvalidParameter {
            name: "multi-scale levels",
            value: 0.0,
            requirement: "needs at least one level",
        })?;
        Ok(Transformed { value, log_det })
    }

    fn initialise(
        self,
        x: Tensor<4>,
        context: Option<&Tensor<2>>,
    ) -> Result<Self, GenerativeError> {
        self.check_image(&x)?;
        self.check_context(context)?;
        let count = self.levels.len();
        let mut levels = Vec::with_capacity(count);
        let mut h = x.detach();
        for (index, level) in self.levels.into_iter().enumerate() {
            let squeezed = squeeze(h)?;
            let own = context_for(&level, context);
            let level = level.initialise(squeezed.clone(), own)?;
            h = level
                .forward(squeezed, context_for(&level, context))?
                .value
                .detach();
            if index + 1 < count {
                let c = h.dims()[1];
                h = h.narrow(1, c / 2, c - c / 2);
            }
            levels.push(level);
        }
        Ok(MultiScale {
            levels,
            image: self.image,
        })
    }
}
