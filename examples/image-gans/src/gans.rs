//! The two image GANs, trained on the runtime and scored by the classifier: DCGAN
//! (unconditional) and a class-conditional DCGAN whose generator takes the label's embedding
//! beside the code and whose discriminator is a projection discriminator.

use std::sync::Arc;
use std::time::Instant;

use burn::optim::{Adam, AdamConfig};
use sysdyn_core::device::SysDevice;
use sysdyn_core::rng::SeededRng;
use sysdyn_data::metrics::{GaussianFit, frechet_distance_gaussians};
use sysdyn_generative::gan::{
    Critic, CriticConditioning, DcganConfig, DcganCritic, DcganGenerator, GanConfig, GanLoss,
    GanStep, Generator, GeneratorConditioning, LabelledSampler,
};
use sysdyn_generative::style::{StyleGenerator, StyleGeneratorConfig};
use sysdyn_train::{LrSchedule, Optim, ProgressMode, RunSet, Session, TrainConfig};

use crate::classifier::{Classifier, FEATURES, judge};
use crate::data::Digits;
use crate::{CriticNormArg, ExampleError};

/// DCGAN's learning rate for both players (Adam β = (0.5, 0.999)).
pub const LEARNING_RATE: f64 = 2e-4;
/// Width of the latent code.
pub const LATENT: usize = 64;
/// Width of the conditional generator's label embedding.
pub const LABEL_WIDTH: usize = 16;

/// The image GANs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    /// Unconditional DCGAN.
    Dcgan,
    /// Conditional DCGAN, the label's embedding appended to the generator's code and to the
    /// discriminator's input as channels (Mirza & Osindero 2014).
    CganConcat,
    /// Conditional DCGAN, the label's embedding appended to the generator's code, with a
    /// projection discriminator (Miyato & Koyama 2018).
    CganProjection,
    /// The style-based generator (mapping network, constant input, noise inputs, AdaIN)
    /// against the DCGAN discriminator.
    Style,
}

impl Variant {
    /// All, in the order of the runs.
    pub const ALL: [Variant; 4] = [
        Variant::Dcgan,
        Variant::CganConcat,
        Variant::CganProjection,
        Variant::Style,
    ];

    /// Name of runs and figures.
    pub fn name(self) -> &'static str {
        match self {
            Variant::Dcgan => "dcgan",
            Variant::CganConcat => "cgan-concat",
            Variant::CganProjection => "cgan-projection",
            Variant::Style => "style",
        }
    }

    /// What runs without `--gans`: the label-channel cGAN, whose class accuracy stayed far
    /// below the projection discriminator's in our runs (README), only on request.
    pub const DEFAULT: [Variant; 3] = [Variant::Dcgan, Variant::CganProjection, Variant::Style];

    /// The variant called `name` (for the command line).
    pub fn parse(name: &str) -> Result<Variant, String> {
        Variant::ALL
            .into_iter()
            .find(|v| v.name() == name.trim())
            .ok_or_else(|| {
                let names: Vec<&str> = Variant::ALL.iter().map(|v| v.name()).collect();
                format!("unknown GAN `{name}`; one of {}", names.join(", "))
            })
    }

    /// Its paper's loss: hinge for the projection discriminator (Miyato & Koyama 2018), the
    /// non-saturating cross-entropy of DCGAN for the others.
    pub fn loss(self) -> GanLoss {
        match self {
            Variant::CganProjection => GanLoss::Hinge,
            _ => GanLoss::NonSaturating,
        }
    }

    /// Its discriminator's normalisation: spectral normalisation (Miyato et al. 2018) for DCGAN
    /// and the conditional GANs; for the style-based generator the DCGAN paper's batch norm,
    /// against which it trained without collapsing (against the spectrally normalised
    /// discriminator it collapsed to one blot, Fréchet distance 360 against 214).
    pub fn critic_norm(self) -> CriticNormArg {
        match self {
            Variant::Style => CriticNormArg::Batch,
            _ => CriticNormArg::Spectral,
        }
    }

    /// How the discriminator sees the class, for the conditional ones.
    pub fn conditioning(self) -> Option<CriticConditioning> {
        match self {
            Variant::Dcgan | Variant::Style => None,
            Variant::CganConcat => Some(CriticConditioning::LabelChannels),
            Variant::CganProjection => Some(CriticConditioning::Projection),
        }
    }
}

/// How long and how large.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Generator steps per run.
    pub steps: usize,
    /// Generator steps of the style-based generator (slower per step).
    pub style_steps: usize,
    /// Rows per update.
    pub batch: usize,
    /// Channels of the critic's first convolution and the generator's last hidden layer
    /// (doubling once towards the 7×7 level).
    pub width: usize,
    /// Generated images scored per run.
    pub samples: usize,
    /// The discriminator's normalisation of every GAN (`None`: [`Variant::critic_norm`]).
    pub critic_norm: Option<CriticNormArg>,
    /// How the conditional generators see the class.
    pub generator_conditioning: GeneratorConditioning,
    /// Decay of a moving average of the generators' weights, sampled instead of the last
    /// weights (`None`: the last weights).
    pub generator_average: Option<f64>,
    /// The pair of losses for every GAN (`None`: [`Variant::loss`]).
    pub loss: Option<GanLoss>,
    /// How the trainer shows progress.
    pub progress: ProgressMode,
}

/// One run's scores.
#[derive(Debug, Clone)]
pub struct GanRun {
    /// Whether this invocation trained it.
    pub trained: bool,
    /// Seconds of training.
    pub train_s: f64,
    /// Mean generator and discriminator losses over the last 10 % of steps.
    pub final_losses: [f64; 2],
    /// Fréchet distance of the samples' classifier features to the held-out reference's.
    pub frechet: f64,
    /// Fraction of samples the classifier puts in the class asked for (conditional only).
    pub class_accuracy: Option<f64>,
    /// Fraction of samples the classifier puts in each class.
    pub class_histogram: Vec<f64>,
    /// The first samples (flattened, `[−1, 1]`) for the figure, with the classes asked for.
    pub grid: Vec<f64>,
    /// `(step, generator loss, discriminator loss)` of every step.
    pub losses: Vec<[f64; 3]>,
    /// The style-mixing grid of the style-based generator: `MIXING` sources A (left column),
    /// `MIXING` sources B (top row), and each A with B's styles from [`MIXING_CROSSOVER`] on;
    /// row-major `(MIXING + 1)²` images with an empty corner.
    pub mixing: Option<Vec<f64>>,
}

/// Sources per side of the style-mixing grid.
pub const MIXING: usize = 5;
/// The style layer from which the B sources' styles replace A's in the mixing grid: A keeps the
/// 7×7 and 14×14 layers (pose, shape), B sets the 28×28 ones (stroke detail).
pub const MIXING_CROSSOVER: usize = 4;
/// Feature channels of the style-based generator.
pub const STYLE_CHANNELS: usize = 8;

/// Trains (or loads) one GAN with the `seed_index`-th seed (value `seed`), then scores
/// `plan.samples` samples with the classifier.
#[allow(clippy::too_many_arguments)]
pub fn train_and_score(
    device: &SysDevice,
    runs: &RunSet,
    plan: &Plan,
    variant: Variant,
    seed_index: usize,
    seed: u64,
    digits: &Arc<Digits>,
    classifier: &Classifier,
    reference: &GaussianFit,
) -> Result<GanRun, ExampleError> {
    let steps = match variant {
        Variant::Style => plan.style_steps,
        _ => plan.steps,
    }
    .max(1) as u64;
    let critic_norm = plan.critic_norm.unwrap_or(variant.critic_norm());
    let (norm, minibatch_std) = critic_norm.parts();
    let config = TrainConfig::new(steps)
        .with_seed(seed)
        .with_schedule(LrSchedule::Constant { lr: LEARNING_RATE })
        // GAN losses are not minimised monotonically: only NaN and infinities stop a run.
        .with_divergence_factor(None)
        .with_checkpoint_every(Some((steps / 4).max(1)))
        .with_progress(plan.progress)
        // A resume with other sizes or data is refused instead of loading mismatched players.
        .with_program_settings(Some(serde_json::json!({
            "gan": variant.name(),
            "width": plan.width,
            "batch": plan.batch,
            "critic_norm": critic_norm.name(),
            "generator_conditioning": format!("{:?}", plan.generator_conditioning),
            "generator_average": plan.generator_average,
            "loss": plan.loss.unwrap_or(variant.loss()).name(),
            "training_images": digits.train_labels.len(),
            "data": digits.source,
        })));
    let session = runs.session(config, &run_name(variant, seed_index))?;
    let mut pair = DcganConfig::new(digits.image, LATENT, plan.width)
        .with_critic_norm(norm)
        .with_minibatch_std(minibatch_std);
    if let Some(conditioning) = variant.conditioning() {
        pair = pair
            .with_classes(digits.classes, LABEL_WIDTH, conditioning)
            .with_generator_conditioning(plan.generator_conditioning);
    }
    let mut rng = SeededRng::new(seed.wrapping_mul(7919).wrapping_add(17));
    let critic = pair.init_critic(device.device(), &mut rng)?;
    let adam = || {
        Optim::new(
            AdamConfig::new()
                .with_beta_1(0.5)
                .with_beta_2(0.999)
                .build(),
        )
    };
    let loss = plan.loss.unwrap_or(variant.loss());
    let gan = GanConfig::new(loss, plan.batch);
    let gan = match plan.generator_average {
        Some(beta) => gan.with_generator_average(beta),
        None => gan,
    };
    let features = digits.image.features();
    let labels: Option<Vec<usize>> = variant
        .conditioning()
        .is_some()
        .then(|| (0..plan.samples).map(|i| i % digits.classes).collect());
    let sample_seed = seed.wrapping_add(7777);
    let trained_run = if variant == Variant::Style {
        let generator = StyleGeneratorConfig::new(digits.image, LATENT, STYLE_CHANNELS)
            .init(device.device(), &mut rng)?;
        let data = Arc::clone(digits);
        let step = GanStep::new(
            device.clone(),
            generator,
            critic,
            adam(),
            adam(),
            gan,
            features,
            Box::new(move |rng: &mut SeededRng, rows| data.train_batch(rng, rows).0),
        )?;
        let mut trained_run = train_and_sample(&session, step, plan.samples, None, sample_seed)?;
        trained_run.mixing = Some(mixing_grid(&trained_run.step.generator, device, seed)?);
        TrainedRun {
            trained: trained_run.trained,
            train_s: trained_run.train_s,
            samples: trained_run.samples,
            mixing: trained_run.mixing,
        }
    } else {
        let generator = pair.init_generator(device.device(), &mut rng)?;
        let step: GanStep<DcganGenerator, DcganCritic, Adam, Adam> = match variant.conditioning() {
            None => {
                let data = Arc::clone(digits);
                GanStep::new(
                    device.clone(),
                    generator,
                    critic,
                    adam(),
                    adam(),
                    gan,
                    features,
                    Box::new(move |rng: &mut SeededRng, rows| data.train_batch(rng, rows).0),
                )?
            }
            Some(_) => {
                let data = Arc::clone(digits);
                let sampler: LabelledSampler =
                    Box::new(move |rng: &mut SeededRng, rows| data.train_batch(rng, rows));
                GanStep::conditional(
                    device.clone(),
                    generator,
                    critic,
                    adam(),
                    adam(),
                    gan,
                    features,
                    digits.classes,
                    sampler,
                )?
            }
        };
        let run = train_and_sample(&session, step, plan.samples, labels.as_deref(), sample_seed)?;
        TrainedRun {
            trained: run.trained,
            train_s: run.train_s,
            samples: run.samples,
            mixing: None,
        }
    };
    let TrainedRun {
        trained,
        train_s,
        samples,
        mixing,
    } = trained_run;
    let (phi, predicted) = judge(classifier, device, &samples, features)
        .map_err(|e| ExampleError::Sample(e.to_string()))?;
    let frechet = frechet_distance_gaussians(reference, &GaussianFit::new(&phi, FEATURES)?)?;
    let class_accuracy = labels.as_ref().map(|asked| {
        let hits = asked.iter().zip(&predicted).filter(|(a, p)| a == p).count();
        hits as f64 / asked.len() as f64
    });
    let mut class_histogram = vec![0.0; digits.classes];
    for &p in &predicted {
        class_histogram[p] += 1.0 / predicted.len() as f64;
    }
    let grid_rows = plan.samples.min(100);
    let lines = session.train_metrics()?;
    let losses: Vec<[f64; 3]> = lines
        .iter()
        .filter(|l| l.kind == "train")
        .map(|l| {
            let get = |name: &str| l.metrics.get(name).copied().unwrap_or(f64::NAN);
            [l.step as f64, get("generator_loss"), get("critic_loss")]
        })
        .collect();
    let tail = &losses[losses.len() - losses.len() / 10..];
    let tail_mean = |k: usize| tail.iter().map(|l| l[k]).sum::<f64>() / tail.len().max(1) as f64;
    Ok(GanRun {
        trained,
        train_s,
        final_losses: [tail_mean(1), tail_mean(2)],
        frechet,
        class_accuracy,
        class_histogram,
        grid: samples[..grid_rows * features].to_vec(),
        losses,
        mixing,
    })
}

/// What training and sampling a GAN gave, before scoring.
struct TrainedRun {
    trained: bool,
    train_s: f64,
    samples: Vec<f64>,
    mixing: Option<Vec<f64>>,
}

/// A trained step with its samples.
struct Sampled<G: Generator, C: Critic> {
    step: GanStep<G, C, Adam, Adam>,
    trained: bool,
    train_s: f64,
    samples: Vec<f64>,
    mixing: Option<Vec<f64>>,
}

/// Trains (or loads) `step` in `session`, then draws `count` samples (of the classes `labels`
/// for a conditional generator) in batches of 500.
fn train_and_sample<G: Generator, C: Critic>(
    session: &Session,
    mut step: GanStep<G, C, Adam, Adam>,
    count: usize,
    labels: Option<&[usize]>,
    sample_seed: u64,
) -> Result<Sampled<G, C>, ExampleError> {
    let start = Instant::now();
    let trained = session.run(&mut step)?.is_some();
    let train_s = if trained {
        start.elapsed().as_secs_f64()
    } else {
        0.0
    };
    let mut rng = SeededRng::new(sample_seed);
    let mut samples = Vec::new();
    for first in (0..count).step_by(500) {
        let rows = (count - first).min(500);
        let batch_labels = labels.map(|l| &l[first..first + rows]);
        samples.extend(
            step.sample(rows, batch_labels, &mut rng)
                .map_err(|e| ExampleError::Sample(e.to_string()))?,
        );
    }
    Ok(Sampled {
        step,
        trained,
        train_s,
        samples,
        mixing: None,
    })
}

/// The style-mixing grid ([`GanRun::mixing`]) of a trained style-based generator.
fn mixing_grid(
    generator: &StyleGenerator,
    device: &SysDevice,
    seed: u64,
) -> Result<Vec<f64>, ExampleError> {
    let width = generator.latent_width();
    let mut rng = SeededRng::new(seed.wrapping_add(4242));
    let latents = |rng: &mut SeededRng| {
        device
            .tensor(rng.normals(MIXING * width), [MIXING, width])
            .map_err(|e| ExampleError::Sample(e.to_string()))
    };
    let a = latents(&mut rng)?;
    let b = latents(&mut rng)?;
    let host = |t: burn::tensor::Tensor<2>| {
        crate::classifier::to_vec(t).map_err(|e| ExampleError::Sample(e.to_string()))
    };
    let images_a = host(generator.generate(a.clone(), None)?)?;
    let images_b = host(generator.generate(b.clone(), None)?)?;
    let features = generator.config().image.features();
    let blank = vec![-1.0; features];
    let mut grid = blank.clone();
    grid.extend_from_slice(&images_b);
    for i in 0..MIXING {
        grid.extend_from_slice(&images_a[i * features..(i + 1) * features]);
        // Row i: source A_i with the styles of every B_j from the crossover on (and A_i's noise).
        let a_row = a.clone().narrow(0, i, 1).expand([MIXING, width]);
        grid.extend(host(generator.generate_mixed(
            a_row,
            b.clone(),
            MIXING_CROSSOVER,
        )?)?);
    }
    Ok(grid)
}

/// The run directory's name.
pub fn run_name(variant: Variant, seed_index: usize) -> String {
    format!("{}-s{seed_index}", variant.name())
}
