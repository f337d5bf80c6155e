//! The reverse-time SDE (Anderson 1982) as a term for sysdyn-solvers.
//!
//! For the forward `dx = f(x, t) dt + g(t) dW`, the reverse process
//! `dx = [f(x, t) − g(t)² ∇ log p_t(x)] dt + g(t) dW̄` runs from `t = 1` down to `ε`. The
//! solvers integrate forward in time, so the term is written in `τ = 1 − t`:
//!
//! `dx = [−f(x, 1 − τ) + g(1 − τ)² s(x, 1 − τ)] dτ + g(1 − τ) dW_τ`,  `τ ∈ [0, 1 − ε]`.
//!
//! The noise is additive (`g` does not depend on `x`), so the Itô and Stratonovich readings are
//! the same equation: Euler–Maruyama (Itô) and reversible Heun (Stratonovich) both solve it.

use burn::tensor::Tensor;
use sysdyn_solvers::brownian::{DEFAULT_DEPTH, VirtualBrownianTree};
use sysdyn_solvers::sde::{
    Calculus, EulerMaruyama, Noise, ReversibleHeun, SdeConfig, SdeError, SdeTerms, solve_sde,
};

use crate::error::GenerativeError;
use crate::inputs::check_width;
use crate::score::loss::ScoreFn;
use crate::score::sde::{ForwardSde, check_epsilon};

/// The reverse-time SDE of `sde` with the score `score`, in the reversed time `τ = 1 − t`.
///
/// A failing score evaluation is kept (see [`ReverseSde::take_error`]) and answered with a
/// non-finite drift, so the solve stops at once.
pub struct ReverseSde<'s, S> {
    sde: ForwardSde,
    score: &'s mut S,
    calculus: Calculus,
    error: Option<GenerativeError>,
    evaluations: usize,
}

impl<'s, S: ScoreFn> ReverseSde<'s, S> {
    /// The reverse SDE, read in `calculus` (both readings agree: the noise is additive).
    pub fn new(sde: ForwardSde, score: &'s mut S, calculus: Calculus) -> Self {
        ReverseSde {
            sde,
            score,
            calculus,
            error: None,
            evaluations: 0,
        }
    }

    /// The first error a score evaluation returned, if any.
    pub fn take_error(&mut self) -> Option<GenerativeError> {
        self.error.take()
    }

    /// Score evaluations so far.
    pub fn score_evaluations(&self) -> usize {
        self.evaluations
    }
}

impl<S: ScoreFn> SdeTerms<Tensor<2>> for ReverseSde<'_, S> {
    fn calculus(&self) -> Calculus {
        self.calculus
    }

    fn noise(&self) -> Noise {
        Noise::Diagonal
    }

    fn drift(&mut self, tau: f64, x: &Tensor<2>) -> Tensor<2> {
        let t = 1.0 - tau;
        self.evaluations += 1;
        let g2 = self.sde.diffusion(t).powi(2);
        let score = self.score.eval(x.clone(), t).and_then(|s| {
            check_width("score output", s.dims()[1], x.dims()[1])?;
            Ok(s)
        });
        match score {
            Ok(s) => (x.clone() * (-self.sde.drift_scale(t)) + s * g2).detach(),
            Err(e) => {
                self.error.get_or_insert(e);
                x.clone() * f64::NAN
            }
        }
    }

    fn diffusion(&mut self, tau: f64, x: &Tensor<2>) -> Tensor<2> {
        x.ones_like() * self.sde.diffusion(1.0 - tau)
    }
}

/// The solver of the reverse SDE.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReverseMethod {
    /// Euler–Maruyama (Itô): one score evaluation per step.
    EulerMaruyama,
    /// Reversible Heun (Stratonovich; the same equation here): one score evaluation per step
    /// and one at the start, and the solve can be run backwards exactly. Its parasitic mode
    /// grows on the reverse SDE's dissipative drift, so it needs several times Euler–Maruyama's
    /// steps (on a 2-D mixture under VP: 4000 where Euler–Maruyama needs 1000).
    ReversibleHeun,
}

/// Samples the reverse SDE from `t = 1` to `t = ε` in `steps` equal steps.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReverseSdeSampler {
    /// The forward SDE.
    pub sde: ForwardSde,
    /// The solver.
    pub method: ReverseMethod,
    /// Steps from `1` to `ε`.
    pub steps: usize,
    /// The end time `ε ∈ (0, 1)`.
    pub epsilon: f64,
}

impl ReverseSdeSampler {
    /// Validated settings.
    pub fn new(
        sde: ForwardSde,
        method: ReverseMethod,
        steps: usize,
        epsilon: f64,
    ) -> Result<Self, GenerativeError> {
        sde.validate()?;
        check_epsilon(epsilon)?;
        if steps == 0 {
            return Err(GenerativeError::InvalidParameter {
                name: "steps",
                value: 0.0,
                requirement: "must be at least 1",
            });
        }
        Ok(ReverseSdeSampler {
            sde,
            method,
            steps,
            epsilon,
        })
    }

    /// Carries the rows of `x_one` (`[batch, d]`, draws of `p_1`, e.g. the prior) to `t = ε`,
    /// with the Brownian motion of `seed` (a virtual Brownian tree over all `batch·d`
    /// components). Returns the samples and the number of score evaluations.
    pub fn sample<S: ScoreFn>(
        &self,
        score: &mut S,
        x_one: Tensor<2>,
        seed: u64,
    ) -> Result<(Tensor<2>, usize), GenerativeError> {
        let [rows, width] = x_one.dims();
        if rows * width == 0 {
            return Err(GenerativeError::EmptyBatch {
                what: "reverse-SDE sampling",
            });
        }
        let span = 1.0 - self.epsilon;
        let dt = span / self.steps as f64;
        let mut brownian = brownian_on_grid(seed, span, self.steps, rows * width)?;
        let config = SdeConfig::fixed(dt).max_steps(self.steps + 2);
        let (solution, mut term) = match self.method {
            ReverseMethod::EulerMaruyama => {
                let mut term = ReverseSde::new(self.sde, score, Calculus::Ito);
                let solution = solve_sde(
                    &mut term,
                    &EulerMaruyama,
                    (0.0, span),
                    x_one,
                    &mut brownian,
                    &config,
                );
                (solution, term)
            }
            ReverseMethod::ReversibleHeun => {
                let mut term = ReverseSde::new(self.sde, score, Calculus::Stratonovich);
                let solution = solve_sde(
                    &mut term,
                    &ReversibleHeun,
                    (0.0, span),
                    x_one,
                    &mut brownian,
                    &config,
                );
                (solution, term)
            }
        };
        if let Some(error) = term.take_error() {
            return Err(error);
        }
        let solution = solution?;
        Ok((solution.last().clone(), term.score_evaluations()))
    }
}

/// The Brownian motion of `seed` over `[0, span]` for `components` coordinates, queried on a
/// grid of `steps` cells: a virtual Brownian tree just deeper than the grid resolves every
/// query, at a third of the default depth's draws.
pub(crate) fn brownian_on_grid(
    seed: u64,
    span: f64,
    steps: usize,
    components: usize,
) -> Result<VirtualBrownianTree, GenerativeError> {
    let depth = (usize::BITS - steps.leading_zeros() + 2).min(DEFAULT_DEPTH);
    Ok(VirtualBrownianTree::new(seed, (0.0, span), components)
        .and_then(|tree| tree.with_depth(depth))
        .map_err(SdeError::from)?)
}
