//! Training of both models by Adam on mini-batches of training spirals, and their predictions
//! on held-out spirals.

use burn::module::Module;
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::Tensor;
use sysdyn_core::State;
use sysdyn_core::device::SysDevice;
use sysdyn_core::rng::SeededRng;
use sysdyn_nodes::{LatentOde, LatentOdeConfig};

use crate::ExampleError;
use crate::baseline::{GruForecaster, forecast_mask};
use crate::dataset::{self, GRID_POINTS, NOISE_STD, Spiral, WINDOW};

/// Training options shared by both models.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainConfig {
    /// Optimizer steps.
    pub iterations: usize,
    /// Spirals per mini-batch.
    pub batch_size: usize,
    /// Adam's learning rate at the start; it decays geometrically to a tenth of it at the end.
    pub learning_rate: f64,
    /// Seed of the initial weights, the batches and the reparametrisation noise.
    pub seed: u64,
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

/// The loss over training.
#[derive(Debug, Clone, Default)]
pub struct TrainLog {
    /// Per step: the latent ODE's −ELBO per observation, or the baseline's mean squared
    /// one-step prediction error.
    pub loss: Vec<f64>,
}

fn scalar(t: Tensor<1>) -> f64 {
    t.to_f64_vec()[0]
}

fn batch<'a>(train: &'a [Spiral], size: usize, rng: &mut SeededRng) -> Vec<&'a Spiral> {
    (0..size)
        .map(|_| &train[rng.below(train.len() as u64) as usize])
        .collect()
}

fn learning_rate(config: &TrainConfig, iteration: usize) -> f64 {
    let progress = iteration as f64 / config.iterations.max(1) as f64;
    config.learning_rate * 0.1f64.powf(progress)
}

/// Trains a latent ODE by the one-draw ELBO.
pub fn train_latent(
    device: &SysDevice,
    train: &[Spiral],
    config: &TrainConfig,
    mut progress: impl FnMut(usize, f64),
) -> Result<(LatentOde, TrainLog), ExampleError> {
    let lc = latent_config();
    let model = lc.init(device, config.seed)?;
    let mut lode = LatentOde::rk4(model, lc.obs_std, latent_step());
    let mut optimizer = AdamConfig::new().init();
    let mut rng = SeededRng::new(config.seed ^ 0x1a7e);
    let mut log = TrainLog::default();
    for iteration in 0..config.iterations {
        let spirals = batch(train, config.batch_size, &mut rng);
        let series = dataset::window_series(&spirals)?;
        let observations: usize = series.counts().iter().sum();
        let noise = device.randn(&mut rng, [config.batch_size, lc.latent_dim]);
        let terms = lode.elbo(&series, noise, device)?;
        let loss = terms.loss();
        let per_observation = scalar(loss.clone()) * config.batch_size as f64 / observations as f64;
        log.loss.push(per_observation);
        let grads = GradientsParams::from_grads(loss.backward(), &lode.model);
        lode.model = optimizer.step(learning_rate(config, iteration), lode.model.clone(), grads);
        progress(iteration, per_observation);
    }
    Ok((lode, log))
}

/// Trains the GRU forecaster by one-step-ahead mean squared error on the observed points.
pub fn train_baseline(
    device: &SysDevice,
    train: &[Spiral],
    config: &TrainConfig,
    mut progress: impl FnMut(usize, f64),
) -> Result<(GruForecaster, TrainLog), ExampleError> {
    let mut model = GruForecaster::init(device, config.seed)?;
    let mut optimizer = AdamConfig::new().init();
    let mut rng = SeededRng::new(config.seed ^ 0xba5e);
    let mut log = TrainLog::default();
    for iteration in 0..config.iterations {
        let spirals = batch(train, config.batch_size, &mut rng);
        let series = dataset::window_series(&spirals)?;
        let (observed, _) = series.flat_tensors(device)?;
        let mask = forecast_mask(&series, device)?;
        let count = scalar(mask.clone().sum());
        let forecast = model.window(&series, device)?;
        let loss = ((forecast.predicted - observed).square() * mask)
            .sum()
            .div_scalar(count.max(1.0));
        let value = scalar(loss.clone());
        log.loss.push(value);
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optimizer.step(learning_rate(config, iteration), model, grads);
        progress(iteration, value);
    }
    Ok((model, log))
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
