//! Elementwise activations and the first and second derivatives that jets need.
//!
//! Each derivative is written in terms of the activation's value where the maths allows
//! (tanh' = 1 - tanh², sigmoid' = s(1 - s), ...), so that the value computed for the forward pass
//! is reused instead of evaluating a second transcendental function. Op counts below are for
//! `[batch, width]` tensors, which are `k` times smaller than the tangents they multiply.

use burn::tensor::Tensor;

/// The activations: the MLP engine's type, so that a network's activation means the same in a
/// jet, on burn tensors ([`Activation::forward`], vectorised on `flex`) and on the host engine.
pub use sysdyn_mlp::Activation;

/// σ(z), σ'(z) and σ''(z) for one pre-activation tensor.
///
/// `None` marks a derivative that is identically one (`first`) or zero (`second`), so the
/// propagation can skip a multiplication or an addition over the large tangent tensors.
pub(crate) struct Derivatives {
    pub value: Tensor<2>,
    pub first: Option<Tensor<2>>,
    pub second: Option<Tensor<2>>,
}

/// σ(z) with σ'(z), and σ''(z) when `with_second` is set. The value is computed by
/// [`Activation::forward`], so a jet's value equals the plain forward pass bit for bit.
pub(crate) fn derivatives(activation: Activation, z: Tensor<2>, with_second: bool) -> Derivatives {
    match activation {
        // 0 ops.
        Activation::Identity => Derivatives {
            value: z,
            first: None,
            second: None,
        },
        // value 1, σ' 3, σ'' 2.
        Activation::Tanh => {
            let y = activation.forward(z);
            let d1 = y.clone().square().neg().add_scalar(1.0);
            let d2 = with_second.then(|| (y.clone() * d1.clone()).mul_scalar(-2.0));
            Derivatives {
                value: y,
                first: Some(d1),
                second: d2,
            }
        }
        // value 1, σ' 2, σ'' 3.
        Activation::Sigmoid => {
            let y = activation.forward(z);
            let d1 = y.clone() - y.clone().square();
            let d2 = with_second.then(|| d1.clone() * y.clone().mul_scalar(-2.0).add_scalar(1.0));
            Derivatives {
                value: y,
                first: Some(d1),
                second: d2,
            }
        }
        // value 1; σ' 1 (a sigmoid), σ'' 2.
        Activation::Softplus => {
            let s = Activation::Sigmoid.forward(z.clone());
            let d2 = with_second.then(|| s.clone() - s.clone().square());
            Derivatives {
                value: activation.forward(z),
                first: Some(s),
                second: d2,
            }
        }
        // value 1, σ' 4 (with its sigmoid), σ'' 5.
        Activation::Silu => {
            let y = activation.forward(z.clone());
            let s = Activation::Sigmoid.forward(z.clone());
            let ds = s.clone() - s.clone().square();
            let d1 = s.clone() + z.clone() * ds.clone();
            let d2 =
                with_second.then(|| ds * (z * s.mul_scalar(-2.0).add_scalar(1.0)).add_scalar(2.0));
            Derivatives {
                value: y,
                first: Some(d1),
                second: d2,
            }
        }
        // value 1, σ' 1, σ'' 1.
        Activation::Sin => {
            let y = activation.forward(z.clone());
            let d2 = with_second.then(|| y.clone().neg());
            Derivatives {
                value: y,
                first: Some(z.cos()),
                second: d2,
            }
        }
        // value 1, σ' 1 (sign of the value: 1 where z > 0, else 0); σ'' = 0 a.e.
        Activation::Relu => {
            let y = activation.forward(z);
            Derivatives {
                first: Some(y.clone().sign()),
                value: y,
                second: None,
            }
        }
    }
}
