//! An MNIST-style run with convolutional residual blocks (Haber & Ruthotto's image setting): a
//! 3×3 convolution lifts the grey image to `c` channels, forward Euler blocks
//! `Y ← Y + h tanh(K_j * Y + b_j)` (standard or antisymmetric 3×3 kernels) move it through
//! depth, an average pool to 4×4 and a linear read-out give ten logits. Trained with
//! mini-batch Adam on the first images of the IDX training files, scored on the first images
//! of the test files. Nothing is downloaded: the files are read from the folder `--mnist DIR`.

use std::path::Path;

use burn::module::{Module, Param};
use burn::nn::Linear;
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::Tensor;
use burn::tensor::activation::log_softmax;
use burn::tensor::module::{adaptive_avg_pool2d, conv2d};
use burn::tensor::ops::ConvOptions;
use serde::Serialize;
use sysdyn_core::State;
use sysdyn_core::device::SysDevice;
use sysdyn_core::jet::Activation;
use sysdyn_core::rng::SeededRng;
use sysdyn_data::LabelledImages;
use sysdyn_data::idx::{Split, load_split};
use sysdyn_nodes::resnet::{ConvResNet, ResNetError, WeightForm};

use crate::ExampleError;
use crate::classify::accuracy;

/// Side of the pooled feature map the read-out sees.
pub const POOLED: usize = 4;

/// What to train.
#[derive(Debug, Clone, Serialize)]
pub struct MnistSettings {
    /// Classes (10 digits).
    pub classes: usize,
    /// Training images used (the first ones of the training file).
    pub train_images: usize,
    /// Test images scored (the first ones of the test file).
    pub test_images: usize,
    /// Channels `c` of the residual blocks.
    pub channels: usize,
    /// Residual blocks.
    pub layers: usize,
    /// Final time `T` (step `h = T / layers`).
    pub final_time: f64,
    /// Passes over the training images.
    pub epochs: usize,
    /// Images per Adam step.
    pub batch: usize,
    /// Adam's learning rate.
    pub learning_rate: f64,
    /// Damping γ of the antisymmetric kernels.
    pub gamma: f64,
}

impl MnistSettings {
    /// The settings of a full or quick run.
    pub fn new(quick: bool) -> Self {
        MnistSettings {
            classes: 10,
            train_images: if quick { 500 } else { 5000 },
            test_images: if quick { 200 } else { 1000 },
            channels: 8,
            layers: 4,
            final_time: 2.0,
            epochs: if quick { 1 } else { 3 },
            batch: 50,
            learning_rate: 0.01,
            gamma: 0.01,
        }
    }
}

/// One architecture's scores.
#[derive(Debug, Clone, Serialize)]
pub struct MnistScore {
    /// `standard` or `antisymmetric` kernels.
    pub architecture: &'static str,
    /// Mean training loss over the last epoch.
    pub last_epoch_loss: f64,
    /// Accuracy on the training images used.
    pub train_accuracy: f64,
    /// Accuracy on the test images scored.
    pub test_accuracy: f64,
}

/// What the run did.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum MnistOutcome {
    /// No folder was given.
    Skipped {
        /// Why, and how to run it.
        reason: String,
    },
    /// Trained and scored.
    Ran {
        /// Settings.
        settings: MnistSettings,
        /// Image size.
        image_size: [usize; 2],
        /// One entry per architecture.
        scores: Vec<MnistScore>,
    },
}

impl MnistOutcome {
    /// The outcome without a folder.
    pub fn skipped() -> Self {
        MnistOutcome::Skipped {
            reason: "no --mnist DIR given (a folder with train-images-idx3-ubyte, \
                     train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte)"
                .into(),
        }
    }
}

/// Lift, convolutional residual blocks, pool, read-out.
#[derive(Module, Debug)]
pub struct ConvClassifier {
    /// Lifting kernel `[c, 1, 3, 3]`.
    pub lift: Param<Tensor<4>>,
    /// The residual blocks.
    pub body: ConvResNet,
    /// Read-out `[c · 4 · 4, classes]`.
    pub head: Linear,
}

impl ConvClassifier {
    /// A seeded network.
    pub fn new(
        device: &SysDevice,
        settings: &MnistSettings,
        form: WeightForm,
        seed: u64,
    ) -> Result<Self, ResNetError> {
        let mut rng = SeededRng::new(seed);
        let c = settings.channels;
        let features = c * POOLED * POOLED;
        let kernel_scale = 1.0 / (9.0 * c as f64).sqrt();
        Ok(ConvClassifier {
            lift: Param::from_tensor(device.randn(&mut rng, [c, 1, 3, 3]) * (1.0 / 3.0)),
            body: ConvResNet::new(
                device.randn(&mut rng, [settings.layers * c, c, 3, 3]) * kernel_scale,
                device.zeros([settings.layers, c]),
                settings.final_time / settings.layers as f64,
                Activation::Tanh,
                form,
            )?,
            head: Linear {
                weight: Param::from_tensor(
                    device.randn(&mut rng, [features, settings.classes])
                        * (1.0 / (features as f64).sqrt()),
                ),
                bias: Some(Param::from_tensor(device.zeros([settings.classes]))),
            },
        })
    }

    /// Logits `[batch, classes]` of images `[batch, 1, rows, cols]`.
    pub fn logits(&self, images: Tensor<4>) -> Result<Tensor<2>, ResNetError> {
        let batch = images.dims()[0];
        let options = ConvOptions::new([1, 1], [1, 1], [1, 1], 1);
        let lifted = conv2d(images, self.lift.val(), None, options).tanh();
        let features = self.body.forward(lifted)?;
        let c = self.body.channels();
        let pooled =
            adaptive_avg_pool2d(features, [POOLED, POOLED]).reshape([batch, c * POOLED * POOLED]);
        Ok(self.head.forward(pooled))
    }
}

fn batch_tensors(
    device: &SysDevice,
    data: &LabelledImages,
    range: std::ops::Range<usize>,
    classes: usize,
) -> Result<(Tensor<4>, Tensor<2>), ExampleError> {
    let pixels = data.rows * data.cols;
    let n = range.len();
    let x = device.tensor(
        data.pixels[range.start * pixels..range.end * pixels].to_vec(),
        [n, 1, data.rows, data.cols],
    )?;
    let mut one_hot = vec![0.0; n * classes];
    for (i, &l) in data.labels[range].iter().enumerate() {
        one_hot[i * classes + l] = 1.0;
    }
    Ok((x, device.tensor(one_hot, [n, classes])?))
}

fn score(
    model: &ConvClassifier,
    device: &SysDevice,
    data: &LabelledImages,
    settings: &MnistSettings,
) -> Result<f64, ExampleError> {
    let mut correct = 0.0;
    let mut start = 0;
    while start < data.len() {
        let end = (start + settings.batch).min(data.len());
        let (x, _) = batch_tensors(device, data, start..end, settings.classes)?;
        let logits = model.logits(x)?.detach();
        correct += accuracy(&logits, &data.labels[start..end]) * (end - start) as f64;
        start = end;
    }
    Ok(correct / data.len() as f64)
}

/// Seed of the networks' initial weights in a default run (the published figures).
pub const DEFAULT_SEED: u64 = 2017;

/// Trains one architecture from weights drawn from `seed`; `device` must record gradients.
pub fn train(
    device: &SysDevice,
    (train_set, test_set): (&LabelledImages, &LabelledImages),
    settings: &MnistSettings,
    form: WeightForm,
    seed: u64,
) -> Result<(ConvClassifier, MnistScore), ExampleError> {
    let mut model = ConvClassifier::new(device, settings, form, seed)?;
    let mut optimizer = AdamConfig::new().init();
    let mut last_epoch_loss = f64::NAN;
    for _ in 0..settings.epochs {
        let (mut total, mut batches) = (0.0, 0);
        let mut start = 0;
        while start < train_set.len() {
            let end = (start + settings.batch).min(train_set.len());
            let (x, y) = batch_tensors(device, train_set, start..end, settings.classes)?;
            let loss = -(log_softmax(model.logits(x)?, 1) * y).sum() * (1.0 / (end - start) as f64);
            total += loss.clone().to_f64_vec()[0];
            batches += 1;
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            model = optimizer.step(settings.learning_rate, model, grads);
            start = end;
        }
        last_epoch_loss = total / batches as f64;
    }
    let architecture = match form {
        WeightForm::Free => "standard",
        WeightForm::Antisymmetric { .. } => "antisymmetric",
    };
    let score = MnistScore {
        architecture,
        last_epoch_loss,
        train_accuracy: score(&model, device, train_set, settings)?,
        test_accuracy: score(&model, device, test_set, settings)?,
    };
    Ok((model, score))
}

/// Reads the IDX files in `dir` and trains the standard and antisymmetric networks.
pub fn run(
    device: &SysDevice,
    dir: &Path,
    settings: &MnistSettings,
) -> Result<MnistOutcome, ExampleError> {
    run_seeded(device, dir, settings, DEFAULT_SEED)
}

/// [`run`] with the networks' initial weights drawn from `seed` (`--seed`).
pub fn run_seeded(
    device: &SysDevice,
    dir: &Path,
    settings: &MnistSettings,
    seed: u64,
) -> Result<MnistOutcome, ExampleError> {
    let train_set = load_split(
        dir,
        Split::Train,
        Some(settings.train_images),
        settings.classes,
    )?;
    let test_set = load_split(
        dir,
        Split::Test,
        Some(settings.test_images),
        settings.classes,
    )?;
    let forms = [
        WeightForm::Free,
        WeightForm::Antisymmetric {
            gamma: settings.gamma,
        },
    ];
    let scores = forms
        .into_iter()
        .map(|form| Ok(train(device, (&train_set, &test_set), settings, form, seed)?.1))
        .collect::<Result<Vec<_>, ExampleError>>()?;
    let mut settings = settings.clone();
    settings.train_images = train_set.len();
    settings.test_images = test_set.len();
    Ok(MnistOutcome::Ran {
        settings,
        image_size: [train_set.rows, train_set.cols],
        scores,
    })
}
