//! The five models, their training on sysdyn-train, and the score network of the score SDEs.
//!
//! | model | network | objective (crate step) |
//! |---|---|---|
//! | `ddpm-linear` | W3's ε-net (`[x, emb(t)]` 34→128→128→128→2, SiLU) | DDPM's simple loss, β linear 1e-4…0.02, T = 1000 (`DdpmStep`) |
//! | `ddpm-cosine` | the same | the same with Nichol & Dhariwal's cosine schedule (`DdpmStep`) |
//! | `ncsn` | MLP `[x, ln σ]` 3→128→128→128→2, SiLU, output / σ | NCSN's loss over geometric σ levels (`ScoreStep` with `NoiseLevels`) |
//! | `vp-sde` | [`NoiseScaledScore`] on the VP SDE (β 0.1…20) | time-continuous DSM, λ = s(t)² (`ScoreStep`) |
//! | `ve-sde` | [`NoiseScaledScore`] on the VE SDE (σ 0.01…5) | the same |
//!
//! Every model trains with Adam (learning rate 3e-3, cosine decay to 3e-4), batches of 256 fresh
//! data rows, and samples with an exponential moving average of its weights (decay 0.995).

use std::time::Instant;

use burn::module::Module;
use burn::optim::AdamConfig;
use burn::tensor::Tensor;
use sysdyn_core::device::SysDevice;
use sysdyn_core::jet::{Activation, JetForward, Mlp, MlpConfig};
use sysdyn_core::rng::SeededRng;
use sysdyn_generative::GenerativeError;
use sysdyn_generative::diffusion::{DdpmConfig, DdpmStep, EpsNet, EpsNetConfig, NoiseSchedule};
use sysdyn_generative::inputs::DataSampler;
use sysdyn_generative::score::{
    DenoisingScoreMatching, ForwardSde, NoiseLevels, ScoreModel, ScoreStep, Weighting,
};
use sysdyn_train::{Ema, LrSchedule, Optim, ProgressMode, RunSet, Session, TrainConfig, TrainStep};

use crate::ExampleError;
use crate::data::Dataset;

/// Batch of data rows per step.
pub const BATCH: usize = 256;
/// Hidden widths of every network (W3's).
pub const HIDDEN: [usize; 3] = [128, 128, 128];
/// Peak learning rate. At 1e-3 (decaying to 1e-4) 3000 steps left every model blurred (on the
/// eight Gaussians 28–50 % of the samples within 3σ, seed 0) and 10 000 steps were needed for
/// 90 %; at 3e-3 4000 steps reach it.
pub const LEARNING_RATE: f64 = 3e-3;
/// The smallest time of the VP SDE's samplers and of its DSM (Song et al.).
pub const VP_EPSILON: f64 = 1e-3;
/// The smallest time of the VE SDE's samplers and of its DSM (Song et al.).
pub const VE_EPSILON: f64 = 1e-5;
/// The VE SDE's largest noise: about the largest distance between points of the toy data.
pub const VE_SIGMA_MAX: f64 = 5.0;
/// The VE SDE's smallest noise.
pub const VE_SIGMA_MIN: f64 = 0.01;
/// NCSN's largest level (Song & Ermon's technique 1: about the largest pairwise distance).
pub const NCSN_SIGMA_MAX: f64 = 3.0;
/// NCSN's smallest level.
pub const NCSN_SIGMA_MIN: f64 = 0.01;
/// NCSN's number of levels.
pub const NCSN_LEVELS: usize = 10;

/// The models.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelKind {
    /// DDPM, linear schedule.
    DdpmLinear,
    /// DDPM, cosine schedule.
    DdpmCosine,
    /// Noise-conditional score network.
    Ncsn,
    /// Score model of the VP SDE.
    Vp,
    /// Score model of the VE SDE.
    Ve,
}

impl ModelKind {
    /// All five, in the order of runs and tables.
    pub const ALL: [ModelKind; 5] = [
        ModelKind::DdpmLinear,
        ModelKind::DdpmCosine,
        ModelKind::Ncsn,
        ModelKind::Vp,
        ModelKind::Ve,
    ];

    /// Name of runs and tables.
    pub fn name(self) -> &'static str {
        match self {
            ModelKind::DdpmLinear => "ddpm-linear",
            ModelKind::DdpmCosine => "ddpm-cosine",
            ModelKind::Ncsn => "ncsn",
            ModelKind::Vp => "vp-sde",
            ModelKind::Ve => "ve-sde",
        }
    }

    fn index(self) -> usize {
        ModelKind::ALL.iter().position(|&k| k == self).unwrap_or(0)
    }
}

/// The DDPM schedule of a kind (the linear one for the others).
pub fn schedule(kind: ModelKind) -> NoiseSchedule {
    match kind {
        ModelKind::DdpmCosine => {
            NoiseSchedule::cosine_default(1000).unwrap_or_else(|_| NoiseSchedule::ddpm_linear())
        }
        _ => NoiseSchedule::ddpm_linear(),
    }
}

/// The VP SDE (Song et al.'s β 0.1…20).
pub fn vp_sde() -> ForwardSde {
    ForwardSde::vp_default()
}

/// The VE SDE (σ 0.01…5).
pub fn ve_sde() -> Result<ForwardSde, ExampleError> {
    Ok(ForwardSde::ve(VE_SIGMA_MIN, VE_SIGMA_MAX)?)
}

/// NCSN's levels.
pub fn ncsn_levels() -> Result<NoiseLevels, ExampleError> {
    Ok(NoiseLevels::geometric(
        NCSN_SIGMA_MAX,
        NCSN_SIGMA_MIN,
        NCSN_LEVELS,
    )?)
}

/// A time-conditional score network with the scale of the true score built in:
/// `s_θ(x, t) = f_θ([x, t]) / s(t)`, `s(t)` the forward SDE's marginal standard deviation, so the
/// network predicts `−z` (the noise) at every time and its output stays of order one while the
/// score grows as `1/s(t)` towards `t = 0` (the output scaling of Song et al.'s NCSN++; without
/// it a plain MLP cannot reach the VE SDE's scores of order `1/σ_min`).
#[derive(Module, Debug)]
pub struct NoiseScaledScore {
    net: Mlp,
    #[module(skip)]
    sde: ForwardSde,
}

impl NoiseScaledScore {
    /// The network `[x, t]` 3→128→128→128→2 (SiLU) for `sde`, weights drawn from `seed`.
    pub fn new(device: &SysDevice, sde: ForwardSde, seed: u64) -> Result<Self, ExampleError> {
        Ok(NoiseScaledScore {
            net: mlp(device, seed)?,
            sde,
        })
    }

    /// The forward SDE it scores.
    pub fn sde(&self) -> ForwardSde {
        self.sde
    }

    /// `s(t)` of each row of the time column `t`, as tensor operations.
    fn marginal_std(&self, t: Tensor<2>) -> Tensor<2> {
        match self.sde {
            ForwardSde::Ve {
                sigma_min,
                sigma_max,
            } => {
                // σ_min √((σ_max/σ_min)^{2t} − 1)
                let log_ratio = (sigma_max / sigma_min).ln();
                ((t * (2.0 * log_ratio)).exp() - 1.0).sqrt() * sigma_min
            }
            ForwardSde::Vp { beta_min, beta_max } => {
                // √(1 − e^{−B(t)}), B(t) = β_min t + ½ t² (β_max − β_min)
                let integral =
                    t.clone() * beta_min + t.powf_scalar(2.0) * (0.5 * (beta_max - beta_min));
                (integral.neg().exp().neg() + 1.0).sqrt()
            }
            ForwardSde::SubVp { beta_min, beta_max } => {
                let integral =
                    t.clone() * beta_min + t.powf_scalar(2.0) * (0.5 * (beta_max - beta_min));
                integral.neg().exp().neg() + 1.0
            }
        }
    }
}

impl ScoreModel for NoiseScaledScore {
    fn data_width(&self) -> usize {
        self.net.output_width()
    }

    fn score(&self, x: Tensor<2>, t: Tensor<2>) -> Result<Tensor<2>, GenerativeError> {
        let std = self.marginal_std(t.clone());
        Ok(self.net.forward(Tensor::cat(vec![x, t], 1))? / std)
    }

    /// `∇ₓ·f_θ / s(t)` from the core's jets (one pass carrying two tangents).
    fn score_divergence(
        &self,
        x: Tensor<2>,
        t: Tensor<2>,
    ) -> Option<Result<Tensor<2>, GenerativeError>> {
        let width = x.dims()[1];
        let std = self.marginal_std(t.clone());
        Some(
            self.net
                .divergence(Tensor::cat(vec![x, t], 1), ..width)
                .map(|d| d / std)
                .map_err(GenerativeError::from),
        )
    }
}

/// The MLP `3 → 128 → 128 → 128 → 2` with SiLU.
fn mlp(device: &SysDevice, seed: u64) -> Result<Mlp, ExampleError> {
    let mut widths = vec![3];
    widths.extend(HIDDEN);
    widths.push(2);
    Ok(MlpConfig::new(widths)
        .with_activation(Activation::Silu)
        .init_seeded(device, seed)?)
}

/// The five trained models of one data set and seed, on the device without autodiff (the
/// moving averages of their weights).
#[derive(Debug)]
pub struct Trained {
    /// DDPM, linear schedule.
    pub ddpm_linear: EpsNet,
    /// DDPM, cosine schedule.
    pub ddpm_cosine: EpsNet,
    /// NCSN (an MLP on `[x, ln σ]`, output divided by σ).
    pub ncsn: Mlp,
    /// The VP SDE's score.
    pub vp: NoiseScaledScore,
    /// The VE SDE's score.
    pub ve: NoiseScaledScore,
    /// Seconds of training per model (0 when loaded), in [`ModelKind::ALL`]'s order.
    pub train_s: [f64; 5],
    /// Mean loss of the last tenth of training per model (NaN when loaded).
    pub final_loss: [f64; 5],
    /// Whether any model was trained by this invocation.
    pub trained: bool,
}

/// What training needs besides the models.
#[derive(Debug, Clone)]
pub struct TrainPlan {
    /// Steps per model.
    pub steps: u64,
    /// Decay of the weights' moving average.
    pub ema_decay: f64,
    /// No progress bars.
    pub quiet: bool,
}

/// Name of one run directory.
pub fn run_name(data: Dataset, kind: ModelKind, seed_index: usize) -> String {
    format!("{}-{}-s{seed_index}", data.name(), kind.name())
}

fn train_config(plan: &TrainPlan, seed: u64) -> TrainConfig {
    let steps = plan.steps.max(1);
    TrainConfig::new(steps)
        .with_seed(seed)
        .with_schedule(LrSchedule::Cosine {
            lr: LEARNING_RATE,
            min_lr: LEARNING_RATE / 10.0,
            steps,
        })
        // The DSM losses are noisy (a time drawn per row): only NaN and infinities stop a run.
        .with_divergence_factor(None)
        .with_checkpoint_every(Some((steps / 2).max(1)))
        .with_progress(if plan.quiet {
            ProgressMode::Quiet
        } else {
            ProgressMode::Auto
        })
}

/// Trains (or loads) `step` in its session; returns seconds and the mean loss of the last tenth.
fn train<S: TrainStep>(session: &Session, step: &mut S) -> Result<(f64, f64, bool), ExampleError> {
    let start = Instant::now();
    let trained = session.run(step)?.is_some();
    let seconds = if trained {
        start.elapsed().as_secs_f64()
    } else {
        0.0
    };
    let lines = session.train_metrics()?;
    let tail: Vec<f64> = lines[lines.len() - lines.len() / 10..]
        .iter()
        .filter_map(|l| l.loss)
        .collect();
    let loss = if tail.is_empty() {
        f64::NAN
    } else {
        tail.iter().sum::<f64>() / tail.len() as f64
    };
    Ok((seconds, loss, trained))
}

fn sampler_of(data: Dataset) -> DataSampler {
    Box::new(move |rng: &mut SeededRng, rows| data.sample(rows, rng))
}

/// Trains (or loads) the five models of `data` for the `seed_index`-th seed, whose value is
/// `seed`.
pub fn train_all(
    device: &SysDevice,
    runs: &RunSet,
    plan: &TrainPlan,
    data: Dataset,
    seed_index: usize,
    seed: u64,
) -> Result<Trained, ExampleError> {
    let mut train_s = [0.0; 5];
    let mut final_loss = [f64::NAN; 5];
    let mut any = false;
    let mut record = |kind: ModelKind, (s, l, t): (f64, f64, bool)| {
        train_s[kind.index()] = s;
        final_loss[kind.index()] = l;
        any |= t;
    };
    let config =
        |kind: ModelKind| train_config(plan, seed.wrapping_add(1000 * kind.index() as u64));
    let adam = || Optim::new(AdamConfig::new().build());

    let ddpm = |kind: ModelKind| -> Result<(EpsNet, (f64, f64, bool)), ExampleError> {
        let session = runs.session(config(kind), &run_name(data, kind, seed_index))?;
        let net = EpsNetConfig::w3().init_seeded(
            device,
            seed.wrapping_mul(7).wrapping_add(kind.index() as u64),
        )?;
        let mut step = DdpmStep::new(
            device.clone(),
            net,
            adam(),
            schedule(kind),
            DdpmConfig::new(BATCH).with_ema_decay(Some(plan.ema_decay)),
            sampler_of(data),
        )?;
        let outcome = train(&session, &mut step)?;
        // The average lives on the training device; sample with a copy on the inner backend.
        let net = Ema::new(step.sampling_network(), 0.0).into_model();
        Ok((net, outcome))
    };
    let (ddpm_linear, outcome) = ddpm(ModelKind::DdpmLinear)?;
    record(ModelKind::DdpmLinear, outcome);
    let (ddpm_cosine, outcome) = ddpm(ModelKind::DdpmCosine)?;
    record(ModelKind::DdpmCosine, outcome);

    let kind = ModelKind::Ncsn;
    let session = runs.session(config(kind), &run_name(data, kind, seed_index))?;
    let mut step = ScoreStep::new(
        device.clone(),
        mlp(device, seed.wrapping_mul(7).wrapping_add(2))?,
        adam(),
        ncsn_levels()?,
        BATCH,
        sampler_of(data),
    )?
    .with_average(plan.ema_decay)?;
    record(kind, train(&session, &mut step)?);
    let ncsn = step.sampling_model().clone();

    let sde_model = |kind: ModelKind, sde: ForwardSde, epsilon: f64| {
        let session = runs.session(config(kind), &run_name(data, kind, seed_index))?;
        let model = NoiseScaledScore::new(
            device,
            sde,
            seed.wrapping_mul(7).wrapping_add(kind.index() as u64),
        )?;
        let dsm = DenoisingScoreMatching::new(sde, Weighting::Variance, epsilon)?;
        let mut step = ScoreStep::new(device.clone(), model, adam(), dsm, BATCH, sampler_of(data))?
            .with_average(plan.ema_decay)?;
        let outcome = train(&session, &mut step)?;
        Ok::<_, ExampleError>((step.sampling_model().clone(), outcome))
    };
    let (vp, outcome) = sde_model(ModelKind::Vp, vp_sde(), VP_EPSILON)?;
    record(ModelKind::Vp, outcome);
    let (ve, outcome) = sde_model(ModelKind::Ve, ve_sde()?, VE_EPSILON)?;
    record(ModelKind::Ve, outcome);

    Ok(Trained {
        ddpm_linear,
        ddpm_cosine,
        ncsn,
        vp,
        ve,
        train_s,
        final_loss,
        trained: any,
    })
}
