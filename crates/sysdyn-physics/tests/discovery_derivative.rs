//! Derivative estimators: finite differences converge at order two (exact on parabolas, on any
//! stamps), Savitzky–Golay is exact on polynomials up to its degree (ends included), spectral
//! differentiation is exact on trigonometric polynomials, and Chartrand's total-variation
//! method recovers a piecewise-constant derivative from noisy data far better than differences.

use sysdyn_core::rng::SeededRng;
use sysdyn_physics::discovery::{Differentiator, savitzky_golay_weights};
use sysdyn_testing::convergence_order;

fn uniform(n: usize, t0: f64, t1: f64) -> Vec<f64> {
    (0..n)
        .map(|i| t0 + (t1 - t0) * i as f64 / (n - 1) as f64)
        .collect()
}

fn max_error(d: &[f64], t: &[f64], exact: impl Fn(f64) -> f64) -> f64 {
    d.iter()
        .zip(t)
        .map(|(d, &t)| (d - exact(t)).abs())
        .fold(0.0, f64::max)
}

#[test]
fn finite_differences_converge_at_order_two_ends_included() {
    let mut steps = Vec::new();
    let mut errors = Vec::new();
    for n in [21, 41, 81, 161, 321] {
        let t = uniform(n, 0.0, 2.0);
        let x: Vec<f64> = t.iter().map(|t| (2.0 * t).sin()).collect();
        let d = Differentiator::FiniteDifference
            .differentiate(&x, &t)
            .unwrap();
        steps.push(t[1] - t[0]);
        errors.push(max_error(&d, &t, |t| 2.0 * (2.0 * t).cos()));
    }
    let order = convergence_order(&steps, &errors);
    assert!(
        (order - 2.0).abs() < 0.1,
        "order {order}, errors {errors:?}"
    );
}

#[test]
fn finite_differences_are_exact_on_parabolas_at_any_stamps() {
    let mut rng = SeededRng::new(9);
    let mut t = vec![0.0];
    for _ in 0..30 {
        let last = *t.last().unwrap();
        t.push(last + 0.01 + 0.1 * rng.uniform());
    }
    let x: Vec<f64> = t.iter().map(|t| 3.0 - 2.0 * t + 0.7 * t * t).collect();
    let d = Differentiator::FiniteDifference
        .differentiate(&x, &t)
        .unwrap();
    assert!(max_error(&d, &t, |t| -2.0 + 1.4 * t) < 1e-11);
}

#[test]
fn savitzky_golay_is_exact_on_polynomials_up_to_its_degree() {
    let t = uniform(60, -1.0, 2.0);
    let x: Vec<f64> = t
        .iter()
        .map(|t| 1.0 + t - 2.0 * t.powi(2) + 0.5 * t.powi(3))
        .collect();
    let exact = |t: f64| 1.0 - 4.0 * t + 1.5 * t * t;
    for (window, order) in [(7, 3), (11, 4), (21, 5)] {
        let sg = Differentiator::SavitzkyGolay { window, order };
        let d = sg.differentiate(&x, &t).unwrap();
        assert!(max_error(&d, &t, exact) < 1e-10, "window {window}");
    }
    // Degree 2 is not enough for a cubic, inside the window's reach.
    let d = Differentiator::SavitzkyGolay {
        window: 7,
        order: 2,
    }
    .differentiate(&x, &t)
    .unwrap();
    assert!(max_error(&d, &t, exact) > 1e-4);
    // Smoothed differences keep quadratics exactly (smoothing preserves them, differences are
    // exact on them).
    let q: Vec<f64> = t.iter().map(|t| 2.0 + t * t).collect();
    let d = Differentiator::SmoothedFiniteDifference {
        window: 9,
        order: 3,
    }
    .differentiate(&q, &t)
    .unwrap();
    assert!(max_error(&d, &t, |t| 2.0 * t) < 1e-10);
    // The centred 5-point quadratic-fit weights are the classical (−2, −1, 0, 1, 2)/10.
    let w = savitzky_golay_weights(5, 2, 1, 2).unwrap();
    for (a, b) in w.iter().zip([-0.2, -0.1, 0.0, 0.1, 0.2]) {
        assert!((a - b).abs() < 1e-14);
    }
}

#[test]
fn spectral_differentiation_is_exact_on_trigonometric_polynomials() {
    let n = 64;
    let h = std::f64::consts::TAU / n as f64;
    let t: Vec<f64> = (0..n).map(|i| i as f64 * h).collect();
    let x: Vec<f64> = t
        .iter()
        .map(|t| 0.3 + (3.0 * t).sin() - 2.0 * (5.0 * t).cos())
        .collect();
    let d = Differentiator::Spectral.differentiate(&x, &t).unwrap();
    assert!(max_error(&d, &t, |t| 3.0 * (3.0 * t).cos() + 10.0 * (5.0 * t).sin()) < 1e-11);
}

#[test]
fn total_variation_recovers_a_piecewise_constant_derivative_from_noise() {
    // x = |t − 1/2| with noise 0.01: the derivative jumps from −1 to 1.
    let n = 200;
    let t = uniform(n, 0.0, 1.0);
    let mut rng = SeededRng::new(4);
    let x: Vec<f64> = t
        .iter()
        .map(|t| (t - 0.5).abs() + 0.01 * rng.normal())
        .collect();
    let exact = |t: f64| if t < 0.5 { -1.0 } else { 1.0 };
    let rms = |d: &[f64]| {
        (d.iter()
            .zip(&t)
            .map(|(d, &t)| (d - exact(t)).powi(2))
            .sum::<f64>()
            / n as f64)
            .sqrt()
    };
    let fd = Differentiator::FiniteDifference
        .differentiate(&x, &t)
        .unwrap();
    let tv = Differentiator::TotalVariation {
        alpha: 1e-3,
        iterations: 50,
        epsilon: 1e-6,
    }
    .differentiate(&x, &t)
    .unwrap();
    let (e_fd, e_tv) = (rms(&fd), rms(&tv));
    println!("RMS derivative error: finite differences {e_fd:.3}, total variation {e_tv:.3}");
    assert!(e_tv < 0.2 * e_fd, "TV {e_tv} vs FD {e_fd}");
    assert!(e_tv < 0.25, "TV {e_tv}");
    // Away from the kink the sign is right everywhere.
    for (d, &s) in tv.iter().zip(&t) {
        if (s - 0.5).abs() > 0.1 {
            assert_eq!(d.signum(), exact(s).signum(), "t = {s}: {d}");
        }
    }
}
