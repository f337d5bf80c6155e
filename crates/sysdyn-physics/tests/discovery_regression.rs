//! Sparse regression on synthetic problems with a known sparse answer: STLSQ and SR3 recover
//! the support and the coefficients, STLSQ's fast normal-equation path agrees with a QR least
//! squares, column normalisation is scale-invariant, and ensemble inclusion probabilities
//! separate true terms from the rest.

use std::time::Instant;

use faer::linalg::solvers::SolveLstsq;
use faer::{Mat, MatRef};
use sysdyn_core::linalg::Matrix;
use sysdyn_core::rng::SeededRng;
use sysdyn_physics::discovery::{Ensemble, Optimizer, Sr3, Sr3Regularizer, Stlsq, stlsq};

/// `Θ` (`m × p`, standard normal), `Ξ` (`k × p`, sparse) and `Y = Θ Ξᵀ + noise`.
fn problem(m: usize, p: usize, noise: f64, seed: u64) -> (Matrix, Matrix, Matrix) {
    let mut rng = SeededRng::new(seed);
    let theta = Matrix::from_row_major(m, p, rng.normals(m * p)).unwrap();
    let mut xi = Matrix::zeros(2, p);
    for (k, i, v) in [
        (0, 1, 2.0),
        (0, 4, -1.5),
        (0, 9, 0.8),
        (1, 0, 3.0),
        (1, 4, 1.2),
        (1, p - 1, -0.6),
    ] {
        xi[(k, i)] = v;
    }
    let mut y = theta.matmul(&xi.transpose()).unwrap();
    for v in y.as_mut_slice() {
        *v += noise * rng.normal();
    }
    (theta, xi, y)
}

fn same_support(a: &Matrix, b: &Matrix) -> bool {
    a.as_slice()
        .iter()
        .zip(b.as_slice())
        .all(|(x, y)| (*x == 0.0) == (*y == 0.0))
}

fn max_diff(a: &Matrix, b: &Matrix) -> f64 {
    a.as_slice()
        .iter()
        .zip(b.as_slice())
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}

#[test]
fn stlsq_recovers_the_support_and_matches_qr_least_squares() {
    let (theta, xi, y) = problem(400, 20, 0.05, 1);
    let config = Stlsq {
        threshold: 0.3,
        ..Stlsq::default()
    };
    let fit = stlsq(&theta, &y, &config).unwrap();
    assert!(same_support(&fit, &xi));
    assert!(max_diff(&fit, &xi) < 0.02, "{}", max_diff(&fit, &xi));
    // The unbiased coefficients are the least-squares fit on the support, here by faer's QR of
    // Θ_S itself (no normal equations).
    let t = MatRef::from_row_major_slice(theta.as_slice(), theta.rows(), theta.cols());
    for k in 0..2 {
        let support: Vec<usize> = (0..20).filter(|&i| xi[(k, i)] != 0.0).collect();
        let ts = Mat::from_fn(400, support.len(), |r, c| t[(r, support[c])]);
        let yk = Mat::from_fn(400, 1, |r, _| y[(r, k)]);
        let ls = ts.qr().solve_lstsq(&yk);
        for (c, &i) in support.iter().enumerate() {
            assert!((ls[(c, 0)] - fit[(k, i)]).abs() < 1e-12);
        }
    }
}

#[test]
fn normalised_stlsq_is_invariant_to_column_scales() {
    let (theta, _, y) = problem(300, 12, 0.05, 2);
    let scales: Vec<f64> = (0..12i32).map(|i| 10f64.powi(i % 5 - 2)).collect();
    let mut scaled = theta.clone();
    for r in 0..300 {
        for (c, s) in scales.iter().enumerate() {
            scaled[(r, c)] *= s;
        }
    }
    let config = Stlsq {
        threshold: 3.0,
        normalize_columns: true,
        ..Stlsq::default()
    };
    let a = stlsq(&theta, &y, &config).unwrap();
    let b = stlsq(&scaled, &y, &config).unwrap();
    for k in 0..2 {
        for (c, s) in scales.iter().enumerate() {
            // Ridge acts on normalised coefficients, so the fits agree up to the scale.
            assert!((a[(k, c)] - b[(k, c)] * s).abs() < 1e-9 * (1.0 + a[(k, c)].abs()));
        }
    }
    assert_eq!(a.as_slice().iter().filter(|v| **v != 0.0).count(), 6);
}

#[test]
fn sr3_l0_and_l1_recover_the_support() {
    let (theta, xi, y) = problem(400, 20, 0.05, 3);
    for regularizer in [Sr3Regularizer::L0, Sr3Regularizer::L1] {
        let sr3 = Optimizer::Sr3(Sr3 {
            threshold: 0.3,
            nu: 1.0,
            regularizer,
            max_iter: 200,
            ..Sr3::default()
        });
        let fit = sr3.fit(&theta, &y).unwrap();
        assert!(same_support(&fit, &xi), "{regularizer:?}: {fit:?}");
        assert!(max_diff(&fit, &xi) < 0.02, "{regularizer:?}");
    }
}

#[test]
fn ensemble_inclusion_separates_true_and_spurious_terms() {
    // A noisy problem where a single fit with a low threshold admits spurious terms now and then.
    let (theta, xi, y) = problem(200, 20, 0.5, 4);
    let ensemble = Ensemble {
        base: Box::new(Optimizer::Stlsq(Stlsq {
            threshold: 0.1,
            ..Stlsq::default()
        })),
        n_models: 100,
        n_subset: None,
        seed: 7,
    };
    let fit = ensemble.fit_ensemble(&theta, &y).unwrap();
    let mut spurious = Vec::new();
    for k in 0..2 {
        for i in 0..20 {
            let p = fit.inclusion[(k, i)];
            if xi[(k, i)] != 0.0 {
                assert!(p >= 0.99, "true term ({k}, {i}) kept in only {p}");
                assert!((fit.coefficients[(k, i)] - xi[(k, i)]).abs() < 0.2);
            } else {
                spurious.push(p);
            }
        }
    }
    let mean = spurious.iter().sum::<f64>() / spurious.len() as f64;
    println!(
        "inclusion of spurious terms: mean {mean:.3}, max {:.3}",
        spurious.iter().cloned().fold(0.0, f64::max)
    );
    assert!(mean < 0.3, "{mean}");
    // Thresholding the inclusion probability at 0.5 gives the true support.
    for k in 0..2 {
        for i in 0..20 {
            assert_eq!(fit.inclusion[(k, i)] > 0.5, xi[(k, i)] != 0.0, "({k}, {i})");
        }
    }
    // Seeded: the same seed gives the same models.
    assert_eq!(ensemble.fit_ensemble(&theta, &y).unwrap(), fit);
}

#[test]
fn stlsq_on_a_hundred_thousand_rows() {
    let (theta, xi, y) = problem(100_000, 20, 0.1, 5);
    let start = Instant::now();
    let fit = stlsq(&theta, &y, &Stlsq::default()).unwrap();
    println!("STLSQ, 10^5 × 20, 2 targets: {:?}", start.elapsed());
    assert!(same_support(&fit, &xi));
    assert!(max_diff(&fit, &xi) < 2e-3);
}
