//! Regularisers of depth-as-time networks, as scalar tensors to add to a loss.
//!
//! Seeing the layers as samples of parameters `θ(t)` at `t_j = j h` suggests penalising their
//! size (weight decay) and their variation in depth: `(1/h) Σ_j ‖θ_j − θ_{j−1}‖²` is the
//! discretisation of `∫ ‖θ'(t)‖² dt`, which keeps `θ(t)` smooth as the network is refined.

use burn::tensor::Tensor;

use super::DepthNetwork;

/// `Σ_j (‖K_j‖²_F + ‖b_j‖²)` over every depth-indexed parameter of the network, as a `[1]`
/// tensor (multiply by the decay coefficient before adding it to a loss).
pub fn weight_decay<N: DepthNetwork>(network: &N) -> Tensor<1> {
    network
        .parameter_stacks()
        .into_iter()
        .map(|stack| stack.square().sum())
        .reduce(|a, b| a + b)
        .expect("a network has at least one parameter stack")
}

/// `(1/h) Σ_{j=1}^{N-1} (‖K_j − K_{j−1}‖²_F + ‖b_j − b_{j−1}‖²)` over every depth-indexed
/// parameter, as a `[1]` tensor; zero for a single layer.
pub fn smoothness_in_depth<N: DepthNetwork>(network: &N) -> Tensor<1> {
    let h = network.step_size();
    network
        .parameter_stacks()
        .into_iter()
        .map(|stack| {
            let [n_layers, a, b] = stack.dims();
            if n_layers < 2 {
                return stack.sum() * 0.0;
            }
            let upper = stack.clone().slice([1..n_layers, 0..a, 0..b]);
            let lower = stack.slice([0..n_layers - 1, 0..a, 0..b]);
            (upper - lower).square().sum() * (1.0 / h)
        })
        .reduce(|a, b| a + b)
        .expect("a network has at least one parameter stack")
}
