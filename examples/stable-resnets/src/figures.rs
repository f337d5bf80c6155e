//! The example's figures (SVG and PNG).

use std::path::Path;

use sysdyn_plot::{Figure, Heatmap, Marker, PlotError, Saved, Series, Subplots, palette};

use crate::classify::ProblemResult;
use crate::datasets::Dataset;
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

/// The deepest trained classifier of each architecture on one problem: for two classes the
/// probability of class 1 with its 0.5 contour, for more the predicted class with the contours
/// between classes; the validation points on top, one marker per class.
pub fn decision_boundaries(
    dir: &Path,
    result: &ProblemResult,
    validation: &Dataset,
) -> Result<Saved, PlotError> {
    let (grid_x, grid_y) = (&result.grid.0, &result.grid.1);
    let classes = result.classes;
    let mut figure = Subplots::new(
        &format!(
            "{}: decision regions of the deepest networks and validation points",
            result.dataset
        ),
        1,
        result.runs.len(),
    );
    let markers = [
        Marker::Circle,
        Marker::Triangle,
        Marker::Square,
        Marker::Diamond,
        Marker::Plus,
    ];
    for run in &result.runs {
        let (values, levels, label): (Vec<f64>, Vec<f64>, &str) = if classes == 2 {
            (
                run.probabilities.chunks(2).map(|p| p[1]).collect(),
                vec![0.5],
                "P(class 1)",
            )
        } else {
            (
                run.probabilities
                    .chunks(classes)
                    .map(|p| {
                        (0..classes)
                            .max_by(|&a, &b| p[a].total_cmp(&p[b]))
                            .expect("at least one class") as f64
                    })
                    .collect(),
                (1..classes).map(|k| k as f64 - 0.5).collect(),
                "predicted class",
            )
        };
        let deepest = run.deepest();
        let mut panel = Figure::new(&format!(
            "{}, {} layers: train {:.1}%, validation {:.1}%",
            run.architecture,
            deepest.layers,
            100.0 * deepest.train_accuracy,
            100.0 * deepest.validation_accuracy
        ))
        .x_label("x1")
        .y_label("x2")
        .x_range(grid_x[0], grid_x[grid_x.len() - 1])
        .y_range(grid_y[0], grid_y[grid_y.len() - 1])
        .heatmap(
            Heatmap::new(grid_x, grid_y, &values)
                .contour_levels(&levels)
                .label(label),
        );
        for class in 0..classes {
            let (xs, ys): (Vec<f64>, Vec<f64>) = validation
                .labels
                .iter()
                .enumerate()
                .filter(|(_, l)| **l == class)
                .map(|(i, _)| (validation.points[2 * i], validation.points[2 * i + 1]))
                .unzip();
            panel = panel.series(
                Series::scatter(&format!("class {class}"), &xs, &ys)
                    .marker(markers[class % markers.len()]),
            );
        }
        figure = figure.panel(panel);
    }
    figure.save(dir.join(format!("decision_boundaries_{}", result.dataset)))
}
