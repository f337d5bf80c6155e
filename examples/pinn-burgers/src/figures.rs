//! The example's figures: Burgers maps (reference, network, error) with snapshots at
//! `t = 0.25, 0.5, 0.75`, the loss curves, and the heat/Poisson error maps with the Lagaris
//! solution.

use std::path::Path;

use sysdyn_plot::{Color, Figure, Heatmap, PlotError, Saved, Series, Subplots};

use crate::Summary;
use crate::problems::{BurgersGrid, BurgersResult, Curve, lagaris_exact, poisson_exact};

const PALETTE: [u32; 6] = [0x1f77b4, 0xd62728, 0x2ca02c, 0x9467bd, 0xff7f0e, 0x8c564b];

/// A `[ts, xs]` field as a heatmap with `t` across and `x` up (Raissi's layout).
fn map(grid: &BurgersGrid, values: &[f64]) -> Heatmap {
    let nx = grid.xs.len();
    let transposed: Vec<f64> = (0..nx)
        .flat_map(|j| (0..grid.ts.len()).map(move |i| values[i * nx + j]))
        .collect();
    Heatmap::new(&grid.ts, &grid.xs, &transposed)
}

/// Reference, network and `|error|` maps, and snapshots at `t = 0.25, 0.5, 0.75`.
pub fn burgers(
    dir: &Path,
    name: &str,
    grid: &BurgersGrid,
    result: &BurgersResult,
) -> Result<Saved, PlotError> {
    let error: Vec<f64> = result
        .prediction
        .iter()
        .zip(&grid.u)
        .map(|(p, u)| (p - u).abs())
        .collect();
    let panel = |title: &str, values: &[f64], label: &str| {
        Figure::new(title)
            .x_label("t")
            .y_label("x")
            .heatmap(map(grid, values).label(label))
    };
    let mut plots = Subplots::new(
        &format!(
            "Burgers ({name}, seed {}): relative L2 error {:.2e}",
            result.seed, result.relative_l2
        ),
        2,
        3,
    )
    .panel_size(420.0, 320.0)
    .panel(panel("Cole–Hopf reference u(t, x)", &grid.u, "u"))
    .panel(panel("PINN u(t, x)", &result.prediction, "u"))
    .panel(
        Figure::new("|PINN − reference|")
            .x_label("t")
            .y_label("x")
            .heatmap(map(grid, &error).label("|error|")),
    );
    let nx = grid.xs.len();
    for t in [0.25, 0.5, 0.75] {
        let i = grid
            .ts
            .iter()
            .position(|&s| (s - t).abs() < 1e-9)
            .unwrap_or(grid.ts.len() / 2);
        let row = |v: &[f64]| v[i * nx..(i + 1) * nx].to_vec();
        plots = plots.panel(
            Figure::new(&format!("t = {t}"))
                .x_label("x")
                .y_label("u")
                .series(
                    Series::line("reference", &grid.xs, &row(&grid.u))
                        .color(Color::hex(0x1f77b4))
                        .width(3.0),
                )
                .series(
                    Series::line("PINN", &grid.xs, &row(&result.prediction))
                        .color(Color::hex(0xd62728))
                        .width(1.5),
                ),
        );
    }
    plots.save(dir.join(format!("burgers-{name}")))
}

fn curve_series(figure: Figure, name: &str, curve: &Curve, color: u32) -> Figure {
    let points: Vec<(f64, f64)> = curve
        .adam
        .iter()
        .chain(&curve.lbfgs)
        .copied()
        .filter(|(_, l)| l.is_finite() && *l > 0.0)
        .collect();
    if points.is_empty() {
        return figure;
    }
    let (xs, ys): (Vec<f64>, Vec<f64>) = points.into_iter().unzip();
    figure.series(Series::line(name, &xs, &ys).color(Color::hex(color)))
}

/// The loss curves of every problem's first seed (Adam steps, then L-BFGS iterations).
pub fn losses(dir: &Path, summary: &Summary) -> Result<Saved, PlotError> {
    let mut burgers = Figure::new("Burgers: loss (Adam, then L-BFGS)")
        .x_label("iteration")
        .y_label("loss")
        .y_log();
    if let Some(r) = summary.forward.first() {
        burgers = curve_series(burgers, "forward", &r.training.curve, PALETTE[0]);
    }
    for (k, r) in summary.inverse.iter().take(2).enumerate() {
        let name = format!("inverse, {:.0}% noise", 100.0 * r.noise);
        burgers = curve_series(burgers, &name, &r.training.curve, PALETTE[1 + k]);
    }
    let mut others = Figure::new("heat, Poisson, Lagaris: loss")
        .x_label("iteration")
        .y_label("loss")
        .y_log();
    for (k, (name, runs)) in [
        ("heat", &summary.heat),
        ("poisson", &summary.poisson),
        ("lagaris", &summary.lagaris),
    ]
    .into_iter()
    .enumerate()
    {
        if let Some(r) = runs.first() {
            others = curve_series(others, name, &r.training.curve, PALETTE[3 + k]);
        }
    }
    let has_burgers = !summary.forward.is_empty() || !summary.inverse.is_empty();
    let has_others =
        !summary.heat.is_empty() || !summary.poisson.is_empty() || !summary.lagaris.is_empty();
    let columns = usize::from(has_burgers) + usize::from(has_others);
    let mut plots =
        Subplots::new("Loss curves (first seed)", 1, columns.max(1)).panel_size(480.0, 340.0);
    if has_burgers {
        plots = plots.panel(burgers);
    }
    if has_others {
        plots = plots.panel(others);
    }
    plots.save(dir.join("losses"))
}

/// Heat and Poisson `|error|` maps (first seed) and the Lagaris solution with its error.
pub fn analytic(dir: &Path, summary: &Summary) -> Result<Saved, PlotError> {
    let axis: Vec<f64> = (0..41).map(|i| i as f64 / 40.0).collect();
    let error_map = |prediction: &[f64], exact: &dyn Fn(f64, f64) -> f64| {
        let values: Vec<f64> = axis
            .iter()
            .flat_map(|&b| axis.iter().map(move |&a| (a, b)))
            .zip(prediction)
            .map(|((a, b), p)| (p - exact(a, b)).abs())
            .collect();
        Heatmap::new(&axis, &axis, &values).label("|error|")
    };
    let mut plots =
        Subplots::new("Heat, Poisson and Lagaris (first seed)", 1, 3).panel_size(400.0, 330.0);
    if let Some(r) = summary.heat.first() {
        let exact = |x: f64, t: f64| {
            (-std::f64::consts::PI.powi(2) * t).exp() * (std::f64::consts::PI * x).sin()
        };
        plots = plots.panel(
            Figure::new(&format!("heat |error| (relative L2 {:.1e})", r.error))
                .x_label("x")
                .y_label("t")
                .heatmap(error_map(&r.prediction, &exact)),
        );
    }
    if let Some(r) = summary.poisson.first() {
        plots = plots.panel(
            Figure::new(&format!("Poisson |error| (relative L2 {:.1e})", r.error))
                .x_label("x")
                .y_label("y")
                .heatmap(error_map(&r.prediction, &poisson_exact)),
        );
    }
    if let Some(r) = summary.lagaris.first() {
        let ts: Vec<f64> = (0..=100).map(|i| i as f64 / 100.0).collect();
        let exact: Vec<f64> = ts.iter().map(|&t| lagaris_exact(t)).collect();
        plots = plots.panel(
            Figure::new(&format!("Lagaris problem 1 (max error {:.1e})", r.error))
                .x_label("t")
                .y_label("ψ")
                .series(
                    Series::line("exact", &ts, &exact)
                        .color(Color::hex(0x1f77b4))
                        .width(3.0),
                )
                .series(
                    Series::line("trial solution", &ts, &r.prediction)
                        .color(Color::hex(0xd62728))
                        .width(1.5),
                ),
        );
    }
    plots.save(dir.join("heat-poisson-lagaris"))
}
