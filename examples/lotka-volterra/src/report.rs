//! `summary.json`: everything the example measured, machine readable.
//!
//! Besides the detailed sections, two fields follow the convention every sysdyn example keeps
//! so that `cargo xtask tour` can build its report without knowing the example: `figures` (file
//! names in the output folder) and `key_numbers` (a short list of `{name, value}` highlights).

use std::path::Path;

use serde::Serialize;
use sysdyn_core::fs::write_atomic;

use crate::ExampleError;
use crate::batched::BatchedResult;
use crate::experiments::{MethodResult, WorkCurve};

/// The problem's definition, so the file stands on its own.
#[derive(Debug, Clone, Serialize)]
pub struct ProblemInfo {
    /// Prey growth rate.
    pub a: f64,
    /// Predation rate.
    pub b: f64,
    /// Predator growth per prey eaten.
    pub d: f64,
    /// Predator death rate.
    pub g: f64,
    /// Initial state.
    pub y0: [f64; 2],
    /// Time span.
    pub t_span: [f64; 2],
    /// Published final state.
    pub published_final_state: [f64; 2],
}

/// The reference solution's provenance and self-check.
#[derive(Debug, Clone, Serialize)]
pub struct ReferenceInfo {
    /// Method.
    pub method: &'static str,
    /// rtol = atol.
    pub tol: f64,
    /// Output points of the reference trajectory.
    pub points: usize,
    /// Its vector-field evaluations.
    pub nfe: usize,
    /// Max-norm distance of its final state from the published one.
    pub error_vs_published: f64,
}

/// One highlighted number.
#[derive(Debug, Clone, Serialize)]
pub struct KeyNumber {
    /// What it is.
    pub name: String,
    /// Its value.
    pub value: f64,
}

impl KeyNumber {
    /// A named value.
    pub fn new(name: impl Into<String>, value: f64) -> Self {
        KeyNumber {
            name: name.into(),
            value,
        }
    }
}

/// Everything the example writes to `summary.json`.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// The example's name.
    pub example: &'static str,
    /// Whether this was the reduced `--quick` run.
    pub quick: bool,
    /// Output folder.
    pub out_dir: String,
    /// Backend of the batched solve.
    pub backend: String,
    /// Precision of the batched solve.
    pub precision: String,
    /// The problem.
    pub problem: ProblemInfo,
    /// The reference solution.
    pub reference: ReferenceInfo,
    /// Every method at its fixed step or tolerance.
    pub methods: Vec<MethodResult>,
    /// Error against work.
    pub work_precision: Vec<WorkCurve>,
    /// The batched family solve.
    pub batched: BatchedResult,
    /// Figure files written, relative to `out_dir`.
    pub figures: Vec<String>,
    /// Non-finite points left out of the figures (zero unless a solve went wrong).
    pub figure_points_skipped: usize,
    /// Highlights for reports.
    pub key_numbers: Vec<KeyNumber>,
    /// Wall-clock time of the whole run, seconds.
    pub wall_s: f64,
}

impl Summary {
    /// The result of `method` in the method comparison.
    pub fn method(&self, method: &str) -> Option<&MethodResult> {
        self.methods.iter().find(|m| m.method == method)
    }

    /// Writes `summary.json` into `dir` atomically.
    pub fn write(&self, dir: &Path) -> Result<(), ExampleError> {
        let mut text = serde_json::to_string_pretty(self)?;
        text.push('\n');
        write_atomic(&dir.join("summary.json"), text.as_bytes())?;
        Ok(())
    }
}
