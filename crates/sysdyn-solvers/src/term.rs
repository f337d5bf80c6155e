//! The mathematics of the problem: the vector field `dy/dt = f(t, y)`.

use sysdyn_core::State;

use sysdyn_core::linalg::Matrix;

/// A vector field `f(t, y)` for `dy/dt = f(t, y)`.
///
/// Any `FnMut(f64, &S) -> S` closure is one. Time is always `f64` on the host.
pub trait VectorField<S: State> {
    /// Evaluates `f(t, y)`.
    fn eval(&mut self, t: f64, y: &S) -> S;

    /// Writes the Jacobian `∂f/∂y` at `(t, y)` into `jac` (`n × n`, row `i` = `∂f_i/∂y`, `jac`
    /// zeroed beforehand) and returns `true`, or returns `false` when the field has no analytic
    /// Jacobian. Implicit methods then use finite differences. A closure has none; wrap it with
    /// its Jacobian in [`crate::jacobian::WithJacobian`].
    fn jacobian(&mut self, t: f64, y: &S, jac: &mut Matrix) -> bool {
        let _ = (t, y, jac);
        false
    }
}

impl<S: State, F: FnMut(f64, &S) -> S> VectorField<S> for F {
    #[inline]
    fn eval(&mut self, t: f64, y: &S) -> S {
        self(t, y)
    }
}
