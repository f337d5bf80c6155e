//! Writing figures: both formats, atomically.

use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::PlotError;

/// Non-finite points that were left out of a series (a line is broken at them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// The series (or "quiver", "heatmap").
    pub series: String,
    /// How many points were left out.
    pub count: usize,
}

/// What [`crate::Figure::save`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Saved {
    /// The SVG file.
    pub svg: PathBuf,
    /// The PNG file.
    pub png: PathBuf,
    /// Non-finite points left out, per series (empty when every point was drawn).
    pub skipped: Vec<Skipped>,
}

impl Saved {
    /// The SVG and PNG file names relative to `dir` (as a summary lists its figures); a path
    /// outside `dir` is given whole.
    pub fn names_relative_to(&self, dir: &Path) -> Vec<String> {
        [&self.svg, &self.png]
            .iter()
            .map(|p| {
                p.strip_prefix(dir)
                    .unwrap_or(p)
                    .to_string_lossy()
                    .into_owned()
            })
            .collect()
    }

    /// Total number of non-finite points left out.
    pub fn skipped_points(&self) -> usize {
        self.skipped.iter().map(|s| s.count).sum()
    }
}

/// `stem.svg` and `stem.png`; a stem already ending in `.svg` or `.png` loses that extension,
/// other dots are kept (`out/rk4.h0.01` gives `out/rk4.h0.01.svg`).
pub(crate) fn output_paths(stem: &Path) -> (PathBuf, PathBuf) {
    let stem = match stem.extension().and_then(|e| e.to_str()) {
        Some("svg" | "png") => stem.with_extension(""),
        _ => stem.to_path_buf(),
    };
    let with = |ext: &str| {
        let mut s: OsString = stem.clone().into_os_string();
        s.push(ext);
        PathBuf::from(s)
    };
    (with(".svg"), with(".png"))
}

/// Writes `bytes` to `path` atomically: into a temporary file in the same directory, then
/// renamed over `path`, so a reader never sees a half-written figure and a failed write leaves
/// no debris. Creates the parent directory if needed.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), PlotError> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let write_err = |p: &Path| {
        let p = p.to_path_buf();
        move |source| PlotError::Write { path: p, source }
    };
    std::fs::create_dir_all(&dir).map_err(write_err(&dir))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".tmp")
        .tempfile_in(&dir)
        .map_err(write_err(&dir))?;
    tmp.write_all(bytes).map_err(write_err(path))?;
    // Temporary files are private (0600); a figure is an ordinary, world-readable file.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644))
            .map_err(write_err(path))?;
    }
    tmp.as_file().sync_all().map_err(write_err(path))?;
    // On failure the temporary file is removed when `PersistError` drops it.
    tmp.persist(path).map_err(|e| PlotError::Write {
        path: path.to_path_buf(),
        source: e.error,
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_paths_append_extensions() {
        let (svg, png) = output_paths(Path::new("out/lv/phase"));
        assert_eq!(svg, Path::new("out/lv/phase.svg"));
        assert_eq!(png, Path::new("out/lv/phase.png"));
        let (svg, _) = output_paths(Path::new("out/lv/phase.png"));
        assert_eq!(svg, Path::new("out/lv/phase.svg"));
        let (_, png) = output_paths(Path::new("rk4.h0.01"));
        assert_eq!(png, Path::new("rk4.h0.01.png"));
    }

    #[test]
    fn saved_names_are_relative_to_the_output_folder() {
        let saved = Saved {
            svg: PathBuf::from("out/lv/phase.svg"),
            png: PathBuf::from("other/phase.png"),
            skipped: Vec::new(),
        };
        assert_eq!(
            saved.names_relative_to(Path::new("out/lv")),
            vec!["phase.svg".to_string(), "other/phase.png".to_string()]
        );
    }
}
