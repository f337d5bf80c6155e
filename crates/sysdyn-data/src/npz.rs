//! `.npz` archives (zip files of `.npy` arrays, NumPy's `savez` / `savez_compressed`) of
//! little-endian float32 or float64 arrays in C order, read by path into `f64` arrays: the
//! format of the bench fixtures and of SST-like fields prepared in Python.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Read;
use std::path::Path;

use crate::error::DataError;

/// One array: its shape and values (converted to f64).
#[derive(Debug, Clone, PartialEq)]
pub struct Array {
    /// Dimensions, C order.
    pub shape: Vec<usize>,
    /// Values, row-major.
    pub values: Vec<f64>,
}

/// Reads every array of the `.npz` at `path`, keyed by name without `.npy`. Errors: a file
/// that cannot be read ([`DataError::Io`]), not a zip archive or an array that is not a
/// little-endian float32/float64 C-ordered `.npy` ([`DataError::BadNpy`]).
pub fn read_npz(path: &Path) -> Result<BTreeMap<String, Array>, DataError> {
    let bad = |array: &str, reason: String| DataError::BadNpy {
        path: path.to_path_buf(),
        array: array.to_string(),
        reason,
    };
    let file = File::open(path).map_err(|source| DataError::Io {
        path: path.to_path_buf(),
        expected: "an .npz archive of arrays".to_string(),
        source,
    })?;
    let mut archive =
        zip::ZipArchive::new(file).map_err(|e| bad("", format!("not a zip archive: {e}")))?;
    let mut arrays = BTreeMap::new();
    for index in 0..archive.len() {
        let mut entry = archive
            .by_index(index)
            .map_err(|e| bad("", format!("entry {index}: {e}")))?;
        let name = entry.name().trim_end_matches(".npy").to_string();
        let mut bytes = Vec::with_capacity(entry.size() as usize);
        entry
            .read_to_end(&mut bytes)
            .map_err(|e| bad(&name, e.to_string()))?;
        let array = parse_npy(&bytes).map_err(|reason| bad(&name, reason))?;
        arrays.insert(name, array);
    }
    Ok(arrays)
}

/// Reads the array `name` of the `.npz` at `path`. Errors: those of [`read_npz`], and a
/// missing name ([`DataError::BadNpy`], listing the names there are).
pub fn read_npz_array(path: &Path, name: &str) -> Result<Array, DataError> {
    let mut arrays = read_npz(path)?;
    let names: Vec<String> = arrays.keys().cloned().collect();
    arrays.remove(name).ok_or_else(|| DataError::BadNpy {
        path: path.to_path_buf(),
        array: name.to_string(),
        reason: format!("no such array; the archive holds {names:?}"),
    })
}

/// Parses one `.npy` (format 1.0–3.0) holding little-endian float32 or float64 in C order.
pub fn parse_npy(bytes: &[u8]) -> Result<Array, String> {
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
        return Err("not an .npy array (bad magic)".into());
    }
    let major = bytes[6];
    let (header_len, start) = match major {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        2 | 3 => {
            if bytes.len() < 12 {
                return Err("truncated .npy header".into());
            }
            (
                u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
                12,
            )
        }
        v => return Err(format!("unsupported .npy version {v}")),
    };
    let header = std::str::from_utf8(
        bytes
            .get(start..start + header_len)
            .ok_or("truncated header")?,
    )
    .map_err(|_| "header is not text")?;
    let field = |key: &str| -> Result<&str, String> {
        let at = header
            .find(&format!("'{key}'"))
            .ok_or(format!("header has no '{key}': {header}"))?;
        Ok(header[at + key.len() + 2..].trim_start_matches([':', ' ']))
    };
    let descr = field("descr")?;
    let width = if descr.starts_with("'<f4'") {
        4
    } else if descr.starts_with("'<f8'") {
        8
    } else {
        return Err(format!(
            "only little-endian float32/float64 are read, got {descr}"
        ));
    };
    if !field("fortran_order")?.starts_with("False") {
        return Err("Fortran-ordered arrays are not read".into());
    }
    let shape_text = field("shape")?;
    let inner = shape_text
        .strip_prefix('(')
        .and_then(|s| s.split(')').next())
        .ok_or(format!("bad shape {shape_text}"))?;
    let shape: Vec<usize> = inner
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<usize>()
                .map_err(|e| format!("bad shape {inner}: {e}"))
        })
        .collect::<Result<_, _>>()?;
    let count: usize = shape.iter().product();
    let data = &bytes[start + header_len..];
    if data.len() != count * width {
        return Err(format!(
            "shape {shape:?} needs {} bytes of data, found {}",
            count * width,
            data.len()
        ));
    }
    let values = if width == 4 {
        data.chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]) as f64)
            .collect()
    } else {
        data.chunks_exact(8)
            .map(|c| f64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
            .collect()
    };
    Ok(Array { shape, values })
}
