//! Samplers of discrete-time diffusion: ancestral sampling (Ho et al. 2020, Algorithm 2) and
//! DDIM (Song, Meng & Ermon 2021) on any increasing sub-sequence of steps.
//!
//! A sampler knows the schedule and nothing of the network: it asks a [`NoisePredictor`] for
//! `ε̂(x, t)`, which a trained [`EpsNet`], a guided network
//! ([`Guided`](crate::diffusion::Guided)) or the exact noise of a Gaussian mixture
//! ([`MixtureNoise`](crate::diffusion::MixtureNoise), `ε = −σ_t ∇ log p_t`) answers.

use burn::tensor::Tensor;
use sysdyn_core::rng::SeededRng;

use crate::diffusion::host::EpsPredictor;
use crate::diffusion::network::EpsNet;
use crate::diffusion::schedule::NoiseSchedule;
use crate::error::GenerativeError;
use crate::host::host_tensor;

/// Anything that predicts the noise `ε̂(x, t)` of every row of `x` at step `t`.
pub trait NoisePredictor {
    /// `ε̂(x, t)`, the shape of `x`.
    fn predict(&mut self, x: Tensor<2>, t: usize) -> Result<Tensor<2>, GenerativeError>;
}

impl<F> NoisePredictor for F
where
    F: FnMut(Tensor<2>, usize) -> Result<Tensor<2>, GenerativeError>,
{
    fn predict(&mut self, x: Tensor<2>, t: usize) -> Result<Tensor<2>, GenerativeError> {
        self(x, t)
    }
}

/// An unconditional network, or a conditional one evaluated at the null class `ε(x, ∅)`. On
/// CPU devices an unconditional network runs on the host engine ([`EpsPredictor`]), copying its
/// weights at each call: build one [`EpsPredictor`] for a whole sampling run to copy them once.
impl NoisePredictor for &EpsNet {
    fn predict(&mut self, x: Tensor<2>, t: usize) -> Result<Tensor<2>, GenerativeError> {
        EpsPredictor::new(self).predict(x, t)
    }
}

/// The variance `σ_t²` of ancestral sampling's noise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AncestralVariance {
    /// `σ_t² = β_t` (optimal for data `N(0, I)`).
    #[default]
    Beta,
    /// `σ_t² = β̃_t = (1 − ᾱ_{t−1}) β_t / (1 − ᾱ_t)` (optimal for a point mass).
    PosteriorBeta,
}

/// Algorithm 2 from `x_{T−1} = x` (draw it from `N(0, I)`): for `t = T−1 … 0`,
/// `x ← (x − β_t/√(1 − ᾱ_t) · ε̂(x, t)) / √α_t + σ_t z` with `z ~ N(0, I)` for `t > 0`.
pub fn sample_ancestral(
    schedule: &NoiseSchedule,
    predictor: &mut impl NoisePredictor,
    x: Tensor<2>,
    variance: AncestralVariance,
    rng: &mut SeededRng,
) -> Result<Tensor<2>, GenerativeError> {
    sample_ancestral_clipped(schedule, predictor, x, variance, None, rng)
}

/// The range `[low, high]` the data lie in (images: `[−1, 1]`), to which a sampler clips its
/// estimate of the clean data `x̂₀ = (x_t − √(1 − ᾱ_t) ε̂)/√ᾱ_t` at every step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DataRange {
    low: f64,
    high: f64,
}

impl DataRange {
    /// `[low, high]`, finite with `low < high`.
    pub fn new(low: f64, high: f64) -> Result<Self, GenerativeError> {
        if !(low.is_finite() && high.is_finite() && low < high) {
            return Err(GenerativeError::InvalidParameter {
                name: "data range low",
                value: low,
                requirement: "the bounds must be finite with low < high (images: −1, 1)",
            });
        }
        Ok(DataRange { low, high })
    }

    /// `[−1, 1]`, images scaled as the project's image data are.
    pub fn unit() -> Self {
        DataRange {
            low: -1.0,
            high: 1.0,
        }
    }

    /// The lower bound.
    pub fn low(&self) -> f64 {
        self.low
    }

    /// The upper bound.
    pub fn high(&self) -> f64 {
        self.high
    }
}

/// Ancestral sampling with `x̂₀` optionally clipped to `range`: the step is the posterior
/// mean `c₀ clip(x̂₀) + c_t x_t` of [`NoiseSchedule::posterior`] plus `σ_t z` (unclipped it
/// equals [`sample_ancestral`]'s step).
pub fn sample_ancestral_clipped(
    schedule: &NoiseSchedule,
    predictor: &mut impl NoisePredictor,
    mut x: Tensor<2>,
    variance: AncestralVariance,
    range: Option<DataRange>,
    rng: &mut SeededRng,
) -> Result<Tensor<2>, GenerativeError> {
    let dims = x.dims();
    for t in (0..schedule.steps()).rev() {
        let epsilon = predict_checked(predictor, x.clone(), t)?;
        let beta = schedule.betas()[t];
        let noise = (1.0 - schedule.alpha_bars()[t]).sqrt();
        let mean = match range {
            None => (x - epsilon * (beta / noise)) / schedule.alphas()[t].sqrt(),
            Some(range) => {
                let alpha_bar = schedule.alpha_bars()[t];
                let x0 =
                    ((x.clone() - epsilon * noise) / alpha_bar.sqrt()).clamp(range.low, range.high);
                let posterior = schedule.posterior(t)?;
                x0 * posterior.x0_coef + x * posterior.xt_coef
            }
        };
        x = if t > 0 {
            let sigma = match variance {
                AncestralVariance::Beta => beta.sqrt(),
                AncestralVariance::PosteriorBeta => schedule.posterior(t)?.variance.sqrt(),
            };
            let z = host_tensor(rng.normals(dims[0] * dims[1]), dims, &mean);
            mean + z * sigma
        } else {
            mean
        };
    }
    Ok(x)
}

/// `n` steps of `0 … T−1` evenly spread, first `0` and last `T − 1` (one step: `T − 1`).
pub fn evenly_spaced_steps(total: usize, n: usize) -> Result<Vec<usize>, GenerativeError> {
    if total == 0 || n == 0 || n > total {
        return Err(GenerativeError::InvalidParameter {
            name: "DDIM steps",
            value: n as f64,
            requirement: "must be between 1 and the schedule's T (T ≥ 1)",
        });
    }
    if n == 1 {
        return Ok(vec![total - 1]);
    }
    Ok((0..n)
        .map(|i| ((i * (total - 1)) as f64 / (n - 1) as f64).round() as usize)
        .collect())
}

/// The DDIM paper's quadratic sub-sequence ("quad"): `τ_i = ⌊(i·√(0.8 T)/(n − 1))²⌋`,
/// `i = 0 … n−1`, dense at small `t` where the data's detail is decided; where the squares
/// collide near `0` a step is moved to the next free one so the steps strictly increase.
pub fn quadratic_steps(total: usize, n: usize) -> Result<Vec<usize>, GenerativeError> {
    if total == 0 || n == 0 || n > total {
        return Err(GenerativeError::InvalidParameter {
            name: "DDIM steps",
            value: n as f64,
            requirement: "must be between 1 and the schedule's T (T ≥ 1)",
        });
    }
    if n == 1 {
        return Ok(vec![0]);
    }
    let top = (0.8 * total as f64).sqrt();
    let mut steps: Vec<usize> = Vec::with_capacity(n);
    for i in 0..n {
        let square = (i as f64 * top / (n - 1) as f64).powi(2).floor() as usize;
        let step = match steps.last() {
            Some(&last) if square <= last => last + 1,
            _ => square,
        };
        // step ≤ max(0.8 T, i) < T: the squares stay below 0.8 T and a bumped step is at most i.
        steps.push(step);
    }
    Ok(steps)
}

/// DDIM from `x` at step `τ_last` (draw it from `N(0, I)`) along the increasing steps
/// `τ_1 < … < τ_S` (each below `T`): with `ᾱ = ᾱ_{τ_i}`, `ᾱ' = ᾱ_{τ_{i−1}}` (`1` after
/// `τ_1`),
///
/// `x̂₀ = (x − √(1 − ᾱ) ε̂) / √ᾱ`, `σ = η √((1 − ᾱ')/(1 − ᾱ)) √(1 − ᾱ/ᾱ')`,
/// `x ← √ᾱ' x̂₀ + √(1 − ᾱ' − σ²) ε̂ + σ z`.
///
/// `η = 0` is deterministic (the probability-flow discretisation); `η = 1` on every step is
/// ancestral sampling with `σ_t² = β̃_t`.
pub fn sample_ddim(
    schedule: &NoiseSchedule,
    predictor: &mut impl NoisePredictor,
    x: Tensor<2>,
    steps: &[usize],
    eta: f64,
    rng: &mut SeededRng,
) -> Result<Tensor<2>, GenerativeError> {
    sample_ddim_clipped(schedule, predictor, x, steps, eta, None, rng)
}

/// DDIM with `x̂₀` optionally clipped to `range`; the noise is then the one consistent with
/// the clipped estimate, `ε̂ ← (x − √ᾱ clip(x̂₀))/√(1 − ᾱ)`, before the update of
/// [`sample_ddim`].
pub fn sample_ddim_clipped(
    schedule: &NoiseSchedule,
    predictor: &mut impl NoisePredictor,
    mut x: Tensor<2>,
    steps: &[usize],
    eta: f64,
    range: Option<DataRange>,
    rng: &mut SeededRng,
) -> Result<Tensor<2>, GenerativeError> {
    check_steps(schedule, steps)?;
    if !(eta.is_finite() && eta >= 0.0) {
        return Err(GenerativeError::InvalidParameter {
            name: "DDIM eta",
            value: eta,
            requirement: "must be finite and ≥ 0 (0: deterministic, 1: ancestral)",
        });
    }
    let dims = x.dims();
    for (i, &t) in steps.iter().enumerate().rev() {
        let mut epsilon = predict_checked(predictor, x.clone(), t)?;
        let alpha_bar = schedule.alpha_bars()[t];
        let before = if i == 0 {
            1.0
        } else {
            schedule.alpha_bars()[steps[i - 1]]
        };
        let mut x0 = (x.clone() - epsilon.clone() * (1.0 - alpha_bar).sqrt()) / alpha_bar.sqrt();
        if let Some(range) = range {
            x0 = x0.clamp(range.low, range.high);
            epsilon = (x - x0.clone() * alpha_bar.sqrt()) / (1.0 - alpha_bar).sqrt();
        }
        let sigma = eta * ((1.0 - before) / (1.0 - alpha_bar) * (1.0 - alpha_bar / before)).sqrt();
        let direction = (1.0 - before - sigma * sigma).max(0.0).sqrt();
        x = x0 * before.sqrt() + epsilon * direction;
        if sigma > 0.0 {
            let z = host_tensor(rng.normals(dims[0] * dims[1]), dims, &x);
            x = x + z * sigma;
        }
    }
    Ok(x)
}

/// Refuses empty, non-increasing or out-of-range step sequences.
fn check_steps(schedule: &NoiseSchedule, steps: &[usize]) -> Result<(), GenerativeError> {
    if steps.is_empty() {
        return Err(GenerativeError::InvalidParameter {
            name: "DDIM steps",
            value: 0.0,
            requirement: "need at least one step",
        });
    }
    if let Some(pair) = steps.windows(2).find(|pair| pair[1] <= pair[0]) {
        return Err(GenerativeError::InvalidParameter {
            name: "DDIM step",
            value: pair[1] as f64,
            requirement: "the steps must be strictly increasing",
        });
    }
    match steps.last() {
        Some(&last) if last >= schedule.steps() => Err(schedule.step_error(last)),
        _ => Ok(()),
    }
}

fn predict_checked(
    predictor: &mut impl NoisePredictor,
    x: Tensor<2>,
    t: usize,
) -> Result<Tensor<2>, GenerativeError> {
    let dims = x.dims();
    let epsilon = predictor.predict(x, t)?;
    if epsilon.dims() != dims {
        return Err(GenerativeError::ShapeMismatch {
            what: "the noise predictor's output and its input",
            left: epsilon.dims().to_vec(),
            right: dims.to_vec(),
        });
    }
    Ok(epsilon)
}
