//! An exponential moving average of a model's parameters (what diffusion models sample with).

use std::any::Any;
use std::collections::HashMap;
use std::path::Path;

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param, ParamId};
use burn::tensor::Tensor;

use crate::checkpoint::{load_module, save_module};
use crate::error::TrainError;

/// An exponential moving average of the parameters of a module `M`:
/// after each [`update`](Ema::update), `θ̄ ← decay·θ̄ + (1 − decay)·θ` for every parameter.
///
/// The average is a copy of the module (same structure and parameter ids) whose tensors carry
/// no autodiff graph; evaluate or sample with [`model`](Ema::model). It is saved and restored
/// with [`save`](Ema::save) / [`load`](Ema::load) (a `.bpk` file through burn's module
/// persistence), so a resumed run continues the same average.
#[derive(Debug, Clone)]
pub struct Ema<M: Module> {
    average: M,
    decay: f64,
    updates: u64,
    /// Whether the average stays on the model's (autodiff) device.
    on_training_device: bool,
}

impl<M: Module> Ema<M> {
    /// Starts the average at the current parameters of `model`. `decay` is in `[0, 1)`.
    pub fn new(model: &M, decay: f64) -> Self {
        let average = model.clone().map(&mut Detach { keep_device: false });
        Ema {
            average,
            decay,
            updates: 0,
            on_training_device: false,
        }
    }

    /// Like [`new`](Ema::new), but the average stays on the model's autodiff device (as leaves
    /// without gradient), so layers that pick their behaviour by device act as in training:
    /// batch norm normalises with the batch's own statistics instead of running statistics,
    /// which the average does not hold (a GAN generator's average is sampled this way).
    pub fn on_training_device(model: &M, decay: f64) -> Self {
        let average = model.clone().map(&mut Detach { keep_device: true });
        Ema {
            average,
            decay,
            updates: 0,
            on_training_device: true,
        }
    }

    /// The decay factor.
    pub fn decay(&self) -> f64 {
        self.decay
    }

    /// The number of updates made since the average was started (restored by [`load`](Ema::load)
    /// only through the caller's own host state; the average itself does not depend on it).
    pub fn updates(&self) -> u64 {
        self.updates
    }

    /// The averaged model.
    pub fn model(&self) -> &M {
        &self.average
    }

    /// The averaged model, by value.
    pub fn into_model(self) -> M {
        self.average
    }

    /// One averaging step towards the current parameters of `model` (a module with the same
    /// parameter ids: the one the average was started from, after optimizer steps or a reload).
    /// Parameters the average does not know are left alone.
    pub fn update(&mut self, model: &M) {
        let mut collect = Collect {
            values: HashMap::new(),
        };
        model.visit(&mut collect);
        let mut blend = Blend {
            values: collect.values,
            decay: self.decay,
            keep_device: self.on_training_device,
        };
        self.average = self.average.clone().map(&mut blend);
        self.updates += 1;
    }

    /// Saves the average to `<dir>/<name>.bpk`.
    pub fn save(&self, dir: &Path, name: &str) -> Result<(), TrainError> {
        save_module(&self.average, dir, name)
    }

    /// Loads the average from `<dir>/<name>.bpk`.
    pub fn load(&mut self, dir: &Path, name: &str) -> Result<(), TrainError> {
        self.average = load_module(self.average.clone(), dir, name)?;
        Ok(())
    }
}

/// Drops the autodiff association of every parameter: onto the inner backend, or as new
/// leaves without gradient on the same device (`keep_device`).
struct Detach {
    keep_device: bool,
}

impl ModuleMapper for Detach {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let (id, tensor, mapper) = param.consume();
        Param::from_mapped_value(id, place(tensor.inner(), self.keep_device), mapper)
    }
}

/// `inner` (a tensor of the inner backend) back on the autodiff device when `keep_device`.
fn place<const D: usize>(inner: Tensor<D>, keep_device: bool) -> Tensor<D> {
    if keep_device {
        Tensor::from_inner(inner)
    } else {
        inner
    }
}

struct Collect {
    values: HashMap<ParamId, Box<dyn Any + Send>>,
}

impl ModuleVisitor for Collect {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        self.values.insert(param.id, Box::new(param.val().inner()));
    }
}

struct Blend {
    values: HashMap<ParamId, Box<dyn Any + Send>>,
    decay: f64,
    keep_device: bool,
}

impl ModuleMapper for Blend {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let (id, average, mapper) = param.consume();
        let average = match self
            .values
            .remove(&id)
            .and_then(|v| v.downcast::<Tensor<D>>().ok())
        {
            Some(current) => place(
                average
                    .inner()
                    .mul_scalar(self.decay)
                    .add(current.mul_scalar(1.0 - self.decay)),
                self.keep_device,
            ),
            None => average,
        };
        Param::from_mapped_value(id, average, mapper)
    }
}
