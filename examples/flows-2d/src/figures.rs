//! The example's figures: per data set, every family's density heat map, samples and latent
//! pushforward; the reverse-KL targets with each family's samples.

use std::path::Path;

use sysdyn_core::rng::SeededRng;
use sysdyn_data::toy2d::Toy2d;
use sysdyn_plot::{Color, Colormap, Figure, Heatmap, PlotError, Saved, Series, Subplots};

use crate::families::Family;
use crate::grid::Grid;
use crate::targets::Target;
use crate::train::Evaluation;

/// One data set's first-seed evaluations of every family.
pub struct DataPanel {
    /// The data set.
    pub data: Toy2d,
    /// Its test points, row-major.
    pub test: Vec<f64>,
    /// Each family's evaluation.
    pub columns: Vec<(Family, Evaluation)>,
}

/// One energy target with the reverse-KL samples of each family.
pub struct TargetPanel {
    /// The target.
    pub target: Target,
    /// `p̃/Z` on the display grid.
    pub density: Vec<f64>,
    /// Each family's samples, row-major.
    pub samples: Vec<(Family, Vec<f64>)>,
}

fn split(points: &[f64]) -> (Vec<f64>, Vec<f64>) {
    points.chunks(2).map(|p| (p[0], p[1])).unzip()
}

fn scatter(title: &str, points: &[f64], color: u32, lim: f64) -> Figure {
    let (xs, ys) = split(points);
    Figure::new(title)
        .x_range(-lim, lim)
        .y_range(-lim, lim)
        .series(
            Series::scatter("", &xs, &ys)
                .color(Color::hex(color))
                .marker_size(1.4)
                .opacity(0.5),
        )
}

fn heat(title: &str, grid: &Grid, values: &[f64]) -> Figure {
    let axis = grid.axis();
    Figure::new(title).heatmap(
        Heatmap::new(&axis, &axis, values)
            .colormap(Colormap::Viridis)
            .label("density"),
    )
}

/// A normalised 2-D histogram of `points` on `grid`'s cells.
fn histogram(points: &[f64], grid: &Grid) -> Vec<f64> {
    let mut counts = vec![0.0; grid.n * grid.n];
    let h = grid.step();
    let n = points.len() / 2;
    for p in points.chunks(2) {
        let i = ((p[0] + grid.lim) / h).floor();
        let j = ((p[1] + grid.lim) / h).floor();
        if i >= 0.0 && j >= 0.0 && (i as usize) < grid.n && (j as usize) < grid.n {
            counts[j as usize * grid.n + i as usize] += 1.0;
        }
    }
    let scale = 1.0 / (n.max(1) as f64 * grid.cell_area());
    counts.iter().map(|c| c * scale).collect()
}

/// `density-<data>`: a first row with the test data (points and histogram) and standard
/// normal draws, then one row per family: the learned density `q(x)`, samples of the flow,
/// and the test data pushed to the latent, `f(x)`, to compare with the normal draws.
pub fn data_set(dir: &Path, panel: &DataPanel, grid: &Grid) -> Result<Saved, PlotError> {
    let name = panel.data.name();
    let mut plot = Subplots::new(
        &format!("{name}: density q(x) | samples | latent f(x) of test data, first seed"),
        1 + panel.columns.len(),
        3,
    )
    .panel_size(300.0, 300.0);
    let normal = SeededRng::new(1).normals(panel.test.len().min(3000));
    plot = plot
        .panel(scatter(
            &format!("{name}: test data"),
            &panel.test,
            0x1f77b4,
            grid.lim,
        ))
        .panel(heat(
            &format!("{name}: histogram"),
            grid,
            &histogram(&panel.test, grid),
        ))
        .panel(scatter("N(0, I) draws", &normal, 0x7f7f7f, grid.lim));
    for (family, eval) in &panel.columns {
        plot = plot
            .panel(heat(
                &format!(
                    "{}: NLL {:.3}, ∫q {:.3}",
                    family.name(),
                    eval.nll,
                    eval.mass
                ),
                grid,
                &eval.density,
            ))
            .panel(scatter(
                &format!("{}: samples", family.name()),
                &eval.samples,
                0xd62728,
                grid.lim,
            ))
            .panel(scatter(
                &format!("{}: f(x), test data", family.name()),
                &eval.latent,
                0x2ca02c,
                grid.lim,
            ));
    }
    plot.save(dir.join(format!("density-{name}")))
}

/// `reverse-kl`: each target's normalised density, then each family's samples.
pub fn reverse_kl(dir: &Path, panels: &[TargetPanel], grid: &Grid) -> Result<Saved, PlotError> {
    let cols = 1 + panels.first().map_or(0, |p| p.samples.len());
    let mut plot = Subplots::new(
        "Reverse KL to unnormalised energies: target p̃/Z | samples of each flow",
        panels.len(),
        cols,
    )
    .panel_size(300.0, 300.0);
    for p in panels {
        plot = plot.panel(heat(
            &format!("target {}", p.target.name()),
            grid,
            &p.density,
        ));
        for (family, samples) in &p.samples {
            plot = plot.panel(scatter(
                &format!("{} on {}", family.name(), p.target.name()),
                samples,
                0xd62728,
                grid.lim,
            ));
        }
    }
    plot.save(dir.join("reverse-kl"))
}
