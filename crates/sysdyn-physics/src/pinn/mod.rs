//! Physics-informed neural networks (Raissi, Perdikaris & Karniadakis 2019) through jets.
//!
//! A PINN loss contains derivatives of the network with respect to its *inputs* (`u_t`, `u_x`,
//! `u_xx`, `u_xt`) and is then differentiated with respect to the *parameters*. burn's
//! autodiff is first order, so the input derivatives come from sysdyn-core's forward-mode
//! jets as ordinary tensor operations ([`FieldJet`]), and burn differentiates the loss built from
//! them. No finite differences.
//!
//! - [`domain`]: intervals, boxes, time × space (`lower < upper` checked);
//! - [`collocation`]: uniform, Latin hypercube, Sobol (Joe–Kuo), faces, residual-based
//!   adaptive refinement;
//! - [`field`]: the jet of `u` a residual reads, and jet arithmetic for exact solutions and
//!   output transforms;
//! - [`network`]: Xavier-initialised MLPs (tanh, sin), Fourier features, hard constraints;
//! - [`problem`]: residual, Dirichlet/Neumann/periodic/initial/data terms, physical
//!   parameters, fixed or annealed weights, relative L2 error;
//! - [`train`]: the training step on sysdyn-train (Adam) and L-BFGS on the same loss.

pub mod collocation;
pub mod domain;
pub mod field;
pub mod network;
pub mod problem;
pub mod train;

pub use collocation::{Points, Sampler};
pub use domain::{Domain, Interval};
pub use field::FieldJet;
pub use network::{
    ExactField, FourierFeatures, HardConstraint, PinnField, PinnNetwork, PinnNetworkConfig,
};
pub use problem::{
    Condition, ConditionKind, LossParts, LossWeights, PinnModel, PinnProblem, PreparedLoss,
    ResidualInputs, relative_l2,
};
pub use train::PinnStep;
