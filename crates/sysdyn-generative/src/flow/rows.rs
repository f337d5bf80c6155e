//! The checks every vector flow layer makes on its input: a non-empty batch of the layer's width,
//! and a context of the declared width for as many rows — or none when the layer takes none.

use burn::tensor::Tensor;

use crate::error::GenerativeError;

/// `Ok` when `x` is `[batch ≥ 1, features]`.
pub(crate) fn check_rows(
    what: &'static str,
    x: &Tensor<2>,
    features: usize,
) -> Result<usize, GenerativeError> {
    let [batch, width] = x.dims();
    if batch == 0 {
        return Err(GenerativeError::EmptyBatch { what });
    }
    if width != features {
        return Err(GenerativeError::ShapeMismatch {
            what,
            left: vec![batch, width],
            right: vec![batch, features],
        });
    }
    Ok(batch)
}

/// The context to feed a conditioner: `None` for a layer without context (`width == 0`, and then
/// a given context is an error rather than silently dropped), the context itself when it is
/// `[batch, width]`.
pub(crate) fn check_context<'a>(
    what: &'static str,
    context: Option<&'a Tensor<2>>,
    width: usize,
    batch: usize,
) -> Result<Option<&'a Tensor<2>>, GenerativeError> {
    match (context, width) {
        (None, 0) => Ok(None),
        (Some(_), 0) => Err(GenerativeError::Unsupported {
            what: "a context for a layer built without one: build it with a context width",
        }),
        (None, _) => Err(GenerativeError::Unsupported {
            what: "a conditional layer called without a context: pass one [batch, context_width]",
        }),
        (Some(c), _) => {
            if c.dims() != [batch, width] {
                return Err(GenerativeError::ShapeMismatch {
                    what,
                    left: c.dims().to_vec(),
                    right: vec![batch, width],
                });
            }
            Ok(Some(c))
        }
    }
}

/// Row-major `[fan_in, fan_out]` weights uniform in `±1/√fan_in` (burn's default scale), drawn
/// on the host so a seed gives the same layer on every backend.
pub(crate) fn uniform_weights(
    rng: &mut sysdyn_core::rng::SeededRng,
    fan_in: usize,
    count: usize,
) -> Vec<f64> {
    let bound = 1.0 / (fan_in.max(1) as f64).sqrt();
    rng.uniforms(count)
        .into_iter()
        .map(|u| bound * (2.0 * u - 1.0))
        .collect()
}
