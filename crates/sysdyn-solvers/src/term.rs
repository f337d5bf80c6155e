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

    /// The sparsity pattern of `∂f/∂y`, when the field has one (feature `sparse`). Implicit
    /// methods then store and factorise `I − hγJ` sparsely, and fill `J` from
    /// [`VectorField::sparse_jacobian`] or by finite differences with column colouring. See
    /// [`crate::sparse::WithSparsity`] and [`crate::sparse::WithSparseJacobian`].
    #[cfg(feature = "sparse")]
    fn sparsity(&self) -> Option<&crate::sparse::SparsityPattern> {
        None
    }

    /// Writes the values of `∂f/∂y` at `(t, y)` in the layout of [`VectorField::sparsity`] (the
    /// values zeroed beforehand) and returns `true`, or returns `false` when the field knows only
    /// the pattern (finite differences then fill it).
    #[cfg(feature = "sparse")]
    fn sparse_jacobian(
        &mut self,
        t: f64,
        y: &S,
        jac: &mut crate::sparse::JacobianValues<'_>,
    ) -> bool {
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
