//! The IDX reader on files this test writes itself (values, dimensions, every typed error),
//! moved from examples/stable-resnets with the reader, and the writer's round trip.

use std::path::Path;

use sysdyn_data::DataError;
use sysdyn_data::idx::{IdxArray, Split, check_folder, encode, load_split, parse, read, write};

/// An IDX file of unsigned bytes, written independently of the crate.
fn idx_bytes(dims: &[u32], data: &[u8]) -> Vec<u8> {
    let mut bytes = vec![0, 0, 0x08, dims.len() as u8];
    for d in dims {
        bytes.extend(d.to_be_bytes());
    }
    bytes.extend(data);
    bytes
}

fn put(dir: &Path, name: &str, bytes: &[u8]) {
    std::fs::write(dir.join(name), bytes).unwrap();
}

#[test]
fn reads_dimensions_and_values_big_endian() {
    let dir = tempfile::tempdir().unwrap();
    let data: Vec<u8> = (0..2 * 3 * 4).map(|v| (v * 10) as u8).collect();
    // 300 = 0x0000012C exercises every byte of the big-endian dimension.
    let big: Vec<u8> = (0..300).map(|v| (v % 256) as u8).collect();
    put(dir.path(), "a", &idx_bytes(&[2, 3, 4], &data));
    put(dir.path(), "b", &idx_bytes(&[300], &big));
    let a = read(&dir.path().join("a")).unwrap();
    assert_eq!(a.dims, vec![2, 3, 4]);
    assert_eq!(a.data, data);
    let b = read(&dir.path().join("b")).unwrap();
    assert_eq!(b.dims, vec![300]);
    assert_eq!(b.data, big);
    // The writer produces the same bytes, and reads back.
    assert_eq!(encode(&a).unwrap(), idx_bytes(&[2, 3, 4], &data));
    write(&dir.path().join("c"), &b).unwrap();
    assert_eq!(read(&dir.path().join("c")).unwrap(), b);
    let wrong = IdxArray {
        dims: vec![2, 2],
        data: vec![0; 3],
    };
    assert!(matches!(encode(&wrong), Err(DataError::Shape { .. })));
}

#[test]
fn malformed_files_are_typed_errors() {
    let p = Path::new("x");
    let good = idx_bytes(&[2, 2, 2], &[1; 8]);
    // Truncated data, truncated header, truncated magic.
    match parse(&good[..good.len() - 3], p) {
        Err(DataError::Truncated { expected, got, .. }) => {
            assert_eq!((expected, got), (good.len(), good.len() - 3))
        }
        other => panic!("{other:?}"),
    }
    let err = parse(&good[..9], p).unwrap_err();
    assert!(
        matches!(
            err,
            DataError::Truncated {
                expected: 16,
                got: 9,
                ..
            }
        ),
        "{err:?}"
    );
    // The message names the file and what was expected.
    let message = err.to_string();
    assert!(message.starts_with("x is truncated"), "{message}");
    assert!(message.contains("header of rank 3"), "{message}");
    assert!(matches!(
        parse(&[0, 0], p),
        Err(DataError::Truncated { expected: 4, .. })
    ));
    // A gzip file's magic number.
    let err = parse(&[0x1f, 0x8b, 0x08, 0x00, 0, 0], p).unwrap_err();
    assert!(matches!(err, DataError::BadMagic { .. }), "{err:?}");
    assert!(err.to_string().contains("decompress"), "{err}");
    // Type code 0x0D (f32) is not read.
    let mut float = good.clone();
    float[2] = 0x0D;
    assert!(matches!(
        parse(&float, p),
        Err(DataError::UnsupportedType { code: 0x0D, .. })
    ));
    let mut long = good.clone();
    long.push(7);
    assert!(matches!(
        parse(&long, p),
        Err(DataError::TrailingBytes { .. })
    ));

    // A folder whose labels do not match its images.
    let dir = tempfile::tempdir().unwrap();
    let (images, labels) = Split::Train.files();
    put(dir.path(), images, &idx_bytes(&[3, 2, 2], &[0; 12]));
    put(dir.path(), labels, &idx_bytes(&[4], &[0, 1, 2, 3]));
    let err = load_split(dir.path(), Split::Train, None, 10).unwrap_err();
    assert!(
        matches!(err, DataError::DimensionMismatch { .. }),
        "{err:?}"
    );
    // Images of rank 2.
    put(dir.path(), images, &idx_bytes(&[3, 4], &[0; 12]));
    put(dir.path(), labels, &idx_bytes(&[3], &[0, 1, 2]));
    let err = load_split(dir.path(), Split::Train, None, 10).unwrap_err();
    assert!(
        matches!(err, DataError::DimensionMismatch { .. }),
        "{err:?}"
    );
    // A label that is not a digit.
    put(dir.path(), images, &idx_bytes(&[3, 2, 2], &[0; 12]));
    put(dir.path(), labels, &idx_bytes(&[3], &[0, 12, 2]));
    let err = load_split(dir.path(), Split::Train, None, 10).unwrap_err();
    assert!(
        matches!(
            err,
            DataError::BadLabel {
                index: 1,
                label: 12,
                ..
            }
        ),
        "{err:?}"
    );
    // A missing file: the message names it.
    let err = load_split(dir.path(), Split::Test, None, 10).unwrap_err();
    assert!(matches!(err, DataError::Io { .. }), "{err:?}");
    assert!(err.to_string().contains("t10k-images-idx3-ubyte"), "{err}");
    let err = check_folder(dir.path()).unwrap_err();
    assert!(err.to_string().contains("t10k-images-idx3-ubyte"), "{err}");
    // The limit keeps the first images, scaled to [0, 1]; labels past it are not looked at.
    put(
        dir.path(),
        images,
        &idx_bytes(&[3, 1, 2], &[0, 255, 51, 102, 7, 7]),
    );
    put(dir.path(), labels, &idx_bytes(&[3], &[4, 9, 200]));
    let set = load_split(dir.path(), Split::Train, Some(2), 10).unwrap();
    assert_eq!(set.labels, vec![4, 9]);
    assert_eq!(set.pixels, vec![0.0, 1.0, 0.2, 0.4]);
    assert_eq!(
        (set.channels, set.rows, set.cols, set.classes),
        (1, 1, 2, 10)
    );
}
