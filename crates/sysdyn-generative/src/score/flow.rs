//! The probability-flow ODE (Song et al. 2021) and the exact log-likelihood through it.
//!
//! Every forward SDE has a deterministic flow with the same marginals `p_t`:
//!
//! `dx/dt = v(x, t) = f(x, t) − ½ g(t)² ∇ log p_t(x)`.
//!
//! Sampling solves it from `t = 1` down to `ε` with sysdyn-solvers' adaptive Dormand–Prince 5(4);
//! the number of evaluations follows the tolerance. Along the flow
//! `d log p_t(x_t)/dt = −∇·v(x_t, t)` (the instantaneous change of variables), so solving the
//! augmented system `d[x, ℓ]/dt = [v, ∇·v]` from `ε` up to 1 gives
//!
//! `log p_ε(x) = log p_1(x_1) + ℓ(1)`,  `∇·v = d a(t) − ½ g(t)² ∇·s(x, t)`.
//!
//! The divergence of the score is computed exactly ([`Divergence::Exact`], for low dimension):
//! by the score itself when it can (an MLP score model propagates forward-mode jets from
//! `sysdyn_core::jet`, one pass carrying `d` tangents, on any device), otherwise as
//! `Σᵢ ∂sᵢ/∂xᵢ` by `d` reverse passes of burn's autodiff; or by Hutchinson's estimator
//! `E[vᵀ (∂s/∂x) v]` with Rademacher probes drawn once per solve ([`Divergence::Hutchinson`],
//! FFJORD's choice for images; unbiased, one reverse pass per probe).

use burn::tensor::Tensor;
use sysdyn_core::rng::SeededRng;
use sysdyn_solvers::{SolveConfig, Stats, methods::DOPRI5, solve};

use crate::error::{GenerativeError, check_positive};
use crate::inputs::check_width;
use crate::score::loss::ScoreFn;
use crate::score::sde::{ForwardSde, check_epsilon};
use crate::score::{host_tensor, to_host};

/// How the divergence of the score is computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Divergence {
    /// The exact trace of `∂s/∂x`: from the score itself when it has one
    /// ([`ScoreFn::divergence`]: an MLP's forward-mode jets, one pass carrying `d` tangents),
    /// otherwise one reverse pass of burn's autodiff per data dimension.
    Exact,
    /// Hutchinson's estimator with `probes` Rademacher vectors per row, drawn from `seed` once
    /// for the whole solve.
    Hutchinson {
        /// Probes per row (1 is FFJORD's).
        probes: usize,
        /// Seed of the probes.
        seed: u64,
    },
}

/// The probability-flow ODE of a forward SDE, solved adaptively.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProbabilityFlow {
    /// The forward SDE.
    pub sde: ForwardSde,
    /// The smallest time `ε ∈ (0, 1)`.
    pub epsilon: f64,
    /// Relative tolerance of Dormand–Prince.
    pub rtol: f64,
    /// Absolute tolerance of Dormand–Prince.
    pub atol: f64,
}

/// What [`ProbabilityFlow::log_likelihood`] returns: the latent points, the integrated
/// divergence and the cost.
#[derive(Debug, Clone, PartialEq)]
pub struct FlowLikelihood {
    /// `x_1` of each row, row-major `[rows, width]`.
    pub latent: Vec<f64>,
    /// The data width `d`.
    pub width: usize,
    /// `∫_ε^1 ∇·v dt` of each row.
    pub divergence_integral: Vec<f64>,
    /// The solver's counters (`nfe`: evaluations of the augmented field).
    pub stats: Stats,
}

impl FlowLikelihood {
    /// `log p_ε(x) = log p_1(x_1) + ∫ ∇·v` for each row, with the prior's log-density
    /// `prior(x_1)`.
    pub fn log_density(&self, prior: impl Fn(&[f64]) -> f64) -> Vec<f64> {
        self.latent
            .chunks(self.width)
            .zip(&self.divergence_integral)
            .map(|(z, delta)| prior(z) + delta)
            .collect()
    }

    /// [`FlowLikelihood::log_density`] under the SDE's own prior `N(0, σ_T² I)`.
    pub fn log_density_under_prior(&self, sde: &ForwardSde) -> Vec<f64> {
        self.log_density(|z| sde.prior_log_density(z))
    }
}

/// Bits per dimension of a log-density `log p(x)` (nats) of `dims`-dimensional data. With
/// `levels = Some(K)`, the data are `K`-level values scaled to `[0, 1]` and uniformly
/// dequantised (`x = (k + u)/K`), so the discrete probability is about `p(x)/K^d` and
/// `bits/dim = (−log p(x) + d ln K) / (d ln 2)`; a further affine rescaling of the data (to
/// `[−1, 1]`, say) must add its own log-Jacobian to `log p` first.
pub fn bits_per_dim(log_density: f64, dims: usize, levels: Option<f64>) -> f64 {
    let d = dims as f64;
    let shift = levels.map_or(0.0, |k| d * k.ln());
    (-log_density + shift) / (d * std::f64::consts::LN_2)
}

impl ProbabilityFlow {
    /// Validated settings (`ε ∈ (0, 1)`, tolerances finite and positive).
    pub fn new(
        sde: ForwardSde,
        epsilon: f64,
        rtol: f64,
        atol: f64,
    ) -> Result<Self, GenerativeError> {
        sde.validate()?;
        check_epsilon(epsilon)?;
        check_positive("rtol", rtol)?;
        check_positive("atol", atol)?;
        Ok(ProbabilityFlow {
            sde,
            epsilon,
            rtol,
            atol,
        })
    }

    /// `v(x, t) = a(t) x − ½ g(t)² s`, given the score `s`.
    fn velocity(&self, x: Tensor<2>, score: Tensor<2>, t: f64) -> Tensor<2> {
        x * self.sde.drift_scale(t) - score * (0.5 * self.sde.diffusion(t).powi(2))
    }

    /// Carries the rows of `x_one` (draws of `p_1`) to `t = ε` deterministically. Returns the
    /// samples and the solver's counters (`nfe` = score evaluations).
    pub fn sample<S: ScoreFn>(
        &self,
        score: &mut S,
        x_one: Tensor<2>,
    ) -> Result<(Tensor<2>, Stats), GenerativeError> {
        let width = x_one.dims()[1];
        let mut error = None;
        let mut field = |t: f64, x: &Tensor<2>| -> Tensor<2> {
            match score.eval(x.clone(), t).and_then(|s| {
                check_width("score output", s.dims()[1], width)?;
                Ok(s)
            }) {
                Ok(s) => self.velocity(x.clone(), s, t).detach(),
                Err(e) => {
                    error.get_or_insert(e);
                    x.clone() * f64::NAN
                }
            }
        };
        let config = SolveConfig::adaptive(self.rtol, self.atol);
        let solution = solve(&mut field, &DOPRI5, (1.0, self.epsilon), x_one, &config);
        if let Some(e) = error {
            return Err(e);
        }
        let mut solution = solution?;
        let stats = solution.stats;
        let x = solution.ys.pop().ok_or(GenerativeError::EmptyBatch {
            what: "probability-flow output",
        })?;
        Ok((x, stats))
    }

    /// The exact log-likelihood of the rows of `x` (`[rows, d]`, at `t = ε`) through the flow:
    /// the augmented ODE solved from `ε` to 1. The divergence needs burn's autodiff, so `x`
    /// must live on an autodiff device.
    pub fn log_likelihood<S: ScoreFn>(
        &self,
        score: &mut S,
        x: Tensor<2>,
        divergence: Divergence,
    ) -> Result<FlowLikelihood, GenerativeError> {
        let [rows, width] = x.dims();
        if rows * width == 0 {
            return Err(GenerativeError::EmptyBatch {
                what: "probability-flow likelihood",
            });
        }
        let own_divergence = matches!(divergence, Divergence::Exact)
            && score
                .divergence(x.clone().slice([0..1, 0..width]), self.epsilon)
                .is_some();
        if !own_divergence && !x.is_autodiff() {
            return Err(GenerativeError::Unsupported {
                what: "the flow's divergence on a device without autodiff: put the data and the \
                       score on an autodiff device (e.g. flex:f64:autodiff)",
            });
        }
        let probes = match divergence {
            Divergence::Exact => Vec::new(),
            Divergence::Hutchinson { probes, seed } => {
                if probes == 0 {
                    return Err(GenerativeError::InvalidParameter {
                        name: "probes",
                        value: 0.0,
                        requirement: "Hutchinson's estimator needs at least one probe",
                    });
                }
                let mut rng = SeededRng::new(seed);
                (0..probes)
                    .map(|_| {
                        let signs = (0..rows * width)
                            .map(|_| if rng.below(2) == 0 { -1.0 } else { 1.0 })
                            .collect();
                        host_tensor(signs, [rows, width], &x)
                    })
                    .collect()
            }
        };
        let mut error = None;
        let mut field = |t: f64, y: &Tensor<2>| -> Tensor<2> {
            let z = y.clone().slice([0..rows, 0..width]);
            match self.augmented(score, z.clone(), t, &probes) {
                Ok((v, div)) => Tensor::cat(vec![v, div], 1).detach(),
                Err(e) => {
                    error.get_or_insert(e);
                    y.clone() * f64::NAN
                }
            }
        };
        let start = Tensor::cat(
            vec![x.clone().detach(), x.zeros_like().slice([0..rows, 0..1])],
            1,
        );
        let config = SolveConfig::adaptive(self.rtol, self.atol);
        let solution = solve(&mut field, &DOPRI5, (self.epsilon, 1.0), start, &config);
        if let Some(e) = error {
            return Err(e);
        }
        let mut solution = solution?;
        let stats = solution.stats;
        let end = solution.ys.pop().ok_or(GenerativeError::EmptyBatch {
            what: "probability-flow output",
        })?;
        let latent = to_host(end.clone().slice([0..rows, 0..width]), "flow latent")?;
        let divergence_integral = to_host(end.slice([0..rows, width..width + 1]), "divergence")?;
        Ok(FlowLikelihood {
            latent,
            width,
            divergence_integral,
            stats,
        })
    }

    /// `v(x, t)` and `∇·v(x, t)` (`[rows, 1]`).
    fn augmented<S: ScoreFn>(
        &self,
        score: &mut S,
        x: Tensor<2>,
        t: f64,
        probes: &[Tensor<2>],
    ) -> Result<(Tensor<2>, Tensor<2>), GenerativeError> {
        let [rows, width] = x.dims();
        if probes.is_empty()
            && let Some(div_score) = score.divergence(x.clone(), t)
        {
            let div_score = div_score?;
            let s = score.eval(x.clone(), t)?;
            check_width("score output", s.dims()[1], width)?;
            let velocity = self.velocity(x, s.detach(), t);
            let divergence = div_score.detach() * (-0.5 * self.sde.diffusion(t).powi(2))
                + width as f64 * self.sde.drift_scale(t);
            return Ok((velocity, divergence));
        }
        let leaf = x.clone().detach().require_grad();
        let s = score.eval(leaf.clone(), t)?;
        check_width("score output", s.dims()[1], width)?;
        let velocity = self.velocity(x.clone(), s.clone().detach(), t);
        let missing = || GenerativeError::Unsupported {
            what: "a score that does not depend on its input through burn's autodiff",
        };
        let mut div_score = x.zeros_like().slice([0..rows, 0..1]);
        if probes.is_empty() {
            // Column i of the gradient of Σ_rows s_i is ∂s_i/∂x_i row by row (rows are
            // independent); one fresh forward per dimension, since a backward consumes its graph.
            for i in 0..width {
                let (leaf, s) = if i == 0 {
                    (leaf.clone(), s.clone())
                } else {
                    let leaf = x.clone().detach().require_grad();
                    let s = score.eval(leaf.clone(), t)?;
                    (leaf, s)
                };
                let grads = s.slice([0..rows, i..i + 1]).sum().backward();
                let grad = leaf.grad(&grads).ok_or_else(missing)?;
                div_score = div_score + grad.slice([0..rows, i..i + 1]);
            }
        } else {
            for (k, probe) in probes.iter().enumerate() {
                let (leaf, s) = if k == 0 {
                    (leaf.clone(), s.clone())
                } else {
                    let leaf = x.clone().detach().require_grad();
                    let s = score.eval(leaf.clone(), t)?;
                    (leaf, s)
                };
                let grads = (s * probe.clone()).sum().backward();
                let grad = leaf.grad(&grads).ok_or_else(missing)?;
                div_score = div_score + (grad * probe.clone()).sum_dim(1);
            }
            div_score = div_score / probes.len() as f64;
        }
        let divergence = div_score * (-0.5 * self.sde.diffusion(t).powi(2))
            + width as f64 * self.sde.drift_scale(t);
        Ok((velocity, divergence.detach()))
    }
}
