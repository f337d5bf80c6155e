//! Linear convergence rates: what theory predicts on quadratics, and what a run measures.
//!
//! On `L(θ) = ½ θᵀAθ` with the eigenvalues of `A` in `[μ, L]` and `κ = L/μ`:
//!
//! - gradient descent with `η = 2/(L+μ)` multiplies every eigen-component by `1 - ηλ`, whose
//!   largest modulus is `(κ-1)/(κ+1)`, attained at both ends of the spectrum;
//! - heavy-ball with `η = 4/(√L+√μ)²`, `γ = ((√κ-1)/(√κ+1))²` (Polyak) has, per eigenvalue, the
//!   2x2 iteration matrix `[[1+γ-ηλ, -γ], [1, 0]]`; its eigenvalues are complex with modulus
//!   `√γ = (√κ-1)/(√κ+1)` for every `λ ∈ [μ, L]` (a double root at the ends, so errors there
//!   decay like `k rᵏ`, which a measured rate sees as a slow drift towards `r`).

use crate::error::{OptimError, positive};

/// Optimal hyper-parameters for a quadratic and the rate they achieve.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QuadraticTuning {
    /// Learning rate `η`.
    pub eta: f64,
    /// Momentum `γ` (zero for gradient descent).
    pub gamma: f64,
    /// Predicted linear rate: the error shrinks like `rateᵏ`.
    pub rate: f64,
}

fn check_spectrum(mu: f64, l: f64) -> Result<(), OptimError> {
    positive("smallest curvature mu", mu)?;
    positive("largest curvature L", l)?;
    if l < mu {
        return Err(OptimError::InvalidHyperParameter {
            name: "largest curvature L",
            value: l,
            expected: "at least the smallest curvature mu",
        });
    }
    Ok(())
}

/// Gradient descent's optimal step `2/(L+μ)` and rate `(κ-1)/(κ+1)` on a quadratic with
/// curvatures in `[mu, l]`.
pub fn gd_optimal(mu: f64, l: f64) -> Result<QuadraticTuning, OptimError> {
    check_spectrum(mu, l)?;
    let kappa = l / mu;
    Ok(QuadraticTuning {
        eta: 2.0 / (l + mu),
        gamma: 0.0,
        rate: (kappa - 1.0) / (kappa + 1.0),
    })
}

/// Heavy-ball's optimal step `4/(√L+√μ)²`, momentum `((√κ-1)/(√κ+1))²` and rate
/// `(√κ-1)/(√κ+1)` on a quadratic with curvatures in `[mu, l]`.
pub fn heavy_ball_optimal(mu: f64, l: f64) -> Result<QuadraticTuning, OptimError> {
    check_spectrum(mu, l)?;
    let sk = (l / mu).sqrt();
    let rate = (sk - 1.0) / (sk + 1.0);
    Ok(QuadraticTuning {
        eta: 4.0 / (l.sqrt() + mu.sqrt()).powi(2),
        gamma: rate * rate,
        rate,
    })
}

/// The linear rate of a positive error sequence over `errors[from..=to]`: `exp` of the
/// least-squares slope of `ln e_k` against `k`, which averages out the oscillation of momentum
/// methods better than the ratio of two end points.
pub fn measured_rate(errors: &[f64], from: usize, to: usize) -> Result<f64, OptimError> {
    if to <= from || to >= errors.len() {
        return Err(OptimError::DimensionMismatch {
            context: "rate window (needs from < to < errors.len())",
            expected: errors.len(),
            got: to,
        });
    }
    let window = &errors[from..=to];
    if let Some(component) = window.iter().position(|e| !(e.is_finite() && *e > 0.0)) {
        return Err(OptimError::NonFinite {
            context: "error sequence (needs finite positive errors)",
            component: from + component,
        });
    }
    let n = window.len() as f64;
    let mean_k = (from + to) as f64 / 2.0;
    let logs: Vec<f64> = window.iter().map(|e| e.ln()).collect();
    let mean_log = logs.iter().sum::<f64>() / n;
    let (mut sxy, mut sxx) = (0.0, 0.0);
    for (i, l) in logs.iter().enumerate() {
        let dk = (from + i) as f64 - mean_k;
        sxy += dk * (l - mean_log);
        sxx += dk * dk;
    }
    Ok((sxy / sxx).exp())
}

/// Least-squares slope of `ln ys` against `ln xs`: the empirical order `p` in `y ≈ C xᵖ`
/// (e.g. how a discretisation error shrinks with the step size).
pub fn log_log_slope(xs: &[f64], ys: &[f64]) -> Result<f64, OptimError> {
    crate::error::same_len("log-log slope data", xs.len(), ys.len())?;
    if xs.len() < 2 {
        return Err(OptimError::DimensionMismatch {
            context: "log-log slope data (needs two points or more)",
            expected: 2,
            got: xs.len(),
        });
    }
    if let Some(component) = xs
        .iter()
        .chain(ys)
        .position(|v| !(v.is_finite() && *v > 0.0))
    {
        return Err(OptimError::NonFinite {
            context: "log-log slope data (needs finite positive values)",
            component,
        });
    }
    let lx: Vec<f64> = xs.iter().map(|x| x.ln()).collect();
    let ly: Vec<f64> = ys.iter().map(|y| y.ln()).collect();
    let n = lx.len() as f64;
    let (mx, my) = (lx.iter().sum::<f64>() / n, ly.iter().sum::<f64>() / n);
    let sxy: f64 = lx.iter().zip(&ly).map(|(x, y)| (x - mx) * (y - my)).sum();
    let sxx: f64 = lx.iter().map(|x| (x - mx) * (x - mx)).sum();
    Ok(sxy / sxx)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn geometric_sequences_give_their_ratio() {
        let e: Vec<f64> = (0..50).map(|k| 3.0 * 0.9f64.powi(k)).collect();
        assert!((measured_rate(&e, 5, 40).unwrap() - 0.9).abs() < 1e-12);
        assert!(measured_rate(&e, 40, 5).is_err());
        assert!(measured_rate(&e, 0, 50).is_err());
        let mut bad = e.clone();
        bad[7] = 0.0;
        assert!(measured_rate(&bad, 0, 10).is_err());
    }

    #[test]
    fn power_laws_give_their_exponent() {
        let xs = [0.1, 0.05, 0.025];
        let ys: Vec<f64> = xs.iter().map(|x: &f64| 3.0 * x.powf(1.5)).collect();
        assert!((log_log_slope(&xs, &ys).unwrap() - 1.5).abs() < 1e-12);
        assert!(log_log_slope(&xs, &ys[..2]).is_err());
        assert!(log_log_slope(&[1.0, 2.0], &[1.0, 0.0]).is_err());
    }

    #[test]
    fn tunings_match_the_closed_forms() {
        let gd = gd_optimal(1.0, 9.0).unwrap();
        assert_eq!((gd.eta, gd.rate), (0.2, 0.8));
        let hb = heavy_ball_optimal(1.0, 9.0).unwrap();
        assert_eq!((hb.eta, hb.rate, hb.gamma), (0.25, 0.5, 0.25));
        assert!(gd_optimal(2.0, 1.0).is_err());
        assert!(heavy_ball_optimal(0.0, 1.0).is_err());
    }
}
