//! Elementwise activations and the first and second derivatives that jets need.
//!
//! Each derivative is written in terms of the activation's value where the maths allows
//! (tanh' = 1 - tanh², sigmoid' = s(1 - s), ...), so that the value computed for the forward pass
//! is reused instead of evaluating a second transcendental function. Op counts below are for
//! `[batch, width]` tensors, which are `k` times smaller than the tangents they multiply.

use burn::config::Config;
use burn::tensor::Tensor;
use burn::tensor::activation::{relu, sigmoid, softplus};

/// An elementwise activation σ with the derivatives forward-mode propagation needs.
#[derive(Config, Debug, Copy, PartialEq, Eq)]
pub enum Activation {
    /// σ(z) = z.
    Identity,
    /// σ(z) = tanh z; σ' = 1 - σ², σ'' = -2σσ'.
    Tanh,
    /// σ(z) = 1 / (1 + e^{-z}); σ' = σ(1 - σ), σ'' = σ'(1 - 2σ).
    Sigmoid,
    /// σ(z) = log(1 + e^z); σ' = sigmoid(z), σ'' = sigmoid(z)(1 - sigmoid(z)).
    Softplus,
    /// SiLU (swish) σ(z) = z s with s = sigmoid(z); σ' = s + z s(1 - s),
    /// σ'' = s(1 - s)(2 + z(1 - 2s)).
    Silu,
    /// σ(z) = sin z; σ' = cos z, σ'' = -σ.
    Sin,
    /// σ(z) = max(z, 0); σ' = 1 for z > 0 and 0 otherwise (0 at the kink itself).
    ///
    /// ReLU networks are piecewise linear, so their second derivatives are zero almost
    /// everywhere and jets report them as zero: the Dirac masses at the kinks are not
    /// representable. A PINN residual with u_xx therefore needs a smooth activation.
    Relu,
}

/// σ(z), σ'(z) and σ''(z) for one pre-activation tensor.
///
/// `None` marks a derivative that is identically one (`first`) or zero (`second`), so the
/// propagation can skip a multiplication or an addition over the large tangent tensors.
pub(crate) struct Derivatives {
    pub value: Tensor<2>,
    pub first: Option<Tensor<2>>,
    pub second: Option<Tensor<2>>,
}

impl Activation {
    /// σ applied elementwise: what an ordinary forward pass uses.
    pub fn forward<const D: usize>(self, z: Tensor<D>) -> Tensor<D> {
        match self {
            Activation::Identity => z,
            Activation::Tanh => z.tanh(),
            Activation::Sigmoid => sigmoid(z),
            Activation::Softplus => softplus(z, 1.0),
            Activation::Silu => z.clone() * sigmoid(z),
            Activation::Sin => z.sin(),
            Activation::Relu => relu(z),
        }
    }

    /// Whether σ'' is nonzero somewhere (false for the identity and ReLU).
    pub fn has_second_derivative(self) -> bool {
        !matches!(self, Activation::Identity | Activation::Relu)
    }

    /// σ(z) with σ'(z), and σ''(z) when `with_second` is set. The value is computed exactly as
    /// in [`Activation::forward`], so a jet's value equals the plain forward pass bit for bit.
    pub(crate) fn derivatives(self, z: Tensor<2>, with_second: bool) -> Derivatives {
        match self {
            // 0 ops.
            Activation::Identity => Derivatives {
                value: z,
                first: None,
                second: None,
            },
            // value 1, σ' 3, σ'' 2.
            Activation::Tanh => {
                let y = z.tanh();
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
                let y = sigmoid(z);
                let d1 = y.clone() - y.clone().square();
                let d2 =
                    with_second.then(|| d1.clone() * y.clone().mul_scalar(-2.0).add_scalar(1.0));
                Derivatives {
                    value: y,
                    first: Some(d1),
                    second: d2,
                }
            }
            // value: burn's overflow-safe softplus; σ' 1 (a sigmoid), σ'' 2.
            Activation::Softplus => {
                let s = sigmoid(z.clone());
                let d2 = with_second.then(|| s.clone() - s.clone().square());
                Derivatives {
                    value: softplus(z, 1.0),
                    first: Some(s),
                    second: d2,
                }
            }
            // value 2 (sigmoid, product), σ' 4, σ'' 5.
            Activation::Silu => {
                let s = sigmoid(z.clone());
                let y = z.clone() * s.clone();
                let ds = s.clone() - s.clone().square();
                let d1 = s.clone() + z.clone() * ds.clone();
                let d2 = with_second
                    .then(|| ds * (z * s.mul_scalar(-2.0).add_scalar(1.0)).add_scalar(2.0));
                Derivatives {
                    value: y,
                    first: Some(d1),
                    second: d2,
                }
            }
            // value 1, σ' 1, σ'' 1.
            Activation::Sin => {
                let y = z.clone().sin();
                let d2 = with_second.then(|| y.clone().neg());
                Derivatives {
                    value: y,
                    first: Some(z.cos()),
                    second: d2,
                }
            }
            // value 1, σ' 1 (sign of the value: 1 where z > 0, else 0); σ'' = 0 a.e.
            Activation::Relu => {
                let y = relu(z);
                Derivatives {
                    first: Some(y.clone().sign()),
                    value: y,
                    second: None,
                }
            }
        }
    }
}
