//! Variational autoencoders (Kingma & Welling 2014; Rezende et al. 2014) and the
//! importance-weighted bound (Burda et al. 2016). One concept per file:
//!
//! - [`posterior`]: `q(z|x) = N(μ, diag σ²)` with a clamped log-variance, reparametrised
//!   samples, `log q`, and the analytic KL to `N(0, I)` per row and per dimension;
//! - [`likelihood`]: `log p(x|z)` per row — Bernoulli on logits, Gaussian with fixed, shared or
//!   decoded variance, discretised logistic for 8-bit data;
//! - [`bound`]: the objectives as data (ELBO with `L` samples, IWAE with `k`), the KL weight
//!   `β` and its warm-up, free bits, log-mean-exp on tensors and chunked on the host, NLL in
//!   nats and bits per dimension;
//! - [`models`]: the [`Encoder`] and [`Decoder`] interfaces and the [`Vae`] joining them with
//!   a likelihood; [`mlp`] and [`conv`]: MLP and small convolutional networks, optionally
//!   class-conditional;
//! - [`step`]: [`VaeStep`], the training step on sysdyn's runtime, and [`estimate_nll`];
//! - [`latent`]: interpolation, traversals and latent means.
//!
//! ```
//! use sysdyn_core::device::{Backend, DeviceSpec, Precision};
//! use sysdyn_generative::vae::DiagonalGaussian;
//!
//! let device = DeviceSpec::new(Backend::Flex, Precision::F64).init()?;
//! // q = N(1, 2²) in one dimension: KL(q ‖ N(0, 1)) = ½(1 + 4 − 1 − ln 4) = 2 − ln 2.
//! let q = DiagonalGaussian::new(
//!     device.tensor(vec![1.0], [1, 1])?,
//!     device.tensor(vec![4f64.ln()], [1, 1])?,
//! )?;
//! let kl = q.kl_to_standard_normal().into_scalar::<f64>();
//! assert!((kl - (2.0 - 2f64.ln())).abs() < 1e-12);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod bound;
pub mod conv;
pub mod latent;
pub mod likelihood;
pub mod mlp;
pub mod models;
pub mod posterior;
pub mod step;

pub use bound::{
    FreeBits, KlWeight, LogMeanExp, NllEstimate, Objective, bits_per_dim, log_mean_exp,
};
pub use conv::{ConvDecoder, ConvEncoder, ConvVaeConfig};
pub use latent::{Interpolation, latent_means, traversal};
pub use likelihood::{
    Discretisation, Likelihood, Variance, bernoulli_log_prob, discretised_logistic_log_prob,
    gaussian_log_prob,
};
pub use mlp::{MlpDecoder, MlpEncoder, MlpVaeConfig};
pub use models::{Decoder, ElboTerms, Encoder, Vae, one_hot_like};
pub use posterior::{DiagonalGaussian, LOG_VAR_MAX, LOG_VAR_MIN, standard_normal_log_prob};
pub use step::{NllConfig, VaeConfig, VaeStep, estimate_nll};
