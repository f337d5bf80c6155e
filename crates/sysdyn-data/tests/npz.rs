//! `.npz` archives written here (stored and deflated, float32 and float64, versions 1 and 2 of
//! `.npy`) read back with their shapes and values; malformed input is a typed error.

use std::io::Write;
use std::path::Path;

use sysdyn_data::DataError;
use sysdyn_data::npz::{parse_npy, read_npz, read_npz_array};

fn npy(descr: &str, shape: &str, data: &[u8], version: u8) -> Vec<u8> {
    let mut header = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
    let prefix = if version == 1 { 10 } else { 12 };
    while !(prefix + header.len() + 1).is_multiple_of(64) {
        header.push(' ');
    }
    header.push('\n');
    let mut out = b"\x93NUMPY".to_vec();
    out.extend([version, 0]);
    if version == 1 {
        out.extend((header.len() as u16).to_le_bytes());
    } else {
        out.extend((header.len() as u32).to_le_bytes());
    }
    out.extend(header.as_bytes());
    out.extend(data);
    out
}

fn write_npz(path: &Path, entries: &[(&str, Vec<u8>, bool)]) {
    let file = std::fs::File::create(path).unwrap();
    let mut zip = zip::ZipWriter::new(file);
    for (name, bytes, deflate) in entries {
        let method = if *deflate {
            zip::CompressionMethod::Deflated
        } else {
            zip::CompressionMethod::Stored
        };
        let options = zip::write::FileOptions::default().compression_method(method);
        zip.start_file(format!("{name}.npy"), options).unwrap();
        zip.write_all(bytes).unwrap();
    }
    zip.finish().unwrap();
}

#[test]
fn arrays_read_back_with_their_shapes_and_values() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fields.npz");
    let f32s: Vec<u8> = [1.0f32, -2.5, 3.25, 0.0, 5.0, 6.5]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    let f64s: Vec<u8> = (0..24)
        .flat_map(|i| (i as f64 * 0.1).to_le_bytes())
        .collect();
    write_npz(
        &path,
        &[
            ("a", npy("<f4", "(2, 3)", &f32s, 1), false),
            ("sst", npy("<f8", "(2, 3, 2, 2)", &f64s, 2), true),
        ],
    );
    let arrays = read_npz(&path).unwrap();
    assert_eq!(arrays["a"].shape, vec![2, 3]);
    assert_eq!(arrays["a"].values, vec![1.0, -2.5, 3.25, 0.0, 5.0, 6.5]);
    let sst = read_npz_array(&path, "sst").unwrap();
    assert_eq!(sst.shape, vec![2, 3, 2, 2]);
    assert_eq!(sst.values[23], 2.3000000000000003);
    assert!(matches!(
        read_npz_array(&path, "temperature"),
        Err(DataError::BadNpy { .. })
    ));
}

#[test]
fn malformed_input_is_a_typed_error() {
    assert!(parse_npy(b"not numpy at all").is_err());
    let short: Vec<u8> = [1.0f32, 2.0].iter().flat_map(|v| v.to_le_bytes()).collect();
    assert!(parse_npy(&npy("<f4", "(3,)", &short, 1)).is_err());
    assert!(parse_npy(&npy("<i8", "(1,)", &[0; 8], 1)).is_err());
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.npz");
    assert!(matches!(read_npz(&missing), Err(DataError::Io { .. })));
    let not_zip = dir.path().join("plain.npz");
    std::fs::write(&not_zip, b"hello").unwrap();
    assert!(matches!(read_npz(&not_zip), Err(DataError::BadNpy { .. })));
}
