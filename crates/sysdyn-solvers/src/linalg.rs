//! Dense linear algebra on the host in `f64`, for the Newton iterations of implicit methods.
//!
//! Implicit methods solve `(I - h γ J) Δ = r` with `J = ∂f/∂y`. Whatever the state type (an
//! array, a vector, a tensor on a GPU), that system is assembled and factorised here, on the host,
//! densely: memory grows as `n²` and a factorisation costs about `⅔ n³` flops. That is the right
//! tool for small stiff systems — chemical kinetics, circuits, a few hundred unknowns at most — and
//! the wrong one for discretised PDEs with thousands of unknowns, which need sparse or matrix-free
//! (Krylov) solvers.

use std::ops::{Index, IndexMut};

use thiserror::Error;

/// A square `n × n` matrix of `f64`, stored row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct DenseMatrix {
    n: usize,
    data: Vec<f64>,
}

impl DenseMatrix {
    /// The `n × n` zero matrix.
    pub fn zeros(n: usize) -> Self {
        DenseMatrix {
            n,
            data: vec![0.0; n * n],
        }
    }

    /// The `n × n` identity.
    pub fn identity(n: usize) -> Self {
        let mut m = Self::zeros(n);
        for i in 0..n {
            m[(i, i)] = 1.0;
        }
        m
    }

    /// A matrix from its rows; `None` unless every row has as many entries as there are rows.
    pub fn from_rows(rows: &[&[f64]]) -> Option<Self> {
        let n = rows.len();
        if rows.iter().any(|r| r.len() != n) {
            return None;
        }
        Some(DenseMatrix {
            n,
            data: rows.iter().flat_map(|r| r.iter().copied()).collect(),
        })
    }

    /// Number of rows (and columns).
    pub fn n(&self) -> usize {
        self.n
    }

    /// The entries, row-major.
    pub fn as_slice(&self) -> &[f64] {
        &self.data
    }

    /// The entries, row-major, mutably.
    pub fn as_mut_slice(&mut self) -> &mut [f64] {
        &mut self.data
    }

    /// Sets every entry to zero.
    pub fn fill_zero(&mut self) {
        self.data.iter_mut().for_each(|v| *v = 0.0);
    }

    /// `self · x`.
    pub fn mul_vec(&self, x: &[f64]) -> Vec<f64> {
        self.data
            .chunks_exact(self.n.max(1))
            .take(self.n)
            .map(|row| row.iter().zip(x).map(|(a, b)| a * b).sum())
            .collect()
    }

    /// Index of the first entry that is NaN or infinite, as `(row, column)`.
    pub fn first_non_finite(&self) -> Option<(usize, usize)> {
        self.data
            .iter()
            .position(|v| !v.is_finite())
            .map(|k| (k / self.n, k % self.n))
    }
}

impl Index<(usize, usize)> for DenseMatrix {
    type Output = f64;

    #[inline]
    fn index(&self, (i, j): (usize, usize)) -> &f64 {
        &self.data[i * self.n + j]
    }
}

impl IndexMut<(usize, usize)> for DenseMatrix {
    #[inline]
    fn index_mut(&mut self, (i, j): (usize, usize)) -> &mut f64 {
        &mut self.data[i * self.n + j]
    }
}

/// A matrix that has no LU factorisation with partial pivoting (a zero pivot).
#[derive(Debug, Clone, Copy, PartialEq, Error)]
#[error("the matrix is singular to working precision (zero pivot in column {column})")]
pub struct SingularMatrix {
    /// The column where elimination found no non-zero pivot.
    pub column: usize,
}

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
    pub fn new(matrix: &DenseMatrix) -> Result<Self, SingularMatrix> {
        let n = matrix.n;
        let mut lu = matrix.data.clone();
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
                return Err(SingularMatrix { column: k });
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

    /// Solves `A x = b`, overwriting `b` with `x`.
    pub fn solve_in_place(&self, b: &mut [f64]) {
        let n = self.n;
        assert_eq!(
            b.len(),
            n,
            "LuFactors::solve_in_place: right-hand side length"
        );
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
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lu_solves_a_system_that_needs_pivoting() {
        // The (0, 0) entry is zero: elimination without row exchanges would divide by it.
        let a = DenseMatrix::from_rows(&[&[0.0, 2.0, 1.0], &[1.0, 1.0, 0.0], &[3.0, 0.0, 1.0]])
            .unwrap();
        let x_true = [1.0, -2.0, 3.0];
        let mut b = a.mul_vec(&x_true);
        LuFactors::new(&a).unwrap().solve_in_place(&mut b);
        for (x, t) in b.iter().zip(x_true) {
            assert!((x - t).abs() < 1e-14, "{b:?}");
        }
    }

    #[test]
    fn singular_matrices_are_reported() {
        let a = DenseMatrix::from_rows(&[&[1.0, 2.0], &[2.0, 4.0]]).unwrap();
        assert_eq!(LuFactors::new(&a), Err(SingularMatrix { column: 1 }));
        assert!(DenseMatrix::from_rows(&[&[1.0, 2.0], &[3.0]]).is_none());
    }

    #[test]
    fn ill_conditioned_hilbert_system_is_solved_to_its_condition() {
        // Hilbert 6×6 has condition number ~1.5e7: expect ~1e-9 relative accuracy.
        let n = 6;
        let mut a = DenseMatrix::zeros(n);
        for i in 0..n {
            for j in 0..n {
                a[(i, j)] = 1.0 / (i + j + 1) as f64;
            }
        }
        let x_true: Vec<f64> = (0..n).map(|i| (i as f64 + 1.0).sqrt()).collect();
        let mut b = a.mul_vec(&x_true);
        LuFactors::new(&a).unwrap().solve_in_place(&mut b);
        for (x, t) in b.iter().zip(&x_true) {
            assert!((x - t).abs() < 1e-7 * t, "{x} vs {t}");
        }
    }
}
