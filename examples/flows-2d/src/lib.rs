//! # Normalizing flows in two dimensions
//!
//! Every flow family of `sysdyn_generative::flow` learns four 2-D densities by maximum
//! likelihood — two moons, eight Gaussians, the checkerboard and the pinwheel
//! (`sysdyn_data::toy2d`) — each family one `Chain<VectorLayer>` (the CNF a `CnfFlow`) with a
//! standard normal base, trained by `FlowStep` on the `sysdyn-train` runtime:
//! NICE, RealNVP, Glow-style steps, MAF, IAF, RevNet (volume preserving but for one ActNorm),
//! rational-quadratic spline couplings, autoregressive splines, residual flows and the CNF.
//!
//! Scores: the test NLL on fresh samples (three seeds on two moons and eight Gaussians, mean ±
//! std), training time, the integral of the learned density over a grid (it should be 1 within
//! 1e-2), and the single Gaussian's NLL as a floor to beat. The figures show each model's
//! density as a heat map, its samples and the latent pushforward `f(x)` of test data.
//!
//! A second part fits flows by reverse KL to the unnormalised energy targets of Rezende &
//! Mohamed (2015) (`U₁`–`U₄`), a ring and a Gaussian mixture, with `KL(q ‖ p)` (the normaliser
//! computed on a fine grid) and the effective sample size of 4096 fresh samples.
//!
//! A third part, only when `--power FILE` / `--gas FILE` give the UCI tabular sets (the MAF
//! paper's preprocessed `.npy` arrays), trains MAF(10) and RealNVP(10) on them and sets their
//! test log-likelihoods next to the paper's.

pub mod families;
pub mod figures;
pub mod grid;
pub mod tabular;
pub mod targets;
pub mod train;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use clap::Parser;
use serde::Serialize;
use sysdyn_core::CoreError;
use sysdyn_core::cli::{CliError, Program, RunArgs, parse_from};
use sysdyn_core::device::{DeviceSpec, SysDevice};
use sysdyn_core::fs::{WriteError, write_atomic};
use sysdyn_core::jet::JetError;
use sysdyn_core::rng::SeededRng;
use sysdyn_data::metrics::mean_and_sample_std;
use sysdyn_data::toy2d::{Toy2d, gaussian_baseline_nll};
use sysdyn_generative::GenerativeError;
use sysdyn_generative::flow::base::StandardNormal;
use sysdyn_generative::flow::model::FlowModel;
use sysdyn_generative::flow::step::FlowObjective;
use sysdyn_plot::PlotError;
use thiserror::Error;

use crate::families::{Family, Sizes};
use crate::grid::Grid;
use crate::targets::Target;
use crate::train::{Evaluation, Schedule};

/// Why the example failed.
#[derive(Debug, Error)]
pub enum ExampleError {
    /// A device or precision that this build or the policy does not allow.
    #[error(transparent)]
    Device(#[from] CoreError),
    /// Values that do not fill a tensor's shape.
    #[error(transparent)]
    Shape(#[from] sysdyn_core::ShapeMismatch),
    /// A network could not be built.
    #[error(transparent)]
    Jet(#[from] JetError),
    /// A flow setting, pass or step failed.
    #[error(transparent)]
    Generative(#[from] GenerativeError),
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
    /// A tensor could not be read back to the host.
    #[error("reading a tensor back to the host: {0}")]
    Host(String),
    /// A tabular `.npy` file could not be read.
    #[error("{path}: {reason}")]
    Npy {
        /// The file.
        path: String,
        /// What is wrong with it.
        reason: String,
    },
}

/// Every normalizing-flow family on four 2-D densities, reverse-KL fits to energy targets,
/// and MAF/RealNVP on POWER/GAS when given.
#[derive(Debug, Clone, Parser)]
#[command(name = "flows-2d", version)]
pub struct Cli {
    /// The bigger run: 3 seeds on every data set, wider networks, longer training
    #[arg(long)]
    pub full: bool,

    /// Optimizer steps per maximum-likelihood run [default: 400 (the CNF 150); 3000 (1500)
    /// with --full; 15 (10) with --quick]; the CNF gets 3/8 of a given N
    #[arg(long, value_name = "N")]
    pub iterations: Option<u64>,

    /// Seeds on two moons and eight Gaussians [default: 3; 1 with --quick]
    #[arg(long, value_name = "N")]
    pub seeds: Option<usize>,

    /// Only these families (comma-separated: nice, realnvp, glow, maf, iaf, revnet, spline,
    /// spline-ar, residual, cnf) [default: all]
    #[arg(long, value_name = "LIST", value_delimiter = ',', value_parser = Family::parse)]
    pub families: Vec<Family>,

    /// POWER (UCI) as the MAF paper's preprocessed `.npy` array `[n, 6]`
    #[arg(long, value_name = "FILE")]
    pub power: Option<PathBuf>,

    /// GAS (UCI) as the MAF paper's preprocessed `.npy` array `[n, 8]`
    #[arg(long, value_name = "FILE")]
    pub gas: Option<PathBuf>,

    // Last: its help heading ("Common options") applies to every flag after it.
    /// The options every sysdyn program shares.
    #[command(flatten)]
    pub run: RunArgs,
}

/// What the shared options default to here (no checkpoints to load or resume: each run is
/// short and retrained).
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
            iterations: self.iterations,
            seeds: self.seeds,
            families: if self.families.is_empty() {
                Family::ALL.to_vec()
            } else {
                self.families.clone()
            },
            power: self.power.clone(),
            gas: self.gas.clone(),
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
    /// The bigger run.
    pub full: bool,
    /// Device.
    pub device: DeviceSpec,
    /// Steps per maximum-likelihood run.
    pub iterations: Option<u64>,
    /// Seeds on two moons and eight Gaussians.
    pub seeds: Option<usize>,
    /// The families to train.
    pub families: Vec<Family>,
    /// POWER's `.npy` file.
    pub power: Option<PathBuf>,
    /// GAS's `.npy` file.
    pub gas: Option<PathBuf>,
    /// Base of every seed.
    pub seed: u64,
    /// No progress lines.
    pub quiet: bool,
}

impl Options {
    /// Default output folder.
    pub const DEFAULT_OUT: &'static str = "out/flows-2d";

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

/// The sizes of one invocation.
#[derive(Debug, Clone)]
struct Plan {
    sizes: Sizes,
    ml: Schedule,
    cnf: Schedule,
    reverse: Schedule,
    seeds_main: usize,
    seeds_other: usize,
    test: usize,
    grid: Grid,
    samples: usize,
    targets: Vec<Target>,
    reverse_families: Vec<Family>,
    tabular: Schedule,
}

impl Plan {
    fn new(options: &Options) -> Plan {
        let (quick, full) = (options.quick, options.full && !options.quick);
        let steps = |default: u64, full_steps: u64, quick_steps: u64| {
            if quick {
                quick_steps
            } else if full {
                full_steps
            } else {
                default
            }
        };
        let ml_steps = options.iterations.unwrap_or(steps(400, 3000, 15));
        let schedule = |steps: u64, lr: f64| Schedule {
            steps,
            batch: if quick { 64 } else { 256 },
            lr,
        };
        let seeds_main = options.seeds.unwrap_or(if quick { 1 } else { 3 }).max(1);
        Plan {
            sizes: Sizes {
                hidden: if quick {
                    vec![8]
                } else if full {
                    vec![64, 64]
                } else {
                    vec![32, 32]
                },
                depth: None,
            },
            ml: schedule(ml_steps, 5e-3),
            cnf: schedule(
                options
                    .iterations
                    .map_or(steps(150, 1500, 10), |n| (n * 3 / 8).max(1)),
                5e-3,
            ),
            reverse: schedule(steps(400, 2000, 15), 3e-3),
            seeds_main,
            seeds_other: if full { seeds_main } else { 1 },
            test: if quick { 512 } else { 4096 },
            grid: Grid {
                lim: 4.0,
                n: steps(100, 200, 60) as usize,
            },
            samples: if quick { 200 } else { 1500 },
            targets: if quick {
                vec![Target::U1, Target::Mixture]
            } else {
                Target::ALL.to_vec()
            },
            reverse_families: if quick {
                vec![Family::Iaf]
            } else {
                vec![Family::RealNvp, Family::Iaf, Family::Spline]
            },
            tabular: Schedule {
                steps: steps(3000, 20_000, 10),
                batch: if quick { 64 } else { 512 },
                lr: 1e-3,
            },
        }
    }
}

/// The data sets, in the order of the tables.
pub const DATASETS: [Toy2d; 4] = [
    Toy2d::TwoMoons,
    Toy2d::EightGaussians,
    Toy2d::Checkerboard,
    Toy2d::Pinwheel,
];

/// One family on one data set over its seeds.
#[derive(Debug, Clone, Serialize)]
pub struct FamilyResult {
    /// Data set.
    pub data: &'static str,
    /// Family.
    pub family: &'static str,
    /// Test NLL (nats) per seed.
    pub nll: Vec<f64>,
    /// Mean of `nll`.
    pub nll_mean: f64,
    /// Sample standard deviation of `nll` (0 for one seed).
    pub nll_std: f64,
    /// Training seconds per seed.
    pub train_s: Vec<f64>,
    /// Mean of `train_s`.
    pub train_s_mean: f64,
    /// `∫ q` over the grid, first seed.
    pub grid_mass: f64,
    /// Optimizer steps.
    pub steps: u64,
}

/// One reverse-KL fit.
#[derive(Debug, Clone, Serialize)]
pub struct ReverseKlResult {
    /// Target.
    pub target: &'static str,
    /// Family.
    pub family: &'static str,
    /// `log Z` of the target on a 600 × 600 grid of `[−6, 6]²`.
    pub log_z: f64,
    /// `KL(q ‖ p)` estimated on 4096 fresh samples (nats).
    pub kl: f64,
    /// Effective sample size of those samples' importance weights, `(Σw)²/(n Σw²)`.
    pub ess: f64,
    /// Training seconds.
    pub train_s: f64,
}

/// A tabular run.
#[derive(Debug, Clone, Serialize)]
pub struct TabularResult {
    /// Data set.
    pub data: &'static str,
    /// Model.
    pub model: &'static str,
    /// Mean test log-likelihood (nats).
    pub test_log_likelihood: f64,
    /// Its standard error over the test rows.
    pub standard_error: f64,
    /// The paper's number.
    pub published: f64,
    /// Training seconds.
    pub train_s: f64,
}

/// The CNF of `examples/cnf-2d` on two moons (its README, flex f32, three seeds): quoted.
pub const CNF_2D_TWO_MOONS_NLL: (f64, f64) = (0.403, 0.007);

/// One comparison with that CNF.
#[derive(Debug, Clone, Serialize)]
pub struct CnfComparison {
    /// Family.
    pub family: &'static str,
    /// Its two-moons test NLL (mean over seeds).
    pub nll_mean: f64,
    /// Its std.
    pub nll_std: f64,
    /// The cnf-2d NLL it is compared with.
    pub cnf_2d_nll: f64,
    /// Whether the family is at least as good (mean NLL ≤ the CNF's mean + its std).
    pub at_least_as_good: bool,
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
    /// `"flows-2d"`.
    pub example: &'static str,
    /// Reduced run.
    pub quick: bool,
    /// The bigger run.
    pub full: bool,
    /// Output folder.
    pub out_dir: String,
    /// Backend.
    pub backend: String,
    /// Precision.
    pub precision: String,
    /// Test points per data set.
    pub test_points: usize,
    /// The grid of the density integral: cells per side on `[−4, 4]²`.
    pub grid_cells: usize,
    /// The single Gaussian's test NLL per data set.
    pub gaussian_nll: Vec<(String, f64)>,
    /// Per data set and family.
    pub results: Vec<FamilyResult>,
    /// The largest `|∫ q − 1|` over every model.
    pub worst_mass_error: f64,
    /// RealNVP, spline and MAF against cnf-2d's CNF on two moons.
    pub cnf_comparison: Vec<CnfComparison>,
    /// Reverse-KL fits.
    pub reverse_kl: Vec<ReverseKlResult>,
    /// POWER/GAS runs (empty without `--power`/`--gas`).
    pub tabular: Vec<TabularResult>,
    /// Why the tabular part did or did not run.
    pub tabular_note: String,
    /// Figure files.
    pub figures: Vec<String>,
    /// Highlights.
    pub key_numbers: Vec<KeyNumber>,
    /// Seconds for the whole run.
    pub wall_s: f64,
}

fn run_dir(root: &Path, name: &str) -> PathBuf {
    let dir = root.join("run").join(name);
    // Every run starts fresh (the example keeps no checkpoints to resume).
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn model_of(
    device: &SysDevice,
    family: Family,
    dim: usize,
    sizes: &Sizes,
    seed: u64,
) -> Result<
    FlowModel<
        StandardNormal,
        sysdyn_generative::flow::chain::Chain<sysdyn_generative::flow::chain::VectorLayer>,
    >,
    ExampleError,
> {
    Ok(FlowModel::new(
        StandardNormal::new(dim)?,
        families::chain(device, family, dim, sizes, seed)?,
    ))
}

/// Trains one family on one data set with one seed and evaluates it.
#[allow(clippy::too_many_arguments)]
fn train_one(
    device: &SysDevice,
    plan: &Plan,
    out: &Path,
    data: Toy2d,
    family: Family,
    seed: u64,
    test: &[f64],
) -> Result<(Evaluation, f64), ExampleError> {
    let dir = run_dir(out, &format!("{}-{}-s{seed}", data.name(), family.name()));
    let sampler: sysdyn_generative::gan::DataSampler =
        Box::new(move |rng: &mut SeededRng, n: usize| data.sample(n, rng));
    if family == Family::Cnf {
        let model = FlowModel::new(
            StandardNormal::new(2)?,
            families::cnf(device, 2, &plan.sizes, seed)?,
        );
        let (model, secs) = train::fit(
            device,
            model,
            FlowObjective::MaximumLikelihood(sampler),
            &plan.cnf,
            &dir,
            seed,
        )?;
        Ok((
            train::evaluate(device, &model, test, &plan.grid, plan.samples, seed)?,
            secs,
        ))
    } else {
        let model = model_of(device, family, 2, &plan.sizes, seed)?;
        let (model, secs) = train::fit_chain(
            device,
            model,
            FlowObjective::MaximumLikelihood(sampler),
            &plan.ml,
            &dir,
            seed,
        )?;
        Ok((
            train::evaluate(device, &model, test, &plan.grid, plan.samples, seed)?,
            secs,
        ))
    }
}

/// Runs the whole example and writes its files; returns the summary it wrote.
pub fn run(options: &Options) -> Result<Summary, ExampleError> {
    let start = Instant::now();
    let out = options.out_dir.as_path();
    let mut spec = options.device;
    spec.autodiff = true;
    let mut device = spec.init()?;
    device.configure_defaults()?;
    let plan = Plan::new(options);

    let mut results = Vec::new();
    let mut gaussian = Vec::new();
    let mut panels: Vec<figures::DataPanel> = Vec::new();
    for (d, data) in DATASETS.into_iter().enumerate() {
        let mut rng = SeededRng::new(options.seed.wrapping_add(7919 * (d as u64 + 1)));
        let train_ref = data.sample(20_000, &mut rng);
        let test = data.sample(plan.test, &mut rng);
        gaussian.push((
            data.name().to_string(),
            gaussian_baseline_nll(&train_ref, &test),
        ));
        let seeds = if d < 2 {
            plan.seeds_main
        } else {
            plan.seeds_other
        };
        let mut columns = Vec::new();
        for &family in &options.families {
            let mut nll = Vec::new();
            let mut secs = Vec::new();
            let mut first: Option<Evaluation> = None;
            for s in 0..seeds {
                let seed = options.seed.wrapping_add(s as u64);
                let (eval, t) = train_one(&device, &plan, out, data, family, seed, &test)?;
                say!(
                    options,
                    "[flows-2d] {} {} seed {seed}: test NLL {:.3}, ∫q {:.4}, {:.1} s",
                    data.name(),
                    family.name(),
                    eval.nll,
                    eval.mass,
                    t
                );
                nll.push(eval.nll);
                secs.push(t);
                if first.is_none() {
                    first = Some(eval);
                }
            }
            let first = first.expect("at least one seed");
            let (nll_mean, nll_std) = mean_and_sample_std(&nll);
            let (train_s_mean, _) = mean_and_sample_std(&secs);
            results.push(FamilyResult {
                data: data.name(),
                family: family.name(),
                nll,
                nll_mean,
                nll_std: if nll_std.is_finite() { nll_std } else { 0.0 },
                train_s: secs,
                train_s_mean,
                grid_mass: first.mass,
                steps: if family == Family::Cnf {
                    plan.cnf.steps
                } else {
                    plan.ml.steps
                },
            });
            columns.push((family, first));
        }
        panels.push(figures::DataPanel {
            data,
            test: test.clone(),
            columns,
        });
    }

    // Reverse KL to the energy targets.
    let mut reverse = Vec::new();
    let mut reverse_panels = Vec::new();
    let fine = Grid { lim: 6.0, n: 600 };
    let shown = Grid {
        lim: 4.0,
        n: plan.grid.n,
    };
    for &target in &plan.targets {
        let log_values =
            train::host(target.log_density(&device.tensor(fine.points(), [fine.n * fine.n, 2])?))?;
        let log_z = targets::log_normaliser(&log_values, fine.cell_area());
        let density: Vec<f64> = train::host(
            target.log_density(&device.tensor(shown.points(), [shown.n * shown.n, 2])?),
        )?
        .into_iter()
        .map(|l| (l - log_z).exp())
        .collect();
        let mut sample_sets = Vec::new();
        for &family in &plan.reverse_families {
            let seed = options.seed;
            let dir = run_dir(out, &format!("reverse-{}-{}", target.name(), family.name()));
            let model = model_of(&device, family, 2, &plan.sizes, seed)?;
            let objective = FlowObjective::ReverseKl(Box::new(move |z| target.log_density(z)));
            let (model, secs) =
                train::fit_chain(&device, model, objective, &plan.reverse, &dir, seed)?;
            let (kl, ess, samples) =
                train::reverse_kl_score(&device, &model, target, log_z, 4096, seed)?;
            say!(
                options,
                "[flows-2d] reverse KL {} {}: KL {kl:.4} nats, ESS {ess:.3}, {secs:.1} s",
                target.name(),
                family.name()
            );
            reverse.push(ReverseKlResult {
                target: target.name(),
                family: family.name(),
                log_z,
                kl,
                ess,
                train_s: secs,
            });
            sample_sets.push((family, samples[..2 * plan.samples.min(4096)].to_vec()));
        }
        reverse_panels.push(figures::TargetPanel {
            target,
            density,
            samples: sample_sets,
        });
    }

    // POWER / GAS.
    let (tabular, tabular_note) = run_tabular(&device, options, &plan, out)?;

    say!(
        options,
        "[flows-2d] figures and summary into {}",
        out.display()
    );
    let mut saved = Vec::new();
    for panel in &panels {
        saved.push(figures::data_set(out, panel, &plan.grid)?);
    }
    saved.push(figures::reverse_kl(out, &reverse_panels, &shown)?);
    let cnf_comparison: Vec<CnfComparison> = results
        .iter()
        .filter(|r| {
            r.data == Toy2d::TwoMoons.name() && ["realnvp", "spline", "maf"].contains(&r.family)
        })
        .map(|r| CnfComparison {
            family: r.family,
            nll_mean: r.nll_mean,
            nll_std: r.nll_std,
            cnf_2d_nll: CNF_2D_TWO_MOONS_NLL.0,
            at_least_as_good: r.nll_mean <= CNF_2D_TWO_MOONS_NLL.0 + CNF_2D_TWO_MOONS_NLL.1,
        })
        .collect();
    let worst_mass_error = results
        .iter()
        .map(|r| (r.grid_mass - 1.0).abs())
        .fold(0.0, f64::max);
    let mut key_numbers: Vec<KeyNumber> = results
        .iter()
        .filter(|r| r.data == Toy2d::TwoMoons.name() || r.data == Toy2d::EightGaussians.name())
        .map(|r| KeyNumber {
            name: format!("{} {}: test NLL (mean of seeds, nats)", r.data, r.family),
            value: r.nll_mean,
        })
        .collect();
    key_numbers.push(KeyNumber {
        name: "largest |∫q − 1| on the grid".into(),
        value: worst_mass_error,
    });
    for r in &reverse {
        key_numbers.push(KeyNumber {
            name: format!("reverse KL {} {}: ESS", r.target, r.family),
            value: r.ess,
        });
    }
    let summary = Summary {
        example: "flows-2d",
        quick: options.quick,
        full: options.full,
        out_dir: out.display().to_string(),
        backend: device.spec().backend.to_string(),
        precision: device.spec().precision.to_string(),
        test_points: plan.test,
        grid_cells: plan.grid.n,
        gaussian_nll: gaussian,
        results,
        worst_mass_error,
        cnf_comparison,
        reverse_kl: reverse,
        tabular,
        tabular_note,
        figures: saved
            .iter()
            .flat_map(|s| s.names_relative_to(out))
            .collect(),
        key_numbers,
        wall_s: start.elapsed().as_secs_f64(),
    };
    let json = serde_json::to_string_pretty(&summary)?;
    write_atomic(&out.join("summary.json"), json.as_bytes())?;
    Ok(summary)
}

/// MAF(10) and RealNVP(10) on POWER/GAS when their files are given.
fn run_tabular(
    device: &SysDevice,
    options: &Options,
    plan: &Plan,
    out: &Path,
) -> Result<(Vec<TabularResult>, String), ExampleError> {
    let sets: Vec<(&'static str, &PathBuf)> = [("power", &options.power), ("gas", &options.gas)]
        .into_iter()
        .filter_map(|(name, path)| path.as_ref().map(|p| (name, p)))
        .collect();
    if sets.is_empty() {
        let note = "POWER/GAS not run: give the MAF paper's preprocessed arrays with --power FILE \
                    and --gas FILE (they are not shipped with sysdyn and were not on the machine \
                    that wrote this summary)"
            .to_string();
        say!(options, "[flows-2d] {note}");
        return Ok((Vec::new(), note));
    }
    let mut results = Vec::new();
    for (name, path) in sets {
        let table = tabular::read_npy(path)?;
        if table.rows < 20 {
            return Err(ExampleError::Npy {
                path: path.display().to_string(),
                reason: format!(
                    "{} rows: too few to split into training and test",
                    table.rows
                ),
            });
        }
        let dim = table.cols;
        let split = table.rows * 9 / 10;
        let train_rows = Arc::new(table.values[..split * dim].to_vec());
        let test = &table.values[split * dim..];
        for (family, model_name) in [(Family::Maf, "maf"), (Family::RealNvp, "realnvp")] {
            let sizes = Sizes {
                hidden: if options.quick {
                    vec![8]
                } else {
                    vec![100, 100]
                },
                depth: Some(10),
            };
            let model = model_of(device, family, dim, &sizes, options.seed)?;
            let dir = run_dir(out, &format!("{name}-{model_name}"));
            let (model, secs) = train::fit_chain(
                device,
                model,
                FlowObjective::MaximumLikelihood(train::table_sampler(train_rows.clone(), dim)),
                &plan.tabular,
                &dir,
                options.seed,
            )?;
            let log_q = train::log_prob(device, &model, test, dim, 4096)?;
            let (mean, std) = mean_and_sample_std(&log_q);
            let published = tabular::PUBLISHED
                .iter()
                .find(|p| p.data == name && p.model == model_name)
                .map_or(f64::NAN, |p| p.log_likelihood);
            say!(
                options,
                "[flows-2d] {name} {model_name}: test log-likelihood {mean:.3} (paper {published})"
            );
            results.push(TabularResult {
                data: name,
                model: model_name,
                test_log_likelihood: mean,
                standard_error: std / (log_q.len() as f64).sqrt(),
                published,
                train_s: secs,
            });
        }
    }
    Ok((
        results,
        "POWER/GAS: first 90 % of each array for training, last 10 % for testing".into(),
    ))
}
