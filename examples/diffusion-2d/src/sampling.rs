//! The samplers, each run at a budget of network evaluations (NFE), and the snapshots of the
//! forward and reverse processes.
//!
//! | sampler | model | NFE |
//! |---|---|---|
//! | `ancestral` | DDPM (linear, cosine) | `n` steps: the schedule respaced to `n` of its 1000 steps (`β'ᵢ = 1 − ᾱ_{τᵢ}/ᾱ_{τᵢ₋₁}`, Nichol & Dhariwal), `σ² = β'` |
//! | `ddim` | DDPM (linear, cosine) | `n` evenly spaced steps, η = 0 |
//! | `langevin` | NCSN | 10 levels × `n/10` steps (+1 for the denoising step) |
//! | `reverse-sde` | VP, VE | `n` Euler–Maruyama steps |
//! | `pc` | VP, VE | `n/2` reverse-diffusion predictor steps, each after one Langevin corrector step |
//! | `pf-ode` | VP, VE | adaptive Dormand–Prince: set by the tolerance, not by `n` |

use burn::tensor::Tensor;
use sysdyn_core::device::SysDevice;
use sysdyn_core::rng::SeededRng;
use sysdyn_generative::GenerativeError;
use sysdyn_generative::diffusion::{
    AncestralVariance, EpsNet, NoiseSchedule, evenly_spaced_steps, sample_ancestral, sample_ddim,
};
use sysdyn_generative::score::{
    AnnealedLangevin, ModelNoiseScore, ModelScore, PredictorCorrector, ProbabilityFlow,
    ReverseMethod, ReverseSdeSampler,
};

use crate::ExampleError;
use crate::models::{
    ModelKind, NoiseScaledScore, Trained, VE_EPSILON, VP_EPSILON, ncsn_levels, schedule,
};

/// The step `ε` of annealed Langevin dynamics at the smallest level (Song & Ermon's 2e-5 at
/// σ_L = 0.01).
pub const LANGEVIN_EPSILON: f64 = 2e-5;
/// The corrector's signal-to-noise ratio for the VP SDE (the library's reference value, 0.01).
pub const PC_SNR_VP: f64 = 0.01;
/// The corrector's signal-to-noise ratio for the VE SDE (Song et al.'s 0.16).
pub const PC_SNR_VE: f64 = 0.16;

/// One sampler of one model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sampler {
    /// DDPM ancestral sampling on the respaced schedule.
    Ancestral(ModelKind),
    /// Deterministic DDIM.
    Ddim(ModelKind),
    /// Annealed Langevin dynamics of NCSN.
    Langevin,
    /// The reverse SDE by Euler–Maruyama.
    ReverseSde(ModelKind),
    /// Predictor–corrector.
    Pc(ModelKind),
    /// The probability-flow ODE by adaptive Dormand–Prince.
    Flow(ModelKind),
}

impl Sampler {
    /// Every sampler, in the order of tables and figures.
    pub const ALL: [Sampler; 11] = [
        Sampler::Ancestral(ModelKind::DdpmLinear),
        Sampler::Ddim(ModelKind::DdpmLinear),
        Sampler::Ancestral(ModelKind::DdpmCosine),
        Sampler::Ddim(ModelKind::DdpmCosine),
        Sampler::Langevin,
        Sampler::ReverseSde(ModelKind::Vp),
        Sampler::Pc(ModelKind::Vp),
        Sampler::Flow(ModelKind::Vp),
        Sampler::ReverseSde(ModelKind::Ve),
        Sampler::Pc(ModelKind::Ve),
        Sampler::Flow(ModelKind::Ve),
    ];

    /// `model sampler`, e.g. `ddpm-linear ancestral`.
    pub fn name(self) -> String {
        let (model, how) = match self {
            Sampler::Ancestral(m) => (m, "ancestral"),
            Sampler::Ddim(m) => (m, "ddim"),
            Sampler::Langevin => (ModelKind::Ncsn, "langevin"),
            Sampler::ReverseSde(m) => (m, "reverse-sde"),
            Sampler::Pc(m) => (m, "pc"),
            Sampler::Flow(m) => (m, "pf-ode"),
        };
        format!("{} {how}", model.name())
    }

    /// Whether the budget is a tolerance (the flow) rather than an NFE.
    pub fn is_adaptive(self) -> bool {
        matches!(self, Sampler::Flow(_))
    }
}

/// What a sampler is asked for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Budget {
    /// About this many network evaluations.
    Nfe(usize),
    /// Dormand–Prince's relative and absolute tolerance.
    Tolerance(f64),
}

fn eps_net(trained: &Trained, kind: ModelKind) -> &EpsNet {
    match kind {
        ModelKind::DdpmCosine => &trained.ddpm_cosine,
        _ => &trained.ddpm_linear,
    }
}

fn score_model(trained: &Trained, kind: ModelKind) -> (&NoiseScaledScore, f64) {
    match kind {
        ModelKind::Ve => (&trained.ve, VE_EPSILON),
        _ => (&trained.vp, VP_EPSILON),
    }
}

/// The schedule respaced to the steps `taus` (increasing): `ᾱ'ᵢ = ᾱ_{τᵢ}`, so
/// `β'ᵢ = 1 − ᾱ_{τᵢ}/ᾱ_{τᵢ₋₁}` (clipped at 0.999 as the cosine schedule is).
pub fn respaced(
    schedule: &NoiseSchedule,
    taus: &[usize],
) -> Result<NoiseSchedule, GenerativeError> {
    let bars = schedule.alpha_bars();
    let betas = taus
        .iter()
        .enumerate()
        .map(|(i, &t)| {
            let before = if i == 0 { 1.0 } else { bars[taus[i - 1]] };
            (1.0 - bars[t] / before).min(0.999)
        })
        .collect();
    NoiseSchedule::from_betas(betas)
}

/// Host values of a tensor.
pub fn host(x: Tensor<2>) -> Result<Vec<f64>, ExampleError> {
    x.into_data()
        .convert::<f64>()
        .try_to_vec::<f64>()
        .map_err(|e| ExampleError::Sample(format!("reading samples back: {e:?}")))
}

/// `rows × 2` standard normal draws on the device without autodiff.
pub fn normals(device: &SysDevice, rng: &mut SeededRng, rows: usize, std: f64) -> Tensor<2> {
    device.randn(rng, [rows, 2]).inner() * std
}

/// Draws `rows` samples with `sampler` at `budget`; returns them (row-major) and the network
/// evaluations spent.
pub fn draw(
    device: &SysDevice,
    trained: &Trained,
    sampler: Sampler,
    budget: Budget,
    rows: usize,
    seed: u64,
) -> Result<(Vec<f64>, usize), ExampleError> {
    let mut rng = SeededRng::new(seed);
    let nfe = match budget {
        Budget::Nfe(n) => n.max(1),
        Budget::Tolerance(_) => 0,
    };
    let (x, spent) = match sampler {
        Sampler::Ancestral(kind) => {
            let full = schedule(kind);
            let taus = evenly_spaced_steps(full.steps(), nfe.min(full.steps()))?;
            let short = respaced(&full, &taus)?;
            let net = eps_net(trained, kind);
            let mut predictor = |x: Tensor<2>, i: usize| {
                let rows = x.dims()[0];
                net.forward(x, &vec![taus[i]; rows], None)
            };
            let start = normals(device, &mut rng, rows, 1.0);
            let x = sample_ancestral(
                &short,
                &mut predictor,
                start,
                AncestralVariance::Beta,
                &mut rng,
            )?;
            (x, taus.len())
        }
        Sampler::Ddim(kind) => {
            let full = schedule(kind);
            let steps = evenly_spaced_steps(full.steps(), nfe.min(full.steps()))?;
            let start = normals(device, &mut rng, rows, 1.0);
            let x = sample_ddim(
                &full,
                &mut eps_net(trained, kind),
                start,
                &steps,
                0.0,
                &mut rng,
            )?;
            (x, steps.len())
        }
        Sampler::Langevin => {
            let levels = ncsn_levels()?;
            let per_level = (nfe / levels.sigmas().len()).max(1);
            let langevin = AnnealedLangevin::new(LANGEVIN_EPSILON, per_level, true)?;
            let start = normals(device, &mut rng, rows, levels.sigmas()[0]);
            let x = langevin.sample(
                &levels,
                &mut ModelNoiseScore(&trained.ncsn),
                start,
                &mut rng,
            )?;
            (x, per_level * levels.sigmas().len() + 1)
        }
        Sampler::ReverseSde(kind) => {
            let (model, epsilon) = score_model(trained, kind);
            let sde = model.sde();
            let start = normals(device, &mut rng, rows, sde.prior_std());
            ReverseSdeSampler::new(sde, ReverseMethod::EulerMaruyama, nfe, epsilon)?.sample(
                &mut ModelScore(model),
                start,
                seed.wrapping_add(1),
            )?
        }
        Sampler::Pc(kind) => {
            let (model, epsilon) = score_model(trained, kind);
            let sde = model.sde();
            let snr = if kind == ModelKind::Ve {
                PC_SNR_VE
            } else {
                PC_SNR_VP
            };
            let start = normals(device, &mut rng, rows, sde.prior_std());
            PredictorCorrector::new(sde, (nfe / 2).max(1), 1, snr, epsilon)?.sample(
                &mut ModelScore(model),
                start,
                seed.wrapping_add(1),
            )?
        }
        Sampler::Flow(kind) => {
            let (model, epsilon) = score_model(trained, kind);
            let sde = model.sde();
            let tolerance = match budget {
                Budget::Tolerance(tol) => tol,
                Budget::Nfe(_) => 1e-3,
            };
            let start = normals(device, &mut rng, rows, sde.prior_std());
            let flow = ProbabilityFlow::new(sde, epsilon, tolerance, tolerance)?;
            let (x, stats) = flow.sample(&mut ModelScore(model), start)?;
            (x, stats.nfe)
        }
    };
    Ok((host(x)?, spent))
}

/// Point sets of the forward process and of the reverse chain, one per snapshot step.
pub type Snapshots = (Vec<Vec<f64>>, Vec<Vec<f64>>);

/// Snapshots of the forward process `q(x_t | x₀)` of `data` rows and of the reverse (ancestral,
/// linear schedule, all 1000 steps) chain at the steps `at` (each below 1000): the state `x_t`
/// the sampler hands the network at step `t`, recorded by the predictor; the last snapshot of the
/// reverse chain is its output `x₀`.
pub fn process_snapshots(
    device: &SysDevice,
    trained: &Trained,
    data: &[f64],
    at: &[usize],
    seed: u64,
) -> Result<Snapshots, ExampleError> {
    let full = schedule(ModelKind::DdpmLinear);
    let mut rng = SeededRng::new(seed);
    let forward = at
        .iter()
        .map(|&t| {
            let m = full.marginal(t)?;
            Ok(data
                .iter()
                .map(|x| m.signal * x + m.noise * rng.normal())
                .collect())
        })
        .collect::<Result<Vec<Vec<f64>>, GenerativeError>>()?;
    let rows = data.len() / 2;
    let net = &trained.ddpm_linear;
    let mut snapshots: Vec<(usize, Tensor<2>)> = Vec::new();
    let mut predictor = |x: Tensor<2>, t: usize| {
        if at.contains(&t) {
            snapshots.push((t, x.clone()));
        }
        let n = x.dims()[0];
        net.forward(x, &vec![t; n], None)
    };
    let start = normals(device, &mut rng, rows, 1.0);
    let out = sample_ancestral(
        &full,
        &mut predictor,
        start,
        AncestralVariance::Beta,
        &mut rng,
    )?;
    let mut reverse = Vec::with_capacity(at.len());
    for &t in at {
        match snapshots.iter().find(|(s, _)| *s == t) {
            // Step 0's input is x₀ before the last denoising step; show the output there.
            Some((_, x)) if t > 0 => reverse.push(host(x.clone())?),
            _ => reverse.push(host(out.clone())?),
        }
    }
    Ok((forward, reverse))
}
