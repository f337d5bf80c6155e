//! The IDX files MNIST and Fashion-MNIST are distributed in: a four-byte magic number (two zero
//! bytes, a type code, the number of dimensions), each dimension as a big-endian `u32`, then
//! the values in row-major order. Only unsigned bytes (type code `0x08`) are read and written,
//! which is what the MNIST and Fashion-MNIST images and labels are.
//!
//! Fashion-MNIST uses the same four file names as MNIST, so [`load_split`] reads both: point it
//! at the folder holding the uncompressed files (`gunzip *.gz` first).

use std::path::Path;

use crate::error::DataError;
use crate::images::LabelledImages;

/// The IDX type code of unsigned bytes.
pub const TYPE_U8: u8 = 0x08;

/// An IDX array of unsigned bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdxArray {
    /// Dimensions, outermost first.
    pub dims: Vec<usize>,
    /// Values, row-major.
    pub data: Vec<u8>,
}

/// Parses the bytes of an IDX file (`path` only names it in errors).
pub fn parse(bytes: &[u8], path: &Path) -> Result<IdxArray, DataError> {
    let path = || path.to_path_buf();
    if bytes.len() < 4 {
        if bytes.len() >= 2 && bytes[..2] != [0, 0] {
            return Err(DataError::BadMagic {
                path: path(),
                found: bytes.to_vec(),
            });
        }
        return Err(DataError::Truncated {
            path: path(),
            layout: "the IDX magic number".into(),
            expected: 4,
            got: bytes.len(),
        });
    }
    if bytes[0] != 0 || bytes[1] != 0 {
        return Err(DataError::BadMagic {
            path: path(),
            found: bytes[..4].to_vec(),
        });
    }
    if bytes[2] != TYPE_U8 {
        return Err(DataError::UnsupportedType {
            path: path(),
            code: bytes[2],
        });
    }
    let rank = bytes[3] as usize;
    let header = 4 + 4 * rank;
    if bytes.len() < header {
        return Err(DataError::Truncated {
            path: path(),
            layout: format!("an IDX header of rank {rank}"),
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
        .ok_or_else(|| DataError::DimensionMismatch {
            path: path(),
            dims: dims.clone(),
            reason: "overflow the address space".into(),
        })?;
    let expected = header + count;
    if bytes.len() < expected {
        return Err(DataError::Truncated {
            path: path(),
            layout: format!("an IDX array of bytes with dimensions {dims:?}"),
            expected,
            got: bytes.len(),
        });
    }
    if bytes.len() > expected {
        return Err(DataError::TrailingBytes {
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
pub fn read(path: &Path) -> Result<IdxArray, DataError> {
    let bytes = std::fs::read(path).map_err(|source| DataError::Io {
        path: path.to_path_buf(),
        expected: "an uncompressed IDX file of unsigned bytes".into(),
        source,
    })?;
    parse(&bytes, path)
}

/// The bytes of an IDX file of unsigned bytes (`dims` must multiply to `data.len()`, each below
/// 2³², at most 255 of them).
pub fn encode(array: &IdxArray) -> Result<Vec<u8>, DataError> {
    let count: Option<usize> = array
        .dims
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d));
    if array.dims.len() > 255
        || array.dims.iter().any(|&d| u32::try_from(d).is_err())
        || count != Some(array.data.len())
    {
        return Err(DataError::Shape {
            context: "IDX array",
            expected: "at most 255 dimensions below 2³² whose product is the number of values"
                .into(),
            got: format!(
                "dimensions {:?} for {} values",
                array.dims,
                array.data.len()
            ),
        });
    }
    let mut bytes = Vec::with_capacity(4 + 4 * array.dims.len() + array.data.len());
    bytes.extend([0, 0, TYPE_U8, array.dims.len() as u8]);
    for &d in &array.dims {
        bytes.extend((d as u32).to_be_bytes());
    }
    bytes.extend(&array.data);
    Ok(bytes)
}

/// Writes an IDX file of unsigned bytes.
pub fn write(path: &Path, array: &IdxArray) -> Result<(), DataError> {
    let bytes = encode(array)?;
    std::fs::write(path, bytes).map_err(|source| DataError::Write {
        path: path.to_path_buf(),
        source,
    })
}

/// Which MNIST (or Fashion-MNIST) split.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
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
pub fn check_folder(dir: &Path) -> Result<(), DataError> {
    for split in [Split::Train, Split::Test] {
        let (images, labels) = split.files();
        for name in [images, labels] {
            let path = dir.join(name);
            std::fs::metadata(&path).map_err(|source| DataError::Io {
                path,
                expected: format!(
                    "the uncompressed MNIST or Fashion-MNIST file {name}; the folder must hold \
                     train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte \
                     and t10k-labels-idx1-ubyte"
                ),
                source,
            })?;
        }
    }
    Ok(())
}

/// The first `limit` images and labels of one split in `dir` (all when `limit` is `None`),
/// checked: images `[n, rows, cols]`, labels `[n]` with the same `n`, labels below `classes`.
/// Pixels are scaled to `[0, 1]` (byte / 255), one channel.
pub fn load_split(
    dir: &Path,
    split: Split,
    limit: Option<usize>,
    classes: usize,
) -> Result<LabelledImages, DataError> {
    let (image_file, label_file) = split.files();
    let (image_path, label_path) = (dir.join(image_file), dir.join(label_file));
    let images = read(&image_path)?;
    let labels = read(&label_path)?;
    let [n, rows, cols] = images.dims[..] else {
        return Err(DataError::DimensionMismatch {
            path: image_path,
            dims: images.dims,
            reason: "are not [count, rows, cols]".into(),
        });
    };
    if labels.dims != [n] {
        return Err(DataError::DimensionMismatch {
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
        return Err(DataError::BadLabel {
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
        channels: 1,
        rows,
        cols,
        classes,
    })
}
