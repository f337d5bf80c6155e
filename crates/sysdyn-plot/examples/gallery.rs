//! Writes one figure of each kind into a folder, to look at:
//! `cargo run -p sysdyn-plot --example gallery -- out/gallery`.

use sysdyn_plot::{
    Colormap, Dash, Figure, Heatmap, Marker, PlotError, Quiver, Series, Subplots, linspace,
    logspace,
};

fn main() -> Result<(), PlotError> {
    let dir = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "out/gallery".into());
    let dir = std::path::Path::new(&dir);

    // Several lines with a legend.
    let ts = linspace(0.0, 10.0, 400);
    let damped: Vec<f64> = ts
        .iter()
        .map(|t| (-0.2 * t).exp() * (2.0 * t).cos())
        .collect();
    let envelope: Vec<f64> = ts.iter().map(|t| (-0.2 * t).exp()).collect();
    let lines = Figure::new("Damped oscillation")
        .x_label("time t")
        .y_label("displacement x(t)")
        .line("x(t) = e^{−t/5} cos 2t", &ts, &damped)
        .series(Series::line("envelope", &ts, &envelope).dash(Dash::Dashed))
        .series(
            Series::scatter(
                "samples",
                &ts[..400].iter().step_by(40).copied().collect::<Vec<_>>(),
                &damped.iter().step_by(40).copied().collect::<Vec<_>>(),
            )
            .marker(Marker::Diamond),
        );
    lines.save(dir.join("lines"))?;

    // Phase portrait of a pendulum over its vector field.
    let mut portrait = Figure::new("Pendulum phase portrait")
        .x_label("angle θ")
        .y_label("angular velocity ω")
        .quiver(
            Quiver::from_fn(
                &linspace(-4.0, 4.0, 21),
                &linspace(-3.0, 3.0, 17),
                |q, p| (p, -q.sin()),
            )
            .normalized(),
        );
    for (k, energy) in [0.3f64, 1.0, 1.9, 2.5].into_iter().enumerate() {
        let qs = linspace(-3.1, 3.1, 300);
        let ps: Vec<f64> = qs
            .iter()
            .map(|q| (2.0 * (energy - (1.0 - q.cos()))).sqrt())
            .collect();
        portrait = portrait.series(Series::line(&format!("E = {energy}"), &qs, &ps));
        let neg: Vec<f64> = ps.iter().map(|p| -p).collect();
        portrait = portrait.series(Series::line("", &qs, &neg).color(sysdyn_plot::palette(k)));
    }
    portrait.save(dir.join("phase_portrait"))?;

    // Log–log error against work.
    let nfe = logspace(1e2, 1e5, 8);
    let fourth: Vec<f64> = nfe.iter().map(|n| 1e3 * n.powf(-4.0)).collect();
    let fifth: Vec<f64> = nfe.iter().map(|n| 1e4 * n.powf(-5.0)).collect();
    Figure::new("Work–precision")
        .x_label("function evaluations")
        .y_label("error")
        .x_log()
        .y_log()
        .series(Series::line("order 4", &nfe, &fourth).marker(Marker::Circle))
        .series(Series::line("order 5", &nfe, &fifth).marker(Marker::Square))
        .save(dir.join("loglog"))?;

    // Rosenbrock contours with log colour.
    let xs = linspace(-2.0, 2.0, 161);
    let ys = linspace(-1.0, 3.0, 161);
    let rosen = Heatmap::from_fn(&xs, &ys, |x, y| {
        (1.0 - x).powi(2) + 100.0 * (y - x * x).powi(2) + 1e-3
    })
    .log_color()
    .contours(12)
    .label("f(x, y)");
    Figure::new("Rosenbrock function")
        .x_label("x")
        .y_label("y")
        .heatmap(rosen)
        .scatter("minimum", &[1.0], &[1.0])
        .save(dir.join("heatmap"))?;

    // A 1 × 3 grid.
    let gauss = Heatmap::from_fn(
        &linspace(-3.0, 3.0, 60),
        &linspace(-3.0, 3.0, 60),
        |x, y| (-(x * x + y * y) / 2.0).exp(),
    )
    .colormap(Colormap::Blues)
    .label("density");
    Subplots::new("Subplots", 1, 3)
        .panel(Figure::new("lines").line("x", &ts, &damped))
        .panel(
            Figure::new("log y")
                .y_log()
                .line("envelope", &ts, &envelope),
        )
        .panel(Figure::new("density").heatmap(gauss))
        .save(dir.join("subplots"))?;
    eprintln!("wrote figures to {}", dir.display());
    Ok(())
}
