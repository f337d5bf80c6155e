//! Spectral normalisation (Miyato et al. 2018): a linear layer whose weight is divided by an
//! estimate of its largest singular value, so that the layer is (about) 1-Lipschitz.
//!
//! The estimate comes from power iteration on the weight `W` (`[fan_in, fan_out]`, burn's
//! layout): with `u ∈ R^{fan_in}`, one iteration is `v ← Wᵀu / ‖Wᵀu‖`, `u ← W v / ‖W v‖`, and
//! `σ ≈ uᵀ W v`. As in the paper, one iteration is made per parameter update
//! ([`SpectralLinear::power_iteration`]), `u` persists between updates, and the gradient flows
//! through `σ(W) = uᵀ W v` with `u` and `v` held constant. `u` and `v` are parameters of the
//! module without gradient, so they are saved and restored with the model's checkpoints.

use burn::module::{Module, Param};
use burn::nn::Linear;
use burn::tensor::{Tensor, TensorData};
use sysdyn_core::rng::SeededRng;

/// A linear layer `x ↦ x W/σ(W) + b` with spectral normalisation.
#[derive(Module, Debug)]
pub struct SpectralLinear {
    /// The layer; its weight is the un-normalised `W`.
    pub linear: Linear,
    /// The left singular vector estimate `u` (`[fan_in]`), not trained.
    pub u: Param<Tensor<1>>,
    /// The right singular vector estimate `v` (`[fan_out]`) of the same iteration, not trained.
    pub v: Param<Tensor<1>>,
}

/// `t / ‖t‖` (with a floor that keeps a zero vector finite).
fn normalise(t: Tensor<1>) -> Tensor<1> {
    let norm = t.clone().square().sum().add_scalar(1e-24).sqrt();
    t / norm
}

/// `v = Wᵀu / ‖Wᵀu‖`, without graph.
fn right_vector(weight: &Tensor<2>, u: Tensor<1>) -> Tensor<1> {
    let [fan_in, fan_out] = weight.dims();
    normalise(
        u.reshape([1, fan_in])
            .matmul(weight.clone().detach())
            .reshape([fan_out]),
    )
    .detach()
}

impl SpectralLinear {
    /// Wraps `linear`, starting `u` from a random unit vector drawn from `rng`.
    pub fn new(linear: Linear, rng: &mut SeededRng) -> Self {
        let weight = linear.weight.val();
        let [fan_in, _] = weight.dims();
        let u = Tensor::<1>::from_data(
            TensorData::new(rng.normals(fan_in), [fan_in]).convert_dtype(weight.dtype()),
            (&weight.device(), weight.dtype()),
        );
        let u = normalise(u);
        let v = right_vector(&weight.detach(), u.clone());
        SpectralLinear {
            linear,
            u: Param::from_tensor(u).set_require_grad(false),
            v: Param::from_tensor(v).set_require_grad(false),
        }
    }

    /// One power iteration, `v ← Wᵀu / ‖Wᵀu‖`, `u ← W v / ‖W v‖`: updates `u` and `v` and
    /// returns the new estimate of the largest singular value, `σ = uᵀ W v` (what
    /// [`SpectralLinear::sigma`] computes). Call it once per update of the weight, before the
    /// forward passes of the step.
    pub fn power_iteration(&mut self) -> f64 {
        let weight = self.linear.weight.val().detach();
        let [fan_in, fan_out] = weight.dims();
        let v = right_vector(&weight, self.u.val().detach());
        let u = normalise(
            weight
                .matmul(v.clone().reshape([fan_out, 1]))
                .reshape([fan_in]),
        );
        let (u_id, v_id) = (self.u.id, self.v.id);
        self.u = Param::initialized(u_id, u).set_require_grad(false);
        self.v = Param::initialized(v_id, v).set_require_grad(false);
        self.sigma().into_scalar::<f64>()
    }

    /// `σ(W) = uᵀ W v` with `u` and `v` constant: differentiable with respect to `W`.
    pub fn sigma(&self) -> Tensor<1> {
        let weight = self.linear.weight.val();
        let [fan_in, fan_out] = weight.dims();
        let u = self.u.val().detach();
        let v = self.v.val().detach();
        u.reshape([1, fan_in])
            .matmul(weight)
            .matmul(v.reshape([fan_out, 1]))
            .reshape([1])
    }

    /// The normalised weight `W / σ(W)`.
    pub fn normalised_weight(&self) -> Tensor<2> {
        let sigma = self.sigma().reshape([1, 1]);
        self.linear.weight.val() / sigma
    }

    /// `x W/σ(W) + b` for `x` of shape `[..., fan_in]`.
    pub fn forward<const D: usize>(&self, x: Tensor<D>) -> Tensor<D> {
        burn::tensor::module::linear(
            x,
            self.normalised_weight(),
            self.linear.bias.as_ref().map(|b| b.val()),
        )
    }
}
