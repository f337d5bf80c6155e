//! # Latent ODEs for irregularly sampled spirals
//!
//! The spiral experiment of Chen et al. (2018, §5.1), with the latent ODE of
//! `sysdyn_nodes::latent`: noisy, irregularly observed Archimedean spirals, half clockwise and
//! half counter-clockwise ([`dataset`]), are encoded by a GRU run backwards over the
//! observations into `q(z₀)`, evolved by a latent neural ODE (RK4, backprop through the solver)
//! and decoded; the model is trained by the ELBO with the known noise. A GRU forecaster reading
//! the same observations with their time gaps is the baseline ([`baseline`]). Both are
//! evaluated on held-out spirals: RMSE against the noise-free truth inside the observation
//! window (interpolation) and beyond it (extrapolation).
//!
//! Both models are trained through the training runtime (`sysdyn_train`), as two runs in
//! `<out>/run/latent-ode` and `<out>/run/baseline` with checkpoints every tenth of the run:
//! `--resume <out>/run` continues an interrupted training bit for bit, and `--load <out>/run`
//! evaluates the trained models without training, writing the same figures and numbers.
//!
//! Modules: [`dataset`], [`baseline`], [`training`] (both models, predictions, RMSE),
//! [`figures`].

pub mod baseline;
pub mod dataset;
pub mod figures;
pub mod training;

use std::path::PathBuf;
use std::time::Instant;

use clap::Parser;
use serde::Serialize;
use sysdyn_core::cli::{CliError, Program, RunArgs, parse_from};
use sysdyn_core::device::DeviceSpec;
use sysdyn_core::fs::{WriteError, write_atomic};
use sysdyn_core::{CoreError, ShapeMismatch};
use sysdyn_nodes::NodeError;
use sysdyn_plot::PlotError;
use sysdyn_train::{Checkpoints, ProgressMode, RunSet, Session, TrainConfig, TrainError};
use thiserror::Error;

use crate::dataset::{GRID_POINTS, WINDOW};
use crate::training::{BaselineStep, LatentStep, TrainLog, TrainSettings};

/// Why the example failed.
#[derive(Debug, Error)]
pub enum ExampleError {
    /// A device or precision that this build or the policy does not allow.
    #[error(transparent)]
    Device(#[from] CoreError),
    /// A latent-ODE computation failed.
    #[error(transparent)]
    Node(#[from] NodeError),
    /// A tensor of the wrong shape.
    #[error(transparent)]
    Shape(#[from] ShapeMismatch),
    /// A figure or the output folder could not be written.
    #[error(transparent)]
    Plot(#[from] PlotError),
    /// The summary could not be written.
    #[error(transparent)]
    Write(#[from] WriteError),
    /// The summary could not be serialised.
    #[error("cannot serialise the summary: {0}")]
    Json(#[from] serde_json::Error),
    /// Training, or saving or loading a checkpoint, failed.
    #[error(transparent)]
    Train(#[from] TrainError),
    /// `--load` / `--resume` named one model's run directory (or a checkpoint in it) instead of
    /// the folder holding both runs.
    #[error(
        "`{path}` belongs to one model's run; this example trains two (`latent-ode` and \
         `baseline`), so `--load` and `--resume` take the folder holding both: `{runs}`"
    )]
    OneRun {
        /// The folder named.
        path: PathBuf,
        /// The folder holding both runs.
        runs: PathBuf,
    },
}

/// Latent ODEs for irregularly sampled time series (Chen et al. 2018, Rubanova et al. 2019): a
/// GRU encoder, a latent neural ODE and a decoder trained by the ELBO on noisy, irregularly
/// observed spirals, against a GRU forecaster baseline; writes figures and summary.json.
#[derive(Debug, Clone, Parser)]
#[command(name = "latent-ode", version)]
pub struct Cli {
    /// Optimizer steps of each model [default: 1500; 200 with --quick]
    #[arg(long, value_name = "N")]
    pub iterations: Option<usize>,

    // Last: its help heading ("Common options") applies to every flag after it.
    /// The options every sysdyn program shares (`--seed` seeds the data, the weights and the
    /// noise; default 2018).
    #[command(flatten)]
    pub run: RunArgs,
}

/// What the shared options default to here: seed 2018 (the published figures); both training
/// runs save checkpoints, so `--load DIR` / `--resume DIR` take the folder holding the two run
/// directories (`<out>/run`).
pub const PROGRAM: Program = Program {
    default_out: Options::DEFAULT_OUT,
    default_seed: Some(2018),
    checkpoints: true,
};

impl Cli {
    /// The options to run with, or clap's usage error (exit status 2) for what parsed but is not
    /// allowed (f64 on `wgpu`).
    pub fn options(&self) -> Result<Options, clap::Error> {
        let run = self
            .run
            .resolve(&PROGRAM)
            .map_err(CliError::into_clap::<Cli>)?;
        Ok(Options {
            out_dir: run.out_dir,
            quick: run.quick,
            device: run.device.with_autodiff(true),
            iterations: self.iterations,
            seed: run.seed,
            quiet: run.quiet,
            load: run.load,
            resume: run.resume,
        })
    }
}

/// What to run and where to write.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// Output folder.
    pub out_dir: PathBuf,
    /// Reduced run.
    pub quick: bool,
    /// Device.
    pub device: DeviceSpec,
    /// Optimizer steps of each model (default 1500, quick 200).
    pub iterations: Option<usize>,
    /// Seed of everything random.
    pub seed: u64,
    /// No progress lines.
    pub quiet: bool,
    /// Evaluate the models of the runs in this folder (a former `<out>/run`) without training.
    pub load: Option<PathBuf>,
    /// Continue the interrupted runs in this folder (a former `<out>/run`).
    pub resume: Option<PathBuf>,
}

impl Options {
    /// Default output folder.
    pub const DEFAULT_OUT: &'static str = "out/latent-ode";

    /// Options from command-line arguments (without the program name) and the `SYSDYN_*`
    /// environment variables; a bad command line is clap's error, as `main` prints it.
    pub fn from_args(args: &[String]) -> Result<Self, clap::Error> {
        parse_from::<Cli>(args)?.options()
    }
}

/// Progress on stderr, unless `--quiet`.
macro_rules! say {
    ($options:expr, $($arg:tt)*) => {
        if !$options.quiet {
            eprintln!($($arg)*);
        }
    };
}

/// One highlighted number.
#[derive(Debug, Clone, Serialize)]
pub struct KeyNumber {
    /// What it is.
    pub name: String,
    /// Its value.
    pub value: f64,
}

/// RMSE against the noise-free truth on the held-out spirals.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Rmse {
    /// Inside the observation window (grid points 1 to 59; point 0 is always observed).
    pub interpolation: f64,
    /// Beyond it (grid points 60 to 99).
    pub extrapolation: f64,
}

/// Everything the example measured.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// `"latent-ode"`.
    pub example: &'static str,
    /// Reduced run.
    pub quick: bool,
    /// Output folder.
    pub out_dir: String,
    /// Backend.
    pub backend: String,
    /// Precision.
    pub precision: String,
    /// Seed.
    pub seed: u64,
    /// Optimizer steps of each model.
    pub iterations: usize,
    /// Whether this run trained (`false` when it loaded the models with `--load`; a resumed
    /// run trains, possibly no step when it was finished).
    pub trained: bool,
    /// The steps of the latent ODE's and the baseline's checkpoints the models come from.
    pub checkpoint_steps: [u64; 2],
    /// Training and test spirals.
    pub spirals: [usize; 2],
    /// Latent ODE on the test spirals.
    pub latent_ode: Rmse,
    /// GRU baseline on the test spirals.
    pub gru_baseline: Rmse,
    /// The latent ODE's −ELBO per observation: mean of the first and of the last 50 steps.
    pub latent_loss_first_last: [f64; 2],
    /// The baseline's one-step MSE: mean of the first and of the last 50 steps.
    pub baseline_loss_first_last: [f64; 2],
    /// Seconds training (or loading) the latent ODE and the baseline in this run.
    pub train_s: [f64; 2],
    /// Figure files.
    pub figures: Vec<String>,
    /// Highlights.
    pub key_numbers: Vec<KeyNumber>,
    /// Seconds for the whole run.
    pub wall_s: f64,
}

fn first_last(loss: &[f64]) -> [f64; 2] {
    let n = loss.len().min(50);
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
    [mean(&loss[..n]), mean(&loss[loss.len() - n..])]
}

/// The run directories of the two models, under `<out>/run` (or the folder given to `--load` /
/// `--resume`).
pub const RUNS: [&str; 2] = ["latent-ode", "baseline"];

/// The sessions of the two runs (latent ODE, baseline) the flags ask for. `--load` needs a
/// checkpoint in both run directories. `--resume` needs the folder and a checkpoint in at least
/// one of them; a run directory without one (the run was interrupted before that model's
/// training started) trains from the start. Without either flag both runs start afresh in
/// `<out>/run`, replacing an earlier run there.
pub fn sessions(
    options: &Options,
    configs: [TrainConfig; 2],
) -> Result<[Session; 2], ExampleError> {
    if let Some(root) = options.load.as_ref().or(options.resume.as_ref()) {
        refuse_one_run(root)?;
    }
    let [latent, baseline] = configs;
    let runs = RunSet::new(
        &options.out_dir.join("run"),
        options.load.as_deref(),
        options.resume.as_deref(),
    );
    // A folder that does not exist, or holds neither run's checkpoints, is a wrong path rather
    // than a run to start: refused instead of training from scratch there.
    runs.require_a_checkpoint(&RUNS)?;
    Ok([
        runs.session(latent, RUNS[0])?,
        runs.session(baseline, RUNS[1])?,
    ])
}

/// A run directory (it has checkpoints) or a checkpoint folder (`…/checkpoints/step-<n>`) named
/// where the folder of both runs is expected: an error pointing to that folder.
fn refuse_one_run(path: &std::path::Path) -> Result<(), ExampleError> {
    let runs = if Checkpoints::new(path).latest()?.is_some() {
        path.parent()
    } else if path.join("trainer.json").is_file() {
        // `<runs>/<model>/checkpoints/step-<n>`.
        path.ancestors().nth(3)
    } else {
        return Ok(());
    };
    Err(ExampleError::OneRun {
        path: path.to_path_buf(),
        runs: runs.map_or_else(|| PathBuf::from(".."), std::path::Path::to_path_buf),
    })
}

/// The step of the checkpoint a session's model comes from: the trained run's last step, or
/// the loaded checkpoint's.
fn checkpoint_step(session: &Session, trained: Option<sysdyn_train::TrainSummary>) -> u64 {
    match (session, trained) {
        (_, Some(summary)) => summary.steps,
        (Session::Load { step, .. }, None) => *step,
        (Session::Train(_), None) => 0,
    }
}

/// The loss curve of a session's run, from its `metrics.jsonl`.
fn train_log(session: &Session) -> Result<TrainLog, TrainError> {
    Ok(TrainLog::from_metrics(&session.train_metrics()?))
}

/// Runs the whole example and writes its files; returns the summary it wrote.
pub fn run(options: &Options) -> Result<Summary, ExampleError> {
    let start = Instant::now();
    let dir = options.out_dir.as_path();
    let mut spec = options.device;
    spec.autodiff = true;
    let mut device = spec.init()?;
    // Adam's state is restored in the device's default float type: fix it to the run's
    // precision before any tensor exists, so a resumed f64 run keeps its precision.
    device.configure_defaults()?;
    spec.autodiff = false;
    let mut plain = spec.init()?;
    plain.configure_defaults()?;
    let iterations = options
        .iterations
        .unwrap_or(if options.quick { 200 } else { 1500 });
    let (n_train, n_test) = if options.quick { (32, 16) } else { (256, 64) };

    let settings = TrainSettings {
        iterations,
        batch_size: 16,
        learning_rate: 1e-2,
        seed: options.seed,
    };
    let config = TrainConfig::new(iterations as u64)
        .with_seed(options.seed)
        .with_schedule(settings.schedule())
        // Checkpoints are a few kilobytes: ten per run costs nothing and loses little on an
        // interruption.
        .with_checkpoint_every(Some((iterations as u64 / 10).max(1)))
        // The data the run trains on: a resume with other sizes is refused, not continued.
        .with_program_settings(Some(serde_json::json!({
            "train_spirals": n_train,
            "test_spirals": n_test,
            "batch_size": settings.batch_size,
        })))
        .with_progress(if options.quiet {
            ProgressMode::Quiet
        } else {
            ProgressMode::Auto
        });
    // Checked before any work, so a wrong `--load` / `--resume` folder fails at once.
    let [latent_session, baseline_session] = sessions(options, [config.clone(), config])?;

    say!(
        options,
        "[latent-ode] 1/4 data: {n_train} training and {n_test} test spirals"
    );
    let mut rng = training::data_rng(options.seed);
    let train = dataset::spirals(n_train, &mut rng);
    let test = dataset::spirals(n_test, &mut rng);

    let verb = |session: &Session| {
        if session.trains() {
            format!("training for {iterations} steps")
        } else {
            format!(
                "loading from {}",
                session
                    .run_dir()
                    .map_or_else(String::new, |d| d.display().to_string())
            )
        }
    };
    say!(
        options,
        "[latent-ode] 2/4 latent ODE: {} on {}",
        verb(&latent_session),
        device.spec()
    );
    let clock = Instant::now();
    let mut latent = LatentStep::new(&device, &train, &settings)?;
    let latent_trained = latent_session.run(&mut latent)?;
    let latent_s = clock.elapsed().as_secs_f64();
    say!(
        options,
        "[latent-ode] 3/4 GRU baseline: {}",
        verb(&baseline_session)
    );
    let clock = Instant::now();
    let mut baseline = BaselineStep::new(&device, &train, &settings)?;
    let baseline_trained = baseline_session.run(&mut baseline)?;
    let baseline_s = clock.elapsed().as_secs_f64();
    let trained = latent_session.trains() || baseline_session.trains();
    let checkpoint_steps = [
        checkpoint_step(&latent_session, latent_trained),
        checkpoint_step(&baseline_session, baseline_trained),
    ];
    let (lode, gru) = (latent.lode, baseline.model);
    let latent_log = train_log(&latent_session)?;
    let baseline_log = train_log(&baseline_session)?;

    say!(
        options,
        "[latent-ode] 4/4 evaluation on the test spirals; figures and summary into {}",
        dir.display()
    );
    let latent_pred = training::predict_latent(&plain, &lode, &test)?;
    let baseline_pred = training::predict_baseline(&plain, &gru, &test)?;
    let score = |pred: &[Vec<[f64; 2]>]| Rmse {
        interpolation: training::rmse(pred, &test, 1..WINDOW),
        extrapolation: training::rmse(pred, &test, WINDOW..GRID_POINTS),
    };
    let (latent_ode, gru_baseline) = (score(&latent_pred), score(&baseline_pred));

    std::fs::create_dir_all(dir).map_err(|source| PlotError::Write {
        path: dir.to_path_buf(),
        source,
    })?;
    let shown: Vec<usize> = (0..test.len().min(4)).collect();
    let saved = [
        figures::spirals(dir, &test, &latent_pred, &baseline_pred, &shown)?,
        figures::error_over_time(
            dir,
            &training::rmse_per_time(&latent_pred, &test),
            &training::rmse_per_time(&baseline_pred, &test),
        )?,
        figures::training(dir, &latent_log, &baseline_log)?,
    ];
    let key = |name: &str, value: f64| KeyNumber {
        name: name.into(),
        value,
    };
    let key_numbers = vec![
        key("latent ODE extrapolation RMSE", latent_ode.extrapolation),
        key(
            "GRU baseline extrapolation RMSE",
            gru_baseline.extrapolation,
        ),
        key("latent ODE interpolation RMSE", latent_ode.interpolation),
        key(
            "GRU baseline interpolation RMSE",
            gru_baseline.interpolation,
        ),
        key("latent ODE training seconds", latent_s),
    ];
    let summary = Summary {
        example: "latent-ode",
        quick: options.quick,
        out_dir: dir.display().to_string(),
        backend: device.spec().backend.to_string(),
        precision: device.spec().precision.to_string(),
        seed: options.seed,
        iterations,
        trained,
        checkpoint_steps,
        spirals: [n_train, n_test],
        latent_ode,
        gru_baseline,
        latent_loss_first_last: first_last(&latent_log.loss),
        baseline_loss_first_last: first_last(&baseline_log.loss),
        train_s: [latent_s, baseline_s],
        figures: saved
            .iter()
            .flat_map(|s| s.names_relative_to(dir))
            .collect(),
        key_numbers,
        wall_s: start.elapsed().as_secs_f64(),
    };
    let json = serde_json::to_string_pretty(&summary)?;
    write_atomic(&dir.join("summary.json"), json.as_bytes())?;
    Ok(summary)
}
