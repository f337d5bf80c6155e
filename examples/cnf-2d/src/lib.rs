//! # Continuous normalizing flows in two dimensions
//!
//! A flow `dz/dt = f([z, t])` (an MLP with tanh) moves data to a standard normal latent over
//! `t ∈ [0, 1]`; its log-density follows from the instantaneous change of variables with the
//! exact trace `tr(∂f/∂z)` computed by forward-mode jets. For each of two moons, eight
//! Gaussians and a checkerboard a flow is trained by maximum likelihood (fresh samples every
//! step, Adam), then evaluated: test NLL against the best single Gaussian, samples (the flow run
//! backwards from normal draws) and the density on a grid. A last flow is fitted to an
//! unnormalised density (eight Gaussian bumps) by reverse KL, with the KL estimated using the
//! known normaliser.
//!
//! Every flow trains on the `sysdyn-train` runtime, in its own run directory
//! `<out>/run/<name>` (`two-moons`, `eight-gaussians`, `checkerboard`, `reverse-kl`): checkpoints,
//! and the per-step losses in `metrics.jsonl` that the figures read. `--resume <out>/run`
//! continues interrupted runs, `--load <out>/run` evaluates the trained flows without training.
//!
//! Modules: [`flow`] (construction, training, evaluation), [`figures`].

pub mod figures;
pub mod flow;

use std::path::PathBuf;
use std::time::Instant;

use clap::Parser;
use serde::Serialize;
use sysdyn_core::cli::{CliError, Program, RunArgs, parse_from};
use sysdyn_core::device::DeviceSpec;
use sysdyn_core::fs::{WriteError, write_atomic};
use sysdyn_core::jet::JetError;
use sysdyn_core::rng::SeededRng;
use sysdyn_core::{CoreError, ShapeMismatch};
use sysdyn_data::toy2d::{Toy2d, gaussian_baseline_nll};
use sysdyn_nodes::NodeError;
use sysdyn_plot::{PlotError, linspace};
use sysdyn_train::{LrSchedule, ProgressMode, RunSet, Session, TrainStep};
use thiserror::Error;

use crate::flow::FlowConfig;

/// Why the example failed.
#[derive(Debug, Error)]
pub enum ExampleError {
    /// A device or precision that this build or the policy does not allow.
    #[error(transparent)]
    Device(#[from] CoreError),
    /// A flow solve or gradient failed.
    #[error(transparent)]
    Node(#[from] NodeError),
    /// A network could not be built.
    #[error(transparent)]
    Jet(#[from] JetError),
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
    /// Training, a checkpoint or a run directory failed.
    #[error(transparent)]
    Train(#[from] sysdyn_train::TrainError),
}

/// Continuous normalizing flows on two moons, eight Gaussians and a checkerboard, trained by
/// maximum likelihood with the exact trace, and a flow fitted to an unnormalised density by
/// reverse KL; writes density and sample plots and summary.json.
#[derive(Debug, Clone, Parser)]
#[command(name = "cnf-2d", version)]
pub struct Cli {
    /// Optimizer steps per flow [default: 1500; 40 with --quick]
    #[arg(long, value_name = "N")]
    pub iterations: Option<usize>,

    // Last: its help heading ("Common options") applies to every flag after it.
    /// The options every sysdyn program shares (`--load` / `--resume` take the folder of the
    /// run directories, `<out>/run`).
    #[command(flatten)]
    pub run: RunArgs,
}

/// What the shared options default to here. The default seed reproduces the published figures
/// (runs seeded 100–102 and 999, evaluation data from 7–9). Training saves checkpoints, so
/// `--load DIR` (evaluate the trained flows without training) and `--resume DIR` (continue
/// interrupted runs) are accepted, DIR being the folder of the run directories, e.g.
/// `out/cnf-2d/run`.
pub const PROGRAM: Program = Program {
    default_out: Options::DEFAULT_OUT,
    default_seed: Some(0),
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
            device: run.device.with_autodiff(true),
            iterations: self.iterations,
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
    /// Optimizer steps per flow (default 1500, quick 40).
    pub iterations: Option<usize>,
    /// Base of every seed (weights, training batches, samples); each draw adds its own offset.
    pub seed: u64,
    /// No progress lines.
    pub quiet: bool,
    /// Evaluate the flows of this folder of run directories without training.
    pub load: Option<PathBuf>,
    /// Continue the interrupted runs in this folder of run directories.
    pub resume: Option<PathBuf>,
}

impl Options {
    /// Default output folder.
    pub const DEFAULT_OUT: &'static str = "out/cnf-2d";

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

/// One dataset's results.
#[derive(Debug, Clone, Serialize)]
pub struct DatasetResult {
    /// Dataset name.
    pub dataset: &'static str,
    /// Mean NLL of the last 50 training batches.
    pub final_batch_nll: f64,
    /// Mean NLL of held-out samples under the flow.
    pub test_nll: f64,
    /// Mean NLL of the same samples under the maximum-likelihood Gaussian.
    pub gaussian_test_nll: f64,
    /// `gaussian_test_nll - test_nll` (positive: the flow is better).
    pub margin_over_gaussian: f64,
    /// Seconds of training in this invocation (0 with `--load`).
    pub train_s: f64,
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
    /// `"cnf-2d"`.
    pub example: &'static str,
    /// Reduced run.
    pub quick: bool,
    /// Whether this invocation trained (false with `--load`).
    pub trained: bool,
    /// Output folder.
    pub out_dir: String,
    /// Backend.
    pub backend: String,
    /// Precision.
    pub precision: String,
    /// Hidden widths, RK4 steps, iterations, batch.
    pub hidden: Vec<usize>,
    /// RK4 steps over [0, 1].
    pub rk4_steps: usize,
    /// Optimizer steps per flow.
    pub iterations: usize,
    /// Samples per step.
    pub batch: usize,
    /// Held-out samples for the test NLL.
    pub test_samples: usize,
    /// Per dataset.
    pub datasets: Vec<DatasetResult>,
    /// Reverse KL: the estimate of KL(q ‖ p) at the start and the end (mean of 50 steps).
    pub reverse_kl_first_last: [f64; 2],
    /// Figure files.
    pub figures: Vec<String>,
    /// Highlights.
    pub key_numbers: Vec<KeyNumber>,
    /// Seconds for the whole run.
    pub wall_s: f64,
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len().max(1) as f64
}

fn tail_mean(v: &[f64], n: usize) -> f64 {
    mean(&v[v.len() - n.min(v.len())..])
}

/// The data sets this example trains on, in the order that fixes their seeds.
const DATA_SETS: [Toy2d; 3] = [Toy2d::TwoMoons, Toy2d::EightGaussians, Toy2d::Checkerboard];

fn grid_for(data: Toy2d, n: usize) -> (Vec<f64>, Vec<f64>) {
    match data {
        Toy2d::TwoMoons => (linspace(-1.5, 2.5, n), linspace(-1.0, 1.5, n)),
        Toy2d::EightGaussians => (linspace(-3.0, 3.0, n), linspace(-3.0, 3.0, n)),
        Toy2d::Checkerboard => (linspace(-2.5, 2.5, n), linspace(-2.5, 2.5, n)),
        _ => (linspace(-3.0, 3.0, n), linspace(-3.0, 3.0, n)),
    }
}

fn grid_points(xs: &[f64], ys: &[f64]) -> Vec<f64> {
    ys.iter()
        .flat_map(|&y| xs.iter().flat_map(move |&x| [x, y]))
        .collect()
}

/// The name of the reverse-KL run (the maximum-likelihood runs are named after their data sets).
const REVERSE_KL: &str = "reverse-kl";

/// The training session of the run `name`: fresh in `<out>/run/<name>`, or the run of that name
/// in the folder `--load` / `--resume` names.
fn session_for(
    options: &Options,
    config: &FlowConfig,
    name: &str,
    seed: u64,
) -> Result<Session, ExampleError> {
    let run_config = sysdyn_train::TrainConfig::new(config.iterations as u64)
        .with_seed(seed)
        .with_schedule(LrSchedule::constant(config.learning_rate))
        .with_checkpoint_every(Some((config.iterations as u64 / 5).max(1)))
        .with_progress(if options.quiet {
            ProgressMode::Quiet
        } else {
            ProgressMode::Auto
        });
    let names: Vec<&str> = DATA_SETS
        .iter()
        .map(|d| d.name())
        .chain([REVERSE_KL])
        .collect();
    let runs = RunSet::from_flags(
        &options.out_dir.join("run"),
        options.load.as_deref(),
        options.resume.as_deref(),
        &names,
    )?;
    Ok(runs.session(run_config, name)?)
}

/// Trains (or loads) `step` in `session`; returns the losses of metrics.jsonl (or the named
/// metric of every step) and the seconds spent training.
fn train(
    session: &Session,
    step: &mut impl TrainStep,
    metric: Option<&str>,
) -> Result<(Vec<f64>, f64), ExampleError> {
    let start = Instant::now();
    let trained = session.run(step)?.is_some();
    let train_s = if trained {
        start.elapsed().as_secs_f64()
    } else {
        0.0
    };
    // From metrics.jsonl, so a loaded run reports and draws what the training run did.
    let values = session
        .train_metrics()?
        .iter()
        .map(|line| match metric {
            Some(name) => line.metrics.get(name).copied().unwrap_or(f64::NAN),
            None => line.loss.unwrap_or(f64::NAN),
        })
        .collect();
    Ok((values, train_s))
}

/// Runs the whole example and writes its files; returns the summary it wrote.
pub fn run(options: &Options) -> Result<Summary, ExampleError> {
    let start = Instant::now();
    let dir = options.out_dir.as_path();
    let mut spec = options.device;
    spec.autodiff = true;
    let mut device = spec.init()?;
    // Optimizer state is restored in the device's default float type: make it the run's
    // precision before any tensor exists, so an f64 run resumes exactly.
    device.configure_defaults()?;
    let quick = options.quick;
    let config = FlowConfig {
        hidden: if quick { vec![32, 32] } else { vec![64, 64] },
        steps: if quick { 4 } else { 10 },
        iterations: options.iterations.unwrap_or(if quick { 40 } else { 1500 }),
        batch: if quick { 128 } else { 512 },
        learning_rate: 2e-3,
    };
    let test_samples = if quick { 1024 } else { 8192 };
    let grid_n = if quick { 40 } else { 90 };
    let sample_n = if quick { 500 } else { 3000 };
    let stages = DATA_SETS.len() + 2;
    // Every draw's seed is `--seed` plus its own offset; the default seed 0 gives the seeds of
    // the published figures.
    let seed = |offset: usize| options.seed.wrapping_add(offset as u64);

    let mut results = Vec::new();
    let mut curves = Vec::new();
    let mut panel_data = Vec::new();
    let mut trained = false;
    for (k, data) in DATA_SETS.into_iter().enumerate() {
        let session = session_for(options, &config, data.name(), seed(100 + k))?;
        trained |= session.trains();
        if session.trains() {
            say!(
                options,
                "[cnf-2d] {}/{stages} {}: {} steps of maximum likelihood on {}",
                k + 1,
                data.name(),
                config.iterations,
                device.spec()
            );
        } else {
            say!(
                options,
                "[cnf-2d] {}/{stages} {}: loading the trained flow from {}",
                k + 1,
                data.name(),
                session
                    .run_dir()
                    .map_or_else(String::new, |p| p.display().to_string())
            );
        }
        let mut step = flow::MleStep::new(&device, data, &config, seed(100 + k))?;
        let (losses, train_s) = train(&session, &mut step, None)?;
        let mut frozen = flow::frozen(step.flow(), &config);
        let mut rng = SeededRng::new(seed(7 + k));
        let train_reference = data.sample(20_000, &mut rng);
        let test = data.sample(test_samples, &mut rng);
        let test_nll = -mean(&flow::log_density(&device, &mut frozen, &test)?);
        let gaussian_test_nll = gaussian_baseline_nll(&train_reference, &test);
        results.push(DatasetResult {
            dataset: data.name(),
            final_batch_nll: tail_mean(&losses, 50),
            test_nll,
            gaussian_test_nll,
            margin_over_gaussian: gaussian_test_nll - test_nll,
            train_s,
        });
        say!(
            options,
            "  test NLL {test_nll:.3} nats (single Gaussian {gaussian_test_nll:.3}); {train_s:.1} s"
        );
        let (gx, gy) = grid_for(data, grid_n);
        let density: Vec<f64> = flow::log_density(&device, &mut frozen, &grid_points(&gx, &gy))?
            .into_iter()
            .map(f64::exp)
            .collect();
        let samples = flow::samples(&device, &mut frozen, sample_n, seed(11 + k))?;
        let shown = data.sample(sample_n, &mut rng);
        panel_data.push((data.name(), shown, samples, gx, gy, density));
        curves.push((data.name(), losses));
    }

    say!(
        options,
        "[cnf-2d] {}/{stages} reverse KL to eight unnormalised Gaussian bumps",
        stages - 1
    );
    let session = session_for(options, &config, REVERSE_KL, seed(999))?;
    trained |= session.trains();
    let mut kl_step = flow::ReverseKlStep::new(&device, &config, seed(999))?;
    let (kls, _) = train(&session, &mut kl_step, Some("kl"))?;
    let mut kl_frozen = flow::frozen(kl_step.flow(), &config);
    let kl_samples = flow::samples(&device, &mut kl_frozen, sample_n, seed(12))?;
    let (kx, ky) = grid_for(Toy2d::EightGaussians, grid_n);
    let log_z = flow::target_log_normaliser();
    let target: Vec<f64> = ky
        .iter()
        .flat_map(|&y| kx.iter().map(move |&x| (x, y)))
        .map(|(x, y)| (flow::target_log_density_host(x, y) - log_z).exp())
        .collect();

    say!(
        options,
        "[cnf-2d] {stages}/{stages} figures and summary into {}",
        dir.display()
    );
    let panels: Vec<figures::DensityPanel> = panel_data
        .iter()
        .map(
            |(name, data, samples, gx, gy, density)| figures::DensityPanel {
                name,
                data,
                samples,
                grid: (gx, gy),
                density,
            },
        )
        .collect();
    let saved = [
        figures::densities(dir, &panels)?,
        figures::training(dir, &curves)?,
        figures::reverse_kl(dir, (&kx, &ky), &target, &kl_samples, &kls)?,
    ];
    let mut key_numbers: Vec<KeyNumber> = results
        .iter()
        .flat_map(|r| {
            [
                KeyNumber {
                    name: format!("{} test NLL (nats)", r.dataset),
                    value: r.test_nll,
                },
                KeyNumber {
                    name: format!("{} margin over a single Gaussian (nats)", r.dataset),
                    value: r.margin_over_gaussian,
                },
            ]
        })
        .collect();
    let reverse_kl_first_last = [mean(&kls[..kls.len().min(50)]), tail_mean(&kls, 50)];
    key_numbers.push(KeyNumber {
        name: "reverse KL(q ‖ p) after training (nats)".into(),
        value: reverse_kl_first_last[1],
    });
    let summary = Summary {
        example: "cnf-2d",
        quick,
        trained,
        out_dir: dir.display().to_string(),
        backend: device.spec().backend.to_string(),
        precision: device.spec().precision.to_string(),
        hidden: config.hidden.clone(),
        rk4_steps: config.steps,
        iterations: config.iterations,
        batch: config.batch,
        test_samples,
        datasets: results,
        reverse_kl_first_last,
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
