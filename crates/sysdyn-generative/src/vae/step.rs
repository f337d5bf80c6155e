//! The VAE's training step on sysdyn's runtime ([`VaeStep`]), and the importance-sampled NLL
//! estimate over a data set ([`estimate_nll`]).

use std::path::Path;

use burn::optim::{GradientsParams, Optimizer};
use burn::tensor::Tensor;
use sysdyn_core::device::SysDevice;
use sysdyn_core::rng::SeededRng;
use sysdyn_train::{
    BoxError, Checkpointable, NonFinite, Optim, StepContext, StepReport, TrainError, TrainStep,
    find_non_finite, global_grad_norm, load_module, save_module,
};

use crate::error::GenerativeError;
use crate::inputs::{DataSampler, LabelledSampler};
use crate::vae::bound::{FreeBits, KlWeight, NllEstimate, Objective, bits_per_dim};
use crate::vae::models::{Decoder, Encoder, Vae};

/// What a VAE step optimises. [`VaeConfig::validate`] refuses settings that cannot work.
#[derive(Debug, Clone, PartialEq)]
pub struct VaeConfig {
    /// ELBO with `L` samples or IWAE with `k`.
    pub objective: Objective,
    /// `β` on the ELBO's KL term over the steps.
    pub kl_weight: KlWeight,
    /// The per-dimension KL floor of the ELBO, if any.
    pub free_bits: Option<FreeBits>,
    /// Rows per step.
    pub batch_size: usize,
}

impl VaeConfig {
    /// The ELBO with one sample, `β = 1`, no free bits.
    pub fn new(batch_size: usize) -> Self {
        VaeConfig {
            objective: Objective::Elbo { samples: 1 },
            kl_weight: KlWeight::Constant(1.0),
            free_bits: None,
            batch_size,
        }
    }

    /// With the objective.
    pub fn with_objective(mut self, objective: Objective) -> Self {
        self.objective = objective;
        self
    }

    /// With the KL weight.
    pub fn with_kl_weight(mut self, kl_weight: KlWeight) -> Self {
        self.kl_weight = kl_weight;
        self
    }

    /// With free bits `λ` nats per latent dimension.
    pub fn with_free_bits(mut self, lambda: f64) -> Self {
        self.free_bits = Some(FreeBits { lambda });
        self
    }

    /// Checks the settings. The IWAE objective has no KL term to weight: it refuses `β ≠ 1`
    /// and free bits.
    pub fn validate(&self) -> Result<(), GenerativeError> {
        self.objective.validate()?;
        self.kl_weight.validate()?;
        if let Some(free) = self.free_bits {
            free.validate()?;
        }
        if self.batch_size == 0 {
            return Err(GenerativeError::InvalidParameter {
                name: "batch_size",
                value: 0.0,
                requirement: "must be at least 1",
            });
        }
        if matches!(self.objective, Objective::Iwae { .. })
            && (self.kl_weight != KlWeight::Constant(1.0) || self.free_bits.is_some())
        {
            return Err(GenerativeError::Unsupported {
                what: "a KL weight or free bits with the IWAE objective (its bound has no \
                       separate KL term): use Objective::Elbo",
            });
        }
        Ok(())
    }
}

/// Where the training rows come from.
enum Data {
    Unlabelled(DataSampler),
    Labelled(LabelledSampler),
}

/// A VAE's training step for [`sysdyn_train::Trainer`]: the model, its optimizer (e.g. Adam
/// 1e-3) and the data, drawn `batch_size` rows per step by a sampler closure. The step's loss
/// is the negated objective per row (the runtime stops on a non-finite loss or parameter and
/// restores the last checkpoint); the bound, the reconstruction term, the KL, `β` and the
/// gradient norm are logged.
pub struct VaeStep<E: Encoder, D: Decoder, O: Optimizer> {
    device: SysDevice,
    /// The model.
    pub vae: Vae<E, D>,
    optim: Optim<O>,
    config: VaeConfig,
    data: Data,
    evaluation: Option<Evaluation>,
}

/// A held-out data set the step's [`TrainStep::evaluate`] scores.
struct Evaluation {
    data: Vec<f64>,
    labels: Option<Vec<usize>>,
    config: NllConfig,
}

impl<E: Encoder, D: Decoder, O: Optimizer> VaeStep<E, D, O> {
    /// A step for an unconditional `vae` on `device` (an autodiff device), rows drawn by
    /// `data` (`[rows, D]` row-major).
    pub fn new(
        device: SysDevice,
        vae: Vae<E, D>,
        optim: Optim<O>,
        config: VaeConfig,
        data: DataSampler,
    ) -> Result<Self, GenerativeError> {
        Self::build(device, vae, optim, config, Data::Unlabelled(data))
    }

    /// A step for a conditional `vae`, rows and labels drawn by `data`.
    pub fn conditional(
        device: SysDevice,
        vae: Vae<E, D>,
        optim: Optim<O>,
        config: VaeConfig,
        data: LabelledSampler,
    ) -> Result<Self, GenerativeError> {
        Self::build(device, vae, optim, config, Data::Labelled(data))
    }

    fn build(
        device: SysDevice,
        vae: Vae<E, D>,
        optim: Optim<O>,
        config: VaeConfig,
        data: Data,
    ) -> Result<Self, GenerativeError> {
        config.validate()?;
        let labelled = matches!(data, Data::Labelled(_));
        if labelled != (vae.classes() > 0) {
            return Err(GenerativeError::Unsupported {
                what: "labelled data for an unconditional model or unlabelled data for a \
                       conditional one: use VaeStep::conditional exactly for models with classes",
            });
        }
        Ok(VaeStep {
            device,
            vae,
            optim,
            config,
            data,
            evaluation: None,
        })
    }

    /// With a held-out data set (`[N, D]` row-major, labels for a conditional model) scored at
    /// every evaluation of the runtime (`TrainConfig::eval_every`): `nll_nats` and
    /// `bits_per_dim` from [`estimate_nll`] with `config`.
    pub fn with_evaluation(
        mut self,
        data: Vec<f64>,
        labels: Option<Vec<usize>>,
        config: NllConfig,
    ) -> Self {
        self.evaluation = Some(Evaluation {
            data,
            labels,
            config,
        });
        self
    }

    /// The configuration.
    pub fn config(&self) -> &VaeConfig {
        &self.config
    }

    fn batch(&mut self, rng: &mut SeededRng) -> Result<(Tensor<2>, Option<Vec<usize>>), BoxError> {
        let rows = self.config.batch_size;
        let features = self.vae.data_width();
        let (values, labels) = match &mut self.data {
            Data::Unlabelled(sampler) => (sampler(rng, rows), None),
            Data::Labelled(sampler) => {
                let (values, labels) = sampler(rng, rows);
                (values, Some(labels))
            }
        };
        if values.len() != rows * features {
            return Err(Box::new(GenerativeError::ShapeMismatch {
                what: "training rows drawn (rows × features)",
                left: vec![values.len()],
                right: vec![rows * features],
            }));
        }
        Ok((self.device.tensor(values, [rows, features])?, labels))
    }
}

impl<E: Encoder, D: Decoder, O: Optimizer> Checkpointable for VaeStep<E, D, O> {
    fn save_checkpoint(&self, dir: &Path) -> Result<(), TrainError> {
        save_module(&self.vae, dir, "vae")?;
        self.optim.save(dir, "vae-optim")
    }

    fn load_checkpoint(&mut self, dir: &Path) -> Result<(), TrainError> {
        self.vae = load_module(self.vae.clone(), dir, "vae")?;
        self.optim.load(dir, "vae-optim", &self.vae)
    }
}

impl<E: Encoder, D: Decoder, O: Optimizer> TrainStep for VaeStep<E, D, O> {
    fn step(&mut self, ctx: &mut StepContext) -> Result<StepReport, BoxError> {
        let mut rng = ctx.rng.clone();
        let (x, labels) = self.batch(&mut rng)?;
        let labels = labels.as_deref();
        let beta = self.config.kl_weight.beta(ctx.step);
        let (loss, bound, reconstruction, kl) = match self.config.objective {
            Objective::Elbo { samples } => {
                let terms = self.vae.elbo(x, labels, samples, &mut rng)?;
                let loss = terms.loss(beta, self.config.free_bits);
                let reconstruction = terms.reconstruction.clone().mean().into_scalar::<f64>();
                let kl = terms.kl.clone().mean().into_scalar::<f64>();
                (loss, reconstruction - kl, reconstruction, kl)
            }
            Objective::Iwae { samples } => {
                let bound = self.vae.iwae(x, labels, samples, &mut rng)?.mean();
                let value = bound.clone().into_scalar::<f64>();
                (bound.neg(), value, f64::NAN, f64::NAN)
            }
        };
        let value = loss.clone().into_scalar::<f64>();
        let mut grads = GradientsParams::from_grads(loss.backward(), &self.vae);
        let grad_norm = ctx
            .clip_grads(&mut grads, &self.vae)
            .unwrap_or_else(|| global_grad_norm(&grads, &self.vae));
        let vae = self.vae.clone();
        self.vae = self.optim.step(ctx.lr, vae, grads);
        let mut report = StepReport::new(value)
            .with("bound", bound)
            .with("beta", beta)
            .with("grad_norm", grad_norm);
        if reconstruction.is_finite() || kl.is_finite() {
            report = report.with("reconstruction", reconstruction).with("kl", kl);
        }
        Ok(report)
    }

    fn evaluate(&mut self, ctx: &StepContext) -> Result<Vec<(String, f64)>, BoxError> {
        let Some(evaluation) = &self.evaluation else {
            return Ok(Vec::new());
        };
        let estimate = estimate_nll(
            &self.vae,
            &self.device,
            &evaluation.data,
            evaluation.labels.as_deref(),
            evaluation.config,
            &mut ctx.rng.clone(),
        )?;
        Ok(vec![
            ("nll_nats".to_string(), estimate.nats),
            ("bits_per_dim".to_string(), estimate.bits_per_dim),
        ])
    }

    fn non_finite_parameter(&self) -> Option<NonFinite> {
        find_non_finite(&self.vae, "vae")
    }
}

/// How [`estimate_nll`] samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NllConfig {
    /// Importance samples per data point (Burda et al.: 5000).
    pub samples: usize,
    /// Samples evaluated at once.
    pub chunk: usize,
    /// Data points evaluated at once.
    pub batch: usize,
}

/// `−(1/N) Σᵢ L_k(xᵢ)` over the `N` rows of `data` (`[N, D]` row-major, with labels for a
/// conditional model): the IWAE estimate of the NLL in nats and bits per dimension.
pub fn estimate_nll<E: Encoder, D: Decoder>(
    vae: &Vae<E, D>,
    device: &SysDevice,
    data: &[f64],
    labels: Option<&[usize]>,
    config: NllConfig,
    rng: &mut SeededRng,
) -> Result<NllEstimate, BoxError> {
    let features = vae.data_width();
    if data.is_empty() || !data.len().is_multiple_of(features) {
        return Err(Box::new(GenerativeError::ShapeMismatch {
            what: "data length and a whole number of rows of the model's width",
            left: vec![data.len()],
            right: vec![features],
        }));
    }
    if config.batch == 0 {
        return Err(Box::new(GenerativeError::InvalidParameter {
            name: "NLL batch",
            value: 0.0,
            requirement: "must be at least 1",
        }));
    }
    let rows = data.len() / features;
    let mut total = 0.0;
    let mut start = 0;
    while start < rows {
        let n = config.batch.min(rows - start);
        let x = device.tensor(
            &data[start * features..(start + n) * features],
            [n, features],
        )?;
        let batch_labels = labels.map(|l| l.get(start..start + n).unwrap_or(&[]));
        let log_p =
            vae.importance_log_likelihood(x, batch_labels, config.samples, config.chunk, rng)?;
        total += log_p.iter().sum::<f64>();
        start += n;
    }
    let nats = -total / rows as f64;
    Ok(NllEstimate {
        nats,
        bits_per_dim: bits_per_dim(nats, features),
        samples: config.samples,
    })
}
