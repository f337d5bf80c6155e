//! Noise-conditional score networks (Song & Ermon 2019): noise levels, their denoising score
//! matching, and annealed Langevin dynamics.
//!
//! With `p_σ = p_data ∗ N(0, σ² I)` and `x̃ = x + σ z`, the loss of one level is
//! `½ σ² ‖s_θ(x̃, σ) + z/σ‖²` (`λ(σ) = σ²`), averaged over a level drawn uniformly per row.
//! Annealed Langevin dynamics runs `T` steps of
//! `x ← x + (αᵢ/2) s(x, σᵢ) + √αᵢ z`, `αᵢ = ε σᵢ²/σ_L²`, at each level from the largest down,
//! then one denoising step `x ← x + σ_L² s(x, σ_L)` (Tweedie's formula, Jolicoeur-Martineau et
//! al. 2021), which removes the last level's noise.

use burn::tensor::Tensor;
use sysdyn_core::rng::SeededRng;

use crate::error::{GenerativeError, check_positive};
use crate::inputs::check_width;
use crate::score::host_tensor;
use crate::score::loss::{NoiseConditionalScoreModel, ScoreFn};

/// Noise levels `σ₁ > σ₂ > … > σ_L > 0`.
#[derive(Debug, Clone, PartialEq)]
pub struct NoiseLevels {
    sigmas: Vec<f64>,
}

impl NoiseLevels {
    /// Levels given explicitly: at least one, finite, positive, strictly decreasing.
    pub fn new(sigmas: Vec<f64>) -> Result<Self, GenerativeError> {
        if sigmas.is_empty() {
            return Err(GenerativeError::InvalidParameter {
                name: "noise levels",
                value: 0.0,
                requirement: "need at least one level",
            });
        }
        for &sigma in &sigmas {
            check_positive("sigma", sigma)?;
        }
        if let Some(pair) = sigmas.windows(2).find(|w| w[1] >= w[0]) {
            return Err(GenerativeError::InvalidParameter {
                name: "sigma",
                value: pair[1],
                requirement: "noise levels must be strictly decreasing (σ₁ > … > σ_L)",
            });
        }
        Ok(NoiseLevels { sigmas })
    }

    /// `levels` geometric levels from `sigma_max` down to `sigma_min` (Song & Ermon: 1 to
    /// 0.01 in 10 levels).
    pub fn geometric(
        sigma_max: f64,
        sigma_min: f64,
        levels: usize,
    ) -> Result<Self, GenerativeError> {
        check_positive("sigma_max", sigma_max)?;
        check_positive("sigma_min", sigma_min)?;
        if levels < 2 || sigma_max <= sigma_min {
            return Err(GenerativeError::InvalidParameter {
                name: "sigma_max",
                value: sigma_max,
                requirement: "geometric levels need sigma_max > sigma_min and at least 2 levels",
            });
        }
        let ratio = (sigma_min / sigma_max).ln() / (levels - 1) as f64;
        let sigmas = (0..levels)
            .map(|i| sigma_max * (ratio * i as f64).exp())
            .collect();
        Self::new(sigmas)
    }

    /// The levels, largest first.
    pub fn sigmas(&self) -> &[f64] {
        &self.sigmas
    }

    /// The smallest level `σ_L`.
    pub fn smallest(&self) -> f64 {
        self.sigmas[self.sigmas.len() - 1]
    }

    /// NCSN's loss of `model` on the data rows `x0`: a level drawn uniformly per row, the mean
    /// of `½ σ² ‖s_θ(x + σ z, σ) + z/σ‖²`.
    pub fn loss<M: NoiseConditionalScoreModel>(
        &self,
        model: &M,
        x0: Tensor<2>,
        rng: &mut SeededRng,
    ) -> Result<Tensor<1>, GenerativeError> {
        check_width("data rows", x0.dims()[1], model.data_width())?;
        self.draw(|x, sigma| model.noise_score(x, sigma), x0, rng)
            .map(|rows| rows.mean())
    }

    /// The per-row terms `½ σᵢ² ‖s(x̃ᵢ, σᵢ) + zᵢ/σᵢ‖²` with the score `score(x̃, σ)` (`σ` a
    /// `[batch, 1]` column).
    pub fn draw<F>(
        &self,
        mut score: F,
        x0: Tensor<2>,
        rng: &mut SeededRng,
    ) -> Result<Tensor<1>, GenerativeError>
    where
        F: FnMut(Tensor<2>, Tensor<2>) -> Result<Tensor<2>, GenerativeError>,
    {
        let [rows, width] = x0.dims();
        if rows == 0 {
            return Err(GenerativeError::EmptyBatch {
                what: "NCSN score matching",
            });
        }
        let levels = self.sigmas.len() as u64;
        let sigmas: Vec<f64> = (0..rows)
            .map(|_| self.sigmas[rng.below(levels) as usize])
            .collect();
        let sigma = host_tensor(sigmas, [rows, 1], &x0);
        let z = host_tensor(rng.normals(rows * width), [rows, width], &x0);
        let noisy = x0 + z.clone() * sigma.clone();
        let predicted = score(noisy, sigma.clone())?;
        check_width("score output", predicted.dims()[1], width)?;
        let residual = predicted + z / sigma.clone();
        Ok((residual.powf_scalar(2.0).sum_dim(1) * sigma.powf_scalar(2.0) * 0.5).reshape([rows]))
    }
}

/// Annealed Langevin dynamics (Song & Ermon 2019, Algorithm 1).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AnnealedLangevin {
    /// The step `ε` at the smallest level (Song & Ermon: 2e-5 with `σ_L = 0.01`).
    pub epsilon: f64,
    /// Langevin steps `T` per level (100).
    pub steps_per_level: usize,
    /// Whether to end with the denoising step `x + σ_L² s(x, σ_L)`.
    pub denoise: bool,
}

impl AnnealedLangevin {
    /// Validated settings.
    pub fn new(
        epsilon: f64,
        steps_per_level: usize,
        denoise: bool,
    ) -> Result<Self, GenerativeError> {
        check_positive("epsilon", epsilon)?;
        if steps_per_level == 0 {
            return Err(GenerativeError::InvalidParameter {
                name: "steps_per_level",
                value: 0.0,
                requirement: "must be at least 1",
            });
        }
        Ok(AnnealedLangevin {
            epsilon,
            steps_per_level,
            denoise,
        })
    }

    /// Runs the dynamics from `x` (`[batch, d]`, e.g. uniform or `N(0, σ₁² I)` noise) with the
    /// noise-conditional score `score(x, σ)`; Gaussian noise drawn from `rng`. Score
    /// evaluations: `L·T` (+1 with the denoising step).
    pub fn sample<S: ScoreFn>(
        &self,
        levels: &NoiseLevels,
        score: &mut S,
        mut x: Tensor<2>,
        rng: &mut SeededRng,
    ) -> Result<Tensor<2>, GenerativeError> {
        let [rows, width] = x.dims();
        let smallest = levels.smallest();
        for &sigma in levels.sigmas() {
            let alpha = self.epsilon * (sigma / smallest).powi(2);
            for _ in 0..self.steps_per_level {
                let grad = score.eval(x.clone(), sigma)?.detach();
                check_width("score output", grad.dims()[1], width)?;
                let z = host_tensor(rng.normals(rows * width), [rows, width], &x);
                x = (x + grad * (0.5 * alpha) + z * alpha.sqrt()).detach();
            }
        }
        if self.denoise {
            let grad = score.eval(x.clone(), smallest)?.detach();
            x = x + grad * smallest.powi(2);
        }
        Ok(x)
    }
}
