//! The example's figures.

use std::path::Path;

use sysdyn_core::device::SysDevice;
use sysdyn_generative::score::{ModelScore, ScoreFn};
use sysdyn_plot::{
    Color, Dash, Figure, Marker, PlotError, Quiver, Saved, Series, Subplots, palette,
};

use crate::data::Dataset;
use crate::models::Trained;
use crate::sampling::{Sampler, host};
use crate::{ExampleError, Floor, Panel, SamplerResult, Strip};

/// The steps of the forward/reverse strip (of T = 1000).
pub const STRIP_STEPS: [usize; 6] = [0, 50, 150, 300, 600, 999];
/// The times at which the VP model's learned score is drawn.
pub const FIELD_TIMES: [f64; 3] = [0.01, 0.1, 0.4];
/// Half-width of the plotted square.
const EXTENT: f64 = 3.0;

fn split(points: &[f64]) -> (Vec<f64>, Vec<f64>) {
    points.chunks(2).map(|p| (p[0], p[1])).unzip()
}

fn scatter_panel(title: &str, points: &[f64], color: Color) -> Figure {
    let (xs, ys) = split(points);
    Figure::new(title)
        .x_range(-EXTENT, EXTENT)
        .y_range(-EXTENT, EXTENT)
        .series(
            Series::scatter("", &xs, &ys)
                .color(color)
                .marker_size(1.6)
                .opacity(0.5),
        )
}

/// The first seed's samples of every sampler at the main budget, one row per data set, the
/// data in the first column.
pub fn samples(dir: &Path, panels: &[Panel]) -> Result<Saved, PlotError> {
    let columns = Sampler::ALL.len() + 1;
    let mut grid = Subplots::new(
        "Samples of every sampler (first seed, main budget); data in the first column",
        panels.len().max(1),
        columns,
    )
    .panel_size(230.0, 230.0);
    for (data, reference, drawn) in panels {
        grid = grid.panel(scatter_panel(
            &format!("{}: data", data.name()),
            reference,
            Color::hex(0x333333),
        ));
        for (sampler, d) in drawn {
            grid = grid.panel(scatter_panel(
                &format!("{} ({} NFE)", sampler.name(), d.nfe),
                &d.samples,
                Color::hex(0xd62728),
            ));
        }
    }
    grid.save(dir.join("samples"))
}

/// The forward process `q(x_t | x₀)` and the reverse ancestral chain (linear DDPM, first
/// seed) at [`STRIP_STEPS`], two rows per data set.
pub fn process(dir: &Path, strips: &[Strip]) -> Result<Saved, PlotError> {
    let mut grid = Subplots::new(
        "Forward process q(x_t | x_0) and the reverse ancestral chain (linear DDPM, T = 1000, first seed); rows: eight-gaussians, swiss-roll",
        (2 * strips.len()).max(1),
        STRIP_STEPS.len(),
    )
    .panel_size(220.0, 220.0);
    for (_, forward, reverse) in strips {
        for (k, points) in forward.iter().enumerate() {
            grid = grid.panel(scatter_panel(
                &format!("q(x_t | x₀), t = {}", STRIP_STEPS[k]),
                points,
                Color::hex(0x1f77b4),
            ));
        }
        for (k, points) in reverse.iter().enumerate() {
            let t = STRIP_STEPS[k];
            let label = if t == 0 {
                "reverse: output x₀".to_string()
            } else {
                format!("reverse: x_t, t = {t}")
            };
            grid = grid.panel(scatter_panel(&label, points, Color::hex(0xd62728)));
        }
    }
    grid.save(dir.join("process"))
}

/// The VP model's learned score `s_θ(x, t)` at [`FIELD_TIMES`] as arrows of equal length
/// (direction only; its magnitude spans orders of magnitude) over the data (first seed).
pub fn score_fields(
    dir: &Path,
    device: &SysDevice,
    models: &[(Dataset, Trained)],
    panels: &[Panel],
) -> Result<Saved, ExampleError> {
    let nodes: Vec<f64> = sysdyn_plot::linspace(-EXTENT * 0.9, EXTENT * 0.9, 19);
    let grid_points: Vec<f64> = nodes
        .iter()
        .flat_map(|&y| nodes.iter().flat_map(move |&x| [x, y]))
        .collect();
    let rows = grid_points.len() / 2;
    let mut grid = Subplots::new(
        "Learned score of the VP SDE, s(x, t) (direction; first seed), over the data",
        models.len().max(1),
        FIELD_TIMES.len(),
    )
    .panel_size(300.0, 300.0);
    for (data, trained) in models {
        let reference = panels
            .iter()
            .find(|(d, _, _)| d == data)
            .map(|(_, r, _)| r.clone())
            .unwrap_or_default();
        let (dx, dy) = split(&reference);
        for &t in &FIELD_TIMES {
            let x = device.tensor(grid_points.clone(), [rows, 2])?.inner();
            let s = host(ModelScore(&trained.vp).eval(x, t)?)?;
            let (us, vs) = split(&s);
            let (gx, gy) = split(&grid_points);
            let std = trained.vp.sde().marginal(t).1;
            grid = grid.panel(
                Figure::new(&format!("{}: t = {t} (s(t) = {std:.2})", data.name()))
                    .x_range(-EXTENT, EXTENT)
                    .y_range(-EXTENT, EXTENT)
                    .series(
                        Series::scatter("", &dx, &dy)
                            .color(Color::hex(0xd62728))
                            .marker_size(1.0)
                            .opacity(0.25),
                    )
                    .quiver(
                        Quiver::new(&gx, &gy, &us, &vs)
                            .normalized()
                            .color(Color::hex(0x1f4e79)),
                    ),
            );
        }
    }
    Ok(grid.save(dir.join("score_field"))?)
}

/// Sliced Wasserstein distance and the fraction of samples within 3σ of a mode against NFE on
/// the eight Gaussians (means over seeds), every sampler; the flow at each tolerance (dashed);
/// a second data sample of the same size dotted.
pub fn nfe_quality(
    dir: &Path,
    results: &[SamplerResult],
    floors: &[Floor],
) -> Result<Saved, PlotError> {
    let data = Dataset::EIGHT_GAUSSIANS.name();
    let mut distance = Figure::new("sliced Wasserstein distance to the data")
        .x_label("NFE")
        .y_label("sliced Wasserstein")
        .x_log()
        .y_log();
    let mut within = Figure::new("fraction of samples within 3σ of a mode")
        .x_label("NFE")
        .y_label("fraction")
        .x_log()
        .y_range(0.0, 1.02);
    let mut lo = f64::INFINITY;
    let mut hi: f64 = 1.0;
    for (k, sampler) in Sampler::ALL.iter().enumerate() {
        let name = sampler.name();
        let mut points: Vec<(f64, f64, f64)> = results
            .iter()
            .filter(|r| r.data == data && r.sampler == name)
            .map(|r| {
                (
                    r.nfe.mean,
                    r.sliced_wasserstein.mean.max(1e-6),
                    r.within_3_sigma.as_ref().map_or(f64::NAN, |w| w.mean),
                )
            })
            .collect();
        if points.is_empty() {
            continue;
        }
        points.sort_by(|a, b| a.0.total_cmp(&b.0));
        for p in &points {
            lo = lo.min(p.0);
            hi = hi.max(p.0);
        }
        let xs: Vec<f64> = points.iter().map(|p| p.0).collect();
        let sw: Vec<f64> = points.iter().map(|p| p.1).collect();
        let fraction: Vec<f64> = points.iter().map(|p| p.2).collect();
        let style = |series: Series| {
            let series = series.color(palette(k)).marker(Marker::Circle);
            if sampler.is_adaptive() {
                series.dash(Dash::Dashed)
            } else {
                series
            }
        };
        distance = distance.series(style(Series::line(&name, &xs, &sw)));
        within = within.series(style(Series::line(&name, &xs, &fraction)));
    }
    let lo = if lo.is_finite() { lo } else { 1.0 };
    if let Some(floor) = floors.iter().find(|f| f.data == data) {
        let y = floor.sliced_wasserstein.mean.max(1e-6);
        distance = distance.series(
            Series::line("second data sample", &[lo, hi], &[y, y])
                .color(Color::BLACK)
                .dash(Dash::Dotted),
        );
    }
    // Exact data: P(‖z‖ ≤ 3) = 1 − e^{−9/2} for a 2-D standard normal.
    let exact = 1.0 - (-4.5f64).exp();
    within = within.series(
        Series::line("exact data (0.989)", &[lo, hi], &[exact, exact])
            .color(Color::BLACK)
            .dash(Dash::Dotted),
    );
    Subplots::new(
        &format!("{data}: sample quality against network evaluations (mean of seeds)"),
        1,
        2,
    )
    .panel_size(700.0, 520.0)
    .panel(distance)
    .panel(within)
    .save(dir.join("nfe_quality"))
}

/// The probability-flow ODE on the eight Gaussians: evaluations against Dormand–Prince's
/// tolerance, and the sliced Wasserstein distance of its samples (mean over seeds).
pub fn flow_tolerance(dir: &Path, results: &[SamplerResult]) -> Result<Saved, PlotError> {
    let data = Dataset::EIGHT_GAUSSIANS.name();
    let mut nfe = Figure::new("PF-ODE (Dormand–Prince 5(4)): NFE against tolerance")
        .x_label("rtol = atol")
        .y_label("NFE")
        .x_log()
        .y_log();
    let mut quality = Figure::new("PF-ODE: sliced Wasserstein against tolerance")
        .x_label("rtol = atol")
        .y_label("sliced Wasserstein")
        .x_log()
        .y_log();
    for (k, sampler) in Sampler::ALL.iter().filter(|s| s.is_adaptive()).enumerate() {
        let name = sampler.name();
        let mut points: Vec<(f64, f64, f64)> = results
            .iter()
            .filter(|r| r.data == data && r.sampler == name)
            .map(|r| (r.tolerance, r.nfe.mean, r.sliced_wasserstein.mean.max(1e-6)))
            .collect();
        points.sort_by(|a, b| a.0.total_cmp(&b.0));
        let tol: Vec<f64> = points.iter().map(|p| p.0).collect();
        let evals: Vec<f64> = points.iter().map(|p| p.1).collect();
        let sw: Vec<f64> = points.iter().map(|p| p.2).collect();
        let color = palette(k);
        nfe = nfe.series(
            Series::line(&name, &tol, &evals)
                .color(color)
                .marker(Marker::Circle),
        );
        quality = quality.series(
            Series::line(&name, &tol, &sw)
                .color(color)
                .marker(Marker::Circle),
        );
    }
    Subplots::new(
        &format!("{data}: the probability-flow ODE's cost and quality (mean of seeds)"),
        1,
        2,
    )
    .panel_size(460.0, 360.0)
    .panel(nfe)
    .panel(quality)
    .save(dir.join("pf_ode_tolerance"))
}
