//! The example's figures.

use std::path::Path;

use sysdyn_plot::{Color, Colormap, Figure, Heatmap, PlotError, Saved, Series, Subplots};

/// One trained density: its name, data, samples and density on a grid.
pub struct DensityPanel<'a> {
    /// Dataset name.
    pub name: &'a str,
    /// Training-distribution samples, row-major.
    pub data: &'a [f64],
    /// Flow samples, row-major.
    pub samples: &'a [f64],
    /// Grid axes of the density.
    pub grid: (&'a [f64], &'a [f64]),
    /// `p(x)` on the grid (`values[j * xs.len() + i]` at `(xs[i], ys[j])`).
    pub density: &'a [f64],
}

fn split(points: &[f64]) -> (Vec<f64>, Vec<f64>) {
    points.chunks(2).map(|p| (p[0], p[1])).unzip()
}

fn scatter_panel(title: &str, points: &[f64], color: Color, grid: (&[f64], &[f64])) -> Figure {
    let (xs, ys) = split(points);
    let (gx, gy) = grid;
    Figure::new(title)
        .x_range(gx[0], gx[gx.len() - 1])
        .y_range(gy[0], gy[gy.len() - 1])
        .series(
            Series::scatter("", &xs, &ys)
                .color(color)
                .marker_size(1.6)
                .opacity(0.5),
        )
}

/// Data, flow samples and flow density for every dataset, one row each.
pub fn densities(dir: &Path, panels: &[DensityPanel]) -> Result<Saved, PlotError> {
    let mut grid = Subplots::new(
        "Continuous normalizing flows (exact trace): data | samples | density",
        panels.len(),
        3,
    )
    .panel_size(380.0, 360.0);
    for p in panels {
        grid = grid
            .panel(scatter_panel(
                &format!("{}: data", p.name),
                p.data,
                Color::hex(0x1f77b4),
                p.grid,
            ))
            .panel(scatter_panel(
                &format!("{}: flow samples", p.name),
                p.samples,
                Color::hex(0xd62728),
                p.grid,
            ))
            .panel(
                Figure::new(&format!("{}: flow density p(x)", p.name)).heatmap(
                    Heatmap::new(p.grid.0, p.grid.1, p.density)
                        .colormap(Colormap::Viridis)
                        .label("p(x)"),
                ),
            );
    }
    grid.save(dir.join("densities"))
}

/// The reverse-KL demo: target density and flow samples.
pub fn reverse_kl(
    dir: &Path,
    grid: (&[f64], &[f64]),
    target: &[f64],
    samples: &[f64],
    kl: &[f64],
) -> Result<Saved, PlotError> {
    let its: Vec<f64> = (1..=kl.len()).map(|i| i as f64).collect();
    Subplots::new("Reverse KL to an unnormalised density", 1, 3)
        .panel_size(400.0, 380.0)
        .panel(
            Figure::new("target p̃(x) / Z").heatmap(
                Heatmap::new(grid.0, grid.1, target)
                    .colormap(Colormap::Viridis)
                    .label("density"),
            ),
        )
        .panel(scatter_panel(
            "flow samples",
            samples,
            Color::hex(0xd62728),
            grid,
        ))
        .panel(
            Figure::new("KL(q ‖ p) estimate")
                .x_label("iteration")
                .y_label("nats")
                .series(Series::line("E_q[log q − log p̃] + log Z", &its, kl).width(1.0)),
        )
        .save(dir.join("reverse_kl"))
}

/// Negative log-likelihood over training for every dataset.
pub fn training(dir: &Path, curves: &[(&str, Vec<f64>)]) -> Result<Saved, PlotError> {
    let mut fig = Figure::new("Maximum likelihood: batch NLL")
        .x_label("iteration")
        .y_label("−mean log p(x) (nats)");
    for (name, nll) in curves {
        let its: Vec<f64> = (1..=nll.len()).map(|i| i as f64).collect();
        fig = fig.series(Series::line(name, &its, nll).width(1.0));
    }
    fig.save(dir.join("training"))
}
