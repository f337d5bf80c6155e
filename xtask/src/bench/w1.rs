//! W1 ode-lv: Lotka–Volterra with adaptive Dormand–Prince 5(4), rtol = atol = 1e-8, Hairer's
//! initial step, only the final state kept (WORKLOADS.md).
//!
//! - (a) `time_per_solve`: one trajectory from (1, 1) over [0, 15] on the plain path (`[f64; 2]`),
//!   the hand-written floor, and each backend with a `Tensor<1>` state (f64 on CPU, f32 on wgpu).
//! - (b) `time_per_batch_solve`: 1024 initial conditions (1 + 0.5 i/1023, 1) as one (1024, 2)
//!   system with one shared step size, on the plain path (`Vec<f64>`), the hand-written floor
//!   (`[f64; 2048]`) and each backend (`Tensor<2>`, f64 and f32 on CPU, f32 on wgpu).
//!
//! Errors are the largest absolute difference from the reference final state (a) and from
//! per-trajectory solves at rtol = atol = 1e-12 (b), whose first trajectory is checked against
//! the reference.
//!
//! f32 runs keep W1's tolerances, although 1e-8 is below f32 resolution: the embedded error
//! estimate is a weighted sum of stages, not a difference of states, so it stays meaningful and
//! the controller takes about W1's steps; the final error is then set by f32 rounding (about
//! 1e-5), which the `max_error` column shows.

use serde_json::{Map, Value, json};
use sysdyn_core::burn::tensor::Tensor;
use sysdyn_core::device::{Backend, Precision, SysDevice};
use sysdyn_solvers::methods::DOPRI5;
use sysdyn_solvers::{SolveConfig, Stats, solve};
use sysdyn_testing::problems::LotkaVolterra;

use super::handwritten_dopri5;
use super::{Bench, Reference, Workload, device};

/// Workload W1.
pub const W1: Workload = Workload {
    id: "W1",
    title: "ode-lv: Lotka–Volterra, adaptive Dormand–Prince 5(4), rtol = atol = 1e-8",
    references: &[
        Reference {
            metric: SINGLE,
            name: "diffrax",
            median: 0.133,
        },
        Reference {
            metric: SINGLE,
            name: "scipy",
            median: 8.9,
        },
        Reference {
            metric: SINGLE,
            name: "torchdiffeq",
            median: 182.0,
        },
        Reference {
            metric: BATCH_METRIC,
            name: "diffrax",
            median: 10.7,
        },
        Reference {
            metric: BATCH_METRIC,
            name: "torchdiffeq",
            median: 256.0,
        },
    ],
    table_extras: &[
        ("precision", "precision"),
        ("nfe", "NFE"),
        ("max_error", "max error"),
    ],
    run,
};

const SINGLE: &str = "time_per_solve";
const BATCH_METRIC: &str = "time_per_batch_solve";
const LV: LotkaVolterra = LotkaVolterra::W1;
const RTOL: f64 = 1e-8;
const ATOL: f64 = 1e-8;
/// Number of initial conditions of W1(b).
const BATCH: usize = 1024;
/// Goals of the plain path: a single solve in at most this many ms...
const GOAL_SINGLE_MS: f64 = 0.05;
/// ... and within this factor of the hand-written floor.
const GOAL_FLOOR_RATIO: f64 = 2.0;
/// Goal of the fastest batch path: diffrax's median, in ms.
const GOAL_BATCH_MS: f64 = 10.7;
/// Tolerance of the per-trajectory solves the batch errors are measured against.
const REFERENCE_TOL: f64 = 1e-12;
/// Attempted-step limit of the hand-written floor (the library's default limit).
const MAX_STEPS: usize = sysdyn_solvers::solve::DEFAULT_MAX_STEPS;

/// A solve's final state on the host and its counters.
struct Outcome {
    final_state: Vec<f64>,
    stats: Stats,
}

fn run(bench: &mut Bench) -> Result<(), String> {
    single(bench);
    batch(bench)
}

fn max_abs_diff(a: &[f64], b: &[f64]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}

/// `extra` of a measurement: counters, error, precision and what else is given.
fn extra(outcome: &Outcome, max_error: f64, precision: &str, more: Value) -> Map<String, Value> {
    let mut extra = Map::new();
    extra.insert("precision".into(), precision.into());
    extra.insert("nfe".into(), outcome.stats.nfe.into());
    extra.insert("accepted".into(), outcome.stats.accepted.into());
    extra.insert("rejected".into(), outcome.stats.rejected.into());
    extra.insert("max_error".into(), max_error.into());
    extra.insert("rtol".into(), RTOL.into());
    extra.insert("atol".into(), ATOL.into());
    if let Value::Object(more) = more {
        extra.extend(more);
    }
    extra
}

/// The W1 field on a tensor of any rank whose last dimension holds (x, y), as one matmul:
/// `f(Y) = Y ⊙ (Y M + c)` with `M = [[0, d], [-b, 0]]` and `c = (a, -g)`, which is
/// `(x (a - b y), y (d x - g))` row by row.
struct TensorField {
    m: Tensor<2>,
    c: Tensor<2>,
}

impl TensorField {
    fn new(dev: &SysDevice) -> Result<Self, String> {
        let m = dev
            .tensor(vec![0.0, LV.d, -LV.b, 0.0], [2, 2])
            .map_err(|e| e.to_string())?;
        let c = dev
            .tensor(vec![LV.a, -LV.g], [1, 2])
            .map_err(|e| e.to_string())?;
        Ok(TensorField { m, c })
    }

    fn eval<const D: usize>(&self, y: &Tensor<D>) -> Tensor<D> {
        let dims = y.dims();
        let rows = dims.iter().product::<usize>() / 2;
        let rates = y.clone().reshape([rows, 2]).matmul(self.m.clone()) + self.c.clone();
        y.clone() * rates.reshape(dims)
    }
}

/// Times a tensor solve from `y0` (the timed call includes reading the final state back).
fn time_tensor_solve<const D: usize>(
    bench: &Bench,
    dev: &SysDevice,
    y0: Tensor<D>,
) -> Result<(super::Timing, Outcome), String> {
    let field = TensorField::new(dev)?;
    let config = SolveConfig::<Tensor<D>>::adaptive(RTOL, ATOL);
    bench.time(|| {
        let mut f = |_t: f64, y: &Tensor<D>| field.eval(y);
        let sol = solve(&mut f, &DOPRI5, LotkaVolterra::W1_SPAN, y0.clone(), &config)
            .map_err(|e| e.to_string())?;
        Ok(Outcome {
            final_state: sysdyn_core::State::to_f64_vec(sol.last()),
            stats: sol.stats,
        })
    })
}

/// The precisions each backend is measured at: f64 where the policy allows it, f32 on wgpu, and
/// f32 as well on CPU backends when `f32_too`.
fn precisions(backend: Backend, f32_too: bool) -> Vec<Precision> {
    match (backend.supports_f64(), f32_too) {
        (true, true) => vec![Precision::F64, Precision::F32],
        (true, false) => vec![Precision::F64],
        (false, _) => vec![Precision::F32],
    }
}

fn single(bench: &mut Bench) {
    let reference = LotkaVolterra::W1_FINAL;
    let mut plain_ms = None;
    let mut floor_ms = None;

    bench.guarded("sysdyn-plain-f64 (a)", |bench| {
        let config = SolveConfig::<[f64; 2]>::adaptive(RTOL, ATOL);
        let (timing, outcome) = bench.time(|| {
            let mut f = |_t: f64, y: &[f64; 2]| LV.field(y);
            let sol = solve(
                &mut f,
                &DOPRI5,
                LotkaVolterra::W1_SPAN,
                LotkaVolterra::W1_Y0,
                &config,
            )
            .map_err(|e| e.to_string())?;
            Ok(Outcome {
                final_state: sol.last().to_vec(),
                stats: sol.stats,
            })
        })?;
        plain_ms = Some(timing.median_ms);
        let err = max_abs_diff(&outcome.final_state, &reference);
        let extra = extra(&outcome, err, "f64", json!({"state": "[f64; 2]"}));
        bench.record(timing.measurement("W1", "sysdyn-plain-f64", SINGLE, extra));
        Ok(())
    });

    bench.guarded("handwritten-dopri5-floor (a)", |bench| {
        let (timing, outcome) = bench.time(|| {
            let (y, s) = handwritten_dopri5::solve(
                |y: &[f64; 2]| LV.field(y),
                LotkaVolterra::W1_SPAN,
                LotkaVolterra::W1_Y0,
                RTOL,
                ATOL,
                MAX_STEPS,
            )?;
            Ok(Outcome {
                final_state: y.to_vec(),
                stats: Stats {
                    accepted: s.accepted,
                    rejected: s.rejected,
                    nfe: s.nfe,
                },
            })
        })?;
        floor_ms = Some(timing.median_ms);
        let err = max_abs_diff(&outcome.final_state, &reference);
        let extra = extra(&outcome, err, "f64", json!({"state": "[f64; 2]"}));
        bench.record(timing.measurement("W1", "handwritten-dopri5-floor", SINGLE, extra));
        Ok(())
    });

    for backend in bench.backends().to_vec() {
        for precision in precisions(backend, false) {
            let name = format!("sysdyn-{backend}-{precision}");
            bench.guarded(&format!("{name} (a)"), |bench| {
                let dev = device(backend, precision)?;
                let y0 = dev
                    .tensor(LotkaVolterra::W1_Y0.to_vec(), [2])
                    .map_err(|e| e.to_string())?;
                let (timing, outcome) = time_tensor_solve(bench, &dev, y0)?;
                let err = max_abs_diff(&outcome.final_state, &reference);
                let more = json!({"state": "Tensor<1> [2]", "backend": backend.name()});
                let extra = extra(&outcome, err, precision.name(), more);
                bench.record(timing.measurement("W1", name.clone(), SINGLE, extra));
                Ok(())
            });
        }
    }

    match (plain_ms, floor_ms) {
        (Some(plain), Some(floor)) => {
            let ratio = plain / floor;
            bench.note(format!(
                "goal (a): plain-f64 single solve <= {GOAL_SINGLE_MS} ms: {} ({plain:.4} ms)",
                bench.verdict(plain <= GOAL_SINGLE_MS)
            ));
            bench.note(format!(
                "goal (a): plain-f64 within {GOAL_FLOOR_RATIO}x of the hand-written floor: {} \
                 (plain / floor = {ratio:.2})",
                bench.verdict(ratio <= GOAL_FLOOR_RATIO)
            ));
        }
        _ => bench.note("goals (a) not evaluated: the plain path or the floor failed"),
    }
}

/// The batch's initial conditions, row-major (1024, 2).
fn batch_y0() -> Vec<f64> {
    (0..BATCH)
        .flat_map(|i| [1.0 + 0.5 * i as f64 / (BATCH - 1) as f64, 1.0])
        .collect()
}

/// Per-trajectory solves at a tolerance far below the batch's, as the batch's reference.
fn batch_reference(y0: &[f64]) -> Result<Vec<f64>, String> {
    let config = SolveConfig::<[f64; 2]>::adaptive(REFERENCE_TOL, REFERENCE_TOL);
    let mut out = Vec::with_capacity(y0.len());
    for pair in y0.chunks_exact(2) {
        let mut f = |_t: f64, y: &[f64; 2]| LV.field(y);
        let sol = solve(
            &mut f,
            &DOPRI5,
            LotkaVolterra::W1_SPAN,
            [pair[0], pair[1]],
            &config,
        )
        .map_err(|e| format!("reference solve: {e}"))?;
        out.extend_from_slice(sol.last());
    }
    Ok(out)
}

/// The W1 field on the whole batch, row-major (x_i, y_i), by hand.
fn batch_field(y: &[f64], out: &mut [f64]) {
    for (o, s) in out.chunks_exact_mut(2).zip(y.chunks_exact(2)) {
        let (x, p) = (s[0], s[1]);
        o[0] = LV.a * x - LV.b * x * p;
        o[1] = LV.d * x * p - LV.g * p;
    }
}

fn batch(bench: &mut Bench) -> Result<(), String> {
    let y0 = batch_y0();
    let reference = batch_reference(&y0)?;
    let traj0 = max_abs_diff(&reference[..2], &LotkaVolterra::W1_FINAL);
    bench.note(format!(
        "(b) errors are against per-trajectory solves at rtol = atol = {REFERENCE_TOL:e}; their \
         trajectory 0 differs from the reference final state by {traj0:.1e}"
    ));
    // The goal is about sysdyn's paths; the hand-written floor is only a yardstick.
    let mut fastest: Option<(String, f64)> = None;
    let mut consider = |name: &str, ms: f64| {
        if fastest.as_ref().is_none_or(|(_, best)| ms < *best) {
            fastest = Some((name.to_string(), ms));
        }
    };
    let mut floor_ms = None;

    bench.guarded("sysdyn-plain-f64 (b)", |bench| {
        let config = SolveConfig::<Vec<f64>>::adaptive(RTOL, ATOL);
        let (timing, outcome) = bench.time(|| {
            let mut f = |_t: f64, y: &Vec<f64>| {
                let mut out = vec![0.0; y.len()];
                batch_field(y, &mut out);
                out
            };
            let sol = solve(&mut f, &DOPRI5, LotkaVolterra::W1_SPAN, y0.clone(), &config)
                .map_err(|e| e.to_string())?;
            let stats = sol.stats;
            let final_state = sol.ys.into_iter().next_back().unwrap_or_default();
            Ok(Outcome { final_state, stats })
        })?;
        consider("sysdyn-plain-f64", timing.median_ms);
        let err = max_abs_diff(&outcome.final_state, &reference);
        let extra = extra(&outcome, err, "f64", json!({"state": "Vec<f64> [2048]"}));
        bench.record(timing.measurement("W1", "sysdyn-plain-f64", BATCH_METRIC, extra));
        Ok(())
    });

    bench.guarded("handwritten-dopri5-floor (b)", |bench| {
        let mut start = [0.0; 2 * BATCH];
        start.copy_from_slice(&y0);
        let (timing, outcome) = bench.time(|| {
            let (y, s) = handwritten_dopri5::solve(
                |y: &[f64; 2 * BATCH]| {
                    let mut out = [0.0; 2 * BATCH];
                    batch_field(y, &mut out);
                    out
                },
                LotkaVolterra::W1_SPAN,
                start,
                RTOL,
                ATOL,
                MAX_STEPS,
            )?;
            Ok(Outcome {
                final_state: y.to_vec(),
                stats: Stats {
                    accepted: s.accepted,
                    rejected: s.rejected,
                    nfe: s.nfe,
                },
            })
        })?;
        floor_ms = Some(timing.median_ms);
        let err = max_abs_diff(&outcome.final_state, &reference);
        let extra = extra(&outcome, err, "f64", json!({"state": "[f64; 2048]"}));
        bench.record(timing.measurement("W1", "handwritten-dopri5-floor", BATCH_METRIC, extra));
        Ok(())
    });

    for backend in bench.backends().to_vec() {
        for precision in precisions(backend, true) {
            let name = format!("sysdyn-{backend}-{precision}");
            bench.guarded(&format!("{name} (b)"), |bench| {
                let dev = device(backend, precision)?;
                let y = dev
                    .tensor(y0.clone(), [BATCH, 2])
                    .map_err(|e| e.to_string())?;
                let (timing, outcome) = time_tensor_solve(bench, &dev, y)?;
                consider(&name, timing.median_ms);
                let err = max_abs_diff(&outcome.final_state, &reference);
                let more = json!({"state": "Tensor<2> [1024, 2]", "backend": backend.name()});
                let extra = extra(&outcome, err, precision.name(), more);
                bench.record(timing.measurement("W1", name.clone(), BATCH_METRIC, extra));
                Ok(())
            });
        }
    }

    if let Some((name, ms)) = fastest {
        let vs_floor = floor_ms.map_or_else(String::new, |floor| {
            format!("; {:.2}x the hand-written floor", ms / floor)
        });
        bench.note(format!(
            "goal (b): batch on sysdyn's fastest path <= {GOAL_BATCH_MS} ms (diffrax): {} \
             ({name}, {ms:.3} ms{vs_floor})",
            bench.verdict(ms <= GOAL_BATCH_MS)
        ));
    }
    Ok(())
}
