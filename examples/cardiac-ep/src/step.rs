//! The training step for a hybrid model with a hidden state: only the potential is observed.
//!
//! Mitchell–Schaeffer's state is `(v, h)` on the slab, but the data record only the potential.
//! Every trajectory starts at the stimulus, from rest, where the gate is open everywhere:
//! `h(0) = 1` is exact there, so the rollout starts from `(v_data(0), 1)` and the gate evolves
//! by the model's own equations (for the network alone, the second channel is a latent field
//! started at 1). The loss compares the potential channel only:
//!
//! `L_traj = mean_{k, i, cells} (v̂_k(t_i) − v_k(t_i))²`,
//!
//! and APHYN-EP minimises `‖F_a‖² + λ L_traj` with `λ ← λ + τ₂ L_traj` after each batch
//! (APHYNITY's objective, `sysdyn_physics::hybrid::aphynity`), `‖F_a‖²` evaluated on the
//! predicted states (detached: constants, as APHYNITY's data states are), since the gate has no
//! data. Baselines minimise `L_traj` alone. Everything else — the rollout, the objective's parts,
//! the multiplier, the optimizer and checkpoints — is the library's and sysdyn-train's.

use std::path::Path;

use burn::module::Module;
use burn::optim::{GradientsParams, Optimizer};
use burn::tensor::{Int, Tensor, TensorData};
use sysdyn_physics::PhysicalModel;
use sysdyn_physics::PhysicsError;
use sysdyn_physics::hybrid::{
    AphynityObjective, Augmentation, AugmentedModel, ConvAugmentation, Multiplier,
    augmentation_penalty, rollout, stack_states, trajectory_loss,
};
use sysdyn_physics::simulators::cardiac::MitchellSchaeffer;
use sysdyn_solvers::methods::RK4;
use sysdyn_train::{
    BoxError, Checkpointable, NonFinite, Optim, StepContext, StepReport, TrainError, TrainStep,
    find_non_finite, load_json, load_module, save_json, save_module,
};

/// `F_a` on the potential: a convolutional network (one channel in, one out, zero padding)
/// that reads the potential `v` and corrects `dv/dt` only. On a state `(v, h)` it leaves the
/// gate's equation alone, `F_a(v, h) = (net(v), 0)`: the gate has no data to learn a correction
/// from, and a network free to push `h` below 0 makes `h v²(1 − v)/τ_in` grow like `v³` (the
/// forecast blows up). On a state `v` alone (the network without physics) it is `net(v)`.
#[derive(Module, Debug)]
pub struct PotentialNet {
    net: ConvAugmentation,
    #[module(skip)]
    cells: usize,
}

impl PotentialNet {
    /// A network on `side × side` potentials with `hidden` channels inside, weights scaled by
    /// `gain`, drawn from `seed`.
    pub fn new(
        side: usize,
        hidden: usize,
        gain: f64,
        seed: u64,
        device: &burn::tensor::Device,
    ) -> Result<Self, PhysicsError> {
        Ok(PotentialNet {
            net: ConvAugmentation::new(1, side, hidden, false, gain, seed, device)?,
            cells: side * side,
        })
    }
}

impl Augmentation for PotentialNet {
    fn field(&self, y: Tensor<2>) -> Result<Tensor<2>, PhysicsError> {
        let [b, len] = y.dims();
        if len == self.cells {
            return self.net.field(y);
        }
        check_len(
            "state columns of the potential network (cells or 2·cells)",
            2 * self.cells,
            len,
        )?;
        let dv = self.net.field(y.narrow(1, 0, self.cells))?;
        let dh = Tensor::zeros([b, self.cells], (&dv.device(), dv.dtype()));
        Ok(Tensor::cat(vec![dv, dh], 1))
    }
}

/// The model every variant trains: Mitchell–Schaeffer `F_p` and/or the potential network `F_a`.
pub type CardiacModel = AugmentedModel<MitchellSchaeffer, PotentialNet>;

/// The predicted states `[batch, frames, n]` of `model` from observed initial potentials `v0`
/// (`[batch, cells]`), `substeps` RK4 steps per frame interval. A model with the gate
/// (`n = 2·cells`, potential first) starts it at rest, `h = 1`; the network alone
/// (`n = cells`) evolves the potential only.
pub fn forecast_states(
    model: &CardiacModel,
    v0: Tensor<2>,
    times: &[f64],
    substeps: usize,
) -> Result<Tensor<3>, PhysicsError> {
    let y0 = if model.state_len() == v0.dims()[1] {
        v0
    } else {
        let gate = v0.clone().ones_like();
        Tensor::cat(vec![v0, gate], 1)
    };
    let states = rollout(|t, y| model.field(t, y), &RK4, y0, times, substeps)?;
    Ok(stack_states(states))
}

/// The predicted potentials `[batch, frames, cells]` from the first frame of `observed`
/// (`[batch, frames, cells]`).
pub fn forecast(
    model: &CardiacModel,
    observed: &Tensor<3>,
    times: &[f64],
    substeps: usize,
) -> Result<Tensor<3>, PhysicsError> {
    let [b, _, cells] = observed.dims();
    let v0 = observed.clone().narrow(1, 0, 1).reshape([b, cells]);
    let states = forecast_states(model, v0, times, substeps)?;
    Ok(states.narrow(2, 0, cells))
}

fn check_len(what: &'static str, expected: usize, got: usize) -> Result<(), PhysicsError> {
    if expected == got {
        Ok(())
    } else {
        Err(PhysicsError::SizeMismatch {
            what,
            expected,
            got,
        })
    }
}

/// The settings of a [`CardiacStep`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CardiacConfig {
    /// APHYNITY's objective or the trajectory loss alone.
    pub objective: AphynityObjective,
    /// Trajectories per batch.
    pub batch_size: usize,
    /// RK4 steps per frame interval.
    pub substeps: usize,
}

/// One logged batch: `(L_traj, mean ‖F_a‖² on the predicted states, λ)`.
pub type HistoryEntry = (f64, f64, f64);

/// The step (see the module docs).
pub struct CardiacStep<O: Optimizer> {
    model: CardiacModel,
    optim: Optim<O>,
    config: CardiacConfig,
    multiplier: Option<Multiplier>,
    observed: Tensor<3>,
    times: Vec<f64>,
    history: Vec<HistoryEntry>,
}

impl<O: Optimizer> CardiacStep<O> {
    /// A step training `model` on the observed potentials `[count, frames, cells]` at `times`.
    pub fn new(
        model: CardiacModel,
        optim: Optim<O>,
        config: CardiacConfig,
        observed: Tensor<3>,
        times: Vec<f64>,
    ) -> Result<Self, PhysicsError> {
        config.objective.validate()?;
        let [count, frames, cells] = observed.dims();
        if count == 0 || config.batch_size == 0 || config.substeps == 0 {
            return Err(PhysicsError::InvalidParameter {
                name: "trajectories, batch size and substeps",
                value: 0.0,
                requirement: "must each be at least 1",
            });
        }
        check_len("frames of the observed potentials", times.len(), frames)?;
        if model.state_len() != cells {
            check_len(
                "state length (potential and gate) of the model",
                model.state_len(),
                2 * cells,
            )?;
        }
        let multiplier = match config.objective {
            AphynityObjective::Aphynity { lambda0, tau2, .. } => {
                Some(Multiplier::new(lambda0, tau2)?)
            }
            AphynityObjective::Trajectory => None,
        };
        Ok(CardiacStep {
            model,
            optim,
            config,
            multiplier,
            observed,
            times,
            history: Vec::new(),
        })
    }

    /// The model.
    pub fn model(&self) -> &CardiacModel {
        &self.model
    }

    /// The current `λ` (`None` for the trajectory objective).
    pub fn lambda(&self) -> Option<f64> {
        self.multiplier.map(|m| m.lambda)
    }

    /// `(L_traj, ‖F_a‖², λ)` of every batch.
    pub fn history(&self) -> &[HistoryEntry] {
        &self.history
    }

    fn batch(&self, ctx: &mut StepContext) -> Tensor<3> {
        let n = self.observed.dims()[0];
        let b = self.config.batch_size.min(n);
        if b == n {
            return self.observed.clone();
        }
        let mut rows: Vec<i64> = (0..n as i64).collect();
        // A partial Fisher–Yates shuffle: `b` distinct trajectories.
        for i in 0..b {
            let j = i + ctx.rng.below((n - i) as u64) as usize;
            rows.swap(i, j);
        }
        rows.truncate(b);
        let index =
            Tensor::<1, Int>::from_data(TensorData::new(rows, [b]), &self.observed.device());
        self.observed.clone().select(0, index)
    }
}

impl<O: Optimizer> Checkpointable for CardiacStep<O> {
    fn save_checkpoint(&self, dir: &Path) -> Result<(), TrainError> {
        save_module(&self.model, dir, "cardiac-model")?;
        save_json(&self.multiplier, dir, "cardiac-lambda")?;
        self.optim.save(dir, "cardiac-optim")
    }

    fn load_checkpoint(&mut self, dir: &Path) -> Result<(), TrainError> {
        self.model = load_module(self.model.clone(), dir, "cardiac-model")?;
        self.multiplier = load_json(dir, "cardiac-lambda")?;
        self.optim.load(dir, "cardiac-optim", &self.model)
    }
}

impl<O: Optimizer> TrainStep for CardiacStep<O> {
    fn step(&mut self, ctx: &mut StepContext) -> Result<StepReport, BoxError> {
        let target = self.batch(ctx);
        let [b, t, cells] = target.dims();
        let v0 = target.clone().narrow(1, 0, 1).reshape([b, cells]);
        let states = forecast_states(&self.model, v0, &self.times, self.config.substeps)?;
        let potential = states.clone().narrow(2, 0, cells);
        let traj = trajectory_loss(potential, target)?;
        let n = self.model.state_len();
        let flat = states.detach().reshape([b * t, n]);
        let fa = self.model.augmentation_field(flat.clone())?;
        let fa_sq = fa
            .clone()
            .powi_scalar(2)
            .sum_dim(1)
            .mean()
            .into_scalar::<f64>()
            / (cells as f64);
        let shape = self.model.state_shape();
        let loss = match (
            self.config.objective,
            self.multiplier,
            self.model.augmentation(),
        ) {
            (AphynityObjective::Aphynity { norm, .. }, Some(m), Some(_)) => {
                augmentation_penalty(fa, flat, &shape, norm)? + traj.clone().mul_scalar(m.lambda)
            }
            _ => traj.clone(),
        };
        let loss_value = loss.clone().into_scalar::<f64>();
        let traj_value = traj.into_scalar::<f64>();
        let grads = GradientsParams::from_grads(loss.backward(), &self.model);
        let model = self.model.clone();
        self.model = self.optim.step(ctx.lr, model, grads);
        let lambda = match &mut self.multiplier {
            Some(m) => m.update(traj_value)?,
            None => f64::NAN,
        };
        self.history.push((traj_value, fa_sq, lambda));
        let mut report = StepReport::new(loss_value)
            .with("traj", traj_value)
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

    fn non_finite_parameter(&self) -> Option<NonFinite> {
        find_non_finite(&self.model, "cardiac-model")
    }
}
