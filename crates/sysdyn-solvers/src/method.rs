//! What a solver method must provide to the integration loop.
//!
//! The loop in [`crate::solve()`] owns time, step size, output and failure handling; a method owns
//! one step: it attempts a step of size `h`, measures its error, and can evaluate the accepted
//! step's continuous extension. Explicit Runge–Kutta tableaux implement it in
//! [`crate::explicit_rk`]; implicit and symplectic methods plug in the same way.

use sysdyn_core::{State, Tolerance};

use crate::error::SolveError;
use crate::term::VectorField;

/// The outcome of one attempted step.
#[derive(Debug, Clone)]
pub struct Attempt<S> {
    /// The proposed state at `t + h`.
    pub y1: S,
    /// The weighted RMS error norm of the step (`None` when the method has no estimate or none
    /// was asked for). A step is acceptable when this is at most one.
    pub error_norm: Option<f64>,
}

/// One-step method used by [`crate::solve()`].
pub trait OdeMethod<S: State> {
    /// Per-solve scratch space (stages, cached derivatives), reused across steps so a step over
    /// fixed-size arrays allocates nothing.
    type Workspace;

    /// Short name for messages and reports.
    fn name(&self) -> &'static str;

    /// Order of the propagated solution.
    fn order(&self) -> u32;

    /// Order that governs step-size control, `None` for fixed-step-only methods.
    fn error_order(&self) -> Option<u32>;

    /// Fresh scratch space.
    fn workspace(&self) -> Self::Workspace;

    /// Gives the method `f(t, y)` at the current point (the loop evaluates it once at the start to
    /// check shapes and choose the first step).
    fn seed_derivative(&self, ws: &mut Self::Workspace, f0: S);

    /// Attempts a step from `(t, y)` of size `h` (negative when integrating backwards). With a
    /// tolerance, also returns the error norm.
    #[allow(clippy::too_many_arguments)]
    fn attempt<F: VectorField<S>>(
        &self,
        f: &mut F,
        t: f64,
        y: &S,
        h: f64,
        tol: Option<&Tolerance<S>>,
        ws: &mut Self::Workspace,
        nfe: &mut usize,
    ) -> Attempt<S>;

    /// The value at `t + theta * h`, `theta` in `[0, 1]`, of the step just attempted from `(t, y)`
    /// to `y1` (called only for an accepted step, before [`OdeMethod::accept`]).
    #[allow(clippy::too_many_arguments)]
    fn interpolate<F: VectorField<S>>(
        &self,
        f: &mut F,
        t: f64,
        y: &S,
        y1: &S,
        h: f64,
        theta: f64,
        ws: &mut Self::Workspace,
        nfe: &mut usize,
    ) -> S;

    /// The attempted step was accepted: prepare to step from its end.
    fn accept(&self, ws: &mut Self::Workspace);

    /// Whether the method is implicit (stable on stiff problems). A solve with an explicit
    /// method that runs out of steps is diagnosed for stiffness; an implicit one is not.
    fn is_implicit(&self) -> bool {
        false
    }

    /// A failure of the last attempt that a smaller step cannot fix, or that a fixed-step solve
    /// cannot step around (a Jacobian written outside its sparsity pattern, a singular Newton
    /// matrix): the loop ends the solve with it. Asked after every attempt; `None` by default.
    fn take_failure(&self, ws: &mut Self::Workspace) -> Option<SolveError> {
        let _ = ws;
        None
    }
}
