//! Training a PINN on sysdyn's runtime: [`PinnStep`] takes one optimizer step (Adam, typically)
//! on the full loss per call, updating annealed weights when asked; [`PinnStep::lbfgs`] then
//! minimises the *same* weighted loss with sysdyn-optim's L-BFGS (Raissi et al.'s schedule:
//! Adam first, L-BFGS to finish).
//!
//! On CPU devices a plain MLP's jets run on the host engine ([`super::host`], the default; see
//! [`PinnStep::with_host_engine`]); elsewhere, and for feature maps or output transforms, on
//! the tensor path. Both give the same loss and gradient.

use std::path::Path;

use burn::module::{Module, ModuleDisplay, Param};
use burn::optim::{GradientsParams, Optimizer};
use burn::tensor::Tensor;
use sysdyn_core::device::SysDevice;
use sysdyn_optim::lbfgs::{flatten_parameters, loss_and_gradient, set_parameters};
use sysdyn_optim::{Lbfgs, LbfgsReport};
use sysdyn_train::{
    BoxError, Checkpointable, NonFinite, Optim, StepContext, StepReport, TrainError, TrainStep,
    find_non_finite, global_grad_norm, load_module, save_module,
};

use super::collocation::Points;
use super::host;
use super::network::PinnField;
use super::problem::{LossWeights, PinnModel, PinnProblem, PreparedLoss};
use crate::PhysicsError;

/// The condition weights as a module, so checkpoints save them with burn's persistence.
#[derive(Module, Debug)]
struct WeightsRecord {
    weights: Param<Tensor<1>>,
}

/// A PINN training step for [`sysdyn_train::Trainer`]: the model (network and physical
/// parameters), its optimizer, the prepared loss and the current condition weights. Logs the
/// total loss, the residual loss, each condition's loss and the gradient norm.
pub struct PinnStep<N: Module + ModuleDisplay + PinnField, O: Optimizer> {
    device: SysDevice,
    model: PinnModel<N>,
    optim: Optim<O>,
    loss: PreparedLoss,
    weights: Vec<f64>,
    host_engine: bool,
    workspace: host::HostWorkspace,
}

impl<N: Module + ModuleDisplay + PinnField, O: Optimizer> PinnStep<N, O> {
    /// A step for `network` on `problem` on `device` (an autodiff device).
    pub fn new(
        device: SysDevice,
        network: N,
        optim: Optim<O>,
        problem: &PinnProblem,
    ) -> Result<Self, PhysicsError> {
        let model = PinnModel::new(network, problem, &device)?;
        let weights = match problem.weights() {
            LossWeights::Fixed(w) => w.clone(),
            LossWeights::Annealing { .. } => vec![1.0; problem.conditions().len()],
        };
        let loss = problem.prepare(&device)?;
        Ok(PinnStep {
            device,
            model,
            optim,
            loss,
            weights,
            host_engine: true,
            workspace: host::HostWorkspace::default(),
        })
    }

    /// Whether the step computes a plain MLP's jets on the host engine when its parameters
    /// live on a CPU device ([`super::host`], the default) or, with `false`, always on the
    /// tensor path (the same mathematics; for comparisons). Annealing updates use the tensor
    /// path either way; L-BFGS ([`PinnStep::lbfgs`]) follows this choice.
    pub fn with_host_engine(mut self, on: bool) -> Self {
        self.host_engine = on;
        self
    }

    /// The model.
    pub fn model(&self) -> &PinnModel<N> {
        &self.model
    }

    /// The problem.
    pub fn problem(&self) -> &PinnProblem {
        self.loss.problem()
    }

    /// Replaces the collocation points of the loss (see [`super::dgm::DgmStep`]).
    pub fn set_collocation(&mut self, collocation: Points) -> Result<(), PhysicsError> {
        self.loss.set_collocation(collocation, &self.device)
    }

    /// The current condition weights.
    pub fn weights(&self) -> &[f64] {
        &self.weights
    }

    /// The weighted loss of the current model on the host.
    pub fn loss_value(&self) -> Result<f64, PhysicsError> {
        let total = self.model.parts(&self.loss)?.total(&self.weights)?;
        Ok(total.into_scalar::<f64>())
    }

    /// Learning-rate annealing (Wang et al. 2021): `ŵ_i = max|∇L_r| / mean|∇L_i|`,
    /// `w_i ← (1 − α) w_i + α ŵ_i`; one backward pass per loss part.
    fn anneal(&mut self, alpha: f64) -> Result<(), BoxError> {
        let parts = self.model.parts(&self.loss)?;
        let (_, residual_grad) = loss_and_gradient(&self.model, parts.residual)?;
        let max_residual = residual_grad.iter().fold(0.0f64, |m, g| m.max(g.abs()));
        for (i, part) in self
            .model
            .parts(&self.loss)?
            .conditions
            .into_iter()
            .enumerate()
        {
            let (_, grad) = loss_and_gradient(&self.model, part)?;
            let mean = grad.iter().map(|g| g.abs()).sum::<f64>() / grad.len().max(1) as f64;
            if mean > 0.0 && mean.is_finite() && max_residual.is_finite() {
                let target = max_residual / mean;
                self.weights[i] = (1.0 - alpha) * self.weights[i] + alpha * target;
            }
        }
        Ok(())
    }

    /// Minimises the current weighted loss with `solver` over every parameter of the model
    /// (network and physical parameters), full batch; the model is replaced by the result.
    /// Each evaluation takes the host path when the step does ([`PinnStep::with_host_engine`]).
    pub fn lbfgs(&mut self, solver: &Lbfgs) -> Result<LbfgsReport, PhysicsError> {
        if self.host_engine && host::takes(&self.model) {
            return self.lbfgs_on_host(solver);
        }
        let mut failure: Option<PhysicsError> = None;
        let weights = self.weights.clone();
        let loss = &self.loss;
        let device = self.device.clone();
        let (model, report) = solver
            .minimize_module(self.model.clone(), |m: &PinnModel<N>| {
                match m.parts(loss).and_then(|p| p.total(&weights)) {
                    Ok(total) => total,
                    Err(e) => {
                        failure.get_or_insert(e);
                        device.zeros([1]).add_scalar(f64::NAN)
                    }
                }
            })
            .map_err(|e| match failure.take() {
                Some(physics) => physics,
                None => PhysicsError::Optim(e),
            })?;
        self.model = model;
        Ok(report)
    }
}

impl<N: Module + ModuleDisplay + PinnField, O: Optimizer> PinnStep<N, O> {
    /// [`PinnStep::lbfgs`] with the loss and its gradient from the host path, on the flat
    /// parameter vector in burn's visiting order.
    fn lbfgs_on_host(&mut self, solver: &Lbfgs) -> Result<LbfgsReport, PhysicsError> {
        let x0 = flatten_parameters(&self.model)?;
        let template = self.model.clone();
        let (loss, weights, workspace) = (&self.loss, &self.weights, &mut self.workspace);
        let mut failure: Option<PhysicsError> = None;
        let report = solver.minimize(&x0, |x| {
            let evaluated = set_parameters(template.clone(), x)
                .map_err(PhysicsError::from)
                .and_then(|model| {
                    let h = host::loss_and_gradients_in(&model, loss, weights, workspace).ok_or(
                        PhysicsError::Empty {
                            what: "the host path for this model (it took the first evaluation)",
                            unit: "plain MLP on a CPU device",
                        },
                    )??;
                    Ok((h.total, host::flatten_gradients(&model, &h.grads)?))
                });
            match evaluated {
                Ok(pair) => pair,
                Err(e) => {
                    failure.get_or_insert(e);
                    (f64::NAN, vec![0.0; x.len()])
                }
            }
        });
        if let Some(e) = failure {
            return Err(e);
        }
        let report = report?;
        self.model = set_parameters(self.model.clone(), &report.x)?;
        Ok(report)
    }
}

impl<N: Module + ModuleDisplay + PinnField, O: Optimizer> Checkpointable for PinnStep<N, O> {
    fn save_checkpoint(&self, dir: &Path) -> Result<(), TrainError> {
        save_module(&self.model, dir, "pinn")?;
        if !self.weights.is_empty() {
            let record = WeightsRecord {
                weights: Param::from_tensor(
                    self.device
                        .tensor(self.weights.clone(), [self.weights.len()])
                        .map_err(|e| TrainError::InvalidConfig(e.to_string()))?,
                ),
            };
            save_module(&record, dir, "pinn-weights")?;
        }
        self.optim.save(dir, "pinn-optim")
    }

    fn load_checkpoint(&mut self, dir: &Path) -> Result<(), TrainError> {
        self.model = load_module(self.model.clone(), dir, "pinn")?;
        if !self.weights.is_empty() {
            let record = WeightsRecord {
                weights: Param::from_tensor(self.device.zeros([self.weights.len()])),
            };
            let record = load_module(record, dir, "pinn-weights")?;
            self.weights = record
                .weights
                .val()
                .try_into_vec_as::<f64>()
                .map_err(|e| TrainError::InvalidConfig(format!("{e:?}")))?;
        }
        self.optim.load(dir, "pinn-optim", &self.model)
    }
}

impl<N: Module + ModuleDisplay + PinnField, O: Optimizer> TrainStep for PinnStep<N, O> {
    fn step(&mut self, ctx: &mut StepContext) -> Result<StepReport, BoxError> {
        if let LossWeights::Annealing { alpha, every } = self.loss.problem().weights()
            && ctx.step.is_multiple_of(*every)
        {
            let alpha = *alpha;
            self.anneal(alpha)?;
        }
        let host = if self.host_engine {
            host::loss_and_gradients_in(&self.model, &self.loss, &self.weights, &mut self.workspace)
                .transpose()?
        } else {
            None
        };
        let (parts, value, mut grads) = match host {
            Some(h) => (h.parts, h.total, h.grads),
            None => {
                let parts = self.model.parts(&self.loss)?;
                let loss = parts.total(&self.weights)?;
                let value = loss.clone().into_scalar::<f64>();
                let grads = GradientsParams::from_grads(loss.backward(), &self.model);
                (parts, value, grads)
            }
        };
        let residual = parts.residual.clone().into_scalar::<f64>();
        let conditions: Vec<f64> = parts
            .conditions
            .iter()
            .map(|c| c.clone().into_scalar::<f64>())
            .collect();
        let grad_norm = ctx
            .clip_grads(&mut grads, &self.model)
            .unwrap_or_else(|| global_grad_norm(&grads, &self.model));
        let model = self.model.clone();
        self.model = self.optim.step(ctx.lr, model, grads);
        let mut report = StepReport::new(value)
            .with("residual", residual)
            .with("grad_norm", grad_norm);
        for (i, c) in conditions.into_iter().enumerate() {
            report = report
                .with(&format!("condition_{i}"), c)
                .with(&format!("weight_{i}"), self.weights[i]);
        }
        Ok(report)
    }

    fn non_finite_parameter(&self) -> Option<NonFinite> {
        find_non_finite(&self.model, "pinn")
    }
}
