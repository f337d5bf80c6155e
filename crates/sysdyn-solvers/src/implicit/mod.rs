//! Implicit (stiff) solvers: diagonally implicit Runge–Kutta methods with Newton iterations.
//!
//! A stiff problem has fast, strongly damped modes: an explicit method must resolve them with
//! tiny steps (its stability, not accuracy, limits the step), while an L-stable implicit method
//! damps them at any step size. The methods here are data ([`DirkTableau`], one file each in
//! `implicit/methods/`) stepped by one routine that implements [`OdeMethod`], so [`crate::solve()`]
//! drives them exactly like explicit methods: adaptive steps, dense output, [`crate::SaveAt`],
//! events and typed errors are shared.
//!
//! | method | order (estimate) | stability | use |
//! |---|---|---|---|
//! | [`BACKWARD_EULER`] | 1 (1) | L-stable | robust, low accuracy |
//! | [`TRAPEZOID`] | 2 (1) | A-stable | smooth, mildly stiff problems |
//! | [`TRBDF2`] | 2 (3) | L-stable | moderate accuracy |
//! | [`ESDIRK4`] | 4 (3) | L-stable | the default for stiff problems |
//!
//! # How a step is solved
//!
//! Each implicit stage is a nonlinear system `Y - h γ f(t + c h, Y) = rhs`, solved by simplified
//! Newton iterations with the matrix `I - h γ J`, `J = ∂f/∂y`. `J` comes from the vector field
//! ([`VectorField::jacobian`], e.g. [`crate::jacobian::WithJacobian`]) or from finite
//! differences. Work is saved where the method allows:
//!
//! - one LU factorisation of `I - h γ J` serves every stage of a step (one `γ`), and the next
//!   steps too while `h` does not change (fixed-step solves factorise once);
//! - `J` is kept across steps while Newton converges quickly, and recomputed when it converges
//!   slowly or fails (then the step is retried once with the fresh `J` before the step size is
//!   reduced).
//!
//! The error estimate is filtered through `(I - h γ J)⁻¹` (Shampine), so stiff components that
//! the method damps do not inflate it.
//!
//! # Size
//!
//! Newton runs on the host in `f64` whatever the state type: a tensor state is copied to the host
//! each iteration ([`State::to_f64_vec`] / [`State::with_components`]) and the linear algebra is
//! dense ([`sysdyn_core::linalg`]). This is meant for small systems — up to a few hundred components in
//! total. Larger systems with sparse Jacobians (discretised PDEs) give their sparsity pattern
//! (feature `sparse`: `sparse::WithSparsity`, `sparse::WithSparseJacobian`); the same methods then
//! factorise `I - h γ J` with faer's sparse LU (symbolic analysis once per solve) and difference
//! the field one colour of columns at a time. Gradients do not flow through an implicit step on
//! an autodiff device (the host round trip detaches them).

mod methods;
pub mod tableau;

pub use methods::{ALL, BACKWARD_EULER, ESDIRK4, TRAPEZOID, TRBDF2};
pub use tableau::{DirkTableau, DirkTableauError};

use sysdyn_core::{State, Tol, Tolerance};

use crate::error::SolveError;
use crate::jacobian;
use crate::method::{Attempt, OdeMethod};
#[cfg(feature = "sparse")]
use crate::sparse::{JacobianValues, SparseJacobianError, SparseLu, SparseNewton};
use crate::term::VectorField;
use sysdyn_core::linalg::{LuFactors, Matrix};

/// Options of the Newton iterations of implicit stages.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NewtonOptions {
    /// Iterations allowed per stage before the attempt counts as failed.
    pub max_iters: usize,
    /// A contraction rate `‖Δ_k‖ / ‖Δ_{k-1}‖` above this in an accepted step makes the next step
    /// recompute the Jacobian (below it, the old one is good enough).
    pub jacobian_refresh_rate: f64,
    /// Relative and absolute accuracy of the stage solutions in fixed-step solves (adaptive
    /// solves derive it from their tolerance).
    pub fixed_step_tol: f64,
}

impl NewtonOptions {
    /// The defaults: 10 iterations, refresh the Jacobian after a step whose iterations contracted
    /// by less than a factor 5 (rate above 0.2), fixed-step stage accuracy 1e-10.
    pub const DEFAULT: NewtonOptions = NewtonOptions {
        max_iters: 10,
        jacobian_refresh_rate: 0.2,
        fixed_step_tol: 1e-10,
    };
}

impl Default for NewtonOptions {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// A diagonally implicit Runge–Kutta method with its Newton options. A bare [`DirkTableau`] is a
/// solver too (with [`NewtonOptions::DEFAULT`]); wrap it to change the options.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Dirk {
    /// The method.
    pub tableau: DirkTableau,
    /// The Newton options.
    pub newton: NewtonOptions,
}

impl Dirk {
    /// `tableau` with the default Newton options.
    pub const fn new(tableau: DirkTableau) -> Self {
        Dirk {
            tableau,
            newton: NewtonOptions::DEFAULT,
        }
    }

    /// Sets the Newton options.
    pub const fn with_newton(mut self, newton: NewtonOptions) -> Self {
        self.newton = newton;
        self
    }
}

/// Counters of the implicit machinery, kept in the workspace.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImplicitCounters {
    /// Jacobian evaluations (analytic or finite-difference).
    pub jacobians: usize,
    /// LU factorisations of `I - h γ J`.
    pub factorizations: usize,
    /// Newton iterations over all stages.
    pub newton_iters: usize,
    /// Attempts whose Newton iterations failed (diverged, too slow, or a singular matrix).
    pub newton_failures: usize,
}

/// Scratch space and carried state of an implicit solve.
#[derive(Debug, Clone)]
pub struct DirkWorkspace {
    /// `f(t, y)` at the current point, on the host.
    f0: Option<Vec<f64>>,
    /// Stage derivatives of the last attempt.
    stages: Vec<Vec<f64>>,
    /// The state at the end of the last attempt, on the host.
    y1: Vec<f64>,
    /// `f(t + h, y1)` of the last attempt, when known.
    f_end: Option<Vec<f64>>,
    /// The Jacobian in use.
    jac: Option<Matrix>,
    /// Whether `jac` was evaluated at the current step's starting point.
    jac_is_current: bool,
    /// Whether the next attempt must evaluate a new Jacobian.
    refresh_jacobian: bool,
    /// LU of `I - hγ J` and the `hγ` it was made with.
    lu: Option<(LuFactors, f64)>,
    /// Hairer's carried estimate of the Newton error factor `θ / (1 - θ)`.
    eta: f64,
    /// Largest contraction rate seen in the current attempt.
    max_rate: f64,
    /// Unit roundoff of the state's storage (f32 tensors are coarser than the host f64).
    unit_roundoff: Option<f64>,
    /// The sparse Newton machinery, for a field with a sparsity pattern.
    #[cfg(feature = "sparse")]
    sparse: Option<SparseNewton>,
    /// A failure that ends the solve (the loop takes it after the attempt).
    failure: Option<SolveError>,
    /// Counters.
    pub counters: ImplicitCounters,
}

/// Unit roundoff of how `y` stores numbers: f64 storage keeps a 1e-12 perturbation of one,
/// f32 storage loses it.
fn storage_roundoff<S: State>(y: &S) -> f64 {
    let n = y.num_components();
    if n == 0 {
        return f64::EPSILON;
    }
    let probe = y.with_components(&vec![1.0 + 1e-12; n]).to_f64_vec();
    if probe[0] == 1.0 {
        f32::EPSILON as f64
    } else {
        f64::EPSILON
    }
}

/// Per-component host values of a tolerance.
fn host_tol<S: State>(tol: &Tol<S>, n: usize) -> Vec<f64> {
    match tol {
        Tol::Scalar(v) => vec![*v; n],
        Tol::PerComponent(s) => s.to_f64_vec(),
    }
}

/// Weighted RMS norm on the host with per-component scales.
fn rms_scaled(x: &[f64], scale: &[f64]) -> f64 {
    if x.is_empty() {
        return 0.0;
    }
    let sum: f64 = x.iter().zip(scale).map(|(v, s)| (v / s) * (v / s)).sum();
    (sum / x.len() as f64).sqrt()
}

/// The error norm an attempt reports when its Newton iterations fail: `1.8^(q+1)` for error order
/// `q`, which the default controller (safety 0.9) turns into halving the step — the reduction
/// RADAU5 makes — rather than the five-fold cut of an overflowed state. Halving keeps most of a
/// step that failed only because the simplified Newton matrix went stale over it.
fn newton_failure_norm(tableau: &DirkTableau) -> f64 {
    1.8f64.powi(tableau.error_order().unwrap_or(1) as i32 + 1)
}

/// Why the stage equations of an attempt could not be solved.
enum NewtonFailure {
    /// `I - hγ J` is singular.
    Singular,
    /// The iterations diverged or would not converge in time.
    NoConvergence,
    /// An error a smaller step cannot fix (a Jacobian that breaks its pattern).
    #[cfg(feature = "sparse")]
    Fatal(SolveError),
}

/// The factorised Newton matrix `I - hγ J` of the current attempt.
enum Factors<'a> {
    Dense(&'a LuFactors),
    #[cfg(feature = "sparse")]
    Sparse(&'a SparseLu),
}

impl Factors<'_> {
    /// Solves in place; `false` if the solve was refused (sizes agree by construction).
    fn solve(&self, b: &mut [f64]) -> bool {
        match self {
            Factors::Dense(lu) => lu.solve_in_place(b).is_ok(),
            #[cfg(feature = "sparse")]
            Factors::Sparse(lu) => lu.solve_in_place(b).is_ok(),
        }
    }
}

/// The factors prepared for this attempt (sparse when the field has a pattern).
fn factors<'a>(
    dense: &'a Option<(LuFactors, f64)>,
    #[cfg(feature = "sparse")] sparse: &'a Option<SparseNewton>,
) -> Option<Factors<'a>> {
    #[cfg(feature = "sparse")]
    if let Some(sp) = sparse {
        return sp.factored_hg.map(|_| Factors::Sparse(&sp.lu));
    }
    dense.as_ref().map(|(lu, _)| Factors::Dense(lu))
}

impl Dirk {
    fn fresh_workspace(&self) -> DirkWorkspace {
        DirkWorkspace {
            f0: None,
            stages: vec![Vec::new(); self.tableau.stages()],
            y1: Vec::new(),
            f_end: None,
            jac: None,
            jac_is_current: false,
            refresh_jacobian: true,
            lu: None,
            eta: 1.0,
            max_rate: 0.0,
            unit_roundoff: None,
            #[cfg(feature = "sparse")]
            sparse: None,
            failure: None,
            counters: ImplicitCounters::default(),
        }
    }

    /// Makes sure `ws.jac` and its factorisation for `hγ` are ready.
    #[allow(clippy::too_many_arguments)]
    fn prepare_matrix<S: State, F: VectorField<S>>(
        &self,
        f: &mut F,
        t: f64,
        y: &S,
        y_host: &[f64],
        hg: f64,
        ws: &mut DirkWorkspace,
        nfe: &mut usize,
    ) -> Result<(), NewtonFailure> {
        #[cfg(feature = "sparse")]
        if f.sparsity().is_some() {
            return self.prepare_sparse_matrix(f, t, y, y_host, hg, ws, nfe);
        }
        let n = y_host.len();
        if ws.jac.is_none() || ws.refresh_jacobian {
            let mut jac = ws.jac.take().unwrap_or_else(|| Matrix::zeros(n, n));
            jac.fill(0.0);
            if !f.jacobian(t, y, &mut jac) {
                // A fresh f(t, y): the carried one is the last stage's derivative, exact only to
                // the Newton tolerance, and its error divided by the tiny increments would swamp
                // the difference quotients.
                *nfe += 1;
                let f0 = f.eval(t, y).to_f64_vec();
                let u = *ws.unit_roundoff.get_or_insert_with(|| storage_roundoff(y));
                jacobian::finite_difference(f, t, y, y_host, &f0, u, &mut jac, nfe);
            }
            ws.counters.jacobians += 1;
            ws.jac = Some(jac);
            ws.jac_is_current = true;
            ws.refresh_jacobian = false;
            ws.lu = None;
        }
        if ws.lu.as_ref().is_none_or(|(_, old)| *old != hg) {
            let jac = ws.jac.as_ref().expect("Jacobian prepared above");
            let mut m = Matrix::identity(n);
            for (mv, jv) in m.as_mut_slice().iter_mut().zip(jac.as_slice()) {
                *mv -= hg * jv;
            }
            ws.counters.factorizations += 1;
            match LuFactors::new(&m) {
                Ok(lu) => ws.lu = Some((lu, hg)),
                Err(_) => {
                    ws.lu = None;
                    return Err(NewtonFailure::Singular);
                }
            }
        }
        Ok(())
    }

    /// [`Dirk::prepare_matrix`] for a field with a sparsity pattern: `J` in compressed sparse
    /// columns, `I - hγ J` factorised by faer (symbolic analysis once per solve).
    #[cfg(feature = "sparse")]
    #[allow(clippy::too_many_arguments)]
    fn prepare_sparse_matrix<S: State, F: VectorField<S>>(
        &self,
        f: &mut F,
        t: f64,
        y: &S,
        y_host: &[f64],
        hg: f64,
        ws: &mut DirkWorkspace,
        nfe: &mut usize,
    ) -> Result<(), NewtonFailure> {
        let fatal = |e: SparseJacobianError| NewtonFailure::Fatal(SolveError::SparseJacobian(e));
        if ws.sparse.is_none() {
            let Some(pattern) = f.sparsity() else {
                return Err(NewtonFailure::Singular);
            };
            if pattern.n() != y_host.len() {
                return Err(fatal(SparseJacobianError::PatternShape {
                    pattern: pattern.n(),
                    state: y_host.len(),
                }));
            }
            ws.sparse = Some(SparseNewton::new(pattern).map_err(fatal)?);
        }
        let u = *ws.unit_roundoff.get_or_insert_with(|| storage_roundoff(y));
        let Some(sp) = ws.sparse.as_mut() else {
            return Err(NewtonFailure::Singular);
        };
        if !sp.evaluated || ws.refresh_jacobian {
            sp.jac.fill(0.0);
            let mut values = JacobianValues::new(&sp.jac_pattern, &mut sp.jac).map_err(fatal)?;
            let analytic = f.sparse_jacobian(t, y, &mut values);
            if let Some((row, col)) = values.outside_pattern() {
                return Err(fatal(SparseJacobianError::OutsidePattern { row, col }));
            }
            if !analytic {
                // A fresh f(t, y), as in the dense case.
                *nfe += 1;
                let f0 = f.eval(t, y).to_f64_vec();
                sp.finite_difference(f, t, y, y_host, &f0, u, nfe);
            }
            sp.evaluated = true;
            sp.factored_hg = None;
            ws.counters.jacobians += 1;
            ws.jac_is_current = true;
            ws.refresh_jacobian = false;
        }
        if sp.factored_hg != Some(hg) {
            ws.counters.factorizations += 1;
            match sp.factor(hg) {
                Ok(()) => sp.factored_hg = Some(hg),
                Err(SparseJacobianError::Singular { .. }) => {
                    sp.factored_hg = None;
                    return Err(NewtonFailure::Singular);
                }
                Err(e) => {
                    sp.factored_hg = None;
                    return Err(fatal(e));
                }
            }
        }
        Ok(())
    }

    /// Solves every implicit stage of a step from `(t, y)` of size `h`, filling `ws.stages`.
    #[allow(clippy::too_many_arguments)]
    fn solve_stages<S: State, F: VectorField<S>>(
        &self,
        f: &mut F,
        t: f64,
        y: &S,
        y_host: &[f64],
        h: f64,
        scale: &[f64],
        kappa: f64,
        ws: &mut DirkWorkspace,
        nfe: &mut usize,
    ) -> Result<(), NewtonFailure> {
        let tab = &self.tableau;
        let n = y_host.len();
        let hg = h * tab.gamma();
        self.prepare_matrix(f, t, y, y_host, hg, ws, nfe)?;
        let first = usize::from(tab.explicit_first_stage());
        if first == 1 {
            ws.stages[0].clone_from(ws.f0.as_ref().expect("f(t, y) is known"));
        }
        ws.max_rate = 0.0;
        let mut rhs = vec![0.0; n];
        let mut z = vec![0.0; n];
        for i in first..tab.stages() {
            // rhs = y + h Σ_{j<i} a_ij k_j
            rhs.copy_from_slice(y_host);
            for j in 0..i {
                let a = tab.a_ij(i, j);
                if a != 0.0 {
                    for (r, k) in rhs.iter_mut().zip(&ws.stages[j]) {
                        *r += h * a * k;
                    }
                }
            }
            // Predictor: the previous stage's derivative (f(t, y) for the first stage).
            let guess = if i > 0 {
                &ws.stages[i - 1]
            } else {
                ws.f0.as_ref().expect("f(t, y) is known")
            };
            for ((zv, r), g) in z.iter_mut().zip(&rhs).zip(guess) {
                *zv = r + hg * g;
            }
            let ti = t + tab.c[i] * h;
            let Some(lu) = factors(
                &ws.lu,
                #[cfg(feature = "sparse")]
                &ws.sparse,
            ) else {
                return Err(NewtonFailure::Singular);
            };
            let mut eta = ws.eta.max(f64::EPSILON).powf(0.8);
            let mut previous: Option<f64> = None;
            let mut converged = false;
            for iter in 0..self.newton.max_iters {
                *nfe += 1;
                ws.counters.newton_iters += 1;
                let fz = f.eval(ti, &y.with_components(&z)).to_f64_vec();
                // Residual of Y - hγ f(Y) = rhs, solved for the correction Δ.
                let mut delta: Vec<f64> = (0..n).map(|k| rhs[k] + hg * fz[k] - z[k]).collect();
                // (The sizes agree by construction; a refusal counts as a failed iteration.)
                let norm = if lu.solve(&mut delta) {
                    rms_scaled(&delta, scale)
                } else {
                    f64::NAN
                };
                if !norm.is_finite() {
                    break;
                }
                z.iter_mut().zip(&delta).for_each(|(zv, d)| *zv += d);
                if let Some(prev) = previous {
                    let rate = if prev > 0.0 { norm / prev } else { 0.0 };
                    ws.max_rate = ws.max_rate.max(rate);
                    if rate >= 1.0 {
                        break;
                    }
                    eta = rate / (1.0 - rate);
                    // Too slow to reach the tolerance within the remaining iterations.
                    let left = (self.newton.max_iters - 1 - iter) as i32;
                    if eta * norm > kappa && rate.powi(left) / (1.0 - rate) * norm > kappa {
                        break;
                    }
                }
                if norm == 0.0 || eta * norm <= kappa {
                    converged = true;
                    break;
                }
                previous = Some(norm);
            }
            if !converged {
                return Err(NewtonFailure::NoConvergence);
            }
            ws.eta = eta;
            ws.stages[i] = z.iter().zip(&rhs).map(|(zv, r)| (zv - r) / hg).collect();
        }
        Ok(())
    }
}

impl<S: State> OdeMethod<S> for Dirk {
    type Workspace = DirkWorkspace;

    fn name(&self) -> &'static str {
        self.tableau.name
    }

    fn order(&self) -> u32 {
        self.tableau.order
    }

    fn error_order(&self) -> Option<u32> {
        self.tableau.error_order()
    }

    fn workspace(&self) -> DirkWorkspace {
        self.fresh_workspace()
    }

    fn seed_derivative(&self, ws: &mut DirkWorkspace, f0: S) {
        ws.f0 = Some(f0.to_f64_vec());
        // The state may have jumped (an event callback): the old Jacobian may no longer apply.
        ws.jac_is_current = false;
    }

    fn attempt<F: VectorField<S>>(
        &self,
        f: &mut F,
        t: f64,
        y: &S,
        h: f64,
        tol: Option<&Tolerance<S>>,
        ws: &mut DirkWorkspace,
        nfe: &mut usize,
    ) -> Attempt<S> {
        let tab = &self.tableau;
        let y_host = y.to_f64_vec();
        let n = y_host.len();
        if ws.f0.is_none() {
            *nfe += 1;
            ws.f0 = Some(f.eval(t, y).to_f64_vec());
        }
        let roundoff = *ws.unit_roundoff.get_or_insert_with(|| storage_roundoff(y));
        // Newton accuracy: a fraction `kappa` of the step's tolerance (Hairer & Wanner's RADAU5
        // rule), never finer than the state's storage can represent.
        let (scale, kappa, rtol, atol) = match tol {
            Some(tol) => {
                let rtol = host_tol(&tol.rtol, n);
                let atol = host_tol(&tol.atol, n);
                let r = rtol.iter().fold(0.0f64, |m, v| m.max(*v));
                let kappa = (10.0 * f64::EPSILON / r).max(0.03f64.min(r.sqrt()));
                let scale: Vec<f64> = (0..n)
                    .map(|i| {
                        (atol[i] + rtol[i] * y_host[i].abs())
                            .max(100.0 * roundoff * y_host[i].abs())
                            .max(f64::MIN_POSITIVE)
                    })
                    .collect();
                (scale, kappa, rtol, atol)
            }
            None => {
                let ft = self.newton.fixed_step_tol.max(1e4 * roundoff);
                let scale: Vec<f64> = y_host.iter().map(|v| ft * (1.0 + v.abs())).collect();
                (scale, 0.01, Vec::new(), Vec::new())
            }
        };
        let mut outcome = self.solve_stages(f, t, y, &y_host, h, &scale, kappa, ws, nfe);
        if outcome.is_err() && !ws.jac_is_current {
            // An old Jacobian may be what failed: retry once with a fresh one.
            ws.refresh_jacobian = true;
            outcome = self.solve_stages(f, t, y, &y_host, h, &scale, kappa, ws, nfe);
        }
        if let Err(failure) = outcome {
            ws.counters.newton_failures += 1;
            ws.eta = 1.0;
            match failure {
                NewtonFailure::Singular => {
                    ws.refresh_jacobian = true;
                    // A fixed step cannot shrink away from the singularity: say so.
                    if tol.is_none() {
                        ws.failure = Some(SolveError::SingularNewtonMatrix { t, h });
                    }
                }
                #[cfg(feature = "sparse")]
                NewtonFailure::Fatal(e) => ws.failure = Some(e),
                NewtonFailure::NoConvergence => {}
            }
            return match tol {
                // A rejected step: the loop shrinks h and tries again.
                Some(_) => Attempt {
                    y1: y.clone(),
                    error_norm: Some(newton_failure_norm(tab)),
                },
                // A fixed step cannot shrink: report a non-finite state, which the loop turns
                // into an error that asks for a smaller step.
                None => Attempt {
                    y1: y.with_components(&vec![f64::NAN; n]),
                    error_norm: None,
                },
            };
        }
        // y1 = y + h Σ_j b_j k_j (for a stiffly accurate method, the last stage value).
        let mut y1 = y_host.clone();
        for (j, b) in tab.b.iter().enumerate() {
            if *b != 0.0 {
                y1.iter_mut()
                    .zip(&ws.stages[j])
                    .for_each(|(v, k)| *v += h * b * k);
            }
        }
        ws.y1 = y1;
        // f(t + h, y1): the last stage derivative when the method is stiffly accurate, otherwise
        // evaluated when needed (interpolation, or the next step).
        ws.f_end = tab
            .stiffly_accurate()
            .then(|| ws.stages[tab.stages() - 1].clone());
        let error_norm = match (tol, tab.error) {
            (Some(_), Some(e)) => {
                let mut err = vec![0.0; n];
                for (j, ej) in e.iter().enumerate() {
                    if *ej != 0.0 {
                        err.iter_mut()
                            .zip(&ws.stages[j])
                            .for_each(|(v, k)| *v += h * ej * k);
                    }
                }
                // Filter: stiff components of the estimate are damped as the method damps them.
                // (The sizes agree by construction; a refusal rejects the step.)
                let filtered = factors(
                    &ws.lu,
                    #[cfg(feature = "sparse")]
                    &ws.sparse,
                )
                .is_some_and(|lu| lu.solve(&mut err));
                let scale: Vec<f64> = (0..n)
                    .map(|i| atol[i] + rtol[i] * y_host[i].abs().max(ws.y1[i].abs()))
                    .collect();
                Some(if filtered {
                    rms_scaled(&err, &scale)
                } else {
                    f64::INFINITY
                })
            }
            _ => None,
        };
        Attempt {
            y1: y.with_components(&ws.y1),
            error_norm,
        }
    }

    fn interpolate<F: VectorField<S>>(
        &self,
        f: &mut F,
        t: f64,
        y: &S,
        y1: &S,
        h: f64,
        theta: f64,
        ws: &mut DirkWorkspace,
        nfe: &mut usize,
    ) -> S {
        // Cubic Hermite through (t, y, f(t, y)) and (t + h, y1, f(t + h, y1)).
        if ws.f_end.is_none() {
            *nfe += 1;
            ws.f_end = Some(f.eval(t + h, y1).to_f64_vec());
        }
        let y0 = y.to_f64_vec();
        let f0 = ws.f0.as_ref().expect("f(t, y) is known during a step");
        let f1 = ws.f_end.as_ref().expect("computed above");
        let (t2, t3) = (theta * theta, theta * theta * theta);
        let h00 = 2.0 * t3 - 3.0 * t2 + 1.0;
        let h10 = t3 - 2.0 * t2 + theta;
        let h01 = -2.0 * t3 + 3.0 * t2;
        let h11 = t3 - t2;
        let values: Vec<f64> = (0..y0.len())
            .map(|i| h00 * y0[i] + h10 * h * f0[i] + h01 * ws.y1[i] + h11 * h * f1[i])
            .collect();
        y.with_components(&values)
    }

    fn is_implicit(&self) -> bool {
        true
    }

    fn take_failure(&self, ws: &mut DirkWorkspace) -> Option<SolveError> {
        ws.failure.take()
    }

    fn accept(&self, ws: &mut DirkWorkspace) {
        ws.f0 = ws.f_end.take();
        ws.jac_is_current = false;
        if ws.max_rate > self.newton.jacobian_refresh_rate {
            ws.refresh_jacobian = true;
        }
    }
}

/// A bare tableau steps with the default Newton options.
impl<S: State> OdeMethod<S> for DirkTableau {
    type Workspace = DirkWorkspace;

    fn name(&self) -> &'static str {
        self.name
    }

    fn order(&self) -> u32 {
        self.order
    }

    fn error_order(&self) -> Option<u32> {
        DirkTableau::error_order(self)
    }

    fn workspace(&self) -> DirkWorkspace {
        Dirk::new(*self).fresh_workspace()
    }

    fn seed_derivative(&self, ws: &mut DirkWorkspace, f0: S) {
        <Dirk as OdeMethod<S>>::seed_derivative(&Dirk::new(*self), ws, f0)
    }

    fn attempt<F: VectorField<S>>(
        &self,
        f: &mut F,
        t: f64,
        y: &S,
        h: f64,
        tol: Option<&Tolerance<S>>,
        ws: &mut DirkWorkspace,
        nfe: &mut usize,
    ) -> Attempt<S> {
        Dirk::new(*self).attempt(f, t, y, h, tol, ws, nfe)
    }

    fn interpolate<F: VectorField<S>>(
        &self,
        f: &mut F,
        t: f64,
        y: &S,
        y1: &S,
        h: f64,
        theta: f64,
        ws: &mut DirkWorkspace,
        nfe: &mut usize,
    ) -> S {
        Dirk::new(*self).interpolate(f, t, y, y1, h, theta, ws, nfe)
    }

    fn is_implicit(&self) -> bool {
        true
    }

    fn take_failure(&self, ws: &mut DirkWorkspace) -> Option<SolveError> {
        ws.failure.take()
    }

    fn accept(&self, ws: &mut DirkWorkspace) {
        <Dirk as OdeMethod<S>>::accept(&Dirk::new(*self), ws)
    }
}
