//! Jacobians `∂f/∂y` for implicit methods: from the user, or by finite differences.
//!
//! A vector field says whether it knows its Jacobian ([`VectorField::jacobian`]); a plain closure
//! does not, and [`WithJacobian`] pairs one with a closure that does. Otherwise implicit methods
//! difference the field, one extra evaluation per component — cheap for the small systems the
//! dense host linear algebra of [`sysdyn_core::linalg`] is meant for.

use sysdyn_core::State;

use crate::term::VectorField;
use sysdyn_core::linalg::Matrix;

/// A vector field together with its analytic Jacobian.
///
/// ```
/// use sysdyn_solvers::jacobian::WithJacobian;
/// use sysdyn_solvers::linalg::Matrix;
///
/// // y' = -1000 (y - cos t): ∂f/∂y = -1000.
/// let field = WithJacobian::new(
///     |t: f64, y: &[f64; 1]| [-1000.0 * (y[0] - t.cos())],
///     |_t: f64, _y: &[f64; 1], jac: &mut Matrix| jac[(0, 0)] = -1000.0,
/// );
/// # let _ = field;
/// ```
#[derive(Debug, Clone, Copy)]
pub struct WithJacobian<F, J> {
    /// `f(t, y)`.
    pub field: F,
    /// Writes `∂f/∂y (t, y)` into the (zeroed) matrix: entry `(i, j)` is `∂f_i/∂y_j`, indices
    /// row-major over the state's components.
    pub jacobian: J,
}

impl<F, J> WithJacobian<F, J> {
    /// Pairs a field with its Jacobian.
    pub fn new(field: F, jacobian: J) -> Self {
        WithJacobian { field, jacobian }
    }
}

impl<S, F, J> VectorField<S> for WithJacobian<F, J>
where
    S: State,
    F: FnMut(f64, &S) -> S,
    J: FnMut(f64, &S, &mut Matrix),
{
    #[inline]
    fn eval(&mut self, t: f64, y: &S) -> S {
        (self.field)(t, y)
    }

    fn jacobian(&mut self, t: f64, y: &S, jac: &mut Matrix) -> bool {
        (self.jacobian)(t, y, jac);
        true
    }
}

/// Forward-difference Jacobian of `f` at `(t, y)`, column by column, into `jac`.
///
/// `f0` is `f(t, y)` on the host; `unit_roundoff` is the precision the state is stored in (f32
/// tensors need far larger increments than f64 arrays). The increment of component `j` is
/// `sqrt(u · max(1e-5, |y_j|))` (Hairer & Wanner's RADAU5 rule), and the difference quotient uses
/// the increment actually stored, so rounding of `y_j + δ` does not bias it.
#[allow(clippy::too_many_arguments)]
pub(crate) fn finite_difference<S: State, F: VectorField<S>>(
    f: &mut F,
    t: f64,
    y: &S,
    y_host: &[f64],
    f0: &[f64],
    unit_roundoff: f64,
    jac: &mut Matrix,
    nfe: &mut usize,
) {
    let n = y_host.len();
    let mut shifted = y_host.to_vec();
    for j in 0..n {
        let delta = (unit_roundoff * y_host[j].abs().max(1e-5)).sqrt();
        shifted[j] = y_host[j] + delta;
        let probe = y.with_components(&shifted);
        let stored = probe.to_f64_vec()[j] - y_host[j];
        let step = if stored != 0.0 { stored } else { delta };
        *nfe += 1;
        let fj = f.eval(t, &probe).to_f64_vec();
        for i in 0..n {
            jac[(i, j)] = (fj[i] - f0[i]) / step;
        }
        shifted[j] = y_host[j];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finite_differences_match_the_analytic_jacobian() {
        let mut field = |_t: f64, y: &[f64; 2]| [y[0] * y[1], y[1].sin() - 3.0 * y[0]];
        let y = [0.7, -1.3];
        let f0 = field(0.0, &y);
        let mut jac = Matrix::zeros(2, 2);
        let mut nfe = 0;
        finite_difference(
            &mut field,
            0.0,
            &y,
            &y,
            &f0,
            f64::EPSILON,
            &mut jac,
            &mut nfe,
        );
        let exact = [[y[1], y[0]], [-3.0, y[1].cos()]];
        for (i, row) in exact.iter().enumerate() {
            for (j, v) in row.iter().enumerate() {
                assert!((jac[(i, j)] - v).abs() < 1e-7, "({i},{j}) {}", jac[(i, j)]);
            }
        }
        assert_eq!(nfe, 2);
    }
}
