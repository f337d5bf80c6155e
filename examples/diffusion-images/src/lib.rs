//! # Diffusion on images
//!
//! A class-conditional U-Net DDPM (Ho et al. 2020) learns 28×28 digits (procedurally drawn, or
//! MNIST with `--mnist DIR`), and image-gans' separately trained digit classifier judges its
//! samples:
//!
//! - **model**: [`DiffusionUNet`] (channels `c, 2c`, 28 → 14, ResNet blocks with GroupNorm and
//!   SiLU, the step embedding added per block, self-attention at 14×14), class embedding added
//!   to the step embedding with 10 % label dropout to the null class, linear β schedule
//!   `1e-4 … 0.02` over `T = 1000` steps, the simple ε loss (Algorithm 1), Adam with a cosine
//!   learning-rate decay, an exponential moving average of the weights for sampling;
//! - **samplers**: DDIM (η = 0) against ancestral sampling (η = 1 on the same sub-sequence,
//!   i.e. `σ² = β̃` of the sub-sequence) at 10 and 50 steps; full ancestral sampling with
//!   1000 steps only with `--full`; `x̂₀` clipped to `[−1, 1]` throughout;
//! - **guidance**: classifier-free (`ε̃ = (1 + w) ε(x, y) − w ε(x, ∅)`, `w = 2`) against the
//!   plain conditional model (`w = 0`), and classifier guidance of the unconditional `ε(x, ∅)`
//!   by a noise-conditional classifier ([`NoisyClassifier`], trained on noised digits);
//! - **scores** over the seeds (mean ± std): the fraction of samples the judge puts in the class
//!   asked for, the Fréchet distance of the judge's features against held-out digits, and the
//!   variational bound (Ho et al.'s `L_T + Σ L_{t−1} + L_0`) in bits/dim on uniformly
//!   dequantised held-out digits, the sum over `t` estimated with stratified steps.
//!
//! Every network trains on the `sysdyn-train` runtime in `<out>/run/<name>`; `--resume
//! <out>/run` continues interrupted runs, `--load <out>/run` evaluates without training.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use burn::module::Module;
use burn::optim::AdamConfig;
use clap::Parser;
use image_gans::classifier::{Classifier, ClassifierStep, FEATURES, judge};
use image_gans::data::Digits;
use image_gans::figures;
use serde::Serialize;
use sysdyn_core::CoreError;
use sysdyn_core::cli::{CliError, Program, RunArgs, parse_from};
use sysdyn_core::device::{DeviceSpec, SysDevice};
use sysdyn_core::fs::{WriteError, write_atomic};
use sysdyn_core::rng::SeededRng;
use sysdyn_data::DataError;
use sysdyn_data::metrics::{GaussianFit, frechet_distance_gaussians, mean_and_sample_std};
use sysdyn_generative::GenerativeError;
use sysdyn_generative::diffusion::{
    AncestralVariance, ClassifierGuided, DataRange, DdpmConfig, DdpmStep, Denoiser, DiffusionUNet,
    DiffusionUNetConfig, Guided, NoisePredictor, NoiseSchedule, NoisyClassifier,
    NoisyClassifierConfig, NoisyClassifierStep, evenly_spaced_steps, sample_ancestral_clipped,
    sample_ddim_clipped,
};
use sysdyn_plot::PlotError;
use sysdyn_train::{LrSchedule, Optim, ProgressMode, RunSet, TrainConfig};
use thiserror::Error;

/// Why the example failed.
#[derive(Debug, Error)]
pub enum ExampleError {
    /// A device or precision that this build or the policy does not allow.
    #[error(transparent)]
    Device(#[from] CoreError),
    /// A diffusion setting or step failed.
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
    /// A tensor of the wrong shape was built.
    #[error(transparent)]
    Shape(#[from] sysdyn_core::ShapeMismatch),
    /// The digits could not be loaded or judged.
    #[error("{0}")]
    Images(String),
}

impl From<image_gans::ExampleError> for ExampleError {
    fn from(e: image_gans::ExampleError) -> Self {
        ExampleError::Images(e.to_string())
    }
}

/// A class-conditional U-Net DDPM on digits: DDIM against ancestral sampling, classifier-free
/// and classifier guidance, class accuracy, Fréchet distance and bits/dim over seeds.
#[derive(Debug, Clone, Parser)]
#[command(name = "diffusion-images", version)]
pub struct Cli {
    /// Training steps of the DDPM [default: 600; 6000 with --full; 4 with --quick]
    #[arg(long, value_name = "N")]
    pub steps: Option<u64>,

    /// Channels of the U-Net's first level (the second has twice as many) [default: 8; 32
    /// with --full]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(2..))]
    pub channels: Option<u64>,

    /// Rows per training step [default: 32]
    #[arg(long, value_name = "N")]
    pub batch: Option<usize>,

    /// Seeds [default: 1; 3 with --full]
    #[arg(long, value_name = "N")]
    pub seeds: Option<usize>,

    /// Samples per class for every sampler [default: 5; 10 with --full; 2 with --quick]
    #[arg(long, value_name = "N")]
    pub samples: Option<usize>,

    /// Classifier-free guidance scale w [default: 2]
    #[arg(long, value_name = "W")]
    pub guidance: Option<f64>,

    /// Classifier guidance scale s [default: 4]
    #[arg(long, value_name = "S")]
    pub classifier_scale: Option<f64>,

    /// Training digits [default: 10000; 600 with --quick]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(10..))]
    pub train_images: Option<u64>,

    /// The bigger setting: wider U-Net, longer training, and full 1000-step ancestral sampling
    #[arg(long)]
    pub full: bool,

    /// MNIST IDX folder (train-images-idx3-ubyte …) instead of the procedural digits
    #[arg(long, value_name = "DIR")]
    pub mnist: Option<PathBuf>,

    #[command(flatten)]
    #[allow(missing_docs)]
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
            steps: self.steps,
            channels: self.channels.map(|c| c as usize),
            batch: self.batch,
            seeds: self.seeds,
            samples: self.samples,
            guidance: self.guidance.unwrap_or(2.0),
            classifier_scale: self.classifier_scale.unwrap_or(4.0),
            train_images: self.train_images.map(|n| n as usize),
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
    /// The bigger setting.
    pub full: bool,
    /// Device.
    pub device: DeviceSpec,
    /// DDPM training steps.
    pub steps: Option<u64>,
    /// First-level channels.
    pub channels: Option<usize>,
    /// Rows per step.
    pub batch: Option<usize>,
    /// Seeds.
    pub seeds: Option<usize>,
    /// Samples per class.
    pub samples: Option<usize>,
    /// Classifier-free guidance scale.
    pub guidance: f64,
    /// Classifier guidance scale.
    pub classifier_scale: f64,
    /// Training digits.
    pub train_images: Option<usize>,
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
    pub const DEFAULT_OUT: &'static str = "out/diffusion-images";

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

/// One sampler over the seeds.
#[derive(Debug, Clone, Serialize)]
pub struct SamplerResult {
    /// What sampled: guidance, sampler and steps.
    pub name: String,
    /// Network evaluations per sample (classifier guidance: plus one classifier gradient).
    pub nfe: usize,
    /// Fraction of samples the judge puts in the class asked for, per seed.
    pub accuracy: Vec<f64>,
    /// Mean over the seeds.
    pub accuracy_mean: f64,
    /// Sample standard deviation over the seeds.
    pub accuracy_std: f64,
    /// Fréchet distance of judge features against held-out digits, per seed.
    pub frechet: Vec<f64>,
    /// Mean over the seeds.
    pub frechet_mean: f64,
    /// Sample standard deviation over the seeds.
    pub frechet_std: f64,
    /// Sampling seconds per seed.
    pub sample_s: Vec<f64>,
}

/// A number the tour report lists.
#[derive(Debug, Clone, Serialize)]
pub struct KeyNumber {
    /// What it is.
    pub name: String,
    /// Its value.
    pub value: f64,
}

/// What `summary.json` holds.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// `diffusion-images`.
    pub example: &'static str,
    /// Reduced run.
    pub quick: bool,
    /// The bigger setting.
    pub full: bool,
    /// Whether anything was trained (false with `--load`).
    pub trained: bool,
    /// Output folder.
    pub out_dir: String,
    /// The device.
    pub device: String,
    /// Where the digits come from.
    pub data: String,
    /// Training and held-out images.
    pub images: [usize; 2],
    /// DDPM training steps.
    pub steps: u64,
    /// U-Net channels per level.
    pub channels: Vec<usize>,
    /// U-Net parameters.
    pub parameters: usize,
    /// Rows per step.
    pub batch: usize,
    /// Seeds.
    pub seeds: usize,
    /// Classifier-free guidance scale.
    pub guidance: f64,
    /// Classifier guidance scale.
    pub classifier_scale: f64,
    /// The judge's held-out accuracy.
    pub classifier_accuracy: f64,
    /// The noisy classifier's accuracy on held-out digits noised at a uniform step, per seed.
    pub noisy_classifier_accuracy: Vec<f64>,
    /// Fréchet distance between the two halves of the held-out digits (the floor).
    pub frechet_held_out: f64,
    /// Every sampler.
    pub results: Vec<SamplerResult>,
    /// The variational bound in bits/dim on dequantised held-out digits, per seed.
    pub bits_per_dim: Vec<f64>,
    /// Mean over the seeds.
    pub bits_per_dim_mean: f64,
    /// Sample standard deviation over the seeds.
    pub bits_per_dim_std: f64,
    /// Stratified steps per image of the bound's estimate.
    pub bound_steps: usize,
    /// Held-out images of the bound.
    pub bound_images: usize,
    /// DDPM training seconds per seed.
    pub train_s: Vec<f64>,
    /// Figures (relative to the output folder).
    pub figures: Vec<String>,
    /// For the tour report.
    pub key_numbers: Vec<KeyNumber>,
    /// Wall-clock seconds of the whole run.
    pub wall_s: f64,
}

/// How a sampler is guided.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Guidance {
    /// The conditional model, `w = 0`.
    Conditional,
    /// Classifier-free with scale `w`.
    Free(f64),
    /// The unconditional model guided by the noisy classifier with scale `s`.
    Classifier(f64),
}

/// One evaluated sampler: guidance, steps (`T` for full ancestral sampling) and `η`.
#[derive(Debug, Clone, Copy)]
struct Plan {
    guidance: Guidance,
    steps: usize,
    eta: f64,
}

impl Plan {
    fn name(&self, total: usize) -> String {
        let guidance = match self.guidance {
            Guidance::Conditional => "conditional (w = 0)".to_string(),
            Guidance::Free(w) => format!("classifier-free w = {w}"),
            Guidance::Classifier(s) => format!("classifier guidance s = {s}"),
        };
        let sampler = if self.steps == total {
            "ancestral".to_string()
        } else if self.eta == 0.0 {
            "DDIM".to_string()
        } else {
            "ancestral (η = 1)".to_string()
        };
        format!("{guidance}, {sampler}, {} steps", self.steps)
    }

    fn stem(&self) -> String {
        let guidance = match self.guidance {
            Guidance::Conditional => "conditional".to_string(),
            Guidance::Free(_) => "cfg".to_string(),
            Guidance::Classifier(_) => "classifier-guided".to_string(),
        };
        let sampler = if self.eta == 0.0 { "ddim" } else { "ancestral" };
        format!("{guidance}-{sampler}-{}", self.steps)
    }

    fn nfe(&self) -> usize {
        match self.guidance {
            Guidance::Free(w) if w > 0.0 => 2 * self.steps,
            _ => self.steps,
        }
    }
}

/// Samples `labels.len()` digits with `plan`, from `N(0, I)` drawn by `rng`.
fn sample(
    plan: Plan,
    net: &DiffusionUNet,
    noisy: &NoisyClassifier,
    schedule: &NoiseSchedule,
    device: &SysDevice,
    labels: &[usize],
    rng: &mut SeededRng,
) -> Result<Vec<f64>, ExampleError> {
    let rows = labels.len();
    let width = net.data_width();
    let x = device.randn(rng, [rows, width]);
    let range = Some(DataRange::unit());
    let total = schedule.steps();
    let run = |predictor: &mut dyn FnMut(
        burn::tensor::Tensor<2>,
        usize,
    )
        -> Result<burn::tensor::Tensor<2>, GenerativeError>,
               rng: &mut SeededRng|
     -> Result<burn::tensor::Tensor<2>, GenerativeError> {
        let mut predictor = |x: burn::tensor::Tensor<2>, t: usize| predictor(x, t);
        if plan.steps == total {
            sample_ancestral_clipped(
                schedule,
                &mut predictor,
                x.clone(),
                AncestralVariance::PosteriorBeta,
                range,
                rng,
            )
        } else {
            let steps = evenly_spaced_steps(total, plan.steps)?;
            sample_ddim_clipped(
                schedule,
                &mut predictor,
                x.clone(),
                &steps,
                plan.eta,
                range,
                rng,
            )
        }
    };
    let out = match plan.guidance {
        Guidance::Conditional | Guidance::Free(_) => {
            let w = match plan.guidance {
                Guidance::Free(w) => w,
                _ => 0.0,
            };
            let mut guided = Guided::new(net, labels.to_vec(), w)?;
            run(&mut |x, t| guided.predict(x, t), rng)?
        }
        Guidance::Classifier(s) => {
            let mut guided = ClassifierGuided::new(net, noisy, schedule, labels.to_vec(), s)?;
            run(&mut |x, t| guided.predict(x, t), rng)?
        }
    };
    let values = out
        .into_data()
        .convert::<f64>()
        .try_to_vec::<f64>()
        .map_err(|e| ExampleError::Images(format!("{e:?}")))?;
    Ok(values)
}

/// The variational bound `L_T + Σ_{t≥1} L_{t−1} + L_0` of the unconditional model `ε(x, ∅)`
/// in bits/dim for `images` in `[−1, 1]`, quantised to 256 levels and dequantised uniformly,
/// `x̃ = 2 (q + u)/256 − 1`: the prior KL in closed form, the decoder `−log N(x̃; μ_θ(x_0, 0),
/// β_0)`, and the KL terms `½ ‖μ̃(x_t, x̃) − μ_θ(x_t, t)‖² / β̃_t` summed over `t = 1 … T−1` by
/// `(T − 1)/K` times `K` stratified steps per image. The density on `[0, 256]^D` is the one on
/// `[−1, 1]^D` over `128^D`, hence the `+ log₂ 128`.
fn bits_per_dim(
    net: &DiffusionUNet,
    schedule: &NoiseSchedule,
    device: &SysDevice,
    images: &[f64],
    strata: usize,
    rng: &mut SeededRng,
) -> Result<f64, ExampleError> {
    let width = net.data_width();
    let rows = images.len() / width;
    let total = schedule.steps();
    let host = |t: burn::tensor::Tensor<2>| -> Result<Vec<f64>, ExampleError> {
        t.into_data()
            .convert::<f64>()
            .try_to_vec::<f64>()
            .map_err(|e| ExampleError::Images(format!("{e:?}")))
    };
    let x: Vec<f64> = images
        .iter()
        .map(|p| {
            let q = (((p + 1.0) / 2.0) * 255.0).round().clamp(0.0, 255.0);
            2.0 * (q + rng.uniform()) / 256.0 - 1.0
        })
        .collect();
    let x0 = device.tensor(x.clone(), [rows, width])?;
    let mut nats = vec![0.0; rows];
    // L_T: KL(N(√ᾱ x, 1 − ᾱ) ‖ N(0, 1)) per dimension.
    let last = schedule.alpha_bars()[total - 1];
    for (row, n) in nats.iter_mut().enumerate() {
        *n += x[row * width..(row + 1) * width]
            .iter()
            .map(|v| 0.5 * (last * v * v + (1.0 - last) - 1.0 - (1.0 - last).ln()))
            .sum::<f64>();
    }
    let null = vec![net.classes(); rows];
    let predict = |t: usize, eps: &burn::tensor::Tensor<2>| {
        let m = schedule.marginal(t)?;
        let x_t = x0.clone() * m.signal + eps.clone() * m.noise;
        let e = net.forward_classes(x_t.clone(), &vec![t; rows], Some(&null))?;
        Ok::<_, ExampleError>((x_t, e))
    };
    // L_{t−1}, t ≥ 1: the means differ by c₀ (x̂₀ − x) = c₀ σ/a (ε − ε̂).
    for k in 0..strata {
        let t = 1 + ((k as f64 + rng.uniform()) * (total - 1) as f64 / strata as f64) as usize;
        let t = t.min(total - 1);
        let eps = device.randn(rng, [rows, width]);
        let (_, e) = predict(t, &eps)?;
        let m = schedule.marginal(t)?;
        let posterior = schedule.posterior(t)?;
        let factor = posterior.x0_coef * m.noise / m.signal;
        let squared = host((e - eps).powi_scalar(2).sum_dim(1))?;
        let weight = (total - 1) as f64 / strata as f64;
        for (n, s) in nats.iter_mut().zip(squared) {
            *n += weight * 0.5 * factor * factor * s / posterior.variance;
        }
    }
    // L_0: the Gaussian decoder at t = 0 with variance β₀.
    let eps = device.randn(rng, [rows, width]);
    let (x_t, e) = predict(0, &eps)?;
    let beta = schedule.betas()[0];
    let m = schedule.marginal(0)?;
    let mean = (x_t - e * (beta / m.noise)) / schedule.alphas()[0].sqrt();
    let squared = host((x0 - mean).powi_scalar(2).sum_dim(1))?;
    for (n, s) in nats.iter_mut().zip(squared) {
        *n += 0.5 * s / beta + 0.5 * width as f64 * (2.0 * std::f64::consts::PI * beta).ln();
    }
    let mean_nats = nats.iter().sum::<f64>() / rows as f64;
    Ok(mean_nats / (width as f64 * std::f64::consts::LN_2) + 128f64.log2())
}

/// Runs the whole example and writes its files; returns the summary it wrote.
pub fn run(options: &Options) -> Result<Summary, ExampleError> {
    let start = Instant::now();
    let dir = options.out_dir.as_path();
    let mut spec = options.device;
    spec.autodiff = true;
    let mut device = spec.init()?;
    device.configure_defaults()?;
    let (quick, full) = (options.quick, options.full);
    // The default fits a shared two-core CPU: a narrow U-Net, short training, one seed.
    let seeds = options
        .seeds
        .unwrap_or(if full && !quick { 3 } else { 1 })
        .max(1);
    let steps = options.steps.unwrap_or(if quick {
        4
    } else if full {
        6000
    } else {
        600
    });
    let c = options
        .channels
        .unwrap_or(if full && !quick { 32 } else { 8 });
    let batch = options.batch.unwrap_or(32).max(1);
    let per_class = options
        .samples
        .unwrap_or(if quick {
            2
        } else if full {
            10
        } else {
            5
        })
        .max(1);
    let held_out = if quick { 200 } else { 1000 };
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
        "[diffusion-images] {} training and {held_out} held-out digits from {}, on {}",
        digits.train_labels.len(),
        digits.source,
        device.spec()
    );
    let mut names = vec!["classifier".to_string()];
    for s in 0..seeds {
        names.push(format!("ddpm-seed{s}"));
        names.push(format!("noisy-classifier-seed{s}"));
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
    let cosine = |steps: u64, lr: f64, seed: u64| {
        TrainConfig::new(steps)
            .with_seed(seed)
            .with_schedule(LrSchedule::Cosine {
                lr,
                min_lr: lr / 10.0,
                steps,
            })
            .with_checkpoint_every(Some((steps / 2).max(1)))
            .with_progress(progress)
    };

    // 1. The judge: image-gans' classifier.
    let judge_steps: u64 = if quick { 30 } else { 1500 };
    let session = runs.session(cosine(judge_steps, 1e-3, options.seed), "classifier")?;
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
    say!(options, "[diffusion-images] judge");
    let mut trained = session.run(&mut step)?.is_some();
    let judge_net = step.model;
    let judged = |pixels: &[f64]| {
        judge(&judge_net, &device, pixels, features)
            .map_err(|e| ExampleError::Images(e.to_string()))
    };
    let (_, predicted) = judged(&digits.test)?;
    let classifier_accuracy = predicted
        .iter()
        .zip(&digits.test_labels)
        .filter(|(p, l)| p == l)
        .count() as f64
        / held_out as f64;
    let half = held_out / 2;
    let (reference_features, _) = judged(digits.test_images(0..half))?;
    let reference = GaussianFit::new(&reference_features, FEATURES)?;
    let (other_features, _) = judged(digits.test_images(half..2 * half))?;
    let frechet_held_out =
        frechet_distance_gaussians(&reference, &GaussianFit::new(&other_features, FEATURES)?)?;
    say!(
        options,
        "  held-out accuracy {classifier_accuracy:.4}, Fréchet floor {frechet_held_out:.2}"
    );

    // 2. Per seed: the DDPM, the noisy classifier, the samplers and the bound.
    let schedule = NoiseSchedule::ddpm_linear();
    let total = schedule.steps();
    let w = options.guidance;
    let s = options.classifier_scale;
    let mut plans = vec![
        Plan {
            guidance: Guidance::Free(w),
            steps: 50,
            eta: 0.0,
        },
        Plan {
            guidance: Guidance::Conditional,
            steps: 50,
            eta: 0.0,
        },
        Plan {
            guidance: Guidance::Classifier(s),
            steps: 50,
            eta: 0.0,
        },
        Plan {
            guidance: Guidance::Free(w),
            steps: 10,
            eta: 0.0,
        },
        Plan {
            guidance: Guidance::Free(w),
            steps: 10,
            eta: 1.0,
        },
        Plan {
            guidance: Guidance::Free(w),
            steps: 50,
            eta: 1.0,
        },
    ];
    if full {
        plans.push(Plan {
            guidance: Guidance::Free(w),
            steps: total,
            eta: 1.0,
        });
    }
    let labels: Vec<usize> = (0..per_class * digits.classes)
        .map(|i| i % digits.classes)
        .collect();
    let (strata, bound_images) = if quick {
        (4, 50)
    } else if full {
        (50, 500)
    } else {
        (20, 200)
    };
    let unet_config = DiffusionUNetConfig::new(digits.image, vec![c, 2 * c])
        .with_attention(true)
        .with_classes(digits.classes);
    let mut accuracy = vec![Vec::new(); plans.len()];
    let mut frechet = vec![Vec::new(); plans.len()];
    let mut sample_s = vec![Vec::new(); plans.len()];
    let mut bits = Vec::new();
    let mut train_s = Vec::new();
    let mut noisy_accuracy = Vec::new();
    let mut grids: Vec<Vec<f64>> = vec![Vec::new(); plans.len()];
    let mut parameters = 0;
    for seed_index in 0..seeds {
        let seed = options.seed.wrapping_add(1000 * (seed_index as u64 + 1));
        let net = unet_config.init(device.device(), &mut SeededRng::new(seed))?;
        parameters = net.num_params();
        let data = Arc::clone(&digits);
        let sampler: sysdyn_generative::inputs::LabelledSampler =
            Box::new(move |rng: &mut SeededRng, rows: usize| data.train_batch(rng, rows));
        let mut step = DdpmStep::conditional(
            device.clone(),
            net,
            Optim::new(AdamConfig::new().build()),
            schedule.clone(),
            DdpmConfig::new(batch)
                .with_label_dropout(0.1)
                .with_ema_decay(Some(if quick { 0.5 } else { 0.995 })),
            sampler,
        )?;
        say!(
            options,
            "[diffusion-images] seed {seed_index}: DDPM, {steps} steps"
        );
        let clock = Instant::now();
        let session = runs.session(cosine(steps, 1e-3, seed), &format!("ddpm-seed{seed_index}"))?;
        trained |= session.run(&mut step)?.is_some();
        train_s.push(clock.elapsed().as_secs_f64());
        let net = step.sampling_network().clone().no_grad();

        let noisy_steps: u64 = if quick {
            4
        } else if full {
            1000
        } else {
            400
        };
        let data = Arc::clone(&digits);
        let sampler: sysdyn_generative::inputs::LabelledSampler =
            Box::new(move |rng: &mut SeededRng, rows: usize| data.train_batch(rng, rows));
        let noisy = NoisyClassifierConfig::new(digits.image, digits.classes)
            .init(device.device(), &mut SeededRng::new(seed ^ 7))?;
        let mut noisy_step = NoisyClassifierStep::new(
            device.clone(),
            noisy,
            Optim::new(AdamConfig::new().build()),
            schedule.clone(),
            64,
            sampler,
        )?;
        say!(options, "  noisy classifier, {noisy_steps} steps");
        let session = runs.session(
            cosine(noisy_steps, 1e-3, seed ^ 7),
            &format!("noisy-classifier-seed{seed_index}"),
        )?;
        trained |= session.run(&mut noisy_step)?.is_some();
        let noisy = noisy_step.classifier().clone().no_grad();
        noisy_accuracy.push(noisy_held_out_accuracy(
            &noisy, &schedule, &device, &digits, seed,
        )?);

        for (i, plan) in plans.iter().enumerate() {
            let clock = Instant::now();
            let mut rng = SeededRng::new(seed ^ (0x5eed + i as u64));
            let pixels = sample(*plan, &net, &noisy, &schedule, &device, &labels, &mut rng)?;
            sample_s[i].push(clock.elapsed().as_secs_f64());
            let (phi, classes) = judged(&pixels)?;
            let correct = classes.iter().zip(&labels).filter(|(p, l)| p == l).count();
            accuracy[i].push(correct as f64 / labels.len() as f64);
            frechet[i].push(frechet_distance_gaussians(
                &reference,
                &GaussianFit::new(&phi, FEATURES)?,
            )?);
            say!(
                options,
                "  {}: accuracy {:.3}, Fréchet {:.2}, {:.1} s",
                plan.name(total),
                accuracy[i][seed_index],
                frechet[i][seed_index],
                sample_s[i][seed_index]
            );
            if seed_index == 0 {
                grids[i] = pixels;
            }
        }
        let mut rng = SeededRng::new(seed ^ 0xb175);
        let images = digits.test_images(0..bound_images.min(held_out));
        bits.push(bits_per_dim(
            &net, &schedule, &device, images, strata, &mut rng,
        )?);
        say!(options, "  bits/dim {:.3}", bits[seed_index]);
    }

    // 3. Figures and summary.
    std::fs::create_dir_all(dir).map_err(|e| ExampleError::Images(e.to_string()))?;
    let mut saved = Vec::new();
    for (plan, grid) in plans.iter().zip(&grids) {
        saved.push(figures::images(
            dir,
            &plan.stem(),
            &format!("{} (column k asked for digit k)", plan.name(total)),
            grid,
            digits.image,
            digits.classes,
        )?);
    }
    saved.push(figures::images(
        dir,
        "held-out",
        "held-out digits",
        digits.test_images(0..(10 * per_class).min(held_out)),
        digits.image,
        digits.classes,
    )?);
    let figures: Vec<String> = saved
        .iter()
        .flat_map(|s| s.names_relative_to(dir))
        .collect();
    let results: Vec<SamplerResult> = plans
        .iter()
        .enumerate()
        .map(|(i, plan)| {
            let (accuracy_mean, accuracy_std) = mean_and_sample_std(&accuracy[i]);
            let (frechet_mean, frechet_std) = mean_and_sample_std(&frechet[i]);
            SamplerResult {
                name: plan.name(total),
                nfe: plan.nfe(),
                accuracy: accuracy[i].clone(),
                accuracy_mean,
                accuracy_std,
                frechet: frechet[i].clone(),
                frechet_mean,
                frechet_std,
                sample_s: sample_s[i].clone(),
            }
        })
        .collect();
    let (bits_per_dim_mean, bits_per_dim_std) = mean_and_sample_std(&bits);
    let mut key_numbers = vec![KeyNumber {
        name: "judge held-out accuracy".into(),
        value: classifier_accuracy,
    }];
    for r in results.iter().take(3) {
        key_numbers.push(KeyNumber {
            name: format!("class accuracy, {}", r.name),
            value: r.accuracy_mean,
        });
    }
    key_numbers.push(KeyNumber {
        name: "bits/dim (variational bound, dequantised held-out digits)".into(),
        value: bits_per_dim_mean,
    });
    let summary = Summary {
        example: "diffusion-images",
        quick,
        full,
        trained,
        out_dir: dir.display().to_string(),
        device: device.spec().to_string(),
        data: digits.source.clone(),
        images: [digits.train_labels.len(), held_out],
        steps,
        channels: vec![c, 2 * c],
        parameters,
        batch,
        seeds,
        guidance: w,
        classifier_scale: s,
        classifier_accuracy,
        noisy_classifier_accuracy: noisy_accuracy,
        frechet_held_out,
        results,
        bits_per_dim: bits,
        bits_per_dim_mean,
        bits_per_dim_std,
        bound_steps: strata,
        bound_images: bound_images.min(held_out),
        train_s,
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

/// The noisy classifier's accuracy on held-out digits, each noised at a uniform step.
fn noisy_held_out_accuracy(
    noisy: &NoisyClassifier,
    schedule: &NoiseSchedule,
    device: &SysDevice,
    digits: &Digits,
    seed: u64,
) -> Result<f64, ExampleError> {
    let mut rng = SeededRng::new(seed ^ 0xacc);
    let width = digits.image.features();
    let rows = digits.test_labels.len().min(500);
    let steps: Vec<usize> = (0..rows)
        .map(|_| rng.below(schedule.steps() as u64) as usize)
        .collect();
    let mut noised = Vec::with_capacity(rows * width);
    for (row, &t) in steps.iter().enumerate() {
        let m = schedule.marginal(t)?;
        let z = rng.normals(width);
        noised.extend(
            digits
                .test_images(row..row + 1)
                .iter()
                .zip(z)
                .map(|(x, z)| m.signal * x + m.noise * z),
        );
    }
    let logits = noisy.logits(device.tensor(noised, [rows, width])?, &steps)?;
    let predicted = logits
        .argmax(1)
        .into_data()
        .convert::<i64>()
        .try_to_vec::<i64>()
        .map_err(|e| ExampleError::Images(format!("{e:?}")))?;
    Ok(predicted
        .iter()
        .zip(&digits.test_labels)
        .filter(|(p, l)| **p as usize == **l)
        .count() as f64
        / rows as f64)
}
