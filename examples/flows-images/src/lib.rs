//! # A multi-scale flow on digits
//!
//! A Glow-style multi-scale flow (`sysdyn_generative::flow::multiscale`: per level a 2×2
//! squeeze, then steps of ActNorm (data-dependent initialisation), an invertible 1×1
//! convolution in LU form and an affine coupling whose masks cycle checkerboard and
//! channel-wise, then half the channels factored out to the latent) learns 28×28 grey digits:
//! the procedural digits of `sysdyn_data::images` (no download) or MNIST with `--mnist DIR`.
//!
//! The 8-bit pixels are dequantised uniformly (`y = (k + u)/256`, a fresh `u` every batch),
//! which makes the continuous NLL plus `D log 256` an upper bound on the discrete NLL; the score
//! is bits per dimension, `NLL/(D ln 2) + 8`, on held-out digits (one fixed dequantisation),
//! mean ± std over seeds. Samples are drawn at temperatures 0.7 and 1.0 (`z ~ N(0, T² I)`).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use burn::optim::AdamConfig;
use burn::tensor::Tensor;
use clap::Parser;
use serde::Serialize;
use sysdyn_core::CoreError;
use sysdyn_core::cli::{CliError, Program, RunArgs, parse_from};
use sysdyn_core::device::{DeviceSpec, SysDevice};
use sysdyn_core::fs::{WriteError, write_atomic};
use sysdyn_core::rng::SeededRng;
use sysdyn_data::DataError;
use sysdyn_data::LabelledImages;
use sysdyn_data::idx::{Split, load_split};
use sysdyn_data::images::DigitsConfig;
use sysdyn_data::metrics::mean_and_sample_std;
use sysdyn_generative::GenerativeError;
use sysdyn_generative::flow::Flow;
use sysdyn_generative::flow::base::StandardNormal;
use sysdyn_generative::flow::dequantise::Dequantisation;
use sysdyn_generative::flow::model::FlowModel;
use sysdyn_generative::flow::multiscale::{MultiScale, MultiScaleConfig};
use sysdyn_generative::flow::step::{FlowConfig, FlowObjective, FlowStep};
use sysdyn_generative::gan::DataSampler;
use sysdyn_plot::{PlotError, Saved, Subplots, image_mosaic};
use sysdyn_train::{LrSchedule, Optim, ProgressMode, TrainConfig, Trainer};
use thiserror::Error;

/// Why the example failed.
#[derive(Debug, Error)]
pub enum ExampleError {
    /// A device or precision that this build or the policy does not allow.
    #[error(transparent)]
    Device(#[from] CoreError),
    /// Values that do not fill a tensor's shape.
    #[error(transparent)]
    Shape(#[from] sysdyn_core::ShapeMismatch),
    /// The digits could not be drawn or read.
    #[error(transparent)]
    Data(#[from] DataError),
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
    /// The images are not what the flow takes.
    #[error("{0}")]
    Images(String),
}

/// A multi-scale Glow-style flow on procedural digits (or MNIST), bits/dim and samples.
#[derive(Debug, Clone, Parser)]
#[command(name = "flows-images", version)]
pub struct Cli {
    /// The bigger run: more steps per level, wider couplings, longer training
    #[arg(long)]
    pub full: bool,

    /// Optimizer steps per seed [default: 250; 4000 with --full; 4 with --quick]
    #[arg(long, value_name = "N")]
    pub iterations: Option<u64>,

    /// Seeds [default: 3; 1 with --quick]
    #[arg(long, value_name = "N")]
    pub seeds: Option<usize>,

    /// Use the MNIST IDX files in DIR instead of procedural digits
    #[arg(long, value_name = "DIR")]
    pub mnist: Option<PathBuf>,

    // Last: its help heading ("Common options") applies to every flag after it.
    /// The options every sysdyn program shares.
    #[command(flatten)]
    pub run: RunArgs,
}

/// What the shared options default to here (no checkpoints to load or resume).
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
            mnist: self.mnist.clone(),
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
    /// Optimizer steps per seed.
    pub iterations: Option<u64>,
    /// Seeds.
    pub seeds: Option<usize>,
    /// MNIST folder.
    pub mnist: Option<PathBuf>,
    /// Base of every seed.
    pub seed: u64,
    /// No progress lines.
    pub quiet: bool,
}

impl Options {
    /// Default output folder.
    pub const DEFAULT_OUT: &'static str = "out/flows-images";

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

/// The flow's and the run's sizes.
#[derive(Debug, Clone, Serialize)]
pub struct Sizes {
    /// Squeeze–flow–split levels.
    pub levels: usize,
    /// Steps (ActNorm, 1×1 convolution, coupling) per level.
    pub steps_per_level: usize,
    /// Hidden channels of each coupling's conditioner.
    pub hidden: Vec<usize>,
    /// Optimizer steps per seed.
    pub iterations: u64,
    /// Images per batch.
    pub batch: usize,
    /// Adam's initial learning rate (cosine-annealed to a tenth).
    pub lr: f64,
    /// Training images.
    pub train_images: usize,
    /// Held-out images scored.
    pub test_images: usize,
}

/// Everything the example measured.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// `"flows-images"`.
    pub example: &'static str,
    /// Reduced run.
    pub quick: bool,
    /// The bigger run.
    pub full: bool,
    /// Where the digits come from.
    pub data: String,
    /// Output folder.
    pub out_dir: String,
    /// Backend.
    pub backend: String,
    /// Precision.
    pub precision: String,
    /// The sizes.
    pub sizes: Sizes,
    /// Held-out bits/dim per seed.
    pub bits_per_dim: Vec<f64>,
    /// Their mean.
    pub bits_per_dim_mean: f64,
    /// Their sample standard deviation (0 for one seed).
    pub bits_per_dim_std: f64,
    /// Bits/dim of the untrained (ActNorm-initialised) flow, first seed.
    pub initial_bits_per_dim: f64,
    /// Largest `|f⁻¹(f(x)) − x|` over the held-out digits, first seed.
    pub round_trip_error: f64,
    /// Training seconds per seed.
    pub train_s: Vec<f64>,
    /// Figure files.
    pub figures: Vec<String>,
    /// Highlights.
    pub key_numbers: Vec<KeyNumber>,
    /// Seconds for the whole run.
    pub wall_s: f64,
}

/// One highlighted number.
#[derive(Debug, Clone, Serialize)]
pub struct KeyNumber {
    /// What it is.
    pub name: String,
    /// Its value.
    pub value: f64,
}

fn host<const D: usize>(t: Tensor<D>) -> Result<Vec<f64>, ExampleError> {
    t.into_data()
        .convert::<f64>()
        .try_into_vec::<f64>()
        .map_err(|e| ExampleError::Host(format!("{e:?}")))
}

/// Digits as 8-bit levels `0 … 255`, `[count, 784]` row-major.
fn levels(images: &LabelledImages) -> Vec<f64> {
    images
        .pixels
        .iter()
        .map(|p| (p.clamp(0.0, 1.0) * 255.0).round())
        .collect()
}

fn load(
    options: &Options,
    train: usize,
    test: usize,
) -> Result<(LabelledImages, LabelledImages, String), ExampleError> {
    let (train_set, test_set, source) = match &options.mnist {
        Some(dir) => {
            sysdyn_data::idx::check_folder(dir)?;
            (
                load_split(dir, Split::Train, Some(train), 10)?,
                load_split(dir, Split::Test, Some(test), 10)?,
                format!("MNIST ({})", dir.display()),
            )
        }
        None => {
            let config = DigitsConfig::default();
            (
                config.generate(train, options.seed)?,
                config.generate(test, options.seed.wrapping_add(1_000_003))?,
                "procedural digits (sysdyn-data)".to_string(),
            )
        }
    };
    for set in [&train_set, &test_set] {
        if set.channels != 1 || set.rows % 4 != 0 || set.cols % 4 != 0 || set.is_empty() {
            return Err(ExampleError::Images(format!(
                "{source}: the flow takes grey images whose sides divide by 4 (two squeezes), \
                 not {} of {}×{}×{}",
                set.len(),
                set.channels,
                set.rows,
                set.cols
            )));
        }
    }
    Ok((train_set, test_set, source))
}

type Model = FlowModel<StandardNormal, MultiScale>;

/// Bits/dim of `model` on the dequantised held-out `test` (`[n, c, h, w]`), in batches.
fn bits_per_dim(model: &Model, test: &Tensor<4>, dq: Dequantisation) -> Result<f64, ExampleError> {
    let [n, c, h, w] = test.dims();
    let mut total = 0.0;
    let chunk = 50;
    let mut start = 0;
    while start < n {
        let rows = chunk.min(n - start);
        let x = test.clone().narrow(0, start, rows);
        total += host(model.log_prob(x, None)?.detach())?.iter().sum::<f64>();
        start += rows;
    }
    Ok(dq.bits_per_dim(-total / n as f64, c * h * w)?)
}

/// `count` samples at temperature `t`: `z ~ N(0, t² I)`, `x = f⁻¹(z)`, clamped to `[0, 1]`.
fn samples(
    device: &SysDevice,
    model: &Model,
    count: usize,
    t: f64,
    seed: u64,
) -> Result<Vec<f64>, ExampleError> {
    let width = model.flow.latent_width();
    let z: Tensor<2> = device.randn(&mut SeededRng::new(seed), [count, width]);
    let z = z.mul_scalar(t).reshape([count, width, 1, 1]);
    let x = model.flow.inverse(z, None)?.value.detach();
    Ok(host(x)?.into_iter().map(|v| v.clamp(0.0, 1.0)).collect())
}

/// Runs the whole example and writes its files; returns the summary it wrote.
pub fn run(options: &Options) -> Result<Summary, ExampleError> {
    let start = Instant::now();
    let out = options.out_dir.as_path();
    let mut spec = options.device;
    spec.autodiff = true;
    let mut device = spec.init()?;
    device.configure_defaults()?;
    let (quick, full) = (options.quick, options.full && !options.quick);
    let pick = |q: usize, d: usize, f: usize| {
        if quick {
            q
        } else if full {
            f
        } else {
            d
        }
    };
    let sizes = Sizes {
        levels: 2,
        steps_per_level: pick(1, 4, 8),
        hidden: vec![pick(4, 16, 64)],
        iterations: options.iterations.unwrap_or(pick(4, 250, 4000) as u64),
        batch: pick(8, 32, 64),
        lr: 2e-3,
        train_images: pick(64, 5000, 60_000),
        test_images: pick(16, 500, 10_000),
    };
    let seeds = options.seeds.unwrap_or(if quick { 1 } else { 3 }).max(1);
    let (train_set, test_set, source) = load(options, sizes.train_images, sizes.test_images)?;
    let [side_r, side_c] = [train_set.rows, train_set.cols];
    let image_len = side_r * side_c;
    let dq = Dequantisation::EIGHT_BIT;
    let train_levels = Arc::new(levels(&train_set));
    let test_count = test_set.len();
    let test = device.tensor(
        dq.dequantise(&levels(&test_set), &mut SeededRng::new(0xDE0))?,
        [test_count, 1, side_r, side_c],
    )?;
    say!(
        options,
        "[flows-images] {source}: {} training, {test_count} held-out digits; {} levels × {} steps, hidden {:?}, {} steps of batch {}",
        train_set.len(),
        sizes.levels,
        sizes.steps_per_level,
        sizes.hidden,
        sizes.iterations,
        sizes.batch
    );

    let mut bits = Vec::new();
    let mut train_s = Vec::new();
    let mut first: Option<(Model, f64)> = None;
    for s in 0..seeds {
        let seed = options.seed.wrapping_add(s as u64);
        let flow = MultiScaleConfig::new(
            [1, side_r, side_c],
            sizes.levels,
            sizes.steps_per_level,
            sizes.hidden.clone(),
        )
        .init(&device, seed)?;
        let model = FlowModel::new(StandardNormal::new(image_len)?, flow);
        let levels = train_levels.clone();
        let sampler: DataSampler = Box::new(move |rng: &mut SeededRng, rows: usize| {
            let count = levels.len() / image_len;
            let mut out = Vec::with_capacity(rows * image_len);
            for _ in 0..rows {
                let k = rng.below(count as u64) as usize;
                let image = &levels[k * image_len..(k + 1) * image_len];
                out.extend(image.iter().map(|v| (v + rng.uniform()) / 256.0));
            }
            out
        });
        let mut step = FlowStep::new(
            device.clone(),
            model,
            Optim::new(AdamConfig::new().build()),
            FlowConfig::new([sizes.batch, 1, side_r, side_c]),
            FlowObjective::MaximumLikelihood(sampler),
        )?;
        let dir = out.join("run").join(format!("seed-{seed}"));
        let _ = std::fs::remove_dir_all(&dir);
        let mut config = TrainConfig::new(sizes.iterations)
            .with_schedule(LrSchedule::Cosine {
                lr: sizes.lr,
                min_lr: sizes.lr / 10.0,
                steps: sizes.iterations,
            })
            .with_divergence_factor(None)
            .with_checkpoint_every(None)
            .with_progress(ProgressMode::Quiet);
        config.seed = seed;
        config.grad_clip_norm = Some(100.0);
        config.log_every = (sizes.iterations / 50).max(1);
        let t0 = Instant::now();
        // One step initialises ActNorm from the first batch; its bits/dim is the starting point.
        let initial = if s == 0 {
            let mut one = config.clone();
            one.max_steps = 1;
            Trainer::new(one, &dir).run(&mut step)?;
            Some(bits_per_dim(step.model(), &test, dq)?)
        } else {
            None
        };
        Trainer::new(config, &dir).run(&mut step)?;
        let secs = t0.elapsed().as_secs_f64();
        let b = bits_per_dim(step.model(), &test, dq)?;
        say!(
            options,
            "[flows-images] seed {seed}: held-out {b:.3} bits/dim, {secs:.1} s"
        );
        bits.push(b);
        train_s.push(secs);
        if let Some(initial) = initial {
            first = Some((step.model().clone(), initial));
        }
    }
    let (model, initial_bits) = first.expect("at least one seed");

    // Round trip on the held-out digits.
    let shown = test_count.min(50);
    let x = test.clone().narrow(0, 0, shown);
    let z = model.flow.forward(x.clone(), None)?.value;
    let back = model.flow.inverse(z, None)?.value;
    let round_trip_error = host((back - x).abs().max().reshape([1]))?[0];

    let grid = |t: f64| samples(&device, &model, 36, t, options.seed ^ 0x7E);
    let (cold, warm) = (grid(0.7)?, grid(1.0)?);
    let data_shown: Vec<f64> = test_set.pixels[..36.min(test_count) * image_len].to_vec();
    let figure: Saved = Subplots::new(
        &format!("multi-scale flow on {source}: held-out digits | samples at T = 0.7 | T = 1.0"),
        1,
        3,
    )
    .panel_size(360.0, 380.0)
    .panel(image_mosaic(
        "held-out digits",
        &data_shown,
        side_r,
        side_c,
        6,
    ))
    .panel(image_mosaic("samples, T = 0.7", &cold, side_r, side_c, 6))
    .panel(image_mosaic("samples, T = 1.0", &warm, side_r, side_c, 6))
    .save(out.join("samples"))?;

    let (mean, std) = mean_and_sample_std(&bits);
    let std = if std.is_finite() { std } else { 0.0 };
    let summary = Summary {
        example: "flows-images",
        quick,
        full,
        data: source,
        out_dir: out.display().to_string(),
        backend: device.spec().backend.to_string(),
        precision: device.spec().precision.to_string(),
        sizes,
        bits_per_dim: bits,
        bits_per_dim_mean: mean,
        bits_per_dim_std: std,
        initial_bits_per_dim: initial_bits,
        round_trip_error,
        train_s,
        figures: figure.names_relative_to(out),
        key_numbers: vec![
            KeyNumber {
                name: "held-out bits/dim (mean of seeds)".into(),
                value: mean,
            },
            KeyNumber {
                name: "bits/dim after ActNorm initialisation".into(),
                value: initial_bits,
            },
            KeyNumber {
                name: "round-trip error".into(),
                value: round_trip_error,
            },
        ],
        wall_s: start.elapsed().as_secs_f64(),
    };
    write_atomic(
        &out.join("summary.json"),
        serde_json::to_string_pretty(&summary)?.as_bytes(),
    )?;
    Ok(summary)
}
