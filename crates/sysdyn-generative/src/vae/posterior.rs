//! The encoder's distribution `q(z|x) = N(μ, diag σ²)`: a diagonal Gaussian per row, its
//! reparametrised samples, its log-density and its KL divergence to the prior `N(0, I)`.
//!
//! The variance is carried as a log-variance `ℓ = log σ²`, clamped to
//! [`LOG_VAR_MIN`]`..=`[`LOG_VAR_MAX`] on construction: `σ = exp(ℓ/2)` and `σ² = exp ℓ` then
//! never overflow nor underflow to zero (in f32 as in f64), so a diverging encoder yields a
//! large finite KL rather than `Inf`/`NaN`. The clamp's gradient is zero outside the range,
//! which pushes nothing further out.

use burn::tensor::Tensor;
use sysdyn_core::rng::SeededRng;

use crate::error::GenerativeError;
use crate::host::host_tensor;

/// The smallest log-variance kept: `σ² = e^{−30} ≈ 9.4·10⁻¹⁴`.
pub const LOG_VAR_MIN: f64 = -30.0;
/// The largest log-variance kept: `σ² = e^{20} ≈ 4.9·10⁸` (`σ ≈ 2.2·10⁴`).
pub const LOG_VAR_MAX: f64 = 20.0;

/// `log 2π`.
pub(crate) const LOG_2PI: f64 = 1.837_877_066_409_345_5;

/// A batch of diagonal Gaussians `N(μᵢ, diag σᵢ²)`, one per row: `mean` and `log_var` are
/// `[rows, latent]`.
#[derive(Debug, Clone)]
pub struct DiagonalGaussian {
    mean: Tensor<2>,
    log_var: Tensor<2>,
}

impl DiagonalGaussian {
    /// The Gaussians of means `mean` and log-variances `log_var` (clamped to
    /// `[LOG_VAR_MIN, LOG_VAR_MAX]`), both `[rows, latent]` with at least one row and one
    /// latent dimension.
    pub fn new(mean: Tensor<2>, log_var: Tensor<2>) -> Result<Self, GenerativeError> {
        let [rows, latent] = mean.dims();
        if mean.dims() != log_var.dims() {
            return Err(GenerativeError::ShapeMismatch {
                what: "posterior mean and log-variance",
                left: mean.dims().to_vec(),
                right: log_var.dims().to_vec(),
            });
        }
        if rows == 0 {
            return Err(GenerativeError::EmptyBatch {
                what: "posterior parameters",
            });
        }
        if latent == 0 {
            return Err(latent_width_error());
        }
        Ok(DiagonalGaussian {
            mean,
            log_var: log_var.clamp(LOG_VAR_MIN, LOG_VAR_MAX),
        })
    }

    /// The Gaussians of an encoder's output `[rows, 2·latent]` read as `[μ, log σ²]`.
    pub fn from_encoder_output(output: Tensor<2>) -> Result<Self, GenerativeError> {
        let [_, width] = output.dims();
        if width == 0 || !width.is_multiple_of(2) {
            return Err(GenerativeError::InvalidParameter {
                name: "encoder output width",
                value: width as f64,
                requirement: "must be 2·latent ([μ, log σ²]) with latent ≥ 1",
            });
        }
        let latent = width / 2;
        Self::new(
            output.clone().narrow(1, 0, latent),
            output.narrow(1, latent, latent),
        )
    }

    /// Rows and latent width.
    pub fn dims(&self) -> [usize; 2] {
        self.mean.dims()
    }

    /// `μ`, `[rows, latent]`.
    pub fn mean(&self) -> Tensor<2> {
        self.mean.clone()
    }

    /// `log σ²` after the clamp, `[rows, latent]`.
    pub fn log_var(&self) -> Tensor<2> {
        self.log_var.clone()
    }

    /// `σ = exp(½ log σ²)`, `[rows, latent]`.
    pub fn std(&self) -> Tensor<2> {
        self.log_var.clone().mul_scalar(0.5).exp()
    }

    /// The same Gaussians stacked `times` times: row `s·rows + i` is row `i` (the layout of
    /// every multi-sample computation here).
    pub fn repeat(&self, times: usize) -> Self {
        DiagonalGaussian {
            mean: self.mean.clone().repeat_dim(0, times),
            log_var: self.log_var.clone().repeat_dim(0, times),
        }
    }

    /// The reparametrised sample `z = μ + σ ⊙ ε` for given standard normal noise `ε`
    /// (`[rows, latent]`): differentiable in `μ` and `log σ²`.
    pub fn sample_with(&self, eps: Tensor<2>) -> Result<Tensor<2>, GenerativeError> {
        if eps.dims() != self.dims() {
            return Err(GenerativeError::ShapeMismatch {
                what: "noise ε and posterior",
                left: eps.dims().to_vec(),
                right: self.dims().to_vec(),
            });
        }
        Ok(self.mean.clone() + self.std() * eps)
    }

    /// A reparametrised sample with `ε ~ N(0, I)` drawn on the host by `rng` (the same draws
    /// on every backend).
    pub fn sample(&self, rng: &mut SeededRng) -> Tensor<2> {
        let eps = standard_normal_like(&self.mean, rng);
        self.mean.clone() + self.std() * eps
    }

    /// `log q(z)` per row, `[rows]`:
    /// `−½ Σⱼ (log 2π + log σⱼ² + (zⱼ − μⱼ)² / σⱼ²)`.
    pub fn log_prob(&self, z: Tensor<2>) -> Result<Tensor<1>, GenerativeError> {
        if z.dims() != self.dims() {
            return Err(GenerativeError::ShapeMismatch {
                what: "codes z and posterior",
                left: z.dims().to_vec(),
                right: self.dims().to_vec(),
            });
        }
        let [rows, _] = self.dims();
        let precision = self.log_var.clone().neg().exp();
        let terms = (z - self.mean.clone()).square() * precision + self.log_var.clone();
        Ok(terms
            .add_scalar(LOG_2PI)
            .sum_dim(1)
            .mul_scalar(-0.5)
            .reshape([rows]))
    }

    /// `KL(q ‖ N(0, I))` per row and latent dimension, `[rows, latent]`:
    /// `½ (μⱼ² + σⱼ² − 1 − log σⱼ²)`. Free bits floor these (averaged over the batch).
    pub fn kl_per_dimension(&self) -> Tensor<2> {
        (self.mean.clone().square() + self.log_var.clone().exp() - self.log_var.clone())
            .sub_scalar(1.0)
            .mul_scalar(0.5)
    }

    /// `KL(q ‖ N(0, I))` per row, `[rows]`: `½ Σⱼ (μⱼ² + σⱼ² − 1 − log σⱼ²)`.
    pub fn kl_to_standard_normal(&self) -> Tensor<1> {
        let [rows, _] = self.dims();
        self.kl_per_dimension().sum_dim(1).reshape([rows])
    }
}

/// `log N(z; 0, I)` per row, `[rows]`: `−½ Σⱼ (log 2π + zⱼ²)`.
pub fn standard_normal_log_prob(z: Tensor<2>) -> Tensor<1> {
    let [rows, _] = z.dims();
    z.square()
        .add_scalar(LOG_2PI)
        .sum_dim(1)
        .mul_scalar(-0.5)
        .reshape([rows])
}

/// A tensor of `N(0, 1)` draws from `rng`, of the shape, device and dtype of `like`.
pub(crate) fn standard_normal_like<const D: usize>(
    like: &Tensor<D>,
    rng: &mut SeededRng,
) -> Tensor<D> {
    let shape = like.dims();
    let n = shape.iter().product();
    host_tensor(rng.normals(n), shape, like)
}

pub(crate) fn latent_width_error() -> GenerativeError {
    GenerativeError::InvalidParameter {
        name: "latent width",
        value: 0.0,
        requirement: "a latent code needs at least one dimension",
    }
}
