//! The decoder's likelihoods `log p(x|z)`, summed over a row's features (one value per row):
//! Bernoulli on logits, Gaussian with fixed, shared (learned) or per-pixel (decoded)
//! variance, and the discretised logistic of PixelCNN++ (Salimans et al. 2017) and IAF
//! (Kingma et al. 2016) for 8-bit images.
//!
//! Each is written so that it stays finite for saturated decoders: logarithms of sigmoids are
//! stable softplus forms, log-variances and log-scales are clamped.

use burn::tensor::Tensor;

use crate::error::GenerativeError;
use crate::stable::stable_softplus;
use crate::vae::posterior::{LOG_2PI, LOG_VAR_MAX, LOG_VAR_MIN};

/// The smallest log-scale of the discretised logistic (PixelCNN++'s −7: `s ≈ 9·10⁻⁴`, well
/// below a bin of 8-bit data on `[0, 1]`).
pub const LOG_SCALE_MIN: f64 = -7.0;
/// The largest log-scale of the discretised logistic (`s = e⁷ ≈ 1100`, far wider than any
/// data range).
pub const LOG_SCALE_MAX: f64 = 7.0;

/// Where `1 − e^{−d}` switches from its series to its direct form in
/// [`discretised_logistic_log_prob`].
const SERIES_BELOW: f64 = 1e-3;

/// The variance of a Gaussian decoder.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Variance {
    /// A fixed `σ²` for every feature (`σ² = 1`: the ELBO is squared error up to constants).
    Fixed(f64),
    /// One learned `log σ²` for every feature and row, a parameter of the
    /// [`Vae`](crate::vae::Vae) (probabilistic PCA's isotropic noise).
    Shared,
    /// A `log σ²` per feature decoded from `z`: the decoder outputs `[μ, log σ²]`, `2·D` wide.
    PerFeature,
}

/// The grid of an 8-bit (or other discretised) data range: `levels` values evenly spaced
/// from `low` to `high`, bins of width `Δ = (high − low)/(levels − 1)` centred on them, the
/// first and last bins extended to `−∞` and `+∞`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Discretisation {
    /// The smallest value (the centre of the first bin).
    pub low: f64,
    /// The largest value (the centre of the last bin).
    pub high: f64,
    /// The number of values, at least 2.
    pub levels: usize,
}

impl Discretisation {
    /// 8-bit data scaled to `[0, 1]`: bins of `1/255`.
    pub const UNIT_8BIT: Discretisation = Discretisation {
        low: 0.0,
        high: 1.0,
        levels: 256,
    };
    /// 8-bit data scaled to `[−1, 1]` (PixelCNN++): bins of `2/255`.
    pub const SYMMETRIC_8BIT: Discretisation = Discretisation {
        low: -1.0,
        high: 1.0,
        levels: 256,
    };

    /// The bin width `Δ`.
    pub fn bin_width(&self) -> f64 {
        (self.high - self.low) / (self.levels as f64 - 1.0)
    }

    /// Checks that there are at least two levels on a finite, increasing range.
    pub fn validate(&self) -> Result<(), GenerativeError> {
        if self.levels < 2 {
            return Err(GenerativeError::InvalidParameter {
                name: "discretisation levels",
                value: self.levels as f64,
                requirement: "at least 2 values (256 for 8-bit data)",
            });
        }
        if !(self.low.is_finite() && self.high.is_finite() && self.high > self.low) {
            return Err(GenerativeError::InvalidParameter {
                name: "discretisation range high − low",
                value: self.high - self.low,
                requirement: "low and high must be finite with high > low",
            });
        }
        Ok(())
    }
}

/// A decoder's likelihood: what its output means and how `log p(x|z)` is computed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Likelihood {
    /// Independent Bernoulli features on logits `l` (binarised images): the decoder outputs
    /// `D` logits.
    Bernoulli,
    /// Independent Gaussian features of mean `μ` (and variance as given).
    Gaussian(Variance),
    /// The discretised logistic: the decoder outputs `[μ, log s]`, `2·D` wide.
    DiscretisedLogistic(Discretisation),
}

impl Likelihood {
    /// Checks the likelihood's own settings (a positive fixed variance, a valid grid).
    pub fn validate(&self) -> Result<(), GenerativeError> {
        match self {
            Likelihood::Gaussian(Variance::Fixed(variance)) => {
                crate::error::check_positive("the Gaussian decoder's fixed variance", *variance)
            }
            Likelihood::DiscretisedLogistic(grid) => grid.validate(),
            _ => Ok(()),
        }
    }

    /// The width of the decoder's output for data of `features` columns.
    pub fn output_width(&self, features: usize) -> usize {
        match self {
            Likelihood::Gaussian(Variance::PerFeature) | Likelihood::DiscretisedLogistic(_) => {
                2 * features
            }
            _ => features,
        }
    }

    /// Whether the [`Vae`](crate::vae::Vae) must hold a shared log-variance parameter.
    pub fn has_shared_variance(&self) -> bool {
        matches!(self, Likelihood::Gaussian(Variance::Shared))
    }

    /// `log p(x|z)` per row, `[rows]`, for data `x` (`[rows, D]`) and the decoder's `output`
    /// (`[rows, output_width(D)]`); `shared_log_var` (shape `[1]`) is the learned `log σ²` of
    /// [`Variance::Shared`], ignored otherwise.
    pub fn log_prob(
        &self,
        x: Tensor<2>,
        output: Tensor<2>,
        shared_log_var: Option<Tensor<1>>,
    ) -> Result<Tensor<1>, GenerativeError> {
        let [rows, features] = x.dims();
        let [out_rows, out_width] = output.dims();
        if out_rows != rows || out_width != self.output_width(features) {
            return Err(GenerativeError::ShapeMismatch {
                what: "decoder output and [rows, output width] for the data",
                left: vec![out_rows, out_width],
                right: vec![rows, self.output_width(features)],
            });
        }
        match self {
            Likelihood::Bernoulli => bernoulli_log_prob(x, output),
            Likelihood::Gaussian(Variance::Fixed(variance)) => {
                let log_var = output.zeros_like().add_scalar(variance.ln());
                gaussian_log_prob(x, output, log_var)
            }
            Likelihood::Gaussian(Variance::Shared) => {
                let log_var = shared_log_var.ok_or(GenerativeError::Unsupported {
                    what: "a shared-variance Gaussian likelihood without its log-variance: \
                           build the model with Vae::new, which holds it",
                })?;
                let log_var = log_var.reshape([1, 1]).expand([rows, features]);
                gaussian_log_prob(x, output, log_var)
            }
            Likelihood::Gaussian(Variance::PerFeature) => {
                let mean = output.clone().narrow(1, 0, features);
                gaussian_log_prob(x, mean, output.narrow(1, features, features))
            }
            Likelihood::DiscretisedLogistic(grid) => {
                let mean = output.clone().narrow(1, 0, features);
                let log_scale = output.narrow(1, features, features);
                discretised_logistic_log_prob(x, mean, log_scale, *grid)
            }
        }
    }

    /// The decoder's mean (or, for the logistic, its location clamped to the data range):
    /// `σ(l)` for Bernoulli logits, `μ` for a Gaussian; `[rows, D]`.
    pub fn mean(&self, output: Tensor<2>) -> Tensor<2> {
        let [_, width] = output.dims();
        match self {
            Likelihood::Bernoulli => burn::tensor::activation::sigmoid(output),
            Likelihood::Gaussian(Variance::Fixed(_) | Variance::Shared) => output,
            Likelihood::Gaussian(Variance::PerFeature) => output.narrow(1, 0, width / 2),
            Likelihood::DiscretisedLogistic(grid) => {
                output.narrow(1, 0, width / 2).clamp(grid.low, grid.high)
            }
        }
    }
}

fn check_same(what: &'static str, a: &Tensor<2>, b: &Tensor<2>) -> Result<(), GenerativeError> {
    if a.dims() == b.dims() {
        Ok(())
    } else {
        Err(GenerativeError::ShapeMismatch {
            what,
            left: a.dims().to_vec(),
            right: b.dims().to_vec(),
        })
    }
}

fn row_sum(t: Tensor<2>) -> Tensor<1> {
    let [rows, _] = t.dims();
    t.sum_dim(1).reshape([rows])
}

/// `log Bern(x; σ(l))` per row: `Σⱼ xⱼ lⱼ − softplus(lⱼ)`, finite for any logit (at
/// `|l| = 100` it is `≈ −100` or `≈ 0`, never `log 0`); `x` may be any value in `[0, 1]`.
pub fn bernoulli_log_prob(x: Tensor<2>, logits: Tensor<2>) -> Result<Tensor<1>, GenerativeError> {
    check_same("data and Bernoulli logits", &x, &logits)?;
    Ok(row_sum(x * logits.clone() - stable_softplus(logits)))
}

/// `log N(x; μ, diag σ²)` per row: `−½ Σⱼ (log 2π + log σⱼ² + (xⱼ − μⱼ)²/σⱼ²)`, with
/// `log σ²` clamped to `[LOG_VAR_MIN, LOG_VAR_MAX]`.
pub fn gaussian_log_prob(
    x: Tensor<2>,
    mean: Tensor<2>,
    log_var: Tensor<2>,
) -> Result<Tensor<1>, GenerativeError> {
    check_same("data and Gaussian mean", &x, &mean)?;
    check_same("data and Gaussian log-variance", &x, &log_var)?;
    let log_var = log_var.clamp(LOG_VAR_MIN, LOG_VAR_MAX);
    let terms = (x - mean).square() * log_var.clone().neg().exp() + log_var;
    Ok(row_sum(terms.add_scalar(LOG_2PI)).mul_scalar(-0.5))
}

/// The discretised logistic per row: with `s = e^{log s}` (log-scale clamped to
/// `[LOG_SCALE_MIN, LOG_SCALE_MAX]`), half-bin `h = Δ/2`, `a = (x − μ + h)/s` and
/// `b = (x − μ − h)/s`, each feature's probability is the logistic's mass on its bin,
/// - `σ(a) − σ(b)` inside, computed as
///   `log σ(a) + log σ(−b) + log(1 − e^{−(a−b)})` (exact: `σ(a) − σ(b) = σ(a) σ(−b) (1 − e^{b−a})`),
///   with `log σ(u) = −softplus(−u)` and `1 − e^{−d}` by its series for small `d`, so that it
///   is finite even when both sigmoids saturate;
/// - `σ(a)` for the first bin (down to `−∞`), `1 − σ(b)` for the last (up to `+∞`),
///
/// so the probabilities of all `levels` values sum to one. `x` should lie on the grid.
pub fn discretised_logistic_log_prob(
    x: Tensor<2>,
    mean: Tensor<2>,
    log_scale: Tensor<2>,
    grid: Discretisation,
) -> Result<Tensor<1>, GenerativeError> {
    grid.validate()?;
    check_same("data and logistic location", &x, &mean)?;
    check_same("data and logistic log-scale", &x, &log_scale)?;
    let half = 0.5 * grid.bin_width();
    let inv_scale = log_scale.clamp(LOG_SCALE_MIN, LOG_SCALE_MAX).neg().exp();
    let centred = x.clone() - mean;
    let upper = (centred.clone().add_scalar(half)) * inv_scale.clone();
    let lower = centred.sub_scalar(half) * inv_scale.clone();
    let log_sigmoid = |u: Tensor<2>| stable_softplus(u.neg()).neg();
    // d = a − b = Δ/s > 0.
    let d = inv_scale.mul_scalar(grid.bin_width());
    let small = d.clone().clamp_max(SERIES_BELOW);
    // log(1 − e^{−d}) = log d + log(1 − d/2 + d²/6 − d³/24 + …) for small d (multiplied,
    // not divided: burn-autodiff 0.22.1 differentiates `div_scalar` through an f32 scalar).
    let series = small.clone().log()
        + (small.clone().mul_scalar(-0.5) + small.clone().square().mul_scalar(1.0 / 6.0)
            - small.clone().powi_scalar(3).mul_scalar(1.0 / 24.0))
        .log1p();
    let large = d.clone().clamp_min(SERIES_BELOW);
    let direct = large.neg().exp().neg().log1p();
    let log_one_minus = direct.mask_where(d.lower_elem(SERIES_BELOW), series);
    let interior = log_sigmoid(upper.clone()) + log_sigmoid(lower.clone().neg()) + log_one_minus;
    let first = log_sigmoid(upper);
    let last = stable_softplus(lower).neg();
    let log_p = interior
        .mask_where(x.clone().lower_elem(grid.low + half), first)
        .mask_where(x.greater_elem(grid.high - half), last);
    Ok(row_sum(log_p))
}
