//! Typed failures of building and writing a figure. Each says what was wrong and how to fix it.

use std::path::PathBuf;

use thiserror::Error;

/// Why a figure could not be drawn or written.
#[derive(Debug, Error)]
pub enum PlotError {
    /// The figure has no series, vector field or heatmap.
    #[error("figure `{figure}` has nothing to draw; add a line, scatter, quiver or heatmap")]
    NothingToDraw {
        /// The figure's title.
        figure: String,
    },
    /// A series (or vector field, or heatmap) was given no data.
    #[error("`{series}` has no data; pass at least one point")]
    EmptyData {
        /// The series' name (or "quiver", "heatmap").
        series: String,
    },
    /// Two coordinate arrays of one series differ in length.
    #[error(
        "`{series}`: {what} has {got} values but {expected} were expected; every coordinate \
         array of a series must have the same length"
    )]
    LengthMismatch {
        /// The series' name.
        series: String,
        /// Which array ("ys", "us", "values", ...).
        what: &'static str,
        /// The length required.
        expected: usize,
        /// The length given.
        got: usize,
    },
    /// Every data point of the figure is NaN or infinite.
    #[error(
        "figure `{figure}` has no finite data: all {skipped} points are NaN or infinite; check \
         the computation that produced them"
    )]
    NoFiniteData {
        /// The figure's title.
        figure: String,
        /// How many points were skipped.
        skipped: usize,
    },
    /// A logarithmic axis (or log colour scale) was given a zero or negative value.
    #[error(
        "`{series}` has the value {value} at index {index}, which the logarithmic {axis} scale \
         cannot show; use a linear scale, or filter or offset the non-positive values"
    )]
    NonPositiveOnLogAxis {
        /// The series' name.
        series: String,
        /// "x", "y" or "colour".
        axis: &'static str,
        /// Index of the first offending value.
        index: usize,
        /// The value.
        value: f64,
    },
    /// The grid of a heatmap is not strictly increasing and finite, or too small.
    #[error(
        "heatmap grid {what}: {reason}; heatmap nodes must be finite, strictly increasing, and \
         at least two along each axis"
    )]
    InvalidGrid {
        /// "xs" or "ys".
        what: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// An explicit axis range is empty, reversed, non-finite, or not positive on a log axis.
    #[error(
        "invalid {axis} range [{lo}, {hi}]: need finite lo < hi (and lo > 0 on a logarithmic axis)"
    )]
    InvalidRange {
        /// "x" or "y".
        axis: &'static str,
        /// Lower end.
        lo: f64,
        /// Upper end.
        hi: f64,
    },
    /// A size, scale, grid shape or style option is out of range.
    #[error("invalid figure option: {0}")]
    InvalidOption(String),
    /// A file or directory could not be written.
    #[error(
        "cannot write `{}`: {source}; check that the directory is writable and the disk is not \
         full",
        path.display()
    )]
    Write {
        /// The path that could not be written.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// PNG encoding failed.
    #[error("PNG encoding failed: {0}")]
    Encode(String),
}
