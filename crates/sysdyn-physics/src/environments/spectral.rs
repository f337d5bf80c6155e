//! The largest singular value of every matrix of a stack `W: [E, m, n]`, by power iteration.
//!
//! From a fixed start `v₀` (the same for every matrix: `v₀,j ∝ 1 + j/n`, no random draw so the
//! penalty is a pure function of the weights), `k` iterations of `u ← W v/‖W v‖`,
//! `v ← Wᵀu/‖Wᵀu‖` run on the detached weights for all `E` matrices at once (batched products),
//! and `σ_max(W_e) ≈ u_eᵀ W_e v_e` is returned with its gradient `u_e v_eᵀ` (the vectors held
//! constant), the gradient of the exact `σ_max` at convergence.
//!
//! The iteration and `σ = uᵀ W v` are sysdyn-nodes' [`sysdyn_nodes::power_iteration`], the
//! same as sysdyn-generative's spectral normalisation runs on a single matrix with `u` kept
//! between updates; here the matrices carry an environment axis and every call starts afresh.

use burn::tensor::Tensor;
use sysdyn_nodes::power_iteration::{normalise_columns, power_iterate, singular_value};

/// `σ_max` of each matrix of `weights: [E, m, n]` after `iterations` power iterations (see the
/// module docs): `[E]`, differentiable with respect to `weights`.
pub fn spectral_norms(weights: Tensor<3>, iterations: usize) -> Tensor<1> {
    let [e, _, n] = weights.dims();
    let fixed = weights.clone().detach();
    let start: Vec<f64> = (0..n).map(|j| 1.0 + j as f64 / n as f64).collect();
    let v = Tensor::<1>::from_data(
        burn::tensor::TensorData::new(start, [n]).convert_dtype(fixed.dtype()),
        (&fixed.device(), fixed.dtype()),
    )
    .reshape([1, n, 1])
    .repeat_dim(0, e);
    let v = normalise_columns(v);
    let u = normalise_columns(fixed.matmul(v.clone()));
    let (u, v) = power_iterate(weights.clone(), u, v, iterations);
    // u = W v/‖W v‖, so uᵀ W v = ‖W v‖ ≥ 0.
    singular_value(u, weights, v)
}
