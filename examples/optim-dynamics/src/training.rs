//! The optimizers on burn modules, on the chosen backend: training the MLP with mini-batches on
//! the training runtime (`sysdyn-train`, one run directory per rule), and the bilinear game
//! played by a pair of modules.
//!
//! Each rule's training is an [`MlpTraining`] step driven by a [`Trainer`](sysdyn_train::Trainer): a constant learning
//! rate, the full-batch loss evaluated every `steps / 50` steps (eval lines of `metrics.jsonl`,
//! which the figure reads), checkpoints of the model and the optimizer state in
//! `<out>/run/<rule>/checkpoints/step-<n>/`. `--load DIR` and `--resume DIR` name the parent
//! folder of the rules' run directories (`<out>/run`); see [`TrainingPlan::new`].

use std::path::{Path, PathBuf};

use burn::module::{Module, Param};
use burn::optim::{GradientsParams, Optimizer};
use burn::tensor::Tensor;
use sysdyn_core::device::SysDevice;
use sysdyn_core::{ShapeMismatch, State};
use sysdyn_optim::game::{BilinearGame, GameScheme, play};
use sysdyn_optim::sampler::EpochSampler;
use sysdyn_optim::{
    Adam, GameOptimizer, GradientDescent, HeavyBall, Nesterov, OptimError, Player, RmsProp,
    UpdateRule,
};
use sysdyn_train::{
    BoxError, Checkpointable, Checkpoints, LrSchedule, NonFinite, Optim, ProgressMode, RunSet,
    Session, StepContext, StepReport, TrainConfig, TrainError, TrainStep, find_non_finite,
    load_module, read_metrics, save_module,
};

use crate::ExampleError;
use crate::model::Mlp;

/// Training data: `y = sin(1.5 x)` on `POINTS` evenly spaced `x ∈ [-2, 2]`.
pub const POINTS: usize = 128;
/// Mini-batch size.
pub const BATCH: usize = 16;
/// Hidden width.
pub const HIDDEN: usize = 32;
/// Mini-batches per epoch: `POINTS / BATCH` exactly, so every epoch has the same number of
/// equal batches and step `k` uses batch `k mod 8` of epoch `k div 8`.
pub const BATCHES_PER_EPOCH: u64 = (POINTS / BATCH) as u64;

/// The sampler's seed is the run's seed plus this offset, which keeps the default seed's
/// published numbers (weights from 5, batches from 17).
const SAMPLER_SEED_OFFSET: u64 = 12;

/// The rules compared, with their hyper-parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Rule {
    /// Plain gradient descent.
    GradientDescent(GradientDescent),
    /// Heavy-ball momentum.
    HeavyBall(HeavyBall),
    /// Nesterov momentum.
    Nesterov(Nesterov),
    /// RMSProp (WGAN's setting).
    RmsProp(RmsProp),
    /// Adam.
    Adam(Adam),
}

impl Rule {
    /// The rule's name, also the name of its run directory.
    pub fn name(&self) -> &'static str {
        match self {
            Rule::GradientDescent(r) => r.name(),
            Rule::HeavyBall(r) => r.name(),
            Rule::Nesterov(r) => r.name(),
            Rule::RmsProp(r) => r.name(),
            Rule::Adam(r) => r.name(),
        }
    }
}

/// The five rules and their learning rates, in the order of the figure and the summary.
pub fn rules() -> Result<Vec<(Rule, f64)>, OptimError> {
    Ok(vec![
        (Rule::GradientDescent(GradientDescent), 0.05),
        (Rule::HeavyBall(HeavyBall::new(0.9)?), 0.01),
        (Rule::Nesterov(Nesterov::new(0.9)?), 0.01),
        (Rule::RmsProp(RmsProp::wgan()), 0.002),
        (Rule::Adam(Adam::default()), 0.01),
    ])
}

/// The runtime's configuration of one rule's training: `steps` steps at the constant rate `lr`,
/// the full-batch loss every `steps / 50` steps, a checkpoint every quarter of the run.
pub fn train_config(lr: f64, steps: u64, seed: u64, quiet: bool) -> TrainConfig {
    TrainConfig::new(steps)
        .with_seed(seed)
        .with_schedule(LrSchedule::Constant { lr })
        .with_steps_per_epoch(Some(BATCHES_PER_EPOCH))
        .with_eval_every(Some((steps / 50).max(1)))
        .with_checkpoint_every(Some((steps / 4).max(1)))
        .with_progress(if quiet {
            ProgressMode::Quiet
        } else {
            ProgressMode::Auto
        })
}

/// One rule's training: its learning rate and the session that trains or loads it.
#[derive(Debug, Clone)]
pub struct PlannedRun {
    /// The rule.
    pub rule: Rule,
    /// Its learning rate.
    pub lr: f64,
    /// Train (fresh or resumed) or load.
    pub session: Session,
}

/// The trainings of every rule, one run directory each, built from the command line before
/// any work so that a bad `--load` / `--resume` folder is refused at once.
#[derive(Debug, Clone)]
pub struct TrainingPlan {
    /// The seed of the initial weights and of the mini-batches.
    pub seed: u64,
    /// One entry per rule.
    pub runs: Vec<PlannedRun>,
}

impl TrainingPlan {
    /// The sessions for `steps` steps per rule with `seed`:
    ///
    /// - neither flag: fresh runs in `<out_dir>/run/<rule>` (replacing an earlier run there);
    /// - `load = Some(parent)`: each rule's model loaded from the newest checkpoint of
    ///   `<parent>/<rule>`, without training;
    /// - `resume = Some(parent)`: each rule's run in `<parent>/<rule>` continued from its newest
    ///   checkpoint, or started there if that rule had not saved one yet.
    ///
    /// Errors: [`ExampleError::NoRuns`] for a `load` or `resume` folder that does not exist or
    /// where no rule has a checkpoint; [`TrainError::NoCheckpoint`] for a `load` folder missing
    /// one rule's checkpoint.
    pub fn new(
        out_dir: &Path,
        steps: u64,
        seed: u64,
        quiet: bool,
        load: Option<&Path>,
        resume: Option<&Path>,
    ) -> Result<Self, ExampleError> {
        let rules = rules()?;
        let flagged = load.or(resume);
        if let Some(parent) = flagged {
            // Nothing to load or resume in any rule: the folder named is not a run of this
            // example (a typo, or the run directory of one rule instead of their parent).
            let mut any = false;
            if parent.is_dir() {
                for (rule, _) in &rules {
                    any |= Checkpoints::new(&parent.join(rule.name()))
                        .latest()?
                        .is_some();
                }
            }
            if !any {
                return Err(ExampleError::NoRuns {
                    path: parent.to_path_buf(),
                    rules: rules.iter().map(|(r, _)| r.name()).collect(),
                });
            }
        }
        let run_set = RunSet::new(&out_dir.join("run"), load, resume);
        let mut runs = Vec::with_capacity(rules.len());
        for (rule, lr) in rules {
            let config = train_config(lr, steps, seed, quiet);
            let session = run_set.session(config, rule.name())?;
            runs.push(PlannedRun { rule, lr, session });
        }
        Ok(TrainingPlan { seed, runs })
    }

    /// Whether the sessions train (false with `--load`).
    pub fn trains(&self) -> bool {
        self.runs.iter().all(|r| r.session.trains())
    }
}

/// One optimizer's training run.
#[derive(Debug, Clone)]
pub struct TrainingRun {
    /// Rule name.
    pub name: &'static str,
    /// Learning rate.
    pub lr: f64,
    /// Steps at which the full-batch loss was evaluated.
    pub steps: Vec<f64>,
    /// The full-batch loss at those steps.
    pub losses: Vec<f64>,
    /// The step of the model evaluated at the end (the checkpoint loaded with `--load`).
    pub final_step: u64,
    /// The full-batch loss of the initial model.
    pub initial_loss: f64,
    /// The full-batch loss of the trained (or loaded) model.
    pub final_loss: f64,
    /// The run directory.
    pub run_dir: Option<PathBuf>,
}

fn target(x: f64) -> f64 {
    (1.5 * x).sin()
}

fn inputs() -> Vec<f64> {
    (0..POINTS)
        .map(|i| -2.0 + 4.0 * i as f64 / (POINTS - 1) as f64)
        .collect()
}

fn mse(model: &Mlp, device: &SysDevice, xs: &[f64]) -> Result<Tensor<1>, ShapeMismatch> {
    let n = xs.len();
    let x = device.tensor(xs.to_vec(), [n, 1])?;
    let y = device.tensor(xs.iter().map(|&x| target(x)).collect::<Vec<_>>(), [n, 1])?;
    Ok((model.forward(x) - y).square().mean())
}

/// The MLP trained by one per-tensor optimizer on mini-batches drawn without replacement per
/// epoch: the runtime's step function.
#[derive(Debug)]
pub struct MlpTraining<O: Optimizer> {
    device: SysDevice,
    xs: Vec<f64>,
    // Used only through `epoch_batches`, a pure function of its seed and the epoch: the
    // sampler has no position to save, and a resumed run draws the batches an uninterrupted
    // one draws.
    sampler: EpochSampler,
    model: Mlp,
    optim: Optim<O>,
}

impl<O: Optimizer> MlpTraining<O> {
    /// The MLP drawn from `seed` on `device` (an autodiff device), to be trained by
    /// `optimizer`. Every rule starts from the same weights and sees the same batches.
    pub fn new(optimizer: O, device: &SysDevice, seed: u64) -> Result<Self, OptimError> {
        Ok(MlpTraining {
            device: device.clone(),
            xs: inputs(),
            sampler: EpochSampler::new(POINTS, BATCH, seed.wrapping_add(SAMPLER_SEED_OFFSET))?,
            model: Mlp::new(device, HIDDEN, seed),
            optim: Optim::new(optimizer),
        })
    }

    /// The model.
    pub fn model(&self) -> &Mlp {
        &self.model
    }

    /// The mini-batch (indices into the data) of step `step` (0-based).
    pub fn batch(&self, step: u64) -> Vec<usize> {
        let epoch = step / BATCHES_PER_EPOCH;
        // `BATCHES_PER_EPOCH` equal batches per epoch, so the index is in range.
        let index = (step % BATCHES_PER_EPOCH) as usize;
        self.sampler.epoch_batches(epoch).swap_remove(index)
    }

    /// The model's mean squared error over all `POINTS` points.
    pub fn full_batch_loss(&self) -> Result<f64, ShapeMismatch> {
        Ok(mse(&self.model, &self.device, &self.xs)?.to_f64_vec()[0])
    }
}

impl<O: Optimizer> Checkpointable for MlpTraining<O> {
    fn save_checkpoint(&self, dir: &Path) -> Result<(), TrainError> {
        save_module(&self.model, dir, "mlp")?;
        self.optim.save(dir, "optimizer")
    }

    fn load_checkpoint(&mut self, dir: &Path) -> Result<(), TrainError> {
        self.model = load_module(self.model.clone(), dir, "mlp")?;
        self.optim.load(dir, "optimizer", &self.model)
    }
}

impl<O: Optimizer> TrainStep for MlpTraining<O> {
    fn step(&mut self, ctx: &mut StepContext) -> Result<StepReport, BoxError> {
        let batch: Vec<f64> = self
            .batch(ctx.step)
            .into_iter()
            .map(|i| self.xs[i])
            .collect();
        let loss = mse(&self.model, &self.device, &batch)?;
        let value = loss.to_f64_vec()[0];
        let grads = GradientsParams::from_grads(loss.backward(), &self.model);
        self.model = self.optim.step(ctx.lr, self.model.clone(), grads);
        Ok(StepReport::new(value))
    }

    fn evaluate(&mut self, _ctx: &StepContext) -> Result<Vec<(String, f64)>, BoxError> {
        Ok(vec![("full_loss".to_string(), self.full_batch_loss()?)])
    }

    fn non_finite_parameter(&self) -> Option<NonFinite> {
        find_non_finite(&self.model, "mlp")
    }
}

/// Trains (or loads) one rule's MLP under its session, then evaluates it: the loss curve comes
/// from the run's `metrics.jsonl`, so a loaded or resumed run draws the same figure.
fn train_rule<R: UpdateRule>(
    rule: &R,
    planned: &PlannedRun,
    device: &SysDevice,
    seed: u64,
) -> Result<TrainingRun, ExampleError> {
    let mut step = MlpTraining::new(rule.burn_optimizer(), device, seed)?;
    let initial_loss = step.full_batch_loss()?;
    let session = &planned.session;
    let final_step = match session.run(&mut step)? {
        Some(summary) => summary.steps,
        None => match session {
            Session::Load { step, .. } => *step,
            Session::Train(_) => 0,
        },
    };
    let final_loss = step.full_batch_loss()?;
    let mut curve = vec![(0, initial_loss)];
    if let Some(run_dir) = session.run_dir() {
        curve.extend(
            read_metrics(&run_dir.join("metrics.jsonl"))?
                .into_iter()
                .filter(|l| l.kind == "eval" && l.step > 0 && l.step <= final_step)
                .filter_map(|l| l.metrics.get("full_loss").map(|&v| (l.step, v))),
        );
    }
    // The model evaluated now ends the curve (its eval line, when it has one, is the same
    // number).
    if curve.last().is_some_and(|&(s, _)| s == final_step) {
        curve.pop();
    }
    curve.push((final_step, final_loss));
    Ok(TrainingRun {
        name: rule.name(),
        lr: planned.lr,
        steps: curve.iter().map(|&(s, _)| s as f64).collect(),
        losses: curve.iter().map(|&(_, l)| l).collect(),
        final_step,
        initial_loss,
        final_loss,
        run_dir: session.run_dir().map(Path::to_path_buf),
    })
}

/// Trains (or loads) the MLP of one planned run on `device` (an autodiff device), every rule
/// from the same weights drawn from `seed`.
pub fn train_one(
    planned: &PlannedRun,
    device: &SysDevice,
    seed: u64,
) -> Result<TrainingRun, ExampleError> {
    match &planned.rule {
        Rule::GradientDescent(r) => train_rule(r, planned, device, seed),
        Rule::HeavyBall(r) => train_rule(r, planned, device, seed),
        Rule::Nesterov(r) => train_rule(r, planned, device, seed),
        Rule::RmsProp(r) => train_rule(r, planned, device, seed),
        Rule::Adam(r) => train_rule(r, planned, device, seed),
    }
}

/// Trains (or loads) every rule of `plan` on `device` (an autodiff device).
pub fn train_all(
    device: &SysDevice,
    plan: &TrainingPlan,
) -> Result<Vec<TrainingRun>, ExampleError> {
    plan.runs
        .iter()
        .map(|planned| train_one(planned, device, plan.seed))
        .collect()
}

/// One player of the bilinear game as a burn module.
#[derive(Module, Debug)]
struct Scalar {
    value: Param<Tensor<1>>,
}

/// Largest difference between the module game (on `device`) and the plain f64 game, over every
/// scheme and `steps` steps with step `eta`.
pub fn game_on_device(device: &SysDevice, eta: f64, steps: usize) -> Result<f64, ExampleError> {
    let (x0, y0) = crate::experiments::GAME_START;
    let mut worst: f64 = 0.0;
    for scheme in GameScheme::ALL {
        let reference = play(&BilinearGame::scalar(), scheme, [eta, eta], &x0, &y0, steps)?;
        let mut optimizer = GameOptimizer::new(scheme, [eta, eta])?;
        let mut x = Scalar {
            value: Param::from_tensor(device.tensor(x0, [1])?),
        };
        let mut y = Scalar {
            value: Param::from_tensor(device.tensor(y0, [1])?),
        };
        // min_x max_y xy: player 1 descends xy, player 2 descends -xy.
        let mut grads = |player: Player, x: &Scalar, y: &Scalar| {
            let f = (x.value.val() * y.value.val()).sum();
            match player {
                Player::First => GradientsParams::from_grads(f.backward(), x),
                Player::Second => GradientsParams::from_grads(f.neg().backward(), y),
            }
        };
        // Not a `TrainStep`: this loop checks, step by step, that the module game on the device
        // reproduces the f64 game's iterates (a few dozen steps of a game with no loss to
        // minimise, which spirals out by design under simultaneous play), and sysdyn-optim's
        // `GameOptimizer` keeps its state in type-erased `ModuleOptimizer`s and private
        // optimistic gradients that no checkpoint can save and restore exactly.
        for k in 1..=steps {
            (x, y) = optimizer.step(x, y, &mut grads);
            let got = [x.value.val().to_f64_vec()[0], y.value.val().to_f64_vec()[0]];
            let expected = [reference.xs[k][0], reference.ys[k][0]];
            for (g, e) in got.iter().zip(expected) {
                worst = worst.max((g - e).abs());
            }
        }
    }
    Ok(worst)
}

#[cfg(test)]
mod tests {
    use std::sync::OnceLock;

    use burn::module::ModuleVisitor;
    use sysdyn_core::device::{Backend, DeviceSpec, Precision};
    use sysdyn_train::Trainer;

    use super::*;

    /// One f64 autodiff device for every test of this process, its default float type set
    /// before any tensor exists (burn locks it at the first tensor).
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

    fn params(model: &Mlp) -> Vec<f64> {
        struct Collect(Vec<f64>);
        impl ModuleVisitor for Collect {
            fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
                self.0.extend(param.val().to_f64_vec());
            }
        }
        let mut c = Collect(Vec::new());
        model.visit(&mut c);
        c.0
    }

    fn optim_matches_module_optimizer<R: UpdateRule>(rule: &R, lr: f64) {
        let device = device();
        let mut step = MlpTraining::new(rule.burn_optimizer(), &device, 3).unwrap();
        let mut reference = step.model.clone();
        let mut module_optimizer = rule.module_optimizer();
        let config = train_config(lr, 4, 3, true);
        for k in 0..4 {
            let batch: Vec<f64> = step.batch(k).into_iter().map(|i| step.xs[i]).collect();
            let loss = mse(&reference, &device, &batch).unwrap();
            let grads = GradientsParams::from_grads(loss.backward(), &reference);
            reference = module_optimizer.step(lr, reference, grads);
            step.step(&mut StepContext::new(&config, k)).unwrap();
        }
        assert_eq!(params(&step.model), params(&reference), "{}", rule.name());
    }

    #[test]
    fn optim_steps_equal_burns_module_optimizer() {
        optim_matches_module_optimizer(&GradientDescent, 0.05);
        optim_matches_module_optimizer(&HeavyBall::new(0.9).unwrap(), 0.01);
        optim_matches_module_optimizer(&Nesterov::new(0.9).unwrap(), 0.01);
        optim_matches_module_optimizer(&RmsProp::wgan(), 0.002);
        optim_matches_module_optimizer(&Adam::default(), 0.01);
    }

    #[test]
    fn batches_are_the_epoch_samplers_sequence() {
        // The batches the stateful sampler drew before the runtime, so the numbers are the
        // same; and every epoch uses every point once.
        let step = MlpTraining::new(GradientDescent.burn_optimizer(), &device(), 5).unwrap();
        let mut sampler = EpochSampler::new(POINTS, BATCH, 5 + SAMPLER_SEED_OFFSET).unwrap();
        for k in 0..3 * BATCHES_PER_EPOCH {
            assert_eq!(step.batch(k), sampler.next_batch(), "step {k}");
        }
        let mut epoch: Vec<usize> = (8..16).flat_map(|k| step.batch(k)).collect();
        epoch.sort_unstable();
        assert_eq!(epoch, (0..POINTS).collect::<Vec<_>>());
    }

    #[test]
    fn an_interrupted_run_resumes_bit_for_bit() {
        let device = device();
        let dir = tempfile::tempdir().unwrap();
        let rule = HeavyBall::new(0.9).unwrap();
        let config = train_config(0.01, 24, 5, true);
        let mut straight = MlpTraining::new(rule.burn_optimizer(), &device, 5).unwrap();
        Trainer::new(config.clone(), dir.path().join("straight"))
            .run(&mut straight)
            .unwrap();
        // A first session stops after 10 steps (its last checkpoint); a second, with fresh
        // state as a new process has, continues the same run directory to 24.
        let mut first = MlpTraining::new(rule.burn_optimizer(), &device, 5).unwrap();
        Trainer::new(config.clone().with_max_steps(10), dir.path().join("split"))
            .run(&mut first)
            .unwrap();
        let mut second = MlpTraining::new(rule.burn_optimizer(), &device, 5).unwrap();
        let summary = Trainer::new(config, dir.path().join("split"))
            .run(&mut second)
            .unwrap();
        assert_eq!(summary.resumed_from, Some(10));
        assert_eq!(params(&second.model), params(&straight.model));
        let eval = |name: &str| -> Vec<(u64, f64)> {
            read_metrics(&dir.path().join(name).join("metrics.jsonl"))
                .unwrap()
                .into_iter()
                .filter(|l| l.kind == "eval")
                .map(|l| (l.step, l.metrics["full_loss"]))
                .collect()
        };
        assert_eq!(eval("split"), eval("straight"));
    }

    #[test]
    fn missing_load_and_resume_folders_are_typed_errors() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nowhere");
        for (load, resume) in [
            (Some(missing.as_path()), None),
            (None, Some(missing.as_path())),
        ] {
            let err = TrainingPlan::new(dir.path(), 8, 5, true, load, resume).unwrap_err();
            assert!(
                matches!(err, ExampleError::NoRuns { ref path, .. } if *path == missing),
                "{err}"
            );
            assert!(err.to_string().contains("holds no checkpoint"), "{err}");
        }
        // A resume folder where one rule has a checkpoint: that rule resumes, the others start.
        let parent = dir.path().join("run");
        let device = device();
        let mut gd = MlpTraining::new(GradientDescent.burn_optimizer(), &device, 5).unwrap();
        Trainer::new(train_config(0.05, 8, 5, true), parent.join("gd"))
            .run(&mut gd)
            .unwrap();
        let plan = TrainingPlan::new(dir.path(), 8, 5, true, None, Some(&parent)).unwrap();
        assert!(plan.trains());
        assert_eq!(plan.runs.len(), 5);
        // Loading needs every rule's checkpoint.
        let err = TrainingPlan::new(dir.path(), 8, 5, true, Some(&parent), None).unwrap_err();
        assert!(
            matches!(err, ExampleError::Train(TrainError::NoCheckpoint { ref path }) if *path == parent.join("heavy-ball")),
            "{err}"
        );
        // One rule's run directory instead of their parent.
        let err =
            TrainingPlan::new(dir.path(), 8, 5, true, None, Some(&parent.join("gd"))).unwrap_err();
        assert!(matches!(err, ExampleError::NoRuns { .. }), "{err}");
    }
}
