//! The training loop: budgets, evaluation, metrics, early stopping, divergence, checkpoints.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Instant;

use burn::config::Config;
use burn::module::Module;
use burn::optim::GradientsParams;
use serde::{Deserialize, Serialize};
use sysdyn_core::rng::{CounterRng, SeededRng};

use crate::checkpoint::{Checkpointable, Checkpoints, load_json, save_config, save_json};
use crate::error::{Divergence, TrainError};
use crate::metrics::{MetricsLine, MetricsLog};
use crate::params::{NonFinite, clip_grad_norm};
use crate::progress::{Progress, ProgressMode};
use crate::schedule::LrSchedule;

/// The error type a step function returns: anything that is an error (a solver's, burn's, ...).
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Stop when an evaluation metric has not improved for `patience` evaluations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EarlyStopping {
    /// The evaluation metric watched (a name returned by [`TrainStep::evaluate`]; `"loss"`
    /// falls back to the training loss of the step when the evaluation has none).
    pub metric: String,
    /// The number of evaluations without improvement after which the run stops (at least 1).
    pub patience: u64,
    /// The smallest change that counts as an improvement.
    #[serde(default)]
    pub min_delta: f64,
    /// Whether larger is better (default: smaller is better).
    #[serde(default)]
    pub maximize: bool,
}

impl EarlyStopping {
    /// Stop when `metric` has not decreased for `patience` evaluations.
    pub fn minimize(metric: &str, patience: u64) -> Self {
        EarlyStopping {
            metric: metric.to_string(),
            patience,
            min_delta: 0.0,
            maximize: false,
        }
    }
}

/// The configuration of a training run, saved as `config.json` in the run directory and in
/// every checkpoint, so the run can be repeated exactly. A run is resumed only with the same
/// configuration, except for the budget (`max_steps`, `max_epochs`, `max_seconds`), `keep_last`
/// and `progress`, which may change between sessions.
#[derive(Config, Debug)]
pub struct TrainConfig {
    /// The number of steps of the run.
    pub max_steps: u64,
    /// The seed of every random stream the runtime hands to the step.
    #[config(default = 0)]
    pub seed: u64,
    /// The learning-rate schedule ([`StepContext::lr`]).
    #[config(default = "LrSchedule::Constant { lr: 1e-3 }")]
    pub schedule: LrSchedule,
    /// Steps per epoch (for [`StepContext::epoch`], the epoch random stream and `max_epochs`).
    pub steps_per_epoch: Option<u64>,
    /// A budget in epochs (needs `steps_per_epoch`); the run stops at whichever budget ends first.
    pub max_epochs: Option<u64>,
    /// A wall-clock budget in seconds, summed over the sessions of a resumed run.
    pub max_seconds: Option<f64>,
    /// Write a train line to `metrics.jsonl` every this many steps.
    #[config(default = 1)]
    pub log_every: u64,
    /// Evaluate ([`TrainStep::evaluate`]) every this many steps.
    pub eval_every: Option<u64>,
    /// Write a checkpoint every this many steps (besides step 0 and the end of the run).
    pub checkpoint_every: Option<u64>,
    /// The number of checkpoints kept (the newest; at least 1).
    #[config(default = 3)]
    pub keep_last: usize,
    /// Clip gradients by their global norm ([`StepContext::clip_grads`]).
    pub grad_clip_norm: Option<f64>,
    /// Stop with [`TrainError::Diverged`] when a loss exceeds this multiple of the best loss of
    /// the run (NaN and infinite losses always stop it).
    pub divergence_factor: Option<f64>,
    /// Check the parameters for NaN and infinities every this many steps (0: only before each
    /// checkpoint, which is always checked).
    #[config(default = 1)]
    pub check_params_every: u64,
    /// Early stopping on an evaluation metric (needs `eval_every`).
    pub early_stopping: Option<EarlyStopping>,
    /// Progress output.
    #[config(default = "ProgressMode::Auto")]
    pub progress: ProgressMode,
    /// The program's own settings that the run depends on (data sizes, architecture, ...), as
    /// JSON: saved with the run like every other field, so a resume with other settings is
    /// refused with [`TrainError::ConfigMismatch`] instead of continuing on other data.
    pub program_settings: Option<serde_json::Value>,
}

impl TrainConfig {
    /// The same configuration with another step budget (e.g. to extend a finished run and
    /// resume it).
    pub fn with_max_steps(mut self, max_steps: u64) -> Self {
        self.max_steps = max_steps;
        self
    }

    /// Checks the configuration.
    pub fn validate(&self) -> Result<(), TrainError> {
        let bad = |msg: String| Err(TrainError::InvalidConfig(msg));
        if let Err(msg) = self.schedule.validate() {
            return bad(msg);
        }
        for (name, value) in [
            ("log_every", Some(self.log_every)),
            ("eval_every", self.eval_every),
            ("checkpoint_every", self.checkpoint_every),
            ("steps_per_epoch", self.steps_per_epoch),
        ] {
            if value == Some(0) {
                return bad(format!("`{name}` must be at least 1"));
            }
        }
        if self.keep_last == 0 {
            return bad("`keep_last` must be at least 1 (the last good checkpoint)".into());
        }
        if self.max_epochs.is_some() && self.steps_per_epoch.is_none() {
            return bad("`max_epochs` needs `steps_per_epoch`".into());
        }
        if self.early_stopping.is_some() && self.eval_every.is_none() {
            return bad("`early_stopping` needs `eval_every`".into());
        }
        if let Some(es) = &self.early_stopping
            && es.patience == 0
        {
            return bad("early stopping `patience` must be at least 1".into());
        }
        if let Some(f) = self.divergence_factor
            && !(f.is_finite() && f > 1.0)
        {
            return bad(format!(
                "`divergence_factor` must be finite and > 1, got {f}"
            ));
        }
        if let Some(c) = self.grad_clip_norm
            && !(c.is_finite() && c > 0.0)
        {
            return bad(format!("`grad_clip_norm` must be finite and > 0, got {c}"));
        }
        if let Some(s) = self.max_seconds
            && (s.is_nan() || s <= 0.0)
        {
            return bad(format!("`max_seconds` must be > 0, got {s}"));
        }
        Ok(())
    }

    /// The number of steps the budget allows (`max_steps`, or fewer with `max_epochs`).
    pub fn total_steps(&self) -> u64 {
        match (self.max_epochs, self.steps_per_epoch) {
            (Some(e), Some(s)) => self.max_steps.min(e.saturating_mul(s)),
            _ => self.max_steps,
        }
    }
}

/// What one step reports: its loss and any other named values.
#[derive(Debug, Clone, PartialEq)]
pub struct StepReport {
    /// The loss the step minimised (checked for divergence, logged, shown in the progress).
    pub loss: f64,
    /// Other values to log (e.g. a critic loss, a gradient norm, λ).
    pub metrics: Vec<(String, f64)>,
}

impl StepReport {
    /// A report with only a loss.
    pub fn new(loss: f64) -> Self {
        StepReport {
            loss,
            metrics: Vec::new(),
        }
    }

    /// Adds a named value.
    pub fn with(mut self, name: &str, value: f64) -> Self {
        self.metrics.push((name.to_string(), value));
        self
    }
}

/// Random streams: each is a pure function of (seed, stream, index), so a resumed run draws
/// exactly what an uninterrupted one does.
const STREAM_STEP: u64 = 1;
const STREAM_EVAL: u64 = 2;
const STREAM_EPOCH: u64 = 3;
const STREAM_USER: u64 = 4;

/// What the runtime hands to a step (and to an evaluation).
#[derive(Debug, Clone)]
pub struct StepContext {
    /// The number of steps completed before this one (0 for the first step; for an evaluation,
    /// the number of steps completed).
    pub step: u64,
    /// The epoch (`step / steps_per_epoch`; 0 without epochs).
    pub epoch: u64,
    /// The learning rate of the schedule at this step.
    pub lr: f64,
    /// This step's random stream (a fresh generator per step, derived from the seed and the
    /// step index: nothing to save, the same draws after a resume).
    pub rng: SeededRng,
    seed: u64,
    grad_clip_norm: Option<f64>,
}

impl StepContext {
    /// A context for step `step` of a run with `seed` (what the trainer builds; public for
    /// testing a step function on its own).
    pub fn new(config: &TrainConfig, step: u64) -> Self {
        let epoch = config.steps_per_epoch.map_or(0, |s| step / s);
        StepContext {
            step,
            epoch,
            lr: config.schedule.lr(step),
            rng: stream_rng(config.seed, STREAM_STEP, step),
            seed: config.seed,
            grad_clip_norm: config.grad_clip_norm,
        }
    }

    fn for_eval(config: &TrainConfig, step: u64) -> Self {
        let mut ctx = StepContext::new(config, step);
        ctx.rng = stream_rng(config.seed, STREAM_EVAL, step);
        ctx
    }

    /// The run's seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// A random stream shared by every step of this epoch (e.g. to shuffle the data once per
    /// epoch).
    pub fn epoch_rng(&self) -> SeededRng {
        stream_rng(self.seed, STREAM_EPOCH, self.epoch)
    }

    /// Another independent random stream of this step, numbered `id` (e.g. one per optimizer
    /// or per noise source).
    pub fn stream(&self, id: u64) -> SeededRng {
        stream_rng(self.seed, STREAM_USER.wrapping_add(id), self.step)
    }

    /// The global gradient-norm bound of the run (`TrainConfig::grad_clip_norm`), for steps that
    /// clip gradients they hold outside burn ([`clip_grads`](StepContext::clip_grads) clips
    /// burn's `GradientsParams`).
    pub fn grad_clip_norm(&self) -> Option<f64> {
        self.grad_clip_norm
    }

    /// Clips `grads` (of `module`'s parameters) by their global norm when the configuration
    /// asks for it; returns the norm before clipping, or `None` when clipping is off.
    pub fn clip_grads<M: Module>(&self, grads: &mut GradientsParams, module: &M) -> Option<f64> {
        self.grad_clip_norm
            .map(|max| clip_grad_norm(grads, module, max))
    }
}

fn stream_rng(seed: u64, stream: u64, index: u64) -> SeededRng {
    SeededRng::new(CounterRng::new(seed).fork(stream).bits(index))
}

/// The step function a model supplies, with the state it owns (models, any number of
/// optimizers, EMAs) saved and restored through [`Checkpointable`].
pub trait TrainStep: Checkpointable {
    /// Takes one training step: computes the loss and gradients (by backpropagation, an
    /// adjoint solve, ...), updates the parameters with its optimizers, and reports the loss.
    fn step(&mut self, ctx: &mut StepContext) -> Result<StepReport, BoxError>;

    /// Evaluates the current model (every `eval_every` steps); returns named metrics.
    fn evaluate(&mut self, ctx: &StepContext) -> Result<Vec<(String, f64)>, BoxError> {
        let _ = ctx;
        Ok(Vec::new())
    }

    /// The first NaN or infinite parameter of the models being trained, if any (use
    /// [`find_non_finite`](crate::find_non_finite) on each model). The default checks nothing.
    fn non_finite_parameter(&self) -> Option<NonFinite> {
        None
    }
}

/// The runtime's host state, saved as `trainer.json` in every checkpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunState {
    /// The format version of this file.
    pub format: u32,
    /// Steps completed.
    pub step: u64,
    /// The run's seed (every random stream derives from it and a step or epoch index).
    pub seed: u64,
    /// The learning-rate schedule.
    pub schedule: LrSchedule,
    /// The best loss of the run so far.
    pub best_loss: Option<f64>,
    /// The loss of the last step.
    pub last_loss: Option<f64>,
    /// The best value of the early-stopping metric.
    pub early_best: Option<f64>,
    /// Evaluations since that value.
    pub evals_since_best: u64,
    /// Whether early stopping has ended the run.
    pub early_stopped: bool,
    /// Wall-clock seconds spent training, over all sessions.
    pub elapsed_seconds: f64,
}

const RUN_STATE_FORMAT: u32 = 1;

/// Why a run ended (without an error).
#[derive(Debug, Clone, PartialEq)]
pub enum StopReason {
    /// `max_steps` steps were taken.
    StepBudget,
    /// `max_epochs` epochs were taken.
    EpochBudget,
    /// The wall-clock budget ran out.
    WallClock,
    /// Early stopping: the metric stopped improving.
    EarlyStopped {
        /// The watched metric.
        metric: String,
        /// Its best value.
        best: f64,
    },
}

/// The outcome of a completed run.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainSummary {
    /// Steps completed.
    pub steps: u64,
    /// The checkpoint step this session resumed from, if it resumed.
    pub resumed_from: Option<u64>,
    /// Why the run ended.
    pub stop: StopReason,
    /// The loss of the last step.
    pub last_loss: Option<f64>,
    /// The best loss of the run.
    pub best_loss: Option<f64>,
    /// The final checkpoint.
    pub checkpoint: PathBuf,
}

/// Runs a [`TrainStep`] under a [`TrainConfig`] in a run directory: `config.json`,
/// `metrics.jsonl` and `checkpoints/step-<n>/` live there.
#[derive(Debug, Clone)]
pub struct Trainer {
    config: TrainConfig,
    run_dir: PathBuf,
}

/// Fields of the configuration that may change when a run is resumed.
const RESUMABLE_FIELDS: [&str; 5] = [
    "max_steps",
    "max_epochs",
    "max_seconds",
    "keep_last",
    "progress",
];

impl Trainer {
    /// A trainer for the run in `run_dir` (created if needed).
    pub fn new(config: TrainConfig, run_dir: impl Into<PathBuf>) -> Self {
        Trainer {
            config,
            run_dir: run_dir.into(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &TrainConfig {
        &self.config
    }

    /// The run directory.
    pub fn run_dir(&self) -> &Path {
        &self.run_dir
    }

    /// The run's checkpoints.
    pub fn checkpoints(&self) -> Checkpoints {
        Checkpoints::new(&self.run_dir)
    }

    /// `<run_dir>/metrics.jsonl`.
    pub fn metrics_path(&self) -> PathBuf {
        self.run_dir.join("metrics.jsonl")
    }

    /// Trains: starts the run, or resumes it from its newest checkpoint when the run directory
    /// has one (loading the step's state from it), and continues until the budget ends or
    /// early stopping. On divergence the last good checkpoint is loaded back into `step` and
    /// [`TrainError::Diverged`] is returned.
    pub fn run<S: TrainStep>(&self, step: &mut S) -> Result<TrainSummary, TrainError> {
        self.config.validate()?;
        let run_dir = &self.run_dir;
        fs::create_dir_all(run_dir).map_err(|e| TrainError::unwritable(run_dir, e))?;
        let checkpoints = self.checkpoints();
        let metrics_path = self.metrics_path();
        let total = self.config.total_steps();

        let (mut state, mut log, resumed_from) = match checkpoints.latest()? {
            Some((saved_step, dir)) => {
                self.check_resumable(&dir)?;
                let state: RunState = load_json(&dir, "trainer")?;
                step.load_checkpoint(&dir)?;
                save_config(&self.config, run_dir, "config")?;
                let log = MetricsLog::resume(&metrics_path, state.step)?;
                (state, log, Some(saved_step))
            }
            None => {
                save_config(&self.config, run_dir, "config")?;
                let log = MetricsLog::create(&metrics_path)?;
                let state = RunState {
                    format: RUN_STATE_FORMAT,
                    step: 0,
                    seed: self.config.seed,
                    schedule: self.config.schedule.clone(),
                    best_loss: None,
                    last_loss: None,
                    early_best: None,
                    evals_since_best: 0,
                    early_stopped: false,
                    elapsed_seconds: 0.0,
                };
                (state, log, None)
            }
        };

        let mut progress = Progress::new(self.config.progress, state.step, total);
        if let Some(s) = resumed_from {
            progress.message(&format!(
                "resuming the run in {} from its checkpoint at step {s}",
                run_dir.display()
            ));
        }
        let session = Instant::now();
        let elapsed_before = state.elapsed_seconds;
        let elapsed = |session: &Instant| elapsed_before + session.elapsed().as_secs_f64();

        // A checkpoint is confirmed good once the loss computed from its parameters (by the
        // next step) passed the divergence checks; older ones are pruned only then, so the last
        // good checkpoint always survives.
        let (mut unconfirmed, mut last_saved) = match resumed_from {
            Some(s) => (Some(s), s),
            None => {
                if let Some(bad) = step.non_finite_parameter() {
                    return Err(TrainError::Diverged {
                        step: 0,
                        value: bad.value,
                        what: Divergence::NonFiniteParameter {
                            path: bad.path,
                            index: bad.index,
                        },
                        restored_step: None,
                    });
                }
                self.save(step, &state, &checkpoints, &mut log)?;
                (Some(0), 0)
            }
        };

        let stop = loop {
            if state.early_stopped {
                break self.early_stop_reason(&state);
            }
            if state.step >= total {
                break if total < self.config.max_steps {
                    StopReason::EpochBudget
                } else {
                    StopReason::StepBudget
                };
            }
            if let Some(max) = self.config.max_seconds
                && elapsed(&session) >= max
            {
                break StopReason::WallClock;
            }

            let index = state.step;
            let mut ctx = StepContext::new(&self.config, index);
            let report = step.step(&mut ctx).map_err(|source| TrainError::Step {
                step: index + 1,
                source,
            })?;
            let done = index + 1;
            state.step = done;

            // Divergence of the loss: it was computed from the parameters after `index` steps,
            // so the checkpoint of step `index` is bad too.
            let loss = report.loss;
            let loss_divergence = if !loss.is_finite() {
                Some(Divergence::NonFiniteLoss)
            } else {
                match (self.config.divergence_factor, state.best_loss) {
                    (Some(factor), Some(best)) if best > 0.0 && loss > factor * best => {
                        Some(Divergence::LossAboveBest { best, factor })
                    }
                    _ => None,
                }
            };
            if let Some(what) = loss_divergence {
                return self.diverge(
                    step,
                    done,
                    what,
                    loss,
                    index,
                    &checkpoints,
                    &mut log,
                    &mut progress,
                );
            }
            let every = self.config.check_params_every;
            if every > 0
                && done.is_multiple_of(every)
                && let Some((what, value)) = non_finite_parameter(step)
            {
                return self.diverge(
                    step,
                    done,
                    what,
                    value,
                    done,
                    &checkpoints,
                    &mut log,
                    &mut progress,
                );
            }
            state.best_loss = Some(state.best_loss.map_or(loss, |b| b.min(loss)));
            state.last_loss = Some(loss);
            if unconfirmed == Some(index) {
                checkpoints.retain_last(self.config.keep_last)?;
                unconfirmed = None;
            }

            if done.is_multiple_of(self.config.log_every) {
                let mut line = MetricsLine::new(done, "train");
                line.epoch = Some(ctx.epoch);
                line.lr = Some(ctx.lr);
                line.loss = Some(loss);
                line.metrics = report.metrics.iter().cloned().collect();
                log.write(&line)?;
            }
            progress.update(done, loss);

            let mut stop_now = false;
            if let Some(k) = self.config.eval_every
                && done.is_multiple_of(k)
            {
                let ectx = StepContext::for_eval(&self.config, done);
                let metrics = step
                    .evaluate(&ectx)
                    .map_err(|source| TrainError::Step { step: done, source })?;
                let mut line = MetricsLine::new(done, "eval");
                line.metrics = metrics.iter().cloned().collect();
                log.write(&line)?;
                if let Some(es) = &self.config.early_stopping {
                    let value = match metrics.iter().find(|(n, _)| *n == es.metric) {
                        Some(&(_, v)) => v,
                        None if es.metric == "loss" => loss,
                        None => {
                            return Err(TrainError::InvalidConfig(format!(
                                "early stopping watches `{}` but the evaluation reported only {:?}",
                                es.metric,
                                metrics.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>()
                            )));
                        }
                    };
                    let improved = match state.early_best {
                        None => true,
                        Some(best) if es.maximize => value > best + es.min_delta,
                        Some(best) => value < best - es.min_delta,
                    };
                    if improved {
                        state.early_best = Some(value);
                        state.evals_since_best = 0;
                    } else {
                        state.evals_since_best += 1;
                        if state.evals_since_best >= es.patience {
                            state.early_stopped = true;
                            stop_now = true;
                            let mut line = MetricsLine::new(done, "early_stop");
                            line.metrics.insert(es.metric.clone(), value);
                            if let Some(best) = state.early_best {
                                line.metrics.insert("best".to_string(), best);
                            }
                            log.write(&line)?;
                            progress.message(&format!(
                                "early stopping at step {done}: `{}` has not improved for {} evaluations",
                                es.metric, es.patience
                            ));
                        }
                    }
                }
            }

            let due = self
                .config
                .checkpoint_every
                .is_some_and(|k| done.is_multiple_of(k))
                || stop_now
                || done == total;
            if due {
                if let Some((what, value)) = non_finite_parameter(step) {
                    return self.diverge(
                        step,
                        done,
                        what,
                        value,
                        done,
                        &checkpoints,
                        &mut log,
                        &mut progress,
                    );
                }
                state.elapsed_seconds = elapsed(&session);
                self.save(step, &state, &checkpoints, &mut log)?;
                unconfirmed = Some(done);
                last_saved = done;
            }
        };

        if last_saved != state.step {
            if let Some(bad) = step.non_finite_parameter() {
                let what = Divergence::NonFiniteParameter {
                    path: bad.path,
                    index: bad.index,
                };
                let done = state.step;
                return self.diverge(
                    step,
                    done,
                    what,
                    bad.value,
                    done,
                    &checkpoints,
                    &mut log,
                    &mut progress,
                );
            }
            state.elapsed_seconds = elapsed(&session);
            self.save(step, &state, &checkpoints, &mut log)?;
        }
        log.sync()?;
        checkpoints.retain_last(self.config.keep_last)?;
        progress.finish();
        Ok(TrainSummary {
            steps: state.step,
            resumed_from,
            stop,
            last_loss: state.last_loss,
            best_loss: state.best_loss,
            checkpoint: checkpoints.dir(state.step),
        })
    }

    fn early_stop_reason(&self, state: &RunState) -> StopReason {
        StopReason::EarlyStopped {
            metric: self
                .config
                .early_stopping
                .as_ref()
                .map_or_else(String::new, |e| e.metric.clone()),
            best: state.early_best.unwrap_or(f64::NAN),
        }
    }

    fn save<S: TrainStep>(
        &self,
        step: &S,
        state: &RunState,
        checkpoints: &Checkpoints,
        log: &mut MetricsLog,
    ) -> Result<PathBuf, TrainError> {
        // The metrics lines a checkpoint covers reach the disk before it does.
        log.sync()?;
        checkpoints.write(state.step, |dir| {
            save_config(&self.config, dir, "config")?;
            save_json(state, dir, "trainer")?;
            step.save_checkpoint(dir)
        })
    }

    /// Ends a diverged run: drops the checkpoints from `first_bad` on, loads the newest
    /// remaining one into `step`, and returns the error.
    #[allow(clippy::too_many_arguments)]
    fn diverge<S: TrainStep>(
        &self,
        step: &mut S,
        done: u64,
        what: Divergence,
        value: f64,
        first_bad: u64,
        checkpoints: &Checkpoints,
        log: &mut MetricsLog,
        progress: &mut Progress,
    ) -> Result<TrainSummary, TrainError> {
        let mut line = MetricsLine::new(done, "diverged");
        line.loss = Some(value);
        // Best effort: the error below matters more than this line.
        let _ = log.write(&line).and_then(|()| log.sync());
        checkpoints.remove_from(first_bad.max(1))?;
        let restored_step = match checkpoints.latest()? {
            Some((s, dir)) => {
                step.load_checkpoint(&dir)?;
                Some(s)
            }
            None => None,
        };
        progress.message(&format!(
            "training diverged at step {done}: {what} ({value:e})"
        ));
        progress.finish();
        Err(TrainError::Diverged {
            step: done,
            what,
            value,
            restored_step,
        })
    }

    /// Refuses to resume with a configuration that changes the trajectory.
    fn check_resumable(&self, checkpoint: &Path) -> Result<(), TrainError> {
        let saved: serde_json::Value = match load_json(&self.run_dir, "config") {
            Ok(v) => v,
            Err(TrainError::MissingFile { .. }) => load_json(checkpoint, "config")?,
            Err(e) => return Err(e),
        };
        let given: serde_json::Value =
            serde_json::from_str(&burn::config::config_to_json(&self.config)).map_err(|e| {
                TrainError::InvalidConfig(format!("the configuration does not serialize: {e}"))
            })?;
        let (Some(saved), Some(given)) = (saved.as_object(), given.as_object()) else {
            return Err(TrainError::Corrupt {
                path: self.run_dir.join("config.json"),
                detail: "not a JSON object".into(),
            });
        };
        let keys: std::collections::BTreeSet<&String> = saved.keys().chain(given.keys()).collect();
        for key in keys {
            if RESUMABLE_FIELDS.contains(&key.as_str()) {
                continue;
            }
            let (a, b) = (saved.get(key), given.get(key));
            if a != b {
                let show = |v: Option<&serde_json::Value>| {
                    v.map_or_else(|| "absent".to_string(), |v| v.to_string())
                };
                return Err(TrainError::ConfigMismatch {
                    run_dir: self.run_dir.clone(),
                    detail: format!("`{key}` was {}, now {}", show(a), show(b)),
                });
            }
        }
        Ok(())
    }
}

/// Loads the newest checkpoint of the run in `run_dir` into `target` (to sample or evaluate a
/// trained model without retraining); returns its step, or `None` when the run has none.
pub fn restore_latest<C: Checkpointable>(
    run_dir: &Path,
    target: &mut C,
) -> Result<Option<u64>, TrainError> {
    match Checkpoints::new(run_dir).latest()? {
        Some((step, dir)) => {
            target.load_checkpoint(&dir)?;
            Ok(Some(step))
        }
        None => Ok(None),
    }
}

/// The step's first non-finite parameter as a divergence and its value, if any.
fn non_finite_parameter<S: TrainStep + ?Sized>(step: &S) -> Option<(Divergence, f64)> {
    step.non_finite_parameter().map(|bad| {
        (
            Divergence::NonFiniteParameter {
                path: bad.path,
                index: bad.index,
            },
            bad.value,
        )
    })
}
