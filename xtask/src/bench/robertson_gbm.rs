//! Two workloads beyond W1–W6, for the stiff and stochastic solvers:
//!
//! - **Robertson** (stiff): Robertson's chemical kinetics (k1 = 0.04, k2 = 3e7, k3 = 1e4) from
//!   `y(0) = (1, 0, 0)` to `t = 1e5`, rtol 1e-6, atol 1e-10, final state only, float64. Metric
//!   `time_per_solve`; `extra` has the step counts, NFE and the largest relative error against
//!   the reference state. ESDIRK4 with finite-difference and analytic Jacobians and TR-BDF2 on the
//!   plain `[f64; 3]` path, and ESDIRK4 on a flex f64 tensor.
//! - **GBM** (SDE): 1024 paths of geometric Brownian motion `dy = 0.5 y dt + 0.3 y dW` (Itô) from
//!   `y0 = 1` over `[0, 1]` in 1000 fixed steps, diagonal noise (one Brownian component per path),
//!   float64 on the plain `Vec<f64>` path and float32 on tensors. Metric `time_per_solve`; each
//!   call builds its virtual Brownian tree from the seed (depth 10: bottom cells of 1/1024,
//!   narrower than the step, so no cell holds two step ends and every increment is exact), so the
//!   time includes drawing the noise; the metric `time_brownian_only` is that part alone. `extra`
//!   has the sample mean of `y(1)` and its z-score against `E y(1) = e^{0.5}`.
//!
//! [`robertson`] and [`gbm`] push `(impl, metric, samples in ms, extra)` rows, warming up and
//! timing like the bench protocol (3 untimed calls, then at least 10 timed calls and 2 s; quick:
//! 1, 3 and 20 ms); [`super::stiff_sde`] files them under the bench's workloads.

use serde_json::{Value, json};
use sysdyn_core::State;
use sysdyn_core::burn::tensor::Tensor;
use sysdyn_core::device::{Backend, DeviceSpec, Precision, SysDevice};
use sysdyn_solvers::brownian::{BrownianPath, VirtualBrownianTree};
use sysdyn_solvers::implicit::{ESDIRK4, TRBDF2};
use sysdyn_solvers::jacobian::WithJacobian;
use sysdyn_solvers::linalg::Matrix;
use sysdyn_solvers::sde::{
    EulerMaruyama, Milstein, Noise, ReversibleHeun, Sde, SdeConfig, SdeMethod, SdeTerms, solve_sde,
};
use sysdyn_solvers::{SolveConfig, solve};
use sysdyn_testing::problems::{GeometricBrownianMotion, Robertson};

use super::{Protocol, time_calls};

/// One measurement: implementation, metric, timed samples (ms), extra fields.
pub type Measurement = (String, String, Vec<f64>, Value);

const GBM: GeometricBrownianMotion = GeometricBrownianMotion {
    mu: 0.5,
    sigma: 0.3,
};
const PATHS: usize = 1024;
const SDE_STEPS: usize = 1000;
const BROWNIAN_DEPTH: u32 = 10;
const SEED: u64 = 2024;

/// The bench protocol's timing of `call` (quick or full): the samples and the last result.
fn time<T>(quick: bool, call: impl FnMut() -> Result<T, String>) -> Result<(Vec<f64>, T), String> {
    Ok(time_calls(Protocol::of_run(quick), call)?.into_samples_and_last())
}

/// Times GBM solves of the plain `Vec<f64>` paths with `method` on the terms `make_terms`
/// builds, each from a fresh Brownian tree: a `time_per_solve` row `sysdyn-f64-<name>`.
fn plain_gbm_row<T, M>(
    (quick, config, y0): (bool, &SdeConfig, &Vec<f64>),
    make_terms: impl Fn() -> T,
    method: &M,
    name: &str,
    label: &str,
) -> Result<Measurement, String>
where
    T: SdeTerms<Vec<f64>>,
    M: SdeMethod<Vec<f64>>,
{
    let (samples, finals) = time(quick, || {
        let mut w = tree()?;
        let sol = solve_sde(
            &mut make_terms(),
            method,
            (0.0, 1.0),
            y0.clone(),
            &mut w,
            config,
        )
        .map_err(|e| e.to_string())?;
        Ok(sol.last().clone())
    })?;
    Ok((
        format!("sysdyn-f64-{name}"),
        "time_per_solve".into(),
        samples,
        gbm_extra(&finals, label, "f64"),
    ))
}

fn max_relative_error(y: &[f64]) -> f64 {
    y.iter()
        .zip(Robertson::AT_1E5)
        .map(|(a, r)| ((a - r) / r).abs())
        .fold(0.0, f64::max)
}

fn robertson_extra(y: &[f64], stats: sysdyn_solvers::Stats) -> Value {
    json!({
        "workload": "robertson",
        "steps": stats.accepted,
        "rejected": stats.rejected,
        "nfe": stats.nfe,
        "max_rel_error": max_relative_error(y),
        "rtol": 1e-6,
        "atol": 1e-10,
        "precision": "f64",
    })
}

pub fn robertson(quick: bool, out: &mut Vec<Measurement>) -> Result<(), String> {
    let p = Robertson::STANDARD;
    let config = SolveConfig::adaptive(1e-6, 1e-10);
    let span = (0.0, 1e5);

    let (samples, sol) = time(quick, || {
        let mut f = |_t: f64, y: &[f64; 3]| p.field(y);
        solve(&mut f, &ESDIRK4, span, Robertson::Y0, &config).map_err(|e| e.to_string())
    })?;
    let extra = robertson_extra(sol.last(), sol.stats);
    out.push((
        "sysdyn-f64-esdirk4".into(),
        "time_per_solve".into(),
        samples,
        extra,
    ));

    let (samples, sol) = time(quick, || {
        let mut f = WithJacobian::new(
            |_t: f64, y: &[f64; 3]| p.field(y),
            |_t: f64, y: &[f64; 3], jac: &mut Matrix| {
                for (i, row) in p.jacobian(y).iter().enumerate() {
                    for (j, v) in row.iter().enumerate() {
                        jac[(i, j)] = *v;
                    }
                }
            },
        );
        solve(&mut f, &ESDIRK4, span, Robertson::Y0, &config).map_err(|e| e.to_string())
    })?;
    let extra = robertson_extra(sol.last(), sol.stats);
    out.push((
        "sysdyn-f64-esdirk4-analytic-jacobian".into(),
        "time_per_solve".into(),
        samples,
        extra,
    ));

    let (samples, sol) = time(quick, || {
        let mut f = |_t: f64, y: &[f64; 3]| p.field(y);
        solve(&mut f, &TRBDF2, span, Robertson::Y0, &config).map_err(|e| e.to_string())
    })?;
    let extra = robertson_extra(sol.last(), sol.stats);
    out.push((
        "sysdyn-f64-trbdf2".into(),
        "time_per_solve".into(),
        samples,
        extra,
    ));

    // The same solve on a flex f64 tensor of shape [3]: every f evaluation is tensor ops, the
    // Newton iterations run on the host.
    let device = DeviceSpec::new(Backend::Flex, Precision::F64)
        .init()
        .map_err(|e| e.to_string())?;
    let (samples, sol) = time(quick, || {
        let mut f = |_t: f64, y: &Tensor<1>| {
            let y1 = y.clone().narrow(0, 0, 1);
            let y2 = y.clone().narrow(0, 1, 1);
            let y3 = y.clone().narrow(0, 2, 1);
            let r1 = y1.mul_scalar(p.k1);
            let r2 = y2.clone().square().mul_scalar(p.k2);
            let r3 = (y2 * y3).mul_scalar(p.k3);
            Tensor::cat(vec![r3.clone() - r1.clone(), r1 - r2.clone() - r3, r2], 0)
        };
        let y0 = device
            .tensor(Robertson::Y0.to_vec(), [3])
            .map_err(|e| e.to_string())?;
        let config = SolveConfig::adaptive(1e-6, 1e-10);
        let sol = solve(&mut f, &ESDIRK4, span, y0, &config).map_err(|e| e.to_string())?;
        Ok((sol.last().to_f64_vec(), sol.stats))
    })?;
    let extra = robertson_extra(&sol.0, sol.1);
    out.push((
        "sysdyn-flex-f64-esdirk4".into(),
        "time_per_solve".into(),
        samples,
        extra,
    ));
    Ok(())
}

/// Mean of `y(1)` over the paths and its z-score against `e^{μ}`.
fn gbm_extra(finals: &[f64], method: &str, precision: &str) -> Value {
    let n = finals.len() as f64;
    let mean = finals.iter().sum::<f64>() / n;
    let var = finals.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
    let exact = GBM.mu.exp();
    json!({
        "workload": "gbm",
        "paths": PATHS,
        "steps": SDE_STEPS,
        "method": method,
        "precision": precision,
        "brownian_depth": BROWNIAN_DEPTH,
        "mean_y1": mean,
        "exact_mean_y1": exact,
        "z_mean": (mean - exact) / (var / n).sqrt(),
    })
}

fn tree() -> Result<VirtualBrownianTree, String> {
    VirtualBrownianTree::new(SEED, (0.0, 1.0), PATHS)
        .and_then(|w| w.with_depth(BROWNIAN_DEPTH))
        .map_err(|e| e.to_string())
}

pub fn gbm(quick: bool, out: &mut Vec<Measurement>) -> Result<(), String> {
    let config = SdeConfig::fixed(1.0 / SDE_STEPS as f64);
    let y0 = vec![1.0; PATHS];

    // The noise alone: every increment of the solve, drawn from a fresh tree.
    let (samples, _) = time(quick, || {
        let mut w = tree()?;
        let mut dw = vec![0.0; PATHS];
        let mut t = 0.0;
        for i in 1..=SDE_STEPS {
            let t1 = i as f64 / SDE_STEPS as f64;
            w.increment(t, t1, &mut dw).map_err(|e| e.to_string())?;
            t = t1;
        }
        Ok(dw[0])
    })?;
    out.push((
        "sysdyn-host-f64-brownian-tree".into(),
        "time_brownian_only".into(),
        samples,
        json!({
            "workload": "gbm",
            "paths": PATHS,
            "steps": SDE_STEPS,
            "brownian_depth": BROWNIAN_DEPTH,
        }),
    ));

    // Plain `Vec<f64>` paths, Itô (Euler–Maruyama, Milstein) and Stratonovich (reversible Heun).
    let ito = || {
        Sde::ito(
            Noise::Diagonal,
            |_t: f64, y: &Vec<f64>| y.iter().map(|v| GBM.mu * v).collect::<Vec<f64>>(),
            |_t: f64, y: &Vec<f64>| y.iter().map(|v| GBM.sigma * v).collect::<Vec<f64>>(),
        )
    };
    let stratonovich = || {
        Sde::stratonovich(
            Noise::Diagonal,
            |_t: f64, y: &Vec<f64>| {
                y.iter()
                    .map(|v| GBM.stratonovich_rate() * v)
                    .collect::<Vec<f64>>()
            },
            |_t: f64, y: &Vec<f64>| y.iter().map(|v| GBM.sigma * v).collect::<Vec<f64>>(),
        )
    };
    let plain = (quick, &config, &y0);
    out.push(plain_gbm_row(
        plain,
        ito,
        &EulerMaruyama,
        "euler-maruyama",
        "euler_maruyama",
    )?);
    out.push(plain_gbm_row(
        plain,
        ito,
        &Milstein,
        "milstein",
        "milstein (derivative-free)",
    )?);
    out.push(plain_gbm_row(
        plain,
        stratonovich,
        &ReversibleHeun,
        "reversible-heun",
        "reversible_heun",
    )?);

    // Euler–Maruyama on f32 tensors of shape [1024] on every compiled backend: the increments
    // are drawn on the host and uploaded once per step, so every backend follows the same path.
    for backend in Backend::compiled() {
        let device: SysDevice = match DeviceSpec::new(backend, Precision::F32).init() {
            Ok(d) => d,
            Err(e) => {
                out.push((
                    format!("sysdyn-{backend}-f32-euler-maruyama"),
                    "time_per_solve".into(),
                    Vec::new(),
                    json!({"workload": "gbm", "failed": e.to_string()}),
                ));
                continue;
            }
        };
        let timed = time(quick, || {
            let mut terms = Sde::ito(
                Noise::Diagonal,
                |_t: f64, y: &Tensor<1>| y.clone().mul_scalar(GBM.mu),
                |_t: f64, y: &Tensor<1>| y.clone().mul_scalar(GBM.sigma),
            );
            let mut w = tree()?;
            let y0 = device
                .tensor(vec![1.0; PATHS], [PATHS])
                .map_err(|e| e.to_string())?;
            let sol = solve_sde(&mut terms, &EulerMaruyama, (0.0, 1.0), y0, &mut w, &config)
                .map_err(|e| e.to_string())?;
            Ok(sol.last().to_f64_vec())
        });
        match timed {
            Ok((samples, finals)) => out.push((
                format!("sysdyn-{backend}-f32-euler-maruyama"),
                "time_per_solve".into(),
                samples,
                gbm_extra(&finals, "euler_maruyama", "f32"),
            )),
            Err(e) => out.push((
                format!("sysdyn-{backend}-f32-euler-maruyama"),
                "time_per_solve".into(),
                Vec::new(),
                json!({"workload": "gbm", "failed": e}),
            )),
        }
    }
    Ok(())
}
