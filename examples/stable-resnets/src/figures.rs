//! The example's figures (SVG and PNG).

use std::path::Path;

use sysdyn_plot::{Figure, Heatmap, Marker, PlotError, Saved, Series, Subplots, palette};

use crate::classify::{Dataset, TrainedResult};
use crate::stability::StabilityRun;

/// The points' paths through the ten layers of each network, one panel per matrix.
pub fn stability_trajectories(dir: &Path, runs: &[StabilityRun]) -> Result<Saved, PlotError> {
    let mut grid = Subplots::new(
        "forward Euler ResNets, h = 0.1, tanh, 10 layers: paths of three points",
        1,
        runs.len(),
    );
    for run in runs {
        let eig: Vec<String> = run
            .eigenvalues
            .iter()
            .map(|[re, im]| format!("{re:.0}{:+.0}i", im))
            .collect();
        let mut panel = Figure::new(&format!("{}: eigenvalues {}", run.name, eig.join(", ")))
            .x_label("y1")
            .y_label("y2");
        for (p, path) in run.trajectories.iter().enumerate() {
            let xs: Vec<f64> = path.iter().map(|q| q[0]).collect();
            let ys: Vec<f64> = path.iter().map(|q| q[1]).collect();
            // The start of each path is a square in the path's colour.
            panel = panel
                .series(
                    Series::line(&format!("point {}", p + 1), &xs, &ys)
                        .marker(Marker::Circle)
                        .color(palette(p)),
                )
                .series(
                    Series::scatter("", &xs[..1], &ys[..1])
                        .marker(Marker::Square)
                        .color(palette(p)),
                );
        }
        grid = grid.panel(panel);
    }
    grid.save(dir.join("stability_trajectories"))
}

/// Spread of the points after each layer, for each network.
pub fn spread_vs_depth(dir: &Path, runs: &[StabilityRun]) -> Result<Saved, PlotError> {
    let mut figure = Figure::new("spread of the three points through depth")
        .x_label("layer j")
        .y_label("RMS distance from the mean")
        .y_log();
    for run in runs {
        let layers: Vec<f64> = (0..run.spread.len()).map(|j| j as f64).collect();
        figure = figure.series(Series::line(run.name, &layers, &run.spread).marker(Marker::Circle));
    }
    figure.save(dir.join("spread_vs_depth"))
}

/// The trained classifiers' probability of the ring class, with the validation points.
pub fn decision_boundaries(
    dir: &Path,
    results: &[TrainedResult],
    (grid_x, grid_y): (&[f64], &[f64]),
    validation: &Dataset,
) -> Result<Saved, PlotError> {
    let mut figure = Subplots::new(
        "concentric ellipses: P(ring) and validation points",
        1,
        results.len(),
    );
    let class_points = |class: f64| -> (Vec<f64>, Vec<f64>) {
        validation
            .labels
            .iter()
            .enumerate()
            .filter(|(_, l)| **l == class)
            .map(|(i, _)| (validation.points[2 * i], validation.points[2 * i + 1]))
            .unzip()
    };
    let (inside_x, inside_y) = class_points(0.0);
    let (ring_x, ring_y) = class_points(1.0);
    for result in results {
        let panel = Figure::new(&format!(
            "{}: train {:.1}%, validation {:.1}%",
            result.architecture,
            100.0 * result.train_accuracy,
            100.0 * result.validation_accuracy
        ))
        .x_label("x1")
        .y_label("x2")
        .x_range(grid_x[0], grid_x[grid_x.len() - 1])
        .y_range(grid_y[0], grid_y[grid_y.len() - 1])
        .heatmap(
            Heatmap::new(grid_x, grid_y, &result.probabilities)
                .contour_levels(&[0.5])
                .label("P(ring)"),
        )
        .series(Series::scatter("inside", &inside_x, &inside_y).marker(Marker::Circle))
        .series(Series::scatter("ring", &ring_x, &ring_y).marker(Marker::Triangle));
        figure = figure.panel(panel);
    }
    figure.save(dir.join("decision_boundaries"))
}
