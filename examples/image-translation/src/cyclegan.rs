//! CycleGAN between two unpaired domains (`X`, `Y`: shapes and colour-inverted shapes, or digits
//! in two hands), and the domain classifier that judges its translations.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use burn::module::Module;
use burn::optim::{Adam, AdamConfig, GradientsParams};
use sysdyn_core::device::SysDevice;
use sysdyn_core::rng::SeededRng;
use sysdyn_generative::gan::{
    Critic, CriticNorm, CycleCritics, CycleGanConfig, CycleGanStep, CycleGenerators, DcganConfig,
    DcganCritic, GanLoss, ImageShape, PatchGanConfig, ResnetGeneratorConfig,
};
use sysdyn_train::{
    BoxError, Checkpointable, LrSchedule, NonFinite, Optim, ProgressMode, RunSet, StepContext,
    StepReport, TrainConfig, TrainError, TrainStep, find_non_finite, load_module, save_module,
};

use crate::ExampleError;
use crate::data::{DomainPair, PIXELS, PairKind, SIDE, to_signed, to_unit};

/// Adam's learning rate (the paper's 2e-4, β = (0.5, 0.999)).
pub const LEARNING_RATE: f64 = 2e-4;
/// Images of each domain per update.
pub const BATCH: usize = 8;
/// Channels after the generators' first convolution.
pub const GENERATOR_WIDTH: usize = 8;
/// Channels of the discriminators' first convolution.
pub const CRITIC_WIDTH: usize = 16;

/// One trained CycleGAN's translations of held-out images, `[0, 1]` pixels.
#[derive(Debug, Clone)]
pub struct Cycled {
    /// Whether this invocation trained it.
    pub trained: bool,
    /// Seconds of training.
    pub train_s: f64,
    /// `F(x)` of the held-out `X` images.
    pub forward: Vec<f64>,
    /// `B(F(x))`.
    pub forward_cycle: Vec<f64>,
    /// `B(y)` of the held-out `Y` images.
    pub backward: Vec<f64>,
    /// `F(B(y))`.
    pub backward_cycle: Vec<f64>,
}

/// The run directory's name.
pub fn run_name(kind: PairKind, seed_index: usize) -> String {
    format!("cyclegan-{}-s{seed_index}", kind.name())
}

/// The domain classifier's run directory.
pub fn classifier_run_name(kind: PairKind) -> String {
    format!("domain-classifier-{}", kind.name())
}

fn signed_batches(
    step: &CycleGanStep<Adam, Adam>,
    images: &[f64],
    forward: bool,
) -> Result<Vec<f64>, ExampleError> {
    let mut out = Vec::with_capacity(images.len());
    for chunk in images.chunks(250 * PIXELS) {
        out.extend(
            step.translate(chunk.to_vec(), forward)
                .map_err(|e| ExampleError::Sample(e.to_string()))?,
        );
    }
    Ok(out)
}

/// Trains (or loads) one CycleGAN and translates the held-out images both ways and back.
#[allow(clippy::too_many_arguments)]
pub fn train_and_translate(
    device: &SysDevice,
    runs: &RunSet,
    pair: &Arc<DomainPair>,
    steps: usize,
    progress: ProgressMode,
    seed_index: usize,
    seed: u64,
) -> Result<Cycled, ExampleError> {
    let steps = steps.max(1) as u64;
    let config = TrainConfig::new(steps)
        .with_seed(seed)
        .with_schedule(LrSchedule::Constant { lr: LEARNING_RATE })
        .with_divergence_factor(None)
        .with_checkpoint_every(Some((steps / 4).max(1)))
        .with_progress(progress)
        // A resume with other data is refused instead of continuing on it.
        .with_program_settings(Some(serde_json::json!({
            "model": "cyclegan",
            "domains": pair.kind.name(),
            "training_images": pair.train_len(),
        })));
    let session = runs.session(config, &run_name(pair.kind, seed_index))?;
    let grey = ImageShape::new(1, SIDE, SIDE);
    let mut rng = SeededRng::new(seed.wrapping_mul(15_485_863).wrapping_add(5));
    let generator = ResnetGeneratorConfig::new(grey, GENERATOR_WIDTH);
    let critic = PatchGanConfig::new(grey, CRITIC_WIDTH);
    let generators = CycleGenerators {
        forward: generator.init(device.device(), &mut rng)?,
        backward: generator.init(device.device(), &mut rng)?,
    };
    let critics = CycleCritics {
        x: critic.init(device.device(), &mut rng)?,
        y: critic.init(device.device(), &mut rng)?,
    };
    let adam = || {
        Optim::new(
            AdamConfig::new()
                .with_beta_1(0.5)
                .with_beta_2(0.999)
                .build(),
        )
    };
    // Unpaired: each domain draws its own images.
    let (x_data, y_data) = (Arc::clone(pair), Arc::clone(pair));
    let mut step = CycleGanStep::new(
        device.clone(),
        generators,
        critics,
        (adam(), adam()),
        CycleGanConfig::new(BATCH),
        (
            Box::new(move |rng: &mut SeededRng, rows| to_signed(&x_data.draw_x(rng, rows))),
            Box::new(move |rng: &mut SeededRng, rows| to_signed(&y_data.draw_y(rng, rows))),
        ),
    )?;
    let start = Instant::now();
    let trained = session.run(&mut step)?.is_some();
    let train_s = if trained {
        start.elapsed().as_secs_f64()
    } else {
        0.0
    };
    let x = to_signed(&pair.x_test);
    let y = to_signed(&pair.y_test);
    let forward = signed_batches(&step, &x, true)?;
    let forward_cycle = signed_batches(&step, &forward, false)?;
    let backward = signed_batches(&step, &y, false)?;
    let backward_cycle = signed_batches(&step, &backward, true)?;
    Ok(Cycled {
        trained,
        train_s,
        forward: to_unit(&forward),
        forward_cycle: to_unit(&forward_cycle),
        backward: to_unit(&backward),
        backward_cycle: to_unit(&backward_cycle),
    })
}

/// The domain classifier: a small convolutional critic (no normalisation) trained with the
/// cross-entropy of a discriminator to score `Y` images positive and `X` images negative.
pub struct DomainStep {
    device: SysDevice,
    /// The classifier.
    pub model: DcganCritic,
    adam: Optim<Adam>,
    pair: Arc<DomainPair>,
}

impl DomainStep {
    /// A fresh classifier drawn from `seed`.
    pub fn new(device: SysDevice, pair: Arc<DomainPair>, seed: u64) -> Result<Self, ExampleError> {
        let model = DcganConfig::new(ImageShape::new(1, SIDE, SIDE), 1, 8)
            .with_critic_norm(CriticNorm::None)
            .init_critic(device.device(), &mut SeededRng::new(seed))?;
        Ok(DomainStep {
            device,
            model,
            adam: Optim::new(AdamConfig::new().build()),
            pair,
        })
    }

    /// The fraction of `images` (`[0, 1]` pixels) classified as `Y`.
    pub fn fraction_in_y(&self, images: &[f64]) -> Result<f64, ExampleError> {
        let rows = images.len() / PIXELS;
        let x = self
            .device
            .tensor(to_signed(images), [rows, PIXELS])
            .map_err(|e| ExampleError::Sample(e.to_string()))?;
        let scores = self.model.clone().no_grad().score(x, None)?;
        let values = scores
            .into_data()
            .convert::<f64>()
            .try_to_vec::<f64>()
            .map_err(|e| ExampleError::Sample(format!("{e:?}")))?;
        Ok(values.iter().filter(|&&s| s > 0.0).count() as f64 / rows.max(1) as f64)
    }
}

impl Checkpointable for DomainStep {
    fn save_checkpoint(&self, dir: &Path) -> Result<(), TrainError> {
        save_module(&self.model, dir, "domain-classifier")?;
        self.adam.save(dir, "adam")
    }

    fn load_checkpoint(&mut self, dir: &Path) -> Result<(), TrainError> {
        self.model = load_module(self.model.clone(), dir, "domain-classifier")?;
        self.adam.load(dir, "adam", &self.model)
    }
}

impl TrainStep for DomainStep {
    fn step(&mut self, ctx: &mut StepContext) -> Result<StepReport, BoxError> {
        let rows = 32;
        let x = to_signed(&self.pair.draw_x(&mut ctx.rng, rows));
        let y = to_signed(&self.pair.draw_y(&mut ctx.rng, rows));
        let x = self.device.tensor(x, [rows, PIXELS])?;
        let y = self.device.tensor(y, [rows, PIXELS])?;
        let loss = GanLoss::NonSaturating
            .discriminator(self.model.score(y, None)?, self.model.score(x, None)?)?;
        let value = loss.clone().into_scalar::<f64>();
        let grads = GradientsParams::from_grads(loss.backward(), &self.model);
        self.model = self.adam.step(ctx.lr, self.model.clone(), grads);
        Ok(StepReport::new(value))
    }

    fn non_finite_parameter(&self) -> Option<NonFinite> {
        find_non_finite(&self.model, "domain classifier")
    }
}
