//! APHYNITY's training step on sysdyn's runtime ([`sysdyn_train::TrainStep`]).
//!
//! One runtime step is one batch: `N_iter` gradient steps on
//! [`AphynityObjective`]'s loss through a differentiable rollout ([`rollout`]), then the
//! multiplier update `λ ← λ + τ₂ L_traj` with the trajectory loss of the last of them (as the
//! authors' code does). `λ` is saved in every checkpoint (`aphynity-lambda.json`) with the model
//! and the optimizer's state, so a resumed run continues with the same `λ`. The evaluation
//! reports the test set's trajectory MSE and the physical parameters.

use std::fmt::Debug;
use std::path::Path;

use burn::optim::{GradientsParams, Optimizer};
use burn::tensor::{Device, Int, Tensor, TensorData};
use sysdyn_solvers::ButcherTableau;
use sysdyn_solvers::methods::RK4;
use sysdyn_train::{
    BoxError, Checkpointable, NonFinite, Optim, StepContext, StepReport, TrainError, TrainStep,
    find_non_finite, load_json, load_module, save_json, save_module,
};

use super::aphynity::{AphynityObjective, Multiplier, augmentation_penalty, trajectory_loss};
use super::augmented::{Augmentation, AugmentedModel};
use super::rollout::{rollout, stack_states};
use crate::error::PhysicsError;
use crate::model::{PhysicalModel, host_tensor};
use crate::simulators::Dataset;

/// Trajectories on a common time grid, checked and held as one `[count, times, n]` tensor.
#[derive(Debug, Clone)]
pub struct TrajectoryData {
    values: Tensor<3>,
    times: Vec<f64>,
}

impl TrajectoryData {
    /// The trajectories of `dataset` on `device`. Errors: no trajectory, no time, a
    /// trajectory whose length differs from the times, a state whose length differs from
    /// `state_len`, NaN or infinite values ([`PhysicsError::NonFinite`]).
    pub fn new(dataset: &Dataset, state_len: usize, device: &Device) -> Result<Self, PhysicsError> {
        if dataset.trajectories.is_empty() {
            return Err(PhysicsError::Empty {
                what: "data set",
                unit: "trajectory",
            });
        }
        let t = dataset.times.len();
        if t == 0 {
            return Err(PhysicsError::Empty {
                what: "data set times",
                unit: "time",
            });
        }
        let mut values = Vec::with_capacity(dataset.trajectories.len() * t * state_len);
        for trajectory in &dataset.trajectories {
            crate::stencil::check_len(
                "states per trajectory (one per time)",
                t,
                trajectory.states.len(),
            )?;
            for state in &trajectory.states {
                crate::stencil::check_len("state length of the data", state_len, state.len())?;
                values.extend_from_slice(state);
            }
        }
        if let Some(index) = values.iter().position(|v| !v.is_finite()) {
            return Err(PhysicsError::NonFinite {
                what: "trajectory data",
                index,
            });
        }
        let like: Tensor<2> = Tensor::zeros([1, 1], device);
        let count = dataset.trajectories.len();
        Ok(TrajectoryData {
            values: host_tensor(values, [count, t, state_len], &like),
            times: dataset.times.clone(),
        })
    }

    /// The number of trajectories.
    pub fn count(&self) -> usize {
        self.values.dims()[0]
    }

    /// The times.
    pub fn times(&self) -> &[f64] {
        &self.times
    }

    /// All trajectories, `[count, times, n]`.
    pub fn values(&self) -> &Tensor<3> {
        &self.values
    }

    /// The trajectories of `rows`.
    fn select(&self, rows: &[usize]) -> Tensor<3> {
        if rows.len() == self.count() {
            return self.values.clone();
        }
        let ids: Vec<i64> = rows.iter().map(|&r| r as i64).collect();
        let index =
            Tensor::<1, Int>::from_data(TensorData::new(ids, [rows.len()]), &self.values.device());
        self.values.clone().select(0, index)
    }
}

/// The predicted trajectories `[batch, times, n]` of `model` from the first state of each of
/// `data` (`[batch, times, n]`), with `substeps` steps of `method` per data interval.
pub fn predict<M, A>(
    model: &AugmentedModel<M, A>,
    data: &Tensor<3>,
    times: &[f64],
    method: &ButcherTableau,
    substeps: usize,
) -> Result<Tensor<3>, PhysicsError>
where
    M: PhysicalModel + Clone + Debug + Send + Sync + 'static,
    A: Augmentation,
{
    let [b, _, n] = data.dims();
    let y0 = data.clone().narrow(1, 0, 1).reshape([b, n]);
    let states = rollout(|t, y| model.field(t, y), method, y0, times, substeps)?;
    Ok(stack_states(states))
}

/// The settings of an [`AphynityStep`].
#[derive(Debug, Clone, PartialEq)]
pub struct AphynityConfig {
    /// The objective (APHYNITY or the trajectory loss alone).
    pub objective: AphynityObjective,
    /// `N_iter`: gradient steps per batch before `λ` is updated (≥ 1).
    pub inner_steps: usize,
    /// Trajectories per batch (all of them when larger than the training set).
    pub batch_size: usize,
    /// RK4 steps per data interval (1: one step per interval, as the authors' code).
    pub substeps: usize,
}

impl AphynityConfig {
    /// Checks the settings.
    pub fn validate(&self) -> Result<(), PhysicsError> {
        self.objective.validate()?;
        for (name, v) in [
            ("inner_steps", self.inner_steps),
            ("batch_size", self.batch_size),
            ("substeps", self.substeps),
        ] {
            if v == 0 {
                return Err(PhysicsError::InvalidParameter {
                    name,
                    value: 0.0,
                    requirement: "must be at least 1",
                });
            }
        }
        Ok(())
    }
}

/// One logged batch: `(L_traj, mean ‖F_a(X)‖² on the data, λ)`.
pub type HistoryEntry = (f64, f64, f64);

/// APHYNITY's step for [`sysdyn_train::Trainer`] (see the module docs).
pub struct AphynityStep<M, A, O>
where
    M: PhysicalModel + Clone + Debug + Send + Sync + 'static,
    A: Augmentation,
    O: Optimizer,
{
    model: AugmentedModel<M, A>,
    optim: Optim<O>,
    config: AphynityConfig,
    multiplier: Option<Multiplier>,
    train: TrajectoryData,
    test: Option<TrajectoryData>,
    history: Vec<HistoryEntry>,
}

impl<M, A, O> AphynityStep<M, A, O>
where
    M: PhysicalModel + Clone + Debug + Send + Sync + 'static,
    A: Augmentation,
    O: Optimizer,
{
    /// A step training `model` (on an autodiff device) with `optim` on `train`, evaluated on
    /// `test` when given.
    pub fn new(
        model: AugmentedModel<M, A>,
        optim: Optim<O>,
        config: AphynityConfig,
        train: TrajectoryData,
        test: Option<TrajectoryData>,
    ) -> Result<Self, PhysicsError> {
        config.validate()?;
        let len = model.state_len();
        for data in std::iter::once(&train).chain(test.as_ref()) {
            crate::stencil::check_len(
                "state length of the data for this model",
                len,
                data.values.dims()[2],
            )?;
        }
        let multiplier = match config.objective {
            AphynityObjective::Aphynity { lambda0, tau2, .. } => {
                Some(Multiplier::new(lambda0, tau2)?)
            }
            AphynityObjective::Trajectory => None,
        };
        Ok(AphynityStep {
            model,
            optim,
            config,
            multiplier,
            train,
            test,
            history: Vec::new(),
        })
    }

    /// The model.
    pub fn model(&self) -> &AugmentedModel<M, A> {
        &self.model
    }

    /// The current `λ` (`None` for the trajectory objective).
    pub fn lambda(&self) -> Option<f64> {
        self.multiplier.map(|m| m.lambda)
    }

    /// `(L_traj, ‖F_a‖², λ)` of every batch of this session (diagnostics, not checkpointed).
    pub fn history(&self) -> &[HistoryEntry] {
        &self.history
    }

    /// The test set's trajectory MSE (`None` without a test set).
    pub fn test_mse(&self) -> Result<Option<f64>, PhysicsError> {
        let Some(test) = &self.test else {
            return Ok(None);
        };
        let pred = predict(
            &self.model,
            &test.values,
            &test.times,
            &RK4,
            self.config.substeps,
        )?;
        let mse = trajectory_loss(pred.detach(), test.values.clone())?;
        Ok(Some(mse.into_scalar::<f64>()))
    }

    fn batch_rows(&self, ctx: &mut StepContext) -> Vec<usize> {
        let n = self.train.count();
        let b = self.config.batch_size.min(n);
        let mut rows: Vec<usize> = (0..n).collect();
        if b < n {
            // A partial Fisher–Yates shuffle: `b` distinct rows.
            for i in 0..b {
                let j = i + ctx.rng.below((n - i) as u64) as usize;
                rows.swap(i, j);
            }
            rows.truncate(b);
        }
        rows
    }
}

impl<M, A, O> Checkpointable for AphynityStep<M, A, O>
where
    M: PhysicalModel + Clone + Debug + Send + Sync + 'static,
    A: Augmentation,
    O: Optimizer,
{
    fn save_checkpoint(&self, dir: &Path) -> Result<(), TrainError> {
        save_module(&self.model, dir, "aphynity-model")?;
        save_json(&self.multiplier, dir, "aphynity-lambda")?;
        self.optim.save(dir, "aphynity-optim")
    }

    fn load_checkpoint(&mut self, dir: &Path) -> Result<(), TrainError> {
        self.model = load_module(self.model.clone(), dir, "aphynity-model")?;
        self.multiplier = load_json(dir, "aphynity-lambda")?;
        self.optim.load(dir, "aphynity-optim", &self.model)
    }
}

impl<M, A, O> TrainStep for AphynityStep<M, A, O>
where
    M: PhysicalModel + Clone + Debug + Send + Sync + 'static,
    A: Augmentation,
    O: Optimizer,
{
    fn step(&mut self, ctx: &mut StepContext) -> Result<StepReport, BoxError> {
        let rows = self.batch_rows(ctx);
        let target = self.train.select(&rows);
        let [b, t, n] = target.dims();
        let shape = self.model.state_shape();
        let mut last = (0.0, 0.0, 0.0);
        for _ in 0..self.config.inner_steps {
            let pred = predict(
                &self.model,
                &target,
                &self.train.times,
                &RK4,
                self.config.substeps,
            )?;
            let traj = trajectory_loss(pred, target.clone())?;
            let states = target.clone().reshape([b * t, n]);
            let fa = self.model.augmentation_field(states.clone())?;
            let fa_sq = fa.clone().powi_scalar(2).sum_dim(1).mean();
            let loss = match (
                self.config.objective,
                self.multiplier,
                self.model.augmentation(),
            ) {
                (AphynityObjective::Aphynity { norm, .. }, Some(m), Some(_)) => {
                    augmentation_penalty(fa, states, &shape, norm)?
                        + traj.clone().mul_scalar(m.lambda)
                }
                _ => traj.clone(),
            };
            let loss_value = loss.clone().into_scalar::<f64>();
            last = (
                traj.into_scalar::<f64>(),
                fa_sq.into_scalar::<f64>(),
                loss_value,
            );
            let grads = GradientsParams::from_grads(loss.backward(), &self.model);
            let model = self.model.clone();
            self.model = self.optim.step(ctx.lr, model, grads);
        }
        let (traj, fa_sq, loss) = last;
        let lambda = match &mut self.multiplier {
            Some(m) => m.update(traj)?,
            None => f64::NAN,
        };
        self.history.push((traj, fa_sq, lambda));
        let mut report = StepReport::new(loss)
            .with("traj", traj)
            .with("fa_sq", fa_sq);
        if lambda.is_finite() {
            report = report.with("lambda", lambda);
        }
        for (name, value) in self
            .model
            .parameter_names()
            .iter()
            .zip(self.model.parameters())
        {
            report = report.with(name, value);
        }
        Ok(report)
    }

    fn evaluate(&mut self, _ctx: &StepContext) -> Result<Vec<(String, f64)>, BoxError> {
        Ok(self
            .test_mse()?
            .map(|mse| vec![("test_mse".to_string(), mse)])
            .unwrap_or_default())
    }

    fn non_finite_parameter(&self) -> Option<NonFinite> {
        find_non_finite(&self.model, "aphynity-model")
    }
}
