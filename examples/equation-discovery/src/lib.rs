//! # Equation discovery
//!
//! Identifies governing equations from data and checks them against the true ones:
//!
//! - SINDy (Brunton et al. 2016) on Lorenz-63 (`σ = 10`, `ρ = 28`, `β = 8/3`, `dt = 0.002`,
//!   10 time units) and Lotka–Volterra (`x' = x − 0.5 x y`, `y' = 0.2 x y − 0.8 y`), clean
//!   (finite differences) and with 1 % noise (smoothed finite differences), three noise seeds;
//! - PDE-FIND (Rudy et al. 2017) on viscous Burgers (two merging shocks, exact by Cole–Hopf,
//!   `ν = 0.1`) and KdV (exact two-soliton), clean and with 1 % noise (polynomial-fit
//!   derivatives), three noise seeds; Rudy's reported errors are quoted next to ours;
//! - PDE-Net 2.0 (Long et al. 2019) on 2-D convection–diffusion
//!   `u_t = 0.8 u_x − 0.6 u_y + 0.15 Δu` and the nonlinear `u_t = −u u_x + 0.1 Δu`, trained on
//!   sysdyn-train with a growing horizon, rolled out 5× the training horizon from held-out
//!   initial conditions.
//!
//! Every identified model is rolled out past its data (SINDy by Dopri5, the PDEs by the same
//! solver with the true and the identified coefficients) and drawn against the truth.

pub mod pdefind;
pub mod pdenet;
pub mod sindy;

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

/// Why the example failed.
#[derive(Debug, Error)]
pub enum ExampleError {
    /// A device or precision that this build or the policy does not allow.
    #[error(transparent)]
    Device(#[from] CoreError),
    /// Simulation or discovery failed.
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
    /// Training failed.
    #[error(transparent)]
    Train(#[from] sysdyn_train::TrainError),
    /// Host data of the wrong shape.
    #[error(transparent)]
    Linalg(#[from] sysdyn_core::linalg::LinalgError),
}

/// SINDy, PDE-FIND and PDE-Net 2.0 on systems with known equations.
#[derive(Debug, Clone, Parser)]
#[command(name = "equation-discovery", version)]
pub struct Cli {
    /// PDE-Net training steps per problem [default: 500; 40 with --quick]
    #[arg(long, value_name = "N")]
    pub pdenet_steps: Option<u64>,

    // Last: its help heading ("Common options") applies to every flag after it.
    /// The options every sysdyn program shares.
    #[command(flatten)]
    pub run: RunArgs,
}

/// The shared options' defaults here: seed 0 (noise seeds 1, 2, 3), no checkpoints.
pub const PROGRAM: Program = Program {
    default_out: Options::DEFAULT_OUT,
    default_seed: Some(0),
    checkpoints: false,
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
            device: run.device.with_autodiff(true),
            pdenet_steps: self.pdenet_steps,
            seed: run.seed,
            quiet: run.quiet,
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
    /// Device of PDE-Net's training.
    pub device: DeviceSpec,
    /// PDE-Net training steps per problem.
    pub pdenet_steps: Option<u64>,
    /// Base seed: noise seeds are `seed + 1 … seed + 3`, PDE-Net's initial weights `seed`.
    pub seed: u64,
    /// No progress lines.
    pub quiet: bool,
}

impl Options {
    /// Default output folder.
    pub const DEFAULT_OUT: &'static str = "out/equation-discovery";

    /// Options from command-line arguments (without the program name) and the `SYSDYN_*`
    /// environment variables.
    pub fn from_args(args: &[String]) -> Result<Self, clap::Error> {
        parse_from::<Cli>(args)?.options()
    }

    /// The noise seeds.
    pub fn noise_seeds(&self) -> Vec<u64> {
        (1..=3).map(|k| self.seed.wrapping_add(k)).collect()
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
pub(crate) use say;

/// One term of an identified equation next to the truth.
#[derive(Debug, Clone, Serialize)]
pub struct TermError {
    /// The equation (`x'`, `u_t`).
    pub equation: String,
    /// The term (`x z`, `u u_x`).
    pub term: String,
    /// The true coefficient.
    pub truth: f64,
    /// The identified coefficient (0 when the term was dropped).
    pub identified: f64,
    /// `|identified − truth| / |truth|`.
    pub relative_error: f64,
}

/// One identification (clean, or one noise seed).
#[derive(Debug, Clone, Serialize)]
pub struct Identification {
    /// `None` for clean data, else the noise seed.
    pub noise_seed: Option<u64>,
    /// The identified equations as printed.
    pub equations: Vec<String>,
    /// Whether exactly the true terms are active.
    pub pattern_correct: bool,
    /// Active terms that are not in the true equations, with their coefficients.
    pub spurious: Vec<(String, String, f64)>,
    /// The true terms' errors.
    pub terms: Vec<TermError>,
    /// Mean of the true terms' relative errors (Rudy et al.'s "mean parameter error").
    pub mean_relative_error: f64,
    /// Largest relative error of a true term.
    pub max_relative_error: f64,
}

impl Identification {
    /// Scores `identified` (`(equation, term, coefficient)` of every active term) against
    /// `truth` (the same for the true terms).
    pub fn score(
        noise_seed: Option<u64>,
        equations: Vec<String>,
        identified: &[(String, String, f64)],
        truth: &[(&str, &str, f64)],
    ) -> Self {
        let terms: Vec<TermError> = truth
            .iter()
            .map(|&(eq, term, want)| {
                let got = identified
                    .iter()
                    .find(|(e, t, _)| e == eq && t == term)
                    .map_or(0.0, |x| x.2);
                TermError {
                    equation: eq.into(),
                    term: term.into(),
                    truth: want,
                    identified: got,
                    relative_error: ((got - want) / want).abs(),
                }
            })
            .collect();
        let spurious: Vec<(String, String, f64)> = identified
            .iter()
            .filter(|(e, t, _)| !truth.iter().any(|(te, tt, _)| te == e && tt == t))
            .cloned()
            .collect();
        let missing = terms.iter().any(|t| t.identified == 0.0);
        let errors: Vec<f64> = terms.iter().map(|t| t.relative_error).collect();
        Identification {
            noise_seed,
            equations,
            pattern_correct: spurious.is_empty() && !missing,
            spurious,
            mean_relative_error: errors.iter().sum::<f64>() / errors.len().max(1) as f64,
            max_relative_error: errors.iter().copied().fold(0.0, f64::max),
            terms,
        }
    }
}

/// One system under one method: clean and noisy identifications and the rollout.
#[derive(Debug, Clone, Serialize)]
pub struct CaseResult {
    /// The system.
    pub system: &'static str,
    /// The method.
    pub method: &'static str,
    /// The true equations, printed.
    pub true_equations: Vec<String>,
    /// The identification from clean data.
    pub clean: Identification,
    /// One identification per noise seed (1 % noise), empty if not run.
    pub noisy: Vec<Identification>,
    /// Mean and sample std over the noise seeds of the mean relative error.
    pub noisy_mean_error: Option<[f64; 2]>,
    /// Mean and sample std over the noise seeds of the largest relative error.
    pub noisy_max_error: Option<[f64; 2]>,
    /// How many noise seeds gave the correct pattern.
    pub noisy_pattern_correct: usize,
    /// The published error of the same experiment, quoted, if any.
    pub published: Option<&'static str>,
    /// The rollout of the identified model (clean data) against the truth.
    pub rollout: Rollout,
    /// Seconds for this case.
    pub seconds: f64,
}

impl CaseResult {
    /// Fills the statistics over the noise seeds.
    pub fn with_noise_statistics(mut self) -> Self {
        if !self.noisy.is_empty() {
            let means: Vec<f64> = self.noisy.iter().map(|i| i.mean_relative_error).collect();
            let maxes: Vec<f64> = self.noisy.iter().map(|i| i.max_relative_error).collect();
            let (m, s) = mean_and_sample_std(&means);
            self.noisy_mean_error = Some([m, s]);
            let (m, s) = mean_and_sample_std(&maxes);
            self.noisy_max_error = Some([m, s]);
            self.noisy_pattern_correct = self.noisy.iter().filter(|i| i.pattern_correct).count();
        }
        self
    }
}

/// A rollout of an identified model against the truth.
#[derive(Debug, Clone, Serialize)]
pub struct Rollout {
    /// What was rolled out, over which horizon.
    pub description: String,
    /// The horizon of the training data.
    pub data_horizon: f64,
    /// The rollout's horizon.
    pub horizon: f64,
    /// Relative L2 error at the end of the data's horizon.
    pub error_at_data_horizon: f64,
    /// Relative L2 error at the end of the rollout.
    pub error_at_horizon: f64,
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
    /// `"equation-discovery"`.
    pub example: &'static str,
    /// Reduced run.
    pub quick: bool,
    /// Output folder.
    pub out_dir: String,
    /// PDE-Net's device.
    pub device: String,
    /// The noise seeds.
    pub noise_seeds: Vec<u64>,
    /// SINDy and PDE-FIND cases.
    pub cases: Vec<CaseResult>,
    /// PDE-Net problems.
    pub pdenet: Vec<pdenet::PdeNetResult>,
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
    let mut figures = Vec::new();
    let mut cases = Vec::new();
    for case in [
        sindy::lorenz(options, dir)?,
        sindy::lotka_volterra(options, dir)?,
    ] {
        figures.extend(case.1);
        cases.push(case.0);
    }
    for case in [pdefind::burgers(options, dir)?, pdefind::kdv(options, dir)?] {
        figures.extend(case.1);
        cases.push(case.0);
    }
    let (pdenet, pdenet_figures) = pdenet::run_all(options, dir)?;
    figures.extend(pdenet_figures);

    let mut key_numbers = Vec::new();
    for c in &cases {
        key_numbers.push(KeyNumber {
            name: format!("{} clean: mean coefficient error %", c.system),
            value: 100.0 * c.clean.mean_relative_error,
        });
        if let Some([m, _]) = c.noisy_mean_error {
            key_numbers.push(KeyNumber {
                name: format!("{} 1% noise: mean coefficient error %", c.system),
                value: 100.0 * m,
            });
        }
    }
    for p in &pdenet {
        key_numbers.push(KeyNumber {
            name: format!("PDE-Net {}: max coefficient error %", p.problem),
            value: 100.0 * p.max_relative_error,
        });
    }
    let summary = Summary {
        example: "equation-discovery",
        quick: options.quick,
        out_dir: dir.display().to_string(),
        device: options.device.to_string(),
        noise_seeds: options.noise_seeds(),
        cases,
        pdenet,
        figures,
        key_numbers,
        wall_s: start.elapsed().as_secs_f64(),
    };
    write_atomic(
        &dir.join("summary.json"),
        serde_json::to_string_pretty(&summary)?.as_bytes(),
    )?;
    Ok(summary)
}

/// `sqrt(Σ (a − b)² / Σ b²)`.
pub fn relative_l2(a: &[f64], b: &[f64]) -> f64 {
    let num: f64 = a.iter().zip(b).map(|(p, q)| (p - q).powi(2)).sum();
    let den: f64 = b.iter().map(|q| q * q).sum();
    (num / den.max(f64::MIN_POSITIVE)).sqrt()
}
