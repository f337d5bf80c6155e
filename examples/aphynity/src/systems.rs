//! The three systems of APHYNITY's Table 1, their data, models and training runs.

use std::fmt::Debug;
use std::path::Path;
use std::time::Instant;

use burn::module::Param;
use burn::nn::Linear;
use burn::optim::AdamConfig;
use burn::tensor::Tensor;
use serde::Serialize;
use sysdyn_core::device::SysDevice;
use sysdyn_core::jet::{Activation, Mlp, MlpConfig};
use sysdyn_physics::PhysicalModel;
use sysdyn_physics::hybrid::{
    AphynityConfig, AphynityObjective, AphynityStep, Augmentation, AugmentedModel,
    ConvAugmentation, FrictionlessPendulum, PureDiffusion, TrajectoryData, UndampedWave, predict,
    trajectory_loss,
};
use sysdyn_physics::simulators::Dataset;
use sysdyn_physics::simulators::fitzhugh_nagumo::FitzHughNagumo;
use sysdyn_physics::simulators::pendulum::DampedPendulum;
use sysdyn_physics::simulators::wave::DampedWave;
use sysdyn_solvers::methods::RK4;
use sysdyn_train::{LrSchedule, Optim, ProgressMode, TrainConfig, TrainError, Trainer};

use crate::ExampleError;

/// A system of Table 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum System {
    /// Damped pendulum, `F_p` = the pendulum with learnable `(ω0, α)` (Param ODE(ω0, α)).
    Pendulum,
    /// Damped pendulum, `F_p` = the frictionless pendulum with learnable `ω0` (Param ODE(ω0):
    /// the damping is left to `F_a`).
    PendulumFrictionless,
    /// FitzHugh–Nagumo reaction–diffusion, `F_p` = diffusion with learnable `(a, b)`.
    Rd,
    /// Damped wave, `F_p` = the undamped wave with learnable `c`.
    Wave,
}

impl System {
    /// What a default run trains: the pendulum with complete and incomplete physics, about six
    /// minutes each on two cores. `rd` and `wave` take 20-30 minutes each at the default budget
    /// (70-180 s per run), more than the tour's hour allows beside everything else.
    pub const DEFAULT: [System; 2] = [System::Pendulum, System::PendulumFrictionless];

    /// All four, in the paper's order.
    pub const ALL: [System; 4] = [
        System::Pendulum,
        System::PendulumFrictionless,
        System::Rd,
        System::Wave,
    ];

    /// The name used in files and tables.
    pub fn name(self) -> &'static str {
        match self {
            System::Pendulum => "pendulum",
            System::PendulumFrictionless => "pendulum-frictionless",
            System::Rd => "rd",
            System::Wave => "wave",
        }
    }

    /// The physical model of `F_p`, as Table 1 names it.
    pub fn physical_model(self) -> &'static str {
        match self {
            System::Pendulum => "Param ODE (ω0, α)",
            System::PendulumFrictionless => "Param ODE (ω0)",
            System::Rd => "Param PDE (a, b)",
            System::Wave => "Param PDE (c)",
        }
    }
}

/// A configuration of `F_p + F_a` (every row of Table 1 for one system).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Variant {
    /// `F_p + F_a` with `‖F_a‖² + λ L_traj` and the multiplier update.
    Aphynity,
    /// `F_p` alone, `L_traj`.
    ParamOnly,
    /// `F_a` alone, `L_traj`.
    NeuralOde,
    /// `F_p + F_a`, `L_traj` alone.
    NaiveSum,
    /// The simulator's own equations with the true parameters, untrained (the reference).
    TrueModel,
}

impl Variant {
    /// Every variant, trained ones first.
    pub const ALL: [Variant; 5] = [
        Variant::Aphynity,
        Variant::ParamOnly,
        Variant::NeuralOde,
        Variant::NaiveSum,
        Variant::TrueModel,
    ];

    /// The row name.
    pub fn name(self) -> &'static str {
        match self {
            Variant::Aphynity => "APHYNITY",
            Variant::ParamOnly => "Param only",
            Variant::NeuralOde => "Neural ODE",
            Variant::NaiveSum => "naive F_p + F_a",
            Variant::TrueModel => "true model",
        }
    }

    fn slug(self) -> &'static str {
        match self {
            Variant::Aphynity => "aphynity",
            Variant::ParamOnly => "param",
            Variant::NeuralOde => "neural-ode",
            Variant::NaiveSum => "naive-sum",
            Variant::TrueModel => "true",
        }
    }
}

/// How much a system trains.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Budget {
    /// Training trajectories.
    pub train: usize,
    /// Test trajectories.
    pub test: usize,
    /// Runtime steps (batches) per run; each takes `inner_steps` gradient steps.
    pub steps: u64,
    /// `N_iter`.
    pub inner_steps: usize,
    /// Trajectories per batch.
    pub batch: usize,
    /// Adam's learning rate `τ₁`.
    pub lr: f64,
    /// RK4 steps per data interval.
    pub substeps: usize,
}

/// The budget of `system` for a quick, default or full run (`steps` overrides the steps).
pub fn budget(system: System, quick: bool, full: bool, steps: Option<u64>) -> Budget {
    let system = match system {
        System::PendulumFrictionless => System::Pendulum,
        other => other,
    };
    let mut b = match (system, quick, full) {
        // The authors' code: 25/25 trajectories, batch 25, N_iter = 5, τ₁ = 1e-3, 50000 epochs.
        (System::Pendulum, false, true) => Budget {
            train: 25,
            test: 25,
            steps: 50_000,
            inner_steps: 5,
            batch: 25,
            lr: 1e-3,
            substeps: 2,
        },
        (System::Pendulum, false, false) => Budget {
            train: 25,
            test: 25,
            steps: 80,
            inner_steps: 5,
            batch: 25,
            lr: 1e-2,
            substeps: 2,
        },
        (System::Pendulum, true, _) => Budget {
            train: 6,
            test: 6,
            steps: 6,
            inner_steps: 2,
            batch: 6,
            lr: 1e-2,
            substeps: 1,
        },
        // The authors' code: 1600/320 trajectories, batch 64, N_iter = 1, τ₁ = 1e-3.
        (System::PendulumFrictionless, _, _) => unreachable!("mapped to the pendulum above"),
        (System::Rd, false, true) => Budget {
            train: 1600,
            test: 320,
            steps: 50_000,
            inner_steps: 1,
            batch: 64,
            lr: 1e-3,
            substeps: 1,
        },
        (System::Rd, false, false) => Budget {
            train: 16,
            test: 8,
            steps: 40,
            inner_steps: 1,
            batch: 2,
            lr: 1e-2,
            substeps: 1,
        },
        (System::Rd, true, _) => Budget {
            train: 2,
            test: 2,
            steps: 2,
            inner_steps: 1,
            batch: 2,
            lr: 1e-2,
            substeps: 1,
        },
        // The authors' code: 200/50 trajectories, batch 64, N_iter = 3, τ₁ = 1e-4.
        (System::Wave, false, true) => Budget {
            train: 200,
            test: 50,
            steps: 50_000,
            inner_steps: 3,
            batch: 64,
            lr: 1e-4,
            substeps: 1,
        },
        (System::Wave, false, false) => Budget {
            train: 8,
            test: 4,
            steps: 30,
            inner_steps: 1,
            batch: 2,
            lr: 1e-2,
            substeps: 1,
        },
        (System::Wave, true, _) => Budget {
            train: 2,
            test: 2,
            steps: 2,
            inner_steps: 1,
            batch: 2,
            lr: 1e-2,
            substeps: 1,
        },
    };
    if let Some(steps) = steps {
        b.steps = steps;
    }
    b
}

/// The truth, its learnable parameters' true values, and where `F_p` starts.
pub struct Truth {
    /// The true values of `F_p`'s parameters.
    pub parameters: Vec<f64>,
    /// Where training starts.
    pub initial: Vec<f64>,
    /// Their scales (`θ = s ⊙ r`).
    pub scales: Vec<f64>,
}

/// `system`'s truth.
pub fn truth(system: System) -> Truth {
    match system {
        System::Pendulum => Truth {
            parameters: DampedPendulum::aphynity().parameters(),
            initial: vec![0.5, 0.5],
            scales: vec![1.0, 1.0],
        },
        System::PendulumFrictionless => Truth {
            parameters: vec![DampedPendulum::aphynity().parameters()[0]],
            initial: vec![0.5],
            scales: vec![1.0],
        },
        System::Rd => Truth {
            parameters: vec![1e-3, 5e-3],
            initial: vec![1e-2, 1e-2],
            scales: vec![1e-3, 1e-3],
        },
        System::Wave => Truth {
            parameters: vec![330.0],
            initial: vec![100.0],
            scales: vec![100.0],
        },
    }
}

/// The train and test sets of `system` for data seed `seed`.
pub fn data(
    system: System,
    budget: &Budget,
    seed: u64,
) -> Result<(Dataset, Dataset), ExampleError> {
    Ok(match system {
        System::Pendulum | System::PendulumFrictionless => {
            let p = DampedPendulum::aphynity();
            (
                p.dataset(budget.train, seed)?,
                p.dataset(budget.test, !seed)?,
            )
        }
        System::Rd => {
            let m = FitzHughNagumo::aphynity();
            (
                m.dataset(budget.train, seed)?,
                m.dataset(budget.test, !seed)?,
            )
        }
        System::Wave => {
            let m = DampedWave::aphynity();
            (
                m.dataset(budget.train, seed)?,
                m.dataset(budget.test, !seed)?,
            )
        }
    })
}

/// One trained (or reference) model on one seed.
#[derive(Debug, Clone, Serialize)]
pub struct RunResult {
    /// The variant.
    pub variant: Variant,
    /// The seed.
    pub seed: u64,
    /// Test MSE over every trajectory point.
    pub test_mse: f64,
    /// `log10` of it.
    pub log_mse: f64,
    /// The learned physical parameters (empty without `F_p`).
    pub parameters: Vec<f64>,
    /// Mean relative error of the parameters against the truth, in percent (`None` without `F_p`).
    pub parameter_error_pct: Option<f64>,
    /// `(L_traj, mean ‖F_a(X)‖², λ)` per batch.
    #[serde(skip)]
    pub history: Vec<(f64, f64, f64)>,
    /// The final `λ` (APHYNITY only).
    pub final_lambda: Option<f64>,
    /// The final mean `‖F_a(X)‖²` on the training batch (0 without `F_a`).
    pub final_fa_sq: f64,
    /// Seconds of training.
    pub train_s: f64,
    /// When training diverged (a NaN or infinite loss or parameter): the step, and the step of
    /// the last good checkpoint the runtime restored, which is the model scored.
    pub diverged: Option<Diverged>,
    /// One test trajectory's observable, predicted (for the figure).
    #[serde(skip)]
    pub observable: Vec<f64>,
}

/// A run that diverged and was scored from its last good checkpoint.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Diverged {
    /// The step whose loss or parameters were not finite (from 1).
    pub at_step: u64,
    /// The step of the checkpoint restored into the model (0: the initial model).
    pub restored_step: u64,
}

/// The observable plotted for `system`: `θ`, `u` or `w` at the grid's centre.
pub fn observable_index(system: System) -> usize {
    match system {
        System::Pendulum | System::PendulumFrictionless => 0,
        System::Rd => 16 * 32 + 16,
        System::Wave => 32 * 64 + 32,
    }
}

fn observable(pred: &Tensor<3>, index: usize) -> Vec<f64> {
    let [_, t, _] = pred.dims();
    pred.clone()
        .narrow(0, 0, 1)
        .narrow(2, index, 1)
        .reshape([t])
        .into_data()
        .convert::<f64>()
        .try_to_vec::<f64>()
        .unwrap_or_default()
}

/// An MLP `F_a` with ReLU whose weights are scaled by `gain` and biases zero (the authors
/// initialise theirs orthogonally with gain 0.2: `F_a` starts small).
fn small_mlp(
    widths: Vec<usize>,
    gain: f64,
    seed: u64,
    device: &SysDevice,
) -> Result<Mlp, ExampleError> {
    let mlp = MlpConfig::new(widths)
        .with_activation(Activation::Relu)
        .init_seeded(device, seed)?;
    let layers = mlp
        .layers()
        .iter()
        .map(|l| Linear {
            weight: Param::from_tensor(l.weight.val().mul_scalar(gain).detach()),
            bias: l
                .bias
                .as_ref()
                .map(|b| Param::from_tensor(b.val().zeros_like().detach())),
        })
        .collect();
    Ok(Mlp::new(layers, Activation::Relu)?)
}

/// Everything a run needs besides the model.
pub struct RunContext<'a> {
    /// The system.
    pub system: System,
    /// Its budget.
    pub budget: Budget,
    /// The training device (autodiff).
    pub device: &'a SysDevice,
    /// Training data.
    pub train: &'a TrajectoryData,
    /// Test data.
    pub test: &'a TrajectoryData,
    /// Where the run directories go.
    pub run_root: &'a Path,
    /// No progress output.
    pub quiet: bool,
}

fn relative_error_pct(learned: &[f64], truth: &[f64]) -> f64 {
    100.0
        * learned
            .iter()
            .zip(truth)
            .map(|(l, t)| ((l - t) / t).abs())
            .sum::<f64>()
        / truth.len() as f64
}

/// What a training run leaves besides the model (nothing for the untrained true model).
#[derive(Debug, Default)]
struct Training {
    /// `(L_traj, mean ‖F_a(X)‖², λ)` per batch.
    history: Vec<(f64, f64, f64)>,
    final_lambda: Option<f64>,
    train_s: f64,
    diverged: Option<Diverged>,
}

fn finish<M, A>(
    ctx: &RunContext,
    variant: Variant,
    seed: u64,
    model: &AugmentedModel<M, A>,
    training: Training,
) -> Result<RunResult, ExampleError>
where
    M: PhysicalModel + Clone + Debug + Send + Sync + 'static,
    A: Augmentation,
{
    let pred = predict(
        model,
        ctx.test.values(),
        ctx.test.times(),
        &RK4,
        ctx.budget.substeps,
    )?
    .detach();
    let test_mse = trajectory_loss(pred.clone(), ctx.test.values().clone())?.into_scalar::<f64>();
    let truth = truth(ctx.system);
    let parameters = model.parameters();
    let parameter_error_pct = match variant {
        Variant::NeuralOde => None,
        Variant::TrueModel => Some(0.0),
        _ => Some(relative_error_pct(&parameters, &truth.parameters)),
    };
    Ok(RunResult {
        variant,
        seed,
        test_mse,
        log_mse: test_mse.log10(),
        parameters,
        parameter_error_pct,
        final_fa_sq: training.history.last().map_or(0.0, |h| h.1),
        history: training.history,
        final_lambda: training.final_lambda,
        train_s: training.train_s,
        diverged: training.diverged,
        observable: observable(&pred, observable_index(ctx.system)),
    })
}

fn train<M, A>(
    ctx: &RunContext,
    variant: Variant,
    seed: u64,
    model: AugmentedModel<M, A>,
) -> Result<RunResult, ExampleError>
where
    M: PhysicalModel + Clone + Debug + Send + Sync + 'static,
    A: Augmentation,
{
    let objective = match (variant, ctx.system) {
        (Variant::Aphynity, System::Pendulum | System::PendulumFrictionless) => {
            AphynityObjective::pendulum()
        }
        (Variant::Aphynity, _) => AphynityObjective::pde(),
        _ => AphynityObjective::Trajectory,
    };
    let b = ctx.budget;
    let config = AphynityConfig {
        objective,
        inner_steps: b.inner_steps,
        batch_size: b.batch,
        substeps: b.substeps,
    };
    let mut step = AphynityStep::new(
        model,
        Optim::new(AdamConfig::new().build()),
        config,
        ctx.train.clone(),
        None,
    )?;
    let run = TrainConfig::new(b.steps)
        .with_seed(seed)
        .with_schedule(LrSchedule::Constant { lr: b.lr })
        .with_log_every(b.steps.div_ceil(200).max(1))
        // Ten checkpoints a run: a run that diverges is scored from a recent good one.
        .with_checkpoint_every(Some(b.steps.div_ceil(10).max(1)))
        .with_progress(if ctx.quiet {
            ProgressMode::Quiet
        } else {
            ProgressMode::Plain
        });
    let dir = ctx
        .run_root
        .join(format!("{}-{}-s{seed}", ctx.system.name(), variant.slug()));
    if dir.exists() {
        // A fresh run each time: this example does not resume.
        std::fs::remove_dir_all(&dir)
            .map_err(|e| ExampleError::Io(dir.display().to_string(), e))?;
    }
    let start = Instant::now();
    // A baseline that diverges (the Neural ODE at this budget's learning rate, on some seeds)
    // is a result, not a failure of the example: the runtime restored its last good
    // checkpoint, which is scored and flagged.
    let diverged = match Trainer::new(run, dir).run(&mut step) {
        Ok(_) => None,
        Err(TrainError::Diverged {
            step: at_step,
            restored_step,
            ..
        }) => Some(Diverged {
            at_step,
            restored_step: restored_step.unwrap_or(0),
        }),
        Err(e) => return Err(e.into()),
    };
    let training = Training {
        history: step.history().to_vec(),
        final_lambda: step.lambda(),
        train_s: start.elapsed().as_secs_f64(),
        diverged,
    };
    finish(ctx, variant, seed, step.model(), training)
}

/// Trains (or, for the true model, evaluates) `variant` on `system` with seed `seed`.
pub fn run_variant(
    ctx: &RunContext,
    variant: Variant,
    seed: u64,
) -> Result<RunResult, ExampleError> {
    let d = ctx.device;
    let dev = d.device();
    let t = truth(ctx.system);
    let net_seed = 1000 + seed;
    match ctx.system {
        System::Pendulum => {
            let physics = DampedPendulum::aphynity();
            let mlp = || small_mlp(vec![2, 200, 200, 2], 0.2, net_seed, d);
            let model = match variant {
                Variant::Aphynity | Variant::NaiveSum => {
                    AugmentedModel::hybrid(physics, &t.initial, &t.scales, mlp()?, dev)?
                }
                Variant::ParamOnly => {
                    AugmentedModel::physics_only(physics, &t.initial, &t.scales, dev)?
                }
                Variant::NeuralOde => AugmentedModel::neural_only(mlp()?, vec![2], dev),
                Variant::TrueModel => {
                    let m = AugmentedModel::<_, Mlp>::physics_only(
                        physics,
                        &t.parameters,
                        &t.scales,
                        dev,
                    )?
                    .frozen();
                    return finish(ctx, variant, seed, &m, Training::default());
                }
            };
            train(ctx, variant, seed, model)
        }
        System::PendulumFrictionless => {
            let physics = FrictionlessPendulum::new(1.0)?;
            let mlp = || small_mlp(vec![2, 200, 200, 2], 0.2, net_seed, d);
            let model = match variant {
                Variant::Aphynity | Variant::NaiveSum => {
                    AugmentedModel::hybrid(physics, &t.initial, &t.scales, mlp()?, dev)?
                }
                Variant::ParamOnly => {
                    AugmentedModel::physics_only(physics, &t.initial, &t.scales, dev)?
                }
                Variant::NeuralOde => AugmentedModel::neural_only(mlp()?, vec![2], dev),
                Variant::TrueModel => {
                    let truth = DampedPendulum::aphynity();
                    let m = AugmentedModel::<_, Mlp>::physics_only(
                        truth,
                        &truth.parameters(),
                        &[1.0, 1.0],
                        dev,
                    )?
                    .frozen();
                    return finish(ctx, variant, seed, &m, Training::default());
                }
            };
            train(ctx, variant, seed, model)
        }
        System::Rd => {
            let physics = PureDiffusion::new(32, [1e-3, 5e-3])?;
            let conv = || ConvAugmentation::new(2, 32, 16, true, 1.0, net_seed, dev);
            let model = match variant {
                Variant::Aphynity | Variant::NaiveSum => {
                    AugmentedModel::hybrid(physics, &t.initial, &t.scales, conv()?, dev)?
                }
                Variant::ParamOnly => {
                    AugmentedModel::physics_only(physics, &t.initial, &t.scales, dev)?
                }
                Variant::NeuralOde => AugmentedModel::neural_only(conv()?, vec![2, 32, 32], dev),
                Variant::TrueModel => {
                    let fhn = FitzHughNagumo::aphynity();
                    let p = fhn.parameters();
                    let m = AugmentedModel::<_, ConvAugmentation>::physics_only(
                        fhn, &p, &[1e-3; 3], dev,
                    )?
                    .frozen();
                    return finish(ctx, variant, seed, &m, Training::default());
                }
            };
            train(ctx, variant, seed, model)
        }
        System::Wave => {
            let physics = UndampedWave::new(64, 1.0, 330.0)?;
            let conv = || ConvAugmentation::new(2, 64, 16, false, 1.0, net_seed, dev);
            let model = match variant {
                Variant::Aphynity | Variant::NaiveSum => {
                    AugmentedModel::hybrid(physics, &t.initial, &t.scales, conv()?, dev)?
                }
                Variant::ParamOnly => {
                    AugmentedModel::physics_only(physics, &t.initial, &t.scales, dev)?
                }
                Variant::NeuralOde => AugmentedModel::neural_only(conv()?, vec![2, 64, 64], dev),
                Variant::TrueModel => {
                    let wave = DampedWave::aphynity();
                    let p = wave.parameters();
                    let m = AugmentedModel::<_, ConvAugmentation>::physics_only(
                        wave,
                        &p,
                        &[100.0, 10.0],
                        dev,
                    )?
                    .frozen();
                    return finish(ctx, variant, seed, &m, Training::default());
                }
            };
            train(ctx, variant, seed, model)
        }
    }
}

/// The test data's observable on the first test trajectory.
pub fn true_observable(system: System, test: &TrajectoryData) -> Vec<f64> {
    observable(test.values(), observable_index(system))
}
