//! SINDy on Lorenz-63 and Lotka–Volterra: clean data with finite differences, 1 % noise with
//! smoothed finite differences over three noise seeds, and a rollout of the clean model twice
//! (Lorenz) or five times (Lotka–Volterra) past its data.

use std::path::Path;
use std::time::Instant;

use sysdyn_core::linalg::Matrix;
use sysdyn_physics::discovery::{
    Differentiator, FittedSindy, Optimizer, Sindy, Stlsq, Trajectory, add_noise,
};
use sysdyn_physics::simulators::lorenz::Lorenz63;
use sysdyn_physics::simulators::lotka_volterra::LotkaVolterra;
use sysdyn_physics::simulators::reference_trajectory;
use sysdyn_plot::{Color, Dash, Figure, Legend, Series};

use crate::{CaseResult, ExampleError, Identification, Options, Rollout, relative_l2, say};

/// The active terms of a fitted model as `(equation, term, coefficient)`.
fn active(model: &FittedSindy) -> Vec<(String, String, f64)> {
    let c = model.coefficients();
    let mut out = Vec::new();
    for (k, state) in model.state_names().iter().enumerate() {
        for (j, name) in model.feature_names().iter().enumerate() {
            if c[(k, j)] != 0.0 {
                out.push((format!("{state}'"), name.clone(), c[(k, j)]));
            }
        }
    }
    out
}

fn names(v: &[&str]) -> Option<Vec<String>> {
    Some(v.iter().map(|s| s.to_string()).collect())
}

fn times(n: usize, dt: f64) -> Vec<f64> {
    (0..n).map(|i| i as f64 * dt).collect()
}

fn column(m: &Matrix, j: usize) -> Vec<f64> {
    (0..m.rows()).map(|i| m[(i, j)]).collect()
}

/// One SINDy system: its model, data, true terms and the smoothing used with noise.
struct System<'a> {
    label: &'static str,
    states: &'a [&'a str],
    truth: &'a [(&'a str, &'a str, f64)],
    true_equations: Vec<String>,
    optimizer: Optimizer,
    smoothing_window: usize,
}

fn identify(
    options: &Options,
    system: &System<'_>,
    x: &Matrix,
    t: &[f64],
) -> Result<(FittedSindy, Identification, Vec<Identification>), ExampleError> {
    let clean = Sindy {
        state_names: names(system.states),
        optimizer: system.optimizer.clone(),
        ..Sindy::default()
    }
    .fit(&[Trajectory::new(x, t)])?;
    let clean_id = Identification::score(None, clean.equations(4), &active(&clean), system.truth);
    say!(
        options,
        "[equation-discovery] SINDy {} clean: mean error {:.3}%\n  {}",
        system.label,
        100.0 * clean_id.mean_relative_error,
        clean.equations(4).join("\n  ")
    );
    let mut noisy = Vec::new();
    for seed in options.noise_seeds() {
        let data = add_noise(x, 0.01, seed)?;
        let model = Sindy {
            state_names: names(system.states),
            differentiator: Differentiator::SmoothedFiniteDifference {
                window: system.smoothing_window,
                order: 3,
            },
            optimizer: system.optimizer.clone(),
            ..Sindy::default()
        }
        .fit(&[Trajectory::new(&data, t)])?;
        let id = Identification::score(
            Some(seed),
            model.equations(4),
            &active(&model),
            system.truth,
        );
        say!(
            options,
            "[equation-discovery] SINDy {} 1% noise (seed {seed}): pattern {}, mean error {:.3}%",
            system.label,
            if id.pattern_correct {
                "correct"
            } else {
                "wrong"
            },
            100.0 * id.mean_relative_error
        );
        noisy.push(id);
    }
    Ok((clean, clean_id, noisy))
}

/// SINDy on Lorenz-63 from `(−8, 8, 27)`, 10 time units at `dt = 0.002` (5 with `--quick`).
pub fn lorenz(options: &Options, dir: &Path) -> Result<(CaseResult, Vec<String>), ExampleError> {
    let start = Instant::now();
    let dt = 0.002;
    let n = if options.quick { 2501 } else { 5001 };
    let t = times(n, dt);
    let y0 = [-8.0, 8.0, 27.0];
    let x = Matrix::from_rows(&reference_trajectory(Lorenz63::default(), &y0, &t)?)?;
    let truth = [
        ("x'", "x", -10.0),
        ("x'", "y", 10.0),
        ("y'", "x", 28.0),
        ("y'", "y", -1.0),
        ("y'", "x z", -1.0),
        ("z'", "z", -8.0 / 3.0),
        ("z'", "x y", 1.0),
    ];
    let system = System {
        label: "Lorenz-63",
        states: &["x", "y", "z"],
        truth: &truth,
        true_equations: vec![
            "x' = -10 x + 10 y".into(),
            "y' = 28 x - y - x z".into(),
            "z' = -8/3 z + x y".into(),
        ],
        optimizer: Optimizer::default(),
        smoothing_window: 31,
    };
    let (model, clean, noisy) = identify(options, &system, &x, &t)?;
    // Rollout: twice the data's horizon from the same state; chaos separates the two
    // trajectories after a few Lyapunov times (λ ≈ 0.9), so the attractor is the comparison.
    let horizon = 2.0 * t[n - 1];
    let long = times((horizon / 0.01).round() as usize + 1, 0.01);
    let truth_long = Matrix::from_rows(&reference_trajectory(Lorenz63::default(), &y0, &long)?)?;
    let sim = model.simulate(&y0, &long, 1e-10, 1e-10)?;
    let at = |time: f64| ((time / 0.01).round() as usize).min(long.len() - 1);
    let err_at = |k: usize| {
        relative_l2(
            &[sim[(k, 0)], sim[(k, 1)], sim[(k, 2)]],
            &[truth_long[(k, 0)], truth_long[(k, 1)], truth_long[(k, 2)]],
        )
    };
    let rollout = Rollout {
        description: format!(
            "identified model (clean data) from (-8, 8, 27) to t = {horizon}, Dopri5 rtol 1e-10"
        ),
        data_horizon: t[n - 1],
        horizon,
        error_at_data_horizon: err_at(at(t[n - 1])),
        error_at_horizon: err_at(long.len() - 1),
    };
    let fig = Figure::new("Lorenz-63: SINDy model (clean data) vs truth")
        .x_label("t")
        .y_label("x")
        .legend(Legend::Outside)
        .size(1000.0, 420.0)
        .series(Series::line("truth", &long, &column(&truth_long, 0)).color(Color::BLACK))
        .series(
            Series::line("identified", &long, &column(&sim, 0))
                .color(Color::hex(0xd62728))
                .dash(Dash::Dashed),
        );
    let saved = fig.save(dir.join("lorenz_rollout"))?;
    let attractor = Figure::new("Lorenz-63 attractor: truth and identified model")
        .x_label("x")
        .y_label("z")
        .legend(Legend::Outside)
        .size(900.0, 600.0)
        .series(
            Series::line("truth", &column(&truth_long, 0), &column(&truth_long, 2))
                .color(Color::BLACK)
                .width(0.8),
        )
        .series(
            Series::line("identified", &column(&sim, 0), &column(&sim, 2))
                .color(Color::hex(0xd62728))
                .width(0.8)
                .opacity(0.7),
        );
    let saved2 = attractor.save(dir.join("lorenz_attractor"))?;
    let mut figures = saved.names_relative_to(dir);
    figures.extend(saved2.names_relative_to(dir));
    let case = CaseResult {
        system: "Lorenz-63",
        method: "SINDy (polynomials ≤ 2, STLSQ 0.1; noise: smoothed FD window 31)",
        true_equations: system.true_equations,
        clean,
        noisy,
        noisy_mean_error: None,
        noisy_max_error: None,
        noisy_pattern_correct: 0,
        published: None,
        rollout,
        seconds: start.elapsed().as_secs_f64(),
    };
    Ok((case.with_noise_statistics(), figures))
}

/// SINDy on Lotka–Volterra `x' = x − 0.5 x y`, `y' = 0.2 x y − 0.8 y` from `(2, 1)`, 20 time
/// units at `dt = 0.004`.
pub fn lotka_volterra(
    options: &Options,
    dir: &Path,
) -> Result<(CaseResult, Vec<String>), ExampleError> {
    let start = Instant::now();
    let dt = 0.004;
    let n = if options.quick { 2501 } else { 5001 };
    let t = times(n, dt);
    let y0 = [2.0, 1.0];
    let lv = LotkaVolterra::new(1.0, 0.5, 0.8, 0.2)?;
    let x = Matrix::from_rows(&reference_trajectory(lv, &y0, &t)?)?;
    let truth = [
        ("x'", "x", 1.0),
        ("x'", "x y", -0.5),
        ("y'", "y", -0.8),
        ("y'", "x y", 0.2),
    ];
    let system = System {
        label: "Lotka-Volterra",
        states: &["x", "y"],
        truth: &truth,
        true_equations: vec!["x' = x - 0.5 x y".into(), "y' = -0.8 y + 0.2 x y".into()],
        optimizer: Optimizer::Stlsq(Stlsq {
            threshold: 0.05,
            ..Stlsq::default()
        }),
        smoothing_window: 41,
    };
    let (model, clean, noisy) = identify(options, &system, &x, &t)?;
    let horizon = 5.0 * t[n - 1];
    let long = times((horizon / 0.02).round() as usize + 1, 0.02);
    let truth_long = Matrix::from_rows(&reference_trajectory(lv, &y0, &long)?)?;
    let sim = model.simulate(&y0, &long, 1e-10, 1e-10)?;
    let at = ((t[n - 1] / 0.02).round() as usize).min(long.len() - 1);
    let err_at = |k: usize| {
        relative_l2(
            &[sim[(k, 0)], sim[(k, 1)]],
            &[truth_long[(k, 0)], truth_long[(k, 1)]],
        )
    };
    let rollout = Rollout {
        description: format!("identified model (clean data) from (2, 1) to t = {horizon}"),
        data_horizon: t[n - 1],
        horizon,
        error_at_data_horizon: err_at(at),
        error_at_horizon: err_at(long.len() - 1),
    };
    let mut fig = Figure::new("Lotka–Volterra: SINDy model (clean data) vs truth, 5× the data")
        .x_label("t")
        .y_label("population")
        .legend(Legend::Outside)
        .size(1000.0, 420.0);
    for (j, name) in ["prey x", "predator y"].iter().enumerate() {
        fig = fig
            .series(
                Series::line(&format!("{name} truth"), &long, &column(&truth_long, j))
                    .color(sysdyn_plot::palette(j)),
            )
            .series(
                Series::line(&format!("{name} identified"), &long, &column(&sim, j))
                    .color(Color::BLACK)
                    .dash(Dash::Dashed)
                    .width(1.0),
            );
    }
    let figures = fig
        .save(dir.join("lotka_volterra_rollout"))?
        .names_relative_to(dir);
    let case = CaseResult {
        system: "Lotka-Volterra",
        method: "SINDy (polynomials ≤ 2, STLSQ 0.05; noise: smoothed FD window 41)",
        true_equations: system.true_equations,
        clean,
        noisy,
        noisy_mean_error: None,
        noisy_max_error: None,
        noisy_pattern_correct: 0,
        published: None,
        rollout,
        seconds: start.elapsed().as_secs_f64(),
    };
    Ok((case.with_noise_statistics(), figures))
}
