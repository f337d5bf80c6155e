//! Negative log-likelihood in nats and in bits per dimension, and uniform dequantisation of
//! 8-bit data.
//!
//! A density model of images works on continuous values, but pixels are integers
//! `x ∈ {0, …, 255}`. *Uniform dequantisation* adds `u ~ U[0, 1)` to each pixel and models
//! `x + u`; the model's log-density of `x + u` is then a lower bound on the log-probability of the
//! integers `x` (Theis et al., 2016). Models usually see rescaled data `y = a (x + u) + b`
//! ([`ByteScaling`]: `a = 1/256` for `[0, 1]`, `a = 2/256` for `[−1, 1]`), and a change of
//! variables gives, per image of `D` values,
//!
//! `−ln p(x + u) = −ln p(y) − D ln a`,
//!
//! so the bits per dimension of 8-bit data are `(NLL_y − D ln a) / (D ln 2)`: for data in
//! `[0, 1]` that is `NLL_y / (D ln 2) + 8`, the offset this module adds. Reporting the model's
//! own NLL in `[0, 1]` space as bits/dim without it understates the figure by exactly 8 bits.

use sysdyn_core::rng::SeededRng;

use crate::error::DataError;

/// How a model's continuous inputs relate to 8-bit integers `x` dequantised to `x + u`,
/// `u ~ U[0, 1)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ByteScaling {
    /// The model sees `x + u` in `[0, 256)` (no rescaling).
    Raw,
    /// The model sees `(x + u) / 256` in `[0, 1)` (the usual choice).
    UnitInterval,
    /// The model sees `2 (x + u) / 256 − 1` in `[−1, 1)`.
    Symmetric,
}

impl ByteScaling {
    /// The slope `a` of `y = a (x + u) + b`.
    pub fn slope(self) -> f64 {
        match self {
            ByteScaling::Raw => 1.0,
            ByteScaling::UnitInterval => 1.0 / 256.0,
            ByteScaling::Symmetric => 2.0 / 256.0,
        }
    }

    /// The continuous model input for the byte `x` and the noise `u ∈ [0, 1)`.
    pub fn apply(self, x: u8, u: f64) -> f64 {
        let y = (x as f64 + u) * self.slope();
        match self {
            ByteScaling::Symmetric => y - 1.0,
            _ => y,
        }
    }
}

/// Uniformly dequantised, rescaled copies of `bytes`: `a (x + u) + b` with a fresh `u` per value.
pub fn dequantize(bytes: &[u8], scaling: ByteScaling, rng: &mut SeededRng) -> Vec<f64> {
    bytes
        .iter()
        .map(|&x| scaling.apply(x, rng.uniform()))
        .collect()
}

/// Mean negative log-likelihood in nats of per-example log-likelihoods (natural log).
pub fn nll_nats(log_likelihoods: &[f64]) -> Result<f64, DataError> {
    if log_likelihoods.is_empty() {
        return Err(DataError::InvalidArgument {
            context: "negative log-likelihood",
            reason: "no log-likelihoods given".into(),
        });
    }
    if let Some(index) = log_likelihoods.iter().position(|v| v.is_nan()) {
        return Err(DataError::NonFinite {
            context: "negative log-likelihood",
            index,
        });
    }
    Ok(-log_likelihoods.iter().sum::<f64>() / log_likelihoods.len() as f64)
}

/// Bits per dimension of a per-example NLL in nats on continuous data of `dims` values:
/// `nll / (dims · ln 2)`, no dequantisation offset.
pub fn bits_per_dim(nll_nats: f64, dims: usize) -> Result<f64, DataError> {
    if dims == 0 {
        return Err(DataError::InvalidArgument {
            context: "bits per dimension",
            reason: "the data dimension must be at least 1".into(),
        });
    }
    Ok(nll_nats / (dims as f64 * std::f64::consts::LN_2))
}

/// Bits per dimension of dequantised 8-bit data from the per-example NLL in nats of the model
/// on its rescaled inputs (`dims` values per example): `(nll − dims · ln a) / (dims · ln 2)`,
/// the change of variables back to the integer scale (see the module documentation; `+ 8` for
/// [`ByteScaling::UnitInterval`], `+ 7` for [`ByteScaling::Symmetric`]).
///
/// ```
/// use sysdyn_data::metrics::{ByteScaling, dequantized_bits_per_dim};
///
/// // The uniform density on [0, 1)^D has NLL 0, i.e. 8 bits per 8-bit value.
/// let bpd = dequantized_bits_per_dim(0.0, 784, ByteScaling::UnitInterval)?;
/// assert!((bpd - 8.0).abs() < 1e-12);
/// # Ok::<(), sysdyn_data::DataError>(())
/// ```
pub fn dequantized_bits_per_dim(
    nll_nats: f64,
    dims: usize,
    scaling: ByteScaling,
) -> Result<f64, DataError> {
    let offset = -(dims as f64) * scaling.slope().ln();
    bits_per_dim(nll_nats + offset, dims)
}
