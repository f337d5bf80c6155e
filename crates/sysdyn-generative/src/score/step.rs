//! The score model's training step on sysdyn's runtime ([`ScoreStep`]), for time-continuous
//! denoising score matching ([`DenoisingScoreMatching`]) or NCSN's per-level loss
//! ([`NoiseLevels`]).

use std::path::Path;

use burn::module::Module;
use burn::optim::{GradientsParams, Optimizer};
use burn::tensor::Tensor;
use sysdyn_core::device::SysDevice;
use sysdyn_core::rng::SeededRng;
use sysdyn_train::{
    BoxError, Checkpointable, Ema, NonFinite, Optim, StepContext, StepReport, TrainError,
    TrainStep, find_non_finite, global_grad_norm, load_module, save_module,
};

use crate::error::GenerativeError;
use crate::inputs::DataSampler;
use crate::score::loss::{DenoisingScoreMatching, NoiseConditionalScoreModel, ScoreModel};
use crate::score::ncsn::NoiseLevels;

/// A score-matching objective for models of type `M`.
pub trait ScoreObjective<M> {
    /// The width of the model's data rows.
    fn data_width(&self, model: &M) -> usize;

    /// The loss of `model` on the rows `x0`, its noise drawn from `rng`.
    fn loss(
        &self,
        model: &M,
        x0: Tensor<2>,
        rng: &mut SeededRng,
    ) -> Result<Tensor<1>, GenerativeError>;
}

impl<M: ScoreModel> ScoreObjective<M> for DenoisingScoreMatching {
    fn data_width(&self, model: &M) -> usize {
        model.data_width()
    }

    fn loss(
        &self,
        model: &M,
        x0: Tensor<2>,
        rng: &mut SeededRng,
    ) -> Result<Tensor<1>, GenerativeError> {
        DenoisingScoreMatching::loss(self, model, x0, rng)
    }
}

impl<M: NoiseConditionalScoreModel> ScoreObjective<M> for NoiseLevels {
    fn data_width(&self, model: &M) -> usize {
        model.data_width()
    }

    fn loss(
        &self,
        model: &M,
        x0: Tensor<2>,
        rng: &mut SeededRng,
    ) -> Result<Tensor<1>, GenerativeError> {
        NoiseLevels::loss(self, model, x0, rng)
    }
}

/// A score model's training step for [`sysdyn_train::Trainer`]: `batch_size` rows drawn by the
/// sampler, the objective's loss, burn's optimizer through sysdyn-train's [`Optim`]. The runtime
/// stops on a non-finite loss or parameter and restores the last checkpoint.
pub struct ScoreStep<M: Module, L: ScoreObjective<M>, O: Optimizer> {
    device: SysDevice,
    /// The model.
    pub model: M,
    optim: Optim<O>,
    objective: L,
    batch_size: usize,
    data: DataSampler,
    average: Option<Ema<M>>,
}

impl<M: Module, L: ScoreObjective<M>, O: Optimizer> ScoreStep<M, L, O> {
    /// A step for `model` on `device` (an autodiff device).
    pub fn new(
        device: SysDevice,
        model: M,
        optim: Optim<O>,
        objective: L,
        batch_size: usize,
        data: DataSampler,
    ) -> Result<Self, GenerativeError> {
        if batch_size == 0 {
            return Err(GenerativeError::InvalidParameter {
                name: "batch_size",
                value: 0.0,
                requirement: "must be at least 1",
            });
        }
        Ok(ScoreStep {
            device,
            model,
            optim,
            objective,
            batch_size,
            data,
            average: None,
        })
    }

    /// Keeps an exponential moving average of the weights, `θ̄ ← β θ̄ + (1 − β) θ` after every
    /// update (`β ∈ [0, 1)`; DDPM and score SDEs sample with `β` = 0.999–0.9999). The average
    /// lives on the inner backend (no autodiff) and is saved with the checkpoints.
    pub fn with_average(mut self, decay: f64) -> Result<Self, GenerativeError> {
        if !(0.0..1.0).contains(&decay) {
            return Err(GenerativeError::InvalidParameter {
                name: "average decay",
                value: decay,
                requirement: "must lie in [0, 1) (0.999 is typical)",
            });
        }
        self.average = Some(Ema::new(&self.model, decay));
        Ok(self)
    }

    /// The model to sample with: the moving average when one is kept, else the model.
    pub fn sampling_model(&self) -> &M {
        self.average.as_ref().map_or(&self.model, Ema::model)
    }

    /// The objective.
    pub fn objective(&self) -> &L {
        &self.objective
    }

    fn batch(&mut self, rng: &mut SeededRng) -> Result<Tensor<2>, BoxError> {
        let rows = self.batch_size;
        let features = self.objective.data_width(&self.model);
        let values = (self.data)(rng, rows);
        if values.len() != rows * features {
            return Err(Box::new(GenerativeError::ShapeMismatch {
                what: "training rows drawn (rows × features)",
                left: vec![values.len()],
                right: vec![rows * features],
            }));
        }
        Ok(self.device.tensor(values, [rows, features])?)
    }
}

impl<M: Module, L: ScoreObjective<M>, O: Optimizer> Checkpointable for ScoreStep<M, L, O> {
    fn save_checkpoint(&self, dir: &Path) -> Result<(), TrainError> {
        save_module(&self.model, dir, "score")?;
        if let Some(average) = &self.average {
            average.save(dir, "score-average")?;
        }
        self.optim.save(dir, "score-optim")
    }

    fn load_checkpoint(&mut self, dir: &Path) -> Result<(), TrainError> {
        self.model = load_module(self.model.clone(), dir, "score")?;
        if let Some(average) = &mut self.average {
            average.load(dir, "score-average")?;
        }
        self.optim.load(dir, "score-optim", &self.model)
    }
}

impl<M: Module, L: ScoreObjective<M>, O: Optimizer> TrainStep for ScoreStep<M, L, O> {
    fn step(&mut self, ctx: &mut StepContext) -> Result<StepReport, BoxError> {
        let mut rng = ctx.rng.clone();
        let x = self.batch(&mut rng)?;
        let loss = self.objective.loss(&self.model, x, &mut rng)?;
        let value = loss.clone().into_scalar::<f64>();
        let mut grads = GradientsParams::from_grads(loss.backward(), &self.model);
        let grad_norm = ctx
            .clip_grads(&mut grads, &self.model)
            .unwrap_or_else(|| global_grad_norm(&grads, &self.model));
        let model = self.model.clone();
        self.model = self.optim.step(ctx.lr, model, grads);
        if let Some(average) = &mut self.average {
            average.update(&self.model);
        }
        Ok(StepReport::new(value).with("grad_norm", grad_norm))
    }

    fn non_finite_parameter(&self) -> Option<NonFinite> {
        find_non_finite(&self.model, "score")
    }
}
