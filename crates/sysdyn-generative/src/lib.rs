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
//! - [`gan::spectral`]: spectral normalisation of a linear layer or a convolution kernel by power
//!   iteration, its state a (non-trained) parameter saved with the model;
//! - [`gan::models`] and [`gan::train`]: the players' interfaces ([`gan::Generator`],
//!   [`gan::Critic`]; MLPs and spectrally normalised MLPs implement them) and one training step
//!   on sysdyn's runtime ([`gan::GanStep`]): `n_critic` critic updates, alternating or
//!   simultaneous order, weight clipping, the penalties, typed errors for impossible settings;
//! - [`gan::conditional`]: class conditioning, a label embedding concatenated to a player's
//!   input and the projection discriminator's class term; [`gan::GanStep::conditional`] trains
//!   class-conditional players on labelled data;
//! - [`gan::dcgan`]: DCGAN's convolutional generator and discriminator for small images,
//!   optionally class-conditioned (label channels or projection), whose input gradient for the
//!   penalties is its own reverse pass written as tensor operations (one extra pass, not one
//!   per pixel);
//! - image-to-image translation: [`gan::unet`] (Pix2Pix's U-Net), [`gan::patchgan`] (the
//!   PatchGAN discriminator, with its receptive field), [`gan::pix2pix`] (the paired step,
//!   GAN + λ·L1 or L1 alone), [`gan::resnet_generator`] (CycleGAN's generator) and
//!   [`gan::cyclegan`] (the unpaired step: LSGAN, cycle and identity losses, replay pools saved
//!   with the checkpoints);
//! - [`gan::replay`]: the image replay buffer of CycleGAN;
//! - [`gan::dirac`]: the Dirac-GAN, the smallest GAN, whose game dynamics under each update
//!   scheme are known in closed form.
//!
//! For style-based generators, [`style::adain`] holds adaptive instance normalisation (as a
//! layer styled by a code `w`, and as style transfer of channel statistics) and
//! [`style::generator`] the generator itself: mapping network, constant input, noise inputs
//! (part of the latent, so every draw is seeded), AdaIN layers, style mixing.
//!
//! For likelihood-based models, [`vae`] holds variational autoencoders: the diagonal Gaussian
//! posterior with its analytic KL, Bernoulli, Gaussian and discretised-logistic decoders, the
//! ELBO (with `β`, warm-up and free bits) and the IWAE bound as objectives and as NLL
//! estimates, MLP and convolutional (optionally conditional) encoders and decoders, the
//! training step [`vae::VaeStep`], and latent interpolation and traversals.
//!
//! For vector-quantised autoencoders ([`vq`]): [`vq::codebook`] (nearest-code assignment by
//! `‖z‖² − 2 z·e + ‖e‖²`, the straight-through estimator `z_q = z_e + sg(e − z_e)`, the
//! codebook and commitment losses), [`vq::ema`] (codes as moving averages of their assigned
//! outputs, with Laplace smoothing), [`vq::restart`] (dead codes restarted at encoder
//! outputs), [`vq::metrics`] (code usage and perplexity), [`vq::model`] (a convolutional
//! VQ-VAE, 28×28 → 7×7 codes), [`vq::masked_conv`] and [`vq::prior`] (a PixelCNN prior over
//! the code grid, sampled in raster order), and [`vq::step`] (the VQ-VAE's and the prior's
//! training steps on sysdyn's runtime).
//!
//! For diffusion, [`mixture`] holds Gaussian mixtures with the exact score of the scaled and
//! noised mixture, `∇ log Σₖ wₖ N(m μₖ, m² Σₖ + s² I)`, the reference every sampler is tested
//! against, and [`diffusion`] the discrete-time models: noise schedules (linear, cosine) with
//! the closed-form marginal and posterior, ε-/x₀-/v-prediction, W3's ε-network with its
//! sinusoidal step embedding and optional class conditioning, a small image U-Net
//! ([`diffusion::DiffusionUNet`]), ancestral and DDIM sampling (evenly spaced or quadratic
//! steps, optional `x̂₀` clipping) over any [`diffusion::NoisePredictor`], classifier-free
//! guidance, classifier guidance by a noise-conditional classifier
//! ([`diffusion::ClassifierGuided`]) and the training step [`diffusion::DdpmStep`]. On CPU devices an unconditional MLP
//! ε-network runs on sysdyn-mlp's host engine ([`diffusion::host`]: the samplers' predictor and
//! the step's loss and gradient, chosen automatically).
//!
//! For score-based models in continuous time ([`score`]): the VE, VP and sub-VP forward SDEs
//! with closed-form marginals, denoising score matching (variance or likelihood weighting),
//! NCSN's noise levels and annealed Langevin dynamics, the reverse-time SDE as a sysdyn-solvers
//! term (Euler–Maruyama, reversible Heun), the predictor–corrector sampler, the probability-flow
//! ODE with adaptive Dormand–Prince and its exact log-likelihood, and the training step
//! [`score::ScoreStep`].
//!
//! For normalizing flows ([`flow`]): the [`flow::Flow`] trait (forward and inverse with
//! `log|det J|` per row), base distributions, the flow model (density, sampling, reverse KL,
//! effective sample size), composition, permutations, Glow's LU 1×1 convolution and ActNorm,
//! NICE and RealNVP couplings (alternating, checkerboard, channel-wise; conditional), the
//! squeeze and multi-scale factor-out, the RevNet block, dequantisation and the training step
//! [`flow::step::FlowStep`].
//! The advanced layers: [`flow::made`] (MADE's masks), [`flow::maf`] and
//! [`flow::iaf`] (affine autoregressive layers, density or sampling in one pass),
//! [`flow::spline`] (rational-quadratic spline couplings), [`flow::spline_autoregressive`]
//! (the same splines conditioned by a MADE), [`flow::residual`] (invertible
//! ResNets / residual flows: spectrally normalised contraction, fixed-point inverse, the
//! log-determinant series with exact, Hutchinson or Russian-roulette traces) and
//! [`flow::cnf`] (sysdyn-nodes' continuous normalizing flow as a layer). [`flow::host`] runs a
//! RealNVP (a chain of unconditional affine couplings on a standard normal base) on sysdyn-mlp's
//! host engine: its NLL and parameter gradient, for an optimizer step, the rows split across
//! the thread pool once per step (`FlowStep`'s default on flex/ndarray). Every vector layer
//! but the CNF is a variant of [`flow::chain::VectorLayer`], so any families compose in one
//! chain (`examples/flows-2d` trains each family that way).
//!
//! Every family takes its inputs through [`inputs`] (the image layout, the data samplers, the
//! width and label checks) and shares [`stable`]'s overflow-free functions, so no family depends
//! on another.
//!
//! Known weak point: burn's batch norm keeps its running statistics in a `RunningState` that is
//! saved one update behind, so after a resume they may differ slightly from an uninterrupted
//! run's; training steps use batch statistics and resume exactly (`tests/translation.rs`).
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

pub mod diffusion;
mod error;
pub mod flow;
pub mod gan;
mod host;
pub mod inputs;
pub mod mixture;
pub mod score;
pub mod stable;
pub mod style;
pub mod vae;
pub mod vq;

pub use error::GenerativeError;
