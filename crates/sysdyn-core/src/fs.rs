//! Writing result files so that a reader never sees half of one.
//!
//! Figures, `summary.json` files and checkpoints are read by other programs (the tour's report,
//! a resumed training run) while a long run may be killed at any moment. [`write_atomic`] writes
//! into a temporary file beside the target and renames it into place, so the target holds either
//! its old content or the complete new content, and flushes both the file and the directory so
//! that this holds after a power loss too.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use thiserror::Error;

/// A file could not be written; names the path and what was being done.
#[derive(Debug, Error)]
#[error(
    "cannot write `{}` ({step}): {source}; check that the directory is writable and the disk is \
     not full",
    path.display()
)]
pub struct WriteError {
    /// The file or directory the failing operation was about.
    pub path: PathBuf,
    /// The step that failed, e.g. "creating the directory", "renaming into place".
    pub step: &'static str,
    /// The underlying error.
    #[source]
    pub source: std::io::Error,
}

/// Distinguishes the temporary files of concurrent writers in one process (threads writing the
/// same target); the process id distinguishes processes.
static COUNTER: AtomicU64 = AtomicU64::new(0);

/// Writes `bytes` to `path` atomically: into a temporary file in the same directory (a rename
/// is atomic only within one file system), flushed to disk, renamed over `path`, then the
/// directory flushed so the rename itself survives a crash. Creates the parent directory if
/// needed. On failure `path` is untouched and the temporary file is removed.
///
/// ```
/// let dir = std::env::temp_dir().join(format!("sysdyn-doc-{}", std::process::id()));
/// let path = dir.join("summary.json");
/// sysdyn_core::fs::write_atomic(&path, b"{}")?;
/// assert_eq!(std::fs::read(&path).unwrap(), b"{}");
/// # std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), sysdyn_core::fs::WriteError>(())
/// ```
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), WriteError> {
    let fail = |path: &Path, step: &'static str| {
        let path = path.to_path_buf();
        move |source| WriteError { path, step, source }
    };
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path.file_name().ok_or_else(|| WriteError {
        path: path.to_path_buf(),
        step: "naming the file",
        source: std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "the path has no file name",
        ),
    })?;
    std::fs::create_dir_all(&dir).map_err(fail(&dir, "creating the directory"))?;

    // A hidden name that no other writer uses; `create_new` refuses to reuse an existing file
    // (one left by a killed run with the same pid and counter), so try a few names.
    let (tmp_path, mut file) = {
        let mut attempt = 0;
        loop {
            let n = COUNTER.fetch_add(1, Ordering::Relaxed);
            let mut tmp_name = std::ffi::OsString::from(".");
            tmp_name.push(name);
            tmp_name.push(format!(".{}.{n}.tmp", std::process::id()));
            let tmp_path = dir.join(tmp_name);
            match OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&tmp_path)
            {
                Ok(file) => break (tmp_path, file),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && attempt < 16 => {
                    attempt += 1;
                }
                Err(e) => return Err(fail(&dir, "creating a temporary file")(e)),
            }
        }
    };
    let written = file
        .write_all(bytes)
        .map_err(fail(&tmp_path, "writing"))
        .and_then(|()| file.sync_all().map_err(fail(&tmp_path, "flushing to disk")))
        .and_then(|()| std::fs::rename(&tmp_path, path).map_err(fail(path, "renaming into place")));
    drop(file);
    if let Err(e) = written {
        // Best effort: the error that matters is the one above.
        let _ = std::fs::remove_file(&tmp_path);
        return Err(e);
    }
    sync_dir(&dir).map_err(fail(&dir, "flushing the directory"))
}

/// Flushes a directory's entries (the rename) to disk. Only Unix can open a directory as a file
/// for this; elsewhere the rename is left to the file system.
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    if cfg!(unix) {
        File::open(dir)?.sync_all()
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(test: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("sysdyn-fs-{test}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn entries(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn content_is_replaced_whole_and_no_temporary_file_remains() {
        let dir = scratch("replace");
        let path = dir.join("nested/summary.json");
        write_atomic(&path, b"first version, longer than the second").unwrap();
        assert_eq!(
            std::fs::read(&path).unwrap(),
            b"first version, longer than the second"
        );
        write_atomic(&path, b"second").unwrap();
        // Replaced, not overwritten in place: no tail of the longer first version remains.
        assert_eq!(std::fs::read(&path).unwrap(), b"second");
        assert_eq!(entries(&dir.join("nested")), ["summary.json"]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn an_unwritable_directory_is_an_error_naming_the_path() {
        // Tests may run as root, who can write anywhere; a parent that is a regular file cannot
        // hold files for anyone.
        let dir = scratch("unwritable");
        let blocker = dir.join("not-a-dir");
        std::fs::write(&blocker, b"x").unwrap();
        let err = write_atomic(&blocker.join("summary.json"), b"{}").unwrap_err();
        assert_eq!(err.path, blocker);
        assert_eq!(err.step, "creating the directory");
        assert!(err.to_string().contains("not-a-dir"), "{err}");
        // The blocking file is untouched and nothing else was left behind.
        assert_eq!(std::fs::read(&blocker).unwrap(), b"x");
        assert_eq!(entries(&dir), ["not-a-dir"]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_failed_rename_keeps_the_target_and_removes_the_temporary_file() {
        // A directory where the file should go: the rename fails after the write succeeded.
        let dir = scratch("rename");
        let target = dir.join("occupied");
        std::fs::create_dir(&target).unwrap();
        std::fs::write(target.join("inside"), b"kept").unwrap();
        let err = write_atomic(&target, b"new").unwrap_err();
        assert_eq!(err.step, "renaming into place");
        assert_eq!(err.path, target);
        assert_eq!(std::fs::read(target.join("inside")).unwrap(), b"kept");
        assert_eq!(entries(&dir), ["occupied"]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_path_without_a_file_name_is_an_error() {
        let err = write_atomic(Path::new("/"), b"{}").unwrap_err();
        assert_eq!(err.step, "naming the file");
    }
}
