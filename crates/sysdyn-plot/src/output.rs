//! Writing figures: both formats, atomically (through `sysdyn_core::fs::write_atomic`, which
//! summaries and checkpoints use too).

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use sysdyn_core::fs::WriteError;
pub(crate) use sysdyn_core::fs::write_atomic;

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

/// A figure that could not be written keeps reporting as [`PlotError::Write`] with the path that
/// failed, whichever step of the atomic write it was.
impl From<WriteError> for PlotError {
    fn from(e: WriteError) -> Self {
        PlotError::Write {
            path: e.path,
            source: e.source,
        }
    }
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
