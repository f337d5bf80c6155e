//! Moving values between the host and a tensor's device: the few host-side computations of the
//! samplers, codebooks and mixtures (indices, counts, seeded draws) and the tensors they feed.

use burn::tensor::{Tensor, TensorData};

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
