//! DDPM's training step on sysdyn's runtime (Ho et al. 2020, Algorithm 1): per row a uniform
//! step `t ~ U{0 … T−1}` and noise `ε ~ N(0, I)`, `x_t = √ᾱ_t x₀ + √(1 − ᾱ_t) ε`, and the
//! simple loss `mean‖f(x_t, t, y) − target‖²` with the target of the [`Prediction`] (`ε` by
//! default). For classifier-free guidance the label is replaced by the null class with
//! probability `p_uncond`. An exponential moving average of the weights is kept for sampling.

use std::path::Path;

use burn::optim::{GradientsParams, Optimizer};
use sysdyn_core::device::SysDevice;
use sysdyn_core::rng::SeededRng;
use sysdyn_train::{
    BoxError, Checkpointable, Ema, NonFinite, Optim, StepContext, StepReport, TrainError,
    TrainStep, find_non_finite, global_grad_norm, load_module, save_module,
};

use crate::diffusion::denoiser::Denoiser;
use crate::diffusion::host::{HostEpsNet, StepEmbeddings};
use crate::diffusion::network::EpsNet;
use crate::diffusion::parametrisation::{Coefficients, Prediction};
use crate::diffusion::schedule::{Marginal, NoiseSchedule};
use crate::error::GenerativeError;
use crate::inputs::{DataSampler, LabelledSampler};

/// What a DDPM step optimises. [`DdpmConfig::validate`] refuses settings that cannot work.
#[derive(Debug, Clone, PartialEq)]
pub struct DdpmConfig {
    /// Rows per step.
    pub batch_size: usize,
    /// What the network predicts (its regression target).
    pub prediction: Prediction,
    /// The probability of training a row with the null class (classifier-free guidance;
    /// 0.1–0.2 typical; conditional networks only), in `[0, 1]`.
    pub label_dropout: f64,
    /// The decay of the moving average of the weights used for sampling (`None`: sample with
    /// the trained weights), in `[0, 1)`.
    pub ema_decay: Option<f64>,
}

impl DdpmConfig {
    /// ε-prediction, no label dropout, an average with decay 0.999.
    pub fn new(batch_size: usize) -> Self {
        DdpmConfig {
            batch_size,
            prediction: Prediction::Epsilon,
            label_dropout: 0.0,
            ema_decay: Some(0.999),
        }
    }

    /// With the prediction target.
    pub fn with_prediction(mut self, prediction: Prediction) -> Self {
        self.prediction = prediction;
        self
    }

    /// With label dropout `p_uncond`.
    pub fn with_label_dropout(mut self, p: f64) -> Self {
        self.label_dropout = p;
        self
    }

    /// With the moving average's decay.
    pub fn with_ema_decay(mut self, decay: Option<f64>) -> Self {
        self.ema_decay = decay;
        self
    }

    /// Checks the settings.
    pub fn validate(&self) -> Result<(), GenerativeError> {
        if self.batch_size == 0 {
            return Err(GenerativeError::InvalidParameter {
                name: "batch_size",
                value: 0.0,
                requirement: "must be at least 1",
            });
        }
        if !(0.0..=1.0).contains(&self.label_dropout) {
            return Err(GenerativeError::InvalidParameter {
                name: "label_dropout",
                value: self.label_dropout,
                requirement: "must be a probability in [0, 1]",
            });
        }
        if let Some(decay) = self.ema_decay
            && !(0.0..1.0).contains(&decay)
        {
            return Err(GenerativeError::InvalidParameter {
                name: "ema_decay",
                value: decay,
                requirement: "must lie in [0, 1)",
            });
        }
        Ok(())
    }
}

enum Data {
    Unlabelled(DataSampler),
    Labelled(LabelledSampler),
}

/// A DDPM training step for [`sysdyn_train::Trainer`]: the network, its optimizer (e.g. Adam
/// 1e-3), the schedule and the data, drawn `batch_size` rows per step by a sampler closure.
/// The loss, `mean t` and the gradient norm are logged; the runtime stops on a non-finite loss
/// or parameter and restores the last checkpoint (network, optimizer and average).
pub struct DdpmStep<O: Optimizer, N: Denoiser = EpsNet> {
    device: SysDevice,
    net: N,
    average: Option<Ema<N>>,
    optim: Optim<O>,
    schedule: NoiseSchedule,
    config: DdpmConfig,
    data: Data,
    /// The step embeddings of the schedule, for the host engine (`None`: the tensor path).
    host_embeddings: Option<StepEmbeddings>,
}

impl<O: Optimizer, N: Denoiser> DdpmStep<O, N> {
    /// A step for an unconditional `net` on `device` (an autodiff device), rows drawn by `data`
    /// (`[rows, width]` row-major).
    pub fn new(
        device: SysDevice,
        net: N,
        optim: Optim<O>,
        schedule: NoiseSchedule,
        config: DdpmConfig,
        data: DataSampler,
    ) -> Result<Self, GenerativeError> {
        Self::build(device, net, optim, schedule, config, Data::Unlabelled(data))
    }

    /// A step for a conditional `net`, rows and labels drawn by `data`.
    pub fn conditional(
        device: SysDevice,
        net: N,
        optim: Optim<O>,
        schedule: NoiseSchedule,
        config: DdpmConfig,
        data: LabelledSampler,
    ) -> Result<Self, GenerativeError> {
        Self::build(device, net, optim, schedule, config, Data::Labelled(data))
    }

    fn build(
        device: SysDevice,
        net: N,
        optim: Optim<O>,
        schedule: NoiseSchedule,
        config: DdpmConfig,
        data: Data,
    ) -> Result<Self, GenerativeError> {
        config.validate()?;
        let labelled = matches!(data, Data::Labelled(_));
        if labelled != (net.classes() > 0) {
            return Err(GenerativeError::Unsupported {
                what: "labelled data for an unconditional network or unlabelled data for a \
                       conditional one: use DdpmStep::conditional exactly for networks with classes",
            });
        }
        if !labelled && config.label_dropout > 0.0 {
            return Err(GenerativeError::Unsupported {
                what: "label dropout for an unconditional network: set label_dropout to 0",
            });
        }
        let average = config
            .ema_decay
            .map(|decay| Ema::on_training_device(&net, decay));
        let host_embeddings = net
            .as_eps_net()
            .filter(|_| !labelled)
            .map(|eps| StepEmbeddings::new(eps.embedding(), schedule.steps()));
        Ok(DdpmStep {
            device,
            net,
            average,
            optim,
            schedule,
            config,
            data,
            host_embeddings,
        })
    }

    /// Whether the loss and its gradient run on the host engine (the default for an
    /// unconditional network with parameters on a CPU device, see
    /// [`crate::diffusion::host`]) or, with `false`, always on the tensor path (the same
    /// mathematics; for comparisons).
    pub fn with_host_engine(mut self, on: bool) -> Self {
        self.host_embeddings = self
            .net
            .as_eps_net()
            .filter(|eps| on && eps.classes() == 0)
            .map(|eps| StepEmbeddings::new(eps.embedding(), self.schedule.steps()));
        self
    }

    /// The trained network.
    pub fn network(&self) -> &N {
        &self.net
    }

    /// The network to sample with: the moving average when there is one.
    pub fn sampling_network(&self) -> &N {
        self.average.as_ref().map_or(&self.net, Ema::model)
    }

    /// The schedule.
    pub fn schedule(&self) -> &NoiseSchedule {
        &self.schedule
    }

    /// The configuration.
    pub fn config(&self) -> &DdpmConfig {
        &self.config
    }

    /// The rows of this step and, for a conditional network, their class indices after label
    /// dropout (the null class is `classes`).
    fn batch(&mut self, rng: &mut SeededRng) -> Result<(Vec<f64>, Option<Vec<usize>>), BoxError> {
        let rows = self.config.batch_size;
        let width = self.net.data_width();
        let (values, labels) = match &mut self.data {
            Data::Unlabelled(sampler) => (sampler(rng, rows), None),
            Data::Labelled(sampler) => {
                let (values, labels) = sampler(rng, rows);
                (values, Some(labels))
            }
        };
        if values.len() != rows * width {
            return Err(Box::new(GenerativeError::ShapeMismatch {
                what: "training rows drawn (rows × width)",
                left: vec![values.len()],
                right: vec![rows, width],
            }));
        }
        let Some(labels) = labels else {
            return Ok((values, None));
        };
        let classes = self.net.classes();
        if labels.len() != rows {
            return Err(Box::new(GenerativeError::ShapeMismatch {
                what: "rows and labels drawn",
                left: vec![rows],
                right: vec![labels.len()],
            }));
        }
        if let Some(&label) = labels.iter().find(|l| **l >= classes) {
            return Err(Box::new(GenerativeError::InvalidParameter {
                name: "label",
                value: label as f64,
                requirement: "labels must be below the network's number of classes",
            }));
        }
        let dropout = self.config.label_dropout;
        let classes_used = labels
            .into_iter()
            .map(|label| {
                if dropout > 0.0 && rng.uniform() < dropout {
                    classes
                } else {
                    label
                }
            })
            .collect();
        Ok((values, Some(classes_used)))
    }
}

/// `x_t = a x₀ + σ ε` and the regression target of `prediction` on the host, row-major
/// `[rows, width]`, one marginal (`a`, `σ`) per row (as [`Coefficients`] and
/// [`Prediction::target`] compute them on tensors).
fn host_noised(
    prediction: Prediction,
    marginals: &[Marginal],
    x0: &[f64],
    epsilon: &[f64],
    width: usize,
) -> (Vec<f64>, Vec<f64>) {
    let mut x_t = Vec::with_capacity(x0.len());
    let mut target = Vec::with_capacity(x0.len());
    for (i, (&x, &e)) in x0.iter().zip(epsilon).enumerate() {
        let Marginal { signal, noise } = marginals[i / width];
        x_t.push(signal * x + noise * e);
        target.push(match prediction {
            Prediction::Epsilon => e,
            Prediction::Data => x,
            Prediction::Velocity => signal * e - noise * x,
        });
    }
    (x_t, target)
}

impl<O: Optimizer, N: Denoiser> Checkpointable for DdpmStep<O, N> {
    fn save_checkpoint(&self, dir: &Path) -> Result<(), TrainError> {
        save_module(&self.net, dir, "eps-net")?;
        if let Some(average) = &self.average {
            average.save(dir, "eps-net-average")?;
        }
        self.optim.save(dir, "eps-net-optim")
    }

    fn load_checkpoint(&mut self, dir: &Path) -> Result<(), TrainError> {
        self.net = load_module(self.net.clone(), dir, "eps-net")?;
        if let Some(average) = &mut self.average {
            average.load(dir, "eps-net-average")?;
        }
        self.optim.load(dir, "eps-net-optim", &self.net)
    }
}

impl<O: Optimizer, N: Denoiser> TrainStep for DdpmStep<O, N> {
    fn step(&mut self, ctx: &mut StepContext) -> Result<StepReport, BoxError> {
        let mut rng = ctx.rng.clone();
        let (values, classes) = self.batch(&mut rng)?;
        let rows = self.config.batch_size;
        let width = self.net.data_width();
        let total = self.schedule.steps() as u64;
        let steps: Vec<usize> = (0..rows).map(|_| rng.below(total) as usize).collect();
        let marginals = steps
            .iter()
            .map(|&t| self.schedule.marginal(t))
            .collect::<Result<Vec<Marginal>, _>>()?;
        let host = match (&self.host_embeddings, &classes) {
            (Some(embeddings), None) => self
                .net
                .as_eps_net()
                .and_then(|eps| Some((HostEpsNet::new(eps)?, embeddings, eps))),
            _ => None,
        };
        let (value, mut grads) = if let Some((host, embeddings, eps)) = host {
            // The same draws as the tensor path: `randn` takes `rows × width` normals.
            let epsilon = rng.normals(rows * width);
            let (x_t, target) =
                host_noised(self.config.prediction, &marginals, &values, &epsilon, width);
            host.loss_and_gradients(&x_t, &steps, &target, embeddings, eps.network().layers())?
        } else {
            let coefficients = Coefficients::rows(&self.device, &marginals)?;
            let x0 = self.device.tensor(values, [rows, width])?;
            let epsilon = self.device.randn(&mut rng, [rows, width]);
            let x_t = coefficients.noised(x0.clone(), epsilon.clone());
            let output = self.net.forward_classes(x_t, &steps, classes.as_deref())?;
            let target = self.config.prediction.target(&coefficients, x0, epsilon);
            let loss = (output - target).powi_scalar(2).mean();
            let value = loss.clone().into_scalar::<f64>();
            (
                value,
                GradientsParams::from_grads(loss.backward(), &self.net),
            )
        };
        let grad_norm = ctx
            .clip_grads(&mut grads, &self.net)
            .unwrap_or_else(|| global_grad_norm(&grads, &self.net));
        let net = self.net.clone();
        self.net = self.optim.step(ctx.lr, net, grads);
        if let Some(average) = &mut self.average {
            average.update(&self.net);
        }
        let mean_t = steps.iter().sum::<usize>() as f64 / rows as f64;
        Ok(StepReport::new(value)
            .with("mean_t", mean_t)
            .with("grad_norm", grad_norm))
    }

    fn non_finite_parameter(&self) -> Option<NonFinite> {
        find_non_finite(&self.net, "eps-net")
    }
}
