//! The example's figures.

use std::path::Path;

use sysdyn_plot::{
    Color, Colormap, Dash, Figure, Legend, Marker, PlotError, Quiver, Saved, Series, Subplots,
    linspace,
};

use crate::batched::BatchedResult;
use crate::experiments::{MethodResult, Reference, WorkCurve};
use crate::problem::{MODEL, Y0, equilibrium, field};

fn column(states: &[[f64; 2]], i: usize) -> Vec<f64> {
    states.iter().map(|y| y[i]).collect()
}

/// The batched family of orbits and the W1 orbit in the (prey, predator) plane, over the
/// direction field.
pub fn phase_portrait(
    dir: &Path,
    batched: &BatchedResult,
    reference: &Reference,
) -> Result<Saved, PlotError> {
    let all = batched.trajectories.iter().flatten().chain(&reference.ys);
    let (x_max, y_max) = all.fold((0.0f64, 0.0f64), |(a, b), y| (a.max(y[0]), b.max(y[1])));
    let field_arrows = Quiver::from_fn(
        &linspace(0.1, 1.05 * x_max, 24),
        &linspace(0.1, 1.05 * y_max, 18),
        |x, y| {
            let d = field(0.0, &[x, y]);
            (d[0], d[1])
        },
    )
    .normalized()
    .color(Color::hex(0xb0b0b0));
    let mut fig = Figure::new("Lotka–Volterra phase portrait")
        .x_label("prey x")
        .y_label("predator y")
        .quiver(field_arrows)
        .legend(Legend::Outside)
        .size(1000.0, 600.0);
    let n = batched.trajectories.len();
    for (k, orbit) in batched.trajectories.iter().enumerate() {
        let shade = if n > 1 {
            0.9 * k as f64 / (n - 1) as f64
        } else {
            0.0
        };
        let name = if k == 0 {
            format!("{n} orbits, batched dopri5 on {}", batched.device)
        } else {
            String::new()
        };
        fig = fig.series(
            Series::line(&name, &column(orbit, 0), &column(orbit, 1))
                .color(Colormap::Viridis.at(shade))
                .width(1.2),
        );
    }
    let starts: Vec<[f64; 2]> = batched.trajectories.iter().map(|o| o[0]).collect();
    let [xe, ye] = equilibrium();
    fig.series(
        Series::line(
            "W1 orbit from (1, 1), DOP853 reference",
            &column(&reference.ys, 0),
            &column(&reference.ys, 1),
        )
        .color(Color::BLACK)
        .width(2.2),
    )
    .series(
        Series::scatter("initial states", &column(&starts, 0), &column(&starts, 1))
            .color(Color::hex(0xd62728))
            .marker_size(5.0),
    )
    .series(
        Series::scatter(&format!("equilibrium ({xe}, {ye})"), &[xe], &[ye])
            .marker(Marker::Plus)
            .marker_size(10.0)
            .color(Color::BLACK),
    )
    .save(dir.join("phase_portrait"))
}

/// Populations against time, and the drift of the conserved quantity for each method.
pub fn time_series(
    dir: &Path,
    reference: &Reference,
    runs: &[(MethodResult, Vec<[f64; 2]>)],
) -> Result<Saved, PlotError> {
    let ts = &reference.ts;
    let mut populations = Figure::new("Populations (W1)")
        .x_label("time t")
        .y_label("population")
        .line("prey x (reference)", ts, &column(&reference.ys, 0))
        .line("predator y (reference)", ts, &column(&reference.ys, 1));
    if let Some((euler, states)) = runs.iter().find(|(r, _)| r.method == "euler") {
        let h = match euler.step {
            crate::experiments::StepPolicy::Fixed { h } => h,
            crate::experiments::StepPolicy::Adaptive { rtol, .. } => rtol,
        };
        populations = populations.series(
            Series::line(&format!("prey x, Euler h = {h}"), ts, &column(states, 0))
                .dash(Dash::Dashed)
                .color(Color::hex(0x1f77b4).with_alpha(0.7)),
        );
    }
    let v0 = MODEL.invariant(&Y0);
    let mut drift = Figure::new("Drift of the conserved quantity V")
        .x_label("time t")
        .y_label("|V(y(t)) − V(y₀)|")
        .y_log()
        .legend(Legend::Outside);
    for (result, states) in runs {
        // V(y0) − V(y0) is exactly zero at t = 0 (and may be for a few later points): a log axis
        // cannot show it, so those points are left out rather than clamped.
        let (xs, ys): (Vec<f64>, Vec<f64>) = ts
            .iter()
            .zip(states)
            .map(|(&t, y)| (t, (MODEL.invariant(y) - v0).abs()))
            .filter(|&(_, v)| v > 0.0)
            .unzip();
        if !xs.is_empty() {
            drift = drift.series(Series::line(result.method, &xs, &ys).width(1.3));
        }
    }
    Subplots::new("Lotka–Volterra over t ∈ [0, 15]", 1, 2)
        .panel_size(600.0, 420.0)
        .panel(populations)
        .panel(drift)
        .save(dir.join("time_series"))
}

/// Error of the final state against the number of vector-field evaluations.
pub fn error_vs_nfe(dir: &Path, curves: &[WorkCurve]) -> Result<Saved, PlotError> {
    let markers = [
        Marker::Circle,
        Marker::Square,
        Marker::Triangle,
        Marker::Diamond,
    ];
    let mut fig = Figure::new("Work–precision on Lotka–Volterra W1")
        .x_label("vector-field evaluations (NFE)")
        .y_label("max-norm error of y(15)")
        .x_log()
        .y_log();
    for (k, curve) in curves.iter().enumerate() {
        // Errors at round-off level can be exactly zero: not showable on a log axis.
        let (xs, ys): (Vec<f64>, Vec<f64>) = curve
            .points
            .iter()
            .filter(|p| p.error > 0.0)
            .map(|p| (p.nfe as f64, p.error))
            .unzip();
        if xs.is_empty() {
            continue;
        }
        let mut series = Series::line(curve.method, &xs, &ys).marker(markers[k % markers.len()]);
        if curve.points.iter().any(|p| p.h.is_some()) {
            series = series.dash(Dash::Dashed).color(Color::GREY);
        }
        fig = fig.series(series);
    }
    fig.save(dir.join("error_vs_nfe"))
}
