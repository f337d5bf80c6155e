//! Looking at the latent space: interpolation between codes (linear, or spherical, which
//! keeps a Gaussian code's norm typical), traversals that vary one latent dimension with the
//! others fixed, and the posterior means of a data set (for a 2-D scatter). Codes are host
//! vectors; decode them with [`Vae::decode_mean`].

use sysdyn_core::device::SysDevice;
use sysdyn_train::BoxError;

use crate::error::GenerativeError;
use crate::host::host_values;
use crate::vae::models::{Decoder, Encoder, Vae};

/// How to move between two codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interpolation {
    /// `(1 − t) a + t b`.
    Linear,
    /// Along the great circle (Shoemake's slerp, as White 2016 suggests for Gaussian codes):
    /// `sin((1 − t)θ)/sin θ · a + sin(tθ)/sin θ · b`, `θ` the angle between `a` and `b`;
    /// linear where `θ` is (nearly) 0 or π, or a code is zero.
    Spherical,
}

impl Interpolation {
    /// The code at `t ∈ [0, 1]` between `a` (`t = 0`) and `b` (`t = 1`).
    pub fn at(&self, a: &[f64], b: &[f64], t: f64) -> Result<Vec<f64>, GenerativeError> {
        if a.len() != b.len() {
            return Err(GenerativeError::ShapeMismatch {
                what: "the two codes",
                left: vec![a.len()],
                right: vec![b.len()],
            });
        }
        let linear = || {
            a.iter()
                .zip(b)
                .map(|(x, y)| (1.0 - t) * x + t * y)
                .collect()
        };
        match self {
            Interpolation::Linear => Ok(linear()),
            Interpolation::Spherical => {
                let norm = |v: &[f64]| v.iter().map(|x| x * x).sum::<f64>().sqrt();
                let (na, nb) = (norm(a), norm(b));
                if na == 0.0 || nb == 0.0 {
                    return Ok(linear());
                }
                let cos =
                    (a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>() / (na * nb)).clamp(-1.0, 1.0);
                let theta = cos.acos();
                let sin = theta.sin();
                if sin.abs() < 1e-12 {
                    return Ok(linear());
                }
                let (wa, wb) = (((1.0 - t) * theta).sin() / sin, (t * theta).sin() / sin);
                Ok(a.iter().zip(b).map(|(x, y)| wa * x + wb * y).collect())
            }
        }
    }

    /// `steps` codes from `a` to `b` inclusive (`t = i/(steps − 1)`), row-major
    /// `[steps, latent]`; `steps ≥ 2`.
    pub fn path(&self, a: &[f64], b: &[f64], steps: usize) -> Result<Vec<f64>, GenerativeError> {
        if steps < 2 {
            return Err(GenerativeError::InvalidParameter {
                name: "interpolation steps",
                value: steps as f64,
                requirement: "a path needs at least its two end points",
            });
        }
        let mut codes = Vec::with_capacity(steps * a.len());
        for i in 0..steps {
            codes.extend(self.at(a, b, i as f64 / (steps - 1) as f64)?);
        }
        Ok(codes)
    }
}

/// A traversal grid: for each latent dimension `j` in `dimensions`, `steps` copies of `base`
/// with dimension `j` set to `low + i (high − low)/(steps − 1)`; row-major
/// `[dimensions.len() · steps, latent]`, one grid row per dimension.
pub fn traversal(
    base: &[f64],
    dimensions: &[usize],
    low: f64,
    high: f64,
    steps: usize,
) -> Result<Vec<f64>, GenerativeError> {
    if steps < 2 {
        return Err(GenerativeError::InvalidParameter {
            name: "traversal steps",
            value: steps as f64,
            requirement: "a traversal needs at least its two end points",
        });
    }
    if let Some(&bad) = dimensions.iter().find(|&&j| j >= base.len()) {
        return Err(GenerativeError::InvalidParameter {
            name: "traversed dimension",
            value: bad as f64,
            requirement: "must be below the code's width",
        });
    }
    let mut codes = Vec::with_capacity(dimensions.len() * steps * base.len());
    for &j in dimensions {
        for i in 0..steps {
            let mut code = base.to_vec();
            code[j] = low + i as f64 * (high - low) / (steps - 1) as f64;
            codes.extend(code);
        }
    }
    Ok(codes)
}

/// The posterior means `μ(xᵢ)` of the `N` rows of `data` (`[N, D]` row-major, labels for a
/// conditional model), `batch` rows at a time: row-major `[N, latent]`.
pub fn latent_means<E: Encoder, D: Decoder>(
    vae: &Vae<E, D>,
    device: &SysDevice,
    data: &[f64],
    labels: Option<&[usize]>,
    batch: usize,
) -> Result<Vec<f64>, BoxError> {
    let features = vae.data_width();
    if !data.len().is_multiple_of(features) || batch == 0 {
        return Err(Box::new(GenerativeError::ShapeMismatch {
            what: "data length and whole rows of the model's width (batch ≥ 1)",
            left: vec![data.len(), batch],
            right: vec![features, 1],
        }));
    }
    let rows = data.len() / features;
    let mut means = Vec::with_capacity(rows * vae.latent_width());
    let mut start = 0;
    while start < rows {
        let n = batch.min(rows - start);
        let x = device.tensor(
            &data[start * features..(start + n) * features],
            [n, features],
        )?;
        let batch_labels = labels.map(|l| l.get(start..start + n).unwrap_or(&[]));
        let posterior = vae.encode(x, batch_labels)?;
        means.extend(host_values(posterior.mean(), "posterior means")?);
        start += n;
    }
    Ok(means)
}
