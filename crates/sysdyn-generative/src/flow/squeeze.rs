//! The 2×2 squeeze of RealNVP: every 2×2 block of pixels becomes four channels,
//! `[b, c, h, w] → [b, 4c, h/2, w/2]`, with
//! `out[b, 4k + 2i + j, r, s] = x[b, k, 2r + i, 2s + j]`. A reordering of the coordinates:
//! `log|det J| = 0`, and the inverse (unsqueeze) is exact. Odd sides and, for the inverse,
//! channel counts not divisible by 4 are refused.

use burn::module::Module;
use burn::tensor::Tensor;

use crate::error::GenerativeError;
use crate::flow::checks::{no_context, zero_log_det};
use crate::flow::{Flow, Transformed};

/// The 2×2 space-to-channels squeeze.
#[derive(Module, Debug, Default)]
pub struct Squeeze {
    #[module(skip)]
    _factor: (),
}

impl Squeeze {
    /// The squeeze.
    pub fn new() -> Self {
        Squeeze::default()
    }
}

const CONTEXT: &str = "a context for a squeeze (it has no parameters)";

/// `[b, c, h, w] → [b, 4c, h/2, w/2]`, checked.
pub(crate) fn squeeze(x: Tensor<4>) -> Result<Tensor<4>, GenerativeError> {
    let [b, c, h, w] = x.dims();
    if b == 0 {
        return Err(GenerativeError::EmptyBatch {
            what: "squeeze input",
        });
    }
    if !h.is_multiple_of(2) || !w.is_multiple_of(2) || h == 0 || w == 0 {
        return Err(GenerativeError::InvalidParameter {
            name: "squeezed image side",
            value: if h.is_multiple_of(2) { w } else { h } as f64,
            requirement: "height and width must be even and positive to squeeze 2×2 blocks",
        });
    }
    Ok(x.reshape([b, c, h / 2, 2, w / 2, 2])
        .permute([0, 1, 3, 5, 2, 4])
        .reshape([b, 4 * c, h / 2, w / 2]))
}

/// `[b, 4c, h, w] → [b, c, 2h, 2w]`, checked.
pub(crate) fn unsqueeze(z: Tensor<4>) -> Result<Tensor<4>, GenerativeError> {
    let [b, c4, h, w] = z.dims();
    if b == 0 {
        return Err(GenerativeError::EmptyBatch {
            what: "unsqueeze input",
        });
    }
    if c4 == 0 || !c4.is_multiple_of(4) {
        return Err(GenerativeError::InvalidParameter {
            name: "unsqueezed channels",
            value: c4 as f64,
            requirement: "must be a positive multiple of 4 (four channels per 2×2 block)",
        });
    }
    let c = c4 / 4;
    Ok(z.reshape([b, c, 2, 2, h, w])
        .permute([0, 1, 4, 2, 5, 3])
        .reshape([b, c, 2 * h, 2 * w]))
}

impl Flow<4> for Squeeze {
    fn forward(
        &self,
        x: Tensor<4>,
        context: Option<&Tensor<2>>,
    ) -> Result<Transformed<4>, GenerativeError> {
        no_context(context, CONTEXT)?;
        let log_det = zero_log_det(&x);
        Ok(Transformed {
            value: squeeze(x)?,
            log_det,
        })
    }

    fn inverse(
        &self,
        z: Tensor<4>,
        context: Option<&Tensor<2>>,
    ) -> Result<Transformed<4>, GenerativeError> {
        no_context(context, CONTEXT)?;
        let log_det = zero_log_det(&z);
        Ok(Transformed {
            value: unsqueeze(z)?,
            log_det,
        })
    }
}
