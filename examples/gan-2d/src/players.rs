//! The data, the objectives with their players and optimizers, and one scored run.

use std::f64::consts::PI;
use std::path::Path;
use std::time::Instant;

use burn::optim::{AdamConfig, Optimizer, RmsPropConfig};
use sysdyn_core::device::SysDevice;
use sysdyn_core::jet::{Activation, Mlp, MlpConfig};
use sysdyn_core::rng::SeededRng;
use sysdyn_data::metrics::{ModeReport, Modes, mode_coverage};
use sysdyn_data::toy2d::Toy2d;
use sysdyn_generative::gan::{
    Critic, DataSampler, GanConfig, GanLoss, GanStep, LsganTargets, SpectralMlp,
};
use sysdyn_train::{
    BoxError, Checkpointable, LrSchedule, NonFinite, Optim, ProgressMode, RunSet, Session,
    StepContext, StepReport, TrainConfig, TrainError, TrainStep, read_metrics,
};

use crate::{ExampleError, Options};

/// Standard deviation of each of the eight sharp Gaussians.
pub const RING_STD: f64 = 0.02;
/// Radius of their circle.
pub const RING_RADIUS: f64 = 2.0;
/// A mode is covered when this many scored samples lie within 3σ of it.
pub const MIN_COUNT: usize = 20;

/// The two mixtures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mixture {
    /// Eight Gaussians of standard deviation 0.02 on a circle of radius 2.
    Ring8,
    /// 25 Gaussians of standard deviation 0.05 on `{−2, …, 2}²`.
    Grid25,
}

impl Mixture {
    /// Both, in the order that fixes their runs.
    pub const ALL: [Mixture; 2] = [Mixture::Ring8, Mixture::Grid25];

    /// Name of runs and figures.
    pub fn name(self) -> &'static str {
        match self {
            Mixture::Ring8 => "eight-gaussians",
            Mixture::Grid25 => "grid-25",
        }
    }

    /// The modes, for mode coverage.
    pub fn modes(self) -> Result<Modes, ExampleError> {
        Ok(match self {
            Mixture::Ring8 => {
                let centres = (0..8)
                    .flat_map(|k| {
                        let angle = 2.0 * PI * k as f64 / 8.0;
                        [RING_RADIUS * angle.cos(), RING_RADIUS * angle.sin()]
                    })
                    .collect();
                Modes::new(centres, 2, RING_STD)?
            }
            Mixture::Grid25 => Toy2d::Grid25.modes()?,
        })
    }

    /// Draws `rows` points, row-major.
    pub fn sample(self, rng: &mut SeededRng, rows: usize) -> Vec<f64> {
        match self {
            Mixture::Ring8 => {
                let mut out = Vec::with_capacity(2 * rows);
                for _ in 0..rows {
                    let angle = 2.0 * PI * rng.below(8) as f64 / 8.0;
                    out.push(RING_RADIUS * angle.cos() + RING_STD * rng.normal());
                    out.push(RING_RADIUS * angle.sin() + RING_STD * rng.normal());
                }
                out
            }
            Mixture::Grid25 => Toy2d::Grid25.sample(rows, rng),
        }
    }
}

/// The five objectives, each with its paper's constraint and optimizer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Objective {
    /// Non-saturating GAN, Adam.
    NsGan,
    /// Least squares (targets 0, 1, 1), Adam.
    Lsgan,
    /// Wasserstein with weight clipping at 0.01, RMSProp 5e-5, 5 critic steps.
    WganClip,
    /// Wasserstein with the gradient penalty, Adam, 5 critic steps.
    WganGp,
    /// Hinge loss with a spectrally normalised critic, Adam.
    HingeSn,
}

/// The gradient penalty's λ on these 2-D mixtures: the value of the WGAN-GP authors' toy
/// experiments (their image experiments use 10).
pub const TOY_GP_LAMBDA: f64 = 0.1;

impl Objective {
    /// All five.
    pub const ALL: [Objective; 5] = [
        Objective::NsGan,
        Objective::Lsgan,
        Objective::WganClip,
        Objective::WganGp,
        Objective::HingeSn,
    ];

    /// The objective called `name` (for the command line).
    pub fn parse(name: &str) -> Result<Objective, String> {
        Objective::ALL
            .into_iter()
            .find(|o| o.name() == name.trim())
            .ok_or_else(|| {
                let names: Vec<&str> = Objective::ALL.iter().map(|o| o.name()).collect();
                format!("unknown objective `{name}`; one of {}", names.join(", "))
            })
    }

    /// Name of runs and figures.
    pub fn name(self) -> &'static str {
        match self {
            Objective::NsGan => "ns-gan",
            Objective::Lsgan => "lsgan",
            Objective::WganClip => "wgan-clip",
            Objective::WganGp => "wgan-gp",
            Objective::HingeSn => "hinge-sn",
        }
    }

    fn gan(self, batch: usize) -> GanConfig {
        match self {
            Objective::NsGan => GanConfig::new(GanLoss::NonSaturating, batch),
            Objective::Lsgan => {
                GanConfig::new(GanLoss::LeastSquares(LsganTargets::default()), batch)
            }
            Objective::WganClip => GanConfig::new(GanLoss::Wasserstein, batch)
                .with_critic_steps(5)
                .with_weight_clip(0.01),
            Objective::WganGp => GanConfig::new(GanLoss::Wasserstein, batch)
                .with_critic_steps(5)
                .with_gradient_penalty(TOY_GP_LAMBDA),
            // SN-GAN's setting: five critic steps per generator step.
            Objective::HingeSn => GanConfig::new(GanLoss::Hinge, batch).with_critic_steps(5),
        }
    }

    /// The generator's learning rate (the schedule's peak).
    fn learning_rate(self) -> f64 {
        match self {
            Objective::WganClip => 5e-5,
            _ => 5e-4,
        }
    }

    /// Width of both players' two hidden layers (`full`: the width the targets need).
    pub fn hidden_width(self, full: bool) -> usize {
        match self {
            // The WGAN-GP authors' 2-D players are wider still (three layers of 512). At 128
            // their generator kept mass on the arcs between the ring's modes (0.73-0.79 of the
            // samples within 3σ) and reached 16-18 of the grid's 25 modes; at 192 0.81 and 19
            // (seed 0); at 256 0.81-0.84 and 23-24, at 2.8 times the time per step: too slow
            // for the tour's hour, so 256 is `--full`'s.
            Objective::WganGp if full => 256,
            _ => 128,
        }
    }

    /// Generator steps by default.
    fn iterations(self, quick: bool) -> usize {
        match (self, quick) {
            (_, true) => 40,
            // WGAN-GP's samples sharpen slowly: 3000 steps left 59% of them within 3σ, 6000 73%.
            (Objective::WganGp, false) => 6000,
            (Objective::WganClip | Objective::HingeSn, false) => 3000,
            (_, false) => 6000,
        }
    }
}

/// What every run shares.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Generator steps, overriding each objective's default.
    pub iterations: Option<usize>,
    /// Reduced run.
    pub quick: bool,
    /// WGAN-GP's players at the width its targets need.
    pub full: bool,
    /// Samples scored per run.
    pub samples: usize,
    /// No progress output.
    pub quiet: bool,
}

/// Batch of real and of generated rows per update.
pub const BATCH: usize = 256;

fn run_name(mixture: Mixture, objective: Objective, seed_index: u64) -> String {
    format!("{}-{}-s{seed_index}", mixture.name(), objective.name())
}

/// The run directories of every data set, objective and seed.
pub fn run_set(options: &Options, seeds: usize) -> Result<RunSet, ExampleError> {
    let names: Vec<String> = Mixture::ALL
        .iter()
        .flat_map(|&m| {
            Objective::ALL
                .iter()
                .flat_map(move |&o| (0..seeds as u64).map(move |s| run_name(m, o, s)))
        })
        .collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    Ok(RunSet::from_flags(
        &options.out_dir.join("run"),
        options.load.as_deref(),
        options.resume.as_deref(),
        &refs,
    )?)
}

/// A GAN step that also scores mode coverage at each evaluation (written to `metrics.jsonl`).
struct Scored<S> {
    step: S,
    modes: Modes,
    samples: usize,
    sample: fn(&S, usize, &mut SeededRng) -> Result<Vec<f64>, BoxError>,
}

impl<S: Checkpointable> Checkpointable for Scored<S> {
    fn save_checkpoint(&self, dir: &Path) -> Result<(), TrainError> {
        self.step.save_checkpoint(dir)
    }

    fn load_checkpoint(&mut self, dir: &Path) -> Result<(), TrainError> {
        self.step.load_checkpoint(dir)
    }
}

impl<S: TrainStep> TrainStep for Scored<S> {
    fn step(&mut self, ctx: &mut StepContext) -> Result<StepReport, BoxError> {
        self.step.step(ctx)
    }

    fn evaluate(&mut self, ctx: &StepContext) -> Result<Vec<(String, f64)>, BoxError> {
        let mut rng = ctx.rng.clone();
        let samples = (self.sample)(&self.step, self.samples, &mut rng)?;
        let report = mode_coverage(&samples, &self.modes, MIN_COUNT)?;
        Ok(vec![
            ("modes".to_string(), report.covered as f64),
            ("high_quality".to_string(), report.high_quality_fraction),
        ])
    }

    fn non_finite_parameter(&self) -> Option<NonFinite> {
        self.step.non_finite_parameter()
    }
}

/// `(generator step, modes covered, fraction within 3σ)` at each evaluation of a run.
pub type CoverageCurve = Vec<(f64, f64, f64)>;

/// `(generator step, discriminator accuracy, generator gradient norm, critic gradient norm)`,
/// each a mean over a window of training steps.
pub type DiagnosisCurve = Vec<[f64; 4]>;

/// One run's scores.
#[derive(Debug, Clone)]
pub struct RunResult {
    /// Whether this invocation trained it.
    pub trained: bool,
    /// Mode coverage of the final generator.
    pub coverage: ModeReport,
    /// Modes of the mixture.
    pub modes_total: usize,
    /// Mean generator and critic losses of the last 100 steps.
    pub final_losses: [f64; 2],
    /// Seconds of training.
    pub train_s: f64,
    /// Generator steps.
    pub iterations: usize,
    /// The scored samples, row-major.
    pub samples: Vec<f64>,
    /// The scores at each evaluation.
    pub coverage_curve: CoverageCurve,
    /// The training dynamics, from the step's logged diagnosis.
    pub diagnosis: DiagnosisCurve,
}

/// Window means of the discriminator's accuracy and both gradient norms over the training
/// lines of a run, about 50 windows.
fn diagnosis_curve(lines: &[sysdyn_train::MetricsLine]) -> DiagnosisCurve {
    let rows: Vec<[f64; 4]> = lines
        .iter()
        .filter(|l| l.kind == "train")
        .map(|l| {
            let get = |name: &str| l.metrics.get(name).copied().unwrap_or(f64::NAN);
            [
                l.step as f64,
                get("critic_accuracy"),
                get("generator_grad_norm"),
                get("critic_grad_norm"),
            ]
        })
        .collect();
    let window = rows.len().div_ceil(50).max(1);
    rows.chunks(window)
        .map(|chunk| {
            let mean = |k: usize| chunk.iter().map(|r| r[k]).sum::<f64>() / chunk.len() as f64;
            [chunk[chunk.len() - 1][0], mean(1), mean(2), mean(3)]
        })
        .collect()
}

fn players(device: &SysDevice, seed: u64, width: usize) -> Result<(Mlp, Mlp), ExampleError> {
    let generator = MlpConfig::new(vec![2, width, width, 2])
        .with_activation(Activation::Relu)
        .init_seeded(device, seed.wrapping_mul(2).wrapping_add(1))?;
    let critic = MlpConfig::new(vec![2, width, width, 1])
        .with_activation(Activation::Relu)
        .init_seeded(device, seed.wrapping_mul(2).wrapping_add(2))?;
    Ok((generator, critic))
}

fn adam() -> AdamConfig {
    AdamConfig::new().with_beta_1(0.5).with_beta_2(0.999)
}

fn sample_of<C: Critic, OG: Optimizer, OC: Optimizer>(
    step: &GanStep<Mlp, C, OG, OC>,
    rows: usize,
    rng: &mut SeededRng,
) -> Result<Vec<f64>, BoxError> {
    step.sample(rows, None, rng)
}

/// Trains (or loads) `step` in `session` and scores its generator.
#[allow(clippy::too_many_arguments)]
fn finish<C: Critic, OG: Optimizer, OC: Optimizer>(
    session: &Session,
    step: GanStep<Mlp, C, OG, OC>,
    mixture: Mixture,
    plan: &Plan,
    seed: u64,
    iterations: usize,
) -> Result<RunResult, ExampleError> {
    let modes = mixture.modes()?;
    let mut scored = Scored {
        step,
        modes: modes.clone(),
        samples: plan.samples,
        sample: sample_of::<C, OG, OC>,
    };
    let start = Instant::now();
    let trained = session.run(&mut scored)?.is_some();
    let train_s = if trained {
        start.elapsed().as_secs_f64()
    } else {
        0.0
    };
    let samples = scored
        .step
        .sample(
            plan.samples,
            None,
            &mut SeededRng::new(seed.wrapping_add(7777)),
        )
        .map_err(|e| ExampleError::Sample(e.to_string()))?;
    let coverage = mode_coverage(&samples, &modes, MIN_COUNT)?;
    let lines = session.train_metrics()?;
    let diagnosis = diagnosis_curve(&lines);
    let tail = &lines[lines.len().saturating_sub(100)..];
    let tail_mean = |name: &str| {
        let values: Vec<f64> = tail
            .iter()
            .filter_map(|l| l.metrics.get(name).copied())
            .collect();
        values.iter().sum::<f64>() / values.len().max(1) as f64
    };
    let coverage_curve = match session.run_dir() {
        Some(dir) => read_metrics(&dir.join("metrics.jsonl"))?
            .into_iter()
            .filter(|l| l.kind == "eval")
            .map(|l| {
                (
                    l.step as f64,
                    l.metrics.get("modes").copied().unwrap_or(f64::NAN),
                    l.metrics.get("high_quality").copied().unwrap_or(f64::NAN),
                )
            })
            .collect(),
        None => Vec::new(),
    };
    Ok(RunResult {
        trained,
        modes_total: modes.len(),
        coverage,
        final_losses: [tail_mean("generator_loss"), tail_mean("critic_loss")],
        train_s,
        iterations,
        samples,
        coverage_curve,
        diagnosis,
    })
}

/// Trains (or loads) one data set, objective and seed (the `seed_index`-th, whose value is
/// `seed`), and scores it.
pub fn train_and_score(
    device: &SysDevice,
    runs: &RunSet,
    plan: &Plan,
    mixture: Mixture,
    objective: Objective,
    seed_index: u64,
    seed: u64,
) -> Result<RunResult, ExampleError> {
    let iterations = plan
        .iterations
        .unwrap_or(objective.iterations(plan.quick))
        .max(1);
    let lr = objective.learning_rate();
    let steps = iterations as u64;
    let config = TrainConfig::new(steps)
        .with_seed(seed)
        .with_schedule(LrSchedule::Cosine {
            lr,
            min_lr: lr / 10.0,
            steps,
        })
        // GAN losses are not minimised monotonically: only NaN and infinities stop a run.
        .with_divergence_factor(None)
        .with_eval_every(Some((steps / 20).max(1)))
        .with_checkpoint_every(Some((steps / 4).max(1)))
        .with_progress(if plan.quiet {
            ProgressMode::Quiet
        } else {
            ProgressMode::Auto
        });
    let session = runs.session(config, &run_name(mixture, objective, seed_index))?;
    let (generator, critic) = players(device, seed, objective.hidden_width(plan.full))?;
    let gan = objective.gan(BATCH);
    let data: DataSampler = Box::new(move |rng: &mut SeededRng, rows| mixture.sample(rng, rows));
    match objective {
        Objective::WganClip => {
            let rms = || Optim::new(RmsPropConfig::new().build());
            let step = GanStep::new(
                device.clone(),
                generator,
                critic,
                rms(),
                rms(),
                gan,
                2,
                data,
            )?;
            finish(&session, step, mixture, plan, seed, iterations)
        }
        Objective::HingeSn => {
            let critic = SpectralMlp::new(critic, &mut SeededRng::new(seed.wrapping_add(31)));
            let step = adam_step(device, generator, critic, gan, data)?;
            finish(&session, step, mixture, plan, seed, iterations)
        }
        _ => {
            let step = adam_step(device, generator, critic, gan, data)?;
            finish(&session, step, mixture, plan, seed, iterations)
        }
    }
}

/// A GAN step whose players both use Adam β = (0.5, 0.999).
fn adam_step<C: Critic>(
    device: &SysDevice,
    generator: Mlp,
    critic: C,
    gan: GanConfig,
    data: DataSampler,
) -> Result<GanStep<Mlp, C, burn::optim::Adam, burn::optim::Adam>, ExampleError> {
    let optim = || Optim::new(adam().build());
    Ok(GanStep::new(
        device.clone(),
        generator,
        critic,
        optim(),
        optim(),
        gan,
        2,
        data,
    )?)
}
