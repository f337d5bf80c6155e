//! The example's figures: phase portraits per environment, test MSE per environment.

use std::path::Path;

use burn::tensor::Tensor;
use sysdyn_physics::environments::EnvTrajectories;
use sysdyn_plot::{Figure, Subplots};

use crate::{ExampleError, MethodResult};

fn host(t: Tensor<4>) -> Vec<f64> {
    t.into_data()
        .convert::<f64>()
        .try_to_vec::<f64>()
        .unwrap_or_default()
}

/// The first test trajectory of every environment in the phase plane `(x, y)`: the truth and
/// each method's prediction from the same initial state (first seed).
pub fn phase_portraits(
    dir: &Path,
    test: &EnvTrajectories,
    predictions: &[(&str, Tensor<4>)],
) -> Result<Vec<String>, ExampleError> {
    let [e, b, t, d] = test.states.dims();
    let truth = host(test.states.clone().detach());
    let preds: Vec<(&str, Vec<f64>)> = predictions
        .iter()
        .map(|(n, p)| (*n, host(p.clone().detach())))
        .collect();
    let at = |v: &[f64], env: usize, k: usize, c: usize| v[((env * b) * t + k) * d + c];
    let cols = e.div_ceil(2).max(1);
    let mut grid = Subplots::new(
        "Lotka–Volterra: first test trajectory per environment (truth and predictions)",
        2,
        cols,
    );
    for env in 0..e {
        let xs = |v: &[f64]| (0..t).map(|k| at(v, env, k, 0)).collect::<Vec<_>>();
        let ys = |v: &[f64]| (0..t).map(|k| at(v, env, k, 1)).collect::<Vec<_>>();
        let mut fig = Figure::new(&format!("environment {env}"))
            .x_label("prey x")
            .y_label("predator y")
            .line("truth", &xs(&truth), &ys(&truth));
        for (name, p) in &preds {
            fig = fig.line(name, &xs(p), &ys(p));
        }
        grid = grid.panel(fig);
    }
    let saved = grid.panel_size(320.0, 280.0).save(dir.join("phase"))?;
    Ok(saved.names_relative_to(dir))
}

/// Test MSE per environment, each method (mean over seeds), log scale.
pub fn mse_by_env(dir: &Path, results: &[MethodResult]) -> Result<Vec<String>, ExampleError> {
    let mut fig = Figure::new("Test MSE per environment (mean over seeds)")
        .x_label("environment")
        .y_label("test MSE")
        .y_log();
    for r in results {
        let xs: Vec<f64> = (0..r.test_mse_by_env.len()).map(|i| i as f64).collect();
        fig = fig.line(r.method, &xs, &r.test_mse_by_env);
    }
    let saved = fig.save(dir.join("mse_by_env"))?;
    Ok(saved.names_relative_to(dir))
}
