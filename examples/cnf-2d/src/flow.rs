//! The flows: construction, maximum-likelihood and reverse-KL training, and evaluation
//! (log-densities on a grid, test NLL, samples).

use burn::module::Module;
use burn::optim::AdamConfig;
use burn::tensor::Tensor;
use sysdyn_core::device::SysDevice;
use sysdyn_core::jet::{Activation, MlpConfig};
use sysdyn_core::rng::SeededRng;
use sysdyn_data::toy2d::Toy2d;
use sysdyn_nodes::{
    Cnf, MlpField, Sensitivity, TraceEstimator, negative_log_likelihood, reverse_kl,
};
use sysdyn_solvers::SolveConfig;
use sysdyn_solvers::methods::RK4;
use sysdyn_solvers::tableau::ButcherTableau;

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

/// A fresh flow with weights drawn from `seed`, trained by backprop through the solver with
/// sysdyn's taped reverse sweep: on CPU backends the field, its exact trace and their
/// vector–Jacobian product run as one fused host kernel per evaluation.
pub fn new_flow(device: &SysDevice, config: &FlowConfig, seed: u64) -> Result<Flow, ExampleError> {
    let mut widths = vec![3];
    widths.extend(&config.hidden);
    widths.push(2);
    let mlp = MlpConfig::new(widths)
        .with_activation(Activation::Tanh)
        .init_seeded(device, seed)?;
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

/// Maximum likelihood on fresh samples of `data` every step; returns the flow and the NLL of
/// every step.
pub fn train_mle(
    device: &SysDevice,
    data: Toy2d,
    config: &FlowConfig,
    seed: u64,
    mut progress: impl FnMut(usize, f64),
) -> Result<(Flow, Vec<f64>), ExampleError> {
    let mut flow = new_flow(device, config, seed)?;
    let mut optimizer = AdamConfig::new().init();
    let mut rng = SeededRng::new(seed ^ 0x5eed);
    let mut losses = Vec::with_capacity(config.iterations);
    for i in 0..config.iterations {
        let x = device.tensor(data.sample(config.batch, &mut rng), [config.batch, 2])?;
        let pass = flow.log_density(x, &mut rng)?;
        let loss = negative_log_likelihood(&pass);
        let value = scalar(loss.clone());
        let grads = pass.backward(&loss)?;
        let field = optimizer.step(config.learning_rate, flow.field().clone(), grads.params);
        flow.set_field(field);
        losses.push(value);
        progress(i, value);
    }
    Ok((flow, losses))
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

/// Reverse KL: samples of the flow are pushed towards the target; returns the flow and the
/// estimate of `KL(q ‖ p) = E_q[log q - log p̃] + log Z` at every step.
pub fn train_reverse_kl(
    device: &SysDevice,
    config: &FlowConfig,
    seed: u64,
    mut progress: impl FnMut(usize, f64),
) -> Result<(Flow, Vec<f64>), ExampleError> {
    let mut flow = new_flow(device, config, seed)?;
    let mut optimizer = AdamConfig::new().init();
    let mut rng = SeededRng::new(seed ^ 0xbeef);
    let log_z = target_log_normaliser();
    let mut kls = Vec::with_capacity(config.iterations);
    for i in 0..config.iterations {
        let z = device.randn(&mut rng, [config.batch, 2]);
        let pass = flow.sample(z, &mut rng)?;
        let loss = reverse_kl(&pass, target_log_density);
        let kl = scalar(loss.clone()) + log_z;
        let grads = pass.backward(&loss)?;
        let field = optimizer.step(config.learning_rate, flow.field().clone(), grads.params);
        flow.set_field(field);
        kls.push(kl);
        progress(i, kl);
    }
    Ok((flow, kls))
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
