//! Gaussian mixtures: the log density against the formula, the exact score of the noised
//! mixture against finite differences of its log density and against hand values, stable
//! responsibilities far from the data, sampling frequencies, and typed errors.

use sysdyn_core::device::DeviceSpec;
use sysdyn_core::rng::SeededRng;
use sysdyn_generative::GenerativeError;
use sysdyn_generative::mixture::GaussianMixture;

fn diagonal_2d() -> GaussianMixture {
    GaussianMixture::diagonal(
        vec![1.0, 3.0],
        vec![0.0, 1.0, 2.0, -1.0],
        vec![0.5, 0.2, 1.0, 0.3],
        2,
    )
    .unwrap()
}

#[test]
fn the_log_density_is_the_weighted_sum_of_the_components() {
    let mixture = diagonal_2d();
    assert_eq!(mixture.weights(), &[0.25, 0.75]);
    let normal = |x: f64, m: f64, s: f64| {
        (-(x - m).powi(2) / (2.0 * s * s)).exp() / (s * (2.0 * std::f64::consts::PI).sqrt())
    };
    for x in [[0.3, 0.8], [1.7, -0.5], [5.0, 5.0]] {
        let expected = 0.25 * normal(x[0], 0.0, 0.5) * normal(x[1], 1.0, 0.2)
            + 0.75 * normal(x[0], 2.0, 1.0) * normal(x[1], -1.0, 0.3);
        let got = mixture.log_density(&x).unwrap()[0];
        assert!(
            (got - expected.ln()).abs() < 1e-12,
            "{got} vs {}",
            expected.ln()
        );
    }
}

#[test]
fn the_exact_score_is_the_gradient_of_the_noised_log_density() {
    let mixture = diagonal_2d();
    let x = [0.3, 0.8, 1.7, -0.5, -2.0, 3.0];
    for (m, s) in [(1.0, 0.0), (0.6, 0.8), (1.0, 2.5), (0.0, 1.0), (0.05, 0.99)] {
        let score = mixture.score(&x, m, s).unwrap();
        let noised = mixture.noised(m, s).unwrap();
        let h = 1e-5;
        for i in 0..x.len() {
            let (mut plus, mut minus) = (x, x);
            plus[i] += h;
            minus[i] -= h;
            let row = i / 2;
            let fd = (noised.log_density(&plus).unwrap()[row]
                - noised.log_density(&minus).unwrap()[row])
                / (2.0 * h);
            assert!(
                (score[i] - fd).abs() < 1e-6 * (1.0 + fd.abs()),
                "m = {m}, s = {s}, i = {i}: {} vs {fd}",
                score[i]
            );
        }
    }
    // m = 0: every component is N(0, s²), so the score is −x/s².
    let pure_noise = mixture.score(&x, 0.0, 2.0).unwrap();
    for (g, xi) in pure_noise.iter().zip(x) {
        assert!((g + xi / 4.0).abs() < 1e-14);
    }
}

#[test]
fn one_component_gives_the_gaussian_score_and_far_points_stay_finite() {
    // N(μ, σ²) noised: score −(x − mμ)/(m²σ² + s²).
    let single = GaussianMixture::isotropic(vec![1.0], vec![1.5], vec![0.4], 1).unwrap();
    let (m, s) = (0.8, 0.6);
    let score = single.score(&[2.0], m, s).unwrap()[0];
    let expected = -(2.0 - m * 1.5) / (m * m * 0.16 + s * s);
    assert!((score - expected).abs() < 1e-14);

    // 8 Gaussians of std 0.1: at distance 1000 every component's density underflows, but the
    // log-sum-exp responsibilities keep the score finite and pointing home, ≈ −(x − μ_k)/σ² of
    // the nearest component.
    let circle = GaussianMixture::circle(8, 2.0, 0.1).unwrap();
    let far = [1000.0, 0.0];
    let score = circle.score(&far, 1.0, 0.0).unwrap();
    assert!((score[0] + (1000.0 - 2.0) / 0.01).abs() < 1e-6, "{score:?}");
    assert!(score[1].abs() < 1e-6);
    let r = circle.responsibilities(&far).unwrap();
    assert!((r[0] - 1.0).abs() < 1e-12 && r.iter().all(|v| v.is_finite()));
}

#[test]
fn samples_follow_the_weights_and_components() {
    let mixture =
        GaussianMixture::isotropic(vec![0.3, 0.7], vec![-1.0, 2.0], vec![0.3, 0.5], 1).unwrap();
    let n = 20_000;
    let (x, components) = mixture.sample_with_components(&mut SeededRng::new(3), n);
    let fractions = mixture.component_fractions(&x).unwrap();
    let drawn = components.iter().filter(|k| **k == 0).count() as f64 / n as f64;
    let se = (0.3f64 * 0.7 / n as f64).sqrt();
    assert!((drawn - 0.3).abs() < 3.0 * se, "{drawn}");
    // Assignment by responsibilities agrees with the drawn components (the modes are 6σ apart).
    assert!(
        (fractions[0] - drawn).abs() < 1e-3,
        "{fractions:?} vs {drawn}"
    );
    let mean0 = x
        .iter()
        .zip(&components)
        .filter(|(_, k)| **k == 0)
        .map(|(v, _)| v)
        .sum::<f64>()
        / (drawn * n as f64);
    assert!((mean0 + 1.0).abs() < 3.0 * 0.3 / (drawn * n as f64).sqrt());
}

#[test]
fn bad_mixtures_and_points_are_refused_with_typed_errors() {
    let invalid = |r: Result<GaussianMixture, GenerativeError>| {
        matches!(
            r,
            Err(GenerativeError::InvalidParameter { .. } | GenerativeError::ShapeMismatch { .. })
        )
    };
    assert!(invalid(GaussianMixture::isotropic(
        vec![],
        vec![],
        vec![],
        1
    )));
    assert!(invalid(GaussianMixture::isotropic(
        vec![1.0],
        vec![0.0],
        vec![0.0],
        1
    )));
    assert!(invalid(GaussianMixture::isotropic(
        vec![-1.0],
        vec![0.0],
        vec![1.0],
        1
    )));
    assert!(invalid(GaussianMixture::isotropic(
        vec![1.0],
        vec![0.0, 1.0],
        vec![1.0],
        1
    )));
    assert!(invalid(GaussianMixture::isotropic(
        vec![1.0],
        vec![f64::NAN],
        vec![1.0],
        1
    )));
    assert!(invalid(GaussianMixture::diagonal(
        vec![1.0],
        vec![0.0, 0.0],
        vec![1.0],
        2
    )));
    let mixture = diagonal_2d();
    assert!(mixture.score(&[0.0, 0.0], 0.0, 0.0).is_err());
    assert!(mixture.score(&[0.0, 0.0], -1.0, 1.0).is_err());
    assert!(matches!(
        mixture.log_density(&[0.0, 0.0, 1.0]),
        Err(GenerativeError::ShapeMismatch { .. })
    ));
}

/// The tensor form of the score equals the host form on every row, far points included, and
/// refuses a point of the wrong dimension.
#[test]
fn the_tensor_score_equals_the_host_score() {
    let device = "flex:f64".parse::<DeviceSpec>().unwrap().init().unwrap();
    let mixture = diagonal_2d();
    let points = vec![0.3, 0.8, 1.7, -0.5, 5.0, 5.0, -40.0, 60.0, 0.0, 0.0];
    for (m, s) in [(1.0, 0.0), (0.8, 0.6), (0.1, 2.0), (0.0, 1.0)] {
        let host = mixture.score(&points, m, s).unwrap();
        let x = device.tensor(points.clone(), [5, 2]).unwrap();
        let tensor: Vec<f64> = mixture
            .score_tensor(x, m, s)
            .unwrap()
            .into_data()
            .convert::<f64>()
            .try_to_vec::<f64>()
            .unwrap();
        for (a, b) in host.iter().zip(&tensor) {
            assert!(
                (a - b).abs() < 1e-10 * (1.0 + a.abs()),
                "(m, s) = ({m}, {s}): host {a} vs tensor {b}"
            );
        }
    }
    let wrong = device.tensor(vec![0.0; 3], [1, 3]).unwrap();
    assert!(matches!(
        mixture.score_tensor(wrong, 1.0, 0.5),
        Err(GenerativeError::ShapeMismatch { .. })
    ));
}
