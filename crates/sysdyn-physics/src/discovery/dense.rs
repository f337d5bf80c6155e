//! The dense linear algebra of equation discovery, on faer: views of the row-major
//! [`Matrix`] and the symmetric positive definite solves of ridge regression.

use faer::linalg::solvers::Solve;
use faer::{Mat, MatRef, Side};
use sysdyn_core::linalg::Matrix;

use crate::PhysicsError;

/// A faer view of a row-major matrix (no copy).
pub(crate) fn view(m: &Matrix) -> MatRef<'_, f64> {
    MatRef::from_row_major_slice(m.as_slice(), m.rows(), m.cols())
}

/// A faer matrix into a row-major [`Matrix`].
pub(crate) fn to_matrix(m: MatRef<'_, f64>) -> Matrix {
    let mut out = Matrix::zeros(m.nrows(), m.ncols());
    for i in 0..m.nrows() {
        for j in 0..m.ncols() {
            out[(i, j)] = m[(i, j)];
        }
    }
    out
}

/// Solves `A x = b` for a symmetric positive (semi)definite `A` (`n × n`, column-major faer) and
/// several right-hand sides: Cholesky `A = L Lᵀ`, and when that breaks down (a singular Gram
/// matrix: collinear candidate functions without ridge) a least-squares solve by column-pivoted
/// QR of `A`, which gives a solution whatever the rank.
pub(crate) fn solve_spd(a: MatRef<'_, f64>, b: MatRef<'_, f64>) -> Result<Mat<f64>, PhysicsError> {
    let x = match a.llt(Side::Lower) {
        Ok(llt) => llt.solve(b),
        Err(_) => {
            use faer::linalg::solvers::SolveLstsq;
            a.col_piv_qr().solve_lstsq(b)
        }
    };
    if let Some(bad) = (0..x.ncols())
        .flat_map(|j| (0..x.nrows()).map(move |i| (i, j)))
        .position(|(i, j)| !x[(i, j)].is_finite())
    {
        return Err(PhysicsError::Linalg(format!(
            "the normal equations gave a non-finite coefficient (entry {bad}); the candidate \
             functions are (nearly) collinear: add ridge regularisation (α > 0) or normalise \
             the columns"
        )));
    }
    Ok(x)
}
