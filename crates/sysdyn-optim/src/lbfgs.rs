//! L-BFGS with a strong-Wolfe line search (Nocedal & Wright, *Numerical Optimization*, 2nd ed.,
//! Algorithms 7.4, 7.5, 3.5 and 3.6), for host closures and for any burn module.
//!
//! # Why not a per-tensor rule
//!
//! The other optimizers of this crate are per-tensor updates (`tensor, grad, state -> tensor`),
//! burn's form, applied to every parameter separately from one gradient. L-BFGS is not of that
//! form: its direction `p = −H ∇f` mixes all parameters through inner products `sᵀy`, `sᵀq` over
//! the *whole* parameter vector, and its line search re-evaluates the loss several times per
//! iteration. It is a full-batch method over the flattened parameter vector `x ∈ ℝⁿ`, so it
//! lives here as a driver that owns the loop: [`Lbfgs::minimize`] on a closure
//! `f(x) -> (f(x), ∇f(x))`, and (feature `burn`) [`Lbfgs::minimize_module`] which flattens a
//! module's float parameters into `x`, evaluates the loss and its gradient through burn's
//! autodiff, and writes the minimiser back (as `torch.optim.LBFGS` does).
//!
//! # The method
//!
//! With the last `m` pairs `s_k = x_{k+1} − x_k`, `y_k = ∇f_{k+1} − ∇f_k`, the two-loop
//! recursion computes `p = −H_k ∇f_k` where `H_k` is the BFGS inverse-Hessian approximation built
//! from those pairs on top of `H⁰ = γ I`, `γ = sᵀy / yᵀy` of the newest pair (the first
//! iteration takes the normalised steepest-descent step `p = −∇f/‖∇f‖`, as Nocedal's code does).
//! A pair with `sᵀy ≤ ε·‖s‖‖y‖` (curvature not positive: `H` would lose positive definiteness)
//! is skipped. The step length `α` satisfies the strong Wolfe conditions
//!
//! ```text
//! f(x + αp) ≤ f(x) + c₁ α ∇fᵀp          (sufficient decrease, c₁ = 1e-4)
//! |∇f(x + αp)ᵀp| ≤ c₂ |∇fᵀp|            (curvature, c₂ = 0.9)
//! ```
//!
//! found by bracketing (Algorithm 3.5: the trial step doubles until it brackets an acceptable
//! one) and zoom (Algorithm 3.6: the cubic interpolating `φ` and `φ'` at both ends of the
//! bracket, safeguarded to the bracket's inner 80%, else bisection).
//!
//! The iteration stops when `‖∇f‖_∞ ≤ gradient_tolerance`, when the relative decrease
//! `(f_k − f_{k+1}) / max(|f_k|, |f_{k+1}|, 1) ≤ function_tolerance` (scipy's `ftol`), after
//! `max_iterations`, or when the line search cannot find an acceptable step (round-off at the
//! minimum); [`LbfgsReport::stop`] says which.

use crate::error::{OptimError, finite, positive, same_len};

/// L-BFGS settings; [`Lbfgs::new`] validates them.
#[derive(Debug, Clone, PartialEq)]
pub struct Lbfgs {
    history: usize,
    max_iterations: usize,
    gradient_tolerance: f64,
    function_tolerance: f64,
    curvature_epsilon: f64,
    c1: f64,
    c2: f64,
    max_evaluations_per_search: usize,
}

/// Why the iteration ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LbfgsStop {
    /// `‖∇f‖_∞ ≤ gradient_tolerance`.
    GradientNorm,
    /// The relative decrease of `f` fell to `function_tolerance` or below.
    FunctionChange,
    /// `max_iterations` were taken.
    MaxIterations,
    /// No step satisfying the strong Wolfe conditions was found in the evaluation budget (the
    /// usual end at a minimum whose gradient is below round-off, or a non-smooth loss).
    LineSearchFailed,
}

/// One accepted step: `φ(α) = f(x + αp)` at `0` and at the accepted `α`, for checking the
/// Wolfe conditions from outside.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AcceptedStep {
    /// The step length `α`.
    pub alpha: f64,
    /// `φ(0) = f(x_k)`.
    pub value_start: f64,
    /// `φ'(0) = ∇f(x_k)ᵀp` (negative: a descent direction).
    pub slope_start: f64,
    /// `φ(α) = f(x_{k+1})`.
    pub value_end: f64,
    /// `φ'(α) = ∇f(x_{k+1})ᵀp`.
    pub slope_end: f64,
    /// Loss evaluations this line search made.
    pub evaluations: usize,
}

/// What [`Lbfgs::minimize`] found.
#[derive(Debug, Clone, PartialEq)]
pub struct LbfgsReport {
    /// The last accepted iterate.
    pub x: Vec<f64>,
    /// `f(x)`.
    pub value: f64,
    /// `∇f(x)`.
    pub gradient: Vec<f64>,
    /// Iterations (accepted steps).
    pub iterations: usize,
    /// Loss-and-gradient evaluations, the first included.
    pub evaluations: usize,
    /// Why it stopped.
    pub stop: LbfgsStop,
    /// Every accepted step, in order.
    pub steps: Vec<AcceptedStep>,
}

impl Default for Lbfgs {
    fn default() -> Self {
        Lbfgs {
            history: 10,
            max_iterations: 1000,
            gradient_tolerance: 1e-10,
            function_tolerance: 0.0,
            curvature_epsilon: 1e-10,
            c1: 1e-4,
            c2: 0.9,
            max_evaluations_per_search: 25,
        }
    }
}

/// A point with its loss and the slope along the search direction.
#[derive(Debug, Clone)]
struct Trial {
    alpha: f64,
    value: f64,
    slope: f64,
    x: Vec<f64>,
    gradient: Vec<f64>,
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn max_abs(a: &[f64]) -> f64 {
    a.iter().fold(0.0, |m, v| m.max(v.abs()))
}

/// The minimiser of the cubic interpolating `φ(a), φ'(a), φ(b), φ'(b)` (Nocedal & Wright
/// eq. 3.59), or `None` when the cubic has no real minimiser or the data are not finite.
fn cubic_minimizer(a: &Trial, b: &Trial) -> Option<f64> {
    let d1 = a.slope + b.slope - 3.0 * (a.value - b.value) / (a.alpha - b.alpha);
    let disc = d1 * d1 - a.slope * b.slope;
    if !disc.is_finite() || disc < 0.0 {
        return None;
    }
    let d2 = (b.alpha - a.alpha).signum() * disc.sqrt();
    let denom = b.slope - a.slope + 2.0 * d2;
    if denom == 0.0 {
        return None;
    }
    let alpha = b.alpha - (b.alpha - a.alpha) * (b.slope + d2 - d1) / denom;
    alpha.is_finite().then_some(alpha)
}

impl Lbfgs {
    /// L-BFGS keeping the last `history` curvature pairs (`m`, 3–20 typical; 10 is scipy's
    /// default), with the other settings at their defaults: at most 1000 iterations, stop at
    /// `‖∇f‖_∞ ≤ 1e-10`, no function-change stop, `ε = 1e-10`, `c₁ = 1e-4`, `c₂ = 0.9`, 25
    /// evaluations per line search.
    pub fn new(history: usize) -> Result<Self, OptimError> {
        if history == 0 {
            return Err(OptimError::InvalidHyperParameter {
                name: "L-BFGS history size m",
                value: 0.0,
                expected: "at least 1 (3 to 20 is typical)",
            });
        }
        Ok(Lbfgs {
            history,
            ..Lbfgs::default()
        })
    }

    /// At most `n` iterations (at least 1).
    pub fn with_max_iterations(mut self, n: usize) -> Result<Self, OptimError> {
        if n == 0 {
            return Err(OptimError::InvalidHyperParameter {
                name: "L-BFGS max iterations",
                value: 0.0,
                expected: "at least 1",
            });
        }
        self.max_iterations = n;
        Ok(self)
    }

    /// Stop when `‖∇f‖_∞ ≤ tol` (`tol ≥ 0`).
    pub fn with_gradient_tolerance(mut self, tol: f64) -> Result<Self, OptimError> {
        self.gradient_tolerance = crate::error::non_negative("L-BFGS gradient tolerance", tol)?;
        Ok(self)
    }

    /// Stop when `(f_k − f_{k+1}) / max(|f_k|, |f_{k+1}|, 1) ≤ tol` (`tol ≥ 0`; 0 disables it).
    pub fn with_function_tolerance(mut self, tol: f64) -> Result<Self, OptimError> {
        self.function_tolerance = crate::error::non_negative("L-BFGS function tolerance", tol)?;
        Ok(self)
    }

    /// The Wolfe constants, `0 < c₁ < c₂ < 1`.
    pub fn with_wolfe(mut self, c1: f64, c2: f64) -> Result<Self, OptimError> {
        if !(c1 > 0.0 && c1 < c2 && c2 < 1.0) {
            return Err(OptimError::InvalidHyperParameter {
                name: "Wolfe constant c1",
                value: c1,
                expected: "0 < c1 < c2 < 1 (1e-4 and 0.9 are standard)",
            });
        }
        self.c1 = c1;
        self.c2 = c2;
        Ok(self)
    }

    /// Skip a pair when `sᵀy ≤ ε‖s‖‖y‖` (`ε > 0`).
    pub fn with_curvature_epsilon(mut self, epsilon: f64) -> Result<Self, OptimError> {
        self.curvature_epsilon = positive("L-BFGS curvature epsilon", epsilon)?;
        Ok(self)
    }

    /// At most `n` loss evaluations per line search (at least 2).
    pub fn with_max_evaluations_per_search(mut self, n: usize) -> Result<Self, OptimError> {
        if n < 2 {
            return Err(OptimError::InvalidHyperParameter {
                name: "L-BFGS evaluations per line search",
                value: n as f64,
                expected: "at least 2",
            });
        }
        self.max_evaluations_per_search = n;
        Ok(self)
    }

    /// The history size `m`.
    pub fn history(&self) -> usize {
        self.history
    }

    /// The Wolfe constants `(c₁, c₂)`.
    pub fn wolfe(&self) -> (f64, f64) {
        (self.c1, self.c2)
    }

    /// Minimises `f` from `x0`; `f(x)` returns the loss and its gradient (of `x`'s length).
    ///
    /// Errors: an empty `x0`, a gradient of the wrong length, a non-finite loss or gradient at
    /// `x0`. A non-finite loss later is treated as "too far" by the line search, which then
    /// shortens the step.
    pub fn minimize<F>(&self, x0: &[f64], mut f: F) -> Result<LbfgsReport, OptimError>
    where
        F: FnMut(&[f64]) -> (f64, Vec<f64>),
    {
        if x0.is_empty() {
            return Err(OptimError::DimensionMismatch {
                context: "L-BFGS start point (need at least one parameter)",
                expected: 1,
                got: 0,
            });
        }
        finite("L-BFGS start point", x0)?;
        let n = x0.len();
        let mut x = x0.to_vec();
        let (mut value, mut gradient) = f(&x);
        same_len("L-BFGS gradient", n, gradient.len())?;
        if !value.is_finite() {
            return Err(OptimError::NonFinite {
                context: "L-BFGS loss at the start point",
                component: 0,
            });
        }
        finite("L-BFGS gradient at the start point", &gradient)?;
        let mut evaluations = 1;
        let mut pairs: std::collections::VecDeque<(Vec<f64>, Vec<f64>, f64)> =
            std::collections::VecDeque::with_capacity(self.history);
        let mut steps = Vec::new();
        let mut stop = LbfgsStop::MaxIterations;
        if max_abs(&gradient) <= self.gradient_tolerance {
            stop = LbfgsStop::GradientNorm;
        } else {
            for _ in 0..self.max_iterations {
                let mut direction = self.direction(&gradient, &pairs);
                let mut slope = dot(&direction, &gradient);
                if slope.is_nan() || slope >= 0.0 {
                    // Not a descent direction (round-off in H): restart from steepest descent.
                    pairs.clear();
                    direction = self.direction(&gradient, &pairs);
                    slope = dot(&direction, &gradient);
                }
                // A scaled H⁰ makes α = 1 the natural first trial; the first iteration's unit
                // direction carries its own length.
                let start = Trial {
                    alpha: 0.0,
                    value,
                    slope,
                    x: x.clone(),
                    gradient: gradient.clone(),
                };
                let (search, used) = self.line_search(&start, &direction, 1.0, &mut f)?;
                evaluations += used;
                let Some(accepted) = search else {
                    stop = LbfgsStop::LineSearchFailed;
                    break;
                };
                steps.push(AcceptedStep {
                    alpha: accepted.alpha,
                    value_start: value,
                    slope_start: slope,
                    value_end: accepted.value,
                    slope_end: accepted.slope,
                    evaluations: used,
                });
                let s: Vec<f64> = accepted.x.iter().zip(&x).map(|(a, b)| a - b).collect();
                let y: Vec<f64> = accepted
                    .gradient
                    .iter()
                    .zip(&gradient)
                    .map(|(a, b)| a - b)
                    .collect();
                let sy = dot(&s, &y);
                if sy > self.curvature_epsilon * dot(&s, &s).sqrt() * dot(&y, &y).sqrt() {
                    if pairs.len() == self.history {
                        pairs.pop_front();
                    }
                    pairs.push_back((s, y, 1.0 / sy));
                }
                let previous = value;
                x = accepted.x;
                value = accepted.value;
                gradient = accepted.gradient;
                if max_abs(&gradient) <= self.gradient_tolerance {
                    stop = LbfgsStop::GradientNorm;
                    break;
                }
                let scale = previous.abs().max(value.abs()).max(1.0);
                if (previous - value) / scale <= self.function_tolerance {
                    stop = LbfgsStop::FunctionChange;
                    break;
                }
            }
        }
        Ok(LbfgsReport {
            x,
            value,
            gradient,
            iterations: steps.len(),
            evaluations,
            stop,
            steps,
        })
    }

    /// `p = −H ∇f` by the two-loop recursion (Algorithm 7.4); with no pairs, the unit
    /// steepest-descent direction.
    fn direction(
        &self,
        gradient: &[f64],
        pairs: &std::collections::VecDeque<(Vec<f64>, Vec<f64>, f64)>,
    ) -> Vec<f64> {
        let Some((s_last, y_last, _)) = pairs.back() else {
            let norm = dot(gradient, gradient).sqrt();
            return gradient.iter().map(|g| -g / norm).collect();
        };
        let mut q = gradient.to_vec();
        let mut alphas = vec![0.0; pairs.len()];
        for (i, (s, y, rho)) in pairs.iter().enumerate().rev() {
            let a = rho * dot(s, &q);
            alphas[i] = a;
            q.iter_mut().zip(y).for_each(|(qj, yj)| *qj -= a * yj);
        }
        let gamma = dot(s_last, y_last) / dot(y_last, y_last);
        q.iter_mut().for_each(|qj| *qj *= gamma);
        for ((s, y, rho), a) in pairs.iter().zip(&alphas) {
            let b = rho * dot(y, &q);
            q.iter_mut().zip(s).for_each(|(qj, sj)| *qj += (a - b) * sj);
        }
        q.iter_mut().for_each(|qj| *qj = -*qj);
        q
    }

    fn evaluate<F>(
        &self,
        start: &Trial,
        direction: &[f64],
        alpha: f64,
        f: &mut F,
    ) -> Result<Trial, OptimError>
    where
        F: FnMut(&[f64]) -> (f64, Vec<f64>),
    {
        let x: Vec<f64> = start
            .x
            .iter()
            .zip(direction)
            .map(|(xi, pi)| xi + alpha * pi)
            .collect();
        let (value, gradient) = f(&x);
        same_len("L-BFGS gradient", x.len(), gradient.len())?;
        let slope = dot(&gradient, direction);
        Ok(Trial {
            alpha,
            // NaN compares false everywhere: make a non-finite loss "too large" so the search
            // shortens the step.
            value: if value.is_finite() && slope.is_finite() {
                value
            } else {
                f64::INFINITY
            },
            slope,
            x,
            gradient,
        })
    }

    fn sufficient_decrease(&self, start: &Trial, trial: &Trial) -> bool {
        trial.value <= start.value + self.c1 * trial.alpha * start.slope
    }

    fn curvature(&self, start: &Trial, trial: &Trial) -> bool {
        trial.slope.abs() <= -self.c2 * start.slope
    }

    /// Algorithm 3.5: returns the accepted trial (or `None`) and the evaluations used.
    fn line_search<F>(
        &self,
        start: &Trial,
        direction: &[f64],
        first_alpha: f64,
        f: &mut F,
    ) -> Result<(Option<Trial>, usize), OptimError>
    where
        F: FnMut(&[f64]) -> (f64, Vec<f64>),
    {
        let budget = self.max_evaluations_per_search;
        let mut used = 0;
        let mut previous = start.clone();
        let mut alpha = first_alpha;
        while used < budget {
            let trial = self.evaluate(start, direction, alpha, f)?;
            used += 1;
            if !self.sufficient_decrease(start, &trial)
                || (used > 1 && trial.value >= previous.value)
            {
                return self.zoom(start, direction, previous, trial, used, f);
            }
            if self.curvature(start, &trial) {
                return Ok((Some(trial), used));
            }
            if trial.slope >= 0.0 {
                return self.zoom(start, direction, trial, previous, used, f);
            }
            previous = trial;
            alpha *= 2.0;
        }
        Ok((None, used))
    }

    /// Algorithm 3.6: `low` satisfies sufficient decrease with the lowest value so far and
    /// `φ'(low)(high − low) < 0`, so the bracket holds a strong-Wolfe step.
    #[allow(clippy::too_many_arguments)]
    fn zoom<F>(
        &self,
        start: &Trial,
        direction: &[f64],
        mut low: Trial,
        mut high: Trial,
        mut used: usize,
        f: &mut F,
    ) -> Result<(Option<Trial>, usize), OptimError>
    where
        F: FnMut(&[f64]) -> (f64, Vec<f64>),
    {
        while used < self.max_evaluations_per_search {
            let (a, b) = (low.alpha.min(high.alpha), low.alpha.max(high.alpha));
            let width = b - a;
            if width <= f64::EPSILON * b.max(1e-300) {
                break;
            }
            // Cubic through both ends, kept inside the inner 80% so the bracket shrinks.
            let alpha = match cubic_minimizer(&low, &high) {
                Some(c) if c >= a + 0.1 * width && c <= b - 0.1 * width => c,
                _ => 0.5 * (a + b),
            };
            let trial = self.evaluate(start, direction, alpha, f)?;
            used += 1;
            if !self.sufficient_decrease(start, &trial) || trial.value >= low.value {
                high = trial;
            } else {
                if self.curvature(start, &trial) {
                    return Ok((Some(trial), used));
                }
                if trial.slope * (high.alpha - low.alpha) >= 0.0 {
                    high = low;
                }
                low = trial;
            }
        }
        Ok((None, used))
    }
}

#[cfg(feature = "burn")]
mod module;
#[cfg(feature = "burn")]
pub use module::{flatten_parameters, loss_and_gradient, parameter_count, set_parameters};
