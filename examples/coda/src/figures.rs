//! The example's figures: the adaptation map (error and learned context over `(β, δ)`) and
//! the new environments' trajectories.

use std::path::Path;

use burn::tensor::Tensor;
use sysdyn_physics::PhysicsError;
use sysdyn_physics::environments::step::{EnvironmentModel, predict};
use sysdyn_physics::environments::{Coda, EnvTrajectories, Leads};
use sysdyn_plot::{Figure, Heatmap, Subplots};

use crate::{AdaptationMap, ExampleError};

fn host(t: Tensor<4>) -> Vec<f64> {
    t.into_data()
        .convert::<f64>()
        .try_to_vec::<f64>()
        .unwrap_or_default()
}

/// Three panels over `(β, δ)`: the adapted test MSE (log colour) and both context
/// coordinates, with the training (circles) and adaptation environments marked.
pub fn adaptation_map(
    dir: &Path,
    map: &AdaptationMap,
    train_envs: &[[f64; 4]],
    new_envs: &[[f64; 4]],
) -> Result<Vec<String>, ExampleError> {
    let marks = |fig: Figure| {
        let (tb, td): (Vec<f64>, Vec<f64>) = train_envs.iter().map(|p| (p[1], p[3])).unzip();
        let (nb, nd): (Vec<f64>, Vec<f64>) = new_envs.iter().map(|p| (p[1], p[3])).unzip();
        fig.scatter("training environments", &tb, &td)
            .scatter("adaptation environments", &nb, &nd)
    };
    let panel = |title: &str, values: &[f64], log: bool| {
        let mut h = Heatmap::new(&map.axis, &map.axis, values);
        if log {
            h = h.log_color();
        }
        marks(Figure::new(title).x_label("β").y_label("δ").heatmap(h))
    };
    let xi = |c: usize| -> Vec<f64> {
        map.contexts
            .iter()
            .map(|v| v.get(c).copied().unwrap_or(f64::NAN))
            .collect()
    };
    let grid = Subplots::new(
        &format!(
            "CoDA adapted to every (β, δ) of a {} × {} grid from one trajectory each",
            map.n, map.n
        ),
        1,
        3,
    )
    .panel(panel("test MSE after adaptation", &map.mse, true))
    .panel(panel("context ξ₁", &xi(0), false))
    .panel(panel("context ξ₂", &xi(1), false))
    .panel_size(380.0, 340.0);
    let saved = grid.save(dir.join("adaptation_map"))?;
    Ok(saved.names_relative_to(dir))
}

/// The first test trajectory of each new environment: truth, CoDA adapted, One-For-All
/// fine-tuned (first seed).
pub fn new_environments(
    dir: &Path,
    test: &EnvTrajectories,
    adapted: &Coda,
    finetuned: &Leads,
) -> Result<Vec<String>, ExampleError> {
    fn predicted<M: EnvironmentModel>(
        m: &M,
        test: &EnvTrajectories,
    ) -> Result<Vec<f64>, PhysicsError> {
        Ok(host(predict(m, test, 1)?.detach()))
    }
    let [e, b, t, d] = test.states.dims();
    let truth = host(test.states.clone().detach());
    let coda = predicted(adapted, test)?;
    let ofa = predicted(finetuned, test)?;
    let at = |v: &[f64], env: usize, k: usize, c: usize| v[((env * b) * t + k) * d + c];
    let mut grid = Subplots::new(
        "New environments: first test trajectory (truth, CoDA adapted, One-For-All fine-tuned)",
        1,
        e.max(1),
    );
    for env in 0..e {
        let xs = |v: &[f64]| (0..t).map(|k| at(v, env, k, 0)).collect::<Vec<_>>();
        let ys = |v: &[f64]| (0..t).map(|k| at(v, env, k, 1)).collect::<Vec<_>>();
        grid = grid.panel(
            Figure::new(&format!("new environment {env}"))
                .x_label("prey x")
                .y_label("predator y")
                .line("truth", &xs(&truth), &ys(&truth))
                .line("CoDA (context only)", &xs(&coda), &ys(&coda))
                .line("One-For-All fine-tuned", &xs(&ofa), &ys(&ofa)),
        );
    }
    let saved = grid
        .panel_size(320.0, 280.0)
        .save(dir.join("new_environments"))?;
    Ok(saved.names_relative_to(dir))
}
