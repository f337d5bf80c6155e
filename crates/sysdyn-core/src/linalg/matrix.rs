//! Small dense real matrices and their (possibly complex) eigenvalues.
//!
//! The analyses of sysdyn need the spectrum of a few-by-few matrix: the eigenvalues of a game's
//! Jacobian tell whether simultaneous play spirals out, those of an iteration matrix give a
//! method's linear rate, those of a ResNet layer whether a network is stable. The routine is
//! the classical one: balance, reduce to upper Hessenberg form with Householder reflections,
//! then run Francis double-shift QR steps until the matrix splits into 1x1 blocks (real
//! eigenvalues) and 2x2 blocks (read in closed form: a complex-conjugate pair or two reals).
//! Its cost is O(n³); it is meant for n up to a few hundred at most.

use std::fmt;
use std::ops::{Index, IndexMut};

use super::{LinalgError, finite, same_len};

/// A complex number, as eigenvalues of real matrices may be.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Complex {
    /// Real part.
    pub re: f64,
    /// Imaginary part.
    pub im: f64,
}

impl Complex {
    /// `re + i im`.
    pub fn new(re: f64, im: f64) -> Self {
        Complex { re, im }
    }

    /// A real number.
    pub fn real(re: f64) -> Self {
        Complex { re, im: 0.0 }
    }

    /// The modulus `|z|`.
    pub fn abs(self) -> f64 {
        self.re.hypot(self.im)
    }

    /// Whether the imaginary part is zero.
    pub fn is_real(self) -> bool {
        self.im == 0.0
    }
}

impl fmt::Display for Complex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.im >= 0.0 {
            write!(f, "{}+{}i", self.re, self.im)
        } else {
            write!(f, "{}-{}i", self.re, -self.im)
        }
    }
}

/// A dense real matrix, row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct Matrix {
    rows: usize,
    cols: usize,
    data: Vec<f64>,
}

impl Matrix {
    /// A `rows x cols` matrix of zeros.
    pub fn zeros(rows: usize, cols: usize) -> Self {
        Matrix {
            rows,
            cols,
            data: vec![0.0; rows * cols],
        }
    }

    /// The `n x n` identity.
    pub fn identity(n: usize) -> Self {
        Self::from_diagonal(&vec![1.0; n])
    }

    /// A square diagonal matrix.
    pub fn from_diagonal(diagonal: &[f64]) -> Self {
        let n = diagonal.len();
        let mut m = Self::zeros(n, n);
        for (i, &d) in diagonal.iter().enumerate() {
            m[(i, i)] = d;
        }
        m
    }

    /// A matrix from row-major values.
    pub fn from_row_major(rows: usize, cols: usize, data: Vec<f64>) -> Result<Self, LinalgError> {
        same_len("matrix values", rows * cols, data.len())?;
        Ok(Matrix { rows, cols, data })
    }

    /// A matrix from its rows (all of the same length).
    pub fn from_rows<R: AsRef<[f64]>>(rows: &[R]) -> Result<Self, LinalgError> {
        let cols = rows.first().map_or(0, |r| r.as_ref().len());
        let mut data = Vec::with_capacity(rows.len() * cols);
        for row in rows {
            same_len("matrix row", cols, row.as_ref().len())?;
            data.extend_from_slice(row.as_ref());
        }
        Ok(Matrix {
            rows: rows.len(),
            cols,
            data,
        })
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Number of columns.
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// The values, row-major.
    pub fn as_slice(&self) -> &[f64] {
        &self.data
    }

    /// The values, row-major, mutably.
    pub fn as_mut_slice(&mut self) -> &mut [f64] {
        &mut self.data
    }

    /// Sets every entry to `value` (a workspace reused between Jacobians, say).
    pub fn fill(&mut self, value: f64) {
        self.data.fill(value);
    }

    /// The first entry that is NaN or infinite, as `(row, column)`.
    pub fn first_non_finite(&self) -> Option<(usize, usize)> {
        self.data
            .iter()
            .position(|v| !v.is_finite())
            .map(|k| (k / self.cols.max(1), k % self.cols.max(1)))
    }

    /// The transpose.
    pub fn transpose(&self) -> Matrix {
        let mut t = Matrix::zeros(self.cols, self.rows);
        for i in 0..self.rows {
            for j in 0..self.cols {
                t[(j, i)] = self[(i, j)];
            }
        }
        t
    }

    /// `self * x`.
    pub fn mul_vec(&self, x: &[f64]) -> Result<Vec<f64>, LinalgError> {
        same_len("matrix-vector product", self.cols, x.len())?;
        Ok(self
            .data
            .chunks(self.cols.max(1))
            .take(self.rows)
            .map(|row| row.iter().zip(x).map(|(a, b)| a * b).sum())
            .collect())
    }

    /// `self * other`.
    pub fn matmul(&self, other: &Matrix) -> Result<Matrix, LinalgError> {
        same_len("matrix product", self.cols, other.rows)?;
        let mut out = Matrix::zeros(self.rows, other.cols);
        for i in 0..self.rows {
            for k in 0..self.cols {
                let a = self[(i, k)];
                for j in 0..other.cols {
                    out[(i, j)] += a * other[(k, j)];
                }
            }
        }
        Ok(out)
    }

    /// The sum of the diagonal.
    pub fn trace(&self) -> f64 {
        (0..self.rows.min(self.cols)).map(|i| self[(i, i)]).sum()
    }

    /// The eigenvalues, sorted by decreasing real part, then decreasing imaginary part
    /// (a complex-conjugate pair appears as `a+bi`, `a-bi`).
    ///
    /// ```
    /// use sysdyn_core::linalg::Matrix;
    ///
    /// // The bilinear game's Jacobian: a rotation generator, eigenvalues ±i.
    /// let j = Matrix::from_rows(&[[0.0, 1.0], [-1.0, 0.0]])?;
    /// let eig = j.eigenvalues()?;
    /// assert_eq!((eig[0].re, eig[0].im), (0.0, 1.0));
    /// assert_eq!((eig[1].re, eig[1].im), (0.0, -1.0));
    /// # Ok::<(), sysdyn_core::linalg::LinalgError>(())
    /// ```
    pub fn eigenvalues(&self) -> Result<Vec<Complex>, LinalgError> {
        if self.rows != self.cols {
            return Err(LinalgError::NotSquare {
                context: "eigenvalues",
                rows: self.rows,
                cols: self.cols,
            });
        }
        finite("matrix for eigenvalues", &self.data)?;
        let mut h = self.clone();
        h.balance();
        h.reduce_to_hessenberg();
        let mut eig = h.hessenberg_eigenvalues()?;
        eig.sort_by(|a, b| b.re.total_cmp(&a.re).then(b.im.total_cmp(&a.im)));
        Ok(eig)
    }

    /// The largest eigenvalue modulus.
    pub fn spectral_radius(&self) -> Result<f64, LinalgError> {
        Ok(self
            .eigenvalues()?
            .iter()
            .map(|z| z.abs())
            .fold(0.0, f64::max))
    }

    /// Diagonal similarity by powers of two (exact in floating point) so that each row and its
    /// column have comparable norms; QR then loses less accuracy on badly scaled matrices.
    fn balance(&mut self) {
        let n = self.rows;
        let mut converged = false;
        while !converged {
            converged = true;
            for i in 0..n {
                let mut col = 0.0;
                let mut row = 0.0;
                for j in (0..n).filter(|&j| j != i) {
                    col += self[(j, i)].abs();
                    row += self[(i, j)].abs();
                }
                if col == 0.0 || row == 0.0 {
                    continue;
                }
                let total = col + row;
                let mut f = 1.0;
                let mut c = col;
                while c < row / 2.0 {
                    f *= 2.0;
                    c *= 4.0;
                }
                while c > row * 2.0 {
                    f /= 2.0;
                    c /= 4.0;
                }
                // Only rescale when it clearly helps, so the loop terminates.
                if (c + row) / f < 0.95 * total {
                    converged = false;
                    for j in 0..n {
                        self[(i, j)] /= f;
                        self[(j, i)] *= f;
                    }
                }
            }
        }
    }

    /// Householder similarity transforms that zero everything below the first subdiagonal.
    fn reduce_to_hessenberg(&mut self) {
        let n = self.rows;
        for k in 0..n.saturating_sub(2) {
            let scale: f64 = (k + 1..n).map(|i| self[(i, k)].abs()).sum();
            if scale == 0.0 {
                continue;
            }
            let mut v: Vec<f64> = (k + 1..n).map(|i| self[(i, k)] / scale).collect();
            let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
            let alpha = if v[0] >= 0.0 { -norm } else { norm };
            v[0] -= alpha;
            let vtv: f64 = v.iter().map(|x| x * x).sum();
            if vtv == 0.0 {
                continue;
            }
            let beta = 2.0 / vtv;
            // Left: rows k+1.., columns k...
            for j in k..n {
                let p: f64 = beta
                    * (0..v.len())
                        .map(|r| v[r] * self[(k + 1 + r, j)])
                        .sum::<f64>();
                for (r, vr) in v.iter().enumerate() {
                    self[(k + 1 + r, j)] -= p * vr;
                }
            }
            // Right: all rows, columns k+1...
            for i in 0..n {
                let p: f64 = beta
                    * (0..v.len())
                        .map(|c| self[(i, k + 1 + c)] * v[c])
                        .sum::<f64>();
                for (c, vc) in v.iter().enumerate() {
                    self[(i, k + 1 + c)] -= p * vc;
                }
            }
            self[(k + 1, k)] = alpha * scale;
            for i in k + 2..n {
                self[(i, k)] = 0.0;
            }
        }
    }

    /// Eigenvalues of an upper Hessenberg matrix by Francis double-shift QR with deflation.
    /// Only the active diagonal block is transformed: eigenvalues are all that is wanted.
    fn hessenberg_eigenvalues(mut self) -> Result<Vec<Complex>, LinalgError> {
        let n = self.rows;
        let mut eig = Vec::with_capacity(n);
        if n == 0 {
            return Ok(eig);
        }
        let norm: f64 = self.data.iter().map(|x| x.abs()).sum();
        let max_iterations = 60 * n.max(2);
        let mut total_iterations = 0;
        let mut since_deflation = 0;
        let mut hi = n - 1;
        loop {
            // Find the top `lo` of the unreduced block ending at `hi`.
            let mut lo = hi;
            while lo > 0 {
                let mut s = self[(lo - 1, lo - 1)].abs() + self[(lo, lo)].abs();
                if s == 0.0 {
                    s = norm;
                }
                if self[(lo, lo - 1)].abs() <= f64::EPSILON * s {
                    self[(lo, lo - 1)] = 0.0;
                    break;
                }
                lo -= 1;
            }
            if lo == hi {
                eig.push(Complex::real(self[(hi, hi)]));
                since_deflation = 0;
                if hi == 0 {
                    break;
                }
                hi -= 1;
                continue;
            }
            if lo + 1 == hi {
                let [a, b] = two_by_two_eigenvalues(
                    self[(lo, lo)],
                    self[(lo, hi)],
                    self[(hi, lo)],
                    self[(hi, hi)],
                );
                eig.push(a);
                eig.push(b);
                since_deflation = 0;
                if hi < 2 {
                    break;
                }
                hi -= 2;
                continue;
            }
            total_iterations += 1;
            since_deflation += 1;
            if total_iterations > max_iterations {
                return Err(LinalgError::EigenNoConvergence {
                    size: n,
                    iterations: total_iterations,
                });
            }
            self.francis_step(lo, hi, since_deflation % 11 == 10);
        }
        Ok(eig)
    }

    /// One implicit double-shift QR step on the block `lo..=hi` (at least 3x3). The shifts are
    /// the eigenvalues of the trailing 2x2 block, or ad hoc ones (`exceptional`) to break the
    /// rare cycles of the standard shift.
    fn francis_step(&mut self, lo: usize, hi: usize, exceptional: bool) {
        let (sum, product) = if exceptional {
            let w = self[(hi, hi - 1)].abs() + self[(hi - 1, hi - 2)].abs();
            let centre = self[(hi, hi)] + 0.75 * w;
            (2.0 * centre, centre * centre + 0.4375 * w * w)
        } else {
            let (a, b) = (self[(hi - 1, hi - 1)], self[(hi - 1, hi)]);
            let (c, d) = (self[(hi, hi - 1)], self[(hi, hi)]);
            (a + d, a * d - b * c)
        };
        // First column of (H - σ1)(H - σ2) = H² - (σ1+σ2) H + σ1σ2.
        let h = |m: &Self, i: usize, j: usize| m[(i, j)];
        let mut x = h(self, lo, lo) * h(self, lo, lo) + h(self, lo, lo + 1) * h(self, lo + 1, lo)
            - sum * h(self, lo, lo)
            + product;
        let mut y = h(self, lo + 1, lo) * (h(self, lo, lo) + h(self, lo + 1, lo + 1) - sum);
        let mut z = h(self, lo + 1, lo) * h(self, lo + 2, lo + 1);
        for k in lo..=hi - 2 {
            if let Some((v, beta)) = householder(&[x, y, z]) {
                let first_col = if k > lo { k - 1 } else { lo };
                for j in first_col..=hi {
                    let p = beta
                        * (v[0] * self[(k, j)] + v[1] * self[(k + 1, j)] + v[2] * self[(k + 2, j)]);
                    self[(k, j)] -= p * v[0];
                    self[(k + 1, j)] -= p * v[1];
                    self[(k + 2, j)] -= p * v[2];
                }
                for i in lo..=(k + 3).min(hi) {
                    let p = beta
                        * (self[(i, k)] * v[0] + self[(i, k + 1)] * v[1] + self[(i, k + 2)] * v[2]);
                    self[(i, k)] -= p * v[0];
                    self[(i, k + 1)] -= p * v[1];
                    self[(i, k + 2)] -= p * v[2];
                }
                if k > lo {
                    // The reflection chased the bulge: these are zero up to rounding.
                    self[(k + 1, k - 1)] = 0.0;
                    self[(k + 2, k - 1)] = 0.0;
                }
            }
            x = self[(k + 1, k)];
            y = self[(k + 2, k)];
            if k + 3 <= hi {
                z = self[(k + 3, k)];
            }
        }
        if let Some((v, beta)) = householder(&[x, y]) {
            let k = hi - 1;
            for j in (k - 1)..=hi {
                let p = beta * (v[0] * self[(k, j)] + v[1] * self[(k + 1, j)]);
                self[(k, j)] -= p * v[0];
                self[(k + 1, j)] -= p * v[1];
            }
            for i in lo..=hi {
                let p = beta * (self[(i, k)] * v[0] + self[(i, k + 1)] * v[1]);
                self[(i, k)] -= p * v[0];
                self[(i, k + 1)] -= p * v[1];
            }
            self[(hi, hi - 2)] = 0.0;
        }
    }
}

/// A Householder reflection `I - β v vᵀ` mapping `a` onto a multiple of the first unit vector,
/// or `None` when `a` is zero.
fn householder<const N: usize>(a: &[f64; N]) -> Option<([f64; N], f64)> {
    let scale: f64 = a.iter().map(|x| x.abs()).sum();
    if scale == 0.0 {
        return None;
    }
    let mut v = a.map(|x| x / scale);
    let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
    let alpha = if v[0] >= 0.0 { -norm } else { norm };
    v[0] -= alpha;
    let vtv: f64 = v.iter().map(|x| x * x).sum();
    Some((v, 2.0 / vtv))
}

/// The eigenvalues of `[[a, b], [c, d]]` in closed form.
pub fn two_by_two_eigenvalues(a: f64, b: f64, c: f64, d: f64) -> [Complex; 2] {
    let mean = 0.5 * (a + d);
    let half_diff = 0.5 * (a - d);
    let disc = half_diff * half_diff + b * c;
    if disc >= 0.0 {
        let r = disc.sqrt();
        // The root of larger magnitude first, the other from the determinant: no cancellation.
        let big = if mean >= 0.0 { mean + r } else { mean - r };
        let small = if big != 0.0 {
            (a * d - b * c) / big
        } else {
            0.0
        };
        [Complex::real(big), Complex::real(small)]
    } else {
        let im = (-disc).sqrt();
        [Complex::new(mean, im), Complex::new(mean, -im)]
    }
}

impl Index<(usize, usize)> for Matrix {
    type Output = f64;

    #[inline]
    fn index(&self, (i, j): (usize, usize)) -> &f64 {
        &self.data[i * self.cols + j]
    }
}

impl IndexMut<(usize, usize)> for Matrix {
    #[inline]
    fn index_mut(&mut self, (i, j): (usize, usize)) -> &mut f64 {
        &mut self.data[i * self.cols + j]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sorted(mut v: Vec<Complex>) -> Vec<Complex> {
        v.sort_by(|a, b| b.re.total_cmp(&a.re).then(b.im.total_cmp(&a.im)));
        v
    }

    fn assert_spectrum(m: &Matrix, expected: &[Complex], tol: f64) {
        let got = m.eigenvalues().unwrap();
        let expected = sorted(expected.to_vec());
        assert_eq!(got.len(), expected.len());
        for (g, e) in got.iter().zip(&expected) {
            assert!(
                (g.re - e.re).abs() < tol && (g.im - e.im).abs() < tol,
                "got {got:?}, expected {expected:?}"
            );
        }
    }

    /// The companion matrix of the monic polynomial with the given coefficients (lowest first).
    fn companion(coeffs: &[f64]) -> Matrix {
        let n = coeffs.len();
        let mut m = Matrix::zeros(n, n);
        for i in 1..n {
            m[(i, i - 1)] = 1.0;
        }
        for (i, c) in coeffs.iter().enumerate() {
            m[(i, n - 1)] = -c;
        }
        m
    }

    #[test]
    fn closed_form_two_by_two() {
        let [a, b] = two_by_two_eigenvalues(0.0, 1.0, -1.0, 0.0);
        assert_eq!((a, b), (Complex::new(0.0, 1.0), Complex::new(0.0, -1.0)));
        let [a, b] = two_by_two_eigenvalues(2.0, 1.0, 1.0, 2.0);
        assert_eq!((a.re, b.re), (3.0, 1.0));
        // Widely separated roots keep their relative accuracy (mean - r would cancel to 0).
        let [a, b] = two_by_two_eigenvalues(1e8, 1.0, 0.0, 1e-8);
        assert_eq!(a.re, 1e8);
        assert!((b.re - 1e-8).abs() < 1e-22, "{b}");
    }

    #[test]
    fn rotation_and_diagonal_and_triangular() {
        let rot = Matrix::from_rows(&[[0.0, 1.0], [-1.0, 0.0]]).unwrap();
        assert_spectrum(
            &rot,
            &[Complex::new(0.0, 1.0), Complex::new(0.0, -1.0)],
            1e-15,
        );
        let d = Matrix::from_diagonal(&[3.0, -1.0, 2.0, 0.5]);
        let expected: Vec<_> = [3.0, -1.0, 2.0, 0.5].map(Complex::real).to_vec();
        assert_spectrum(&d, &expected, 1e-15);
        let t = Matrix::from_rows(&[
            [1.0, 5.0, -3.0, 2.0],
            [0.0, 4.0, 7.0, 1.0],
            [0.0, 0.0, -2.0, 8.0],
            [0.0, 0.0, 0.0, 0.25],
        ])
        .unwrap();
        let expected: Vec<_> = [1.0, 4.0, -2.0, 0.25].map(Complex::real).to_vec();
        assert_spectrum(&t, &expected, 1e-12);
    }

    #[test]
    fn companion_matrix_roots() {
        // (λ-1)(λ-2)(λ-3)(λ²+1) = λ⁵ - 6λ⁴ + 12λ³ - 12λ² + 11λ - 6.
        let m = companion(&[-6.0, 11.0, -12.0, 12.0, -6.0]);
        let expected = [
            Complex::real(1.0),
            Complex::real(2.0),
            Complex::real(3.0),
            Complex::new(0.0, 1.0),
            Complex::new(0.0, -1.0),
        ];
        assert_spectrum(&m, &expected, 1e-9);
        // (λ²+2λ+5)(λ²-λ+4.25): roots -1±2i and 0.5±2i.
        // = λ⁴ + λ³ + 7.25λ² + 3.5λ + 21.25
        let m = companion(&[21.25, 3.5, 7.25, 1.0]);
        let expected = [
            Complex::new(-1.0, 2.0),
            Complex::new(-1.0, -2.0),
            Complex::new(0.5, 2.0),
            Complex::new(0.5, -2.0),
        ];
        assert_spectrum(&m, &expected, 1e-10);
    }

    #[test]
    fn similarity_to_known_block_diagonal() {
        // S B S⁻¹ with B = diag(rotation-scaling block for 0.3±1.7i, -2, 5) and S unit lower
        // triangular (inverse computed exactly by forward substitution).
        let b = Matrix::from_rows(&[
            [0.3, 1.7, 0.0, 0.0],
            [-1.7, 0.3, 0.0, 0.0],
            [0.0, 0.0, -2.0, 0.0],
            [0.0, 0.0, 0.0, 5.0],
        ])
        .unwrap();
        let s = Matrix::from_rows(&[
            [1.0, 0.0, 0.0, 0.0],
            [0.5, 1.0, 0.0, 0.0],
            [-1.0, 2.0, 1.0, 0.0],
            [0.25, -0.5, 3.0, 1.0],
        ])
        .unwrap();
        let mut s_inv = Matrix::identity(4);
        for col in 0..4 {
            for i in 0..4 {
                let mut v = if i == col { 1.0 } else { 0.0 };
                for k in 0..i {
                    v -= s[(i, k)] * s_inv[(k, col)];
                }
                s_inv[(i, col)] = v;
            }
        }
        assert_eq!(s.matmul(&s_inv).unwrap(), Matrix::identity(4));
        let a = s.matmul(&b).unwrap().matmul(&s_inv).unwrap();
        let expected = [
            Complex::new(0.3, 1.7),
            Complex::new(0.3, -1.7),
            Complex::real(-2.0),
            Complex::real(5.0),
        ];
        assert_spectrum(&a, &expected, 1e-12);
    }

    #[test]
    fn random_matrices_satisfy_trace_identities() {
        // Σλ = tr A and Σλ² = tr A² (imaginary parts cancel), on seeded random matrices.
        let mut rng = crate::rng::SeededRng::new(9);
        for n in [3, 5, 8, 13] {
            for _ in 0..5 {
                let a = Matrix::from_row_major(n, n, rng.normals(n * n)).unwrap();
                let eig = a.eigenvalues().unwrap();
                assert_eq!(eig.len(), n);
                let sum_re: f64 = eig.iter().map(|z| z.re).sum();
                let sum_im: f64 = eig.iter().map(|z| z.im).sum();
                let a2 = a.matmul(&a).unwrap();
                let sq_re: f64 = eig.iter().map(|z| z.re * z.re - z.im * z.im).sum();
                let scale: f64 = a.as_slice().iter().map(|x| x.abs()).sum::<f64>();
                assert!((sum_re - a.trace()).abs() < 1e-10 * scale, "{n}: {eig:?}");
                assert!(sum_im.abs() < 1e-10 * scale);
                assert!((sq_re - a2.trace()).abs() < 1e-9 * scale * scale);
                // Complex eigenvalues come in conjugate pairs.
                for z in eig.iter().filter(|z| !z.is_real()) {
                    assert!(eig.iter().any(|w| (w.re - z.re).abs() < 1e-12 * scale
                        && (w.im + z.im).abs() < 1e-12 * scale));
                }
            }
        }
    }

    #[test]
    fn defective_and_badly_scaled() {
        let jordan =
            Matrix::from_rows(&[[2.0, 1.0, 0.0], [0.0, 2.0, 1.0], [0.0, 0.0, 2.0]]).unwrap();
        for z in jordan.eigenvalues().unwrap() {
            // A 3x3 Jordan block is ill-conditioned: errors of order eps^(1/3).
            assert!((z.re - 2.0).abs() < 1e-4 && z.im.abs() < 1e-4, "{z}");
        }
        // Diagonal scaling by 1e±6 of a matrix with eigenvalues 1, 2, 3: balancing undoes it.
        let d = [1e6, 1.0, 1e-6];
        let base = Matrix::from_rows(&[[2.0, 1.0, 0.0], [1.0, 2.0, 0.0], [0.5, 0.5, 1.0]]).unwrap();
        let mut scaled = base.clone();
        for i in 0..3 {
            for j in 0..3 {
                scaled[(i, j)] = base[(i, j)] * d[i] / d[j];
            }
        }
        let expected: Vec<_> = [3.0, 1.0, 1.0].map(Complex::real).to_vec();
        assert_spectrum(&scaled, &expected, 1e-9);
    }

    #[test]
    fn bad_inputs_are_typed_errors() {
        let m = Matrix::zeros(2, 3);
        assert!(matches!(
            m.eigenvalues(),
            Err(LinalgError::NotSquare { .. })
        ));
        let nan = Matrix::from_rows(&[[1.0, f64::NAN], [0.0, 1.0]]).unwrap();
        assert!(matches!(
            nan.eigenvalues(),
            Err(LinalgError::NonFinite { .. })
        ));
        assert!(Matrix::from_rows(&[vec![1.0, 2.0], vec![3.0]]).is_err());
        assert!(Matrix::identity(2).mul_vec(&[1.0]).is_err());
        assert!(Matrix::zeros(0, 0).eigenvalues().unwrap().is_empty());
    }
}
