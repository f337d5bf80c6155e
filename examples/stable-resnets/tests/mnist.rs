//! The IDX reader on files this test writes itself (values, dimensions, every typed error), and
//! the convolutional MNIST path on a small synthetic digit set in IDX form.

use std::path::Path;

use stable_resnets::idx::{IdxError, Split, load_split, parse, read};
use stable_resnets::mnist::{MnistOutcome, MnistSettings, run};
use sysdyn_core::device::{Backend, DeviceSpec, Precision};
use sysdyn_core::rng::SeededRng;

/// An IDX file of unsigned bytes, written independently of the reader.
fn idx_bytes(dims: &[u32], data: &[u8]) -> Vec<u8> {
    let mut bytes = vec![0, 0, 0x08, dims.len() as u8];
    for d in dims {
        bytes.extend(d.to_be_bytes());
    }
    bytes.extend(data);
    bytes
}

fn write(dir: &Path, name: &str, bytes: &[u8]) {
    std::fs::write(dir.join(name), bytes).unwrap();
}

#[test]
fn reads_dimensions_and_values_big_endian() {
    let dir = tempfile::tempdir().unwrap();
    let data: Vec<u8> = (0..2 * 3 * 4).map(|v| (v * 10) as u8).collect();
    // 300 = 0x0000012C exercises every byte of the big-endian dimension.
    let big: Vec<u8> = (0..300).map(|v| (v % 256) as u8).collect();
    write(dir.path(), "a", &idx_bytes(&[2, 3, 4], &data));
    write(dir.path(), "b", &idx_bytes(&[300], &big));
    let a = read(&dir.path().join("a")).unwrap();
    assert_eq!(a.dims, vec![2, 3, 4]);
    assert_eq!(a.data, data);
    let b = read(&dir.path().join("b")).unwrap();
    assert_eq!(b.dims, vec![300]);
    assert_eq!(b.data, big);
}

#[test]
fn malformed_files_are_typed_errors() {
    let p = Path::new("x");
    let good = idx_bytes(&[2, 2, 2], &[1; 8]);
    // Truncated data, truncated header, truncated magic.
    match parse(&good[..good.len() - 3], p) {
        Err(IdxError::Truncated { expected, got, .. }) => {
            assert_eq!((expected, got), (good.len(), good.len() - 3))
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        parse(&good[..9], p),
        Err(IdxError::Truncated {
            expected: 16,
            got: 9,
            ..
        })
    ));
    assert!(matches!(
        parse(&[0, 0], p),
        Err(IdxError::Truncated { expected: 4, .. })
    ));
    // A gzip file's magic number.
    let err = parse(&[0x1f, 0x8b, 0x08, 0x00, 0, 0], p).unwrap_err();
    assert!(matches!(err, IdxError::BadMagic { .. }), "{err:?}");
    assert!(err.to_string().contains("decompress"), "{err}");
    // Type code 0x0D (f32) is not read.
    let mut float = good.clone();
    float[2] = 0x0D;
    assert!(matches!(
        parse(&float, p),
        Err(IdxError::UnsupportedType { code: 0x0D, .. })
    ));
    let mut long = good.clone();
    long.push(7);
    assert!(matches!(
        parse(&long, p),
        Err(IdxError::TrailingBytes { .. })
    ));

    // A folder whose labels do not match its images.
    let dir = tempfile::tempdir().unwrap();
    let (images, labels) = Split::Train.files();
    write(dir.path(), images, &idx_bytes(&[3, 2, 2], &[0; 12]));
    write(dir.path(), labels, &idx_bytes(&[4], &[0, 1, 2, 3]));
    let err = load_split(dir.path(), Split::Train, None, 10).unwrap_err();
    assert!(matches!(err, IdxError::DimensionMismatch { .. }), "{err:?}");
    // Images of rank 2.
    write(dir.path(), images, &idx_bytes(&[3, 4], &[0; 12]));
    write(dir.path(), labels, &idx_bytes(&[3], &[0, 1, 2]));
    let err = load_split(dir.path(), Split::Train, None, 10).unwrap_err();
    assert!(matches!(err, IdxError::DimensionMismatch { .. }), "{err:?}");
    // A label that is not a digit.
    write(dir.path(), images, &idx_bytes(&[3, 2, 2], &[0; 12]));
    write(dir.path(), labels, &idx_bytes(&[3], &[0, 12, 2]));
    let err = load_split(dir.path(), Split::Train, None, 10).unwrap_err();
    assert!(
        matches!(
            err,
            IdxError::BadLabel {
                index: 1,
                label: 12,
                ..
            }
        ),
        "{err:?}"
    );
    // A missing file.
    let err = load_split(dir.path(), Split::Test, None, 10).unwrap_err();
    assert!(matches!(err, IdxError::Io { .. }), "{err:?}");
    // The limit keeps the first images, scaled to [0, 1]; labels past it are not looked at.
    write(
        dir.path(),
        images,
        &idx_bytes(&[3, 1, 2], &[0, 255, 51, 102, 7, 7]),
    );
    write(dir.path(), labels, &idx_bytes(&[3], &[4, 9, 200]));
    let set = load_split(dir.path(), Split::Train, Some(2), 10).unwrap();
    assert_eq!(set.labels, vec![4, 9]);
    assert_eq!(set.pixels, vec![0.0, 1.0, 0.2, 0.4]);
    assert_eq!((set.rows, set.cols), (1, 2));
}

/// Synthetic 8×8 "digits": class `k` of four is a bright horizontal bar on rows `2k, 2k+1`, with
/// uniform noise on every pixel.
fn synthetic_split(dir: &Path, split: Split, count: usize, seed: u64) {
    let mut rng = SeededRng::new(seed);
    let (mut pixels, mut labels) = (Vec::new(), Vec::new());
    for i in 0..count {
        let class = i % 4;
        for r in 0..8 {
            for _ in 0..8 {
                let bar = if r / 2 == class { 180.0 } else { 0.0 };
                pixels.push((bar + 75.0 * rng.uniform()) as u8);
            }
        }
        labels.push(class as u8);
    }
    let (image_file, label_file) = split.files();
    write(dir, image_file, &idx_bytes(&[count as u32, 8, 8], &pixels));
    write(dir, label_file, &idx_bytes(&[count as u32], &labels));
}

/// Both convolutional networks learn the synthetic digits from IDX files: well above the 25%
/// of guessing on held-out images.
#[test]
fn conv_resnets_learn_synthetic_digits_from_idx_files() {
    let dir = tempfile::tempdir().unwrap();
    synthetic_split(dir.path(), Split::Train, 160, 1);
    synthetic_split(dir.path(), Split::Test, 80, 2);
    let device = DeviceSpec::new(Backend::Flex, Precision::F32)
        .with_autodiff(true)
        .init()
        .unwrap();
    let settings = MnistSettings {
        classes: 10,
        train_images: 1000,
        test_images: 1000,
        channels: 4,
        layers: 2,
        final_time: 1.0,
        epochs: 6,
        batch: 20,
        learning_rate: 0.02,
        gamma: 0.01,
    };
    let outcome = run(&device, dir.path(), &settings).unwrap();
    let MnistOutcome::Ran {
        settings: used,
        image_size,
        scores,
    } = outcome
    else {
        panic!("the run was skipped")
    };
    // Only the images present are used.
    assert_eq!((used.train_images, used.test_images), (160, 80));
    assert_eq!(image_size, [8, 8]);
    assert_eq!(scores.len(), 2);
    for score in &scores {
        assert!(score.last_epoch_loss < 0.5, "{score:?}");
        assert!(score.train_accuracy > 0.9, "{score:?}");
        assert!(score.test_accuracy > 0.9, "{score:?}");
    }
}
