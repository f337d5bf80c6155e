//! The mathematics of the problem: the vector field `dy/dt = f(t, y)`.

use sysdyn_core::State;

/// A vector field `f(t, y)` for `dy/dt = f(t, y)`.
///
/// Any `FnMut(f64, &S) -> S` closure is one. Time is always `f64` on the host.
pub trait VectorField<S: State> {
    /// Evaluates `f(t, y)`.
    fn eval(&mut self, t: f64, y: &S) -> S;
}

impl<S: State, F: FnMut(f64, &S) -> S> VectorField<S> for F {
    #[inline]
    fn eval(&mut self, t: f64, y: &S) -> S {
        self(t, y)
    }
}
