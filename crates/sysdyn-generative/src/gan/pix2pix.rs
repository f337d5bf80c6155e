//! Pix2Pix (Isola et al. 2017): image-to-image translation on paired data. A U-Net generator
//! `G` maps an input image `a` to an output; a PatchGAN discriminator judges `(a, b)` pairs
//! (input and output stacked as channels), real `b` against `G(a)`. The generator minimises
//! `GAN(D(a, G(a))) + λ‖G(a) − b‖₁` with λ = 100; without the adversarial term
//! ([`Pix2PixConfig::l1_only`]) the same step trains the L1 baseline, whose outputs are the
//! blurry conditional medians the GAN term sharpens.

use std::path::Path;

use burn::optim::{GradientsParams, Optimizer};
use burn::tensor::Tensor;
use sysdyn_core::device::SysDevice;
use sysdyn_core::rng::SeededRng;
use sysdyn_train::{
    BoxError, Checkpointable, NonFinite, Optim, StepContext, StepReport, TrainError, TrainStep,
    find_non_finite, load_module, save_module,
};

use crate::error::{GenerativeError, check_positive};
use crate::gan::dcgan::ImageShape;
use crate::gan::loss::GanLoss;
use crate::gan::patchgan::PatchGan;
use crate::gan::train::host;
use crate::gan::unet::UNet;

/// Draws `rows` pairs: inputs and targets, each row-major `[rows, features]`.
pub type PairedSampler = Box<dyn FnMut(&mut SeededRng, usize) -> (Vec<f64>, Vec<f64>) + Send>;

/// The objective of a Pix2Pix step.
#[derive(Debug, Clone, PartialEq)]
pub struct Pix2PixConfig {
    /// The adversarial loss on the patch logits (`None`: the L1-only baseline).
    pub adversarial: Option<GanLoss>,
    /// λ of the L1 term (the paper's 100).
    pub l1_weight: f64,
    /// Pairs per update.
    pub batch_size: usize,
}

impl Pix2PixConfig {
    /// The paper's objective: cross-entropy GAN loss (non-saturating generator) + 100 · L1.
    pub fn new(batch_size: usize) -> Self {
        Pix2PixConfig {
            adversarial: Some(GanLoss::NonSaturating),
            l1_weight: 100.0,
            batch_size,
        }
    }

    /// The L1-only baseline: the same generator trained by `‖G(a) − b‖₁` alone.
    pub fn l1_only(batch_size: usize) -> Self {
        Pix2PixConfig {
            adversarial: None,
            l1_weight: 1.0,
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
        check_positive("the L1 weight λ", self.l1_weight)
    }
}

/// A Pix2Pix training step for [`sysdyn_train::Trainer`]. The step's loss is the generator's
/// total; the L1 term, the adversarial terms and the discriminator's loss are logged. The
/// discriminator and its optimizer take no part in the L1-only baseline.
pub struct Pix2PixStep<OG: Optimizer, OD: Optimizer> {
    device: SysDevice,
    /// The generator.
    pub generator: UNet,
    /// The discriminator.
    pub discriminator: PatchGan,
    generator_optim: Optim<OG>,
    discriminator_optim: Optim<OD>,
    config: Pix2PixConfig,
    data: PairedSampler,
}

impl<OG: Optimizer, OD: Optimizer> Pix2PixStep<OG, OD> {
    /// A step for `generator` and `discriminator` on `device` (an autodiff device), pairs drawn
    /// by `data`. The discriminator must see the input and the output stacked as channels.
    pub fn new(
        device: SysDevice,
        generator: UNet,
        discriminator: PatchGan,
        optimizers: (Optim<OG>, Optim<OD>),
        config: Pix2PixConfig,
        data: PairedSampler,
    ) -> Result<Self, GenerativeError> {
        config.validate()?;
        let g = generator.config();
        let pair = ImageShape::new(
            g.input.channels + g.output_channels,
            g.input.rows,
            g.input.cols,
        );
        if discriminator.config().input != pair {
            return Err(GenerativeError::ShapeMismatch {
                what: "PatchGAN input (channels, rows, cols) and the generator's input + output",
                left: shape_vec(discriminator.config().input),
                right: shape_vec(pair),
            });
        }
        Ok(Pix2PixStep {
            device,
            generator,
            discriminator,
            generator_optim: optimizers.0,
            discriminator_optim: optimizers.1,
            config,
            data,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &Pix2PixConfig {
        &self.config
    }

    /// The translations of `inputs` (row-major `[rows, input features]`), without graph.
    pub fn translate(&self, inputs: Vec<f64>) -> Result<Vec<f64>, BoxError> {
        let width = self.generator.config().input.features();
        let rows = inputs.len() / width.max(1);
        let x = self.device.tensor(inputs, [rows, width])?;
        host(self.generator.forward(x)?)
    }

    fn pairs(&mut self, rng: &mut SeededRng) -> Result<(Tensor<2>, Tensor<2>), BoxError> {
        let rows = self.config.batch_size;
        let g = self.generator.config();
        let (input_width, output_width) = (
            g.input.features(),
            g.output_channels * g.input.rows * g.input.cols,
        );
        let (inputs, targets) = (self.data)(rng, rows);
        if inputs.len() != rows * input_width || targets.len() != rows * output_width {
            return Err(Box::new(GenerativeError::ShapeMismatch {
                what: "pairs drawn (input values, target values)",
                left: vec![inputs.len(), targets.len()],
                right: vec![rows * input_width, rows * output_width],
            }));
        }
        Ok((
            self.device.tensor(inputs, [rows, input_width])?,
            self.device.tensor(targets, [rows, output_width])?,
        ))
    }
}

fn shape_vec(s: ImageShape) -> Vec<usize> {
    vec![s.channels, s.rows, s.cols]
}

impl<OG: Optimizer, OD: Optimizer> Checkpointable for Pix2PixStep<OG, OD> {
    fn save_checkpoint(&self, dir: &Path) -> Result<(), TrainError> {
        save_module(&self.generator, dir, "generator")?;
        save_module(&self.discriminator, dir, "discriminator")?;
        self.generator_optim.save(dir, "generator-optim")?;
        self.discriminator_optim.save(dir, "discriminator-optim")
    }

    fn load_checkpoint(&mut self, dir: &Path) -> Result<(), TrainError> {
        self.generator = load_module(self.generator.clone(), dir, "generator")?;
        self.discriminator = load_module(self.discriminator.clone(), dir, "discriminator")?;
        self.generator_optim
            .load(dir, "generator-optim", &self.generator)?;
        self.discriminator_optim
            .load(dir, "discriminator-optim", &self.discriminator)
    }
}

impl<OG: Optimizer, OD: Optimizer> TrainStep for Pix2PixStep<OG, OD> {
    fn step(&mut self, ctx: &mut StepContext) -> Result<StepReport, BoxError> {
        let mut rng = ctx.rng.clone();
        let (inputs, targets) = self.pairs(&mut rng)?;
        let mut discriminator_loss = None;
        if let Some(loss) = self.config.adversarial {
            let fake = self.generator.forward(inputs.clone())?.detach();
            let real_pair = Tensor::cat(vec![inputs.clone(), targets.clone()], 1);
            let fake_pair = Tensor::cat(vec![inputs.clone(), fake], 1);
            // The paper halves the discriminator's loss to slow it relative to the generator.
            let d_loss = loss
                .discriminator(
                    self.discriminator.forward(real_pair)?,
                    self.discriminator.forward(fake_pair)?,
                )?
                .mul_scalar(0.5);
            discriminator_loss = Some(d_loss.clone().into_scalar::<f64>());
            let grads = GradientsParams::from_grads(d_loss.backward(), &self.discriminator);
            let discriminator = self.discriminator.clone();
            self.discriminator = self.discriminator_optim.step(ctx.lr, discriminator, grads);
        }
        let fake = self.generator.forward(inputs.clone())?;
        let l1 = (fake.clone() - targets).abs().mean();
        let l1_value = l1.clone().into_scalar::<f64>();
        let mut total = l1.mul_scalar(self.config.l1_weight);
        let mut adversarial = None;
        if let Some(loss) = self.config.adversarial {
            let fake_pair = Tensor::cat(vec![inputs, fake], 1);
            let g_adv = loss.generator(self.discriminator.forward(fake_pair)?)?;
            adversarial = Some(g_adv.clone().into_scalar::<f64>());
            total = total + g_adv;
        }
        let value = total.clone().into_scalar::<f64>();
        let grads = GradientsParams::from_grads(total.backward(), &self.generator);
        let generator = self.generator.clone();
        self.generator = self.generator_optim.step(ctx.lr, generator, grads);
        // A discriminator that diverged stops the run at this step, like the generator.
        let loss = match discriminator_loss {
            Some(d) if !d.is_finite() => d,
            _ => value,
        };
        let mut report = StepReport::new(loss).with("l1", l1_value);
        if let (Some(d), Some(g)) = (discriminator_loss, adversarial) {
            report = report
                .with("discriminator_loss", d)
                .with("generator_adversarial", g);
        }
        Ok(report)
    }

    fn non_finite_parameter(&self) -> Option<NonFinite> {
        find_non_finite(&self.generator, "generator")
            .or_else(|| find_non_finite(&self.discriminator, "discriminator"))
    }
}
