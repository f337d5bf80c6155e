//! Training (maximum likelihood on data, reverse KL to an energy) on the `sysdyn-train`
//! runtime, and the evaluation of a trained flow: test NLL, the density on a grid and its
//! integral, samples, and the latent pushforward of test data.

use std::path::Path;
use std::time::Instant;

use burn::module::ModuleDisplay;
use burn::optim::{Adam, AdamConfig};
use burn::tensor::Tensor;
use sysdyn_core::device::SysDevice;
use sysdyn_core::rng::SeededRng;
use sysdyn_generative::flow::Flow;
use sysdyn_generative::flow::base::StandardNormal;
use sysdyn_generative::flow::chain::{Chain, VectorLayer};
use sysdyn_generative::flow::model::{FlowModel, effective_sample_size};
use sysdyn_generative::flow::step::{FlowConfig, FlowObjective, FlowStep};
use sysdyn_generative::gan::DataSampler;
use sysdyn_train::{
    BoxError, Checkpointable, LrSchedule, NonFinite, Optim, ProgressMode, StepContext, StepReport,
    TrainConfig, TrainError, TrainStep, Trainer,
};

use crate::ExampleError;
use crate::grid::Grid;

/// A flow over `ℝ^d` with a standard normal base.
pub type Model<F> = FlowModel<StandardNormal, F>;

/// The schedule of one training run.
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    /// Optimizer steps.
    pub steps: u64,
    /// Rows per batch.
    pub batch: usize,
    /// Adam's initial learning rate (cosine-annealed to `lr / 20`).
    pub lr: f64,
}

fn train_config(schedule: &Schedule, seed: u64) -> TrainConfig {
    let mut config = TrainConfig::new(schedule.steps)
        .with_schedule(LrSchedule::Cosine {
            lr: schedule.lr,
            min_lr: schedule.lr / 20.0,
            steps: schedule.steps,
        })
        .with_divergence_factor(None)
        .with_checkpoint_every(None)
        .with_progress(ProgressMode::Quiet);
    config.seed = seed;
    config.grad_clip_norm = Some(100.0);
    config.log_every = (schedule.steps / 50).max(1);
    config
}

fn adam() -> Optim<Adam> {
    Optim::new(AdamConfig::new().build())
}

/// A chain's flow step with one power iteration in every residual block after each update
/// (a no-op for chains without residual blocks), so their contractions stay below 1.
pub struct ChainStep(FlowStep<StandardNormal, Chain<VectorLayer>, Adam, 2>);

impl Checkpointable for ChainStep {
    fn save_checkpoint(&self, dir: &Path) -> Result<(), TrainError> {
        self.0.save_checkpoint(dir)
    }

    fn load_checkpoint(&mut self, dir: &Path) -> Result<(), TrainError> {
        self.0.load_checkpoint(dir)
    }
}

impl TrainStep for ChainStep {
    fn step(&mut self, ctx: &mut StepContext) -> Result<StepReport, BoxError> {
        let report = self.0.step(ctx)?;
        self.0.model_mut().flow.power_iteration();
        Ok(report)
    }

    fn non_finite_parameter(&self) -> Option<NonFinite> {
        self.0.non_finite_parameter()
    }
}

/// Trains a chain by maximum likelihood (`data` draws rows) or reverse KL (`target`), in
/// `run_dir`; returns the trained model and the seconds it took.
pub fn fit_chain(
    device: &SysDevice,
    model: Model<Chain<VectorLayer>>,
    objective: FlowObjective<2>,
    schedule: &Schedule,
    run_dir: &Path,
    seed: u64,
) -> Result<(Model<Chain<VectorLayer>>, f64), ExampleError> {
    let dim = model.base_features();
    let start = Instant::now();
    let mut step = ChainStep(FlowStep::new(
        device.clone(),
        model,
        adam(),
        FlowConfig::new([schedule.batch, dim]),
        objective,
    )?);
    Trainer::new(train_config(schedule, seed), run_dir).run(&mut step)?;
    Ok((step.0.model().clone(), start.elapsed().as_secs_f64()))
}

/// Trains any other flow (the CNF) the same way.
pub fn fit<F: Flow<2> + ModuleDisplay + 'static>(
    device: &SysDevice,
    model: Model<F>,
    objective: FlowObjective<2>,
    schedule: &Schedule,
    run_dir: &Path,
    seed: u64,
) -> Result<(Model<F>, f64), ExampleError> {
    let dim = model.base_features();
    let start = Instant::now();
    let mut step = FlowStep::new(
        device.clone(),
        model,
        adam(),
        FlowConfig::new([schedule.batch, dim]),
        objective,
    )?;
    Trainer::new(train_config(schedule, seed), run_dir).run(&mut step)?;
    Ok((step.model().clone(), start.elapsed().as_secs_f64()))
}

/// The width of a model's latent.
trait BaseFeatures {
    fn base_features(&self) -> usize;
}

impl<F: Flow<2> + ModuleDisplay> BaseFeatures for Model<F> {
    fn base_features(&self) -> usize {
        use sysdyn_generative::flow::base::BaseDistribution;
        self.base.features()
    }
}

/// A sampler of rows from a fixed table (`[n, d]` row-major), uniformly with replacement.
pub fn table_sampler(rows: std::sync::Arc<Vec<f64>>, dim: usize) -> DataSampler {
    Box::new(move |rng: &mut SeededRng, n: usize| {
        let count = rows.len() / dim;
        let mut out = Vec::with_capacity(n * dim);
        for _ in 0..n {
            let k = rng.below(count as u64) as usize;
            out.extend_from_slice(&rows[k * dim..(k + 1) * dim]);
        }
        out
    })
}

/// A tensor's values on the host.
pub fn host<const D: usize>(t: Tensor<D>) -> Result<Vec<f64>, ExampleError> {
    t.into_data()
        .convert::<f64>()
        .try_into_vec::<f64>()
        .map_err(|e| ExampleError::Host(format!("{e:?}")))
}

/// `log q(x)` of row-major points (`[n, d]`), in chunks of `chunk` rows.
pub fn log_prob<F: Flow<2> + ModuleDisplay>(
    device: &SysDevice,
    model: &Model<F>,
    points: &[f64],
    dim: usize,
    chunk: usize,
) -> Result<Vec<f64>, ExampleError> {
    let mut out = Vec::with_capacity(points.len() / dim);
    for part in points.chunks(chunk * dim) {
        let x = device.tensor(part.to_vec(), [part.len() / dim, dim])?;
        out.extend(host(model.log_prob(x, None)?.detach())?);
    }
    Ok(out)
}

/// What a trained 2-D flow is scored and drawn by.
#[derive(Debug, Clone)]
pub struct Evaluation {
    /// `−mean log q` on the test points (nats).
    pub nll: f64,
    /// `∫ q` over the grid (midpoint rule).
    pub mass: f64,
    /// `q` on the grid's cell centres (for the heat map).
    pub density: Vec<f64>,
    /// Samples of the flow, row-major.
    pub samples: Vec<f64>,
    /// `f(x)` of (the first) test points, row-major.
    pub latent: Vec<f64>,
}

/// Scores a trained 2-D flow on `test`, its density on `grid`, `samples` samples and the
/// latent pushforward of the first `samples` test points.
pub fn evaluate<F: Flow<2> + ModuleDisplay>(
    device: &SysDevice,
    model: &Model<F>,
    test: &[f64],
    grid: &Grid,
    samples: usize,
    seed: u64,
) -> Result<Evaluation, ExampleError> {
    let log_q = log_prob(device, model, test, 2, 2048)?;
    let nll = -log_q.iter().sum::<f64>() / log_q.len() as f64;
    let density: Vec<f64> = log_prob(device, model, &grid.points(), 2, 4096)?
        .into_iter()
        .map(f64::exp)
        .collect();
    let mass = density.iter().sum::<f64>() * grid.cell_area();
    let mut rng = SeededRng::new(seed ^ 0x5A3F);
    let drawn = model.sample(device, [samples, 2], None, &mut rng)?;
    let samples_host = host(drawn.value.detach())?;
    let shown = samples.min(test.len() / 2);
    let x = device.tensor(test[..2 * shown].to_vec(), [shown, 2])?;
    let latent = host(model.flow.forward(x, None)?.value.detach())?;
    Ok(Evaluation {
        nll,
        mass,
        density,
        samples: samples_host,
        latent,
    })
}

/// The reverse-KL fit's score: `KL(q ‖ p) = E_q[log q − log p̃] + log Z` and the effective
/// sample size of `n` fresh samples.
pub fn reverse_kl_score<F: Flow<2> + ModuleDisplay>(
    device: &SysDevice,
    model: &Model<F>,
    target: crate::targets::Target,
    log_z: f64,
    n: usize,
    seed: u64,
) -> Result<(f64, f64, Vec<f64>), ExampleError> {
    let mut rng = SeededRng::new(seed ^ 0xC0FFEE);
    let kl = model.reverse_kl(device, [n, 2], None, &|z| target.log_density(z), &mut rng)?;
    let log_w = host(kl.log_weights.detach())?;
    let ess = effective_sample_size(&log_w)?;
    let estimate = -log_w.iter().sum::<f64>() / log_w.len() as f64 + log_z;
    Ok((estimate, ess, host(kl.samples.detach())?))
}
