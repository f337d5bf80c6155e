//! Gaussian mixtures with diagonal covariances: sampling, the log density, and the *exact*
//! score of the mixture after it has been scaled and noised, the reference every diffusion and
//! score-based sampler is tested against.
//!
//! If `x₀ ~ p = Σₖ wₖ N(μₖ, Σₖ)` with `Σₖ = diag(σₖ²)` and `x = m·x₀ + s·ε`, `ε ~ N(0, I)`,
//! then `x` is again a mixture,
//!
//! `p_{m,s}(x) = Σₖ wₖ N(x; m μₖ, m² Σₖ + s² I)`,
//!
//! and its score is the responsibility-weighted sum of the components' scores,
//!
//! `∇ log p_{m,s}(x) = −Σₖ rₖ(x) (x − m μₖ) / (m² σₖ² + s²)` (elementwise division),
//! `rₖ(x) = wₖ N(x; m μₖ, m² Σₖ + s² I) / p_{m,s}(x)`,
//!
//! the responsibilities computed from log densities by log-sum-exp so that points far from
//! every component keep finite scores. DDPM's `x_t` is `m = √ᾱ_t`, `s = √(1 − ᾱ_t)`; NCSN's and
//! the VE SDE's noised data are `m = 1`, `s = σ`.

use burn::tensor::activation::softmax as softmax_rows;
use burn::tensor::{Tensor, TensorData};
use sysdyn_core::rng::SeededRng;

use crate::error::GenerativeError;

/// `K` weighted Gaussian components with diagonal covariances in `dim` dimensions.
#[derive(Debug, Clone, PartialEq)]
pub struct GaussianMixture {
    weights: Vec<f64>,
    /// `[K, dim]` row-major.
    means: Vec<f64>,
    /// `[K, dim]` row-major standard deviations.
    stds: Vec<f64>,
    dim: usize,
}

impl GaussianMixture {
    /// Components with diagonal standard deviations `stds` (`[K, dim]` row-major), means
    /// `[K, dim]` and weights (positive; normalised to sum to one).
    pub fn diagonal(
        weights: Vec<f64>,
        means: Vec<f64>,
        stds: Vec<f64>,
        dim: usize,
    ) -> Result<Self, GenerativeError> {
        let k = weights.len();
        if k == 0 || dim == 0 {
            return Err(GenerativeError::InvalidParameter {
                name: "mixture components × dimension",
                value: (k * dim) as f64,
                requirement: "need at least one component and one dimension",
            });
        }
        for (what, values) in [("mixture means", &means), ("mixture stds", &stds)] {
            if values.len() != k * dim {
                return Err(GenerativeError::ShapeMismatch {
                    what,
                    left: vec![values.len()],
                    right: vec![k, dim],
                });
            }
        }
        if let Some(&w) = weights.iter().find(|w| !(w.is_finite() && **w > 0.0)) {
            return Err(GenerativeError::InvalidParameter {
                name: "mixture weight",
                value: w,
                requirement: "every weight must be finite and > 0",
            });
        }
        if let Some(&m) = means.iter().find(|m| !m.is_finite()) {
            return Err(GenerativeError::InvalidParameter {
                name: "mixture mean",
                value: m,
                requirement: "must be finite",
            });
        }
        if let Some(&s) = stds.iter().find(|s| !(s.is_finite() && **s > 0.0)) {
            return Err(GenerativeError::InvalidParameter {
                name: "mixture std",
                value: s,
                requirement: "every standard deviation must be finite and > 0",
            });
        }
        let total: f64 = weights.iter().sum();
        Ok(GaussianMixture {
            weights: weights.iter().map(|w| w / total).collect(),
            means,
            stds,
            dim,
        })
    }

    /// Components with one standard deviation each (`stds` has `K` entries), `Σₖ = σₖ² I`.
    pub fn isotropic(
        weights: Vec<f64>,
        means: Vec<f64>,
        stds: Vec<f64>,
        dim: usize,
    ) -> Result<Self, GenerativeError> {
        if stds.len() != weights.len() {
            return Err(GenerativeError::ShapeMismatch {
                what: "isotropic mixture: one std per weight",
                left: vec![stds.len()],
                right: vec![weights.len()],
            });
        }
        let stds = stds
            .iter()
            .flat_map(|&s| std::iter::repeat_n(s, dim))
            .collect();
        Self::diagonal(weights, means, stds, dim)
    }

    /// `components` equally weighted 2-D Gaussians of std `std` on the circle of radius
    /// `radius`, centre `k` at angle `2πk / components` (the "8 Gaussians" of the literature:
    /// 8, 2, 0.1).
    pub fn circle(components: usize, radius: f64, std: f64) -> Result<Self, GenerativeError> {
        let means = (0..components)
            .flat_map(|k| {
                let angle = 2.0 * std::f64::consts::PI * k as f64 / components as f64;
                [radius * angle.cos(), radius * angle.sin()]
            })
            .collect();
        Self::isotropic(vec![1.0; components], means, vec![std; components], 2)
    }

    /// The dimension.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// The number of components `K`.
    pub fn components(&self) -> usize {
        self.weights.len()
    }

    /// The normalised weights.
    pub fn weights(&self) -> &[f64] {
        &self.weights
    }

    /// The means, `[K, dim]` row-major.
    pub fn means(&self) -> &[f64] {
        &self.means
    }

    /// The standard deviations, `[K, dim]` row-major.
    pub fn stds(&self) -> &[f64] {
        &self.stds
    }

    /// `n` draws, `[n, dim]` row-major.
    pub fn sample(&self, rng: &mut SeededRng, n: usize) -> Vec<f64> {
        self.sample_with_components(rng, n).0
    }

    /// `n` draws with the component each came from.
    pub fn sample_with_components(&self, rng: &mut SeededRng, n: usize) -> (Vec<f64>, Vec<usize>) {
        let mut values = Vec::with_capacity(n * self.dim);
        let mut components = Vec::with_capacity(n);
        for _ in 0..n {
            let u = rng.uniform();
            let mut cumulative = 0.0;
            // The last component takes what rounding leaves of the unit interval.
            let mut k = self.components() - 1;
            for (index, w) in self.weights.iter().enumerate() {
                cumulative += w;
                if u < cumulative {
                    k = index;
                    break;
                }
            }
            for j in 0..self.dim {
                let index = k * self.dim + j;
                values.push(self.means[index] + self.stds[index] * rng.normal());
            }
            components.push(k);
        }
        (values, components)
    }

    /// The mixture of `m·x₀ + s·ε`: means `m μₖ`, variances `m² σₖ² + s²`. `m, s ≥ 0`.
    pub fn noised(&self, scale: f64, noise: f64) -> Result<Self, GenerativeError> {
        for (name, value) in [("mixture scale m", scale), ("mixture noise s", noise)] {
            if !(value.is_finite() && value >= 0.0) {
                return Err(GenerativeError::InvalidParameter {
                    name,
                    value,
                    requirement: "must be finite and ≥ 0",
                });
            }
        }
        if scale == 0.0 && noise == 0.0 {
            return Err(GenerativeError::InvalidParameter {
                name: "mixture noise s",
                value: noise,
                requirement: "m = s = 0 collapses every point to 0 (no density): make m or s > 0",
            });
        }
        Ok(GaussianMixture {
            weights: self.weights.clone(),
            means: self.means.iter().map(|m| scale * m).collect(),
            stds: self
                .stds
                .iter()
                .map(|s| (scale * scale * s * s + noise * noise).sqrt())
                .collect(),
            dim: self.dim,
        })
    }

    /// `log p(x)` for each row of `x` (`[n, dim]`).
    pub fn log_density(&self, x: &[f64]) -> Result<Vec<f64>, GenerativeError> {
        self.check_rows(x)?;
        Ok(x.chunks(self.dim)
            .map(|row| log_sum_exp(&self.log_joint(row)))
            .collect())
    }

    /// The exact score `∇ₓ log p_{m,s}(x)` of the noised mixture (module docs) at each row of
    /// `x`, `[n, dim]` row-major.
    pub fn score(&self, x: &[f64], scale: f64, noise: f64) -> Result<Vec<f64>, GenerativeError> {
        let noised = self.noised(scale, noise)?;
        noised.check_rows(x)?;
        let mut score = Vec::with_capacity(x.len());
        for row in x.chunks(self.dim) {
            let r = softmax(noised.log_joint(row));
            for (j, xj) in row.iter().enumerate() {
                let mut sum = 0.0;
                for (k, rk) in r.iter().enumerate() {
                    let index = k * self.dim + j;
                    let var = noised.stds[index] * noised.stds[index];
                    sum -= rk * (xj - noised.means[index]) / var;
                }
                score.push(sum);
            }
        }
        Ok(score)
    }

    /// The same exact score as [`GaussianMixture::score`], computed with tensor operations on
    /// `x`'s device (`[n, dim]`): differentiable by burn's autodiff, so a sampler or a
    /// likelihood that needs the score's Jacobian (the probability-flow divergence) can take
    /// it, and no row leaves the device.
    pub fn score_tensor(
        &self,
        x: Tensor<2>,
        scale: f64,
        noise: f64,
    ) -> Result<Tensor<2>, GenerativeError> {
        let noised = self.noised(scale, noise)?;
        let [rows, dim] = x.dims();
        if dim != self.dim {
            return Err(GenerativeError::ShapeMismatch {
                what: "mixture score input columns",
                left: vec![dim],
                right: vec![self.dim],
            });
        }
        let components = self.weights.len();
        let (device, dtype) = (x.device(), x.dtype());
        let constant = |values: Vec<f64>| {
            Tensor::<2>::from_data(
                TensorData::new(values, [components, dim]).convert_dtype(dtype),
                (&device, dtype),
            )
        };
        let precisions: Vec<f64> = noised.stds.iter().map(|s| 1.0 / (s * s)).collect();
        // log wₖ − ½ Σⱼ ln(2π vₖⱼ), one per component.
        let offsets: Vec<f64> = (0..components)
            .map(|k| {
                let log_det: f64 = noised.stds[k * dim..(k + 1) * dim]
                    .iter()
                    .map(|s| (2.0 * std::f64::consts::PI * s * s).ln())
                    .sum();
                noised.weights[k].ln() - 0.5 * log_det
            })
            .collect();
        let means = constant(noised.means.clone());
        let precisions = constant(precisions);
        let offsets = Tensor::<2>::from_data(
            TensorData::new(offsets, [1, components]).convert_dtype(dtype),
            (&device, dtype),
        );
        // (x − m μₖ) / vₖ for every row and component: [n, K, dim].
        let centred = x
            .clone()
            .reshape([rows, 1, dim])
            .expand([rows, components, dim])
            - means
                .reshape([1, components, dim])
                .expand([rows, components, dim]);
        let scaled = centred.clone() * precisions.reshape([1, components, dim]);
        let quadratic = (centred * scaled.clone())
            .sum_dim(2)
            .reshape([rows, components]);
        let r = softmax_rows(offsets.expand([rows, components]) - quadratic * 0.5, 1);
        Ok((r
            .reshape([rows, components, 1])
            .expand([rows, components, dim])
            * scaled)
            .sum_dim(1)
            .reshape([rows, dim])
            .neg())
    }

    /// The posterior probabilities `rₖ(x)` of the components at each row, `[n, K]`.
    pub fn responsibilities(&self, x: &[f64]) -> Result<Vec<f64>, GenerativeError> {
        self.check_rows(x)?;
        Ok(x.chunks(self.dim)
            .flat_map(|row| softmax(self.log_joint(row)))
            .collect())
    }

    /// The most probable component of each row.
    pub fn assign(&self, x: &[f64]) -> Result<Vec<usize>, GenerativeError> {
        self.check_rows(x)?;
        Ok(x.chunks(self.dim)
            .map(|row| {
                let log_joint = self.log_joint(row);
                let mut best = 0;
                for (k, v) in log_joint.iter().enumerate() {
                    if *v > log_joint[best] {
                        best = k;
                    }
                }
                best
            })
            .collect())
    }

    /// The fraction of rows assigned to each component (compare with [`weights`](Self::weights);
    /// the standard error of a fraction near `w` over `n` rows is `√(w(1 − w)/n)`).
    pub fn component_fractions(&self, x: &[f64]) -> Result<Vec<f64>, GenerativeError> {
        let assignment = self.assign(x)?;
        let mut counts = vec![0.0; self.components()];
        for k in &assignment {
            counts[*k] += 1.0;
        }
        let n = assignment.len() as f64;
        Ok(counts.into_iter().map(|c| c / n).collect())
    }

    /// `log wₖ + log N(x; μₖ, Σₖ)` for each component.
    fn log_joint(&self, row: &[f64]) -> Vec<f64> {
        let log_2pi = (2.0 * std::f64::consts::PI).ln();
        self.weights
            .iter()
            .enumerate()
            .map(|(k, w)| {
                let mut log_n = 0.0;
                for (j, xj) in row.iter().enumerate() {
                    let index = k * self.dim + j;
                    let std = self.stds[index];
                    let z = (xj - self.means[index]) / std;
                    log_n -= 0.5 * z * z + std.ln() + 0.5 * log_2pi;
                }
                w.ln() + log_n
            })
            .collect()
    }

    fn check_rows(&self, x: &[f64]) -> Result<(), GenerativeError> {
        if x.is_empty() || !x.len().is_multiple_of(self.dim) {
            return Err(GenerativeError::ShapeMismatch {
                what: "points (a whole number of rows of the mixture's dimension)",
                left: vec![x.len()],
                right: vec![self.dim],
            });
        }
        Ok(())
    }
}

fn log_sum_exp(values: &[f64]) -> f64 {
    let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if max == f64::NEG_INFINITY {
        return max;
    }
    max + values.iter().map(|v| (v - max).exp()).sum::<f64>().ln()
}

fn softmax(values: Vec<f64>) -> Vec<f64> {
    let lse = log_sum_exp(&values);
    values.into_iter().map(|v| (v - lse).exp()).collect()
}
