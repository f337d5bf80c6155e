//! Training of both models by Adam on mini-batches of training spirals, as two runs of the
//! training runtime (`sysdyn_train`): each model is a [`TrainStep`] owning its model and its
//! Adam state, saved in and restored from checkpoints; and their predictions on held-out
//! spirals.
//!
//! Randomness comes from fixed forks of the seed, so a run loaded or resumed from its
//! checkpoints sees exactly the draws of the run that wrote them: the spirals
//! ([`data_rng`]), each model's initial weights ([`LatentStep::new`], [`BaselineStep::new`]),
//! and the mini-batches and reparametrisation noise of each step (the runtime's per-step
//! stream, a pure function of the seed and the step index). Both runs share the seed, so at
//! every step the two models see the same mini-batch.

use std::path::Path;

use burn::module::Module;
use burn::optim::{Adam, AdamConfig, GradientsParams};
use burn::tensor::Tensor;
use sysdyn_core::State;
use sysdyn_core::device::SysDevice;
use sysdyn_core::rng::{CounterRng, SeededRng};
use sysdyn_nodes::{LatentOde, LatentOdeConfig};
use sysdyn_train::{
    BoxError, Checkpointable, LrSchedule, MetricsLine, NonFinite, Optim, StepContext, StepReport,
    TrainError, TrainStep, find_non_finite, load_module, save_module,
};

use crate::ExampleError;
use crate::baseline::{GruForecaster, forecast_mask};
use crate::dataset::{self, GRID_POINTS, NOISE_STD, Spiral, WINDOW};

/// Forks of the seed for what is drawn once (the runtime's own per-step streams are forks 1 to
/// 4 and up; these are far from them).
const STREAM_DATA: u64 = 0xda7a;
const STREAM_LATENT_WEIGHTS: u64 = 0x1a7e;
const STREAM_BASELINE_WEIGHTS: u64 = 0xba5e;

fn fork_seed(seed: u64, stream: u64) -> u64 {
    CounterRng::new(seed).fork(stream).bits(0)
}

/// The generator of the training and test spirals (drawn in that order): the same for a
/// trained, loaded or resumed run with the same seed.
pub fn data_rng(seed: u64) -> SeededRng {
    SeededRng::new(fork_seed(seed, STREAM_DATA))
}

/// Training options shared by both models.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainSettings {
    /// Optimizer steps.
    pub iterations: usize,
    /// Spirals per mini-batch.
    pub batch_size: usize,
    /// Adam's learning rate at the start; it decays geometrically to a tenth of it at the end.
    pub learning_rate: f64,
    /// Seed of the initial weights, the batches and the reparametrisation noise.
    pub seed: u64,
}

impl TrainSettings {
    /// The learning rate `learning_rate · 0.1^(step / iterations)`: a geometric decay to a tenth
    /// of the initial rate over the run, which is exactly the runtime's exponential schedule.
    pub fn schedule(&self) -> LrSchedule {
        LrSchedule::Exponential {
            lr: self.learning_rate,
            final_lr: self.learning_rate * 0.1,
            // The schedule needs a length of at least 1; a run of 0 steps never evaluates it.
            steps: self.iterations.max(1) as u64,
        }
    }
}

/// The latent ODE's sizes (those of Chen et al. 2018's spiral demo): 4 latent dimensions, a
/// GRU of 25 units, one hidden layer of 20 tanh units in the field and in the decoder; the
/// known noise is the data's.
pub fn latent_config() -> LatentOdeConfig {
    LatentOdeConfig {
        obs_dim: 2,
        latent_dim: 4,
        encoder_hidden: 25,
        field_hidden: vec![20],
        decoder_hidden: vec![20],
        obs_std: NOISE_STD,
    }
}

/// RK4 steps of the latent ODE: the grid spacing.
pub fn latent_step() -> f64 {
    dataset::T_END / (GRID_POINTS - 1) as f64
}

/// The loss over training, as the run's `metrics.jsonl` holds it (so a loaded or resumed run
/// draws the same curves as the run that trained).
#[derive(Debug, Clone, Default)]
pub struct TrainLog {
    /// The step of each entry (1 for the first step).
    pub step: Vec<u64>,
    /// Per step: the latent ODE's −ELBO per observation, or the baseline's mean squared
    /// one-step prediction error.
    pub loss: Vec<f64>,
}

impl TrainLog {
    /// The train lines of a run's metrics (lines without a finite loss are left out).
    pub fn from_metrics(lines: &[MetricsLine]) -> Self {
        let (step, loss) = lines
            .iter()
            .filter_map(|l| l.loss.map(|loss| (l.step, loss)))
            .unzip();
        TrainLog { step, loss }
    }
}

fn scalar(t: Tensor<1>) -> f64 {
    t.to_f64_vec()[0]
}

fn batch<'a>(train: &'a [Spiral], size: usize, rng: &mut SeededRng) -> Vec<&'a Spiral> {
    (0..size)
        .map(|_| &train[rng.below(train.len() as u64) as usize])
        .collect()
}

/// One step of the latent ODE: the one-draw ELBO on a mini-batch, Adam.
pub struct LatentStep<'a> {
    device: SysDevice,
    train: &'a [Spiral],
    batch_size: usize,
    /// The model being trained.
    pub lode: LatentOde,
    adam: Optim<Adam>,
}

impl<'a> LatentStep<'a> {
    /// A fresh latent ODE (weights from a fixed fork of the seed) and fresh Adam state.
    pub fn new(
        device: &SysDevice,
        train: &'a [Spiral],
        settings: &TrainSettings,
    ) -> Result<Self, ExampleError> {
        let lc = latent_config();
        let model = lc.init(device, fork_seed(settings.seed, STREAM_LATENT_WEIGHTS))?;
        Ok(LatentStep {
            device: device.clone(),
            train,
            batch_size: settings.batch_size,
            lode: LatentOde::rk4(model, lc.obs_std, latent_step()),
            adam: Optim::new(AdamConfig::new().build()),
        })
    }
}

impl Checkpointable for LatentStep<'_> {
    fn save_checkpoint(&self, dir: &Path) -> Result<(), TrainError> {
        save_module(&self.lode.model, dir, "latent_ode")?;
        self.adam.save(dir, "adam")
    }

    fn load_checkpoint(&mut self, dir: &Path) -> Result<(), TrainError> {
        self.lode.model = load_module(self.lode.model.clone(), dir, "latent_ode")?;
        self.adam.load(dir, "adam", &self.lode.model)
    }
}

impl TrainStep for LatentStep<'_> {
    fn step(&mut self, ctx: &mut StepContext) -> Result<StepReport, BoxError> {
        let latent_dim = latent_config().latent_dim;
        let spirals = batch(self.train, self.batch_size, &mut ctx.rng);
        let series = dataset::window_series(&spirals)?;
        let observations: usize = series.counts().iter().sum();
        let noise = self
            .device
            .randn(&mut ctx.rng, [self.batch_size, latent_dim]);
        let terms = self.lode.elbo(&series, noise, &self.device)?;
        let kl = scalar(terms.kl.clone().mean());
        let loss = terms.loss();
        let per_observation = scalar(loss.clone()) * self.batch_size as f64 / observations as f64;
        let grads = GradientsParams::from_grads(loss.backward(), &self.lode.model);
        self.lode.model = self.adam.step(ctx.lr, self.lode.model.clone(), grads);
        Ok(StepReport::new(per_observation).with("kl_per_spiral", kl))
    }

    fn non_finite_parameter(&self) -> Option<NonFinite> {
        find_non_finite(&self.lode.model, "latent_ode")
    }
}

/// One step of the GRU forecaster: one-step-ahead mean squared error on the observed points of
/// a mini-batch, Adam.
pub struct BaselineStep<'a> {
    device: SysDevice,
    train: &'a [Spiral],
    batch_size: usize,
    /// The model being trained.
    pub model: GruForecaster,
    adam: Optim<Adam>,
}

impl<'a> BaselineStep<'a> {
    /// A fresh forecaster (weights from a fixed fork of the seed) and fresh Adam state.
    pub fn new(
        device: &SysDevice,
        train: &'a [Spiral],
        settings: &TrainSettings,
    ) -> Result<Self, ExampleError> {
        Ok(BaselineStep {
            device: device.clone(),
            train,
            batch_size: settings.batch_size,
            model: GruForecaster::init(device, fork_seed(settings.seed, STREAM_BASELINE_WEIGHTS))?,
            adam: Optim::new(AdamConfig::new().build()),
        })
    }
}

impl Checkpointable for BaselineStep<'_> {
    fn save_checkpoint(&self, dir: &Path) -> Result<(), TrainError> {
        save_module(&self.model, dir, "gru")?;
        self.adam.save(dir, "adam")
    }

    fn load_checkpoint(&mut self, dir: &Path) -> Result<(), TrainError> {
        self.model = load_module(self.model.clone(), dir, "gru")?;
        self.adam.load(dir, "adam", &self.model)
    }
}

impl TrainStep for BaselineStep<'_> {
    fn step(&mut self, ctx: &mut StepContext) -> Result<StepReport, BoxError> {
        let spirals = batch(self.train, self.batch_size, &mut ctx.rng);
        let series = dataset::window_series(&spirals)?;
        let (observed, _) = series.flat_tensors(&self.device)?;
        let mask = forecast_mask(&series, &self.device)?;
        let count = scalar(mask.clone().sum());
        let forecast = self.model.window(&series, &self.device)?;
        let loss = ((forecast.predicted - observed).square() * mask)
            .sum()
            .div_scalar(count.max(1.0));
        let value = scalar(loss.clone());
        let grads = GradientsParams::from_grads(loss.backward(), &self.model);
        self.model = self.adam.step(ctx.lr, self.model.clone(), grads);
        Ok(StepReport::new(value))
    }

    fn non_finite_parameter(&self) -> Option<NonFinite> {
        find_non_finite(&self.model, "gru")
    }
}

fn rows(t: Tensor<2>) -> Vec<Vec<[f64; 2]>> {
    let [batch, width] = t.dims();
    let v = t.to_f64_vec();
    (0..batch)
        .map(|b| {
            v[b * width..(b + 1) * width]
                .chunks(2)
                .map(|c| [c[0], c[1]])
                .collect()
        })
        .collect()
}

/// The latent ODE's reconstruction and extrapolation of each test spiral at every grid time,
/// from the posterior mean of `z₀` given the spiral's window (no gradients).
pub fn predict_latent(
    plain: &SysDevice,
    lode: &LatentOde,
    test: &[Spiral],
) -> Result<Vec<Vec<[f64; 2]>>, ExampleError> {
    let valid = LatentOde::rk4(lode.model.valid(), lode.obs_std, latent_step());
    let spirals: Vec<&Spiral> = test.iter().collect();
    let series = dataset::window_series(&spirals)?;
    let posterior = valid.encode(&series, plain)?;
    Ok(rows(valid.decode(posterior.mean, &dataset::grid())?))
}

/// The baseline's one-step predictions in the window and autoregressive extrapolation beyond.
pub fn predict_baseline(
    plain: &SysDevice,
    model: &GruForecaster,
    test: &[Spiral],
) -> Result<Vec<Vec<[f64; 2]>>, ExampleError> {
    let valid = model.valid();
    let spirals: Vec<&Spiral> = test.iter().collect();
    let series = dataset::window_series(&spirals)?;
    let window = valid.window(&series, plain)?;
    let beyond = valid.extrapolate(window.state, &dataset::grid()[WINDOW..], plain)?;
    Ok(rows(Tensor::cat(vec![window.predicted, beyond], 1)))
}

/// Root mean squared error against the truth over the grid indices `range` (both components,
/// every spiral).
pub fn rmse(predicted: &[Vec<[f64; 2]>], test: &[Spiral], range: std::ops::Range<usize>) -> f64 {
    let mut sum = 0.0;
    let mut n = 0usize;
    for (p, s) in predicted.iter().zip(test) {
        for k in range.clone() {
            sum += (p[k][0] - s.truth[k][0]).powi(2) + (p[k][1] - s.truth[k][1]).powi(2);
            n += 2;
        }
    }
    (sum / n.max(1) as f64).sqrt()
}

/// The RMSE over the test spirals at each grid time.
pub fn rmse_per_time(predicted: &[Vec<[f64; 2]>], test: &[Spiral]) -> Vec<f64> {
    (0..GRID_POINTS)
        .map(|k| rmse(predicted, test, k..k + 1))
        .collect()
}
