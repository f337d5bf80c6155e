//! Numerically stable forms of the functions the losses and likelihoods share.

use burn::tensor::Tensor;
use burn::tensor::activation::relu;

/// `softplus(l) = log(1 + e^l) = max(l, 0) + log(1 + e^{−|l|})`, without overflow for any `l`.
pub fn stable_softplus<const D: usize>(logits: Tensor<D>) -> Tensor<D> {
    relu(logits.clone()) + logits.abs().neg().exp().log1p()
}
