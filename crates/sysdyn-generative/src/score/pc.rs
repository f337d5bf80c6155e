//! The predictor–corrector sampler (Song et al. 2021, Algorithm 1 with their code's step rule).
//!
//! From `t = 1` to `ε` in `N` steps of `Δ = (1 − ε)/N`. At each `t_k`:
//!
//! - **corrector**: `M` Langevin steps at `p_{t_k}`, `x ← x + η ∇ log p + √(2η) z`, the step
//!   set by the signal-to-noise rule `η = 2 α (r ‖z‖ / ‖∇ log p‖)²` (norms per row, averaged
//!   over the batch; `α = e^{−β(t)Δ}` for VP — DDPM's `1 − βᵢ` to first order, and positive
//!   for any step — and 1 otherwise; `r` the SNR, Song et al.: 0.16 for VE,
//!   0.01 for VP);
//! - **predictor**: one step of the reverse SDE with the SDE's Euler discretisation
//!   (`f Δ`, `g √Δ`: the reverse-diffusion predictor of score_sde's generic `discretize`), taken
//!   by sysdyn-solvers' Euler–Maruyama on the [`ReverseSde`] term over the shared Brownian tree.

use burn::tensor::Tensor;
use sysdyn_core::rng::{CounterRng, SeededRng};
use sysdyn_solvers::sde::{Calculus, EulerMaruyama, SdeConfig, solve_sde};

use crate::error::{GenerativeError, check_positive};
use crate::inputs::check_width;
use crate::score::host_tensor;
use crate::score::loss::ScoreFn;
use crate::score::reverse::{ReverseSde, brownian_on_grid};
use crate::score::sde::{ForwardSde, check_epsilon};
use crate::score::to_host;

/// Predictor–corrector sampling settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PredictorCorrector {
    /// The forward SDE.
    pub sde: ForwardSde,
    /// Predictor steps `N` from `1` to `ε`.
    pub steps: usize,
    /// Langevin corrector steps `M` per predictor step (0: predictor only).
    pub corrector_steps: usize,
    /// The signal-to-noise ratio `r > 0` of the corrector.
    pub snr: f64,
    /// The end time `ε ∈ (0, 1)`.
    pub epsilon: f64,
}

impl PredictorCorrector {
    /// Validated settings.
    pub fn new(
        sde: ForwardSde,
        steps: usize,
        corrector_steps: usize,
        snr: f64,
        epsilon: f64,
    ) -> Result<Self, GenerativeError> {
        sde.validate()?;
        check_epsilon(epsilon)?;
        check_positive("snr", snr)?;
        if steps == 0 {
            return Err(GenerativeError::InvalidParameter {
                name: "steps",
                value: 0.0,
                requirement: "must be at least 1",
            });
        }
        Ok(PredictorCorrector {
            sde,
            steps,
            corrector_steps,
            snr,
            epsilon,
        })
    }

    fn corrector_alpha(&self, t: f64, dt: f64) -> f64 {
        match self.sde {
            ForwardSde::Vp { .. } => (-self.sde.diffusion(t).powi(2) * dt).exp(),
            _ => 1.0,
        }
    }

    /// Carries the rows of `x_one` (draws of `p_1`) to `t = ε`; the predictor's Brownian motion
    /// and the corrector's noise come from `seed`. Returns the samples and the number of score
    /// evaluations, `N (M + 1)`.
    pub fn sample<S: ScoreFn>(
        &self,
        score: &mut S,
        x_one: Tensor<2>,
        seed: u64,
    ) -> Result<(Tensor<2>, usize), GenerativeError> {
        let [rows, width] = x_one.dims();
        if rows * width == 0 {
            return Err(GenerativeError::EmptyBatch {
                what: "predictor–corrector sampling",
            });
        }
        let span = 1.0 - self.epsilon;
        let dt = span / self.steps as f64;
        let mut brownian = brownian_on_grid(seed, span, self.steps, rows * width)?;
        let mut rng = SeededRng::from_counter_rng(CounterRng::new(seed).fork(1));
        let mut x = x_one;
        let mut evaluations = 0;
        for k in 0..self.steps {
            let tau = k as f64 * dt;
            let tau_next = if k + 1 == self.steps {
                span
            } else {
                (k + 1) as f64 * dt
            };
            let t = 1.0 - tau;
            let alpha = self.corrector_alpha(t, dt);
            for _ in 0..self.corrector_steps {
                let grad = score.eval(x.clone(), t)?.detach();
                check_width("score output", grad.dims()[1], width)?;
                evaluations += 1;
                let z = host_tensor(rng.normals(rows * width), [rows, width], &x);
                let grad_norm = mean_row_norm(&grad, rows)?;
                let noise_norm = mean_row_norm(&z, rows)?;
                if grad_norm == 0.0 {
                    // A vanishing score leaves the SNR rule's step undefined: skip the move.
                    continue;
                }
                let step = 2.0 * alpha * (self.snr * noise_norm / grad_norm).powi(2);
                x = (x + grad * step + z * (2.0 * step).sqrt()).detach();
            }
            let mut term = ReverseSde::new(self.sde, score, Calculus::Ito);
            let config = SdeConfig::fixed(tau_next - tau);
            let solution = solve_sde(
                &mut term,
                &EulerMaruyama,
                (tau, tau_next),
                x,
                &mut brownian,
                &config,
            );
            if let Some(error) = term.take_error() {
                return Err(error);
            }
            evaluations += term.score_evaluations();
            let mut solution = solution?;
            x = solution.ys.pop().ok_or(GenerativeError::EmptyBatch {
                what: "predictor step output",
            })?;
        }
        Ok((x, evaluations))
    }
}

/// The mean over rows of each row's Euclidean norm.
fn mean_row_norm(x: &Tensor<2>, rows: usize) -> Result<f64, GenerativeError> {
    let norms = to_host(x.clone().powf_scalar(2.0).sum_dim(1), "row norms")?;
    Ok(norms.iter().map(|v| v.sqrt()).sum::<f64>() / rows as f64)
}
