//! # GANs in two dimensions
//!
//! Five GAN objectives, each with the optimizer and Lipschitz constraint of its paper, learn two
//! Gaussian mixtures with MLP players (generator 2-128-128-2 from a 2-D normal code,
//! discriminator 2-128-128-1, ReLU; 256 wide for WGAN-GP, whose authors use wider players):
//!
//! - eight Gaussians of standard deviation 0.02 on a circle of radius 2 (the unrolled-GAN
//!   setting), and the 25 Gaussians of standard deviation 0.05 on the grid `{−2, …, 2}²`;
//! - `ns-gan` (non-saturating, Adam β = (0.5, 0.999)), `lsgan` (least squares, targets 0/1/1),
//!   `wgan-clip` (Wasserstein, RMSProp 5e-5, clipping at 0.01, 5 critic steps), `wgan-gp`
//!   (Wasserstein with the gradient penalty through the critic's jets, λ = 0.1 as in the
//!   WGAN-GP authors' toy experiments, 5 critic steps) and `hinge-sn` (hinge loss, spectrally
//!   normalised critic, 5 critic steps as in SN-GAN).
//!
//! Every run is scored by mode coverage (a mode is covered when at least 20 of 2500 samples lie
//! within 3σ of it, as in the unrolled-GAN and VEEGAN papers) and by the fraction of samples
//! within 3σ of a mode, over three seeds (mean ± std). The coverage is also recorded during
//! training (evaluation lines of each run's `metrics.jsonl`).
//!
//! A last part plays the Dirac-GAN (data at 0, generator `δ_θ`, discriminator `ψ x`) with
//! simultaneous, alternating, extragradient and optimistic steps, and sets the measured rate of
//! each next to the spectral radius of its linearised update.
//!
//! Every GAN trains on the `sysdyn-train` runtime in `<out>/run/<data>-<objective>-s<seed>`;
//! `--resume <out>/run` continues interrupted runs, `--load <out>/run` evaluates without
//! training.

pub mod dirac;
pub mod figures;
pub mod players;

use std::path::PathBuf;
use std::time::Instant;

use clap::Parser;
use serde::Serialize;
use sysdyn_core::CoreError;
use sysdyn_core::cli::{CliError, Program, RunArgs, parse_from};
use sysdyn_core::device::DeviceSpec;
use sysdyn_core::fs::{WriteError, write_atomic};
use sysdyn_core::jet::JetError;
use sysdyn_data::DataError;
use sysdyn_data::metrics::mean_and_sample_std;
use sysdyn_generative::GenerativeError;
use sysdyn_plot::PlotError;
use thiserror::Error;

use crate::players::{Mixture, Objective, RunResult};

/// Why the example failed.
#[derive(Debug, Error)]
pub enum ExampleError {
    /// A device or precision that this build or the policy does not allow.
    #[error(transparent)]
    Device(#[from] CoreError),
    /// A network could not be built.
    #[error(transparent)]
    Jet(#[from] JetError),
    /// A GAN setting or step failed.
    #[error(transparent)]
    Generative(#[from] GenerativeError),
    /// A data set or metric failed.
    #[error(transparent)]
    Data(#[from] DataError),
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
    /// Sampling a trained generator failed.
    #[error("sampling the generator: {0}")]
    Sample(String),
}

/// GANs on eight sharp Gaussians and the 25-Gaussian grid with five objectives, scored by mode
/// coverage over three seeds, and the Dirac-GAN's dynamics under each update scheme.
#[derive(Debug, Clone, Parser)]
#[command(name = "gan-2d", version)]
pub struct Cli {
    /// Generator steps per run [default: 6000 (3000 for wgan-clip and hinge-sn, whose critics
    /// take 5 steps each); 40 with --quick]
    #[arg(long, value_name = "N")]
    pub iterations: Option<usize>,

    /// WGAN-GP's players 256 wide, the width its targets need, at 2.8 times the time per step
    /// [default: 128 wide, like the other objectives']
    #[arg(long, conflicts_with = "quick")]
    pub full: bool,

    /// Seeds per data set and objective [default: 3; 1 with --quick]
    #[arg(long, value_name = "N")]
    pub seeds: Option<usize>,

    /// Only these objectives (comma-separated: ns-gan, lsgan, wgan-clip, wgan-gp, hinge-sn)
    /// [default: all five]
    #[arg(long, value_name = "LIST", value_delimiter = ',', value_parser = players::Objective::parse)]
    pub objectives: Vec<players::Objective>,

    // Last: its help heading ("Common options") applies to every flag after it.
    /// The options every sysdyn program shares (`--load` / `--resume` take the folder of the
    /// run directories, `<out>/run`).
    #[command(flatten)]
    pub run: RunArgs,
}

/// What the shared options default to here: the seed of the published figures, and
/// checkpoints (so `--load DIR` and `--resume DIR` work, DIR being `out/gan-2d/run`).
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
            iterations: self.iterations,
            seeds: self.seeds,
            objectives: if self.objectives.is_empty() {
                players::Objective::ALL.to_vec()
            } else {
                self.objectives.clone()
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
    /// WGAN-GP's players at 256 wide (see [`Cli::full`]).
    pub full: bool,
    /// Device.
    pub device: DeviceSpec,
    /// Generator steps per run (see [`Cli::iterations`]).
    pub iterations: Option<usize>,
    /// Seeds per data set and objective.
    pub seeds: Option<usize>,
    /// The objectives to train, in the order of [`players::Objective::ALL`].
    pub objectives: Vec<players::Objective>,
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
    pub const DEFAULT_OUT: &'static str = "out/gan-2d";

    /// Options from command-line arguments (without the program name) and the `SYSDYN_*`
    /// environment variables.
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

/// One data set and objective over the seeds.
#[derive(Debug, Clone, Serialize)]
pub struct ObjectiveResult {
    /// Data set.
    pub data: &'static str,
    /// Objective.
    pub objective: &'static str,
    /// Modes of the mixture.
    pub modes_total: usize,
    /// Modes covered, per seed.
    pub modes: Vec<usize>,
    /// Mean of `modes`.
    pub modes_mean: f64,
    /// Sample standard deviation of `modes`.
    pub modes_std: f64,
    /// Fraction of samples within 3σ of a mode, per seed.
    pub high_quality: Vec<f64>,
    /// Mean of `high_quality`.
    pub high_quality_mean: f64,
    /// Sample standard deviation of `high_quality`.
    pub high_quality_std: f64,
    /// Final generator and critic losses (mean of the last 100 steps), per seed.
    pub final_losses: Vec<[f64; 2]>,
    /// The discriminator's accuracy on its batches and the generator's and critic's gradient
    /// norms, means over the last 2 % of training, per seed.
    pub final_diagnosis: Vec<[f64; 3]>,
    /// Seconds of training per seed (0 with `--load`).
    pub train_s: Vec<f64>,
    /// Generator steps.
    pub iterations: usize,
}

/// The Dirac-GAN under one scheme.
#[derive(Debug, Clone, Serialize)]
pub struct DiracResult {
    /// Update scheme.
    pub scheme: &'static str,
    /// Spectral radius of the linearised update (the predicted factor per step).
    pub predicted_rate: f64,
    /// Measured factor per step of the distance to the equilibrium.
    pub measured_rate: f64,
    /// Distance to the equilibrium at the start and after the last step.
    pub distance_first_last: [f64; 2],
}

/// A published figure with the same scores, quoted for comparison.
#[derive(Debug, Clone, Serialize)]
pub struct PublishedFigure {
    /// Where it comes from.
    pub source: &'static str,
    /// The mixture (`eight-gaussians` or `grid-25`).
    pub data: &'static str,
    /// The method.
    pub method: &'static str,
    /// Modes covered (mean over the paper's runs).
    pub modes: f64,
    /// Fraction of samples within 3σ of a mode.
    pub high_quality: f64,
}

/// VEEGAN's Table 1 (Srivastava et al. 2017), as read from the paper, not re-run: their ring's
/// Gaussians have standard deviation 0.01 (ours 0.02), five runs of 2500 samples, and a mode
/// counts as covered with a single high-quality sample (ours: 20).
pub const PUBLISHED: [PublishedFigure; 6] = [
    published("eight-gaussians", "GAN", 1.0, 0.993),
    published("eight-gaussians", "unrolled GAN", 7.6, 0.356),
    published("eight-gaussians", "VEEGAN", 8.0, 0.529),
    published("grid-25", "GAN", 3.3, 0.005),
    published("grid-25", "unrolled GAN", 23.6, 0.16),
    published("grid-25", "VEEGAN", 24.6, 0.40),
];

const fn published(
    data: &'static str,
    method: &'static str,
    modes: f64,
    high_quality: f64,
) -> PublishedFigure {
    PublishedFigure {
        source: "VEEGAN (Srivastava et al. 2017), Table 1, quoted, not re-run",
        data,
        method,
        modes,
        high_quality,
    }
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
    /// `"gan-2d"`.
    pub example: &'static str,
    /// Reduced run.
    pub quick: bool,
    /// WGAN-GP's players at 256 wide.
    pub full: bool,
    /// Whether this invocation trained.
    pub trained: bool,
    /// Output folder.
    pub out_dir: String,
    /// Backend.
    pub backend: String,
    /// Precision.
    pub precision: String,
    /// Seeds per data set and objective.
    pub seeds: usize,
    /// Samples scored per run.
    pub samples: usize,
    /// Per data set and objective.
    pub results: Vec<ObjectiveResult>,
    /// Published figures with the same scores ([`PUBLISHED`]).
    pub published: Vec<PublishedFigure>,
    /// The Dirac-GAN (cross-entropy objective, learning rate 0.1).
    pub dirac: Vec<DiracResult>,
    /// Figure files.
    pub figures: Vec<String>,
    /// Highlights.
    pub key_numbers: Vec<KeyNumber>,
    /// Seconds for the whole run.
    pub wall_s: f64,
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
    let quick = options.quick;
    let seeds = options.seeds.unwrap_or(if quick { 1 } else { 3 }).max(1);
    let samples = if quick { 1000 } else { 2500 };
    let plan = players::Plan {
        iterations: options.iterations,
        quick,
        full: options.full,
        samples,
        quiet: options.quiet,
    };
    let runs = players::run_set(options, seeds)?;

    let mut trained = false;
    let mut results = Vec::new();
    let mut panels = Vec::new();
    let mut curves = Vec::new();
    let mut diagnoses = Vec::new();
    let objectives: Vec<Objective> = Objective::ALL
        .into_iter()
        .filter(|o| options.objectives.contains(o))
        .collect();
    let total = Mixture::ALL.len() * objectives.len() * seeds;
    let mut index = 0;
    for mixture in Mixture::ALL {
        for &objective in &objectives {
            let mut per_seed: Vec<RunResult> = Vec::new();
            for s in 0..seeds {
                index += 1;
                say!(
                    options,
                    "[gan-2d] {index}/{total} {} {} seed {s} on {}",
                    mixture.name(),
                    objective.name(),
                    device.spec()
                );
                let result = players::train_and_score(
                    &device,
                    &runs,
                    &plan,
                    mixture,
                    objective,
                    s as u64,
                    options.seed.wrapping_add(s as u64),
                )?;
                trained |= result.trained;
                say!(
                    options,
                    "  modes {}/{}, within 3σ {:.3}; {:.1} s",
                    result.coverage.covered,
                    result.modes_total,
                    result.coverage.high_quality_fraction,
                    result.train_s
                );
                per_seed.push(result);
            }
            let modes: Vec<usize> = per_seed.iter().map(|r| r.coverage.covered).collect();
            let hq: Vec<f64> = per_seed
                .iter()
                .map(|r| r.coverage.high_quality_fraction)
                .collect();
            let (modes_mean, modes_std) =
                mean_and_sample_std(&modes.iter().map(|&m| m as f64).collect::<Vec<_>>());
            let (high_quality_mean, high_quality_std) = mean_and_sample_std(&hq);
            results.push(ObjectiveResult {
                data: mixture.name(),
                objective: objective.name(),
                modes_total: per_seed[0].modes_total,
                modes,
                modes_mean,
                modes_std,
                high_quality: hq,
                high_quality_mean,
                high_quality_std,
                final_losses: per_seed.iter().map(|r| r.final_losses).collect(),
                final_diagnosis: per_seed
                    .iter()
                    .map(|r| {
                        r.diagnosis
                            .last()
                            .map_or([f64::NAN; 3], |d| [d[1], d[2], d[3]])
                    })
                    .collect(),
                train_s: per_seed.iter().map(|r| r.train_s).collect(),
                iterations: per_seed[0].iterations,
            });
            let first = per_seed.swap_remove(0);
            curves.push((mixture, objective, first.coverage_curve.clone()));
            diagnoses.push((mixture, objective, first.diagnosis.clone()));
            panels.push((mixture, objective, first));
        }
    }

    say!(options, "[gan-2d] the Dirac-GAN under each update scheme");
    let dirac_runs = dirac::play_all(if quick { 200 } else { 600 })?;

    say!(
        options,
        "[gan-2d] figures and summary into {}",
        dir.display()
    );
    let saved = [
        figures::samples(dir, &panels)?,
        figures::coverage(dir, &curves)?,
        figures::diagnosis(dir, &diagnoses)?,
        figures::dirac(dir, &dirac_runs)?,
    ];
    let dirac: Vec<DiracResult> = dirac_runs.iter().map(dirac::DiracRun::result).collect();
    let mut key_numbers: Vec<KeyNumber> = results
        .iter()
        .flat_map(|r| {
            [
                KeyNumber {
                    name: format!("{} {}: modes covered (mean of seeds)", r.data, r.objective),
                    value: r.modes_mean,
                },
                KeyNumber {
                    name: format!("{} {}: fraction within 3σ (mean)", r.data, r.objective),
                    value: r.high_quality_mean,
                },
            ]
        })
        .collect();
    for d in &dirac {
        key_numbers.push(KeyNumber {
            name: format!("Dirac-GAN {}: measured rate per step", d.scheme),
            value: d.measured_rate,
        });
    }
    let summary = Summary {
        example: "gan-2d",
        quick,
        full: options.full,
        trained,
        out_dir: dir.display().to_string(),
        backend: device.spec().backend.to_string(),
        precision: device.spec().precision.to_string(),
        seeds,
        samples,
        results,
        published: PUBLISHED.to_vec(),
        dirac,
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
