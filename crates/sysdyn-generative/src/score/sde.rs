//! The forward SDEs of score-based models (Song et al. 2021) as data: each answers its drift
//! and diffusion, and the closed-form marginal `x_t | x_0 ~ N(m(t) x_0, s(t)² I)`.
//!
//! All three have a drift linear in `x`, `f(x, t) = a(t) x`, and a diffusion `g(t)` that does not
//! depend on `x` (additive noise, so Itô and Stratonovich agree):
//!
//! | SDE | `a(t)` | `g(t)²` | `m(t)` | `s(t)` |
//! |---|---|---|---|---|
//! | VE | 0 | `2 ln(σ_max/σ_min) σ(t)²`, `σ(t) = σ_min (σ_max/σ_min)^t` | 1 | `√(σ(t)² − σ_min²)` |
//! | VP | `−β(t)/2` | `β(t)` | `e^{−B(t)/2}` | `√(1 − e^{−B(t)})` |
//! | sub-VP | `−β(t)/2` | `β(t)(1 − e^{−2B(t)})` | `e^{−B(t)/2}` | `1 − e^{−B(t)}` |
//!
//! with `β(t) = β_min + t(β_max − β_min)` and `B(t) = ∫₀ᵗ β = β_min t + t²(β_max − β_min)/2`.
//! The VE marginal is the exact one of the SDE started at `x_0` (Song et al.'s code uses
//! `σ(t)` itself, which adds `σ_min` of noise at `t = 0`).

use crate::error::{GenerativeError, check_positive};

/// A forward SDE `dx = a(t) x dt + g(t) dW` on `t ∈ [0, 1]`. Build it with [`ForwardSde::ve`],
/// [`ForwardSde::vp`] or [`ForwardSde::sub_vp`], which validate the parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ForwardSde {
    /// Variance exploding (NCSN's continuous limit).
    Ve {
        /// Noise at `t = 0` (> 0).
        sigma_min: f64,
        /// Noise at `t = 1` (> `sigma_min`).
        sigma_max: f64,
    },
    /// Variance preserving (DDPM's continuous limit).
    Vp {
        /// `β(0)` (≥ 0).
        beta_min: f64,
        /// `β(1)` (> `beta_min`).
        beta_max: f64,
    },
    /// Sub-variance preserving: the VP drift with a smaller diffusion, so its variance stays
    /// below VP's.
    SubVp {
        /// `β(0)` (≥ 0).
        beta_min: f64,
        /// `β(1)` (> `beta_min`).
        beta_max: f64,
    },
}

fn check_betas(beta_min: f64, beta_max: f64) -> Result<(), GenerativeError> {
    if !(beta_min.is_finite() && beta_min >= 0.0) {
        return Err(GenerativeError::InvalidParameter {
            name: "beta_min",
            value: beta_min,
            requirement: "must be finite and ≥ 0 (Song et al.: 0.1)",
        });
    }
    check_positive("beta_max", beta_max)?;
    if beta_max <= beta_min {
        return Err(GenerativeError::InvalidParameter {
            name: "beta_max",
            value: beta_max,
            requirement: "must exceed beta_min (Song et al.: β_min = 0.1, β_max = 20)",
        });
    }
    Ok(())
}

/// `Ok` when `t ∈ [0, 1]`.
pub(crate) fn check_time(t: f64) -> Result<(), GenerativeError> {
    if (0.0..=1.0).contains(&t) {
        Ok(())
    } else {
        Err(GenerativeError::InvalidParameter {
            name: "t",
            value: t,
            requirement: "the SDE's time must lie in [0, 1]",
        })
    }
}

/// `Ok` when the sampling end time `ε ∈ (0, 1)`.
pub(crate) fn check_epsilon(eps: f64) -> Result<(), GenerativeError> {
    if eps > 0.0 && eps < 1.0 {
        Ok(())
    } else {
        Err(GenerativeError::InvalidParameter {
            name: "epsilon",
            value: eps,
            requirement: "the smallest time must lie in (0, 1) (Song et al.: 1e-3 for VP, 1e-5 for VE)",
        })
    }
}

impl ForwardSde {
    /// The VE SDE with noise from `sigma_min` to `sigma_max` (Song et al.: 0.01 and 50 on
    /// CIFAR-10; `σ_max` about the largest distance between data points).
    pub fn ve(sigma_min: f64, sigma_max: f64) -> Result<Self, GenerativeError> {
        check_positive("sigma_min", sigma_min)?;
        check_positive("sigma_max", sigma_max)?;
        if sigma_max <= sigma_min {
            return Err(GenerativeError::InvalidParameter {
                name: "sigma_max",
                value: sigma_max,
                requirement: "must exceed sigma_min",
            });
        }
        Ok(ForwardSde::Ve {
            sigma_min,
            sigma_max,
        })
    }

    /// The VP SDE with `β` from `beta_min` to `beta_max`.
    pub fn vp(beta_min: f64, beta_max: f64) -> Result<Self, GenerativeError> {
        check_betas(beta_min, beta_max)?;
        Ok(ForwardSde::Vp { beta_min, beta_max })
    }

    /// The sub-VP SDE with `β` from `beta_min` to `beta_max`.
    pub fn sub_vp(beta_min: f64, beta_max: f64) -> Result<Self, GenerativeError> {
        check_betas(beta_min, beta_max)?;
        Ok(ForwardSde::SubVp { beta_min, beta_max })
    }

    /// Checks a value built directly from its variant (the constructors check already).
    pub fn validate(&self) -> Result<(), GenerativeError> {
        match *self {
            ForwardSde::Ve {
                sigma_min,
                sigma_max,
            } => Self::ve(sigma_min, sigma_max).map(|_| ()),
            ForwardSde::Vp { beta_min, beta_max } | ForwardSde::SubVp { beta_min, beta_max } => {
                check_betas(beta_min, beta_max)
            }
        }
    }

    /// Song et al.'s VP SDE, `β_min = 0.1`, `β_max = 20`.
    pub fn vp_default() -> Self {
        ForwardSde::Vp {
            beta_min: 0.1,
            beta_max: 20.0,
        }
    }

    /// Song et al.'s sub-VP SDE, `β_min = 0.1`, `β_max = 20`.
    pub fn sub_vp_default() -> Self {
        ForwardSde::SubVp {
            beta_min: 0.1,
            beta_max: 20.0,
        }
    }

    fn beta(beta_min: f64, beta_max: f64, t: f64) -> (f64, f64) {
        let beta = beta_min + t * (beta_max - beta_min);
        let integral = beta_min * t + 0.5 * t * t * (beta_max - beta_min);
        (beta, integral)
    }

    /// `a(t)` of the drift `f(x, t) = a(t) x`.
    pub fn drift_scale(&self, t: f64) -> f64 {
        match *self {
            ForwardSde::Ve { .. } => 0.0,
            ForwardSde::Vp { beta_min, beta_max } | ForwardSde::SubVp { beta_min, beta_max } => {
                -0.5 * Self::beta(beta_min, beta_max, t).0
            }
        }
    }

    /// The diffusion `g(t)`.
    pub fn diffusion(&self, t: f64) -> f64 {
        match *self {
            ForwardSde::Ve {
                sigma_min,
                sigma_max,
            } => {
                let ratio = sigma_max / sigma_min;
                sigma_min * ratio.powf(t) * (2.0 * ratio.ln()).sqrt()
            }
            ForwardSde::Vp { beta_min, beta_max } => Self::beta(beta_min, beta_max, t).0.sqrt(),
            ForwardSde::SubVp { beta_min, beta_max } => {
                let (beta, integral) = Self::beta(beta_min, beta_max, t);
                (beta * -(-2.0 * integral).exp_m1()).sqrt()
            }
        }
    }

    /// The mean scale `m(t)` and standard deviation `s(t)` of `x_t | x_0 ~ N(m x_0, s² I)`.
    pub fn marginal(&self, t: f64) -> (f64, f64) {
        match *self {
            ForwardSde::Ve {
                sigma_min,
                sigma_max,
            } => {
                // σ(t)² − σ_min² = σ_min² ((σ_max/σ_min)^{2t} − 1), written with exp_m1 so it
                // stays accurate for small t.
                let ratio = sigma_max / sigma_min;
                (1.0, sigma_min * (2.0 * t * ratio.ln()).exp_m1().sqrt())
            }
            ForwardSde::Vp { beta_min, beta_max } => {
                let integral = Self::beta(beta_min, beta_max, t).1;
                ((-0.5 * integral).exp(), (-(-integral).exp_m1()).sqrt())
            }
            ForwardSde::SubVp { beta_min, beta_max } => {
                let integral = Self::beta(beta_min, beta_max, t).1;
                ((-0.5 * integral).exp(), -(-integral).exp_m1())
            }
        }
    }

    /// [`ForwardSde::marginal`] after checking `t ∈ [0, 1]`.
    pub fn checked_marginal(&self, t: f64) -> Result<(f64, f64), GenerativeError> {
        check_time(t)?;
        Ok(self.marginal(t))
    }

    /// The standard deviation of the prior `N(0, σ_T² I)` samplers start from: `s(1)` for VE
    /// (the data's own spread is neglected), 1 for VP and sub-VP (the mean `m(1) x_0` is).
    pub fn prior_std(&self) -> f64 {
        match self {
            ForwardSde::Ve { .. } => self.marginal(1.0).1,
            _ => 1.0,
        }
    }

    /// `log N(x; 0, σ_T² I)` of one row `x` under the prior.
    pub fn prior_log_density(&self, x: &[f64]) -> f64 {
        let var = self.prior_std().powi(2);
        let d = x.len() as f64;
        -0.5 * x.iter().map(|v| v * v).sum::<f64>() / var
            - 0.5 * d * (2.0 * std::f64::consts::PI * var).ln()
    }
}
