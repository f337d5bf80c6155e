//! The CIFAR-10 binary version (`cifar-10-binary.tar.gz`, unpacked to `cifar-10-batches-bin/`):
//! five training files `data_batch_1.bin` … `data_batch_5.bin` and `test_batch.bin`, each
//! 10 000 records of 3 073 bytes: the label (0–9), then the 32 × 32 red, green and blue planes,
//! row-major. [`load_cifar10`] returns them as `[n, 3, 32, 32]` in `[0, 1]`.

use std::path::Path;

use crate::error::DataError;
use crate::images::LabelledImages;

/// Bytes of one CIFAR-10 record: a label and 3 × 32 × 32 pixels.
pub const RECORD_BYTES: usize = 1 + 3 * 32 * 32;
/// Records in each of the six CIFAR-10 files.
pub const RECORDS_PER_FILE: usize = 10_000;
/// The ten class names, in label order.
pub const CLASSES: [&str; 10] = [
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
];

/// Which CIFAR-10 split.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CifarSplit {
    /// `data_batch_1.bin` … `data_batch_5.bin` (50 000 images).
    Train,
    /// `test_batch.bin` (10 000 images).
    Test,
}

impl CifarSplit {
    /// The file names of the split, in reading order.
    pub fn files(self) -> &'static [&'static str] {
        match self {
            CifarSplit::Train => &[
                "data_batch_1.bin",
                "data_batch_2.bin",
                "data_batch_3.bin",
                "data_batch_4.bin",
                "data_batch_5.bin",
            ],
            CifarSplit::Test => &["test_batch.bin"],
        }
    }
}

/// Parses the records of one CIFAR-10 file (`path` only names it in errors), appending at most
/// `limit` images.
fn parse_records(
    bytes: &[u8],
    path: &Path,
    limit: usize,
    images: &mut LabelledImages,
) -> Result<(), DataError> {
    if bytes.is_empty() || !bytes.len().is_multiple_of(RECORD_BYTES) {
        let records = bytes.len().div_ceil(RECORD_BYTES).max(1);
        return Err(DataError::Truncated {
            path: path.to_path_buf(),
            layout: format!(
                "whole CIFAR-10 records of {RECORD_BYTES} bytes (a label byte and 3 × 32 × 32 \
                 pixel bytes; a full file has {RECORDS_PER_FILE} records, {} bytes)",
                RECORDS_PER_FILE * RECORD_BYTES
            ),
            expected: records * RECORD_BYTES,
            got: bytes.len(),
        });
    }
    for (index, record) in bytes.chunks_exact(RECORD_BYTES).take(limit).enumerate() {
        let label = record[0];
        if label as usize >= CLASSES.len() {
            return Err(DataError::BadLabel {
                path: path.to_path_buf(),
                index,
                label,
                classes: CLASSES.len(),
            });
        }
        images.labels.push(label as usize);
        images
            .pixels
            .extend(record[1..].iter().map(|&p| p as f64 / 255.0));
    }
    Ok(())
}

/// The first `limit` images of a CIFAR-10 split (all when `None`) from the folder `dir`
/// holding the binary files (`cifar-10-batches-bin`). Pixels `[n, 3, 32, 32]` in `[0, 1]`
/// (byte / 255); in `f64` the whole training split takes 1.2 GB, so pass a limit for small runs.
/// Only the files needed for `limit` images are read.
pub fn load_cifar10(
    dir: &Path,
    split: CifarSplit,
    limit: Option<usize>,
) -> Result<LabelledImages, DataError> {
    let mut images = LabelledImages {
        pixels: Vec::new(),
        labels: Vec::new(),
        channels: 3,
        rows: 32,
        cols: 32,
        classes: CLASSES.len(),
    };
    let limit = limit.unwrap_or(usize::MAX);
    for name in split.files() {
        if images.len() >= limit {
            break;
        }
        let path = dir.join(name);
        let bytes = std::fs::read(&path).map_err(|source| DataError::Io {
            path: path.clone(),
            expected: format!(
                "the CIFAR-10 binary file {name}; the folder must be the unpacked \
                 cifar-10-batches-bin of cifar-10-binary.tar.gz"
            ),
            source,
        })?;
        parse_records(&bytes, &path, limit - images.len(), &mut images)?;
    }
    Ok(images)
}
