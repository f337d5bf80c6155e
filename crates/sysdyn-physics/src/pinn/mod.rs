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
//! - [`train`]: the training step on sysdyn-train (Adam) and L-BFGS on the same loss;
//! - [`host`]: the CPU fast path: a plain MLP's jets on sysdyn-mlp's host engine, the residual
//!   and conditions unchanged in burn (the default of [`PinnStep`] on flex and ndarray);
//! - [`dgm`]: the deep Galerkin method (fresh random collocation points every step);
//! - [`lagaris`]: Lagaris trial solutions `ψ = A + (t − t0) N(t)` for initial value problems.
//!
//! A residual is written once on the jet of `u`; here the heat equation `u_t = u_xx` (`x` in
//! column 0, `t` in column 1, so `u_xx` is the pair `(0, 0)`), checked on its exact solution
//! `e^{−π²t} sin πx` written with jet arithmetic, then evaluated on a network:
//!
//! ```
//! use std::f64::consts::PI;
//! use burn::tensor::Tensor;
//! use sysdyn_core::device::{Backend, DeviceSpec, Precision};
//! use sysdyn_core::rng::SeededRng;
//! use sysdyn_physics::pinn::collocation::sample;
//! use sysdyn_physics::pinn::{Domain, ExactField, FieldJet, PinnNetworkConfig, PinnProblem, Sampler};
//!
//! let device = DeviceSpec::new(Backend::Flex, Precision::F64).init()?;
//! let domain = Domain::time_space(&[(0.0, 1.0)], (0.0, 1.0))?;
//! let points = sample(&domain, Sampler::Sobol { skip: 1 }, 64, &mut SeededRng::new(0))?;
//! let heat = PinnProblem::new(domain, &[(0, 0)], points.clone(), |p| {
//!     Ok(p.u.d(1)? - p.u.d2(0, 0)?)
//! })?;
//! let exact = ExactField(|x: &Tensor<2>, pairs: &[(usize, usize)]| {
//!     let decay = FieldJet::coordinate(x, 1, pairs)?.scale(-PI * PI).exp();
//!     decay.times(&FieldJet::coordinate(x, 0, pairs)?.scale(PI).sin())
//! });
//! let x = points.to_tensor(&device)?;
//! let r: Vec<f64> = heat.residual_at(&exact, x.clone(), &[])?.try_into_vec_as::<f64>().unwrap();
//! assert!(r.iter().all(|v| v.abs() < 1e-12));
//! let net = PinnNetworkConfig::new(2, vec![16, 16], 1).init(&device, None)?;
//! assert_eq!(heat.residual_at(&net, x, &[])?.dims(), [64, 1]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod collocation;
pub mod dgm;
pub mod domain;
pub mod field;
pub mod host;
pub mod lagaris;
pub mod network;
pub mod problem;
pub mod train;

pub use collocation::{Points, Sampler};
pub use dgm::DgmStep;
pub use domain::{Domain, Interval};
pub use field::FieldJet;
pub use lagaris::LagarisIvp;
pub use network::{
    ExactField, FourierFeatures, HardConstraint, PinnField, PinnNetwork, PinnNetworkConfig,
};
pub use problem::{
    Condition, ConditionKind, LossParts, LossWeights, PinnModel, PinnProblem, PreparedLoss,
    ResidualInputs, relative_l2,
};
pub use train::PinnStep;
