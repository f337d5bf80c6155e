//! PDE-Net 2.0 on 2-D periodic problems on `[0, 2π)²` (32 × 32, `δt = 0.01`): the linear
//! convection–diffusion `u_t = 0.8 u_x − 0.6 u_y + 0.15 Δu` (exact Fourier solution) and the
//! nonlinear `u_t = −u u_x + 0.1 Δu` (pseudo-spectral RK4 with 20 substeps a frame). Trained on
//! sysdyn-train with a growing horizon (1 → 2 → 5 → 10 blocks), then rolled out 5× the longest
//! training horizon from four held-out initial conditions.

use std::path::Path;
use std::time::Instant;

use serde::Serialize;
use sysdyn_core::device::SysDevice;
use sysdyn_core::spectral::Spectral2d;
use sysdyn_physics::PhysicsError;
use sysdyn_physics::discovery::pdenet::{
    ConvectionDiffusion2d, HeldOutRollout, HorizonSchedule, RecoveryConfig, ReferenceSolver,
    recovery,
};
use sysdyn_plot::{Figure, Legend, Series, palette};

use crate::{ExampleError, Options, TermError, say};

const N: usize = 32;
const DT: f64 = 0.01;

/// One PDE-Net problem's outcome.
#[derive(Debug, Clone, Serialize)]
pub struct PdeNetResult {
    /// The problem.
    pub problem: &'static str,
    /// The true PDE.
    pub true_equation: &'static str,
    /// The learned PDE (SymNet expanded, terms below 0.02 pruned).
    pub learned_equation: String,
    /// Whether exactly the true terms survive the pruning.
    pub pattern_correct: bool,
    /// The true terms' errors.
    pub terms: Vec<TermError>,
    /// Largest relative error of a true term.
    pub max_relative_error: f64,
    /// Adam steps.
    pub steps: u64,
    /// The horizon schedule `(from step, blocks)`.
    pub schedule: Vec<(u64, usize)>,
    /// Relative L2 error of the rollout after each block (5× the longest training horizon).
    pub rollout_errors: Vec<f64>,
    /// The same for the persistence forecast `u = u_0` at the last block.
    pub persistence_error: f64,
    /// Seconds of training.
    pub train_s: f64,
}

struct Problem {
    name: &'static str,
    true_equation: &'static str,
    truth: Vec<(&'static str, f64)>,
    init_scale: f64,
    trajectory: Box<ReferenceSolver<'static>>,
}

fn convection_diffusion() -> Result<Problem, ExampleError> {
    let (a, b, nu) = (0.8, -0.6, 0.15);
    let tau = std::f64::consts::TAU;
    let mut eq = ConvectionDiffusion2d::new(a, b, nu, (N, N), (tau, tau))?;
    Ok(Problem {
        name: "convection-diffusion",
        true_equation: "u_t = 0.8 u_x - 0.6 u_y + 0.15 u_xx + 0.15 u_yy",
        truth: vec![("u_x", a), ("u_y", b), ("u_xx", nu), ("u_yy", nu)],
        init_scale: 0.01,
        trajectory: Box::new(move |u0, m| eq.trajectory(u0, DT, m)),
    })
}

fn nonlinear() -> Result<Problem, ExampleError> {
    let nu = 0.1;
    let tau = std::f64::consts::TAU;
    let mut spectral = Spectral2d::new(N, N, tau, tau).map_err(PhysicsError::from)?;
    let mut rhs = move |u: &[f64]| -> Result<Vec<f64>, PhysicsError> {
        let mut ux = vec![0.0; u.len()];
        let mut lap = vec![0.0; u.len()];
        spectral.dx(u, &mut ux)?;
        spectral.laplacian(u, &mut lap)?;
        Ok(u.iter()
            .zip(&ux)
            .zip(&lap)
            .map(|((u, ux), lap)| -u * ux + nu * lap)
            .collect())
    };
    let substeps = 20;
    let h = DT / substeps as f64;
    Ok(Problem {
        name: "nonlinear convection-diffusion",
        true_equation: "u_t = -u u_x + 0.1 u_xx + 0.1 u_yy",
        truth: vec![("u u_x", -1.0), ("u_xx", nu), ("u_yy", nu)],
        init_scale: 0.1,
        trajectory: Box::new(move |u0, m| {
            let mut u = u0.to_vec();
            let mut frames = u.clone();
            let axpy = |u: &[f64], k: &[f64], s: f64| -> Vec<f64> {
                u.iter().zip(k).map(|(u, k)| u + s * k).collect()
            };
            for _ in 0..m {
                for _ in 0..substeps {
                    let k1 = rhs(&u)?;
                    let k2 = rhs(&axpy(&u, &k1, h / 2.0))?;
                    let k3 = rhs(&axpy(&u, &k2, h / 2.0))?;
                    let k4 = rhs(&axpy(&u, &k3, h))?;
                    for i in 0..u.len() {
                        u[i] += h / 6.0 * (k1[i] + 2.0 * k2[i] + 2.0 * k3[i] + k4[i]);
                    }
                }
                frames.extend_from_slice(&u);
            }
            Ok(frames)
        }),
    })
}

/// Trains on six trajectories from random smooth initial conditions, then rolls out.
fn train(
    options: &Options,
    device: &SysDevice,
    dir: &Path,
    mut problem: Problem,
) -> Result<PdeNetResult, ExampleError> {
    let (steps, schedule) = if options.quick {
        (
            options.pdenet_steps.unwrap_or(40),
            vec![(0, 1), (10, 2), (20, 5)],
        )
    } else {
        (
            options.pdenet_steps.unwrap_or(500),
            vec![(0, 1), (100, 2), (200, 5), (300, 10)],
        )
    };
    let tau = std::f64::consts::TAU;
    // Only for its random initial conditions and grid spacing.
    let grid = ConvectionDiffusion2d::new(0.0, 0.0, 0.0, (N, N), (tau, tau))?;
    let horizon = HorizonSchedule::new(schedule.clone())?.max_horizon();
    let mut config = RecoveryConfig::new(DT, schedule.clone(), steps, problem.init_scale);
    config.data_seed = options.seed.wrapping_add(20);
    config.init_seed = options.seed;
    config.held_out_seed = options.seed.wrapping_add(99);
    let data = recovery::simulate(&grid, &mut problem.trajectory, &config)?;
    let run_dir = dir.join("run").join(problem.name.replace(' ', "-"));
    let start = Instant::now();
    let model = recovery::train(device, &grid, data, &config, &run_dir)?;
    let train_s = start.elapsed().as_secs_f64();
    let equation = model.equation(0.02)?;
    let terms: Vec<TermError> = problem
        .truth
        .iter()
        .map(|&(term, c)| {
            let got = equation.coefficient(term);
            TermError {
                equation: "u_t".into(),
                term: term.into(),
                truth: c,
                identified: got,
                relative_error: ((got - c) / c).abs(),
            }
        })
        .collect();
    let pattern_correct =
        equation.len() == problem.truth.len() && terms.iter().all(|t| t.identified != 0.0);
    // Held-out initial conditions, rolled out 5× the training horizon.
    let blocks = 5 * horizon;
    let HeldOutRollout {
        rollout_errors,
        persistence_error,
    } = recovery::held_out_rollout(
        &model,
        device,
        &grid,
        &mut problem.trajectory,
        &config,
        4,
        blocks,
    )?;
    let max_relative_error = terms.iter().map(|t| t.relative_error).fold(0.0, f64::max);
    say!(
        options,
        "[equation-discovery] PDE-Net {}: u_t = {} (max error {:.2}%), rollout error at {} blocks {:.2e} (persistence {:.2e}), {:.1} s",
        problem.name,
        equation,
        100.0 * max_relative_error,
        blocks,
        rollout_errors[blocks - 1],
        persistence_error,
        train_s
    );
    Ok(PdeNetResult {
        problem: problem.name,
        true_equation: problem.true_equation,
        learned_equation: format!("u_t = {equation}"),
        pattern_correct,
        terms,
        max_relative_error,
        steps,
        schedule,
        rollout_errors,
        persistence_error,
        train_s,
    })
}

/// Both problems (only the linear one with `--quick`) and the figure of their rollout errors.
pub fn run_all(
    options: &Options,
    dir: &Path,
) -> Result<(Vec<PdeNetResult>, Vec<String>), ExampleError> {
    let mut device = options.device.init()?;
    device.configure_defaults()?;
    let mut problems = vec![convection_diffusion()?];
    if !options.quick {
        problems.push(nonlinear()?);
    }
    let mut results = Vec::new();
    for p in problems {
        results.push(train(options, &device, dir, p)?);
    }
    let mut fig =
        Figure::new("PDE-Net 2.0: rollout error on held-out data, 5× the training horizon")
            .x_label("blocks of δt = 0.01")
            .y_label("relative L2 error")
            .y_log()
            .legend(Legend::Outside)
            .size(1000.0, 450.0);
    for (k, r) in results.iter().enumerate() {
        let xs: Vec<f64> = (1..=r.rollout_errors.len()).map(|b| b as f64).collect();
        fig = fig.series(Series::line(r.problem, &xs, &r.rollout_errors).color(palette(k)));
    }
    let figures = fig.save(dir.join("pdenet_rollout"))?.names_relative_to(dir);
    Ok((results, figures))
}
