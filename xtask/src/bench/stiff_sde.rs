//! The workloads of the stiff and stochastic solvers (beyond WORKLOADS.md's W1–W6): Robertson's
//! stiff kinetics and 1024 paths of geometric Brownian motion. The measuring code is in
//! [`super::robertson_gbm`]; this module files its rows under the bench's workload registry.

use super::robertson_gbm::{self, Measurement as Row};
use super::{Bench, Workload};

/// Robertson's chemical kinetics to t = 1e5 with the implicit solvers.
pub const ROBERTSON: Workload = Workload {
    id: "robertson",
    title: "Robertson kinetics to t = 1e5 (stiff), rtol 1e-6, atol 1e-10, f64",
    references: &[],
    table_extras: &[
        ("precision", "precision"),
        ("steps", "steps"),
        ("nfe", "NFE"),
        ("max_rel_error", "max rel. error"),
    ],
    run: |bench| file_rows(bench, "robertson", robertson_gbm::robertson),
};

/// 1024 paths of geometric Brownian motion, 1000 fixed steps.
pub const GBM: Workload = Workload {
    id: "gbm",
    title: "GBM, 1024 paths x 1000 steps (SDE), Brownian tree from a seed",
    references: &[],
    table_extras: &[
        ("method", "method"),
        ("precision", "precision"),
        ("z_mean", "z-score of mean y(1)"),
    ],
    run: |bench| file_rows(bench, "gbm", robertson_gbm::gbm),
};

fn file_rows(
    bench: &mut Bench,
    id: &str,
    measure: fn(bool, &mut Vec<Row>) -> Result<(), String>,
) -> Result<(), String> {
    let mut rows = Vec::new();
    measure(bench.quick, &mut rows)?;
    bench.file_rows(id, rows);
    Ok(())
}
