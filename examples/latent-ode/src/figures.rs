//! The example's figures.

use std::path::Path;

use sysdyn_plot::{Color, Dash, Figure, Legend, PlotError, Saved, Series, Subplots};

use crate::dataset::{Spiral, WINDOW, grid};
use crate::training::TrainLog;

fn column(points: &[[f64; 2]], i: usize) -> Vec<f64> {
    points.iter().map(|p| p[i]).collect()
}

fn latent_color() -> Color {
    Color::hex(0xd62728)
}

fn baseline_color() -> Color {
    Color::hex(0x1f77b4)
}

/// Phase portraits of a few test spirals: truth, observations, and both models'
/// reconstruction (solid, observation window) and extrapolation (dashed).
pub fn spirals(
    dir: &Path,
    test: &[Spiral],
    latent: &[Vec<[f64; 2]>],
    baseline: &[Vec<[f64; 2]>],
    shown: &[usize],
) -> Result<Saved, PlotError> {
    let mut plot = Subplots::new(
        "Test spirals: truth (black), observations (dots), latent ODE (red), GRU baseline (blue); \
         solid = observation window, dashed = extrapolation",
        1,
        shown.len(),
    )
    .panel_size(430.0, 430.0);
    for &i in shown {
        let s = &test[i];
        let (ox, oy): (Vec<f64>, Vec<f64>) = s
            .noisy
            .iter()
            .zip(&s.observed)
            .filter(|(_, o)| **o)
            .map(|(p, _)| (p[0], p[1]))
            .unzip();
        let mut figure = Figure::new(&format!(
            "spiral {i} ({})",
            if s.clockwise {
                "clockwise"
            } else {
                "counter-clockwise"
            }
        ))
        .x_label("x₀")
        .y_label("x₁")
        .legend(Legend::Hidden)
        .series(
            Series::line("truth", &column(&s.truth, 0), &column(&s.truth, 1))
                .color(Color::BLACK)
                .width(1.0),
        )
        .series(
            Series::scatter("observed", &ox, &oy)
                .color(Color::BLACK.with_alpha(0.6))
                .marker_size(4.0),
        );
        for (name, pred, color) in [
            ("latent ODE", &latent[i], latent_color()),
            ("GRU", &baseline[i], baseline_color()),
        ] {
            let window = &pred[1..WINDOW];
            let beyond = &pred[WINDOW - 1..];
            figure = figure
                .series(Series::line(name, &column(window, 0), &column(window, 1)).color(color))
                .series(
                    Series::line("", &column(beyond, 0), &column(beyond, 1))
                        .color(color)
                        .dash(Dash::Dashed),
                );
        }
        plot = plot.panel(figure);
    }
    plot.save(dir.join("spirals"))
}

/// RMSE over the test spirals against time, both models, with the end of the window marked.
pub fn error_over_time(dir: &Path, latent: &[f64], baseline: &[f64]) -> Result<Saved, PlotError> {
    let ts = grid();
    let top = latent[1..]
        .iter()
        .chain(&baseline[1..])
        .copied()
        .filter(|v| v.is_finite())
        .fold(0.0, f64::max);
    let edge = ts[WINDOW - 1];
    Figure::new("RMSE over the held-out spirals at each time (window ends at the grey line)")
        .x_label("t")
        .y_label("RMSE")
        .legend(Legend::Outside)
        .series(Series::line("latent ODE", &ts[1..], &latent[1..]).color(latent_color()))
        .series(Series::line("GRU baseline", &ts[1..], &baseline[1..]).color(baseline_color()))
        .series(
            Series::line("", &[edge, edge], &[0.0, top])
                .color(Color::BLACK.with_alpha(0.4))
                .dash(Dash::Dashed),
        )
        .size(820.0, 460.0)
        .save(dir.join("rmse_over_time"))
}

/// The training losses of both models (from the runs' metrics, so a loaded or resumed run draws
/// the same curves).
pub fn training(dir: &Path, latent: &TrainLog, baseline: &TrainLog) -> Result<Saved, PlotError> {
    let its = |log: &TrainLog| log.step.iter().map(|&s| s as f64).collect::<Vec<f64>>();
    let latent_panel = Figure::new("Latent ODE: −ELBO per observation")
        .x_label("iteration")
        .y_label("−ELBO / observation")
        .series(
            Series::line("latent ODE", &its(latent), &latent.loss)
                .color(latent_color())
                .width(1.0),
        );
    let baseline_panel = Figure::new("GRU baseline: one-step MSE")
        .x_label("iteration")
        .y_label("MSE")
        .y_log()
        .series(
            Series::line("GRU", &its(baseline), &baseline.loss)
                .color(baseline_color())
                .width(1.0),
        );
    Subplots::new("Training", 1, 2)
        .panel_size(560.0, 420.0)
        .panel(latent_panel)
        .panel(baseline_panel)
        .save(dir.join("training"))
}
