//! Every metric on cases with a known answer.

use sysdyn_core::linalg::Matrix;
use sysdyn_core::rng::SeededRng;
use sysdyn_data::metrics::{
    ByteScaling, GaussianFit, Modes, bits_per_dim, class_accuracy, dequantize,
    dequantized_bits_per_dim, frechet_distance, frechet_distance_gaussians, median_bandwidth,
    mmd_squared, mode_coverage, nll_nats, sliced_wasserstein,
};
use sysdyn_data::{DataError, Toy2d};

/// `n` draws of `N(mean, std² I)`, row-major.
fn gaussian(n: usize, mean: &[f64], std: f64, rng: &mut SeededRng) -> Vec<f64> {
    (0..n)
        .flat_map(|_| {
            mean.iter()
                .map(|m| m + std * rng.normal())
                .collect::<Vec<_>>()
        })
        .collect()
}

#[test]
fn sliced_wasserstein_of_shifted_gaussians_is_the_shift_over_root_d() {
    // Same covariance, means differing by δ: every projection is a shift by θ·δ, so
    // SW₂² = E(θ·δ)² = ‖δ‖²/d.
    let mut rng = SeededRng::new(1);
    for (d, delta) in [(2usize, 1.5f64), (3, 2.0)] {
        let mut shift = vec![0.0; d];
        shift[0] = delta;
        // 4000 directions: the Monte Carlo error of SW₂ is below 1 %.
        let x = gaussian(5000, &vec![0.0; d], 0.5, &mut rng);
        let y = gaussian(5000, &shift, 0.5, &mut rng);
        let sw = sliced_wasserstein(&x, &y, d, 4000, 7).unwrap();
        let exact = delta / (d as f64).sqrt();
        assert!(
            (sw - exact).abs() < 0.03 * exact,
            "d = {d}: {sw} vs {exact}"
        );
    }
    // Identical sets are at distance zero; different sizes work; bad input is typed.
    let x = gaussian(300, &[0.0, 0.0], 1.0, &mut rng);
    assert_eq!(sliced_wasserstein(&x, &x, 2, 50, 1).unwrap(), 0.0);
    let y = gaussian(170, &[0.0, 0.0], 1.0, &mut rng);
    assert!(sliced_wasserstein(&x, &y, 2, 50, 1).unwrap() < 0.3);
    assert!(matches!(
        sliced_wasserstein(&x[..3], &y, 2, 50, 1),
        Err(DataError::Shape { .. })
    ));
    assert!(sliced_wasserstein(&x, &y, 2, 0, 1).is_err());
    assert!(matches!(
        sliced_wasserstein(&[f64::NAN, 0.0], &y, 2, 5, 1),
        Err(DataError::NonFinite { .. })
    ));
}

/// The population MMD² between `N(0, s²I)` and `N(δ, s²I)` with a Gaussian kernel of bandwidth h:
/// `2 (h²/(h²+2s²))^{d/2} (1 − exp(−‖δ‖²/(2(h²+2s²))))`.
fn mmd2_exact(d: usize, s: f64, delta: f64, h: f64) -> f64 {
    let v = h * h + 2.0 * s * s;
    2.0 * (h * h / v).powf(d as f64 / 2.0) * (1.0 - (-delta * delta / (2.0 * v)).exp())
}

#[test]
fn mmd_is_unbiased_and_matches_the_closed_form() {
    let (d, s, h) = (2, 1.0, 1.0);
    let seeds = 200;
    // Two samples of one distribution: the estimates average to zero.
    let mut same = Vec::new();
    let mut shifted = Vec::new();
    for seed in 0..seeds {
        let mut rng = SeededRng::new(seed);
        let x = gaussian(60, &[0.0, 0.0], s, &mut rng);
        let y = gaussian(60, &[0.0, 0.0], s, &mut rng);
        let z = gaussian(60, &[1.0, 0.0], s, &mut rng);
        same.push(mmd_squared(&x, &y, d, h).unwrap());
        shifted.push(mmd_squared(&x, &z, d, h).unwrap());
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let sd = |v: &[f64]| {
        let m = mean(v);
        (v.iter().map(|a| (a - m).powi(2)).sum::<f64>() / (v.len() - 1) as f64).sqrt()
    };
    let standard_error = sd(&same) / (seeds as f64).sqrt();
    assert!(
        mean(&same).abs() < 4.0 * standard_error,
        "mean {} ± {standard_error}",
        mean(&same)
    );
    assert!(
        same.iter().any(|v| *v < 0.0),
        "unbiased: some estimates are negative"
    );
    let exact = mmd2_exact(d, s, 1.0, h);
    let standard_error = sd(&shifted) / (seeds as f64).sqrt();
    assert!(
        (mean(&shifted) - exact).abs() < 4.0 * standard_error,
        "{} vs {exact} ± {standard_error}",
        mean(&shifted)
    );
    // A large set against itself: close to zero (exactly −2/n · (1 − mean kernel) in expectation).
    let mut rng = SeededRng::new(5);
    let x = gaussian(1000, &[0.0, 0.0], s, &mut rng);
    assert!(mmd_squared(&x, &x, d, h).unwrap().abs() < 2e-3);
    let h = median_bandwidth(&x, &x, 2).unwrap();
    // The median distance between two N(0, I) points in 2D is 2 √(ln 2) ≈ 1.665.
    assert!((h - 2.0 * 2f64.ln().sqrt()).abs() < 0.1, "{h}");
    assert!(mmd_squared(&x, &x, d, 0.0).is_err());
    assert!(mmd_squared(&x[..2], &x, d, 1.0).is_err());
}

#[test]
fn mode_coverage_counts_the_modes_drawn_from() {
    // Samples from 7 of the 8 Gaussians: 7 modes covered, all samples high quality.
    let modes = Toy2d::EightGaussians.modes().unwrap();
    let mut rng = SeededRng::new(3);
    let mut samples = Vec::new();
    for i in 0..7000 {
        let k = i % 7;
        let c = &modes.centres()[2 * k..2 * k + 2];
        samples.extend([c[0] + 0.1 * rng.normal(), c[1] + 0.1 * rng.normal()]);
    }
    let report = mode_coverage(&samples, &modes, 50).unwrap();
    assert_eq!(report.covered, 7);
    assert_eq!(report.counts[7], 0);
    // Within 3σ in 2D: P(χ²₂ ≤ 9) = 1 − e^{−4.5} = 0.98889.
    let expected = 1.0 - (-4.5f64).exp();
    assert!(
        (report.high_quality_fraction - expected).abs() < 0.005,
        "{}",
        report.high_quality_fraction
    );
    // Far-away samples are not high quality and cover nothing.
    let report = mode_coverage(&[10.0, 10.0, 0.0, 0.0], &modes, 1).unwrap();
    assert_eq!((report.covered, report.high_quality_fraction), (0, 0.0));
    // The 25-grid and a hand-made set of modes in 3D.
    let grid = Toy2d::Grid25.sample(5000, &mut rng);
    let report = mode_coverage(&grid, &Toy2d::Grid25.modes().unwrap(), 100).unwrap();
    assert_eq!(report.covered, 25);
    let modes3 = Modes::new(vec![0.0, 0.0, 0.0, 1.0, 1.0, 1.0], 3, 0.1).unwrap();
    let report = mode_coverage(&[0.05, 0.0, 0.0, 0.9, 1.0, 1.0], &modes3, 1).unwrap();
    assert_eq!((report.covered, report.counts.clone()), (2, vec![1, 1]));
    assert!(Modes::new(vec![0.0, 0.0], 2, 0.0).is_err());
    assert!(Toy2d::SwissRoll.modes().is_err());
}

#[test]
fn likelihood_figures_and_the_dequantisation_offset() {
    assert_eq!(nll_nats(&[-1.0, -3.0]).unwrap(), 2.0);
    assert!(nll_nats(&[]).is_err());
    assert!(nll_nats(&[f64::NAN]).is_err());
    let ln2 = std::f64::consts::LN_2;
    assert!((bits_per_dim(10.0 * ln2, 5).unwrap() - 2.0).abs() < 1e-12);
    assert!(bits_per_dim(1.0, 0).is_err());
    // A model uniform on the rescaled range has NLL D ln(width): 8 bits per dimension whatever
    // the scaling, since the uniform on 256 levels has exactly 8 bits.
    let d = 3072;
    for (scaling, width) in [
        (ByteScaling::Raw, 256.0f64),
        (ByteScaling::UnitInterval, 1.0),
        (ByteScaling::Symmetric, 2.0),
    ] {
        let nll = d as f64 * width.ln();
        let bpd = dequantized_bits_per_dim(nll, d, scaling).unwrap();
        assert!((bpd - 8.0).abs() < 1e-12, "{scaling:?}: {bpd}");
    }
    // Dequantised values stay inside each level's cell of the scaled range.
    let mut rng = SeededRng::new(2);
    let bytes = [0u8, 17, 255];
    for scaling in [ByteScaling::UnitInterval, ByteScaling::Symmetric] {
        let y = dequantize(&bytes, scaling, &mut rng);
        for (&b, &v) in bytes.iter().zip(&y) {
            let lo = scaling.apply(b, 0.0);
            let hi = scaling.apply(b, 1.0);
            assert!(lo <= v && v < hi, "{scaling:?}: {b} -> {v}");
        }
        let range = (scaling.apply(0, 0.0), scaling.apply(255, 1.0));
        let expected = match scaling {
            ByteScaling::Symmetric => (-1.0, 1.0),
            _ => (0.0, 1.0),
        };
        assert_eq!(range, expected);
    }
}

/// The closed form ‖μ₁−μ₂‖² + tr(Σ₁+Σ₂−2(Σ₁^{1/2}Σ₂Σ₁^{1/2})^{1/2}) for 2 × 2 covariances,
/// with the square roots of 2 × 2 SPD matrices in closed form: √M = (M + √det I)/√(tr + 2√det).
fn frechet_2x2(m1: [f64; 2], c1: [f64; 3], m2: [f64; 2], c2: [f64; 3]) -> f64 {
    let sqrt2 = |[a, b, d]: [f64; 3]| {
        let s = (a * d - b * b).sqrt();
        let t = (a + d + 2.0 * s).sqrt();
        [(a + s) / t, b / t, (d + s) / t]
    };
    let mul = |[a, b, c, d]: [f64; 4], [e, f, g, h]: [f64; 4]| {
        [a * e + b * g, a * f + b * h, c * e + d * g, c * f + d * h]
    };
    let r1 = sqrt2(c1);
    let r1m = [r1[0], r1[1], r1[1], r1[2]];
    let c2m = [c2[0], c2[1], c2[1], c2[2]];
    let m = mul(mul(r1m, c2m), r1m);
    let root = sqrt2([m[0], 0.5 * (m[1] + m[2]), m[3]]);
    let mean = (m1[0] - m2[0]).powi(2) + (m1[1] - m2[1]).powi(2);
    mean + c1[0] + c1[2] + c2[0] + c2[2] - 2.0 * (root[0] + root[2])
}

fn fit(mean: [f64; 2], cov: [f64; 3]) -> GaussianFit {
    GaussianFit {
        mean: mean.to_vec(),
        covariance: Matrix::from_rows(&[[cov[0], cov[1]], [cov[1], cov[2]]]).unwrap(),
    }
}

#[test]
fn frechet_distance_matches_the_closed_form() {
    let (m1, c1) = ([0.5, -1.0], [2.0, 0.6, 1.0]);
    let (m2, c2) = ([-0.3, 0.4], [0.5, -0.2, 1.5]);
    let exact = frechet_2x2(m1, c1, m2, c2);
    let got = frechet_distance_gaussians(&fit(m1, c1), &fit(m2, c2)).unwrap();
    assert!((got - exact).abs() < 1e-10, "{got} vs {exact}");
    // Symmetric in its arguments, zero for equal Gaussians.
    let back = frechet_distance_gaussians(&fit(m2, c2), &fit(m1, c1)).unwrap();
    assert!((back - exact).abs() < 1e-10);
    assert!(frechet_distance_gaussians(&fit(m1, c1), &fit(m1, c1)).unwrap() < 1e-12);
    // Diagonal covariances commute: Σ (√a − √b)² for the trace term.
    let diag = frechet_distance_gaussians(
        &fit([0.0; 2], [4.0, 0.0, 1.0]),
        &fit([0.0; 2], [1.0, 0.0, 9.0]),
    )
    .unwrap();
    assert!((diag - (1.0 + 4.0)).abs() < 1e-12, "{diag}");

    // Fitted to samples of the two Gaussians (x = μ + L z with L the Cholesky factor).
    let sample = |m: [f64; 2], [a, b, d]: [f64; 3], n: usize, rng: &mut SeededRng| {
        let l11 = a.sqrt();
        let l21 = b / l11;
        let l22 = (d - l21 * l21).sqrt();
        (0..n)
            .flat_map(|_| {
                let (z1, z2) = (rng.normal(), rng.normal());
                [m[0] + l11 * z1, m[1] + l21 * z1 + l22 * z2]
            })
            .collect::<Vec<_>>()
    };
    let mut rng = SeededRng::new(8);
    let a = sample(m1, c1, 100_000, &mut rng);
    let b = sample(m2, c2, 100_000, &mut rng);
    let estimated = frechet_distance(&a, &b, 2).unwrap();
    assert!(
        (estimated - exact).abs() < 0.02 * exact,
        "{estimated} vs {exact}"
    );
    // Typed errors: too few rows, mismatched dimensions.
    assert!(matches!(
        frechet_distance(&a[..2], &b, 2),
        Err(DataError::Shape { .. })
    ));
    let three = GaussianFit {
        mean: vec![0.0; 3],
        covariance: Matrix::identity(3),
    };
    assert!(frechet_distance_gaussians(&fit(m1, c1), &three).is_err());
}

#[test]
fn class_accuracy_of_conditional_samples() {
    let acc = class_accuracy(&[3, 3, 1, 0, 0], &[3, 3, 1, 1, 0], 4).unwrap();
    assert_eq!(acc.overall, 0.8);
    assert_eq!(acc.per_class, vec![Some(1.0), Some(0.5), None, Some(1.0)]);
    assert!(class_accuracy(&[0], &[0, 1], 2).is_err());
    assert!(class_accuracy(&[], &[], 2).is_err());
    let err = class_accuracy(&[5], &[0], 2).unwrap_err();
    assert!(err.to_string().contains("label 5"), "{err}");
}
