//! POWER and GAS (UCI), when given by path: the `.npy` arrays of the MAF paper's preprocessing
//! (Papamakarios et al. 2017: `[n, 6]` for POWER, `[n, 8]` for GAS, standardised), split here
//! into the first 90 % for training and the last 10 % for testing, and a MAF(10) and a
//! RealNVP(10) trained on each, compared with the paper's test log-likelihoods.
//!
//! The reader takes NumPy's format 1.0–3.0 headers with a little-endian `f4` or `f8` array in
//! C order, two-dimensional; anything else is a [`crate::ExampleError::Npy`] saying what.

use std::path::Path;

/// A two-dimensional array read from a `.npy` file.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// Rows.
    pub rows: usize,
    /// Columns.
    pub cols: usize,
    /// The values, row-major.
    pub values: Vec<f64>,
}

fn header_field<'a>(header: &'a str, key: &str) -> Option<&'a str> {
    let start = header.find(&format!("'{key}'"))? + key.len() + 2;
    let rest = header[start..].trim_start().strip_prefix(':')?.trim_start();
    Some(rest)
}

/// Parses the bytes of a `.npy` file holding a 2-D little-endian float array in C order.
pub fn parse_npy(bytes: &[u8]) -> Result<Table, String> {
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
        return Err("not a .npy file (no \\x93NUMPY magic)".into());
    }
    let (header_len, offset) = match bytes[6] {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        2 | 3 if bytes.len() >= 12 => (
            u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
            12,
        ),
        v => return Err(format!("unsupported .npy format version {v}")),
    };
    let header = bytes
        .get(offset..offset + header_len)
        .and_then(|h| std::str::from_utf8(h).ok())
        .ok_or("truncated or non-UTF-8 .npy header")?;
    let descr = header_field(header, "descr").ok_or("no 'descr' in the header")?;
    let width = if descr.starts_with("'<f8'") {
        8
    } else if descr.starts_with("'<f4'") {
        4
    } else {
        return Err(format!(
            "dtype {} is not little-endian float32/float64",
            descr.split(',').next().unwrap_or(descr)
        ));
    };
    let fortran = header_field(header, "fortran_order").ok_or("no 'fortran_order'")?;
    if !fortran.starts_with("False") {
        return Err("Fortran-ordered arrays are not supported (save it in C order)".into());
    }
    let shape = header_field(header, "shape").ok_or("no 'shape'")?;
    let inner = shape
        .strip_prefix('(')
        .and_then(|s| s.split(')').next())
        .ok_or("malformed 'shape'")?;
    let dims: Vec<usize> = inner
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<usize>()
                .map_err(|e| format!("shape entry `{s}`: {e}"))
        })
        .collect::<Result<_, _>>()?;
    let [rows, cols] = dims[..] else {
        return Err(format!(
            "the array is {}-dimensional, not [rows, columns]",
            dims.len()
        ));
    };
    let data = &bytes[offset + header_len..];
    if data.len() != rows * cols * width {
        return Err(format!(
            "{} bytes of data for a [{rows}, {cols}] array of {width}-byte floats",
            data.len()
        ));
    }
    let values = if width == 8 {
        data.chunks_exact(8)
            .map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes")))
            .collect()
    } else {
        data.chunks_exact(4)
            .map(|c| f64::from(f32::from_le_bytes(c.try_into().expect("4 bytes"))))
            .collect()
    };
    Ok(Table { rows, cols, values })
}

/// Reads a `.npy` file.
pub fn read_npy(path: &Path) -> Result<Table, crate::ExampleError> {
    let bytes = std::fs::read(path).map_err(|e| crate::ExampleError::Npy {
        path: path.display().to_string(),
        reason: e.to_string(),
    })?;
    parse_npy(&bytes).map_err(|reason| crate::ExampleError::Npy {
        path: path.display().to_string(),
        reason,
    })
}

/// A published test log-likelihood (nats), quoted, not re-run.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Published {
    /// Data set.
    pub data: &'static str,
    /// Model.
    pub model: &'static str,
    /// Test log-likelihood (nats, higher is better).
    pub log_likelihood: f64,
}

/// Papamakarios et al. (2017), Table 1.
pub const PUBLISHED: [Published; 4] = [
    Published {
        data: "power",
        model: "realnvp",
        log_likelihood: 0.17,
    },
    Published {
        data: "gas",
        model: "realnvp",
        log_likelihood: 8.33,
    },
    Published {
        data: "power",
        model: "maf",
        log_likelihood: 0.24,
    },
    Published {
        data: "gas",
        model: "maf",
        log_likelihood: 10.08,
    },
];
