//! One GAN training step on sysdyn's runtime: the critic's `n_critic` updates and the
//! generator's update, in alternating or simultaneous order, with the Lipschitz constraint of
//! the objective (weight clipping, gradient penalty, spectral normalisation inside the critic).

use std::path::Path;

use burn::module::{ModuleMapper, Param};
use burn::optim::{GradientsParams, Optimizer};
use burn::tensor::Tensor;
use sysdyn_core::device::SysDevice;
use sysdyn_core::rng::SeededRng;
use sysdyn_train::{
    BoxError, Checkpointable, Ema, NonFinite, Optim, StepContext, StepReport, TrainError,
    TrainStep, find_non_finite, global_grad_norm, load_module, save_module,
};

use crate::error::{GenerativeError, check_positive};
use crate::gan::loss::GanLoss;
use crate::gan::models::{Critic, Generator};
use crate::gan::penalty::{gradient_penalty_of, interpolate, r1_penalty_of};

/// In which order the players move within a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpdateOrder {
    /// The critic takes its `n_critic` steps, then the generator answers the updated critic.
    Alternating,
    /// Both gradients are taken at the same point, then both players move (`n_critic` = 1).
    Simultaneous,
}

/// What a GAN step does. [`GanConfig::validate`] refuses settings that cannot work.
#[derive(Debug, Clone, PartialEq)]
pub struct GanConfig {
    /// The pair of losses.
    pub loss: GanLoss,
    /// The order of the players' moves.
    pub order: UpdateOrder,
    /// Critic updates per generator update (WGAN: 5).
    pub critic_steps: usize,
    /// Rows of real data (and of generated samples) per critic or generator update.
    pub batch_size: usize,
    /// The critic's learning rate as a multiple of the schedule's (the generator uses the
    /// schedule's own).
    pub critic_lr_factor: f64,
    /// WGAN's weight clipping: every trained critic parameter clamped to `[−c, c]` after each
    /// critic update (the paper's `c = 0.01`).
    pub weight_clip: Option<f64>,
    /// WGAN-GP's `λ` (10 in the paper), on points between real and fake rows.
    pub gradient_penalty: Option<f64>,
    /// The R1 penalty's `γ`, on real rows.
    pub r1_penalty: Option<f64>,
    /// Decay `β` of an exponential moving average of the generator's weights,
    /// `θ̄ ← β θ̄ + (1 − β) θ` after every generator update (Yazıcı et al. 2019; the evaluated
    /// generator of ProGAN and StyleGAN). [`GanStep::sample`] then draws from the average.
    pub generator_average: Option<f64>,
}

impl GanConfig {
    /// An alternating scheme with one critic step, no constraint, batch `batch_size`.
    pub fn new(loss: GanLoss, batch_size: usize) -> Self {
        GanConfig {
            loss,
            order: UpdateOrder::Alternating,
            critic_steps: 1,
            batch_size,
            critic_lr_factor: 1.0,
            weight_clip: None,
            generator_average: None,
            gradient_penalty: None,
            r1_penalty: None,
        }
    }

    /// With `critic_steps` critic updates per generator update.
    pub fn with_critic_steps(mut self, critic_steps: usize) -> Self {
        self.critic_steps = critic_steps;
        self
    }

    /// With the given order of moves.
    pub fn with_order(mut self, order: UpdateOrder) -> Self {
        self.order = order;
        self
    }

    /// With weight clipping at `c`.
    pub fn with_weight_clip(mut self, c: f64) -> Self {
        self.weight_clip = Some(c);
        self
    }

    /// With the WGAN-GP penalty `λ`.
    pub fn with_gradient_penalty(mut self, lambda: f64) -> Self {
        self.gradient_penalty = Some(lambda);
        self
    }

    /// With the R1 penalty `γ`.
    pub fn with_r1_penalty(mut self, gamma: f64) -> Self {
        self.r1_penalty = Some(gamma);
        self
    }

    /// With the critic's learning rate `factor` times the generator's.
    pub fn with_critic_lr_factor(mut self, factor: f64) -> Self {
        self.critic_lr_factor = factor;
        self
    }

    /// With a moving average of the generator's weights of decay `beta` (0.999 is usual),
    /// which [`GanStep::sample`] draws from.
    pub fn with_generator_average(mut self, beta: f64) -> Self {
        self.generator_average = Some(beta);
        self
    }

    /// Checks the settings.
    pub fn validate(&self) -> Result<(), GenerativeError> {
        let invalid = |name, value: usize, requirement| GenerativeError::InvalidParameter {
            name,
            value: value as f64,
            requirement,
        };
        if self.critic_steps == 0 {
            return Err(invalid(
                "n_critic",
                0,
                "the critic must take at least one step per generator step",
            ));
        }
        if self.batch_size == 0 {
            return Err(invalid("batch_size", 0, "must be at least 1"));
        }
        if self.order == UpdateOrder::Simultaneous && self.critic_steps != 1 {
            return Err(invalid(
                "n_critic",
                self.critic_steps,
                "simultaneous updates take one critic step per generator step",
            ));
        }
        check_positive("the critic's learning-rate factor", self.critic_lr_factor)?;
        if let Some(c) = self.weight_clip {
            check_positive("the weight clip c", c)?;
        }
        if let Some(lambda) = self.gradient_penalty {
            check_positive("the gradient penalty's λ", lambda)?;
        }
        if let Some(gamma) = self.r1_penalty {
            check_positive("the R1 penalty's γ", gamma)?;
        }
        if let Some(beta) = self.generator_average
            && !(beta > 0.0 && beta < 1.0)
        {
            return Err(GenerativeError::InvalidParameter {
                name: "generator_average",
                value: beta,
                requirement: "the moving average's decay must lie in (0, 1), e.g. 0.999",
            });
        }
        Ok(())
    }
}

pub use crate::inputs::{DataSampler, LabelledSampler};

/// Where the real rows come from.
enum RealData {
    Unlabelled(DataSampler),
    Labelled {
        classes: usize,
        sampler: LabelledSampler,
    },
}

/// A GAN's training step for [`sysdyn_train::Trainer`]: the two players, their optimizers
/// (e.g. Adam with β = (0.5, 0.999) as DCGAN, RMSProp 5e-5 for WGAN with clipping) and the
/// data. The step's loss (what the runtime watches for divergence) is the generator's, or the
/// critic's when that one is not finite; both and the penalty are logged.
///
/// A conditional step ([`GanStep::conditional`]) draws real rows with their labels; the critic
/// scores the fakes of a critic update with the real batch's labels (so the penalty's
/// interpolates have one class), and the generator's update draws classes uniformly.
pub struct GanStep<G: Generator, C: Critic, OG: Optimizer, OC: Optimizer> {
    device: SysDevice,
    /// The generator.
    pub generator: G,
    /// The critic (discriminator).
    pub critic: C,
    generator_optim: Optim<OG>,
    critic_optim: Optim<OC>,
    config: GanConfig,
    data: RealData,
    features: usize,
    /// The moving average of the generator's weights, with [`GanConfig::generator_average`].
    average: Option<Ema<G>>,
}

impl<G: Generator, C: Critic, OG: Optimizer, OC: Optimizer> GanStep<G, C, OG, OC> {
    /// A step for the unconditional `generator` and `critic` on `device` (an autodiff device),
    /// with data of `features` columns drawn by `data`.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        device: SysDevice,
        generator: G,
        critic: C,
        generator_optim: Optim<OG>,
        critic_optim: Optim<OC>,
        config: GanConfig,
        features: usize,
        data: DataSampler,
    ) -> Result<Self, GenerativeError> {
        Self::build(
            device,
            generator,
            critic,
            generator_optim,
            critic_optim,
            config,
            features,
            RealData::Unlabelled(data),
        )
    }

    /// A step for a generator and critic conditioned on `classes` classes, with labelled data
    /// of `features` columns drawn by `data`.
    #[allow(clippy::too_many_arguments)]
    pub fn conditional(
        device: SysDevice,
        generator: G,
        critic: C,
        generator_optim: Optim<OG>,
        critic_optim: Optim<OC>,
        config: GanConfig,
        features: usize,
        classes: usize,
        data: LabelledSampler,
    ) -> Result<Self, GenerativeError> {
        if classes == 0 {
            return Err(GenerativeError::InvalidParameter {
                name: "classes",
                value: 0.0,
                requirement: "a conditional GAN needs at least one class; use GanStep::new for \
                              unconditional players",
            });
        }
        Self::build(
            device,
            generator,
            critic,
            generator_optim,
            critic_optim,
            config,
            features,
            RealData::Labelled {
                classes,
                sampler: data,
            },
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn build(
        device: SysDevice,
        generator: G,
        critic: C,
        generator_optim: Optim<OG>,
        critic_optim: Optim<OC>,
        config: GanConfig,
        features: usize,
        data: RealData,
    ) -> Result<Self, GenerativeError> {
        config.validate()?;
        if features == 0 {
            return Err(GenerativeError::InvalidParameter {
                name: "features",
                value: 0.0,
                requirement: "the data must have at least one column",
            });
        }
        let classes = match &data {
            RealData::Unlabelled(_) => 0,
            RealData::Labelled { classes, .. } => *classes,
        };
        for (player, player_classes) in [
            ("generator's classes and the data's", generator.classes()),
            ("critic's classes and the data's", critic.classes()),
        ] {
            if player_classes != classes {
                return Err(GenerativeError::ShapeMismatch {
                    what: player,
                    left: vec![player_classes],
                    right: vec![classes],
                });
            }
        }
        let average = config
            .generator_average
            .map(|beta| Ema::on_training_device(&generator, beta));
        Ok(GanStep {
            device,
            average,
            generator,
            critic,
            generator_optim,
            critic_optim,
            config,
            data,
            features,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &GanConfig {
        &self.config
    }

    /// The moving average of the generator's weights (with [`GanConfig::generator_average`]).
    pub fn averaged_generator(&self) -> Option<&G> {
        self.average.as_ref().map(Ema::model)
    }

    /// The generator [`GanStep::sample`] draws from: the average when there is one.
    pub fn sampled_generator(&self) -> &G {
        self.averaged_generator().unwrap_or(&self.generator)
    }

    /// Moves the average towards the generator just updated.
    fn update_average(&mut self) {
        if let Some(average) = &mut self.average {
            average.update(&self.generator);
        }
    }

    /// `rows` samples of the generator (without graph), row-major `[rows, features]`, of the
    /// given classes for a conditional generator (one label per row).
    pub fn sample(
        &self,
        rows: usize,
        labels: Option<&[usize]>,
        rng: &mut SeededRng,
    ) -> Result<Vec<f64>, BoxError> {
        host(
            self.sampled_generator()
                .generate(self.latent(rows, rng)?, labels)?,
        )
    }

    fn latent(&self, rows: usize, rng: &mut SeededRng) -> Result<Tensor<2>, BoxError> {
        let width = self.generator.latent_width();
        Ok(self
            .device
            .tensor(rng.normals(rows * width), [rows, width])?)
    }

    /// A batch of real rows, with their labels for a conditional step.
    fn real(&mut self, rng: &mut SeededRng) -> Result<(Tensor<2>, Option<Vec<usize>>), BoxError> {
        let rows = self.config.batch_size;
        let (values, labels) = match &mut self.data {
            RealData::Unlabelled(sampler) => (sampler(rng, rows), None),
            RealData::Labelled { classes, sampler } => {
                let (values, labels) = sampler(rng, rows);
                if labels.len() != rows {
                    return Err(Box::new(GenerativeError::ShapeMismatch {
                        what: "labels drawn and rows asked for",
                        left: vec![labels.len()],
                        right: vec![rows],
                    }));
                }
                if let Some(&bad) = labels.iter().find(|&&l| l >= *classes) {
                    return Err(Box::new(GenerativeError::InvalidParameter {
                        name: "label",
                        value: bad as f64,
                        requirement: "the data's labels must be below the number of classes",
                    }));
                }
                (values, Some(labels))
            }
        };
        if values.len() != rows * self.features {
            return Err(Box::new(GenerativeError::ShapeMismatch {
                what: "real samples drawn (rows × features)",
                left: vec![values.len()],
                right: vec![rows * self.features],
            }));
        }
        Ok((self.device.tensor(values, [rows, self.features])?, labels))
    }

    /// Uniformly drawn classes for a batch of generated rows, `None` when unconditional.
    fn random_labels(&self, rng: &mut SeededRng) -> Option<Vec<usize>> {
        match &self.data {
            RealData::Unlabelled(_) => None,
            RealData::Labelled { classes, .. } => Some(
                (0..self.config.batch_size)
                    .map(|_| rng.below(*classes as u64) as usize)
                    .collect(),
            ),
        }
    }

    /// The critic's loss (with its penalty) at the current players, the penalty alone and the
    /// discriminator's accuracy on the two batches.
    fn critic_loss(&mut self, rng: &mut SeededRng) -> Result<(Tensor<1>, f64, f64), BoxError> {
        let (real, labels) = self.real(rng)?;
        let labels = labels.as_deref();
        let fake = self
            .generator
            .generate(self.latent(self.config.batch_size, rng)?, labels)?
            .detach();
        let scores_real = self.critic.score(real.clone(), labels)?;
        let scores_fake = self.critic.score(fake.clone(), labels)?;
        let accuracy = self
            .config
            .loss
            .discriminator_accuracy(&host(scores_real.clone())?, &host(scores_fake.clone())?)?;
        let mut loss = self.config.loss.discriminator(scores_real, scores_fake)?;
        let mut penalty = 0.0;
        if let Some(lambda) = self.config.gradient_penalty {
            let points = interpolate(real.clone(), fake, rng)?;
            let gp = gradient_penalty_of(self.critic.input_gradient(points, labels)?, lambda)?;
            penalty += gp.clone().into_scalar::<f64>();
            loss = loss + gp;
        }
        if let Some(gamma) = self.config.r1_penalty {
            let r1 = r1_penalty_of(self.critic.input_gradient(real, labels)?, gamma)?;
            penalty += r1.clone().into_scalar::<f64>();
            loss = loss + r1;
        }
        Ok((loss, penalty, accuracy))
    }

    fn generator_loss(&self, rng: &mut SeededRng) -> Result<Tensor<1>, BoxError> {
        let labels = self.random_labels(rng);
        let labels = labels.as_deref();
        let fake = self
            .generator
            .generate(self.latent(self.config.batch_size, rng)?, labels)?;
        Ok(self
            .config
            .loss
            .generator(self.critic.score(fake, labels)?)?)
    }

    fn update_critic(&mut self, lr: f64, grads: GradientsParams) {
        let critic = self.critic.clone();
        self.critic = self.critic_optim.step(lr, critic, grads);
        if let Some(c) = self.config.weight_clip {
            self.critic = self.critic.clone().map(&mut Clamp { c });
        }
    }
}

/// What one step measured, for its report.
struct Measured {
    generator_loss: f64,
    critic_loss: f64,
    penalty: f64,
    critic_accuracy: f64,
    generator_grad_norm: f64,
    critic_grad_norm: f64,
}

/// The step's report: the generator's loss, unless the critic's is not finite, which is then
/// the step's loss, so that the runtime stops at the step where either player diverged. Both
/// losses, the penalty, the discriminator's accuracy on the last critic update's batches and
/// both players' gradient norms (all parameters as one vector) are logged: the diagnosis of
/// a GAN's training dynamics.
fn report(m: Measured) -> StepReport {
    let loss = if m.critic_loss.is_finite() {
        m.generator_loss
    } else {
        m.critic_loss
    };
    StepReport::new(loss)
        .with("generator_loss", m.generator_loss)
        .with("critic_loss", m.critic_loss)
        .with("penalty", m.penalty)
        .with("critic_accuracy", m.critic_accuracy)
        .with("generator_grad_norm", m.generator_grad_norm)
        .with("critic_grad_norm", m.critic_grad_norm)
}

/// The values of a tensor on the host, without graph.
pub(crate) fn host(t: Tensor<2>) -> Result<Vec<f64>, BoxError> {
    Ok(t.inner()
        .into_data()
        .convert::<f64>()
        .try_to_vec::<f64>()
        .map_err(|e| format!("{e:?}"))?)
}

/// Clamps every trained float parameter to `[−c, c]`.
struct Clamp {
    c: f64,
}

impl ModuleMapper for Clamp {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let (id, tensor, mapper) = param.consume();
        if !tensor.is_require_grad() {
            // Spectral normalisation's vectors and other untrained state stay as they are.
            return Param::from_mapped_value(id, tensor, mapper);
        }
        let clamped = tensor.inner().clamp(-self.c, self.c);
        Param::from_mapped_value(id, Tensor::from_inner(clamped).require_grad(), mapper)
    }
}

impl<G: Generator, C: Critic, OG: Optimizer, OC: Optimizer> Checkpointable
    for GanStep<G, C, OG, OC>
{
    fn save_checkpoint(&self, dir: &Path) -> Result<(), TrainError> {
        save_module(&self.generator, dir, "generator")?;
        if let Some(average) = &self.average {
            average.save(dir, "generator-average")?;
        }
        save_module(&self.critic, dir, "critic")?;
        self.generator_optim.save(dir, "generator-optim")?;
        self.critic_optim.save(dir, "critic-optim")
    }

    fn load_checkpoint(&mut self, dir: &Path) -> Result<(), TrainError> {
        self.generator = load_module(self.generator.clone(), dir, "generator")?;
        if let Some(average) = &mut self.average {
            average.load(dir, "generator-average")?;
        }
        self.critic = load_module(self.critic.clone(), dir, "critic")?;
        self.generator_optim
            .load(dir, "generator-optim", &self.generator)?;
        self.critic_optim.load(dir, "critic-optim", &self.critic)
    }
}

impl<G: Generator, C: Critic, OG: Optimizer, OC: Optimizer> TrainStep for GanStep<G, C, OG, OC> {
    fn step(&mut self, ctx: &mut StepContext) -> Result<StepReport, BoxError> {
        let critic_lr = ctx.lr * self.config.critic_lr_factor;
        let mut rng = ctx.rng.clone();
        match self.config.order {
            UpdateOrder::Alternating => {
                let mut critic_loss = 0.0;
                let mut penalty = 0.0;
                let mut critic_accuracy = 0.0;
                let mut critic_grad_norm = 0.0;
                for _ in 0..self.config.critic_steps {
                    self.critic.before_update();
                    let (loss, p, accuracy) = self.critic_loss(&mut rng)?;
                    critic_loss = loss.clone().into_scalar::<f64>();
                    penalty = p;
                    critic_accuracy = accuracy;
                    let grads = GradientsParams::from_grads(loss.backward(), &self.critic);
                    critic_grad_norm = global_grad_norm(&grads, &self.critic);
                    self.update_critic(critic_lr, grads);
                }
                let g_loss = self.generator_loss(&mut rng)?;
                let generator_loss = g_loss.clone().into_scalar::<f64>();
                let grads = GradientsParams::from_grads(g_loss.backward(), &self.generator);
                let generator_grad_norm = global_grad_norm(&grads, &self.generator);
                let generator = self.generator.clone();
                self.generator = self.generator_optim.step(ctx.lr, generator, grads);
                self.update_average();
                Ok(report(Measured {
                    generator_loss,
                    critic_loss,
                    penalty,
                    critic_accuracy,
                    generator_grad_norm,
                    critic_grad_norm,
                }))
            }
            UpdateOrder::Simultaneous => {
                self.critic.before_update();
                let (c_loss, penalty, critic_accuracy) = self.critic_loss(&mut rng)?;
                let critic_loss = c_loss.clone().into_scalar::<f64>();
                let critic_grads = GradientsParams::from_grads(c_loss.backward(), &self.critic);
                let critic_grad_norm = global_grad_norm(&critic_grads, &self.critic);
                let g_loss = self.generator_loss(&mut rng)?;
                let generator_loss = g_loss.clone().into_scalar::<f64>();
                let generator_grads =
                    GradientsParams::from_grads(g_loss.backward(), &self.generator);
                let generator_grad_norm = global_grad_norm(&generator_grads, &self.generator);
                self.update_critic(critic_lr, critic_grads);
                let generator = self.generator.clone();
                self.generator = self
                    .generator_optim
                    .step(ctx.lr, generator, generator_grads);
                self.update_average();
                Ok(report(Measured {
                    generator_loss,
                    critic_loss,
                    penalty,
                    critic_accuracy,
                    generator_grad_norm,
                    critic_grad_norm,
                }))
            }
        }
    }

    fn non_finite_parameter(&self) -> Option<NonFinite> {
        find_non_finite(&self.generator, "generator")
            .or_else(|| find_non_finite(&self.critic, "critic"))
    }
}
