//! # Diffusion and score-based models in two dimensions
//!
//! Five models learn four toy distributions of `sysdyn_data::toy2d` (eight Gaussians, a swiss
//! roll, a checkerboard, two moons), each trained through `sysdyn-train` with the steps of
//! `sysdyn-generative` ([`models`]): DDPM with the linear and the cosine schedule (ε-prediction,
//! W3's ε-net), NCSN over geometric noise levels, and score models of the VP and VE SDEs trained
//! by denoising score matching. Eleven samplers draw from them ([`sampling`]): ancestral DDPM
//! and DDIM (η = 0) for both DDPMs, annealed Langevin dynamics for NCSN, and for each SDE the
//! reverse SDE (Euler–Maruyama), the predictor–corrector sampler and the probability-flow ODE
//! (adaptive Dormand–Prince).
//!
//! Every sampler is scored by the sliced Wasserstein distance to a fresh data sample at equal
//! numbers of network evaluations (NFE); on the eight Gaussians also by mode coverage and the
//! fraction of samples within 3σ of a mode, and over a sweep of NFE (of tolerances for the
//! flow); on two moons the flow's exact likelihood gives a test NLL next to `cnf-2d`'s. Every
//! score is a mean ± sample standard deviation over the seeds: three on the eight Gaussians and
//! two moons, one on the swiss roll and the checkerboard unless `--seeds` or `--full` asks for
//! more.
//!
//! The runs live in `<out>/run/<data>-<model>-s<k>`; `--resume <out>/run` continues interrupted
//! runs, `--load <out>/run` samples and scores without training.

pub mod data;
pub mod figures;
pub mod models;
pub mod sampling;

use std::path::PathBuf;
use std::time::Instant;

use clap::Parser;
use serde::Serialize;
use sysdyn_core::CoreError;
use sysdyn_core::cli::{CliError, Program, RunArgs, parse_from};
use sysdyn_core::device::{DeviceSpec, SysDevice};
use sysdyn_core::fs::{WriteError, write_atomic};
use sysdyn_core::jet::JetError;
use sysdyn_core::rng::SeededRng;
use sysdyn_data::DataError;
use sysdyn_data::metrics::{OverSeeds, mode_coverage, sliced_wasserstein};
use sysdyn_data::toy2d::gaussian_baseline_nll;
use sysdyn_generative::GenerativeError;
use sysdyn_generative::score::{Divergence, ModelScore, ProbabilityFlow};
use sysdyn_plot::PlotError;
use sysdyn_train::RunSet;
use thiserror::Error;

use crate::data::Dataset;
use crate::models::{ModelKind, TrainPlan, Trained, VP_EPSILON, run_name, train_all};
use crate::sampling::{Budget, Sampler, draw};

/// Why the example failed.
#[derive(Debug, Error)]
pub enum ExampleError {
    /// A device or precision that this build or the policy does not allow.
    #[error(transparent)]
    Device(#[from] CoreError),
    /// Host values of the wrong size for a tensor.
    #[error(transparent)]
    Shape(#[from] sysdyn_core::ShapeMismatch),
    /// A network could not be built.
    #[error(transparent)]
    Jet(#[from] JetError),
    /// A model, sampler or step failed.
    #[error(transparent)]
    Generative(#[from] GenerativeError),
    /// A data set or metric failed.
    #[error(transparent)]
    Data(#[from] DataError),
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
    /// Sampling or reading samples back failed.
    #[error("sampling: {0}")]
    Sample(String),
}

/// DDPM, DDIM, NCSN and VP/VE score SDEs on four 2-D toy distributions, eleven samplers scored
/// at equal NFE over three seeds.
#[derive(Debug, Clone, Parser)]
#[command(name = "diffusion-2d", version)]
pub struct Cli {
    /// Larger run: 3× the training steps, three seeds on every data set, 5000 samples per
    /// score, 8192 test points
    #[arg(long, conflicts_with = "quick")]
    pub full: bool,

    /// Training steps per model [default: 4000; 30 with --quick; 12000 with --full]
    #[arg(long, value_name = "N")]
    pub steps: Option<u64>,

    /// Seeds per data set [default: 3 on eight-gaussians and two-moons, 1 on the others (3 on
    /// all with --full); 1 with --quick]
    #[arg(long, value_name = "N")]
    pub seeds: Option<usize>,

    /// Only these data sets (comma-separated: eight-gaussians, swiss-roll, checkerboard,
    /// two-moons) [default: all four]
    #[arg(long, value_name = "LIST", value_delimiter = ',', value_parser = data::Dataset::parse)]
    pub data: Vec<data::Dataset>,

    // Last: its help heading ("Common options") applies to every flag after it.
    /// The options every sysdyn program shares (`--load` / `--resume` take the folder of the
    /// run directories, `<out>/run`).
    #[command(flatten)]
    pub run: RunArgs,
}

/// What the shared options default to here: seed 0, and checkpoints (so `--load DIR` and
/// `--resume DIR` work, DIR being `out/diffusion-2d/run`).
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
            seeds: self.seeds,
            data: if self.data.is_empty() {
                Dataset::ALL.to_vec()
            } else {
                Dataset::ALL
                    .into_iter()
                    .filter(|d| self.data.contains(d))
                    .collect()
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
    /// Reduced run (CI).
    pub quick: bool,
    /// Larger run.
    pub full: bool,
    /// Device.
    pub device: DeviceSpec,
    /// Training steps per model.
    pub steps: Option<u64>,
    /// Seeds per data set.
    pub seeds: Option<usize>,
    /// The data sets, in the order of [`Dataset::ALL`].
    pub data: Vec<Dataset>,
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
    pub const DEFAULT_OUT: &'static str = "out/diffusion-2d";

    /// Options from command-line arguments (without the program name) and the `SYSDYN_*`
    /// environment variables.
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

/// The sizes of a run.
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    /// Seeds on the eight Gaussians and two moons (the scores with targets).
    pub seeds: usize,
    /// Seeds on the swiss roll and the checkerboard.
    pub other_seeds: usize,
    /// Training steps per model.
    pub steps: u64,
    /// Samples per score.
    pub samples: usize,
    /// The NFE budgets of the sweep on the eight Gaussians; the last is every sampler's budget
    /// in the main table.
    pub nfe_grid: Vec<usize>,
    /// The flow's tolerances of the sweep; `flow_tolerance` in the main table.
    pub tolerances: Vec<f64>,
    /// The flow's tolerance in the main table.
    pub flow_tolerance: f64,
    /// Test points of the two-moons likelihood.
    pub test_points: usize,
    /// Dormand–Prince's tolerance of the likelihood.
    pub likelihood_tolerance: f64,
    /// Projections of the sliced Wasserstein distance.
    pub projections: usize,
}

impl Plan {
    fn new(options: &Options) -> Plan {
        let (quick, full) = (options.quick, options.full);
        Plan {
            seeds: options.seeds.unwrap_or(if quick { 1 } else { 3 }).max(1),
            other_seeds: options.seeds.unwrap_or(if full { 3 } else { 1 }).max(1),
            steps: options
                .steps
                .unwrap_or(if quick {
                    30
                } else if full {
                    12000
                } else {
                    4000
                })
                .max(1),
            samples: if quick {
                200
            } else if full {
                5000
            } else {
                1000
            },
            nfe_grid: if quick {
                vec![10, 20]
            } else {
                vec![10, 30, 100, 300, 1000]
            },
            tolerances: if quick {
                vec![1e-2, 1e-3]
            } else {
                vec![1e-1, 1e-2, 1e-3, 1e-4, 1e-5]
            },
            flow_tolerance: 1e-3,
            test_points: if quick {
                128
            } else if full {
                8192
            } else {
                2048
            },
            likelihood_tolerance: if quick { 1e-3 } else { 1e-5 },
            projections: if quick { 50 } else { 200 },
        }
    }

    /// Seeds of `data`.
    pub fn seeds_of(&self, data: Dataset) -> usize {
        if data == Dataset::EIGHT_GAUSSIANS || data == Dataset::TWO_MOONS {
            self.seeds
        } else {
            self.other_seeds
        }
    }

    fn main_nfe(&self) -> usize {
        self.nfe_grid.last().copied().unwrap_or(1000)
    }
}

/// One sampler on one data set at one budget, over the seeds.
#[derive(Debug, Clone, Serialize)]
pub struct SamplerResult {
    /// Data set.
    pub data: &'static str,
    /// `model sampler`.
    pub sampler: String,
    /// Whether this is the main table's budget (the largest NFE; the flow at its tolerance).
    pub main: bool,
    /// The budget asked for: NFE (0 for the flow).
    pub budget_nfe: usize,
    /// The flow's tolerance (0 for the others).
    pub tolerance: f64,
    /// Network evaluations spent.
    pub nfe: OverSeeds,
    /// Sliced Wasserstein distance to a fresh data sample of the same size.
    pub sliced_wasserstein: OverSeeds,
    /// Eight Gaussians: modes with at least 20 samples within 3σ (of 8).
    pub modes: Option<OverSeeds>,
    /// Eight Gaussians: fraction of samples within 3σ of a mode.
    pub within_3_sigma: Option<OverSeeds>,
}

/// The sliced Wasserstein distance of a second data sample of the same size: what a perfect
/// sampler scores.
#[derive(Debug, Clone, Serialize)]
pub struct Floor {
    /// Data set.
    pub data: &'static str,
    /// Sliced Wasserstein distance between two independent data samples.
    pub sliced_wasserstein: OverSeeds,
}

/// The probability-flow likelihood on the two-moons test set.
#[derive(Debug, Clone, Serialize)]
pub struct Likelihood {
    /// The model (`vp-sde`).
    pub model: &'static str,
    /// Test NLL in nats (of `p_ε`, ε = 1e-3).
    pub nll: OverSeeds,
    /// Evaluations of the augmented field per solve.
    pub nfe: OverSeeds,
    /// The single Gaussian's test NLL.
    pub gaussian_nll: f64,
    /// cnf-2d's flow on the same data, quoted from its README (flex, f32, 1500 steps, 8192 test
    /// points): mean and std over three seeds.
    pub cnf_2d_nll: [f64; 2],
    /// Test points.
    pub test_points: usize,
}

/// One model's training, over the seeds.
#[derive(Debug, Clone, Serialize)]
pub struct Training {
    /// Data set.
    pub data: &'static str,
    /// Model.
    pub model: &'static str,
    /// Mean loss of the last tenth of training.
    pub final_loss: OverSeeds,
    /// Seconds of training (0 with `--load`).
    pub seconds: OverSeeds,
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
    /// `"diffusion-2d"`.
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
    /// The sizes.
    pub plan: Plan,
    /// Every sampler, data set and budget.
    pub results: Vec<SamplerResult>,
    /// What a perfect sampler scores.
    pub floors: Vec<Floor>,
    /// Two-moons NLL through the flow.
    pub likelihood: Likelihood,
    /// Training losses and times.
    pub training: Vec<Training>,
    /// Figure files.
    pub figures: Vec<String>,
    /// Highlights.
    pub key_numbers: Vec<KeyNumber>,
    /// Seconds for the whole run.
    pub wall_s: f64,
}

/// Points of the data sample every sliced Wasserstein distance is taken to.
pub const REFERENCE_POINTS: usize = 20_000;

/// cnf-2d's two-moons test NLL (its README: 0.403 ± 0.007 nats over seeds 0, 1, 2).
pub const CNF_2D_TWO_MOONS_NLL: [f64; 2] = [0.403, 0.007];

/// The first seed's samples on one data set: a data sample and every sampler's draw.
pub type Panel = (Dataset, Vec<f64>, Vec<(Sampler, Drawn)>);

/// The forward and reverse snapshots of one data set (see [`sampling::process_snapshots`]).
pub type Strip = (Dataset, Vec<Vec<f64>>, Vec<Vec<f64>>);

/// Samples and NFE of one sampler on one seed (for figures and scores).
#[derive(Debug, Clone)]
pub struct Drawn {
    /// The samples, row-major.
    pub samples: Vec<f64>,
    /// Network evaluations.
    pub nfe: usize,
}

/// Scores of one draw: SW, and on the eight Gaussians modes and the fraction within 3σ.
fn score(
    data: Dataset,
    samples: &[f64],
    reference: &[f64],
    plan: &Plan,
    seed: u64,
) -> Result<(f64, Option<(f64, f64)>), ExampleError> {
    let sw = sliced_wasserstein(samples, reference, 2, plan.projections, seed)?;
    let modes = if data == Dataset::EIGHT_GAUSSIANS {
        let report = mode_coverage(samples, &data.0.modes()?, 20)?;
        Some((report.covered as f64, report.high_quality_fraction))
    } else {
        None
    };
    Ok((sw, modes))
}

/// Key for collecting per-seed scores.
#[derive(Debug, Clone, PartialEq)]
struct Cell {
    data: Dataset,
    sampler: Sampler,
    budget: Budget,
    main: bool,
    nfe: Vec<f64>,
    sw: Vec<f64>,
    modes: Vec<f64>,
    within: Vec<f64>,
}

/// The budgets every sampler runs at on `data`: the main one everywhere, the sweep on the eight
/// Gaussians.
fn budgets(data: Dataset, sampler: Sampler, plan: &Plan) -> Vec<(Budget, bool)> {
    let sweep = data == Dataset::EIGHT_GAUSSIANS;
    if sampler.is_adaptive() {
        let mut list = vec![(Budget::Tolerance(plan.flow_tolerance), true)];
        if sweep {
            list.extend(
                plan.tolerances
                    .iter()
                    .filter(|&&t| t != plan.flow_tolerance)
                    .map(|&t| (Budget::Tolerance(t), false)),
            );
        }
        list
    } else {
        let mut list = vec![(Budget::Nfe(plan.main_nfe()), true)];
        if sweep {
            list.extend(
                plan.nfe_grid
                    .iter()
                    .filter(|&&n| n != plan.main_nfe())
                    .map(|&n| (Budget::Nfe(n), false)),
            );
        }
        list
    }
}

/// The two-moons NLL of the VP model of one seed; returns (NLL, NFE).
fn two_moons_nll(
    device: &SysDevice,
    trained: &Trained,
    test: &[f64],
    plan: &Plan,
) -> Result<(f64, usize), ExampleError> {
    let rows = test.len() / 2;
    let flow = ProbabilityFlow::new(
        trained.vp.sde(),
        VP_EPSILON,
        plan.likelihood_tolerance,
        plan.likelihood_tolerance,
    )?;
    let x = device.tensor(test.to_vec(), [rows, 2])?.inner();
    let likelihood = flow.log_likelihood(&mut ModelScore(&trained.vp), x, Divergence::Exact)?;
    let log_p = likelihood.log_density_under_prior(&trained.vp.sde());
    let nll = sysdyn_data::metrics::nll_nats(&log_p)?;
    Ok((nll, likelihood.stats.nfe))
}

/// Runs the whole example and writes its files; returns the summary it wrote.
pub fn run(options: &Options) -> Result<Summary, ExampleError> {
    let start = Instant::now();
    let dir = options.out_dir.as_path();
    let mut spec = options.device;
    spec.autodiff = true;
    let mut device = spec.init()?;
    // Optimizer state is restored in the device's default float type: make it the run's
    // precision before any tensor exists, so a run resumes exactly.
    device.configure_defaults()?;
    let plan = Plan::new(options);
    let train_plan = TrainPlan {
        steps: plan.steps,
        // An average over the last ~200 steps (~10 of a quick run). At 0.999 the average of a
        // 3000-step run still held 5 % of the initial weights (0.999³⁰⁰⁰), and blurred samples.
        ema_decay: if options.quick { 0.9 } else { 0.995 },
        quiet: options.quiet,
    };
    let names: Vec<String> = options
        .data
        .iter()
        .flat_map(|&d| {
            let seeds = plan.seeds_of(d);
            ModelKind::ALL
                .iter()
                .flat_map(move |&k| (0..seeds).map(move |s| run_name(d, k, s)))
        })
        .collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let runs = RunSet::from_flags(
        &options.out_dir.join("run"),
        options.load.as_deref(),
        options.resume.as_deref(),
        &refs,
    )?;

    let mut trained_any = false;
    let mut cells: Vec<Cell> = Vec::new();
    let mut floors = Vec::new();
    let mut training = Vec::new();
    let mut panels: Vec<Panel> = Vec::new();
    let mut first_models: Vec<(Dataset, Trained)> = Vec::new();
    let mut nll = Vec::new();
    let mut nll_nfe = Vec::new();
    let mut gaussian_nll = f64::NAN;
    let mut strips: Vec<Strip> = Vec::new();
    for &data in &options.data {
        let mut floor = Vec::new();
        let mut losses = vec![Vec::new(); ModelKind::ALL.len()];
        let mut seconds = vec![Vec::new(); ModelKind::ALL.len()];
        for s in 0..plan.seeds_of(data) {
            let seed = options.seed.wrapping_add(s as u64);
            say!(
                options,
                "[diffusion-2d] {} seed {s}: training {} models on {}",
                data.name(),
                ModelKind::ALL.len(),
                device.spec()
            );
            let trained = train_all(&device, &runs, &train_plan, data, s, seed)?;
            trained_any |= trained.trained;
            for k in 0..ModelKind::ALL.len() {
                losses[k].push(trained.final_loss[k]);
                seconds[k].push(trained.train_s[k]);
            }
            let eval_seed = seed.wrapping_mul(1_000_003).wrapping_add(17);
            // A large reference sample, so that the distance measures the samples' own error
            // (and their finite number), not the reference's.
            let reference = data.sample(REFERENCE_POINTS, &mut SeededRng::new(eval_seed));
            let second = data.sample(plan.samples, &mut SeededRng::new(eval_seed + 1));
            floor.push(sliced_wasserstein(
                &second,
                &reference,
                2,
                plan.projections,
                eval_seed,
            )?);
            let mut drawn_main = Vec::new();
            for sampler in Sampler::ALL {
                for (budget, main) in budgets(data, sampler, &plan) {
                    let sample_start = Instant::now();
                    let (samples, nfe) = draw(
                        &device,
                        &trained,
                        sampler,
                        budget,
                        plan.samples,
                        eval_seed + 2,
                    )?;
                    let (sw, modes) = score(data, &samples, &reference, &plan, eval_seed + 3)?;
                    if main {
                        say!(
                            options,
                            "  {}: SW {sw:.3}, NFE {nfe}{}; {:.1} s",
                            sampler.name(),
                            modes.map_or(String::new(), |(m, f)| format!(
                                ", modes {m}/8, within 3σ {f:.3}"
                            )),
                            sample_start.elapsed().as_secs_f64()
                        );
                    }
                    let index = match cells
                        .iter()
                        .position(|c| c.data == data && c.sampler == sampler && c.budget == budget)
                    {
                        Some(i) => i,
                        None => {
                            cells.push(Cell {
                                data,
                                sampler,
                                budget,
                                main,
                                nfe: Vec::new(),
                                sw: Vec::new(),
                                modes: Vec::new(),
                                within: Vec::new(),
                            });
                            cells.len() - 1
                        }
                    };
                    let cell = &mut cells[index];
                    cell.nfe.push(nfe as f64);
                    cell.sw.push(sw);
                    if let Some((m, f)) = modes {
                        cell.modes.push(m);
                        cell.within.push(f);
                    }
                    if main && s == 0 {
                        drawn_main.push((sampler, Drawn { samples, nfe }));
                    }
                }
            }
            if data == Dataset::TWO_MOONS {
                let test = data.sample(plan.test_points, &mut SeededRng::new(eval_seed + 5));
                let train = data.sample(20_000, &mut SeededRng::new(eval_seed + 6));
                gaussian_nll = gaussian_baseline_nll(&train, &test);
                let (value, nfe) = two_moons_nll(&device, &trained, &test, &plan)?;
                say!(
                    options,
                    "  vp-sde pf-ode test NLL {value:.3} nats (NFE {nfe})"
                );
                nll.push(value);
                nll_nfe.push(nfe as f64);
            }
            if s == 0 {
                if matches!(
                    data.0,
                    sysdyn_data::toy2d::Toy2d::EightGaussians
                        | sysdyn_data::toy2d::Toy2d::SwissRoll
                ) {
                    let rows = plan.samples.min(1000);
                    let x0 = data.sample(rows, &mut SeededRng::new(eval_seed + 7));
                    let (forward, reverse) = sampling::process_snapshots(
                        &device,
                        &trained,
                        &x0,
                        &figures::STRIP_STEPS,
                        eval_seed + 8,
                    )?;
                    strips.push((data, forward, reverse));
                }
                panels.push((data, second.clone(), drawn_main));
                first_models.push((data, trained));
            }
        }
        floors.push(Floor {
            data: data.name(),
            sliced_wasserstein: OverSeeds::of(floor),
        });
        for (k, kind) in ModelKind::ALL.iter().enumerate() {
            training.push(Training {
                data: data.name(),
                model: kind.name(),
                final_loss: OverSeeds::of(losses[k].clone()),
                seconds: OverSeeds::of(seconds[k].clone()),
            });
        }
    }

    let results: Vec<SamplerResult> = cells
        .into_iter()
        .map(|c| SamplerResult {
            data: c.data.name(),
            sampler: c.sampler.name(),
            main: c.main,
            budget_nfe: match c.budget {
                Budget::Nfe(n) => n,
                Budget::Tolerance(_) => 0,
            },
            tolerance: match c.budget {
                Budget::Tolerance(t) => t,
                Budget::Nfe(_) => 0.0,
            },
            nfe: OverSeeds::of(c.nfe),
            sliced_wasserstein: OverSeeds::of(c.sw),
            modes: (!c.modes.is_empty()).then(|| OverSeeds::of(c.modes)),
            within_3_sigma: (!c.within.is_empty()).then(|| OverSeeds::of(c.within)),
        })
        .collect();
    let likelihood = Likelihood {
        model: ModelKind::Vp.name(),
        nll: OverSeeds::of(nll),
        nfe: OverSeeds::of(nll_nfe),
        gaussian_nll,
        cnf_2d_nll: CNF_2D_TWO_MOONS_NLL,
        test_points: plan.test_points,
    };

    say!(
        options,
        "[diffusion-2d] figures and summary into {}",
        dir.display()
    );
    // The strip shows the eight Gaussians and the swiss roll, the sweeps the eight Gaussians:
    // a `--data` without them leaves those figures out.
    let mut saved = vec![figures::samples(dir, &panels)?];
    if !strips.is_empty() {
        saved.push(figures::process(dir, &strips)?);
    }
    saved.push(figures::score_fields(dir, &device, &first_models, &panels)?);
    if options.data.contains(&Dataset::EIGHT_GAUSSIANS) {
        saved.push(figures::nfe_quality(dir, &results, &floors)?);
        saved.push(figures::flow_tolerance(dir, &results)?);
    }
    let mut key_numbers = Vec::new();
    for r in results.iter().filter(|r| r.main) {
        key_numbers.push(KeyNumber {
            name: format!(
                "{} {}: sliced Wasserstein (mean of seeds)",
                r.data, r.sampler
            ),
            value: r.sliced_wasserstein.mean,
        });
        if let Some(w) = &r.within_3_sigma {
            key_numbers.push(KeyNumber {
                name: format!("{} {}: fraction within 3σ (mean)", r.data, r.sampler),
                value: w.mean,
            });
        }
    }
    key_numbers.push(KeyNumber {
        name: "two-moons vp-sde pf-ode test NLL, nats (mean)".into(),
        value: likelihood.nll.mean,
    });
    let summary = Summary {
        example: "diffusion-2d",
        quick: options.quick,
        trained: trained_any,
        out_dir: dir.display().to_string(),
        backend: device.spec().backend.to_string(),
        precision: device.spec().precision.to_string(),
        plan,
        results,
        floors,
        likelihood,
        training,
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
