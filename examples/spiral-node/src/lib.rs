//! # The spiral neural ODE
//!
//! The classic demonstration of Chen et al. (2018): one trajectory of the cubic spiral
//! `dy/dt = y³ A`, `A = [[-0.1, 2], [-2, -0.1]]`, `y(0) = (2, 0)`, observed at 1000 points on
//! `[0, 25]`, is learned by a neural ODE whose field is an MLP 2 → 50 → 2 (tanh) applied to `y³`.
//! Training uses mini-batches of short windows (20 windows of 10 consecutive observations),
//! Dormand–Prince with error control, and Adam; the learned model is then integrated over the
//! whole interval from `y(0)` and compared with the truth.
//!
//! Training runs on the `sysdyn-train` runtime: checkpoints in `<out>/run/checkpoints/`, the
//! per-step loss and function evaluations in `<out>/run/metrics.jsonl` (the figures read them
//! from there), `--resume <out>/run` to continue an interrupted run and `--load <out>/run` to
//! evaluate a trained model without training.
//!
//! Modules: [`dataset`] (the true trajectory and the windows), [`model`] (the field: a plain burn
//! module with a `NeuralField` impl), [`training`], [`figures`].

pub mod dataset;
pub mod figures;
pub mod model;
pub mod training;

use std::path::PathBuf;
use std::time::Instant;

use clap::{Parser, ValueEnum};
use serde::Serialize;
use sysdyn_core::cli::{CliError, Program, RunArgs, parse_from};
use sysdyn_core::device::DeviceSpec;
use sysdyn_core::fs::{WriteError, write_atomic};
use sysdyn_core::{CoreError, ShapeMismatch};
use sysdyn_nodes::{AdjointOptions, NodeError, Sensitivity};
use sysdyn_plot::PlotError;
use sysdyn_solvers::SolveError;
use sysdyn_train::{ProgressMode, Session};
use thiserror::Error;

use crate::training::TrainConfig;

/// Why the example failed.
#[derive(Debug, Error)]
pub enum ExampleError {
    /// A device or precision that this build or the policy does not allow.
    #[error(transparent)]
    Device(#[from] CoreError),
    /// The reference solve failed.
    #[error("reference solve failed: {0}")]
    Solve(#[from] SolveError),
    /// A neural-ODE solve or gradient failed.
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
    /// Training, a checkpoint or the run directory failed.
    #[error(transparent)]
    Train(#[from] sysdyn_train::TrainError),
}

/// The classic neural-ODE spiral: learns dy/dt = y³A from one trajectory with an MLP on y³,
/// trained on mini-batches of short windows; writes trajectories, the learned vector field, NFE
/// and loss over training, and summary.json.
#[derive(Debug, Clone, Parser)]
#[command(name = "spiral-node", version)]
pub struct Cli {
    /// Optimizer steps [default: 2000; 100 with --quick]
    #[arg(long, value_name = "N")]
    pub iterations: Option<usize>,

    /// Gradient method
    #[arg(long, value_name = "S", value_enum, default_value_t = SensitivityArg::Taped)]
    pub sensitivity: SensitivityArg,

    // Last: its help heading ("Common options") applies to every flag after it.
    /// The options every sysdyn program shares (`--seed` seeds the initial weights and the
    /// mini-batches; default 2018; `--load` / `--resume` take a run directory, `<out>/run`).
    #[command(flatten)]
    pub run: RunArgs,
}

/// The gradient methods `--sensitivity` offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SensitivityArg {
    /// Backpropagation through the solver by burn's autodiff
    Backprop,
    /// Backpropagation through the solver by sysdyn's reverse sweep
    Taped,
    /// Backsolve adjoint with the seminorm
    Adjoint,
    /// Checkpointed adjoint (8 steps per checkpoint)
    CheckpointedAdjoint,
}

impl SensitivityArg {
    /// The method it names.
    pub fn sensitivity(self) -> Sensitivity {
        match self {
            SensitivityArg::Backprop => Sensitivity::Backprop,
            SensitivityArg::Taped => Sensitivity::TapedBackprop,
            SensitivityArg::Adjoint => {
                Sensitivity::BacksolveAdjoint(AdjointOptions::default().seminorm(true))
            }
            SensitivityArg::CheckpointedAdjoint => Sensitivity::CheckpointedAdjoint {
                options: AdjointOptions::default(),
                steps_per_checkpoint: 8,
            },
        }
    }
}

/// What the shared options default to here: seed 2018 (the published figures); training saves
/// checkpoints, so `--load DIR` (evaluate a trained run without training) and `--resume DIR`
/// (continue an interrupted run) are accepted, DIR being a run directory such as
/// `out/spiral-node/run`.
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
            sensitivity: self.sensitivity.sensitivity(),
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
    /// Optimizer steps (default 2000, quick 100).
    pub iterations: Option<usize>,
    /// Gradient method.
    pub sensitivity: Sensitivity,
    /// Seed of the initial weights and of the mini-batches.
    pub seed: u64,
    /// No progress lines.
    pub quiet: bool,
    /// Evaluate the model of this run directory (or checkpoint folder) without training.
    pub load: Option<PathBuf>,
    /// Continue the interrupted run in this run directory.
    pub resume: Option<PathBuf>,
}

fn sensitivity_name(s: &Sensitivity) -> &'static str {
    match s {
        Sensitivity::Backprop => "backprop",
        Sensitivity::TapedBackprop => "taped",
        Sensitivity::CheckpointedBackprop { .. } => "checkpointed-backprop",
        Sensitivity::BacksolveAdjoint(_) => "adjoint",
        Sensitivity::CheckpointedAdjoint { .. } => "checkpointed-adjoint",
    }
}

impl Options {
    /// Default output folder.
    pub const DEFAULT_OUT: &'static str = "out/spiral-node";

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

/// Everything the example measured.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// `"spiral-node"`.
    pub example: &'static str,
    /// Reduced run.
    pub quick: bool,
    /// Output folder.
    pub out_dir: String,
    /// Backend.
    pub backend: String,
    /// Precision.
    pub precision: String,
    /// Gradient method.
    pub sensitivity: &'static str,
    /// Optimizer steps.
    pub iterations: usize,
    /// Whether this invocation trained (false with `--load`).
    pub trained: bool,
    /// The step of the checkpoint evaluated.
    pub checkpoint_step: Option<u64>,
    /// Windows per batch and points per window.
    pub batch: [usize; 2],
    /// Mean squared error of the learned trajectory from y(0) over all 1000 points.
    pub trajectory_mse: f64,
    /// The same for the untrained model.
    pub initial_trajectory_mse: f64,
    /// Mini-batch loss of the first and the last 50 steps (mean).
    pub loss_first_last: [f64; 2],
    /// Forward NFE per step: first, mean, last.
    pub nfe_forward: [f64; 3],
    /// Backward NFE per step: first, mean, last.
    pub nfe_backward: [f64; 3],
    /// Seconds spent training in this invocation (0 with `--load`).
    pub train_s: f64,
    /// Figure files.
    pub figures: Vec<String>,
    /// Highlights.
    pub key_numbers: Vec<KeyNumber>,
    /// Seconds for the whole run.
    pub wall_s: f64,
}

fn stats(v: &[usize]) -> [f64; 3] {
    let mean = v.iter().sum::<usize>() as f64 / v.len().max(1) as f64;
    [
        v.first().copied().unwrap_or(0) as f64,
        mean,
        v.last().copied().unwrap_or(0) as f64,
    ]
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len().max(1) as f64
}

/// Runs the whole example and writes its files; returns the summary it wrote.
pub fn run(options: &Options) -> Result<Summary, ExampleError> {
    let start = Instant::now();
    let dir = options.out_dir.as_path();
    let mut spec = options.device;
    spec.autodiff = true;
    let mut device = spec.init()?;
    // Optimizer state is restored in the device's default float type: make it the run's
    // precision before any tensor exists, so an f64 run resumes exactly.
    device.configure_defaults()?;
    let iterations = options
        .iterations
        .unwrap_or(if options.quick { 100 } else { 2000 });
    say!(
        options,
        "[spiral-node] 1/4 true trajectory (DOP853, tol 1e-12)"
    );
    let data = dataset::true_trajectory()?;

    let config = TrainConfig {
        iterations,
        batch_size: 20,
        batch_time: 10,
        learning_rate: 3e-3,
        tol: (1e-6, 1e-7),
        sensitivity: options.sensitivity.clone(),
    };
    let run_config = sysdyn_train::TrainConfig::new(iterations as u64)
        .with_seed(options.seed)
        .with_schedule(config.schedule())
        .with_checkpoint_every(Some((iterations as u64 / 10).max(1)))
        .with_progress(if options.quiet {
            ProgressMode::Quiet
        } else {
            ProgressMode::Auto
        });
    let session = Session::from_flags(
        run_config,
        &dir.join("run"),
        options.load.as_deref(),
        options.resume.as_deref(),
    )?;
    if session.trains() {
        say!(
            options,
            "[spiral-node] 2/4 training: {iterations} steps on {} ({})",
            device.spec(),
            sensitivity_name(&config.sensitivity)
        );
    } else {
        say!(
            options,
            "[spiral-node] 2/4 loading the trained field (no training)"
        );
    }
    let initial = training::initial_field(&device, options.seed);
    let mut step =
        training::SpiralStep::new(&device, data.clone(), config.clone(), initial.clone());
    let train_start = Instant::now();
    let trained = session.run(&mut step)?;
    let train_s = if trained.is_some() {
        train_start.elapsed().as_secs_f64()
    } else {
        0.0
    };
    let checkpoint_step = match (&trained, &session) {
        (Some(t), _) => Some(t.steps),
        (None, Session::Load { step, .. }) => Some(*step),
        (None, Session::Train(_)) => None,
    };
    let log = training::TrainLog::from_metrics(&session.train_metrics()?);
    let field = step.field().clone();

    say!(options, "[spiral-node] 3/4 evaluation over [0, 25]");
    let learned = training::predict(&device, &field, &data.ts)?;
    let untrained = training::predict(&device, &initial, &data.ts)?;
    let trajectory_mse = training::mse(&learned, &data.ys);
    let initial_trajectory_mse = training::mse(&untrained, &data.ys);
    let nodes = sysdyn_plot::linspace(-2.2, 2.2, 21);
    let (gx, gy): (Vec<f64>, Vec<f64>) = nodes
        .iter()
        .flat_map(|&y| nodes.iter().map(move |&x| (x, y)))
        .unzip();
    let learned_field = training::field_at(&device, &field, &gx, &gy)?;

    say!(
        options,
        "[spiral-node] 4/4 figures and summary into {}",
        dir.display()
    );
    std::fs::create_dir_all(dir).map_err(|source| PlotError::Write {
        path: dir.to_path_buf(),
        source,
    })?;
    let saved = [
        figures::trajectories(dir, &data, &learned)?,
        figures::vector_field(dir, &data, &learned, (&gx, &gy), &learned_field)?,
        figures::training(dir, &log)?,
    ];
    // Read from metrics.jsonl (empty when a loaded checkpoint is outside its run directory).
    let tail = log.loss.len().min(50);
    let loss_first_last = [
        mean(&log.loss[..tail]),
        mean(&log.loss[log.loss.len() - tail..]),
    ];
    let nfe_forward = stats(&log.nfe_forward);
    let nfe_backward = stats(&log.nfe_backward);
    let key_numbers = vec![
        KeyNumber {
            name: "trajectory MSE after training".into(),
            value: trajectory_mse,
        },
        KeyNumber {
            name: "trajectory MSE before training".into(),
            value: initial_trajectory_mse,
        },
        KeyNumber {
            name: "mean forward NFE per step".into(),
            value: nfe_forward[1],
        },
        KeyNumber {
            name: "training seconds".into(),
            value: train_s,
        },
    ];
    let summary = Summary {
        example: "spiral-node",
        quick: options.quick,
        out_dir: dir.display().to_string(),
        backend: device.spec().backend.to_string(),
        precision: device.spec().precision.to_string(),
        sensitivity: sensitivity_name(&config.sensitivity),
        iterations,
        trained: trained.is_some(),
        checkpoint_step,
        batch: [config.batch_size, config.batch_time],
        trajectory_mse,
        initial_trajectory_mse,
        loss_first_last,
        nfe_forward,
        nfe_backward,
        train_s,
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
