//! Noise schedules of discrete-time diffusion (Ho et al. 2020; Nichol & Dhariwal 2021), the
//! closed-form marginal `q(x_t | x₀)` and the posterior `q(x_{t−1} | x_t, x₀)`.
//!
//! Steps are numbered `t = 0 … T−1` as in W3: step `t` adds noise with variance `β_t`,
//! `q(x_t | x_{t−1}) = N(√α_t x_{t−1}, β_t I)`, `α_t = 1 − β_t`, `ᾱ_t = Π_{s≤t} α_s`, and
//! `x_{−1}` is the data `x₀` (so `ᾱ_{−1} = 1`). Everything is `f64` on the host.

use crate::error::GenerativeError;

/// `β_t`, `α_t` and `ᾱ_t` for `t = 0 … T−1`.
#[derive(Debug, Clone, PartialEq)]
pub struct NoiseSchedule {
    betas: Vec<f64>,
    alphas: Vec<f64>,
    alpha_bars: Vec<f64>,
}

/// The marginal `q(x_t | x₀) = N(signal·x₀, noise² I)`: `signal = √ᾱ_t`, `noise = √(1 − ᾱ_t)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Marginal {
    /// `√ᾱ_t`.
    pub signal: f64,
    /// `√(1 − ᾱ_t)`.
    pub noise: f64,
}

/// The posterior `q(x_{t−1} | x_t, x₀) = N(c₀ x₀ + c_t x_t, β̃_t I)`:
/// `c₀ = √ᾱ_{t−1} β_t / (1 − ᾱ_t)`, `c_t = √α_t (1 − ᾱ_{t−1}) / (1 − ᾱ_t)`,
/// `β̃_t = (1 − ᾱ_{t−1}) β_t / (1 − ᾱ_t)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Posterior {
    /// `c₀`, the weight of `x₀` in the mean.
    pub x0_coef: f64,
    /// `c_t`, the weight of `x_t` in the mean.
    pub xt_coef: f64,
    /// `β̃_t`.
    pub variance: f64,
}

impl NoiseSchedule {
    /// A schedule from its `β_t`, each in `(0, 1)`, at least one.
    pub fn from_betas(betas: Vec<f64>) -> Result<Self, GenerativeError> {
        if betas.is_empty() {
            return Err(no_steps());
        }
        if let Some(&b) = betas.iter().find(|b| !(**b > 0.0 && **b < 1.0)) {
            return Err(GenerativeError::InvalidParameter {
                name: "beta_t",
                value: b,
                requirement: "every β_t must lie in (0, 1)",
            });
        }
        let alphas: Vec<f64> = betas.iter().map(|b| 1.0 - b).collect();
        let alpha_bars = alphas
            .iter()
            .scan(1.0, |product, a| {
                *product *= a;
                Some(*product)
            })
            .collect();
        Ok(NoiseSchedule {
            betas,
            alphas,
            alpha_bars,
        })
    }

    /// `β_t = linspace(β_first, β_last, T)[t]`.
    pub fn linear(steps: usize, beta_first: f64, beta_last: f64) -> Result<Self, GenerativeError> {
        if steps == 0 {
            return Err(no_steps());
        }
        let betas = (0..steps)
            .map(|t| {
                if steps == 1 {
                    beta_first
                } else {
                    beta_first + (beta_last - beta_first) * t as f64 / (steps - 1) as f64
                }
            })
            .collect();
        Self::from_betas(betas)
    }

    /// Ho et al.'s (and W3's) schedule: linear from `1e-4` to `0.02` over `T = 1000` steps.
    pub fn ddpm_linear() -> Self {
        Self::linear(1000, 1e-4, 0.02).expect("the DDPM schedule is valid")
    }

    /// Nichol & Dhariwal's cosine schedule with offset `s`: `f(τ) = cos²(π/2 · (τ/T + s)/(1 + s))`,
    /// `ᾱ` follows `f(t+1)/f(0)`, i.e. `β_t = min(1 − f(t+1)/f(t), 0.999)`.
    pub fn cosine(steps: usize, offset: f64) -> Result<Self, GenerativeError> {
        if steps == 0 {
            return Err(no_steps());
        }
        if !(offset.is_finite() && offset >= 0.0) {
            return Err(GenerativeError::InvalidParameter {
                name: "cosine schedule offset s",
                value: offset,
                requirement: "must be finite and ≥ 0 (Nichol & Dhariwal use 0.008)",
            });
        }
        let f = |tau: usize| {
            let x = (tau as f64 / steps as f64 + offset) / (1.0 + offset);
            (x * std::f64::consts::FRAC_PI_2).cos().powi(2)
        };
        let betas = (0..steps)
            .map(|t| (1.0 - f(t + 1) / f(t)).min(0.999))
            .collect();
        Self::from_betas(betas)
    }

    /// The cosine schedule with Nichol & Dhariwal's offset `s = 0.008`.
    pub fn cosine_default(steps: usize) -> Result<Self, GenerativeError> {
        Self::cosine(steps, 0.008)
    }

    /// `T`.
    pub fn steps(&self) -> usize {
        self.betas.len()
    }

    /// `β_t`.
    pub fn betas(&self) -> &[f64] {
        &self.betas
    }

    /// `α_t = 1 − β_t`.
    pub fn alphas(&self) -> &[f64] {
        &self.alphas
    }

    /// `ᾱ_t = Π_{s≤t} α_s`.
    pub fn alpha_bars(&self) -> &[f64] {
        &self.alpha_bars
    }

    /// `ᾱ_{t−1}`, `1` before the first step. `t ≤ T` (`t = T` gives `ᾱ_{T−1}`).
    pub fn alpha_bar_before(&self, t: usize) -> Result<f64, GenerativeError> {
        if t > self.steps() {
            return Err(self.step_error(t));
        }
        Ok(if t == 0 { 1.0 } else { self.alpha_bars[t - 1] })
    }

    /// `q(x_t | x₀)`'s coefficients.
    pub fn marginal(&self, t: usize) -> Result<Marginal, GenerativeError> {
        let alpha_bar = *self.alpha_bars.get(t).ok_or_else(|| self.step_error(t))?;
        Ok(Marginal {
            signal: alpha_bar.sqrt(),
            noise: (1.0 - alpha_bar).sqrt(),
        })
    }

    /// `q(x_{t−1} | x_t, x₀)`'s coefficients (at `t = 0` the posterior is the point `x₀`).
    pub fn posterior(&self, t: usize) -> Result<Posterior, GenerativeError> {
        let alpha_bar = *self.alpha_bars.get(t).ok_or_else(|| self.step_error(t))?;
        let before = self.alpha_bar_before(t)?;
        let beta = self.betas[t];
        let denominator = 1.0 - alpha_bar;
        Ok(Posterior {
            x0_coef: before.sqrt() * beta / denominator,
            xt_coef: self.alphas[t].sqrt() * (1.0 - before) / denominator,
            variance: (1.0 - before) * beta / denominator,
        })
    }

    pub(crate) fn step_error(&self, t: usize) -> GenerativeError {
        GenerativeError::InvalidParameter {
            name: "diffusion step t",
            value: t as f64,
            requirement: "must be below the schedule's number of steps T",
        }
    }
}

fn no_steps() -> GenerativeError {
    GenerativeError::InvalidParameter {
        name: "diffusion steps T",
        value: 0.0,
        requirement: "must be at least 1",
    }
}
