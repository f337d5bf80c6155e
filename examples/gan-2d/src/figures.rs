//! The example's figures.

use std::path::Path;

use sysdyn_plot::{Color, Figure, PlotError, Saved, Series, Subplots};

use crate::dirac::DiracRun;
use crate::players::{CoverageCurve, DiagnosisCurve, Mixture, Objective, RunResult};

const PALETTE: [u32; 5] = [0x1f77b4, 0xd62728, 0x2ca02c, 0x9467bd, 0xff7f0e];

fn split(points: &[f64]) -> (Vec<f64>, Vec<f64>) {
    points.chunks(2).map(|p| (p[0], p[1])).unzip()
}

/// The first seed's samples of every objective, one row per mixture, with the modes marked.
pub fn samples(dir: &Path, panels: &[(Mixture, Objective, RunResult)]) -> Result<Saved, PlotError> {
    let columns = Objective::ALL.len();
    let rows = panels.len().div_ceil(columns);
    let mut grid = Subplots::new(
        "GAN samples (first seed) and the mixtures' modes",
        rows,
        columns,
    )
    .panel_size(300.0, 300.0);
    for (mixture, objective, result) in panels {
        let (xs, ys) = split(&result.samples);
        let centres = mixture
            .modes()
            .map(|m| m.centres().to_vec())
            .unwrap_or_default();
        let (cx, cy) = split(&centres);
        grid = grid.panel(
            Figure::new(&format!(
                "{} {}: {}/{} modes, {:.0}% in 3σ",
                mixture.name(),
                objective.name(),
                result.coverage.covered,
                result.modes_total,
                100.0 * result.coverage.high_quality_fraction
            ))
            .x_range(-3.0, 3.0)
            .y_range(-3.0, 3.0)
            .series(
                Series::scatter("samples", &xs, &ys)
                    .color(Color::hex(0xd62728))
                    .marker_size(1.4)
                    .opacity(0.4),
            )
            .series(
                Series::scatter("modes", &cx, &cy)
                    .color(Color::hex(0x000000))
                    .marker_size(3.0),
            ),
        );
    }
    grid.save(dir.join("samples"))
}

/// Modes covered and the fraction of samples within 3σ during training (first seed).
pub fn coverage(
    dir: &Path,
    curves: &[(Mixture, Objective, CoverageCurve)],
) -> Result<Saved, PlotError> {
    let mut grid =
        Subplots::new("Mode coverage during training (first seed)", 2, 2).panel_size(460.0, 330.0);
    for mixture in Mixture::ALL {
        let mut modes = Figure::new(&format!("{}: modes covered", mixture.name()))
            .x_label("generator step")
            .y_label("modes");
        let mut quality = Figure::new(&format!("{}: fraction within 3σ", mixture.name()))
            .x_label("generator step")
            .y_label("fraction");
        for (k, (m, objective, curve)) in curves.iter().enumerate() {
            if *m != mixture || curve.is_empty() {
                continue;
            }
            let steps: Vec<f64> = curve.iter().map(|c| c.0).collect();
            let covered: Vec<f64> = curve.iter().map(|c| c.1).collect();
            let fraction: Vec<f64> = curve.iter().map(|c| c.2).collect();
            let color = Color::hex(PALETTE[k % PALETTE.len()]);
            modes = modes.series(Series::line(objective.name(), &steps, &covered).color(color));
            quality =
                quality.series(Series::line(objective.name(), &steps, &fraction).color(color));
        }
        grid = grid.panel(modes).panel(quality);
    }
    grid.save(dir.join("coverage"))
}

/// The diagnosis of the training dynamics on the eight Gaussians (first seed): the
/// discriminator's accuracy on its batches and both players' gradient norms.
pub fn diagnosis(
    dir: &Path,
    curves: &[(Mixture, Objective, DiagnosisCurve)],
) -> Result<Saved, PlotError> {
    let mut accuracy = Figure::new("discriminator accuracy on its batches")
        .x_label("generator step")
        .y_label("accuracy")
        .y_range(0.0, 1.05);
    let mut generator = Figure::new("generator gradient norm")
        .x_label("generator step")
        .y_label("‖∇θ‖")
        .y_log();
    let mut critic = Figure::new("critic gradient norm")
        .x_label("generator step")
        .y_label("‖∇ψ‖")
        .y_log();
    for (k, (mixture, objective, curve)) in curves.iter().enumerate() {
        if *mixture != Mixture::Ring8 || curve.is_empty() {
            continue;
        }
        let color = Color::hex(PALETTE[k % PALETTE.len()]);
        let steps: Vec<f64> = curve.iter().map(|c| c[0]).collect();
        let column = |i: usize| curve.iter().map(|c| c[i].max(1e-12)).collect::<Vec<f64>>();
        accuracy = accuracy.series(Series::line(objective.name(), &steps, &column(1)).color(color));
        generator =
            generator.series(Series::line(objective.name(), &steps, &column(2)).color(color));
        critic = critic.series(Series::line(objective.name(), &steps, &column(3)).color(color));
    }
    Subplots::new(
        "eight Gaussians: training dynamics (first seed, window means)",
        1,
        3,
    )
    .panel_size(420.0, 330.0)
    .panel(accuracy)
    .panel(generator)
    .panel(critic)
    .save(dir.join("diagnosis"))
}

/// The Dirac-GAN's phase portraits and distances to the equilibrium.
pub fn dirac(dir: &Path, runs: &[DiracRun]) -> Result<Saved, PlotError> {
    let mut grid = Subplots::new(
        "Dirac-GAN (cross-entropy), learning rate 0.1: phase portraits (θ generator, ψ discriminator)",
        1,
        runs.len() + 1,
    )
    .panel_size(380.0, 340.0);
    let mut distance = Figure::new("distance to the equilibrium")
        .x_label("step")
        .y_label("‖(θ, ψ)‖")
        .y_log();
    for (k, run) in runs.iter().enumerate() {
        let color = Color::hex(PALETTE[k % PALETTE.len()]);
        let result = run.result();
        grid = grid.panel(
            Figure::new(&format!(
                "{}: ×{:.4}/step (eig. {:.4})",
                run.scheme.name(),
                result.measured_rate,
                result.predicted_rate
            ))
            .x_label("θ")
            .y_label("ψ")
            .series(
                Series::line("", &run.theta, &run.psi)
                    .color(color)
                    .width(1.0),
            ),
        );
        let steps: Vec<f64> = (0..run.distance.len()).map(|i| i as f64).collect();
        distance =
            distance.series(Series::line(run.scheme.name(), &steps, &run.distance).color(color));
    }
    grid.panel(distance).save(dir.join("dirac_gan"))
}
