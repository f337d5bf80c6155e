//! Score-based generative models in continuous time (Song et al. 2021) and noise-conditional
//! score networks (Song & Ermon 2019).
//!
//! Following score_sde, a forward SDE is one value ([`sde::ForwardSde`]) that answers its drift,
//! diffusion and closed-form marginals; the reverse-time SDE and the probability-flow ODE are
//! *derived* from it and a score and handed to sysdyn-solvers as terms, so the solvers'
//! Euler–Maruyama, reversible Heun and adaptive Dormand–Prince run them unchanged.
//!
//! - [`sde`]: VE, VP and sub-VP forward SDEs, validated;
//! - [`loss`]: the score-model interfaces ([`ScoreModel`], [`NoiseConditionalScoreModel`],
//!   [`ScoreFn`] for samplers) and time-continuous denoising score matching with the variance or
//!   likelihood weighting;
//! - [`ncsn`]: geometric noise levels, NCSN's denoising score matching with `λ(σ) = σ²`, annealed
//!   Langevin dynamics with the final denoising step;
//! - [`reverse`]: the reverse-time SDE as an [`SdeTerms`](sysdyn_solvers::sde::SdeTerms), sampled
//!   by Euler–Maruyama or reversible Heun;
//! - [`pc`]: the predictor–corrector sampler (reverse-diffusion predictor, Langevin corrector
//!   with the signal-to-noise rule);
//! - [`flow`]: the probability-flow ODE, sampled with adaptive Dormand–Prince, and the exact
//!   log-likelihood through it (exact divergence or Hutchinson's estimator), in nats and bits
//!   per dimension;
//! - [`step`]: the training step on sysdyn's runtime.
//!
//! A first use: data `N(0, 1)` stay `N(0, 1)` under the VP SDE, so the exact score is `−x` at
//! every time; the probability-flow ODE then carries prior draws to the data unchanged, and the
//! flow's likelihood is the standard normal density.
//!
//! ```
//! use burn::tensor::Tensor;
//! use sysdyn_core::device::{Backend, DeviceSpec, Precision};
//! use sysdyn_generative::score::{Divergence, ForwardSde, ProbabilityFlow};
//!
//! let device = DeviceSpec::new(Backend::Flex, Precision::F64).with_autodiff(true).init()?;
//! let sde = ForwardSde::vp_default();
//! let flow = ProbabilityFlow::new(sde, 1e-3, 1e-8, 1e-8)?;
//! let mut score = |x: Tensor<2>, _t: f64| Ok(x.neg());
//! let x = device.tensor(vec![0.5, -1.0, 2.0], [3, 1])?;
//! let (samples, stats) = flow.sample(&mut score, x.clone())?;
//! let back = samples.into_data().convert::<f64>().try_to_vec::<f64>().unwrap();
//! assert!((back[2] - 2.0).abs() < 1e-6 && stats.nfe > 0);
//! let log_p = flow
//!     .log_likelihood(&mut score, x, Divergence::Exact)?
//!     .log_density_under_prior(&sde);
//! let exact = -0.5 * 0.25 - 0.5 * (2.0 * std::f64::consts::PI).ln();
//! assert!((log_p[0] - exact).abs() < 1e-6);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod flow;
pub mod loss;
pub mod ncsn;
pub mod pc;
pub mod reverse;
pub mod sde;
pub mod step;

pub use flow::{Divergence, FlowLikelihood, ProbabilityFlow, bits_per_dim};
pub use loss::{
    DenoisingScoreMatching, DsmDraw, ModelNoiseScore, ModelScore, NoiseConditionalScoreModel,
    ScoreFn, ScoreModel, Weighting,
};
pub use ncsn::{AnnealedLangevin, NoiseLevels};
pub use pc::PredictorCorrector;
pub use reverse::{ReverseMethod, ReverseSde, ReverseSdeSampler};
pub use sde::ForwardSde;
pub use step::{ScoreObjective, ScoreStep};

pub(crate) use crate::host::{host_tensor, host_values as to_host};
