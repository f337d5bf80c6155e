//! The training runs of one invocation and where they live.
//!
//! The example trains many small networks (every problem × architecture × depth of the
//! classification, and one convolutional network per architecture on MNIST), each a run of the
//! training runtime with its own run directory `<out>/run/<name>` (`config.json`,
//! `metrics.jsonl`, `checkpoints/step-<n>/`). `--load DIR` and `--resume DIR` therefore name the
//! parent folder, `<out>/run` of an earlier invocation, and [`RunPlan::session`] finds each
//! run's folder in it by name.

use std::path::{Path, PathBuf};

use sysdyn_train::{ProgressMode, RunSet, Session, TrainConfig};

use crate::ExampleError;

/// What the flags ask of the runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunMode {
    /// Train every run afresh under the plan's root.
    Fresh,
    /// Load every run's newest checkpoint from this parent folder; no training.
    Load(PathBuf),
    /// Continue every run in this parent folder from its newest checkpoint (a run without one
    /// starts there from the beginning).
    Resume(PathBuf),
}

/// Where the runs of one invocation are and how each is started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunPlan {
    /// The parent of fresh runs' folders (`<out>/run`).
    pub root: PathBuf,
    /// Fresh, load or resume.
    pub mode: RunMode,
    /// No progress output from the runtime.
    pub quiet: bool,
}

impl RunPlan {
    /// Fresh runs under `root`, with progress output unless `quiet`.
    pub fn fresh(root: impl Into<PathBuf>, quiet: bool) -> Self {
        RunPlan {
            root: root.into(),
            mode: RunMode::Fresh,
            quiet,
        }
    }

    /// The plan of `--load` / `--resume` (neither: fresh runs in `<out_dir>/run`).
    pub fn from_flags(
        out_dir: &Path,
        load: Option<&Path>,
        resume: Option<&Path>,
        quiet: bool,
    ) -> Self {
        let mode = match (load, resume) {
            (Some(dir), _) => RunMode::Load(dir.to_path_buf()),
            (None, Some(dir)) => RunMode::Resume(dir.to_path_buf()),
            (None, None) => RunMode::Fresh,
        };
        RunPlan {
            root: out_dir.join("run"),
            mode,
            quiet,
        }
    }

    /// The runtime's progress mode for every run.
    pub fn progress(&self) -> ProgressMode {
        if self.quiet {
            ProgressMode::Quiet
        } else {
            ProgressMode::Auto
        }
    }

    /// Checks, before any work, that a `--load` / `--resume` parent folder exists.
    pub fn check(&self) -> Result<(), ExampleError> {
        match &self.mode {
            RunMode::Fresh => Ok(()),
            RunMode::Load(parent) => missing_parent("--load", parent),
            RunMode::Resume(parent) => missing_parent("--resume", parent),
        }
    }

    /// The session of the run called `name` under `config`: a fresh run in `<root>/<name>`
    /// (replacing an earlier one there), the newest checkpoint of `<parent>/<name>` to load, or
    /// that run continued.
    pub fn session(&self, config: TrainConfig, name: &str) -> Result<Session, ExampleError> {
        self.check()?;
        let (load, resume) = match &self.mode {
            RunMode::Fresh => (None, None),
            RunMode::Load(parent) => (Some(parent.as_path()), None),
            RunMode::Resume(parent) => (None, Some(parent.as_path())),
        };
        let session = RunSet::new(&self.root, load, resume).session(config, name)?;
        Ok(session)
    }
}

fn missing_parent(flag: &'static str, parent: &Path) -> Result<(), ExampleError> {
    if parent.is_dir() {
        Ok(())
    } else {
        Err(ExampleError::NoRunFolder {
            flag,
            path: parent.to_path_buf(),
        })
    }
}
