//! LU factorisation with partial pivoting, for the Newton iterations of implicit methods.

use super::{LinalgError, Matrix};

/// `P A = L U` with partial (row) pivoting, ready to solve `A x = b` for many right-hand sides.
#[derive(Debug, Clone, PartialEq)]
pub struct LuFactors {
    n: usize,
    /// `L` (unit diagonal, below) and `U` (on and above the diagonal), row-major.
    lu: Vec<f64>,
    /// Row `i` of `P A` is row `pivots[i]` of `A`.
    pivots: Vec<usize>,
}

impl LuFactors {
    /// Factorises `matrix`.
    pub fn new(matrix: &Matrix) -> Result<Self, LinalgError> {
        let n = matrix.rows();
        if matrix.cols() != n {
            return Err(LinalgError::NotSquare {
                context: "LU factorisation",
                rows: n,
                cols: matrix.cols(),
            });
        }
        let mut lu = matrix.as_slice().to_vec();
        let mut pivots: Vec<usize> = (0..n).collect();
        // A pivot this small relative to its column is zero up to rounding.
        let scale = lu.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let tiny = scale * n as f64 * f64::EPSILON;
        for k in 0..n {
            let (p, max) = (k..n)
                .map(|i| (i, lu[i * n + k].abs()))
                .fold(
                    (k, -1.0),
                    |best, cur| if cur.1 > best.1 { cur } else { best },
                );
            // (`max` is NaN when the column holds NaN: no usable pivot either.)
            if max.is_nan() || max <= tiny {
                return Err(LinalgError::Singular { column: k });
            }
            if p != k {
                for j in 0..n {
                    lu.swap(k * n + j, p * n + j);
                }
                pivots.swap(k, p);
            }
            let pivot = lu[k * n + k];
            for i in (k + 1)..n {
                let factor = lu[i * n + k] / pivot;
                lu[i * n + k] = factor;
                if factor != 0.0 {
                    for j in (k + 1)..n {
                        lu[i * n + j] -= factor * lu[k * n + j];
                    }
                }
            }
        }
        Ok(LuFactors { n, lu, pivots })
    }

    /// Size of the system.
    pub fn n(&self) -> usize {
        self.n
    }

    /// Solves `A x = b`, overwriting `b` with `x`; `b` must have `n` entries.
    pub fn solve_in_place(&self, b: &mut [f64]) -> Result<(), LinalgError> {
        let n = self.n;
        super::same_len("right-hand side of an LU solve", n, b.len())?;
        let mut x: Vec<f64> = self.pivots.iter().map(|&p| b[p]).collect();
        for i in 0..n {
            let row = &self.lu[i * n..i * n + i];
            let s: f64 = row.iter().zip(&x[..i]).map(|(l, v)| l * v).sum();
            x[i] -= s;
        }
        for i in (0..n).rev() {
            let row = &self.lu[i * n + i + 1..(i + 1) * n];
            let s: f64 = row.iter().zip(&x[i + 1..]).map(|(u, v)| u * v).sum();
            x[i] = (x[i] - s) / self.lu[i * n + i];
        }
        b.copy_from_slice(&x);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lu_solves_a_system_that_needs_pivoting() {
        // The (0, 0) entry is zero: elimination without row exchanges would divide by it.
        let a = Matrix::from_rows(&[[0.0, 2.0, 1.0], [1.0, 1.0, 0.0], [3.0, 0.0, 1.0]]).unwrap();
        let x_true = [1.0, -2.0, 3.0];
        let mut b = a.mul_vec(&x_true).unwrap();
        LuFactors::new(&a).unwrap().solve_in_place(&mut b).unwrap();
        for (x, t) in b.iter().zip(x_true) {
            assert!((x - t).abs() < 1e-14, "{b:?}");
        }
    }

    #[test]
    fn singular_matrices_are_reported() {
        let a = Matrix::from_rows(&[[1.0, 2.0], [2.0, 4.0]]).unwrap();
        assert_eq!(LuFactors::new(&a), Err(LinalgError::Singular { column: 1 }));
        // A NaN where a pivot is sought leaves no usable pivot.
        let nan = Matrix::from_rows(&[[f64::NAN, 1.0], [f64::NAN, 1.0]]).unwrap();
        assert_eq!(
            LuFactors::new(&nan),
            Err(LinalgError::Singular { column: 0 })
        );
        assert!(matches!(
            LuFactors::new(&Matrix::zeros(2, 3)),
            Err(LinalgError::NotSquare { .. })
        ));
        let lu = LuFactors::new(&Matrix::identity(2)).unwrap();
        assert!(matches!(
            lu.solve_in_place(&mut [1.0, 2.0, 3.0]),
            Err(LinalgError::DimensionMismatch { .. })
        ));
    }

    #[test]
    fn ill_conditioned_hilbert_system_is_solved_to_its_condition() {
        // Hilbert 6×6 has condition number ~1.5e7: expect ~1e-9 relative accuracy.
        let n = 6;
        let mut a = Matrix::zeros(n, n);
        for i in 0..n {
            for j in 0..n {
                a[(i, j)] = 1.0 / (i + j + 1) as f64;
            }
        }
        let x_true: Vec<f64> = (0..n).map(|i| (i as f64 + 1.0).sqrt()).collect();
        let mut b = a.mul_vec(&x_true).unwrap();
        LuFactors::new(&a).unwrap().solve_in_place(&mut b).unwrap();
        for (x, t) in b.iter().zip(&x_true) {
            assert!((x - t).abs() < 1e-7 * t, "{x} vs {t}");
        }
    }
}
