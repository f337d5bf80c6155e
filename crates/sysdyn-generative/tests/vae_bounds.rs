//! The VAE's bounds on a linear-Gaussian model, where `log p(x)` is known in closed form:
//! `z ~ N(0, I)`, `x | z ~ N(Wz + b, σ²I)`, so `p(x) = N(b, WWᵀ + σ²I)`, and with `W`'s
//! columns orthogonal the exact posterior is diagonal,
//! `N(Σ Wᵀ(x − b)/σ², Σ)` with `Σ = (I + WᵀW/σ²)⁻¹`. With it every importance weight equals
//! `p(x)`; with a worse encoder the IWAE bound rises with `k` towards `log p(x)`. Also: the
//! chunked NLL estimate, the KL schedule and free bits.

// Index loops mirror the matrix formulas (Wᵢⱼ, Σⱼ) they compute.
#![allow(clippy::needless_range_loop)]

use std::sync::OnceLock;

use burn::module::Param;
use burn::nn::Linear;
use burn::tensor::Tensor;
use sysdyn_core::device::{DeviceSpec, SysDevice};
use sysdyn_core::jet::{Activation, Mlp};
use sysdyn_core::rng::SeededRng;
use sysdyn_generative::GenerativeError;
use sysdyn_generative::vae::{
    FreeBits, KlWeight, Likelihood, LogMeanExp, MlpDecoder, MlpEncoder, NllConfig, Objective, Vae,
    Variance, bits_per_dim, estimate_nll, log_mean_exp,
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

const D: usize = 4;
const LATENT: usize = 2;
const NOISE: f64 = 0.5;
/// `W` (D × latent), columns (1, 0, 1, 0) and (0, 2, 0, −1): orthogonal, `WᵀW = diag(2, 5)`.
const W: [[f64; LATENT]; D] = [[1.0, 0.0], [0.0, 2.0], [1.0, 0.0], [0.0, -1.0]];
const B: [f64; D] = [0.1, -0.2, 0.3, 0.0];

fn linear(weight: Vec<f64>, bias: Vec<f64>, fan_in: usize, fan_out: usize) -> Linear {
    let d = device();
    Linear {
        weight: Param::from_tensor(d.tensor(weight, [fan_in, fan_out]).unwrap()),
        bias: Some(Param::from_tensor(d.tensor(bias, [fan_out]).unwrap())),
    }
}

/// The linear-Gaussian model as a VAE whose encoder is the exact posterior, its mean shifted
/// by `mean_shift` and its log-variance by `log_var_shift`.
fn model(mean_shift: f64, log_var_shift: f64) -> Vae<MlpEncoder, MlpDecoder> {
    let column_norms: Vec<f64> = (0..LATENT)
        .map(|j| (0..D).map(|i| W[i][j] * W[i][j]).sum())
        .collect();
    let post_var: Vec<f64> = column_norms
        .iter()
        .map(|n| 1.0 / (1.0 + n / NOISE))
        .collect();
    // μ = A (x − b), A = Σ Wᵀ / σ²; the encoder's weight is [D, 2·latent].
    let a = |j: usize, i: usize| post_var[j] * W[i][j] / NOISE;
    let mut enc_w = vec![0.0; D * 2 * LATENT];
    for i in 0..D {
        for j in 0..LATENT {
            enc_w[i * 2 * LATENT + j] = a(j, i);
        }
    }
    let mut enc_b = vec![0.0; 2 * LATENT];
    for j in 0..LATENT {
        enc_b[j] = -(0..D).map(|i| a(j, i) * B[i]).sum::<f64>() + mean_shift;
        enc_b[LATENT + j] = post_var[j].ln() + log_var_shift;
    }
    let mut dec_w = vec![0.0; LATENT * D];
    for j in 0..LATENT {
        for i in 0..D {
            dec_w[j * D + i] = W[i][j];
        }
    }
    let encoder = Mlp::new(
        vec![linear(enc_w, enc_b, D, 2 * LATENT)],
        Activation::Identity,
    )
    .unwrap();
    let decoder = Mlp::new(
        vec![linear(dec_w, B.to_vec(), LATENT, D)],
        Activation::Identity,
    )
    .unwrap();
    Vae::new(
        MlpEncoder::new(encoder, 0).unwrap(),
        MlpDecoder::new(decoder, 0).unwrap(),
        Likelihood::Gaussian(Variance::Fixed(NOISE)),
        &device(),
    )
    .unwrap()
}

/// `log N(x; b, WWᵀ + σ²I)` through the eigen-decomposition of the covariance: eigenvalue
/// `σ² + |wⱼ|²` along each (orthogonal) column `wⱼ`, `σ²` elsewhere.
fn log_evidence(x: &[f64]) -> f64 {
    let r: Vec<f64> = x.iter().zip(B).map(|(x, b)| x - b).collect();
    let mut quad = r.iter().map(|v| v * v).sum::<f64>() / NOISE;
    let mut log_det = (D - LATENT) as f64 * NOISE.ln();
    for j in 0..LATENT {
        let norm2: f64 = (0..D).map(|i| W[i][j] * W[i][j]).sum();
        let proj: f64 = (0..D).map(|i| W[i][j] * r[i]).sum::<f64>() / norm2.sqrt();
        let eigen = NOISE + norm2;
        quad -= proj * proj * (1.0 / NOISE - 1.0 / eigen);
        log_det += eigen.ln();
    }
    -0.5 * (D as f64 * (2.0 * std::f64::consts::PI).ln() + log_det + quad)
}

const POINTS: [[f64; D]; 3] = [
    [0.5, 1.0, -0.3, 2.0],
    [0.0, 0.0, 0.0, 0.0],
    [-2.0, 3.0, 1.5, -1.0],
];

fn points() -> Tensor<2> {
    device().tensor(POINTS.concat(), [POINTS.len(), D]).unwrap()
}

#[test]
fn with_the_exact_posterior_every_importance_weight_is_the_evidence() {
    let vae = model(0.0, 0.0);
    let expected: Vec<f64> = POINTS.iter().map(|x| log_evidence(x)).collect();
    let mut rng = SeededRng::new(1);
    let weights = host(vae.log_weights(points(), None, 7, &mut rng).unwrap());
    for (s, chunk) in weights.chunks(POINTS.len()).enumerate() {
        for (w, e) in chunk.iter().zip(&expected) {
            assert!(
                (w - e).abs() < 1e-12,
                "sample {s}: log w {w} against log p(x) {e}"
            );
        }
    }
    for k in [1, 5, 50] {
        let bound = host(vae.iwae(points(), None, k, &mut rng).unwrap());
        for (b, e) in bound.iter().zip(&expected) {
            assert!((b - e).abs() < 1e-12, "k = {k}: {b} against {e}");
        }
    }
    // Burda et al.'s k = 5000, in chunks of 500.
    let many = vae
        .importance_log_likelihood(points(), None, 5000, 500, &mut rng)
        .unwrap();
    for (b, e) in many.iter().zip(&expected) {
        assert!((b - e).abs() < 1e-12, "k = 5000: {b} against {e}");
    }
    // The NLL estimate in chunks, and in nats and bits per dimension over the three points.
    let nll = estimate_nll(
        &vae,
        &device(),
        &POINTS.concat(),
        None,
        NllConfig {
            samples: 64,
            chunk: 10,
            batch: 2,
        },
        &mut rng,
    )
    .unwrap();
    let mean_nll = -expected.iter().sum::<f64>() / 3.0;
    assert!((nll.nats - mean_nll).abs() < 1e-12);
    assert!((nll.bits_per_dim - mean_nll / (D as f64 * 2f64.ln())).abs() < 1e-12);
    assert_eq!(bits_per_dim(2f64.ln() * 8.0, 8), 1.0);
}

#[test]
fn the_iwae_bound_rises_with_k_towards_the_evidence() {
    // A worse encoder: its mean off by 0.7, its variance e⁻¹ of the posterior's.
    let vae = model(0.7, -1.0);
    let x = [0.5, 1.0, -0.3, 2.0];
    let evidence = log_evidence(&x);
    let repeats = 400;
    let data = device().tensor(x.repeat(repeats), [repeats, D]).unwrap();
    let mut rng = SeededRng::new(2);
    let mut previous: Option<(f64, f64)> = None;
    for k in [1, 5, 50] {
        let bounds = host(vae.iwae(data.clone(), None, k, &mut rng).unwrap());
        let n = bounds.len() as f64;
        let mean = bounds.iter().sum::<f64>() / n;
        let se = (bounds.iter().map(|b| (b - mean).powi(2)).sum::<f64>() / (n - 1.0) / n).sqrt();
        assert!(
            mean < evidence + 3.0 * se,
            "k = {k}: {mean} ± {se} above log p(x) {evidence}"
        );
        if let Some((prev, prev_se)) = previous {
            let margin = 3.0 * (se * se + prev_se * prev_se).sqrt();
            assert!(
                mean > prev + margin,
                "k = {k}: {mean} not above {prev} (± {margin})"
            );
        }
        previous = Some((mean, se));
    }
    // The ELBO with one sample estimates the same as IWAE with k = 1: E[log w].
    let (l1, se1) = {
        let terms = vae.elbo(data.clone(), None, 1, &mut rng).unwrap();
        let b = host(terms.bound());
        let n = b.len() as f64;
        let m = b.iter().sum::<f64>() / n;
        (
            m,
            (b.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (n - 1.0) / n).sqrt(),
        )
    };
    let gap = evidence - l1;
    assert!(gap > 0.1, "the worse encoder's ELBO gap {gap} (± {se1})");
}

#[test]
fn the_chunked_estimate_equals_the_one_pass_bound() {
    // The chunks draw the same noise in the same order as one pass of k samples (sample-major
    // layout), so the host log-mean-exp must equal the tensor one to rounding.
    let vae = model(0.3, -0.5);
    let one_pass = host(
        vae.iwae(points(), None, 60, &mut SeededRng::new(4))
            .unwrap(),
    );
    let chunked = vae
        .importance_log_likelihood(points(), None, 60, 7, &mut SeededRng::new(4))
        .unwrap();
    for (a, b) in one_pass.iter().zip(&chunked) {
        assert!((a - b).abs() < 1e-12, "{a} against {b}");
    }
    // The host accumulator on weights spanning 1400 nats: no overflow, exact value.
    let mut acc = LogMeanExp::new(1);
    acc.add(&[-700.0, 700.0], 2).unwrap();
    acc.add(&[700.0], 1).unwrap();
    assert_eq!(acc.count(), 3);
    let expected = 700.0 + (2.0f64 / 3.0).ln();
    assert!((acc.value()[0] - expected).abs() < 1e-12);
    // And the tensor form on the same weights.
    let w = device().tensor(vec![-700.0, 700.0, 700.0], [3, 1]).unwrap();
    assert!((host(log_mean_exp(w))[0] - expected).abs() < 1e-12);
    assert!(matches!(
        acc.add(&[1.0, 2.0], 1),
        Err(GenerativeError::ShapeMismatch { .. })
    ));
}

#[test]
fn the_kl_weight_schedule_and_free_bits() {
    let warm = KlWeight::LinearWarmup {
        target: 2.0,
        steps: 100,
    };
    assert_eq!(warm.beta(0), 0.0);
    assert_eq!(warm.beta(25), 0.5);
    assert_eq!(warm.beta(100), 2.0);
    assert_eq!(warm.beta(10_000), 2.0);
    assert_eq!(KlWeight::Constant(0.3).beta(7), 0.3);
    for bad in [
        KlWeight::Constant(-0.1),
        KlWeight::Constant(f64::NAN),
        KlWeight::LinearWarmup {
            target: -1.0,
            steps: 5,
        },
        KlWeight::LinearWarmup {
            target: 1.0,
            steps: 0,
        },
    ] {
        assert!(
            matches!(
                bad.validate(),
                Err(GenerativeError::InvalidParameter { .. })
            ),
            "{bad:?}"
        );
    }
    // Free bits: per-dimension KLs of two rows, batch means (0.1, 0.9, 3.0); λ = 0.5 lifts
    // the first to 0.5: 0.5 + 0.9 + 3.0 = 4.4, and only the dimensions above λ pass gradient.
    let kl = device()
        .tensor(vec![0.0, 0.8, 2.0, 0.2, 1.0, 4.0], [2, 3])
        .unwrap()
        .require_grad();
    let term = FreeBits { lambda: 0.5 }.kl_term(kl.clone());
    assert!((term.clone().into_scalar::<f64>() - 4.4).abs() < 1e-14);
    let g = host(kl.grad(&term.backward()).unwrap());
    assert_eq!(g, vec![0.0, 0.5, 0.5, 0.0, 0.5, 0.5]);
    assert!(FreeBits { lambda: -1.0 }.validate().is_err());
    assert!(Objective::Iwae { samples: 0 }.validate().is_err());
    assert!(Objective::Elbo { samples: 0 }.validate().is_err());
    // The ELBO's loss: −mean(reconstruction) + β·mean(KL), or with free bits
    // −mean(reconstruction) + β·Σⱼ max(λ, mean KLⱼ).
    let vae = model(0.0, 0.0);
    let mut rng = SeededRng::new(1);
    let terms = vae.elbo(points(), None, 3, &mut rng).unwrap();
    let rec = host(terms.reconstruction.clone());
    let kl = host(terms.kl.clone());
    let kl_dims = host(terms.kl_per_dimension.clone());
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let plain = terms.loss(0.7, None).into_scalar::<f64>();
    assert!((plain - (-mean(&rec) + 0.7 * mean(&kl))).abs() < 1e-12);
    let lambda = 0.6;
    let floored: f64 = (0..LATENT)
        .map(|j| {
            let m = (0..POINTS.len())
                .map(|i| kl_dims[i * LATENT + j])
                .sum::<f64>()
                / POINTS.len() as f64;
            m.max(lambda)
        })
        .sum();
    let free = terms
        .loss(0.7, Some(FreeBits { lambda }))
        .into_scalar::<f64>();
    assert!((free - (-mean(&rec) + 0.7 * floored)).abs() < 1e-12);
    let bound = host(terms.bound());
    for i in 0..POINTS.len() {
        assert!((bound[i] - (rec[i] - kl[i])).abs() < 1e-12);
    }
    // The bounds refuse zero samples.
    assert!(matches!(
        vae.iwae(points(), None, 0, &mut rng),
        Err(GenerativeError::InvalidParameter { .. })
    ));
    assert!(vae.elbo(points(), None, 0, &mut rng).is_err());
    assert!(
        vae.importance_log_likelihood(points(), None, 10, 0, &mut rng)
            .is_err()
    );
}
