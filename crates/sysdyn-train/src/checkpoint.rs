//! Checkpoints: folders `<run_dir>/checkpoints/step-<n>/` written atomically, the last k kept.
//!
//! A checkpoint is a folder, not a file, because a training state is several files (the model,
//! each optimizer, an EMA, the runtime's host state, the configuration). It is built as a hidden
//! temporary folder beside the others (`.tmp-step-<n>-<pid>`), every file and the folder are
//! fsynced, the folder is renamed to `step-<n>` and the parent folder is fsynced: a
//! `step-<n>` folder is therefore complete or absent, whatever happens to the process or the
//! machine.
//!
//! Modules are saved through burn's own persistence (`Module::into_record` →
//! `ModuleRecord::save`, burnpack `.bpk`), loaded with `ModuleRecord::load` →
//! `Module::try_load_record`, which restores the parameter ids optimizer state is keyed by;
//! host state and configurations are JSON.

use std::fs::{self, File};
use std::path::{Path, PathBuf};

use burn::config::Config;
use burn::module::Module;
use serde::Serialize;
use serde::de::DeserializeOwned;

use sysdyn_core::rng::{RngState, SeededRng};

use crate::error::TrainError;

/// State that is saved into a checkpoint folder and restored from one.
///
/// A [`TrainStep`](crate::TrainStep) implements it for everything it owns (models, optimizers,
/// EMAs, its own host state), with [`save_module`] / [`load_module`], [`Optim::save`] /
/// [`Optim::load`], [`Ema::save`] / [`Ema::load`] and [`save_json`] / [`load_json`], each under
/// its own file name.
///
/// [`Optim::save`]: crate::Optim::save
/// [`Optim::load`]: crate::Optim::load
/// [`Ema::save`]: crate::Ema::save
/// [`Ema::load`]: crate::Ema::load
pub trait Checkpointable {
    /// Writes the state into the (new, empty except for the runtime's own files) folder `dir`.
    fn save_checkpoint(&self, dir: &Path) -> Result<(), TrainError>;
    /// Restores the state from the checkpoint folder `dir`. On error the object may be left
    /// partly restored; the runtime reloads a complete checkpoint or reports the error.
    fn load_checkpoint(&mut self, dir: &Path) -> Result<(), TrainError>;
}

/// `<dir>/<name>.<ext>`.
pub(crate) fn file_path(dir: &Path, name: &str, ext: &str) -> PathBuf {
    dir.join(format!("{name}.{ext}"))
}

/// fsyncs a file (or, on Unix, a folder).
pub(crate) fn sync_file(path: &Path) -> Result<(), TrainError> {
    File::open(path)
        .and_then(|f| f.sync_all())
        .map_err(|e| TrainError::unwritable(path, e))
}

/// fsyncs a folder, so that a rename or creation inside it is durable. (A no-op where folders
/// cannot be opened, e.g. on Windows.)
pub(crate) fn sync_dir(path: &Path) -> Result<(), TrainError> {
    #[cfg(unix)]
    {
        sync_file(path)
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        Ok(())
    }
}

/// Writes `bytes` to `path` atomically: a temporary file in the same folder, fsync, rename,
/// fsync of the folder.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), TrainError> {
    // One implementation of atomic writes for the workspace: sysdyn-core's (temporary file in
    // the same folder, fsync, rename, fsync of the folder).
    sysdyn_core::fs::write_atomic(path, bytes).map_err(|e| TrainError::unwritable(e.path, e.source))
}

/// Saves `module` through burn's persistence to `<dir>/<name>.bpk` (burnpack; burn writes a
/// scratch file beside it, fsyncs and renames it).
pub fn save_module<M: Module>(module: &M, dir: &Path, name: &str) -> Result<(), TrainError> {
    let path = file_path(dir, name, "bpk");
    module
        .clone()
        .into_record()
        .save(&path)
        .map_err(|e| TrainError::unwritable(&path, std::io::Error::other(e.to_string())))
}

/// Loads `<dir>/<name>.bpk` into `module` (built with the configuration it was saved with),
/// restoring its parameter values and ids.
///
/// Errors: [`TrainError::MissingFile`], [`TrainError::Corrupt`] (truncated, random bytes, not
/// burnpack), [`TrainError::Mismatch`] (other shapes, missing or extra parameters).
pub fn load_module<M: Module>(module: M, dir: &Path, name: &str) -> Result<M, TrainError> {
    let path = file_path(dir, name, "bpk");
    if !path.is_file() {
        return Err(TrainError::MissingFile { path });
    }
    let record =
        burn::store::ModuleRecord::load(&path).map_err(|e| TrainError::from_record(&path, e))?;
    module
        .try_load_record(record)
        .map_err(|e| TrainError::from_record(&path, e))
}

/// Saves `value` as pretty JSON to `<dir>/<name>.json`, atomically.
pub fn save_json<T: Serialize>(value: &T, dir: &Path, name: &str) -> Result<(), TrainError> {
    let path = file_path(dir, name, "json");
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| TrainError::unwritable(&path, std::io::Error::other(e)))?;
    write_atomic(&path, text.as_bytes())
}

/// Loads `<dir>/<name>.json`.
pub fn load_json<T: DeserializeOwned>(dir: &Path, name: &str) -> Result<T, TrainError> {
    let path = file_path(dir, name, "json");
    let text = match fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(TrainError::MissingFile { path });
        }
        Err(e) => {
            return Err(TrainError::Corrupt {
                path,
                detail: e.to_string(),
            });
        }
    };
    serde_json::from_str(&text).map_err(|e| TrainError::Corrupt {
        path,
        detail: e.to_string(),
    })
}

/// A [`SeededRng`]'s position as JSON (`{"key": …, "counter": …}`).
#[derive(Serialize, serde::Deserialize)]
struct SavedRng {
    key: u64,
    counter: u64,
}

/// Saves a long-lived generator (one a model keeps across steps, unlike the runtime's per-step
/// streams) to `<dir>/<name>.json`, atomically, so a resumed run draws what an uninterrupted
/// one would.
pub fn save_rng(rng: &SeededRng, dir: &Path, name: &str) -> Result<(), TrainError> {
    let RngState { key, counter } = rng.state();
    save_json(&SavedRng { key, counter }, dir, name)
}

/// Loads a generator saved by [`save_rng`]: its next draws are those the saved one would have
/// made.
pub fn load_rng(dir: &Path, name: &str) -> Result<SeededRng, TrainError> {
    let SavedRng { key, counter } = load_json(dir, name)?;
    Ok(SeededRng::from_state(RngState { key, counter }))
}

/// Saves a burn [`Config`] as `<dir>/<name>.json` (burn's own JSON form), atomically.
pub fn save_config<C: Config>(config: &C, dir: &Path, name: &str) -> Result<(), TrainError> {
    let path = file_path(dir, name, "json");
    write_atomic(&path, burn::config::config_to_json(config).as_bytes())
}

/// Loads a burn [`Config`] from `<dir>/<name>.json`.
pub fn load_config<C: Config>(dir: &Path, name: &str) -> Result<C, TrainError> {
    load_json(dir, name)
}

/// The checkpoint folders of a run: `<run_dir>/checkpoints/step-<n>/`.
#[derive(Debug, Clone)]
pub struct Checkpoints {
    root: PathBuf,
}

impl Checkpoints {
    /// The checkpoints of the run in `run_dir`.
    pub fn new(run_dir: &Path) -> Self {
        Checkpoints {
            root: run_dir.join("checkpoints"),
        }
    }

    /// The folder holding the checkpoints.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The folder of the checkpoint after `step` steps.
    pub fn dir(&self, step: u64) -> PathBuf {
        self.root.join(format!("step-{step}"))
    }

    /// The steps of the complete checkpoints on disk, in increasing order.
    pub fn steps(&self) -> Result<Vec<u64>, TrainError> {
        let entries = match fs::read_dir(&self.root) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(TrainError::unwritable(&self.root, e)),
        };
        let mut steps: Vec<u64> = entries
            .filter_map(Result::ok)
            .filter(|e| e.path().is_dir())
            .filter_map(|e| {
                e.file_name()
                    .to_str()
                    .and_then(|n| n.strip_prefix("step-"))
                    .and_then(|n| n.parse().ok())
            })
            .collect();
        steps.sort_unstable();
        Ok(steps)
    }

    /// The newest complete checkpoint: its step and folder.
    pub fn latest(&self) -> Result<Option<(u64, PathBuf)>, TrainError> {
        Ok(self.steps()?.last().map(|&s| (s, self.dir(s))))
    }

    /// Writes the checkpoint of `step` atomically: `fill` writes the files into a temporary
    /// folder, which is then fsynced and renamed to `step-<step>` (replacing an older folder of
    /// the same step).
    pub fn write(
        &self,
        step: u64,
        fill: impl FnOnce(&Path) -> Result<(), TrainError>,
    ) -> Result<PathBuf, TrainError> {
        fs::create_dir_all(&self.root).map_err(|e| TrainError::unwritable(&self.root, e))?;
        let tmp = self
            .root
            .join(format!(".tmp-step-{step}-{}", std::process::id()));
        if tmp.exists() {
            fs::remove_dir_all(&tmp).map_err(|e| TrainError::unwritable(&tmp, e))?;
        }
        fs::create_dir(&tmp).map_err(|e| TrainError::unwritable(&tmp, e))?;
        let filled = fill(&tmp).and_then(|()| {
            for entry in fs::read_dir(&tmp).map_err(|e| TrainError::unwritable(&tmp, e))? {
                let path = entry.map_err(|e| TrainError::unwritable(&tmp, e))?.path();
                if path.is_file() {
                    sync_file(&path)?;
                }
            }
            sync_dir(&tmp)
        });
        if let Err(e) = filled {
            let _ = fs::remove_dir_all(&tmp);
            return Err(e);
        }
        let dest = self.dir(step);
        if dest.exists() {
            // Same step written again (a resumed run re-saving it): move the old one aside first,
            // since a folder cannot be renamed over a non-empty one.
            let old = self
                .root
                .join(format!(".old-step-{step}-{}", std::process::id()));
            fs::rename(&dest, &old).map_err(|e| TrainError::unwritable(&dest, e))?;
            let _ = fs::remove_dir_all(&old);
        }
        fs::rename(&tmp, &dest).map_err(|e| TrainError::unwritable(&dest, e))?;
        sync_dir(&self.root)?;
        Ok(dest)
    }

    /// Deletes all but the newest `keep` checkpoints, and leftovers of interrupted writes.
    pub fn retain_last(&self, keep: usize) -> Result<(), TrainError> {
        let steps = self.steps()?;
        let n = steps.len().saturating_sub(keep);
        for &step in &steps[..n] {
            let dir = self.dir(step);
            fs::remove_dir_all(&dir).map_err(|e| TrainError::unwritable(&dir, e))?;
        }
        self.remove_leftovers()?;
        sync_dir(&self.root)
    }

    /// Deletes the checkpoints of `step` and later (state that is known to be bad).
    pub fn remove_from(&self, step: u64) -> Result<(), TrainError> {
        for s in self.steps()?.into_iter().filter(|&s| s >= step) {
            let dir = self.dir(s);
            fs::remove_dir_all(&dir).map_err(|e| TrainError::unwritable(&dir, e))?;
        }
        sync_dir(&self.root)
    }

    fn remove_leftovers(&self) -> Result<(), TrainError> {
        let Ok(entries) = fs::read_dir(&self.root) else {
            return Ok(());
        };
        for entry in entries.filter_map(Result::ok) {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.starts_with(".tmp-step-") || name.starts_with(".old-step-") {
                let _ = fs::remove_dir_all(entry.path());
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_saved_generator_continues_where_it_stopped() {
        let dir = std::env::temp_dir().join(format!("sysdyn-rng-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let mut rng = SeededRng::new(11);
        rng.uniforms(17);
        save_rng(&rng, &dir, "sampler").unwrap();
        let expected = rng.normals(4);
        assert_eq!(load_rng(&dir, "sampler").unwrap().normals(4), expected);
        fs::write(dir.join("sampler.json"), "{\"key\": 1}").unwrap();
        assert!(matches!(
            load_rng(&dir, "sampler"),
            Err(TrainError::Corrupt { .. })
        ));
        assert!(matches!(
            load_rng(&dir, "absent"),
            Err(TrainError::MissingFile { .. })
        ));
        fs::remove_dir_all(&dir).unwrap();
    }
}
