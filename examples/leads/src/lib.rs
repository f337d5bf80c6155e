//! # LEADS on Lotka–Volterra
//!
//! LEADS (Yin et al., NeurIPS 2021) learns `dx/dt = f(x) + g_e(x)` over the ten Lotka–Volterra
//! environments of the paper (`β = δ = 0.5`, ten `(α, γ)` pairs) from one training trajectory
//! per environment, with the penalty `λ Ω` that keeps the `g_e` small, and is compared with the
//! paper's baselines as configurations of the same model (`sysdyn_physics::environments`):
//! One-For-All (one network `f`), One-Per-Env (ten independent networks) and `f + g_e` without
//! the penalty. Every method is trained over three seeds on the same data and scored by the
//! test MSE over 32 new trajectories per environment, next to the published 1.16 ± 0.99 e-3.
//!
//! Every run trains on the `sysdyn-train` runtime in `<out>/run/<method>-s<k>`; `--resume
//! <out>/run` continues interrupted runs, `--load <out>/run` evaluates without training.

pub mod figures;

use std::path::PathBuf;
use std::time::Instant;

use burn::optim::AdamConfig;
use clap::Parser;
use serde::Serialize;
use sysdyn_core::CoreError;
use sysdyn_core::cli::{CliError, Program, RunArgs, parse_from};
use sysdyn_core::device::{DeviceSpec, SysDevice};
use sysdyn_core::fs::{WriteError, write_atomic};
use sysdyn_core::rng::SeededRng;
use sysdyn_data::metrics::OverSeeds;
use sysdyn_physics::PhysicsError;
use sysdyn_physics::environments::step::{mse_by_env, predict};
use sysdyn_physics::environments::{
    EnvStep, EnvTrajectories, Leads, LeadsConfig, MultiEnvMethod, TeacherForcing,
};
use sysdyn_physics::simulators::lotka_volterra::LotkaVolterra;
use sysdyn_plot::PlotError;
use sysdyn_train::{LrSchedule, Optim, ProgressMode, RunSet, TrainConfig};
use thiserror::Error;

/// Why the example failed.
#[derive(Debug, Error)]
pub enum ExampleError {
    /// A device or precision that this build or the policy does not allow.
    #[error(transparent)]
    Device(#[from] CoreError),
    /// A model, data set or rollout failed.
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

fn parse_method(text: &str) -> Result<MultiEnvMethod, String> {
    MultiEnvMethod::ALL
        .into_iter()
        .find(|m| m.name() == text)
        .ok_or_else(|| {
            format!("unknown method `{text}`: use leads, leads-no-min, one-for-all or one-per-env")
        })
}

/// LEADS and its baselines on Lotka–Volterra's ten environments, three seeds each.
#[derive(Debug, Clone, Parser)]
#[command(name = "leads", version)]
pub struct Cli {
    /// Training steps per run (one step = every training trajectory of every environment)
    /// [default: 500; 30 with --quick]
    #[arg(long, value_name = "N")]
    pub steps: Option<usize>,

    /// Training steps per teacher-forcing stage: the restart probability is `0.99^i`, `i`
    /// growing by one every N steps [default: 1; the LEADS code: 10, over 120 000 epochs]
    #[arg(long, value_name = "N")]
    pub forcing_every: Option<u64>,

    /// Seeds per method [default: 3; 1 with --quick]
    #[arg(long, value_name = "N")]
    pub seeds: Option<usize>,

    /// Only these methods (comma-separated: leads, leads-no-min, one-for-all, one-per-env)
    /// [default: all four]
    #[arg(long, value_name = "LIST", value_delimiter = ',', value_parser = parse_method)]
    pub methods: Vec<MultiEnvMethod>,

    // Last: its help heading ("Common options") applies to every flag after it.
    /// The options every sysdyn program shares (`--load` / `--resume` take the folder of the
    /// run directories, `<out>/run`).
    #[command(flatten)]
    pub run: RunArgs,
}

/// The shared options' defaults here.
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
            device: run.device.with_autodiff(true),
            steps: self.steps,
            forcing_every: self.forcing_every.unwrap_or(1).max(1),
            seeds: self.seeds,
            methods: if self.methods.is_empty() {
                MultiEnvMethod::ALL.to_vec()
            } else {
                self.methods.clone()
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
    /// Device.
    pub device: DeviceSpec,
    /// Training steps per run.
    pub steps: Option<usize>,
    /// Steps per teacher-forcing stage.
    pub forcing_every: u64,
    /// Seeds per method.
    pub seeds: Option<usize>,
    /// Methods to train, in the order of [`MultiEnvMethod::ALL`].
    pub methods: Vec<MultiEnvMethod>,
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
    pub const DEFAULT_OUT: &'static str = "out/leads";

    /// Options from command-line arguments (without the program name) and the `SYSDYN_*`
    /// environment variables.
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

/// One method over the seeds.
#[derive(Debug, Clone, Serialize)]
pub struct MethodResult {
    /// The method (`leads`, `leads-no-min`, `one-for-all`, `one-per-env`).
    pub method: &'static str,
    /// Test MSE (mean over environments, trajectories, times and components) per seed, with
    /// mean and sample std.
    pub test_mse: OverSeeds,
    /// Training MSE of the whole trajectories (no teacher forcing) per seed.
    pub train_mse: OverSeeds,
    /// Test MSE per environment, mean over seeds.
    pub test_mse_by_env: Vec<f64>,
    /// Seconds of training per seed (0 with `--load`).
    pub train_s: Vec<f64>,
    /// Milliseconds per training step (all ten environments batched), mean over seeds.
    pub ms_per_step: f64,
}

/// A published number, quoted for comparison.
#[derive(Debug, Clone, Serialize)]
pub struct Published {
    /// Where it comes from.
    pub source: &'static str,
    /// The method.
    pub method: &'static str,
    /// Test MSE, mean.
    pub mse_mean: f64,
    /// Test MSE, std.
    pub mse_std: f64,
}

/// LEADS's Table 1 (Lotka–Volterra, one training trajectory per environment), quoted, not
/// re-run.
pub const PUBLISHED: [Published; 4] = [
    published("leads", 1.16e-3, 0.99e-3),
    published("one-for-all", 7.87e-2, 7.63e-2),
    published("one-per-env", 7.49e-2, 4.66e-2),
    published("leads-no-min", 1.87e-3, 1.36e-3),
];

const fn published(method: &'static str, mse_mean: f64, mse_std: f64) -> Published {
    Published {
        source: "Yin et al. 2021 (LEADS), Table 1, LV with 1 trajectory per env; quoted, not re-run",
        method,
        mse_mean,
        mse_std,
    }
}

/// Everything the example measured.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// `"leads"`.
    pub example: &'static str,
    /// Reduced run.
    pub quick: bool,
    /// Whether this invocation trained.
    pub trained: bool,
    /// Output folder.
    pub out_dir: String,
    /// Backend.
    pub backend: String,
    /// Precision.
    pub precision: String,
    /// Seeds per method.
    pub seeds: usize,
    /// Training steps per run.
    pub steps: usize,
    /// Steps per teacher-forcing stage.
    pub forcing_every: u64,
    /// Environments `(α, β, γ, δ)`.
    pub environments: Vec<[f64; 4]>,
    /// Per method.
    pub results: Vec<MethodResult>,
    /// Published numbers.
    pub published: Vec<Published>,
    /// Figure files.
    pub figures: Vec<String>,
    /// Seconds for the whole run.
    pub wall_s: f64,
}

/// The data: one training and 32 test trajectories per environment (LEADS's protocol),
/// horizon 10, step 0.5.
pub fn data(
    device: &SysDevice,
    seed: u64,
    quick: bool,
) -> Result<(EnvTrajectories, EnvTrajectories), ExampleError> {
    let train = LotkaVolterra::leads_dataset(1, seed)?;
    let test = LotkaVolterra::leads_dataset(if quick { 4 } else { 32 }, seed.wrapping_add(1000))?;
    Ok((
        EnvTrajectories::from_dataset(&train, device)?,
        EnvTrajectories::from_dataset(&test, device)?,
    ))
}

fn run_name(method: MultiEnvMethod, seed_index: usize) -> String {
    format!("{}-s{seed_index}", method.name())
}

/// The trained model of one run, its scores and timing.
pub struct Trained {
    /// The model.
    pub model: Leads,
    /// Test MSE per environment.
    pub test_by_env: Vec<f64>,
    /// Training MSE per environment (whole trajectories).
    pub train_by_env: Vec<f64>,
    /// Seconds of training (0 when loaded).
    pub train_s: f64,
    /// Whether it trained.
    pub trained: bool,
}

/// Trains (or loads) one method and seed.
#[allow(clippy::too_many_arguments)]
pub fn train_one(
    device: &SysDevice,
    runs: &RunSet,
    method: MultiEnvMethod,
    seed_index: usize,
    seed: u64,
    steps: usize,
    train: &EnvTrajectories,
    test: &EnvTrajectories,
    forcing: TeacherForcing,
    quiet: bool,
) -> Result<Trained, ExampleError> {
    let steps_u = steps as u64;
    let config = TrainConfig::new(steps_u)
        .with_seed(seed)
        .with_schedule(LrSchedule::Constant { lr: 1e-3 })
        // Teacher forcing lengthens the rolled-out segments as training goes: the loss rises
        // by design, so only NaN and infinities stop a run.
        .with_divergence_factor(None)
        .with_eval_every(Some((steps_u / 10).max(1)))
        .with_checkpoint_every(Some((steps_u / 2).max(1)))
        .with_progress(if quiet {
            ProgressMode::Quiet
        } else {
            ProgressMode::Auto
        });
    let session = runs.session(config, &run_name(method, seed_index))?;
    let model = LeadsConfig::lotka_volterra(method, train.envs())
        .init(device, &mut SeededRng::new(seed))?;
    let mut step = EnvStep::new(
        model,
        Optim::new(AdamConfig::new().build()),
        train.clone(),
        Some(test.clone()),
        forcing,
        1,
    )?;
    let start = Instant::now();
    let trained = session.run(&mut step)?.is_some();
    let train_s = if trained {
        start.elapsed().as_secs_f64()
    } else {
        0.0
    };
    let model = step.into_model();
    Ok(Trained {
        test_by_env: mse_by_env(&model, test, 1)?,
        train_by_env: mse_by_env(&model, train, 1)?,
        model,
        train_s,
        trained,
    })
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len().max(1) as f64
}

/// Runs the whole example and writes its files; returns the summary it wrote.
pub fn run(options: &Options) -> Result<Summary, ExampleError> {
    let start = Instant::now();
    let dir = options.out_dir.as_path();
    let mut device = options.device.init()?;
    // Optimizer state is restored in the device's default float type: make it the run's
    // precision before any tensor exists, so a run resumes exactly.
    device.configure_defaults()?;
    let quick = options.quick;
    let seeds = options.seeds.unwrap_or(if quick { 1 } else { 3 }).max(1);
    let steps = options.steps.unwrap_or(if quick { 30 } else { 500 }).max(1);
    let methods: Vec<MultiEnvMethod> = MultiEnvMethod::ALL
        .into_iter()
        .filter(|m| options.methods.contains(m))
        .collect();
    let names: Vec<String> = methods
        .iter()
        .flat_map(|&m| (0..seeds).map(move |s| run_name(m, s)))
        .collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let runs = RunSet::from_flags(
        &dir.join("run"),
        options.load.as_deref(),
        options.resume.as_deref(),
        &refs,
    )?;
    let (train, test) = data(&device, options.seed, quick)?;
    let mut results = Vec::new();
    let mut first_models = Vec::new();
    let mut trained_any = false;
    for &method in &methods {
        let mut test_mse = Vec::new();
        let mut train_mse = Vec::new();
        let mut by_env = vec![0.0; train.envs()];
        let mut train_s = Vec::new();
        for s in 0..seeds {
            say!(
                options,
                "[leads] {} seed {s} ({steps} steps on {})",
                method.name(),
                device.spec()
            );
            let t = train_one(
                &device,
                &runs,
                method,
                s,
                options.seed.wrapping_add(s as u64),
                steps,
                &train,
                &test,
                TeacherForcing {
                    every: options.forcing_every,
                    ..TeacherForcing::leads()
                },
                options.quiet,
            )?;
            trained_any |= t.trained;
            say!(
                options,
                "  test MSE {:.3e}, train MSE {:.3e}; {:.1} s",
                mean(&t.test_by_env),
                mean(&t.train_by_env),
                t.train_s
            );
            test_mse.push(mean(&t.test_by_env));
            train_mse.push(mean(&t.train_by_env));
            for (acc, v) in by_env.iter_mut().zip(&t.test_by_env) {
                *acc += v / seeds as f64;
            }
            train_s.push(t.train_s);
            if s == 0 {
                first_models.push((method, t.model));
            }
        }
        results.push(MethodResult {
            method: method.name(),
            ms_per_step: 1e3 * mean(&train_s) / steps as f64,
            test_mse: OverSeeds::of(test_mse),
            train_mse: OverSeeds::of(train_mse),
            test_mse_by_env: by_env,
            train_s,
        });
    }

    let mut predictions = Vec::new();
    for (method, model) in &first_models {
        predictions.push((method.name(), predict(model, &test, 1)?));
    }
    let mut figures = figures::phase_portraits(dir, &test, &predictions)?;
    figures.extend(figures::mse_by_env(dir, &results)?);

    let summary = Summary {
        example: "leads",
        quick,
        trained: trained_any,
        out_dir: dir.display().to_string(),
        backend: device.spec().backend.name().to_string(),
        precision: device.spec().precision.name().to_string(),
        seeds,
        steps,
        forcing_every: options.forcing_every,
        environments: LotkaVolterra::leads_environments(),
        results,
        published: PUBLISHED.to_vec(),
        figures,
        wall_s: start.elapsed().as_secs_f64(),
    };
    write_atomic(
        &dir.join("summary.json"),
        serde_json::to_string_pretty(&summary)?.as_bytes(),
    )?;
    Ok(summary)
}
