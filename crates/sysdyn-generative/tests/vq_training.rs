//! The VQ-VAE's training step on sysdyn's runtime: on a few hundred procedural digits, dead-code
//! restarts keep far more of the codebook in use (perplexity) than plain training, whose
//! codebook collapses; the EMA codebook is left alone by the optimizer; a resumed run with EMA
//! and restarts continues bit for bit; bad settings are typed errors; a run that turns NaN stops
//! with the runtime's divergence error and keeps the last good checkpoint.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use burn::module::{Module, ModuleVisitor, Param};
use burn::optim::{Adam, AdamConfig};
use burn::tensor::Tensor;
use sysdyn_core::device::{DeviceSpec, SysDevice};
use sysdyn_core::rng::SeededRng;
use sysdyn_data::images::DigitsConfig;
use sysdyn_generative::GenerativeError;
use sysdyn_generative::gan::{DataSampler, ImageShape};
use sysdyn_generative::vq::{
    DeadCodeRule, EmaConfig, PixelCnnConfig, PriorStep, QuantiserConfig, VqVae, VqVaeConfig,
    VqVaeStep,
};
use sysdyn_train::{
    Checkpoints, LrSchedule, Optim, ProgressMode, StepContext, TrainConfig, TrainError, TrainStep,
    Trainer,
};

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

const IMAGES: usize = 300;
const SIDE: usize = 28;

fn digits() -> Arc<Vec<f64>> {
    static DIGITS: OnceLock<Arc<Vec<f64>>> = OnceLock::new();
    DIGITS
        .get_or_init(|| Arc::new(DigitsConfig::default().generate(IMAGES, 0).unwrap().pixels))
        .clone()
}

/// Rows drawn uniformly from the digit set.
fn digit_sampler() -> DataSampler {
    let pixels = digits();
    Box::new(move |rng: &mut SeededRng, rows| {
        (0..rows)
            .flat_map(|_| {
                let i = rng.below(IMAGES as u64) as usize;
                pixels[i * SIDE * SIDE..(i + 1) * SIDE * SIDE].to_vec()
            })
            .collect()
    })
}

fn adam() -> Optim<Adam> {
    Optim::new(AdamConfig::new().build())
}

fn run_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sysdyn-vq-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn train_config(steps: u64, lr: f64) -> TrainConfig {
    TrainConfig::new(steps)
        .with_schedule(LrSchedule::Constant { lr })
        .with_divergence_factor(None)
        .with_progress(ProgressMode::Quiet)
}

fn model(quantiser: QuantiserConfig, seed: u64) -> VqVae {
    VqVaeConfig::new(quantiser)
        .with_hidden(16)
        .init(device().device(), &mut SeededRng::new(seed))
        .unwrap()
}

fn step(model: VqVae, batch: usize) -> VqVaeStep<Adam> {
    VqVaeStep::new(device(), model, adam(), batch, digit_sampler()).unwrap()
}

fn parameters<M: Module>(module: &M) -> Vec<f64> {
    struct Collect(Vec<f64>);
    impl ModuleVisitor for Collect {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            self.0.extend(
                param
                    .val()
                    .into_data()
                    .convert::<f64>()
                    .try_to_vec::<f64>()
                    .unwrap(),
            );
        }
    }
    let mut collect = Collect(Vec::new());
    module.visit(&mut collect);
    collect.0
}

/// Trains for `steps` and returns (perplexity, fraction of codes used) over the whole set.
fn train_and_measure(quantiser: QuantiserConfig, name: &str, steps: u64) -> (f64, f64) {
    let mut step = step(model(quantiser, 1), 16);
    let dir = run_dir(name);
    Trainer::new(train_config(steps, 3e-3), &dir)
        .run(&mut step)
        .unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    let usage = step.usage(digits().to_vec(), IMAGES).unwrap();
    (usage.perplexity(), usage.fraction_used())
}

#[test]
fn dead_code_restarts_keep_the_codebook_in_use_where_plain_training_collapses() {
    let started = Instant::now();
    // Many codes for few data: the codes the encoder's outputs leave behind at the start stay
    // behind (no output is assigned to them, so the codebook loss never moves them).
    let codes = 512;
    let plain = train_and_measure(QuantiserConfig::new(codes, 8), "plain", 150);
    let restarted = train_and_measure(
        QuantiserConfig::new(codes, 8).with_restart(DeadCodeRule::Unused { steps: 10 }),
        "restart",
        150,
    );
    eprintln!(
        "perplexity (usage) over {IMAGES} digits after 150 steps: plain {:.2} ({:.2}), \
         with restarts {:.2} ({:.2}); {:.1} s",
        plain.0,
        plain.1,
        restarted.0,
        restarted.1,
        started.elapsed().as_secs_f64()
    );
    // Measured: plain 40.5 (13 % of the codes used), with restarts 362.5 (100 %).
    assert!(restarted.0 > 4.0 * plain.0, "{restarted:?} vs {plain:?}");
    assert!(
        plain.1 < 0.3 && restarted.1 > 0.9,
        "{restarted:?} vs {plain:?}"
    );
}

#[test]
fn with_ema_the_optimizer_leaves_the_codebook_to_the_moving_averages() {
    let quantiser = QuantiserConfig::new(16, 4).with_ema(EmaConfig::default());
    let mut step = step(model(quantiser, 2), 8);
    assert!(
        !step
            .model
            .quantiser
            .codebook
            .vectors
            .val()
            .is_require_grad()
    );
    let config = train_config(10, 1e-2);
    let mut ctx = StepContext::new(&config, 0);
    let before = parameters(&step.model.quantiser);
    // What the step will see: the same batch, drawn from the same stream.
    let images = {
        let mut sampler = digit_sampler();
        let values = sampler(&mut ctx.rng.clone(), 8);
        device().tensor(values, [8, SIDE * SIDE]).unwrap()
    };
    let pass = step.model.forward(images).unwrap();
    let report = step.step(&mut ctx).unwrap();
    // The codebook moved exactly as the EMA update alone moves it from the batch's outputs.
    let mut expected = model(
        QuantiserConfig::new(16, 4).with_ema(EmaConfig::default()),
        2,
    )
    .quantiser;
    assert_eq!(parameters(&expected), before);
    expected
        .update_codes(pass.encoded, &pass.quantised.codes, &mut SeededRng::new(0))
        .unwrap();
    assert_eq!(parameters(&step.model.quantiser), parameters(&expected));
    // The report carries the batch's code statistics.
    let metric = |name: &str| {
        report
            .metrics
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| *v)
            .unwrap()
    };
    assert!((1.0..=16.0).contains(&metric("perplexity")));
    assert!((0.0..=1.0).contains(&metric("usage")));
    assert_eq!(metric("restarted"), 0.0);
    assert!((report.loss - pass.loss.into_scalar::<f64>()).abs() < 1e-12);
}

#[test]
fn a_resumed_run_with_ema_and_restarts_continues_bit_for_bit() {
    let quantiser = || {
        QuantiserConfig::new(64, 4)
            .with_ema(EmaConfig::default())
            .with_restart(DeadCodeRule::Unused { steps: 2 })
    };
    let config = |steps| train_config(steps, 3e-3).with_checkpoint_every(Some(3));
    let mut straight = step(model(quantiser(), 3), 8);
    let dir = run_dir("straight");
    Trainer::new(config(8), &dir).run(&mut straight).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();

    let dir = run_dir("resumed");
    let mut first = step(model(quantiser(), 3), 8);
    Trainer::new(config(4), &dir).run(&mut first).unwrap();
    // A fresh process: a new model from another seed, then the checkpoint of step 4.
    let mut resumed = step(model(quantiser(), 99), 8);
    Trainer::new(config(8), &dir).run(&mut resumed).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    // EMA counts and sums, idle counters and codes included.
    assert_eq!(parameters(&resumed.model), parameters(&straight.model));
    // The restart's invariant: no code stays idle for T = 2 updates.
    let restart = straight.model.quantiser.restart.as_ref().unwrap();
    assert!(parameters(restart).iter().all(|&v| v < 2.0));
}

#[test]
fn bad_settings_are_typed_errors() {
    let device = device();
    let mut rng = SeededRng::new(0);
    let invalid = |config: VqVaeConfig| {
        let err = config
            .init(device.device(), &mut SeededRng::new(0))
            .unwrap_err();
        assert!(
            matches!(
                err,
                GenerativeError::InvalidParameter { .. } | GenerativeError::Unsupported { .. }
            ),
            "{err}"
        );
    };
    invalid(VqVaeConfig::new(QuantiserConfig::new(0, 8)));
    invalid(VqVaeConfig::new(QuantiserConfig::new(8, 0)));
    invalid(VqVaeConfig::new(
        QuantiserConfig::new(8, 4).with_commitment(-0.25),
    ));
    invalid(VqVaeConfig::new(QuantiserConfig::new(8, 4)).with_image(ImageShape::new(1, 30, 28)));
    invalid(VqVaeConfig::new(QuantiserConfig::new(8, 4)).with_image(ImageShape::new(0, 28, 28)));
    invalid(VqVaeConfig::new(QuantiserConfig::new(8, 4)).with_hidden(0));
    invalid(VqVaeConfig::new(QuantiserConfig::new(8, 4).with_ema(
        EmaConfig {
            decay: 1.5,
            epsilon: 1e-5,
        },
    )));
    // A 32×32 model works; 28×28 images do not fit it.
    let model = VqVaeConfig::new(QuantiserConfig::new(8, 4))
        .with_image(ImageShape::new(1, 32, 32))
        .with_hidden(4)
        .init(device.device(), &mut rng)
        .unwrap();
    assert_eq!(model.config().grid(), (8, 8));
    let images = device.tensor(vec![0.0; 2 * 784], [2, 784]).unwrap();
    assert!(matches!(
        model.forward(images),
        Err(GenerativeError::ShapeMismatch { .. })
    ));
    assert!(matches!(
        model.decode_codes(&[0; 10]),
        Err(GenerativeError::ShapeMismatch { .. })
    ));
    assert!(matches!(
        VqVaeStep::new(device.clone(), model, adam(), 0, digit_sampler()),
        Err(GenerativeError::InvalidParameter { .. })
    ));
    // A prior must match the VQ-VAE's codebook and grid.
    let vq_vae = self::model(QuantiserConfig::new(8, 4), 0);
    let prior = PixelCnnConfig::new(8, (4, 4))
        .init(device.device(), &mut rng)
        .unwrap();
    assert!(matches!(
        PriorStep::on_vq_vae(device.clone(), prior, adam(), 4, vq_vae, digit_sampler()),
        Err(GenerativeError::ShapeMismatch { .. })
    ));
    // A sampler that draws the wrong number of values stops the run with an error.
    let bad: DataSampler = Box::new(|_rng: &mut SeededRng, rows| vec![0.0; rows * 10]);
    let mut step = VqVaeStep::new(
        device.clone(),
        self::model(QuantiserConfig::new(8, 4), 0),
        adam(),
        4,
        bad,
    )
    .unwrap();
    let dir = run_dir("bad-sampler");
    let err = Trainer::new(train_config(2, 1e-3), &dir)
        .run(&mut step)
        .unwrap_err();
    assert!(err.to_string().contains("images drawn"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_diverging_run_stops_and_keeps_the_last_good_checkpoint() {
    // The data turn to NaN after 25 draws: the loss is NaN at the 26th step.
    let draws = Arc::new(AtomicUsize::new(0));
    let counter = draws.clone();
    let mut digits = digit_sampler();
    let data: DataSampler = Box::new(move |rng: &mut SeededRng, rows| {
        let n = counter.fetch_add(1, Ordering::SeqCst);
        let values = digits(rng, rows);
        if n >= 25 {
            values.iter().map(|_| f64::NAN).collect()
        } else {
            values
        }
    });
    let quantiser = QuantiserConfig::new(16, 4).with_restart(DeadCodeRule::Unused { steps: 3 });
    let mut step = VqVaeStep::new(device(), model(quantiser, 4), adam(), 4, data).unwrap();
    let dir = run_dir("diverge");
    let err = Trainer::new(
        train_config(100, 1e-3).with_checkpoint_every(Some(10)),
        &dir,
    )
    .run(&mut step)
    .unwrap_err();
    match err {
        TrainError::Diverged {
            step,
            restored_step,
            ..
        } => {
            assert_eq!(step, 26);
            assert_eq!(restored_step, Some(20));
        }
        other => panic!("expected divergence, got {other}"),
    }
    assert!(parameters(&step.model).iter().all(|v| v.is_finite()));
    let (latest, _) = Checkpoints::new(&dir).latest().unwrap().unwrap();
    assert_eq!(latest, 20);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn decoding_the_codes_reproduces_the_reconstruction_exactly() {
    let model = model(QuantiserConfig::new(32, 4), 5);
    let mut sampler = digit_sampler();
    let images = device()
        .tensor(sampler(&mut SeededRng::new(1), 4), [4, SIDE * SIDE])
        .unwrap();
    let pass = model.forward(images.clone()).unwrap();
    let codes = model.encode_codes(images).unwrap();
    assert_eq!(codes, pass.quantised.codes);
    assert_eq!(codes.len(), 4 * 7 * 7);
    // The straight-through values are the codes' own, so the decoder sees the same input.
    let decoded = model.decode_codes(&codes).unwrap();
    let to_vec = |t: Tensor<2>| t.into_data().convert::<f64>().try_to_vec::<f64>().unwrap();
    assert_eq!(to_vec(decoded), to_vec(pass.reconstruction));
}

#[test]
fn the_prior_step_on_a_vq_vae_trains_on_its_codes() {
    let device = device();
    let vq_vae = model(QuantiserConfig::new(8, 4), 6);
    let prior = PixelCnnConfig::new(8, (7, 7))
        .with_width(8)
        .with_layers(1)
        .init(device.device(), &mut SeededRng::new(7))
        .unwrap();
    let config = train_config(1, 1e-3);
    let mut ctx = StepContext::new(&config, 0);
    // The cross-entropy of the codes of the batch the step draws, before its update.
    let images = device
        .tensor(digit_sampler()(&mut ctx.rng.clone(), 6), [6, SIDE * SIDE])
        .unwrap();
    let codes = vq_vae.encode_codes(images).unwrap();
    let expected = prior
        .negative_log_likelihood(&codes)
        .unwrap()
        .into_scalar::<f64>();
    let mut step =
        PriorStep::on_vq_vae(device.clone(), prior, adam(), 6, vq_vae, digit_sampler()).unwrap();
    let report = step.step(&mut ctx).unwrap();
    assert_eq!(report.loss, expected);
    let bits = report
        .metrics
        .iter()
        .find(|(n, _)| n == "bits_per_code")
        .unwrap()
        .1;
    assert!((bits - expected / std::f64::consts::LN_2).abs() < 1e-12);
    // The update lowered the cross-entropy of that batch.
    let after = step
        .prior
        .negative_log_likelihood(&codes)
        .unwrap()
        .into_scalar::<f64>();
    assert!(after < expected, "{expected} → {after}");
}
