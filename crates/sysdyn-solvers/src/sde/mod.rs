//! Stochastic differential equations `dy = f(t, y) dt + g(t, y) dW`, Itô or Stratonovich.
//!
//! As in diffrax, the problem answers what kind of problem it is: an [`SdeTerms`] gives the
//! drift `f`, the diffusion `g`, its [`Noise`] structure (diagonal or scalar) and its
//! [`Calculus`]; the Brownian motion is a separate [`BrownianPath`] (e.g. a
//! [`VirtualBrownianTree`](crate::brownian::VirtualBrownianTree)); the increment of a step is a
//! [`BrownianIncrement`] that knows how to multiply the diffusion. A method ([`SdeMethod`]) never
//! branches on the noise: `increment.dw.apply(&g)` does the right product.
//!
//! | method | calculus | strong order (diagonal/scalar noise) | evaluations per step |
//! |---|---|---|---|
//! | [`EulerMaruyama`] | Itô | 0.5 (1.0 for additive noise) | f, g |
//! | [`Milstein`] | either (follows the term) | 1.0 | f, g, and `(∂g/∂y) g` or 2 more g |
//! | [`StochasticHeun`] | Stratonovich | 1.0 | 2 f, 2 g |
//! | [`ReversibleHeun`] | Stratonovich | 0.5 guaranteed, 1.0 measured (GBM, additive) | f, g |
//!
//! A method whose calculus differs from the term's is refused with
//! [`SdeError::CalculusMismatch`] rather than silently converging to the other solution.
//!
//! Steps are fixed (`dt`), shortened to land on output times and the end of the span. States are
//! any [`ElementwiseMul`] state: arrays, vectors, burn tensors. The increments are drawn on the
//! host in `f64` and uploaded once per step, so the same seed gives the same path on every
//! backend.

mod euler_maruyama;
mod heun;
mod milstein;
mod noise;
mod reversible_heun;

pub use euler_maruyama::EulerMaruyama;
pub use heun::StochasticHeun;
pub use milstein::Milstein;
pub use noise::{BrownianIncrement, Calculus, ElementwiseMul, Increment, Noise};
pub use reversible_heun::{ReversibleHeun, ReversibleHeunCarry};

use sysdyn_core::{ShapeMismatch, State};
use thiserror::Error;

use crate::brownian::{BrownianError, BrownianPath};
use crate::error::SolveError;
use crate::grid::fixed_step_ends;
use crate::solve::{DEFAULT_MAX_STEPS, SaveAt, Solution, Stats, check_fixed_step, validate_times};

/// The terms of an SDE `dy = f(t, y) dt + g(t, y) dW` and what kind of SDE it is.
pub trait SdeTerms<S: State> {
    /// The calculus the equation is written in.
    fn calculus(&self) -> Calculus;
    /// How `g` multiplies `dW`.
    fn noise(&self) -> Noise;
    /// The drift `f(t, y)`.
    fn drift(&mut self, t: f64, y: &S) -> S;
    /// The diffusion `g(t, y)`, shaped like `y`.
    fn diffusion(&mut self, t: f64, y: &S) -> S;
    /// The derivative of the diffusion along itself, `(∂g/∂y) g` (for diagonal noise
    /// `g_i ∂g_i/∂y_i`), given `g = g(t, y)`, when known analytically. [`Milstein`] uses it, and
    /// otherwise a derivative-free difference.
    fn diffusion_derivative(&mut self, t: f64, y: &S, g: &S) -> Option<S> {
        let _ = (t, y, g);
        None
    }
}

/// Marker for an [`Sde`] without an analytic `(∂g/∂y) g`.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoDerivative;

/// An SDE from closures.
///
/// ```
/// use sysdyn_solvers::sde::{Sde, Noise};
///
/// // Geometric Brownian motion dy = 0.5 y dt + 0.3 y dW (Itô), one path per component.
/// let gbm = Sde::ito(Noise::Diagonal, |_t: f64, y: &[f64; 4]| y.map(|v| 0.5 * v),
///                    |_t: f64, y: &[f64; 4]| y.map(|v| 0.3 * v))
///     .with_diffusion_derivative(|_t: f64, _y: &[f64; 4], g: &[f64; 4]| g.map(|v| 0.3 * v));
/// # let _ = gbm;
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Sde<F, G, D = NoDerivative> {
    /// The drift.
    pub drift: F,
    /// The diffusion.
    pub diffusion: G,
    /// `(t, y, g) ↦ (∂g/∂y) g`, or [`NoDerivative`].
    pub derivative: D,
    /// The noise structure.
    pub noise: Noise,
    /// The calculus.
    pub calculus: Calculus,
}

impl<F, G> Sde<F, G, NoDerivative> {
    /// An SDE in the given calculus.
    pub fn new(calculus: Calculus, noise: Noise, drift: F, diffusion: G) -> Self {
        Sde {
            drift,
            diffusion,
            derivative: NoDerivative,
            noise,
            calculus,
        }
    }

    /// An Itô SDE.
    pub fn ito(noise: Noise, drift: F, diffusion: G) -> Self {
        Self::new(Calculus::Ito, noise, drift, diffusion)
    }

    /// A Stratonovich SDE.
    pub fn stratonovich(noise: Noise, drift: F, diffusion: G) -> Self {
        Self::new(Calculus::Stratonovich, noise, drift, diffusion)
    }

    /// Adds the analytic `(∂g/∂y) g`, a closure of `(t, y, g)`.
    pub fn with_diffusion_derivative<D>(self, derivative: D) -> Sde<F, G, D> {
        Sde {
            drift: self.drift,
            diffusion: self.diffusion,
            derivative,
            noise: self.noise,
            calculus: self.calculus,
        }
    }
}

impl<S, F, G> SdeTerms<S> for Sde<F, G, NoDerivative>
where
    S: State,
    F: FnMut(f64, &S) -> S,
    G: FnMut(f64, &S) -> S,
{
    fn calculus(&self) -> Calculus {
        self.calculus
    }

    fn noise(&self) -> Noise {
        self.noise
    }

    #[inline]
    fn drift(&mut self, t: f64, y: &S) -> S {
        (self.drift)(t, y)
    }

    #[inline]
    fn diffusion(&mut self, t: f64, y: &S) -> S {
        (self.diffusion)(t, y)
    }
}

impl<S, F, G, D> SdeTerms<S> for Sde<F, G, D>
where
    S: State,
    F: FnMut(f64, &S) -> S,
    G: FnMut(f64, &S) -> S,
    D: FnMut(f64, &S, &S) -> S,
{
    fn calculus(&self) -> Calculus {
        self.calculus
    }

    fn noise(&self) -> Noise {
        self.noise
    }

    #[inline]
    fn drift(&mut self, t: f64, y: &S) -> S {
        (self.drift)(t, y)
    }

    #[inline]
    fn diffusion(&mut self, t: f64, y: &S) -> S {
        (self.diffusion)(t, y)
    }

    fn diffusion_derivative(&mut self, t: f64, y: &S, g: &S) -> Option<S> {
        Some((self.derivative)(t, y, g))
    }
}

/// Evaluation counters of an SDE solve.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SdeCounters {
    /// Drift evaluations.
    pub drift: usize,
    /// Diffusion evaluations (including derivative products).
    pub diffusion: usize,
}

/// A one-step SDE method.
pub trait SdeMethod<S: State> {
    /// What the method carries from step to step (nothing for most; reversible Heun carries
    /// its auxiliary state).
    type Carry;

    /// Short name.
    fn name(&self) -> &'static str;

    /// The calculus of the solution the method converges to, or `None` when it follows the
    /// term's (Milstein).
    fn calculus(&self) -> Option<Calculus>;

    /// Strong order of convergence guaranteed for diagonal and scalar noise.
    fn strong_order(&self) -> f64;

    /// The carried state at the start, `(t0, y0)`.
    fn init<T: SdeTerms<S>>(
        &self,
        terms: &mut T,
        t0: f64,
        y0: &S,
        counters: &mut SdeCounters,
    ) -> Self::Carry;

    /// One step from `(t, y)` over `increment` (of size `increment.h > 0`).
    fn step<T: SdeTerms<S>>(
        &self,
        terms: &mut T,
        t: f64,
        y: &S,
        increment: &BrownianIncrement<S>,
        carry: &mut Self::Carry,
        counters: &mut SdeCounters,
    ) -> S;
}

/// Why an SDE solve could not start or did not finish.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum SdeError {
    /// A failure shared with ODE solves (span, step, output times, non-finite state, shapes).
    #[error(transparent)]
    Solve(#[from] SolveError),
    /// The Brownian motion could not answer.
    #[error(transparent)]
    Brownian(#[from] BrownianError),
    /// The method converges to the other calculus's solution.
    #[error(
        "{method} converges to the {method_calculus:?} solution, but the SDE is written in \
         {term_calculus:?} form; use {suggestion}, or rewrite the drift (Itô drift = \
         Stratonovich drift + ½ (∂g/∂y) g)"
    )]
    CalculusMismatch {
        /// The method.
        method: &'static str,
        /// What it solves.
        method_calculus: Calculus,
        /// What the term is.
        term_calculus: Calculus,
        /// Methods that fit the term.
        suggestion: &'static str,
    },
    /// The Brownian motion has the wrong number of components for the noise.
    #[error(
        "the Brownian motion has {got} components, but {noise:?} noise on a state of {components} \
         components needs {expected}"
    )]
    BrownianDimension {
        /// The noise structure.
        noise: Noise,
        /// Components of the state.
        components: usize,
        /// Components needed.
        expected: usize,
        /// Components given.
        got: usize,
    },
    /// The solve does not fit inside the Brownian motion's span.
    #[error(
        "the time span [{t0}, {t1}] is not inside the Brownian motion's span [{w0}, {w1}]; SDE \
         solves run forward in time over a path that covers them"
    )]
    SpanNotCovered {
        /// Start of the solve.
        t0: f64,
        /// End of the solve.
        t1: f64,
        /// Start of the Brownian span.
        w0: f64,
        /// End of the Brownian span.
        w1: f64,
    },
}

/// Options of an SDE solve.
#[derive(Debug, Clone, PartialEq)]
pub struct SdeConfig {
    /// The step size (> 0).
    pub dt: f64,
    /// Output.
    pub save_at: SaveAt,
    /// Maximum number of steps.
    pub max_steps: usize,
}

impl SdeConfig {
    /// Fixed steps of size `dt`, final state only.
    pub fn fixed(dt: f64) -> Self {
        SdeConfig {
            dt,
            save_at: SaveAt::Final,
            max_steps: DEFAULT_MAX_STEPS,
        }
    }

    /// Sets the output.
    pub fn save_at(mut self, save_at: SaveAt) -> Self {
        self.save_at = save_at;
        self
    }

    /// Sets the step limit.
    pub fn max_steps(mut self, max_steps: usize) -> Self {
        self.max_steps = max_steps;
        self
    }
}

fn check_state<S: State>(what: &str, t: f64, y: &S, shape: &[usize]) -> Result<(), SolveError> {
    if y.shape() != shape {
        return Err(ShapeMismatch {
            context: what.to_string(),
            expected: shape.to_vec(),
            got: y.shape(),
        }
        .into());
    }
    if let Some(component) = y.first_non_finite() {
        return Err(SolveError::NonFiniteState {
            t,
            component,
            step: None,
        });
    }
    Ok(())
}

/// Checks that `method` solves `terms`' calculus.
pub fn check_calculus<S: State, T: SdeTerms<S>, M: SdeMethod<S>>(
    terms: &T,
    method: &M,
) -> Result<(), SdeError> {
    match method.calculus() {
        Some(c) if c != terms.calculus() => Err(SdeError::CalculusMismatch {
            method: method.name(),
            method_calculus: c,
            term_calculus: terms.calculus(),
            suggestion: match terms.calculus() {
                Calculus::Ito => "EulerMaruyama or Milstein",
                Calculus::Stratonovich => "StochasticHeun, ReversibleHeun or Milstein",
            },
        }),
        _ => Ok(()),
    }
}

/// Solves `terms` over `t_span` (forward, `t0 < t1`) from `y0` with `method`, driven by
/// `brownian`, in fixed steps of `config.dt`.
///
/// ```
/// use sysdyn_solvers::brownian::VirtualBrownianTree;
/// use sysdyn_solvers::sde::{EulerMaruyama, Noise, Sde, SdeConfig, solve_sde};
///
/// // Ornstein–Uhlenbeck dy = -y dt + 0.5 dW for three independent paths.
/// let mut ou = Sde::ito(Noise::Diagonal, |_t: f64, y: &[f64; 3]| y.map(|v| -v),
///                       |_t: f64, _y: &[f64; 3]| [0.5; 3]);
/// let mut w = VirtualBrownianTree::new(7, (0.0, 1.0), 3)?;
/// let sol = solve_sde(&mut ou, &EulerMaruyama, (0.0, 1.0), [1.0; 3], &mut w,
///                     &SdeConfig::fixed(0.01))?;
/// assert!(sol.last().iter().all(|v| v.is_finite()));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn solve_sde<S, T, M, B>(
    terms: &mut T,
    method: &M,
    t_span: (f64, f64),
    y0: S,
    brownian: &mut B,
    config: &SdeConfig,
) -> Result<Solution<S>, SdeError>
where
    S: ElementwiseMul,
    T: SdeTerms<S>,
    M: SdeMethod<S>,
    B: BrownianPath,
{
    let (t0, t1) = t_span;
    if !(t0.is_finite() && t1.is_finite() && t0 <= t1) {
        return Err(SolveError::InvalidTimeSpan { t0, t1 }.into());
    }
    let (w0, w1) = brownian.span();
    if t0 < w0 || t1 > w1 {
        return Err(SdeError::SpanNotCovered { t0, t1, w0, w1 });
    }
    check_fixed_step(config.dt, t0, t1)?;
    if y0.num_components() == 0 {
        return Err(SolveError::EmptyState { shape: y0.shape() }.into());
    }
    validate_times(&config.save_at, t0, t1)?;
    check_calculus(terms, method)?;
    let noise = terms.noise();
    let components = y0.num_components();
    let expected = noise.brownian_dim(components);
    if brownian.dim() != expected {
        return Err(SdeError::BrownianDimension {
            noise,
            components,
            expected,
            got: brownian.dim(),
        });
    }
    let shape = y0.shape();
    check_state("initial state", t0, &y0, &shape)?;

    let mut stops: Vec<f64> = match &config.save_at {
        SaveAt::Times(ts) => ts.clone(),
        _ => Vec::new(),
    };
    stops.push(t1);
    let last_stop = stops.len() - 1;
    let ends = if t0 == t1 {
        vec![(t1, Some(last_stop))]
    } else {
        fixed_step_ends(t0, &stops, config.dt)
    };
    if ends.len() > config.max_steps {
        return Err(SolveError::MaxStepsExceeded {
            t: t0,
            max_steps: config.max_steps,
            h: config.dt,
            stiff: false,
        }
        .into());
    }

    let mut counters = SdeCounters::default();
    let mut stats = Stats::default();
    let (mut ts, mut ys) = (Vec::new(), Vec::new());
    if matches!(config.save_at, SaveAt::Steps) {
        ts.push(t0);
        ys.push(y0.clone());
    }
    let mut carry = method.init(terms, t0, &y0, &mut counters);
    let mut y = y0;
    let mut t = t0;
    let mut dw = vec![0.0; expected];
    for (t_new, stop) in ends {
        if t_new != t {
            brownian.increment(t, t_new, &mut dw)?;
            let increment = BrownianIncrement::new(t_new - t, dw.clone(), noise, &y);
            let y1 = method.step(terms, t, &y, &increment, &mut carry, &mut counters);
            check_state("state after a step", t_new, &y1, &shape).map_err(|e| match e {
                SolveError::NonFiniteState { component, .. } => SolveError::NonFiniteState {
                    t: t_new,
                    component,
                    step: Some(t_new - t),
                },
                other => other,
            })?;
            y = y1;
            t = t_new;
            stats.accepted += 1;
            if matches!(config.save_at, SaveAt::Steps) {
                ts.push(t);
                ys.push(y.clone());
            }
        }
        if matches!(config.save_at, SaveAt::Times(_)) && stop.is_some_and(|k| k < last_stop) {
            ts.push(t);
            ys.push(y.clone());
        }
    }
    if matches!(config.save_at, SaveAt::Final) {
        ts.push(t1);
        ys.push(y);
    }
    stats.nfe = counters.drift + counters.diffusion;
    Ok(Solution { ts, ys, stats })
}
