//! The plain-f64 studies: everything here runs without a backend, in f64.
//!
//! None of them goes through the training runtime (`sysdyn-train`); see the comment in `run`
//! for why.

use sysdyn_optim::analysis::{
    Complex, Matrix, gd_optimal, heavy_ball_optimal, log_log_slope, measured_rate,
};
use sysdyn_optim::flow::{FlowComparison, HeavyBallOde, gd_vs_gradient_flow, gradient_flow};
use sysdyn_optim::game::{BilinearGame, Game, GameScheme, GameTrajectory, play};
use sysdyn_optim::problems::{Objective, Quadratic, Rosenbrock};
use sysdyn_optim::{Adam, GradientDescent, HeavyBall, Nesterov, OptimError, UpdateRule, iterate};

/// One optimizer's run on one problem.
#[derive(Debug, Clone)]
pub struct OptimizerRun {
    /// Rule name (`gd`, `heavy-ball`, `nesterov`, `adam`).
    pub name: &'static str,
    /// Legend text with the hyper-parameters.
    pub label: String,
    /// The iterates, `x_0` first.
    pub iterates: Vec<Vec<f64>>,
    /// Distance of each iterate to the minimiser.
    pub errors: Vec<f64>,
}

fn run<R: UpdateRule>(
    rule: &R,
    lr: f64,
    label: String,
    objective: &dyn Objective,
    x0: &[f64],
    steps: usize,
) -> Result<OptimizerRun, OptimError> {
    // Not run through the training runtime: the object of study is the whole iterate sequence
    // of a rule on an analytic objective in plain f64 on the host (rates, contours, gaps to the
    // flow, a divergence included), recomputed exactly from its inputs in milliseconds, so a
    // runtime's checkpoints, schedules, random streams and divergence stop would add nothing
    // and could cut the trajectory short.
    let iterates = iterate(rule, lr, x0, steps, |x| objective.gradient(x))?;
    let errors = iterates
        .iter()
        .map(|x| objective.distance_to_minimizer(x))
        .collect();
    Ok(OptimizerRun {
        name: rule.name(),
        label,
        iterates,
        errors,
    })
}

/// The four methods on one problem.
#[derive(Debug, Clone)]
pub struct ProblemRuns {
    /// Problem title.
    pub title: String,
    /// Starting point.
    pub start: Vec<f64>,
    /// Minimiser.
    pub minimizer: Vec<f64>,
    /// One run per method.
    pub runs: Vec<OptimizerRun>,
}

/// The ill-conditioned quadratic of the momentum figures: curvatures 1 and 100 along axes
/// rotated by 0.5 rad, minimum at the origin.
pub fn momentum_quadratic() -> Result<Quadratic, OptimError> {
    Quadratic::rotated_2d(1.0, 100.0, 0.5, [0.0, 0.0])
}

/// Starting point on the quadratic: far along the flat direction, a little off the valley floor.
pub const QUADRATIC_START: [f64; 2] = [-2.5, 4.0];
/// The classic starting point on Rosenbrock's valley.
pub const ROSENBROCK_START: [f64; 2] = [-1.2, 1.0];

/// GD and heavy-ball with their optimal tunings, Nesterov with its strongly convex tuning, and
/// Adam, on the κ = 100 quadratic.
pub fn quadratic_runs(steps: usize) -> Result<ProblemRuns, OptimError> {
    let q = momentum_quadratic()?;
    let (mu, l) = (q.mu(), q.l());
    let gd = gd_optimal(mu, l)?;
    let hb = heavy_ball_optimal(mu, l)?;
    let sk = q.condition_number().sqrt();
    let nesterov_gamma = (sk - 1.0) / (sk + 1.0);
    let adam_lr = 0.5;
    let x0 = QUADRATIC_START;
    let runs = vec![
        run(
            &GradientDescent,
            gd.eta,
            format!("GD η={:.4}", gd.eta),
            &q,
            &x0,
            steps,
        )?,
        run(
            &HeavyBall::new(hb.gamma)?,
            hb.eta,
            format!("heavy-ball η={:.4} γ={:.3}", hb.eta, hb.gamma),
            &q,
            &x0,
            steps,
        )?,
        run(
            &Nesterov::new(nesterov_gamma)?,
            1.0 / l,
            format!("Nesterov η={:.3} γ={nesterov_gamma:.3}", 1.0 / l),
            &q,
            &x0,
            steps,
        )?,
        run(
            &Adam::default(),
            adam_lr,
            format!("Adam η={adam_lr}"),
            &q,
            &x0,
            steps,
        )?,
    ];
    Ok(ProblemRuns {
        title: format!("quadratic, κ = {}", q.condition_number()),
        start: x0.to_vec(),
        minimizer: q.minimizer(),
        runs,
    })
}

/// The four methods on Rosenbrock's function (a = 1, b = 100) from (-1.2, 1).
pub fn rosenbrock_runs(steps: usize) -> Result<ProblemRuns, OptimError> {
    let r = Rosenbrock::default();
    let x0 = ROSENBROCK_START;
    // GD's step is capped by the largest curvature on the path (~1300 at the start); momentum
    // 0.9 with the same step moves ten times faster along the flat valley.
    let (eta, gamma, adam_lr) = (1e-3, 0.9, 2e-2);
    let runs = vec![
        run(&GradientDescent, eta, format!("GD η={eta}"), &r, &x0, steps)?,
        run(
            &HeavyBall::new(gamma)?,
            eta,
            format!("heavy-ball η={eta} γ={gamma}"),
            &r,
            &x0,
            steps,
        )?,
        run(
            &Nesterov::new(gamma)?,
            eta,
            format!("Nesterov η={eta} γ={gamma}"),
            &r,
            &x0,
            steps,
        )?,
        run(
            &Adam::default(),
            adam_lr,
            format!("Adam η={adam_lr}"),
            &r,
            &x0,
            steps,
        )?,
    ];
    Ok(ProblemRuns {
        title: "Rosenbrock (a = 1, b = 100)".into(),
        start: x0.to_vec(),
        minimizer: r.minimizer(),
        runs,
    })
}

/// Measured against predicted linear rates on one condition number.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateRow {
    /// Condition number.
    pub kappa: f64,
    /// GD's measured rate with the optimal step.
    pub gd_measured: f64,
    /// `(κ-1)/(κ+1)`.
    pub gd_theory: f64,
    /// Heavy-ball's measured rate with the optimal step and momentum.
    pub heavy_ball_measured: f64,
    /// `(√κ-1)/(√κ+1)`.
    pub heavy_ball_theory: f64,
}

/// Rates on 10-D diagonal quadratics with curvatures log-spaced over `[1, κ]`.
pub fn rate_table(kappas: &[f64]) -> Result<Vec<RateRow>, OptimError> {
    kappas
        .iter()
        .map(|&kappa| {
            let curvatures: Vec<f64> = (0..10).map(|i| kappa.powf(i as f64 / 9.0)).collect();
            let q = Quadratic::diagonal(&curvatures)?;
            let x0 = [1.0; 10];
            let errors = |xs: Vec<Vec<f64>>| -> Vec<f64> {
                xs.iter().map(|x| q.distance_to_minimizer(x)).collect()
            };
            let gd = gd_optimal(q.mu(), q.l())?;
            // Thirty e-foldings of the slowest mode, the last three quarters measured.
            let steps = (30.0 / (1.0 - gd.rate)) as usize;
            let e = errors(iterate(&GradientDescent, gd.eta, &x0, steps, |x| {
                q.gradient(x)
            })?);
            let gd_measured = measured_rate(&e, steps / 4, steps)?;
            let hb = heavy_ball_optimal(q.mu(), q.l())?;
            let steps = (230.0 / -hb.rate.ln()) as usize;
            let e = errors(iterate(
                &HeavyBall::new(hb.gamma)?,
                hb.eta,
                &x0,
                steps,
                |x| q.gradient(x),
            )?);
            let heavy_ball_measured = measured_rate(&e, steps / 4, steps)?;
            Ok(RateRow {
                kappa,
                gd_measured,
                gd_theory: gd.rate,
                heavy_ball_measured,
                heavy_ball_theory: hb.rate,
            })
        })
        .collect()
}

/// The bilinear game `min_x max_y xy` under the four schemes.
#[derive(Debug, Clone)]
pub struct GameStudy {
    /// Step size of every player and scheme.
    pub eta: f64,
    /// Short trajectories for the figure, one per scheme.
    pub trajectories: Vec<(GameScheme, GameTrajectory)>,
    /// Eigenvalues of the game Jacobian (`±i`).
    pub jacobian_eigenvalues: Vec<Complex>,
    /// `√(1+η²)`.
    pub simultaneous_growth_theory: f64,
    /// Spectral radius of the simultaneous iteration matrix `I - ηJ`.
    pub simultaneous_growth_eigen: f64,
    /// Mean measured growth factor per step of simultaneous play.
    pub simultaneous_growth_measured: f64,
    /// Largest per-step deviation of the growth factor from `√(1+η²)`.
    pub simultaneous_growth_max_error: f64,
    /// Steps of the long alternating run.
    pub alternating_steps: usize,
    /// Largest and smallest distance to the equilibrium over the long alternating run.
    pub alternating_radius: (f64, f64),
    /// Steps of the converging runs.
    pub converge_steps: usize,
    /// Extragradient's final distance.
    pub extragradient_final: f64,
    /// Extragradient's measured rate.
    pub extragradient_rate_measured: f64,
    /// `√(1-η²+η⁴)`, the spectral radius of `I - ηJ + η²J²`.
    pub extragradient_rate_theory: f64,
    /// Optimistic play's final distance.
    pub optimistic_final: f64,
}

/// Where every game run starts.
pub const GAME_START: ([f64; 1], [f64; 1]) = ([1.0], [0.5]);

fn iteration_matrix(j: &Matrix, coeffs: &[f64]) -> Result<Matrix, OptimError> {
    // Σ_m coeffs[m] J^m.
    let n = j.rows();
    let mut power = Matrix::identity(n);
    let mut sum = Matrix::zeros(n, n);
    for &c in coeffs {
        let terms: Vec<f64> = sum
            .as_slice()
            .iter()
            .zip(power.as_slice())
            .map(|(s, p)| s + c * p)
            .collect();
        sum = Matrix::from_row_major(n, n, terms)?;
        power = power.matmul(j)?;
    }
    Ok(sum)
}

/// Plays the game: short runs for the figure, a long alternating run, converging runs.
pub fn bilinear_game(
    eta: f64,
    plot_steps: usize,
    long_steps: usize,
    converge_steps: usize,
) -> Result<GameStudy, OptimError> {
    let game = BilinearGame::scalar();
    let (x0, y0) = GAME_START;
    let origin = [0.0];
    let trajectories = GameScheme::ALL
        .iter()
        .map(|&s| Ok((s, play(&game, s, [eta, eta], &x0, &y0, plot_steps)?)))
        .collect::<Result<Vec<_>, OptimError>>()?;

    let j = game.jacobian(&x0, &y0)?;
    let jacobian_eigenvalues = j.eigenvalues()?;
    let simultaneous_growth_eigen = iteration_matrix(&j, &[1.0, -eta])?.spectral_radius()?;
    let extragradient_rate_theory =
        iteration_matrix(&j, &[1.0, -eta, eta * eta])?.spectral_radius()?;

    let growth_theory = (1.0 + eta * eta).sqrt();
    let d = play(&game, GameScheme::Simultaneous, [eta, eta], &x0, &y0, 200)?
        .distances_to(&origin, &origin);
    let factors: Vec<f64> = d.windows(2).map(|w| w[1] / w[0]).collect();
    let growth_max_error = factors
        .iter()
        .map(|f| (f - growth_theory).abs())
        .fold(0.0, f64::max);
    let growth_measured = (d[200] / d[0]).powf(1.0 / 200.0);

    let d = play(
        &game,
        GameScheme::Alternating,
        [eta, eta],
        &x0,
        &y0,
        long_steps,
    )?
    .distances_to(&origin, &origin);
    let alternating_radius = (
        d.iter().copied().fold(0.0, f64::max),
        d.iter().copied().fold(f64::INFINITY, f64::min),
    );

    let d = play(
        &game,
        GameScheme::Extragradient,
        [eta, eta],
        &x0,
        &y0,
        converge_steps,
    )?
    .distances_to(&origin, &origin);
    let extragradient_final = d[converge_steps];
    let extragradient_rate_measured = measured_rate(&d, 0, converge_steps)?;
    let d = play(
        &game,
        GameScheme::Optimistic,
        [eta, eta],
        &x0,
        &y0,
        converge_steps,
    )?
    .distances_to(&origin, &origin);

    Ok(GameStudy {
        eta,
        trajectories,
        jacobian_eigenvalues,
        simultaneous_growth_theory: growth_theory,
        simultaneous_growth_eigen,
        simultaneous_growth_measured: growth_measured,
        simultaneous_growth_max_error: growth_max_error,
        alternating_steps: long_steps,
        alternating_radius,
        converge_steps,
        extragradient_final,
        extragradient_rate_measured,
        extragradient_rate_theory,
        optimistic_final: d[converge_steps],
    })
}

/// Gradient descent against gradient flow, heavy-ball against its ODE.
#[derive(Debug, Clone)]
pub struct FlowStudy {
    /// The step sizes of the gap study.
    pub etas: Vec<f64>,
    /// `max_k |θ_k - θ(kη)|` for each step size.
    pub gaps: Vec<f64>,
    /// Least-squares slope of log gap against log η (1 for Euler).
    pub slope: f64,
    /// Dense gradient-flow solution `(t, θ(t))` for the figure.
    pub flow_dense: (Vec<f64>, Vec<Vec<f64>>),
    /// GD against the flow at a few large step sizes, for the figure.
    pub plotted: Vec<(f64, FlowComparison)>,
    /// Heavy-ball damping `b` of the ODE study.
    pub damping: f64,
    /// Heavy-ball step sizes.
    pub hb_etas: Vec<f64>,
    /// Heavy-ball gaps to the ODE.
    pub hb_gaps: Vec<f64>,
    /// Slope of log gap against log √η.
    pub hb_slope: f64,
    /// The heavy-ball comparisons at the plotted step sizes.
    pub hb_plotted: Vec<(f64, FlowComparison)>,
    /// Dense heavy-ball ODE solution for the figure.
    pub hb_dense: (Vec<f64>, Vec<Vec<f64>>),
}

/// The quadratic of the flow study (curvatures 1 and 10, rotated by 0.4 rad).
pub fn flow_quadratic() -> Result<Quadratic, OptimError> {
    Quadratic::rotated_2d(1.0, 10.0, 0.4, [0.0, 0.0])
}

/// Start of the flow study.
pub const FLOW_START: [f64; 2] = [2.0, 1.5];
/// Horizon of the flow study.
pub const FLOW_HORIZON: f64 = 3.0;
/// Horizon of the heavy-ball ODE study.
pub const HB_HORIZON: f64 = 6.0;

/// Runs the flow studies on `etas` (GD) and `hb_etas` (heavy-ball, damping 2).
pub fn flow_study(etas: &[f64], hb_etas: &[f64]) -> Result<FlowStudy, OptimError> {
    let q = flow_quadratic()?;
    let grad = |x: &[f64]| q.gradient(x);
    let tol = 1e-11;
    let gaps = etas
        .iter()
        .map(|&eta| {
            Ok(gd_vs_gradient_flow(grad, &FLOW_START, eta, FLOW_HORIZON, tol)?.max_distance())
        })
        .collect::<Result<Vec<f64>, OptimError>>()?;
    // Up to the stability limit 2/L = 0.2: the zigzag across the valley grows with η.
    let plotted = [0.18, 0.1, 0.03]
        .iter()
        .map(|&eta| {
            Ok((
                eta,
                gd_vs_gradient_flow(grad, &FLOW_START, eta, FLOW_HORIZON, tol)?,
            ))
        })
        .collect::<Result<Vec<_>, OptimError>>()?;
    let slope = log_log_slope(etas, &gaps)?;
    let dense_t: Vec<f64> = (0..=300).map(|k| FLOW_HORIZON * k as f64 / 300.0).collect();
    let dense = gradient_flow(grad, &FLOW_START, &dense_t, tol)?;

    let damping = 2.0;
    let mut hb_gaps = Vec::new();
    let mut hb_plotted = Vec::new();
    for &eta in hb_etas {
        let c = HeavyBallOde::from_damping(damping, eta)?.compare(
            grad,
            &FLOW_START,
            HB_HORIZON,
            tol,
        )?;
        hb_gaps.push(c.max_distance());
        hb_plotted.push((eta, c));
    }
    hb_plotted.truncate(2);
    let hs: Vec<f64> = hb_etas.iter().map(|e| e.sqrt()).collect();
    let hb_slope = log_log_slope(&hs, &hb_gaps)?;
    let hb_t: Vec<f64> = (0..=300).map(|k| HB_HORIZON * k as f64 / 300.0).collect();
    let ode = HeavyBallOde::from_damping(damping, hb_etas[hb_etas.len() - 1])?;
    let hb_dense = ode.positions(grad, &FLOW_START, &hb_t, tol)?;
    Ok(FlowStudy {
        etas: etas.to_vec(),
        gaps,
        slope,
        flow_dense: (dense_t, dense),
        plotted,
        damping,
        hb_etas: hb_etas.to_vec(),
        hb_gaps,
        hb_slope,
        hb_plotted,
        hb_dense: (hb_t, hb_dense),
    })
}
