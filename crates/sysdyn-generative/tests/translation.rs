//! The image-to-image players and steps: the PatchGAN's receptive field measured by perturbing
//! one pixel, the U-Net and ResNet generator's layouts, an L1-only Pix2Pix step learning an exact
//! inversion, CycleGAN resuming bit for bit (replay pools included), typed errors.

use std::sync::OnceLock;

use burn::module::{Module, ModuleVisitor, Param};
use burn::optim::AdamConfig;
use burn::tensor::Tensor;
use sysdyn_core::device::{DeviceSpec, SysDevice};
use sysdyn_core::rng::SeededRng;
use sysdyn_generative::GenerativeError;
use sysdyn_generative::gan::{
    CycleCritics, CycleGanConfig, CycleGanStep, CycleGenerators, ImageShape, PatchGanConfig,
    Pix2PixConfig, Pix2PixStep, ResnetGeneratorConfig, UNetConfig,
};
use sysdyn_train::{LrSchedule, Optim, ProgressMode, TrainConfig, Trainer};

/// f64 everywhere: the players are built in the default float type, set once for this binary.
fn device(autodiff: bool) -> SysDevice {
    static DEVICES: OnceLock<(SysDevice, SysDevice)> = OnceLock::new();
    let (plain, with_grad) = DEVICES.get_or_init(|| {
        let mut d: SysDevice = "flex:f64:autodiff"
            .parse::<DeviceSpec>()
            .unwrap()
            .init()
            .unwrap();
        d.configure_defaults().unwrap();
        let plain: SysDevice = "flex:f64".parse::<DeviceSpec>().unwrap().init().unwrap();
        (plain, d)
    });
    if autodiff {
        with_grad.clone()
    } else {
        plain.clone()
    }
}

fn host<const D: usize>(t: Tensor<D>) -> Vec<f64> {
    t.into_data().convert::<f64>().try_to_vec::<f64>().unwrap()
}

fn grey(side: usize) -> ImageShape {
    ImageShape::new(1, side, side)
}

#[test]
fn each_patchgan_logit_sees_exactly_its_receptive_field() {
    // Inference mode (no autodiff): batch norm uses its running statistics, so the network is
    // local and one pixel's influence is confined to the logits whose patch contains it.
    let d = device(false);
    for levels in [1, 2] {
        let config = PatchGanConfig::new(grey(32), 3).with_levels(levels);
        let field = config.receptive_field();
        assert_eq!(field, [12, 26][levels - 1]);
        let critic = config.init(d.device(), &mut SeededRng::new(1)).unwrap();
        let base = SeededRng::new(2).normals(32 * 32);
        let logits = |pixels: Vec<f64>| {
            host(
                critic
                    .forward(d.tensor(pixels, [1, 1024]).unwrap())
                    .unwrap(),
            )
        };
        let before = logits(base.clone());
        let (out_rows, out_cols) = config.output_side();
        assert_eq!(before.len(), out_rows * out_cols);
        let (pr, pc) = (16usize, 13usize);
        let mut poked = base.clone();
        poked[pr * 32 + pc] += 5.0;
        let after = logits(poked);
        let stride = 1usize << levels;
        for i in 0..out_rows {
            for j in 0..out_cols {
                let changed = (after[i * out_cols + j] - before[i * out_cols + j]).abs() > 1e-12;
                // Logit (i, j) covers input rows stride·i − (field − stride)/2 … + field − 1.
                let lo = |o: usize| (stride * o) as isize - ((field - stride) / 2) as isize;
                let inside = |o: usize, p: usize| {
                    let p = p as isize;
                    p >= lo(o) && p < lo(o) + field as isize
                };
                if changed {
                    assert!(
                        inside(i, pr) && inside(j, pc),
                        "levels {levels}: logit ({i}, {j}) changed but ({pr}, {pc}) is outside its patch"
                    );
                }
            }
        }
        // The pixel's influence reaches about (field / stride)² logits, at least one.
        let touched = before
            .iter()
            .zip(&after)
            .filter(|(a, b)| (*a - *b).abs() > 1e-12)
            .count();
        let span = field / stride;
        assert!(
            touched >= 1 && touched <= (span + 1) * (span + 1),
            "{touched}"
        );
    }
}

#[test]
fn the_generators_map_images_to_images_in_tanh_range() {
    let d = device(true);
    let x = d
        .tensor(SeededRng::new(3).normals(4 * 784), [4, 784])
        .unwrap();
    let unet = UNetConfig::new(grey(28), 3, 4)
        .init(d.device(), &mut SeededRng::new(4))
        .unwrap();
    let out = host(unet.forward(x.clone()).unwrap());
    assert_eq!(out.len(), 4 * 3 * 784);
    assert!(out.iter().all(|v| v.is_finite() && v.abs() <= 1.0));
    let resnet = ResnetGeneratorConfig::new(grey(28), 4)
        .init(d.device(), &mut SeededRng::new(5))
        .unwrap();
    let out = host(resnet.forward(x).unwrap());
    assert_eq!(out.len(), 4 * 784);
    assert!(out.iter().all(|v| v.is_finite() && v.abs() <= 1.0));
    // Sizes that do not halve exactly are refused.
    assert!(matches!(
        UNetConfig::new(grey(28), 1, 4)
            .with_levels(3)
            .init(d.device(), &mut SeededRng::new(1)),
        Err(GenerativeError::InvalidParameter { name: "levels", .. })
    ));
}

/// Draws `rows` random 8×8 images in [−1, 1] and their inversions `−x`.
fn inversion_pairs(rng: &mut SeededRng, rows: usize) -> (Vec<f64>, Vec<f64>) {
    let inputs: Vec<f64> = (0..rows * 64).map(|_| 2.0 * rng.uniform() - 1.0).collect();
    let targets = inputs.iter().map(|v| -0.8 * v).collect();
    (inputs, targets)
}

#[test]
fn an_l1_only_pix2pix_step_learns_an_inversion() {
    let d = device(true);
    let mut rng = SeededRng::new(6);
    let unet = UNetConfig::new(grey(8), 1, 8)
        .init(d.device(), &mut rng)
        .unwrap();
    let patch = PatchGanConfig::new(ImageShape::new(2, 8, 8), 4)
        .init(d.device(), &mut rng)
        .unwrap();
    let adam = || Optim::new(AdamConfig::new().build());
    let mut step = Pix2PixStep::new(
        d.clone(),
        unet,
        patch,
        (adam(), adam()),
        Pix2PixConfig::l1_only(16),
        Box::new(inversion_pairs),
    )
    .unwrap();
    let (inputs, targets) = inversion_pairs(&mut SeededRng::new(99), 32);
    let error = |step: &Pix2PixStep<_, _>| {
        let out = step.translate(inputs.clone()).unwrap();
        out.iter()
            .zip(&targets)
            .map(|(o, t)| (o - t).abs())
            .sum::<f64>()
            / out.len() as f64
    };
    let before = error(&step);
    let dir = std::env::temp_dir().join(format!("sysdyn-pix2pix-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let config = TrainConfig::new(400)
        .with_schedule(LrSchedule::Constant { lr: 3e-3 })
        .with_progress(ProgressMode::Quiet);
    Trainer::new(config, &dir).run(&mut step).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    let after = error(&step);
    assert!(before > 0.3, "{before}");
    assert!(
        after < 0.1,
        "mean |G(a) − b| after training {after} (before {before})"
    );
}

#[test]
fn pix2pix_refuses_a_discriminator_of_the_wrong_input() {
    let d = device(true);
    let mut rng = SeededRng::new(7);
    let unet = UNetConfig::new(grey(8), 1, 4)
        .init(d.device(), &mut rng)
        .unwrap();
    // It must see input and output stacked: 2 channels, not 1.
    let patch = PatchGanConfig::new(grey(8), 4)
        .init(d.device(), &mut rng)
        .unwrap();
    let adam = || Optim::new(AdamConfig::new().build());
    let step = Pix2PixStep::new(
        d.clone(),
        unet,
        patch,
        (adam(), adam()),
        Pix2PixConfig::new(4),
        Box::new(inversion_pairs),
    );
    assert!(matches!(step, Err(GenerativeError::ShapeMismatch { .. })));
    assert!(matches!(
        Pix2PixConfig::new(0).validate(),
        Err(GenerativeError::InvalidParameter {
            name: "batch_size",
            ..
        })
    ));
}

fn cyclegan(d: &SysDevice) -> CycleGanStep<burn::optim::Adam, burn::optim::Adam> {
    let mut rng = SeededRng::new(8);
    let generator = ResnetGeneratorConfig::new(grey(8), 2).with_depth(1, 1);
    let critic = PatchGanConfig::new(grey(8), 2);
    let generators = CycleGenerators {
        forward: generator.init(d.device(), &mut rng).unwrap(),
        backward: generator.init(d.device(), &mut rng).unwrap(),
    };
    let critics = CycleCritics {
        x: critic.init(d.device(), &mut rng).unwrap(),
        y: critic.init(d.device(), &mut rng).unwrap(),
    };
    let adam = || Optim::new(AdamConfig::new().build());
    let mut config = CycleGanConfig::new(4);
    config.pool_size = 6; // full after two steps: the resumed run must continue from its pool
    CycleGanStep::new(
        d.clone(),
        generators,
        critics,
        (adam(), adam()),
        config,
        (
            Box::new(|rng: &mut SeededRng, rows| rng.uniforms(rows * 64)),
            Box::new(|rng: &mut SeededRng, rows| {
                rng.uniforms(rows * 64).iter().map(|v| -v).collect()
            }),
        ),
    )
    .unwrap()
}

/// The trained parameters, flattened. Batch norm's running statistics are left out: they do not
/// enter a training step (batch statistics do), and burn's `RunningState` saves them one
/// update behind, so they may differ after a resume (weak point, see the crate documentation).
struct Flatten(Vec<f64>);

impl ModuleVisitor for Flatten {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let value = param.val();
        if value.is_require_grad() {
            self.0.extend(host(value));
        }
    }
}

fn parameters<M: Module>(module: &M) -> Vec<f64> {
    let mut flat = Flatten(Vec::new());
    module.visit(&mut flat);
    flat.0
}

#[test]
fn cyclegan_resumes_bit_for_bit_with_its_replay_pools() {
    let d = device(true);
    let train = |dir: &std::path::Path, steps: u64| {
        let config = TrainConfig::new(steps)
            .with_schedule(LrSchedule::Constant { lr: 1e-3 })
            .with_checkpoint_every(Some(3))
            .with_progress(ProgressMode::Quiet);
        let mut step = cyclegan(&d);
        Trainer::new(config, dir).run(&mut step).unwrap();
        step
    };
    let root = std::env::temp_dir().join(format!("sysdyn-cyclegan-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let straight = train(&root.join("straight"), 6);
    train(&root.join("resumed"), 3);
    let resumed = train(&root.join("resumed"), 6);
    std::fs::remove_dir_all(&root).unwrap();
    assert_eq!(
        parameters(&straight.generators),
        parameters(&resumed.generators)
    );
    assert_eq!(parameters(&straight.critics), parameters(&resumed.critics));
}

#[test]
fn cyclegan_refuses_mismatched_players_and_bad_weights() {
    let d = device(true);
    let mut rng = SeededRng::new(9);
    let generators = CycleGenerators {
        forward: ResnetGeneratorConfig::new(grey(8), 2)
            .init(d.device(), &mut rng)
            .unwrap(),
        backward: ResnetGeneratorConfig::new(grey(8), 2)
            .init(d.device(), &mut rng)
            .unwrap(),
    };
    let critics = CycleCritics {
        x: PatchGanConfig::new(grey(8), 2)
            .init(d.device(), &mut rng)
            .unwrap(),
        y: PatchGanConfig::new(grey(16), 2)
            .init(d.device(), &mut rng)
            .unwrap(),
    };
    let adam = || Optim::new(AdamConfig::new().build());
    let step = CycleGanStep::new(
        d.clone(),
        generators,
        critics,
        (adam(), adam()),
        CycleGanConfig::new(4),
        (
            Box::new(|rng: &mut SeededRng, rows| rng.uniforms(rows * 64)),
            Box::new(|rng: &mut SeededRng, rows| rng.uniforms(rows * 64)),
        ),
    );
    assert!(matches!(step, Err(GenerativeError::ShapeMismatch { .. })));
    let mut config = CycleGanConfig::new(4);
    config.identity_factor = -1.0;
    assert!(matches!(
        config.validate(),
        Err(GenerativeError::InvalidParameter {
            name: "identity_factor",
            ..
        })
    ));
}
