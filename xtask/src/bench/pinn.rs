//! W5 (pinn-burgers): one Adam step of Raissi et al.'s Burgers PINN with the fixture weights and
//! points of `fixtures/pinn.npz`, f32, on every backend, through the library's pieces: the
//! network `(x, t) → 8 × 20 tanh → 1` as sysdyn-core's jet [`Mlp`] built from `L0..L8`, the
//! residual `f = u_t + u u_x − ν u_xx` (`ν = 0.01/π`) on the jet of `u` (forward-mode
//! derivatives as tensor operations, burn's autodiff for the parameter gradient), the 100
//! initial/boundary points as a data term, and [`PinnStep`] (Adam 1e-3) on sysdyn-train:
//!
//! `loss = mean((u(x_u, t_u) − u_u)²) + mean(f(x_f, t_f)²)`.
//!
//! Two rows per backend: `sysdyn-<backend>-pinn-step` is the tensor path (jets as tensor
//! operations, [`PinnStep::with_host_engine`]`(false)`); `sysdyn-<backend>-pinn-step-host` the
//! default on CPU devices, the jets of `u` on sysdyn-mlp's host engine and only the residual,
//! the data term and Adam in burn (`sysdyn_physics::pinn::host`). Both time the full step.
//!
//! The first loss must equal WORKLOADS.md's 0.2096028 (relative band [`FIRST_LOSS_BAND`]).

use std::collections::BTreeMap;
use std::f64::consts::PI;

use burn::optim::AdamConfig;
use serde_json::{Map, Value};
use sysdyn_core::device::{Backend, DeviceSpec, Precision, SysDevice};
use sysdyn_core::jet::{Activation, Mlp};
use sysdyn_physics::pinn::{Condition, Domain, PinnProblem, PinnStep, Points};
use sysdyn_train::Optim;

use super::node_cnf::fixture_mlp;
use super::npz::{Array, load_fixture};
use super::{Bench, Reference, Workload};

const STEP: &str = "time_per_train_step";
/// WORKLOADS.md's first loss with the fixture weights.
const FIRST_LOSS: f64 = 0.2096028;
/// Relative band around [`FIRST_LOSS`] for an f32 computation.
const FIRST_LOSS_BAND: f64 = 1e-4;

/// W5: one Adam step of the Burgers PINN.
pub const W5: Workload = Workload {
    id: "W5",
    title: "pinn-burgers: (x, t) -> 8x20 tanh -> 1, 10000 collocation + 100 initial/boundary \
            points, residual u_t + u u_x - nu u_xx through jets, Adam, f32",
    references: &[
        Reference {
            metric: STEP,
            name: "torch",
            median: 33.1,
        },
        Reference {
            metric: STEP,
            name: "DeepXDE",
            median: 31.7,
        },
        Reference {
            metric: STEP,
            name: "JAX forward-mode",
            median: 36.1,
        },
        Reference {
            metric: STEP,
            name: "JAX nested",
            median: 74.7,
        },
    ],
    table_extras: &[("first_loss", "first loss")],
    run,
};

fn column(arrays: &BTreeMap<String, Array>, name: &str, len: usize) -> Result<Vec<f64>, String> {
    let a = arrays
        .get(name)
        .ok_or_else(|| format!("fixture pinn lacks `{name}`"))?;
    if a.values.len() != len {
        return Err(format!(
            "fixture pinn: `{name}` has {} values, W5 needs {len}",
            a.values.len()
        ));
    }
    Ok(a.values.clone())
}

/// Row-major `[x, t]` points from two columns.
fn points(x: &[f64], t: &[f64]) -> Result<Points, String> {
    let values = x.iter().zip(t).flat_map(|(&x, &t)| [x, t]).collect();
    Points::new(2, values).map_err(|e| e.to_string())
}

/// The W5 problem: Burgers' residual on the fixture's collocation points and its 100
/// initial/boundary values as a data term of weight 1.
pub(crate) fn burgers_problem(arrays: &BTreeMap<String, Array>) -> Result<PinnProblem, String> {
    let (x_f, t_f) = (
        column(arrays, "x_f", 10_000)?,
        column(arrays, "t_f", 10_000)?,
    );
    let (x_u, t_u) = (column(arrays, "x_u", 100)?, column(arrays, "t_u", 100)?);
    let u_u = column(arrays, "u_u", 100)?;
    let nu = 0.01 / PI;
    let domain = Domain::time_space(&[(-1.0, 1.0)], (0.0, 1.0)).map_err(|e| e.to_string())?;
    let initial_boundary =
        Condition::data("u(x_u, t_u)", points(&x_u, &t_u)?, u_u).map_err(|e| e.to_string())?;
    PinnProblem::new(domain, &[(0, 0)], points(&x_f, &t_f)?, move |p| {
        let u = p.u;
        Ok(u.d(1)? + u.value() * u.d(0)? - u.d2(0, 0)?.mul_scalar(nu))
    })
    .and_then(|problem| problem.with_condition(initial_boundary, 1.0))
    .map_err(|e| e.to_string())
}

/// The fixture network `L0..L8` with tanh.
pub(crate) fn fixture_net(
    device: &SysDevice,
    arrays: &BTreeMap<String, Array>,
) -> Result<Mlp, String> {
    fixture_mlp(device, arrays, 9, Activation::Tanh)
}

fn run(bench: &mut Bench) -> Result<(), String> {
    let arrays = load_fixture(bench.bench_dir(), "pinn")?;
    let problem = burgers_problem(&arrays)?;
    for backend in bench.backends().to_vec() {
        for (suffix, host) in [("", false), ("-host", true)] {
            let implementation = format!("sysdyn-{backend}-pinn-step{suffix}");
            if bench.selects(&implementation) {
                train_step(bench, backend, &arrays, &problem, implementation, host)?;
            }
        }
    }
    Ok(())
}

fn train_step(
    bench: &mut Bench,
    backend: Backend,
    arrays: &BTreeMap<String, Array>,
    problem: &PinnProblem,
    implementation: String,
    host: bool,
) -> Result<(), String> {
    let device = DeviceSpec::new(backend, Precision::F32)
        .with_autodiff(true)
        .init()
        .map_err(|e| e.to_string())?;
    let net = fixture_net(&device, arrays)?;
    let mut step = PinnStep::new(
        device,
        net,
        Optim::new(AdamConfig::new().with_epsilon(1e-8).build()),
        problem,
    )
    .map_err(|e| e.to_string())?
    .with_host_engine(host);
    let (timing, first) = bench.time_train_step(&mut step, 1e-3)?;
    let in_band = (first - FIRST_LOSS).abs() <= FIRST_LOSS_BAND * FIRST_LOSS;
    // NaN fails the band too.
    if !in_band {
        bench.note(format!(
            "FIRST LOSS OUT OF BAND {implementation}: {first} (expected {FIRST_LOSS} within a \
             relative {FIRST_LOSS_BAND})"
        ));
    }
    let mut extra = Map::new();
    extra.insert("first_loss".into(), Value::from(first));
    extra.insert("backend".into(), Value::from(backend.to_string()));
    extra.insert("host_engine".into(), Value::from(host));
    let m = timing.measurement("W5", implementation, STEP, extra);
    bench.record(m);
    Ok(())
}

#[cfg(test)]
mod tests {
    use sysdyn_physics::pinn::{PinnModel, host};

    use super::*;

    /// The fixture's first loss in f64 on the host backend equals WORKLOADS.md's f32 value (7
    /// digits), and in f32 within the bench's band, on the tensor path and on the host
    /// engine's path (autodiff devices, as the bench runs them).
    #[test]
    fn the_first_loss_is_the_workloads() {
        let arrays = load_fixture(&crate::bench::repo_bench_dir(), "pinn").unwrap();
        let problem = burgers_problem(&arrays).unwrap();
        for (precision, tolerance) in [(Precision::F64, 2e-6), (Precision::F32, 2e-5)] {
            let device = DeviceSpec::new(Backend::Flex, precision).init().unwrap();
            let model =
                PinnModel::new(fixture_net(&device, &arrays).unwrap(), &problem, &device).unwrap();
            let loss = problem.prepare(&device).unwrap();
            let value = model
                .parts(&loss)
                .unwrap()
                .total(&[1.0])
                .unwrap()
                .into_scalar::<f64>();
            assert!(
                (value - FIRST_LOSS).abs() < tolerance,
                "{precision:?}: {value} vs {FIRST_LOSS}"
            );
            let device = DeviceSpec::new(Backend::Flex, precision)
                .with_autodiff(true)
                .init()
                .unwrap();
            let model =
                PinnModel::new(fixture_net(&device, &arrays).unwrap(), &problem, &device).unwrap();
            let loss = problem.prepare(&device).unwrap();
            let on_host = host::loss_and_gradients(&model, &loss, &[1.0])
                .expect("the fixture MLP on flex takes the host path")
                .unwrap()
                .total;
            assert!(
                (on_host - FIRST_LOSS).abs() < tolerance,
                "{precision:?} host engine: {on_host} vs {FIRST_LOSS}"
            );
        }
    }
}
