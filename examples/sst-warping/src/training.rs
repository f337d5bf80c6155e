//! Data, the two forecasters' training runs and their scores for one seed.

use std::time::Instant;

use burn::optim::AdamConfig;
use burn::tensor::Tensor;
use serde::Serialize;
use sysdyn_core::device::SysDevice;
use sysdyn_core::rng::SeededRng;
use sysdyn_physics::warping::data::TracerConfig;
use sysdyn_physics::warping::train::ForecastStep;
use sysdyn_physics::warping::{
    DirectForecaster, Forecaster, GaussianWarp, WarpBoundary, WarpingForecaster, WarpingLoss,
};
use sysdyn_train::{
    LrSchedule, Optim, ProgressMode, RunSet, Session, TrainConfig, TrainStep, read_metrics,
};

use crate::{ExampleError, Options};

/// Sizes and settings of a run.
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    /// Frame side (cells).
    pub side: usize,
    /// Training sequences per seed.
    pub train_sequences: usize,
    /// Test sequences per seed.
    pub test_sequences: usize,
    /// Frames per sequence.
    pub frames: usize,
    /// Input frames `k`.
    pub history: usize,
    /// Channels of the encoder's first level.
    pub width: usize,
    /// Training steps per run.
    pub steps: usize,
    /// Windows per step.
    pub batch: usize,
    /// Adam's learning rate (cosine decay to a tenth).
    pub lr: f64,
    /// Seeds.
    pub seeds: usize,
    /// The warp's window radius.
    pub radius: usize,
    /// The bound on the estimated motion, cells per frame.
    pub max_displacement: f64,
    /// Loss weights `(divergence, magnitude, smoothness)`.
    pub penalties: [f64; 3],
    /// Reduced run.
    #[serde(skip)]
    pub quiet: bool,
}

impl Plan {
    /// The plan of `options`.
    pub fn new(options: &Options) -> Self {
        let (side, train_sequences, test_sequences, width, steps) = if options.quick {
            (32, 4, 2, 8, 12)
        } else if options.full {
            (64, 100, 20, 32, 3000)
        } else {
            (32, 40, 10, 16, 400)
        };
        Plan {
            side,
            train_sequences,
            test_sequences,
            frames: 12,
            history: 4,
            width,
            steps: options.steps.unwrap_or(steps).max(1),
            batch: 8,
            lr: 1e-3,
            seeds: options
                .seeds
                .unwrap_or(if options.quick { 1 } else { 3 })
                .max(1),
            radius: 5,
            max_displacement: 2.0,
            penalties: options.penalties.unwrap_or([1e-3, 0.0, 1e-4]),
            quiet: options.quiet,
        }
    }

    /// The tracer's settings.
    pub fn tracer(&self) -> TracerConfig {
        TracerConfig {
            frames: self.frames,
            ..TracerConfig::on_grid(self.side)
        }
    }
}

/// The run directories' names.
fn run_name(model: &str, seed_index: usize) -> String {
    format!("{model}-s{seed_index}")
}

/// The run set of `<out>/run` (or the `--load` / `--resume` folder).
pub fn run_set(options: &Options, seeds: usize) -> Result<RunSet, ExampleError> {
    let names: Vec<String> = ["warping", "cnn"]
        .iter()
        .flat_map(|m| (0..seeds).map(move |s| run_name(m, s)))
        .collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    Ok(RunSet::from_flags(
        &options.out_dir.join("run"),
        options.load.as_deref(),
        options.resume.as_deref(),
        &refs,
    )?)
}

/// What one seed measured, and what its figures show.
#[derive(Debug, Clone)]
pub struct SeedResult {
    /// Whether it trained (not `--load`).
    pub trained: bool,
    /// Test MSE of the warping forecaster.
    pub warping_mse: f64,
    /// Test MSE of the plain CNN.
    pub cnn_mse: f64,
    /// Test MSE of the last frame as the forecast.
    pub persistence_mse: f64,
    /// Test MSE of the warp with the true motion.
    pub oracle_mse: f64,
    /// Pearson correlation of the estimated with the true motion (all pixels, both components).
    pub motion_correlation: f64,
    /// The same where the last frame's gradient is in its upper half.
    pub motion_correlation_textured: f64,
    /// RMS error of the estimated motion, cells per frame.
    pub motion_rmse: f64,
    /// Training seconds.
    pub warping_train_s: f64,
    /// Training seconds.
    pub cnn_train_s: f64,
    /// The warp's truncation error at the motion bound.
    pub truncation_error: f64,
    /// Frame side.
    pub side: usize,
    /// One test window: last input frame, true next frame, the warping and CNN forecasts.
    pub example_frames: [Vec<f64>; 4],
    /// Its estimated motion `[2, side, side]` and the true one.
    pub example_motion: [Vec<f64>; 2],
    /// Training-batch prediction MSE per step: warping, cnn (`(step, loss)`).
    pub curves: [Vec<(f64, f64)>; 2],
}

fn host<const D: usize>(t: Tensor<D>) -> Vec<f64> {
    t.into_data()
        .convert::<f64>()
        .try_to_vec::<f64>()
        .unwrap_or_default()
}

fn pearson(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len().min(b.len()) as f64;
    let ma = a.iter().sum::<f64>() / n;
    let mb = b.iter().sum::<f64>() / n;
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for (x, y) in a.iter().zip(b) {
        sab += (x - ma) * (y - mb);
        saa += (x - ma) * (x - ma);
        sbb += (y - mb) * (y - mb);
    }
    sab / (saa * sbb).sqrt()
}

/// Whether a run trained, its seconds and its `(step, batch MSE)` curve.
type Trained = (bool, f64, Vec<(f64, f64)>);

/// Trains (or loads) `step` in `session`; returns the seconds spent and the loss curve.
fn train<S: TrainStep>(session: &Session, step: &mut S) -> Result<Trained, ExampleError> {
    let start = Instant::now();
    let trained = session.run(step)?.is_some();
    let seconds = if trained {
        start.elapsed().as_secs_f64()
    } else {
        0.0
    };
    let curve = match session.run_dir() {
        Some(dir) => read_metrics(&dir.join("metrics.jsonl"))?
            .into_iter()
            .filter(|l| l.kind == "train")
            .filter_map(|l| l.metrics.get("mse").map(|&v| (l.step as f64, v)))
            .collect(),
        None => Vec::new(),
    };
    Ok((trained, seconds, curve))
}

fn config(plan: &Plan, seed: u64) -> TrainConfig {
    let steps = plan.steps as u64;
    TrainConfig::new(steps)
        .with_seed(seed)
        .with_schedule(LrSchedule::Cosine {
            lr: plan.lr,
            min_lr: plan.lr / 10.0,
            steps,
        })
        .with_eval_every(Some((steps / 5).max(1)))
        .with_checkpoint_every(Some((steps / 2).max(1)))
        .with_progress(if plan.quiet {
            ProgressMode::Quiet
        } else {
            ProgressMode::Auto
        })
}

/// Generates the seed's data, trains both forecasters and scores them.
pub fn train_seed(
    device: &SysDevice,
    runs: &RunSet,
    plan: &Plan,
    seed_index: usize,
    seed: u64,
) -> Result<SeedResult, ExampleError> {
    let tracer = plan.tracer();
    let (train_data, _) = tracer.generate(plan.train_sequences, seed)?;
    let (test_data, true_motions) =
        tracer.generate(plan.test_sequences, seed.wrapping_add(1_000_003))?;
    let warp = GaussianWarp::with_variance(
        tracer.kernel_variance(),
        plan.radius,
        WarpBoundary::Periodic,
    )?;
    let [div, mag, smooth] = plan.penalties;
    let warping_loss = WarpingLoss::new(div, mag, smooth, WarpBoundary::Periodic)?;
    let plain_loss = WarpingLoss::new(0.0, 0.0, 0.0, WarpBoundary::Periodic)?;
    let mut rng = SeededRng::new(seed.wrapping_add(17));
    let warping = WarpingForecaster::new(
        plan.history,
        plan.width,
        warp,
        plan.max_displacement,
        device.device(),
        &mut rng,
    )?;
    let mut rng = SeededRng::new(seed.wrapping_add(17));
    let cnn = DirectForecaster::new(plan.history, plan.width, device.device(), &mut rng)?;
    let adam = || Optim::new(AdamConfig::new().build());

    let mut warping_step = ForecastStep::new(
        device.clone(),
        warping,
        adam(),
        warping_loss,
        train_data.clone(),
        test_data.clone(),
        plan.batch,
    )?;
    let session = runs.session(config(plan, seed), &run_name("warping", seed_index))?;
    let (trained_w, warping_train_s, warping_curve) = train(&session, &mut warping_step)?;
    let mut cnn_step = ForecastStep::new(
        device.clone(),
        cnn,
        adam(),
        plain_loss,
        train_data,
        test_data.clone(),
        plan.batch,
    )?;
    let session = runs.session(config(plan, seed), &run_name("cnn", seed_index))?;
    let (trained_c, cnn_train_s, cnn_curve) = train(&session, &mut cnn_step)?;

    let warping_mse = warping_step.eval_mse()?;
    let cnn_mse = cnn_step.eval_mse()?;

    // The references and the motion's scores, over every test window.
    let k = plan.history;
    let n = plan.side;
    let windows = test_data.windows(k);
    let (mut persistence, mut oracle, mut count) = (0.0, 0.0, 0.0);
    let (mut estimated, mut truth, mut est_tex, mut truth_tex) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut example = None;
    for chunk in windows.chunks(plan.batch) {
        let (inputs, target) = test_data.batch(chunk, k, device.device())?;
        let b = chunk.len();
        let last = inputs.clone().narrow(1, k - 1, 1);
        persistence += host((last.clone() - target.clone()).powi_scalar(2).sum())[0];
        let truth_batch: Vec<f64> = chunk
            .iter()
            .flat_map(|&(sequence, _)| true_motions[sequence].iter().copied())
            .collect();
        let truth_tensor: Tensor<4> = Tensor::from_data(
            burn::tensor::TensorData::new(truth_batch, [b, 2, n, n]),
            device.device(),
        );
        let warped = warp.apply(last.clone(), truth_tensor)?;
        oracle += host((warped - target.clone()).powi_scalar(2).sum())[0];
        count += (b * n * n) as f64;
        let motion = host(warping_step.model.motion(inputs.clone())?);
        let last_host = host(last.clone());
        for w in 0..b {
            let frame = &last_host[w * n * n..(w + 1) * n * n];
            // |∇I| by central differences (periodic), to find the textured half.
            let grad: Vec<f64> = (0..n * n)
                .map(|c| {
                    let (i, j) = (c / n, c % n);
                    let gx = frame[i * n + (j + 1) % n] - frame[i * n + (j + n - 1) % n];
                    let gy = frame[((i + 1) % n) * n + j] - frame[((i + n - 1) % n) * n + j];
                    (gx * gx + gy * gy).sqrt()
                })
                .collect();
            let mut sorted = grad.clone();
            sorted.sort_by(f64::total_cmp);
            let median = sorted[sorted.len() / 2];
            for comp in 0..2 {
                for c in 0..n * n {
                    let e = motion[(w * 2 + comp) * n * n + c];
                    let t = true_motions[chunk[w].0][comp * n * n + c];
                    estimated.push(e);
                    truth.push(t);
                    if grad[c] >= median {
                        est_tex.push(e);
                        truth_tex.push(t);
                    }
                }
            }
        }
        if example.is_none() {
            let (warp_pred, _) = warping_step.model.forecast(inputs.clone())?;
            let (cnn_pred, _) = cnn_step.model.forecast(inputs)?;
            let frame = |t: Vec<f64>| t[..n * n].to_vec();
            example = Some((
                [
                    frame(last_host.clone()),
                    frame(host(target)),
                    frame(host(warp_pred)),
                    frame(host(cnn_pred)),
                ],
                [
                    motion[..2 * n * n].to_vec(),
                    true_motions[chunk[0].0].clone(),
                ],
            ));
        }
    }
    let motion_rmse = (estimated
        .iter()
        .zip(&truth)
        .map(|(e, t)| (e - t).powi(2))
        .sum::<f64>()
        / estimated.len() as f64)
        .sqrt();
    let (example_frames, example_motion) = example.ok_or(sysdyn_physics::PhysicsError::Empty {
        what: "test windows",
        unit: "window",
    })?;
    Ok(SeedResult {
        trained: trained_w || trained_c,
        warping_mse,
        cnn_mse,
        persistence_mse: persistence / count,
        oracle_mse: oracle / count,
        motion_correlation: pearson(&estimated, &truth),
        motion_correlation_textured: pearson(&est_tex, &truth_tex),
        motion_rmse,
        warping_train_s,
        cnn_train_s,
        truncation_error: warp.truncation_error(plan.max_displacement),
        side: n,
        example_frames,
        example_motion,
        curves: [warping_curve, cnn_curve],
    })
}
