//! The checks and small tensor helpers every flow layer shares: a context refused by an
//! unconditional layer, an empty batch, a width that does not match, per-row sums and zero
//! log-determinants in the input's device and float type.

use burn::tensor::Tensor;

use crate::error::GenerativeError;
use crate::flow::Flow;

/// The context a composition hands to `layer`: its own when the layer takes one, none
/// otherwise.
pub(crate) fn context_for<'a, const D: usize, L: Flow<D>>(
    layer: &L,
    context: Option<&'a Tensor<2>>,
) -> Option<&'a Tensor<2>> {
    context.filter(|_| layer.context_width() > 0)
}

/// Refuses a context given to a layer that would ignore it.
pub(crate) fn no_context(
    context: Option<&Tensor<2>>,
    what: &'static str,
) -> Result<(), GenerativeError> {
    match context {
        Some(_) => Err(GenerativeError::Unsupported { what }),
        None => Ok(()),
    }
}

/// Refuses an empty batch and a feature (channel) axis of the wrong width.
pub(crate) fn check_input<const D: usize>(
    what: &'static str,
    x: &Tensor<D>,
    width: usize,
) -> Result<(), GenerativeError> {
    let dims = x.dims();
    if dims[0] == 0 {
        return Err(GenerativeError::EmptyBatch { what });
    }
    if D < 2 || dims[1] != width {
        return Err(GenerativeError::ShapeMismatch {
            what,
            left: dims.to_vec(),
            right: vec![dims[0], width],
        });
    }
    Ok(())
}

/// Checks that a context has one row per batch row and the expected width.
pub(crate) fn check_context(
    what: &'static str,
    context: Option<&Tensor<2>>,
    batch: usize,
    width: usize,
) -> Result<(), GenerativeError> {
    match (context, width) {
        (None, 0) => Ok(()),
        (None, _) => Err(GenerativeError::Unsupported {
            what: "a conditional flow layer without a context: pass a [batch, context_width] \
                   tensor",
        }),
        (Some(_), 0) => Err(GenerativeError::Unsupported {
            what: "a context for an unconditional coupling layer: build it with a context \
                   width > 0 to condition it",
        }),
        (Some(c), _) => {
            if c.dims() == [batch, width] {
                Ok(())
            } else {
                Err(GenerativeError::ShapeMismatch {
                    what,
                    left: c.dims().to_vec(),
                    right: vec![batch, width],
                })
            }
        }
    }
}

/// `Σ` over every axis but the first: `[batch, …] → [batch]`.
pub(crate) fn row_sum<const D: usize>(t: Tensor<D>) -> Tensor<1> {
    let dims = t.dims();
    let rest: usize = dims[1..].iter().product();
    t.reshape([dims[0], rest]).sum_dim(1).reshape([dims[0]])
}

/// A `[batch]` of zeros in `like`'s device and float type (the log-determinant of a volume
/// preserving map).
pub(crate) fn zero_log_det<const D: usize>(like: &Tensor<D>) -> Tensor<1> {
    Tensor::zeros([like.dims()[0]], (&like.device(), like.dtype()))
}

/// A `[batch]` filled with `value`, a tensor of one element (a log-determinant that is the
/// same for every row, such as a per-feature scale's).
pub(crate) fn broadcast_rows(value: Tensor<1>, batch: usize) -> Tensor<1> {
    value.reshape([1]).expand([batch])
}
