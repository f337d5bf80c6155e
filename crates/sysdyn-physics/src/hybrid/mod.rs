//! Hybrid physics + learning models: APHYNITY (Yin et al., ICLR 2021).
//!
//! - [`augmented`]: `dX/dt = F_p(X; θ_p) + F_a(X; θ_a)`, [`AugmentedModel`], with either part
//!   optional (APHYNITY, Param ODE/PDE, Neural ODE, naive sum and the true model are its
//!   configurations); itself a [`PhysicalModel`](crate::PhysicalModel), so every simulator and
//!   every hybrid model share one contract;
//! - [`incomplete`]: the paper's incomplete `F_p` (frictionless pendulum, pure diffusion,
//!   undamped wave);
//! - [`conv`]: the convolutional `F_a` for 2-D fields (an MLP, `sysdyn_core::jet::Mlp`, is the
//!   `F_a` of ODEs);
//! - [`rollout`](mod@rollout): the differentiable fixed-step RK4 rollout over the data's time grid;
//! - [`aphynity`]: the objective `‖F_a‖² + λ L_traj` and the update `λ ← λ + τ₂ L_traj`;
//! - [`step`]: the training step on sysdyn-train, with `λ` in the checkpoint.

pub mod aphynity;
pub mod augmented;
pub mod conv;
pub mod incomplete;
pub mod rollout;
pub mod step;

pub use aphynity::{
    AphynityObjective, Multiplier, PenaltyNorm, augmentation_penalty, trajectory_loss,
};
pub use augmented::{Augmentation, AugmentedModel};
pub use conv::ConvAugmentation;
pub use incomplete::{FrictionlessPendulum, PureDiffusion, UndampedWave};
pub use rollout::{rollout, stack_states};
pub use step::{AphynityConfig, AphynityStep, HistoryEntry, TrajectoryData, predict};
