//! # APHYN-EP on a cardiac slab
//!
//! Kashtanova et al. (2022), *APHYN-EP: physics-based deep learning framework to learn and
//! forecast cardiac electrophysiology dynamics*: the two-variable Mitchell–Schaeffer model with
//! learnable `(τ_in, τ_out, τ_open, τ_close, v_gate)` as `F_p`, plus a convolutional network
//! `F_a`, trained APHYNITY-style (`‖F_a‖² + λ L_traj`, `λ ← λ + τ₂ L_traj`) on the normalised
//! potential of the depolarisation phase of a 24 × 24 slab, and forecast to 50 ms.
//!
//! **The data are Aliev–Panfilov's, not ten Tusscher–Panfilov's** ([`data`]): the published
//! Table 1 is quoted next to ours as a reference, not a like-for-like comparison.
//!
//! Variants (one [`step::CardiacStep`] each, sysdyn-train's runtime, Adam):
//!
//! - `APHYN-EP`: Mitchell–Schaeffer + `F_a`, APHYNITY's objective;
//! - `MS (physical)`: Mitchell–Schaeffer alone, its parameters learned on `L_traj`;
//! - `ResNet (data-driven)`: `F_a` alone through the same RK4 rollout (an ODE-net: each RK4
//!   step is a residual update of the state);
//! - `MS (initial)`: Mitchell–Schaeffer at its initial parameters, untrained (reference).
//!
//! Scored by the MSE of the potential per forecast step, averaged over the steps up to 6, 12, 24
//! and 50 ms, on held-out slabs, over three seeds (each its own data and network), mean ± std.

pub mod data;
pub mod figures;
pub mod step;

use std::path::{Path, PathBuf};
use std::time::Instant;

use burn::optim::AdamConfig;
use burn::tensor::Tensor;
use clap::Parser;
use serde::Serialize;
use sysdyn_core::CoreError;
use sysdyn_core::cli::{CliError, Program, RunArgs, parse_from};
use sysdyn_core::device::{DeviceSpec, SysDevice};
use sysdyn_core::fs::{WriteError, write_atomic};
use sysdyn_data::metrics::mean_and_sample_std;
use sysdyn_physics::PhysicalModel;
use sysdyn_physics::PhysicsError;
use sysdyn_physics::hybrid::{AphynityObjective, AugmentedModel, PenaltyNorm};
use sysdyn_physics::simulators::cardiac::MitchellSchaeffer;
use sysdyn_plot::PlotError;
use sysdyn_train::{LrSchedule, Optim, ProgressMode, TrainConfig, Trainer};
use thiserror::Error;

use crate::data::{SIDE, SlabData};
use crate::step::{CardiacConfig, CardiacModel, CardiacStep, PotentialNet, forecast};

/// Why the example failed.
#[derive(Debug, Error)]
pub enum ExampleError {
    /// A device or precision that this build or the policy does not allow.
    #[error(transparent)]
    Device(#[from] CoreError),
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

/// APHYN-EP (Mitchell–Schaeffer + a convolutional `F_a`) against Mitchell–Schaeffer alone and
/// the network alone on a 24 × 24 Aliev–Panfilov slab.
#[derive(Debug, Clone, Parser)]
#[command(name = "cardiac-ep", version)]
pub struct Cli {
    /// Training steps (batches) per run [default: 40; 3 with --quick]
    #[arg(long, value_name = "N")]
    pub steps: Option<u64>,

    /// Seeds [default: 3; 1 with --quick]
    #[arg(long, value_name = "N")]
    pub seeds: Option<usize>,

    /// Adam's learning rate [default: 0.01]
    #[arg(long, value_name = "LR")]
    pub lr: Option<f64>,

    /// APHYNITY's initial multiplier λ₀ [default: 1000]
    #[arg(long, value_name = "L")]
    pub lambda0: Option<f64>,

    /// Training windows from the stimulus to this time, in ms (a multiple of 2) [default: 12; 8 with --quick]
    #[arg(long, value_name = "MS")]
    pub train_horizon: Option<f64>,

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
        let mut budget = Budget::new(run.quick);
        if let Some(steps) = self.steps {
            budget.steps = steps;
        }
        if let Some(seeds) = self.seeds {
            budget.seeds = seeds.max(1);
        }
        if let Some(lr) = self.lr {
            budget.lr = lr;
        }
        if let Some(l) = self.lambda0 {
            budget.lambda0 = l;
        }
        if let Some(h) = self.train_horizon {
            if !(h.is_finite() && h >= budget.dt_ms && h <= budget.test_horizon_ms) {
                return Err(clap::Error::raw(
                    clap::error::ErrorKind::ValueValidation,
                    format!(
                        "--train-horizon {h} is out of range: give a time in ms from {} (one frame) to {} (the test horizon)\n",
                        budget.dt_ms, budget.test_horizon_ms
                    ),
                ));
            }
            budget.train_horizon_ms = h;
        }
        Ok(Options {
            out_dir: run.out_dir,
            quick: run.quick,
            device: run.device.with_autodiff(true),
            budget,
            seed: run.seed,
            quiet: run.quiet,
        })
    }
}

/// How much the example trains.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Budget {
    /// Seeds.
    pub seeds: usize,
    /// Training slabs per seed.
    pub train: usize,
    /// Test slabs per seed.
    pub test: usize,
    /// Runtime steps (one gradient step each) per run.
    pub steps: u64,
    /// Slabs per batch.
    pub batch: usize,
    /// Adam's learning rate.
    pub lr: f64,
    /// APHYNITY's `λ₀`.
    pub lambda0: f64,
    /// APHYNITY's `τ₂`.
    pub tau2: f64,
    /// Frame interval (ms).
    pub dt_ms: f64,
    /// RK4 steps per frame interval.
    pub substeps: usize,
    /// Training windows: the stimulus to this time (ms).
    pub train_horizon_ms: f64,
    /// Test forecasts: the stimulus to this time (ms).
    pub test_horizon_ms: f64,
    /// Hidden channels of `F_a`.
    pub hidden: usize,
    /// The scale of `F_a`'s initial weights (uniform in `±gain/√fan_in`).
    pub gain: f64,
}

impl Budget {
    /// The default or the quick budget.
    pub fn new(quick: bool) -> Self {
        let base = Budget {
            seeds: 3,
            train: 8,
            test: 8,
            steps: 40,
            batch: 8,
            lr: 1e-2,
            lambda0: 1e3,
            tau2: 1e3,
            dt_ms: 2.0,
            substeps: 4,
            train_horizon_ms: 12.0,
            test_horizon_ms: 50.0,
            hidden: 8,
            gain: 0.5,
        };
        if quick {
            Budget {
                seeds: 1,
                train: 4,
                test: 2,
                steps: 3,
                batch: 2,
                train_horizon_ms: 8.0,
                ..base
            }
        } else {
            base
        }
    }
}

/// What to run and where to write.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// Output folder.
    pub out_dir: PathBuf,
    /// Reduced run.
    pub quick: bool,
    /// Device.
    pub device: DeviceSpec,
    /// The budget.
    pub budget: Budget,
    /// Base of every seed.
    pub seed: u64,
    /// No progress lines.
    pub quiet: bool,
}

impl Options {
    /// Default output folder.
    pub const DEFAULT_OUT: &'static str = "out/cardiac-ep";

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

/// A model of the comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Variant {
    /// Mitchell–Schaeffer + `F_a`, APHYNITY's objective.
    AphynEp,
    /// Mitchell–Schaeffer alone, learned.
    Physical,
    /// `F_a` alone.
    ResNet,
    /// Mitchell–Schaeffer at its initial parameters, untrained.
    MsInitial,
}

impl Variant {
    /// Every variant, trained ones first.
    pub const ALL: [Variant; 4] = [
        Variant::AphynEp,
        Variant::Physical,
        Variant::ResNet,
        Variant::MsInitial,
    ];

    /// The row name.
    pub fn name(self) -> &'static str {
        match self {
            Variant::AphynEp => "APHYN-EP",
            Variant::Physical => "MS (physical)",
            Variant::ResNet => "ResNet (data-driven)",
            Variant::MsInitial => "MS (initial, untrained)",
        }
    }

    fn slug(self) -> &'static str {
        match self {
            Variant::AphynEp => "aphyn-ep",
            Variant::Physical => "physical",
            Variant::ResNet => "resnet",
            Variant::MsInitial => "ms-initial",
        }
    }
}

/// The forecast horizons of Table 1 (ms).
pub const HORIZONS_MS: [f64; 4] = [6.0, 12.0, 24.0, 50.0];

/// Table 1 of Kashtanova et al. 2022 as quoted in issue 22: MSE of the normalised potential per
/// step at 6/12/24/50 ms, on ten Tusscher–Panfilov data (quoted, not re-run).
pub const PUBLISHED: [(&str, [f64; 4]); 3] = [
    ("APHYN-EP", [0.0057, 0.0037, 0.0029, 0.002]),
    ("MS (physical)", [0.0093, 0.0111, 0.0096, 0.0085]),
    ("ResNet (data-driven)", [0.0195, 0.0220, 0.1593, 9.9212]),
];

/// Mitchell–Schaeffer's parameter names, in the order of [`initial_parameters`].
pub const PARAMETER_NAMES: [&str; 6] =
    ["tau_in", "tau_out", "tau_open", "tau_close", "v_gate", "D"];

/// Where `F_p` starts: Mitchell and Schaeffer's published time constants (ms) and gate, and the
/// data's diffusion converted to cells² per millisecond (the tissue's conductivity taken as
/// known; it is learned with the rest).
pub fn initial_parameters() -> Vec<f64> {
    vec![0.3, 6.0, 120.0, 150.0, 0.13, data::diffusion_cells_per_ms()]
}

/// One trained (or reference) model on one seed.
#[derive(Debug, Clone, Serialize)]
pub struct RunResult {
    /// The variant.
    pub variant: Variant,
    /// The seed.
    pub seed: u64,
    /// Test MSE of the potential at each frame (mean over slabs and cells).
    pub mse_per_frame: Vec<f64>,
    /// Mean of `mse_per_frame` over the frames in `(0, H]`, one per horizon of [`HORIZONS_MS`].
    pub mse_horizons: Vec<f64>,
    /// The MSE at the frame at `H` itself.
    pub mse_at_horizons: Vec<f64>,
    /// The learned Mitchell–Schaeffer parameters (empty for the network alone).
    pub parameters: Vec<f64>,
    /// The final `λ` (APHYN-EP only).
    pub final_lambda: Option<f64>,
    /// `(L_traj, mean ‖F_a‖² per cell, λ)` per batch.
    #[serde(skip)]
    pub history: Vec<(f64, f64, f64)>,
    /// Seconds of training.
    pub train_s: f64,
    /// The first test slab's potential at the horizons, `4 × SIDE²` (for the figure).
    #[serde(skip)]
    pub snapshots: Vec<f64>,
}

/// One variant over the seeds.
#[derive(Debug, Clone, Serialize)]
pub struct VariantSummary {
    /// The row name.
    pub variant: &'static str,
    /// Mean over seeds of `mse_horizons`.
    pub mse_mean: Vec<f64>,
    /// Sample std over seeds of `mse_horizons` (0 with one seed).
    pub mse_std: Vec<f64>,
    /// The runs.
    pub runs: Vec<RunResult>,
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
    /// `"cardiac-ep"`.
    pub example: &'static str,
    /// Reduced run.
    pub quick: bool,
    /// Output folder.
    pub out_dir: String,
    /// Backend.
    pub backend: String,
    /// Precision.
    pub precision: String,
    /// The data's provenance.
    pub data: &'static str,
    /// The budget.
    pub budget: Budget,
    /// Forecast horizons (ms).
    pub horizons_ms: Vec<f64>,
    /// Mitchell–Schaeffer's parameter names.
    pub parameter_names: Vec<&'static str>,
    /// Where `F_p` starts.
    pub initial_parameters: Vec<f64>,
    /// Per variant.
    pub variants: Vec<VariantSummary>,
    /// Whether `APHYN-EP < MS (physical) < ResNet` in mean MSE at 24 and at 50 ms.
    pub ordering_24_50: bool,
    /// Table 1 as published (ten Tusscher–Panfilov data).
    pub published: Vec<(String, Vec<f64>)>,
    /// Figure files.
    pub figures: Vec<String>,
    /// Highlights (for the tour's report).
    pub key_numbers: Vec<KeyNumber>,
    /// Seconds for the whole run.
    pub wall_s: f64,
}

/// The observed potentials as one `[count, frames, SIDE²]` tensor on `device`.
pub fn potential_tensor(data: &SlabData, device: &SysDevice) -> Result<Tensor<3>, ExampleError> {
    let count = data.count();
    let frames = data.times_ms.len();
    let cells = SIDE * SIDE;
    let mut values = Vec::with_capacity(count * frames * cells);
    for t in &data.potential {
        for f in t {
            values.extend_from_slice(f);
        }
    }
    if values.len() != count * frames * cells {
        return Err(PhysicsError::SizeMismatch {
            what: "recorded potentials (slabs · frames · cells)",
            expected: count * frames * cells,
            got: values.len(),
        }
        .into());
    }
    let like: Tensor<2> = Tensor::zeros([1, 1], device.device());
    Ok(sysdyn_physics::model::host_tensor(
        values,
        [count, frames, cells],
        &like,
    ))
}

fn build_model(
    variant: Variant,
    budget: &Budget,
    seed: u64,
    device: &SysDevice,
) -> Result<CardiacModel, ExampleError> {
    let dev = device.device();
    let physics = MitchellSchaeffer::tissue(SIDE, SIDE, 1.0)?;
    let initial = initial_parameters();
    // Raw parameters start at 1: each of Adam's steps (of about the learning rate) changes a
    // time constant by about the learning rate, relative to its initial value.
    let scales = initial.clone();
    let net = || PotentialNet::new(SIDE, budget.hidden, budget.gain, 1000 + seed, dev);
    Ok(match variant {
        Variant::AphynEp => AugmentedModel::hybrid(physics, &initial, &scales, net()?, dev)?,
        Variant::Physical => AugmentedModel::physics_only(physics, &initial, &scales, dev)?,
        Variant::ResNet => AugmentedModel::neural_only(net()?, vec![1, SIDE, SIDE], dev),
        Variant::MsInitial => {
            AugmentedModel::physics_only(physics, &initial, &scales, dev)?.frozen()
        }
    })
}

/// The test scores of a model.
#[derive(Debug, Clone, PartialEq)]
pub struct Scores {
    /// The MSE of the potential at each frame (mean over slabs and cells).
    pub per_frame: Vec<f64>,
    /// Its means over the frames in `(0, H]`, one per horizon of [`HORIZONS_MS`].
    pub means: Vec<f64>,
    /// Its values at the frames at the horizons.
    pub at: Vec<f64>,
    /// The first slab's predicted potential at the horizons, `4 × SIDE²`.
    pub snapshots: Vec<f64>,
}

/// The scores of `model` forecasting the observed potentials `test` (`[slabs, frames, cells]`)
/// at `times` from their first frames.
pub fn score(
    model: &CardiacModel,
    test: &Tensor<3>,
    times: &[f64],
    substeps: usize,
) -> Result<Scores, ExampleError> {
    let pred = forecast(model, test, times, substeps)?.detach();
    let [_, frames, cells] = pred.dims();
    let per_frame: Vec<f64> = (pred.clone() - test.clone())
        .powi_scalar(2)
        .mean_dim(2)
        .mean_dim(0)
        .reshape([frames])
        .into_data()
        .convert::<f64>()
        .try_to_vec::<f64>()
        .map_err(|e| PhysicsError::Linalg(format!("reading the MSE back: {e:?}")))?;
    let frame_of = |h: f64| {
        times
            .iter()
            .position(|&t| (t - h).abs() < 1e-9)
            .unwrap_or(frames - 1)
    };
    let mut means = Vec::new();
    let mut at = Vec::new();
    let mut snapshots = Vec::new();
    let first: Vec<f64> = pred
        .narrow(0, 0, 1)
        .reshape([frames * cells])
        .into_data()
        .convert::<f64>()
        .try_to_vec::<f64>()
        .map_err(|e| PhysicsError::Linalg(format!("reading the forecast back: {e:?}")))?;
    for h in HORIZONS_MS {
        let k = frame_of(h);
        let upto = &per_frame[1..=k.max(1)];
        means.push(upto.iter().sum::<f64>() / upto.len() as f64);
        at.push(per_frame[k]);
        snapshots.extend_from_slice(&first[k * cells..(k + 1) * cells]);
    }
    Ok(Scores {
        per_frame,
        means,
        at,
        snapshots,
    })
}

/// One seed's data: training windows and test forecasts, with their frame times.
struct Split<'a> {
    train: &'a Tensor<3>,
    train_times: &'a [f64],
    test: &'a Tensor<3>,
    test_times: &'a [f64],
}

fn run_variant(
    variant: Variant,
    options: &Options,
    device: &SysDevice,
    split: &Split,
    seed: u64,
) -> Result<RunResult, ExampleError> {
    let b = options.budget;
    let model = build_model(variant, &b, seed, device)?;
    let start = Instant::now();
    let (model, history, final_lambda) = if variant == Variant::MsInitial {
        (model, Vec::new(), None)
    } else {
        let objective = match variant {
            Variant::AphynEp => AphynityObjective::Aphynity {
                norm: PenaltyNorm::L2,
                lambda0: b.lambda0,
                tau2: b.tau2,
            },
            _ => AphynityObjective::Trajectory,
        };
        let config = CardiacConfig {
            objective,
            batch_size: b.batch,
            substeps: b.substeps,
        };
        let mut step = CardiacStep::new(
            model,
            Optim::new(AdamConfig::new().build()),
            config,
            split.train.clone(),
            split.train_times.to_vec(),
        )?;
        let run = TrainConfig::new(b.steps)
            .with_seed(seed)
            .with_schedule(LrSchedule::Constant { lr: b.lr })
            .with_log_every(b.steps.div_ceil(100).max(1))
            .with_progress(if options.quiet {
                ProgressMode::Quiet
            } else {
                ProgressMode::Plain
            });
        let dir = options
            .out_dir
            .join("run")
            .join(format!("{}-s{seed}", variant.slug()));
        clear(&dir)?;
        Trainer::new(run, dir).run(&mut step)?;
        let lambda = step.lambda();
        let history = step.history().to_vec();
        (step.model().clone(), history, lambda)
    };
    let train_s = start.elapsed().as_secs_f64();
    let scores = score(&model, split.test, split.test_times, b.substeps)?;
    Ok(RunResult {
        variant,
        seed,
        mse_per_frame: scores.per_frame,
        mse_horizons: scores.means,
        mse_at_horizons: scores.at,
        parameters: model.parameters(),
        final_lambda,
        history,
        train_s,
        snapshots: scores.snapshots,
    })
}

fn clear(dir: &Path) -> Result<(), ExampleError> {
    if dir.exists() {
        // A fresh run each time: this example does not resume.
        std::fs::remove_dir_all(dir).map_err(|e| ExampleError::Io(dir.display().to_string(), e))?;
    }
    Ok(())
}

/// Runs the example and writes its files; returns the summary it wrote.
pub fn run(options: &Options) -> Result<Summary, ExampleError> {
    let start = Instant::now();
    let dir = options.out_dir.as_path();
    let mut spec = options.device;
    spec.autodiff = true;
    let mut device = spec.init()?;
    device.configure_defaults()?;
    let b = options.budget;
    say!(options, "[cardiac-ep] budget {b:?}");
    let test_times = data::frame_times(b.dt_ms, b.test_horizon_ms);
    let train_frames = (b.train_horizon_ms / b.dt_ms).round() as usize + 1;
    let mut per_variant: Vec<Vec<RunResult>> = vec![Vec::new(); Variant::ALL.len()];
    let mut truth_snapshots = Vec::new();
    for k in 0..b.seeds {
        let seed = options.seed + k as u64;
        let data_start = Instant::now();
        let train = data::simulate(b.train, seed, &test_times)?.truncated(train_frames);
        let test = data::simulate(b.test, !seed, &test_times)?;
        say!(
            options,
            "[cardiac-ep] seed {seed}: Aliev–Panfilov data in {:.1} s",
            data_start.elapsed().as_secs_f64()
        );
        if k == 0 {
            for h in HORIZONS_MS {
                let i = test_times
                    .iter()
                    .position(|&t| (t - h).abs() < 1e-9)
                    .unwrap_or(test_times.len() - 1);
                truth_snapshots.extend_from_slice(&test.potential[0][i]);
            }
        }
        let train_t = potential_tensor(&train, &device)?;
        let test_t = potential_tensor(&test, &device)?;
        for (i, &variant) in Variant::ALL.iter().enumerate() {
            let split = Split {
                train: &train_t,
                train_times: &train.times_ms,
                test: &test_t,
                test_times: &test_times,
            };
            let r = run_variant(variant, options, &device, &split, seed)?;
            say!(
                options,
                "[cardiac-ep] {} s{seed}: MSE up to 6/12/24/50 ms {:.4?}, parameters {:.4?}, {:.1} s",
                variant.name(),
                r.mse_horizons,
                r.parameters,
                r.train_s
            );
            per_variant[i].push(r);
        }
    }
    let variants: Vec<VariantSummary> = Variant::ALL
        .iter()
        .zip(per_variant)
        .map(|(v, runs)| summarise(*v, runs))
        .collect();
    let mut figures = Vec::new();
    let saved = figures::mse_curves(dir, &test_times, &variants)?;
    figures.extend(saved.names_relative_to(dir));
    let saved = figures::snapshots(dir, &truth_snapshots, &variants)?;
    figures.extend(saved.names_relative_to(dir));
    let saved = figures::training(dir, &variants)?;
    figures.extend(saved.names_relative_to(dir));
    let ordering_24_50 = ordering_holds(&variants);
    let summary = Summary {
        example: "cardiac-ep",
        quick: options.quick,
        out_dir: dir.display().to_string(),
        backend: spec.backend.name().to_string(),
        precision: format!("{:?}", spec.precision).to_lowercase(),
        data: "Aliev–Panfilov (not the paper's ten Tusscher–Panfilov): published numbers are a reference",
        budget: b,
        horizons_ms: HORIZONS_MS.to_vec(),
        parameter_names: PARAMETER_NAMES.to_vec(),
        initial_parameters: initial_parameters(),
        key_numbers: key_numbers(&variants, ordering_24_50),
        variants,
        ordering_24_50,
        published: PUBLISHED
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_vec()))
            .collect(),
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
    let (mut mse_mean, mut mse_std) = (Vec::new(), Vec::new());
    for h in 0..HORIZONS_MS.len() {
        let xs: Vec<f64> = runs.iter().map(|r| r.mse_horizons[h]).collect();
        let (m, s) = mean_and_sample_std(&xs);
        mse_mean.push(m);
        mse_std.push(if s.is_finite() { s } else { 0.0 });
    }
    VariantSummary {
        variant: variant.name(),
        mse_mean,
        mse_std,
        runs,
    }
}

/// `APHYN-EP < MS (physical) < ResNet` in mean MSE at 24 and at 50 ms (horizons 3 and 4).
pub fn ordering_holds(variants: &[VariantSummary]) -> bool {
    let by = |name: &str| variants.iter().find(|v| v.variant == name);
    let (Some(a), Some(p), Some(r)) = (
        by(Variant::AphynEp.name()),
        by(Variant::Physical.name()),
        by(Variant::ResNet.name()),
    ) else {
        return false;
    };
    [2, 3]
        .iter()
        .all(|&h| a.mse_mean[h] < p.mse_mean[h] && p.mse_mean[h] < r.mse_mean[h])
}

fn key_numbers(variants: &[VariantSummary], ordering: bool) -> Vec<KeyNumber> {
    let mut out = Vec::new();
    for v in variants {
        for (h, name) in [(2, "24"), (3, "50")] {
            out.push(KeyNumber {
                name: format!("{}: MSE up to {name} ms (mean over seeds)", v.variant),
                value: v.mse_mean[h],
            });
        }
    }
    out.push(KeyNumber {
        name: "ordering APHYN-EP < MS < ResNet at 24 and 50 ms (1 = holds)".into(),
        value: if ordering { 1.0 } else { 0.0 },
    });
    out
}

/// The results as Markdown: ours (mean ± std over seeds), the published Table 1, and the
/// learned parameters.
pub fn table(summary: &Summary) -> String {
    let mut s = format!(
        "Ours ({} seed(s); data: Aliev–Panfilov on 24 × 24; mean per-step MSE of the potential over the forecast up to H):\n\n| method | 6 ms | 12 ms | 24 ms | 50 ms |\n|---|---|---|---|---|\n",
        summary.budget.seeds
    );
    for v in &summary.variants {
        let cells: Vec<String> = v
            .mse_mean
            .iter()
            .zip(&v.mse_std)
            .map(|(m, sd)| format!("{m:.4} ± {sd:.4}"))
            .collect();
        s.push_str(&format!("| {} | {} |\n", v.variant, cells.join(" | ")));
    }
    s.push_str("\nPublished (Kashtanova et al. 2022, Table 1; ten Tusscher–Panfilov data — a reference, not like-for-like):\n\n| method | 6 ms | 12 ms | 24 ms | 50 ms |\n|---|---|---|---|---|\n");
    for (name, values) in PUBLISHED {
        let cells: Vec<String> = values.iter().map(|v| v.to_string()).collect();
        s.push_str(&format!("| {name} | {} |\n", cells.join(" | ")));
    }
    s.push_str(&format!(
        "\nMitchell–Schaeffer parameters ({}), initial: {}\n\n| method | seed | learned |\n|---|---|---|\n",
        PARAMETER_NAMES.join(", "),
        fmt_params(&summary.initial_parameters)
    ));
    for v in &summary.variants {
        for r in &v.runs {
            if !r.parameters.is_empty() && r.variant != Variant::MsInitial {
                s.push_str(&format!(
                    "| {} | {} | {} |\n",
                    v.variant,
                    r.seed,
                    fmt_params(&r.parameters)
                ));
            }
        }
    }
    s.push_str(&format!(
        "\nOrdering APHYN-EP < MS (physical) < ResNet at 24 and 50 ms: {}\n",
        if summary.ordering_24_50 {
            "holds"
        } else {
            "does not hold"
        }
    ));
    s
}

fn fmt_params(p: &[f64]) -> String {
    p.iter()
        .map(|v| format!("{v:.4}"))
        .collect::<Vec<_>>()
        .join(", ")
}
