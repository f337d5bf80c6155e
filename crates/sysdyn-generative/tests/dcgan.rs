//! The DCGAN players: the convolutional critic's input gradient (its reverse pass written as
//! tensor operations) and its gradient penalty's parameter gradients against central finite
//! differences, for the unconditional, label-channel and projection critics; sizes and labels
//! refused with typed errors.

use std::sync::OnceLock;

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::optim::AdamConfig;
use burn::tensor::{DType, Tensor, TensorData};
use sysdyn_core::device::{DeviceSpec, SysDevice};
use sysdyn_core::rng::SeededRng;
use sysdyn_generative::GenerativeError;
use sysdyn_generative::gan::{
    Critic, CriticConditioning, CriticNorm, DcganConfig, DcganCritic, GanConfig, GanLoss, GanStep,
    Generator, GeneratorConditioning, ImageShape, LabelEmbedding, gradient_penalty_of, interpolate,
};
use sysdyn_train::Optim;

/// The players are created in the device's default float type: f64 here, set once for the
/// whole test binary.
fn device() -> SysDevice {
    static DEVICE: OnceLock<SysDevice> = OnceLock::new();
    DEVICE
        .get_or_init(|| {
            let mut d: SysDevice = "flex:f64:autodiff"
                .parse::<DeviceSpec>()
                .unwrap()
                .init()
                .unwrap();
            d.configure_defaults().unwrap();
            d
        })
        .clone()
}

fn to_vec<const D: usize>(t: Tensor<D>) -> Vec<f64> {
    t.into_data().convert::<f64>().try_to_vec::<f64>().unwrap()
}

const CLASSES: usize = 3;

/// A small 1×8×8 critic without normalisation: two levels (8 → 4 → 2), three channels.
fn small_config(conditioning: Option<CriticConditioning>) -> DcganConfig {
    small_config_with(conditioning, CriticNorm::None)
}

fn small_config_with(conditioning: Option<CriticConditioning>, norm: CriticNorm) -> DcganConfig {
    let config = DcganConfig::new(ImageShape::new(1, 8, 8), 4, 3)
        .with_levels(2)
        .with_critic_norm(norm);
    match conditioning {
        Some(c) => config.with_classes(CLASSES, 2, c),
        None => config,
    }
}

fn variants() -> [(&'static str, DcganConfig); 5] {
    [
        ("unconditional", small_config(None)),
        (
            "label channels",
            small_config(Some(CriticConditioning::LabelChannels)),
        ),
        (
            "projection",
            small_config(Some(CriticConditioning::Projection)),
        ),
        ("spectral", small_config_with(None, CriticNorm::Spectral)),
        (
            "spectral projection",
            small_config_with(Some(CriticConditioning::Projection), CriticNorm::Spectral),
        ),
    ]
}

/// The critic's weights are DCGAN's N(0, 0.02²); scaled up here so that the scores and
/// gradients are far from zero and both LeakyReLU branches are used. A spectrally normalised
/// critic then makes a few power iterations, so that its normalised kernels are near unit norm.
fn critic(d: &SysDevice, config: &DcganConfig, seed: u64) -> DcganCritic {
    let mut critic = config
        .init_critic(d.device(), &mut SeededRng::new(seed))
        .unwrap()
        .map(&mut Scale { factor: 25.0 });
    for _ in 0..3 {
        critic.before_update();
    }
    critic
}

struct Scale {
    factor: f64,
}

impl ModuleMapper for Scale {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let (id, tensor, mapper) = param.consume();
        let trained = tensor.is_require_grad();
        let scaled = Tensor::from_inner(tensor.inner().mul_scalar(self.factor) + 0.01);
        let scaled = if trained {
            scaled.require_grad()
        } else {
            scaled
        };
        Param::from_mapped_value(id, scaled, mapper)
    }
}

/// Adds `delta` to entry `index` of the `target`-th float parameter (in visiting order).
struct Nudge {
    target: usize,
    seen: usize,
    index: usize,
    delta: f64,
}

impl ModuleMapper for Nudge {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let me = self.seen;
        self.seen += 1;
        if me != self.target {
            return param;
        }
        let (id, tensor, mapper) = param.consume();
        let shape = tensor.dims();
        let device = tensor.device();
        let mut values = to_vec(tensor.inner());
        values[self.index] += self.delta;
        let nudged = Tensor::<D>::from_data(TensorData::new(values, shape), (&device, DType::F64));
        Param::from_mapped_value(id, nudged.require_grad(), mapper)
    }
}

/// The gradient of every trained float parameter, in visiting order; zeros for a parameter the
/// loss does not depend on (the input gradient does not depend on the biases: they only move
/// the piecewise-constant LeakyReLU slopes); `None` for the untrained ones (spectral
/// normalisation's singular vectors).
struct Collect<'a> {
    grads: &'a burn::tensor::Gradients,
    out: Vec<Option<Vec<f64>>>,
}

impl ModuleVisitor for Collect<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        if !param.val().is_require_grad() {
            self.out.push(None);
            return;
        }
        let gradient = param
            .grad(self.grads)
            .unwrap_or_else(|| param.val().inner().zeros_like());
        self.out.push(Some(to_vec(gradient)));
    }
}

fn labels_for(config: &DcganConfig, rows: usize) -> Option<Vec<usize>> {
    (config.classes > 0).then(|| (0..rows).map(|r| r % CLASSES).collect())
}

#[test]
fn the_conv_critics_input_gradient_matches_central_differences() {
    let d = device();
    let rows = 3;
    for (name, config) in variants() {
        let critic = critic(&d, &config, 5);
        let labels = labels_for(&config, rows);
        let labels = labels.as_deref();
        let mut rng = SeededRng::new(2);
        let x_values = rng.normals(rows * 64);
        let x = d.tensor(x_values.clone(), [rows, 64]).unwrap();
        let analytic = to_vec(critic.input_gradient(x, labels).unwrap());
        let score = |values: &[f64]| {
            to_vec(
                critic
                    .score(d.tensor(values.to_vec(), [rows, 64]).unwrap(), labels)
                    .unwrap(),
            )
        };
        let mut checked = 0;
        for row in 0..rows {
            for pixel in (0..64).step_by(5) {
                let h = 1e-6;
                let index = row * 64 + pixel;
                let mut plus = x_values.clone();
                plus[index] += h;
                let mut minus = x_values.clone();
                minus[index] -= h;
                let fd = (score(&plus)[row] - score(&minus)[row]) / (2.0 * h);
                assert!(
                    (analytic[index] - fd).abs() < 1e-6 * (1.0 + fd.abs()),
                    "{name}: row {row} pixel {pixel}: {} vs {fd}",
                    analytic[index]
                );
                checked += 1;
            }
        }
        let largest = analytic.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        assert!(
            largest > 1e-3,
            "{name}: the gradient is trivially small ({largest})"
        );
        assert_eq!(checked, rows * 13);
    }
}

#[test]
fn the_conv_gradient_penaltys_parameter_gradients_match_central_differences() {
    let d = device();
    let rows = 4;
    for (name, config) in variants() {
        let critic = critic(&d, &config, 9);
        let labels = labels_for(&config, rows);
        let labels = labels.as_deref();
        let mut rng = SeededRng::new(4);
        let real = d.tensor(rng.normals(rows * 64), [rows, 64]).unwrap();
        let fake = d.tensor(rng.normals(rows * 64), [rows, 64]).unwrap();
        let points = interpolate(real, fake, &mut rng).unwrap();
        let penalty = |c: &DcganCritic| {
            gradient_penalty_of(c.input_gradient(points.clone(), labels).unwrap(), 10.0).unwrap()
        };
        let grads = penalty(&critic).backward();
        let mut collect = Collect {
            grads: &grads,
            out: Vec::new(),
        };
        critic.visit(&mut collect);
        let analytic = collect.out;
        // Kernels, biases and head (and the embedding table when conditional).
        assert!(analytic.len() >= 6, "{name}: {} parameters", analytic.len());
        let trained = analytic.iter().flatten().count();
        if config.critic_norm == CriticNorm::Spectral {
            // Each kernel and the head carry u and v.
            assert_eq!(analytic.len() - trained, 2 * (config.levels + 1), "{name}");
        }
        for (target, gradient) in analytic.iter().enumerate() {
            let Some(gradient) = gradient else { continue };
            for index in [0, gradient.len() / 2, gradient.len() - 1] {
                let h = 1e-6;
                let value = |delta| {
                    let nudged = critic.clone().map(&mut Nudge {
                        target,
                        seen: 0,
                        index,
                        delta,
                    });
                    penalty(&nudged).into_scalar::<f64>()
                };
                let fd = (value(h) - value(-h)) / (2.0 * h);
                assert!(
                    (gradient[index] - fd).abs() < 1e-5 * (1.0 + fd.abs()),
                    "{name}: parameter {target} entry {index}: {} vs {fd}",
                    gradient[index]
                );
            }
        }
    }
}

#[test]
fn the_generator_makes_images_of_the_configured_size_in_tanh_range() {
    let d = device();
    for (image, levels) in [
        (ImageShape::new(1, 28, 28), 2),
        (ImageShape::new(3, 32, 32), 3),
    ] {
        let config = DcganConfig::new(image, 8, 4);
        assert_eq!(config.levels, levels, "{image:?}");
        let generator = config
            .init_generator(d.device(), &mut SeededRng::new(1))
            .unwrap();
        let critic = config
            .init_critic(d.device(), &mut SeededRng::new(2))
            .unwrap();
        let z = d.tensor(SeededRng::new(3).normals(5 * 8), [5, 8]).unwrap();
        let images = generator.generate(z, None).unwrap();
        assert_eq!(images.dims(), [5, image.features()]);
        let values = to_vec(images.clone());
        assert!(values.iter().all(|v| v.abs() <= 1.0 && v.is_finite()));
        assert_eq!(critic.score(images, None).unwrap().dims(), [5, 1]);
    }
}

#[test]
fn bad_sizes_and_labels_are_typed_errors() {
    let d = device();
    let mut rng = SeededRng::new(1);
    // Rows not divisible by 2^levels.
    assert!(matches!(
        DcganConfig::new(ImageShape::new(1, 28, 28), 8, 4)
            .with_levels(3)
            .init_critic(d.device(), &mut rng),
        Err(GenerativeError::InvalidParameter { name: "levels", .. })
    ));
    let conditional = small_config(Some(CriticConditioning::Projection));
    let generator = conditional.init_generator(d.device(), &mut rng).unwrap();
    let critic = conditional.init_critic(d.device(), &mut rng).unwrap();
    let z = d.tensor(rng.normals(2 * 4), [2, 4]).unwrap();
    // Missing, unexpected and out-of-range labels, wrong latent width, wrong image size.
    assert!(matches!(
        generator.generate(z.clone(), None),
        Err(GenerativeError::Unsupported { .. })
    ));
    assert!(matches!(
        generator.generate(z.clone(), Some(&[0, 7])),
        Err(GenerativeError::InvalidParameter { name: "label", .. })
    ));
    assert!(matches!(
        generator.generate(z.clone(), Some(&[0])),
        Err(GenerativeError::ShapeMismatch { .. })
    ));
    let wide = d.tensor(rng.normals(2 * 5), [2, 5]).unwrap();
    assert!(matches!(
        generator.generate(wide, Some(&[0, 1])),
        Err(GenerativeError::ShapeMismatch { .. })
    ));
    let small_image = d.tensor(rng.normals(2 * 49), [2, 49]).unwrap();
    assert!(matches!(
        critic.score(small_image, Some(&[0, 1])),
        Err(GenerativeError::ShapeMismatch { .. })
    ));
    let unconditional = small_config(None)
        .init_critic(d.device(), &mut rng)
        .unwrap();
    let image = d.tensor(rng.normals(2 * 64), [2, 64]).unwrap();
    assert!(matches!(
        unconditional.score(image.clone(), Some(&[0, 1])),
        Err(GenerativeError::Unsupported { .. })
    ));
    // Batch norm couples the rows: no per-sample input gradient.
    let batch_norm = small_config(None)
        .with_critic_norm(CriticNorm::Batch)
        .init_critic(d.device(), &mut rng)
        .unwrap();
    assert!(matches!(
        batch_norm.input_gradient(image, None),
        Err(GenerativeError::Unsupported { .. })
    ));
    // Players conditioned on another number of classes than the data.
    let adam = || Optim::new(AdamConfig::new().build());
    let step = GanStep::conditional(
        d.clone(),
        generator,
        critic,
        adam(),
        adam(),
        GanConfig::new(GanLoss::NonSaturating, 4),
        64,
        CLASSES + 1,
        Box::new(|_, rows| (vec![0.0; rows * 64], vec![0; rows])),
    );
    assert!(matches!(step, Err(GenerativeError::ShapeMismatch { .. })));
}

/// The minibatch standard deviation channel makes a row's score depend on the rest of its batch
/// (and only through the batch's spread: a permuted batch gets the permuted scores), where the
/// plain critic scores each row on its own; such a critic has no per-row input gradient.
#[test]
fn the_minibatch_std_critic_scores_a_row_by_its_batchs_spread() {
    let d = device();
    let mut rng = SeededRng::new(5);
    let rows: Vec<Vec<f64>> = (0..3).map(|_| rng.normals(64)).collect();
    let batch = |order: &[usize]| {
        let values: Vec<f64> = order.iter().flat_map(|&k| rows[k].clone()).collect();
        d.tensor(values, [order.len(), 64]).unwrap()
    };
    let scores =
        |critic: &DcganCritic, order: &[usize]| to_vec(critic.score(batch(order), None).unwrap());
    let with_spread = critic(&d, &small_config(None).with_minibatch_std(true), 3);
    let copies = scores(&with_spread, &[0, 0, 0]);
    let varied = scores(&with_spread, &[0, 1, 2]);
    let permuted = scores(&with_spread, &[2, 0, 1]);
    assert!(
        copies.iter().all(|&c| (c - copies[0]).abs() < 1e-12),
        "{copies:?}"
    );
    assert!(
        (copies[0] - varied[0]).abs() > 1e-3,
        "row 0 scored {} among copies and {} in a varied batch",
        copies[0],
        varied[0]
    );
    for (k, &p) in [2, 0, 1].iter().zip(&permuted) {
        assert!(
            (p - varied[*k]).abs() < 1e-10,
            "{permuted:?} against {varied:?}"
        );
    }
    let plain = critic(&d, &small_config(None), 3);
    let alone = scores(&plain, &[0, 0, 0]);
    let among = scores(&plain, &[0, 1, 2]);
    assert!((alone[0] - among[0]).abs() < 1e-12, "{alone:?} {among:?}");
    assert!(matches!(
        with_spread.input_gradient(batch(&[0, 1]), None),
        Err(GenerativeError::Unsupported { .. })
    ));
}

/// A conditional DCGAN (label embedding in the generator, projection discriminator) learns two
/// classes of flat 8×8 images, dark (−0.6) and bright (+0.6): asked for each class, its samples
/// take that class's brightness. Several critic and generator updates pass through the same
/// embedding tables, so this also guards against parameters that hold graph nodes.
#[test]
fn a_conditional_dcgan_learns_which_brightness_each_class_asks_for() {
    use sysdyn_train::{LrSchedule, ProgressMode, TrainConfig, Trainer};

    for conditioning in [
        GeneratorConditioning::Concat,
        GeneratorConditioning::BatchNorm,
    ] {
        learns_brightness_per_class(conditioning);
    }
    fn learns_brightness_per_class(conditioning: GeneratorConditioning) {
        let d = device();
        let config = DcganConfig::new(ImageShape::new(1, 8, 8), 4, 4)
            .with_levels(2)
            .with_classes(2, 2, CriticConditioning::Projection)
            .with_generator_conditioning(conditioning);
        let mut rng = SeededRng::new(3);
        let generator = config.init_generator(d.device(), &mut rng).unwrap();
        let critic = config.init_critic(d.device(), &mut rng).unwrap();
        let adam = || Optim::new(AdamConfig::new().with_beta_1(0.5).build());
        let data = |rng: &mut SeededRng, rows: usize| {
            let labels: Vec<usize> = (0..rows).map(|_| rng.below(2) as usize).collect();
            let pixels = labels
                .iter()
                .flat_map(|&l| {
                    let level = if l == 0 { -0.6 } else { 0.6 };
                    (0..64).map(move |_| level)
                })
                .collect();
            (pixels, labels)
        };
        let mut step = GanStep::conditional(
            d.clone(),
            generator,
            critic,
            adam(),
            adam(),
            GanConfig::new(GanLoss::NonSaturating, 32),
            64,
            2,
            Box::new(data),
        )
        .unwrap();
        let dir = std::env::temp_dir().join(format!("sysdyn-cgan-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let train = TrainConfig::new(300)
            .with_schedule(LrSchedule::Constant { lr: 2e-3 })
            .with_divergence_factor(None)
            .with_progress(ProgressMode::Quiet);
        Trainer::new(train, &dir).run(&mut step).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        // Both classes in one batch: the generator's batch norm sees the mix it was trained on.
        let labels: Vec<usize> = (0..64).map(|i| i % 2).collect();
        let samples = step
            .sample(64, Some(&labels), &mut SeededRng::new(9))
            .unwrap();
        let mean_for = |label: usize| {
            let rows: Vec<&[f64]> = samples.chunks(64).skip(label).step_by(2).collect();
            rows.iter().flat_map(|r| r.iter()).sum::<f64>() / (rows.len() * 64) as f64
        };
        let (dark, bright) = (mean_for(0), mean_for(1));
        assert!(
            dark < -0.3 && bright > 0.3,
            "{conditioning:?}: class 0 should be dark (−0.6) and class 1 bright (+0.6): means \
         {dark:.3}, {bright:.3}"
        );
    }
}

/// Conditional batch norm scales and shifts each channel by its class's `[γ, β]`:
/// `h ⊙ (1 + γ(y)) + β(y)`, checked on a hand-set table; with zero tables an untrained generator
/// ignores the label, with the default random tables it does not.
#[test]
fn conditional_batch_norm_scales_and_shifts_each_channel_by_its_class() {
    let d = device();
    // Two classes, two channels: [γ₀, γ₁, β₀, β₁] per class.
    let table = LabelEmbedding {
        table: Param::from_tensor(
            d.tensor(vec![0.5, -1.0, 2.0, 0.0, 0.0, 1.0, -3.0, 0.25], [2, 4])
                .unwrap(),
        ),
    };
    let h: Vec<f64> = (0..2 * 2 * 2).map(|k| k as f64 - 3.0).collect();
    let out = to_vec(
        table
            .modulate(d.tensor(h.clone(), [2, 2, 2, 1]).unwrap(), &[0, 1])
            .unwrap(),
    );
    let (scale, shift) = ([[1.5, 0.0], [1.0, 2.0]], [[2.0, 0.0], [-3.0, 0.25]]);
    for (k, (&o, &x)) in out.iter().zip(&h).enumerate() {
        let (row, channel) = (k / 4, (k / 2) % 2);
        let expected = x * scale[row][channel] + shift[row][channel];
        assert!(
            (o - expected).abs() < 1e-12,
            "entry {k}: {o} against {expected}"
        );
    }
    assert!(matches!(
        table.modulate(d.tensor(h, [2, 2, 2, 1]).unwrap(), &[0]),
        Err(GenerativeError::ShapeMismatch { .. })
    ));
    let config = small_config(Some(CriticConditioning::Projection))
        .with_generator_conditioning(GeneratorConditioning::BatchNorm);
    let z = d.tensor(SeededRng::new(5).normals(4 * 4), [4, 4]).unwrap();
    let outputs = |config: &DcganConfig| {
        let generator = config
            .init_generator(d.device(), &mut SeededRng::new(4))
            .unwrap();
        (
            to_vec(generator.generate(z.clone(), Some(&[0, 1, 2, 0])).unwrap()),
            to_vec(generator.generate(z.clone(), Some(&[2, 2, 1, 1])).unwrap()),
        )
    };
    let (a, b) = outputs(&config.clone().with_class_norm_std(0.0));
    assert_eq!(a, b);
    let (a, b) = outputs(&config);
    assert!(a.iter().zip(&b).any(|(x, y)| (x - y).abs() > 1e-3));
    let generator = config
        .clone()
        .init_generator(d.device(), &mut SeededRng::new(4))
        .unwrap();
    assert!(matches!(
        config
            .with_class_norm_std(-1.0)
            .init_generator(d.device(), &mut SeededRng::new(4)),
        Err(GenerativeError::InvalidParameter {
            name: "class_norm_std",
            ..
        })
    ));
    assert!(matches!(
        generator.generate(z, None),
        Err(GenerativeError::Unsupported { .. })
    ));
}
