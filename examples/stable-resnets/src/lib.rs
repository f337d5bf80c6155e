//! # The stable-ResNets example
//!
//! Deep residual networks seen as discretised ODEs (Haber & Ruthotto 2017):
//!
//! 1. stability: three forward Euler networks on the plane (`h = 0.1`, tanh, `b = 0`, 10 layers)
//!    with layer matrices whose eigenvalues have positive, negative and zero real part; the
//!    points' paths and the growth of their spread through depth;
//! 2. classification of concentric ellipses (1200 points, 1000 for training, 200 for validation)
//!    by standard, antisymmetric and two-stream Verlet networks trained with Adam;
//! 3. multi-level training: an antisymmetric network trained with half the layers, prolonged in
//!    depth (parameters interpolated, `h` halved) without changing its function beyond
//!    discretisation error, then trained further;
//! 4. figures (`stability_trajectories`, `spread_vs_depth`, `decision_boundaries`, as SVG and
//!    PNG) and `summary.json`.
//!
//! Modules: [`stability`], [`classify`], [`figures`].

pub mod classify;
pub mod figures;
pub mod stability;

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::Serialize;
use sysdyn_core::device::DeviceSpec;
use sysdyn_core::{CoreError, ShapeMismatch};
use sysdyn_nodes::resnet::ResNetError;
use sysdyn_plot::PlotError;
use thiserror::Error;

use crate::classify::{MultilevelResult, TrainSettings, TrainedResult};
use crate::stability::StabilityRun;

/// Command-line help.
pub const USAGE: &str = "\
usage: stable-resnets [--quick] [--out DIR] [--backend ndarray|flex|wgpu] [--precision f32|f64]

  --quick            fewer layers and training steps, a coarser figure grid (CI smoke run);
                     every file is still written
  --out DIR          output folder (default out/stable-resnets)
  --backend NAME     backend (default: flex; env SYSDYN_BACKEND)
  --precision P      f32 or f64 (default f32; f64 only on CPU backends; env SYSDYN_PRECISION)";

/// Why the example failed.
#[derive(Debug, Error)]
pub enum ExampleError {
    /// A device or precision that this build or the policy does not allow.
    #[error(transparent)]
    Device(#[from] CoreError),
    /// An argument the example does not know.
    #[error("{0}\n\n{USAGE}")]
    Usage(String),
    /// A network could not be built or run.
    #[error(transparent)]
    Network(#[from] ResNetError),
    /// A tensor of the wrong shape.
    #[error(transparent)]
    Shape(#[from] ShapeMismatch),
    /// A figure or file could not be written.
    #[error(transparent)]
    Plot(#[from] PlotError),
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
}

impl Options {
    /// Default output folder.
    pub const DEFAULT_OUT: &'static str = "out/stable-resnets";

    /// Options from command-line arguments (without the program name) and the `SYSDYN_*`
    /// environment variables.
    pub fn from_args(args: &[String]) -> Result<Self, ExampleError> {
        let (device, rest) = DeviceSpec::default_for_build()?
            .override_from_env()?
            .override_from_args(args.iter().cloned())?;
        let mut options = Options {
            out_dir: PathBuf::from(Self::DEFAULT_OUT),
            quick: false,
            device,
        };
        let mut rest = rest.into_iter();
        while let Some(arg) = rest.next() {
            match arg.split_once('=') {
                Some(("--out", dir)) => options.out_dir = PathBuf::from(dir),
                _ if arg == "--out" => {
                    let dir = rest
                        .next()
                        .ok_or_else(|| ExampleError::Usage("--out needs a folder".into()))?;
                    options.out_dir = PathBuf::from(dir);
                }
                _ if arg == "--quick" => options.quick = true,
                _ => return Err(ExampleError::Usage(format!("unknown argument `{arg}`"))),
            }
        }
        Ok(options)
    }
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
    /// Classification settings.
    pub training: TrainSettings,
    /// Classification results.
    pub classification: Vec<TrainedResult>,
    /// Multi-level training of the antisymmetric network.
    pub multilevel: MultilevelResult,
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

fn figure_name(saved: &sysdyn_plot::Saved, dir: &Path) -> Vec<String> {
    [&saved.svg, &saved.png]
        .iter()
        .map(|p| {
            p.strip_prefix(dir)
                .unwrap_or(p)
                .to_string_lossy()
                .into_owned()
        })
        .collect()
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

    progress(
        1,
        stages,
        "stability: K+, K-, K0 through 10 forward Euler layers",
    );
    let stability = stability::run(&device)?;

    let settings = TrainSettings {
        layers: if quick { 6 } else { 16 },
        step: if quick { 0.5 } else { 0.25 },
        iterations: if quick { 60 } else { 400 },
        learning_rate: 0.03,
        gamma: 0.01,
    };
    progress(
        2,
        stages,
        &format!(
            "classification: {} layers, {} Adam steps on {}",
            settings.layers,
            settings.iterations,
            training_device.spec()
        ),
    );
    let (train, validation) = classify::concentric_ellipses(42);
    let resolution = if quick { 25 } else { 81 };
    let grid_x = sysdyn_plot::linspace(-3.2, 3.2, resolution);
    let grid_y = sysdyn_plot::linspace(-2.0, 2.0, resolution);
    let grid = (grid_x.as_slice(), grid_y.as_slice());
    let classification = classify::run(&training_device, (&train, &validation), &settings, grid)?;

    progress(
        3,
        stages,
        "multi-level: antisymmetric network trained coarse, prolonged, trained fine",
    );
    let multilevel = classify::multilevel(&training_device, (&train, &validation), &settings)?;

    progress(4, stages, &format!("figures into {}", dir.display()));
    let saved = [
        figures::stability_trajectories(dir, &stability)?,
        figures::spread_vs_depth(dir, &stability)?,
        figures::decision_boundaries(dir, &classification, grid, &validation)?,
    ];
    let figure_points_skipped = saved.iter().map(|s| s.skipped_points()).sum();
    let figures = saved.iter().flat_map(|s| figure_name(s, dir)).collect();

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
        classification,
        multilevel,
        figures,
        figure_points_skipped,
        wall_s: start.elapsed().as_secs_f64(),
    };
    let json = serde_json::to_string_pretty(&summary)?;
    sysdyn_plot::write_atomic(&dir.join("summary.json"), json.as_bytes())?;
    Ok(summary)
}
