//! Learning one family of dynamical systems across environments whose physical parameters
//! differ, from few trajectories per environment.
//!
//! - [`data`]: trajectories grouped by environment as one tensor `[E, B, T, d]`, with the
//!   checks both methods need (no empty environment, equal counts, uniform times).
//! - [`env_mlp`]: an MLP with one set of weights per environment, `W: [E, in, out]`, evaluated
//!   for all environments in one batched matrix product per layer (no loop over environments).
//! - [`spectral`]: the largest singular value of every matrix of a stack by power iteration.
//! - [`rollout`](mod@rollout): the RK4 rollout over the data's time grid with LEADS's teacher forcing.
//! - [`leads`]: LEADS (Yin et al. 2021), `dx/dt = f(x) + g_e(x)` with the penalty
//!   `Ω = c_lip Σ_e Σ_l σ_max(W_{e,l})² + Σ_e mean (‖g_e(x)‖/(‖x‖ + 1e-5))²`, and its baselines
//!   (One-For-All, One-Per-Env, `f + g_e` without `Ω`) as configurations of the same model.
//! - [`coda`]: CoDA (Kirchmeyer et al. 2022), `θ_e = θ_c + W ξ_e` for every parameter of the
//!   dynamics network, and adaptation to new environments by fitting only a new context `ξ`.
//! - [`step`]: the training step on sysdyn-train's runtime for any [`EnvironmentModel`].

pub mod coda;
pub mod data;
pub mod env_mlp;
pub mod leads;
pub mod rollout;
pub mod spectral;
pub mod step;

pub use coda::{Coda, CodaAdaptStep, CodaConfig, Contexts};
pub use data::EnvTrajectories;
pub use env_mlp::{EnvMlp, EnvMlpConfig};
pub use leads::{Leads, LeadsConfig, MultiEnvMethod};
pub use rollout::{TeacherForcing, rollout};
pub use spectral::spectral_norms;
pub use step::{EnvStep, EnvironmentModel};
