//! Training on mini-batches of short windows, and evaluation of the learned model.

use burn::module::Module;
use burn::optim::AdamConfig;
use burn::tensor::Tensor;
use sysdyn_core::device::SysDevice;
use sysdyn_core::rng::SeededRng;
use sysdyn_nodes::{NeuralField, NeuralOde, Sensitivity};
use sysdyn_solvers::SolveConfig;
use sysdyn_solvers::methods::DOPRI5;

use crate::ExampleError;
use crate::dataset::{self, Trajectory, Y0};
use crate::model::CubicMlp;

/// Training options.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainConfig {
    /// Optimizer steps.
    pub iterations: usize,
    /// Windows per mini-batch.
    pub batch_size: usize,
    /// Observations per window.
    pub batch_time: usize,
    /// Adam's learning rate at the start; it decays geometrically to a tenth of it at the end.
    pub learning_rate: f64,
    /// Tolerances of the Dormand–Prince solves during training (rtol, atol).
    pub tol: (f64, f64),
    /// Gradient method.
    pub sensitivity: Sensitivity,
}

/// What happened at every training step.
#[derive(Debug, Clone, Default)]
pub struct TrainLog {
    /// Mean squared error over the batch's windows.
    pub loss: Vec<f64>,
    /// Forward function evaluations.
    pub nfe_forward: Vec<usize>,
    /// Backward evaluations (vector–Jacobian products).
    pub nfe_backward: Vec<usize>,
}

fn values(t: Tensor<2>) -> Vec<f64> {
    t.into_data()
        .try_into_vec_as::<f64>()
        .expect("a float tensor reads as f64")
}

/// Trains a fresh model (drawn from `rng`) on `data`.
pub fn train(
    device: &SysDevice,
    data: &Trajectory,
    config: &TrainConfig,
    rng: &mut SeededRng,
    mut progress: impl FnMut(usize, f64),
) -> Result<(CubicMlp, TrainLog), ExampleError> {
    let field = CubicMlp::init(device, rng);
    let (rtol, atol) = config.tol;
    let mut node = NeuralOde::new(field, DOPRI5, SolveConfig::adaptive(rtol, atol))
        .with_sensitivity(config.sensitivity.clone());
    let mut optimizer = AdamConfig::new().init();
    let mut log = TrainLog::default();
    for iteration in 0..config.iterations {
        let batch = dataset::batch(data, config.batch_size, config.batch_time, rng);
        let x0 = device.tensor(batch.starts, [config.batch_size, 2])?;
        let trajectory = node.solve(x0, &batch.times)?;
        let mut loss: Option<Tensor<1>> = None;
        for (state, target) in trajectory.states().iter().zip(batch.targets) {
            let target = device.tensor(target, [config.batch_size, 2])?;
            let term = (state.clone() - target).square().mean();
            loss = Some(match loss {
                Some(l) => l + term,
                None => term,
            });
        }
        let loss = loss
            .expect("a window has observations")
            .div_scalar(config.batch_time as f64);
        let value = loss
            .clone()
            .into_data()
            .try_into_vec_as::<f64>()
            .map_or(f64::NAN, |v| v[0]);
        log.loss.push(value);
        log.nfe_forward.push(trajectory.stats().nfe);
        let grads = trajectory.backward(&loss)?;
        log.nfe_backward.push(grads.nfe_backward);
        let progress_fraction = iteration as f64 / config.iterations.max(1) as f64;
        let learning_rate = config.learning_rate * 0.1f64.powf(progress_fraction);
        node.field = optimizer.step(learning_rate, node.field.clone(), grads.params);
        progress(iteration, value);
    }
    Ok((node.field, log))
}

/// The learned trajectory from `Y0` at `ts`, solved accurately without gradients.
pub fn predict(
    device: &SysDevice,
    field: &CubicMlp,
    ts: &[f64],
) -> Result<Vec<[f64; 2]>, ExampleError> {
    let node = NeuralOde::new(field.valid(), DOPRI5, SolveConfig::adaptive(1e-7, 1e-9));
    let x0 = device.tensor(Y0.to_vec(), [1, 2])?.inner();
    let trajectory = node.solve(x0, ts)?;
    Ok(trajectory
        .states()
        .iter()
        .map(|s| {
            let v = values(s.clone());
            [v[0], v[1]]
        })
        .collect())
}

/// The learned field at the points `(xs[i], ys[i])`.
pub fn field_at(
    device: &SysDevice,
    field: &CubicMlp,
    xs: &[f64],
    ys: &[f64],
) -> Result<Vec<[f64; 2]>, ExampleError> {
    let points: Vec<f64> = xs.iter().zip(ys).flat_map(|(&x, &y)| [x, y]).collect();
    let x = device.tensor(points, [xs.len(), 2])?.inner();
    let v = values(field.valid().field(0.0, x));
    Ok(v.chunks(2).map(|c| [c[0], c[1]]).collect())
}

/// Mean squared error between two trajectories (over time and both components).
pub fn mse(a: &[[f64; 2]], b: &[[f64; 2]]) -> f64 {
    let sum: f64 = a
        .iter()
        .zip(b)
        .map(|(p, q)| (p[0] - q[0]).powi(2) + (p[1] - q[1]).powi(2))
        .sum();
    sum / (2 * a.len()) as f64
}
