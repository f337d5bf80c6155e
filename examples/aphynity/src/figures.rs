//! The example's figures: one test trajectory per variant, and `‖F_a‖` during training.

use std::path::Path;

use sysdyn_plot::{Color, Figure, PlotError, Saved, Series};

use crate::VariantSummary;
use crate::systems::System;

const COLORS: [u32; 5] = [0xd62728, 0x1f77b4, 0x2ca02c, 0x9467bd, 0x7f7f7f];

/// The observable (θ, or the field at the centre) of the first test trajectory, truth and every
/// variant's forecast from its initial state (first seed).
pub fn trajectories(
    dir: &Path,
    system: System,
    times: &[f64],
    truth: &[f64],
    variants: &[VariantSummary],
) -> Result<Saved, PlotError> {
    let what = match system {
        System::Pendulum | System::PendulumFrictionless => "θ",
        System::Rd => "u at the centre",
        System::Wave => "w at the centre",
    };
    let mut fig = Figure::new(&format!(
        "{}: a test trajectory and the forecasts (first seed)",
        system.name()
    ))
    .x_label("t")
    .y_label(what)
    .series(Series::line("data", times, truth).color(Color::hex(0x000000)));
    for (k, v) in variants.iter().enumerate() {
        if let Some(r) = v.runs.first()
            && r.observable.len() == times.len()
        {
            fig = fig.series(
                Series::line(v.variant, times, &r.observable).color(Color::hex(COLORS[k % 5])),
            );
        }
    }
    fig.save(dir.join(format!("{}_trajectories", system.name())))
}

/// The mean `‖F_a(X)‖` on the training batch during training (first seed), for the variants
/// with a network.
pub fn fa_norm(
    dir: &Path,
    system: System,
    variants: &[VariantSummary],
) -> Result<Saved, PlotError> {
    let mut fig = Figure::new(&format!(
        "{}: ‖F_a‖ during training (first seed)",
        system.name()
    ))
    .x_label("batch")
    .y_label("sqrt(mean ‖F_a(X)‖²)")
    .y_log();
    for (k, v) in variants.iter().enumerate() {
        let Some(r) = v.runs.first() else { continue };
        if r.history.is_empty() || r.history.iter().all(|h| h.1 == 0.0) {
            continue;
        }
        let xs: Vec<f64> = (1..=r.history.len()).map(|i| i as f64).collect();
        let ys: Vec<f64> = r.history.iter().map(|h| h.1.sqrt()).collect();
        fig = fig.series(Series::line(v.variant, &xs, &ys).color(Color::hex(COLORS[k % 5])));
    }
    fig.save(dir.join(format!("{}_fa_norm", system.name())))
}
