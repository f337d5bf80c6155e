//! PDE-Net 2.0's training on sysdyn's runtime: rollouts of a growing number of δt-blocks
//! against observed trajectories, with ℓ1 penalties on SymNet's weights and on the filters'
//! free moments (the paper's sparsity regularisation):
//!
//! `L = (1/H) Σ_{n=1..H} mean((û_{s+n} − u_{s+n})²) / (δt² mean(u²))
//!      + λ_w Σ|W_SymNet| + λ_m Σ|M_free|`,
//!
//! the fit measured in units of `u_t` relative to the data's size (so `λ_w`, `λ_m` mean the same
//! whatever `δt` and the amplitude), `û` the rollout of `H` blocks from the observed `u_s`, the start `s` drawn per step and `H`
//! taken from a [`HorizonSchedule`] (warm-up on one block, then longer rollouts).

use std::path::Path;

use burn::optim::{GradientsParams, Optimizer};
use burn::tensor::{Tensor, TensorData};
use sysdyn_core::device::SysDevice;
use sysdyn_train::{
    BoxError, Checkpointable, NonFinite, Optim, StepContext, StepReport, TrainError, TrainStep,
    find_non_finite, global_grad_norm, load_module, save_module,
};

use super::model::PdeNet;
use crate::PhysicsError;

/// The rollout length by training step: stage `(from, blocks)` applies from step `from` on
/// (the stages sorted by `from`, the first from step 0).
#[derive(Debug, Clone, PartialEq)]
pub struct HorizonSchedule {
    stages: Vec<(u64, usize)>,
}

impl HorizonSchedule {
    /// The schedule; refuses an empty list, a first stage after step 0, unsorted stages and a
    /// horizon of 0 blocks.
    pub fn new(stages: Vec<(u64, usize)>) -> Result<Self, PhysicsError> {
        let Some(&(first, _)) = stages.first() else {
            return Err(PhysicsError::Empty {
                what: "horizon schedule",
                unit: "(from step, blocks) stage",
            });
        };
        if first != 0 {
            return Err(PhysicsError::InvalidParameter {
                name: "first stage's step",
                value: first as f64,
                requirement: "must be 0 (the schedule covers every step)",
            });
        }
        if stages.windows(2).any(|w| w[1].0 <= w[0].0) {
            return Err(PhysicsError::InvalidParameter {
                name: "stage steps",
                value: f64::NAN,
                requirement: "must increase strictly",
            });
        }
        if let Some(&(_, h)) = stages.iter().find(|(_, h)| *h == 0) {
            return Err(PhysicsError::InvalidParameter {
                name: "blocks",
                value: h as f64,
                requirement: "must be at least 1",
            });
        }
        Ok(HorizonSchedule { stages })
    }

    /// The blocks rolled out at `step`.
    pub fn horizon(&self, step: u64) -> usize {
        self.stages
            .iter()
            .rev()
            .find(|(from, _)| *from <= step)
            .map_or(1, |(_, h)| *h)
    }

    /// The longest horizon of the schedule.
    pub fn max_horizon(&self) -> usize {
        self.stages.iter().map(|(_, h)| *h).max().unwrap_or(1)
    }
}

/// The penalties' weights.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Regularisation {
    /// `λ_w` on `Σ |W|` over SymNet's weights.
    pub symnet_l1: f64,
    /// `λ_m` on `Σ |M_free|` over the filters' free moments.
    pub moment_l1: f64,
}

/// Observed trajectories on one grid: `[trajectories, frames, nx, ny]`, frames `δt` apart.
#[derive(Debug, Clone)]
pub struct Trajectories {
    values: Vec<f64>,
    shape: [usize; 4],
}

impl Trajectories {
    /// From row-major values; refuses a size mismatch, fewer than two frames and non-finite
    /// values.
    pub fn new(values: Vec<f64>, shape: [usize; 4]) -> Result<Self, PhysicsError> {
        let expected: usize = shape.iter().product();
        if values.len() != expected {
            return Err(PhysicsError::SizeMismatch {
                what: "trajectory values (trajectories × frames × nx × ny)",
                expected,
                got: values.len(),
            });
        }
        if shape[0] == 0 || shape[1] < 2 {
            return Err(PhysicsError::Empty {
                what: "trajectories",
                unit: "trajectory of at least two frames",
            });
        }
        if let Some(index) = values.iter().position(|v| !v.is_finite()) {
            return Err(PhysicsError::NonFinite {
                what: "PDE-Net training trajectories",
                index,
            });
        }
        Ok(Trajectories { values, shape })
    }

    /// `[trajectories, frames, nx, ny]`.
    pub fn shape(&self) -> [usize; 4] {
        self.shape
    }
}

/// PDE-Net 2.0's step for [`sysdyn_train::Trainer`] (module docs).
pub struct PdeNetStep<O: Optimizer> {
    model: PdeNet,
    optim: Optim<O>,
    frames: Tensor<4>,
    shape: [usize; 4],
    schedule: HorizonSchedule,
    regularisation: Regularisation,
    scale: f64,
}

impl<O: Optimizer> PdeNetStep<O> {
    /// A step training `model` on `data` (uploaded to `device`, an autodiff device).
    pub fn new(
        device: &SysDevice,
        model: PdeNet,
        optim: Optim<O>,
        data: Trajectories,
        schedule: HorizonSchedule,
        regularisation: Regularisation,
    ) -> Result<Self, PhysicsError> {
        let [_, frames, nx, ny] = data.shape;
        model.filters().check_grid(nx, ny)?;
        if schedule.max_horizon() >= frames {
            return Err(PhysicsError::SizeMismatch {
                what: "frames per trajectory (more than the longest horizon)",
                expected: schedule.max_horizon() + 1,
                got: frames,
            });
        }
        for (name, value) in [
            ("symnet_l1", regularisation.symnet_l1),
            ("moment_l1", regularisation.moment_l1),
        ] {
            if !(value.is_finite() && value >= 0.0) {
                return Err(PhysicsError::InvalidParameter {
                    name,
                    value,
                    requirement: "must be finite and ≥ 0",
                });
            }
        }
        let mean_square = data.values.iter().map(|v| v * v).sum::<f64>() / data.values.len() as f64;
        if mean_square == 0.0 {
            return Err(PhysicsError::InvalidParameter {
                name: "mean square of the trajectories",
                value: 0.0,
                requirement: "must be > 0 (all-zero data identify no equation)",
            });
        }
        let model_dt = model.dt();
        let frames = Tensor::<4>::from_data(
            TensorData::new(data.values, data.shape).convert_dtype(device.dtype()),
            (device.device(), device.dtype()),
        );
        Ok(PdeNetStep {
            model,
            optim,
            frames,
            shape: data.shape,
            schedule,
            regularisation,
            scale: 1.0 / (mean_square * model_dt * model_dt),
        })
    }

    /// The trained network.
    pub fn model(&self) -> &PdeNet {
        &self.model
    }

    /// The horizon schedule.
    pub fn schedule(&self) -> &HorizonSchedule {
        &self.schedule
    }

    fn frame(&self, n: usize) -> Tensor<3> {
        let [b, _, nx, ny] = self.shape;
        self.frames.clone().narrow(1, n, 1).reshape([b, nx, ny])
    }
}

impl<O: Optimizer> Checkpointable for PdeNetStep<O> {
    fn save_checkpoint(&self, dir: &Path) -> Result<(), TrainError> {
        save_module(&self.model, dir, "pde-net")?;
        self.optim.save(dir, "pde-net-optim")
    }

    fn load_checkpoint(&mut self, dir: &Path) -> Result<(), TrainError> {
        self.model = load_module(self.model.clone(), dir, "pde-net")?;
        self.optim.load(dir, "pde-net-optim", &self.model)
    }
}

impl<O: Optimizer> TrainStep for PdeNetStep<O> {
    fn step(&mut self, ctx: &mut StepContext) -> Result<StepReport, BoxError> {
        let horizon = self.schedule.horizon(ctx.step);
        let frames = self.shape[1];
        let start = ctx.rng.below((frames - horizon) as u64) as usize;
        let predicted = self.model.rollout_unchecked(self.frame(start), horizon);
        let mut fit = None;
        for (n, u) in predicted.into_iter().enumerate() {
            let err = (u - self.frame(start + n + 1)).square().mean();
            fit = Some(match fit {
                None => err,
                Some(total) => total + err,
            });
        }
        let fit = fit
            .ok_or(PhysicsError::Empty {
                what: "rollout",
                unit: "block",
            })?
            .mul_scalar(self.scale / horizon as f64);
        let fit_value = fit.clone().into_scalar::<f64>();
        let weights = self.model.symnet().weight_l1();
        let moments = self.model.moment_l1();
        let loss = fit
            + weights.mul_scalar(self.regularisation.symnet_l1)
            + moments.mul_scalar(self.regularisation.moment_l1);
        let value = loss.clone().into_scalar::<f64>();
        let mut grads = GradientsParams::from_grads(loss.backward(), &self.model);
        let grad_norm = ctx
            .clip_grads(&mut grads, &self.model)
            .unwrap_or_else(|| global_grad_norm(&grads, &self.model));
        let model = self.model.clone();
        self.model = self.optim.step(ctx.lr, model, grads);
        Ok(StepReport::new(value)
            .with("fit", fit_value)
            .with("horizon", horizon as f64)
            .with("grad_norm", grad_norm))
    }

    fn non_finite_parameter(&self) -> Option<NonFinite> {
        find_non_finite(&self.model, "pde-net")
    }
}
