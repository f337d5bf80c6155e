//! The example's figures.

use std::path::Path;

use sysdyn_plot::{Color, Dash, Figure, Legend, PlotError, Quiver, Saved, Series, Subplots};

use crate::dataset::{Trajectory, true_field};
use crate::training::TrainLog;

fn column(states: &[[f64; 2]], i: usize) -> Vec<f64> {
    states.iter().map(|y| y[i]).collect()
}

const TRUE_COLOR: Color = Color::BLACK;

fn learned_color() -> Color {
    Color::hex(0xd62728)
}

/// The true and learned trajectories: components against time, and the phase plane.
pub fn trajectories(
    dir: &Path,
    data: &Trajectory,
    learned: &[[f64; 2]],
) -> Result<Saved, PlotError> {
    let mut series = Figure::new("Components against time")
        .x_label("t")
        .y_label("state")
        .legend(Legend::Outside);
    for (i, name) in ["y₀", "y₁"].iter().enumerate() {
        series = series
            .series(
                Series::line(&format!("true {name}"), &data.ts, &column(&data.ys, i))
                    .color(TRUE_COLOR.with_alpha(if i == 0 { 1.0 } else { 0.55 })),
            )
            .series(
                Series::line(&format!("learned {name}"), &data.ts, &column(learned, i))
                    .color(learned_color().with_alpha(if i == 0 { 1.0 } else { 0.55 }))
                    .dash(Dash::Dashed),
            );
    }
    let phase = Figure::new("Phase plane")
        .x_label("y₀")
        .y_label("y₁")
        .series(Series::line("true", &column(&data.ys, 0), &column(&data.ys, 1)).color(TRUE_COLOR))
        .series(
            Series::line("learned", &column(learned, 0), &column(learned, 1))
                .color(learned_color())
                .dash(Dash::Dashed),
        );
    Subplots::new(
        "Spiral dy/dt = y³A: true and learned trajectories from y(0) = (2, 0)",
        1,
        2,
    )
    .panel_size(620.0, 460.0)
    .panel(series)
    .panel(phase)
    .save(dir.join("trajectories"))
}

/// The learned and the true vector fields on a grid, with the trajectories.
pub fn vector_field(
    dir: &Path,
    data: &Trajectory,
    learned: &[[f64; 2]],
    grid: (&[f64], &[f64]),
    learned_field: &[[f64; 2]],
) -> Result<Saved, PlotError> {
    let (xs, ys) = grid;
    let (us, vs): (Vec<f64>, Vec<f64>) = learned_field.iter().map(|v| (v[0], v[1])).unzip();
    let (tu, tv): (Vec<f64>, Vec<f64>) = xs
        .iter()
        .zip(ys)
        .map(|(&x, &y)| {
            let f = true_field(&[x, y]);
            (f[0], f[1])
        })
        .unzip();
    let panel = |title: &str, u: &[f64], v: &[f64], states: &[[f64; 2]], color: Color| {
        Figure::new(title)
            .x_label("y₀")
            .y_label("y₁")
            .quiver(Quiver::new(xs, ys, u, v).normalized())
            .series(Series::line("trajectory", &column(states, 0), &column(states, 1)).color(color))
    };
    Subplots::new("Vector fields (arrow direction; length normalised)", 1, 2)
        .panel_size(560.0, 520.0)
        .panel(panel("Learned f(y)", &us, &vs, learned, learned_color()))
        .panel(panel("True y³A", &tu, &tv, &data.ys, TRUE_COLOR))
        .save(dir.join("vector_field"))
}

/// Loss and function evaluations over training.
pub fn training(dir: &Path, log: &TrainLog) -> Result<Saved, PlotError> {
    let its: Vec<f64> = (1..=log.loss.len()).map(|i| i as f64).collect();
    let as_f64 = |v: &[usize]| v.iter().map(|&n| n as f64).collect::<Vec<f64>>();
    let loss = Figure::new("Mini-batch loss")
        .x_label("iteration")
        .y_label("MSE over the windows")
        .y_log()
        .series(Series::line("loss", &its, &log.loss).width(1.0));
    let nfe = Figure::new("Function evaluations per step")
        .x_label("iteration")
        .y_label("NFE")
        .series(Series::line("forward", &its, &as_f64(&log.nfe_forward)).width(1.0))
        .series(
            Series::line("backward (VJPs)", &its, &as_f64(&log.nfe_backward))
                .width(1.0)
                .dash(Dash::Dashed),
        );
    Subplots::new("Training", 1, 2)
        .panel_size(560.0, 420.0)
        .panel(loss)
        .panel(nfe)
        .save(dir.join("training"))
}
