//! An MNIST-style run with convolutional residual blocks (Haber & Ruthotto's image setting): a
//! 3×3 convolution lifts the grey image to `c` channels, forward Euler blocks
//! `Y ← Y + h tanh(K_j * Y + b_j)` (standard or antisymmetric 3×3 kernels) move it through
//! depth, an average pool to 4×4 and a linear read-out give ten logits. Trained with
//! mini-batch Adam on the first images of the IDX training files, reshuffled every epoch,
//! scored on the first images of the test files. Nothing is downloaded: the files are read from
//! the folder `--mnist DIR`.
//!
//! Each architecture is one run of the training runtime ([`MnistStep`]) in its own run directory
//! `<out>/run/mnist-<architecture>`: one step per mini-batch, `steps_per_epoch` batches per
//! epoch, the epoch's order drawn from the runtime's epoch stream (a function of the seed and the
//! epoch alone, so a resumed run sees the same batches).

use std::path::Path;

use burn::module::{Module, Param};
use burn::nn::Linear;
use burn::optim::{Adam, AdamConfig, GradientsParams};
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
use sysdyn_train::{
    BoxError, Checkpointable, LrSchedule, NonFinite, Optim, Session, StepContext, StepReport,
    TrainConfig, TrainError, TrainStep, find_non_finite, load_module, save_module,
};

use crate::ExampleError;
use crate::classify::accuracy;
use crate::runs::RunPlan;

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
    /// Passes over the training images, each in a fresh random order.
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
    /// Mean training loss over the last epoch's mini-batches (from the run's `metrics.jsonl`).
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

/// Images `[n, 1, rows, cols]` and one-hot labels `[n, classes]` of the images at `indices`.
fn batch_tensors(
    device: &SysDevice,
    data: &LabelledImages,
    indices: &[usize],
    classes: usize,
) -> Result<(Tensor<4>, Tensor<2>), ExampleError> {
    let batch = data.gather(indices)?;
    let n = indices.len();
    let x = device.tensor(batch.pixels, [n, 1, data.rows, data.cols])?;
    let mut one_hot = vec![0.0; n * classes];
    for (i, &l) in batch.labels.iter().enumerate() {
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
        let indices: Vec<usize> = (start..end).collect();
        let (x, _) = batch_tensors(device, data, &indices, settings.classes)?;
        let logits = model.logits(x)?.detach();
        correct += accuracy(&logits, &data.labels[start..end]) * (end - start) as f64;
        start = end;
    }
    Ok(correct / data.len() as f64)
}

/// Seed of the networks' initial weights in a default run (the published figures).
pub const DEFAULT_SEED: u64 = 2017;

/// The name of an architecture's run: `mnist-<architecture>`.
pub fn run_name(form: WeightForm) -> String {
    format!("mnist-{}", architecture_name(form))
}

fn architecture_name(form: WeightForm) -> &'static str {
    match form {
        WeightForm::Free => "standard",
        WeightForm::Antisymmetric { .. } => "antisymmetric",
    }
}

/// Mini-batch Adam on the cross-entropy of a [`ConvClassifier`]: one step per mini-batch, the
/// images of each epoch in the order of the epoch's random stream.
pub struct MnistStep<'a> {
    /// The network being trained.
    pub model: ConvClassifier,
    adam: Optim<Adam>,
    device: SysDevice,
    train_set: &'a LabelledImages,
    settings: &'a MnistSettings,
    /// The order of epoch `order_epoch`, derived from the runtime's epoch stream (not state: it
    /// is drawn again after a resume).
    order: Vec<usize>,
    order_epoch: Option<u64>,
}

impl<'a> MnistStep<'a> {
    /// Training of `model` on `train_set` from a fresh Adam state.
    pub fn new(
        model: ConvClassifier,
        device: &SysDevice,
        train_set: &'a LabelledImages,
        settings: &'a MnistSettings,
    ) -> Self {
        MnistStep {
            model,
            adam: Optim::new(AdamConfig::new().build()),
            device: device.clone(),
            train_set,
            settings,
            order: Vec::new(),
            order_epoch: None,
        }
    }

    /// The indices of the images of step `ctx.step`'s mini-batch.
    fn batch(&mut self, ctx: &StepContext) -> Vec<usize> {
        let n = self.train_set.len();
        if self.order_epoch != Some(ctx.epoch) {
            self.order = (0..n).collect();
            ctx.epoch_rng().shuffle(&mut self.order);
            self.order_epoch = Some(ctx.epoch);
        }
        // `train` checked that the batch size is at least 1.
        let batch = self.settings.batch;
        let per_epoch = n.div_ceil(batch).max(1) as u64;
        let start = ((ctx.step % per_epoch) as usize * batch).min(n);
        self.order[start..(start + batch).min(n)].to_vec()
    }
}

impl Checkpointable for MnistStep<'_> {
    fn save_checkpoint(&self, dir: &Path) -> Result<(), TrainError> {
        save_module(&self.model, dir, "model")?;
        self.adam.save(dir, "adam")
    }

    fn load_checkpoint(&mut self, dir: &Path) -> Result<(), TrainError> {
        self.model = load_module(self.model.clone(), dir, "model")?;
        self.adam.load(dir, "adam", &self.model)
    }
}

impl TrainStep for MnistStep<'_> {
    fn step(&mut self, ctx: &mut StepContext) -> Result<StepReport, BoxError> {
        let indices = self.batch(ctx);
        let (x, y) = batch_tensors(
            &self.device,
            self.train_set,
            &indices,
            self.settings.classes,
        )?;
        let loss =
            -(log_softmax(self.model.logits(x)?, 1) * y).sum() * (1.0 / indices.len() as f64);
        let value = loss.clone().to_f64_vec()[0];
        let grads = GradientsParams::from_grads(loss.backward(), &self.model);
        self.model = self.adam.step(ctx.lr, self.model.clone(), grads);
        Ok(StepReport::new(value))
    }

    fn non_finite_parameter(&self) -> Option<NonFinite> {
        find_non_finite(&self.model, "model")
    }
}

/// The runtime configuration of one architecture's run on `train_images` images (progress
/// output as the runtime's default; [`train`] sets the run plan's).
pub fn train_config(settings: &MnistSettings, train_images: usize, seed: u64) -> TrainConfig {
    let per_epoch = train_images.div_ceil(settings.batch.max(1)).max(1) as u64;
    TrainConfig::new(per_epoch * settings.epochs as u64)
        .with_seed(seed)
        .with_schedule(LrSchedule::constant(settings.learning_rate))
        .with_steps_per_epoch(Some(per_epoch))
        .with_max_epochs(Some(settings.epochs as u64))
        .with_checkpoint_every(Some(per_epoch))
}

/// The mean loss of the last epoch's steps in the run's metrics (NaN without them).
fn last_epoch_loss(session: &Session, per_epoch: u64) -> Result<f64, ExampleError> {
    let lines = session.train_metrics()?;
    let Some(last) = lines.iter().map(|l| l.step).max() else {
        return Ok(f64::NAN);
    };
    // A train line's step counts the steps completed, so the last epoch's lines are those
    // after the last full epoch before `last`.
    let epoch_start = last.saturating_sub(1) / per_epoch * per_epoch;
    let losses: Vec<f64> = lines
        .iter()
        .filter(|l| l.step > epoch_start)
        .filter_map(|l| l.loss)
        .collect();
    if losses.is_empty() {
        return Ok(f64::NAN);
    }
    Ok(losses.iter().sum::<f64>() / losses.len() as f64)
}

/// Trains one architecture from weights drawn from `seed` (or loads it, as `plan` says) and
/// scores it; `device` must record gradients.
pub fn train(
    device: &SysDevice,
    (train_set, test_set): (&LabelledImages, &LabelledImages),
    (settings, plan): (&MnistSettings, &RunPlan),
    form: WeightForm,
    seed: u64,
) -> Result<(ConvClassifier, MnistScore), ExampleError> {
    if settings.batch == 0 || train_set.is_empty() {
        return Err(TrainError::InvalidConfig(format!(
            "MNIST training needs at least one image and a batch of at least one, got {} images \
             in batches of {}",
            train_set.len(),
            settings.batch
        ))
        .into());
    }
    let model = ConvClassifier::new(device, settings, form, seed)?;
    let config = train_config(settings, train_set.len(), seed).with_progress(plan.progress());
    let per_epoch = config.steps_per_epoch.unwrap_or(1);
    let name = run_name(form);
    if !plan.quiet {
        eprintln!("[stable-resnets]   run {name}");
    }
    let session = plan.session(config, &name)?;
    let mut step = MnistStep::new(model, device, train_set, settings);
    session.run(&mut step)?;
    let model = step.model;
    let score = MnistScore {
        architecture: architecture_name(form),
        last_epoch_loss: last_epoch_loss(&session, per_epoch)?,
        train_accuracy: score(&model, device, train_set, settings)?,
        test_accuracy: score(&model, device, test_set, settings)?,
    };
    Ok((model, score))
}

/// Reads the IDX files in `dir` and trains the standard and antisymmetric networks (or loads
/// them, as `plan` says).
pub fn run(
    device: &SysDevice,
    dir: &Path,
    settings: &MnistSettings,
    plan: &RunPlan,
) -> Result<MnistOutcome, ExampleError> {
    run_seeded(device, dir, settings, plan, DEFAULT_SEED)
}

/// [`run`] with the networks' initial weights and the epochs' orders drawn from `seed`
/// (`--seed`).
pub fn run_seeded(
    device: &SysDevice,
    dir: &Path,
    settings: &MnistSettings,
    plan: &RunPlan,
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
        .map(|form| {
            Ok(train(
                device,
                (&train_set, &test_set),
                (settings, plan),
                form,
                seed,
            )?
            .1)
        })
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
