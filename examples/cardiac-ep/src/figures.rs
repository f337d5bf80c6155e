//! The example's figures: the test MSE along the forecast, the potential at the horizons, and
//! the training loss.

use std::path::Path;

use sysdyn_plot::{Color, Figure, PlotError, Saved, Series, image_mosaic};

use crate::data::SIDE;
use crate::{HORIZONS_MS, VariantSummary};

const COLORS: [u32; 4] = [0xd62728, 0x1f77b4, 0x2ca02c, 0x7f7f7f];

/// A value a log axis can draw: non-finite or huge errors (a diverged forecast) are capped.
fn drawable(v: f64) -> f64 {
    if v.is_finite() {
        v.clamp(1e-12, 1e3)
    } else {
        1e3
    }
}

/// The test MSE of the potential at each forecast frame (mean over seeds), per variant.
pub fn mse_curves(
    dir: &Path,
    times: &[f64],
    variants: &[VariantSummary],
) -> Result<Saved, PlotError> {
    let mut fig = Figure::new("Test MSE of the potential along the forecast (mean over seeds)")
        .x_label("time since the stimulus (ms)")
        .y_label("MSE per step")
        .y_log();
    for (k, v) in variants.iter().enumerate() {
        let seeds = v.runs.len().max(1) as f64;
        let ys: Vec<f64> = (1..times.len())
            .map(|i| {
                drawable(
                    v.runs
                        .iter()
                        .map(|r| r.mse_per_frame.get(i).copied().unwrap_or(f64::NAN))
                        .sum::<f64>()
                        / seeds,
                )
            })
            .collect();
        fig = fig.series(
            Series::line(v.variant, &times[1..], &ys).color(Color::hex(COLORS[k % COLORS.len()])),
        );
    }
    fig.save(dir.join("mse_along_forecast"))
}

/// The first test slab's potential at 6, 12, 24 and 50 ms (columns): the data, then each
/// variant's forecast from the stimulus (rows; first seed).
pub fn snapshots(
    dir: &Path,
    truth: &[f64],
    variants: &[VariantSummary],
) -> Result<Saved, PlotError> {
    let mut pixels = truth.to_vec();
    let mut rows = vec!["data".to_string()];
    for v in variants {
        if let Some(r) = v.runs.first()
            && r.snapshots.len() == truth.len()
        {
            pixels.extend(
                r.snapshots
                    .iter()
                    .map(|&x| if x.is_finite() { x } else { 1.0 }),
            );
            rows.push(v.variant.to_string());
        }
    }
    // The rows are named in the README and the summary; the title stays short enough to show.
    let title = format!("Potential at 6/12/24/50 ms; {} rows from data", rows.len());
    image_mosaic(&title, &pixels, SIDE, SIDE, HORIZONS_MS.len()).save(dir.join("snapshots"))
}

/// `L_traj` per batch during training (first seed), per trained variant.
pub fn training(dir: &Path, variants: &[VariantSummary]) -> Result<Saved, PlotError> {
    let mut fig = Figure::new("Training trajectory loss (first seed)")
        .x_label("batch")
        .y_label("L_traj (potential MSE)")
        .y_log();
    for (k, v) in variants.iter().enumerate() {
        let Some(r) = v.runs.first() else { continue };
        if r.history.is_empty() {
            continue;
        }
        let xs: Vec<f64> = (1..=r.history.len()).map(|i| i as f64).collect();
        let ys: Vec<f64> = r.history.iter().map(|h| drawable(h.0)).collect();
        fig = fig
            .series(Series::line(v.variant, &xs, &ys).color(Color::hex(COLORS[k % COLORS.len()])));
    }
    fig.save(dir.join("training_loss"))
}
