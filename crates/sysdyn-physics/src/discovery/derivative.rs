//! Time derivatives of sampled signals (PySINDy's `differentiation_method`).
//!
//! SINDy regresses `ẋ` on `Θ(x)`, so `ẋ` must first be estimated from samples `xᵢ = x(tᵢ)`.
//! A [`Differentiator`] is that estimate, as data:
//!
//! - [`Differentiator::FiniteDifference`]: second-order central differences inside,
//!   `ẋᵢ ≈ (x_{i+1} − x_{i−1}) / (2h)`, and second-order one-sided differences at the ends,
//!   `ẋ₀ ≈ (−3x₀ + 4x₁ − x₂) / (2h)`; on non-uniform stamps the three-point formulas of the
//!   interpolating parabola (PySINDy's `FiniteDifference(order=2)`). Error `O(h²)`.
//! - [`Differentiator::SavitzkyGolay`]: the derivative of the least-squares polynomial of degree
//!   `order` through the `window` samples around each point (windows are shifted inwards at the
//!   ends, so the estimate is exact on every polynomial of degree ≤ `order`).
//! - [`Differentiator::SmoothedFiniteDifference`]: Savitzky–Golay smoothing of `x` (the fitted
//!   polynomial's value), then finite differences (PySINDy's `SmoothedFiniteDifference`).
//! - [`Differentiator::Spectral`]: `ẋ = F⁻¹[i ω F[x]]` for a signal periodic over its `n`
//!   samples (period `n h`); exact for every trigonometric polynomial the grid resolves.
//! - [`Differentiator::TotalVariation`]: Chartrand's total-variation regularised
//!   differentiation (Chartrand 2011, "Numerical differentiation of noisy, nonsmooth data"):
//!   `u = argmin α Σ h √((Du)² + ε) + ½ ‖A u − (x − x₀)‖²` with `A` the trapezoidal
//!   antiderivative and `D` forward differences, solved by lagged diffusivity: each iteration
//!   solves `(AᵀA + α Dᵀ E D h) u = Aᵀ(x − x₀)` with `E = diag(1/√((D u_prev)² + ε))`. Dense,
//!   `O(n³)` per iteration: meant for series up to a few thousand samples.
//!
//! All but finite differences need uniform time stamps and say so with
//! [`PhysicsError::NonUniformTimes`].
//!
//! ```
//! use sysdyn_physics::discovery::Differentiator;
//!
//! // x = t²: central differences are exact on parabolas, and so are the one-sided ends.
//! let t: Vec<f64> = (0..11).map(|i| 0.1 * i as f64).collect();
//! let x: Vec<f64> = t.iter().map(|t| t * t).collect();
//! let dx = Differentiator::FiniteDifference.differentiate(&x, &t)?;
//! assert!(dx.iter().zip(&t).all(|(d, t)| (d - 2.0 * t).abs() < 1e-12));
//! # Ok::<(), sysdyn_physics::PhysicsError>(())
//! ```

use faer::Mat;
use rayon::prelude::*;
use sysdyn_core::linalg::Matrix;
use sysdyn_core::spectral::Spectral1d;

use super::dense::solve_spd;
use crate::PhysicsError;

/// How time derivatives are estimated (see the [module docs](self)).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum Differentiator {
    /// Second-order finite differences (any time stamps).
    #[default]
    FiniteDifference,
    /// The derivative of the local least-squares polynomial.
    SavitzkyGolay {
        /// The number of samples in each fit (odd, > `order`).
        window: usize,
        /// The polynomial degree.
        order: usize,
    },
    /// Savitzky–Golay smoothing, then finite differences.
    SmoothedFiniteDifference {
        /// The number of samples in each fit (odd, > `order`).
        window: usize,
        /// The polynomial degree.
        order: usize,
    },
    /// Fourier differentiation of a periodic signal.
    Spectral,
    /// Chartrand's total-variation regularised differentiation.
    TotalVariation {
        /// The weight `α > 0` of the total variation of the derivative.
        alpha: f64,
        /// The number of lagged-diffusivity iterations.
        iterations: usize,
        /// The smoothing `ε > 0` of `|Du|` (keeps the iteration differentiable).
        epsilon: f64,
    },
}

/// Relative tolerance on steps for time stamps to count as uniform.
const UNIFORM_RTOL: f64 = 1e-6;

/// Checks time stamps (finite, strictly increasing, as many as samples) and returns the steps.
fn check_times(t: &[f64], n: usize, needed: usize) -> Result<(), PhysicsError> {
    if t.len() != n {
        return Err(PhysicsError::SizeMismatch {
            what: "time stamps (one per sample)",
            expected: n,
            got: t.len(),
        });
    }
    if n < needed {
        return Err(PhysicsError::GridTooSmall {
            what: "differentiation",
            got: n,
            needed,
        });
    }
    if let Some(index) = t.iter().position(|v| !v.is_finite()) {
        return Err(PhysicsError::NonFinite {
            what: "time stamps",
            index,
        });
    }
    if let Some(i) = t.windows(2).position(|w| w[1] <= w[0]) {
        return Err(PhysicsError::InvalidParameter {
            name: "time step",
            value: t[i + 1] - t[i],
            requirement: "time stamps must increase strictly",
        });
    }
    Ok(())
}

/// The uniform step of `t`, or [`PhysicsError::NonUniformTimes`].
pub(crate) fn uniform_step(what: &'static str, t: &[f64]) -> Result<f64, PhysicsError> {
    let first = t[1] - t[0];
    for (index, w) in t.windows(2).enumerate() {
        let step = w[1] - w[0];
        if (step - first).abs() > UNIFORM_RTOL * first.abs() {
            return Err(PhysicsError::NonUniformTimes {
                what,
                index,
                step,
                first,
            });
        }
    }
    Ok(first)
}

fn check_window(window: usize, order: usize) -> Result<(), PhysicsError> {
    if window.is_multiple_of(2) || window < 3 {
        return Err(PhysicsError::InvalidParameter {
            name: "window",
            value: window as f64,
            requirement: "an odd number of samples, at least 3",
        });
    }
    if order >= window {
        return Err(PhysicsError::InvalidParameter {
            name: "order",
            value: order as f64,
            requirement: "the polynomial degree must be below the window length",
        });
    }
    Ok(())
}

/// The weights `w` with `p⁽ᵏ⁾(position) = Σⱼ wⱼ yⱼ`, where `p` is the least-squares polynomial
/// of degree `order` through `(j, yⱼ)`, `j = 0..window` (unit spacing: divide by `hᵏ`).
///
/// With the Vandermonde matrix `V_{jm} = s_jᵐ` of the offsets `s_j` (scaled to `[−1, 1]` for
/// conditioning) the fit is `c = (VᵀV)⁻¹ Vᵀ y`, so `w = V (VᵀV)⁻¹ g` with
/// `g_m = dᵏ/dsᵏ sᵐ` at the position.
///
/// ```
/// use sysdyn_physics::discovery::savitzky_golay_weights;
///
/// // The centred first derivative of a 3-point line fit is the central difference.
/// let w = savitzky_golay_weights(3, 1, 1, 1)?;
/// assert!((w[0] + 0.5).abs() < 1e-14 && w[1].abs() < 1e-14 && (w[2] - 0.5).abs() < 1e-14);
/// # Ok::<(), sysdyn_physics::PhysicsError>(())
/// ```
pub fn savitzky_golay_weights(
    window: usize,
    order: usize,
    deriv: usize,
    position: usize,
) -> Result<Vec<f64>, PhysicsError> {
    if window < 2 || order >= window {
        return Err(PhysicsError::InvalidParameter {
            name: "order",
            value: order as f64,
            requirement: "the polynomial degree must be below the window length (≥ 2)",
        });
    }
    if position >= window {
        return Err(PhysicsError::InvalidParameter {
            name: "position",
            value: position as f64,
            requirement: "the evaluation point must lie in the window",
        });
    }
    let half = (window - 1) as f64 / 2.0;
    let s = |j: usize| (j as f64 - half) / half;
    let m = order + 1;
    let v = Mat::from_fn(window, m, |j, k| s(j).powi(k as i32));
    let gram = v.transpose() * &v;
    let s0 = s(position);
    let g = Mat::from_fn(m, 1, |k, _| {
        if k < deriv {
            0.0
        } else {
            let falling: f64 = ((k - deriv + 1)..=k).map(|f| f as f64).product();
            falling * s0.powi((k - deriv) as i32)
        }
    });
    let a = solve_spd(gram.as_ref(), g.as_ref())?;
    let w = &v * &a;
    // d/dj = (1/half) d/ds.
    let scale = half.powi(-(deriv as i32));
    Ok((0..window).map(|j| w[(j, 0)] * scale).collect())
}

/// Applies a Savitzky–Golay filter (derivative `deriv`, unit spacing) to `x`, shifting the
/// window inwards at both ends.
fn savitzky_golay(
    x: &[f64],
    window: usize,
    order: usize,
    deriv: usize,
) -> Result<Vec<f64>, PhysicsError> {
    let n = x.len();
    let half = window / 2;
    let centre = savitzky_golay_weights(window, order, deriv, half)?;
    let mut out = vec![0.0; n];
    let dot =
        |w: &[f64], start: usize| -> f64 { w.iter().zip(&x[start..]).map(|(a, b)| a * b).sum() };
    for (i, o) in out.iter_mut().enumerate().take(n - half).skip(half) {
        *o = dot(&centre, i - half);
    }
    for i in 0..half {
        let w = savitzky_golay_weights(window, order, deriv, i)?;
        out[i] = dot(&w, 0);
        let w = savitzky_golay_weights(window, order, deriv, window - 1 - i)?;
        out[n - 1 - i] = dot(&w, n - window);
    }
    Ok(out)
}

/// Second-order finite differences on any strictly increasing stamps (`n ≥ 3`).
fn finite_difference(x: &[f64], t: &[f64]) -> Vec<f64> {
    let n = x.len();
    let mut d = vec![0.0; n];
    for i in 1..n - 1 {
        let (h1, h2) = (t[i] - t[i - 1], t[i + 1] - t[i]);
        d[i] = -h2 / (h1 * (h1 + h2)) * x[i - 1]
            + (h2 - h1) / (h1 * h2) * x[i]
            + h1 / (h2 * (h1 + h2)) * x[i + 1];
    }
    let (h1, h2) = (t[1] - t[0], t[2] - t[1]);
    d[0] = -(2.0 * h1 + h2) / (h1 * (h1 + h2)) * x[0] + (h1 + h2) / (h1 * h2) * x[1]
        - h1 / (h2 * (h1 + h2)) * x[2];
    let (h1, h2) = (t[n - 2] - t[n - 3], t[n - 1] - t[n - 2]);
    d[n - 1] = h2 / (h1 * (h1 + h2)) * x[n - 3] - (h1 + h2) / (h1 * h2) * x[n - 2]
        + (h1 + 2.0 * h2) / (h2 * (h1 + h2)) * x[n - 1];
    d
}

/// Chartrand's TV-regularised derivative (see the module docs), started from finite
/// differences.
fn total_variation(
    x: &[f64],
    h: f64,
    alpha: f64,
    iterations: usize,
    epsilon: f64,
) -> Result<Vec<f64>, PhysicsError> {
    let n = x.len();
    // A: trapezoidal antiderivative, (Au)_i = h (u_0/2 + u_1 + … + u_{i−1} + u_i/2), (Au)_0 = 0.
    let a = Mat::from_fn(n, n, |i, j| {
        if i == 0 || j > i {
            0.0
        } else if j == 0 || j == i {
            h / 2.0
        } else {
            h
        }
    });
    let ata = a.transpose() * &a;
    let rhs = a.transpose() * Mat::from_fn(n, 1, |i, _| x[i] - x[0]);
    let t: Vec<f64> = (0..n).map(|i| i as f64 * h).collect();
    let mut u = finite_difference(x, &t);
    for _ in 0..iterations {
        // H = AᵀA + α h Dᵀ E D, with D the forward differences / h (tridiagonal Dᵀ E D).
        let mut hmat = ata.clone();
        for k in 0..n - 1 {
            let du = (u[k + 1] - u[k]) / h;
            let e = alpha * h / (du * du + epsilon).sqrt() / (h * h);
            hmat[(k, k)] += e;
            hmat[(k + 1, k + 1)] += e;
            hmat[(k, k + 1)] -= e;
            hmat[(k + 1, k)] -= e;
        }
        let next = solve_spd(hmat.as_ref(), rhs.as_ref())?;
        u = (0..n).map(|i| next[(i, 0)]).collect();
    }
    Ok(u)
}

impl Differentiator {
    /// The smallest number of samples the method works on.
    fn min_samples(&self) -> usize {
        match *self {
            Differentiator::SavitzkyGolay { window, .. }
            | Differentiator::SmoothedFiniteDifference { window, .. } => window.max(3),
            _ => 3,
        }
    }

    /// The derivative of the samples `x` taken at times `t`.
    pub fn differentiate(&self, x: &[f64], t: &[f64]) -> Result<Vec<f64>, PhysicsError> {
        if let Some(index) = x.iter().position(|v| !v.is_finite()) {
            return Err(PhysicsError::NonFinite {
                what: "signal to differentiate",
                index,
            });
        }
        if let Differentiator::SavitzkyGolay { window, order }
        | Differentiator::SmoothedFiniteDifference { window, order } = *self
        {
            check_window(window, order)?;
        }
        check_times(t, x.len(), self.min_samples())?;
        match *self {
            Differentiator::FiniteDifference => Ok(finite_difference(x, t)),
            Differentiator::SavitzkyGolay { window, order } => {
                let h = uniform_step("Savitzky–Golay differentiation", t)?;
                let d = savitzky_golay(x, window, order, 1)?;
                Ok(d.into_iter().map(|v| v / h).collect())
            }
            Differentiator::SmoothedFiniteDifference { window, order } => {
                uniform_step("smoothed finite differences", t)?;
                let smooth = savitzky_golay(x, window, order, 0)?;
                Ok(finite_difference(&smooth, t))
            }
            Differentiator::Spectral => {
                let h = uniform_step("spectral differentiation", t)?;
                let mut ops = Spectral1d::new(x.len(), h * x.len() as f64)?;
                let mut out = vec![0.0; x.len()];
                ops.derivative(x, &mut out)?;
                Ok(out)
            }
            Differentiator::TotalVariation {
                alpha,
                iterations,
                epsilon,
            } => {
                if !(alpha > 0.0 && alpha.is_finite()) {
                    return Err(PhysicsError::InvalidParameter {
                        name: "alpha",
                        value: alpha,
                        requirement: "the total-variation weight must be positive and finite",
                    });
                }
                if !(epsilon > 0.0 && epsilon.is_finite()) {
                    return Err(PhysicsError::InvalidParameter {
                        name: "epsilon",
                        value: epsilon,
                        requirement: "the smoothing of |Du| must be positive and finite",
                    });
                }
                let h = uniform_step("total-variation differentiation", t)?;
                total_variation(x, h, alpha, iterations, epsilon)
            }
        }
    }

    /// The derivative of every column of `x` (samples in rows), in parallel over columns.
    pub fn differentiate_columns(&self, x: &Matrix, t: &[f64]) -> Result<Matrix, PhysicsError> {
        let (m, n) = (x.rows(), x.cols());
        if n == 0 {
            return Err(PhysicsError::Empty {
                what: "data to differentiate",
                unit: "state variable (column)",
            });
        }
        if let Some((r, c)) = x.first_non_finite() {
            return Err(PhysicsError::NonFinite {
                what: "data to differentiate",
                index: r * n + c,
            });
        }
        let columns: Vec<Vec<f64>> = (0..n)
            .into_par_iter()
            .map(|j| {
                let col: Vec<f64> = (0..m).map(|i| x[(i, j)]).collect();
                self.differentiate(&col, t)
            })
            .collect::<Result<_, _>>()?;
        let mut out = Matrix::zeros(m, n);
        for (j, col) in columns.iter().enumerate() {
            for (i, v) in col.iter().enumerate() {
                out[(i, j)] = *v;
            }
        }
        Ok(out)
    }

    /// The Savitzky–Golay smoothing of `x` (the local polynomial's value) for the smoothing
    /// methods, `x` itself otherwise: what the library should be evaluated on so that `Θ(x)`
    /// and `ẋ` see the same signal.
    pub fn smooth_columns(&self, x: &Matrix) -> Result<Matrix, PhysicsError> {
        match *self {
            Differentiator::SavitzkyGolay { window, order }
            | Differentiator::SmoothedFiniteDifference { window, order } => {
                check_window(window, order)?;
                let (m, n) = (x.rows(), x.cols());
                if m < window {
                    return Err(PhysicsError::GridTooSmall {
                        what: "Savitzky–Golay smoothing",
                        got: m,
                        needed: window,
                    });
                }
                let mut out = Matrix::zeros(m, n);
                for j in 0..n {
                    let col: Vec<f64> = (0..m).map(|i| x[(i, j)]).collect();
                    for (i, v) in savitzky_golay(&col, window, order, 0)?
                        .into_iter()
                        .enumerate()
                    {
                        out[(i, j)] = v;
                    }
                }
                Ok(out)
            }
            _ => Ok(x.clone()),
        }
    }
}
