//! [`Activation::forward`] on burn tensors: on `flex`, the engine's vectorised kernels with a
//! backward pass of their own; elsewhere burn's own elementwise operations.
//!
//! Why an operation of our own: burn-flex computes `tanh`, `exp` and `sin` one element at a
//! time through the C library, and burn's autodiff differentiates `tanh` by recomputing it from
//! the saved input and then four more elementwise passes (`docs/profiles/w2-generic-path.md`:
//! more than half of a neural ODE's training step). Here the value and σ' are computed in one
//! vectorised pass over host memory, σ' is saved, and the backward pass is one product
//! `grad · σ'`. It is a burn backend extension (`#[backend_extension]`, burn's mechanism for
//! custom operations), so it stays on burn's autodiff graph and works with any module.

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind, unary};
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, AutodiffBackend, Backend, Dispatch, backend_extension};
use burn::tensor::Tensor;
use burn::tensor::activation::{relu, sigmoid, softplus};

use crate::activation::Activation;

/// The activations as a burn backend operation (see the module documentation). Implemented for
/// `flex` (the host kernels) and for autodiff over it (the backward pass); [`Activation::forward`]
/// calls it only on `flex` devices and uses burn's own operations on every other backend, so
/// users call that rather than this trait.
#[backend_extension(Flex: cfg(feature = "flex"), Autodiff)]
pub trait HostActivationBackend: Backend {
    /// `σ(z)` elementwise.
    fn host_activation(z: FloatTensor<Self>, activation: Activation) -> FloatTensor<Self>;

    /// `(σ(z), σ'(z))` elementwise, from one pass. On an autodiff backend both are values only
    /// (σ' is not differentiated further).
    fn host_activation_with_derivative(
        z: FloatTensor<Self>,
        activation: Activation,
    ) -> (FloatTensor<Self>, FloatTensor<Self>);
}

impl Activation {
    /// σ applied elementwise to a tensor of any rank, on any device, on or off the autodiff
    /// graph. On burn's `flex` backend the engine's vectorised kernels compute it, and its
    /// gradient is `grad · σ'(z)` with σ' saved from the same pass; elsewhere it is burn's
    /// `tanh`, `sigmoid`, `softplus`, ... The two agree to the f32 kernels' rounding (a few
    /// units in the last place) and exactly in f64 for tanh.
    pub fn forward<const D: usize>(self, z: Tensor<D>) -> Tensor<D> {
        match self {
            Activation::Identity => z,
            // burn's ReLU is a comparison and a select, already as fast as a host pass.
            Activation::Relu => relu(z),
            other if super::is_flex_device(&z.device()) => Tensor::from_dispatch(
                <Dispatch as HostActivationBackend>::host_activation(z.into_dispatch(), other),
            ),
            Activation::Tanh => z.tanh(),
            Activation::Sigmoid => sigmoid(z),
            Activation::Softplus => softplus(z, 1.0),
            Activation::Silu => z.clone() * sigmoid(z),
            Activation::Sin => z.sin(),
        }
    }
}

/// The backward pass of [`HostActivationBackend::host_activation`]: `grad · σ'(z)`.
#[derive(Debug)]
struct ActivationBackward;

impl<B: Backend> Backward<B, 1> for ActivationBackward {
    /// σ'(z), saved by the forward pass.
    type State = FloatTensor<B>;

    fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
        let derivative = ops.state;
        unary::<B, _>(ops.parents, ops.node, grads, |grad| {
            B::float_mul(grad, derivative)
        });
    }
}

impl<B: HostActivationBackend, C: CheckpointStrategy> HostActivationBackend for Autodiff<B, C> {
    fn host_activation(z: FloatTensor<Self>, activation: Activation) -> FloatTensor<Self> {
        let (primitive, node) = z.into_parts();
        // Compute-bound: σ' is kept rather than recomputed, whatever the checkpointing strategy
        // (it costs the same memory as the input burn's own tanh keeps).
        match ActivationBackward
            .prepare::<C>([node])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => {
                let (value, derivative) = B::host_activation_with_derivative(primitive, activation);
                prep.finish(derivative, value)
            }
            OpsKind::UnTracked(prep) => prep.finish(B::host_activation(primitive, activation)),
        }
    }

    fn host_activation_with_derivative(
        z: FloatTensor<Self>,
        activation: Activation,
    ) -> (FloatTensor<Self>, FloatTensor<Self>) {
        let (value, derivative) =
            B::host_activation_with_derivative(z.into_primitive(), activation);
        (Self::from_inner(value), Self::from_inner(derivative))
    }
}

#[cfg(feature = "flex")]
mod flex {
    use burn::backend::Flex;
    use burn::backend::flex::FlexTensor;
    use burn::tensor::{DType, TensorData};

    use super::HostActivationBackend;
    use crate::activation::Activation;
    use crate::float::Float;

    impl HostActivationBackend for Flex {
        fn host_activation(z: FlexTensor, activation: Activation) -> FlexTensor {
            apply(z, activation, false).0
        }

        fn host_activation_with_derivative(
            z: FlexTensor,
            activation: Activation,
        ) -> (FlexTensor, FlexTensor) {
            let (value, derivative) = apply(z, activation, true);
            let derivative = derivative.unwrap_or_else(|| {
                // `apply` returns σ' whenever asked; an empty σ' would be a bug here, so fall
                // back to the value's shape of zeros rather than panic in user code.
                FlexTensor::zeros(value.layout().shape().clone(), value.dtype())
            });
            (value, derivative)
        }
    }

    /// f32 and f64 views of flex storage.
    trait FlexFloat: Float + burn::tensor::Element {
        fn contiguous(tensor: &FlexTensor) -> Option<&[Self]>;
        fn storage_mut(tensor: &mut FlexTensor) -> &mut [Self];
    }

    impl FlexFloat for f32 {
        fn contiguous(tensor: &FlexTensor) -> Option<&[f32]> {
            tensor.as_slice::<f32>()
        }
        fn storage_mut(tensor: &mut FlexTensor) -> &mut [f32] {
            tensor.storage_mut::<f32>()
        }
    }

    impl FlexFloat for f64 {
        fn contiguous(tensor: &FlexTensor) -> Option<&[f64]> {
            tensor.as_slice::<f64>()
        }
        fn storage_mut(tensor: &mut FlexTensor) -> &mut [f64] {
            tensor.storage_mut::<f64>()
        }
    }

    /// σ(z) and, when asked, σ'(z), in the tensor's own dtype. Half-precision tensors are
    /// computed in f32 and rounded back.
    fn apply(
        z: FlexTensor,
        activation: Activation,
        with_derivative: bool,
    ) -> (FlexTensor, Option<FlexTensor>) {
        match z.dtype() {
            DType::F32 => apply_typed::<f32>(z, activation, with_derivative),
            DType::F64 => apply_typed::<f64>(z, activation, with_derivative),
            dtype => {
                let single = FlexTensor::from_data(z.into_data().convert_dtype(DType::F32));
                let (value, derivative) = apply_typed::<f32>(single, activation, with_derivative);
                let back =
                    |t: FlexTensor| FlexTensor::from_data(t.into_data().convert_dtype(dtype));
                (back(value), derivative.map(back))
            }
        }
    }

    fn apply_typed<E: FlexFloat>(
        mut z: FlexTensor,
        activation: Activation,
        with_derivative: bool,
    ) -> (FlexTensor, Option<FlexTensor>) {
        let shape = z.layout().shape().clone();
        let n = shape.num_elements();
        let run = |values: &mut [E]| {
            if with_derivative {
                let mut first = vec![E::ZERO; values.len()];
                activation.apply(values, Some(&mut first), None);
                Some(first)
            } else {
                activation.apply(values, None, None);
                None
            }
        };
        let in_place =
            z.is_unique() && z.layout().is_contiguous() && z.layout().start_offset() == 0;
        let (value, derivative) = if in_place {
            let derivative = run(&mut E::storage_mut(&mut z)[..n]);
            (z, derivative)
        } else {
            let mut values = match E::contiguous(&z) {
                Some(values) => values.to_vec(),
                // A strided view: burn-flex gathers it in logical order.
                None => z
                    .into_data()
                    .try_into_vec::<E>()
                    .expect("`apply` dispatched on this tensor's dtype"),
            };
            let derivative = run(&mut values);
            (
                FlexTensor::from_data(TensorData::new(values, shape.clone())),
                derivative,
            )
        };
        let derivative = derivative.map(|d| FlexTensor::from_data(TensorData::new(d, shape)));
        (value, derivative)
    }
}
