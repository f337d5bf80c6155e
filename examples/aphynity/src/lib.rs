//! # APHYNITY
//!
//! Yin et al. (ICLR 2021), *Augmenting physical models with deep networks for complex dynamics
//! forecasting*: a physical model with learnable parameters `F_p` plus a network `F_a`, trained
//! through an RK4 rollout on `‖F_a‖² + λ L_traj` with `λ ← λ + τ₂ L_traj` after each batch, so the
//! network explains only what the physics cannot (`sysdyn_physics::hybrid`).
//!
//! Four systems (sub-commands; without one, the two pendulum systems, or all four with `--quick`
//! or `--full`):
//!
//! - `pendulum`: the damped pendulum, `F_p` = the pendulum with learnable `(ω0, α)` (Table 1's
//!   "Param ODE (ω0, α)"), `F_a` an MLP 2-200-200-2 (ReLU, weights scaled by 0.2);
//! - `pendulum-frictionless`: the same with the incomplete `F_p`, the frictionless pendulum
//!   with learnable `ω0` ("Param ODE (ω0)");
//! - `rd`: FitzHugh–Nagumo reaction–diffusion on 32 × 32, `F_p` = diffusion with learnable
//!   `(a, b)` (the reaction is missing), `F_a` a 3-layer convolutional network (periodic padding);
//! - `wave`: the damped wave on 64 × 64, `F_p` = the undamped wave with learnable `c`, `F_a` the
//!   same convolutional network (zero padding).
//!
//! Each is trained as APHYNITY, Param only (`F_p`), Neural ODE (`F_a`), the naive sum `F_p + F_a`
//! (no norm penalty), with the true model as the reference; three seeds (each its own data split
//! and network initialisation); test log₁₀ MSE mean ± std and the relative parameter error, next
//! to the published Table 1. The training runs use sysdyn-train (`<out>/run/<system>-<variant>-s<k>`).

pub mod figures;
pub mod systems;

use std::path::PathBuf;
use std::time::Instant;

use clap::Parser;
use serde::Serialize;
use sysdyn_core::CoreError;
use sysdyn_core::cli::{CliError, Program, RunArgs, parse_from};
use sysdyn_core::device::DeviceSpec;
use sysdyn_core::fs::{WriteError, write_atomic};
use sysdyn_core::jet::JetError;
use sysdyn_data::metrics::mean_and_sample_std;
use sysdyn_physics::PhysicsError;
use sysdyn_physics::hybrid::TrajectoryData;
use sysdyn_plot::PlotError;
use thiserror::Error;

use crate::systems::{RunContext, RunResult, System, Variant};

/// Why the example failed.
#[derive(Debug, Error)]
pub enum ExampleError {
    /// A device or precision that this build or the policy does not allow.
    #[error(transparent)]
    Device(#[from] CoreError),
    /// A network could not be built.
    #[error(transparent)]
    Jet(#[from] JetError),
    /// A model, data set or step failed.
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
    /// Training or a run directory failed.
    #[error(transparent)]
    Train(#[from] sysdyn_train::TrainError),
    /// A run directory could not be cleared.
    #[error("cannot clear {0}: {1}")]
    Io(String, std::io::Error),
}

/// APHYNITY on the damped pendulum, FitzHugh–Nagumo reaction–diffusion and the damped wave,
/// against Param ODE/PDE, Neural ODE, the naive sum and the true model.
#[derive(Debug, Clone, Parser)]
#[command(name = "aphynity", version)]
pub struct Cli {
    /// The systems to run (pendulum, pendulum-frictionless, rd, wave) [default: the two
    /// pendulum systems, to fit the tour; all four with --quick or --full]
    #[arg(value_enum)]
    pub systems: Vec<System>,

    /// The paper's budget (its data sizes, batch sizes, learning rates and 50000 steps): hours
    #[arg(long, conflicts_with = "quick")]
    pub full: bool,

    /// Training steps (batches) per run [default: per system; see the README]
    #[arg(long, value_name = "N")]
    pub steps: Option<u64>,

    /// Seeds per system and variant [default: 3; 1 with --quick]
    #[arg(long, value_name = "N")]
    pub seeds: Option<usize>,

    /// RK4 steps per data interval [default: per system; see the README]
    #[arg(long, value_name = "N")]
    pub substeps: Option<usize>,

    /// Adam's learning rate τ₁ [default: per system; see the README]
    #[arg(long, value_name = "LR")]
    pub lr: Option<f64>,

    // Last: its help heading ("Common options") applies to every flag after it.
    /// The options every sysdyn program shares.
    #[command(flatten)]
    pub run: RunArgs,
}

/// The shared options' defaults here: seed 0, no checkpoint reloading.
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
            full: self.full,
            device: run.device.with_autodiff(true),
            systems: if self.systems.is_empty() && (run.quick || self.full) {
                System::ALL.to_vec()
            } else if self.systems.is_empty() {
                System::DEFAULT.to_vec()
            } else {
                self.systems.clone()
            },
            steps: self.steps,
            seeds: self.seeds,
            substeps: self.substeps,
            lr: self.lr,
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
    /// The paper's budget.
    pub full: bool,
    /// Device.
    pub device: DeviceSpec,
    /// The systems.
    pub systems: Vec<System>,
    /// Steps per run (overrides the budget).
    pub steps: Option<u64>,
    /// Seeds per system and variant.
    pub seeds: Option<usize>,
    /// RK4 steps per data interval (overrides the budget).
    pub substeps: Option<usize>,
    /// Learning rate (overrides the budget).
    pub lr: Option<f64>,
    /// Base of every seed.
    pub seed: u64,
    /// No progress lines.
    pub quiet: bool,
}

impl Options {
    /// Default output folder.
    pub const DEFAULT_OUT: &'static str = "out/aphynity";

    /// Options from command-line arguments (without the program name).
    pub fn from_args(args: &[String]) -> Result<Self, clap::Error> {
        parse_from::<Cli>(args)?.options()
    }
}

macro_rules! say {
    ($options:expr, $($arg:tt)*) => {
        if !$options.quiet {
            eprintln!($($arg)*);
        }
    };
}

/// One variant of one system over the seeds.
#[derive(Debug, Clone, Serialize)]
pub struct VariantSummary {
    /// The variant's row name.
    pub variant: &'static str,
    /// Test log₁₀ MSE per seed.
    pub log_mse: Vec<f64>,
    /// Mean of `log_mse`.
    pub log_mse_mean: f64,
    /// Sample std of `log_mse`.
    pub log_mse_std: f64,
    /// Parameter error (%) per seed (empty without `F_p`).
    pub parameter_error_pct: Vec<f64>,
    /// Mean of `parameter_error_pct`.
    pub parameter_error_mean: Option<f64>,
    /// Sample std of `parameter_error_pct`.
    pub parameter_error_std: Option<f64>,
    /// The runs.
    pub runs: Vec<RunResult>,
}

/// A row of the published Table 1 (Yin et al. 2021), quoted, not re-run.
#[derive(Debug, Clone, Serialize)]
pub struct Published {
    /// The system.
    pub system: &'static str,
    /// The row.
    pub method: &'static str,
    /// Published log MSE (mean; std where the issue quotes it).
    pub log_mse: f64,
    /// Its std, where quoted.
    pub log_mse_std: Option<f64>,
    /// Published parameter error in percent, where quoted.
    pub parameter_error_pct: Option<f64>,
}

/// Table 1 of Yin et al. 2021 as quoted in issue 22.
pub const PUBLISHED: [Published; 8] = [
    published(
        "pendulum",
        "APHYNITY Param ODE (ω0, α)",
        -8.31,
        Some(0.30),
        Some(0.39),
    ),
    published("pendulum", "Neural ODE", -2.84, None, None),
    published(
        "rd",
        "APHYNITY Param PDE (a, b)",
        -5.10,
        Some(0.21),
        Some(2.3),
    ),
    published("rd", "Param PDE (a, b)", -1.26, None, Some(67.6)),
    published("rd", "Neural ODE", -3.76, None, None),
    published("wave", "APHYNITY Param PDE (c)", -4.64, None, Some(0.3)),
    published("wave", "Neural ODE", -2.51, None, None),
    published(
        "all",
        "(log MSE in the paper; we report log₁₀)",
        f64::NAN,
        None,
        None,
    ),
];

const fn published(
    system: &'static str,
    method: &'static str,
    log_mse: f64,
    log_mse_std: Option<f64>,
    parameter_error_pct: Option<f64>,
) -> Published {
    Published {
        system,
        method,
        log_mse,
        log_mse_std,
        parameter_error_pct,
    }
}

/// One system's results.
#[derive(Debug, Clone, Serialize)]
pub struct SystemSummary {
    /// The system.
    pub system: System,
    /// Its physical model `F_p`.
    pub physical_model: &'static str,
    /// The budget it ran with.
    pub budget: systems::Budget,
    /// The true parameters of `F_p`.
    pub true_parameters: Vec<f64>,
    /// Per variant.
    pub variants: Vec<VariantSummary>,
    /// Seconds for the system.
    pub wall_s: f64,
}

/// One highlighted number.
#[derive(Debug, Clone, Serialize)]
pub struct KeyNumber {
    /// What it is.
    pub name: String,
    /// Its value.
    pub value: f64,
}

fn key_numbers(systems: &[SystemSummary]) -> Vec<KeyNumber> {
    let mut out = Vec::new();
    for sys in systems {
        for v in &sys.variants {
            out.push(KeyNumber {
                name: format!("{} {}: test log10 MSE (mean)", sys.system.name(), v.variant),
                value: v.log_mse_mean,
            });
            if let (Some(m), "APHYNITY" | "Param only") = (v.parameter_error_mean, v.variant) {
                out.push(KeyNumber {
                    name: format!(
                        "{} {}: parameter error % (mean)",
                        sys.system.name(),
                        v.variant
                    ),
                    value: m,
                });
            }
        }
    }
    out
}

/// Everything the example measured.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// `"aphynity"`.
    pub example: &'static str,
    /// Reduced run.
    pub quick: bool,
    /// The paper's budget.
    pub full: bool,
    /// Output folder.
    pub out_dir: String,
    /// Backend.
    pub backend: String,
    /// Precision.
    pub precision: String,
    /// Seeds.
    pub seeds: usize,
    /// Per system.
    pub systems: Vec<SystemSummary>,
    /// Table 1 as published.
    pub published: Vec<Published>,
    /// Figure files.
    pub figures: Vec<String>,
    /// Highlights (for the tour's report).
    pub key_numbers: Vec<KeyNumber>,
    /// Seconds for the whole run.
    pub wall_s: f64,
}

/// Runs the example and writes its files; returns the summary it wrote.
pub fn run(options: &Options) -> Result<Summary, ExampleError> {
    let start = Instant::now();
    let dir = options.out_dir.as_path();
    let mut spec = options.device;
    spec.autodiff = true;
    let mut device = spec.init()?;
    device.configure_defaults()?;
    let seeds = options
        .seeds
        .unwrap_or(if options.quick { 1 } else { 3 })
        .max(1);
    let run_root = dir.join("run");
    let mut systems_out = Vec::new();
    let mut figures = Vec::new();
    for &system in &options.systems {
        let system_start = Instant::now();
        let mut budget = systems::budget(system, options.quick, options.full, options.steps);
        if let Some(substeps) = options.substeps {
            budget.substeps = substeps.max(1);
        }
        if let Some(lr) = options.lr {
            budget.lr = lr;
        }
        say!(options, "[aphynity] {}: {budget:?}", system.name());
        let mut per_variant: Vec<Vec<RunResult>> = vec![Vec::new(); Variant::ALL.len()];
        let mut first_seed_plot = None;
        for k in 0..seeds {
            let seed = options.seed + k as u64;
            let (train, test) = systems::data(system, &budget, seed)?;
            let len: usize = train.state_shape.iter().product();
            let train = TrajectoryData::new(&train, len, device.device())?;
            let test = TrajectoryData::new(&test, len, device.device())?;
            let ctx = RunContext {
                system,
                budget,
                device: &device,
                train: &train,
                test: &test,
                run_root: &run_root,
                quiet: options.quiet,
            };
            for (i, &variant) in Variant::ALL.iter().enumerate() {
                let r = systems::run_variant(&ctx, variant, seed)?;
                say!(
                    options,
                    "[aphynity] {} {} s{seed}: log10 MSE {:.2}, parameters {:?}, {:.1} s{}",
                    system.name(),
                    variant.name(),
                    r.log_mse,
                    r.parameters,
                    r.train_s,
                    r.diverged.map_or(String::new(), |d| format!(
                        " (diverged at step {}; scored with the checkpoint of step {})",
                        d.at_step, d.restored_step
                    ))
                );
                per_variant[i].push(r);
            }
            if k == 0 {
                first_seed_plot = Some((
                    test.times().to_vec(),
                    systems::true_observable(system, &test),
                ));
            }
        }
        let variants: Vec<VariantSummary> = Variant::ALL
            .iter()
            .zip(per_variant)
            .map(|(v, runs)| summarise(*v, runs))
            .collect();
        if let Some((times, truth)) = first_seed_plot {
            let saved = figures::trajectories(dir, system, &times, &truth, &variants)?;
            figures.extend(saved.names_relative_to(dir));
            let saved = figures::fa_norm(dir, system, &variants)?;
            figures.extend(saved.names_relative_to(dir));
        }
        systems_out.push(SystemSummary {
            system,
            physical_model: system.physical_model(),
            budget,
            true_parameters: systems::truth(system).parameters,
            variants,
            wall_s: system_start.elapsed().as_secs_f64(),
        });
    }
    let summary = Summary {
        example: "aphynity",
        quick: options.quick,
        full: options.full,
        out_dir: dir.display().to_string(),
        backend: spec.backend.name().to_string(),
        precision: format!("{:?}", spec.precision).to_lowercase(),
        seeds,
        key_numbers: key_numbers(&systems_out),
        systems: systems_out,
        published: PUBLISHED.to_vec(),
        figures,
        wall_s: start.elapsed().as_secs_f64(),
    };
    write_atomic(
        &dir.join("summary.json"),
        serde_json::to_string_pretty(&summary)?.as_bytes(),
    )?;
    write_atomic(&dir.join("table.md"), table(&summary).as_bytes())?;
    Ok(summary)
}

fn summarise(variant: Variant, runs: Vec<RunResult>) -> VariantSummary {
    let log_mse: Vec<f64> = runs.iter().map(|r| r.log_mse).collect();
    let (log_mse_mean, log_mse_std) = mean_and_sample_std(&log_mse);
    let errors: Vec<f64> = runs.iter().filter_map(|r| r.parameter_error_pct).collect();
    let (pm, ps) = if errors.is_empty() {
        (None, None)
    } else {
        let (m, s) = mean_and_sample_std(&errors);
        (Some(m), Some(s))
    };
    VariantSummary {
        variant: variant.name(),
        log_mse,
        log_mse_mean,
        log_mse_std,
        parameter_error_pct: errors,
        parameter_error_mean: pm,
        parameter_error_std: ps,
        runs,
    }
}

/// The results as a Markdown table, with the published rows after ours.
pub fn table(summary: &Summary) -> String {
    let mut s = String::from(
        "| system | method | log10 MSE (ours) | parameter error % (ours) | learned parameters (seed 0) |\n|---|---|---|---|---|\n",
    );
    for sys in &summary.systems {
        for v in &sys.variants {
            let err = match (v.parameter_error_mean, v.parameter_error_std) {
                (Some(m), Some(sd)) => format!("{m:.2} ± {sd:.2}"),
                _ => "—".into(),
            };
            let params = v
                .runs
                .first()
                .map(|r| {
                    r.parameters
                        .iter()
                        .map(|p| format!("{p:.4e}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                })
                .unwrap_or_default();
            let diverged: Vec<String> = v
                .runs
                .iter()
                .filter_map(|r| {
                    r.diverged.map(|d| {
                        format!(
                            "seed {} diverged at step {}, scored at step {}",
                            r.seed, d.at_step, d.restored_step
                        )
                    })
                })
                .collect();
            let diverged = if diverged.is_empty() {
                String::new()
            } else {
                format!(" ({})", diverged.join("; "))
            };
            s.push_str(&format!(
                "| {} | {} {} | {:.2} ± {:.2}{diverged} | {err} | {params} |\n",
                sys.system.name(),
                v.variant,
                if v.variant == "Neural ODE" || v.variant == "true model" {
                    ""
                } else {
                    sys.physical_model
                },
                v.log_mse_mean,
                v.log_mse_std,
            ));
        }
    }
    s.push_str("\n| system | published (Yin et al. 2021, Table 1) | log MSE | parameter error % |\n|---|---|---|---|\n");
    for p in PUBLISHED.iter().filter(|p| p.log_mse.is_finite()) {
        s.push_str(&format!(
            "| {} | {} | {}{} | {} |\n",
            p.system,
            p.method,
            p.log_mse,
            p.log_mse_std.map(|v| format!(" ± {v}")).unwrap_or_default(),
            p.parameter_error_pct
                .map(|v| v.to_string())
                .unwrap_or("—".into()),
        ));
    }
    s
}
