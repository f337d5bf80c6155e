//! The example's figures: image mosaics and loss curves.

use std::path::Path;

use sysdyn_generative::gan::ImageShape;
use sysdyn_plot::{Color, Figure, PlotError, Saved, Series, Subplots, image_mosaic};

/// A mosaic of flattened images in `[−1, 1]` (first channel), `cols` to a row.
fn mosaic(title: &str, pixels: &[f64], image: ImageShape, cols: usize) -> Figure {
    let grey: Vec<f64> = pixels
        .chunks(image.features())
        .flat_map(|img| {
            img[..image.rows * image.cols]
                .iter()
                .map(|p| (p + 1.0) / 2.0)
        })
        .collect();
    image_mosaic(title, &grey, image.rows, image.cols, cols)
}

/// One mosaic, saved as `dir/stem.{svg,png}`.
pub fn images(
    dir: &Path,
    stem: &str,
    title: &str,
    pixels: &[f64],
    image: ImageShape,
    cols: usize,
) -> Result<Saved, PlotError> {
    mosaic(title, pixels, image, cols).save(dir.join(stem))
}

/// Held-out digits beside their blurred copies (the Fréchet baseline).
pub fn real_and_blurred(
    dir: &Path,
    real: &[f64],
    blurred: &[f64],
    image: ImageShape,
) -> Result<Saved, PlotError> {
    Subplots::new("held-out digits and the blurred baseline", 1, 2)
        .panel_size(420.0, 440.0)
        .panel(mosaic("held-out", real, image, 8))
        .panel(mosaic("blurred (σ = 1 px)", blurred, image, 8))
        .save(dir.join("real-and-blurred"))
}

/// Moving averages (window 50) of both players' losses for each named run.
pub fn losses(dir: &Path, runs: &[(&str, &[[f64; 3]])]) -> Result<Saved, PlotError> {
    let colors = [0x1f77b4, 0xd62728, 0x2ca02c, 0x9467bd];
    let mut grid = Subplots::new("losses (first seed, moving average of 50 steps)", 1, 2)
        .panel_size(420.0, 320.0);
    for (k, label) in ["generator", "discriminator"].into_iter().enumerate() {
        let mut figure = Figure::new(&format!("{label} loss"))
            .x_label("generator step")
            .y_label("loss");
        for (i, (name, losses)) in runs.iter().enumerate() {
            let (xs, ys) = moving_average(losses, k + 1, 50);
            figure = figure
                .series(Series::line(name, &xs, &ys).color(Color::hex(colors[i % colors.len()])));
        }
        grid = grid.panel(figure);
    }
    grid.save(dir.join("losses"))
}

fn moving_average(rows: &[[f64; 3]], column: usize, window: usize) -> (Vec<f64>, Vec<f64>) {
    let finite: Vec<(f64, f64)> = rows
        .iter()
        .filter(|r| r[column].is_finite())
        .map(|r| (r[0], r[column]))
        .collect();
    finite
        .windows(window.min(finite.len()).max(1))
        .step_by(window.div_ceil(5).max(1))
        .map(|w| {
            let x = w[w.len() - 1].0;
            let y = w.iter().map(|p| p.1).sum::<f64>() / w.len() as f64;
            (x, y)
        })
        .unzip()
}
