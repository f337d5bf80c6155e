//! Pix2Pix against its L1-only baseline on edges → shapes.

use std::sync::Arc;
use std::time::Instant;

use burn::optim::AdamConfig;
use sysdyn_core::device::SysDevice;
use sysdyn_core::rng::SeededRng;
use sysdyn_generative::gan::{
    ImageShape, PairedSampler, PatchGanConfig, Pix2PixConfig, Pix2PixStep, UNetConfig,
};
use sysdyn_train::{LrSchedule, Optim, ProgressMode, RunSet, TrainConfig};

use crate::ExampleError;
use crate::data::{PIXELS, SIDE, Shapes, edges, to_signed, to_unit};

/// Adam's learning rate for both networks (the paper's 2e-4, β = (0.5, 0.999)).
pub const LEARNING_RATE: f64 = 2e-4;
/// Pairs per update.
pub const BATCH: usize = 32;
/// Channels of the U-Net's first level and the PatchGAN's first convolution.
pub const WIDTH: usize = 16;

/// The two generators compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Objective {
    /// GAN + 100 · L1.
    Pix2Pix,
    /// L1 alone.
    L1Only,
}

impl Objective {
    /// Both.
    pub const ALL: [Objective; 2] = [Objective::Pix2Pix, Objective::L1Only];

    /// Name of runs and figures.
    pub fn name(self) -> &'static str {
        match self {
            Objective::Pix2Pix => "pix2pix",
            Objective::L1Only => "l1-only",
        }
    }
}

/// One trained generator's translations of the held-out edge maps, `[0, 1]` pixels.
#[derive(Debug, Clone)]
pub struct Translated {
    /// Whether this invocation trained it.
    pub trained: bool,
    /// Seconds of training.
    pub train_s: f64,
    /// The outputs.
    pub outputs: Vec<f64>,
}

/// The run directory's name.
pub fn run_name(objective: Objective, seed_index: usize) -> String {
    format!("{}-s{seed_index}", objective.name())
}

/// Trains (or loads) one generator and translates the held-out edge maps `test_edges`
/// (`[0, 1]`).
#[allow(clippy::too_many_arguments)]
pub fn train_and_translate(
    device: &SysDevice,
    runs: &RunSet,
    shapes: &Arc<Shapes>,
    objective: Objective,
    steps: usize,
    progress: ProgressMode,
    seed_index: usize,
    seed: u64,
    test_edges: &[f64],
) -> Result<Translated, ExampleError> {
    let steps = steps.max(1) as u64;
    let config = TrainConfig::new(steps)
        .with_seed(seed)
        .with_schedule(LrSchedule::Constant { lr: LEARNING_RATE })
        .with_divergence_factor(None)
        .with_checkpoint_every(Some((steps / 4).max(1)))
        .with_progress(progress)
        // A resume with other data is refused instead of continuing on it.
        .with_program_settings(Some(serde_json::json!({
            "model": objective.name(),
            "training_images": shapes.train_len(),
        })));
    let session = runs.session(config, &run_name(objective, seed_index))?;
    let grey = ImageShape::new(1, SIDE, SIDE);
    let mut rng = SeededRng::new(seed.wrapping_mul(104_729).wrapping_add(3));
    let generator = UNetConfig::new(grey, 1, WIDTH).init(device.device(), &mut rng)?;
    let discriminator = PatchGanConfig::new(ImageShape::new(2, SIDE, SIDE), WIDTH)
        .init(device.device(), &mut rng)?;
    let adam = || {
        Optim::new(
            AdamConfig::new()
                .with_beta_1(0.5)
                .with_beta_2(0.999)
                .build(),
        )
    };
    let pix2pix = match objective {
        Objective::Pix2Pix => Pix2PixConfig::new(BATCH),
        Objective::L1Only => Pix2PixConfig::l1_only(BATCH),
    };
    let data = Arc::clone(shapes);
    let sampler: PairedSampler = Box::new(move |rng: &mut SeededRng, rows| {
        let targets = data.draw(rng, rows);
        (to_signed(&edges(&targets)), to_signed(&targets))
    });
    let mut step = Pix2PixStep::new(
        device.clone(),
        generator,
        discriminator,
        (adam(), adam()),
        pix2pix,
        sampler,
    )?;
    let start = Instant::now();
    let trained = session.run(&mut step)?.is_some();
    let train_s = if trained {
        start.elapsed().as_secs_f64()
    } else {
        0.0
    };
    let mut outputs = Vec::with_capacity(test_edges.len());
    for chunk in test_edges.chunks(250 * PIXELS) {
        let translated = step
            .translate(to_signed(chunk))
            .map_err(|e| ExampleError::Sample(e.to_string()))?;
        outputs.extend(to_unit(&translated));
    }
    Ok(Translated {
        trained,
        train_s,
        outputs,
    })
}
