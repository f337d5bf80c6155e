//! # CoDA on Lotka–Volterra
//!
//! CoDA (Kirchmeyer et al., ICML 2022) gives every environment the parameters
//! `θ_e = θ_c + W ξ_e` of one dynamics network (a four-layer Swish MLP of width 64), with a 2-D
//! context `ξ_e`. It is trained on nine Lotka–Volterra environments, `α = γ = 0.5` and
//! `(β, δ) ∈ {0.5, 0.75, 1.0}²` (four training trajectories each), then adapted to four new
//! environments `(β, δ) ∈ {0.625, 1.125}²` from one trajectory each by fitting a new `ξ` alone,
//! `θ_c` and `W` frozen. The reference is One-For-All trained on the same nine environments
//! and fine-tuned, every weight, on the same single trajectory of each new environment. Test
//! MSE over 32 new trajectories per environment, three seeds.
//!
//! Adaptation is cheap, so it is done for a whole grid of environments over
//! `(β, δ) ∈ [0.25, 1.25]²` (9 × 9 by default, 51 × 51 with `--full`), in parallel (rayon over
//! chunks of the grid, each chunk one batched adaptation): the map of the adapted error and of
//! the learned context, which should vary smoothly with `(β, δ)`.
//!
//! Every run trains on the `sysdyn-train` runtime in `<out>/run/<name>`; `--resume <out>/run`
//! continues interrupted runs, `--load <out>/run` evaluates without training.

pub mod figures;

use std::path::PathBuf;
use std::time::Instant;

use burn::optim::AdamConfig;
use clap::Parser;
use rayon::prelude::*;
use serde::Serialize;
use sysdyn_core::CoreError;
use sysdyn_core::cli::{CliError, Program, RunArgs, parse_from};
use sysdyn_core::device::{DeviceSpec, SysDevice};
use sysdyn_core::fs::{WriteError, write_atomic};
use sysdyn_core::rng::SeededRng;
use sysdyn_data::metrics::OverSeeds;
use sysdyn_physics::PhysicsError;
use sysdyn_physics::environments::step::mse_by_env;
use sysdyn_physics::environments::{
    Coda, CodaAdaptStep, CodaConfig, EnvStep, EnvTrajectories, Leads, LeadsConfig, MultiEnvMethod,
    TeacherForcing,
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

/// CoDA on Lotka–Volterra: training, adaptation to new environments, the adaptation map.
#[derive(Debug, Clone, Parser)]
#[command(name = "coda", version)]
pub struct Cli {
    /// Training steps of CoDA and of One-For-All [default: 600; 20 with --quick]
    #[arg(long, value_name = "N")]
    pub steps: Option<usize>,

    /// Adaptation steps (CoDA's context, One-For-All's fine-tuning) [default: 300; 10 with
    /// --quick]
    #[arg(long, value_name = "N")]
    pub adapt_steps: Option<usize>,

    /// Seeds [default: 3; 1 with --quick]
    #[arg(long, value_name = "N")]
    pub seeds: Option<usize>,

    /// The adaptation map on the paper's 51 × 51 grid (default 9 × 9; 3 × 3 with --quick)
    #[arg(long)]
    pub full: bool,

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
            full: self.full,
            device: run.device.with_autodiff(true),
            steps: self.steps,
            adapt_steps: self.adapt_steps,
            seeds: self.seeds,
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
    /// The 51 × 51 adaptation map.
    pub full: bool,
    /// Device.
    pub device: DeviceSpec,
    /// Training steps.
    pub steps: Option<usize>,
    /// Adaptation steps.
    pub adapt_steps: Option<usize>,
    /// Seeds.
    pub seeds: Option<usize>,
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
    pub const DEFAULT_OUT: &'static str = "out/coda";

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

/// `(α, β, γ, δ)` with `α = γ = 0.5`.
fn lv(beta: f64, delta: f64) -> [f64; 4] {
    [0.5, beta, 0.5, delta]
}

/// CoDA's nine training environments, `(β, δ) ∈ {0.5, 0.75, 1.0}²`.
pub fn training_environments() -> Vec<[f64; 4]> {
    let values = [0.5, 0.75, 1.0];
    values
        .iter()
        .flat_map(|&b| values.iter().map(move |&d| lv(b, d)))
        .collect()
}

/// CoDA's four adaptation environments, `(β, δ) ∈ {0.625, 1.125}²`.
pub fn adaptation_environments() -> Vec<[f64; 4]> {
    let values = [0.625, 1.125];
    values
        .iter()
        .flat_map(|&b| values.iter().map(move |&d| lv(b, d)))
        .collect()
}

/// `per_env` trajectories in each of `envs`, horizon 10, step 0.5, initial states U[1, 2)².
pub fn trajectories(
    device: &SysDevice,
    envs: &[[f64; 4]],
    per_env: usize,
    seed: u64,
) -> Result<EnvTrajectories, ExampleError> {
    let times = sysdyn_physics::model::uniform_times(10.0, 0.5)?;
    let data = LotkaVolterra::dataset_environments(envs, per_env, seed, &times)?;
    Ok(EnvTrajectories::from_dataset(&data, device)?)
}

fn config(steps: usize, seed: u64, lr: f64, clip: Option<f64>, quiet: bool) -> TrainConfig {
    let steps = steps as u64;
    TrainConfig::new(steps)
        .with_seed(seed)
        .with_schedule(LrSchedule::Constant { lr })
        .with_grad_clip_norm(clip)
        // Teacher forcing lengthens the rolled-out segments as training goes: the loss rises
        // by design, so only NaN and infinities stop a run.
        .with_divergence_factor(None)
        .with_checkpoint_every(Some(steps.max(1)))
        .with_progress(if quiet {
            ProgressMode::Quiet
        } else {
            ProgressMode::Auto
        })
}

/// One seed's scores.
#[derive(Debug, Clone, Serialize)]
pub struct SeedResult {
    /// CoDA's test MSE per training environment.
    pub coda_train_envs: Vec<f64>,
    /// One-For-All's test MSE per training environment.
    pub one_for_all_train_envs: Vec<f64>,
    /// CoDA adapted (context only), test MSE per new environment.
    pub coda_adapted: Vec<f64>,
    /// One-For-All fine-tuned (every weight), test MSE per new environment.
    pub one_for_all_finetuned: Vec<f64>,
    /// One-For-All without fine-tuning, test MSE per new environment.
    pub one_for_all_zero_shot: Vec<f64>,
    /// The learned contexts of the training environments.
    pub training_contexts: Vec<Vec<f64>>,
    /// The adapted contexts of the new environments.
    pub adapted_contexts: Vec<Vec<f64>>,
    /// Seconds: CoDA training, One-For-All training, CoDA adaptation, fine-tuning.
    pub seconds: [f64; 4],
}

/// The mean test MSEs over seeds.
#[derive(Debug, Clone, Serialize)]
pub struct Results {
    /// CoDA on its training environments (32 test trajectories each).
    pub coda_train_envs: OverSeeds,
    /// One-For-All on the training environments.
    pub one_for_all_train_envs: OverSeeds,
    /// CoDA adapted to the new environments from one trajectory each.
    pub coda_adapted: OverSeeds,
    /// One-For-All fine-tuned on the same trajectory.
    pub one_for_all_finetuned: OverSeeds,
    /// One-For-All on the new environments without fine-tuning.
    pub one_for_all_zero_shot: OverSeeds,
    /// Adapted error over training-environment error, per seed.
    pub adaptation_ratio: OverSeeds,
}

/// The adaptation map (first seed).
#[derive(Debug, Clone, Serialize)]
pub struct AdaptationMap {
    /// Points per axis.
    pub n: usize,
    /// The grid's β values (= its δ values).
    pub axis: Vec<f64>,
    /// Test MSE after adaptation, `values[j·n + i]` at `(β_i, δ_j)`.
    pub mse: Vec<f64>,
    /// The adapted contexts, same order.
    pub contexts: Vec<Vec<f64>>,
    /// Chunks adapted in parallel.
    pub chunks: usize,
    /// Wall-clock seconds of the whole map (data, adaptation, evaluation).
    pub wall_s: f64,
}

/// Everything the example measured.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// `"coda"`.
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
    /// Seeds.
    pub seeds: usize,
    /// Training steps.
    pub steps: usize,
    /// Adaptation steps.
    pub adapt_steps: usize,
    /// Training environments.
    pub training_environments: Vec<[f64; 4]>,
    /// Adaptation environments.
    pub adaptation_environments: Vec<[f64; 4]>,
    /// Per seed.
    pub per_seed: Vec<SeedResult>,
    /// Over seeds.
    pub results: Results,
    /// The adaptation map.
    pub map: AdaptationMap,
    /// Figure files.
    pub figures: Vec<String>,
    /// Seconds for the whole run.
    pub wall_s: f64,
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len().max(1) as f64
}

/// Learning rate of the contexts during adaptation (two numbers per environment: larger than
/// the network's 1e-3).
pub const ADAPT_LR: f64 = 1e-2;

/// Adapts `coda` to `envs` from `train` by fitting new contexts in the run `name`; returns the
/// adapted model and the seconds spent.
fn adapt(
    coda: &Coda,
    runs: &RunSet,
    name: &str,
    train: &EnvTrajectories,
    steps: usize,
    seed: u64,
    quiet: bool,
) -> Result<(Coda, f64), ExampleError> {
    // No clipping: the global norm would couple the environments' independent adaptations.
    let session = runs.session(config(steps, seed, ADAPT_LR, None, quiet), name)?;
    let mut step = CodaAdaptStep::new(
        coda.clone(),
        Optim::new(AdamConfig::new().build()),
        train.clone(),
        TeacherForcing::leads(),
        1,
    )?;
    let start = Instant::now();
    session.run(&mut step)?;
    Ok((step.adapted()?, start.elapsed().as_secs_f64()))
}

/// Runs the whole example and writes its files; returns the summary it wrote.
pub fn run(options: &Options) -> Result<Summary, ExampleError> {
    let start = Instant::now();
    let dir = options.out_dir.as_path();
    let mut device = options.device.init()?;
    device.configure_defaults()?;
    let quick = options.quick;
    let seeds = options.seeds.unwrap_or(if quick { 1 } else { 3 }).max(1);
    let steps = options.steps.unwrap_or(if quick { 20 } else { 600 }).max(1);
    let adapt_steps = options
        .adapt_steps
        .unwrap_or(if quick { 10 } else { 300 })
        .max(1);
    let n_map = if options.full {
        51
    } else if quick {
        3
    } else {
        9
    };
    let test_per_env = if quick { 4 } else { 32 };
    let map_chunks = rayon::current_num_threads().max(1);
    let mut names = Vec::new();
    for s in 0..seeds {
        for stem in ["coda", "one-for-all", "adapt-coda", "finetune-one-for-all"] {
            names.push(format!("{stem}-s{s}"));
        }
    }
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let runs = RunSet::from_flags(
        &dir.join("run"),
        options.load.as_deref(),
        options.resume.as_deref(),
        &refs,
    )?;
    let train_envs = training_environments();
    let new_envs = adaptation_environments();
    let train = trajectories(&device, &train_envs, 4, options.seed)?;
    let test = trajectories(&device, &train_envs, test_per_env, options.seed + 1)?;
    let new_train = trajectories(&device, &new_envs, 1, options.seed + 2)?;
    let new_test = trajectories(&device, &new_envs, test_per_env, options.seed + 3)?;

    let mut per_seed = Vec::new();
    let mut first_coda = None;
    let mut first_models = None;
    let trained = runs.trains();
    for s in 0..seeds {
        let seed = options.seed.wrapping_add(s as u64);
        say!(
            options,
            "[coda] seed {s}: CoDA, {steps} steps on {}",
            device.spec()
        );
        let coda =
            CodaConfig::lotka_volterra(train.envs()).init(&device, &mut SeededRng::new(seed))?;
        let session = runs.session(
            config(steps, seed, 1e-3, Some(1.0), options.quiet),
            &format!("coda-s{s}"),
        )?;
        let mut step = EnvStep::new(
            coda,
            Optim::new(AdamConfig::new().build()),
            train.clone(),
            None,
            TeacherForcing::leads(),
            1,
        )?;
        let t0 = Instant::now();
        session.run(&mut step)?;
        let coda_s = t0.elapsed().as_secs_f64();
        let coda = step.into_model();

        say!(options, "[coda] seed {s}: One-For-All, {steps} steps");
        let ofa = LeadsConfig::lotka_volterra(MultiEnvMethod::OneForAll, train.envs())
            .init(&device, &mut SeededRng::new(seed))?;
        let session = runs.session(
            config(steps, seed, 1e-3, None, options.quiet),
            &format!("one-for-all-s{s}"),
        )?;
        let mut step = EnvStep::new(
            ofa,
            Optim::new(AdamConfig::new().build()),
            train.clone(),
            None,
            TeacherForcing::leads(),
            1,
        )?;
        let t0 = Instant::now();
        session.run(&mut step)?;
        let ofa_s = t0.elapsed().as_secs_f64();
        let ofa: Leads = step.into_model();

        say!(options, "[coda] seed {s}: adaptation, {adapt_steps} steps");
        let (adapted, adapt_s) = adapt(
            &coda,
            &runs,
            &format!("adapt-coda-s{s}"),
            &new_train,
            adapt_steps,
            seed,
            options.quiet,
        )?;
        let copies = ofa.one_per_env_copies(new_envs.len())?;
        let session = runs.session(
            config(adapt_steps, seed, 1e-3, None, options.quiet),
            &format!("finetune-one-for-all-s{s}"),
        )?;
        let mut step = EnvStep::new(
            copies,
            Optim::new(AdamConfig::new().build()),
            new_train.clone(),
            None,
            TeacherForcing::leads(),
            1,
        )?;
        let t0 = Instant::now();
        session.run(&mut step)?;
        let finetune_s = t0.elapsed().as_secs_f64();
        let finetuned = step.into_model();

        let result = SeedResult {
            coda_train_envs: mse_by_env(&coda, &test, 1)?,
            one_for_all_train_envs: mse_by_env(&ofa, &test, 1)?,
            coda_adapted: mse_by_env(&adapted, &new_test, 1)?,
            one_for_all_finetuned: mse_by_env(&finetuned, &new_test, 1)?,
            one_for_all_zero_shot: mse_by_env(&ofa, &new_test, 1)?,
            training_contexts: coda.contexts_host()?,
            adapted_contexts: adapted.contexts_host()?,
            seconds: [coda_s, ofa_s, adapt_s, finetune_s],
        };
        say!(
            options,
            "  CoDA {:.3e} on its environments, {:.3e} adapted; One-For-All {:.3e}, fine-tuned {:.3e}",
            mean(&result.coda_train_envs),
            mean(&result.coda_adapted),
            mean(&result.one_for_all_train_envs),
            mean(&result.one_for_all_finetuned)
        );
        per_seed.push(result);
        if s == 0 {
            first_models = Some((adapted.clone(), finetuned));
            first_coda = Some(coda);
        }
    }

    let over = |f: &dyn Fn(&SeedResult) -> f64| OverSeeds::of(per_seed.iter().map(f).collect());
    let results = Results {
        coda_train_envs: over(&|r| mean(&r.coda_train_envs)),
        one_for_all_train_envs: over(&|r| mean(&r.one_for_all_train_envs)),
        coda_adapted: over(&|r| mean(&r.coda_adapted)),
        one_for_all_finetuned: over(&|r| mean(&r.one_for_all_finetuned)),
        one_for_all_zero_shot: over(&|r| mean(&r.one_for_all_zero_shot)),
        adaptation_ratio: over(&|r| mean(&r.coda_adapted) / mean(&r.coda_train_envs)),
    };

    let coda = first_coda.ok_or(PhysicsError::Empty {
        what: "seeds",
        unit: "seed",
    })?;
    say!(
        options,
        "[coda] adaptation map {n_map} × {n_map} in {map_chunks} parallel chunks"
    );
    let map = adaptation_map(
        &device,
        &coda,
        &runs,
        n_map,
        map_chunks,
        adapt_steps,
        options,
    )?;

    let mut figures = figures::adaptation_map(dir, &map, &train_envs, &new_envs)?;
    if let Some((adapted, finetuned)) = &first_models {
        figures.extend(figures::new_environments(
            dir, &new_test, adapted, finetuned,
        )?);
    }

    let summary = Summary {
        example: "coda",
        quick,
        trained,
        out_dir: dir.display().to_string(),
        backend: device.spec().backend.name().to_string(),
        precision: device.spec().precision.name().to_string(),
        seeds,
        steps,
        adapt_steps,
        training_environments: train_envs,
        adaptation_environments: new_envs,
        per_seed,
        results,
        map,
        figures,
        wall_s: start.elapsed().as_secs_f64(),
    };
    write_atomic(
        &dir.join("summary.json"),
        serde_json::to_string_pretty(&summary)?.as_bytes(),
    )?;
    Ok(summary)
}

/// One chunk of the map: its index, environments, and its own copies of the model, device
/// and run set (moved to a rayon worker).
type MapChunk = (usize, Vec<[f64; 4]>, Coda, SysDevice, RunSet);

/// A chunk's test MSE and adapted contexts, per environment.
type ChunkResult = (Vec<f64>, Vec<Vec<f64>>);

/// Adapts the trained `coda` to every point of an `n × n` grid over `(β, δ) ∈ [0.25, 1.25]²`
/// (one training trajectory, 8 test trajectories per point; `α = γ = 0.5`), the grid cut into
/// `chunks` batched adaptations run in parallel by rayon.
fn adaptation_map(
    device: &SysDevice,
    coda: &Coda,
    runs: &RunSet,
    n: usize,
    chunks: usize,
    steps: usize,
    options: &Options,
) -> Result<AdaptationMap, ExampleError> {
    let start = Instant::now();
    let axis: Vec<f64> = (0..n)
        .map(|i| {
            0.25 + if n > 1 {
                i as f64 / (n - 1) as f64
            } else {
                0.5
            }
        })
        .collect();
    // Row j holds δ = axis[j], column i β = axis[i] (the heatmap's layout).
    let envs: Vec<[f64; 4]> = axis
        .iter()
        .flat_map(|&d| axis.iter().map(move |&b| lv(b, d)))
        .collect();
    let per_chunk = envs.len().div_ceil(chunks.max(1));
    let parts: Vec<MapChunk> = envs
        .chunks(per_chunk)
        .enumerate()
        .map(|(k, part)| (k, part.to_vec(), coda.clone(), device.clone(), runs.clone()))
        .collect();
    let chunk_count = parts.len();
    let quiet = true;
    let results: Vec<Result<ChunkResult, ExampleError>> = parts
        .into_par_iter()
        .map(|(k, part, coda, device, runs)| {
            let seed = options.seed.wrapping_add(100 + k as u64);
            let train = trajectories(&device, &part, 1, seed)?;
            let test = trajectories(&device, &part, 8, seed.wrapping_add(50))?;
            let (adapted, _) = adapt(
                &coda,
                &runs,
                &format!("map-chunk{k}"),
                &train,
                steps,
                seed,
                quiet,
            )?;
            Ok((mse_by_env(&adapted, &test, 1)?, adapted.contexts_host()?))
        })
        .collect();
    let mut mse = Vec::new();
    let mut contexts = Vec::new();
    for r in results {
        let (m, c) = r?;
        mse.extend(m);
        contexts.extend(c);
    }
    Ok(AdaptationMap {
        n,
        axis,
        mse,
        contexts,
        chunks: chunk_count,
        wall_s: start.elapsed().as_secs_f64(),
    })
}
