//! How a program starts the runtime from its command line: train a fresh run, resume an
//! interrupted one (`--resume DIR`), or load a trained model to sample and evaluate without
//! training (`--load DIR`). Every example goes through [`Session`], so the three behave alike
//! everywhere.

use std::fs;
use std::path::{Path, PathBuf};

use crate::checkpoint::{Checkpointable, Checkpoints};
use crate::error::TrainError;
use crate::metrics::{MetricsLine, read_metrics};
use crate::trainer::{TrainConfig, TrainStep, TrainSummary, Trainer};

/// What a program does with its training: train (fresh or resumed) or load.
// A program holds one or a few sessions for its whole run: the size of the trainer variant costs
// nothing worth a box, and `Session::Train(Trainer::new(..))` stays a plain constructor.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum Session {
    /// Train in the trainer's run directory (resuming from its newest checkpoint if it has one).
    Train(Trainer),
    /// Load a trained model; no training.
    Load {
        /// The checkpoint folder loaded.
        checkpoint: PathBuf,
        /// Its step.
        step: u64,
        /// The run directory it belongs to, when it is in one (for the training metrics).
        run_dir: Option<PathBuf>,
    },
}

impl Session {
    /// The session the flags ask for:
    /// - `load`: a run directory (its newest checkpoint) or a checkpoint folder;
    /// - `resume`: a run directory with at least one checkpoint, continued under `config`
    ///   (which must equal the one it was started with, but for the budget);
    /// - neither: a fresh run in `fresh_run_dir`, whose earlier content (a previous run of the
    ///   same program in the same output folder) is replaced.
    pub fn from_flags(
        config: TrainConfig,
        fresh_run_dir: &Path,
        load: Option<&Path>,
        resume: Option<&Path>,
    ) -> Result<Session, TrainError> {
        if let Some(path) = load {
            let (checkpoint, step, run_dir) = find_checkpoint(path)?;
            return Ok(Session::Load {
                checkpoint,
                step,
                run_dir,
            });
        }
        if let Some(run_dir) = resume {
            if Checkpoints::new(run_dir).latest()?.is_none() {
                return Err(TrainError::NoCheckpoint {
                    path: run_dir.to_path_buf(),
                });
            }
            return Ok(Session::Train(Trainer::new(config, run_dir)));
        }
        for stale in [
            fresh_run_dir.join("checkpoints"),
            fresh_run_dir.join("metrics.jsonl"),
            fresh_run_dir.join("config.json"),
        ] {
            let removed = if stale.is_dir() {
                fs::remove_dir_all(&stale)
            } else {
                fs::remove_file(&stale)
            };
            match removed {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    return Err(TrainError::Unwritable {
                        path: stale,
                        source: e,
                    });
                }
            }
        }
        Ok(Session::Train(Trainer::new(config, fresh_run_dir)))
    }

    /// Trains `step` (returning the summary), or loads the checkpoint into it (returning
    /// `None`).
    pub fn run<S: TrainStep>(&self, step: &mut S) -> Result<Option<TrainSummary>, TrainError> {
        match self {
            Session::Train(trainer) => trainer.run(step).map(Some),
            Session::Load { checkpoint, .. } => {
                step.load_checkpoint(checkpoint)?;
                Ok(None)
            }
        }
    }

    /// Loads the session's model into `target` without training: the checkpoint of a load
    /// session, the newest checkpoint of a training session's run (`None` if it has none).
    pub fn load_into<C: Checkpointable>(&self, target: &mut C) -> Result<Option<u64>, TrainError> {
        match self {
            Session::Train(trainer) => crate::trainer::restore_latest(trainer.run_dir(), target),
            Session::Load {
                checkpoint, step, ..
            } => {
                target.load_checkpoint(checkpoint)?;
                Ok(Some(*step))
            }
        }
    }

    /// The run directory, if there is one.
    pub fn run_dir(&self) -> Option<&Path> {
        match self {
            Session::Train(trainer) => Some(trainer.run_dir()),
            Session::Load { run_dir, .. } => run_dir.as_deref(),
        }
    }

    /// Whether this session trains.
    pub fn trains(&self) -> bool {
        matches!(self, Session::Train(_))
    }

    /// The train lines of the run's `metrics.jsonl` up to the model in use (all of them after
    /// training; up to the loaded checkpoint's step when loading; none when a loaded checkpoint
    /// is outside a run directory).
    pub fn train_metrics(&self) -> Result<Vec<MetricsLine>, TrainError> {
        let Some(run_dir) = self.run_dir() else {
            return Ok(Vec::new());
        };
        let upto = match self {
            Session::Load { step, .. } => *step,
            Session::Train(_) => u64::MAX,
        };
        Ok(read_metrics(&run_dir.join("metrics.jsonl"))?
            .into_iter()
            .filter(|l| l.kind == "train" && l.step <= upto)
            .collect())
    }
}

/// A checkpoint folder from a run directory (its newest) or a checkpoint folder itself.
fn find_checkpoint(path: &Path) -> Result<(PathBuf, u64, Option<PathBuf>), TrainError> {
    if let Some((step, dir)) = Checkpoints::new(path).latest()? {
        return Ok((dir, step, Some(path.to_path_buf())));
    }
    let step = path
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.strip_prefix("step-"))
        .and_then(|n| n.parse::<u64>().ok());
    match step {
        Some(step) if path.join("trainer.json").is_file() => {
            let run_dir = path
                .parent()
                .filter(|p| p.file_name().is_some_and(|n| n == "checkpoints"))
                .and_then(Path::parent)
                .map(Path::to_path_buf);
            Ok((path.to_path_buf(), step, run_dir))
        }
        _ => Err(TrainError::NoCheckpoint {
            path: path.to_path_buf(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders_without_checkpoints_are_refused_with_a_typed_error() {
        let dir = std::env::temp_dir().join(format!("sysdyn-session-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let config = TrainConfig::new(1);
        for (load, resume) in [(Some(dir.as_path()), None), (None, Some(dir.as_path()))] {
            let err = Session::from_flags(config.clone(), &dir, load, resume).unwrap_err();
            assert!(matches!(err, TrainError::NoCheckpoint { .. }), "{err}");
            assert!(err.to_string().contains("holds no checkpoint"));
        }
        // A checkpoint folder in a run directory is found with its run directory.
        let ckpt = dir.join("checkpoints").join("step-7");
        fs::create_dir_all(&ckpt).unwrap();
        fs::write(ckpt.join("trainer.json"), "{}").unwrap();
        let (found, step, run_dir) = find_checkpoint(&ckpt).unwrap();
        assert_eq!((found, step, run_dir), (ckpt.clone(), 7, Some(dir.clone())));
        let (found, step, _) = find_checkpoint(&dir).unwrap();
        assert_eq!((found, step), (ckpt, 7));
        // A fresh session clears an earlier run's checkpoints.
        let session = Session::from_flags(config, &dir, None, None).unwrap();
        assert!(session.trains());
        assert!(!dir.join("checkpoints").exists());
        fs::remove_dir_all(&dir).unwrap();
    }
}
