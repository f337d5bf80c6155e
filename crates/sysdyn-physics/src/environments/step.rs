//! Training a multi-environment model on sysdyn-train's runtime: [`EnvStep`] is
//! `GanStep`'s pattern with one model. Each step rolls the model out over every training
//! trajectory of every environment at once (one tensor `[E, B, d]`, RK4 with teacher forcing,
//! [`rollout`]), takes the mean of the environments' MSEs plus the model's penalty, and updates
//! all parameters with the step's optimizer (the runtime clips the global gradient norm when
//! its configuration asks, as CoDA does at 1).

use std::path::Path;

use burn::module::Module;
use burn::optim::{GradientsParams, Optimizer};
use burn::tensor::Tensor;
use sysdyn_train::{
    BoxError, Checkpointable, NonFinite, Optim, StepContext, StepReport, TrainError, TrainStep,
    find_non_finite, global_grad_norm, load_module, save_module,
};

use crate::environments::data::EnvTrajectories;
use crate::environments::rollout::{TeacherForcing, mse_per_env, rollout};
use crate::error::PhysicsError;

/// A learned field over environments: LEADS and its baselines, CoDA.
pub trait EnvironmentModel: Module {
    /// The environments the model has parameters for; `None` for a model shared by any
    /// number of environments (One-For-All).
    fn envs(&self) -> Option<usize>;

    /// The length of the state it maps.
    fn state_len(&self) -> usize;

    /// `dx/dt` for `x: [E, B, d]`, row block `e` in environment `e`. Shapes are the caller's
    /// to check ([`EnvironmentModel::check`]) once before a rollout.
    fn field(&self, x: Tensor<3>) -> Tensor<3>;

    /// The field as a closure for one rollout: a model whose parameters are computed (CoDA's
    /// `θ_e = θ_c + W ξ_e`) computes them once here rather than at every evaluation.
    fn field_fn(&self) -> Box<dyn Fn(Tensor<3>) -> Tensor<3> + '_> {
        Box::new(move |x| self.field(x))
    }

    /// The regulariser added to the trajectory loss (already weighted), or `None`.
    fn penalty(&self, data: &EnvTrajectories) -> Result<Option<Tensor<1>>, PhysicsError>;

    /// Checks that `data` fits the model: the same number of environments (unless shared)
    /// and the same state length.
    fn check(&self, data: &EnvTrajectories) -> Result<(), PhysicsError> {
        data.check_model_envs(self.envs())?;
        if data.state_len() != self.state_len() {
            return Err(PhysicsError::SizeMismatch {
                what: "state length of the data against the model's input width",
                expected: self.state_len(),
                got: data.state_len(),
            });
        }
        Ok(())
    }
}

/// The model's prediction `[E, B, T, d]` of `data`'s trajectories from their initial states
/// (no teacher forcing), `substeps` RK4 steps per interval.
pub fn predict<M: EnvironmentModel>(
    model: &M,
    data: &EnvTrajectories,
    substeps: usize,
) -> Result<Tensor<4>, PhysicsError> {
    model.check(data)?;
    rollout(
        |x| model.field(x.clone()),
        &data.states,
        data.dt,
        substeps,
        &[],
    )
}

/// The test MSE of each environment (over every trajectory, time and component, the initial
/// state included, as LEADS reports it), on the host.
pub fn mse_by_env<M: EnvironmentModel>(
    model: &M,
    data: &EnvTrajectories,
    substeps: usize,
) -> Result<Vec<f64>, PhysicsError> {
    let prediction = predict(model, data, substeps)?.detach();
    let mse = mse_per_env(prediction, data.states.clone().detach());
    mse.into_data()
        .convert::<f64>()
        .try_to_vec::<f64>()
        .map_err(|e| PhysicsError::Linalg(format!("reading the MSE back: {e:?}")))
}

/// One training step of a multi-environment model (see the module docs).
pub struct EnvStep<M: EnvironmentModel, O: Optimizer> {
    model: M,
    optim: Optim<O>,
    train: EnvTrajectories,
    test: Option<EnvTrajectories>,
    forcing: TeacherForcing,
    substeps: usize,
}

impl<M: EnvironmentModel, O: Optimizer> EnvStep<M, O> {
    /// A step training `model` (on an autodiff device) on `train`, evaluating on `test`.
    /// Errors: data that do not fit the model, a bad teacher-forcing schedule, no substeps.
    pub fn new(
        model: M,
        optim: Optim<O>,
        train: EnvTrajectories,
        test: Option<EnvTrajectories>,
        forcing: TeacherForcing,
        substeps: usize,
    ) -> Result<Self, PhysicsError> {
        model.check(&train)?;
        if let Some(test) = &test {
            model.check(test)?;
        }
        forcing.validate()?;
        if substeps == 0 {
            return Err(PhysicsError::InvalidParameter {
                name: "substeps",
                value: 0.0,
                requirement: "at least one RK4 step per interval",
            });
        }
        Ok(EnvStep {
            model,
            optim,
            train,
            test,
            forcing,
            substeps,
        })
    }

    /// The model.
    pub fn model(&self) -> &M {
        &self.model
    }

    /// The model, taking it out of the step.
    pub fn into_model(self) -> M {
        self.model
    }

    /// The loss `mean_e MSE_e + penalty` with the given restarts, and the MSE alone.
    pub fn loss(&self, restarts: &[bool]) -> Result<(Tensor<1>, f64), PhysicsError> {
        let model = &self.model;
        let field = model.field_fn();
        let prediction = rollout(
            |x| field(x.clone()),
            &self.train.states,
            self.train.dt,
            self.substeps,
            restarts,
        )?;
        let mse = mse_per_env(prediction, self.train.states.clone())
            .mean()
            .reshape([1]);
        let mse_value = mse.clone().into_scalar::<f64>();
        let loss = match model.penalty(&self.train)? {
            Some(p) => mse + p,
            None => mse,
        };
        Ok((loss, mse_value))
    }
}

impl<M: EnvironmentModel, O: Optimizer> Checkpointable for EnvStep<M, O> {
    fn save_checkpoint(&self, dir: &Path) -> Result<(), TrainError> {
        save_module(&self.model, dir, "model")?;
        self.optim.save(dir, "model-optim")
    }

    fn load_checkpoint(&mut self, dir: &Path) -> Result<(), TrainError> {
        self.model = load_module(self.model.clone(), dir, "model")?;
        self.optim.load(dir, "model-optim", &self.model)
    }
}

impl<M: EnvironmentModel, O: Optimizer> TrainStep for EnvStep<M, O> {
    fn step(&mut self, ctx: &mut StepContext) -> Result<StepReport, BoxError> {
        let mut rng = ctx.rng.clone();
        let restarts = self
            .forcing
            .draw(ctx.step, self.train.times() - 1, &mut rng);
        let (loss, mse) = self.loss(&restarts)?;
        let value = loss.clone().into_scalar::<f64>();
        let mut grads = GradientsParams::from_grads(loss.backward(), &self.model);
        let grad_norm = ctx
            .clip_grads(&mut grads, &self.model)
            .unwrap_or_else(|| global_grad_norm(&grads, &self.model));
        let model = self.model.clone();
        self.model = self.optim.step(ctx.lr, model, grads);
        Ok(StepReport::new(value)
            .with("mse", mse)
            .with("epsilon", self.forcing.epsilon(ctx.step))
            .with("grad_norm", grad_norm))
    }

    fn evaluate(&mut self, _ctx: &StepContext) -> Result<Vec<(String, f64)>, BoxError> {
        let Some(test) = &self.test else {
            return Ok(Vec::new());
        };
        let mse = mse_by_env(&self.model, test, self.substeps)?;
        Ok(vec![(
            "test_mse".to_string(),
            mse.iter().sum::<f64>() / mse.len().max(1) as f64,
        )])
    }

    fn non_finite_parameter(&self) -> Option<NonFinite> {
        find_non_finite(&self.model, "model")
    }
}
