//! The example's figures (first seed).

use std::path::Path;

use sysdyn_plot::{Color, Figure, Heatmap, PlotError, Quiver, Saved, Series, Subplots};

use crate::training::SeedResult;

fn heatmap(title: &str, n: usize, values: &[f64]) -> Figure {
    let axis: Vec<f64> = (0..n).map(|i| i as f64).collect();
    Figure::new(title).heatmap(Heatmap::new(&axis, &axis, values))
}

/// One test window: the last input, the true next frame, both forecasts and their errors.
pub fn fields(dir: &Path, r: &SeedResult) -> Result<Saved, PlotError> {
    let n = r.side;
    let [last, truth, warped, cnn] = &r.example_frames;
    let error = |p: &[f64]| -> Vec<f64> { p.iter().zip(truth).map(|(a, b)| a - b).collect() };
    Subplots::new("tracer forecasts on a test window (first seed)", 2, 3)
        .panel_size(300.0, 280.0)
        .panel(heatmap("last input frame", n, last))
        .panel(heatmap("true next frame", n, truth))
        .panel(heatmap("warping forecast", n, warped))
        .panel(heatmap("plain CNN forecast", n, cnn))
        .panel(heatmap("warping error", n, &error(warped)))
        .panel(heatmap("plain CNN error", n, &error(cnn)))
        .save(dir.join("fields"))
}

/// The estimated and true motion: arrows (every fourth cell) and the x-components.
pub fn motion(dir: &Path, r: &SeedResult) -> Result<Saved, PlotError> {
    let n = r.side;
    let [estimated, truth] = &r.example_motion;
    let stride = (n / 16).max(1);
    let arrows = |w: &[f64], color: u32| {
        let (mut xs, mut ys, mut us, mut vs) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for i in (0..n).step_by(stride) {
            for j in (0..n).step_by(stride) {
                xs.push(j as f64);
                ys.push(i as f64);
                us.push(w[i * n + j]);
                vs.push(w[n * n + i * n + j]);
            }
        }
        Quiver::new(&xs, &ys, &us, &vs).color(Color::hex(color))
    };
    Subplots::new(
        "motion field (cells per frame; first seed, one test window)",
        2,
        2,
    )
    .panel_size(320.0, 300.0)
    .panel(Figure::new("true displacement").quiver(arrows(truth, 0x1f77b4)))
    .panel(Figure::new("estimated w").quiver(arrows(estimated, 0xd62728)))
    .panel(heatmap("true w_x", n, &truth[..n * n]))
    .panel(heatmap("estimated w_x", n, &estimated[..n * n]))
    .save(dir.join("motion"))
}

/// The training batches' prediction MSE of both forecasters.
pub fn training(dir: &Path, r: &SeedResult) -> Result<Saved, PlotError> {
    let mut figure = Figure::new("training-batch prediction MSE (first seed)")
        .x_label("step")
        .y_label("MSE")
        .y_log();
    for (name, curve, color) in [
        ("warping", &r.curves[0], 0xd62728),
        ("plain CNN", &r.curves[1], 0x1f77b4),
    ] {
        let (xs, ys): (Vec<f64>, Vec<f64>) = curve.iter().copied().unzip();
        figure = figure.series(Series::line(name, &xs, &ys).color(Color::hex(color)));
    }
    figure.save(dir.join("training"))
}
