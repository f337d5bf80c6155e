//! The example's figures: image mosaics (reconstructions, samples, traversals, interpolations),
//! the latent scatter, the bound curves and the codebook usage.

use std::path::Path;

use sysdyn_plot::{
    Figure, Legend, Marker, PlotError, Saved, Series, Subplots, image_mosaic, palette,
};

/// A mosaic of grey images in `[0, 1]`, `cols` to a row.
pub fn mosaic(title: &str, pixels: &[f64], side: usize, cols: usize) -> Figure {
    image_mosaic(title, pixels, side, side, cols)
}

/// Panels of mosaics side by side, saved as `dir/stem.{svg,png}`.
pub fn mosaics(
    dir: &Path,
    stem: &str,
    title: &str,
    panels: &[(String, &[f64], usize)],
    side: usize,
) -> Result<Saved, PlotError> {
    let mut grid = Subplots::new(title, 1, panels.len().max(1)).panel_size(420.0, 440.0);
    for (name, pixels, cols) in panels {
        grid = grid.panel(mosaic(name, pixels, side, *cols));
    }
    grid.save(dir.join(stem))
}

/// One mosaic saved as `dir/stem.{svg,png}`.
pub fn images(
    dir: &Path,
    stem: &str,
    title: &str,
    pixels: &[f64],
    side: usize,
    cols: usize,
) -> Result<Saved, PlotError> {
    mosaic(title, pixels, side, cols).save(dir.join(stem))
}

/// Points coloured by their label.
pub fn latent_scatter(
    dir: &Path,
    title: &str,
    points: &[[f64; 2]],
    labels: &[usize],
    classes: usize,
) -> Result<Saved, PlotError> {
    let mut figure = Figure::new(title)
        .x_label("first principal component of μ(x)")
        .y_label("second principal component")
        .legend(Legend::Outside)
        .size(620.0, 480.0);
    for class in 0..classes {
        let (xs, ys): (Vec<f64>, Vec<f64>) = points
            .iter()
            .zip(labels)
            .filter(|(_, l)| **l == class)
            .map(|(p, _)| (p[0], p[1]))
            .unzip();
        figure = figure.series(
            Series::scatter(&format!("digit {class}"), &xs, &ys)
                .color(palette(class))
                .marker(Marker::Circle)
                .marker_size(3.0),
        );
    }
    figure.save(dir.join("latent-scatter"))
}

/// Moving average over `window` points of `(x, y)` rows (non-finite values skipped).
pub fn moving_average(rows: &[[f64; 2]], window: usize) -> (Vec<f64>, Vec<f64>) {
    let finite: Vec<[f64; 2]> = rows.iter().filter(|r| r[1].is_finite()).copied().collect();
    let window = window.min(finite.len()).max(1);
    finite
        .windows(window)
        .step_by(window.div_ceil(4).max(1))
        .map(|w| {
            let y = w.iter().map(|p| p[1]).sum::<f64>() / w.len() as f64;
            (w[w.len() - 1][0], y)
        })
        .unzip()
}

/// One run's bounds over training, `(step, nats)` rows.
#[derive(Debug, Clone, Copy)]
pub struct BoundCurves<'a> {
    /// The run's name.
    pub name: &'a str,
    /// The bound it was trained on, every step.
    pub training: &'a [[f64; 2]],
    /// The held-out IWAE bound at each evaluation.
    pub held_out: &'a [[f64; 2]],
}

/// One VQ-VAE run's code statistics.
#[derive(Debug, Clone, Copy)]
pub struct UsageCurves<'a> {
    /// The run's name.
    pub name: &'a str,
    /// Held-out assignment counts per code.
    pub counts: &'a [u64],
    /// `(step, batch perplexity)` of every step.
    pub perplexity: &'a [[f64; 2]],
}

/// The training bound (moving average) and the held-out importance-weighted bound of each
/// named run.
pub fn bounds(dir: &Path, runs: &[BoundCurves], curve_k: usize) -> Result<Saved, PlotError> {
    let mut train = Figure::new("training bound (moving average of 50 steps), nats")
        .x_label("step")
        .y_label("bound per digit")
        .legend(Legend::LowerRight);
    let mut held_out = Figure::new(&format!(
        "held-out IWAE bound, k = {curve_k} (−NLL estimate), nats"
    ))
    .x_label("step")
    .y_label("bound per digit")
    .legend(Legend::LowerRight);
    for (i, run) in runs.iter().enumerate() {
        let (name, evaluated) = (run.name, run.held_out);
        let (xs, ys) = moving_average(run.training, 50);
        let label = if name == "iwae" {
            format!("{name} (IWAE-k bound)")
        } else {
            format!("{name} (ELBO)")
        };
        train = train.series(Series::line(&label, &xs, &ys).color(palette(i)));
        let (xs, ys): (Vec<f64>, Vec<f64>) = evaluated.iter().map(|p| (p[0], p[1])).unzip();
        held_out = held_out.series(
            Series::line(name, &xs, &ys)
                .color(palette(i))
                .marker(Marker::Circle),
        );
    }
    Subplots::new("ELBO and IWAE bounds over training (first seed)", 1, 2)
        .panel_size(460.0, 340.0)
        .panel(train)
        .panel(held_out)
        .save(dir.join("bounds"))
}

/// The held-out code usage (counts sorted by rank, as fractions) and the batch perplexity
/// during training, of each named VQ-VAE run.
pub fn codebook_usage(dir: &Path, runs: &[UsageCurves], codes: usize) -> Result<Saved, PlotError> {
    let mut usage = Figure::new(&format!(
        "held-out code usage, codes sorted by frequency (K = {codes})"
    ))
    .x_label("code rank")
    .y_label("fraction of positions")
    .legend(Legend::UpperRight);
    let mut perplexity = Figure::new("batch perplexity during training")
        .x_label("step")
        .y_label("perplexity")
        .legend(Legend::LowerRight);
    for (i, run) in runs.iter().enumerate() {
        let (name, curve) = (run.name, run.perplexity);
        let mut sorted = run.counts.to_vec();
        sorted.sort_unstable_by(|a, b| b.cmp(a));
        let total = sorted.iter().sum::<u64>().max(1) as f64;
        // Bars drawn as steps: each code's fraction held over [rank, rank + 1).
        let mut xs = Vec::new();
        let mut ys = Vec::new();
        for (rank, &n) in sorted.iter().enumerate() {
            xs.extend([rank as f64, rank as f64 + 1.0]);
            ys.extend([n as f64 / total; 2]);
        }
        usage = usage.series(Series::line(name, &xs, &ys).color(palette(i)));
        let (xs, ys) = moving_average(curve, 20);
        perplexity = perplexity.series(Series::line(name, &xs, &ys).color(palette(i)));
    }
    Subplots::new("VQ-VAE codebook usage (first seed)", 1, 2)
        .panel_size(460.0, 340.0)
        .panel(usage)
        .panel(perplexity)
        .save(dir.join("codebook-usage"))
}
