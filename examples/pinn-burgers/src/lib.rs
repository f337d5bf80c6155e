//! # Physics-informed networks: Burgers forward and inverse, heat, Poisson, Lagaris
//!
//! PINNs whose input derivatives (`u_t`, `u_x`, `u_xx`) come from sysdyn-core's forward-mode
//! jets, trained with Adam on the `sysdyn-train` runtime and finished with L-BFGS
//! (sysdyn-optim, strong-Wolfe line search), as Raissi, Perdikaris & Karniadakis (2019) do:
//!
//! - `forward`: `u_t + u u_x = (0.01/π) u_xx` on `[−1, 1] × [0, 1]`, `u(x, 0) = −sin πx`,
//!   `u(±1, t) = 0`, with Raissi's `N_u = 100` initial/boundary points, `N_f = 10 000`
//!   Latin-hypercube collocation points and a 2 → 8 × 20 tanh → 1 network; scored by the
//!   relative L2 error against the exact Cole–Hopf solution (sysdyn-physics'
//!   `BurgersReference`, checked there against a 2048-mode pseudo-spectral solve to 1e-9) on
//!   Raissi's 256 × 100 grid.
//! - `inverse`: `λ₁` and `λ₂` of `u_t + λ₁ u u_x − λ₂ u_xx = 0` from 2000 observations of the
//!   reference, clean and with 1 % noise.
//! - `heat`: `u_t = u_xx` with exact `e^{−π²t} sin πx`; `poisson`: `−Δu = f` on the unit
//!   square with exact `sin πx sin 2πy`; both with hard-constrained outputs.
//! - `lagaris`: Lagaris et al.'s (1998) problem 1 with the trial solution `ψ = 1 + t N(t)`.
//!
//! With no problem named, all five run. The default run fits the tour: for the forward problem
//! 2000 Latin-hypercube points plus 500 placed by residual-based refinement halfway through
//! 5000 L-BFGS iterations, three seeds; the inverse runs 8000; f64 where the backend has it
//! (on flex and ndarray the network's jets run on sysdyn-mlp's host engine, `PinnStep`'s CPU
//! fast path); `--full` gives the forward and inverse runs Raissi's setting and budget (10 000
//! points, no refinement, up to 50 000 L-BFGS iterations).

pub mod figures;
pub mod problems;

use std::path::PathBuf;
use std::time::Instant;

use clap::{Parser, ValueEnum};
use serde::Serialize;
use sysdyn_core::CoreError;
use sysdyn_core::cli::{CliError, Program, RunArgs, parse_from};
use sysdyn_core::device::{DeviceSpec, Precision};
use sysdyn_core::fs::{WriteError, write_atomic};
use sysdyn_physics::PhysicsError;
use sysdyn_plot::PlotError;
use thiserror::Error;

use crate::problems::{AnalyticResult, Budget, BurgersGrid, BurgersResult, TimeInput};

/// Why the example failed.
#[derive(Debug, Error)]
pub enum ExampleError {
    /// A device or precision that this build or the policy does not allow.
    #[error(transparent)]
    Device(#[from] CoreError),
    /// A PINN problem, network or training step failed.
    #[error(transparent)]
    Physics(#[from] PhysicsError),
    /// L-BFGS settings were refused.
    #[error(transparent)]
    Optim(#[from] sysdyn_optim::OptimError),
    /// Training or a run directory failed.
    #[error(transparent)]
    Train(#[from] sysdyn_train::TrainError),
    /// A figure could not be drawn or written.
    #[error(transparent)]
    Plot(#[from] PlotError),
    /// The summary could not be written.
    #[error(transparent)]
    Write(#[from] WriteError),
    /// The summary could not be serialised.
    #[error("cannot serialise the summary: {0}")]
    Json(#[from] serde_json::Error),
    /// A tensor could not be read back to the host.
    #[error("reading a tensor back to the host: {0}")]
    HostRead(String),
}

/// One of the example's problems.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, ValueEnum, Serialize)]
pub enum Problem {
    /// Raissi et al.'s forward Burgers problem.
    Forward,
    /// Raissi et al.'s inverse Burgers problem (clean and 1 % noise).
    Inverse,
    /// The heat equation.
    Heat,
    /// Poisson on the unit square.
    Poisson,
    /// Lagaris et al.'s problem 1.
    Lagaris,
}

impl Problem {
    /// Every problem, in the order they run.
    pub const ALL: [Problem; 5] = [
        Problem::Forward,
        Problem::Inverse,
        Problem::Heat,
        Problem::Poisson,
        Problem::Lagaris,
    ];
}

/// Physics-informed networks through jets: Raissi et al.'s forward and inverse Burgers problems
/// against an exact reference, the heat equation, 2D Poisson and a Lagaris ODE.
#[derive(Debug, Clone, Parser)]
#[command(name = "pinn-burgers", version)]
pub struct Cli {
    /// The problems to run (forward, inverse, heat, poisson, lagaris) [default: all]
    #[arg(value_enum, value_name = "PROBLEM")]
    pub problems: Vec<Problem>,

    /// Raissi et al.'s budget for the Burgers runs (up to 50 000 L-BFGS iterations; hours)
    #[arg(long, conflicts_with = "quick")]
    pub full: bool,

    /// Adam steps of the Burgers runs [default: 1000; 10 000 with --full; 30 with --quick]
    #[arg(long, value_name = "N")]
    pub adam: Option<usize>,

    /// L-BFGS iterations of the Burgers runs [default: 5000 forward, 8000 inverse, to fit the
    /// tour; 50 000 with --full; 30 with --quick]
    #[arg(long, value_name = "N")]
    pub lbfgs: Option<usize>,

    /// Collocation points of the forward Burgers run [default: 2000; Raissi's 10 000 with
    /// --full; 500 with --quick]
    #[arg(long, value_name = "N")]
    pub collocation: Option<usize>,

    /// Feed the forward run's network `τ = 2t − 1 ∈ [−1, 1]` instead of `t ∈ [0, 1]`, like
    /// `x` (Raissi et al.'s code scales every input to `[−1, 1]`)
    #[arg(long)]
    pub scaled_time: bool,

    /// Seeds of the Burgers runs [default: 3 forward, 1 inverse; 1 with --quick]; heat, Poisson
    /// and Lagaris run 3 (1 with --quick)
    #[arg(long, value_name = "N")]
    pub seeds: Option<usize>,

    // Last: its help heading ("Common options") applies to every flag after it.
    /// The options every sysdyn program shares; the precision defaults to f32 here (f64 with
    /// --full, where L-BFGS runs long enough for f32's round-off to stop it).
    #[command(flatten)]
    pub run: RunArgs,
}

/// What the shared options default to here.
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
        let mut device = run.device.with_autodiff(true);
        if self.run.precision.is_none() {
            // f32 L-BFGS stops on failed line searches long before the Burgers front is
            // resolved (relative L2 2e-3 to 8e-2 over seeds at 8000 iterations, against 5e-3
            // in f64), so every run but the quick one is f64 where the backend has it.
            device.precision = if !run.quick && device.backend.supports_f64() {
                Precision::F64
            } else {
                Precision::F32
            };
        }
        Ok(Options {
            out_dir: run.out_dir,
            quick: run.quick,
            full: self.full,
            device,
            problems: if self.problems.is_empty() {
                Problem::ALL.to_vec()
            } else {
                let mut p = self.problems.clone();
                p.sort();
                p.dedup();
                p
            },
            adam: self.adam,
            lbfgs: self.lbfgs,
            collocation: self.collocation,
            time: if self.scaled_time {
                TimeInput::Scaled
            } else {
                TimeInput::Raw
            },
            seeds: self.seeds,
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
    /// Raissi's budget.
    pub full: bool,
    /// Device.
    pub device: DeviceSpec,
    /// The problems, in [`Problem::ALL`]'s order.
    pub problems: Vec<Problem>,
    /// Adam steps of the Burgers runs.
    pub adam: Option<usize>,
    /// L-BFGS iterations of the Burgers runs.
    pub lbfgs: Option<usize>,
    /// Collocation points of the forward Burgers run.
    pub collocation: Option<usize>,
    /// How time enters the forward run's network.
    pub time: TimeInput,
    /// Seeds of the Burgers runs.
    pub seeds: Option<usize>,
    /// Base of every seed.
    pub seed: u64,
    /// No progress lines.
    pub quiet: bool,
}

impl Options {
    /// Default output folder.
    pub const DEFAULT_OUT: &'static str = "out/pinn-burgers";

    /// Options from command-line arguments (without the program name) and the `SYSDYN_*`
    /// environment variables.
    pub fn from_args(args: &[String]) -> Result<Self, clap::Error> {
        parse_from::<Cli>(args)?.options()
    }

    /// The budget of the forward (`inverse = false`) or inverse Burgers runs.
    pub fn burgers_budget(&self, inverse: bool) -> Budget {
        let (adam, lbfgs) = if self.quick {
            (30, 30)
        } else if self.full {
            (10_000, 50_000)
        } else if inverse {
            (1000, 8000)
        } else {
            // 15 000 forward iterations took 6-8 minutes per seed on two cores, a third of the
            // tour's hour for three seeds.
            (1000, 5000)
        };
        Budget {
            adam: self.adam.unwrap_or(adam),
            lr: 1e-3,
            lbfgs: self.lbfgs.unwrap_or(lbfgs),
        }
    }

    /// Collocation points of the forward run.
    pub fn collocation(&self) -> usize {
        self.collocation.unwrap_or(if self.quick {
            500
        } else if self.full {
            10_000
        } else {
            2000
        })
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

/// A published number quoted for comparison (not re-run).
#[derive(Debug, Clone, Serialize)]
pub struct Published {
    /// What it is.
    pub name: &'static str,
    /// Its value.
    pub value: f64,
}

/// Raissi, Perdikaris & Karniadakis (2019), quoted from the paper, not re-run: the forward
/// Burgers error (Fig. 1: N_u = 100, N_f = 10 000, 9 layers of 20) and the identified
/// coefficients of the inverse problem (Fig. 5: 2000 points; clean `λ₁ = 0.99915`,
/// `λ₂ = 0.0031794`; 1 % noise `λ₁ = 1.00042`, `λ₂ = 0.0032098`; true `0.0031831`), as
/// percentage errors.
pub const RAISSI: [Published; 5] = [
    Published {
        name: "forward Burgers relative L2 error",
        value: 6.7e-4,
    },
    Published {
        name: "inverse Burgers λ₁ error % (clean)",
        value: 0.085,
    },
    Published {
        name: "inverse Burgers λ₂ error % (clean)",
        value: 0.12,
    },
    Published {
        name: "inverse Burgers λ₁ error % (1 % noise)",
        value: 0.042,
    },
    Published {
        name: "inverse Burgers λ₂ error % (1 % noise)",
        value: 0.84,
    },
];

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
    /// `"pinn-burgers"`.
    pub example: &'static str,
    /// Reduced run.
    pub quick: bool,
    /// Raissi's budget.
    pub full: bool,
    /// How time entered the forward runs' network.
    pub forward_time_input: TimeInput,
    /// Output folder.
    pub out_dir: String,
    /// Backend.
    pub backend: String,
    /// Precision.
    pub precision: String,
    /// Forward Burgers runs (one per seed).
    pub forward: Vec<BurgersResult>,
    /// Inverse Burgers runs (clean and noisy, per seed).
    pub inverse: Vec<BurgersResult>,
    /// Heat runs (per seed).
    pub heat: Vec<AnalyticResult>,
    /// Poisson runs (per seed).
    pub poisson: Vec<AnalyticResult>,
    /// Lagaris runs (per seed; `error` is the maximum absolute error).
    pub lagaris: Vec<AnalyticResult>,
    /// Raissi et al.'s numbers ([`RAISSI`]).
    pub published: Vec<Published>,
    /// Figure files.
    pub figures: Vec<String>,
    /// Highlights.
    pub key_numbers: Vec<KeyNumber>,
    /// Seconds for the whole run.
    pub wall_s: f64,
}

fn mean(values: impl Iterator<Item = f64>) -> f64 {
    let v: Vec<f64> = values.collect();
    v.iter().sum::<f64>() / v.len().max(1) as f64
}

/// Runs the chosen problems and writes the figures and `summary.json`; returns the summary.
pub fn run(options: &Options) -> Result<Summary, ExampleError> {
    let start = Instant::now();
    let dir = options.out_dir.as_path();
    let mut spec = options.device;
    spec.autodiff = true;
    let mut device = spec.init()?;
    device.configure_defaults()?;
    let quick = options.quick;
    let runs = dir.join("run");
    let forward_seeds = options.seeds.unwrap_or(if quick { 1 } else { 3 }).max(1);
    let inverse_seeds = options.seeds.unwrap_or(1).max(1);
    let small_seeds = if quick { 1 } else { 3 };
    let budget = options.burgers_budget(false);
    let wants = |p: Problem| options.problems.contains(&p);

    let grid = if wants(Problem::Forward) || wants(Problem::Inverse) {
        say!(
            options,
            "[pinn-burgers] the Cole-Hopf reference on 256 × 100 points"
        );
        Some(BurgersGrid::raissi())
    } else {
        None
    };
    let mut summary = Summary {
        example: "pinn-burgers",
        quick,
        full: options.full,
        forward_time_input: options.time,
        out_dir: dir.display().to_string(),
        backend: device.spec().backend.to_string(),
        precision: device.spec().precision.to_string(),
        forward: Vec::new(),
        inverse: Vec::new(),
        heat: Vec::new(),
        poisson: Vec::new(),
        lagaris: Vec::new(),
        published: RAISSI.to_vec(),
        figures: Vec::new(),
        key_numbers: Vec::new(),
        wall_s: 0.0,
    };
    if let (true, Some(grid)) = (wants(Problem::Forward), &grid) {
        for s in 0..forward_seeds {
            let seed = options.seed.wrapping_add(s as u64);
            say!(
                options,
                "[pinn-burgers] forward Burgers, seed {seed}: {} Adam + {} L-BFGS on {}",
                budget.adam,
                budget.lbfgs,
                device.spec()
            );
            let r = problems::forward(
                &device,
                grid,
                budget,
                options.collocation(),
                !options.full,
                options.time,
                seed,
                &runs.join(format!("forward-s{seed}")),
            )?;
            say!(
                options,
                "  relative L2 {:.3e} ({} L-BFGS iterations, {}); {:.0} + {:.0} s",
                r.relative_l2,
                r.training.lbfgs_iterations,
                r.training.lbfgs_stop,
                r.training.seconds[0],
                r.training.seconds[1]
            );
            summary.forward.push(r);
        }
    }
    if let (true, Some(grid)) = (wants(Problem::Inverse), &grid) {
        let observations = if quick { 500 } else { 2000 };
        for s in 0..inverse_seeds {
            let seed = options.seed.wrapping_add(s as u64);
            for noise in [0.0, 0.01] {
                say!(
                    options,
                    "[pinn-burgers] inverse Burgers, seed {seed}, noise {:.0}%",
                    100.0 * noise
                );
                let r = problems::inverse(
                    &device,
                    grid,
                    options.burgers_budget(true),
                    observations,
                    noise,
                    seed,
                    &runs.join(format!("inverse-n{}-s{seed}", (100.0 * noise) as u32)),
                )?;
                if let Some(l) = r.lambdas {
                    say!(
                        options,
                        "  λ₁ = {:.5} ({:.3}%), λ₂ = {:.6} ({:.3}%); {:.0} + {:.0} s",
                        l[0],
                        l[2],
                        l[1],
                        l[3],
                        r.training.seconds[0],
                        r.training.seconds[1]
                    );
                }
                summary.inverse.push(r);
            }
        }
    }
    let small = |adam: usize, lbfgs: usize| Budget {
        adam: if quick { adam / 20 } else { adam },
        lr: 1e-3,
        lbfgs: if quick { lbfgs / 20 } else { lbfgs },
    };
    type Runner = fn(
        &sysdyn_core::device::SysDevice,
        Budget,
        usize,
        u64,
        &std::path::Path,
    ) -> Result<AnalyticResult, ExampleError>;
    let analytic: [(Problem, &str, Runner, Budget, usize); 3] = [
        (
            Problem::Heat,
            "heat",
            problems::heat,
            small(1000, 2500),
            500,
        ),
        (
            Problem::Poisson,
            "poisson",
            problems::poisson,
            small(1000, 2500),
            500,
        ),
        (
            Problem::Lagaris,
            "lagaris",
            problems::lagaris,
            small(0, 1000),
            64,
        ),
    ];
    for (problem, name, runner, budget, points) in analytic {
        if !wants(problem) {
            continue;
        }
        for s in 0..small_seeds {
            let seed = options.seed.wrapping_add(s as u64);
            say!(options, "[pinn-burgers] {name}, seed {seed}");
            let r = runner(
                &device,
                budget,
                points,
                seed,
                &runs.join(format!("{name}-s{seed}")),
            )?;
            say!(
                options,
                "  error {:.2e}; {:.1} s",
                r.error,
                r.training.seconds[0] + r.training.seconds[1]
            );
            match problem {
                Problem::Heat => summary.heat.push(r),
                Problem::Poisson => summary.poisson.push(r),
                _ => summary.lagaris.push(r),
            }
        }
    }

    say!(
        options,
        "[pinn-burgers] figures and summary into {}",
        dir.display()
    );
    let mut saved = Vec::new();
    if let Some(grid) = &grid {
        if let Some(first) = summary.forward.first() {
            saved.push(figures::burgers(dir, "forward", grid, first)?);
        }
        if let Some(first) = summary.inverse.first() {
            saved.push(figures::burgers(dir, "inverse", grid, first)?);
        }
    }
    saved.push(figures::losses(dir, &summary)?);
    if !summary.heat.is_empty() || !summary.poisson.is_empty() || !summary.lagaris.is_empty() {
        saved.push(figures::analytic(dir, &summary)?);
    }
    summary.figures = saved
        .iter()
        .flat_map(|s| s.names_relative_to(dir))
        .collect();
    let mut key = Vec::new();
    let mut push = |name: String, value: f64| key.push(KeyNumber { name, value });
    if !summary.forward.is_empty() {
        push(
            "forward Burgers: relative L2 error (mean of seeds)".into(),
            mean(summary.forward.iter().map(|r| r.relative_l2)),
        );
        push(
            "forward Burgers: training seconds (mean of seeds)".into(),
            mean(
                summary
                    .forward
                    .iter()
                    .map(|r| r.training.seconds[0] + r.training.seconds[1]),
            ),
        );
    }
    for noise in [0.0, 0.01] {
        let runs: Vec<&BurgersResult> = summary
            .inverse
            .iter()
            .filter(|r| r.noise == noise)
            .collect();
        if runs.is_empty() {
            continue;
        }
        let pct = (100.0 * noise) as u32;
        push(
            format!("inverse Burgers {pct}% noise: λ₁ error % (mean)"),
            mean(runs.iter().filter_map(|r| r.lambdas.map(|l| l[2]))),
        );
        push(
            format!("inverse Burgers {pct}% noise: λ₂ error % (mean)"),
            mean(runs.iter().filter_map(|r| r.lambdas.map(|l| l[3]))),
        );
    }
    for (name, runs) in [
        ("heat: relative L2 (mean of seeds)", &summary.heat),
        ("poisson: relative L2 (mean of seeds)", &summary.poisson),
        ("lagaris: max error (mean of seeds)", &summary.lagaris),
    ] {
        if !runs.is_empty() {
            push(name.into(), mean(runs.iter().map(|r| r.error)));
        }
    }
    summary.key_numbers = key;
    summary.wall_s = start.elapsed().as_secs_f64();
    let json = serde_json::to_string_pretty(&summary)?;
    write_atomic(&dir.join("summary.json"), json.as_bytes())?;
    Ok(summary)
}
