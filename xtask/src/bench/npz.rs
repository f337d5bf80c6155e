//! Reading the bench fixtures: `.npz` files (zip archives of `.npy` arrays) of float32 arrays
//! in C order, checked against `fixtures/checksums.json` (shape, sum and sum of squares of
//! every array) so a workload knows it computes on the reference run's numbers.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

pub use sysdyn_data::npz::Array;

/// Reads every array of `path` (e.g. `.../fixtures/node.npz`), keyed by name without `.npy`
/// (sysdyn-data's reader, its error as text).
pub fn read_npz(path: &Path) -> Result<BTreeMap<String, Array>, String> {
    sysdyn_data::npz::read_npz(path).map_err(|e| e.to_string())
}

/// Checks `arrays` (fixture `name`, e.g. `"node"`) against `checksums.json`: same shapes, and
/// sums and sums of squares equal to 1e-6 relative.
pub fn verify(
    arrays: &BTreeMap<String, Array>,
    checksums: &Value,
    name: &str,
) -> Result<(), String> {
    let expected = checksums
        .get(name)
        .and_then(Value::as_object)
        .ok_or(format!("checksums.json has no fixture `{name}`"))?;
    for (key, spec) in expected {
        let array = arrays
            .get(key)
            .ok_or(format!("{name}.npz lacks array `{key}`"))?;
        let shape: Vec<usize> = spec["shape"]
            .as_array()
            .ok_or(format!("{name}/{key}: no shape in checksums"))?
            .iter()
            .map(|v| v.as_u64().unwrap_or(0) as usize)
            .collect();
        if shape != array.shape {
            return Err(format!(
                "{name}/{key}: shape {:?}, checksums say {shape:?}",
                array.shape
            ));
        }
        for (what, got) in [
            ("sum", array.values.iter().sum::<f64>()),
            ("sumsq", array.values.iter().map(|v| v * v).sum::<f64>()),
        ] {
            let want = spec[what]
                .as_f64()
                .ok_or(format!("{name}/{key}: no {what} in checksums"))?;
            if (got - want).abs() > 1e-6 * want.abs().max(1.0) {
                return Err(format!("{name}/{key}: {what} {got}, checksums say {want}"));
            }
        }
    }
    Ok(())
}

/// Reads fixture `name` from `<bench_dir>/fixtures/<name>.npz` and verifies it against
/// `<bench_dir>/fixtures/checksums.json`.
pub fn load_fixture(bench_dir: &Path, name: &str) -> Result<BTreeMap<String, Array>, String> {
    let dir = bench_dir.join("fixtures");
    let arrays = read_npz(&dir.join(format!("{name}.npz")))?;
    let text = std::fs::read_to_string(dir.join("checksums.json"))
        .map_err(|e| format!("{}: {e}", dir.join("checksums.json").display()))?;
    let checksums: Value =
        serde_json::from_str(&text).map_err(|e| format!("checksums.json: {e}"))?;
    verify(&arrays, &checksums, name)?;
    Ok(arrays)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sysdyn_data::npz::parse_npy;

    fn npy(shape: &str, values: &[f32]) -> Vec<u8> {
        let mut header = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': {shape}, }}");
        while (10 + header.len() + 1) % 64 != 0 {
            header.push(' ');
        }
        header.push('\n');
        let mut out = b"\x93NUMPY\x01\x00".to_vec();
        out.extend((header.len() as u16).to_le_bytes());
        out.extend(header.as_bytes());
        for v in values {
            out.extend(v.to_le_bytes());
        }
        out
    }

    #[test]
    fn npy_arrays_parse_with_their_shapes() {
        let a = parse_npy(&npy("(2, 3)", &[1.0, 2.0, 3.0, 4.0, 5.0, 6.5])).unwrap();
        assert_eq!(a.shape, vec![2, 3]);
        assert_eq!(a.values, vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.5]);
        let b = parse_npy(&npy("(4,)", &[1.0, -2.0, 0.5, 8.0])).unwrap();
        assert_eq!(b.shape, vec![4]);
        assert!(parse_npy(&npy("(3,)", &[1.0, 2.0])).is_err());
        assert!(parse_npy(b"not numpy at all").is_err());
    }

    #[test]
    fn a_changed_value_or_shape_fails_the_checksums() {
        let array = Array {
            shape: vec![2],
            values: vec![1.5, -2.0],
        };
        let checksums: Value =
            serde_json::from_str(r#"{"f": {"a": {"shape": [2], "sum": -0.5, "sumsq": 6.25}}}"#)
                .unwrap();
        let mut arrays = BTreeMap::from([("a".to_string(), array)]);
        verify(&arrays, &checksums, "f").unwrap();
        arrays.get_mut("a").unwrap().values[0] = 1.5001;
        assert!(
            verify(&arrays, &checksums, "f")
                .unwrap_err()
                .contains("sum")
        );
        arrays.get_mut("a").unwrap().shape = vec![1, 2];
        assert!(
            verify(&arrays, &checksums, "f")
                .unwrap_err()
                .contains("shape")
        );
        assert!(verify(&arrays, &checksums, "other").is_err());
    }

    #[test]
    fn the_repository_fixtures_load_and_match_their_checksums() {
        // The repository carries its own copy (bench/ at its root), so this always runs: every
        // fixture that checksums.json lists, not only those the workloads use today.
        let bench_dir = crate::bench::repo_bench_dir();
        let text = std::fs::read_to_string(bench_dir.join("fixtures/checksums.json")).unwrap();
        let checksums: Value = serde_json::from_str(&text).unwrap();
        let names: Vec<&String> = checksums.as_object().unwrap().keys().collect();
        assert!(names.len() >= 5, "{names:?}");
        for name in names {
            load_fixture(&bench_dir, name).unwrap_or_else(|e| panic!("{name}: {e}"));
        }
        let node = load_fixture(&bench_dir, "node").unwrap();
        assert_eq!(node["x0"].shape, vec![512, 2]);
        assert_eq!(node["L1.weight"].shape, vec![64, 64]);
        let cnf = load_fixture(&bench_dir, "cnf").unwrap();
        assert_eq!(cnf["L0.weight"].shape, vec![64, 3]);
    }

    #[test]
    fn a_missing_fixture_is_an_error_naming_the_file() {
        let empty = std::env::temp_dir().join(format!("sysdyn-npz-empty-{}", std::process::id()));
        std::fs::create_dir_all(empty.join("fixtures")).unwrap();
        let err = load_fixture(&empty, "node").unwrap_err();
        assert!(err.contains("node.npz"), "{err}");
        std::fs::remove_dir_all(&empty).unwrap();
    }
}
