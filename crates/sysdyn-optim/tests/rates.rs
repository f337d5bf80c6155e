//! Linear rates on ill-conditioned quadratics: with the optimal step (and momentum), gradient
//! descent converges like ((κ-1)/(κ+1))^k and heavy-ball like ((√κ-1)/(√κ+1))^k. The measured
//! rates must match within 5%; the eigenvalues of the iteration matrices must give them too.

use sysdyn_optim::analysis::{Matrix, gd_optimal, heavy_ball_optimal, measured_rate};
use sysdyn_optim::problems::{Objective, Quadratic};
use sysdyn_optim::{GradientDescent, HeavyBall, Nesterov, iterate};

/// Ten curvatures log-spaced over [1, κ], both ends included.
fn spectrum(kappa: f64) -> Vec<f64> {
    (0..10).map(|i| kappa.powf(i as f64 / 9.0)).collect()
}

fn errors(q: &Quadratic, iterates: &[Vec<f64>]) -> Vec<f64> {
    iterates
        .iter()
        .map(|x| q.distance_to_minimizer(x))
        .collect()
}

#[test]
fn gradient_descent_rate_is_kappa_minus_one_over_kappa_plus_one() {
    for kappa in [10.0, 100.0, 1000.0] {
        let q = Quadratic::diagonal(&spectrum(kappa)).unwrap();
        let tuning = gd_optimal(q.mu(), q.l()).unwrap();
        let steps = (30.0 / (1.0 - tuning.rate)) as usize;
        let xs = iterate(&GradientDescent, tuning.eta, &[1.0; 10], steps, |x| {
            q.gradient(x)
        })
        .unwrap();
        let e = errors(&q, &xs);
        let measured = measured_rate(&e, steps / 4, steps).unwrap();
        let rel = (measured - tuning.rate).abs() / tuning.rate;
        println!(
            "GD κ={kappa}: measured {measured:.6}, theory {:.6}, rel {rel:.2e}",
            tuning.rate
        );
        assert!(rel < 0.05, "κ={kappa}: {measured} vs {}", tuning.rate);
    }
}

#[test]
fn heavy_ball_rate_is_sqrt_kappa_minus_one_over_sqrt_kappa_plus_one() {
    for kappa in [10.0, 100.0, 1000.0] {
        let q = Quadratic::diagonal(&spectrum(kappa)).unwrap();
        let tuning = heavy_ball_optimal(q.mu(), q.l()).unwrap();
        let rule = HeavyBall::new(tuning.gamma).unwrap();
        // Down to ~1e-100: the minimiser is 0, so there is no rounding floor.
        let steps = (230.0 / -tuning.rate.ln()) as usize;
        let xs = iterate(&rule, tuning.eta, &[1.0; 10], steps, |x| q.gradient(x)).unwrap();
        let e = errors(&q, &xs);
        let measured = measured_rate(&e, steps / 4, steps).unwrap();
        let rel = (measured - tuning.rate).abs() / tuning.rate;
        println!(
            "HB κ={kappa}: measured {measured:.6}, theory {:.6}, rel {rel:.2e}",
            tuning.rate
        );
        assert!(rel < 0.05, "κ={kappa}: {measured} vs {}", tuning.rate);
        // Momentum beats the best gradient descent by far on ill-conditioned problems.
        assert!(measured < gd_optimal(q.mu(), q.l()).unwrap().rate);
    }
}

#[test]
fn iteration_matrix_spectra_give_the_same_rates() {
    // Per curvature λ, heavy-ball acts on (θ_k, θ_{k-1}) by [[1+γ-ηλ, -γ], [1, 0]]: complex
    // eigenvalues of modulus √γ = rate for every λ in [μ, L] (a double root at the ends).
    let (mu, l) = (1.0, 100.0);
    let hb = heavy_ball_optimal(mu, l).unwrap();
    for lambda in [1.0, 3.0, 10.0, 40.0, 100.0] {
        let m = Matrix::from_rows(&[[1.0 + hb.gamma - hb.eta * lambda, -hb.gamma], [1.0, 0.0]])
            .unwrap();
        let eig = m.eigenvalues().unwrap();
        for z in &eig {
            assert!((z.abs() - hb.rate).abs() < 1e-7, "λ={lambda}: {z}");
        }
        if lambda > mu && lambda < l {
            assert!(
                eig.iter().all(|z| z.im != 0.0),
                "interior curvatures rotate"
            );
        }
    }
    let gd = gd_optimal(mu, l).unwrap();
    let m = Matrix::from_diagonal(&[1.0 - gd.eta * mu, 1.0 - gd.eta * l]);
    assert!((m.spectral_radius().unwrap() - gd.rate).abs() < 1e-14);
}

#[test]
fn nesterov_rate_matches_its_iteration_matrix_spectrum() {
    // Nesterov's tuning for strongly convex quadratics: η = 1/L, γ = (√κ-1)/(√κ+1). Per
    // curvature λ the look-ahead iterates obey y_{k+1} = (1+γ)(1-ηλ) y_k - γ(1-ηλ) y_{k-1}; the
    // predicted rate is the largest spectral radius of [[(1+γ)(1-ηλ), -γ(1-ηλ)], [1, 0]] over
    // the spectrum, close to 1 - 1/√κ.
    let kappa: f64 = 100.0;
    let curvatures = spectrum(kappa);
    let q = Quadratic::diagonal(&curvatures).unwrap();
    let sk = kappa.sqrt();
    let gamma = (sk - 1.0) / (sk + 1.0);
    let eta = 1.0 / q.l();
    let predicted = curvatures
        .iter()
        .map(|lambda| {
            let c = 1.0 - eta * lambda;
            Matrix::from_rows(&[[(1.0 + gamma) * c, -gamma * c], [1.0, 0.0]])
                .unwrap()
                .spectral_radius()
                .unwrap()
        })
        .fold(0.0, f64::max);
    let rule = Nesterov::new(gamma).unwrap();
    let steps = 2000;
    let xs = iterate(&rule, eta, &[1.0; 10], steps, |x| q.gradient(x)).unwrap();
    let measured = measured_rate(&errors(&q, &xs), 500, steps).unwrap();
    let rel = (measured - predicted).abs() / predicted;
    println!("Nesterov κ={kappa}: measured {measured:.6}, spectrum {predicted:.6}, rel {rel:.2e}");
    assert!(rel < 0.05);
    assert!(measured < gd_optimal(q.mu(), q.l()).unwrap().rate);
}
