//! # The Lotka–Volterra example
//!
//! The predator–prey model `x' = a x − b x y`, `y' = d x y − g y` with the parameters of
//! workload W1 (a = 1.5, b = 1, d = 1, g = 3, y(0) = (1, 1), t ∈ [0, 15]):
//!
//! 1. a DOP853 reference trajectory at rtol = atol = 1e-13, checked against the published final
//!    state;
//! 2. every explicit method of `sysdyn_solvers::methods`: fixed steps (Euler, midpoint, Heun,
//!    Ralston, RK4 at h = 0.01) and error control (Bogacki–Shampine 3(2), Dopri5, Tsit5, DOP853
//!    at rtol = atol = 1e-8), each with its final-state error, trajectory error, drift of the
//!    conserved quantity and statistics;
//! 3. a work–precision study (error against function evaluations, rtol 1e-3 … 1e-12);
//! 4. a family of orbits solved as one `[orbits, 2]` tensor on the chosen burn backend, with
//!    dense output, compared with the plain f64 path;
//! 5. figures (`phase_portrait`, `time_series`, `error_vs_nfe`, as SVG and PNG) and
//!    `summary.json`.
//!
//! Modules: [`problem`] (the model), [`experiments`] (plain-f64 studies), [`batched`] (the
//! tensor solve), [`figures`], [`report`] (`summary.json`).

pub mod batched;
pub mod experiments;
pub mod figures;
pub mod problem;
pub mod report;

use std::path::PathBuf;
use std::time::Instant;

use clap::Parser;
use sysdyn_core::cli::{CliError, Program, RunArgs, parse_from};
use sysdyn_core::device::DeviceSpec;
use sysdyn_core::fs::WriteError;
use sysdyn_core::{CoreError, ShapeMismatch};
use sysdyn_plot::PlotError;
use sysdyn_solvers::SolveError;
use thiserror::Error;

use crate::experiments::{
    ADAPTIVE_METHODS, ADAPTIVE_TOL, FIXED_METHODS, FIXED_STEP, REFERENCE_TOL, StepPolicy,
};
use crate::report::{KeyNumber, ProblemInfo, ReferenceInfo, Summary};

/// Why the example failed.
#[derive(Debug, Error)]
pub enum ExampleError {
    /// A device or precision that this build or the policy does not allow.
    #[error(transparent)]
    Device(#[from] CoreError),
    /// A solve failed.
    #[error("solve failed: {0}")]
    Solve(#[from] SolveError),
    /// A tensor of the wrong shape.
    #[error(transparent)]
    Shape(#[from] ShapeMismatch),
    /// A figure could not be drawn or written.
    #[error(transparent)]
    Plot(#[from] PlotError),
    /// The summary could not be written.
    #[error(transparent)]
    Write(#[from] WriteError),
    /// The summary could not be serialised.
    #[error("cannot serialise the summary: {0}")]
    Json(#[from] serde_json::Error),
}

/// The Lotka–Volterra predator–prey model solved with every explicit Runge–Kutta method of
/// sysdyn, a work–precision study, and a batched family of orbits on a burn backend; writes
/// figures and summary.json.
///
/// The command line: only the options every sysdyn program shares.
#[derive(Debug, Clone, Parser)]
#[command(name = "lotka-volterra", version)]
pub struct Cli {
    /// The shared options.
    #[command(flatten)]
    pub run: RunArgs,
}

/// What the shared options default to here; the example is deterministic (no `--seed`) and
/// trains nothing (no `--load` / `--resume`).
pub const PROGRAM: Program = Program {
    default_out: Options::DEFAULT_OUT,
    default_seed: None,
    checkpoints: false,
};

impl Cli {
    /// The options to run with, or clap's usage error (exit status 2) for what parsed but is not
    /// allowed (f64 on `wgpu`, `--seed`, `--load`).
    pub fn options(&self) -> Result<Options, clap::Error> {
        let run = self
            .run
            .resolve(&PROGRAM)
            .map_err(CliError::into_clap::<Cli>)?;
        Ok(Options {
            out_dir: run.out_dir,
            quick: run.quick,
            device: run.device,
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
    /// Device of the batched solve.
    pub device: DeviceSpec,
    /// No progress lines.
    pub quiet: bool,
}

impl Options {
    /// Default output folder.
    pub const DEFAULT_OUT: &'static str = "out/lotka-volterra";

    /// Options from command-line arguments (without the program name) and the `SYSDYN_*`
    /// environment variables; a bad command line is clap's error, as `main` prints it.
    pub fn from_args(args: &[String]) -> Result<Self, clap::Error> {
        parse_from::<Cli>(args)?.options()
    }
}

fn progress(options: &Options, stage: usize, stages: usize, what: &str) {
    if !options.quiet {
        eprintln!("[lotka-volterra] {stage}/{stages} {what}");
    }
}

/// Runs the whole example and writes its files; returns the summary it wrote.
pub fn run(options: &Options) -> Result<Summary, ExampleError> {
    let start = Instant::now();
    let stages = 6;
    let quick = options.quick;
    let dir = options.out_dir.as_path();
    // Fail on a bad device before any work.
    let device = options.device.init()?;

    progress(
        options,
        1,
        stages,
        &format!("reference trajectory: dop853 at rtol = atol = {REFERENCE_TOL:e}"),
    );
    let grid = experiments::output_grid(if quick { 601 } else { 1501 });
    let reference = experiments::reference(&grid)?;

    progress(
        options,
        2,
        stages,
        &format!(
            "method comparison: {} fixed-step (h = {FIXED_STEP}), {} adaptive (tol {ADAPTIVE_TOL:e})",
            FIXED_METHODS.len(),
            ADAPTIVE_METHODS.len()
        ),
    );
    let mut runs = Vec::new();
    for method in FIXED_METHODS {
        runs.push(experiments::run_method(
            method,
            StepPolicy::Fixed { h: FIXED_STEP },
            &reference,
        )?);
    }
    for method in ADAPTIVE_METHODS {
        let step = StepPolicy::Adaptive {
            rtol: ADAPTIVE_TOL,
            atol: ADAPTIVE_TOL,
        };
        runs.push(experiments::run_method(method, step, &reference)?);
    }

    let rtols = if quick {
        vec![1e-3, 1e-6, 1e-9, 1e-12]
    } else {
        sysdyn_plot::logspace(1e-3, 1e-12, 10)
    };
    let hs = if quick {
        vec![0.1, 0.01]
    } else {
        vec![0.1, 0.05, 0.02, 0.01, 0.005, 0.002]
    };
    progress(
        options,
        3,
        stages,
        &format!(
            "work–precision: {} tolerances from 1e-3 to 1e-12",
            rtols.len()
        ),
    );
    let curves = experiments::work_precision(&rtols, &hs)?;

    let orbits = if quick { 4 } else { 16 };
    progress(
        options,
        4,
        stages,
        &format!(
            "batched family: {orbits} orbits as one [{orbits}, 2] tensor on {}",
            device.spec()
        ),
    );
    let family = problem::family(orbits);
    let batched = batched::solve_family(&device, &family, &grid)?;

    progress(
        options,
        5,
        stages,
        &format!("figures into {}", dir.display()),
    );
    let saved = [
        figures::phase_portrait(dir, &batched, &reference)?,
        figures::time_series(dir, &reference, &runs)?,
        figures::error_vs_nfe(dir, &curves)?,
    ];
    let figure_points_skipped = saved.iter().map(|s| s.skipped_points()).sum();
    let figure_files = saved
        .iter()
        .flat_map(|s| s.names_relative_to(dir))
        .collect();

    progress(options, 6, stages, "summary.json");
    let methods: Vec<_> = runs.into_iter().map(|(result, _)| result).collect();
    let mut key_numbers = Vec::new();
    for m in &methods {
        if matches!(m.method, "dopri5" | "tsit5" | "dop853") {
            key_numbers.push(KeyNumber::new(
                format!("{} final error (tol {ADAPTIVE_TOL:e})", m.method),
                m.final_error,
            ));
            key_numbers.push(KeyNumber::new(format!("{} NFE", m.method), m.nfe as f64));
        }
        if matches!(m.method, "euler" | "rk4") {
            key_numbers.push(KeyNumber::new(
                format!("{} invariant drift (h = {FIXED_STEP})", m.method),
                m.invariant_drift,
            ));
        }
    }
    key_numbers.push(KeyNumber::new(
        "reference vs published final state",
        reference.error_vs_published,
    ));
    key_numbers.push(KeyNumber::new(
        format!("batched ({}) max deviation vs f64", batched.device),
        batched.max_deviation_vs_f64,
    ));
    let spec = device.spec();
    let model = problem::MODEL;
    let summary = Summary {
        example: "lotka-volterra",
        quick,
        out_dir: dir.display().to_string(),
        backend: spec.backend.to_string(),
        precision: spec.precision.to_string(),
        problem: ProblemInfo {
            a: model.a,
            b: model.b,
            d: model.d,
            g: model.g,
            y0: problem::Y0,
            t_span: [problem::SPAN.0, problem::SPAN.1],
            published_final_state: problem::FINAL,
        },
        reference: ReferenceInfo {
            method: "dop853",
            tol: REFERENCE_TOL,
            points: reference.ts.len(),
            nfe: reference.nfe,
            error_vs_published: reference.error_vs_published,
        },
        methods,
        work_precision: curves,
        batched,
        figures: figure_files,
        figure_points_skipped,
        key_numbers,
        wall_s: start.elapsed().as_secs_f64(),
    };
    summary.write(dir)?;
    Ok(summary)
}
