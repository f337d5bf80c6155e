//! Spectral normalisation (Miyato et al. 2018): a weight divided by an estimate of its largest
//! singular value, so that the layer is (about) 1-Lipschitz.
//!
//! The estimate comes from power iteration on the weight seen as a matrix `W`: a linear layer's
//! weight as it is (`[fan_in, fan_out]`, burn's layout), a convolution kernel
//! `[out, in, k, k]` as `[out, in·k·k]` (the paper's reshape; the convolution's operator norm
//! is within a factor `k` of it). With `u` a unit vector as long as `W` has rows, one iteration
//! is `v ← Wᵀu / ‖Wᵀu‖`, `u ← W v / ‖W v‖`, and `σ ≈ uᵀ W v`. As in the paper, one iteration
//! is made per parameter update ([`SpectralNorm::power_iteration`]), `u` persists between
//! updates, and the gradient flows through `σ(W) = uᵀ W v` with `u` and `v` held constant. `u`
//! and `v` are parameters of the module without gradient, so they are saved and restored with
//! the model's checkpoints. The iteration and `σ` are sysdyn-nodes'
//! [`sysdyn_nodes::power_iteration`] on the matrix as a stack of one (the same code as
//! sysdyn-physics' batched, stateless LEADS penalty).

use burn::module::{Module, Param};
use burn::nn::Linear;
use burn::tensor::{Tensor, TensorData};
use sysdyn_core::rng::SeededRng;
use sysdyn_nodes::power_iteration::{normalise_columns, power_iterate, singular_value};

/// The power-iteration state of one spectrally normalised weight: the singular vector
/// estimates `u` and `v` of its matrix view.
#[derive(Module, Debug)]
pub struct SpectralNorm {
    /// The left singular vector estimate `u` (as long as the matrix view has rows), not trained.
    pub u: Param<Tensor<1>>,
    /// The right singular vector estimate `v` (as long as it has columns) of the same
    /// iteration, not trained.
    pub v: Param<Tensor<1>>,
}

/// The matrix view of a weight: its first axis as rows, the others flattened into columns.
pub fn matrix_view<const D: usize>(weight: Tensor<D>) -> Tensor<2> {
    let dims = weight.dims();
    let rows = dims[0];
    let cols = dims[1..].iter().product();
    weight.reshape([rows, cols])
}

/// `t / ‖t‖` (with a floor that keeps a zero vector finite).
fn normalise(t: Tensor<1>) -> Tensor<1> {
    let [n] = t.dims();
    normalise_columns(t.reshape([1, n, 1])).reshape([n])
}

/// `v = Wᵀu / ‖Wᵀu‖`, without graph: half a power iteration.
fn right_vector(matrix: &Tensor<2>, u: Tensor<1>) -> Tensor<1> {
    let [rows, cols] = matrix.dims();
    normalise_columns(
        matrix
            .clone()
            .detach()
            .reshape([1, rows, cols])
            .swap_dims(1, 2)
            .matmul(u.detach().reshape([1, rows, 1])),
    )
    .reshape([cols])
    .detach()
}

impl SpectralNorm {
    /// The state for `weight`, starting `u` from a random unit vector drawn from `rng`.
    pub fn new<const D: usize>(weight: &Tensor<D>, rng: &mut SeededRng) -> Self {
        let matrix = matrix_view(weight.clone().detach());
        let [rows, _] = matrix.dims();
        let u = Tensor::<1>::from_data(
            TensorData::new(rng.normals(rows), [rows]).convert_dtype(matrix.dtype()),
            (&matrix.device(), matrix.dtype()),
        );
        let u = normalise(u);
        let v = right_vector(&matrix, u.clone());
        SpectralNorm {
            u: Param::from_tensor(u).set_require_grad(false),
            v: Param::from_tensor(v).set_require_grad(false),
        }
    }

    /// One power iteration on `weight`'s matrix view, `v ← Wᵀu / ‖Wᵀu‖`, `u ← W v / ‖W v‖`:
    /// updates `u` and `v` and returns the new estimate of the largest singular value,
    /// `σ = uᵀ W v` (what [`SpectralNorm::sigma`] computes). Call it once per update of the
    /// weight, before the forward passes of the step.
    pub fn power_iteration<const D: usize>(&mut self, weight: &Tensor<D>) -> f64 {
        let matrix = matrix_view(weight.clone().detach());
        let [rows, cols] = matrix.dims();
        let (u, v) = power_iterate(
            matrix.reshape([1, rows, cols]),
            self.u.val().reshape([1, rows, 1]),
            self.v.val().reshape([1, cols, 1]),
            1,
        );
        let (u_id, v_id) = (self.u.id, self.v.id);
        self.u = Param::initialized(u_id, u.reshape([rows])).set_require_grad(false);
        self.v = Param::initialized(v_id, v.reshape([cols])).set_require_grad(false);
        self.sigma(weight.clone()).into_scalar::<f64>()
    }

    /// `σ(W) = uᵀ W v` with `u` and `v` constant: differentiable with respect to `weight`.
    pub fn sigma<const D: usize>(&self, weight: Tensor<D>) -> Tensor<1> {
        let matrix = matrix_view(weight);
        let [rows, cols] = matrix.dims();
        singular_value(
            self.u.val().reshape([1, rows, 1]),
            matrix.reshape([1, rows, cols]),
            self.v.val().reshape([1, cols, 1]),
        )
    }

    /// The normalised weight `W / σ(W)`, in `weight`'s shape.
    pub fn normalised<const D: usize>(&self, weight: Tensor<D>) -> Tensor<D> {
        let sigma = self.sigma(weight.clone()).reshape([1; D]);
        weight / sigma
    }
}

/// A linear layer `x ↦ x W/σ(W) + b` with spectral normalisation.
#[derive(Module, Debug)]
pub struct SpectralLinear {
    /// The layer; its weight is the un-normalised `W`.
    pub linear: Linear,
    /// The power-iteration state of `W`.
    pub norm: SpectralNorm,
}

impl SpectralLinear {
    /// Wraps `linear`, starting `u` from a random unit vector drawn from `rng`.
    pub fn new(linear: Linear, rng: &mut SeededRng) -> Self {
        let norm = SpectralNorm::new(&linear.weight.val(), rng);
        SpectralLinear { linear, norm }
    }

    /// One power iteration ([`SpectralNorm::power_iteration`]); returns the new estimate of
    /// the largest singular value.
    pub fn power_iteration(&mut self) -> f64 {
        self.norm.power_iteration(&self.linear.weight.val())
    }

    /// `σ(W) = uᵀ W v` with `u` and `v` constant: differentiable with respect to `W`.
    pub fn sigma(&self) -> Tensor<1> {
        self.norm.sigma(self.linear.weight.val())
    }

    /// The normalised weight `W / σ(W)`.
    pub fn normalised_weight(&self) -> Tensor<2> {
        self.norm.normalised(self.linear.weight.val())
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
