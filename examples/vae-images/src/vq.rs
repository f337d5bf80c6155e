//! The discrete side: a convolutional VQ-VAE (van den Oord et al. 2017, scaled down; `K` codes
//! of width `D` on a 7×7 grid, moved by moving averages) trained with and without dead-code
//! restarts, a Gaussian VAE with
//! as many latent variables (49) as its reference for reconstruction error, and a PixelCNN
//! prior over the VQ-VAE's codes so it can sample. All on grey pixels in `[0, 1]`.

use std::sync::Arc;
use std::time::Instant;

use burn::optim::{Adam, AdamConfig};
use serde::Serialize;
use sysdyn_core::device::SysDevice;
use sysdyn_core::rng::SeededRng;
use sysdyn_generative::gan::{DataSampler, ImageShape};
use sysdyn_generative::vae::{
    ConvDecoder, ConvEncoder, ConvVaeConfig, Likelihood, VaeConfig, VaeStep, Variance,
};
use sysdyn_generative::vq::{
    CodeUsage, DeadCodeRule, EmaConfig, PixelCnnConfig, PriorStep, QuantiserConfig, VqVae,
    VqVaeConfig, VqVaeStep,
};
use sysdyn_train::{LrSchedule, Optim, ProgressMode, RunSet, TrainConfig};

use crate::ExampleError;
use crate::data::Digits;

/// How long and how large.
#[derive(Debug, Clone)]
pub struct Plan {
    /// VQ-VAE (and Gaussian VAE) steps per run.
    pub steps: u64,
    /// Prior steps.
    pub prior_steps: u64,
    /// Images per step.
    pub batch: usize,
    /// Codes `K`.
    pub codes: usize,
    /// Code width `D`.
    pub width: usize,
    /// Hidden channels of the VQ-VAE (and the Gaussian VAE's first convolution).
    pub hidden: usize,
    /// A code unused for this many updates is restarted (restart runs).
    pub restart_after: usize,
    /// Hidden channels of the PixelCNN prior.
    pub prior_width: usize,
    /// Held-out images scored.
    pub eval_images: usize,
    /// How the trainer shows progress.
    pub progress: ProgressMode,
}

/// The learning rate of every model here (Adam).
pub const LEARNING_RATE: f64 = 1e-3;

/// One VQ-VAE's scores.
#[derive(Debug, Clone, Serialize)]
pub struct VqRun {
    /// Whether this invocation trained it.
    pub trained: bool,
    /// Seconds of training (0 when loaded).
    pub train_s: f64,
    /// Mean squared error per pixel of the held-out reconstructions.
    pub mse: f64,
    /// Perplexity of the held-out code assignments.
    pub perplexity: f64,
    /// Codes used by at least one held-out position.
    pub codes_used: usize,
    /// Held-out assignment counts per code.
    pub counts: Vec<u64>,
    /// `(step, perplexity of the batch)` of every step.
    #[serde(skip)]
    pub perplexity_curve: Vec<[f64; 2]>,
    /// Held-out digits and their reconstructions (first 10 each).
    #[serde(skip)]
    pub reconstructions: Vec<f64>,
    /// The trained model.
    #[serde(skip)]
    pub model: Option<VqVae>,
}

fn host(t: burn::tensor::Tensor<2>) -> Result<Vec<f64>, ExampleError> {
    t.into_data()
        .convert::<f64>()
        .try_to_vec::<f64>()
        .map_err(|e| ExampleError::Shape(format!("{e:?}")))
}

fn grey_sampler(digits: &Arc<Digits>) -> DataSampler {
    let data = Arc::clone(digits);
    Box::new(move |rng: &mut SeededRng, rows| data.grey_batch(rng, rows).0)
}

/// The run directory of a VQ-VAE.
pub fn vq_run_name(restart: bool, seed_index: usize) -> String {
    let kind = if restart { "vq-restart" } else { "vq-plain" };
    format!("{kind}-s{seed_index}")
}

/// The variance of the Gaussian VAE's decoder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GaussianDecoder {
    /// One learned `log σ²` (starting at 0): the maximum-likelihood choice. Adam moves it by
    /// about the learning rate per step, so in a short run `σ²` stays far above the squared
    /// error and the KL term weighs heavily.
    Learned,
    /// `σ²` fixed at [`FIXED_VARIANCE`], about the VQ-VAE's squared error.
    Fixed,
}

/// The fixed decoder variance of [`GaussianDecoder::Fixed`].
pub const FIXED_VARIANCE: f64 = 0.01;

impl GaussianDecoder {
    /// Both, in the order of the runs.
    pub const ALL: [GaussianDecoder; 2] = [GaussianDecoder::Learned, GaussianDecoder::Fixed];

    /// The decoder's variance setting.
    pub fn variance(self) -> Variance {
        match self {
            GaussianDecoder::Learned => Variance::Shared,
            GaussianDecoder::Fixed => Variance::Fixed(FIXED_VARIANCE),
        }
    }

    /// Name of runs and summary entries.
    pub fn name(self) -> &'static str {
        match self {
            GaussianDecoder::Learned => "learned-variance",
            GaussianDecoder::Fixed => "fixed-variance",
        }
    }
}

/// The run directory of a Gaussian VAE.
pub fn gaussian_run_name(decoder: GaussianDecoder, seed_index: usize) -> String {
    match decoder {
        GaussianDecoder::Learned => format!("gauss-vae-s{seed_index}"),
        GaussianDecoder::Fixed => format!("gauss-vae-fixed-s{seed_index}"),
    }
}

/// The run directory of the prior.
pub const PRIOR_RUN: &str = "pixelcnn-prior";

fn train_config(plan: &Plan, steps: u64, seed: u64, settings: serde_json::Value) -> TrainConfig {
    TrainConfig::new(steps.max(1))
        .with_seed(seed)
        .with_schedule(LrSchedule::Constant { lr: LEARNING_RATE })
        .with_checkpoint_every(Some((steps / 4).max(1)))
        .with_progress(plan.progress)
        .with_program_settings(Some(settings))
}

/// Trains (or loads) a VQ-VAE with or without dead-code restarts and scores it.
pub fn train_vq(
    device: &SysDevice,
    runs: &RunSet,
    plan: &Plan,
    restart: bool,
    seed_index: usize,
    seed: u64,
    digits: &Arc<Digits>,
) -> Result<VqRun, ExampleError> {
    let config = train_config(
        plan,
        plan.steps,
        seed,
        serde_json::json!({
            "model": "vq-vae", "restart": restart, "codes": plan.codes, "width": plan.width,
            "hidden": plan.hidden, "restart_after": plan.restart_after, "batch": plan.batch,
            "training_images": digits.train_labels.len(), "data": digits.source,
        }),
    );
    let session = runs.session(config, &vq_run_name(restart, seed_index))?;
    // The EMA codebook (decay 0.99): without it, codes restarted at encoder outputs far from
    // the near-zero initial codes sent the decoder inputs it had never seen and the loss up
    // a hundredfold (measured: reconstruction error 0.09 → 19 at the first restarts, K = 64).
    let mut quantiser = QuantiserConfig::new(plan.codes, plan.width).with_ema(EmaConfig::default());
    if restart {
        quantiser = quantiser.with_restart(DeadCodeRule::Unused {
            steps: plan.restart_after,
        });
    }
    let model = VqVaeConfig::new(quantiser)
        .with_image(ImageShape::new(1, digits.side, digits.side))
        .with_hidden(plan.hidden)
        .init(
            device.device(),
            &mut SeededRng::new(seed.wrapping_mul(31).wrapping_add(5)),
        )?;
    let mut step: VqVaeStep<Adam> = VqVaeStep::new(
        device.clone(),
        model,
        Optim::new(AdamConfig::new().build()),
        plan.batch,
        grey_sampler(digits),
    )?;
    let start = Instant::now();
    let trained = session.run(&mut step)?.is_some();
    let train_s = if trained {
        start.elapsed().as_secs_f64()
    } else {
        0.0
    };
    let model = step.model;
    let features = digits.features();
    let n = plan.eval_images.min(digits.test_len());
    let mut usage = CodeUsage::new(plan.codes)?;
    let mut squared = 0.0;
    let mut reconstructions = Vec::new();
    for first in (0..n).step_by(250) {
        let rows = (n - first).min(250);
        let images = &digits.test[first * features..(first + rows) * features];
        let x = device.tensor(images.to_vec(), [rows, features])?.detach();
        let pass = model.forward(x)?;
        usage.record(&pass.quantised.codes)?;
        let recon = host(pass.reconstruction.detach())?;
        squared += recon
            .iter()
            .zip(images)
            .map(|(r, x)| (r - x).powi(2))
            .sum::<f64>();
        if first == 0 {
            let shown = rows.min(10);
            reconstructions.extend_from_slice(&images[..shown * features]);
            reconstructions.extend_from_slice(&recon[..shown * features]);
        }
    }
    let perplexity_curve = session
        .train_metrics()?
        .iter()
        .filter_map(|l| l.metrics.get("perplexity").map(|p| [l.step as f64, *p]))
        .collect();
    Ok(VqRun {
        trained,
        train_s,
        mse: squared / (n * features) as f64,
        perplexity: usage.perplexity(),
        codes_used: usage.used(),
        counts: usage.counts().to_vec(),
        perplexity_curve,
        reconstructions,
        model: Some(model),
    })
}

/// The Gaussian VAE's scores.
#[derive(Debug, Clone, Serialize)]
pub struct GaussianRun {
    /// Whether this invocation trained it.
    pub trained: bool,
    /// Seconds of training.
    pub train_s: f64,
    /// Mean squared error per pixel of the decoder's mean at the posterior mean.
    pub mse: f64,
    /// The decoder variance `σ²` (learned or fixed).
    pub decoder_variance: f64,
    /// The mean KL of `q(z|x)` to the prior over the held-out digits, nats: the rate.
    pub kl_nats: f64,
    /// Held-out digits and their reconstructions (first 10 each).
    #[serde(skip)]
    pub reconstructions: Vec<f64>,
}

/// The latent width of the Gaussian VAE: as many variables as the VQ-VAE's code grid has
/// positions.
pub fn gaussian_latent(digits: &Digits) -> usize {
    (digits.side / 4) * (digits.side / 4)
}

/// Trains (or loads) the convolutional Gaussian VAE (latent width [`gaussian_latent`]) with
/// the decoder variance `decoder` and measures its reconstruction error and rate.
pub fn train_gaussian(
    device: &SysDevice,
    runs: &RunSet,
    plan: &Plan,
    decoder: GaussianDecoder,
    seed_index: usize,
    seed: u64,
    digits: &Arc<Digits>,
) -> Result<GaussianRun, ExampleError> {
    let latent = gaussian_latent(digits);
    let config = train_config(
        plan,
        plan.steps,
        seed,
        serde_json::json!({
            "model": "gaussian-vae", "variance": decoder.name(), "latent": latent,
            "hidden": plan.hidden,
            "batch": plan.batch, "training_images": digits.train_labels.len(),
            "data": digits.source,
        }),
    );
    let session = runs.session(config, &gaussian_run_name(decoder, seed_index))?;
    let vae = ConvVaeConfig::new(
        1,
        digits.side,
        plan.hidden,
        latent,
        Likelihood::Gaussian(decoder.variance()),
    )
    .init(device, seed.wrapping_mul(131).wrapping_add(3))?;
    let mut step: VaeStep<ConvEncoder, ConvDecoder, Adam> = VaeStep::new(
        device.clone(),
        vae,
        Optim::new(AdamConfig::new().build()),
        VaeConfig::new(plan.batch),
        grey_sampler(digits),
    )?;
    let start = Instant::now();
    let trained = session.run(&mut step)?.is_some();
    let train_s = if trained {
        start.elapsed().as_secs_f64()
    } else {
        0.0
    };
    let features = digits.features();
    let n = plan.eval_images.min(digits.test_len());
    let (mut squared, mut kl) = (0.0, 0.0);
    let mut reconstructions = Vec::new();
    for first in (0..n).step_by(250) {
        let rows = (n - first).min(250);
        let images = &digits.test[first * features..(first + rows) * features];
        let x = device.tensor(images.to_vec(), [rows, features])?;
        let posterior = step.vae.encode(x, None)?;
        kl += posterior
            .kl_to_standard_normal()
            .sum()
            .detach()
            .into_scalar::<f64>();
        let recon = host(step.vae.decode_mean(posterior.mean(), None)?.detach())?;
        squared += recon
            .iter()
            .zip(images)
            .map(|(r, x)| (r - x).powi(2))
            .sum::<f64>();
        if first == 0 {
            let shown = rows.min(10);
            reconstructions.extend_from_slice(&images[..shown * features]);
            reconstructions.extend_from_slice(&recon[..shown * features]);
        }
    }
    Ok(GaussianRun {
        trained,
        train_s,
        mse: squared / (n * features) as f64,
        decoder_variance: step.vae.shared_variance().unwrap_or(FIXED_VARIANCE),
        kl_nats: kl / n as f64,
        reconstructions,
    })
}

/// The prior's scores and samples.
#[derive(Debug, Clone, Serialize)]
pub struct PriorRun {
    /// Whether this invocation trained it.
    pub trained: bool,
    /// Seconds of training.
    pub train_s: f64,
    /// Cross-entropy of the held-out digits' codes under the prior, bits per code.
    pub held_out_bits_per_code: f64,
    /// The same for a uniform prior, `log₂ K`.
    pub uniform_bits_per_code: f64,
    /// 100 samples: code grids drawn from the prior, decoded.
    #[serde(skip)]
    pub samples: Vec<f64>,
}

/// Trains (or loads) the PixelCNN prior on the codes of the (trained) `vq_vae`, scores it on
/// the held-out codes and samples 100 images.
pub fn train_prior(
    device: &SysDevice,
    runs: &RunSet,
    plan: &Plan,
    vq_vae: VqVae,
    seed: u64,
    digits: &Arc<Digits>,
) -> Result<PriorRun, ExampleError> {
    let grid = vq_vae.config().grid();
    let config = train_config(
        plan,
        plan.prior_steps,
        seed,
        serde_json::json!({
            "model": "pixelcnn-prior", "codes": plan.codes, "width": plan.prior_width,
            "batch": plan.batch, "training_images": digits.train_labels.len(),
            "data": digits.source,
        }),
    );
    let session = runs.session(config, PRIOR_RUN)?;
    let prior = PixelCnnConfig::new(plan.codes, grid)
        .with_width(plan.prior_width)
        .init(
            device.device(),
            &mut SeededRng::new(seed.wrapping_add(0x9121)),
        )?;
    let mut step: PriorStep<Adam> = PriorStep::on_vq_vae(
        device.clone(),
        prior,
        Optim::new(AdamConfig::new().build()),
        plan.batch,
        vq_vae.clone(),
        grey_sampler(digits),
    )?;
    let start = Instant::now();
    let trained = session.run(&mut step)?.is_some();
    let train_s = if trained {
        start.elapsed().as_secs_f64()
    } else {
        0.0
    };
    let features = digits.features();
    let n = plan.eval_images.min(digits.test_len());
    let mut nats = 0.0;
    for first in (0..n).step_by(250) {
        let rows = (n - first).min(250);
        let images = &digits.test[first * features..(first + rows) * features];
        let x = device.tensor(images.to_vec(), [rows, features])?.detach();
        let codes = vq_vae.encode_codes(x)?;
        let nll = step.prior.negative_log_likelihood(&codes)?;
        nats += nll.detach().into_scalar::<f64>() * rows as f64;
    }
    let mut rng = SeededRng::new(seed.wrapping_add(0x5A3));
    let codes = step.prior.sample(100, &mut rng)?;
    let samples = host(vq_vae.decode_codes(&codes)?.detach())?;
    Ok(PriorRun {
        trained,
        train_s,
        held_out_bits_per_code: nats / n as f64 / std::f64::consts::LN_2,
        uniform_bits_per_code: (plan.codes as f64).log2(),
        samples,
    })
}
