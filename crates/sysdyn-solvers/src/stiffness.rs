//! Is a failing explicit solve stiff? A diagnosis run once, when a solve runs out of steps.
//!
//! An explicit method on a stiff problem takes steps limited by stability: `h ρ` stays near the
//! method's stability boundary (about 3.3 for Dopri5), where `ρ` is the spectral radius of
//! `∂f/∂y`, however smooth the solution. Running out of steps is then a matter of the remaining
//! span: crossing it at the stability limit needs about `ρ · remaining / 3` steps. So the solve
//! loop calls the problem stiff when
//!
//! 1. the current step sits near the stability boundary, `h ρ ≥ 2` (explicit methods of order
//!    three and more have boundaries between 2.5 and 6 on the negative real axis; accuracy-limited
//!    steps usually have `h ρ` well below 2), and
//! 2. stability alone would need more than ten times the whole step budget again:
//!    `ρ · remaining > 10 · max_steps`.
//!
//! A non-stiff problem with a too small `max_steps` fails the second test (its `ρ · span` is
//! modest), and a long non-stiff integration with accurate steps fails the first. The test is a
//! heuristic: a second-order pair whose stability boundary is 2 may go undiagnosed, and a
//! non-stiff solve at a very loose tolerance may be called stiff (its steps are then indeed
//! limited by stability).
//!
//! `ρ` is estimated by a few power iterations on difference quotients of `f` (no Jacobian
//! needed, any [`State`]), in the tolerance-weighted norm.

use sysdyn_core::rng::CounterRng;
use sysdyn_core::{State, Tolerance};

use crate::term::VectorField;

/// Power iterations of the spectral-radius estimate.
const POWER_ITERATIONS: usize = 16;
/// Leading iterations left out of the average.
const SKIPPED_ITERATIONS: usize = 4;

/// Estimates the spectral radius of `∂f/∂y` at `(t, y)` by power iteration on difference
/// quotients `(f(y + δ v) - f(y)) / δ` with perturbations the size of the tolerance. Returns
/// `None` when the estimate is not finite (e.g. a zero tolerance scale).
pub fn spectral_radius<S: State, F: VectorField<S>>(
    f: &mut F,
    t: f64,
    y: &S,
    tol: &Tolerance<S>,
    nfe: &mut usize,
) -> Option<f64> {
    let n = y.num_components();
    if n == 0 {
        return Some(0.0);
    }
    let norm = |x: &S| S::weighted_rms_norm(x, y, y, tol);
    *nfe += 1;
    let f0 = f.eval(t, y);
    // A fixed pseudo-random start: unlikely to be orthogonal to the dominant mode.
    let rng = CounterRng::new(0x5719_F4E5);
    let start: Vec<f64> = (0..n as u64).map(|i| rng.normal(i)).collect();
    let mut v = y.with_components(&start);
    // ‖J^k v‖^(1/k) tends to ρ even when the dominant eigenvalues are complex (then single ratios
    // ‖J v‖/‖v‖ oscillate, the more so in a weighted norm): average the logarithms of the ratios,
    // skipping the first iterations while v turns towards the dominant modes.
    let mut log_sum = 0.0;
    let mut counted = 0;
    for iteration in 0..POWER_ITERATIONS {
        let size = norm(&v);
        if !(size.is_finite() && size > 0.0) {
            break;
        }
        // A perturbation of weighted size one: as large as the tolerance allows, so rounding in
        // the difference is negligible, yet small compared with the state.
        let probe = S::linear_combination(&[(1.0, y), (1.0 / size, &v)]);
        *nfe += 1;
        let fp = f.eval(t, &probe);
        let jv = S::linear_combination(&[(1.0, &fp), (-1.0, &f0)]);
        let ratio = norm(&jv);
        if !(ratio.is_finite() && ratio > 0.0) {
            break;
        }
        if iteration >= SKIPPED_ITERATIONS {
            log_sum += ratio.ln();
            counted += 1;
        }
        v = jv;
    }
    (counted > 0).then(|| (log_sum / counted as f64).exp())
}

/// The stiffness verdict of the module documentation for a solve stopped at `(t, y)` with step
/// size `h_abs` and `remaining` time left, after `max_steps` steps.
#[allow(clippy::too_many_arguments)]
pub fn looks_stiff<S: State, F: VectorField<S>>(
    f: &mut F,
    t: f64,
    y: &S,
    h_abs: f64,
    remaining: f64,
    max_steps: usize,
    tol: &Tolerance<S>,
    nfe: &mut usize,
) -> bool {
    match spectral_radius(f, t, y, tol, nfe) {
        Some(rho) => h_abs * rho >= 2.0 && rho * remaining > 10.0 * max_steps as f64,
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spectral_radius_of_a_linear_system_is_found() {
        // Eigenvalues -1000 and -1: the radius is 1000.
        let mut f = |_t: f64, y: &[f64; 2]| [-1000.0 * y[0] + y[1], -y[1]];
        let tol = Tolerance::new(1e-6, 1e-9);
        let mut nfe = 0;
        let rho = spectral_radius(&mut f, 0.0, &[1.0, 1.0], &tol, &mut nfe).unwrap();
        assert!((rho - 1000.0).abs() < 1.0, "{rho}");
        assert_eq!(nfe, 1 + POWER_ITERATIONS);
    }
}
