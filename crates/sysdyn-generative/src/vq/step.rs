//! The VQ-VAE's and its prior's training steps on sysdyn's runtime.
//!
//! [`VqVaeStep`]: a batch of images from the sampler, the loss of [`VqVae::forward`], one
//! optimizer update of the trained parameters (the codebook too, unless it moves by EMA),
//! then [`VectorQuantiser::update_codes`](crate::vq::VectorQuantiser::update_codes): the EMA
//! update and the dead-code restart, which draws its batch rows from the step's own random
//! stream. The report logs the reconstruction, codebook and commitment losses, the batch's
//! perplexity and code usage, and the number of codes restarted.
//!
//! [`PriorStep`]: code grids (drawn directly, or the codes of images under a trained VQ-VAE),
//! the prior's cross-entropy, one optimizer update.

use std::path::Path;

use burn::optim::{GradientsParams, Optimizer};
use sysdyn_core::device::SysDevice;
use sysdyn_core::rng::SeededRng;
use sysdyn_train::{
    BoxError, Checkpointable, NonFinite, Optim, StepContext, StepReport, TrainError, TrainStep,
    find_non_finite, load_module, save_module,
};

use crate::error::GenerativeError;
use crate::inputs::DataSampler;
use crate::vq::metrics::CodeUsage;
use crate::vq::model::VqVae;
use crate::vq::prior::PixelCnnPrior;

/// The random stream (of [`StepContext::stream`]) of the dead-code restarts.
const RESTART_STREAM: u64 = 0x5651;

/// Draws `grids` code grids, `grids · h · w` indices (batch, then raster order).
pub type CodeSampler = Box<dyn FnMut(&mut SeededRng, usize) -> Vec<usize> + Send>;

fn check_batch(batch_size: usize) -> Result<(), GenerativeError> {
    if batch_size == 0 {
        return Err(GenerativeError::InvalidParameter {
            name: "batch_size",
            value: 0.0,
            requirement: "must be at least 1",
        });
    }
    Ok(())
}

/// Draws a batch of flattened images and uploads it.
fn image_batch(
    device: &SysDevice,
    sampler: &mut DataSampler,
    rng: &mut SeededRng,
    rows: usize,
    features: usize,
) -> Result<burn::tensor::Tensor<2>, BoxError> {
    let values = sampler(rng, rows);
    if values.len() != rows * features {
        return Err(Box::new(GenerativeError::ShapeMismatch {
            what: "images drawn (rows × channels·rows·cols)",
            left: vec![values.len()],
            right: vec![rows * features],
        }));
    }
    Ok(device.tensor(values, [rows, features])?)
}

/// A VQ-VAE's training step for [`sysdyn_train::Trainer`].
pub struct VqVaeStep<O: Optimizer> {
    device: SysDevice,
    /// The model.
    pub model: VqVae,
    optim: Optim<O>,
    batch_size: usize,
    data: DataSampler,
}

impl<O: Optimizer> VqVaeStep<O> {
    /// A step for `model` on `device` (an autodiff device) with `batch_size` images per
    /// update drawn by `data` (row-major `[rows, C·H·W]`).
    pub fn new(
        device: SysDevice,
        model: VqVae,
        optim: Optim<O>,
        batch_size: usize,
        data: DataSampler,
    ) -> Result<Self, GenerativeError> {
        check_batch(batch_size)?;
        Ok(VqVaeStep {
            device,
            model,
            optim,
            batch_size,
            data,
        })
    }

    /// The code usage of the images `images` (row-major `[rows, C·H·W]`) under the current
    /// model: usage and perplexity over a data set.
    pub fn usage(&self, images: Vec<f64>, rows: usize) -> Result<CodeUsage, BoxError> {
        let features = self.model.config().image.features();
        let x = self.device.tensor(images, [rows, features])?;
        let codes = self.model.encode_codes(x)?;
        Ok(CodeUsage::of(self.model.config().quantiser.codes, &codes)?)
    }
}

impl<O: Optimizer> Checkpointable for VqVaeStep<O> {
    fn save_checkpoint(&self, dir: &Path) -> Result<(), TrainError> {
        save_module(&self.model, dir, "vq-vae")?;
        self.optim.save(dir, "vq-vae-optim")
    }

    fn load_checkpoint(&mut self, dir: &Path) -> Result<(), TrainError> {
        self.model = load_module(self.model.clone(), dir, "vq-vae")?;
        self.optim.load(dir, "vq-vae-optim", &self.model)
    }
}

impl<O: Optimizer> TrainStep for VqVaeStep<O> {
    fn step(&mut self, ctx: &mut StepContext) -> Result<StepReport, BoxError> {
        let features = self.model.config().image.features();
        let images = image_batch(
            &self.device,
            &mut self.data,
            &mut ctx.rng,
            self.batch_size,
            features,
        )?;
        let pass = self.model.forward(images)?;
        let loss = pass.loss.clone().into_scalar::<f64>();
        let reconstruction = pass.reconstruction_loss.clone().into_scalar::<f64>();
        let codebook = pass.quantised.codebook_loss.clone().into_scalar::<f64>();
        let commitment = pass.quantised.commitment_loss.clone().into_scalar::<f64>();
        let usage = CodeUsage::of(self.model.config().quantiser.codes, &pass.quantised.codes)?;
        let mut grads = GradientsParams::from_grads(pass.loss.backward(), &self.model);
        ctx.clip_grads(&mut grads, &self.model);
        self.model = self.optim.step(ctx.lr, self.model.clone(), grads);
        let mut restart_rng = ctx.stream(RESTART_STREAM);
        let restarted = self.model.quantiser.update_codes(
            pass.encoded,
            &pass.quantised.codes,
            &mut restart_rng,
        )?;
        Ok(StepReport::new(loss)
            .with("reconstruction", reconstruction)
            .with("codebook_loss", codebook)
            .with("commitment_loss", commitment)
            .with("perplexity", usage.perplexity())
            .with("usage", usage.fraction_used())
            .with("restarted", restarted as f64))
    }

    fn non_finite_parameter(&self) -> Option<NonFinite> {
        find_non_finite(&self.model, "vq_vae")
    }
}

/// Where a prior's training grids come from.
enum CodeSource {
    Codes(CodeSampler),
    Images {
        vq_vae: Box<VqVae>,
        images: DataSampler,
    },
}

/// A PixelCNN prior's training step for [`sysdyn_train::Trainer`].
pub struct PriorStep<O: Optimizer> {
    device: SysDevice,
    /// The prior.
    pub prior: PixelCnnPrior,
    optim: Optim<O>,
    batch_size: usize,
    source: CodeSource,
}

impl<O: Optimizer> PriorStep<O> {
    /// A step for `prior` with `batch_size` code grids per update drawn by `codes`.
    pub fn new(
        device: SysDevice,
        prior: PixelCnnPrior,
        optim: Optim<O>,
        batch_size: usize,
        codes: CodeSampler,
    ) -> Result<Self, GenerativeError> {
        check_batch(batch_size)?;
        Ok(PriorStep {
            device,
            prior,
            optim,
            batch_size,
            source: CodeSource::Codes(codes),
        })
    }

    /// A step for `prior` on the code grids of images drawn by `images` under the (trained,
    /// not updated) `vq_vae`, whose codebook and grid must be the prior's.
    pub fn on_vq_vae(
        device: SysDevice,
        prior: PixelCnnPrior,
        optim: Optim<O>,
        batch_size: usize,
        vq_vae: VqVae,
        images: DataSampler,
    ) -> Result<Self, GenerativeError> {
        check_batch(batch_size)?;
        let config = vq_vae.config();
        let (codes, grid) = (config.quantiser.codes, config.grid());
        if (codes, grid) != (prior.config().codes, prior.config().grid) {
            return Err(GenerativeError::ShapeMismatch {
                what: "the VQ-VAE's (K, h, w) and the prior's",
                left: vec![codes, grid.0, grid.1],
                right: vec![
                    prior.config().codes,
                    prior.config().grid.0,
                    prior.config().grid.1,
                ],
            });
        }
        Ok(PriorStep {
            device,
            prior,
            optim,
            batch_size,
            source: CodeSource::Images {
                vq_vae: Box::new(vq_vae),
                images,
            },
        })
    }

    fn codes(&mut self, rng: &mut SeededRng) -> Result<Vec<usize>, BoxError> {
        match &mut self.source {
            CodeSource::Codes(sampler) => Ok(sampler(rng, self.batch_size)),
            CodeSource::Images { vq_vae, images } => {
                let features = vq_vae.config().image.features();
                let x = image_batch(&self.device, images, rng, self.batch_size, features)?;
                Ok(vq_vae.encode_codes(x.detach())?)
            }
        }
    }
}

impl<O: Optimizer> Checkpointable for PriorStep<O> {
    fn save_checkpoint(&self, dir: &Path) -> Result<(), TrainError> {
        save_module(&self.prior, dir, "prior")?;
        self.optim.save(dir, "prior-optim")
    }

    fn load_checkpoint(&mut self, dir: &Path) -> Result<(), TrainError> {
        self.prior = load_module(self.prior.clone(), dir, "prior")?;
        self.optim.load(dir, "prior-optim", &self.prior)
    }
}

impl<O: Optimizer> TrainStep for PriorStep<O> {
    fn step(&mut self, ctx: &mut StepContext) -> Result<StepReport, BoxError> {
        let codes = self.codes(&mut ctx.rng)?;
        let nll = self.prior.negative_log_likelihood(&codes)?;
        let value = nll.clone().into_scalar::<f64>();
        let mut grads = GradientsParams::from_grads(nll.backward(), &self.prior);
        ctx.clip_grads(&mut grads, &self.prior);
        self.prior = self.optim.step(ctx.lr, self.prior.clone(), grads);
        Ok(StepReport::new(value).with("bits_per_code", value / std::f64::consts::LN_2))
    }

    fn non_finite_parameter(&self) -> Option<NonFinite> {
        find_non_finite(&self.prior, "prior")
    }
}
