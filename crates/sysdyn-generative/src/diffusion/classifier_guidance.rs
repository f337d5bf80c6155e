//! Classifier guidance (Dhariwal & Nichol 2021; Song et al. 2021): a classifier of noisy data
//! `p_φ(y | x_t, t)` steers a noise predictor towards class `y`. Since
//! `ε = −√(1 − ᾱ_t) ∇ log p_t(x_t)` and Bayes' rule gives
//! `∇ log p_t(x_t | y) = ∇ log p_t(x_t) + ∇ log p_t(y | x_t)`, the guided noise is
//!
//! `ε̃(x_t, t) = ε̂(x_t, t) − s √(1 − ᾱ_t) ∇ₓ log p_φ(y | x_t, t)`,
//!
//! exactly the noise of the class-conditional data for `s = 1` and an exact classifier, and a
//! sharpened `p(x_t | y) p(y | x_t)^{s−1}` for `s > 1`. The input gradient is first order:
//! burn's autodiff gives it (the classifier must run on an autodiff device).
//!
//! [`NoisyClassifier`] is a small convolutional classifier of noisy images
//! (`conv₃ stride 2 → +W e(t) → SiLU`, twice, then a hidden layer and the logits), trained on
//! `x_t = √ᾱ_t x₀ + √(1 − ᾱ_t) ε` at uniform `t` with cross-entropy by [`NoisyClassifierStep`].

use std::path::Path;

use burn::module::{Module, Param};
use burn::optim::{GradientsParams, Optimizer};
use burn::tensor::activation::{log_softmax, silu};
use burn::tensor::module::conv2d;
use burn::tensor::ops::ConvOptions;
use burn::tensor::{Device, Tensor, TensorData};
use sysdyn_core::device::SysDevice;
use sysdyn_core::rng::SeededRng;
use sysdyn_train::{
    BoxError, Checkpointable, NonFinite, Optim, StepContext, StepReport, TrainError, TrainStep,
    find_non_finite, global_grad_norm, load_module, save_module,
};

use crate::diffusion::denoiser::check_labels;
use crate::diffusion::embedding::TimeEmbedding;
use crate::diffusion::parametrisation::Coefficients;
use crate::diffusion::sampler::NoisePredictor;
use crate::diffusion::schedule::{Marginal, NoiseSchedule};
use crate::error::GenerativeError;
use crate::host::host_tensor;
use crate::inputs::{ImageShape, LabelledSampler};

/// A classifier of noisy data: `log p(y | x_t, t)` for every class.
pub trait NoiseConditionalClassifier {
    /// The number of classes.
    fn classes(&self) -> usize;

    /// `log p(y | x_t, t)`, `[n, classes]`, for rows `x` and one step per row.
    fn log_probs(&self, x: Tensor<2>, steps: &[usize]) -> Result<Tensor<2>, GenerativeError>;
}

/// `ε̃ = ε̂ − s √(1 − ᾱ_t) ∇ₓ log p(y | x_t, t)` (module docs) for one label per row.
pub struct ClassifierGuided<'a, P, C> {
    predictor: P,
    classifier: &'a C,
    schedule: &'a NoiseSchedule,
    labels: Vec<usize>,
    scale: f64,
}

impl<P, C> std::fmt::Debug for ClassifierGuided<'_, P, C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClassifierGuided")
            .field("labels", &self.labels)
            .field("scale", &self.scale)
            .finish_non_exhaustive()
    }
}

impl<'a, P: NoisePredictor, C: NoiseConditionalClassifier> ClassifierGuided<'a, P, C> {
    /// Guides `predictor` towards `labels` (one per sampled row) with scale `s ≥ 0` under
    /// `schedule` (the predictor's).
    pub fn new(
        predictor: P,
        classifier: &'a C,
        schedule: &'a NoiseSchedule,
        labels: Vec<usize>,
        scale: f64,
    ) -> Result<Self, GenerativeError> {
        if !(scale.is_finite() && scale >= 0.0) {
            return Err(GenerativeError::InvalidParameter {
                name: "classifier guidance scale s",
                value: scale,
                requirement: "must be finite and ≥ 0 (0: no guidance, 1: the conditional \
                              distribution, larger: sharper)",
            });
        }
        check_labels(&labels, classifier.classes())?;
        Ok(ClassifierGuided {
            predictor,
            classifier,
            schedule,
            labels,
            scale,
        })
    }

    /// The guidance scale `s`.
    pub fn scale(&self) -> f64 {
        self.scale
    }

    /// `∇ₓ log p(y_i | x_i, t)` row by row (rows are independent, so the gradient of the sum
    /// over rows of the chosen log-probabilities is each row's own gradient).
    pub fn log_prob_gradient(&self, x: Tensor<2>, t: usize) -> Result<Tensor<2>, GenerativeError> {
        let [rows, _] = x.dims();
        if rows != self.labels.len() {
            return Err(GenerativeError::ShapeMismatch {
                what: "sampled rows and guidance labels (one label per row)",
                left: vec![rows],
                right: vec![self.labels.len()],
            });
        }
        let classes = self.classifier.classes();
        let leaf = x.detach().require_grad();
        let log_probs = self.classifier.log_probs(leaf.clone(), &vec![t; rows])?;
        if log_probs.dims() != [rows, classes] {
            return Err(GenerativeError::ShapeMismatch {
                what: "classifier log-probabilities and [rows, classes]",
                left: log_probs.dims().to_vec(),
                right: vec![rows, classes],
            });
        }
        let mut one_hot = vec![0.0; rows * classes];
        for (row, &label) in self.labels.iter().enumerate() {
            one_hot[row * classes + label] = 1.0;
        }
        let chosen = (log_probs * host_tensor(one_hot, [rows, classes], &leaf)).sum();
        if !chosen.is_tracked() {
            return Err(GenerativeError::Unsupported {
                what: "classifier guidance off autodiff: run the classifier on an autodiff \
                       device (e.g. flex:f32:autodiff) so its input gradient exists",
            });
        }
        let grads = chosen.backward();
        leaf.grad(&grads).ok_or(GenerativeError::Unsupported {
            what: "a classifier whose output does not depend on its input through autodiff",
        })
    }
}

impl<P: NoisePredictor, C: NoiseConditionalClassifier> NoisePredictor
    for ClassifierGuided<'_, P, C>
{
    fn predict(&mut self, x: Tensor<2>, t: usize) -> Result<Tensor<2>, GenerativeError> {
        let epsilon = self.predictor.predict(x.clone(), t)?.detach();
        if self.scale == 0.0 {
            return Ok(epsilon);
        }
        let noise = self.schedule.marginal(t)?.noise;
        let gradient = self.log_prob_gradient(x, t)?;
        Ok(epsilon - gradient * (self.scale * noise))
    }
}

/// The sizes of a [`NoisyClassifier`].
#[derive(Debug, Clone, PartialEq)]
pub struct NoisyClassifierConfig {
    /// The images' layout (sides divisible by 4).
    pub image: ImageShape,
    /// Channels of the two strided convolutions.
    pub channels: [usize; 2],
    /// Width of the hidden layer.
    pub hidden: usize,
    /// Classes.
    pub classes: usize,
}

impl NoisyClassifierConfig {
    /// 16 and 32 channels, a 64-wide hidden layer.
    pub fn new(image: ImageShape, classes: usize) -> Self {
        NoisyClassifierConfig {
            image,
            channels: [16, 32],
            hidden: 64,
            classes,
        }
    }

    /// With the convolutions' channels.
    pub fn with_channels(mut self, channels: [usize; 2]) -> Self {
        self.channels = channels;
        self
    }

    /// Checks the sizes.
    pub fn validate(&self) -> Result<(), GenerativeError> {
        let ImageShape { rows, cols, .. } = self.image;
        if rows == 0 || cols == 0 || !rows.is_multiple_of(4) || !cols.is_multiple_of(4) {
            return Err(GenerativeError::InvalidParameter {
                name: "noisy classifier image side",
                value: rows.min(cols) as f64,
                requirement: "rows and columns must be positive multiples of 4",
            });
        }
        if self.classes < 2 {
            return Err(GenerativeError::InvalidParameter {
                name: "noisy classifier classes",
                value: self.classes as f64,
                requirement: "must be at least 2",
            });
        }
        if self.channels[0] < 2 || !self.channels[0].is_multiple_of(2) || self.channels[1] == 0 {
            return Err(GenerativeError::InvalidParameter {
                name: "noisy classifier channels",
                value: self.channels[0] as f64,
                requirement: "the first must be even and ≥ 2 (the step embedding's dimension), \
                              the second ≥ 1",
            });
        }
        if self.hidden == 0 {
            return Err(GenerativeError::InvalidParameter {
                name: "noisy classifier hidden width",
                value: 0.0,
                requirement: "must be at least 1",
            });
        }
        Ok(())
    }

    /// The classifier, He-initialised by `rng` in the default float type of `device`.
    pub fn init(
        &self,
        device: &Device,
        rng: &mut SeededRng,
    ) -> Result<NoisyClassifier, GenerativeError> {
        self.validate()?;
        let [c1, c2] = self.channels;
        let image = self.image;
        let flat = c2 * (image.rows / 4) * (image.cols / 4);
        let mut normal = |shape: Vec<usize>, fan_in: usize| {
            let count = shape.iter().product();
            let std = (2.0 / fan_in as f64).sqrt();
            let values: Vec<f64> = rng.normals(count).into_iter().map(|v| v * std).collect();
            (values, shape)
        };
        let conv = |(v, s): (Vec<f64>, Vec<usize>)| {
            Param::from_tensor(Tensor::<4>::from_data(
                TensorData::new(v, [s[0], s[1], s[2], s[3]]),
                device,
            ))
        };
        let matrix = |(v, s): (Vec<f64>, Vec<usize>)| {
            Param::from_tensor(Tensor::<2>::from_data(
                TensorData::new(v, [s[0], s[1]]),
                device,
            ))
        };
        let kernels = vec![
            conv(normal(vec![c1, image.channels, 3, 3], image.channels * 9)),
            conv(normal(vec![c2, c1, 3, 3], c1 * 9)),
        ];
        let times = vec![
            matrix(normal(vec![c1, c1], c1)),
            matrix(normal(vec![c1, c2], c1)),
        ];
        let hidden = matrix(normal(vec![flat, self.hidden], flat));
        let output = matrix(normal(vec![self.hidden, self.classes], self.hidden));
        let zeros = |n: usize| Param::from_tensor(Tensor::<1>::zeros([n], device));
        Ok(NoisyClassifier {
            kernels,
            biases: vec![zeros(c1), zeros(c2)],
            times,
            hidden,
            hidden_bias: zeros(self.hidden),
            output,
            output_bias: zeros(self.classes),
            config: self.clone(),
        })
    }
}

/// The noisy-image classifier of the module docs.
#[derive(Module, Debug)]
pub struct NoisyClassifier {
    kernels: Vec<Param<Tensor<4>>>,
    biases: Vec<Param<Tensor<1>>>,
    times: Vec<Param<Tensor<2>>>,
    hidden: Param<Tensor<2>>,
    hidden_bias: Param<Tensor<1>>,
    output: Param<Tensor<2>>,
    output_bias: Param<Tensor<1>>,
    #[module(skip)]
    config: NoisyClassifierConfig,
}

impl NoisyClassifier {
    /// The sizes it was built with.
    pub fn config(&self) -> &NoisyClassifierConfig {
        &self.config
    }

    /// The class logits `[n, classes]` of flattened noisy images `x` at one step per row.
    pub fn logits(&self, x: Tensor<2>, steps: &[usize]) -> Result<Tensor<2>, GenerativeError> {
        let [rows, width] = x.dims();
        let image = self.config.image;
        if width != image.features() {
            return Err(GenerativeError::ShapeMismatch {
                what: "flattened image width and the noisy classifier's (channels·rows·cols)",
                left: vec![width],
                right: vec![image.features()],
            });
        }
        if steps.len() != rows {
            return Err(GenerativeError::ShapeMismatch {
                what: "rows and diffusion steps (one step per row)",
                left: vec![rows],
                right: vec![steps.len()],
            });
        }
        if rows == 0 {
            return Err(GenerativeError::EmptyBatch {
                what: "noisy classifier input",
            });
        }
        let embedding = TimeEmbedding::new(self.config.channels[0])?.tensor_like(steps, &x);
        let mut h = x.reshape([rows, image.channels, image.rows, image.cols]);
        for ((kernel, bias), time) in self.kernels.iter().zip(&self.biases).zip(&self.times) {
            let stride = ConvOptions::new([2, 2], [1, 1], [1, 1], 1);
            h = conv2d(h, kernel.val(), Some(bias.val()), stride);
            let channels = h.dims()[1];
            let shift = embedding
                .clone()
                .matmul(time.val())
                .reshape([rows, channels, 1, 1]);
            h = silu(h + shift);
        }
        let h =
            silu(h.flatten(1, 3).matmul(self.hidden.val()) + self.hidden_bias.val().unsqueeze());
        Ok(h.matmul(self.output.val()) + self.output_bias.val().unsqueeze())
    }
}

impl NoiseConditionalClassifier for NoisyClassifier {
    fn classes(&self) -> usize {
        self.config.classes
    }

    fn log_probs(&self, x: Tensor<2>, steps: &[usize]) -> Result<Tensor<2>, GenerativeError> {
        Ok(log_softmax(self.logits(x, steps)?, 1))
    }
}

/// A training step of the noisy classifier for [`sysdyn_train::Trainer`]: per row a uniform
/// step `t`, `x_t = √ᾱ_t x₀ + √(1 − ᾱ_t) ε`, and the cross-entropy `−mean log p(y | x_t, t)`;
/// the loss, the accuracy on the batch and the gradient norm are logged.
pub struct NoisyClassifierStep<O: Optimizer> {
    device: SysDevice,
    classifier: NoisyClassifier,
    optim: Optim<O>,
    schedule: NoiseSchedule,
    batch_size: usize,
    data: LabelledSampler,
}

impl<O: Optimizer> NoisyClassifierStep<O> {
    /// A step for `classifier` on `device` (an autodiff device) with `batch_size` rows and
    /// labels drawn by `data`.
    pub fn new(
        device: SysDevice,
        classifier: NoisyClassifier,
        optim: Optim<O>,
        schedule: NoiseSchedule,
        batch_size: usize,
        data: LabelledSampler,
    ) -> Result<Self, GenerativeError> {
        if batch_size == 0 {
            return Err(GenerativeError::InvalidParameter {
                name: "batch_size",
                value: 0.0,
                requirement: "must be at least 1",
            });
        }
        Ok(NoisyClassifierStep {
            device,
            classifier,
            optim,
            schedule,
            batch_size,
            data,
        })
    }

    /// The trained classifier.
    pub fn classifier(&self) -> &NoisyClassifier {
        &self.classifier
    }
}

impl<O: Optimizer> Checkpointable for NoisyClassifierStep<O> {
    fn save_checkpoint(&self, dir: &Path) -> Result<(), TrainError> {
        save_module(&self.classifier, dir, "noisy-classifier")?;
        self.optim.save(dir, "noisy-classifier-optim")
    }

    fn load_checkpoint(&mut self, dir: &Path) -> Result<(), TrainError> {
        self.classifier = load_module(self.classifier.clone(), dir, "noisy-classifier")?;
        self.optim
            .load(dir, "noisy-classifier-optim", &self.classifier)
    }
}

impl<O: Optimizer> TrainStep for NoisyClassifierStep<O> {
    fn step(&mut self, ctx: &mut StepContext) -> Result<StepReport, BoxError> {
        let mut rng = ctx.rng.clone();
        let rows = self.batch_size;
        let classes = self.classifier.config.classes;
        let width = self.classifier.config.image.features();
        let (values, labels) = (self.data)(&mut rng, rows);
        if values.len() != rows * width || labels.len() != rows {
            return Err(Box::new(GenerativeError::ShapeMismatch {
                what: "training images (rows × width) and labels drawn",
                left: vec![values.len(), labels.len()],
                right: vec![rows * width, rows],
            }));
        }
        check_labels(&labels, classes)?;
        let total = self.schedule.steps() as u64;
        let steps: Vec<usize> = (0..rows).map(|_| rng.below(total) as usize).collect();
        let marginals = steps
            .iter()
            .map(|&t| self.schedule.marginal(t))
            .collect::<Result<Vec<Marginal>, _>>()?;
        let coefficients = Coefficients::rows(&self.device, &marginals)?;
        let x0 = self.device.tensor(values, [rows, width])?;
        let epsilon = self.device.randn(&mut rng, [rows, width]);
        let x_t = coefficients.noised(x0, epsilon);
        let log_probs = self.classifier.log_probs(x_t, &steps)?;
        let mut one_hot = vec![0.0; rows * classes];
        for (row, &label) in labels.iter().enumerate() {
            one_hot[row * classes + label] = 1.0;
        }
        let one_hot = self.device.tensor(one_hot, [rows, classes])?;
        let predicted = log_probs
            .clone()
            .argmax(1)
            .into_data()
            .convert::<i64>()
            .try_to_vec::<i64>()
            .unwrap_or_default();
        let correct = predicted
            .iter()
            .zip(&labels)
            .filter(|(p, l)| **p as usize == **l)
            .count();
        let loss = -(log_probs * one_hot).sum() / rows as f64;
        let value = loss.clone().into_scalar::<f64>();
        let mut grads = GradientsParams::from_grads(loss.backward(), &self.classifier);
        let grad_norm = ctx
            .clip_grads(&mut grads, &self.classifier)
            .unwrap_or_else(|| global_grad_norm(&grads, &self.classifier));
        let classifier = self.classifier.clone();
        self.classifier = self.optim.step(ctx.lr, classifier, grads);
        Ok(StepReport::new(value)
            .with("accuracy", correct as f64 / rows as f64)
            .with("grad_norm", grad_norm))
    }

    fn non_finite_parameter(&self) -> Option<NonFinite> {
        find_non_finite(&self.classifier, "noisy-classifier")
    }
}
