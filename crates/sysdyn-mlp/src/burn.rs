//! The burn-facing glue: recognising CPU devices, copying a burn `Linear` stack to the host,
//! tensors in and out, and [`Activation::forward`] on burn tensors (the engine's vectorised
//! kernels on `flex`, with a backward pass of its own, see [`HostActivationBackend`]).
//!
//! The engine runs where the tensors already live in host memory: burn's `flex` and `ndarray`
//! backends, with or without autodiff. There the copy of a `[batch, width]` state in and out is
//! small next to the hidden layers; on a GPU it would be a round trip per evaluation, so callers
//! keep the tensor path there.

use burn::backend::DispatchDevice;
use burn::nn::Linear;
use burn::tensor::{DType, Device, Element, Tensor, TensorData};

use crate::activation::Activation;
use crate::error::MlpError;
use crate::float::Float;
use crate::mlp::{Layer, Mlp};

mod activation_op;

pub use activation_op::HostActivationBackend;

/// Activations sit in burn configs (`#[derive(Config)]` structs) and are saved with them.
impl burn::config::Config for Activation {}

/// Whether tensors on `dispatch` live in host memory.
fn dispatch_is_cpu(dispatch: &DispatchDevice) -> bool {
    match dispatch {
        #[cfg(feature = "flex")]
        DispatchDevice::Flex(_) => true,
        #[cfg(feature = "ndarray")]
        DispatchDevice::NdArray(_) => true,
        DispatchDevice::Autodiff(inner) => dispatch_is_cpu(inner),
        #[allow(unreachable_patterns)]
        _ => false,
    }
}

/// Whether tensors on `dispatch` are burn-ndarray's.
fn dispatch_is_ndarray(dispatch: &DispatchDevice) -> bool {
    match dispatch {
        #[cfg(feature = "ndarray")]
        DispatchDevice::NdArray(_) => true,
        DispatchDevice::Autodiff(inner) => dispatch_is_ndarray(inner),
        #[allow(unreachable_patterns)]
        _ => false,
    }
}

/// Whether `device` (with or without autodiff) keeps its tensors in host memory: burn's `flex`
/// or `ndarray` backend, where the engine can read and write them without a transfer.
pub fn is_cpu_device(device: &Device) -> bool {
    dispatch_is_cpu(device.as_dispatch())
}

/// Whether `device` (with or without autodiff) is burn's `flex` backend.
pub fn is_flex_device(device: &Device) -> bool {
    match device.as_dispatch() {
        #[cfg(feature = "flex")]
        DispatchDevice::Flex(_) => true,
        DispatchDevice::Autodiff(inner) => {
            #[cfg(feature = "flex")]
            {
                matches!(**inner, DispatchDevice::Flex(_))
            }
            #[cfg(not(feature = "flex"))]
            {
                let _ = inner;
                false
            }
        }
        #[allow(unreachable_patterns)]
        _ => false,
    }
}

/// An engine float that burn stores as a tensor of its own dtype.
pub trait BurnFloat: Float + Element {
    /// burn's dtype for this float.
    const DTYPE: DType;
}

impl BurnFloat for f32 {
    const DTYPE: DType = DType::F32;
}

impl BurnFloat for f64 {
    const DTYPE: DType = DType::F64;
}

/// The values of `tensor`, row-major, with its shape. Reads the value of an autodiff tensor
/// (no graph). The tensor must be of `E`'s dtype: the engine does not convert silently.
pub fn to_host<E: BurnFloat, const D: usize>(
    tensor: Tensor<D>,
) -> Result<(Vec<E>, [usize; D]), MlpError> {
    if tensor.dtype() != E::DTYPE {
        return Err(MlpError::DType {
            context: "tensor to host",
            expected: E::NAME.to_string(),
            got: format!("{:?}", tensor.dtype()),
        });
    }
    let shape = tensor.dims();
    let inner = tensor.inner();
    let inner = if dispatch_is_ndarray(inner.device().as_dispatch()) {
        // burn-ndarray hands over the array of a tensor it alone holds, but copies a shared
        // one (a module's parameter: `val()` is a second handle) element by element through
        // ndarray's dynamic-rank iterator: 1.5 ms for W4's 96 parameters. A product with one,
        // exact for every float, is a fresh array made in one vectorised pass.
        inner.mul_scalar(1.0)
    } else {
        inner
    };
    let values = inner
        .into_data()
        .try_to_vec::<E>()
        .map_err(|e| MlpError::DType {
            context: "tensor to host",
            expected: E::NAME.to_string(),
            got: format!("{e:?}"),
        })?;
    Ok((values, shape))
}

/// Host values back to a tensor of their dtype on `device`.
pub fn to_tensor<E: BurnFloat, const D: usize>(
    values: Vec<E>,
    shape: [usize; D],
    device: &Device,
) -> Result<Tensor<D>, MlpError> {
    let expected: usize = shape.iter().product();
    if values.len() != expected {
        return Err(MlpError::Length {
            what: "tensor values",
            rows: shape.first().copied().unwrap_or(1),
            width: shape.iter().skip(1).product(),
            expected,
            got: values.len(),
        });
    }
    Ok(Tensor::from_data(
        TensorData::new(values, shape),
        (device, E::DTYPE),
    ))
}

impl<E: BurnFloat> Mlp<E> {
    /// Copies a stack of burn `Linear` layers (input first) to the host. The parameters must be
    /// of `E`'s dtype; on an autodiff device their values are read without the graph.
    pub fn from_linears(layers: &[Linear], activation: Activation) -> Result<Self, MlpError> {
        let host = layers
            .iter()
            .enumerate()
            .map(|(l, layer)| {
                let (weight, [fan_in, fan_out]) = to_host::<E, 2>(layer.weight.val())?;
                let bias = match &layer.bias {
                    Some(b) => Some(to_host::<E, 1>(b.val())?.0),
                    None => None,
                };
                Layer::checked(l, fan_in, fan_out, weight, bias)
            })
            .collect::<Result<Vec<_>, _>>()?;
        Mlp::new(host, activation)
    }

    /// [`Mlp::forward`] on a tensor `[batch, input_width]` of `E`'s dtype, on any device; the
    /// result is a tensor on the same device (without graph).
    pub fn forward_tensor(&self, x: Tensor<2>) -> Result<Tensor<2>, MlpError> {
        let device = x.device();
        let (values, [batch, _]) = to_host::<E, 2>(x)?;
        let out = self.forward(&values, batch)?;
        to_tensor(out, [batch, self.output_width()], &device)
    }
}

/// A host copy of an MLP in the precision its parameters had.
#[derive(Debug, Clone)]
pub enum AnyMlp {
    /// Single precision.
    F32(Mlp<f32>),
    /// Double precision.
    F64(Mlp<f64>),
}

impl AnyMlp {
    /// Copies a burn `Linear` stack to the host in its own precision (f32 or f64).
    pub fn from_linears(layers: &[Linear], activation: Activation) -> Result<Self, MlpError> {
        let dtype = layers
            .first()
            .ok_or(MlpError::NoLayers)?
            .weight
            .val()
            .dtype();
        match dtype {
            DType::F32 => Ok(AnyMlp::F32(Mlp::from_linears(layers, activation)?)),
            DType::F64 => Ok(AnyMlp::F64(Mlp::from_linears(layers, activation)?)),
            other => Err(MlpError::DType {
                context: "copying an MLP to the host",
                expected: "f32 or f64".to_string(),
                got: format!("{other:?}"),
            }),
        }
    }

    /// [`Mlp::forward`] on a tensor of the network's precision.
    pub fn forward_tensor(&self, x: Tensor<2>) -> Result<Tensor<2>, MlpError> {
        match self {
            AnyMlp::F32(mlp) => mlp.forward_tensor(x),
            AnyMlp::F64(mlp) => mlp.forward_tensor(x),
        }
    }
}
