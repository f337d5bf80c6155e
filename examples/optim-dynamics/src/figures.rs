//! The figures, each written as SVG and PNG.

use std::path::Path;

use sysdyn_optim::GameScheme;
use sysdyn_optim::problems::{Objective, Quadratic, Rosenbrock};
use sysdyn_plot::{
    Color, Dash, Figure, Heatmap, Legend, Marker, PlotError, Saved, Series, Subplots, linspace,
    palette,
};

use crate::experiments::{self, FlowStudy, GameStudy, ProblemRuns};
use crate::training::TrainingRun;

/// The points of `(xs, ys)` with a positive `y` (a log axis cannot show the others: an error
/// that reached exactly zero, say).
fn positive(xs: &[f64], ys: &[f64]) -> (Vec<f64>, Vec<f64>) {
    xs.iter()
        .zip(ys)
        .filter(|(_, y)| **y > 0.0)
        .map(|(x, y)| (*x, *y))
        .unzip()
}

fn steps_axis(n: usize) -> Vec<f64> {
    (0..n).map(|k| k as f64).collect()
}

fn error_panel(p: &ProblemRuns) -> Figure {
    let mut fig = Figure::new(&p.title)
        .x_label("iteration k")
        .y_label("distance to the minimiser")
        .y_log()
        .legend(Legend::LowerLeft);
    for (i, run) in p.runs.iter().enumerate() {
        let (ks, es) = positive(&steps_axis(run.errors.len()), &run.errors);
        fig = fig.series(Series::line(&run.label, &ks, &es).color(palette(i)));
    }
    fig
}

/// Error against iteration for GD, heavy-ball, Nesterov and Adam on both problems.
pub fn momentum_error(
    dir: &Path,
    quad: &ProblemRuns,
    rosen: &ProblemRuns,
) -> Result<Saved, PlotError> {
    Subplots::new("Momentum: error against iteration", 1, 2)
        .panel(error_panel(quad))
        .panel(error_panel(rosen))
        .save(dir.join("momentum_error"))
}

fn contour_panel(
    p: &ProblemRuns,
    heatmap: Heatmap,
    (x_lo, x_hi): (f64, f64),
    (y_lo, y_hi): (f64, f64),
    max_points: usize,
) -> Figure {
    let mut fig = Figure::new(&p.title)
        .x_label("θ₁")
        .y_label("θ₂")
        .x_range(x_lo, x_hi)
        .y_range(y_lo, y_hi)
        .legend(Legend::Auto)
        .heatmap(heatmap);
    for (i, run) in p.runs.iter().enumerate() {
        let n = run.iterates.len().min(max_points);
        let xs: Vec<f64> = run.iterates[..n].iter().map(|x| x[0]).collect();
        let ys: Vec<f64> = run.iterates[..n].iter().map(|x| x[1]).collect();
        fig = fig.series(
            Series::line(&run.label, &xs, &ys)
                .color(palette(i))
                .width(1.3),
        );
    }
    fig.series(Series::scatter("start", &p.start[..1], &p.start[1..2]).marker(Marker::Square))
        .series(
            Series::scatter("minimum", &p.minimizer[..1], &p.minimizer[1..2])
                .marker(Marker::Plus)
                .marker_size(9.0),
        )
}

/// The iterates over the level sets of both problems.
pub fn momentum_contour(
    dir: &Path,
    quad: &ProblemRuns,
    rosen: &ProblemRuns,
    q: &Quadratic,
) -> Result<Saved, PlotError> {
    let quad_map = Heatmap::from_fn(
        &linspace(-5.0, 5.0, 121),
        &linspace(-5.0, 5.0, 121),
        |x, y| q.value(&[x, y]) + 1e-2,
    )
    .log_color()
    .contours(14)
    .label("L(θ)");
    let r = Rosenbrock::default();
    let rosen_map = Heatmap::from_fn(
        &linspace(-2.0, 2.0, 161),
        &linspace(-1.0, 3.0, 161),
        |x, y| r.value(&[x, y]) + 1e-3,
    )
    .log_color()
    .contours(14)
    .label("L(θ)");
    Subplots::new("Momentum: iterates over the level sets", 1, 2)
        .panel(contour_panel(quad, quad_map, (-5.0, 5.0), (-5.0, 5.0), 400))
        .panel(contour_panel(
            rosen,
            rosen_map,
            (-2.0, 2.0),
            (-1.0, 3.0),
            usize::MAX,
        ))
        .panel_size(660.0, 540.0)
        .save(dir.join("momentum_contour"))
}

/// The four schemes on `min_x max_y xy`: trajectories in the plane and distances over time.
pub fn bilinear_game(dir: &Path, study: &GameStudy) -> Result<Saved, PlotError> {
    let mut plane = Figure::new(&format!("min_x max_y xy, η = {}", study.eta))
        .x_label("x (minimiser)")
        .y_label("y (maximiser)")
        .legend(Legend::Outside);
    let mut dist = Figure::new("distance to the equilibrium")
        .x_label("step k")
        .y_label("|(x_k, y_k)|")
        .y_log()
        .legend(Legend::Outside);
    for (i, (scheme, t)) in study.trajectories.iter().enumerate() {
        let xs: Vec<f64> = t.xs.iter().map(|x| x[0]).collect();
        let ys: Vec<f64> = t.ys.iter().map(|y| y[0]).collect();
        plane = plane.series(Series::line(scheme.name(), &xs, &ys).color(palette(i)));
        let d = t.distances_to(&[0.0], &[0.0]);
        let (ks, ds) = positive(&steps_axis(d.len()), &d);
        dist = dist.series(Series::line(scheme.name(), &ks, &ds).color(palette(i)));
    }
    let (x0, y0) = experiments::GAME_START;
    let d0 = (x0[0] * x0[0] + y0[0] * y0[0]).sqrt();
    let n = study.trajectories[0].1.xs.len();
    let ks = steps_axis(n);
    let grow: Vec<f64> = ks
        .iter()
        .map(|k| d0 * study.simultaneous_growth_theory.powf(*k))
        .collect();
    let shrink: Vec<f64> = ks
        .iter()
        .map(|k| d0 * study.extragradient_rate_theory.powf(*k))
        .collect();
    dist = dist
        .series(
            Series::line("√(1+η²)^k", &ks, &grow)
                .dash(Dash::Dashed)
                .color(palette(0)),
        )
        .series(
            Series::line("√(1−η²+η⁴)^k", &ks, &shrink)
                .dash(Dash::Dashed)
                .color(palette(2)),
        );
    plane = plane
        .series(Series::scatter("start", &x0, &y0).marker(Marker::Square))
        .series(
            Series::scatter("equilibrium", &[0.0], &[0.0])
                .marker(Marker::Plus)
                .marker_size(9.0),
        );
    debug_assert_eq!(study.trajectories[0].0, GameScheme::Simultaneous);
    Subplots::new("Bilinear game: four ways to play", 1, 2)
        .panel(plane)
        .panel(dist)
        .panel_size(600.0, 460.0)
        .save(dir.join("bilinear_game"))
}

/// Gradient descent against gradient flow, and heavy-ball against its ODE.
pub fn flow_vs_gd(dir: &Path, study: &FlowStudy) -> Result<Saved, PlotError> {
    let (_, ys) = &study.flow_dense;
    let (f1, f2): (Vec<f64>, Vec<f64>) = ys.iter().map(|y| (y[0], y[1])).unzip();
    let mut traj = Figure::new("GD iterates against gradient flow")
        .x_label("θ₁")
        .y_label("θ₂")
        .legend(Legend::LowerRight)
        .line("gradient flow θ' = −∇L", &f1, &f2);
    let markers = [Marker::Circle, Marker::Square, Marker::Triangle];
    for (i, (eta, c)) in study.plotted.iter().enumerate() {
        let (g1, g2): (Vec<f64>, Vec<f64>) = c.discrete.iter().map(|x| (x[0], x[1])).unzip();
        traj = traj.series(
            Series::line(&format!("GD η = {eta}"), &g1, &g2)
                .marker(markers[i % markers.len()])
                .marker_size(3.5)
                .width(0.8)
                .color(palette(i + 1)),
        );
    }

    let hs: Vec<f64> = study.hb_etas.iter().map(|e| e.sqrt()).collect();
    let x_all: Vec<f64> = study.etas.iter().chain(&hs).copied().collect();
    let lo = x_all.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = x_all.iter().copied().fold(0.0, f64::max);
    let anchor = study.gaps[0] / study.etas[0];
    let gap = Figure::new("largest gap on [0, T]")
        .x_label("step η (GD), √η (heavy-ball)")
        .y_label("max_k |θ_k − θ(t_k)|")
        .x_log()
        .y_log()
        .legend(Legend::UpperLeft)
        .series(
            Series::line(
                &format!("GD vs flow (slope {:.3})", study.slope),
                &study.etas,
                &study.gaps,
            )
            .marker(Marker::Circle),
        )
        .series(
            Series::line(
                &format!("heavy-ball vs ODE (slope {:.3})", study.hb_slope),
                &hs,
                &study.hb_gaps,
            )
            .marker(Marker::Square),
        )
        .series(
            Series::line("slope 1", &[lo, hi], &[anchor * lo, anchor * hi])
                .dash(Dash::Dashed)
                .color(Color::hex(0x888888)),
        );

    let (ts, ys) = &study.hb_dense;
    let first: Vec<f64> = ys.iter().map(|y| y[0]).collect();
    let mut hb = Figure::new(&format!(
        "heavy-ball against Θ'' + {}Θ' + ∇L = 0",
        study.damping
    ))
    .x_label("time t = k√η")
    .y_label("θ₁")
    .line("heavy-ball ODE", ts, &first);
    for (i, (eta, c)) in study.hb_plotted.iter().enumerate() {
        let th: Vec<f64> = c.discrete.iter().map(|x| x[0]).collect();
        hb = hb.series(
            Series::line(&format!("heavy-ball η = {eta}"), &c.times, &th)
                .marker(markers[i % markers.len()])
                .marker_size(3.0)
                .width(0.8)
                .color(palette(i + 1)),
        );
    }
    Subplots::new("Continuous-time limits", 1, 3)
        .panel(traj)
        .panel(gap)
        .panel(hb)
        .panel_size(520.0, 420.0)
        .save(dir.join("flow_vs_gd"))
}

/// Full-batch loss against step for each optimizer training the MLP.
pub fn training_loss(dir: &Path, runs: &[TrainingRun], device: &str) -> Result<Saved, PlotError> {
    let mut fig = Figure::new(&format!("Training a tanh MLP on {device}"))
        .x_label("step")
        .y_label("full-batch MSE")
        .y_log();
    for (i, run) in runs.iter().enumerate() {
        let (ks, ls) = positive(&run.steps, &run.losses);
        fig = fig.series(
            Series::line(&format!("{} η={}", run.name, run.lr), &ks, &ls).color(palette(i)),
        );
    }
    fig.save(dir.join("training_loss"))
}
