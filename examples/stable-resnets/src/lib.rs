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
//! 3. with `--mnist DIR` ([`idx`], [`mnist`]): convolutional ResNets (3×3 kernels, standard and
//!    antisymmetric) trained on the MNIST IDX files found there; skipped without the folder;
//! 4. figures (`stability_trajectories`, `spread_vs_depth`, `decision_boundaries_<problem>`, as
//!    SVG and PNG) and `summary.json` with `key_numbers`.
//!
//! Modules: [`stability`], [`datasets`], [`classify`], [`idx`], [`mnist`], [`figures`].

pub mod classify;
pub mod datasets;
pub mod figures;
pub mod idx;
pub mod mnist;
pub mod stability;

use std::path::PathBuf;
use std::time::Instant;

use serde::Serialize;
use sysdyn_core::cli::{CliError, parse_run_options};
use sysdyn_core::device::DeviceSpec;
use sysdyn_core::{CoreError, ShapeMismatch};
use sysdyn_nodes::resnet::ResNetError;
use sysdyn_plot::PlotError;
use thiserror::Error;

use crate::classify::{ProblemResult, TrainSettings};
use crate::mnist::{MnistOutcome, MnistSettings};
use crate::stability::StabilityRun;

/// Command-line help.
pub const USAGE: &str = "\
usage: stable-resnets [--quick] [--out DIR] [--mnist DIR] [--backend ndarray|flex|wgpu]
                      [--precision f32|f64]

  --quick            fewer layers and training steps, a coarser figure grid (CI smoke run);
                     every file is still written
  --out DIR          output folder (default out/stable-resnets)
  --mnist DIR        folder with the uncompressed MNIST IDX files (train-images-idx3-ubyte,
                     train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte);
                     trains convolutional ResNets on them. Without it that run is skipped.
  --backend NAME     backend (default: flex; env SYSDYN_BACKEND)
  --precision P      f32 or f64 (default f32; f64 only on CPU backends; env SYSDYN_PRECISION)";

/// Why the example failed.
#[derive(Debug, Error)]
pub enum ExampleError {
    /// A device or precision that this build or the policy does not allow.
    #[error(transparent)]
    Device(#[from] CoreError),
    /// The command line was refused (device flags included).
    #[error("{0}\n\n{USAGE}")]
    Cli(#[from] CliError),
    /// A network could not be built or run.
    #[error(transparent)]
    Network(#[from] ResNetError),
    /// A tensor of the wrong shape.
    #[error(transparent)]
    Shape(#[from] ShapeMismatch),
    /// A figure or file could not be written.
    #[error(transparent)]
    Plot(#[from] PlotError),
    /// The MNIST files could not be read.
    #[error(transparent)]
    Idx(#[from] idx::IdxError),
    /// The summary could not be serialised.
    #[error("cannot serialise the summary: {0}")]
    Json(#[from] serde_json::Error),
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
}

impl Options {
    /// Default output folder.
    pub const DEFAULT_OUT: &'static str = "out/stable-resnets";

    /// Options from command-line arguments (without the program name) and the `SYSDYN_*`
    /// environment variables.
    pub fn from_args(args: &[String]) -> Result<Self, ExampleError> {
        let mut mnist_dir = None;
        let common = parse_run_options(args, Self::DEFAULT_OUT, |flag| {
            match flag.name() {
                "--mnist" => {
                    mnist_dir = Some(PathBuf::from(flag.value("the folder of the IDX files")?))
                }
                _ => return Ok(false),
            }
            Ok(true)
        })?;
        Ok(Options {
            out_dir: common.out_dir,
            quick: common.quick,
            device: common.device,
            mnist_dir,
        })
    }
}

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

fn progress(stage: usize, stages: usize, what: &str) {
    eprintln!("[stable-resnets] {stage}/{stages} {what}");
}

/// The training schedule of a full or quick run.
pub fn train_settings(quick: bool) -> TrainSettings {
    TrainSettings {
        depths: if quick {
            vec![4, 8]
        } else {
            vec![4, 8, 16, 32]
        },
        iterations_per_level: if quick { 40 } else { 300 },
        learning_rate: 0.03,
        gamma: 0.01,
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

/// Runs the whole example and writes its files; returns the summary it wrote.
pub fn run(options: &Options) -> Result<Summary, ExampleError> {
    let start = Instant::now();
    let stages = 5;
    let quick = options.quick;
    let dir = options.out_dir.as_path();
    // Fail on a bad device before any work.
    let device = options.device.init()?;
    let training_device = options.device.with_autodiff(true).init()?;
    if let Some(mnist_dir) = &options.mnist_dir {
        idx::check_folder(mnist_dir)?;
    }

    progress(
        1,
        stages,
        "stability: K+, K-, K0 through 10 forward Euler layers",
    );
    let stability = stability::run(&device)?;

    let settings = train_settings(quick);
    let problems = [
        datasets::concentric_ellipses(42),
        datasets::swiss_roll(43),
        datasets::peaks(44),
    ];
    let resolution = if quick { 25 } else { 81 };
    let mut classification = Vec::with_capacity(problems.len());
    for problem in &problems {
        progress(
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
        classification.push(classify::run(&training_device, problem, &settings, grid)?);
    }

    let mnist = match &options.mnist_dir {
        Some(mnist_dir) => {
            let settings = MnistSettings::new(quick);
            progress(
                3,
                stages,
                &format!(
                    "MNIST from {}: conv ResNets, {} training images",
                    mnist_dir.display(),
                    settings.train_images
                ),
            );
            mnist::run(&training_device, mnist_dir, &settings)?
        }
        None => {
            progress(3, stages, "MNIST skipped (no --mnist DIR)");
            MnistOutcome::skipped()
        }
    };

    progress(4, stages, &format!("figures into {}", dir.display()));
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

    progress(5, stages, "summary.json");
    let spec = device.spec();
    let summary = Summary {
        example: "stable-resnets",
        quick,
        out_dir: dir.display().to_string(),
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
    sysdyn_plot::write_atomic(&dir.join("summary.json"), json.as_bytes())?;
    Ok(summary)
}
