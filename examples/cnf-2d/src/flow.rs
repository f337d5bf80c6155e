//! The flows: construction, maximum-likelihood and reverse-KL training (one [`MleStep`] or
//! [`ReverseKlStep`] per optimizer step, driven by the `sysdyn-train` runtime), and evaluation
//! (log-densities on a grid, test NLL, samples).

use std::path::Path;

use burn::module::Module;
use burn::optim::{Adam, AdamConfig};
use burn::tensor::Tensor;
use sysdyn_core::device::SysDevice;
use sysdyn_core::jet::{Activation, MlpConfig};
use sysdyn_core::rng::{CounterRng, SeededRng};
use sysdyn_data::toy2d::Toy2d;
use sysdyn_nodes::{
    Cnf, MlpField, Sensitivity, TraceEstimator, negative_log_likelihood, reverse_kl,
};
use sysdyn_solvers::SolveConfig;
use sysdyn_solvers::methods::RK4;
use sysdyn_solvers::tableau::ButcherTableau;
use sysdyn_train::{
    BoxError, Checkpointable, NonFinite, Optim, StepContext, StepReport, TrainError, TrainStep,
    find_non_finite, load_module, save_module,
};

use crate::ExampleError;

/// A flow of an MLP field `f([z, t])`, RK4 with fixed steps over `[0, 1]`, exact trace.
pub type Flow = Cnf<MlpField, ButcherTableau>;

/// Size and schedule of a flow's training.
#[derive(Debug, Clone, PartialEq)]
pub struct FlowConfig {
    /// Hidden widths of the field's MLP.
    pub hidden: Vec<usize>,
    /// RK4 steps over `[0, 1]`.
    pub steps: usize,
    /// Optimizer steps.
    pub iterations: usize,
    /// Samples per step.
    pub batch: usize,
    /// Adam's learning rate.
    pub learning_rate: f64,
}

/// The fork of a run's seed that draws the flow's initial weights; the runtime draws the
/// training batches from other forks of the same seed (one stream per step).
const INIT_STREAM: u64 = 0x1417;

/// A fresh flow with weights drawn from a fixed fork of the run's `seed`, trained by backprop through the solver with
/// sysdyn's taped reverse sweep: on CPU backends the field, its exact trace and their
/// vector–Jacobian product run as one fused host kernel per evaluation.
pub fn new_flow(device: &SysDevice, config: &FlowConfig, seed: u64) -> Result<Flow, ExampleError> {
    let mut widths = vec![3];
    widths.extend(&config.hidden);
    widths.push(2);
    let mlp = MlpConfig::new(widths)
        .with_activation(Activation::Tanh)
        .init_seeded(device, CounterRng::new(seed).fork(INIT_STREAM).bits(0))?;
    Ok(Cnf::new(
        MlpField::time_dependent(mlp),
        TraceEstimator::Exact,
        RK4,
        SolveConfig::fixed(1.0 / config.steps as f64),
    )
    .with_sensitivity(Sensitivity::TapedBackprop))
}

/// The same flow without autodiff (evaluation only).
pub fn frozen(flow: &Flow, config: &FlowConfig) -> Flow {
    Cnf::new(
        flow.field().valid(),
        TraceEstimator::Exact,
        RK4,
        SolveConfig::fixed(1.0 / config.steps as f64),
    )
}

fn scalar(t: Tensor<1>) -> f64 {
    t.into_data()
        .try_into_vec_as::<f64>()
        .map_or(f64::NAN, |v| v[0])
}

/// Values of a tensor as f64.
pub fn values<const D: usize>(t: Tensor<D>) -> Vec<f64> {
    t.into_data()
        .try_into_vec_as::<f64>()
        .expect("a float tensor reads as f64")
}

/// A flow with its Adam state: what both training steps own and checkpoint.
struct Trained {
    flow: Flow,
    adam: Optim<Adam>,
}

impl Trained {
    fn new(flow: Flow) -> Self {
        Trained {
            flow,
            adam: Optim::new(AdamConfig::new().build()),
        }
    }

    fn update(&mut self, lr: f64, grads: burn::optim::GradientsParams) {
        let field = self.adam.step(lr, self.flow.field().clone(), grads);
        self.flow.set_field(field);
    }

    fn save(&self, dir: &Path) -> Result<(), TrainError> {
        save_module(self.flow.field(), dir, "field")?;
        self.adam.save(dir, "adam")
    }

    fn load(&mut self, dir: &Path) -> Result<(), TrainError> {
        let field = load_module(self.flow.field().clone(), dir, "field")?;
        self.flow.set_field(field);
        self.adam.load(dir, "adam", self.flow.field())
    }

    fn non_finite(&self) -> Option<NonFinite> {
        find_non_finite(self.flow.field(), "field")
    }
}

/// Maximum likelihood: each step draws a fresh batch of `data` from the step's random stream and
/// takes one Adam step on its negative log-likelihood (the loss the runtime logs).
pub struct MleStep {
    device: SysDevice,
    data: Toy2d,
    batch: usize,
    trained: Trained,
}

impl MleStep {
    /// A fresh flow (weights from `seed`, the run's seed) to train on `data`.
    pub fn new(
        device: &SysDevice,
        data: Toy2d,
        config: &FlowConfig,
        seed: u64,
    ) -> Result<Self, ExampleError> {
        Ok(MleStep {
            device: device.clone(),
            data,
            batch: config.batch,
            trained: Trained::new(new_flow(device, config, seed)?),
        })
    }

    /// The flow as trained (or loaded) so far.
    pub fn flow(&self) -> &Flow {
        &self.trained.flow
    }

    fn try_step(&mut self, ctx: &mut StepContext) -> Result<StepReport, ExampleError> {
        let n = self.batch;
        let x = self
            .device
            .tensor(self.data.sample(n, &mut ctx.rng), [n, 2])?;
        let pass = self.trained.flow.log_density(x, &mut ctx.rng)?;
        let loss = negative_log_likelihood(&pass);
        let value = scalar(loss.clone());
        let grads = pass.backward(&loss)?;
        self.trained.update(ctx.lr, grads.params);
        Ok(StepReport::new(value))
    }
}

impl Checkpointable for MleStep {
    fn save_checkpoint(&self, dir: &Path) -> Result<(), TrainError> {
        self.trained.save(dir)
    }

    fn load_checkpoint(&mut self, dir: &Path) -> Result<(), TrainError> {
        self.trained.load(dir)
    }
}

impl TrainStep for MleStep {
    fn step(&mut self, ctx: &mut StepContext) -> Result<StepReport, BoxError> {
        Ok(self.try_step(ctx)?)
    }

    fn non_finite_parameter(&self) -> Option<NonFinite> {
        self.trained.non_finite()
    }
}

/// `log p̃(x)` of the unnormalised target of the reverse-KL demo: eight Gaussian bumps of
/// standard deviation `TARGET_STD` on the circle of radius 2, `Σ_k exp(-|x - μ_k|² / 2σ²)`.
pub const TARGET_STD: f64 = 0.4;

/// `log Z` of that target: eight unnormalised Gaussians of variance σ² each integrate to 2πσ².
pub fn target_log_normaliser() -> f64 {
    (8.0 * 2.0 * std::f64::consts::PI * TARGET_STD * TARGET_STD).ln()
}

fn centres() -> Vec<[f64; 2]> {
    (0..8)
        .map(|k| {
            let a = 2.0 * std::f64::consts::PI * k as f64 / 8.0;
            [2.0 * a.cos(), 2.0 * a.sin()]
        })
        .collect()
}

/// `log p̃(x)` per row, `[n, 1]`, as tensor ops (differentiable).
pub fn target_log_density(x: Tensor<2>) -> Tensor<2> {
    let [n, _] = x.dims();
    let (device, dtype) = (x.device(), x.dtype());
    let terms: Vec<Tensor<2>> = centres()
        .iter()
        .map(|c| {
            let centre = Tensor::<1>::from_data(
                burn::tensor::TensorData::new(vec![c[0], c[1]], [2]).convert_dtype(dtype),
                (&device, dtype),
            )
            .reshape([1, 2]);
            (x.clone() - centre)
                .square()
                .sum_dim(1)
                .mul_scalar(-0.5 / (TARGET_STD * TARGET_STD))
        })
        .collect();
    let all = Tensor::cat(terms, 1);
    let max = all.clone().max_dim(1).detach();
    let shifted = (all - max.clone().expand([n, 8])).exp().sum_dim(1).log();
    max + shifted
}

/// `log p̃(x)` on the host.
pub fn target_log_density_host(x: f64, y: f64) -> f64 {
    let terms: Vec<f64> = centres()
        .iter()
        .map(|c| -((x - c[0]).powi(2) + (y - c[1]).powi(2)) / (2.0 * TARGET_STD * TARGET_STD))
        .collect();
    let max = terms.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    max + terms.iter().map(|t| (t - max).exp()).sum::<f64>().ln()
}

/// Reverse KL: each step pushes a batch of the flow's own samples (latent draws from the
/// step's random stream) towards the unnormalised target. The runtime logs the minimised loss
/// `E_q[log q - log p̃]` and, as the metric `"kl"`, the estimate of `KL(q ‖ p)` (the loss plus
/// the known `log Z`).
pub struct ReverseKlStep {
    device: SysDevice,
    batch: usize,
    trained: Trained,
}

impl ReverseKlStep {
    /// A fresh flow (weights from `seed`, the run's seed).
    pub fn new(device: &SysDevice, config: &FlowConfig, seed: u64) -> Result<Self, ExampleError> {
        Ok(ReverseKlStep {
            device: device.clone(),
            batch: config.batch,
            trained: Trained::new(new_flow(device, config, seed)?),
        })
    }

    /// The flow as trained (or loaded) so far.
    pub fn flow(&self) -> &Flow {
        &self.trained.flow
    }

    fn try_step(&mut self, ctx: &mut StepContext) -> Result<StepReport, ExampleError> {
        let z = self.device.randn(&mut ctx.rng, [self.batch, 2]);
        let pass = self.trained.flow.sample(z, &mut ctx.rng)?;
        let loss = reverse_kl(&pass, target_log_density);
        let value = scalar(loss.clone());
        let grads = pass.backward(&loss)?;
        self.trained.update(ctx.lr, grads.params);
        Ok(StepReport::new(value).with("kl", value + target_log_normaliser()))
    }
}

impl Checkpointable for ReverseKlStep {
    fn save_checkpoint(&self, dir: &Path) -> Result<(), TrainError> {
        self.trained.save(dir)
    }

    fn load_checkpoint(&mut self, dir: &Path) -> Result<(), TrainError> {
        self.trained.load(dir)
    }
}

impl TrainStep for ReverseKlStep {
    fn step(&mut self, ctx: &mut StepContext) -> Result<StepReport, BoxError> {
        Ok(self.try_step(ctx)?)
    }

    fn non_finite_parameter(&self) -> Option<NonFinite> {
        self.trained.non_finite()
    }
}

/// `log p(x)` of `points` (row-major `n × 2`) under a frozen flow, in chunks.
pub fn log_density(
    device: &SysDevice,
    flow: &mut Flow,
    points: &[f64],
) -> Result<Vec<f64>, ExampleError> {
    let mut out = Vec::with_capacity(points.len() / 2);
    let mut rng = SeededRng::new(0);
    for chunk in points.chunks(2 * 2048) {
        let x = device.tensor(chunk.to_vec(), [chunk.len() / 2, 2])?.inner();
        let pass = flow.log_density(x, &mut rng)?;
        out.extend(values(pass.log_density));
    }
    Ok(out)
}

/// `n` samples of a frozen flow, row-major.
pub fn samples(
    device: &SysDevice,
    flow: &mut Flow,
    n: usize,
    seed: u64,
) -> Result<Vec<f64>, ExampleError> {
    let mut rng = SeededRng::new(seed);
    let z = device.randn(&mut rng, [n, 2]).inner();
    let pass = flow.sample(z, &mut rng)?;
    Ok(values(pass.points))
}
