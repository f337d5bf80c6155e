//! CycleGAN (Zhu et al. 2017): translation between two image domains `X` and `Y` from unpaired
//! examples. Two generators, `F: X → Y` and `B: Y → X` (ResNet generators), and two PatchGAN
//! discriminators, `D_Y` on `Y` and `D_X` on `X`, with the least-squares GAN loss. The generators
//! minimise
//!
//! `LSGAN(D_Y(F(x))) + LSGAN(D_X(B(y))) + λ (‖B(F(x)) − x‖₁ + ‖F(B(y)) − y‖₁)
//!  + λ_id (‖F(y) − y‖₁ + ‖B(x) − x‖₁)`
//!
//! with λ = 10 and λ_id = 0.5 λ; each discriminator minimises half its LSGAN loss on real images
//! against generated ones drawn through a replay pool of 50 ([`ReplayBuffer`]).

use std::path::Path;

use burn::module::Module;
use burn::optim::{GradientsParams, Optimizer};
use burn::tensor::Tensor;
use serde::{Deserialize, Serialize};
use sysdyn_core::device::SysDevice;
use sysdyn_core::rng::SeededRng;
use sysdyn_train::{
    BoxError, Checkpointable, NonFinite, Optim, StepContext, StepReport, TrainError, TrainStep,
    find_non_finite, load_json, load_module, save_json, save_module,
};

use crate::error::{GenerativeError, check_positive};
use crate::gan::dcgan::ImageShape;
use crate::gan::loss::{GanLoss, LsganTargets};
use crate::gan::patchgan::PatchGan;
use crate::gan::replay::ReplayBuffer;
use crate::gan::resnet_generator::ResnetGenerator;
use crate::gan::train::{DataSampler, host};

/// The weights and sizes of a CycleGAN step.
#[derive(Debug, Clone, PartialEq)]
pub struct CycleGanConfig {
    /// λ of the cycle-consistency terms (the paper's 10).
    pub cycle_weight: f64,
    /// The identity terms' weight as a multiple of λ (the paper's 0.5); 0 leaves them out.
    pub identity_factor: f64,
    /// Generated images kept for the discriminators (the paper's 50; 0: none).
    pub pool_size: usize,
    /// Images of each domain per update.
    pub batch_size: usize,
}

impl CycleGanConfig {
    /// The paper's weights and pool with batches of `batch_size`.
    pub fn new(batch_size: usize) -> Self {
        CycleGanConfig {
            cycle_weight: 10.0,
            identity_factor: 0.5,
            pool_size: 50,
            batch_size,
        }
    }

    /// Checks the settings.
    pub fn validate(&self) -> Result<(), GenerativeError> {
        if self.batch_size == 0 {
            return Err(GenerativeError::InvalidParameter {
                name: "batch_size",
                value: 0.0,
                requirement: "must be at least 1",
            });
        }
        check_positive("the cycle weight λ", self.cycle_weight)?;
        if !(self.identity_factor.is_finite() && self.identity_factor >= 0.0) {
            return Err(GenerativeError::InvalidParameter {
                name: "identity_factor",
                value: self.identity_factor,
                requirement: "must be finite and ≥ 0",
            });
        }
        Ok(())
    }
}

/// The two generators, trained together.
#[derive(Module, Debug)]
pub struct CycleGenerators {
    /// `F: X → Y`.
    pub forward: ResnetGenerator,
    /// `B: Y → X`.
    pub backward: ResnetGenerator,
}

/// The two discriminators, trained together (their losses share no parameter).
#[derive(Module, Debug)]
pub struct CycleCritics {
    /// `D_X`, on domain `X`.
    pub x: PatchGan,
    /// `D_Y`, on domain `Y`.
    pub y: PatchGan,
}

/// A CycleGAN training step for [`sysdyn_train::Trainer`]. The step's loss is the generators'
/// total; its terms and the discriminators' loss are logged. The replay pools are saved with
/// the checkpoints, so a resumed run continues exactly.
pub struct CycleGanStep<OG: Optimizer, OD: Optimizer> {
    device: SysDevice,
    /// `F` and `B`.
    pub generators: CycleGenerators,
    /// `D_X` and `D_Y`.
    pub critics: CycleCritics,
    generator_optim: Optim<OG>,
    critic_optim: Optim<OD>,
    config: CycleGanConfig,
    data_x: DataSampler,
    data_y: DataSampler,
    pool_x: ReplayBuffer<Vec<f64>>,
    pool_y: ReplayBuffer<Vec<f64>>,
}

impl<OG: Optimizer, OD: Optimizer> CycleGanStep<OG, OD> {
    /// A step for the pair of generators and of discriminators on `device` (an autodiff
    /// device), images of each domain drawn by `data_x` and `data_y`. Every network must work
    /// on images of the same layout.
    pub fn new(
        device: SysDevice,
        generators: CycleGenerators,
        critics: CycleCritics,
        optimizers: (Optim<OG>, Optim<OD>),
        config: CycleGanConfig,
        data: (DataSampler, DataSampler),
    ) -> Result<Self, GenerativeError> {
        config.validate()?;
        let image = generators.forward.config().image;
        for (what, other) in [
            ("B's images and F's", generators.backward.config().image),
            ("D_X's images and F's", critics.x.config().input),
            ("D_Y's images and F's", critics.y.config().input),
        ] {
            if other != image {
                return Err(GenerativeError::ShapeMismatch {
                    what,
                    left: shape_vec(other),
                    right: shape_vec(image),
                });
            }
        }
        Ok(CycleGanStep {
            device,
            generators,
            critics,
            generator_optim: optimizers.0,
            critic_optim: optimizers.1,
            pool_x: ReplayBuffer::new(config.pool_size),
            pool_y: ReplayBuffer::new(config.pool_size),
            config,
            data_x: data.0,
            data_y: data.1,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &CycleGanConfig {
        &self.config
    }

    fn image(&self) -> ImageShape {
        self.generators.forward.config().image
    }

    /// `F(x)` (`forward = true`) or `B(y)` of row-major images, without graph.
    pub fn translate(&self, images: Vec<f64>, forward: bool) -> Result<Vec<f64>, BoxError> {
        let width = self.image().features();
        let rows = images.len() / width.max(1);
        let x = self.device.tensor(images, [rows, width])?;
        let generator = if forward {
            &self.generators.forward
        } else {
            &self.generators.backward
        };
        host(generator.forward(x)?)
    }

    fn batch(&mut self, rng: &mut SeededRng, x_domain: bool) -> Result<Tensor<2>, BoxError> {
        let rows = self.config.batch_size;
        let width = self.image().features();
        let values = if x_domain {
            (self.data_x)(rng, rows)
        } else {
            (self.data_y)(rng, rows)
        };
        if values.len() != rows * width {
            return Err(Box::new(GenerativeError::ShapeMismatch {
                what: "images drawn (rows × features)",
                left: vec![values.len()],
                right: vec![rows * width],
            }));
        }
        Ok(self.device.tensor(values, [rows, width])?)
    }

    /// The images a discriminator sees in place of `fake`: exchanged through `pool`.
    fn pooled(
        device: &SysDevice,
        pool: &mut ReplayBuffer<Vec<f64>>,
        fake: Tensor<2>,
        rng: &mut SeededRng,
    ) -> Result<Tensor<2>, BoxError> {
        let [rows, width] = fake.dims();
        let values = host(fake)?;
        let images: Vec<Vec<f64>> = values.chunks(width).map(<[f64]>::to_vec).collect();
        let shown = pool.exchange(images, rng)?;
        Ok(device.tensor(shown.concat(), [rows, width])?)
    }
}

/// A replay pool as checkpointed: the bit patterns of its images, so that it reads back exactly
/// (decimal JSON floats need not).
#[derive(Debug, Serialize, Deserialize)]
struct PoolRecord {
    capacity: usize,
    bits: Vec<Vec<u64>>,
}

impl PoolRecord {
    fn of(pool: &ReplayBuffer<Vec<f64>>) -> Self {
        PoolRecord {
            capacity: pool.capacity(),
            bits: pool
                .samples()
                .iter()
                .map(|image| image.iter().map(|v| v.to_bits()).collect())
                .collect(),
        }
    }

    fn into_pool(self) -> Result<ReplayBuffer<Vec<f64>>, TrainError> {
        let samples = self
            .bits
            .into_iter()
            .map(|image| image.into_iter().map(f64::from_bits).collect())
            .collect();
        ReplayBuffer::with_samples(self.capacity, samples)
            .map_err(|e| TrainError::InvalidConfig(format!("checkpointed replay pool: {e}")))
    }
}

fn shape_vec(s: ImageShape) -> Vec<usize> {
    vec![s.channels, s.rows, s.cols]
}

impl<OG: Optimizer, OD: Optimizer> Checkpointable for CycleGanStep<OG, OD> {
    fn save_checkpoint(&self, dir: &Path) -> Result<(), TrainError> {
        save_module(&self.generators, dir, "generators")?;
        save_module(&self.critics, dir, "critics")?;
        self.generator_optim.save(dir, "generator-optim")?;
        self.critic_optim.save(dir, "critic-optim")?;
        save_json(&PoolRecord::of(&self.pool_x), dir, "pool-x")?;
        save_json(&PoolRecord::of(&self.pool_y), dir, "pool-y")
    }

    fn load_checkpoint(&mut self, dir: &Path) -> Result<(), TrainError> {
        self.generators = load_module(self.generators.clone(), dir, "generators")?;
        self.critics = load_module(self.critics.clone(), dir, "critics")?;
        self.generator_optim
            .load(dir, "generator-optim", &self.generators)?;
        self.critic_optim.load(dir, "critic-optim", &self.critics)?;
        self.pool_x = load_json::<PoolRecord>(dir, "pool-x")?.into_pool()?;
        self.pool_y = load_json::<PoolRecord>(dir, "pool-y")?.into_pool()?;
        Ok(())
    }
}

impl<OG: Optimizer, OD: Optimizer> TrainStep for CycleGanStep<OG, OD> {
    fn step(&mut self, ctx: &mut StepContext) -> Result<StepReport, BoxError> {
        let mut rng = ctx.rng.clone();
        let lsgan = GanLoss::LeastSquares(LsganTargets::default());
        let x = self.batch(&mut rng, true)?;
        let y = self.batch(&mut rng, false)?;

        // The generators: adversarial, cycle and identity terms.
        let CycleGenerators { forward, backward } = &self.generators;
        let fake_y = forward.forward(x.clone())?;
        let fake_x = backward.forward(y.clone())?;
        let adversarial = lsgan.generator(self.critics.y.forward(fake_y.clone())?)?
            + lsgan.generator(self.critics.x.forward(fake_x.clone())?)?;
        let cycle = (backward.forward(fake_y.clone())? - x.clone()).abs().mean()
            + (forward.forward(fake_x.clone())? - y.clone()).abs().mean();
        let mut total = adversarial.clone() + cycle.clone().mul_scalar(self.config.cycle_weight);
        let mut identity_value = 0.0;
        if self.config.identity_factor > 0.0 {
            let identity = (forward.forward(y.clone())? - y.clone()).abs().mean()
                + (backward.forward(x.clone())? - x.clone()).abs().mean();
            identity_value = identity.clone().into_scalar::<f64>();
            total =
                total + identity.mul_scalar(self.config.identity_factor * self.config.cycle_weight);
        }
        let (adversarial, cycle) = (adversarial.into_scalar::<f64>(), cycle.into_scalar::<f64>());
        let value = total.clone().into_scalar::<f64>();
        let grads = GradientsParams::from_grads(total.backward(), &self.generators);
        let generators = self.generators.clone();
        self.generators = self.generator_optim.step(ctx.lr, generators, grads);

        // The discriminators, on real images and pooled generated ones.
        let shown_y = Self::pooled(&self.device, &mut self.pool_y, fake_y, &mut rng)?;
        let shown_x = Self::pooled(&self.device, &mut self.pool_x, fake_x, &mut rng)?;
        let critic_loss = (lsgan
            .discriminator(self.critics.y.forward(y)?, self.critics.y.forward(shown_y)?)?
            + lsgan.discriminator(self.critics.x.forward(x)?, self.critics.x.forward(shown_x)?)?)
        .mul_scalar(0.5);
        let critic_value = critic_loss.clone().into_scalar::<f64>();
        let grads = GradientsParams::from_grads(critic_loss.backward(), &self.critics);
        let critics = self.critics.clone();
        self.critics = self.critic_optim.step(ctx.lr, critics, grads);

        let loss = if critic_value.is_finite() {
            value
        } else {
            critic_value
        };
        Ok(StepReport::new(loss)
            .with("adversarial", adversarial)
            .with("cycle", cycle)
            .with("identity", identity_value)
            .with("critic_loss", critic_value))
    }

    fn non_finite_parameter(&self) -> Option<NonFinite> {
        find_non_finite(&self.generators, "generators")
            .or_else(|| find_non_finite(&self.critics, "discriminators"))
    }
}
