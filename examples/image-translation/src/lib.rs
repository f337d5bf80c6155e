//! # Image-to-image translation
//!
//! Two translation GANs on procedural shapes (28×28, grey, `sysdyn_data::images::ShapesConfig`):
//!
//! - **Pix2Pix** (Isola et al. 2017) on paired data, edge maps → shapes: a U-Net generator and a
//!   PatchGAN discriminator on (input, output) pairs, loss GAN + 100 · L1, against the same
//!   U-Net trained with L1 alone. Scores on held-out pairs: the L1 distance to the targets and
//!   the outputs' sharpness (mean image-gradient magnitude) next to the targets'.
//! - **CycleGAN** (Zhu et al. 2017) on two pairs of unpaired domains, shapes ↔ colour-inverted
//!   shapes and thin upright digits ↔ thick slanted digits: two ResNet generators, two
//!   PatchGANs, least-squares GAN loss, cycle loss λ = 10, identity loss 0.5 λ, replay pools of
//!   50. Scores on held-out images: the cycle reconstruction error (mean absolute, `[0, 1]`
//!   pixels) both ways, the fraction of translations a separately trained domain classifier puts
//!   in the target domain, and the distance of each translation to its true counterpart.
//!
//! Three seeds each (mean ± std). Every network trains on the `sysdyn-train` runtime in
//! `<out>/run/<name>`; `--resume <out>/run` continues interrupted runs, `--load <out>/run`
//! evaluates without training.

pub mod cyclegan;
pub mod data;
pub mod figures;
pub mod pix2pix;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use clap::Parser;
use serde::Serialize;
use sysdyn_core::CoreError;
use sysdyn_core::cli::{CliError, Program, RunArgs, parse_from};
use sysdyn_core::device::{DeviceSpec, SysDevice};
use sysdyn_core::fs::{WriteError, write_atomic};
use sysdyn_data::DataError;
use sysdyn_data::metrics::OverSeeds;
use sysdyn_generative::GenerativeError;
use sysdyn_plot::PlotError;
use sysdyn_train::{LrSchedule, ProgressMode, RunSet, TrainConfig};
use thiserror::Error;

use crate::data::{DomainPair, PIXELS, PairKind, Shapes, edges, mean_abs_difference, sharpness};
use crate::pix2pix::Objective;

/// Why the example failed.
#[derive(Debug, Error)]
pub enum ExampleError {
    /// A device or precision that this build or the policy does not allow.
    #[error(transparent)]
    Device(#[from] CoreError),
    /// A model setting or step failed.
    #[error(transparent)]
    Generative(#[from] GenerativeError),
    /// A data set failed.
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
    /// Translating with a trained network failed.
    #[error("translating: {0}")]
    Sample(String),
}

/// Pix2Pix against an L1-only U-Net on edges → shapes, and CycleGAN between shapes and their
/// colour-inverted versions and between two hands of digits, over three seeds.
#[derive(Debug, Clone, Parser)]
#[command(name = "image-translation", version)]
pub struct Cli {
    /// The longer runs of the published tables: 1500 Pix2Pix and 600 CycleGAN steps per run
    /// [default: 1000 and 400, to fit the tour]
    #[arg(long, conflicts_with = "quick")]
    pub full: bool,

    /// Generator steps of each Pix2Pix and L1-only run [default: 1000; 1500 with --full; 10
    /// with --quick]
    #[arg(long, value_name = "N")]
    pub pix2pix_steps: Option<usize>,

    /// Steps of each CycleGAN run [default: 400; 600 with --full; 10 with --quick]
    #[arg(long, value_name = "N")]
    pub cyclegan_steps: Option<usize>,

    /// Seeds per model [default: 3; 1 with --quick]
    #[arg(long, value_name = "N")]
    pub seeds: Option<usize>,

    // Last: its help heading ("Common options") applies to every flag after it.
    /// The options every sysdyn program shares (`--load` / `--resume` take the folder of the
    /// run directories, `<out>/run`).
    #[command(flatten)]
    pub run: RunArgs,
}

/// What the shared options default to here.
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
            pix2pix_steps: self.pix2pix_steps,
            cyclegan_steps: self.cyclegan_steps,
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
    /// The longer runs (see [`Cli::full`]).
    pub full: bool,
    /// Device.
    pub device: DeviceSpec,
    /// Steps of each Pix2Pix and L1-only run.
    pub pix2pix_steps: Option<usize>,
    /// Steps of each CycleGAN run.
    pub cyclegan_steps: Option<usize>,
    /// Seeds per model.
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
    pub const DEFAULT_OUT: &'static str = "out/image-translation";

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

/// One Pix2Pix objective over the seeds.
#[derive(Debug, Clone, Serialize)]
pub struct TranslationResult {
    /// `pix2pix` or `l1-only`.
    pub objective: &'static str,
    /// Mean absolute difference to the held-out targets, `[0, 1]` pixels.
    pub l1: OverSeeds,
    /// Mean image-gradient magnitude of the outputs.
    pub sharpness: OverSeeds,
    /// Seconds of training per seed.
    pub train_s: Vec<f64>,
}

/// CycleGAN on one pair of domains over the seeds.
#[derive(Debug, Clone, Serialize)]
pub struct CycleResult {
    /// `shapes` (↔ inverted shapes) or `digits` (thin upright ↔ thick slanted).
    pub domains: &'static str,
    /// Training and held-out images of each domain.
    pub images: [usize; 2],
    /// The domain classifier's accuracy on held-out real `X` and `Y` images.
    pub domain_classifier_accuracy: f64,
    /// `‖B(F(x)) − x‖₁` per pixel on held-out `X` images.
    pub cycle_error_x: OverSeeds,
    /// `‖F(B(y)) − y‖₁` per pixel on held-out `Y` images.
    pub cycle_error_y: OverSeeds,
    /// Fraction of `F(x)` the domain classifier puts in `Y`.
    pub forward_in_target_domain: OverSeeds,
    /// Fraction of `B(y)` the domain classifier puts in `X`.
    pub backward_in_target_domain: OverSeeds,
    /// Mean absolute difference of `F(x)` to `x`'s true counterpart in `Y` (the inverted shape;
    /// the same digit in the other hand).
    pub forward_error_to_counterpart: OverSeeds,
    /// Mean absolute difference of `B(y)` to `y`'s true counterpart in `X`.
    pub backward_error_to_counterpart: OverSeeds,
    /// Mean absolute difference between the held-out counterparts themselves, `x` against its
    /// `y`: what the identity map scores on the two lines above.
    pub identity_error: f64,
    /// Seconds of training per seed.
    pub train_s: Vec<f64>,
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
    /// `"image-translation"`.
    pub example: &'static str,
    /// Reduced run.
    pub quick: bool,
    /// The longer runs.
    pub full: bool,
    /// Whether this invocation trained anything.
    pub trained: bool,
    /// Output folder.
    pub out_dir: String,
    /// Backend.
    pub backend: String,
    /// Precision.
    pub precision: String,
    /// Training and held-out shapes.
    pub images: [usize; 2],
    /// Steps of each Pix2Pix and L1-only run.
    pub pix2pix_steps: usize,
    /// Steps of each CycleGAN run.
    pub cyclegan_steps: usize,
    /// Seeds per model.
    pub seeds: usize,
    /// Sharpness of the held-out targets.
    pub target_sharpness: f64,
    /// Pix2Pix and its L1-only baseline.
    pub pix2pix: Vec<TranslationResult>,
    /// CycleGAN on each pair of domains.
    pub cyclegan: Vec<CycleResult>,
    /// Figure files.
    pub figures: Vec<String>,
    /// Highlights.
    pub key_numbers: Vec<KeyNumber>,
    /// Seconds for the whole run.
    pub wall_s: f64,
}

impl Summary {
    /// One line per result, for the terminal.
    pub fn lines(&self) -> Vec<String> {
        let mut lines: Vec<String> = self
            .pix2pix
            .iter()
            .map(|r| {
                format!(
                    "{}: L1 {:.4} ± {:.4}, sharpness {:.4} ± {:.4} (targets {:.4})",
                    r.objective,
                    r.l1.mean,
                    r.l1.std,
                    r.sharpness.mean,
                    r.sharpness.std,
                    self.target_sharpness
                )
            })
            .collect();
        for c in &self.cyclegan {
            lines.push(format!(
                "cyclegan {}: cycle error x {:.4} ± {:.4}, y {:.4} ± {:.4}; in target domain \
                 {:.3} / {:.3}; to the counterparts {:.3} / {:.3} (identity {:.3})",
                c.domains,
                c.cycle_error_x.mean,
                c.cycle_error_x.std,
                c.cycle_error_y.mean,
                c.cycle_error_y.std,
                c.forward_in_target_domain.mean,
                c.backward_in_target_domain.mean,
                c.forward_error_to_counterpart.mean,
                c.backward_error_to_counterpart.mean,
                c.identity_error
            ));
        }
        lines
    }
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
    let quick = options.quick;
    let seeds = options.seeds.unwrap_or(if quick { 1 } else { 3 }).max(1);
    let pix2pix_steps = options.pix2pix_steps.unwrap_or(if quick {
        10
    } else if options.full {
        1500
    } else {
        1000
    });
    let cyclegan_steps = options.cyclegan_steps.unwrap_or(if quick {
        10
    } else if options.full {
        600
    } else {
        400
    });
    let (train, test) = if quick { (300, 100) } else { (5000, 500) };
    let shapes = Arc::new(Shapes::new(train, test, options.seed.wrapping_add(200))?);
    let progress = if options.quiet {
        ProgressMode::Quiet
    } else {
        ProgressMode::Auto
    };
    say!(
        options,
        "[image-translation] {train} training and {test} held-out shapes, on {}",
        device.spec()
    );

    let mut names = Vec::new();
    for objective in Objective::ALL {
        names.extend((0..seeds).map(|s| pix2pix::run_name(objective, s)));
    }
    for kind in PairKind::ALL {
        names.push(cyclegan::classifier_run_name(kind));
        names.extend((0..seeds).map(|s| cyclegan::run_name(kind, s)));
    }
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let runs = RunSet::from_flags(
        &options.out_dir.join("run"),
        options.load.as_deref(),
        options.resume.as_deref(),
        &refs,
    )?;
    let mut trained = false;

    // 1. Pix2Pix and the L1 baseline.
    let test_edges = edges(&shapes.test);
    let target_sharpness = sharpness(&shapes.test);
    let mut pix2pix_results = Vec::new();
    let mut first_outputs = Vec::new();
    for objective in Objective::ALL {
        let mut l1 = Vec::new();
        let mut sharp = Vec::new();
        let mut train_s = Vec::new();
        for s in 0..seeds {
            say!(options, "[image-translation] {} seed {s}", objective.name());
            let run = pix2pix::train_and_translate(
                &device,
                &runs,
                &shapes,
                objective,
                pix2pix_steps,
                progress,
                s,
                options.seed.wrapping_add(s as u64),
                &test_edges,
            )?;
            trained |= run.trained;
            l1.push(mean_abs_difference(&run.outputs, &shapes.test));
            sharp.push(sharpness(&run.outputs));
            train_s.push(run.train_s);
            say!(
                options,
                "  L1 {:.4}, sharpness {:.4} (targets {target_sharpness:.4}); {:.1} s",
                l1[s],
                sharp[s],
                run.train_s
            );
            if s == 0 {
                first_outputs.push(run.outputs);
            }
        }
        pix2pix_results.push(TranslationResult {
            objective: objective.name(),
            l1: OverSeeds::of(l1),
            sharpness: OverSeeds::of(sharp),
            train_s,
        });
    }

    // 2. On each pair of domains, the domain classifier, then CycleGAN.
    let pairs = [
        DomainPair::inverted_shapes(&shapes),
        DomainPair::digit_styles(train, test, options.seed.wrapping_add(300))?,
    ];
    let mut cyclegan_results = Vec::new();
    let mut first_cycles = Vec::new();
    for pair in pairs {
        let pair = Arc::new(pair);
        let (result, first, pair_trained) = cycle_on_pair(
            options,
            &device,
            &runs,
            &pair,
            seeds,
            cyclegan_steps,
            progress,
        )?;
        trained |= pair_trained;
        cyclegan_results.push(result);
        first_cycles.extend(first.map(|run| (pair, run)));
    }

    // 3. Figures and summary.
    let shown = 8.min(test);
    let mut saved = vec![figures::side_by_side(
        dir,
        "pix2pix",
        "held-out edges → L1-only U-Net, Pix2Pix, target (first seed)",
        &[
            &test_edges,
            &first_outputs[1],
            &first_outputs[0],
            &shapes.test,
        ],
        shown,
    )?];
    for (pair, run) in &first_cycles {
        let name = match pair.kind {
            PairKind::InvertedShapes => "cyclegan".to_string(),
            kind => format!("cyclegan-{}", kind.name()),
        };
        saved.push(figures::side_by_side(
            dir,
            &name,
            &format!(
                "{}, seed 0: x, F(x), B(F(x)) | y, B(y), F(B(y))",
                pair.kind.name()
            ),
            &[
                &pair.x_test,
                &run.forward,
                &run.forward_cycle,
                &pair.y_test,
                &run.backward,
                &run.backward_cycle,
            ],
            shown,
        )?);
    }
    let figures: Vec<String> = saved
        .iter()
        .flat_map(|s| s.names_relative_to(dir))
        .collect();
    let mut key_numbers = Vec::new();
    for r in &pix2pix_results {
        key_numbers.push(KeyNumber {
            name: format!("{}: L1 to held-out targets", r.objective),
            value: r.l1.mean,
        });
        key_numbers.push(KeyNumber {
            name: format!("{}: sharpness (targets {target_sharpness:.4})", r.objective),
            value: r.sharpness.mean,
        });
    }
    for c in &cyclegan_results {
        key_numbers.push(KeyNumber {
            name: format!("cyclegan {}: cycle error on held-out images", c.domains),
            value: c.cycle_error_x.mean,
        });
        key_numbers.push(KeyNumber {
            name: format!("cyclegan {}: F(x) in the target domain", c.domains),
            value: c.forward_in_target_domain.mean,
        });
    }
    let summary = Summary {
        example: "image-translation",
        quick,
        full: options.full,
        trained,
        out_dir: dir.display().to_string(),
        backend: spec.backend.name().to_string(),
        precision: spec.precision.name().to_string(),
        images: [shapes.train_len(), shapes.test.len() / PIXELS],
        pix2pix_steps,
        cyclegan_steps,
        seeds,
        target_sharpness,
        pix2pix: pix2pix_results,
        cyclegan: cyclegan_results,
        figures,
        key_numbers,
        wall_s: start.elapsed().as_secs_f64(),
    };
    write_atomic(
        &dir.join("summary.json"),
        serde_json::to_string_pretty(&summary)?.as_bytes(),
    )?;
    Ok(summary)
}

/// Trains the domain classifier of `pair`, then CycleGAN on it over the seeds; returns the
/// scores, the first seed's translations and whether anything was trained.
#[allow(clippy::too_many_arguments)]
fn cycle_on_pair(
    options: &Options,
    device: &SysDevice,
    runs: &RunSet,
    pair: &Arc<DomainPair>,
    seeds: usize,
    cyclegan_steps: usize,
    progress: ProgressMode,
) -> Result<(CycleResult, Option<cyclegan::Cycled>, bool), ExampleError> {
    let name = pair.kind.name();
    let classifier_steps: u64 = if options.quick { 10 } else { 300 };
    let session = runs.session(
        TrainConfig::new(classifier_steps)
            .with_seed(options.seed)
            .with_schedule(LrSchedule::Constant { lr: 1e-3 })
            .with_checkpoint_every(Some(classifier_steps))
            .with_progress(progress),
        &cyclegan::classifier_run_name(pair.kind),
    )?;
    let mut domain = cyclegan::DomainStep::new(
        device.clone(),
        Arc::clone(pair),
        options.seed.wrapping_add(9),
    )?;
    say!(
        options,
        "[image-translation] {name} ({}): domain classifier",
        pair.kind.description()
    );
    let mut trained = session.run(&mut domain)?.is_some();
    let domain_classifier_accuracy =
        (1.0 - domain.fraction_in_y(&pair.x_test)? + domain.fraction_in_y(&pair.y_test)?) / 2.0;
    say!(
        options,
        "  held-out accuracy {domain_classifier_accuracy:.4}"
    );

    let mut scores = [(); 6].map(|_| Vec::new());
    let mut train_s = Vec::new();
    let mut first = None;
    for s in 0..seeds {
        say!(options, "[image-translation] cyclegan {name} seed {s}");
        let run = cyclegan::train_and_translate(
            device,
            runs,
            pair,
            cyclegan_steps,
            progress,
            s,
            options.seed.wrapping_add(s as u64),
        )?;
        trained |= run.trained;
        scores[0].push(mean_abs_difference(&run.forward_cycle, &pair.x_test));
        scores[1].push(mean_abs_difference(&run.backward_cycle, &pair.y_test));
        scores[2].push(domain.fraction_in_y(&run.forward)?);
        scores[3].push(1.0 - domain.fraction_in_y(&run.backward)?);
        scores[4].push(mean_abs_difference(&run.forward, &pair.y_test));
        scores[5].push(mean_abs_difference(&run.backward, &pair.x_test));
        train_s.push(run.train_s);
        say!(
            options,
            "  cycle errors {:.4} / {:.4}, in target domain {:.3} / {:.3}, to the counterparts \
             {:.3} / {:.3}; {:.1} s",
            scores[0][s],
            scores[1][s],
            scores[2][s],
            scores[3][s],
            scores[4][s],
            scores[5][s],
            run.train_s
        );
        if s == 0 {
            first = Some(run);
        }
    }
    let [
        cycle_x,
        cycle_y,
        forward_domain,
        backward_domain,
        forward_counterpart,
        backward_counterpart,
    ] = scores;
    let result = CycleResult {
        domains: name,
        images: [pair.train_len(), pair.test_len()],
        domain_classifier_accuracy,
        cycle_error_x: OverSeeds::of(cycle_x),
        cycle_error_y: OverSeeds::of(cycle_y),
        forward_in_target_domain: OverSeeds::of(forward_domain),
        backward_in_target_domain: OverSeeds::of(backward_domain),
        forward_error_to_counterpart: OverSeeds::of(forward_counterpart),
        backward_error_to_counterpart: OverSeeds::of(backward_counterpart),
        identity_error: mean_abs_difference(&pair.x_test, &pair.y_test),
        train_s,
    };
    Ok((result, first, trained))
}
