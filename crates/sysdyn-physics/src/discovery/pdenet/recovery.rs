//! The PDE-Net 2.0 recovery experiment, shared by the tests and the equation-discovery
//! example: data from random smooth initial conditions of a reference solver, training on
//! sysdyn-train with a growing horizon, and a rollout from held-out initial conditions.
//!
//! - [`simulate`]: `trajectories` solutions of `2 H + 1` frames each (`H` the schedule's
//!   longest horizon), from initial conditions `Σ r_m cos(k_m·x + φ_m) / (1 + |m|²)` with
//!   `modes` modes per axis ([`ConvectionDiffusion2d::random_initial_condition`]).
//! - [`train`]: a fresh [`PdeNet`] trained by Adam with the learning rate decaying
//!   exponentially from `lr` to `final_lr` over `steps`, the ℓ1 penalties of
//!   [`Regularisation`] and the [`HorizonSchedule`].
//! - [`held_out_rollout`]: the relative L2 error `‖û_m − u_m‖ / ‖u_m‖` of the network's
//!   rollout after each block `m`, and that of persistence (`û = u_0`) at the last block, the
//!   error of a model that learned nothing.

use std::path::Path;

use burn::optim::AdamConfig;
use burn::tensor::{Tensor, TensorData};
use sysdyn_core::device::SysDevice;
use sysdyn_core::rng::SeededRng;
use sysdyn_train::{LrSchedule, Optim, ProgressMode, TrainConfig, Trainer};

use super::{
    ConvectionDiffusion2d, HorizonSchedule, PdeNet, PdeNetConfig, PdeNetStep, Regularisation,
    Trajectories,
};
use crate::error::PhysicsError;

/// A reference solver: `(u0, m) ↦` the frames `u(0), u(δt), …, u(m δt)`, row-major.
pub type ReferenceSolver<'a> = dyn FnMut(&[f64], usize) -> Result<Vec<f64>, PhysicsError> + 'a;

/// The settings of a recovery run (see the module docs).
#[derive(Debug, Clone, PartialEq)]
pub struct RecoveryConfig {
    /// The time step `δt` between frames and of a block.
    pub dt: f64,
    /// Training trajectories.
    pub trajectories: usize,
    /// Fourier modes per axis of the random initial conditions.
    pub modes: usize,
    /// The horizon schedule `(from step, blocks)`.
    pub schedule: Vec<(u64, usize)>,
    /// Adam steps.
    pub steps: u64,
    /// The standard deviation of SymNet's initial weights.
    pub init_scale: f64,
    /// The ℓ1 penalties.
    pub regularisation: Regularisation,
    /// The first learning rate.
    pub lr: f64,
    /// The learning rate at the last step.
    pub final_lr: f64,
    /// Seed of the training initial conditions.
    pub data_seed: u64,
    /// Seed of the initial weights.
    pub init_seed: u64,
    /// Seed of the held-out initial conditions.
    pub held_out_seed: u64,
}

impl RecoveryConfig {
    /// Six trajectories of 3 modes per axis, penalties `λ = 10⁻³` on SymNet's weights and on the
    /// free moments, learning rate `2·10⁻² → 5·10⁻⁴`, data seed 20, weight seed 1 and held-out seed 99.
    pub fn new(dt: f64, schedule: Vec<(u64, usize)>, steps: u64, init_scale: f64) -> Self {
        RecoveryConfig {
            dt,
            trajectories: 6,
            modes: 3,
            schedule,
            steps,
            init_scale,
            regularisation: Regularisation {
                symnet_l1: 1e-3,
                moment_l1: 1e-3,
            },
            lr: 2e-2,
            final_lr: 5e-4,
            data_seed: 20,
            init_seed: 1,
            held_out_seed: 99,
        }
    }

    /// The network's configuration on `grid`.
    pub fn network(&self, grid: &ConvectionDiffusion2d) -> PdeNetConfig {
        let mut config = PdeNetConfig::new(self.dt, grid.spacing());
        config.init_scale = self.init_scale;
        config
    }
}

/// The training data (module docs): `[trajectories, 2 H + 1, nx, ny]`. Errors: a bad schedule,
/// the reference solver's error, non-finite values.
pub fn simulate(
    grid: &ConvectionDiffusion2d,
    reference: &mut ReferenceSolver<'_>,
    config: &RecoveryConfig,
) -> Result<Trajectories, PhysicsError> {
    let horizon = HorizonSchedule::new(config.schedule.clone())?.max_horizon();
    let frames = 2 * horizon + 1;
    let (nx, ny) = grid.shape();
    let mut rng = SeededRng::new(config.data_seed);
    let mut values = Vec::with_capacity(config.trajectories * frames * nx * ny);
    for _ in 0..config.trajectories {
        let u0 = grid.random_initial_condition(&mut rng, config.modes);
        values.extend(reference(&u0, frames - 1)?);
    }
    Trajectories::new(values, [config.trajectories, frames, nx, ny])
}

/// A fresh network on `grid` trained on `data` (on `device`, an autodiff device), with the
/// run's checkpoints written under `dir` (module docs).
pub fn train(
    device: &SysDevice,
    grid: &ConvectionDiffusion2d,
    data: Trajectories,
    config: &RecoveryConfig,
    dir: &Path,
) -> Result<PdeNet, PhysicsError> {
    let model = config
        .network(grid)
        .init(device, &mut SeededRng::new(config.init_seed))?;
    let mut step = PdeNetStep::new(
        device,
        model,
        Optim::new(AdamConfig::new().build()),
        data,
        HorizonSchedule::new(config.schedule.clone())?,
        config.regularisation,
    )?;
    let train = TrainConfig::new(config.steps)
        .with_schedule(LrSchedule::Exponential {
            lr: config.lr,
            final_lr: config.final_lr,
            steps: config.steps,
        })
        .with_divergence_factor(None)
        .with_progress(ProgressMode::Quiet);
    Trainer::new(train, dir).run(&mut step)?;
    Ok(step.model().clone())
}

/// The errors of a rollout from held-out initial conditions.
#[derive(Debug, Clone, PartialEq)]
pub struct HeldOutRollout {
    /// Relative L2 error after each block `1 … blocks`.
    pub rollout_errors: Vec<f64>,
    /// Relative L2 error of persistence (`û = u_0`) at the last block.
    pub persistence_error: f64,
}

/// `model` rolled out `blocks ≥ 1` blocks from `count ≥ 1` initial conditions of
/// `config.modes` modes drawn with `config.held_out_seed`, against `reference` (module docs). Errors: zero blocks or initial conditions, the
/// reference's or the rollout's error, a failed host read.
pub fn held_out_rollout(
    model: &PdeNet,
    device: &SysDevice,
    grid: &ConvectionDiffusion2d,
    reference: &mut ReferenceSolver<'_>,
    config: &RecoveryConfig,
    count: usize,
    blocks: usize,
) -> Result<HeldOutRollout, PhysicsError> {
    if count == 0 || blocks == 0 {
        return Err(PhysicsError::Empty {
            what: "held-out rollout",
            unit: "initial condition and block",
        });
    }
    let (nx, ny) = grid.shape();
    let cells = nx * ny;
    let mut rng = SeededRng::new(config.held_out_seed);
    let mut u0: Vec<f64> = Vec::with_capacity(count * cells);
    let mut exact = vec![Vec::with_capacity(count * cells); blocks];
    for _ in 0..count {
        let ic = grid.random_initial_condition(&mut rng, config.modes);
        let solution = reference(&ic, blocks)?;
        if solution.len() != (blocks + 1) * cells {
            return Err(PhysicsError::SizeMismatch {
                what: "reference frames (blocks + 1 frames of nx × ny)",
                expected: (blocks + 1) * cells,
                got: solution.len(),
            });
        }
        for (m, e) in exact.iter_mut().enumerate() {
            e.extend_from_slice(&solution[(m + 1) * cells..(m + 2) * cells]);
        }
        u0.extend(ic);
    }
    let persistence_error = relative_l2(&u0, &exact[blocks - 1]);
    let field = Tensor::<3>::from_data(
        TensorData::new(u0, [count, nx, ny]).convert_dtype(device.dtype()),
        (device.device(), device.dtype()),
    );
    let mut rollout_errors = Vec::with_capacity(blocks);
    for (u, e) in model.rollout(field, blocks)?.into_iter().zip(&exact) {
        let u = u
            .detach()
            .try_into_vec_as::<f64>()
            .map_err(|e| PhysicsError::HostRead {
                what: "PDE-Net rollout",
                reason: format!("{e:?}"),
            })?;
        rollout_errors.push(relative_l2(&u, e));
    }
    Ok(HeldOutRollout {
        rollout_errors,
        persistence_error,
    })
}

/// `‖a − b‖ / ‖b‖` (the denominator floored so that `b = 0` stays finite).
fn relative_l2(a: &[f64], b: &[f64]) -> f64 {
    let num: f64 = a.iter().zip(b).map(|(p, q)| (p - q).powi(2)).sum();
    let den: f64 = b.iter().map(|q| q * q).sum();
    (num / den.max(f64::MIN_POSITIVE)).sqrt()
}
