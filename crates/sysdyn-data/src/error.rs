//! The one error type of the crate.

use std::path::PathBuf;

use thiserror::Error;

/// Why data could not be read, written, generated or scored. Every message says what was wrong
/// and how to fix it; user input never panics.
#[derive(Debug, Error)]
pub enum DataError {
    /// A file could not be opened or read.
    #[error(
        "cannot read {path} ({expected}): {source}; check the path and that the file is \
         downloaded and uncompressed"
    )]
    Io {
        /// The file.
        path: PathBuf,
        /// What the file should hold.
        expected: String,
        /// What the system said.
        source: std::io::Error,
    },
    /// A file or folder could not be written.
    #[error("cannot write {path}: {source}; check that the folder exists and is writable")]
    Write {
        /// The file.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
    /// An `.npz` archive or one of its `.npy` arrays that cannot be read.
    #[error(
        "{path}: array `{array}`: {reason}; save little-endian float32/float64 C-ordered \
         arrays with numpy.savez"
    )]
    BadNpy {
        /// The archive.
        path: PathBuf,
        /// The array's name (empty for the archive itself).
        array: String,
        /// What was wrong.
        reason: String,
    },
    /// The first two bytes are not zero: not an IDX file (or a compressed one).
    #[error(
        "{path}: bad magic number {found:02x?}; an IDX file starts with two zero bytes \
         (decompress `.gz` files first)"
    )]
    BadMagic {
        /// The file.
        path: PathBuf,
        /// Its first four bytes (or fewer).
        found: Vec<u8>,
    },
    /// The values of an IDX file are not unsigned bytes.
    #[error("{path}: IDX type code {code:#04x} is not supported; only unsigned bytes (0x08) are")]
    UnsupportedType {
        /// The file.
        path: PathBuf,
        /// The type code found.
        code: u8,
    },
    /// The file ends before the data its format announces.
    #[error(
        "{path} is truncated: {layout} needs {expected} bytes but the file has {got}; download \
         it again"
    )]
    Truncated {
        /// The file.
        path: PathBuf,
        /// What the format calls for (header, record size).
        layout: String,
        /// Bytes required.
        expected: usize,
        /// Bytes present.
        got: usize,
    },
    /// The file has more bytes than its header announces.
    #[error(
        "{path} has {got} bytes but its header announces {expected}; it is not a plain IDX file"
    )]
    TrailingBytes {
        /// The file.
        path: PathBuf,
        /// Bytes the header calls for.
        expected: usize,
        /// Bytes present.
        got: usize,
    },
    /// The dimensions in a file are not what the data set needs (images `[n, rows, cols]`,
    /// labels `[n]`, the same `n`).
    #[error("{path}: dimensions {dims:?} {reason}")]
    DimensionMismatch {
        /// The file.
        path: PathBuf,
        /// Its dimensions.
        dims: Vec<usize>,
        /// What was expected.
        reason: String,
    },
    /// A label is not one of the classes.
    #[error("{path}: label {label} at index {index} is not a class 0..{classes}")]
    BadLabel {
        /// The file.
        path: PathBuf,
        /// Where.
        index: usize,
        /// The label.
        label: u8,
        /// Number of classes.
        classes: usize,
    },
    /// A JSON file does not have the expected content.
    #[error("{path}: {reason}; expected {expected}")]
    BadJson {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
        /// What the file should hold.
        expected: String,
    },
    /// A flat row-major array does not have the shape a function needs.
    #[error("{context}: expected {expected}, got {got}")]
    Shape {
        /// What was being checked.
        context: &'static str,
        /// The shape or length required.
        expected: String,
        /// What was given.
        got: String,
    },
    /// An argument is outside the values that make sense.
    #[error("{context}: {reason}")]
    InvalidArgument {
        /// The argument.
        context: &'static str,
        /// What is wrong and what to give instead.
        reason: String,
    },
    /// A value is NaN or infinite.
    #[error("{context}: non-finite value at index {index}; check the model or the sampler")]
    NonFinite {
        /// Where it was found.
        context: &'static str,
        /// Index of the first non-finite value (row-major).
        index: usize,
    },
    /// A toy distribution has no closed-form density.
    #[error(
        "{distribution} has no closed-form density; use a distribution with one (eight Gaussians, \
         the 25-Gaussian grid, the checkerboard) or a sample-based metric"
    )]
    NoExactDensity {
        /// The distribution's name.
        distribution: &'static str,
    },
    /// A toy distribution is not a Gaussian mixture, so it has no modes to cover.
    #[error(
        "{distribution} is not a Gaussian mixture and has no modes; mode coverage needs eight \
         Gaussians or the 25-Gaussian grid"
    )]
    NoModes {
        /// The distribution's name.
        distribution: &'static str,
    },
    /// An eigen-decomposition failed.
    #[error(transparent)]
    Linalg(#[from] sysdyn_core::linalg::LinalgError),
}

/// Checks that `data` holds whole rows of `dim` values (at least `min_rows` of them) and returns
/// the number of rows.
pub(crate) fn rows_of(
    context: &'static str,
    data: &[f64],
    dim: usize,
    min_rows: usize,
) -> Result<usize, DataError> {
    if dim == 0 {
        return Err(DataError::InvalidArgument {
            context,
            reason: "the dimension must be at least 1".into(),
        });
    }
    if !data.len().is_multiple_of(dim) {
        return Err(DataError::Shape {
            context,
            expected: format!("a multiple of the dimension {dim} (row-major n × {dim})"),
            got: format!("{} values", data.len()),
        });
    }
    let rows = data.len() / dim;
    if rows < min_rows {
        return Err(DataError::Shape {
            context,
            expected: format!("at least {min_rows} rows of {dim}"),
            got: format!("{rows} rows"),
        });
    }
    if let Some(index) = data.iter().position(|v| !v.is_finite()) {
        return Err(DataError::NonFinite { context, index });
    }
    Ok(rows)
}
