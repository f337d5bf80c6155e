//! # sysdyn-generative
//!
//! Generative models on burn, generic over burn modules and backends (`flex`, `ndarray`,
//! `wgpu`), trained with sysdyn's runtime (`sysdyn-train`).
//!
//! This first part holds the building blocks of adversarial training ([`gan`]):
//!
//! - [`gan::loss`]: the minimax, non-saturating, least-squares, hinge and Wasserstein losses on
//!   discriminator *logits*, in forms that stay finite for saturated discriminators;
//! - [`gan::penalty`]: the WGAN-GP gradient penalty and the R1 penalty, whose input gradient
//!   `∇ₓD` is computed by forward-mode jets (burn's autodiff is first order) so that burn can
//!   differentiate the penalty with respect to the critic's parameters;
//! - [`gan::spectral`]: spectral normalisation of a linear layer by power iteration, its state a
//!   (non-trained) parameter saved with the model;
//! - [`gan::models`] and [`gan::train`]: the players' interfaces ([`gan::Generator`],
//!   [`gan::Critic`]; MLPs and spectrally normalised MLPs implement them) and one training step
//!   on sysdyn's runtime ([`gan::GanStep`]): `n_critic` critic updates, alternating or
//!   simultaneous order, weight clipping, the penalties, typed errors for impossible settings;
//! - [`gan::conditional`]: class conditioning, a label embedding concatenated to a player's
//!   input and the projection discriminator's class term;
//! - [`gan::replay`]: the image replay buffer of CycleGAN;
//! - [`gan::dirac`]: the Dirac-GAN, the smallest GAN, whose game dynamics under each update
//!   scheme are known in closed form.
//!
//! For style-based generators, [`style::adain`] holds adaptive instance normalisation: as a
//! layer styled by a code `w`, and as style transfer of channel statistics.
//!
//! ```
//! use burn::tensor::Tensor;
//! use sysdyn_core::device::{Backend, DeviceSpec, Precision};
//! use sysdyn_generative::gan::GanLoss;
//!
//! let device = DeviceSpec::new(Backend::Flex, Precision::F64).init()?;
//! let real = device.tensor(vec![3.0, 100.0], [2, 1])?; // logits D(x)
//! let fake = device.tensor(vec![-2.0, -100.0], [2, 1])?; // logits D(G(z))
//! let d_loss = GanLoss::NonSaturating.discriminator(real, fake.clone())?;
//! let g_loss = GanLoss::NonSaturating.generator(fake)?;
//! assert!(d_loss.into_scalar::<f64>().is_finite());
//! assert!(g_loss.into_scalar::<f64>() > 50.0); // −log σ(−100) ≈ 100, not Inf
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![warn(missing_docs)]

mod error;
pub mod gan;
pub mod style;

pub use error::GenerativeError;
