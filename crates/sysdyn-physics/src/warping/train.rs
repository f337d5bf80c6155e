//! One training step of a [`Forecaster`] on sysdyn's runtime: a batch of windows of `k + 1`
//! frames drawn with the step's random stream, the [`WarpingLoss`] of the forecast, one
//! optimizer update. Evaluation: the prediction MSE over a fixed set of held-out windows.

use std::path::Path;

use burn::optim::{GradientsParams, Optimizer};
use sysdyn_core::device::SysDevice;
use sysdyn_train::{
    BoxError, Checkpointable, NonFinite, Optim, StepContext, StepReport, TrainError, TrainStep,
    find_non_finite, global_grad_norm, load_module, save_module,
};

use crate::error::PhysicsError;
use crate::warping::data::FrameSequences;
use crate::warping::estimator::{Forecaster, WarpingLoss};

/// The forecaster's training step (see the module docs).
pub struct ForecastStep<F: Forecaster, O: Optimizer> {
    device: SysDevice,
    /// The model.
    pub model: F,
    optim: Optim<O>,
    loss: WarpingLoss,
    train: FrameSequences,
    train_windows: Vec<(usize, usize)>,
    eval: FrameSequences,
    eval_windows: Vec<(usize, usize)>,
    batch_size: usize,
}

impl<F: Forecaster, O: Optimizer> ForecastStep<F, O> {
    /// A step training `model` on `train` and evaluating on `eval`, `batch_size` windows per
    /// step. Errors: a zero batch, or sequences too short for one window of `k + 1` frames.
    pub fn new(
        device: SysDevice,
        model: F,
        optim: Optim<O>,
        loss: WarpingLoss,
        train: FrameSequences,
        eval: FrameSequences,
        batch_size: usize,
    ) -> Result<Self, PhysicsError> {
        if batch_size == 0 {
            return Err(PhysicsError::InvalidParameter {
                name: "batch_size",
                value: 0.0,
                requirement: "must be at least 1",
            });
        }
        let k = model.history();
        let train_windows = train.windows(k);
        let eval_windows = eval.windows(k);
        for (what, windows) in [
            ("training windows", &train_windows),
            ("evaluation windows", &eval_windows),
        ] {
            if windows.is_empty() {
                return Err(PhysicsError::Empty {
                    what,
                    unit: "sequence of at least k + 1 frames",
                });
            }
        }
        Ok(ForecastStep {
            device,
            model,
            optim,
            loss,
            train,
            train_windows,
            eval,
            eval_windows,
            batch_size,
        })
    }

    /// The mean squared error of the forecasts over the evaluation windows (in batches of
    /// `batch_size`, without graph).
    pub fn eval_mse(&self) -> Result<f64, PhysicsError> {
        let k = self.model.history();
        let mut total = 0.0;
        for chunk in self.eval_windows.chunks(self.batch_size) {
            let (inputs, target) = self.eval.batch(chunk, k, self.device.device())?;
            let (prediction, _) = self.model.forecast(inputs.detach())?;
            let sq = (prediction.detach() - target).powi_scalar(2).mean();
            total += sq.into_scalar::<f64>() * chunk.len() as f64;
        }
        Ok(total / self.eval_windows.len() as f64)
    }
}

impl<F: Forecaster, O: Optimizer> Checkpointable for ForecastStep<F, O> {
    fn save_checkpoint(&self, dir: &Path) -> Result<(), TrainError> {
        save_module(&self.model, dir, "forecaster")?;
        self.optim.save(dir, "forecaster-optim")
    }

    fn load_checkpoint(&mut self, dir: &Path) -> Result<(), TrainError> {
        self.model = load_module(self.model.clone(), dir, "forecaster")?;
        self.optim.load(dir, "forecaster-optim", &self.model)
    }
}

impl<F: Forecaster, O: Optimizer> TrainStep for ForecastStep<F, O> {
    fn step(&mut self, ctx: &mut StepContext) -> Result<StepReport, BoxError> {
        let k = self.model.history();
        let windows = FrameSequences::draw(&self.train_windows, self.batch_size, &mut ctx.rng);
        let (inputs, target) = self.train.batch(&windows, k, self.device.device())?;
        let (prediction, motion) = self.model.forecast(inputs)?;
        let mse = (prediction.clone().detach() - target.clone())
            .powi_scalar(2)
            .mean()
            .into_scalar::<f64>();
        let loss = self.loss.loss(prediction, target, motion)?;
        let value = loss.clone().into_scalar::<f64>();
        let grads = GradientsParams::from_grads(loss.backward(), &self.model);
        let grad_norm = global_grad_norm(&grads, &self.model);
        let model = self.model.clone();
        self.model = self.optim.step(ctx.lr, model, grads);
        Ok(StepReport::new(value)
            .with("mse", mse)
            .with("grad_norm", grad_norm))
    }

    fn evaluate(&mut self, _ctx: &StepContext) -> Result<Vec<(String, f64)>, BoxError> {
        Ok(vec![("eval_mse".to_string(), self.eval_mse()?)])
    }

    fn non_finite_parameter(&self) -> Option<NonFinite> {
        find_non_finite(&self.model, "forecaster")
    }
}
