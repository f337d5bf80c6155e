//! Training on mini-batches of short windows (one [`SpiralStep`] per optimizer step, driven by
//! the `sysdyn-train` runtime), and evaluation of the learned model.

use std::path::Path;

use burn::module::Module;
use burn::optim::{Adam, AdamConfig};
use burn::tensor::Tensor;
use sysdyn_core::device::SysDevice;
use sysdyn_core::rng::{CounterRng, SeededRng};
use sysdyn_nodes::{NeuralField, NeuralOde, Sensitivity};
use sysdyn_solvers::SolveConfig;
use sysdyn_solvers::methods::DOPRI5;
use sysdyn_train::{
    BoxError, Checkpointable, LrSchedule, MetricsLine, NonFinite, Optim, StepContext, StepReport,
    TrainError, TrainStep, find_non_finite, load_module, save_module,
};

use crate::ExampleError;
use crate::dataset::{self, Trajectory, Y0};
use crate::model::CubicMlp;

/// The fork of the seed that draws the initial weights. The runtime's own streams (mini-batches
/// per step, evaluation) are other forks of the same seed, so the weights do not depend on the
/// step and `--load` rebuilds the same untrained model for its comparison.
const INIT_STREAM: u64 = 0x1417;

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

impl TrainConfig {
    /// The learning-rate schedule: `lr · 0.1^(step / iterations)`, geometric decay to a tenth.
    pub fn schedule(&self) -> LrSchedule {
        LrSchedule::Exponential {
            lr: self.learning_rate,
            final_lr: self.learning_rate / 10.0,
            steps: self.iterations as u64,
        }
    }
}

/// What happened at every training step (read back from the run's `metrics.jsonl`, so a loaded
/// or resumed run draws the same figures as the run that trained).
#[derive(Debug, Clone, Default)]
pub struct TrainLog {
    /// Mean squared error over the batch's windows.
    pub loss: Vec<f64>,
    /// Forward function evaluations.
    pub nfe_forward: Vec<usize>,
    /// Backward evaluations (vector–Jacobian products).
    pub nfe_backward: Vec<usize>,
}

impl TrainLog {
    /// The log of the runtime's train lines (a non-finite loss, written as `null`, reads as NaN).
    pub fn from_metrics(lines: &[MetricsLine]) -> Self {
        let count = |line: &MetricsLine, name: &str| {
            line.metrics.get(name).map_or(0, |&n| n.max(0.0) as usize)
        };
        TrainLog {
            loss: lines.iter().map(|l| l.loss.unwrap_or(f64::NAN)).collect(),
            nfe_forward: lines.iter().map(|l| count(l, "nfe_forward")).collect(),
            nfe_backward: lines.iter().map(|l| count(l, "nfe_backward")).collect(),
        }
    }
}

fn values(t: Tensor<2>) -> Vec<f64> {
    t.into_data()
        .try_into_vec_as::<f64>()
        .expect("a float tensor reads as f64")
}

/// The untrained field of a run with `seed`: weights from a fixed fork of the seed.
pub fn initial_field(device: &SysDevice, seed: u64) -> CubicMlp {
    let mut rng = SeededRng::new(CounterRng::new(seed).fork(INIT_STREAM).bits(0));
    CubicMlp::init(device, &mut rng)
}

/// One training step of the spiral: a mini-batch of windows from the step's random stream, a
/// Dormand–Prince solve of each window, the gradient by the chosen sensitivity and an Adam
/// update. It owns the field (inside the neural ODE) and Adam's state, which its checkpoints
/// hold.
pub struct SpiralStep {
    device: SysDevice,
    data: Trajectory,
    config: TrainConfig,
    node: NeuralOde<CubicMlp>,
    adam: Optim<Adam>,
}

impl SpiralStep {
    /// A step training `field` on `data`.
    pub fn new(device: &SysDevice, data: Trajectory, config: TrainConfig, field: CubicMlp) -> Self {
        let (rtol, atol) = config.tol;
        let node = NeuralOde::new(field, DOPRI5, SolveConfig::adaptive(rtol, atol))
            .with_sensitivity(config.sensitivity.clone());
        SpiralStep {
            device: device.clone(),
            data,
            config,
            node,
            adam: Optim::new(AdamConfig::new().build()),
        }
    }

    /// The field as trained (or loaded) so far.
    pub fn field(&self) -> &CubicMlp {
        &self.node.field
    }

    fn try_step(&mut self, ctx: &mut StepContext) -> Result<StepReport, ExampleError> {
        let (size, length) = (self.config.batch_size, self.config.batch_time);
        let batch = dataset::batch(&self.data, size, length, &mut ctx.rng);
        let x0 = self.device.tensor(batch.starts, [size, 2])?;
        let trajectory = self.node.solve(x0, &batch.times)?;
        let mut loss: Option<Tensor<1>> = None;
        for (state, target) in trajectory.states().iter().zip(batch.targets) {
            let target = self.device.tensor(target, [size, 2])?;
            let term = (state.clone() - target).square().mean();
            loss = Some(match loss {
                Some(l) => l + term,
                None => term,
            });
        }
        let loss = loss
            .expect("a window has observations")
            .div_scalar(length as f64);
        let value = loss
            .clone()
            .into_data()
            .try_into_vec_as::<f64>()
            .map_or(f64::NAN, |v| v[0]);
        let nfe_forward = trajectory.stats().nfe;
        let grads = trajectory.backward(&loss)?;
        let nfe_backward = grads.nfe_backward;
        self.node.field = self
            .adam
            .step(ctx.lr, self.node.field.clone(), grads.params);
        Ok(StepReport::new(value)
            .with("nfe_forward", nfe_forward as f64)
            .with("nfe_backward", nfe_backward as f64))
    }
}

impl Checkpointable for SpiralStep {
    fn save_checkpoint(&self, dir: &Path) -> Result<(), TrainError> {
        save_module(&self.node.field, dir, "field")?;
        self.adam.save(dir, "adam")
    }

    fn load_checkpoint(&mut self, dir: &Path) -> Result<(), TrainError> {
        self.node.field = load_module(self.node.field.clone(), dir, "field")?;
        self.adam.load(dir, "adam", &self.node.field)
    }
}

impl TrainStep for SpiralStep {
    fn step(&mut self, ctx: &mut StepContext) -> Result<StepReport, BoxError> {
        Ok(self.try_step(ctx)?)
    }

    fn non_finite_parameter(&self) -> Option<NonFinite> {
        find_non_finite(&self.node.field, "field")
    }
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
