//! # Optimizers as dynamical systems
//!
//! 1. **Rates.** Gradient descent and heavy-ball with their optimal tunings on 10-D quadratics
//!    of condition number κ: measured linear rates against `(κ-1)/(κ+1)` and `(√κ-1)/(√κ+1)`.
//! 2. **Momentum.** GD, heavy-ball, Nesterov and Adam on an ill-conditioned quadratic (κ = 100)
//!    and on Rosenbrock's valley: error against iteration (`momentum_error`) and iterates over
//!    the level sets (`momentum_contour`).
//! 3. **Games.** `min_x max_y xy` played simultaneously (spirals out by `√(1+η²)` per step),
//!    alternately (cycles on a conserved ellipse), with extragradient and optimistic steps
//!    (converge), with the Jacobian's eigenvalues `±i` explaining why (`bilinear_game`); the
//!    same game played by two burn modules on the chosen backend.
//! 4. **Flows.** Gradient descent against the gradient flow for several step sizes, the largest
//!    gap shrinking like `η`; heavy-ball against the damped-oscillator ODE, like `√η`
//!    (`flow_vs_gd`).
//! 5. **Training.** Each optimizer training a tanh MLP on the chosen backend, mini-batches drawn
//!    without replacement per epoch (`training_loss`), on the training runtime `sysdyn-train`:
//!    one run directory per rule in `<out>/run/<rule>`, with checkpoints; `--resume <out>/run`
//!    continues interrupted runs, `--load <out>/run` evaluates the trained models without
//!    training and writes the same figures and summary.
//!
//! Everything measured goes to `summary.json`. Modules: [`experiments`] (plain f64 studies),
//! [`model`] and [`training`] (burn), [`figures`], [`report`].

pub mod experiments;
pub mod figures;
pub mod model;
pub mod report;
pub mod training;

use std::path::PathBuf;
use std::time::Instant;

use clap::Parser;
use sysdyn_core::cli::{CliError, Program, RunArgs, parse_from};
use sysdyn_core::device::DeviceSpec;
use sysdyn_core::fs::{WriteError, write_atomic};
use sysdyn_core::{CoreError, ShapeMismatch};
use sysdyn_optim::OptimError;
use sysdyn_plot::PlotError;
use thiserror::Error;

use crate::report::{
    FlowSummary, GameSummary, ProblemSummary, RateSummary, Summary, TrainingSummary,
};

/// Why the example failed.
#[derive(Debug, Error)]
pub enum ExampleError {
    /// A device or precision that this build or the policy does not allow.
    #[error(transparent)]
    Device(#[from] CoreError),
    /// An optimizer, game or flow could not run.
    #[error(transparent)]
    Optim(#[from] OptimError),
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
    /// A training run failed, diverged, or its checkpoints could not be written or read.
    #[error(transparent)]
    Train(#[from] sysdyn_train::TrainError),
    /// `--load` / `--resume` named a folder that does not exist or where no rule has a
    /// checkpoint.
    #[error(
        "`{}` holds no checkpoint of this example's trainings: pass the folder of the rules' run \
         directories, `<out>/run` of an earlier run (with {} in it), not one rule's run directory",
        path.display(),
        rules.join("/, ") + "/"
    )]
    NoRuns {
        /// The folder named.
        path: PathBuf,
        /// The run directories expected in it, one per rule.
        rules: Vec<&'static str>,
    },
}

/// Optimizers as dynamical systems: momentum against gradient descent on an ill-conditioned
/// quadratic and Rosenbrock, the bilinear game under four schemes, gradient descent against
/// gradient flow, measured rates against theory, and the optimizers training a burn MLP; writes
/// figures and summary.json.
#[derive(Debug, Clone, Parser)]
#[command(name = "optim-dynamics", version)]
pub struct Cli {
    /// The options every sysdyn program shares (`--backend` and `--precision` choose the device
    /// of the burn part, MLP training and the game on modules; `--seed` the MLP's weights and
    /// batches, default 5; `--load DIR` / `--resume DIR` name the folder of the rules' run
    /// directories, `<out>/run`).
    #[command(flatten)]
    pub run: RunArgs,
}

/// What the shared options default to here: seed 5 (the published figures); the MLP trainings
/// save checkpoints (`<out>/run/<rule>/checkpoints/`), so `--load` and `--resume` are accepted.
pub const PROGRAM: Program = Program {
    default_out: Options::DEFAULT_OUT,
    default_seed: Some(5),
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
    /// Device of the burn part (autodiff is switched on for it).
    pub device: DeviceSpec,
    /// Seed of the MLP's initial weights and of its mini-batches.
    pub seed: u64,
    /// No progress lines.
    pub quiet: bool,
    /// `--load DIR`: evaluate the models of the rules' run directories in `DIR` (a previous
    /// run's `<out>/run`) without training.
    pub load: Option<PathBuf>,
    /// `--resume DIR`: continue the rules' runs in `DIR` (a previous run's `<out>/run`) from
    /// their newest checkpoints.
    pub resume: Option<PathBuf>,
}

impl Options {
    /// Default output folder.
    pub const DEFAULT_OUT: &'static str = "out/optim-dynamics";

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

fn progress(options: &Options, stage: usize, stages: usize, what: &str) {
    say!(options, "[optim-dynamics] {stage}/{stages} {what}");
}

fn relative_error(measured: f64, theory: f64) -> f64 {
    (measured - theory).abs() / theory
}

/// Runs the whole example and writes its files; returns the summary it wrote.
pub fn run(options: &Options) -> Result<Summary, ExampleError> {
    let start = Instant::now();
    let stages = 6;
    let quick = options.quick;
    let dir = options.out_dir.as_path();
    // Fail on a bad device, or on a `--load` / `--resume` folder without checkpoints, before
    // any work.
    let mut device = options.device.with_autodiff(true).init()?;
    // Optimizer state is restored in the device's default float type: make it the policy's.
    device.configure_defaults()?;
    let train_steps: u64 = if quick { 60 } else { 600 };
    let plan = training::TrainingPlan::new(
        dir,
        train_steps,
        options.seed,
        options.quiet,
        options.load.as_deref(),
        options.resume.as_deref(),
    )?;
    std::fs::create_dir_all(dir).map_err(|source| PlotError::Write {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut figures = Vec::new();

    progress(
        options,
        1,
        stages,
        "linear rates on quadratics (GD and heavy-ball, optimal tuning)",
    );
    let kappas: &[f64] = if quick {
        &[10.0, 100.0]
    } else {
        &[10.0, 100.0, 1000.0, 10000.0]
    };
    let rates: Vec<RateSummary> = experiments::rate_table(kappas)?
        .into_iter()
        .map(|r| {
            say!(
                options,
                "    κ = {:>7}: GD {:.6} (theory {:.6}), heavy-ball {:.6} (theory {:.6})",
                r.kappa,
                r.gd_measured,
                r.gd_theory,
                r.heavy_ball_measured,
                r.heavy_ball_theory
            );
            RateSummary {
                kappa: r.kappa,
                gd_measured: r.gd_measured,
                gd_theory: r.gd_theory,
                gd_relative_error: relative_error(r.gd_measured, r.gd_theory),
                heavy_ball_measured: r.heavy_ball_measured,
                heavy_ball_theory: r.heavy_ball_theory,
                heavy_ball_relative_error: relative_error(
                    r.heavy_ball_measured,
                    r.heavy_ball_theory,
                ),
            }
        })
        .collect();

    progress(
        options,
        2,
        stages,
        "momentum on the quadratic and Rosenbrock's valley",
    );
    let (quad_steps, rosen_steps) = if quick { (200, 3000) } else { (300, 10_000) };
    let quad = experiments::quadratic_runs(quad_steps)?;
    let rosen = experiments::rosenbrock_runs(rosen_steps)?;
    let q = experiments::momentum_quadratic()?;
    figures.extend(figures::momentum_error(dir, &quad, &rosen)?.names_relative_to(dir));
    figures.extend(figures::momentum_contour(dir, &quad, &rosen, &q)?.names_relative_to(dir));
    let momentum = [(&quad, quad_steps), (&rosen, rosen_steps)]
        .into_iter()
        .map(|(p, steps)| ProblemSummary {
            problem: p.title.clone(),
            steps,
            final_distance: p
                .runs
                .iter()
                .map(|r| (r.label.clone(), r.errors[steps]))
                .collect(),
        })
        .collect();

    progress(
        options,
        3,
        stages,
        "the bilinear game min_x max_y xy under four schemes",
    );
    let eta = 0.15;
    let game = experiments::bilinear_game(eta, 150, 10_000, 2000)?;
    figures.extend(figures::bilinear_game(dir, &game)?.names_relative_to(dir));
    let modules_difference = training::game_on_device(&device, eta, if quick { 20 } else { 100 })?;
    say!(
        options,
        "    growth {:.12} (theory {:.12}), extragradient distance {:.2e}, modules vs f64 {:.1e}",
        game.simultaneous_growth_measured,
        game.simultaneous_growth_theory,
        game.extragradient_final,
        modules_difference
    );

    progress(
        options,
        4,
        stages,
        "gradient descent against gradient flow; heavy-ball against its ODE",
    );
    let (etas, hb_etas): (&[f64], &[f64]) = if quick {
        (&[0.02, 0.01, 0.005], &[1e-2, 2.5e-3, 6.25e-4])
    } else {
        (
            &[0.02, 0.01, 0.005, 0.0025, 0.00125],
            &[1e-2, 2.5e-3, 6.25e-4, 1.5625e-4],
        )
    };
    let flow = experiments::flow_study(etas, hb_etas)?;
    figures.extend(figures::flow_vs_gd(dir, &flow)?.names_relative_to(dir));
    say!(
        options,
        "    slopes: GD {:.3}, heavy-ball {:.3}",
        flow.slope,
        flow.hb_slope
    );

    let spec = device.spec();
    progress(
        options,
        5,
        stages,
        &format!(
            "{} a tanh MLP with every optimizer on {spec}",
            if plan.trains() { "training" } else { "loading" }
        ),
    );
    let mut runs = Vec::with_capacity(plan.runs.len());
    for planned in &plan.runs {
        // The runtime's progress bar does not name the run it counts.
        say!(
            options,
            "    {:>10} η={:<6} {}",
            planned.rule.name(),
            planned.lr,
            if planned.session.trains() {
                "training"
            } else {
                "loading"
            }
        );
        let r = training::train_one(planned, &device, plan.seed)?;
        say!(
            options,
            "    {:>10} η={:<6} loss {:.4} -> {:.5} (step {})",
            r.name,
            r.lr,
            r.initial_loss,
            r.final_loss,
            r.final_step
        );
        runs.push(r);
    }
    figures.extend(figures::training_loss(dir, &runs, &spec.to_string())?.names_relative_to(dir));
    let training = runs
        .iter()
        .map(|r| TrainingSummary {
            optimizer: r.name.to_string(),
            lr: r.lr,
            steps: r.final_step,
            initial_loss: r.initial_loss,
            final_loss: r.final_loss,
            run_dir: r.run_dir.as_ref().map(|d| d.display().to_string()),
        })
        .collect();

    progress(options, 6, stages, "summary.json");
    let summary = Summary {
        example: "optim-dynamics",
        quick,
        trained: plan.trains(),
        backend: spec.backend.to_string(),
        precision: spec.precision.to_string(),
        out_dir: dir.display().to_string(),
        rates,
        momentum,
        game: GameSummary {
            eta: game.eta,
            jacobian_eigenvalues: game
                .jacobian_eigenvalues
                .iter()
                .map(|z| [z.re, z.im])
                .collect(),
            simultaneous_growth_theory: game.simultaneous_growth_theory,
            simultaneous_growth_eigen: game.simultaneous_growth_eigen,
            simultaneous_growth_measured: game.simultaneous_growth_measured,
            simultaneous_growth_max_error: game.simultaneous_growth_max_error,
            alternating_steps: game.alternating_steps,
            alternating_max_distance: game.alternating_radius.0,
            alternating_min_distance: game.alternating_radius.1,
            converge_steps: game.converge_steps,
            extragradient_final_distance: game.extragradient_final,
            extragradient_rate_measured: game.extragradient_rate_measured,
            extragradient_rate_theory: game.extragradient_rate_theory,
            optimistic_final_distance: game.optimistic_final,
            modules_vs_plain_max_difference: modules_difference,
        },
        flow: FlowSummary {
            etas: flow.etas.clone(),
            gaps: flow.gaps.clone(),
            slope: flow.slope,
            heavy_ball_damping: flow.damping,
            heavy_ball_etas: flow.hb_etas.clone(),
            heavy_ball_gaps: flow.hb_gaps.clone(),
            heavy_ball_slope: flow.hb_slope,
        },
        training,
        figures,
        wall_s: start.elapsed().as_secs_f64(),
    };
    let json = serde_json::to_string_pretty(&summary)?;
    write_atomic(&dir.join("summary.json"), json.as_bytes())?;
    Ok(summary)
}
