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

/// The sessions of a program that trains several models, one run directory each under one
/// folder: `<out>/run/<name>` for a fresh invocation, and `--load DIR` / `--resume DIR` naming
/// that folder. An interrupted invocation stops inside one run and never starts the later ones,
/// so on resume a run without a checkpoint trains from the start in its own directory; a folder
/// in which none of the runs has a checkpoint is a wrong path, refused before any work.
#[derive(Debug, Clone)]
pub struct RunSet {
    fresh_root: PathBuf,
    load: Option<PathBuf>,
    resume: Option<PathBuf>,
}

impl RunSet {
    /// The runs called `names`, fresh under `fresh_root` or in the folder `load` / `resume`
    /// names; [`TrainError::NoCheckpoint`] when that folder holds a checkpoint of none of them.
    pub fn from_flags(
        fresh_root: &Path,
        load: Option<&Path>,
        resume: Option<&Path>,
        names: &[&str],
    ) -> Result<RunSet, TrainError> {
        let set = RunSet::new(fresh_root, load, resume);
        set.require_a_checkpoint(names)?;
        Ok(set)
    }

    /// The runs, without checking the folder (see [`RunSet::require_a_checkpoint`]).
    pub fn new(fresh_root: &Path, load: Option<&Path>, resume: Option<&Path>) -> RunSet {
        RunSet {
            fresh_root: fresh_root.to_path_buf(),
            load: load.map(Path::to_path_buf),
            resume: resume.map(Path::to_path_buf),
        }
    }

    /// [`TrainError::NoCheckpoint`] when the `--load` / `--resume` folder holds a checkpoint of
    /// none of the runs `names` (nothing to check for a fresh set).
    pub fn require_a_checkpoint(&self, names: &[&str]) -> Result<(), TrainError> {
        let Some(parent) = self.load.as_ref().or(self.resume.as_ref()) else {
            return Ok(());
        };
        for name in names {
            if Checkpoints::new(&parent.join(name)).latest()?.is_some() {
                return Ok(());
            }
        }
        Err(TrainError::NoCheckpoint {
            path: parent.clone(),
        })
    }

    /// The session of the run `name` under `config`: a fresh run in `<fresh_root>/<name>`
    /// (replacing an earlier one there), the newest checkpoint of `<load>/<name>`, or the run in
    /// `<resume>/<name>` continued (started, when it has no checkpoint yet).
    pub fn session(&self, config: TrainConfig, name: &str) -> Result<Session, TrainError> {
        let fresh = self.fresh_root.join(name);
        match (&self.load, &self.resume) {
            (Some(parent), _) => {
                Session::from_flags(config, &fresh, Some(&parent.join(name)), None)
            }
            (None, Some(parent)) => Ok(Session::Train(Trainer::new(config, parent.join(name)))),
            (None, None) => Session::from_flags(config, &fresh, None, None),
        }
    }

    /// Whether the sessions train (false with `--load`).
    pub fn trains(&self) -> bool {
        self.load.is_none()
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
        // A set of runs: a resume folder with a checkpoint of one run resumes it and starts the
        // others; a folder with none of them is refused.
        let set = RunSet::from_flags(&dir, None, Some(dir.parent().unwrap()), &["absent"]);
        assert!(matches!(set, Err(TrainError::NoCheckpoint { .. })));
        let parent = dir.parent().unwrap();
        let name = dir.file_name().unwrap().to_str().unwrap();
        let set = RunSet::from_flags(&dir, None, Some(parent), &[name, "later"]).unwrap();
        let Session::Train(trainer) = set.session(config.clone(), "later").unwrap() else {
            panic!("a resumed set trains");
        };
        assert_eq!(trainer.run_dir(), parent.join("later"));
        let set = RunSet::from_flags(&dir, Some(parent), None, &[name, "later"]).unwrap();
        assert!(!set.trains());
        assert!(matches!(
            set.session(config.clone(), name).unwrap(),
            Session::Load { step: 7, .. }
        ));
        assert!(matches!(
            set.session(config.clone(), "later"),
            Err(TrainError::NoCheckpoint { .. })
        ));
        // A fresh session clears an earlier run's checkpoints.
        let session = Session::from_flags(config.clone(), &dir, None, None).unwrap();
        assert!(session.trains());
        assert!(!dir.join("checkpoints").exists());
        fs::remove_dir_all(&dir).unwrap();
    }
}
