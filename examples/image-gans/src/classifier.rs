//! The judge: a small convolutional classifier trained on the real digits, separately from the
//! GANs. Its logits say which class a generated image shows; its 64-wide hidden layer is the
//! feature space of the Fréchet distances (the role Inception's pool features play in FID).

use std::path::Path;
use std::sync::Arc;

use burn::module::{Module, Param};
use burn::optim::{Adam, AdamConfig, GradientsParams};
use burn::tensor::activation::{leaky_relu, log_softmax};
use burn::tensor::module::conv2d;
use burn::tensor::ops::ConvOptions;
use burn::tensor::{Device, Tensor, TensorData};
use sysdyn_core::device::SysDevice;
use sysdyn_core::rng::SeededRng;
use sysdyn_generative::gan::ImageShape;
use sysdyn_train::{
    BoxError, Checkpointable, NonFinite, Optim, StepContext, StepReport, TrainError, TrainStep,
    find_non_finite, load_module, save_module,
};

use crate::data::Digits;

/// Width of the feature layer.
pub const FEATURES: usize = 64;
/// Channels of the two strided convolutions.
const CHANNELS: [usize; 2] = [16, 32];

/// Two strided 4×4 convolutions (16 and 32 channels, LeakyReLU 0.2), a 64-wide hidden layer,
/// and the class logits.
#[derive(Module, Debug)]
pub struct Classifier {
    kernels: Vec<Param<Tensor<4>>>,
    biases: Vec<Param<Tensor<1>>>,
    hidden: Param<Tensor<2>>,
    hidden_bias: Param<Tensor<1>>,
    output: Param<Tensor<2>>,
    output_bias: Param<Tensor<1>>,
    #[module(skip)]
    image: ImageShape,
}

/// He-scaled normal weights: standard deviation `sqrt(2 / fan_in)`.
fn he<const D: usize>(
    rng: &mut SeededRng,
    shape: [usize; D],
    fan_in: usize,
    device: &Device,
) -> Param<Tensor<D>> {
    let std = (2.0 / fan_in as f64).sqrt();
    let values: Vec<f64> = rng
        .normals(shape.iter().product())
        .into_iter()
        .map(|v| v * std)
        .collect();
    Param::from_tensor(Tensor::from_data(TensorData::new(values, shape), device))
}

fn zeros<const D: usize>(shape: [usize; D], device: &Device) -> Param<Tensor<D>> {
    Param::from_tensor(Tensor::zeros(shape, device))
}

impl Classifier {
    /// A classifier of `image`s into `classes` classes, weights drawn by `rng` in the device's
    /// default float type. The image sides must be divisible by 4.
    pub fn new(image: ImageShape, classes: usize, device: &Device, rng: &mut SeededRng) -> Self {
        let [c1, c2] = CHANNELS;
        let flat = c2 * (image.rows / 4) * (image.cols / 4);
        Classifier {
            kernels: vec![
                he(rng, [c1, image.channels, 4, 4], image.channels * 16, device),
                he(rng, [c2, c1, 4, 4], c1 * 16, device),
            ],
            biases: vec![zeros([c1], device), zeros([c2], device)],
            hidden: he(rng, [flat, FEATURES], flat, device),
            hidden_bias: zeros([FEATURES], device),
            output: he(rng, [FEATURES, classes], FEATURES, device),
            output_bias: zeros([classes], device),
            image,
        }
    }

    /// The feature layer, `[batch, FEATURES]`, of flattened images `[batch, pixels]` in
    /// `[−1, 1]`.
    pub fn features(&self, x: Tensor<2>) -> Tensor<2> {
        let [batch, _] = x.dims();
        let ImageShape {
            channels,
            rows,
            cols,
        } = self.image;
        let mut h = x.reshape([batch, channels, rows, cols]);
        for (kernel, bias) in self.kernels.iter().zip(&self.biases) {
            let options = ConvOptions::new([2, 2], [1, 1], [1, 1], 1);
            h = leaky_relu(conv2d(h, kernel.val(), Some(bias.val()), options), 0.2);
        }
        let h = h.flatten(1, 3).matmul(self.hidden.val()) + self.hidden_bias.val().unsqueeze();
        leaky_relu(h, 0.2)
    }

    /// The class logits, `[batch, classes]`.
    pub fn logits(&self, x: Tensor<2>) -> Tensor<2> {
        self.features(x).matmul(self.output.val()) + self.output_bias.val().unsqueeze()
    }
}

/// Features and predicted classes of every image of `pixels` (flattened, `[−1, 1]`), in
/// batches, without a graph.
pub fn judge(
    classifier: &Classifier,
    device: &SysDevice,
    pixels: &[f64],
    image_len: usize,
) -> Result<(Vec<f64>, Vec<usize>), BoxError> {
    let model = classifier.clone().no_grad();
    let mut features = Vec::with_capacity(pixels.len() / image_len * FEATURES);
    let mut classes = Vec::with_capacity(pixels.len() / image_len);
    for chunk in pixels.chunks(500 * image_len) {
        let rows = chunk.len() / image_len;
        let x = device.tensor(chunk.to_vec(), [rows, image_len])?;
        let phi = model.features(x);
        let logits = phi.clone().matmul(model.output.val()) + model.output_bias.val().unsqueeze();
        features.extend(to_vec(phi)?);
        let logits = to_vec(logits)?;
        let width = logits.len() / rows;
        classes.extend(logits.chunks(width).map(|row| {
            row.iter()
                .enumerate()
                .fold((0, f64::NEG_INFINITY), |best, (k, &v)| {
                    if v > best.1 { (k, v) } else { best }
                })
                .0
        }));
    }
    Ok((features, classes))
}

pub(crate) fn to_vec<const D: usize>(t: Tensor<D>) -> Result<Vec<f64>, BoxError> {
    Ok(t.into_data()
        .convert::<f64>()
        .try_to_vec::<f64>()
        .map_err(|e| format!("{e:?}"))?)
}

/// Cross-entropy training of the classifier with Adam on random mini-batches of the training
/// digits.
pub struct ClassifierStep {
    device: SysDevice,
    /// The model.
    pub model: Classifier,
    adam: Optim<Adam>,
    data: Arc<Digits>,
    batch: usize,
}

impl ClassifierStep {
    /// A step for `model` on `data`, batches of `batch`.
    pub fn new(device: SysDevice, model: Classifier, data: Arc<Digits>, batch: usize) -> Self {
        ClassifierStep {
            device,
            model,
            adam: Optim::new(AdamConfig::new().build()),
            data,
            batch,
        }
    }
}

impl Checkpointable for ClassifierStep {
    fn save_checkpoint(&self, dir: &Path) -> Result<(), TrainError> {
        save_module(&self.model, dir, "classifier")?;
        self.adam.save(dir, "adam")
    }

    fn load_checkpoint(&mut self, dir: &Path) -> Result<(), TrainError> {
        self.model = load_module(self.model.clone(), dir, "classifier")?;
        self.adam.load(dir, "adam", &self.model)
    }
}

impl TrainStep for ClassifierStep {
    fn step(&mut self, ctx: &mut StepContext) -> Result<StepReport, BoxError> {
        let (pixels, labels) = self.data.train_batch(&mut ctx.rng, self.batch);
        let rows = labels.len();
        let classes = self.data.classes;
        let x = self
            .device
            .tensor(pixels, [rows, self.data.image.features()])?;
        let mut one_hot = vec![0.0; rows * classes];
        for (row, &label) in labels.iter().enumerate() {
            one_hot[row * classes + label] = 1.0;
        }
        let targets = self.device.tensor(one_hot, [rows, classes])?;
        let loss = (log_softmax(self.model.logits(x), 1) * targets)
            .sum_dim(1)
            .mean()
            .neg();
        let value = loss.clone().into_scalar::<f64>();
        let grads = GradientsParams::from_grads(loss.backward(), &self.model);
        self.model = self.adam.step(ctx.lr, self.model.clone(), grads);
        Ok(StepReport::new(value))
    }

    fn non_finite_parameter(&self) -> Option<NonFinite> {
        find_non_finite(&self.model, "classifier")
    }
}
