//! The VAE's posterior `q(z|x) = N(μ, diag σ²)`: the analytic KL against its closed form and a
//! Monte-Carlo estimate, the reparametrised gradient against the analytic gradient, and the
//! clamp that keeps a huge log-variance finite.

use std::sync::OnceLock;

use burn::tensor::Tensor;
use sysdyn_core::device::{DeviceSpec, SysDevice};
use sysdyn_core::rng::SeededRng;
use sysdyn_generative::GenerativeError;
use sysdyn_generative::vae::{
    DiagonalGaussian, LOG_VAR_MAX, LOG_VAR_MIN, standard_normal_log_prob,
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

fn gaussian(mean: &[f64], log_var: &[f64]) -> DiagonalGaussian {
    let d = device();
    let n = mean.len();
    DiagonalGaussian::new(
        d.tensor(mean.to_vec(), [1, n]).unwrap(),
        d.tensor(log_var.to_vec(), [1, n]).unwrap(),
    )
    .unwrap()
}

#[test]
fn the_kl_matches_its_closed_form() {
    // KL(N(1, 2²) ‖ N(0, 1)) = ½(σ² + μ² − 1 − ln σ²) = ½(4 + 1 − 1 − ln 4) = 2 − ln 2.
    let q = gaussian(&[1.0], &[4f64.ln()]);
    let kl = q.kl_to_standard_normal().into_scalar::<f64>();
    assert!((kl - (2.0 - 2f64.ln())).abs() < 1e-14, "{kl}");
    // The prior itself: zero.
    let prior = gaussian(&[0.0, 0.0], &[0.0, 0.0]);
    assert_eq!(prior.kl_to_standard_normal().into_scalar::<f64>(), 0.0);
    // Per dimension: ½(μ² + σ² − 1 − ln σ²) each, summing to the row's KL.
    let (mu, var) = ([0.3, -2.0, 0.0], [0.5, 1.0, 3.0]);
    let log_var: Vec<f64> = var.iter().map(|v: &f64| v.ln()).collect();
    let q = gaussian(&mu, &log_var);
    let per_dim = host(q.kl_per_dimension());
    for j in 0..3 {
        let expected = 0.5 * (mu[j] * mu[j] + var[j] - 1.0 - var[j].ln());
        assert!((per_dim[j] - expected).abs() < 1e-14, "dimension {j}");
    }
    let total = q.kl_to_standard_normal().into_scalar::<f64>();
    assert!((total - per_dim.iter().sum::<f64>()).abs() < 1e-14);
}

#[test]
fn the_kl_matches_a_monte_carlo_estimate() {
    // KL = E_q[log q(z) − log p(z)], estimated with 10⁵ reparametrised samples; the analytic
    // value must lie within 3 standard errors of the estimate.
    let n = 100_000;
    for (mu, log_var) in [
        (vec![1.0, -0.5, 2.0], vec![4f64.ln(), 0.25f64.ln(), 0.0]),
        (vec![0.0, 0.1], vec![-3.0, 1.5]),
    ] {
        let q = gaussian(&mu, &log_var);
        let analytic = q.kl_to_standard_normal().into_scalar::<f64>();
        let many = q.repeat(n);
        let z = many.sample(&mut SeededRng::new(11));
        let log_ratio = host(many.log_prob(z.clone()).unwrap() - standard_normal_log_prob(z));
        let mean = log_ratio.iter().sum::<f64>() / n as f64;
        let var = log_ratio.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
        let se = (var / n as f64).sqrt();
        assert!(
            (mean - analytic).abs() < 3.0 * se,
            "MC {mean} ± {se} against analytic {analytic}"
        );
    }
}

#[test]
fn log_q_is_the_gaussian_density() {
    // log N(z; μ, σ²) by hand for one two-dimensional point.
    let q = gaussian(&[1.0, -1.0], &[0.0, 2f64.ln()]);
    let z = device().tensor(vec![0.5, 1.0], [1, 2]).unwrap();
    let got = q.log_prob(z).unwrap().into_scalar::<f64>();
    let log_2pi = (2.0 * std::f64::consts::PI).ln();
    let expected = -0.5 * (log_2pi + 0.25) - 0.5 * (log_2pi + 2f64.ln() + 4.0 / 2.0);
    assert!((got - expected).abs() < 1e-13, "{got} against {expected}");
}

/// With `ε` standardised to sample mean 0 and second moment 1 in every dimension, the
/// reparametrised gradient of `(1/n) Σ f(μ + σ ε)` for the quadratic `f(z) = Σⱼ aⱼ zⱼ² + bⱼ zⱼ`
/// equals the analytic gradient of `E[f] = Σⱼ aⱼ (μⱼ² + σⱼ²) + bⱼ μⱼ` exactly:
/// `∂/∂μⱼ = 2 aⱼ μⱼ + bⱼ` and `∂/∂ log σⱼ² = aⱼ σⱼ²`.
#[test]
fn the_reparametrised_gradient_of_a_quadratic_is_the_analytic_one() {
    let d = device();
    let (a, b) = ([1.5, -0.5, 2.0], [0.3, 1.0, -2.0]);
    let mu = [0.4, -1.2, 0.0];
    let log_var = [0.2, -1.0, 1.3];
    let n = 1000;
    let mut eps = SeededRng::new(5).normals(n * 3);
    for j in 0..3 {
        let mean = (0..n).map(|s| eps[s * 3 + j]).sum::<f64>() / n as f64;
        for s in 0..n {
            eps[s * 3 + j] -= mean;
        }
        let rms = ((0..n).map(|s| eps[s * 3 + j].powi(2)).sum::<f64>() / n as f64).sqrt();
        for s in 0..n {
            eps[s * 3 + j] /= rms;
        }
    }
    let mu_t = d.tensor(mu.to_vec(), [1, 3]).unwrap().require_grad();
    let log_var_t = d.tensor(log_var.to_vec(), [1, 3]).unwrap().require_grad();
    let q = DiagonalGaussian::new(mu_t.clone(), log_var_t.clone())
        .unwrap()
        .repeat(n);
    let z = q.sample_with(d.tensor(eps, [n, 3]).unwrap()).unwrap();
    let a_t = d.tensor(a.repeat(n), [n, 3]).unwrap();
    let b_t = d.tensor(b.repeat(n), [n, 3]).unwrap();
    let f = z.clone() * z.clone() * a_t + z * b_t;
    // The mean as a product by 1/n: burn-autodiff 0.22.1 differentiates `div_scalar` through
    // the scalar rounded to f32 (a 5e-8 relative error in this gradient for n = 1000).
    let objective = f.sum().mul_scalar(1.0 / n as f64);
    let grads = objective.backward();
    let g_mu = host(mu_t.grad(&grads).unwrap());
    let g_log_var = host(log_var_t.grad(&grads).unwrap());
    for j in 0..3 {
        let expected_mu = 2.0 * a[j] * mu[j] + b[j];
        let expected_lv = a[j] * log_var[j].exp();
        assert!(
            (g_mu[j] - expected_mu).abs() < 1e-12,
            "∂μ{j}: {} vs {expected_mu}",
            g_mu[j]
        );
        assert!(
            (g_log_var[j] - expected_lv).abs() < 1e-12,
            "∂ℓ{j}: {} vs {expected_lv}",
            g_log_var[j]
        );
    }
}

#[test]
fn huge_log_variances_are_clamped_and_everything_stays_finite() {
    let d = device();
    let mean = d.tensor(vec![0.5, -0.5, 1e3, 0.0], [2, 2]).unwrap();
    let log_var = d
        .tensor(vec![1e6, -1e6, 1e300, f64::MAX], [2, 2])
        .unwrap()
        .require_grad();
    let q = DiagonalGaussian::new(mean, log_var.clone()).unwrap();
    assert_eq!(
        host(q.log_var()),
        vec![LOG_VAR_MAX, LOG_VAR_MIN, LOG_VAR_MAX, LOG_VAR_MAX]
    );
    let kl = host(q.kl_to_standard_normal());
    assert!(kl.iter().all(|v| v.is_finite()), "{kl:?}");
    // Row 0: ½(0.25 + e²⁰ − 1 − 20) + ½(0.25 + e⁻³⁰ − 1 + 30).
    let expected = 0.5 * (0.25 + 20f64.exp() - 21.0) + 0.5 * (0.25 + (-30f64).exp() + 29.0);
    assert!(
        (kl[0] - expected).abs() < 1e-6 * expected,
        "{} vs {expected}",
        kl[0]
    );
    let z = q.sample(&mut SeededRng::new(3));
    let values = host(z.clone());
    assert!(values.iter().all(|v| v.is_finite()), "{values:?}");
    let log_q = host(q.log_prob(z).unwrap());
    assert!(log_q.iter().all(|v| v.is_finite()), "{log_q:?}");
    // Outside the range the clamp passes no gradient: finite (zero), never NaN.
    let grads = q.kl_to_standard_normal().sum().backward();
    let g = host(log_var.grad(&grads).unwrap());
    assert_eq!(g, vec![0.0; 4]);
}

#[test]
fn mismatched_shapes_are_typed_errors() {
    let d = device();
    let err = DiagonalGaussian::new(
        d.tensor(vec![0.0; 4], [2, 2]).unwrap(),
        d.tensor(vec![0.0; 6], [2, 3]).unwrap(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("mean and log-variance"), "{err}");
    let odd = DiagonalGaussian::from_encoder_output(d.tensor(vec![0.0; 6], [2, 3]).unwrap());
    assert!(matches!(odd, Err(GenerativeError::InvalidParameter { .. })));
    let q = gaussian(&[0.0, 0.0], &[0.0, 0.0]);
    assert!(
        q.sample_with(d.tensor(vec![0.0; 3], [1, 3]).unwrap())
            .is_err()
    );
    assert!(q.log_prob(d.tensor(vec![0.0; 3], [1, 3]).unwrap()).is_err());
}
