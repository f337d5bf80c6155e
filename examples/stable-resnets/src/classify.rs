//! Classifying points inside an ellipse from points on a surrounding elliptic ring with
//! standard, antisymmetric and two-stream Verlet networks (tanh), trained with burn's Adam.
//!
//! A network on the plane is a homeomorphism and cannot pull the inner ellipse out of the ring,
//! so the points are padded with zeros to width [`WIDTH`] (the networks move them in 4-D) and a
//! linear read-out gives the logit.

use burn::module::{Module, Param};
use burn::nn::Linear;
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::Tensor;
use burn::tensor::activation::softplus;
use serde::Serialize;
use sysdyn_core::State;
use sysdyn_core::device::SysDevice;
use sysdyn_core::jet::Activation;
use sysdyn_core::rng::SeededRng;
use sysdyn_nodes::resnet::{BlockScheme, ResNet, ResNetError, VerletNet, WeightForm};

use crate::ExampleError;

/// Width of the networks' state (the 2-D points padded with zeros).
pub const WIDTH: usize = 4;
/// Points in all, and in the training set (the rest validate).
pub const POINTS: usize = 1200;
/// Training points.
pub const TRAIN: usize = 1000;
/// Semi-axes of the ellipses.
pub const AXES: [f64; 2] = [1.5, 0.8];

/// Labelled points.
#[derive(Debug, Clone)]
pub struct Dataset {
    /// Points, row-major `[len, 2]`.
    pub points: Vec<f64>,
    /// Labels, 0 (inside) or 1 (ring).
    pub labels: Vec<f64>,
}

impl Dataset {
    /// Number of points.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether there are no points.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }
}

/// `POINTS` points, alternating between the inside of the ellipse (scaled radius in [0, 1)) and
/// the ring (scaled radius in [1.1, 1.8)), angles uniform; split into training and validation.
pub fn concentric_ellipses(seed: u64) -> (Dataset, Dataset) {
    let mut rng = SeededRng::new(seed);
    let mut points = Vec::with_capacity(2 * POINTS);
    let mut labels = Vec::with_capacity(POINTS);
    for i in 0..POINTS {
        let label = (i % 2) as f64;
        // Inside: area-uniform radius; ring: uniform radius.
        let r = if label == 0.0 {
            rng.uniform().sqrt()
        } else {
            1.1 + 0.7 * rng.uniform()
        };
        let angle = std::f64::consts::TAU * rng.uniform();
        points.extend([AXES[0] * r * angle.cos(), AXES[1] * r * angle.sin()]);
        labels.push(label);
    }
    let train = Dataset {
        points: points[..2 * TRAIN].to_vec(),
        labels: labels[..TRAIN].to_vec(),
    };
    let validation = Dataset {
        points: points[2 * TRAIN..].to_vec(),
        labels: labels[TRAIN..].to_vec(),
    };
    (train, validation)
}

/// The feature map of a classifier: a depth-as-time network on width-[`WIDTH`] states.
pub trait Body {
    /// Features of a padded batch `[batch, WIDTH]`.
    fn features(&self, x: Tensor<2>) -> Result<Tensor<2>, ResNetError>;
}

impl Body for ResNet {
    fn features(&self, x: Tensor<2>) -> Result<Tensor<2>, ResNetError> {
        self.forward(x)
    }
}

impl Body for VerletNet {
    fn features(&self, x: Tensor<2>) -> Result<Tensor<2>, ResNetError> {
        Ok(self.forward(x, None)?.0)
    }
}

/// A network followed by a linear read-out to one logit.
#[derive(Module, Debug)]
pub struct Classifier<B> {
    /// The network.
    pub body: B,
    /// The read-out.
    pub head: Linear,
}

impl<B: Body> Classifier<B> {
    /// Logits of 2-D points `[batch, 2]`.
    pub fn logits(&self, points: Tensor<2>) -> Result<Tensor<2>, ResNetError> {
        let [batch, _] = points.dims();
        let pad = Tensor::zeros([batch, WIDTH - 2], (&points.device(), points.dtype()));
        let x = Tensor::cat(vec![points, pad], 1);
        Ok(self.head.forward(self.body.features(x)?))
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

/// Training settings.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct TrainSettings {
    /// Layers.
    pub layers: usize,
    /// Step size `h` (final time `layers · h`).
    pub step: f64,
    /// Full-batch Adam steps.
    pub iterations: usize,
    /// Adam's learning rate.
    pub learning_rate: f64,
    /// Damping γ of the antisymmetric network.
    pub gamma: f64,
}

/// One trained classifier's scores.
#[derive(Debug, Clone, Serialize)]
pub struct TrainedResult {
    /// Architecture name.
    pub architecture: &'static str,
    /// Loss (mean logistic loss on the training set) before and after training.
    pub initial_loss: f64,
    /// Loss after training.
    pub final_loss: f64,
    /// Training accuracy.
    pub train_accuracy: f64,
    /// Validation accuracy.
    pub validation_accuracy: f64,
    /// Probability of the ring class on the figure's grid (row `j` is `y = grid_y[j]`).
    #[serde(skip)]
    pub probabilities: Vec<f64>,
}

fn head(device: &SysDevice, rng: &mut SeededRng) -> Linear {
    Linear {
        weight: Param::from_tensor(device.randn(rng, [WIDTH, 1]) * (1.0 / (WIDTH as f64).sqrt())),
        bias: Some(Param::from_tensor(device.zeros([1]))),
    }
}

fn tensors(device: &SysDevice, data: &Dataset) -> Result<(Tensor<2>, Tensor<2>), ExampleError> {
    let x = device.tensor(data.points.clone(), [data.len(), 2])?;
    // Labels as ±1 for the logistic loss softplus(−y s).
    let signs: Vec<f64> = data.labels.iter().map(|l| 2.0 * l - 1.0).collect();
    let y = device.tensor(signs, [data.len(), 1])?;
    Ok((x, y))
}

fn loss_of(logits: Tensor<2>, signs: Tensor<2>) -> Tensor<1> {
    softplus(-(logits * signs), 1.0).mean()
}

fn accuracy(logits: &Tensor<2>, data: &Dataset) -> f64 {
    let correct = logits
        .to_f64_vec()
        .iter()
        .zip(&data.labels)
        .filter(|(s, l)| (**s > 0.0) == (**l > 0.5))
        .count();
    correct as f64 / data.len() as f64
}

/// `iterations` full-batch Adam steps on the logistic loss.
fn fit<B: Body + Module + burn::module::ModuleDisplay + Clone>(
    mut model: Classifier<B>,
    (x, y): (&Tensor<2>, &Tensor<2>),
    iterations: usize,
    learning_rate: f64,
) -> Result<Classifier<B>, ExampleError> {
    let mut optimizer = AdamConfig::new().init();
    for _ in 0..iterations {
        let loss = loss_of(model.logits(x.clone())?, y.clone());
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optimizer.step(learning_rate, model, grads);
    }
    Ok(model)
}

fn train<B: Body + Module + burn::module::ModuleDisplay + Clone>(
    architecture: Architecture,
    mut model: Classifier<B>,
    device: &SysDevice,
    (train, validation): (&Dataset, &Dataset),
    settings: &TrainSettings,
    (grid_x, grid_y): (&[f64], &[f64]),
) -> Result<TrainedResult, ExampleError> {
    let (x, y) = tensors(device, train)?;
    let initial_loss = loss_of(model.logits(x.clone())?, y.clone()).to_f64_vec()[0];
    model = fit(model, (&x, &y), settings.iterations, settings.learning_rate)?;
    let logits = model.logits(x)?;
    let final_loss = loss_of(logits.clone(), y).to_f64_vec()[0];
    let train_accuracy = accuracy(&logits, train);
    let (xv, _) = tensors(device, validation)?;
    let validation_accuracy = accuracy(&model.logits(xv)?, validation);
    let grid_points: Vec<f64> = grid_y
        .iter()
        .flat_map(|&gy| grid_x.iter().flat_map(move |&gx| [gx, gy]))
        .collect();
    let n = grid_x.len() * grid_y.len();
    let grid_logits = model.logits(device.tensor(grid_points, [n, 2])?)?;
    let probabilities = grid_logits
        .to_f64_vec()
        .iter()
        .map(|s| 1.0 / (1.0 + (-s).exp()))
        .collect();
    Ok(TrainedResult {
        architecture: architecture.name(),
        initial_loss,
        final_loss,
        train_accuracy,
        validation_accuracy,
        probabilities,
    })
}

/// Trains each architecture from a seeded start on the same data; `device` must record
/// gradients (autodiff on).
pub fn run(
    device: &SysDevice,
    data: (&Dataset, &Dataset),
    settings: &TrainSettings,
    grid: (&[f64], &[f64]),
) -> Result<Vec<TrainedResult>, ExampleError> {
    let (layers, h) = (settings.layers, settings.step);
    Architecture::ALL
        .iter()
        .map(|&architecture| {
            let mut rng = SeededRng::new(2017);
            let scale = 1.0 / (WIDTH as f64).sqrt();
            let k = device.randn(&mut rng, [layers, WIDTH, WIDTH]) * scale;
            let b = device.zeros([layers, WIDTH]);
            match architecture {
                Architecture::Standard | Architecture::Antisymmetric => {
                    let form = if architecture == Architecture::Standard {
                        WeightForm::Free
                    } else {
                        WeightForm::Antisymmetric {
                            gamma: settings.gamma,
                        }
                    };
                    let body =
                        ResNet::new(k, b, h, Activation::Tanh, BlockScheme::ForwardEuler, form)?;
                    let model = Classifier {
                        body,
                        head: head(device, &mut rng),
                    };
                    train(architecture, model, device, data, settings, grid)
                }
                Architecture::Verlet => {
                    let body =
                        VerletNet::new(k, device.zeros([layers, WIDTH]), b, h, Activation::Tanh)?;
                    let model = Classifier {
                        body,
                        head: head(device, &mut rng),
                    };
                    train(architecture, model, device, data, settings, grid)
                }
            }
        })
        .collect()
}

/// Multi-level training of the antisymmetric network: train with half the layers and twice the
/// step, prolong (interpolate the parameters in depth, halve `h`), and continue on the fine
/// network.
#[derive(Debug, Clone, Serialize)]
pub struct MultilevelResult {
    /// Layers of the coarse network.
    pub coarse_layers: usize,
    /// Layers after prolongation.
    pub fine_layers: usize,
    /// Validation accuracy of the trained coarse network.
    pub coarse_validation_accuracy: f64,
    /// Validation accuracy right after prolongation, before any further training.
    pub prolonged_validation_accuracy: f64,
    /// Largest change of a validation logit caused by the prolongation (a discretisation error).
    pub max_logit_change: f64,
    /// Largest validation logit of the coarse network (the scale of the change).
    pub max_logit: f64,
    /// Validation accuracy after continuing the training on the fine network.
    pub fine_validation_accuracy: f64,
}

/// Runs [`MultilevelResult`]'s experiment: `settings.iterations / 2` Adam steps on each level.
///
/// The loss has no smoothness-in-depth term here, so the trained coarse parameters need not be
/// samples of a smooth `θ(t)` and the prolongation can change the logits noticeably (the
/// summary reports by how much); the fine network recovers with further training.
pub fn multilevel(
    device: &SysDevice,
    (train, validation): (&Dataset, &Dataset),
    settings: &TrainSettings,
) -> Result<MultilevelResult, ExampleError> {
    let coarse_layers = (settings.layers / 2).max(1);
    let mut rng = SeededRng::new(2018);
    let scale = 1.0 / (WIDTH as f64).sqrt();
    let body = ResNet::new(
        device.randn(&mut rng, [coarse_layers, WIDTH, WIDTH]) * scale,
        device.zeros([coarse_layers, WIDTH]),
        2.0 * settings.step,
        Activation::Tanh,
        BlockScheme::ForwardEuler,
        WeightForm::Antisymmetric {
            gamma: settings.gamma,
        },
    )?;
    let model = Classifier {
        body,
        head: head(device, &mut rng),
    };
    let (x, y) = tensors(device, train)?;
    let (xv, _) = tensors(device, validation)?;
    let steps = settings.iterations / 2;
    let coarse = fit(model, (&x, &y), steps, settings.learning_rate)?;
    let coarse_logits = coarse.logits(xv.clone())?;
    let fine = Classifier {
        body: coarse.body.prolong(),
        head: coarse.head,
    };
    let prolonged_logits = fine.logits(xv.clone())?;
    let before = coarse_logits.to_f64_vec();
    let after = prolonged_logits.to_f64_vec();
    let max_logit_change = before
        .iter()
        .zip(&after)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    let max_logit = before.iter().map(|a| a.abs()).fold(0.0, f64::max);
    let fine_layers = fine.body.layers();
    let fine = fit(fine, (&x, &y), steps, settings.learning_rate)?;
    Ok(MultilevelResult {
        coarse_layers,
        fine_layers,
        coarse_validation_accuracy: accuracy(&coarse_logits, validation),
        prolonged_validation_accuracy: accuracy(&prolonged_logits, validation),
        max_logit_change,
        max_logit,
        fine_validation_accuracy: accuracy(&fine.logits(xv)?, validation),
    })
}
