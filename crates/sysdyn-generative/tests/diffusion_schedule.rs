//! The forward process of discrete-time diffusion: the closed-form marginal `q(x_t | x₀)`
//! against iterating `q(x_t | x_{t−1})` (exactly, by the moment recursion, and by Monte
//! Carlo), the posterior `q(x_{t−1} | x_t, x₀)` against the Gaussian product of Bayes' rule, the
//! schedules' definitions, and typed errors for impossible schedules.

use sysdyn_core::rng::SeededRng;
use sysdyn_generative::GenerativeError;
use sysdyn_generative::diffusion::NoiseSchedule;
use sysdyn_generative::mixture::GaussianMixture;

fn schedules() -> Vec<(&'static str, NoiseSchedule)> {
    vec![
        ("linear", NoiseSchedule::ddpm_linear()),
        ("cosine", NoiseSchedule::cosine_default(1000).unwrap()),
    ]
}

/// The 1-D two-component mixture 0.3·N(−1, 0.3²) + 0.7·N(2, 0.5²): its mean and variance.
fn data() -> (GaussianMixture, f64, f64) {
    let mixture =
        GaussianMixture::isotropic(vec![0.3, 0.7], vec![-1.0, 2.0], vec![0.3, 0.5], 1).unwrap();
    let mean = -0.3 + 0.7 * 2.0; // 0.3·(−1) + 0.7·2
    let second = 0.3 * (0.09 + 1.0) + 0.7 * (0.25 + 4.0);
    (mixture, mean, second - mean * mean)
}

#[test]
fn the_linear_schedule_is_w3s_and_the_cosine_schedule_follows_its_definition() {
    let linear = NoiseSchedule::ddpm_linear();
    assert_eq!(linear.steps(), 1000);
    assert_eq!(linear.betas()[0], 1e-4);
    assert!((linear.betas()[999] - 0.02).abs() < 1e-15);
    assert!((linear.betas()[500] - (1e-4 + (0.02 - 1e-4) * 500.0 / 999.0)).abs() < 1e-15);
    let mut product = 1.0;
    for t in 0..1000 {
        product *= 1.0 - linear.betas()[t];
        assert!((linear.alpha_bars()[t] - product).abs() < 1e-15);
        assert_eq!(linear.alphas()[t], 1.0 - linear.betas()[t]);
    }

    let cosine = NoiseSchedule::cosine(1000, 0.008).unwrap();
    let f = |tau: f64| {
        ((tau / 1000.0 + 0.008) / 1.008 * std::f64::consts::FRAC_PI_2)
            .cos()
            .powi(2)
    };
    // Where no β is clipped, ᾱ_t = f(t + 1)/f(0).
    for t in [0, 1, 10, 100, 500, 900, 990] {
        let expected = f(t as f64 + 1.0) / f(0.0);
        assert!(
            (cosine.alpha_bars()[t] - expected).abs() < 1e-12,
            "t = {t}: {} vs {expected}",
            cosine.alpha_bars()[t]
        );
    }
    // f(T) = 0, so the last β is clipped at 0.999, and no β exceeds it.
    assert_eq!(cosine.betas()[999], 0.999);
    assert!(cosine.betas().iter().all(|b| *b > 0.0 && *b <= 0.999));
}

#[test]
fn iterating_the_one_step_kernel_reproduces_the_closed_form_marginal() {
    let (mixture, mean0, var0) = data();
    for (name, schedule) in schedules() {
        // Exactly: E x_t = √α_t E x_{t−1}, Var x_t = α_t Var x_{t−1} + β_t.
        let (mut mean, mut var) = (mean0, var0);
        for t in 0..schedule.steps() {
            let alpha = schedule.alphas()[t];
            mean *= alpha.sqrt();
            var = alpha * var + schedule.betas()[t];
            let m = schedule.marginal(t).unwrap();
            let closed_mean = m.signal * mean0;
            let closed_var = m.signal * m.signal * var0 + m.noise * m.noise;
            assert!((mean - closed_mean).abs() < 1e-12, "{name} t = {t}");
            assert!((var - closed_var).abs() < 1e-12, "{name} t = {t}");
        }
    }

    // By Monte Carlo: 20 000 chains x_t = √α_t x_{t−1} + √β_t z from mixture data; the sample
    // mean and variance at several steps within 3 standard errors of the closed form.
    let schedule = NoiseSchedule::ddpm_linear();
    let n = 20_000;
    let mut rng = SeededRng::new(7);
    let mut x = mixture.sample(&mut rng, n);
    for t in 0..schedule.steps() {
        let (a, b) = (schedule.alphas()[t].sqrt(), schedule.betas()[t].sqrt());
        for v in x.iter_mut() {
            *v = a * *v + b * rng.normal();
        }
        if [0, 9, 99, 499, 999].contains(&t) {
            let m = schedule.marginal(t).unwrap();
            let mean = m.signal * mean0;
            let var = m.signal * m.signal * var0 + m.noise * m.noise;
            let sample_mean = x.iter().sum::<f64>() / n as f64;
            let sample_var =
                x.iter().map(|v| (v - sample_mean).powi(2)).sum::<f64>() / (n - 1) as f64;
            let mean_se = (var / n as f64).sqrt();
            // Var of the sample variance: (μ₄ − σ⁴ (n−3)/(n−1)) / n; bounded here with the
            // Gaussian 2σ⁴/(n−1) scaled by the data's kurtosis ≤ 3 + 3 (a bimodal mixture is
            // platykurtic after noising), i.e. at most σ²·√(6/(n−1)) — use the sample's own μ₄.
            let mu4 = x.iter().map(|v| (v - sample_mean).powi(4)).sum::<f64>() / n as f64;
            let var_se = ((mu4 - sample_var * sample_var * (n as f64 - 3.0) / (n as f64 - 1.0))
                / n as f64)
                .sqrt();
            assert!(
                (sample_mean - mean).abs() < 3.0 * mean_se,
                "t = {t}: mean {sample_mean} vs {mean} (SE {mean_se})"
            );
            assert!(
                (sample_var - var).abs() < 3.0 * var_se,
                "t = {t}: variance {sample_var} vs {var} (SE {var_se})"
            );
        }
    }
}

#[test]
fn the_posterior_is_the_gaussian_product_of_bayes_rule() {
    for (name, schedule) in schedules() {
        for t in [1, 2, 10, 250, 500, 998, 999] {
            let before = schedule.alpha_bars()[t - 1];
            let (alpha, beta) = (schedule.alphas()[t], schedule.betas()[t]);
            // q(x_{t−1} | x₀) = N(√ᾱ_{t−1} x₀, 1 − ᾱ_{t−1}); q(x_t | x_{t−1}) = N(√α_t x_{t−1}, β_t)
            // as a function of x_{t−1} has precision α_t/β_t and mean x_t/√α_t.
            let precision = 1.0 / (1.0 - before) + alpha / beta;
            let variance = 1.0 / precision;
            let posterior = schedule.posterior(t).unwrap();
            assert!(
                (posterior.variance - variance).abs() <= 1e-12 * variance,
                "{name} t = {t}"
            );
            for (x0, xt) in [(0.7, -1.3), (-2.0, 0.4), (1.5, 2.5)] {
                let mean =
                    variance * (before.sqrt() * x0 / (1.0 - before) + alpha.sqrt() * xt / beta);
                let got = posterior.x0_coef * x0 + posterior.xt_coef * xt;
                assert!(
                    (got - mean).abs() < 1e-10,
                    "{name} t = {t}: {got} vs {mean}"
                );
            }
        }
        // Before the first step the posterior is the data point itself.
        let first = schedule.posterior(0).unwrap();
        // (β₀ / (1 − (1 − β₀)) rounds to 1 within a few ulps.)
        assert!((first.x0_coef - 1.0).abs() < 1e-12);
        assert_eq!((first.xt_coef, first.variance), (0.0, 0.0));
    }
}

#[test]
fn impossible_schedules_are_refused_with_typed_errors() {
    for betas in [
        vec![0.5, 1.0],
        vec![0.0],
        vec![-0.1, 0.2],
        vec![f64::NAN],
        vec![],
    ] {
        assert!(
            matches!(
                NoiseSchedule::from_betas(betas.clone()),
                Err(GenerativeError::InvalidParameter { .. })
            ),
            "{betas:?}"
        );
    }
    assert!(matches!(
        NoiseSchedule::linear(0, 1e-4, 0.02),
        Err(GenerativeError::InvalidParameter {
            name: "diffusion steps T",
            ..
        })
    ));
    assert!(matches!(
        NoiseSchedule::linear(10, 0.0, 0.02),
        Err(GenerativeError::InvalidParameter { name: "beta_t", .. })
    ));
    assert!(matches!(
        NoiseSchedule::linear(10, 1e-4, 1.5),
        Err(GenerativeError::InvalidParameter { name: "beta_t", .. })
    ));
    assert!(NoiseSchedule::cosine(0, 0.008).is_err());
    assert!(NoiseSchedule::cosine(100, -0.1).is_err());
    let schedule = NoiseSchedule::ddpm_linear();
    assert!(matches!(
        schedule.marginal(1000),
        Err(GenerativeError::InvalidParameter {
            name: "diffusion step t",
            ..
        })
    ));
    assert!(schedule.posterior(1000).is_err());
}
