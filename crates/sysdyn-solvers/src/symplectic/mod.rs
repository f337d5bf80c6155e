//! Symplectic integrators for separable Hamiltonian systems `H(q, p) = T(p) + V(q)`:
//! `q' = ∂H/∂p = v(p)`, `p' = -∂H/∂q = F(q)`.
//!
//! The problem is a [`SeparableHamiltonian`] term (it answers `v(p)` and `F(q)`); a method is
//! data, a [`SplittingMethod`]: a palindromic sequence of *drifts* `q ← q + a h v(p)` and *kicks*
//! `p ← p + b h F(q)`. Each sub-step is the exact flow of half of the Hamiltonian, so every step
//! is a symplectic map: the energy error stays bounded over very long times instead of drifting,
//! and a symmetric sequence makes the method time-reversible (a step of `-h` undoes a step of
//! `h`). Steps are fixed: changing `h` from step to step would spoil both properties.
//!
//! | method | order | evaluations per step |
//! |---|---|---|
//! | [`VELOCITY_VERLET`] (kick-drift-kick) | 2 | 1 force, 1 velocity |
//! | [`POSITION_VERLET`] (drift-kick-drift) | 2 | 1 force, 1 velocity |
//! | [`YOSHIDA4`] | 4 | 3 forces, 3 velocities |
//!
//! `q` and `p` are any [`State`] — arrays, vectors, or burn tensors (a batch of particles, the
//! Hamiltonian and Verlet networks of `sysdyn-nodes`); on an autodiff device gradients flow
//! through every sub-step.

mod verlet;
mod yoshida;

pub use verlet::{POSITION_VERLET, VELOCITY_VERLET};
pub use yoshida::YOSHIDA4;

use sysdyn_core::{ShapeMismatch, State};
use thiserror::Error;

use crate::error::SolveError;
use crate::grid::fixed_step_ends;
use crate::solve::{SaveAt, check_fixed_step, validate_times};

/// Every symplectic method in the crate.
pub const ALL: &[&SplittingMethod] = &[&VELOCITY_VERLET, &POSITION_VERLET, &YOSHIDA4];

/// A separable Hamiltonian system `H(q, p) = T(p) + V(q)`, autonomous.
pub trait SeparableHamiltonian<S: State> {
    /// `∂H/∂p = ∂T/∂p`: the velocity `dq/dt`, a function of `p` only.
    fn velocity(&mut self, p: &S) -> S;
    /// `-∂H/∂q = -∂V/∂q`: the force `dp/dt`, a function of `q` only.
    fn force(&mut self, q: &S) -> S;
}

/// A separable Hamiltonian from two closures.
///
/// ```
/// use sysdyn_solvers::symplectic::{Separable, VELOCITY_VERLET, solve_hamiltonian};
/// use sysdyn_solvers::SaveAt;
///
/// // The harmonic oscillator H = p²/2 + q²/2 over one period.
/// let mut h = Separable::new(|p: &[f64; 1]| *p, |q: &[f64; 1]| [-q[0]]);
/// let tau = std::f64::consts::TAU;
/// let sol = solve_hamiltonian(&mut h, &VELOCITY_VERLET, (0.0, tau), ([1.0], [0.0]),
///                             tau / 1000.0, &SaveAt::Final)?;
/// assert!((sol.qs[0][0] - 1.0).abs() < 1e-5);
/// # Ok::<(), sysdyn_solvers::SolveError>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Separable<V, F> {
    /// `p ↦ ∂H/∂p`.
    pub velocity: V,
    /// `q ↦ -∂H/∂q`.
    pub force: F,
}

impl<V, F> Separable<V, F> {
    /// Pairs the two closures.
    pub fn new(velocity: V, force: F) -> Self {
        Separable { velocity, force }
    }
}

impl<S: State, V: FnMut(&S) -> S, F: FnMut(&S) -> S> SeparableHamiltonian<S> for Separable<V, F> {
    #[inline]
    fn velocity(&mut self, p: &S) -> S {
        (self.velocity)(p)
    }

    #[inline]
    fn force(&mut self, q: &S) -> S {
        (self.force)(q)
    }
}

/// The two kinds of sub-step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubStep {
    /// `q ← q + a h v(p)`.
    Drift,
    /// `p ← p + b h F(q)`.
    Kick,
}

impl SubStep {
    fn other(self) -> Self {
        match self {
            SubStep::Drift => SubStep::Kick,
            SubStep::Kick => SubStep::Drift,
        }
    }
}

/// A splitting method: sub-steps alternating between drifts and kicks, starting with `first`,
/// with these coefficients (fractions of `h`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SplittingMethod {
    /// Short name.
    pub name: &'static str,
    /// Order of accuracy.
    pub order: u32,
    /// The kind of the first sub-step.
    pub first: SubStep,
    /// Sub-step coefficients, alternating kinds.
    pub coefficients: &'static [f64],
}

/// A property a splitting method violates.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum SplittingError {
    /// Drift or kick coefficients do not sum to one (the method would not be consistent).
    #[error("{method}: the {kind:?} coefficients sum to {sum}, expected 1")]
    NotConsistent {
        /// The method.
        method: &'static str,
        /// Which sub-steps.
        kind: SubStep,
        /// Their sum.
        sum: f64,
    },
    /// The coefficient sequence is not a palindrome (the method would not be time-reversible).
    #[error("{method}: the coefficients are not symmetric, so the method is not time-reversible")]
    NotSymmetric {
        /// The method.
        method: &'static str,
    },
}

impl SplittingMethod {
    /// The sub-steps with their kinds.
    pub fn sub_steps(&self) -> impl Iterator<Item = (SubStep, f64)> + '_ {
        let mut kind = self.first;
        self.coefficients.iter().map(move |&c| {
            let this = kind;
            kind = kind.other();
            (this, c)
        })
    }

    /// Checks consistency (drift and kick coefficients each sum to one) and symmetry.
    pub fn check(&self, tol: f64) -> Result<(), SplittingError> {
        for kind in [SubStep::Drift, SubStep::Kick] {
            let sum: f64 = self
                .sub_steps()
                .filter(|(k, _)| *k == kind)
                .map(|(_, c)| c)
                .sum();
            if (sum - 1.0).abs() > tol {
                return Err(SplittingError::NotConsistent {
                    method: self.name,
                    kind,
                    sum,
                });
            }
        }
        let c = self.coefficients;
        if (0..c.len()).any(|i| (c[i] - c[c.len() - 1 - i]).abs() > tol) {
            return Err(SplittingError::NotSymmetric { method: self.name });
        }
        Ok(())
    }

    /// One step of size `h` (negative to go back in time) from `(q, p)`. `cache` carries the last
    /// evaluations between steps so that merged sub-steps (the two half kicks of velocity Verlet)
    /// cost one evaluation; start with [`StepCache::default`].
    pub fn step<S: State, H: SeparableHamiltonian<S>>(
        &self,
        hamiltonian: &mut H,
        q: S,
        p: S,
        h: f64,
        cache: &mut StepCache<S>,
    ) -> (S, S) {
        let (mut q, mut p) = (q, p);
        for (kind, c) in self.sub_steps() {
            if c == 0.0 {
                continue;
            }
            match kind {
                SubStep::Drift => {
                    let v = cache.velocity.take().unwrap_or_else(|| {
                        cache.velocity_evals += 1;
                        hamiltonian.velocity(&p)
                    });
                    q = q.add_stages(h * c, &[1.0], std::slice::from_ref(&v));
                    // p is unchanged, so v(p) stays valid; q moved, so F(q) does not.
                    cache.velocity = Some(v);
                    cache.force = None;
                }
                SubStep::Kick => {
                    let force = cache.force.take().unwrap_or_else(|| {
                        cache.force_evals += 1;
                        hamiltonian.force(&q)
                    });
                    p = p.add_stages(h * c, &[1.0], std::slice::from_ref(&force));
                    cache.force = Some(force);
                    cache.velocity = None;
                }
            }
        }
        (q, p)
    }
}

/// Evaluations carried between steps, and counters.
#[derive(Debug, Clone)]
pub struct StepCache<S> {
    velocity: Option<S>,
    force: Option<S>,
    /// Velocity evaluations so far.
    pub velocity_evals: usize,
    /// Force evaluations so far.
    pub force_evals: usize,
}

impl<S> Default for StepCache<S> {
    fn default() -> Self {
        StepCache {
            velocity: None,
            force: None,
            velocity_evals: 0,
            force_evals: 0,
        }
    }
}

/// The result of [`solve_hamiltonian`].
#[derive(Debug, Clone)]
pub struct HamiltonianSolution<S> {
    /// Output times.
    pub ts: Vec<f64>,
    /// Positions at the output times.
    pub qs: Vec<S>,
    /// Momenta at the output times.
    pub ps: Vec<S>,
    /// Steps taken.
    pub steps: usize,
    /// Velocity evaluations.
    pub velocity_evals: usize,
    /// Force evaluations.
    pub force_evals: usize,
}

/// Integrates a separable Hamiltonian system over `t_span` (backwards when `t_span.1 < t_span.0`)
/// from `(q0, p0)` with fixed steps of size `dt > 0`.
///
/// The last step is shortened to end on `t_span.1`; with [`SaveAt::Times`] steps are also
/// shortened to land on each output time (symplectic maps all, but at irregular points the
/// energy error of a shortened step differs). [`SaveAt::Steps`] records every step.
pub fn solve_hamiltonian<S: State, H: SeparableHamiltonian<S>>(
    hamiltonian: &mut H,
    method: &SplittingMethod,
    t_span: (f64, f64),
    (q0, p0): (S, S),
    dt: f64,
    save_at: &SaveAt,
) -> Result<HamiltonianSolution<S>, SolveError> {
    let (t0, t1) = t_span;
    if !t0.is_finite() || !t1.is_finite() {
        return Err(SolveError::InvalidTimeSpan { t0, t1 });
    }
    check_fixed_step(dt, t0, t1)?;
    if q0.num_components() == 0 {
        return Err(SolveError::EmptyState { shape: q0.shape() });
    }
    if q0.shape() != p0.shape() {
        return Err(ShapeMismatch {
            context: "momentum p0 (must match the position q0)".into(),
            expected: q0.shape(),
            got: p0.shape(),
        }
        .into());
    }
    for state in [&q0, &p0] {
        if let Some(component) = state.first_non_finite() {
            return Err(SolveError::NonFiniteState {
                t: t0,
                component,
                step: None,
            });
        }
    }
    // Every point where a step must end: output times, then the end of the span.
    let mut stops: Vec<f64> = match save_at {
        SaveAt::Times(ts) => {
            validate_times(save_at, t0, t1)?;
            ts.clone()
        }
        _ => Vec::new(),
    };
    stops.push(t1);
    let last_stop = stops.len() - 1;

    let mut sol = HamiltonianSolution {
        ts: Vec::new(),
        qs: Vec::new(),
        ps: Vec::new(),
        steps: 0,
        velocity_evals: 0,
        force_evals: 0,
    };
    let record = |sol: &mut HamiltonianSolution<S>, t: f64, q: &S, p: &S| {
        sol.ts.push(t);
        sol.qs.push(q.clone());
        sol.ps.push(p.clone());
    };
    if matches!(save_at, SaveAt::Steps) {
        record(&mut sol, t0, &q0, &p0);
    }
    let mut cache = StepCache::default();
    let (mut q, mut p) = (q0, p0);
    let mut t = t0;
    for (t_new, stop) in fixed_step_ends(t0, &stops, dt) {
        if t_new != t {
            let (q1, p1) = method.step(hamiltonian, q, p, t_new - t, &mut cache);
            for state in [&q1, &p1] {
                if let Some(component) = state.first_non_finite() {
                    return Err(SolveError::NonFiniteState {
                        t: t_new,
                        component,
                        step: Some(t_new - t),
                    });
                }
            }
            (q, p, t) = (q1, p1, t_new);
            sol.steps += 1;
            if matches!(save_at, SaveAt::Steps) {
                record(&mut sol, t, &q, &p);
            }
        }
        if matches!(save_at, SaveAt::Times(_)) && stop.is_some_and(|k| k < last_stop) {
            record(&mut sol, t, &q, &p);
        }
    }
    if matches!(save_at, SaveAt::Final) {
        record(&mut sol, t1, &q, &p);
    }
    sol.velocity_evals = cache.velocity_evals;
    sol.force_evals = cache.force_evals;
    Ok(sol)
}
