//! The five problems: each builds its `PinnProblem` and network, trains (Adam through the
//! `sysdyn-train` runtime, then L-BFGS on the same loss) and scores the result against its
//! reference.

use std::f64::consts::PI;
use std::path::Path;
use std::time::Instant;

use burn::module::{Module, ModuleDisplay};
use burn::optim::{AdamConfig, Optimizer};
use burn::tensor::Tensor;
use serde::Serialize;
use sysdyn_core::device::SysDevice;
use sysdyn_core::rng::SeededRng;
use sysdyn_optim::Lbfgs;
use sysdyn_physics::PhysicsError;
use sysdyn_physics::pinn::collocation::{refine_by_residual, sample};
use sysdyn_physics::pinn::{
    Condition, Domain, FieldJet, HardConstraint, LagarisIvp, PinnField, PinnNetwork,
    PinnNetworkConfig, PinnProblem, PinnStep, Points, Sampler, relative_l2,
};
use sysdyn_physics::simulators::burgers::BurgersReference;
use sysdyn_train::{LrSchedule, Optim, ProgressMode, TrainConfig, Trainer, read_metrics};

use crate::ExampleError;

/// Raissi et al.'s viscosity.
pub const NU: f64 = 0.01 / PI;

/// Iterations of one training run: Adam steps at a constant rate, then L-BFGS iterations.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Budget {
    /// Adam steps.
    pub adam: usize,
    /// Adam's learning rate.
    pub lr: f64,
    /// L-BFGS iterations (history 50, strong Wolfe, as Raissi et al.'s SciPy L-BFGS-B).
    pub lbfgs: usize,
}

/// A training run's loss curve: `(iteration, loss)`, Adam steps first, then the L-BFGS
/// iterations numbered on from the last Adam step.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Curve {
    /// Adam's logged steps.
    pub adam: Vec<(f64, f64)>,
    /// L-BFGS's accepted iterates.
    pub lbfgs: Vec<(f64, f64)>,
}

/// What one training run measured.
#[derive(Debug, Clone, Serialize)]
pub struct Training {
    /// The budget.
    pub budget: Budget,
    /// L-BFGS iterations actually taken and why it stopped.
    pub lbfgs_iterations: usize,
    /// L-BFGS's stop reason.
    pub lbfgs_stop: String,
    /// The final weighted loss.
    pub final_loss: f64,
    /// Seconds in Adam and in L-BFGS.
    pub seconds: [f64; 2],
    /// The loss curve.
    #[serde(skip)]
    pub curve: Curve,
}

/// Adam through the runtime's `Trainer` (run directory `dir`), then L-BFGS.
pub fn train<N, O>(
    step: &mut PinnStep<N, O>,
    budget: Budget,
    dir: &Path,
    seed: u64,
) -> Result<Training, ExampleError>
where
    N: Module + ModuleDisplay + PinnField,
    O: Optimizer,
{
    let start = Instant::now();
    let mut curve = Curve::default();
    if budget.adam > 0 {
        let _ = std::fs::remove_dir_all(dir);
        let config = TrainConfig::new(budget.adam as u64)
            .with_seed(seed)
            .with_schedule(LrSchedule::Constant { lr: budget.lr })
            .with_divergence_factor(None)
            .with_log_every((budget.adam as u64 / 200).max(1))
            .with_progress(ProgressMode::Quiet);
        Trainer::new(config, dir).run(step)?;
        curve.adam = read_metrics(&dir.join("metrics.jsonl"))?
            .into_iter()
            .filter(|l| l.kind == "train")
            .filter_map(|l| l.loss.map(|v| (l.step as f64, v)))
            .collect();
    }
    let adam_s = start.elapsed().as_secs_f64();
    let start = Instant::now();
    let (iterations, stop, final_loss) = if budget.lbfgs > 0 {
        let solver = Lbfgs::new(50)?
            .with_max_iterations(budget.lbfgs)?
            .with_gradient_tolerance(1e-12)?;
        let report = step.lbfgs(&solver)?;
        let offset = budget.adam as f64;
        curve.lbfgs = report
            .steps
            .iter()
            .enumerate()
            .map(|(k, s)| (offset + k as f64 + 1.0, s.value_end))
            .collect();
        (
            report.iterations,
            format!("{:?}", report.stop),
            report.value,
        )
    } else {
        (0, "not run".to_string(), step.loss_value()?)
    };
    Ok(Training {
        budget,
        lbfgs_iterations: iterations,
        lbfgs_stop: stop,
        final_loss,
        seconds: [adam_s, start.elapsed().as_secs_f64()],
        curve,
    })
}

/// `u` of `field` at `points`, on the host.
pub fn predict<F: PinnField>(
    field: &F,
    points: &Points,
    device: &SysDevice,
) -> Result<Vec<f64>, ExampleError> {
    let u = field.field_jet(points.to_tensor(device)?, &[])?.value();
    u.try_into_vec_as::<f64>()
        .map_err(|e| ExampleError::HostRead(format!("{e:?}")))
}

fn adam() -> Optim<impl Optimizer> {
    Optim::new(AdamConfig::new().with_epsilon(1e-8).build())
}

/// Raissi's evaluation grid: 256 points of `[−1, 1]` (ends included) × 100 times `0, 0.01, …,
/// 0.99`, with the reference on it (row `i` at time `ts[i]`).
#[derive(Debug, Clone)]
pub struct BurgersGrid {
    /// Space points.
    pub xs: Vec<f64>,
    /// Times.
    pub ts: Vec<f64>,
    /// The reference `u`, `[ts, xs]` row-major.
    pub u: Vec<f64>,
}

impl BurgersGrid {
    /// The grid and the Cole–Hopf reference on it.
    pub fn raissi() -> Self {
        let xs: Vec<f64> = (0..256).map(|i| -1.0 + 2.0 * i as f64 / 255.0).collect();
        let ts: Vec<f64> = (0..100).map(|i| i as f64 / 100.0).collect();
        let u = BurgersReference::raissi().grid(&xs, &ts);
        BurgersGrid { xs, ts, u }
    }

    /// Every grid point `(x, t)`, in the reference's order.
    pub fn points(&self) -> Result<Points, PhysicsError> {
        self.points_in(TimeInput::Raw)
    }

    /// Every grid point as the network sees it, `(x, time.of(t))`, in the reference's order.
    pub fn points_in(&self, time: TimeInput) -> Result<Points, PhysicsError> {
        let values = self
            .ts
            .iter()
            .flat_map(|&t| self.xs.iter().flat_map(move |&x| [x, time.of(t)]))
            .collect();
        Points::new(2, values)
    }
}

/// How time enters the forward run's network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum TimeInput {
    /// `t ∈ [0, 1]` as it is.
    Raw,
    /// `τ = 2t − 1 ∈ [−1, 1]`, like `x`: Raissi et al.'s code maps every input to `[−1, 1]`
    /// before the first layer, so both inputs reach the tanh units on the same scale. The
    /// residual then carries `u_t = 2 u_τ`.
    Scaled,
}

impl TimeInput {
    /// The network's time coordinate at time `t`.
    pub fn of(self, t: f64) -> f64 {
        match self {
            TimeInput::Raw => t,
            TimeInput::Scaled => 2.0 * t - 1.0,
        }
    }

    /// `dτ/dt`.
    pub fn rate(self) -> f64 {
        match self {
            TimeInput::Raw => 1.0,
            TimeInput::Scaled => 2.0,
        }
    }
}

/// The Burgers residual `u_t + λ₁ u u_x − λ₂ u_xx` (`x` column 0, `t` column 1).
fn burgers_domain() -> Result<Domain, PhysicsError> {
    Domain::time_space(&[(-1.0, 1.0)], (0.0, 1.0))
}

fn raissi_network(device: &SysDevice, seed: u64) -> Result<PinnNetwork, PhysicsError> {
    PinnNetworkConfig::new(2, vec![20; 8], 1)
        .with_seed(seed)
        .init(device, None)
}

/// A forward or inverse Burgers run's result.
#[derive(Debug, Clone, Serialize)]
pub struct BurgersResult {
    /// Seed.
    pub seed: u64,
    /// Collocation points (after refinement).
    pub collocation: usize,
    /// Relative L2 error against the reference on Raissi's 256 × 100 grid.
    pub relative_l2: f64,
    /// `λ₁, λ₂` found (inverse runs), with their relative errors in percent.
    pub lambdas: Option<[f64; 4]>,
    /// Noise level of the observations (inverse runs).
    pub noise: f64,
    /// The training run.
    pub training: Training,
    /// The network's `u` on the grid (`[ts, xs]`), for the figures.
    #[serde(skip)]
    pub prediction: Vec<f64>,
}

/// Raissi et al.'s forward problem: `N_u = 100` initial/boundary points drawn from the 256
/// initial and 2 × 100 boundary points of the grid, `N_f` Latin-hypercube collocation points,
/// 2 → 8 × 20 tanh → 1; with `refine`, `N_f / 4` points are added by residual-based
/// refinement halfway through L-BFGS.
#[allow(clippy::too_many_arguments)]
pub fn forward(
    device: &SysDevice,
    grid: &BurgersGrid,
    budget: Budget,
    collocation: usize,
    refine: bool,
    time: TimeInput,
    seed: u64,
    dir: &Path,
) -> Result<BurgersResult, ExampleError> {
    let domain = Domain::time_space(&[(-1.0, 1.0)], (time.of(0.0), time.of(1.0)))?;
    let mut rng = SeededRng::new(seed);
    let points = sample(&domain, Sampler::LatinHypercube, collocation, &mut rng)?;
    let mut candidates: Vec<[f64; 3]> = grid
        .xs
        .iter()
        .map(|&x| [x, time.of(0.0), -(PI * x).sin()])
        .collect();
    for &t in &grid.ts {
        candidates.push([-1.0, time.of(t), 0.0]);
        candidates.push([1.0, time.of(t), 0.0]);
    }
    rng.shuffle(&mut candidates);
    candidates.truncate(100);
    let boundary = Points::new(2, candidates.iter().flat_map(|c| [c[0], c[1]]).collect())?;
    let values = candidates.iter().map(|c| c[2]).collect();
    let rate = time.rate();
    let problem = PinnProblem::new(domain, &[(0, 0)], points, move |p| {
        let u = p.u;
        Ok(u.d(1)?.mul_scalar(rate) + u.value() * u.d(0)? - u.d2(0, 0)?.mul_scalar(NU))
    })?
    .with_condition(
        Condition::data("u at the initial and boundary points", boundary, values)?,
        1.0,
    )?;
    let net = raissi_network(device, seed)?;
    let mut step = PinnStep::new(device.clone(), net, adam(), &problem)?;
    // Adam and half the L-BFGS iterations on the Latin hypercube points, then residual-based
    // refinement (Lu et al. 2021): the `refine` points of largest |residual| among 5 × N_f
    // fresh candidates join the set (they gather at the front), and L-BFGS goes on.
    let refine = if refine { collocation / 4 } else { 0 };
    let first = Budget {
        lbfgs: if refine > 0 {
            budget.lbfgs / 2
        } else {
            budget.lbfgs
        },
        ..budget
    };
    let mut training = train(&mut step, first, dir, seed)?;
    if refine > 0 {
        let candidates = sample(
            step.problem().domain(),
            Sampler::LatinHypercube,
            5 * collocation,
            &mut rng,
        )?;
        let residual = step
            .problem()
            .residual_at(&step.model().network, candidates.to_tensor(device)?, &[])?
            .detach()
            .try_into_vec_as::<f64>()
            .map_err(|e| ExampleError::HostRead(format!("{e:?}")))?;
        let refined =
            refine_by_residual(step.problem().collocation(), &candidates, &residual, refine)?;
        step.set_collocation(refined)?;
        let second = Budget {
            adam: 0,
            lbfgs: budget.lbfgs - first.lbfgs,
            ..budget
        };
        let more = train(&mut step, second, dir, seed)?;
        let offset = (budget.adam + training.lbfgs_iterations) as f64;
        training
            .curve
            .lbfgs
            .extend(more.curve.lbfgs.iter().map(|&(k, v)| (offset + k, v)));
        training.lbfgs_iterations += more.lbfgs_iterations;
        training.lbfgs_stop = more.lbfgs_stop;
        training.final_loss = more.final_loss;
        training.seconds[1] += more.seconds[0] + more.seconds[1];
        training.budget = budget;
    }
    let eval = grid.points_in(time)?;
    let relative = relative_l2(&step.model().network, &eval, &grid.u, device)?;
    let prediction = predict(&step.model().network, &eval, device)?;
    Ok(BurgersResult {
        seed,
        collocation: collocation + refine,
        relative_l2: relative,
        lambdas: None,
        noise: 0.0,
        training,
        prediction,
    })
}

/// Raissi et al.'s inverse problem: `u_t + λ₁ u u_x − λ₂ u_xx = 0` with `λ₁` and
/// `λ₂ = exp(θ)` learnt (from `λ₁ = 0`, `θ = −6` as their code) from `observations` points of
/// the reference grid with Gaussian noise of `noise` times the data's standard deviation; the
/// observation points are also the collocation points, as in their code.
pub fn inverse(
    device: &SysDevice,
    grid: &BurgersGrid,
    budget: Budget,
    observations: usize,
    noise: f64,
    seed: u64,
    dir: &Path,
) -> Result<BurgersResult, ExampleError> {
    let domain = burgers_domain()?;
    let mut rng = SeededRng::new(seed.wrapping_add(1000));
    let mut index: Vec<usize> = (0..grid.u.len()).collect();
    rng.shuffle(&mut index);
    index.truncate(observations);
    let nx = grid.xs.len();
    let points = Points::new(
        2,
        index
            .iter()
            .flat_map(|&k| [grid.xs[k % nx], grid.ts[k / nx]])
            .collect(),
    )?;
    let mean = grid.u.iter().sum::<f64>() / grid.u.len() as f64;
    let std = (grid.u.iter().map(|u| (u - mean).powi(2)).sum::<f64>() / grid.u.len() as f64).sqrt();
    let observed: Vec<f64> = index
        .iter()
        .map(|&k| grid.u[k] + noise * std * rng.normal())
        .collect();
    let problem = PinnProblem::new(domain, &[(0, 0)], points.clone(), |p| {
        let u = p.u;
        let lambda1 = p.parameter(0)?;
        let lambda2 = p.parameter(1)?.exp();
        Ok(u.d(1)? + lambda1 * u.value() * u.d(0)? - lambda2 * u.d2(0, 0)?)
    })?
    .with_condition(Condition::data("observations", points, observed)?, 1.0)?
    .with_parameters(vec![0.0, -6.0])?;
    let net = raissi_network(device, seed)?;
    let mut step = PinnStep::new(device.clone(), net, adam(), &problem)?;
    let training = train(&mut step, budget, dir, seed)?;
    let found = step.model().parameters()?;
    let (l1, l2) = (found[0], found[1].exp());
    let eval = grid.points()?;
    let relative = relative_l2(&step.model().network, &eval, &grid.u, device)?;
    let prediction = predict(&step.model().network, &eval, device)?;
    Ok(BurgersResult {
        seed,
        collocation: observations,
        relative_l2: relative,
        lambdas: Some([
            l1,
            l2,
            100.0 * (l1 - 1.0).abs(),
            100.0 * (l2 - NU).abs() / NU,
        ]),
        noise,
        training,
        prediction,
    })
}

/// A problem with an analytic solution: its result.
#[derive(Debug, Clone, Serialize)]
pub struct AnalyticResult {
    /// Seed.
    pub seed: u64,
    /// Relative L2 error on the evaluation grid (max absolute error for Lagaris).
    pub error: f64,
    /// The training run.
    pub training: Training,
    /// The network's values on the evaluation grid (for the figures).
    #[serde(skip)]
    pub prediction: Vec<f64>,
}

fn square_grid(n: usize) -> Result<(Vec<f64>, Points), PhysicsError> {
    let axis: Vec<f64> = (0..n).map(|i| i as f64 / (n - 1) as f64).collect();
    let values = axis
        .iter()
        .flat_map(|&b| axis.iter().flat_map(move |&a| [a, b]))
        .collect();
    Ok((axis, Points::new(2, values)?))
}

/// The heat equation `u_t = u_xx` on `[0, 1]²` from `sin πx` with zero ends, exact
/// `e^{−π²t} sin πx`; `u = sin πx + t x (1 − x) N(x, t)` imposes the conditions exactly.
/// Scored on 41 × 41 points.
pub fn heat(
    device: &SysDevice,
    budget: Budget,
    collocation: usize,
    seed: u64,
    dir: &Path,
) -> Result<AnalyticResult, ExampleError> {
    let domain = Domain::time_space(&[(0.0, 1.0)], (0.0, 1.0))?;
    let points = sample(
        &domain,
        Sampler::LatinHypercube,
        collocation,
        &mut SeededRng::new(seed),
    )?;
    let problem = PinnProblem::new(domain, &[(0, 0)], points, |p| Ok(p.u.d(1)? - p.u.d2(0, 0)?))?;
    let constraint = HardConstraint::new(|x: &Tensor<2>, n: FieldJet| {
        let pairs = n.pairs().to_vec();
        let xj = FieldJet::coordinate(x, 0, &pairs)?;
        let tj = FieldJet::coordinate(x, 1, &pairs)?;
        let vanish = tj
            .times(&xj.clone())?
            .times(&xj.clone().scale(-1.0).add_scalar(1.0))?;
        xj.scale(PI).sin().plus(&vanish.times(&n)?)
    });
    let net = PinnNetworkConfig::new(2, vec![20, 20, 20], 1)
        .with_seed(seed)
        .init(device, None)?
        .with_constraint(constraint);
    let mut step = PinnStep::new(device.clone(), net, adam(), &problem)?;
    let training = train(&mut step, budget, dir, seed)?;
    let (_, eval) = square_grid(41)?;
    let exact: Vec<f64> = (0..eval.len())
        .map(|i| {
            let r = eval.row(i);
            (-PI * PI * r[1]).exp() * (PI * r[0]).sin()
        })
        .collect();
    Ok(AnalyticResult {
        seed,
        error: relative_l2(&step.model().network, &eval, &exact, device)?,
        prediction: predict(&step.model().network, &eval, device)?,
        training,
    })
}

/// The exact Poisson solution `sin πx sin 2πy`.
pub fn poisson_exact(x: f64, y: f64) -> f64 {
    (PI * x).sin() * (2.0 * PI * y).sin()
}

/// `−Δu = 5π² sin πx sin 2πy` on the unit square with `u = 0` on its boundary (exact
/// `sin πx sin 2πy`), `u = x(1 − x) y(1 − y) N(x, y)`. Scored on 41 × 41 points.
pub fn poisson(
    device: &SysDevice,
    budget: Budget,
    collocation: usize,
    seed: u64,
    dir: &Path,
) -> Result<AnalyticResult, ExampleError> {
    let domain = Domain::new(&[(0.0, 1.0), (0.0, 1.0)])?;
    let points = sample(
        &domain,
        Sampler::LatinHypercube,
        collocation,
        &mut SeededRng::new(seed),
    )?;
    let problem = PinnProblem::new(domain, &[(0, 0), (1, 1)], points, |p| {
        let (x, y) = (p.coordinate(0), p.coordinate(1));
        let f = (x.mul_scalar(PI).sin() * y.mul_scalar(2.0 * PI).sin()).mul_scalar(5.0 * PI * PI);
        Ok(p.u.d2(0, 0)? + p.u.d2(1, 1)? + f)
    })?;
    let constraint = HardConstraint::new(|x: &Tensor<2>, n: FieldJet| {
        let pairs = n.pairs().to_vec();
        let bubble = |c: usize| -> Result<FieldJet, PhysicsError> {
            let a = FieldJet::coordinate(x, c, &pairs)?;
            a.clone().times(&a.scale(-1.0).add_scalar(1.0))
        };
        bubble(0)?.times(&bubble(1)?)?.times(&n)
    });
    let net = PinnNetworkConfig::new(2, vec![20, 20, 20], 1)
        .with_seed(seed)
        .init(device, None)?
        .with_constraint(constraint);
    let mut step = PinnStep::new(device.clone(), net, adam(), &problem)?;
    let training = train(&mut step, budget, dir, seed)?;
    let (_, eval) = square_grid(41)?;
    let exact: Vec<f64> = (0..eval.len())
        .map(|i| poisson_exact(eval.row(i)[0], eval.row(i)[1]))
        .collect();
    Ok(AnalyticResult {
        seed,
        error: relative_l2(&step.model().network, &eval, &exact, device)?,
        prediction: predict(&step.model().network, &eval, device)?,
        training,
    })
}

/// Lagaris et al.'s problem 1 exact solution, `e^{−t²/2}/(1 + t + t³) + t²`.
pub fn lagaris_exact(t: f64) -> f64 {
    (-t * t / 2.0).exp() / (1.0 + t + t.powi(3)) + t * t
}

/// Lagaris et al.'s (1998) problem 1, `ψ' + (t + q) ψ = t³ + 2t + t² q` with
/// `q = (1 + 3t²)/(1 + t + t³)`, `ψ(0) = 1`, on `[0, 1]` with `ψ = 1 + t N(t)` (one hidden
/// layer of 10 tanh units, as their 10 sigmoids), L-BFGS only. Scored by the maximum error on
/// 101 points.
pub fn lagaris(
    device: &SysDevice,
    budget: Budget,
    collocation: usize,
    seed: u64,
    dir: &Path,
) -> Result<AnalyticResult, ExampleError> {
    let form = LagarisIvp::first_order(0.0, vec![1.0])?;
    let problem = form.problem(
        1.0,
        Sampler::LatinHypercube,
        collocation,
        &mut SeededRng::new(seed),
        |p| {
            let t = p.coordinate(0);
            let q = t.clone().square().mul_scalar(3.0).add_scalar(1.0)
                / (t.clone().add_scalar(1.0) + t.clone().powi_scalar(3));
            let rhs = t.clone().powi_scalar(3)
                + t.clone().mul_scalar(2.0)
                + t.clone().square() * q.clone();
            Ok(p.u.d(0)? + (t + q) * p.u.value() - rhs)
        },
    )?;
    let net = PinnNetworkConfig::new(1, vec![10], 1)
        .with_seed(seed)
        .init(device, None)?
        .with_constraint(form.constraint());
    let mut step = PinnStep::new(device.clone(), net, adam(), &problem)?;
    let training = train(&mut step, budget, dir, seed)?;
    let ts: Vec<f64> = (0..=100).map(|i| i as f64 / 100.0).collect();
    let prediction = predict(&step.model().network, &Points::new(1, ts.clone())?, device)?;
    let error = ts
        .iter()
        .zip(&prediction)
        .map(|(&t, u)| (u - lagaris_exact(t)).abs())
        .fold(0.0, f64::max);
    Ok(AnalyticResult {
        seed,
        error,
        prediction,
        training,
    })
}
