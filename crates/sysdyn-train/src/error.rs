//! The one error type of the training runtime.

use std::path::PathBuf;

use thiserror::Error;

/// What diverged: the loss, or a parameter of the model.
#[derive(Debug, Clone, PartialEq)]
pub enum Divergence {
    /// The step reported a NaN or infinite loss.
    NonFiniteLoss,
    /// The loss exceeded `factor` times the best loss seen so far in the run.
    LossAboveBest {
        /// The best (lowest) loss of the run before this step.
        best: f64,
        /// The configured multiple ([`TrainConfig::divergence_factor`](crate::TrainConfig)).
        factor: f64,
    },
    /// A parameter holds a NaN or infinite value.
    NonFiniteParameter {
        /// The parameter's module path, e.g. `model.hidden.weight`.
        path: String,
        /// The flat (row-major) index of the first bad element.
        index: usize,
    },
}

impl std::fmt::Display for Divergence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Divergence::NonFiniteLoss => f.write_str("the loss is not finite"),
            Divergence::LossAboveBest { best, factor } => write!(
                f,
                "the loss exceeds {factor} times the best loss of the run ({best:e})"
            ),
            Divergence::NonFiniteParameter { path, index } => {
                write!(f, "parameter `{path}` is not finite at element {index}")
            }
        }
    }
}

/// Errors of the training runtime. Each message says what was wrong and how to fix it.
#[derive(Debug, Error)]
pub enum TrainError {
    /// The run directory (or a file or folder in it) cannot be created or written.
    #[error(
        "cannot write `{path}`: {source}; choose a run directory in a writable location whose \
         parent folders are directories (not files)"
    )]
    Unwritable {
        /// The path that could not be written.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A file the checkpoint needs is absent.
    #[error(
        "checkpoint file `{path}` is missing; the checkpoint is incomplete or was written by a \
         step that saves other files: delete the checkpoint folder to resume from the one before"
    )]
    MissingFile {
        /// The absent file.
        path: PathBuf,
    },
    /// A checkpoint file is truncated, corrupt, or not in the expected format.
    #[error(
        "checkpoint file `{path}` is corrupt or truncated ({detail}); delete its checkpoint \
         folder to resume from the one before, or start a fresh run"
    )]
    Corrupt {
        /// The damaged file.
        path: PathBuf,
        /// What the reader found.
        detail: String,
    },
    /// A checkpoint file is readable but does not fit the model or optimizer it is loaded into
    /// (other shapes, missing or extra parameters, another precision).
    #[error(
        "checkpoint file `{path}` does not match the model it is loaded into ({detail}); load \
         it into a model built with the configuration saved beside it (`config.json`)"
    )]
    Mismatch {
        /// The file that does not fit.
        path: PathBuf,
        /// What differs.
        detail: String,
    },
    /// The configuration of a run being resumed differs from the one it was started with.
    #[error(
        "the run in `{run_dir}` was started with another configuration ({detail}); resume it \
         with the `config.json` saved there, or start the new configuration in a new run directory"
    )]
    ConfigMismatch {
        /// The run directory.
        run_dir: PathBuf,
        /// The first differing field and both values.
        detail: String,
    },
    /// `--load` or `--resume` named a folder that holds no checkpoint.
    #[error(
        "`{path}` holds no checkpoint: pass a run directory (with a `checkpoints/` folder, such \
         as the `run` folder in an example's output) or one of its `checkpoints/step-<n>` folders"
    )]
    NoCheckpoint {
        /// The folder named.
        path: PathBuf,
    },
    /// A configuration value is out of range.
    #[error("invalid training configuration: {0}")]
    InvalidConfig(String),
    /// The run diverged. The last good checkpoint was left on disk and loaded back into the
    /// step (and so into its model) before this error was returned.
    #[error(
        "training diverged at step {step}: {what} (value {value:e}); {}",
        restore_hint(.restored_step)
    )]
    Diverged {
        /// The number of the step whose result diverged, counted from 1 (the step that was
        /// being taken when `step − 1` steps had been completed).
        step: u64,
        /// What diverged.
        what: Divergence,
        /// The offending value (the loss, or the parameter element).
        value: f64,
        /// The step of the checkpoint that was restored into the model, if any.
        restored_step: Option<u64>,
    },
    /// The model's step function failed.
    #[error("the training step {step} failed: {source}")]
    Step {
        /// The index of the failing step.
        step: u64,
        /// The step function's error.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The device cannot hold restored optimizer state in the precision it was saved in.
    #[error(
        "optimizer state in `{path}` is {saved} but the device's default float type is \
         {device_default} and can no longer be changed in this process; burn rebuilds optimizer \
         state with the device's default float type, so call `SysDevice::configure_defaults()` \
         (or `Device::configure`) before creating any tensor on the device"
    )]
    DevicePrecision {
        /// The optimizer file.
        path: PathBuf,
        /// The dtype of the saved state.
        saved: String,
        /// The device's default float dtype.
        device_default: String,
    },
}

fn restore_hint(restored_step: &Option<u64>) -> String {
    match restored_step {
        Some(s) => format!(
            "the model was restored from the last good checkpoint (step {s}), which is kept in \
             the run directory; lower the learning rate or clip gradients (a changed \
             configuration needs a new run directory)"
        ),
        None => "no checkpoint was available to restore; lower the learning rate or clip \
                 gradients"
            .to_string(),
    }
}

impl TrainError {
    pub(crate) fn unwritable(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        TrainError::Unwritable {
            path: path.into(),
            source,
        }
    }

    /// Maps a burn record error of `path` to [`TrainError::Corrupt`] (I/O and format errors) or
    /// [`TrainError::Mismatch`] (validation against the module).
    pub(crate) fn from_record(path: impl Into<PathBuf>, err: burn::store::RecordError) -> Self {
        let path = path.into();
        match err {
            burn::store::RecordError::Validation(detail) => TrainError::Mismatch { path, detail },
            burn::store::RecordError::Io(detail) => {
                if !path.exists() {
                    TrainError::MissingFile { path }
                } else {
                    TrainError::Corrupt { path, detail }
                }
            }
        }
    }
}
