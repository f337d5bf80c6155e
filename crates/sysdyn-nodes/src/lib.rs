//! # sysdyn-nodes
//!
//! Neural ordinary differential equations on burn: a burn module is the vector field
//! `dx/dt = f_θ(t, x)` of a batch of states, integrated by any `sysdyn-solvers` method on any
//! device, with gradients for training.
//!
//! - [`NeuralField`]: implement `field(t, x)` for a module (time fed as an input with
//!   [`with_time_column`] when the field is time-dependent); vector–Jacobian products come from
//!   a small autodiff graph per evaluation, or from a hand-written backward (the MLP field).
//! - [`NeuralOde`]: solve from `x0` to the states at requested times, with forward and backward
//!   function-evaluation counts; [`Trajectory::backward`] gives burn [`GradientsParams`] by the
//!   chosen [`Sensitivity`]: backprop through the solver (optionally checkpointed), the
//!   backsolve adjoint or the checkpointed adjoint, with their own tolerances and the seminorm.
//! - [`Cnf`]: continuous normalizing flows with the exact trace (jets) or Hutchinson's estimate;
//!   log-densities, sampling, maximum likelihood and reverse-KL density matching.
//! - [`latent`]: latent ODEs for irregularly sampled time series (Chen 2018 / Rubanova 2019): a
//!   GRU encoder run backwards over the observations gives `q(z₀)`, a latent neural ODE and a
//!   decoder give the trajectory, trained by the ELBO with the reparametrisation trick.
//! - [`resnet`] and [`rnn`]: deep networks read as discretised ODEs (Euler, RK, multistep and
//!   leapfrog blocks; antisymmetric, Hamiltonian and Verlet networks; multi-level training;
//!   stability diagnostics) and recurrent networks with their recurrence Jacobians.
//! - [`power_iteration`]: the largest singular value of a stack of matrices by power iteration,
//!   shared by spectral normalisation (sysdyn-generative) and LEADS's penalty (sysdyn-physics).
//!
//! Where the parts live: [`field`] (the trait and the autodiff-graph VJP), [`mlp_field`] (the MLP
//! field and its hand-written backward), [`host`] (the CPU fast path: MLP fields and their flow
//! dynamics run by `sysdyn-mlp`'s host engine), [`node`] (solves and backward passes), [`tape`] (the taped reverse sweep),
//! [`augmented`] (the adjoint's state and seminorm), [`params`] (flat parameter layout to and
//! from `GradientsParams`), [`sensitivity`] (the gradient methods and adjoint options), [`cnf`].
//! Toy data sets for flows live in `sysdyn_data::toy2d`.
//!
//! The gradient methods agree: backprop (burn), taped backprop and checkpointed backprop give
//! the same gradient to rounding; the adjoints converge to it with their tolerances (see the
//! `gradients` integration tests, which also check backprop against finite differences).
//!
//! [`GradientsParams`]: burn::optim::GradientsParams
//!
//! A first use: a small MLP field on the flex CPU backend in f64, solved with RK4 through three
//! output times; a loss on the final state is differentiated by the backsolve adjoint.
//!
//! ```
//! use sysdyn_core::device::{Backend, DeviceSpec, Precision};
//! use sysdyn_core::jet::MlpConfig;
//! use sysdyn_nodes::{MlpField, NeuralOde, Sensitivity};
//!
//! let device = DeviceSpec::new(Backend::Flex, Precision::F64).with_autodiff(true).init()?;
//! let mlp = MlpConfig::new(vec![2, 16, 2]).init_seeded(&device, 0)?;
//! let node = NeuralOde::rk4(MlpField::autonomous(mlp), 0.05)
//!     .with_sensitivity(Sensitivity::BacksolveAdjoint(Default::default()));
//! let x0 = device.tensor(vec![1.0, 0.0, 0.0, 1.0], [2, 2])?;
//! let trajectory = node.solve(x0, &[0.0, 0.5, 1.0])?;
//! assert_eq!(trajectory.states().len(), 3);
//! let loss = trajectory.last().clone().square().sum();
//! let gradients = trajectory.backward(&loss)?;
//! assert!(gradients.nfe_backward > 0);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![warn(missing_docs)]

mod adjoint;
pub mod augmented;
pub mod cnf;
pub mod error;
pub mod field;
pub mod host;
pub mod latent;
pub mod mlp_field;
pub mod node;
pub mod params;
pub mod power_iteration;
mod replay;
pub mod resnet;
pub mod rnn;
pub mod sensitivity;
pub mod tape;

pub use augmented::AugmentedState;
pub use cnf::{
    Cnf, CnfDynamics, DivergenceField, FlowPass, Probe, TraceEstimator, negative_log_likelihood,
    reverse_kl, standard_normal_log_density,
};
pub use error::NodeError;
pub use field::{FieldVjp, GraphTape, NeuralField, Tape, Taped, is_trainable, with_time_column};
pub use latent::{IrregularSeries, LatentOde, LatentOdeConfig, LatentOdeModel};
pub use mlp_field::{MlpField, TimeInput};
pub use node::{NeuralOde, NodeGradients, NodeMethod, Trajectory};
pub use params::ParamLayout;
pub use sensitivity::{AdjointOptions, AdjointStep, Sensitivity};
