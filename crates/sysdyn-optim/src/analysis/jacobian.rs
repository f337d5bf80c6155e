//! Jacobians of vector fields by central differences.

use super::Matrix;
use crate::error::{OptimError, finite, same_len};

/// The Jacobian `∂f_i/∂z_j` of `f: Rⁿ → Rᵐ` at `z` by central differences.
///
/// The step for component `j` is `ε^(1/3) max(1, |z_j|)` (ε the f64 epsilon), which balances
/// the O(h²) truncation error against rounding: about 1e-10 relative accuracy for smooth `f`.
/// Exact (to rounding) when `f` is affine, e.g. the vector field of a bilinear game.
pub fn jacobian_fd<F>(mut f: F, z: &[f64]) -> Result<Matrix, OptimError>
where
    F: FnMut(&[f64]) -> Vec<f64>,
{
    finite("Jacobian point", z)?;
    let n = z.len();
    let m = f(z).len();
    let mut jac = Matrix::zeros(m, n);
    let mut point = z.to_vec();
    for j in 0..n {
        let h = f64::EPSILON.cbrt() * z[j].abs().max(1.0);
        point[j] = z[j] + h;
        let plus = f(&point);
        point[j] = z[j] - h;
        let minus = f(&point);
        point[j] = z[j];
        same_len("vector field output", m, plus.len())?;
        same_len("vector field output", m, minus.len())?;
        // The actual distance between the two points, which rounding may have changed.
        let width = (z[j] + h) - (z[j] - h);
        for i in 0..m {
            jac[(i, j)] = (plus[i] - minus[i]) / width;
        }
    }
    finite("Jacobian", jac.as_slice())?;
    Ok(jac)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_analytic_jacobian() {
        // f(x, y) = (sin(x) y, x² + exp(y), x y³)
        let f = |z: &[f64]| {
            vec![
                z[0].sin() * z[1],
                z[0] * z[0] + z[1].exp(),
                z[0] * z[1].powi(3),
            ]
        };
        let (x, y): (f64, f64) = (0.7, -1.3);
        let exact = [
            [x.cos() * y, x.sin()],
            [2.0 * x, y.exp()],
            [y.powi(3), 3.0 * x * y * y],
        ];
        let jac = jacobian_fd(f, &[x, y]).unwrap();
        assert_eq!((jac.rows(), jac.cols()), (3, 2));
        for (i, row) in exact.iter().enumerate() {
            for (j, e) in row.iter().enumerate() {
                assert!((jac[(i, j)] - e).abs() < 1e-9 * e.abs().max(1.0), "{i}{j}");
            }
        }
    }

    #[test]
    fn affine_fields_are_exact_to_rounding() {
        let jac = jacobian_fd(|z| vec![3.0 * z[1] - 2.0, -0.5 * z[0]], &[1e3, -2.0]).unwrap();
        assert!((jac[(0, 1)] - 3.0).abs() < 1e-9 && (jac[(1, 0)] + 0.5).abs() < 1e-9);
        assert_eq!((jac[(0, 0)], jac[(1, 1)]), (0.0, 0.0));
    }

    #[test]
    fn wrong_output_sizes_and_non_finite_points_are_errors() {
        let mut calls = 0;
        let flaky = |_z: &[f64]| {
            calls += 1;
            vec![0.0; if calls == 1 { 2 } else { 3 }]
        };
        assert!(matches!(
            jacobian_fd(flaky, &[0.0, 0.0]),
            Err(OptimError::DimensionMismatch { .. })
        ));
        assert!(jacobian_fd(|z| z.to_vec(), &[f64::NAN]).is_err());
    }
}
