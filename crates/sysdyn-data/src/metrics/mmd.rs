//! Maximum mean discrepancy with a Gaussian kernel.

use crate::error::{DataError, rows_of};
use crate::metrics::modes::squared_distance;

/// The unbiased estimate of the squared maximum mean discrepancy between the distributions of
/// `x` and `y` (row-major `n × dim` and `m × dim`, at least two rows each), with the Gaussian
/// kernel `k(a, b) = exp(−‖a − b‖² / (2h²))` of bandwidth `h`:
///
/// `MMD²ᵤ = Σ_{i≠j} k(xᵢ, xⱼ) / (n(n−1)) + Σ_{i≠j} k(yᵢ, yⱼ) / (m(m−1)) − 2 Σ_{i,j} k(xᵢ, yⱼ) / (nm)`.
///
/// Its expectation is the population `MMD²`, zero exactly when the distributions are equal, so
/// the estimate can be slightly negative for two samples of one distribution. Cost `O((n + m)²)`
/// kernel evaluations. [`median_bandwidth`] gives the usual data-dependent `h`.
///
/// ```
/// use sysdyn_data::metrics::mmd_squared;
///
/// let x = [0.0, 0.1, 0.2, 0.3];
/// let y = [5.0, 5.1, 5.2];
/// // Far-apart sets: the cross term vanishes and the within-set terms are near 1.
/// let mmd2 = mmd_squared(&x, &y, 1, 0.5)?;
/// assert!(mmd2 > 1.8);
/// # Ok::<(), sysdyn_data::DataError>(())
/// ```
pub fn mmd_squared(x: &[f64], y: &[f64], dim: usize, bandwidth: f64) -> Result<f64, DataError> {
    let n = rows_of("MMD: first sample set", x, dim, 2)?;
    let m = rows_of("MMD: second sample set", y, dim, 2)?;
    if !(bandwidth > 0.0 && bandwidth.is_finite()) {
        return Err(DataError::InvalidArgument {
            context: "MMD bandwidth",
            reason: format!(
                "{bandwidth} is not a positive finite number (median_bandwidth gives one)"
            ),
        });
    }
    let scale = -0.5 / (bandwidth * bandwidth);
    let kernel = |a: &[f64], b: &[f64]| (scale * squared_distance(a, b)).exp();
    let within = |z: &[f64], count: usize| {
        let mut sum = 0.0;
        for (i, a) in z.chunks_exact(dim).enumerate() {
            for b in z.chunks_exact(dim).skip(i + 1) {
                sum += kernel(a, b);
            }
        }
        2.0 * sum / (count as f64 * (count - 1) as f64)
    };
    let mut cross = 0.0;
    for a in x.chunks_exact(dim) {
        for b in y.chunks_exact(dim) {
            cross += kernel(a, b);
        }
    }
    Ok(within(x, n) + within(y, m) - 2.0 * cross / (n as f64 * m as f64))
}

/// The median heuristic for the kernel bandwidth: the median Euclidean distance between the
/// points of `x` and `y` pooled (row-major, `dim` columns, at least two points in all), over at
/// most the first 1000 points.
pub fn median_bandwidth(x: &[f64], y: &[f64], dim: usize) -> Result<f64, DataError> {
    rows_of("median bandwidth: first sample set", x, dim, 0)?;
    rows_of("median bandwidth: second sample set", y, dim, 0)?;
    let points: Vec<&[f64]> = x
        .chunks_exact(dim)
        .chain(y.chunks_exact(dim))
        .take(1000)
        .collect();
    let mut distances = Vec::with_capacity(points.len() * points.len() / 2);
    for (i, a) in points.iter().enumerate() {
        for b in &points[i + 1..] {
            distances.push(squared_distance(a, b).sqrt());
        }
    }
    if distances.is_empty() {
        return Err(DataError::InvalidArgument {
            context: "median bandwidth",
            reason: "need at least two points in all".into(),
        });
    }
    distances.sort_by(f64::total_cmp);
    let median = distances[distances.len() / 2];
    if median > 0.0 {
        Ok(median)
    } else {
        Err(DataError::InvalidArgument {
            context: "median bandwidth",
            reason: "more than half the pairs of points coincide; give a bandwidth directly".into(),
        })
    }
}
