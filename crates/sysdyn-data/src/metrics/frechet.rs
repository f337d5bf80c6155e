//! Fréchet distance between Gaussian fits of two feature sets.
//!
//! Given features of real and generated samples in some feature space (a classifier's
//! penultimate layer, say), fit a Gaussian to each set and compare them with the 2-Wasserstein
//! (Fréchet) distance between Gaussians,
//!
//! `d² = ‖μ₁ − μ₂‖² + tr(Σ₁ + Σ₂ − 2 (Σ₁^{1/2} Σ₂ Σ₁^{1/2})^{1/2})`.
//!
//! The number depends entirely on the feature extractor: report it as "the Fréchet distance in
//! the feature space of classifier X", and compare only numbers computed with the same
//! classifier and sample sizes (the estimate is biased upwards for small sets).

use sysdyn_core::linalg::{LinalgError, Matrix};

use crate::error::{DataError, rows_of};

/// Mean and covariance of a feature set.
#[derive(Debug, Clone, PartialEq)]
pub struct GaussianFit {
    /// Mean, `dim` values.
    pub mean: Vec<f64>,
    /// Unbiased sample covariance (divided by `n − 1`), `dim × dim`.
    pub covariance: Matrix,
}

impl GaussianFit {
    /// The fit to `features` (row-major `n × dim`, `n ≥ 2`).
    pub fn new(features: &[f64], dim: usize) -> Result<Self, DataError> {
        let n = rows_of("Gaussian fit features", features, dim, 2)?;
        let mut mean = vec![0.0; dim];
        for row in features.chunks_exact(dim) {
            for (m, v) in mean.iter_mut().zip(row) {
                *m += v;
            }
        }
        mean.iter_mut().for_each(|m| *m /= n as f64);
        let mut covariance = Matrix::zeros(dim, dim);
        for row in features.chunks_exact(dim) {
            for i in 0..dim {
                let di = row[i] - mean[i];
                for j in i..dim {
                    covariance[(i, j)] += di * (row[j] - mean[j]);
                }
            }
        }
        for i in 0..dim {
            for j in i..dim {
                let c = covariance[(i, j)] / (n - 1) as f64;
                covariance[(i, j)] = c;
                covariance[(j, i)] = c;
            }
        }
        Ok(GaussianFit { mean, covariance })
    }
}

/// The Fréchet distance (squared 2-Wasserstein distance) between the Gaussian fits of two
/// feature sets, row-major `n × dim` and `m × dim` (at least two rows each).
///
/// ```
/// use sysdyn_data::metrics::frechet_distance;
///
/// // 1D: (μ₁ − μ₂)² + (σ₁ − σ₂)² with sample means 0 and 3, sample standard deviations 1 and 2.
/// let a = [-0.5f64.sqrt(), 0.5f64.sqrt()];
/// let b = [3.0 - 2f64.sqrt(), 3.0 + 2f64.sqrt()];
/// let d = frechet_distance(&a, &b, 1)?;
/// assert!((d - (9.0 + 1.0)).abs() < 1e-12);
/// # Ok::<(), sysdyn_data::DataError>(())
/// ```
pub fn frechet_distance(a: &[f64], b: &[f64], dim: usize) -> Result<f64, DataError> {
    let fa = GaussianFit::new(a, dim)?;
    let fb = GaussianFit::new(b, dim)?;
    frechet_distance_gaussians(&fa, &fb)
}

/// The Fréchet distance between two Gaussians of the same dimension (covariances symmetric
/// positive semi-definite; tiny negative eigenvalues from rounding are treated as zero).
pub fn frechet_distance_gaussians(a: &GaussianFit, b: &GaussianFit) -> Result<f64, DataError> {
    let dim = a.mean.len();
    for (fit, name) in [(a, "first"), (b, "second")] {
        let c = &fit.covariance;
        if fit.mean.len() != dim || c.rows() != dim || c.cols() != dim {
            return Err(DataError::Shape {
                context: "Fréchet distance",
                expected: format!("a mean of {dim} values and a {dim} × {dim} covariance"),
                got: format!(
                    "{name} Gaussian: mean of {}, covariance {} × {}",
                    fit.mean.len(),
                    c.rows(),
                    c.cols()
                ),
            });
        }
        if let Some(index) = fit
            .mean
            .iter()
            .chain(c.as_slice())
            .position(|v| !v.is_finite())
        {
            return Err(DataError::NonFinite {
                context: "Fréchet distance Gaussian",
                index,
            });
        }
    }
    let mean_term: f64 = a
        .mean
        .iter()
        .zip(&b.mean)
        .map(|(x, y)| (x - y) * (x - y))
        .sum();
    let root_a = psd_sqrt(&a.covariance)?;
    let middle = symmetrised(&root_a.matmul(&b.covariance)?.matmul(&root_a)?);
    let (eigenvalues, _) = symmetric_eigen(&middle)?;
    let trace_root: f64 = eigenvalues.iter().map(|l| l.max(0.0).sqrt()).sum();
    let d = mean_term + a.covariance.trace() + b.covariance.trace() - 2.0 * trace_root;
    Ok(d.max(0.0))
}

fn symmetrised(m: &Matrix) -> Matrix {
    let mut s = m.clone();
    for i in 0..m.rows() {
        for j in 0..m.cols() {
            s[(i, j)] = 0.5 * (m[(i, j)] + m[(j, i)]);
        }
    }
    s
}

/// The square root of a symmetric positive semi-definite matrix, `V diag(√λ) Vᵀ`.
pub(crate) fn psd_sqrt(m: &Matrix) -> Result<Matrix, DataError> {
    let (values, vectors) = symmetric_eigen(m)?;
    let n = m.rows();
    let mut root = Matrix::zeros(n, n);
    for (k, l) in values.iter().enumerate() {
        let s = l.max(0.0).sqrt();
        for i in 0..n {
            let vik = vectors[(i, k)] * s;
            for j in 0..n {
                root[(i, j)] += vik * vectors[(j, k)];
            }
        }
    }
    Ok(root)
}

/// Eigenvalues and eigenvectors (the columns of the returned matrix) of a symmetric matrix by
/// cyclic Jacobi rotations: `m = V diag(λ) Vᵀ`, accurate to rounding. `O(n³)` per sweep, a few
/// sweeps; meant for the covariances of feature sets (up to a few hundred dimensions).
pub(crate) fn symmetric_eigen(m: &Matrix) -> Result<(Vec<f64>, Matrix), DataError> {
    let n = m.rows();
    if m.cols() != n {
        return Err(LinalgError::NotSquare {
            context: "symmetric eigen-decomposition",
            rows: n,
            cols: m.cols(),
        }
        .into());
    }
    if let Some(component) = m.as_slice().iter().position(|v| !v.is_finite()) {
        return Err(LinalgError::NonFinite {
            context: "symmetric eigen-decomposition",
            component,
        }
        .into());
    }
    let mut a = symmetrised(m);
    let mut v = Matrix::identity(n);
    let norm2: f64 = a.as_slice().iter().map(|x| x * x).sum();
    const SWEEPS: usize = 100;
    for _ in 0..SWEEPS {
        let mut off = 0.0;
        for p in 0..n {
            for q in p + 1..n {
                off += a[(p, q)] * a[(p, q)];
            }
        }
        if off <= 1e-30 * norm2 || off == 0.0 {
            let values = (0..n).map(|i| a[(i, i)]).collect();
            return Ok((values, v));
        }
        for p in 0..n {
            for q in p + 1..n {
                let apq = a[(p, q)];
                if apq == 0.0 {
                    continue;
                }
                let theta = (a[(q, q)] - a[(p, p)]) / (2.0 * apq);
                let t = if theta.abs() > 1e150 {
                    0.5 / theta
                } else {
                    theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt())
                };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for k in 0..n {
                    let (akp, akq) = (a[(k, p)], a[(k, q)]);
                    a[(k, p)] = c * akp - s * akq;
                    a[(k, q)] = s * akp + c * akq;
                }
                for k in 0..n {
                    let (apk, aqk) = (a[(p, k)], a[(q, k)]);
                    a[(p, k)] = c * apk - s * aqk;
                    a[(q, k)] = s * apk + c * aqk;
                }
                for k in 0..n {
                    let (vkp, vkq) = (v[(k, p)], v[(k, q)]);
                    v[(k, p)] = c * vkp - s * vkq;
                    v[(k, q)] = s * vkp + c * vkq;
                }
            }
        }
    }
    Err(LinalgError::EigenNoConvergence {
        size: n,
        iterations: SWEEPS,
    }
    .into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use sysdyn_core::rng::SeededRng;

    fn random_spd(n: usize, rng: &mut SeededRng) -> Matrix {
        let b = Matrix::from_row_major(n, n, rng.normals(n * n)).unwrap();
        let mut m = b.matmul(&b.transpose()).unwrap();
        for i in 0..n {
            m[(i, i)] += 0.1;
        }
        m
    }

    #[test]
    fn jacobi_reconstructs_the_matrix_with_orthonormal_vectors() {
        let mut rng = SeededRng::new(4);
        for n in [1, 2, 5, 12] {
            let m = random_spd(n, &mut rng);
            let (values, v) = symmetric_eigen(&m).unwrap();
            let vd = v.matmul(&Matrix::from_diagonal(&values)).unwrap();
            let back = vd.matmul(&v.transpose()).unwrap();
            let vtv = v.transpose().matmul(&v).unwrap();
            for i in 0..n {
                for j in 0..n {
                    assert!((back[(i, j)] - m[(i, j)]).abs() < 1e-10 * (1.0 + m[(i, j)].abs()));
                    let id = if i == j { 1.0 } else { 0.0 };
                    assert!((vtv[(i, j)] - id).abs() < 1e-12);
                }
            }
            let root = psd_sqrt(&m).unwrap();
            let square = root.matmul(&root).unwrap();
            for (x, y) in square.as_slice().iter().zip(m.as_slice()) {
                assert!((x - y).abs() < 1e-9 * (1.0 + y.abs()));
            }
        }
        // Exactly diagonal and repeated eigenvalues.
        let (values, _) = symmetric_eigen(&Matrix::identity(3)).unwrap();
        assert_eq!(values, vec![1.0; 3]);
        assert!(symmetric_eigen(&Matrix::zeros(2, 3)).is_err());
    }

    #[test]
    fn trace_root_equals_the_eigenvalues_of_the_product() {
        // tr (Σ₁^{1/2} Σ₂ Σ₁^{1/2})^{1/2} = Σ √λ(Σ₁Σ₂): the general QR eigenvalues of the
        // (non-symmetric) product are an independent check.
        let mut rng = SeededRng::new(9);
        let n = 6;
        let (s1, s2) = (random_spd(n, &mut rng), random_spd(n, &mut rng));
        let a = GaussianFit {
            mean: vec![0.0; n],
            covariance: s1.clone(),
        };
        let b = GaussianFit {
            mean: vec![0.0; n],
            covariance: s2.clone(),
        };
        let d = frechet_distance_gaussians(&a, &b).unwrap();
        let product = s1.matmul(&s2).unwrap();
        let roots: f64 = product
            .eigenvalues()
            .unwrap()
            .iter()
            .map(|l| l.re.max(0.0).sqrt())
            .sum();
        let expected = s1.trace() + s2.trace() - 2.0 * roots;
        assert!(
            (d - expected).abs() < 1e-8 * (1.0 + expected.abs()),
            "{d} {expected}"
        );
        assert!(frechet_distance_gaussians(&a, &a).unwrap() < 1e-9);
    }
}
