//! Two sysdyn-physics workloads (not in WORKLOADS.md's W1–W7), on the host in f64:
//!
//! - `fhn-dataset`: APHYNITY's FitzHugh–Nagumo data set — 1600 trajectories on the 32 × 32
//!   periodic grid over `[−1, 1)²` (`a = 1e-3`, `b = 5e-3`, `k = 5e-3`), horizon 3, step 0.1,
//!   Dopri5 at `rtol = 1e-8`, rayon over trajectories (`--quick`: 16 trajectories). The check:
//!   every state finite and two calls with the same seed bit-identical.
//! - `stlsq`: sequentially thresholded least squares (`discovery::regression::stlsq`, threshold
//!   0.1, ridge 0.05, PySINDy's defaults) on 10⁵ rows × 20 terms with 3 targets, a fixed seeded
//!   synthetic problem made here: `Θ` standard normal, `Ξ` with four terms per target of
//!   magnitude in `[0.5, 2)`, `Y = Θ Ξᵀ + 0.1 ε`. The check: the support recovered exactly.
//!   PySINDy's `STLSQ` on the same sizes and structure (not the same numbers) is
//!   `bench/peers/stlsq.py`; it is not a reference row because it was timed once by hand, on
//!   a loaded machine (see the closing note of the equation-discovery work).

use serde_json::{Map, Value};
use sysdyn_core::linalg::Matrix;
use sysdyn_core::rng::SeededRng;
use sysdyn_physics::discovery::{Stlsq, stlsq};
use sysdyn_physics::simulators::fitzhugh_nagumo::FitzHughNagumo;

use super::{Bench, Workload};

const GENERATE: &str = "time_per_dataset";
const FIT: &str = "time_per_fit";

/// APHYNITY's FitzHugh–Nagumo data set.
pub const FHN_DATASET: Workload = Workload {
    id: "fhn-dataset",
    title: "FitzHugh-Nagumo 32x32 data set: 1600 trajectories, horizon 3, step 0.1, Dopri5 \
            rtol 1e-8, f64, rayon over trajectories",
    references: &[],
    table_extras: &[
        ("trajectories", "trajectories"),
        ("reproducible", "bit-identical"),
    ],
    run: run_fhn,
};

/// STLSQ on 10⁵ × 20.
pub const STLSQ: Workload = Workload {
    id: "stlsq",
    title: "STLSQ (threshold 0.1, ridge 0.05) on 1e5 rows x 20 terms, 3 targets, f64",
    references: &[],
    table_extras: &[("support_recovered", "support recovered")],
    run: run_stlsq,
};

fn run_fhn(bench: &mut Bench) -> Result<(), String> {
    let implementation = "sysdyn-host-fhn-dataset";
    if !bench.selects(implementation) {
        return Ok(());
    }
    let count = if bench.is_quick() { 16 } else { 1600 };
    let model = FitzHughNagumo::aphynity();
    let first = model.dataset(count, 0).map_err(|e| e.to_string())?;
    let (timing, last) = bench.time(|| model.dataset(count, 0).map_err(|e| e.to_string()))?;
    let finite = last
        .trajectories
        .iter()
        .all(|t| t.states.iter().flatten().all(|v| v.is_finite()));
    if !finite {
        return Err("a FitzHugh-Nagumo state is not finite".into());
    }
    let mut extra = Map::new();
    extra.insert("trajectories".into(), Value::from(count));
    extra.insert("reproducible".into(), Value::from(first == last));
    extra.insert("frames".into(), Value::from(last.times.len()));
    bench.record(timing.measurement("fhn-dataset", implementation, GENERATE, extra));
    if bench.is_quick() {
        bench.note("--quick times 16 trajectories, not 1600");
    }
    Ok(())
}

/// The fixed synthetic regression: `(Θ, Ξ, Y)`.
fn regression_problem() -> Result<(Matrix, Matrix, Matrix), String> {
    let (rows, terms, targets) = (100_000, 20, 3);
    let mut rng = SeededRng::new(2024);
    let theta = Matrix::from_row_major(rows, terms, rng.normals(rows * terms))
        .map_err(|e| e.to_string())?;
    let mut xi = Matrix::zeros(targets, terms);
    for k in 0..targets {
        for j in 0..4 {
            let term = (7 * k + 5 * j) % terms;
            let sign = if rng.uniform() < 0.5 { -1.0 } else { 1.0 };
            xi[(k, term)] = sign * (0.5 + 1.5 * rng.uniform());
        }
    }
    let mut y = Matrix::zeros(rows, targets);
    for i in 0..rows {
        for k in 0..targets {
            let clean: f64 = (0..terms).map(|j| theta[(i, j)] * xi[(k, j)]).sum();
            y[(i, k)] = clean + 0.1 * rng.normal();
        }
    }
    Ok((theta, xi, y))
}

fn run_stlsq(bench: &mut Bench) -> Result<(), String> {
    let implementation = "sysdyn-host-stlsq";
    if !bench.selects(implementation) {
        return Ok(());
    }
    let (theta, xi, y) = regression_problem()?;
    let config = Stlsq::default();
    let (timing, fit) = bench.time(|| stlsq(&theta, &y, &config).map_err(|e| e.to_string()))?;
    let support =
        (0..xi.rows()).all(|k| (0..xi.cols()).all(|j| (fit[(k, j)] != 0.0) == (xi[(k, j)] != 0.0)));
    if !support {
        return Err("STLSQ did not recover the synthetic support".into());
    }
    let mut extra = Map::new();
    extra.insert("support_recovered".into(), Value::from(support));
    extra.insert("rows".into(), Value::from(theta.rows()));
    extra.insert("terms".into(), Value::from(theta.cols()));
    bench.record(timing.measurement("stlsq", implementation, FIT, extra));
    Ok(())
}
