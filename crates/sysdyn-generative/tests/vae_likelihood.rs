//! The VAE's decoder likelihoods against hand-computed values: Bernoulli on logits (finite at
//! |l| = 100), Gaussian with fixed, shared and decoded variance, and the discretised logistic,
//! whose probabilities over all bins sum to one.

use std::sync::OnceLock;

use burn::tensor::Tensor;
use sysdyn_core::device::{DeviceSpec, SysDevice};
use sysdyn_generative::GenerativeError;
use sysdyn_generative::vae::{
    Discretisation, Likelihood, Variance, bernoulli_log_prob, discretised_logistic_log_prob,
    gaussian_log_prob,
};

fn device() -> SysDevice {
    static DEVICE: OnceLock<SysDevice> = OnceLock::new();
    DEVICE
        .get_or_init(|| {
            let mut device: SysDevice = "flex:f64:autodiff"
                .parse::<DeviceSpec>()
                .unwrap()
                .init()
                .unwrap();
            device.configure_defaults().unwrap();
            device
        })
        .clone()
}

fn host<const D: usize>(t: Tensor<D>) -> Vec<f64> {
    t.into_data().convert::<f64>().try_to_vec::<f64>().unwrap()
}

fn rows(values: Vec<f64>, shape: [usize; 2]) -> Tensor<2> {
    device().tensor(values, shape).unwrap()
}

fn softplus(x: f64) -> f64 {
    x.max(0.0) + (-x.abs()).exp().ln_1p()
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

#[test]
fn bernoulli_matches_hand_values_and_stays_finite_when_saturated() {
    // Rows: (x, l) = (1, 0), (0, 2), (1, 100), (0, 100), (1, −100), (0.3, −1).
    let x = rows(vec![1.0, 0.0, 1.0, 0.0, 1.0, 0.3], [6, 1]);
    let l = rows(vec![0.0, 2.0, 100.0, 100.0, -100.0, -1.0], [6, 1]);
    let got = host(bernoulli_log_prob(x, l.clone().require_grad()).unwrap());
    let expected = [
        -(2f64).ln(),
        -softplus(2.0),
        -(-100f64).exp(), // log σ(100) = −log(1 + e⁻¹⁰⁰)
        -100.0 - (-100f64).exp(),
        -100.0 - (-100f64).exp(),
        -0.3 - softplus(-1.0), // x·l = 0.3 · (−1)
    ];
    for (g, e) in got.iter().zip(expected) {
        assert!((g - e).abs() < 1e-14, "{got:?} against {expected:?}");
    }
    // Two features in one row add up.
    let x = rows(vec![1.0, 0.0], [1, 2]);
    let l = rows(vec![0.0, 2.0], [1, 2]).require_grad();
    let row = bernoulli_log_prob(x, l.clone()).unwrap();
    assert!((host(row.clone())[0] - (-(2f64).ln() - softplus(2.0))).abs() < 1e-14);
    // The gradient x − σ(l) is finite at |l| = 100 too.
    let l = rows(vec![100.0, -100.0], [1, 2]).require_grad();
    let grads = bernoulli_log_prob(rows(vec![0.0, 1.0], [1, 2]), l.clone())
        .unwrap()
        .sum()
        .backward();
    let g = host(l.grad(&grads).unwrap());
    assert!(
        (g[0] + 1.0).abs() < 1e-14 && (g[1] - 1.0).abs() < 1e-14,
        "{g:?}"
    );
}

#[test]
fn gaussians_match_hand_values() {
    let log_2pi = (2.0 * std::f64::consts::PI).ln();
    // N(1; 0, 4) and N(−1; 0.5, 4): −½(log 2π + log 4 + (x − μ)²/4).
    let x = rows(vec![1.0, -1.0], [1, 2]);
    let mu = rows(vec![0.0, 0.5], [1, 2]);
    let expected = -0.5 * (log_2pi + 4f64.ln() + 0.25) - 0.5 * (log_2pi + 4f64.ln() + 2.25 / 4.0);
    let lv = rows(vec![4f64.ln(); 2], [1, 2]);
    let direct = host(gaussian_log_prob(x.clone(), mu.clone(), lv).unwrap())[0];
    assert!((direct - expected).abs() < 1e-14);
    let fixed = Likelihood::Gaussian(Variance::Fixed(4.0));
    let got = host(fixed.log_prob(x.clone(), mu.clone(), None).unwrap())[0];
    assert!((got - expected).abs() < 1e-14, "fixed: {got} vs {expected}");
    // Shared: the model's single log σ².
    let shared = Likelihood::Gaussian(Variance::Shared);
    let log_var = device().tensor(vec![4f64.ln()], [1]).unwrap();
    let got = host(
        shared
            .log_prob(x.clone(), mu.clone(), Some(log_var))
            .unwrap(),
    )[0];
    assert!(
        (got - expected).abs() < 1e-14,
        "shared: {got} vs {expected}"
    );
    assert!(matches!(
        shared.log_prob(x.clone(), mu.clone(), None),
        Err(GenerativeError::Unsupported { .. })
    ));
    // Per feature: the decoder outputs [μ, log σ²].
    let per = Likelihood::Gaussian(Variance::PerFeature);
    let out = rows(vec![0.0, 0.5, 4f64.ln(), 4f64.ln()], [1, 4]);
    let got = host(per.log_prob(x.clone(), out, None).unwrap())[0];
    assert!(
        (got - expected).abs() < 1e-14,
        "per feature: {got} vs {expected}"
    );
    // A huge decoded log-variance is clamped: finite.
    let out = rows(vec![0.0, 0.5, 1e6, -1e6], [1, 4]);
    assert!(host(per.log_prob(x.clone(), out, None).unwrap())[0].is_finite());
    // An output of the wrong width is refused.
    assert!(matches!(
        per.log_prob(x, mu, None),
        Err(GenerativeError::ShapeMismatch { .. })
    ));
    assert!(
        Likelihood::Gaussian(Variance::Fixed(0.0))
            .validate()
            .is_err()
    );
}

/// The mass of a logistic of location `mu` and scale `s` on the bin of `x` (the first and last
/// bins extended to ±∞), computed naïvely.
fn naive_bin(x: f64, mu: f64, s: f64, grid: Discretisation) -> f64 {
    let h = 0.5 * grid.bin_width();
    let cdf = |u: f64| sigmoid((u - mu) / s);
    let upper = if x > grid.high - h { 1.0 } else { cdf(x + h) };
    let lower = if x < grid.low + h { 0.0 } else { cdf(x - h) };
    upper - lower
}

#[test]
fn the_discretised_logistic_matches_naive_bins_and_sums_to_one() {
    for grid in [
        Discretisation::UNIT_8BIT,
        Discretisation::SYMMETRIC_8BIT,
        Discretisation {
            low: 0.0,
            high: 1.0,
            levels: 4,
        },
    ] {
        let n = grid.levels;
        let values: Vec<f64> = (0..n)
            .map(|i| grid.low + i as f64 * grid.bin_width())
            .collect();
        // Locations inside, at the edges and far outside the range; scales from tiny (the
        // clamp's e⁻⁷) to wide; in every case the n bins' probabilities sum to one.
        for (mu, log_s) in [
            (0.3, -3.0),
            (grid.low, -7.0),
            (grid.high, -5.0),
            (0.5 * (grid.low + grid.high), 0.0),
            (5.0, -2.0),
            (-40.0, 1.0),
            (0.1, 6.0),
        ] {
            let x = rows(values.clone(), [n, 1]);
            let mean = rows(vec![mu; n], [n, 1]);
            let log_scale = rows(vec![log_s; n], [n, 1]);
            let log_p = host(discretised_logistic_log_prob(x, mean, log_scale, grid).unwrap());
            assert!(log_p.iter().all(|v| v.is_finite()), "{log_p:?}");
            let total: f64 = log_p.iter().map(|v| v.exp()).sum();
            assert!(
                (total - 1.0).abs() < 1e-9,
                "grid {grid:?}, μ {mu}, log s {log_s}: Σ p = {total}"
            );
            for (i, (&x, &lp)) in values.iter().zip(&log_p).enumerate() {
                let p = naive_bin(x, mu, log_s.exp(), grid);
                // Where the naive difference is accurate (not tiny), the two agree.
                if p > 1e-6 {
                    assert!(
                        (lp.exp() - p).abs() < 1e-9 * p.max(1e-3),
                        "bin {i}: {} against naive {p}",
                        lp.exp()
                    );
                }
            }
        }
    }
    // A bin far in the tail is finite (the naive difference would be 0 − 0).
    let x = rows(vec![0.5], [1, 1]);
    let far = host(
        discretised_logistic_log_prob(
            x,
            rows(vec![-30.0], [1, 1]),
            rows(vec![-7.0], [1, 1]),
            Discretisation::UNIT_8BIT,
        )
        .unwrap(),
    )[0];
    assert!(far.is_finite() && far < -1e4, "{far}");
    assert!(
        Discretisation {
            low: 0.0,
            high: 1.0,
            levels: 1
        }
        .validate()
        .is_err()
    );
}

#[test]
fn the_likelihoods_mean_is_what_the_decoder_predicts() {
    let out = rows(vec![0.0, 100.0, -100.0], [1, 3]);
    let m = host(Likelihood::Bernoulli.mean(out));
    assert!((m[0] - 0.5).abs() < 1e-15 && (m[1] - 1.0).abs() < 1e-15 && m[2] < 1e-40);
    let out = rows(vec![-0.5, 0.4, 3.0, 3.0], [1, 4]);
    let m = host(Likelihood::DiscretisedLogistic(Discretisation::UNIT_8BIT).mean(out));
    assert_eq!(m, vec![0.0, 0.4]);
}
