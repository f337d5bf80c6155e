//! A reader for the IDX files MNIST is distributed in: a four-byte magic number (two zero
//! bytes, a type code, the number of dimensions), each dimension as a big-endian `u32`, then
//! the values in row-major order. Only unsigned bytes (type code `0x08`) are read, which is
//! what the MNIST images and labels are.

use std::path::{Path, PathBuf};

use thiserror::Error;

/// The IDX type code of unsigned bytes.
pub const TYPE_U8: u8 = 0x08;

/// Why an IDX file or an MNIST folder could not be read.
#[derive(Debug, Error)]
pub enum IdxError {
    /// The file could not be opened or read.
    #[error(
        "cannot read {path}: {source}; check the path (`--mnist DIR` names the folder holding train-images-idx3-ubyte etc.)"
    )]
    Io {
        /// The file.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
    /// The first two bytes are not zero: not an IDX file (or a compressed one).
    #[error(
        "{path}: bad magic number {found:02x?}; an IDX file starts with two zero bytes (decompress `.gz` files first)"
    )]
    BadMagic {
        /// The file.
        path: PathBuf,
        /// Its first four bytes (or fewer).
        found: Vec<u8>,
    },
    /// The values are not unsigned bytes.
    #[error("{path}: IDX type code {code:#04x} is not supported; only unsigned bytes (0x08) are")]
    UnsupportedType {
        /// The file.
        path: PathBuf,
        /// The type code found.
        code: u8,
    },
    /// The file ends before the header or the data it announces.
    #[error(
        "{path} is truncated: its header announces {expected} bytes but it has {got}; download it again"
    )]
    Truncated {
        /// The file.
        path: PathBuf,
        /// Bytes the header calls for (header included).
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
    /// The dimensions are not what the data set needs (images `[n, rows, cols]`, labels `[n]`,
    /// the same `n`).
    #[error("{path}: dimensions {dims:?} {reason}")]
    DimensionMismatch {
        /// The file.
        path: PathBuf,
        /// Its dimensions.
        dims: Vec<usize>,
        /// What was expected.
        reason: String,
    },
    /// A label is not a digit.
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
}

/// An IDX array of unsigned bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdxArray {
    /// Dimensions, outermost first.
    pub dims: Vec<usize>,
    /// Values, row-major.
    pub data: Vec<u8>,
}

/// Parses the bytes of an IDX file (`path` only names it in errors).
pub fn parse(bytes: &[u8], path: &Path) -> Result<IdxArray, IdxError> {
    let path = || path.to_path_buf();
    if bytes.len() < 4 {
        if bytes.iter().any(|&b| b != 0) && bytes.len() >= 2 && bytes[..2] != [0, 0] {
            return Err(IdxError::BadMagic {
                path: path(),
                found: bytes.to_vec(),
            });
        }
        return Err(IdxError::Truncated {
            path: path(),
            expected: 4,
            got: bytes.len(),
        });
    }
    if bytes[0] != 0 || bytes[1] != 0 {
        return Err(IdxError::BadMagic {
            path: path(),
            found: bytes[..4].to_vec(),
        });
    }
    if bytes[2] != TYPE_U8 {
        return Err(IdxError::UnsupportedType {
            path: path(),
            code: bytes[2],
        });
    }
    let rank = bytes[3] as usize;
    let header = 4 + 4 * rank;
    if bytes.len() < header {
        return Err(IdxError::Truncated {
            path: path(),
            expected: header,
            got: bytes.len(),
        });
    }
    let dims: Vec<usize> = bytes[4..header]
        .chunks_exact(4)
        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize)
        .collect();
    let count = dims
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| IdxError::DimensionMismatch {
            path: path(),
            dims: dims.clone(),
            reason: "overflow the address space".into(),
        })?;
    let expected = header + count;
    if bytes.len() < expected {
        return Err(IdxError::Truncated {
            path: path(),
            expected,
            got: bytes.len(),
        });
    }
    if bytes.len() > expected {
        return Err(IdxError::TrailingBytes {
            path: path(),
            expected,
            got: bytes.len(),
        });
    }
    Ok(IdxArray {
        dims,
        data: bytes[header..].to_vec(),
    })
}

/// Reads and parses an IDX file.
pub fn read(path: &Path) -> Result<IdxArray, IdxError> {
    let bytes = std::fs::read(path).map_err(|source| IdxError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    parse(&bytes, path)
}

/// Grey-scale images with labels.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelledImages {
    /// Pixel values scaled to `[0, 1]`, `[count, rows, cols]` row-major.
    pub pixels: Vec<f64>,
    /// Labels, `0..classes`.
    pub labels: Vec<usize>,
    /// Image height.
    pub rows: usize,
    /// Image width.
    pub cols: usize,
}

impl LabelledImages {
    /// Number of images.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }
}

/// Which MNIST split.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Split {
    /// `train-images-idx3-ubyte`, `train-labels-idx1-ubyte` (60 000 images).
    Train,
    /// `t10k-images-idx3-ubyte`, `t10k-labels-idx1-ubyte` (10 000 images).
    Test,
}

impl Split {
    /// The image and label file names.
    pub fn files(self) -> (&'static str, &'static str) {
        match self {
            Split::Train => ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
            Split::Test => ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
        }
    }
}

/// Checks that `dir` holds the four MNIST files (before a long run starts).
pub fn check_folder(dir: &Path) -> Result<(), IdxError> {
    for split in [Split::Train, Split::Test] {
        let (images, labels) = split.files();
        for name in [images, labels] {
            let path = dir.join(name);
            std::fs::metadata(&path).map_err(|source| IdxError::Io { path, source })?;
        }
    }
    Ok(())
}

/// The first `limit` images and labels of one split in `dir` (all when `limit` is `None`),
/// checked: images `[n, rows, cols]`, labels `[n]` with the same `n`, labels below `classes`.
pub fn load_split(
    dir: &Path,
    split: Split,
    limit: Option<usize>,
    classes: usize,
) -> Result<LabelledImages, IdxError> {
    let (image_file, label_file) = split.files();
    let (image_path, label_path) = (dir.join(image_file), dir.join(label_file));
    let images = read(&image_path)?;
    let labels = read(&label_path)?;
    let [n, rows, cols] = images.dims[..] else {
        return Err(IdxError::DimensionMismatch {
            path: image_path,
            dims: images.dims,
            reason: "are not [count, rows, cols]".into(),
        });
    };
    if labels.dims != [n] {
        return Err(IdxError::DimensionMismatch {
            path: label_path,
            dims: labels.dims,
            reason: format!("do not match the {n} images (labels must be [{n}])"),
        });
    }
    let keep = limit.map_or(n, |l| l.min(n));
    if let Some((index, &label)) = labels.data[..keep]
        .iter()
        .enumerate()
        .find(|(_, l)| **l as usize >= classes)
    {
        return Err(IdxError::BadLabel {
            path: label_path,
            index,
            label,
            classes,
        });
    }
    Ok(LabelledImages {
        pixels: images.data[..keep * rows * cols]
            .iter()
            .map(|&p| p as f64 / 255.0)
            .collect(),
        labels: labels.data[..keep].iter().map(|&l| l as usize).collect(),
        rows,
        cols,
    })
}
