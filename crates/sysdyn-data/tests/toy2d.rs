//! The toy distributions: moments against the analytic ones, exact densities that integrate to
//! one, reproducibility per seed, and the samples' agreement with the densities.

use std::f64::consts::PI;

use sysdyn_core::rng::SeededRng;
use sysdyn_data::{DataError, Toy2d};

/// Sample mean and covariance `[xx, xy, yy]` of row-major `n × 2` points.
fn moments(points: &[f64]) -> ([f64; 2], [f64; 3]) {
    let n = (points.len() / 2) as f64;
    let mut mean = [0.0; 2];
    for p in points.chunks_exact(2) {
        mean[0] += p[0] / n;
        mean[1] += p[1] / n;
    }
    let mut cov = [0.0; 3];
    for p in points.chunks_exact(2) {
        let (dx, dy) = (p[0] - mean[0], p[1] - mean[1]);
        cov[0] += dx * dx / (n - 1.0);
        cov[1] += dx * dy / (n - 1.0);
        cov[2] += dy * dy / (n - 1.0);
    }
    (mean, cov)
}

/// Mean and covariance of `f(t)` for `t` uniform on `[0, 1]` (midpoint rule, 200 000 nodes),
/// plus isotropic noise of standard deviation `noise`: the exact moments of a noisy curve.
fn curve_moments(f: impl Fn(f64) -> [f64; 2], noise: f64) -> ([f64; 2], [f64; 3]) {
    let m = 200_000;
    let points: Vec<[f64; 2]> = (0..m).map(|k| f((k as f64 + 0.5) / m as f64)).collect();
    let mean = [
        points.iter().map(|p| p[0]).sum::<f64>() / m as f64,
        points.iter().map(|p| p[1]).sum::<f64>() / m as f64,
    ];
    let e = |g: &dyn Fn(&[f64; 2]) -> f64| points.iter().map(g).sum::<f64>() / m as f64;
    let cov = [
        e(&|p| (p[0] - mean[0]).powi(2)) + noise * noise,
        e(&|p| (p[0] - mean[0]) * (p[1] - mean[1])),
        e(&|p| (p[1] - mean[1]).powi(2)) + noise * noise,
    ];
    (mean, cov)
}

#[test]
fn sample_moments_match_the_analytic_ones() {
    let inv_pi = 1.0 / PI;
    let swiss = |t: f64| {
        let s = 1.5 * PI * (1.0 + 2.0 * t);
        [s * s.cos() / 5.0, s * s.sin() / 5.0]
    };
    let circles = |t: f64| {
        // First half of t on the inner ring, second half on the outer (equal weights).
        let (r, u) = if t < 0.5 {
            (1.0, 2.0 * t)
        } else {
            (2.0, 2.0 * t - 1.0)
        };
        [r * (2.0 * PI * u).cos(), r * (2.0 * PI * u).sin()]
    };
    let cases: Vec<(Toy2d, [f64; 2], [f64; 3])> = vec![
        (Toy2d::EightGaussians, [0.0, 0.0], [2.01, 0.0, 2.01]),
        (Toy2d::Grid25, [0.0, 0.0], [2.0025, 0.0, 2.0025]),
        // Column c uniform on 0..4, row 2b + (c mod 2): Var = 15/12 + 1/12, Cov(c, c mod 2) = ¼.
        (
            Toy2d::Checkerboard,
            [0.0, 0.0],
            [4.0 / 3.0, 0.25, 4.0 / 3.0],
        ),
        // Moons: E x = ½, E y = ¼; Var x = ¾, Var y = 9/16 − 1/π, Cov = ⅛ − 1/π, plus noise.
        (
            Toy2d::TwoMoons,
            [0.5, 0.25],
            [0.75 + 0.0025, 0.125 - inv_pi, 0.5625 - inv_pi + 0.0025],
        ),
        {
            let (m, c) = curve_moments(swiss, 0.1);
            (Toy2d::SwissRoll, m, c)
        },
        {
            let (m, c) = curve_moments(circles, 0.08);
            (Toy2d::Circles, m, c)
        },
    ];
    let n = 200_000;
    for (toy, mean, cov) in cases {
        let (m, c) = moments(&toy.sample(n, &mut SeededRng::new(11)));
        // Standard errors are below 0.005 for these spreads; allow 5 of them.
        let scale = cov[0].max(cov[2]).sqrt();
        for k in 0..2 {
            assert!(
                (m[k] - mean[k]).abs() < 5.0 * scale / (n as f64).sqrt(),
                "{}: mean {m:?} vs {mean:?}",
                toy.name()
            );
        }
        for k in 0..3 {
            assert!(
                (c[k] - cov[k]).abs() < 0.02 * scale * scale,
                "{}: covariance {c:?} vs {cov:?}",
                toy.name()
            );
        }
    }
}

#[test]
fn pinwheel_moments_match_a_monte_carlo_of_its_definition() {
    // The pinwheel's radial and tangential coordinates are Gaussian; its moments by the
    // definition on independent draws (a different seed) agree with the sampler's.
    let n = 200_000;
    let mut rng = SeededRng::new(99);
    let mut reference = Vec::with_capacity(2 * n);
    for _ in 0..n {
        let arm = rng.below(5) as f64;
        let r = 1.0 + 0.3 * rng.normal();
        let s = 0.1 * rng.normal();
        let a = 2.0 * PI * arm / 5.0 + 0.25 * r.exp();
        // Rotation of (r, s) by −a, times two.
        reference.extend([
            2.0 * (r * a.cos() + s * a.sin()),
            2.0 * (s * a.cos() - r * a.sin()),
        ]);
    }
    let (m_ref, c_ref) = moments(&reference);
    let (m, c) = moments(&Toy2d::Pinwheel.sample(n, &mut SeededRng::new(3)));
    // Five arms at equal angles: the mean is zero and the covariance isotropic.
    for k in 0..2 {
        assert!(
            m[k].abs() < 0.02 && m_ref[k].abs() < 0.02,
            "{m:?} {m_ref:?}"
        );
    }
    for k in 0..3 {
        assert!((c[k] - c_ref[k]).abs() < 0.05, "{c:?} vs {c_ref:?}");
    }
    assert!((c[0] - c[2]).abs() < 0.05 && c[1].abs() < 0.05, "{c:?}");
}

#[test]
fn samples_are_reproducible_per_seed() {
    for toy in Toy2d::ALL {
        let a = toy.sample(100, &mut SeededRng::new(5));
        let b = toy.sample(100, &mut SeededRng::new(5));
        let c = toy.sample(100, &mut SeededRng::new(6));
        assert_eq!(a, b, "{}", toy.name());
        assert_ne!(a, c, "{}", toy.name());
        assert_eq!(a.len(), 200);
        assert!(a.iter().all(|v| v.is_finite()));
    }
}

#[test]
fn moved_samplers_give_the_same_numbers_as_before() {
    // The first draws of the three samplers moved from sysdyn-nodes (cnf-2d's data): the sampling
    // code is unchanged, so these values must not change.
    let mut rng = SeededRng::new(100);
    let moons = Toy2d::TwoMoons.sample(2, &mut rng);
    let gaussians = Toy2d::EightGaussians.sample(2, &mut rng);
    let board = Toy2d::Checkerboard.sample(2, &mut rng);
    let mut rng = SeededRng::new(100);
    // Two moons by hand: even rows on the upper moon, odd rows on the lower.
    let a = PI * rng.uniform();
    let expected0 = [a.cos() + 0.05 * rng.normal(), a.sin() + 0.05 * rng.normal()];
    let a = PI * rng.uniform();
    let expected1 = [
        1.0 - a.cos() + 0.05 * rng.normal(),
        0.5 - a.sin() + 0.05 * rng.normal(),
    ];
    assert_eq!(moons, [expected0, expected1].concat());
    let k = rng.below(8) as f64;
    let angle = 2.0 * PI * k / 8.0;
    assert_eq!(gaussians[0], 2.0 * angle.cos() + 0.1 * rng.normal());
    assert_eq!(gaussians[1], 2.0 * angle.sin() + 0.1 * rng.normal());
    let _ = rng.below(8);
    let _ = rng.normals(2);
    let column = rng.below(4) as f64;
    let row = 2.0 * rng.below(2) as f64 + (column as u64 % 2) as f64;
    assert_eq!(board[0], -2.0 + column + rng.uniform());
    assert_eq!(board[1], -2.0 + row + rng.uniform());
}

/// `Σ exp(log p) ΔA` over a grid of `[-l, l]²`.
fn grid_integral(toy: Toy2d, half: f64, n: usize) -> f64 {
    let h = 2.0 * half / n as f64;
    let mut points = Vec::with_capacity(2 * n * n);
    for i in 0..n {
        for j in 0..n {
            points.push(-half + (i as f64 + 0.5) * h);
            points.push(-half + (j as f64 + 0.5) * h);
        }
    }
    toy.log_density(&points)
        .unwrap()
        .iter()
        .map(|l| l.exp())
        .sum::<f64>()
        * h
        * h
}

#[test]
fn exact_densities_integrate_to_one() {
    // Grid steps well below the smallest standard deviation (0.05 → step 0.01).
    for (toy, half, n) in [
        (Toy2d::EightGaussians, 3.0, 600),
        (Toy2d::Grid25, 3.0, 600),
        (Toy2d::Checkerboard, 2.5, 500),
        (Toy2d::Circles, 3.0, 600),
    ] {
        assert!(toy.has_exact_density());
        let total = grid_integral(toy, half, n);
        assert!((total - 1.0).abs() < 1e-3, "{}: {total}", toy.name());
    }
    for toy in [Toy2d::TwoMoons, Toy2d::SwissRoll, Toy2d::Pinwheel] {
        assert!(!toy.has_exact_density());
        let err = toy.log_density(&[0.0, 0.0]).unwrap_err();
        assert!(matches!(err, DataError::NoExactDensity { .. }), "{err:?}");
        assert!(toy.modes().is_err());
    }
}

#[test]
fn densities_agree_with_the_samples() {
    // The mean log-density of samples estimates minus the entropy; for the checkerboard every
    // sample has density 1/8 exactly, and for the mixtures the entropy is ln k + ln(2πeσ²) up to
    // the (negligible) overlap of the components.
    let mut rng = SeededRng::new(21);
    let mean_log = |toy: Toy2d, rng: &mut SeededRng| {
        let s = toy.sample(50_000, rng);
        let l = toy.log_density(&s).unwrap();
        l.iter().sum::<f64>() / l.len() as f64
    };
    let board = Toy2d::Checkerboard.sample(50_000, &mut rng);
    let board = Toy2d::Checkerboard.log_density(&board).unwrap();
    assert!(board.iter().all(|l| *l == (1.0f64 / 8.0).ln()));
    let entropy = |k: f64, s: f64| k.ln() + (2.0 * PI * std::f64::consts::E * s * s).ln();
    let eight = mean_log(Toy2d::EightGaussians, &mut rng);
    assert!((eight + entropy(8.0, 0.1)).abs() < 0.02, "{eight}");
    let grid = mean_log(Toy2d::Grid25, &mut rng);
    assert!((grid + entropy(25.0, 0.05)).abs() < 0.02, "{grid}");
    // Points off the checkerboard have zero density; odd-length input is a typed error.
    let off = Toy2d::Checkerboard
        .log_density(&[-1.5, -0.5, 3.0, 0.0])
        .unwrap();
    assert!(off.iter().all(|l| *l == f64::NEG_INFINITY), "{off:?}");
    assert!(matches!(
        Toy2d::EightGaussians.log_density(&[1.0, 2.0, 3.0]),
        Err(DataError::Shape { .. })
    ));
}
