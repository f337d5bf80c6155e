//! The integration loop: time, step size, output and failures.
//!
//! What varies is kept apart, as in diffrax: the problem is a [`VectorField`], the method an
//! [`OdeMethod`] (e.g. a [`ButcherTableau`](crate::tableau::ButcherTableau)), the step-size
//! policy a [`StepSize`] (fixed, or adaptive with a [`PidController`] and tolerances), and the
//! output a [`SaveAt`].

use sysdyn_core::{ShapeMismatch, State, Tolerance};

use crate::controller::PidController;
use crate::error::SolveError;
use crate::method::OdeMethod;
use crate::term::VectorField;

/// Which states a solve returns.
#[derive(Debug, Clone, PartialEq)]
pub enum SaveAt {
    /// Only the state at the end of the span.
    Final,
    /// The states at these times, interpolated with the method's continuous extension (dense
    /// output), not by landing steps on them. Times must be ordered in the direction of
    /// integration and lie inside the span (ends included).
    Times(Vec<f64>),
    /// The initial state and the state after every accepted step.
    Steps,
}

/// How step sizes are chosen.
#[derive(Debug, Clone, PartialEq)]
pub enum StepSize<S> {
    /// Steps of this size (the last one is shortened to end on the final time).
    Fixed(f64),
    /// Steps chosen by error control.
    Adaptive(Adaptive<S>),
}

/// Adaptive step-size options.
#[derive(Debug, Clone, PartialEq)]
pub struct Adaptive<S> {
    /// Tolerances of the error control.
    pub tol: Tolerance<S>,
    /// The controller.
    pub controller: PidController,
    /// Size of the first step (finite and positive; the direction comes from the time span);
    /// `None` selects it automatically (Hairer's algorithm).
    pub first_step: Option<f64>,
    /// Smallest step size allowed. Whatever this says, no step is smaller than what f64 time
    /// resolves at the current time, [`time_resolution`]`(t)` (0 means: that alone).
    pub min_step: f64,
    /// Largest step size allowed.
    pub max_step: f64,
}

/// Everything about a solve except the problem and the method.
#[derive(Debug, Clone, PartialEq)]
pub struct SolveConfig<S> {
    /// Step-size policy.
    pub step: StepSize<S>,
    /// Output.
    pub save_at: SaveAt,
    /// Maximum number of attempted steps.
    pub max_steps: usize,
}

/// Default step limit: ample for non-stiff problems, small enough to fail fast on stiff ones.
pub const DEFAULT_MAX_STEPS: usize = 100_000;

impl<S> SolveConfig<S> {
    /// Fixed steps of size `dt` (> 0; the direction comes from the time span).
    pub fn fixed(dt: f64) -> Self {
        SolveConfig {
            step: StepSize::Fixed(dt),
            save_at: SaveAt::Final,
            max_steps: DEFAULT_MAX_STEPS,
        }
    }

    /// Adaptive steps with scalar tolerances.
    pub fn adaptive(rtol: f64, atol: f64) -> Self {
        Self::adaptive_with(Tolerance::new(rtol, atol))
    }

    /// Adaptive steps with the given (possibly per-component) tolerances.
    pub fn adaptive_with(tol: Tolerance<S>) -> Self {
        SolveConfig {
            step: StepSize::Adaptive(Adaptive {
                tol,
                controller: PidController::default(),
                first_step: None,
                min_step: 0.0,
                max_step: f64::INFINITY,
            }),
            save_at: SaveAt::Final,
            max_steps: DEFAULT_MAX_STEPS,
        }
    }

    /// Sets the output.
    pub fn save_at(mut self, save_at: SaveAt) -> Self {
        self.save_at = save_at;
        self
    }

    /// Sets the maximum number of attempted steps.
    pub fn max_steps(mut self, max_steps: usize) -> Self {
        self.max_steps = max_steps;
        self
    }

    /// Sets the size of the first step (adaptive only): finite and positive, whichever way the
    /// time span runs (anything else is [`SolveError::InvalidFirstStep`]).
    pub fn first_step(mut self, h: f64) -> Self {
        if let StepSize::Adaptive(a) = &mut self.step {
            a.first_step = Some(h);
        }
        self
    }

    /// Sets the smallest and largest step size (adaptive only).
    pub fn step_bounds(mut self, min_step: f64, max_step: f64) -> Self {
        if let StepSize::Adaptive(a) = &mut self.step {
            a.min_step = min_step;
            a.max_step = max_step;
        }
        self
    }

    /// Sets the controller (adaptive only).
    pub fn controller(mut self, controller: PidController) -> Self {
        if let StepSize::Adaptive(a) = &mut self.step {
            a.controller = controller;
        }
        self
    }
}

/// Counters of a solve.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Stats {
    /// Accepted steps.
    pub accepted: usize,
    /// Rejected steps.
    pub rejected: usize,
    /// Vector-field evaluations.
    pub nfe: usize,
}

impl Stats {
    /// Attempted steps (accepted + rejected).
    pub fn steps(&self) -> usize {
        self.accepted + self.rejected
    }
}

/// The result of a solve.
#[derive(Debug, Clone)]
pub struct Solution<S> {
    /// Output times.
    pub ts: Vec<f64>,
    /// States at the output times.
    pub ys: Vec<S>,
    /// Counters.
    pub stats: Stats,
}

impl<S> Solution<S> {
    /// The last output state (the final state for [`SaveAt::Final`] and [`SaveAt::Steps`]).
    pub fn last(&self) -> &S {
        self.ys.last().expect("a solution holds at least one state")
    }
}

/// The smallest step size that moves time meaningfully at `t`: 16 machine epsilons of `|t|`
/// (between 8 and 16 units in the last place of `t`; Hairer's codes stop at 10 ε |t| and scipy
/// at 10 ulps), and never below the smallest normal `f64`, so that near `t = 0` a step cannot
/// shrink to zero.
///
/// It follows the time reached, not the end of the span: a long span must not forbid the small
/// steps a stiff transient needs at its start.
pub fn time_resolution(t: f64) -> f64 {
    (16.0 * f64::EPSILON * t.abs()).max(f64::MIN_POSITIVE)
}

/// The end of the span where f64 time is coarsest (the larger `|t|`): a step size used all
/// along the span must be resolvable there.
pub(crate) fn coarsest_time(t0: f64, t1: f64) -> f64 {
    if t0.abs() >= t1.abs() { t0 } else { t1 }
}

/// Checks a fixed step: positive and finite, and large enough to move time everywhere in the
/// span (a step that fits the span in one go is always fine).
pub(crate) fn check_fixed_step(dt: f64, t0: f64, t1: f64) -> Result<(), SolveError> {
    if !(dt.is_finite() && dt > 0.0) {
        return Err(SolveError::InvalidStepOption(format!(
            "the fixed step must be positive and finite, got {dt}"
        )));
    }
    let t = coarsest_time(t0, t1);
    let min_step = time_resolution(t);
    if dt < min_step && dt < (t1 - t0).abs() {
        return Err(SolveError::StepBelowTimeResolution {
            what: "the fixed step",
            step: dt,
            t,
            min_step,
        });
    }
    Ok(())
}

/// Checks the initial state: not empty, every component finite.
pub(crate) fn check_initial_state<S: State>(t0: f64, y0: &S) -> Result<(), SolveError> {
    if y0.num_components() == 0 {
        return Err(SolveError::EmptyState { shape: y0.shape() });
    }
    if let Some(component) = y0.first_non_finite() {
        return Err(SolveError::NonFiniteState {
            t: t0,
            component,
            step: None,
        });
    }
    Ok(())
}

/// Checks the options of an adaptive solve over `(t0, t1)` from `y0`.
fn check_adaptive<S: State>(
    a: &Adaptive<S>,
    (t0, t1): (f64, f64),
    y0: &S,
) -> Result<(), SolveError> {
    a.tol.validate(y0)?;
    a.controller
        .validate()
        .map_err(SolveError::InvalidStepOption)?;
    if !(a.min_step >= 0.0 && a.max_step > 0.0 && a.min_step <= a.max_step) {
        return Err(SolveError::InvalidStepOption(format!(
            "step bounds need 0 <= min_step <= max_step and max_step > 0, got [{}, {}]",
            a.min_step, a.max_step
        )));
    }
    let span = (t1 - t0).abs();
    // Steps near the coarse end of the span cannot be smaller than time resolves there.
    let t_far = coarsest_time(t0, t1);
    if a.max_step < time_resolution(t_far) && a.max_step < span {
        return Err(SolveError::StepBelowTimeResolution {
            what: "the largest step (max_step)",
            step: a.max_step,
            t: t_far,
            min_step: time_resolution(t_far),
        });
    }
    if let Some(h) = a.first_step {
        if !(h.is_finite() && h > 0.0) {
            return Err(SolveError::InvalidFirstStep { first_step: h });
        }
        // The step actually taken first; one that covers the whole span is always fine.
        let first = h.clamp(a.min_step, a.max_step).min(span);
        if first < time_resolution(t0) && first < span {
            return Err(SolveError::StepBelowTimeResolution {
                what: "the first step",
                step: h,
                t: t0,
                min_step: time_resolution(t0),
            });
        }
    }
    Ok(())
}

pub(crate) fn validate_times(save_at: &SaveAt, t0: f64, t1: f64) -> Result<(), SolveError> {
    let SaveAt::Times(ts) = save_at else {
        return Ok(());
    };
    let dir = if t1 >= t0 { 1.0 } else { -1.0 };
    let (lo, hi) = if dir > 0.0 { (t0, t1) } else { (t1, t0) };
    for (index, &value) in ts.iter().enumerate() {
        let bad = |reason| SolveError::InvalidOutputTimes {
            index,
            value,
            reason,
        };
        if !value.is_finite() {
            return Err(bad("not a finite number"));
        }
        if value < lo || value > hi {
            return Err(bad("outside the time span"));
        }
        if index > 0 && (value - ts[index - 1]) * dir < 0.0 {
            return Err(bad("out of order"));
        }
    }
    Ok(())
}

/// Output bookkeeping shared by the fixed and adaptive loops.
struct Output<'a, S> {
    save_at: &'a SaveAt,
    next: usize,
    ts: Vec<f64>,
    ys: Vec<S>,
}

impl<'a, S: State> Output<'a, S> {
    fn new(save_at: &'a SaveAt, t0: f64, y0: &S) -> Self {
        let mut out = Output {
            save_at,
            next: 0,
            ts: Vec::new(),
            ys: Vec::new(),
        };
        match save_at {
            SaveAt::Steps => out.push(t0, y0.clone()),
            SaveAt::Times(ts) => {
                while out.next < ts.len() && ts[out.next] == t0 {
                    out.push(t0, y0.clone());
                    out.next += 1;
                }
            }
            SaveAt::Final => {}
        }
        out
    }

    fn push(&mut self, t: f64, y: S) {
        self.ts.push(t);
        self.ys.push(y);
    }

    /// Records the outputs of an accepted step from `(t, y)` to `(t + h, y1)` up to `t_end`
    /// (the step's end, or an event inside it), where the state is `y_end`.
    #[allow(clippy::too_many_arguments)]
    fn record<M: OdeMethod<S>, F: VectorField<S>>(
        &mut self,
        method: &M,
        f: &mut F,
        t: f64,
        y: &S,
        y1: &S,
        h: f64,
        t_end: f64,
        y_end: &S,
        ws: &mut M::Workspace,
        nfe: &mut usize,
    ) {
        match self.save_at {
            SaveAt::Steps => self.push(t_end, y_end.clone()),
            SaveAt::Times(ts) => {
                while self.next < ts.len() && (ts[self.next] - t_end) * h <= 0.0 {
                    let tau = ts[self.next];
                    let y_tau = if tau == t_end {
                        y_end.clone()
                    } else {
                        let theta = ((tau - t) / h).clamp(0.0, 1.0);
                        method.interpolate(f, t, y, y1, h, theta, ws, nfe)
                    };
                    self.push(tau, y_tau);
                    self.next += 1;
                }
            }
            SaveAt::Final => {}
        }
    }

    fn finish(mut self, t1: f64, y1: S, stats: Stats) -> Solution<S> {
        if let SaveAt::Final = self.save_at {
            self.push(t1, y1);
        }
        Solution {
            ts: self.ts,
            ys: self.ys,
            stats,
        }
    }
}

/// Solves `dy/dt = f(t, y)`, `y(t0) = y0` over `t_span = (t0, t1)` (`t1 < t0` integrates
/// backwards in time) with `method` and `config`.
///
/// ```
/// use sysdyn_solvers::{SaveAt, SolveConfig, methods::DOPRI5, solve};
///
/// // y' = -y, y(0) = 1: y(1) = e^-1.
/// let mut f = |_t: f64, y: &[f64; 1]| [-y[0]];
/// let config = SolveConfig::adaptive(1e-8, 1e-10).save_at(SaveAt::Times(vec![0.5, 1.0]));
/// let sol = solve(&mut f, &DOPRI5, (0.0, 1.0), [1.0], &config)?;
/// assert!((sol.ys[1][0] - (-1.0f64).exp()).abs() < 1e-8);
/// # Ok::<(), sysdyn_solvers::SolveError>(())
/// ```
pub fn solve<S, F, M>(
    f: &mut F,
    method: &M,
    t_span: (f64, f64),
    y0: S,
    config: &SolveConfig<S>,
) -> Result<Solution<S>, SolveError>
where
    S: State,
    F: VectorField<S>,
    M: OdeMethod<S>,
{
    solve_observed(f, method, t_span, y0, config, &mut NoObserver)
}

/// An accepted step cut short by an event at `t`.
pub(crate) struct StepCut<S> {
    /// Where the step ends.
    pub t: f64,
    /// The state there (what the output records).
    pub y: S,
    /// The state to continue from (a callback may have changed it), or `None` to end the solve.
    pub resume: Option<S>,
}

/// Watches accepted steps and may cut them short (events, in [`crate::events`]).
pub(crate) trait StepObserver<S> {
    /// Called after each accepted step from `(t, y)` to `(t_new, y1)`; `dense(τ)` is the step's
    /// continuous extension at time `τ` between them. A returned cut must lie in `(t, t_new]`.
    fn after_step(
        &mut self,
        t: f64,
        y: &S,
        t_new: f64,
        y1: &S,
        dense: &mut dyn FnMut(f64) -> S,
    ) -> Option<StepCut<S>>;
}

/// The observer of a plain solve: never cuts.
struct NoObserver;

impl<S> StepObserver<S> for NoObserver {
    #[inline]
    fn after_step(
        &mut self,
        _t: f64,
        _y: &S,
        _t_new: f64,
        _y1: &S,
        _dense: &mut dyn FnMut(f64) -> S,
    ) -> Option<StepCut<S>> {
        None
    }
}

/// [`solve()`] with an observer of the accepted steps.
pub(crate) fn solve_observed<S, F, M, O>(
    f: &mut F,
    method: &M,
    t_span: (f64, f64),
    y0: S,
    config: &SolveConfig<S>,
    observer: &mut O,
) -> Result<Solution<S>, SolveError>
where
    S: State,
    F: VectorField<S>,
    M: OdeMethod<S>,
    O: StepObserver<S>,
{
    let (t0, t1) = t_span;
    if !t0.is_finite() || !t1.is_finite() {
        return Err(SolveError::InvalidTimeSpan { t0, t1 });
    }
    validate_times(&config.save_at, t0, t1)?;
    check_initial_state(t0, &y0)?;
    #[cfg(feature = "sparse")]
    crate::sparse::check_pattern(f, &y0)?;
    if config.max_steps == 0 {
        return Err(SolveError::InvalidStepOption(
            "max_steps must be at least 1".into(),
        ));
    }
    match &config.step {
        StepSize::Fixed(dt) => check_fixed_step(*dt, t0, t1)?,
        StepSize::Adaptive(a) => {
            if method.error_order().is_none() {
                return Err(SolveError::NotAdaptive {
                    method: method.name(),
                });
            }
            check_adaptive(a, (t0, t1), &y0)?;
        }
    }

    let mut stats = Stats::default();
    let mut out = Output::new(&config.save_at, t0, &y0);
    if t0 == t1 {
        return Ok(out.finish(t1, y0, stats));
    }

    let mut ws = method.workspace();
    stats.nfe += 1;
    let f0 = f.eval(t0, &y0);
    if f0.shape() != y0.shape() {
        return Err(ShapeMismatch {
            context: "vector field output".into(),
            expected: y0.shape(),
            got: f0.shape(),
        }
        .into());
    }
    if let Some(component) = f0.first_non_finite() {
        return Err(SolveError::NonFiniteState {
            t: t0,
            component,
            step: None,
        });
    }

    let (t_end, y_end) = match &config.step {
        StepSize::Fixed(dt) => {
            method.seed_derivative(&mut ws, f0);
            fixed_loop(
                f, method, t0, t1, y0, *dt, config, &mut ws, &mut stats, &mut out, observer,
            )?
        }
        StepSize::Adaptive(a) => {
            let k = method.error_order().unwrap_or(1) as f64 + 1.0;
            let dir = (t1 - t0).signum();
            let h0 = match a.first_step {
                // Validated above: positive, and resolvable at t0 unless it covers the span.
                Some(h) => h,
                None => initial_step(f, t0, &y0, &f0, dir, k, &a.tol, &mut stats.nfe),
            };
            method.seed_derivative(&mut ws, f0);
            adaptive_loop(
                f,
                method,
                (t0, t1),
                y0,
                h0.clamp(a.min_step, a.max_step).min((t1 - t0).abs()),
                a,
                config,
                &mut ws,
                &mut stats,
                &mut out,
                observer,
            )?
        }
    };
    Ok(out.finish(t_end, y_end, stats))
}

/// Number of fixed steps of size `dt` covering `span`: the last step may be shorter, but a
/// remainder within rounding of a whole number of steps does not add a sliver step.
pub(crate) fn fixed_step_count(span: f64, dt: f64) -> usize {
    let ratio = span / dt;
    let rounded = ratio.round();
    if (ratio - rounded).abs() <= 1e-9 * rounded.max(1.0) {
        rounded.max(1.0) as usize
    } else {
        ratio.ceil() as usize
    }
}

/// Continues after an event cut a step: checks the new state and gives the method `f` there.
fn resume_after_cut<S: State, F: VectorField<S>, M: OdeMethod<S>>(
    f: &mut F,
    method: &M,
    t: f64,
    y: &S,
    shape: &[usize],
    ws: &mut M::Workspace,
    nfe: &mut usize,
) -> Result<(), SolveError> {
    if y.shape() != shape {
        return Err(ShapeMismatch {
            context: "state returned by an event callback".into(),
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
    *nfe += 1;
    method.seed_derivative(ws, f.eval(t, y));
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn fixed_loop<S: State, F: VectorField<S>, M: OdeMethod<S>, O: StepObserver<S>>(
    f: &mut F,
    method: &M,
    t0: f64,
    t1: f64,
    mut y: S,
    dt: f64,
    config: &SolveConfig<S>,
    ws: &mut M::Workspace,
    stats: &mut Stats,
    out: &mut Output<'_, S>,
    observer: &mut O,
) -> Result<(f64, S), SolveError> {
    let span = t1 - t0;
    let n = fixed_step_count(span.abs(), dt);
    if n > config.max_steps {
        return Err(SolveError::MaxStepsExceeded {
            t: t0,
            max_steps: config.max_steps,
            h: dt,
            stiff: false,
        });
    }
    let h_nominal = dt * span.signum();
    let shape = y.shape();
    let mut t = t0;
    // Steps end on the grid t0 + i h; an event cut ends one early, and the next step goes from
    // the event to the same grid point.
    let mut i = 0;
    while i < n {
        let t_new = if i + 1 == n {
            t1
        } else {
            t0 + (i + 1) as f64 * h_nominal
        };
        let h = t_new - t;
        if h == 0.0 {
            // The grid point before the end rounded onto it (e.g. t0 = 1e9 + 0.3, dt = 0.1: the
            // seventh point is t1): there is no step left to take, and a zero step would break
            // implicit stages (0/0) and dense output.
            i += 1;
            continue;
        }
        let attempt = method.attempt(f, t, &y, h, None, ws, &mut stats.nfe);
        if let Some(failure) = method.take_failure(ws) {
            return Err(failure);
        }
        if let Some(component) = attempt.y1.first_non_finite() {
            return Err(SolveError::NonFiniteState {
                t: t_new,
                component,
                step: Some(h),
            });
        }
        stats.accepted += 1;
        let cut = {
            let mut dense = |tau: f64| {
                let theta = ((tau - t) / h).clamp(0.0, 1.0);
                method.interpolate(f, t, &y, &attempt.y1, h, theta, ws, &mut stats.nfe)
            };
            observer.after_step(t, &y, t_new, &attempt.y1, &mut dense)
        };
        if let Some(cut) = cut {
            out.record(
                method,
                f,
                t,
                &y,
                &attempt.y1,
                h,
                cut.t,
                &cut.y,
                ws,
                &mut stats.nfe,
            );
            let Some(resumed) = cut.resume else {
                return Ok((cut.t, cut.y));
            };
            resume_after_cut(f, method, cut.t, &resumed, &shape, ws, &mut stats.nfe)?;
            if cut.t == t_new {
                i += 1;
            }
            t = cut.t;
            y = resumed;
            continue;
        }
        out.record(
            method,
            f,
            t,
            &y,
            &attempt.y1,
            h,
            t_new,
            &attempt.y1,
            ws,
            &mut stats.nfe,
        );
        method.accept(ws);
        t = t_new;
        y = attempt.y1;
        i += 1;
    }
    Ok((t1, y))
}

/// Hairer's initial step (Solving ODEs I, II.4): a step whose explicit-Euler error estimate is
/// about 0.01 in the weighted norm, limited by the growth of the derivative.
///
/// Hairer's fallbacks for a vanishing derivative are absolute (1e-6), made for times of order
/// one; far from `t = 0` they can be below what time resolves, so both the probing step and the
/// result are kept at [`time_resolution`]`(t0)` or above (a no-op for ordinary time origins).
#[allow(clippy::too_many_arguments)]
fn initial_step<S: State, F: VectorField<S>>(
    f: &mut F,
    t0: f64,
    y0: &S,
    f0: &S,
    dir: f64,
    k: f64,
    tol: &Tolerance<S>,
    nfe: &mut usize,
) -> f64 {
    let d0 = S::weighted_rms_norm(y0, y0, y0, tol);
    let d1 = S::weighted_rms_norm(f0, y0, y0, tol);
    let floor = time_resolution(t0);
    let h0 = if d0 < 1e-5 || d1 < 1e-5 || !d0.is_finite() || !d1.is_finite() {
        1e-6
    } else {
        0.01 * d0 / d1
    }
    .max(floor);
    let y1 = y0.add_stages(h0 * dir, &[1.0], std::slice::from_ref(f0));
    *nfe += 1;
    let f1 = f.eval(t0 + h0 * dir, &y1);
    let diff = S::linear_combination(&[(1.0 / h0, &f1), (-1.0 / h0, f0)]);
    let d2 = S::weighted_rms_norm(&diff, y0, y0, tol);
    let dmax = d1.max(d2);
    let h1 = if !dmax.is_finite() {
        h0 * 1e-3
    } else if dmax <= 1e-15 {
        (h0 * 1e-3).max(1e-6)
    } else {
        (0.01 / dmax).powf(1.0 / k)
    };
    (100.0 * h0).min(h1).max(floor)
}

#[allow(clippy::too_many_arguments)]
fn adaptive_loop<S: State, F: VectorField<S>, M: OdeMethod<S>, O: StepObserver<S>>(
    f: &mut F,
    method: &M,
    (t0, t1): (f64, f64),
    mut y: S,
    h_abs: f64,
    opts: &Adaptive<S>,
    config: &SolveConfig<S>,
    ws: &mut M::Workspace,
    stats: &mut Stats,
    out: &mut Output<'_, S>,
    observer: &mut O,
) -> Result<(f64, S), SolveError> {
    let dir = (t1 - t0).signum();
    let k = method.error_order().unwrap_or(1) as f64 + 1.0;
    let ctrl = &opts.controller;
    let mut t = t0;
    let mut h_abs = h_abs;
    let (mut prev, mut prev_prev) = (1.0, 1.0);
    let mut last_rejected = false;
    let shape = y.shape();
    loop {
        if stats.steps() >= config.max_steps {
            // Stability-limited steps (see `crate::stiffness`) mean the problem is stiff for this
            // method; implicit methods are the remedy, so they are never told to use one.
            let stiff = !method.is_implicit()
                && crate::stiffness::looks_stiff(
                    f,
                    t,
                    &y,
                    h_abs,
                    (t1 - t).abs(),
                    config.max_steps,
                    &opts.tol,
                    &mut stats.nfe,
                );
            return Err(SolveError::MaxStepsExceeded {
                t,
                max_steps: config.max_steps,
                h: h_abs * dir,
                stiff,
            });
        }
        // What f64 time can resolve at t (a smaller step would hardly change t): relative to the
        // time reached, not to the end of the span, which would forbid the small steps of a
        // stiff transient at the start of a long span.
        let h_min = opts.min_step.max(time_resolution(t));
        let remaining = (t1 - t).abs();
        // The last step reaches t1, also when it would fall short by less than time resolves
        // there: the remainder would be a sliver below the floor, and `t + h` would round onto
        // t1 itself, ending a step that is not the last exactly on t1 (then a zero step).
        let last = h_abs >= remaining * (1.0 - 4.0 * f64::EPSILON)
            || remaining - h_abs < time_resolution(t1);
        // Accepted steps shrink too (by up to the controller's factor each): below what t can
        // resolve they would no longer move t, so stop here as for a rejected step.
        if !last && h_abs < h_min {
            return Err(SolveError::StepSizeUnderflow {
                t,
                h: h_abs * dir,
                h_min,
                error_norm: prev,
            });
        }
        // The step ends where f64 time can end it: `t + h` rounds to a multiple of t's ulp, so
        // the step taken is the difference actually represented (as scipy's solvers do). Far
        // from t = 0 the rounding is a sizeable fraction of small steps (up to 1/16 of a step at
        // the floor), and a method stepping by the nominal h would drift from its clock.
        let t_new = if last { t1 } else { t + h_abs * dir };
        let h = t_new - t;
        let attempt = method.attempt(f, t, &y, h, Some(&opts.tol), ws, &mut stats.nfe);
        if let Some(failure) = method.take_failure(ws) {
            return Err(failure);
        }
        let norm = attempt.error_norm.unwrap_or(0.0);
        if norm <= 1.0 {
            stats.accepted += 1;
            let cut = {
                let mut dense = |tau: f64| {
                    let theta = ((tau - t) / h).clamp(0.0, 1.0);
                    method.interpolate(f, t, &y, &attempt.y1, h, theta, ws, &mut stats.nfe)
                };
                observer.after_step(t, &y, t_new, &attempt.y1, &mut dense)
            };
            if let Some(cut) = cut {
                out.record(
                    method,
                    f,
                    t,
                    &y,
                    &attempt.y1,
                    h,
                    cut.t,
                    &cut.y,
                    ws,
                    &mut stats.nfe,
                );
                let Some(resumed) = cut.resume else {
                    return Ok((cut.t, cut.y));
                };
                resume_after_cut(f, method, cut.t, &resumed, &shape, ws, &mut stats.nfe)?;
                t = cut.t;
                y = resumed;
                if t == t1 {
                    return Ok((t, y));
                }
                // Continue with the step size the error control had reached.
                continue;
            }
            out.record(
                method,
                f,
                t,
                &y,
                &attempt.y1,
                h,
                t_new,
                &attempt.y1,
                ws,
                &mut stats.nfe,
            );
            method.accept(ws);
            t = t_new;
            y = attempt.y1;
            if last {
                return Ok((t, y));
            }
            let mut factor = ctrl.accept_factor(k, norm, prev, prev_prev);
            if last_rejected {
                factor = factor.min(1.0);
            }
            prev_prev = prev;
            prev = norm;
            last_rejected = false;
            h_abs = (h.abs() * factor).clamp(opts.min_step, opts.max_step);
        } else {
            // Also reached when the norm is NaN: the state overflowed, and a smaller step is the
            // only way forward.
            stats.rejected += 1;
            last_rejected = true;
            h_abs = h.abs() * ctrl.reject_factor(k, norm);
            if h_abs < h_min {
                return Err(SolveError::StepSizeUnderflow {
                    t,
                    h: h_abs * dir,
                    h_min,
                    error_norm: norm,
                });
            }
        }
    }
}
