//! # Forecasting advection–diffusion by warping
//!
//! De Bézenac, Pajot & Gallinari (ICLR 2018) forecast sea-surface temperature with a CNN that
//! estimates a motion field `w` from the last `k` frames and a closed-form advection–diffusion
//! step, the Gaussian-kernel warp of the last frame (`sysdyn_physics::warping`). Here the data
//! are a synthetic tracer advected and diffused by a known cellular flow (Taylor–Green cells
//! plus a drift, `sysdyn_physics::simulators::tracer`), so the estimated motion can be set
//! against the truth; each sequence moves in its own flow (random amplitude, drift and cell
//! offset), so the motion must be read from the frames. Two forecasters with the same encoder–decoder, trained on the
//! `sysdyn-train` runtime over three seeds:
//!
//! - `warping`: the network gives `w` (bounded by a scaled tanh), the warp gives the frame;
//! - `cnn`: the network's one output channel is the next frame (the plain CNN baseline).
//!
//! Scores on held-out sequences: one-step MSE, and the Pearson correlation of the estimated
//! motion with the true displacement (over all pixels, and over the pixels where the last
//! frame's gradient is in its upper half, where motion is observable). Two references
//! without training: persistence (the last frame) and the warp with the true motion.

pub mod figures;
pub mod training;

use std::path::PathBuf;
use std::time::Instant;

use clap::Parser;
use serde::Serialize;
use sysdyn_core::CoreError;
use sysdyn_core::cli::{CliError, Program, RunArgs, parse_from};
use sysdyn_core::device::DeviceSpec;
use sysdyn_core::fs::{WriteError, write_atomic};
use sysdyn_data::metrics::mean_and_sample_std;
use sysdyn_physics::PhysicsError;
use sysdyn_plot::PlotError;
use thiserror::Error;

use crate::training::{Plan, SeedResult};

/// Why the example failed.
#[derive(Debug, Error)]
pub enum ExampleError {
    /// A device or precision that this build or the policy does not allow.
    #[error(transparent)]
    Device(#[from] CoreError),
    /// A model, the data or a forecast failed.
    #[error(transparent)]
    Physics(#[from] PhysicsError),
    /// A figure could not be drawn or written.
    #[error(transparent)]
    Plot(#[from] PlotError),
    /// The summary could not be written.
    #[error(transparent)]
    Write(#[from] WriteError),
    /// The summary could not be serialised.
    #[error("cannot serialise the summary: {0}")]
    Json(#[from] serde_json::Error),
    /// Training, a checkpoint or a run directory failed.
    #[error(transparent)]
    Train(#[from] sysdyn_train::TrainError),
}

/// The warping forecaster against a plain CNN on a synthetic advected–diffused tracer.
#[derive(Debug, Clone, Parser)]
#[command(name = "sst-warping", version)]
pub struct Cli {
    /// Training steps per run [default: 400; 3000 with --full; 12 with --quick]
    #[arg(long, value_name = "N")]
    pub steps: Option<usize>,

    /// Seeds [default: 3; 1 with --quick]
    #[arg(long, value_name = "N")]
    pub seeds: Option<usize>,

    /// Weights of the divergence, magnitude and smoothness penalties on the motion field
    /// [default: 1e-3,0,1e-4]
    #[arg(
        long,
        value_name = "DIV,MAG,SMOOTH",
        value_delimiter = ',',
        num_args = 3
    )]
    pub penalties: Option<Vec<f64>>,

    /// The larger run: 64 × 64 frames, 100 training sequences, width 32, 3000 steps
    #[arg(long, conflicts_with = "quick")]
    pub full: bool,

    // Last: its help heading ("Common options") applies to every flag after it.
    /// The options every sysdyn program shares (`--load` / `--resume` take the folder of the
    /// run directories, `<out>/run`).
    #[command(flatten)]
    pub run: RunArgs,
}

/// The shared options' defaults here: seed 0, checkpoints on.
pub const PROGRAM: Program = Program {
    default_out: Options::DEFAULT_OUT,
    default_seed: Some(0),
    checkpoints: true,
};

impl Cli {
    /// The options to run with, or clap's usage error (exit status 2).
    pub fn options(&self) -> Result<Options, clap::Error> {
        let run = self
            .run
            .resolve(&PROGRAM)
            .map_err(CliError::into_clap::<Cli>)?;
        Ok(Options {
            out_dir: run.out_dir,
            quick: run.quick,
            full: self.full,
            device: run.device.with_autodiff(true),
            steps: self.steps,
            seeds: self.seeds,
            penalties: match self.penalties.as_deref() {
                None => None,
                Some(&[div, mag, smooth]) => Some([div, mag, smooth]),
                Some(_) => {
                    return Err(clap::Error::raw(
                        clap::error::ErrorKind::WrongNumberOfValues,
                        "--penalties takes three weights: DIV,MAG,SMOOTH\n",
                    )
                    .with_cmd(&<Cli as clap::CommandFactory>::command()));
                }
            },
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
    /// Larger run.
    pub full: bool,
    /// Device.
    pub device: DeviceSpec,
    /// Training steps per run.
    pub steps: Option<usize>,
    /// Seeds.
    pub seeds: Option<usize>,
    /// Penalty weights `(divergence, magnitude, smoothness)`.
    pub penalties: Option<[f64; 3]>,
    /// Base of every seed.
    pub seed: u64,
    /// No progress lines.
    pub quiet: bool,
    /// Evaluate the runs of this folder without training.
    pub load: Option<PathBuf>,
    /// Continue the interrupted runs in this folder.
    pub resume: Option<PathBuf>,
}

impl Options {
    /// Default output folder.
    pub const DEFAULT_OUT: &'static str = "out/sst-warping";

    /// Options from command-line arguments (without the program name) and the `SYSDYN_*`
    /// environment variables.
    pub fn from_args(args: &[String]) -> Result<Self, clap::Error> {
        parse_from::<Cli>(args)?.options()
    }
}

/// One forecaster (or reference) over the seeds.
#[derive(Debug, Clone, Serialize)]
pub struct ModelResult {
    /// `warping`, `cnn`, `persistence` or `true-motion warp`.
    pub model: &'static str,
    /// One-step test MSE per seed.
    pub mse: Vec<f64>,
    /// Mean of `mse`.
    pub mse_mean: f64,
    /// Sample standard deviation of `mse`.
    pub mse_std: f64,
    /// Seconds of training per seed (0 for the references and with `--load`).
    pub train_s: Vec<f64>,
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
    /// `"sst-warping"`.
    pub example: &'static str,
    /// Reduced run.
    pub quick: bool,
    /// Larger run.
    pub full: bool,
    /// Whether this invocation trained.
    pub trained: bool,
    /// Output folder.
    pub out_dir: String,
    /// Backend.
    pub backend: String,
    /// Precision.
    pub precision: String,
    /// The sizes and settings of the run.
    pub plan: Plan,
    /// Per model, over the seeds.
    pub results: Vec<ModelResult>,
    /// Correlation of the estimated motion with the true displacement, per seed (all pixels).
    pub motion_correlation: Vec<f64>,
    /// Mean of `motion_correlation`.
    pub motion_correlation_mean: f64,
    /// Sample standard deviation of `motion_correlation`.
    pub motion_correlation_std: f64,
    /// The same on the pixels where the last frame's gradient is in its upper half, per seed.
    pub motion_correlation_textured: Vec<f64>,
    /// Root-mean-square error of the estimated motion against the truth, cells per frame, per
    /// seed (all pixels).
    pub motion_rmse: Vec<f64>,
    /// The warp's truncation error bound at the motion bound (`GaussianWarp::truncation_error`).
    pub warp_truncation_error: f64,
    /// Figure files.
    pub figures: Vec<String>,
    /// Highlights.
    pub key_numbers: Vec<KeyNumber>,
    /// Seconds for the whole run.
    pub wall_s: f64,
}

macro_rules! say {
    ($options:expr, $($arg:tt)*) => {
        if !$options.quiet {
            eprintln!($($arg)*);
        }
    };
}

fn over_seeds(
    model: &'static str,
    per_seed: &[SeedResult],
    pick: fn(&SeedResult) -> (f64, f64),
) -> ModelResult {
    let mse: Vec<f64> = per_seed.iter().map(|r| pick(r).0).collect();
    let (mse_mean, mse_std) = mean_and_sample_std(&mse);
    ModelResult {
        model,
        mse,
        mse_mean,
        mse_std,
        train_s: per_seed.iter().map(|r| pick(r).1).collect(),
    }
}

/// Runs the whole example and writes its files; returns the summary it wrote.
pub fn run(options: &Options) -> Result<Summary, ExampleError> {
    let start = Instant::now();
    let dir = options.out_dir.as_path();
    let mut spec = options.device;
    spec.autodiff = true;
    let mut device = spec.init()?;
    // Optimizer state is restored in the device's default float type: make it the run's
    // precision before any tensor exists, so a run resumes exactly.
    device.configure_defaults()?;
    let plan = Plan::new(options);
    let runs = training::run_set(options, plan.seeds)?;
    let mut per_seed = Vec::new();
    let mut trained = false;
    for s in 0..plan.seeds {
        say!(
            options,
            "[sst-warping] seed {}/{} on {} ({}×{} frames, {} steps)",
            s + 1,
            plan.seeds,
            device.spec(),
            plan.side,
            plan.side,
            plan.steps
        );
        let result = training::train_seed(
            &device,
            &runs,
            &plan,
            s,
            options.seed.wrapping_add(s as u64),
        )?;
        trained |= result.trained;
        say!(
            options,
            "  MSE warping {:.3e}, cnn {:.3e}, persistence {:.3e}, true-motion warp {:.3e}; \
             motion correlation {:.3}; {:.1} s + {:.1} s",
            result.warping_mse,
            result.cnn_mse,
            result.persistence_mse,
            result.oracle_mse,
            result.motion_correlation,
            result.warping_train_s,
            result.cnn_train_s
        );
        per_seed.push(result);
    }
    let results = vec![
        over_seeds("warping", &per_seed, |r| (r.warping_mse, r.warping_train_s)),
        over_seeds("cnn", &per_seed, |r| (r.cnn_mse, r.cnn_train_s)),
        over_seeds("persistence", &per_seed, |r| (r.persistence_mse, 0.0)),
        over_seeds("true-motion warp", &per_seed, |r| (r.oracle_mse, 0.0)),
    ];
    let motion_correlation: Vec<f64> = per_seed.iter().map(|r| r.motion_correlation).collect();
    let (motion_correlation_mean, motion_correlation_std) =
        mean_and_sample_std(&motion_correlation);
    say!(
        options,
        "[sst-warping] figures and summary into {}",
        dir.display()
    );
    let saved = [
        figures::fields(dir, &per_seed[0])?,
        figures::motion(dir, &per_seed[0])?,
        figures::training(dir, &per_seed[0])?,
    ];
    let mut key_numbers: Vec<KeyNumber> = results
        .iter()
        .map(|r| KeyNumber {
            name: format!("{}: one-step test MSE (mean of seeds)", r.model),
            value: r.mse_mean,
        })
        .collect();
    key_numbers.push(KeyNumber {
        name: "warping: correlation of the estimated motion with the true velocity".into(),
        value: motion_correlation_mean,
    });
    let summary = Summary {
        example: "sst-warping",
        quick: options.quick,
        full: options.full,
        trained,
        out_dir: dir.display().to_string(),
        backend: device.spec().backend.to_string(),
        precision: device.spec().precision.to_string(),
        warp_truncation_error: per_seed[0].truncation_error,
        plan,
        results,
        motion_correlation,
        motion_correlation_mean,
        motion_correlation_std,
        motion_correlation_textured: per_seed
            .iter()
            .map(|r| r.motion_correlation_textured)
            .collect(),
        motion_rmse: per_seed.iter().map(|r| r.motion_rmse).collect(),
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
