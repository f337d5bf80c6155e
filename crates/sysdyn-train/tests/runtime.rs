//! The training runtime on a real burn model: an MLP regression in f64 on the flex CPU backend
//! with autodiff, trained with Adam through `sysdyn_train::Optim`.
//!
//! - kill/resume: a run that crashes and is resumed from its run directory ends with parameters
//!   bit-identical to an uninterrupted run, and writes the same metrics file;
//! - divergence: a typed error naming the step and the value, the last good checkpoint intact
//!   on disk and restored into the model;
//! - damaged checkpoint files (truncated, random bytes, wrong shapes) and unwritable run
//!   directories give typed errors, never panics;
//! - global-norm clipping and the EMA against hand computations; last-k retention.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use burn::module::{Module, Param};
use burn::nn::Linear;
use burn::optim::{Adam, AdamConfig, GradientsParams};
use burn::tensor::Tensor;
use sysdyn_core::device::{Backend, DeviceSpec, Precision, SysDevice};
use sysdyn_core::rng::SeededRng;
use sysdyn_train::{
    BoxError, Checkpointable, Checkpoints, Divergence, EarlyStopping, Ema, LrSchedule, NonFinite,
    Optim, ProgressMode, StepContext, StepReport, StopReason, TrainConfig, TrainError, TrainStep,
    Trainer, clip_grad_norm, find_non_finite, global_grad_norm, load_module, read_metrics,
    save_module,
};

const POINTS: usize = 64;
const BATCH: usize = 16;

/// The f64 flex device with autodiff, its default float type set to f64 once per process
/// (burn rebuilds restored optimizer state in the device's default type).
fn device() -> SysDevice {
    static DEVICE: OnceLock<SysDevice> = OnceLock::new();
    DEVICE
        .get_or_init(|| {
            let mut device = DeviceSpec::new(Backend::Flex, Precision::F64)
                .with_autodiff(true)
                .init()
                .unwrap();
            device.configure_defaults().unwrap();
            device
        })
        .clone()
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sysdyn-train-test-{}-{name}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

#[derive(Module, Debug)]
struct Mlp {
    hidden: Linear,
    output: Linear,
}

impl Mlp {
    fn new(device: &SysDevice, hidden: usize, seed: u64) -> Self {
        let mut rng = SeededRng::new(seed);
        let layer = |rng: &mut SeededRng, d_in: usize, d_out: usize| Linear {
            weight: Param::from_tensor(
                device
                    .randn(rng, [d_in, d_out])
                    .mul_scalar(1.0 / (d_in as f64).sqrt()),
            ),
            bias: Some(Param::from_tensor(device.zeros([d_out]))),
        };
        Mlp {
            hidden: layer(&mut rng, 1, hidden),
            output: layer(&mut rng, hidden, 1),
        }
    }

    fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        self.output.forward(self.hidden.forward(x).tanh())
    }
}

/// Every parameter value, in a fixed order.
fn params(model: &Mlp) -> Vec<f64> {
    let v = |t: Tensor<2>| t.inner().try_into_vec_as::<f64>().unwrap();
    let b = |t: Tensor<1>| t.inner().try_into_vec_as::<f64>().unwrap();
    let mut out = v(model.hidden.weight.val());
    out.extend(b(model.hidden.bias.as_ref().unwrap().val()));
    out.extend(v(model.output.weight.val()));
    out.extend(b(model.output.bias.as_ref().unwrap().val()));
    out
}

fn scalar(t: Tensor<1>) -> f64 {
    t.inner().try_into_vec_as::<f64>().unwrap()[0]
}

/// The regression step: a mini-batch drawn from the step's random stream, MSE, global-norm
/// clipping, Adam. Can be told to fail at a step (a crash) or to poison its parameters.
struct Regression {
    device: SysDevice,
    model: Mlp,
    adam: Optim<Adam>,
    xs: Vec<f64>,
    crash_at: Option<u64>,
    poison_at: Option<u64>,
}

impl Regression {
    fn new(hidden: usize, seed: u64) -> Self {
        let device = device();
        Regression {
            model: Mlp::new(&device, hidden, seed),
            device,
            adam: Optim::new(AdamConfig::new().build()),
            xs: (0..POINTS)
                .map(|i| -2.0 + 4.0 * i as f64 / (POINTS - 1) as f64)
                .collect(),
            crash_at: None,
            poison_at: None,
        }
    }

    fn mse(&self, xs: &[f64]) -> Tensor<1> {
        let n = xs.len();
        let x = self.device.tensor(xs.to_vec(), [n, 1]).unwrap();
        let y = self
            .device
            .tensor(
                xs.iter().map(|x| (1.5 * x).sin()).collect::<Vec<_>>(),
                [n, 1],
            )
            .unwrap();
        (self.model.forward(x) - y).square().mean()
    }
}

impl Checkpointable for Regression {
    fn save_checkpoint(&self, dir: &Path) -> Result<(), TrainError> {
        save_module(&self.model, dir, "model")?;
        self.adam.save(dir, "adam")
    }

    fn load_checkpoint(&mut self, dir: &Path) -> Result<(), TrainError> {
        self.model = load_module(self.model.clone(), dir, "model")?;
        self.adam.load(dir, "adam", &self.model)
    }
}

impl TrainStep for Regression {
    fn step(&mut self, ctx: &mut StepContext) -> Result<StepReport, BoxError> {
        if self.crash_at == Some(ctx.step) {
            return Err("simulated crash".into());
        }
        let batch: Vec<f64> = (0..BATCH)
            .map(|_| self.xs[ctx.rng.below(POINTS as u64) as usize])
            .collect();
        let loss = self.mse(&batch);
        let value = scalar(loss.clone());
        let mut grads = GradientsParams::from_grads(loss.backward(), &self.model);
        let norm = ctx.clip_grads(&mut grads, &self.model).unwrap_or(f64::NAN);
        self.model = self.adam.step(ctx.lr, self.model.clone(), grads);
        if self.poison_at == Some(ctx.step) {
            let bias = self.model.output.bias.take().unwrap();
            self.model.output.bias = Some(bias.map(|t| t.mul_scalar(f64::NAN)));
        }
        Ok(StepReport::new(value).with("grad_norm", norm))
    }

    fn evaluate(&mut self, _ctx: &StepContext) -> Result<Vec<(String, f64)>, BoxError> {
        Ok(vec![(
            "mse".to_string(),
            scalar(self.mse(&self.xs.clone())),
        )])
    }

    fn non_finite_parameter(&self) -> Option<NonFinite> {
        find_non_finite(&self.model, "model")
    }
}

fn quiet(config: TrainConfig) -> TrainConfig {
    config.with_progress(ProgressMode::Quiet)
}

fn resume_config() -> TrainConfig {
    quiet(
        TrainConfig::new(2000)
            .with_seed(11)
            .with_schedule(LrSchedule::warm_up(
                50,
                LrSchedule::Cosine {
                    lr: 0.02,
                    min_lr: 1e-4,
                    steps: 1950,
                },
            ))
            .with_steps_per_epoch(Some(4))
            .with_grad_clip_norm(Some(1.0))
            .with_eval_every(Some(100))
            .with_checkpoint_every(Some(250))
            .with_keep_last(2),
    )
}

#[test]
fn a_crashed_run_resumes_bit_identically() {
    let config = resume_config();

    // The uninterrupted run.
    let straight_dir = temp_dir("straight");
    let mut straight = Regression::new(16, 5);
    let summary = Trainer::new(config.clone(), &straight_dir)
        .run(&mut straight)
        .unwrap();
    assert_eq!(summary.steps, 2000);
    assert_eq!(summary.stop, StopReason::StepBudget);
    assert!(summary.last_loss.unwrap() < 0.05, "{summary:?}");

    // The same run, crashing at step 1337 (after the checkpoint of step 1250) ...
    let crash_dir = temp_dir("crash");
    let mut crashing = Regression::new(16, 5);
    crashing.crash_at = Some(1337);
    let err = Trainer::new(config.clone(), &crash_dir)
        .run(&mut crashing)
        .unwrap_err();
    assert!(matches!(err, TrainError::Step { step: 1338, .. }), "{err}");
    drop(crashing); // everything in memory is lost, as in a crash

    // ... resumed by a new process-like start: another initialisation, overwritten on resume.
    let mut resumed = Regression::new(16, 999);
    let summary = Trainer::new(config, &crash_dir).run(&mut resumed).unwrap();
    assert_eq!(summary.resumed_from, Some(1250));
    assert_eq!(summary.steps, 2000);

    assert!(params(&straight.model) == params(&resumed.model));
    let straight_metrics = fs::read_to_string(straight_dir.join("metrics.jsonl")).unwrap();
    let resumed_metrics = fs::read_to_string(crash_dir.join("metrics.jsonl")).unwrap();
    assert_eq!(straight_metrics.lines().count(), 2000 + 20);
    assert!(straight_metrics == resumed_metrics, "metrics files differ");

    // The lines are readable and carry the schedule and the evaluation.
    let lines = read_metrics(&straight_dir.join("metrics.jsonl")).unwrap();
    assert!((lines[0].lr.unwrap() - 0.02 / 50.0).abs() < 1e-15);
    assert_eq!(lines[0].epoch, Some(0));
    assert_eq!(lines[4].epoch, Some(1));
    let eval = lines.iter().find(|l| l.kind == "eval").unwrap();
    assert_eq!(eval.step, 100);
    assert!(eval.metrics["mse"].is_finite());

    // The trained model loads without retraining, equal to the one in memory.
    let (step, dir) = Checkpoints::new(&straight_dir).latest().unwrap().unwrap();
    assert_eq!(step, 2000);
    let loaded = load_module(Mlp::new(&device(), 16, 0), &dir, "model").unwrap();
    assert!(params(&loaded) == params(&straight.model));
    // The configuration is saved beside the checkpoint and in the run directory.
    let saved: TrainConfig = sysdyn_train::load_config(&dir, "config").unwrap();
    assert_eq!(saved.seed, 11);
    assert!(straight_dir.join("config.json").is_file());

    for dir in [straight_dir, crash_dir] {
        fs::remove_dir_all(dir).unwrap();
    }
}

#[test]
fn resuming_with_another_configuration_is_refused() {
    let dir = temp_dir("config-mismatch");
    let config = quiet(TrainConfig::new(5).with_seed(1));
    Trainer::new(config.clone(), &dir)
        .run(&mut Regression::new(4, 1))
        .unwrap();
    // A longer budget is a continuation ...
    let longer = config.clone().with_max_steps(8);
    let summary = Trainer::new(longer, &dir)
        .run(&mut Regression::new(4, 1))
        .unwrap();
    assert_eq!((summary.resumed_from, summary.steps), (Some(5), 8));
    // ... another seed is another run.
    let err = Trainer::new(config.clone().with_seed(2).with_max_steps(10), &dir)
        .run(&mut Regression::new(4, 1))
        .unwrap_err();
    assert!(matches!(err, TrainError::ConfigMismatch { .. }), "{err}");
    assert!(err.to_string().contains("`seed` was 1, now 2"), "{err}");
    // So are other program settings (e.g. another data set size).
    let other_data = config
        .with_max_steps(10)
        .with_program_settings(Some(serde_json::json!({ "points": 64 })));
    let err = Trainer::new(other_data, &dir)
        .run(&mut Regression::new(4, 1))
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("`program_settings` was null, now {\"points\":64}"),
        "{err}"
    );
    fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_huge_learning_rate_diverges_and_restores_the_last_good_checkpoint() {
    let dir = temp_dir("diverge");
    let mut fit = Regression::new(16, 5);
    let initial = params(&fit.model);
    let config = quiet(
        TrainConfig::new(50)
            .with_schedule(LrSchedule::constant(1e3))
            .with_divergence_factor(Some(10.0))
            .with_checkpoint_every(Some(1)),
    );
    let err = Trainer::new(config, &dir).run(&mut fit).unwrap_err();
    let TrainError::Diverged {
        step,
        what,
        value,
        restored_step,
    } = &err
    else {
        panic!("expected a divergence, got {err}");
    };
    // Step 1 moved every parameter by about 1e3; step 2 measured the loss of that state.
    assert_eq!(*step, 2);
    let Divergence::LossAboveBest { best, factor } = what else {
        panic!("{what:?}");
    };
    assert!(*value > factor * best, "{value} vs {best}");
    assert_eq!(*restored_step, Some(0));
    let message = err.to_string();
    assert!(
        message.contains("step 2") && message.contains("restored"),
        "{message}"
    );

    // The bad checkpoint (step 1, the state that produced the loss) is gone, the good one is
    // intact and equal to what was saved, and the model in memory is that state.
    let checkpoints = Checkpoints::new(&dir);
    assert_eq!(checkpoints.steps().unwrap(), vec![0]);
    let on_disk = load_module(Mlp::new(&device(), 16, 0), &checkpoints.dir(0), "model").unwrap();
    assert!(params(&on_disk) == initial);
    assert!(params(&fit.model) == initial);
    let lines = read_metrics(&dir.join("metrics.jsonl")).unwrap();
    assert_eq!(lines.last().unwrap().kind, "diverged");
    fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_nan_parameter_diverges_and_names_it() {
    let dir = temp_dir("nan");
    let mut fit = Regression::new(4, 5);
    fit.poison_at = Some(5);
    let config = quiet(
        TrainConfig::new(50)
            .with_schedule(LrSchedule::constant(1e-2))
            .with_checkpoint_every(Some(2)),
    );
    let err = Trainer::new(config, &dir).run(&mut fit).unwrap_err();
    let TrainError::Diverged {
        step,
        what: Divergence::NonFiniteParameter { path, index },
        value,
        restored_step,
    } = &err
    else {
        panic!("expected a NaN parameter, got {err}");
    };
    assert_eq!((*step, path.as_str(), *index), (6, "model.output.bias", 0));
    assert!(value.is_nan());
    assert_eq!(*restored_step, Some(4));
    assert!(find_non_finite(&fit.model, "model").is_none());
    fs::remove_dir_all(dir).unwrap();
}

/// A short run whose newest checkpoint the damage tests spoil.
fn short_run(name: &str) -> (PathBuf, PathBuf) {
    let dir = temp_dir(name);
    let config = quiet(TrainConfig::new(6).with_schedule(LrSchedule::constant(1e-2)));
    Trainer::new(config, &dir)
        .run(&mut Regression::new(16, 3))
        .unwrap();
    let checkpoint = Checkpoints::new(&dir).dir(6);
    (dir, checkpoint)
}

fn short_config() -> TrainConfig {
    quiet(TrainConfig::new(6).with_schedule(LrSchedule::constant(1e-2)))
}

#[test]
fn truncated_and_random_checkpoint_files_are_typed_errors() {
    let (dir, checkpoint) = short_run("damaged");
    let model_file = checkpoint.join("model.bpk");
    let adam_file = checkpoint.join("adam.bpk");
    let good_model = fs::read(&model_file).unwrap();
    let good_adam = fs::read(&adam_file).unwrap();

    let mut rng = SeededRng::new(4);
    let random: Vec<u8> = (0..good_model.len())
        .map(|_| rng.next_u64() as u8)
        .collect();
    for (what, bytes) in [
        ("truncated", good_model[..good_model.len() / 2].to_vec()),
        ("cut header", good_model[..5].to_vec()),
        ("random", random.clone()),
        ("empty", Vec::new()),
    ] {
        fs::write(&model_file, &bytes).unwrap();
        let err = load_module(Mlp::new(&device(), 16, 0), &checkpoint, "model").unwrap_err();
        assert!(matches!(err, TrainError::Corrupt { .. }), "{what}: {err}");
        assert!(err.to_string().contains("model.bpk"), "{what}: {err}");
        // The runtime reports it too when resuming.
        let err = Trainer::new(short_config().with_max_steps(9), &dir)
            .run(&mut Regression::new(16, 3))
            .unwrap_err();
        assert!(matches!(err, TrainError::Corrupt { .. }), "{what}: {err}");
    }
    fs::write(&model_file, &good_model).unwrap();

    let model = load_module(Mlp::new(&device(), 16, 0), &checkpoint, "model").unwrap();
    for (what, bytes) in [
        ("truncated", good_adam[..good_adam.len() - 9].to_vec()),
        ("random", random),
    ] {
        fs::write(&adam_file, &bytes).unwrap();
        let err = Optim::new(AdamConfig::new().build())
            .load(&checkpoint, "adam", &model)
            .unwrap_err();
        assert!(matches!(err, TrainError::Corrupt { .. }), "{what}: {err}");
        assert!(err.to_string().contains("adam.bpk"), "{what}: {err}");
    }
    fs::write(&adam_file, &good_adam).unwrap();

    fs::write(checkpoint.join("trainer.json"), "{\"step\": ").unwrap();
    let err = Trainer::new(short_config(), &dir)
        .run(&mut Regression::new(16, 3))
        .unwrap_err();
    assert!(matches!(err, TrainError::Corrupt { .. }), "{err}");
    assert!(err.to_string().contains("trainer.json"), "{err}");

    fs::remove_file(checkpoint.join("adam.bpk")).unwrap();
    let err = Optim::new(AdamConfig::new().build())
        .load(&checkpoint, "adam", &model)
        .unwrap_err();
    assert!(matches!(err, TrainError::MissingFile { .. }), "{err}");
    fs::remove_dir_all(dir).unwrap();
}

#[test]
fn wrong_shape_checkpoints_are_typed_errors() {
    let (dir, checkpoint) = short_run("wrong-shape");
    // A model built with another hidden width.
    let err = load_module(Mlp::new(&device(), 8, 0), &checkpoint, "model").unwrap_err();
    assert!(matches!(err, TrainError::Mismatch { .. }), "{err}");
    assert!(err.to_string().contains("model.bpk"), "{err}");
    assert!(err.to_string().contains("shape"), "{err}");
    // The runtime refuses it too.
    let err = Trainer::new(short_config().with_max_steps(9), &dir)
        .run(&mut Regression::new(8, 3))
        .unwrap_err();
    assert!(matches!(err, TrainError::Mismatch { .. }), "{err}");

    // Optimizer state saved for another model (other parameter ids) ...
    let other = Mlp::new(&device(), 16, 0);
    let err = Optim::new(AdamConfig::new().build())
        .load(&checkpoint, "adam", &other)
        .unwrap_err();
    assert!(matches!(err, TrainError::Mismatch { .. }), "{err}");
    // ... or of another shape: the 16-wide model's state into an 8-wide model with its ids.
    let narrow = {
        let wide = load_module(Mlp::new(&device(), 16, 0), &checkpoint, "model").unwrap();
        let mut narrow = Mlp::new(&device(), 8, 0);
        narrow.hidden.weight =
            Param::initialized(wide.hidden.weight.id, narrow.hidden.weight.val());
        narrow
    };
    let err = Optim::new(AdamConfig::new().build())
        .load(&checkpoint, "adam", &narrow)
        .unwrap_err();
    assert!(matches!(err, TrainError::Mismatch { .. }), "{err}");
    assert!(err.to_string().contains("adam.bpk"), "{err}");
    fs::remove_dir_all(dir).unwrap();
}

#[test]
fn an_unwritable_run_directory_is_a_typed_error() {
    let dir = temp_dir("unwritable");
    let file = dir.join("a-file");
    fs::write(&file, "not a directory").unwrap();
    let err = Trainer::new(short_config(), file.join("run"))
        .run(&mut Regression::new(4, 1))
        .unwrap_err();
    assert!(matches!(err, TrainError::Unwritable { .. }), "{err}");
    assert!(err.to_string().contains("a-file"), "{err}");
    fs::remove_dir_all(dir).unwrap();
}

#[test]
fn only_the_last_k_checkpoints_are_kept() {
    let dir = temp_dir("retention");
    let config = quiet(
        TrainConfig::new(100)
            .with_schedule(LrSchedule::constant(1e-2))
            .with_checkpoint_every(Some(10))
            .with_keep_last(3),
    );
    // A leftover of an interrupted write is cleaned up too.
    fs::create_dir_all(dir.join("checkpoints/.tmp-step-7-1")).unwrap();
    Trainer::new(config, &dir)
        .run(&mut Regression::new(4, 1))
        .unwrap();
    let checkpoints = Checkpoints::new(&dir);
    assert_eq!(checkpoints.steps().unwrap(), vec![80, 90, 100]);
    let names: Vec<String> = fs::read_dir(checkpoints.root())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 3, "{names:?}");
    fs::remove_dir_all(dir).unwrap();
}

#[test]
fn early_stopping_ends_the_run_and_stays_ended() {
    let dir = temp_dir("early");
    // A learning rate of zero: the evaluation never improves after the first one.
    let config = quiet(
        TrainConfig::new(100)
            .with_schedule(LrSchedule::constant(0.0))
            .with_eval_every(Some(5))
            .with_early_stopping(Some(EarlyStopping::minimize("mse", 2))),
    );
    let summary = Trainer::new(config.clone(), &dir)
        .run(&mut Regression::new(4, 1))
        .unwrap();
    assert_eq!(summary.steps, 15);
    assert!(matches!(summary.stop, StopReason::EarlyStopped { .. }));
    let again = Trainer::new(config, &dir)
        .run(&mut Regression::new(4, 1))
        .unwrap();
    assert_eq!((again.steps, again.resumed_from), (15, Some(15)));
    fs::remove_dir_all(dir).unwrap();
}

#[derive(Module, Debug)]
struct Two {
    a: Param<Tensor<1>>,
    w: Param<Tensor<2>>,
}

fn two(a: [f64; 2], w: [f64; 4]) -> Two {
    let d = device();
    Two {
        a: Param::from_tensor(d.tensor(a.to_vec(), [2]).unwrap()),
        w: Param::from_tensor(d.tensor(w.to_vec(), [2, 2]).unwrap()),
    }
}

fn values(m: &Two) -> (Vec<f64>, Vec<f64>) {
    (
        m.a.val().inner().try_into_vec_as::<f64>().unwrap(),
        m.w.val().inner().try_into_vec_as::<f64>().unwrap(),
    )
}

#[test]
fn global_norm_clipping_matches_hand_computation() {
    let d = device();
    let model = two([0.0; 2], [0.0; 4]);
    let grads_of = |a: [f64; 2], w: [f64; 4]| {
        let mut grads = GradientsParams::new();
        grads.register(model.a.id, d.tensor(a.to_vec(), [2]).unwrap().inner());
        grads.register(model.w.id, d.tensor(w.to_vec(), [2, 2]).unwrap().inner());
        grads
    };
    let host = |grads: &GradientsParams| {
        (
            grads
                .get::<1>(model.a.id)
                .unwrap()
                .try_into_vec_as::<f64>()
                .unwrap(),
            grads
                .get::<2>(model.w.id)
                .unwrap()
                .try_into_vec_as::<f64>()
                .unwrap(),
        )
    };
    // ‖(1, 2 | 2, 0, 0, 4)‖ = sqrt(1 + 4 + 4 + 16) = 5: one vector across both tensors.
    let mut grads = grads_of([1.0, 2.0], [2.0, 0.0, 0.0, 4.0]);
    assert_eq!(global_grad_norm(&grads, &model), 5.0);
    assert_eq!(clip_grad_norm(&mut grads, &model, 10.0), 5.0);
    assert_eq!(host(&grads), (vec![1.0, 2.0], vec![2.0, 0.0, 0.0, 4.0]));
    // Clipped to norm 2: every component times 2/5, the direction kept.
    assert_eq!(clip_grad_norm(&mut grads, &model, 2.0), 5.0);
    let (a, w) = host(&grads);
    let expected = [0.4, 0.8, 0.8, 0.0, 0.0, 1.6];
    for (got, want) in a.iter().chain(&w).zip(expected) {
        assert!((got - want).abs() < 1e-15, "{got} vs {want}");
    }
    assert!((global_grad_norm(&grads, &model) - 2.0).abs() < 1e-15);
}

#[test]
fn the_ema_follows_its_formula_and_round_trips() {
    let dir = temp_dir("ema");
    let theta0 = ([1.0, -2.0], [0.5, 0.0, 3.0, 4.0]);
    let theta1 = ([3.0, 2.0], [1.5, -1.0, 0.0, 4.0]);
    let theta2 = ([-1.0, 0.0], [0.0, 1.0, 1.0, 1.0]);
    let mut model = two(theta0.0, theta0.1);
    let mut ema = Ema::new(&model, 0.9);
    let set = |model: Two, (a, w): ([f64; 2], [f64; 4])| {
        let d = device();
        Two {
            a: model.a.map(|_| d.tensor(a.to_vec(), [2]).unwrap()),
            w: model.w.map(|_| d.tensor(w.to_vec(), [2, 2]).unwrap()),
        }
    };
    model = set(model, theta1);
    ema.update(&model);
    model = set(model, theta2);
    ema.update(&model);
    // θ̄₂ = 0.9·(0.9·θ₀ + 0.1·θ₁) + 0.1·θ₂.
    let flat = |(a, w): ([f64; 2], [f64; 4])| a.iter().chain(&w).copied().collect::<Vec<_>>();
    let expected: Vec<f64> = flat(theta0)
        .iter()
        .zip(flat(theta1))
        .zip(flat(theta2))
        .map(|((t0, t1), t2)| 0.9 * (0.9 * t0 + 0.1 * t1) + 0.1 * t2)
        .collect();
    let (a, w) = values(ema.model());
    for (got, want) in a.iter().chain(&w).zip(&expected) {
        assert!((got - want).abs() < 1e-14, "{got} vs {want}");
    }
    assert_eq!(ema.updates(), 2);

    ema.save(&dir, "ema").unwrap();
    let mut restored = Ema::new(&two([0.0; 2], [0.0; 4]), 0.9);
    restored.load(&dir, "ema").unwrap();
    assert_eq!(values(restored.model()), values(ema.model()));
    fs::remove_dir_all(dir).unwrap();
}
