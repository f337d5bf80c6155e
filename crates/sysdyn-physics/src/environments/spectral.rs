//! The largest singular value of every matrix of a stack `W: [E, m, n]`, by power iteration.
//!
//! From a fixed start `v₀` (the same for every matrix: `v₀,j ∝ 1 + j/n`, no random draw so the
//! penalty is a pure function of the weights), `k` iterations of `u ← W v/‖W v‖`,
//! `v ← Wᵀu/‖Wᵀu‖` run on the detached weights for all `E` matrices at once (batched products),
//! and `σ_max(W_e) ≈ u_eᵀ W_e v_e` is returned with its gradient `u_e v_eᵀ` (the vectors held
//! constant), the gradient of the exact `σ_max` at convergence.
//!
//! Why not `sysdyn_generative::gan::spectral::SpectralNorm`: that one normalises a single
//! matrix and keeps `u` between steps as module state; here the matrices carry an environment
//! axis and the penalty needs `σ` itself, so the iteration is batched and stateless. The two
//! share the formula `σ = uᵀ W v`; moving a batched, stateless form of it to sysdyn-nodes
//! (under both crates) would let SpectralNorm reuse it.

use burn::tensor::Tensor;

/// `σ_max` of each matrix of `weights: [E, m, n]` after `iterations` power iterations (see the
/// module docs): `[E]`, differentiable with respect to `weights`.
pub fn spectral_norms(weights: Tensor<3>, iterations: usize) -> Tensor<1> {
    let [e, _, n] = weights.dims();
    let fixed = weights.clone().detach();
    let start: Vec<f64> = (0..n).map(|j| 1.0 + j as f64 / n as f64).collect();
    let mut v = Tensor::<1>::from_data(
        burn::tensor::TensorData::new(start, [n]).convert_dtype(fixed.dtype()),
        (&fixed.device(), fixed.dtype()),
    )
    .reshape([1, n, 1])
    .repeat_dim(0, e);
    v = normalise(v);
    let mut u = normalise(fixed.clone().matmul(v.clone()));
    for _ in 0..iterations {
        v = normalise(fixed.clone().swap_dims(1, 2).matmul(u.clone()));
        u = normalise(fixed.clone().matmul(v.clone()));
    }
    let (u, v) = (u.detach(), v.detach());
    // u = W v/‖W v‖, so uᵀ W v = ‖W v‖ ≥ 0.
    u.swap_dims(1, 2).matmul(weights).matmul(v).reshape([e])
}

/// Each column vector `[E, k, 1]` divided by its norm (with a floor that keeps zero finite).
fn normalise(t: Tensor<3>) -> Tensor<3> {
    let norm = t.clone().square().sum_dim(1).add_scalar(1e-30).sqrt();
    t / norm
}
