//! Metrics as JSON lines: `<run_dir>/metrics.jsonl`, one object per line.
//!
//! Every line has `"step"` (the number of steps completed when it was written) and `"kind"`
//! (`"train"`, `"eval"`, `"early_stop"`, `"diverged"`); train lines add `"epoch"`, `"lr"` and
//! `"loss"`, and all kinds a `"metrics"` object. Lines carry no wall-clock times, so a run
//! resumed after a crash writes the same file as one that never stopped: on resume, the lines
//! written after the checkpoint being resumed from are dropped.

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::checkpoint::{sync_file, write_atomic};
use crate::error::TrainError;

/// One line of `metrics.jsonl`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricsLine {
    /// Steps completed when the line was written.
    pub step: u64,
    /// `"train"`, `"eval"`, `"early_stop"` or `"diverged"`.
    pub kind: String,
    /// The epoch (train lines).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epoch: Option<u64>,
    /// The learning rate of the step (train lines).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lr: Option<f64>,
    /// The loss of the step (train and diverged lines; `null` when not finite).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loss: Option<f64>,
    /// Named values: the step's or the evaluation's metrics.
    #[serde(default)]
    pub metrics: BTreeMap<String, f64>,
}

impl MetricsLine {
    /// A line of `kind` at `step` with no values.
    pub fn new(step: u64, kind: &str) -> Self {
        MetricsLine {
            step,
            kind: kind.to_string(),
            epoch: None,
            lr: None,
            loss: None,
            metrics: BTreeMap::new(),
        }
    }
}

/// Reads every line of a metrics file (a torn last line, from a crash mid-write, is skipped).
pub fn read_metrics(path: &Path) -> Result<Vec<MetricsLine>, TrainError> {
    let text = match fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => {
            return Err(TrainError::Corrupt {
                path: path.to_path_buf(),
                detail: e.to_string(),
            });
        }
    };
    Ok(text
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect())
}

/// Appends lines to `metrics.jsonl`.
pub(crate) struct MetricsLog {
    path: PathBuf,
    out: BufWriter<File>,
}

impl MetricsLog {
    /// Starts an empty file (a fresh run).
    pub(crate) fn create(path: &Path) -> Result<Self, TrainError> {
        let file = File::create(path).map_err(|e| TrainError::unwritable(path, e))?;
        Ok(MetricsLog {
            path: path.to_path_buf(),
            out: BufWriter::new(file),
        })
    }

    /// Continues the file of a run resumed after `step` steps: lines written after that step
    /// (by the interrupted process, after its last checkpoint) are dropped first.
    pub(crate) fn resume(path: &Path, step: u64) -> Result<Self, TrainError> {
        let text = match fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(TrainError::unwritable(path, e)),
        };
        let mut kept = String::new();
        for line in text.lines() {
            match serde_json::from_str::<MetricsLine>(line) {
                Ok(parsed) if parsed.step <= step && parsed.kind != "diverged" => {
                    kept.push_str(line);
                    kept.push('\n');
                }
                _ => {}
            }
        }
        write_atomic(path, kept.as_bytes())?;
        let file = OpenOptions::new()
            .append(true)
            .open(path)
            .map_err(|e| TrainError::unwritable(path, e))?;
        Ok(MetricsLog {
            path: path.to_path_buf(),
            out: BufWriter::new(file),
        })
    }

    pub(crate) fn write(&mut self, line: &MetricsLine) -> Result<(), TrainError> {
        let text = serde_json::to_string(line)
            .map_err(|e| TrainError::unwritable(&self.path, std::io::Error::other(e)))?;
        writeln!(self.out, "{text}").map_err(|e| TrainError::unwritable(&self.path, e))
    }

    /// Flushes and fsyncs (before a checkpoint: the lines it covers must be on disk).
    pub(crate) fn sync(&mut self) -> Result<(), TrainError> {
        self.out
            .flush()
            .map_err(|e| TrainError::unwritable(&self.path, e))?;
        sync_file(&self.path)
    }
}
