//! Moving values between the host and a tensor's device: the few host-side computations of the
//! samplers, codebooks and mixtures (indices, counts, seeded draws) and the tensors they feed.

use burn::nn::Linear;
use burn::optim::GradientsParams;
use burn::tensor::{Device, Tensor, TensorData};
use sysdyn_mlp::Mlp;
use sysdyn_mlp::burn::{BurnFloat, to_tensor};

use crate::error::GenerativeError;

/// A tensor of `values` (row-major, `shape`) in the device and float type of `like`.
pub(crate) fn host_tensor<const D: usize, const L: usize>(
    values: Vec<f64>,
    shape: [usize; D],
    like: &Tensor<L>,
) -> Tensor<D> {
    let dtype = like.dtype();
    Tensor::from_data(
        TensorData::new(values, shape).convert_dtype(dtype),
        (&like.device(), dtype),
    )
}

/// The values of a tensor on the host as `f64`, row-major; `what` names it in the error.
pub(crate) fn host_values<const D: usize>(
    t: Tensor<D>,
    what: &'static str,
) -> Result<Vec<f64>, GenerativeError> {
    t.detach()
        .try_into_vec_as::<f64>()
        .map_err(|e| GenerativeError::HostRead {
            what,
            reason: format!("{e:?}"),
        })
}

/// Registers the host engine's flat parameter gradient of `mlp` (per layer the weight
/// `[fan_in, fan_out]`, then the bias) in `grads` as burn's per-parameter gradients of `layers`
/// (the burn layers `mlp` was copied from), on `device` (their parameters' inner device).
pub(crate) fn register_gradients<E: BurnFloat>(
    grads: &mut GradientsParams,
    mlp: &Mlp<E>,
    params: &[E],
    layers: &[Linear],
    device: &Device,
) {
    for ((layer, host), &offset) in layers.iter().zip(mlp.layers()).zip(&mlp.param_offsets()) {
        let (fan_in, fan_out) = (host.fan_in(), host.fan_out());
        let weight = params[offset..offset + fan_in * fan_out].to_vec();
        grads.register(
            layer.weight.id,
            to_tensor(weight, [fan_in, fan_out], device)
                .expect("fan_in × fan_out values sliced from the engine's parameters"),
        );
        if let Some(bias) = &layer.bias {
            let at = offset + fan_in * fan_out;
            let values = params[at..at + fan_out].to_vec();
            grads.register(
                bias.id,
                to_tensor(values, [fan_out], device)
                    .expect("fan_out values sliced from the engine's parameters"),
            );
        }
    }
}
