//! # The stable-ResNets example
//!
//! Deep residual networks seen as discretised ODEs (Haber & Ruthotto 2017):
//!
//! 1. stability: three forward Euler networks on the plane (`h = 0.1`, tanh, `b = 0`, 10 layers)
//!    with layer matrices whose eigenvalues have positive, negative and zero real part; the
//!    points' paths and the growth of their spread through depth;
//! 2. classification ([`datasets`], [`classify`]) of concentric ellipses, the swiss roll and the
//!    level sets of `peaks` by standard, antisymmetric and two-stream Verlet networks, trained
//!    multi-level: Adam at 4 layers, prolonged in depth (parameters interpolated, `h = T / N`
//!    halved), trained again, through 8, 16 and 32 layers; training and validation accuracy
//!    per problem, architecture and depth;
//! 3. with `--mnist DIR` ([`sysdyn_data::idx`], [`mnist`]): convolutional ResNets (3×3 kernels, standard and
//!    antisymmetric) trained on the MNIST IDX files found there; skipped without the folder;
//! 4. figures (`stability_trajectories`, `spread_vs_depth`, `decision_boundaries_<problem>`, as
//!    SVG and PNG) and `summary.json` with `key_numbers`.
//!
//! Every network is trained by the training runtime (`sysdyn-train`), one run per problem,
//! architecture and depth (and per MNIST architecture) in `<out>/run/<name>` ([`runs`]):
//! `--resume <out>/run` continues an interrupted invocation, `--load <out>/run` evaluates the
//! saved networks without training and writes the same figures and numbers.
//!
//! Modules: [`stability`], [`datasets`], [`classify`], [`mnist`], [`runs`], [`figures`].

pub mod classify;
pub mod datasets;
pub mod figures;
pub mod mnist;
pub mod runs;
pub mod stability;

use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::Parser;
use serde::Serialize;
use sysdyn_core::cli::{CliError, Program, RunArgs, parse_from};
use sysdyn_core::device::DeviceSpec;
use sysdyn_core::fs::{WriteError, write_atomic};
use sysdyn_core::{CoreError, ShapeMismatch};
use sysdyn_nodes::resnet::ResNetError;
use sysdyn_plot::PlotError;
use thiserror::Error;

use crate::classify::{ProblemResult, TrainSettings};
use crate::mnist::{MnistOutcome, MnistSettings};
use crate::runs::{RunMode, RunPlan};
use crate::stability::StabilityRun;

/// Why the example failed.
#[derive(Debug, Error)]
pub enum ExampleError {
    /// A device or precision that this build or the policy does not allow.
    #[error(transparent)]
    Device(#[from] CoreError),
    /// A network could not be built or run.
    #[error(transparent)]
    Network(#[from] ResNetError),
    /// A tensor of the wrong shape.
    #[error(transparent)]
    Shape(#[from] ShapeMismatch),
    /// A figure could not be drawn or written.
    #[error(transparent)]
    Plot(#[from] PlotError),
    /// The summary could not be written.
    #[error(transparent)]
    Write(#[from] WriteError),
    /// The MNIST files could not be read.
    #[error(transparent)]
    Idx(#[from] sysdyn_data::DataError),
    /// The summary could not be serialised.
    #[error("cannot serialise the summary: {0}")]
    Json(#[from] serde_json::Error),
    /// A training run failed, or its checkpoints could not be written or read.
    #[error(transparent)]
    Train(#[from] sysdyn_train::TrainError),
    /// `--load DIR` / `--resume DIR` named a folder that does not exist.
    #[error(
        "`{flag} {path}`: no such folder; pass the `run` folder of an earlier output of this \
         example (e.g. `out/stable-resnets/run`), which holds one folder per training run"
    )]
    NoRunFolder {
        /// `--load` or `--resume`.
        flag: &'static str,
        /// The folder named.
        path: PathBuf,
    },
}

/// Deep residual networks as ODE discretisations: the stability of forward Euler networks by
/// the spectrum of their layers, standard, antisymmetric and Verlet networks trained multi-level
/// to classify ellipses, the swiss roll and peaks, and convolutional ResNets on MNIST IDX files;
/// writes figures and summary.json.
#[derive(Debug, Clone, Parser)]
#[command(name = "stable-resnets", version)]
pub struct Cli {
    /// Folder with the uncompressed MNIST IDX files (train-images-idx3-ubyte,
    /// train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte); trains
    /// convolutional ResNets on them. Without it that run is skipped
    #[arg(long, value_name = "DIR")]
    pub mnist: Option<PathBuf>,

    // Last: its help heading ("Common options") applies to every flag after it.
    /// The options every sysdyn program shares (`--seed` seeds the datasets and the networks'
    /// initial weights; default 42).
    #[command(flatten)]
    pub run: RunArgs,
}

/// What the shared options default to here: seed 42 (the published figures); checkpoints
/// supported: `--load DIR` / `--resume DIR` name the `run` folder of an earlier output, which
/// holds one run directory per trained network.
pub const PROGRAM: Program = Program {
    default_out: Options::DEFAULT_OUT,
    default_seed: Some(PROGRAM_DEFAULT_SEED),
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
            device: run.device,
            mnist_dir: self.mnist.clone(),
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
    /// Device (autodiff is switched on for training).
    pub device: DeviceSpec,
    /// Folder with the MNIST IDX files; the MNIST run is skipped without it.
    pub mnist_dir: Option<PathBuf>,
    /// Seed of the datasets (`seed`, `seed + 1`, `seed + 2`) and of the networks' initial
    /// weights (`seed + 1975`: the default 42 keeps the published 2017).
    pub seed: u64,
    /// No progress lines.
    pub quiet: bool,
    /// `--load DIR`: the `run` folder of an earlier output; its networks are evaluated without
    /// training.
    pub load: Option<PathBuf>,
    /// `--resume DIR`: the `run` folder of an interrupted invocation, continued.
    pub resume: Option<PathBuf>,
}

impl Options {
    /// Default output folder.
    pub const DEFAULT_OUT: &'static str = "out/stable-resnets";

    /// Options from command-line arguments (without the program name) and the `SYSDYN_*`
    /// environment variables; a bad command line is clap's error, as `main` prints it.
    pub fn from_args(args: &[String]) -> Result<Self, clap::Error> {
        parse_from::<Cli>(args)?.options()
    }

    /// The seed of the networks' initial weights.
    pub fn network_seed(&self) -> u64 {
        self.seed
            .wrapping_add(mnist::DEFAULT_SEED - PROGRAM_DEFAULT_SEED)
    }

    /// The training runs of these options: fresh in `<out>/run`, or the `--load` / `--resume`
    /// folder.
    pub fn run_plan(&self) -> RunPlan {
        RunPlan::from_flags(
            &self.out_dir,
            self.load.as_deref(),
            self.resume.as_deref(),
            self.quiet,
        )
    }
}

/// The default `--seed`.
const PROGRAM_DEFAULT_SEED: u64 = 42;

/// A named number for the tour's table.
#[derive(Debug, Clone, Serialize)]
pub struct KeyNumber {
    /// What it is.
    pub name: String,
    /// Its value.
    pub value: f64,
}

/// Everything `summary.json` holds.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// "stable-resnets".
    pub example: &'static str,
    /// Reduced run.
    pub quick: bool,
    /// Output folder.
    pub out_dir: String,
    /// Whether the networks were trained in this invocation (fresh or resumed), rather than
    /// loaded with `--load`.
    pub trained: bool,
    /// The folder of the training runs used (`<out>/run`, or the `--load` / `--resume` folder).
    pub run_dir: String,
    /// Backend used.
    pub backend: String,
    /// Precision used.
    pub precision: String,
    /// The three stability networks.
    pub stability: Vec<StabilityRun>,
    /// Classification settings shared by the problems.
    pub training: TrainSettings,
    /// Per problem: settings and, per architecture and depth, the accuracies.
    pub classification: Vec<ProblemResult>,
    /// The convolutional run on MNIST, or why it was skipped.
    pub mnist: MnistOutcome,
    /// The headline numbers: the best validation accuracy per problem, and each
    /// architecture's validation accuracy at the deepest level.
    pub key_numbers: Vec<KeyNumber>,
    /// Figure files written.
    pub figures: Vec<String>,
    /// Non-finite points left out of the figures.
    pub figure_points_skipped: usize,
    /// Wall-clock time of the run in seconds.
    pub wall_s: f64,
}

fn progress(options: &Options, stage: usize, stages: usize, what: &str) {
    if !options.quiet {
        eprintln!("[stable-resnets] {stage}/{stages} {what}");
    }
}

/// The training schedule of a full or quick run, the networks drawn from `seed`.
pub fn train_settings(quick: bool, seed: u64) -> TrainSettings {
    TrainSettings {
        depths: if quick {
            vec![4, 8]
        } else {
            vec![4, 8, 16, 32]
        },
        iterations_per_level: if quick { 40 } else { 300 },
        learning_rate: 0.03,
        gamma: 0.01,
        seed,
    }
}

fn key_numbers(results: &[ProblemResult], mnist: &MnistOutcome) -> Vec<KeyNumber> {
    let mut numbers = Vec::new();
    for result in results {
        let (architecture, layers, accuracy) = result.best();
        numbers.push(KeyNumber {
            name: format!(
                "{} best validation accuracy ({architecture}, {layers} layers)",
                result.dataset
            ),
            value: accuracy,
        });
        for run in &result.runs {
            let deepest = run.deepest();
            numbers.push(KeyNumber {
                name: format!(
                    "{} {} validation accuracy, {} layers",
                    result.dataset, run.architecture, deepest.layers
                ),
                value: deepest.validation_accuracy,
            });
        }
    }
    if let MnistOutcome::Ran { scores, .. } = mnist {
        for score in scores {
            numbers.push(KeyNumber {
                name: format!("MNIST {} conv ResNet test accuracy", score.architecture),
                value: score.test_accuracy,
            });
        }
    }
    numbers
}

/// The folder holding the runs a plan uses.
fn run_folder(plan: &RunPlan) -> &Path {
    match &plan.mode {
        RunMode::Fresh => &plan.root,
        RunMode::Load(dir) | RunMode::Resume(dir) => dir,
    }
}

/// Runs the whole example and writes its files; returns the summary it wrote.
pub fn run(options: &Options) -> Result<Summary, ExampleError> {
    let start = Instant::now();
    let stages = 5;
    let quick = options.quick;
    let dir = options.out_dir.as_path();
    // Fail on a bad device before any work.
    let device = options.device.init()?;
    let mut training_device = options.device.with_autodiff(true).init()?;
    // Optimizer state is restored in the device's default float type: make it the run's
    // precision before any tensor exists.
    training_device.configure_defaults()?;
    if let Some(mnist_dir) = &options.mnist_dir {
        sysdyn_data::idx::check_folder(mnist_dir)?;
    }
    let plan = options.run_plan();
    plan.check()?;

    progress(
        options,
        1,
        stages,
        "stability: K+, K-, K0 through 10 forward Euler layers",
    );
    let stability = stability::run(&device)?;

    let settings = train_settings(quick, options.network_seed());
    let problems = [
        datasets::concentric_ellipses(options.seed),
        datasets::swiss_roll(options.seed.wrapping_add(1)),
        datasets::peaks(options.seed.wrapping_add(2)),
    ];
    let resolution = if quick { 25 } else { 81 };
    let mut classification = Vec::with_capacity(problems.len());
    for problem in &problems {
        progress(
            options,
            2,
            stages,
            &format!(
                "classification of {}: depths {:?}, {} Adam steps per level on {}",
                problem.name,
                settings.depths,
                settings.iterations_per_level,
                training_device.spec()
            ),
        );
        let ([x0, x1], [y0, y1]) = problem.window;
        let grid = (
            sysdyn_plot::linspace(x0, x1, resolution),
            sysdyn_plot::linspace(y0, y1, resolution),
        );
        classification.push(classify::run(
            &training_device,
            problem,
            (&settings, &plan),
            grid,
        )?);
    }

    let mnist = match &options.mnist_dir {
        Some(mnist_dir) => {
            let settings = MnistSettings::new(quick);
            progress(
                options,
                3,
                stages,
                &format!(
                    "MNIST from {}: conv ResNets, {} training images",
                    mnist_dir.display(),
                    settings.train_images
                ),
            );
            mnist::run_seeded(
                &training_device,
                mnist_dir,
                &settings,
                &plan,
                options.network_seed(),
            )?
        }
        None => {
            progress(options, 3, stages, "MNIST skipped (no --mnist DIR)");
            MnistOutcome::skipped()
        }
    };

    progress(
        options,
        4,
        stages,
        &format!("figures into {}", dir.display()),
    );
    let mut saved = vec![
        figures::stability_trajectories(dir, &stability)?,
        figures::spread_vs_depth(dir, &stability)?,
    ];
    for (result, problem) in classification.iter().zip(&problems) {
        saved.push(figures::decision_boundaries(
            dir,
            result,
            &problem.validation,
        )?);
    }
    let figure_points_skipped = saved.iter().map(|s| s.skipped_points()).sum();
    let figures = saved
        .iter()
        .flat_map(|s| s.names_relative_to(dir))
        .collect();

    progress(options, 5, stages, "summary.json");
    let spec = device.spec();
    let summary = Summary {
        example: "stable-resnets",
        quick,
        out_dir: dir.display().to_string(),
        trained: !matches!(plan.mode, RunMode::Load(_)),
        run_dir: run_folder(&plan).display().to_string(),
        backend: spec.backend.to_string(),
        precision: spec.precision.to_string(),
        stability,
        training: settings,
        key_numbers: key_numbers(&classification, &mnist),
        mnist,
        classification,
        figures,
        figure_points_skipped,
        wall_s: start.elapsed().as_secs_f64(),
    };
    let json = serde_json::to_string_pretty(&summary)?;
    write_atomic(&dir.join("summary.json"), json.as_bytes())?;
    Ok(summary)
}
