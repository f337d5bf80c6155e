//! Power iteration for the largest singular value of each matrix of a stack `W: [E, m, n]`,
//! the one implementation behind sysdyn-physics' LEADS penalty (stateless, `E` environments
//! at once) and sysdyn-generative's spectral normalisation (one matrix, `E = 1`, with `u` and
//! `v` kept between updates).
//!
//! One iteration is `v ← Wᵀu / ‖Wᵀu‖`, `u ← W v / ‖W v‖`, on the detached weights, and the
//! estimate is `σ_max(W) ≈ uᵀ W v` ([`singular_value`]), differentiable with respect to `W`
//! with `u`, `v` held constant: its gradient `u vᵀ` is that of the exact `σ_max` at
//! convergence. Vectors are columns `[E, k, 1]`.

use burn::tensor::Tensor;

/// Each column vector of `t: [E, k, 1]` divided by its norm, `t / √(‖t‖² + 10⁻²⁴)`: the floor
/// keeps a zero vector finite (zero) and changes no vector of norm above `10⁻¹²` visibly.
pub fn normalise_columns(t: Tensor<3>) -> Tensor<3> {
    let norm = t.clone().square().sum_dim(1).add_scalar(1e-24).sqrt();
    t / norm
}

/// `iterations` power iterations (module docs) on `weights: [E, m, n]` from the unit vectors
/// `(u, v)`, `[E, m, 1]` and `[E, n, 1]`: the new `(u, v)`, detached (the inputs themselves
/// when `iterations = 0`). Only `u` enters the first iteration; `v` is what is returned when
/// there is none.
pub fn power_iterate(
    weights: Tensor<3>,
    mut u: Tensor<3>,
    mut v: Tensor<3>,
    iterations: usize,
) -> (Tensor<3>, Tensor<3>) {
    let fixed = weights.detach();
    for _ in 0..iterations {
        v = normalise_columns(fixed.clone().swap_dims(1, 2).matmul(u));
        u = normalise_columns(fixed.clone().matmul(v.clone()));
    }
    (u.detach(), v.detach())
}

/// `σ_e = u_eᵀ W_e v_e` for each matrix of `weights: [E, m, n]`: `[E]`, differentiable with
/// respect to `weights` only (`u`, `v` are detached). After an iteration that ends with
/// `u = W v / ‖W v‖` it equals `‖W v‖ ≥ 0`.
pub fn singular_value(u: Tensor<3>, weights: Tensor<3>, v: Tensor<3>) -> Tensor<1> {
    let [e, _, _] = weights.dims();
    u.detach()
        .swap_dims(1, 2)
        .matmul(weights)
        .matmul(v.detach())
        .reshape([e])
}
