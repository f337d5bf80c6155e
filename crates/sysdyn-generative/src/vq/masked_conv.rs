//! PixelCNN's masked convolution (van den Oord, Kalchbrenner & Kavukcuoglu 2016): a `k × k`
//! convolution (odd `k`, "same" padding) whose kernel is multiplied by a mask that hides every
//! input position at or after the output position in raster order, so the output at `p` is a
//! function of the inputs before `p` only.
//!
//! With the kernel centre `(c, c)`, `c = (k − 1)/2`, the mask keeps the tap `(i, j)` when
//!
//! - type A (the first layer): `i < c`, or `i = c` and `j < c` (strictly before `p`);
//! - type B (every later layer): `i < c`, or `i = c` and `j ≤ c` (also `p` itself, which after
//!   a type-A layer carries information from before `p` only).
//!
//! Every channel is one variable here (the code at a position is one categorical), so the
//! mask is the same for every pair of channels.

use burn::module::{Module, Param};
use burn::tensor::module::conv2d;
use burn::tensor::ops::ConvOptions;
use burn::tensor::{Device, Tensor};
use sysdyn_core::rng::SeededRng;

use crate::error::GenerativeError;
use crate::vq::codebook::{check_shape, host_tensor};
use crate::vq::model::he_param;

/// Which taps a masked convolution keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MaskType {
    /// Strictly before the output position (the first layer).
    A,
    /// Before it and the position itself (later layers).
    B,
}

/// A masked `k × k` convolution.
#[derive(Module, Debug)]
pub struct MaskedConv2d {
    /// The unmasked kernel `[out, in, k, k]`.
    pub weight: Param<Tensor<4>>,
    /// The bias `[out]`.
    pub bias: Param<Tensor<1>>,
    #[module(skip)]
    mask_type: MaskType,
}

impl MaskedConv2d {
    /// A masked convolution from `input` to `output` channels with an odd `kernel`, weights
    /// He-normal from `rng` (scaled for the taps the mask keeps), zero bias.
    pub fn new(
        input: usize,
        output: usize,
        kernel: usize,
        mask_type: MaskType,
        device: &Device,
        rng: &mut SeededRng,
    ) -> Result<Self, GenerativeError> {
        if kernel.is_multiple_of(2) {
            return Err(GenerativeError::InvalidParameter {
                name: "masked convolution kernel",
                value: kernel as f64,
                requirement: "must be odd (the output position is the kernel's centre)",
            });
        }
        if input == 0 || output == 0 {
            return Err(GenerativeError::InvalidParameter {
                name: "masked convolution channels",
                value: 0.0,
                requirement: "input and output channels must be at least 1",
            });
        }
        let taps = mask_values(kernel, mask_type)
            .iter()
            .filter(|&&m| m > 0.0)
            .count();
        if taps == 0 {
            return Err(GenerativeError::InvalidParameter {
                name: "masked convolution kernel",
                value: kernel as f64,
                requirement: "a type-A mask of a 1×1 kernel keeps no tap: use kernel ≥ 3",
            });
        }
        Ok(MaskedConv2d {
            weight: he_param(rng, [output, input, kernel, kernel], input * taps, device),
            bias: Param::from_tensor(Tensor::zeros([output], device)),
            mask_type,
        })
    }

    /// The mask type.
    pub fn mask_type(&self) -> MaskType {
        self.mask_type
    }

    /// The masked kernel, `weight ⊙ mask`.
    pub fn masked_weight(&self) -> Tensor<4> {
        let weight = self.weight.val();
        let [output, input, kernel, _] = weight.dims();
        let mask = host_tensor(
            mask_values(kernel, self.mask_type),
            [1, 1, kernel, kernel],
            &weight,
        )
        .expand([output, input, kernel, kernel]);
        weight * mask
    }

    /// The convolution of `x` (`[batch, in, h, w]`) with the masked kernel, same size out.
    pub fn forward(&self, x: Tensor<4>) -> Result<Tensor<4>, GenerativeError> {
        let [_, input, kernel, _] = self.weight.dims();
        let [batch, channels, _, _] = x.dims();
        check_shape("masked convolution input channels", &[channels], &[input])?;
        if batch == 0 {
            return Err(GenerativeError::EmptyBatch {
                what: "masked convolution input",
            });
        }
        let pad = kernel / 2;
        Ok(conv2d(
            x,
            self.masked_weight(),
            Some(self.bias.val()),
            ConvOptions::new([1, 1], [pad, pad], [1, 1], 1),
        ))
    }
}

/// The `k × k` mask, row-major: 1 for the taps kept, 0 for the others.
pub fn mask_values(kernel: usize, mask_type: MaskType) -> Vec<f64> {
    let centre = kernel / 2;
    let mut mask = vec![0.0; kernel * kernel];
    for i in 0..kernel {
        for j in 0..kernel {
            let kept = i < centre
                || (i == centre
                    && match mask_type {
                        MaskType::A => j < centre,
                        MaskType::B => j <= centre,
                    });
            if kept {
                mask[i * kernel + j] = 1.0;
            }
        }
    }
    mask
}
