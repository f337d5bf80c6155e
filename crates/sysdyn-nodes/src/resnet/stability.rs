//! Stability diagnostics of depth-as-time networks.
//!
//! A layer `Y ← Y + h σ(Y K + b)` linearised about a point with `σ' ≈ 1` is `Y ← Y (I + h K)`:
//! perturbations grow through depth when some eigenvalue `λ` of `K` has `|1 + h λ| > 1` (the
//! forward Euler stability condition) and, in the continuous limit, when `Re λ > 0`. A network
//! is well posed as a forward problem when `Re λ ≈ 0`: information neither explodes nor decays.
//! [`perturbation_growth`] measures the same thing without linearising.

use burn::tensor::Tensor;
use sysdyn_core::State;
use sysdyn_core::linalg::{Complex, LinalgError, Matrix};

use super::DepthNetwork;
use super::error::{ResNetError, shape_error};

/// The eigenvalues of a small dense real `n × n` matrix given row-major, sorted by decreasing
/// real part (complex pairs as `a+bi`, `a−bi`).
///
/// The matrix is written `c I + s A` with `c = trace/n` and `s` the Frobenius norm of the rest,
/// and the QR iteration runs on `A`: matrices close to a multiple of the identity (a recurrence
/// Jacobian with a closed gate, `I + O(ε)`) would otherwise look converged to round-off before
/// their small spread is resolved. `eig = c + s eig(A)`.
pub fn eigenvalues(values: &[f64], n: usize) -> Result<Vec<Complex>, ResNetError> {
    if values.len() != n * n {
        return Err(shape_error(
            "matrix",
            format!("must hold n² = {} values", n * n),
            vec![values.len()],
        ));
    }
    let eig = |e: LinalgError| ResNetError::Eigen {
        layer: 0,
        reason: e.to_string(),
    };
    if n == 0 {
        return Ok(Vec::new());
    }
    let shift = (0..n).map(|i| values[i * n + i]).sum::<f64>() / n as f64;
    let mut rest = values.to_vec();
    for i in 0..n {
        rest[i * n + i] -= shift;
    }
    let scale = rest.iter().map(|v| v * v).sum::<f64>().sqrt();
    if !scale.is_finite() || !shift.is_finite() {
        return Err(ResNetError::Eigen {
            layer: 0,
            reason: "the matrix has non-finite entries".to_string(),
        });
    }
    if scale == 0.0 {
        return Ok(vec![Complex::real(shift); n]);
    }
    rest.iter_mut().for_each(|v| *v /= scale);
    let mut eigenvalues = Matrix::from_row_major(n, n, rest)
        .map_err(eig)?
        .eigenvalues()
        .map_err(eig)?;
    for l in &mut eigenvalues {
        *l = Complex::new(shift + scale * l.re, scale * l.im);
    }
    Ok(eigenvalues)
}

/// The eigenvalues of every layer matrix of the network (`K_j` after its parameterisation).
pub fn layer_spectra<N: DepthNetwork>(network: &N) -> Result<Vec<Vec<Complex>>, ResNetError> {
    network
        .layer_matrices()
        .iter()
        .enumerate()
        .map(|(layer, k)| {
            let [rows, cols] = k.dims();
            if rows != cols {
                return Err(shape_error(
                    "layer matrix",
                    "must be square",
                    vec![rows, cols],
                ));
            }
            eigenvalues(&k.to_f64_vec(), rows).map_err(|e| match e {
                ResNetError::Eigen { reason, .. } => ResNetError::Eigen { layer, reason },
                other => other,
            })
        })
        .collect()
}

/// `max_λ |1 + h λ|`: the forward Euler amplification of the linearised layer; at most one when
/// the layer is stable.
pub fn forward_euler_amplification(eigenvalues: &[Complex], h: f64) -> f64 {
    eigenvalues
        .iter()
        .map(|l| (1.0 + h * l.re).hypot(h * l.im))
        .fold(0.0, f64::max)
}

/// Whether every layer satisfies `max |1 + h λ| ≤ 1 + slack`.
pub fn forward_euler_stable<N: DepthNetwork>(network: &N, slack: f64) -> Result<bool, ResNetError> {
    let h = network.step_size();
    Ok(layer_spectra(network)?
        .iter()
        .all(|eig| forward_euler_amplification(eig, h) <= 1.0 + slack))
}

/// The root-mean-square distance of the rows of `y` (samples) from their mean: the spread of a
/// batch of points.
pub fn spread(y: &Tensor<2>) -> f64 {
    let [batch, n] = y.dims();
    let values = y.to_f64_vec();
    let mut mean = vec![0.0; n];
    for row in values.chunks(n) {
        for (m, v) in mean.iter_mut().zip(row) {
            *m += v / batch as f64;
        }
    }
    let sum_sq: f64 = values
        .chunks(n)
        .map(|row| {
            row.iter()
                .zip(&mean)
                .map(|(v, m)| (v - m).powi(2))
                .sum::<f64>()
        })
        .sum();
    (sum_sq / batch as f64).sqrt()
}

/// `‖Y_j(y0 + δ) − Y_j(y0)‖_F / ‖δ‖_F` for `j = 0, …, N`: how a perturbation of the input grows
/// or decays through depth (no linearisation).
pub fn perturbation_growth<N: DepthNetwork>(
    network: &N,
    y0: Tensor<2>,
    delta: Tensor<2>,
) -> Result<Vec<f64>, ResNetError> {
    if delta.dims() != y0.dims() {
        return Err(shape_error(
            "perturbation",
            format!("must have the input's shape {:?}", y0.dims()),
            delta.dims().to_vec(),
        ));
    }
    let size = delta.to_f64_vec().iter().map(|v| v * v).sum::<f64>().sqrt();
    if !(size.is_finite() && size > 0.0) {
        return Err(ResNetError::Invalid {
            what: "perturbation",
            reason: format!("its norm must be positive and finite, got {size}"),
        });
    }
    let base = network.states(y0.clone())?;
    let perturbed = network.states(y0 + delta)?;
    Ok(base
        .iter()
        .zip(&perturbed)
        .map(|(a, b)| {
            let d = (b.clone() - a.clone()).to_f64_vec();
            d.iter().map(|v| v * v).sum::<f64>().sqrt() / size
        })
        .collect())
}
