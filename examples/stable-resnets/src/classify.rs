//! Classification with standard, antisymmetric and two-stream Verlet networks (tanh), trained
//! multi-level: Adam on a shallow network, prolong (double the layers, halve `h`, interpolate
//! the parameters in depth), train again, and so on through the depths `4, 8, 16, …`.
//!
//! A network on the plane is a homeomorphism and cannot pull one class out of another's
//! surroundings, so the 2-D points are padded with zeros to the problem's width `n` (the
//! networks move them in `n` dimensions) and a linear read-out gives one logit per class. The
//! loss is the mean cross-entropy plus `α` times the smoothness-in-depth regulariser of the
//! network and the read-out's weight decay.
//!
//! Every level is one run of the training runtime ([`FitStep`], a fresh Adam per level as
//! before), in its own run directory `<out>/run/<problem>-<architecture>-<layers>layers`, so
//! `--load` rebuilds each level's network from its checkpoint and evaluates it exactly as the
//! training run did (the prolongation of a loaded level is the prolongation of the trained one).

use burn::module::{Module, ModuleDisplay, Param};
use burn::nn::Linear;
use std::path::Path;

use burn::optim::{Adam, AdamConfig, GradientsParams};
use burn::tensor::Tensor;
use burn::tensor::activation::{log_softmax, softmax};
use serde::Serialize;
use sysdyn_core::State;
use sysdyn_core::device::SysDevice;
use sysdyn_core::jet::Activation;
use sysdyn_core::rng::SeededRng;
use sysdyn_nodes::resnet::{
    BlockScheme, DepthNetwork, ResNet, ResNetError, VerletNet, WeightForm, smoothness_in_depth,
};

use sysdyn_train::{
    BoxError, Checkpointable, LrSchedule, NonFinite, Optim, StepContext, StepReport, TrainConfig,
    TrainError, TrainStep, find_non_finite, load_module, save_module,
};

use crate::ExampleError;
use crate::datasets::{Dataset, Problem};
use crate::runs::RunPlan;

/// The feature map of a classifier: a depth-as-time network on padded states.
pub trait Body: DepthNetwork + Module + ModuleDisplay + Clone {
    /// Features of a padded batch `[batch, n]`.
    fn features(&self, x: Tensor<2>) -> Result<Tensor<2>, ResNetError>;
    /// The same network on a depth grid twice as fine.
    fn refined(&self) -> Self;
    /// Number of layers.
    fn depth(&self) -> usize;
}

impl Body for ResNet {
    fn features(&self, x: Tensor<2>) -> Result<Tensor<2>, ResNetError> {
        self.forward(x)
    }
    fn refined(&self) -> Self {
        self.prolong()
    }
    fn depth(&self) -> usize {
        self.layers()
    }
}

impl Body for VerletNet {
    fn features(&self, x: Tensor<2>) -> Result<Tensor<2>, ResNetError> {
        Ok(self.forward(x, None)?.0)
    }
    fn refined(&self) -> Self {
        self.prolong()
    }
    fn depth(&self) -> usize {
        self.layers()
    }
}

/// A network followed by a linear read-out to one logit per class.
#[derive(Module, Debug)]
pub struct Classifier<B> {
    /// The network.
    pub body: B,
    /// The read-out, `[n, classes]`.
    pub head: Linear,
}

impl<B: Body> Classifier<B> {
    /// Logits `[batch, classes]` of 2-D points `[batch, 2]`.
    pub fn logits(&self, points: Tensor<2>) -> Result<Tensor<2>, ResNetError> {
        let [batch, features] = points.dims();
        let width = self.head.weight.dims()[0];
        let x = if width > features {
            let pad = Tensor::zeros(
                [batch, width - features],
                (&points.device(), points.dtype()),
            );
            Tensor::cat(vec![points, pad], 1)
        } else {
            points
        };
        Ok(self.head.forward(self.body.features(x)?))
    }

    /// `α (smoothness_in_depth(body) + ‖head weights‖²)`.
    fn regulariser(&self, alpha: f64) -> Tensor<1> {
        (smoothness_in_depth(&self.body) + self.head.weight.val().square().sum()) * alpha
    }
}

/// Which architecture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Architecture {
    /// Forward Euler blocks with free `K_j`.
    Standard,
    /// Forward Euler blocks with `K_j = W_j − W_jᵀ − γ I`.
    Antisymmetric,
    /// The two-stream Verlet network.
    Verlet,
}

impl Architecture {
    /// All three.
    pub const ALL: [Architecture; 3] = [
        Architecture::Standard,
        Architecture::Antisymmetric,
        Architecture::Verlet,
    ];

    /// Name for reports.
    pub fn name(self) -> &'static str {
        match self {
            Architecture::Standard => "standard",
            Architecture::Antisymmetric => "antisymmetric",
            Architecture::Verlet => "verlet",
        }
    }
}

/// Training settings shared by every problem.
#[derive(Debug, Clone, Serialize)]
pub struct TrainSettings {
    /// Depths of the multi-level schedule, each twice the previous.
    pub depths: Vec<usize>,
    /// Full-batch Adam steps on each level.
    pub iterations_per_level: usize,
    /// Adam's learning rate.
    pub learning_rate: f64,
    /// Damping γ of the antisymmetric network.
    pub gamma: f64,
    /// Seed of every network's initial weights (each architecture starts from the same draws).
    pub seed: u64,
}

/// Scores of one architecture at one depth.
#[derive(Debug, Clone, Serialize)]
pub struct LevelResult {
    /// Layers.
    pub layers: usize,
    /// Depth spacing `h = T / layers`.
    pub step: f64,
    /// Largest change of a validation logit caused by prolonging the previous level's trained
    /// network to this depth (0 on the first level): how far the trained parameters are from
    /// samples of a smooth `θ(t)`.
    pub prolongation_logit_change: f64,
    /// Validation accuracy right after the prolongation, before training on this level.
    pub prolonged_validation_accuracy: f64,
    /// Training loss (cross-entropy, without the regulariser) before this level's training.
    pub initial_loss: f64,
    /// Training loss after it.
    pub final_loss: f64,
    /// Training accuracy.
    pub train_accuracy: f64,
    /// Validation accuracy.
    pub validation_accuracy: f64,
}

/// One architecture trained through every depth of the schedule.
#[derive(Debug, Clone, Serialize)]
pub struct ArchitectureRun {
    /// Architecture name.
    pub architecture: &'static str,
    /// One entry per depth.
    pub levels: Vec<LevelResult>,
    /// Class probabilities of the deepest network on the figure's grid, `[grid points,
    /// classes]` row-major (grid row `j` is `y = grid_y[j]`).
    #[serde(skip)]
    pub probabilities: Vec<f64>,
}

impl ArchitectureRun {
    /// The deepest level.
    pub fn deepest(&self) -> &LevelResult {
        self.levels.last().expect("a run has at least one level")
    }
}

/// One problem's settings and results.
#[derive(Debug, Clone, Serialize)]
pub struct ProblemResult {
    /// Problem name.
    pub dataset: &'static str,
    /// Number of classes.
    pub classes: usize,
    /// Training and validation points.
    pub train_points: usize,
    /// Validation points.
    pub validation_points: usize,
    /// Width `n` of the state (points padded with zeros to it).
    pub width: usize,
    /// Width `m` of the Verlet companion stream.
    pub companion_width: usize,
    /// Final time `T`.
    pub final_time: f64,
    /// Regularisation weight α.
    pub alpha: f64,
    /// One run per architecture.
    pub runs: Vec<ArchitectureRun>,
    /// The figure's grid.
    #[serde(skip)]
    pub grid: (Vec<f64>, Vec<f64>),
}

impl ProblemResult {
    /// The best validation accuracy of any architecture at any depth, with its architecture
    /// and depth.
    pub fn best(&self) -> (&'static str, usize, f64) {
        self.runs
            .iter()
            .flat_map(|r| {
                r.levels
                    .iter()
                    .map(move |l| (r.architecture, l.layers, l.validation_accuracy))
            })
            .fold(("", 0, f64::NEG_INFINITY), |best, candidate| {
                if candidate.2 > best.2 {
                    candidate
                } else {
                    best
                }
            })
    }
}

fn head(device: &SysDevice, rng: &mut SeededRng, width: usize, classes: usize) -> Linear {
    Linear {
        weight: Param::from_tensor(
            device.randn(rng, [width, classes]) * (1.0 / (width as f64).sqrt()),
        ),
        bias: Some(Param::from_tensor(device.zeros([classes]))),
    }
}

/// Points and one-hot labels of a dataset.
fn tensors(
    device: &SysDevice,
    data: &Dataset,
    classes: usize,
) -> Result<(Tensor<2>, Tensor<2>), ExampleError> {
    let x = device.tensor(data.points.clone(), [data.len(), 2])?;
    let mut one_hot = vec![0.0; data.len() * classes];
    for (i, &l) in data.labels.iter().enumerate() {
        one_hot[i * classes + l] = 1.0;
    }
    let y = device.tensor(one_hot, [data.len(), classes])?;
    Ok((x, y))
}

/// Mean cross-entropy of logits against one-hot labels.
fn cross_entropy(logits: Tensor<2>, one_hot: Tensor<2>) -> Tensor<1> {
    let [batch, _] = logits.dims();
    -(log_softmax(logits, 1) * one_hot).sum() * (1.0 / batch as f64)
}

/// Fraction of rows whose largest logit is the label's.
pub fn accuracy(logits: &Tensor<2>, labels: &[usize]) -> f64 {
    let [batch, classes] = logits.dims();
    let values = logits.to_f64_vec();
    let correct = (0..batch)
        .filter(|&i| {
            let row = &values[i * classes..(i + 1) * classes];
            let predicted = (0..classes)
                .max_by(|&a, &b| row[a].total_cmp(&row[b]))
                .expect("at least one class");
            predicted == labels[i]
        })
        .count();
    correct as f64 / batch as f64
}

/// One level's training: full-batch Adam on the regularised cross-entropy of a classifier.
pub struct FitStep<B: Body> {
    /// The classifier being trained.
    pub model: Classifier<B>,
    adam: Optim<Adam>,
    x: Tensor<2>,
    y: Tensor<2>,
    alpha: f64,
}

impl<B: Body> FitStep<B> {
    /// Training of `model` on points `x` and one-hot labels `y` with regularisation weight
    /// `alpha`, from a fresh Adam state.
    pub fn new(model: Classifier<B>, (x, y): (&Tensor<2>, &Tensor<2>), alpha: f64) -> Self {
        FitStep {
            model,
            adam: Optim::new(AdamConfig::new().build()),
            x: x.clone(),
            y: y.clone(),
            alpha,
        }
    }
}

impl<B: Body> Checkpointable for FitStep<B> {
    fn save_checkpoint(&self, dir: &Path) -> Result<(), TrainError> {
        save_module(&self.model, dir, "model")?;
        self.adam.save(dir, "adam")
    }

    fn load_checkpoint(&mut self, dir: &Path) -> Result<(), TrainError> {
        self.model = load_module(self.model.clone(), dir, "model")?;
        self.adam.load(dir, "adam", &self.model)
    }
}

impl<B: Body> TrainStep for FitStep<B> {
    fn step(&mut self, ctx: &mut StepContext) -> Result<StepReport, BoxError> {
        let cross_entropy = cross_entropy(self.model.logits(self.x.clone())?, self.y.clone());
        let loss = cross_entropy.clone() + self.model.regulariser(self.alpha);
        let report = StepReport::new(loss.to_f64_vec()[0])
            .with("cross_entropy", cross_entropy.to_f64_vec()[0]);
        let grads = GradientsParams::from_grads(loss.backward(), &self.model);
        self.model = self.adam.step(ctx.lr, self.model.clone(), grads);
        Ok(report)
    }

    fn non_finite_parameter(&self) -> Option<NonFinite> {
        find_non_finite(&self.model, "model")
    }
}

/// The runtime configuration of one level: `iterations` steps at a constant learning rate.
pub fn level_config(settings: &TrainSettings, plan: &RunPlan) -> TrainConfig {
    TrainConfig::new(settings.iterations_per_level as u64)
        .with_seed(settings.seed)
        .with_schedule(LrSchedule::constant(settings.learning_rate))
        .with_checkpoint_every(Some(100))
        .with_progress(plan.progress())
}

fn max_abs_change(a: &Tensor<2>, b: &Tensor<2>) -> f64 {
    a.to_f64_vec()
        .iter()
        .zip(b.to_f64_vec())
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}

/// The name of a level's run: `<problem>-<architecture>-<layers>layers`.
pub fn run_name(problem: &str, architecture: Architecture, layers: usize) -> String {
    format!("{problem}-{}-{layers}layers", architecture.name())
}

/// The multi-level schedule for one architecture, starting from `model` at `settings.depths[0]`.
fn train_multilevel<B: Body>(
    architecture: Architecture,
    mut model: Classifier<B>,
    device: &SysDevice,
    problem: &Problem,
    (settings, plan): (&TrainSettings, &RunPlan),
    grid_points: &[f64],
) -> Result<ArchitectureRun, ExampleError> {
    let (x, y) = tensors(device, &problem.train, problem.classes)?;
    let (xv, _) = tensors(device, &problem.validation, problem.classes)?;
    let mut levels = Vec::with_capacity(settings.depths.len());
    let mut previous_logits: Option<Tensor<2>> = None;
    for level in 0..settings.depths.len() {
        if level > 0 {
            model = Classifier {
                body: model.body.refined(),
                head: model.head,
            };
        }
        let start_logits = model.logits(xv.clone())?;
        let prolongation_logit_change = previous_logits
            .as_ref()
            .map_or(0.0, |p| max_abs_change(p, &start_logits));
        let prolonged_validation_accuracy = accuracy(&start_logits, &problem.validation.labels);
        let initial_loss = cross_entropy(model.logits(x.clone())?, y.clone()).to_f64_vec()[0];
        let name = run_name(problem.name, architecture, model.body.depth());
        if !plan.quiet {
            eprintln!("[stable-resnets]   run {name}");
        }
        let session = plan.session(level_config(settings, plan), &name)?;
        let mut step = FitStep::new(model, (&x, &y), problem.alpha);
        session.run(&mut step)?;
        model = step.model;
        let logits = model.logits(x.clone())?;
        let validation_logits = model.logits(xv.clone())?;
        let layers = model.body.depth();
        levels.push(LevelResult {
            layers,
            step: model.body.step_size(),
            prolongation_logit_change,
            prolonged_validation_accuracy,
            initial_loss,
            final_loss: cross_entropy(logits.clone(), y.clone()).to_f64_vec()[0],
            train_accuracy: accuracy(&logits, &problem.train.labels),
            validation_accuracy: accuracy(&validation_logits, &problem.validation.labels),
        });
        previous_logits = Some(validation_logits);
    }
    let n = grid_points.len() / 2;
    let grid_logits = model.logits(device.tensor(grid_points.to_vec(), [n, 2])?)?;
    Ok(ArchitectureRun {
        architecture: architecture.name(),
        levels,
        probabilities: softmax(grid_logits, 1).to_f64_vec(),
    })
}

/// Trains each architecture multi-level from a seeded start on `problem` (or loads each level,
/// as `plan` says); `device` must record gradients (autodiff on). `grid` is where the figure
/// samples the class probabilities.
pub fn run(
    device: &SysDevice,
    problem: &Problem,
    (settings, plan): (&TrainSettings, &RunPlan),
    grid: (Vec<f64>, Vec<f64>),
) -> Result<ProblemResult, ExampleError> {
    let layers = *settings.depths.first().ok_or(ResNetError::NoLayers)?;
    let (n, m) = (problem.width, problem.companion_width);
    let h = problem.final_time / layers as f64;
    let grid_points: Vec<f64> = grid
        .1
        .iter()
        .flat_map(|&gy| grid.0.iter().flat_map(move |&gx| [gx, gy]))
        .collect();
    let runs = Architecture::ALL
        .iter()
        .map(|&architecture| {
            let mut rng = SeededRng::new(settings.seed);
            let scale = 1.0 / (n as f64).sqrt();
            let head = head(device, &mut rng, n, problem.classes);
            match architecture {
                Architecture::Standard | Architecture::Antisymmetric => {
                    let form = if architecture == Architecture::Standard {
                        WeightForm::Free
                    } else {
                        WeightForm::Antisymmetric {
                            gamma: settings.gamma,
                        }
                    };
                    let body = ResNet::new(
                        device.randn(&mut rng, [layers, n, n]) * scale,
                        device.zeros([layers, n]),
                        h,
                        Activation::Tanh,
                        BlockScheme::ForwardEuler,
                        form,
                    )?;
                    let model = Classifier { body, head };
                    train_multilevel(
                        architecture,
                        model,
                        device,
                        problem,
                        (settings, plan),
                        &grid_points,
                    )
                }
                Architecture::Verlet => {
                    let body = VerletNet::new(
                        device.randn(&mut rng, [layers, n, m]) * scale,
                        device.zeros([layers, m]),
                        device.zeros([layers, n]),
                        h,
                        Activation::Tanh,
                    )?;
                    let model = Classifier { body, head };
                    train_multilevel(
                        architecture,
                        model,
                        device,
                        problem,
                        (settings, plan),
                        &grid_points,
                    )
                }
            }
        })
        .collect::<Result<Vec<_>, ExampleError>>()?;
    Ok(ProblemResult {
        dataset: problem.name,
        classes: problem.classes,
        train_points: problem.train.len(),
        validation_points: problem.validation.len(),
        width: n,
        companion_width: m,
        final_time: problem.final_time,
        alpha: problem.alpha,
        runs,
        grid,
    })
}
