//! # Variational and vector-quantised autoencoders on digits
//!
//! On 28×28 digits (procedurally drawn, or MNIST with `--mnist DIR`):
//!
//! - **VAE, IWAE, β-VAE, cVAE** ([`vaes`]): Burda et al. (2016)'s one-stochastic-layer model
//!   (784-200-200-50 tanh encoder, mirrored Bernoulli decoder) on dynamically binarised digits,
//!   trained with the ELBO, the IWAE bound (`k` = 5; 50 with `--full`), the ELBO with `β = 4`
//!   after a KL warm-up, and conditioned on the label; each scored by the importance-weighted
//!   NLL estimate on held-out digits (`k` = 64; 5000 with `--full`), over three seeds;
//! - **VQ-VAE** ([`vq`]): a convolutional VQ-VAE (`K` = 512 codes of width 8 on a 7×7 grid,
//!   EMA codebook) with and without dead-code restarts: its reconstruction error against
//!   convolutional Gaussian VAEs with as many latent variables (49; decoder variance learned,
//!   or fixed at 0.01), its perplexity and code usage, and a PixelCNN prior over its codes,
//!   sampled.
//!
//! Every network trains on the `sysdyn-train` runtime in `<out>/run/<name>`; `--resume
//! <out>/run` continues interrupted runs, `--load <out>/run` evaluates without training.

pub mod data;
pub mod figures;
pub mod vaes;
pub mod vq;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use clap::Parser;
use serde::Serialize;
use sysdyn_core::CoreError;
use sysdyn_core::cli::{CliError, Program, RunArgs, parse_from};
use sysdyn_core::device::DeviceSpec;
use sysdyn_core::fs::{WriteError, write_atomic};
use sysdyn_data::DataError;
use sysdyn_data::metrics::OverSeeds;
use sysdyn_generative::GenerativeError;
use sysdyn_plot::PlotError;
use sysdyn_train::{LrSchedule, ProgressMode, RunSet};
use thiserror::Error;

use crate::data::Digits;
use crate::vaes::{Model, VaeRun};
use crate::vq::{GaussianDecoder, GaussianRun, PriorRun, VqRun};

/// Why the example failed.
#[derive(Debug, Error)]
pub enum ExampleError {
    /// A device or precision that this build or the policy does not allow.
    #[error(transparent)]
    Device(#[from] CoreError),
    /// A model setting or pass failed.
    #[error(transparent)]
    Generative(#[from] GenerativeError),
    /// A data set failed to load.
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
    /// Scoring a trained model failed.
    #[error("scoring a model: {0}")]
    Model(Box<dyn std::error::Error + Send + Sync>),
    /// Data of the wrong shape.
    #[error("{0}")]
    Shape(String),
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

impl From<sysdyn_core::ShapeMismatch> for ExampleError {
    fn from(e: sysdyn_core::ShapeMismatch) -> Self {
        ExampleError::Shape(e.to_string())
    }
}

/// VAE, IWAE, β-VAE and conditional VAE on dynamically binarised digits, scored by their
/// importance-weighted NLL over three seeds; a VQ-VAE with and without dead-code restarts
/// against a Gaussian VAE of the same latent size, with a PixelCNN prior over its codes.
#[derive(Debug, Clone, Parser)]
#[command(name = "vae-images", version)]
pub struct Cli {
    /// Training steps of each MLP model (VAE, IWAE, β-VAE, cVAE) [default: 2000; 20 with
    /// --quick; Burda et al.'s 3280 passes over the training set with --full]
    #[arg(long, value_name = "N", value_parser = at_least_one)]
    pub steps: Option<u64>,

    /// Training steps of each VQ-VAE and Gaussian VAE [default: 500; 10 with --quick; 5000
    /// with --full]
    #[arg(long, value_name = "N", value_parser = at_least_one)]
    pub vq_steps: Option<u64>,

    /// Training steps of the PixelCNN prior [default: 400; 10 with --quick; 5000 with --full]
    #[arg(long, value_name = "N", value_parser = at_least_one)]
    pub prior_steps: Option<u64>,

    /// Rows per step of the MLP models [default: 100; Burda et al.'s 20 with --full]
    #[arg(long, value_name = "N", value_parser = at_least_one)]
    pub batch: Option<u64>,

    /// Samples k of the IWAE objective [default: 5; 50 with --full]
    #[arg(long, value_name = "K", value_parser = at_least_one)]
    pub iwae_k: Option<u64>,

    /// Importance samples of the held-out NLL estimate [default: 64; 5000 with --full, as
    /// Burda et al. evaluate]
    #[arg(long, value_name = "K", value_parser = at_least_one)]
    pub eval_k: Option<u64>,

    /// Held-out digits scored [default: 1000; 40 with --quick; 10000 with --full]
    #[arg(long, value_name = "N", value_parser = at_least_one)]
    pub eval_images: Option<u64>,

    /// Codes K of the VQ-VAE [default: 512: at 64 no code died, with or without restarts]
    #[arg(long, value_name = "K", value_parser = at_least_one)]
    pub codes: Option<u64>,

    /// Seeds per model [default: 3; 1 with --quick]
    #[arg(long, value_name = "N", value_parser = at_least_one)]
    pub seeds: Option<u64>,

    /// Training digits [default: 10000 procedural (60000 MNIST digits with --mnist); 500 with
    /// --quick]
    #[arg(long, value_name = "N", value_parser = at_least_ten)]
    pub train_images: Option<usize>,

    /// The papers' sizes: Burda et al.'s schedule (batch 20, 3280 passes over the training
    /// set, learning rate decayed from 1e-3 to 1e-4), IWAE k = 50, NLL with k = 5000 on all
    /// held-out digits, and longer VQ-VAE and prior runs (days on a CPU)
    #[arg(long)]
    pub full: bool,

    /// Use the MNIST IDX files in DIR instead of procedural digits
    #[arg(long, value_name = "DIR")]
    pub mnist: Option<PathBuf>,

    // Last: its help heading ("Common options") applies to every flag after it.
    /// The options every sysdyn program shares (`--load` / `--resume` take the folder of the
    /// run directories, `<out>/run`).
    #[command(flatten)]
    pub run: RunArgs,
}

/// A count: at least 1.
fn at_least_one(text: &str) -> Result<u64, String> {
    match text.parse::<u64>() {
        Ok(n) if n >= 1 => Ok(n),
        Ok(_) => Err("must be at least 1".into()),
        Err(e) => Err(format!("not a positive whole number: {e}")),
    }
}

/// A training-set size: a number of at least 10.
fn at_least_ten(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(n) if n >= 10 => Ok(n),
        Ok(n) => Err(format!("{n} training images are too few; give at least 10")),
        Err(e) => Err(format!("not a number of images: {e}")),
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
        let size = |v: Option<u64>| v.map(|n| n as usize);
        Ok(Options {
            out_dir: run.out_dir,
            quick: run.quick,
            full: self.full,
            device: run.device.with_autodiff(true),
            steps: self.steps,
            vq_steps: self.vq_steps,
            prior_steps: self.prior_steps,
            batch: size(self.batch),
            iwae_k: size(self.iwae_k),
            eval_k: size(self.eval_k),
            eval_images: size(self.eval_images),
            codes: size(self.codes),
            seeds: size(self.seeds),
            train_images: self.train_images,
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
    /// The papers' sizes.
    pub full: bool,
    /// Device.
    pub device: DeviceSpec,
    /// Steps of each MLP model.
    pub steps: Option<u64>,
    /// Steps of each VQ-VAE and Gaussian VAE.
    pub vq_steps: Option<u64>,
    /// Steps of the prior.
    pub prior_steps: Option<u64>,
    /// Rows per step of the MLP models.
    pub batch: Option<usize>,
    /// `k` of the IWAE objective.
    pub iwae_k: Option<usize>,
    /// `k` of the NLL estimate.
    pub eval_k: Option<usize>,
    /// Held-out digits scored.
    pub eval_images: Option<usize>,
    /// VQ-VAE codes.
    pub codes: Option<usize>,
    /// Seeds per model.
    pub seeds: Option<usize>,
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
    pub const DEFAULT_OUT: &'static str = "out/vae-images";

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

/// One MLP model over the seeds.
#[derive(Debug, Clone, Serialize)]
pub struct ModelResult {
    /// `vae`, `iwae`, `beta-vae` or `cvae`.
    pub model: &'static str,
    /// How it was trained.
    pub objective: String,
    /// The held-out NLL estimate, nats (for the cVAE: `−log p(x | y)`).
    pub nll_nats: OverSeeds,
    /// The same in bits per dimension.
    pub bits_per_dim: OverSeeds,
    /// Active latent units (`Var_x[μ(x)] > 0.01`) of 50.
    pub active_units: Vec<usize>,
    /// Seconds of training per seed (0 with `--load`).
    pub train_s: Vec<f64>,
}

/// A published figure to compare with.
#[derive(Debug, Clone, Serialize)]
pub struct Reference {
    /// What.
    pub what: &'static str,
    /// MNIST test NLL, nats.
    pub nll_nats: f64,
}

/// The VQ-VAE runs with or without restarts over the seeds.
#[derive(Debug, Clone, Serialize)]
pub struct VqResult {
    /// Whether dead codes were restarted.
    pub restart: bool,
    /// Held-out reconstruction MSE per pixel.
    pub mse: OverSeeds,
    /// Held-out perplexity.
    pub perplexity: OverSeeds,
    /// Codes used by held-out positions.
    pub codes_used: Vec<usize>,
    /// Seconds of training per seed.
    pub train_s: Vec<f64>,
    /// Held-out assignment counts per code (first seed).
    pub counts: Vec<u64>,
}

/// The discrete half of the summary.
#[derive(Debug, Clone, Serialize)]
pub struct VqSummary {
    /// Codes `K`.
    pub codes: usize,
    /// Code width `D`.
    pub width: usize,
    /// The code grid's positions (latent variables per image).
    pub positions: usize,
    /// Steps per run.
    pub steps: u64,
    /// With dead-code restarts.
    pub restart: VqResult,
    /// Without.
    pub plain: VqResult,
    /// The code's capacity, `positions · log₂ K` bits.
    pub code_capacity_bits: f64,
    /// The Gaussian VAEs with as many latent variables: learned and fixed decoder variance.
    pub gaussian: Vec<GaussianResult>,
    /// The prior over the first restarted VQ-VAE's codes.
    pub prior: PriorRun,
}

/// A Gaussian VAE over the seeds.
#[derive(Debug, Clone, Serialize)]
pub struct GaussianResult {
    /// `learned-variance` or `fixed-variance`.
    pub decoder: &'static str,
    /// Latent width.
    pub latent: usize,
    /// Held-out reconstruction MSE per pixel.
    pub mse: OverSeeds,
    /// Held-out mean KL to the prior (the rate), nats.
    pub kl_nats: OverSeeds,
    /// Decoder variance per seed.
    pub decoder_variance: Vec<f64>,
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
    /// `"vae-images"`.
    pub example: &'static str,
    /// Reduced run.
    pub quick: bool,
    /// The papers' sizes.
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
    /// Held-out digits scored.
    pub eval_images: usize,
    /// Seeds per model.
    pub seeds: usize,
    /// Steps of each MLP model.
    pub steps: u64,
    /// Rows per step of the MLP models.
    pub batch: usize,
    /// `k` of the IWAE objective.
    pub iwae_k: usize,
    /// `β` of the β-VAE.
    pub beta: f64,
    /// `k` of the held-out NLL estimate.
    pub eval_k: usize,
    /// The MLP models.
    pub vaes: Vec<ModelResult>,
    /// Burda et al. (2016), Table 1, one stochastic layer, MNIST.
    pub burda_mnist: Vec<Reference>,
    /// The VQ-VAE side.
    pub vq: VqSummary,
    /// Figure files.
    pub figures: Vec<String>,
    /// Highlights.
    pub key_numbers: Vec<KeyNumber>,
    /// Seconds for the whole run.
    pub wall_s: f64,
}

/// `β` of the β-VAE.
pub const BETA: f64 = 4.0;

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
    let (quick, full) = (options.quick, options.full);
    let seeds = options.seeds.unwrap_or(if quick { 1 } else { 3 });
    let held_out = if quick { 100 } else { 10_000 };
    let digits = Arc::new(match &options.mnist {
        Some(mnist) => {
            sysdyn_data::idx::check_folder(mnist)?;
            Digits::mnist(mnist, options.train_images.unwrap_or(60_000), held_out)?
        }
        None => Digits::procedural(
            options
                .train_images
                .unwrap_or(if quick { 500 } else { 10_000 }),
            if full { held_out } else { held_out.min(2000) },
            options.seed.wrapping_add(100),
        )?,
    });
    let train_len = digits.train_labels.len();
    say!(
        options,
        "[vae-images] {train_len} training and {} held-out digits from {}, on {}",
        digits.test_len(),
        digits.source,
        device.spec()
    );
    let progress = if options.quiet {
        ProgressMode::Quiet
    } else {
        ProgressMode::Auto
    };
    let batch = options.batch.unwrap_or(if full { 20 } else { 100 });
    // Burda et al.: 3^i passes at learning rate 1e-3·10^(−i/7) for i = 0…7, 3280 passes in all;
    // here one exponential decay over the same span.
    let burda_steps = (3280 * train_len).div_ceil(batch) as u64;
    let steps = options.steps.unwrap_or(if quick {
        20
    } else if full {
        burda_steps
    } else {
        2000
    });
    let schedule = if full {
        LrSchedule::Exponential {
            lr: 1e-3,
            final_lr: 1e-4,
            steps,
        }
    } else {
        LrSchedule::Constant { lr: 1e-3 }
    };
    let eval_k = options.eval_k.unwrap_or(if full { 5000 } else { 64 });
    let eval_images = options
        .eval_images
        .unwrap_or(if quick {
            40
        } else if full {
            10_000
        } else {
            1000
        })
        .min(digits.test_len());
    let plan = vaes::Plan {
        steps,
        batch,
        iwae_k: options.iwae_k.unwrap_or(if full { 50 } else { 5 }),
        beta: BETA,
        schedule,
        eval_k,
        eval_images,
        curve_images: if quick { 20 } else { 200 },
        curve_k: 64,
        evaluations: if quick { 2 } else { 10 },
        progress,
    };
    let vq_plan = vq::Plan {
        steps: options.vq_steps.unwrap_or(if quick {
            10
        } else if full {
            5000
        } else {
            500
        }),
        prior_steps: options.prior_steps.unwrap_or(if quick {
            10
        } else if full {
            5000
        } else {
            400
        }),
        batch: 64,
        codes: options.codes.unwrap_or(512),
        width: 8,
        hidden: if full { 32 } else { 16 },
        restart_after: 20,
        prior_width: if full { 64 } else { 32 },
        eval_images,
        progress,
    };

    let mut names: Vec<String> = Vec::new();
    for s in 0..seeds {
        names.extend(Model::ALL.iter().map(|m| m.run_name(s)));
        names.push(vq::vq_run_name(true, s));
        names.push(vq::vq_run_name(false, s));
        names.extend(
            GaussianDecoder::ALL
                .iter()
                .map(|&d| vq::gaussian_run_name(d, s)),
        );
    }
    names.push(vq::PRIOR_RUN.to_string());
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let runs = RunSet::from_flags(
        &options.out_dir.join("run"),
        options.load.as_deref(),
        options.resume.as_deref(),
        &refs,
    )?;
    let mut trained = false;

    // 1. The Bernoulli MLP models.
    let mut vae_results = Vec::new();
    let mut first_runs: Vec<(Model, VaeRun)> = Vec::new();
    for model in Model::ALL {
        let mut per_seed = Vec::new();
        for s in 0..seeds {
            say!(options, "[vae-images] {} seed {s}", model.name());
            let run = vaes::train_and_score(
                &device,
                &runs,
                &plan,
                model,
                s,
                options.seed.wrapping_add(s as u64),
                &digits,
                s == 0,
            )?;
            say!(
                options,
                "  NLL {:.2} nats ({:.4} bits/dim, k = {eval_k}), {} active units; {:.1} s",
                run.nll_nats,
                run.bits_per_dim,
                run.active_units,
                run.train_s
            );
            trained |= run.trained;
            per_seed.push(run);
        }
        vae_results.push(ModelResult {
            model: model.name(),
            objective: match model {
                Model::Vae => "ELBO, 1 sample".to_string(),
                Model::Iwae => format!("IWAE bound, k = {}", plan.iwae_k),
                Model::BetaVae => format!(
                    "ELBO with β = {BETA} on the KL, linear warm-up over {} steps",
                    (plan.steps / 5).max(1)
                ),
                Model::Cvae => "ELBO, 1 sample, label to encoder and decoder".to_string(),
            },
            nll_nats: OverSeeds::of(per_seed.iter().map(|r| r.nll_nats).collect()),
            bits_per_dim: OverSeeds::of(per_seed.iter().map(|r| r.bits_per_dim).collect()),
            active_units: per_seed.iter().map(|r| r.active_units).collect(),
            train_s: per_seed.iter().map(|r| r.train_s).collect(),
        });
        first_runs.push((model, per_seed.swap_remove(0)));
    }

    // 2. The VQ-VAEs, the Gaussian VAE of the same latent size, the prior.
    let mut vq_runs: [Vec<VqRun>; 2] = [Vec::new(), Vec::new()];
    let mut gaussian_runs: [Vec<GaussianRun>; 2] = [Vec::new(), Vec::new()];
    for s in 0..seeds {
        let seed = options.seed.wrapping_add(s as u64);
        for (i, restart) in [true, false].into_iter().enumerate() {
            say!(
                options,
                "[vae-images] {} seed {s}",
                vq::vq_run_name(restart, s)
            );
            let run = vq::train_vq(&device, &runs, &vq_plan, restart, s, seed, &digits)?;
            say!(
                options,
                "  MSE {:.5}, perplexity {:.1}, {} of {} codes used; {:.1} s",
                run.mse,
                run.perplexity,
                run.codes_used,
                vq_plan.codes,
                run.train_s
            );
            trained |= run.trained;
            vq_runs[i].push(run);
        }
        for (i, decoder) in GaussianDecoder::ALL.into_iter().enumerate() {
            say!(
                options,
                "[vae-images] Gaussian VAE, {} decoder, seed {s}",
                decoder.name()
            );
            let run = vq::train_gaussian(&device, &runs, &vq_plan, decoder, s, seed, &digits)?;
            say!(
                options,
                "  MSE {:.5}, KL {:.1} nats, decoder variance {:.5}; {:.1} s",
                run.mse,
                run.kl_nats,
                run.decoder_variance,
                run.train_s
            );
            trained |= run.trained;
            gaussian_runs[i].push(run);
        }
    }
    say!(options, "[vae-images] PixelCNN prior on the codes");
    let first_vq = vq_runs[0][0]
        .model
        .clone()
        .ok_or_else(|| ExampleError::Shape("the first VQ-VAE run kept no model".into()))?;
    let prior = vq::train_prior(&device, &runs, &vq_plan, first_vq, options.seed, &digits)?;
    say!(
        options,
        "  held-out codes: {:.3} bits per code (uniform {:.3}); {:.1} s",
        prior.held_out_bits_per_code,
        prior.uniform_bits_per_code,
        prior.train_s
    );
    trained |= prior.trained;
    let vq_result = |runs: &[VqRun], restart: bool| VqResult {
        restart,
        mse: OverSeeds::of(runs.iter().map(|r| r.mse).collect()),
        perplexity: OverSeeds::of(runs.iter().map(|r| r.perplexity).collect()),
        codes_used: runs.iter().map(|r| r.codes_used).collect(),
        train_s: runs.iter().map(|r| r.train_s).collect(),
        counts: runs[0].counts.clone(),
    };
    let positions = vq::gaussian_latent(&digits);
    let vq_summary = VqSummary {
        codes: vq_plan.codes,
        width: vq_plan.width,
        positions,
        steps: vq_plan.steps,
        restart: vq_result(&vq_runs[0], true),
        plain: vq_result(&vq_runs[1], false),
        code_capacity_bits: positions as f64 * (vq_plan.codes as f64).log2(),
        gaussian: GaussianDecoder::ALL
            .iter()
            .zip(&gaussian_runs)
            .map(|(decoder, runs)| GaussianResult {
                decoder: decoder.name(),
                latent: positions,
                mse: OverSeeds::of(runs.iter().map(|r| r.mse).collect()),
                kl_nats: OverSeeds::of(runs.iter().map(|r| r.kl_nats).collect()),
                decoder_variance: runs.iter().map(|r| r.decoder_variance).collect(),
                train_s: runs.iter().map(|r| r.train_s).collect(),
            })
            .collect(),
        prior: prior.clone(),
    };

    // 3. Figures.
    let side = digits.side;
    let mut saved = Vec::new();
    let picture = |model: Model| {
        first_runs
            .iter()
            .find(|(m, _)| *m == model)
            .and_then(|(_, r)| r.pictures.as_ref())
            .ok_or_else(|| ExampleError::Shape(format!("no pictures of {}", model.name())))
    };
    let vae_pictures = picture(Model::Vae)?;
    let clamp = |v: &[f64]| v.iter().map(|p| p.clamp(0.0, 1.0)).collect::<Vec<f64>>();
    let vq_recon = clamp(&vq_runs[0][0].reconstructions);
    let gaussian_recon = clamp(&gaussian_runs[0][0].reconstructions);
    let fixed_recon = clamp(&gaussian_runs[1][0].reconstructions);
    saved.push(figures::mosaics(
        dir,
        "reconstructions",
        "held-out digits (odd rows) and their reconstructions (even rows), first seed",
        &[
            (
                "VAE (binarised input; decoder mean)".into(),
                &vae_pictures.reconstructions,
                vaes::RECON,
            ),
            (
                format!("VQ-VAE, K = {}, restarts", vq_plan.codes),
                &vq_recon,
                10,
            ),
            (
                format!("Gaussian VAE, {positions} latents, learned σ²"),
                &gaussian_recon,
                10,
            ),
            (
                format!("Gaussian VAE, σ² = {}", vq::FIXED_VARIANCE),
                &fixed_recon,
                10,
            ),
        ],
        side,
    )?);
    let mut sample_panels: Vec<(String, &[f64], usize)> = Vec::new();
    for model in [Model::Vae, Model::Iwae, Model::BetaVae] {
        sample_panels.push((
            format!("{} (decoder means)", model.name()),
            &picture(model)?.samples,
            10,
        ));
    }
    let prior_samples = clamp(&prior.samples);
    sample_panels.push(("VQ-VAE + PixelCNN prior".into(), &prior_samples, 10));
    saved.push(figures::mosaics(
        dir,
        "samples",
        "samples, first seed: z ~ N(0, I) decoded (Bernoulli means), and VQ-VAE codes drawn from the prior",
        &sample_panels,
        side,
    )?);
    saved.push(figures::images(
        dir,
        "cvae-samples",
        "cVAE samples: column k asks for digit k",
        &picture(Model::Cvae)?.samples,
        side,
        10,
    )?);
    saved.push(figures::images(
        dir,
        "vq-prior-samples",
        "VQ-VAE: code grids drawn from the PixelCNN prior",
        &prior_samples,
        side,
        10,
    )?);
    saved.push(figures::latent_scatter(
        dir,
        "VAE: held-out μ(x), first two principal components",
        &vae_pictures.scatter,
        &vae_pictures.scatter_labels,
        digits.classes,
    )?);
    let dims: Vec<String> = vae_pictures
        .traversed
        .iter()
        .map(|(j, _)| j.to_string())
        .collect();
    saved.push(figures::images(
        dir,
        "traversal",
        &format!("VAE traversals, dimensions {}", dims.join(", ")),
        &vae_pictures.traversal,
        side,
        vaes::STEPS,
    )?);
    saved.push(figures::images(
        dir,
        "interpolation",
        "VAE: spherical interpolation between μ(x)",
        &vae_pictures.interpolation,
        side,
        vaes::STEPS,
    )?);
    let curves: Vec<figures::BoundCurves> = first_runs
        .iter()
        .map(|(m, r)| figures::BoundCurves {
            name: m.name(),
            training: &r.bound_curve,
            held_out: &r.held_out_curve,
        })
        .collect();
    saved.push(figures::bounds(dir, &curves, plan.curve_k)?);
    fn usage<'a>(name: &'a str, run: &'a VqRun) -> figures::UsageCurves<'a> {
        figures::UsageCurves {
            name,
            counts: &run.counts,
            perplexity: &run.perplexity_curve,
        }
    }
    saved.push(figures::codebook_usage(
        dir,
        &[
            usage("dead-code restarts", &vq_runs[0][0]),
            usage("no restarts", &vq_runs[1][0]),
        ],
        vq_plan.codes,
    )?);
    let figure_names: Vec<String> = saved
        .iter()
        .flat_map(|s| s.names_relative_to(dir))
        .collect();

    // 4. Summary.
    let mut key_numbers = Vec::new();
    for r in &vae_results {
        key_numbers.push(KeyNumber {
            name: format!(
                "{} held-out NLL, nats (k = {eval_k}, mean of {})",
                r.model,
                r.nll_nats.values.len()
            ),
            value: r.nll_nats.mean,
        });
    }
    key_numbers.extend([
        KeyNumber {
            name: "VQ-VAE with restarts: held-out MSE".into(),
            value: vq_summary.restart.mse.mean,
        },
        KeyNumber {
            name: "VQ-VAE without restarts: held-out MSE".into(),
            value: vq_summary.plain.mse.mean,
        },
        KeyNumber {
            name: format!("Gaussian VAE ({positions} latents, learned σ²): held-out MSE"),
            value: vq_summary.gaussian[0].mse.mean,
        },
        KeyNumber {
            name: format!(
                "Gaussian VAE ({positions} latents, σ² = {}): held-out MSE",
                vq::FIXED_VARIANCE
            ),
            value: vq_summary.gaussian[1].mse.mean,
        },
        KeyNumber {
            name: "VQ-VAE with restarts: perplexity".into(),
            value: vq_summary.restart.perplexity.mean,
        },
        KeyNumber {
            name: "VQ-VAE without restarts: perplexity".into(),
            value: vq_summary.plain.perplexity.mean,
        },
    ]);
    let summary = Summary {
        example: "vae-images",
        quick,
        full,
        trained,
        out_dir: dir.display().to_string(),
        backend: spec.backend.name().to_string(),
        precision: spec.precision.name().to_string(),
        data: digits.source.clone(),
        images: [train_len, digits.test_len()],
        eval_images,
        seeds,
        steps: plan.steps,
        batch: plan.batch,
        iwae_k: plan.iwae_k,
        beta: BETA,
        eval_k,
        vaes: vae_results,
        burda_mnist: vec![
            Reference {
                what: "VAE, k = 1 training, NLL with k = 5000",
                nll_nats: 86.76,
            },
            Reference {
                what: "IWAE, k = 50 training, NLL with k = 5000",
                nll_nats: 84.78,
            },
        ],
        vq: vq_summary,
        figures: figure_names,
        key_numbers,
        wall_s: start.elapsed().as_secs_f64(),
    };
    write_atomic(
        &dir.join("summary.json"),
        serde_json::to_string_pretty(&summary)?.as_bytes(),
    )?;
    Ok(summary)
}
