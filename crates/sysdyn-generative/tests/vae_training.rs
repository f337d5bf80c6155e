//! The VAE's training step on sysdyn's runtime: a linear-Gaussian VAE learns probabilistic
//! PCA's maximum-likelihood solution (Tipping & Bishop 1999; Lucas et al. 2019), a conditional
//! VAE learns its classes' means, bad settings and inputs are typed errors, and a diverging run
//! stops keeping the last good checkpoint.

// Index loops mirror the matrix formulas (Jacobi rotations, covariances) they compute.
#![allow(clippy::needless_range_loop)]

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use burn::module::{Module, ModuleVisitor, Param};
use burn::optim::AdamConfig;
use burn::tensor::Tensor;
use sysdyn_core::device::{DeviceSpec, SysDevice};
use sysdyn_core::jet::Activation;
use sysdyn_core::rng::SeededRng;
use sysdyn_generative::GenerativeError;
use sysdyn_generative::gan::{DataSampler, LabelledSampler};
use sysdyn_generative::vae::{
    ConvVaeConfig, Discretisation, KlWeight, Likelihood, MlpVaeConfig, NllConfig, Objective,
    VaeConfig, VaeStep, Variance,
};
use sysdyn_train::{
    Checkpoints, LrSchedule, Optim, ProgressMode, StepContext, TrainConfig, TrainError, TrainStep,
    Trainer,
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

fn adam() -> Optim<burn::optim::Adam> {
    Optim::new(AdamConfig::new().build())
}

fn run_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sysdyn-vae-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn config(steps: u64, lr: f64) -> TrainConfig {
    TrainConfig::new(steps)
        .with_schedule(LrSchedule::Constant { lr })
        .with_divergence_factor(None)
        .with_checkpoint_every(Some(100))
        .with_progress(ProgressMode::Quiet)
}

/// Eigenvalues (descending) and eigenvectors (`vectors[k]` for `values[k]`) of a symmetric
/// matrix by cyclic Jacobi rotations.
fn symmetric_eigen(mut a: Vec<Vec<f64>>) -> (Vec<f64>, Vec<Vec<f64>>) {
    let n = a.len();
    let mut v: Vec<Vec<f64>> = (0..n)
        .map(|i| (0..n).map(|j| f64::from(u8::from(i == j))).collect())
        .collect();
    for _ in 0..100 {
        let off: f64 = (0..n)
            .flat_map(|i| (0..n).filter(move |&j| j != i).map(move |j| (i, j)))
            .map(|(i, j)| a[i][j] * a[i][j])
            .sum();
        if off < 1e-24 {
            break;
        }
        for p in 0..n {
            for q in p + 1..n {
                if a[p][q].abs() < 1e-300 {
                    continue;
                }
                let theta = (a[q][q] - a[p][p]) / (2.0 * a[p][q]);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for k in 0..n {
                    let (akp, akq) = (a[k][p], a[k][q]);
                    a[k][p] = c * akp - s * akq;
                    a[k][q] = s * akp + c * akq;
                }
                for k in 0..n {
                    let (apk, aqk) = (a[p][k], a[q][k]);
                    a[p][k] = c * apk - s * aqk;
                    a[q][k] = s * apk + c * aqk;
                }
                for row in v.iter_mut() {
                    let (vp, vq) = (row[p], row[q]);
                    row[p] = c * vp - s * vq;
                    row[q] = s * vp + c * vq;
                }
            }
        }
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&i, &j| a[j][j].total_cmp(&a[i][i]));
    let values = order.iter().map(|&k| a[k][k]).collect();
    let vectors = order
        .iter()
        .map(|&k| (0..n).map(|i| v[i][k]).collect())
        .collect();
    (values, vectors)
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// An orthonormal basis of the span of `vectors` (Gram–Schmidt).
fn orthonormal(vectors: &[Vec<f64>]) -> Vec<Vec<f64>> {
    let mut basis: Vec<Vec<f64>> = Vec::new();
    for v in vectors {
        let mut u = v.clone();
        for b in &basis {
            let p = dot(&u, b);
            u.iter_mut().zip(b).for_each(|(x, y)| *x -= p * y);
        }
        let norm = dot(&u, &u).sqrt();
        basis.push(u.iter().map(|x| x / norm).collect());
    }
    basis
}

/// The largest principal angle (degrees) between two 2-D subspaces of orthonormal bases
/// `q` and `u`: `acos` of the smallest singular value of `M = Q Uᵀ`.
fn largest_principal_angle(q: &[Vec<f64>], u: &[Vec<f64>]) -> f64 {
    let m = [
        [dot(&q[0], &u[0]), dot(&q[0], &u[1])],
        [dot(&q[1], &u[0]), dot(&q[1], &u[1])],
    ];
    // MᵀM = [[p, r], [r, s]].
    let p = m[0][0] * m[0][0] + m[1][0] * m[1][0];
    let s = m[0][1] * m[0][1] + m[1][1] * m[1][1];
    let r = m[0][0] * m[0][1] + m[1][0] * m[1][1];
    let smallest = 0.5 * (p + s) - (0.25 * (p - s) * (p - s) + r * r).sqrt();
    smallest.max(0.0).sqrt().min(1.0).acos().to_degrees()
}

#[test]
fn a_linear_gaussian_vae_learns_probabilistic_pca() {
    let device = device();
    let (features, latent, rows) = (6, 2, 2000);
    // x = W z + m + 0.5 ε with a random loading matrix of column scales 1.5 and 1.
    let mut rng = SeededRng::new(17);
    let loading: Vec<f64> = rng.normals(features * latent);
    let offset: Vec<f64> = rng.normals(features);
    let mut data = Vec::with_capacity(rows * features);
    for _ in 0..rows {
        let z = rng.normals(latent);
        let e = rng.normals(features);
        for i in 0..features {
            let wz = 1.5 * loading[i * latent] * z[0] + loading[i * latent + 1] * z[1];
            data.push(wz + offset[i] + 0.5 * e[i]);
        }
    }
    // The sample covariance (1/N, as maximum likelihood uses) and its eigen-decomposition.
    let mean: Vec<f64> = (0..features)
        .map(|i| (0..rows).map(|r| data[r * features + i]).sum::<f64>() / rows as f64)
        .collect();
    let mut cov = vec![vec![0.0; features]; features];
    for r in 0..rows {
        for i in 0..features {
            for j in 0..features {
                cov[i][j] += (data[r * features + i] - mean[i])
                    * (data[r * features + j] - mean[j])
                    / rows as f64;
            }
        }
    }
    let (eigenvalues, eigenvectors) = symmetric_eigen(cov);
    // pPCA's ML noise: the mean of the discarded eigenvalues.
    let ml_noise = eigenvalues[latent..].iter().sum::<f64>() / (features - latent) as f64;

    // pPCA's maximum log-likelihood per point:
    // −½ (D log 2π + Σ_{j≤q} log λⱼ + (D − q) log σ² + D).
    let ml_nll = 0.5
        * (features as f64 * (2.0 * std::f64::consts::PI).ln()
            + eigenvalues[..latent].iter().map(|l| l.ln()).sum::<f64>()
            + (features - latent) as f64 * ml_noise.ln()
            + features as f64);
    let evaluation_data = data.clone();
    let shared = Arc::new(data);
    let sampler: DataSampler = Box::new(move |rng: &mut SeededRng, batch| {
        let mut rows_out = Vec::with_capacity(batch * features);
        for _ in 0..batch {
            let r = rng.below(rows as u64) as usize;
            rows_out.extend_from_slice(&shared[r * features..(r + 1) * features]);
        }
        rows_out
    });
    let vae = MlpVaeConfig::new(
        features,
        vec![],
        latent,
        Likelihood::Gaussian(Variance::Shared),
    )
    .with_activation(Activation::Identity)
    .init(&device, 3)
    .unwrap();
    let mut step = VaeStep::new(device.clone(), vae, adam(), VaeConfig::new(128), sampler)
        .unwrap()
        .with_evaluation(
            evaluation_data,
            None,
            NllConfig {
                samples: 64,
                chunk: 32,
                batch: 500,
            },
        );
    let dir = run_dir("ppca");
    // Annealed so that the last steps' gradient noise does not bias the estimates.
    let schedule = LrSchedule::Cosine {
        lr: 2e-2,
        min_lr: 1e-4,
        steps: 4000,
    };
    Trainer::new(
        config(4000, 2e-2)
            .with_schedule(schedule)
            .with_checkpoint_every(None),
        &dir,
    )
    .run(&mut step)
    .unwrap();
    let _ = std::fs::remove_dir_all(&dir);

    // The decoder's weight is [latent, features]: its rows span the learned subspace.
    let weight = host(step.vae.decoder.network().layers()[0].weight.val());
    let columns: Vec<Vec<f64>> = weight.chunks(features).map(<[f64]>::to_vec).collect();
    let angle = largest_principal_angle(&orthonormal(&columns), &eigenvectors[..latent]);
    let noise = step.vae.shared_variance().unwrap();
    // pPCA: WᵀW has eigenvalues λⱼ − σ² for the top λⱼ.
    let gram = [
        [dot(&columns[0], &columns[0]), dot(&columns[0], &columns[1])],
        [dot(&columns[1], &columns[0]), dot(&columns[1], &columns[1])],
    ];
    let (half_trace, det) = (
        0.5 * (gram[0][0] + gram[1][1]),
        gram[0][0] * gram[1][1] - gram[0][1] * gram[1][0],
    );
    let spread = (half_trace * half_trace - det).max(0.0).sqrt();
    let learned = [half_trace + spread, half_trace - spread];
    eprintln!(
        "angle {angle:.3}°, σ² {noise:.4} (ML {ml_noise:.4}), WᵀW eigenvalues {learned:?} \
         (ML {:?})",
        [eigenvalues[0] - ml_noise, eigenvalues[1] - ml_noise]
    );
    assert!(angle < 5.0, "principal angle {angle}°");
    // The IWAE NLL over the training points, through the step's evaluation hook, is pPCA's
    // maximum-likelihood NLL (an upper bound on the learned model's NLL, which is itself at
    // least the ML value).
    let metrics = step
        .evaluate(&StepContext::new(&TrainConfig::new(1), 0))
        .unwrap();
    let nll = metrics.iter().find(|(k, _)| k == "nll_nats").unwrap().1;
    let bpd = metrics.iter().find(|(k, _)| k == "bits_per_dim").unwrap().1;
    eprintln!("IWAE NLL {nll:.4} nats against pPCA's ML {ml_nll:.4}");
    assert!(
        nll > ml_nll - 1e-3 && nll < ml_nll + 0.02,
        "NLL {nll} against {ml_nll}"
    );
    assert!((bpd - nll / (features as f64 * 2f64.ln())).abs() < 1e-12);
    assert!(
        (noise / ml_noise - 1.0).abs() < 0.05,
        "σ² {noise} against {ml_noise}"
    );
    for k in 0..latent {
        let ml = eigenvalues[k] - ml_noise;
        assert!(
            (learned[k] / ml - 1.0).abs() < 0.05,
            "{learned:?} against λ − σ²"
        );
    }
}

#[test]
fn a_conditional_vae_learns_each_classes_mean() {
    let device = device();
    // x | y ~ N(m_y, 0.1² I) in two dimensions, three classes.
    let means = [[2.0, 0.0], [-1.0, 1.5], [0.0, -2.0]];
    let sampler: LabelledSampler = Box::new(move |rng: &mut SeededRng, batch| {
        let labels: Vec<usize> = (0..batch).map(|_| rng.below(3) as usize).collect();
        let noise = rng.normals(2 * batch);
        let values = labels
            .iter()
            .enumerate()
            .flat_map(|(r, &y)| {
                [
                    means[y][0] + 0.1 * noise[2 * r],
                    means[y][1] + 0.1 * noise[2 * r + 1],
                ]
            })
            .collect();
        (values, labels)
    });
    let vae = MlpVaeConfig::new(2, vec![16], 1, Likelihood::Gaussian(Variance::Shared))
        .with_classes(3)
        .init(&device, 5)
        .unwrap();
    let mut step = VaeStep::conditional(
        device.clone(),
        vae,
        adam(),
        VaeConfig::new(64).with_objective(Objective::Iwae { samples: 4 }),
        sampler,
    )
    .unwrap();
    let dir = run_dir("conditional");
    Trainer::new(config(600, 1e-2).with_checkpoint_every(None), &dir)
        .run(&mut step)
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    // The decoder's mean at prior draws, per class, averages to the class's mean.
    for (y, m) in means.iter().enumerate() {
        let labels = vec![y; 500];
        let samples = host(
            step.vae
                .sample(500, Some(&labels), &device, &mut SeededRng::new(8))
                .unwrap(),
        );
        let got = [
            samples.iter().step_by(2).sum::<f64>() / 500.0,
            samples.iter().skip(1).step_by(2).sum::<f64>() / 500.0,
        ];
        assert!(
            (got[0] - m[0]).abs() < 0.15 && (got[1] - m[1]).abs() < 0.15,
            "class {y}: {got:?} against {m:?}"
        );
    }
}

#[test]
fn the_convolutional_vae_maps_images_to_codes_and_back() {
    let device = device();
    for likelihood in [
        Likelihood::Bernoulli,
        Likelihood::DiscretisedLogistic(Discretisation::UNIT_8BIT),
    ] {
        for classes in [0, 3] {
            let vae = ConvVaeConfig::new(1, 28, 4, 5, likelihood)
                .with_classes(classes)
                .init(&device, 1)
                .unwrap();
            let labels = vec![0, 2];
            let labels = (classes > 0).then_some(labels.as_slice());
            let pixels: Vec<f64> = (0..2 * 784)
                .map(|i| f64::from((i % 256) as u8) / 255.0)
                .collect();
            let x = device.tensor(pixels, [2, 784]).unwrap();
            let q = vae.encode(x.clone(), labels).unwrap();
            assert_eq!(q.dims(), [2, 5]);
            let out = vae.decode(q.mean(), labels).unwrap();
            assert_eq!(out.dims(), [2, likelihood.output_width(784)]);
            assert_eq!(vae.reconstruct(x.clone(), labels).unwrap().dims(), [2, 784]);
            let terms = vae
                .elbo(x.clone(), labels, 2, &mut SeededRng::new(1))
                .unwrap();
            let bound = host(terms.bound());
            // A valid probability model of discrete data: log p(x) ≤ 0, so the bound is < 0.
            assert!(bound.iter().all(|b| b.is_finite() && *b < 0.0), "{bound:?}");
            // Images of the wrong width are refused.
            let wrong = device.tensor(vec![0.0; 2 * 783], [2, 783]).unwrap();
            assert!(matches!(
                vae.encode(wrong, labels),
                Err(GenerativeError::ShapeMismatch { .. })
            ));
        }
    }
}

#[test]
fn bad_settings_and_inputs_are_typed_errors() {
    let device = device();
    let gaussian = Likelihood::Gaussian(Variance::Fixed(1.0));
    assert!(matches!(
        MlpVaeConfig::new(4, vec![8], 0, gaussian).init(&device, 1),
        Err(GenerativeError::InvalidParameter { .. })
    ));
    assert!(matches!(
        ConvVaeConfig::new(1, 28, 4, 0, Likelihood::Bernoulli).init(&device, 1),
        Err(GenerativeError::InvalidParameter { .. })
    ));
    assert!(matches!(
        ConvVaeConfig::new(1, 30, 4, 2, Likelihood::Bernoulli).init(&device, 1),
        Err(GenerativeError::InvalidParameter { .. })
    ));
    let build = |config: VaeConfig| {
        let vae = MlpVaeConfig::new(4, vec![8], 2, gaussian)
            .init(&device, 1)
            .unwrap();
        let sampler: DataSampler = Box::new(|rng: &mut SeededRng, rows| rng.normals(4 * rows));
        VaeStep::new(device.clone(), vae, adam(), config, sampler).map(|_| ())
    };
    for (what, config) in [
        (
            "β < 0",
            VaeConfig::new(8).with_kl_weight(KlWeight::Constant(-1.0)),
        ),
        (
            "k = 0",
            VaeConfig::new(8).with_objective(Objective::Iwae { samples: 0 }),
        ),
        (
            "L = 0",
            VaeConfig::new(8).with_objective(Objective::Elbo { samples: 0 }),
        ),
        ("free bits < 0", VaeConfig::new(8).with_free_bits(-0.5)),
        ("empty batch", VaeConfig::new(0)),
    ] {
        assert!(
            matches!(build(config), Err(GenerativeError::InvalidParameter { .. })),
            "{what}"
        );
    }
    assert!(matches!(
        build(
            VaeConfig::new(8)
                .with_objective(Objective::Iwae { samples: 5 })
                .with_kl_weight(KlWeight::Constant(0.5))
        ),
        Err(GenerativeError::Unsupported { .. })
    ));
    // Labels: none for a conditional model, some for an unconditional one, out of range.
    let conditional = MlpVaeConfig::new(4, vec![8], 2, gaussian)
        .with_classes(3)
        .init(&device, 1)
        .unwrap();
    let x = device.tensor(vec![0.0; 8], [2, 4]).unwrap();
    assert!(matches!(
        conditional.encode(x.clone(), None),
        Err(GenerativeError::Unsupported { .. })
    ));
    assert!(matches!(
        conditional.encode(x.clone(), Some(&[0, 3])),
        Err(GenerativeError::InvalidParameter { .. })
    ));
    assert!(matches!(
        conditional.encode(x.clone(), Some(&[0])),
        Err(GenerativeError::ShapeMismatch { .. })
    ));
    let unconditional = MlpVaeConfig::new(4, vec![8], 2, gaussian)
        .init(&device, 1)
        .unwrap();
    assert!(matches!(
        unconditional.encode(x.clone(), Some(&[0, 1])),
        Err(GenerativeError::Unsupported { .. })
    ));
    let wrong = device.tensor(vec![0.0; 10], [2, 5]).unwrap();
    assert!(matches!(
        unconditional.encode(wrong, None),
        Err(GenerativeError::ShapeMismatch { .. })
    ));
    // Training rows of the wrong width stop the run with the error.
    let sampler: DataSampler = Box::new(|rng: &mut SeededRng, rows| rng.normals(5 * rows));
    let mut step = VaeStep::new(
        device.clone(),
        unconditional,
        adam(),
        VaeConfig::new(8),
        sampler,
    )
    .unwrap();
    let dir = run_dir("wrong-width");
    let err = Trainer::new(config(3, 1e-3), &dir)
        .run(&mut step)
        .unwrap_err();
    assert!(err.to_string().contains("training rows"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_diverging_run_stops_and_keeps_the_last_good_checkpoint() {
    let device = device();
    // The data turn to NaN after 250 draws: the loss is NaN at step 251.
    let draws = Arc::new(AtomicUsize::new(0));
    let counter = draws.clone();
    let data: DataSampler = Box::new(move |rng: &mut SeededRng, rows| {
        let n = counter.fetch_add(1, Ordering::SeqCst);
        let value = if n >= 250 { f64::NAN } else { 0.0 };
        rng.normals(3 * rows).iter().map(|z| z + value).collect()
    });
    let vae = MlpVaeConfig::new(3, vec![8], 2, Likelihood::Gaussian(Variance::PerFeature))
        .init(&device, 2)
        .unwrap();
    let mut step = VaeStep::new(
        device.clone(),
        vae,
        adam(),
        VaeConfig::new(16).with_kl_weight(KlWeight::LinearWarmup {
            target: 1.0,
            steps: 50,
        }),
        data,
    )
    .unwrap();
    let dir = run_dir("diverge");
    let err = Trainer::new(config(1000, 1e-3), &dir)
        .run(&mut step)
        .unwrap_err();
    match err {
        TrainError::Diverged {
            step,
            restored_step,
            ..
        } => {
            assert_eq!(step, 251);
            assert_eq!(restored_step, Some(200));
        }
        other => panic!("expected divergence, got {other}"),
    }
    // The restored model is finite, and the checkpoint is on disk.
    let x = device.tensor(vec![0.1, 0.2, 0.3], [1, 3]).unwrap();
    let r = host(step.vae.reconstruct(x, None).unwrap());
    assert!(r.iter().all(|v| v.is_finite()), "{r:?}");
    let (latest, _) = Checkpoints::new(&dir).latest().unwrap().unwrap();
    assert_eq!(latest, 200);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Every float parameter of `module`, flattened in visiting order.
fn parameters<M: Module>(module: &M) -> Vec<f64> {
    struct Flatten(Vec<f64>);
    impl ModuleVisitor for Flatten {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            self.0.extend(host(param.val()));
        }
    }
    let mut flat = Flatten(Vec::new());
    module.visit(&mut flat);
    flat.0
}

/// A run resumed from a checkpoint (model, shared variance, Adam's moments) ends with exactly
/// the parameters of an uninterrupted run: the step's noise and data come from the run's
/// seed and the step index.
#[test]
fn a_resumed_run_equals_an_uninterrupted_one() {
    let device = device();
    let step_of = || {
        let vae = MlpVaeConfig::new(3, vec![4], 2, Likelihood::Gaussian(Variance::Shared))
            .init(&device, 6)
            .unwrap();
        let data: DataSampler = Box::new(|rng: &mut SeededRng, rows| {
            rng.normals(3 * rows)
                .iter()
                .map(|z| 1.0 + 0.5 * z)
                .collect()
        });
        VaeStep::new(
            device.clone(),
            vae,
            adam(),
            VaeConfig::new(8)
                .with_kl_weight(KlWeight::LinearWarmup {
                    target: 1.0,
                    steps: 6,
                })
                .with_free_bits(0.1),
            data,
        )
        .unwrap()
    };
    let straight_dir = run_dir("straight");
    let mut straight = step_of();
    Trainer::new(config(10, 1e-2), &straight_dir)
        .run(&mut straight)
        .unwrap();
    let resumed_dir = run_dir("resumed");
    let mut first = step_of();
    Trainer::new(config(4, 1e-2), &resumed_dir)
        .run(&mut first)
        .unwrap();
    let mut second = step_of();
    Trainer::new(config(10, 1e-2), &resumed_dir)
        .run(&mut second)
        .unwrap();
    let (a, b) = (parameters(&straight.vae), parameters(&second.vae));
    assert_ne!(a, parameters(&step_of().vae));
    assert_eq!(a, b);
    assert!(second.vae.shared_variance().unwrap() != 1.0);
    std::fs::remove_dir_all(&straight_dir).unwrap();
    std::fs::remove_dir_all(&resumed_dir).unwrap();
}

/// The presets have their papers' widths: the encoder ends in `[μ, log σ²]`, the decoder
/// mirrors the encoder, and a conditional model widens both inputs by the one-hot label.
#[test]
fn the_mlp_presets_have_their_papers_widths() {
    let device = device();
    let burda = MlpVaeConfig::burda_mnist().init(&device, 1).unwrap();
    assert_eq!(burda.encoder.network().widths(), vec![784, 200, 200, 100]);
    assert_eq!(burda.decoder.network().widths(), vec![50, 200, 200, 784]);
    assert_eq!(burda.encoder.network().activation(), Activation::Tanh);
    let relu = MlpVaeConfig::relu_mnist()
        .with_classes(10)
        .init(&device, 1)
        .unwrap();
    assert_eq!(relu.encoder.network().widths(), vec![794, 400, 40]);
    assert_eq!(relu.decoder.network().widths(), vec![30, 400, 784]);
    assert_eq!(
        (relu.data_width(), relu.latent_width(), relu.classes()),
        (784, 20, 10)
    );
    // A per-feature Gaussian decodes [μ, log σ²]: twice the data's width.
    let per = MlpVaeConfig::new(5, vec![3], 2, Likelihood::Gaussian(Variance::PerFeature))
        .init(&device, 1)
        .unwrap();
    assert_eq!(per.decoder.network().widths(), vec![2, 3, 10]);
    assert!(per.shared_variance().is_none());
}
