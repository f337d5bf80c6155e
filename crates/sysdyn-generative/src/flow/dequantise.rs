//! Uniform dequantisation of discrete data (Theis et al. 2016) and the bits-per-dimension
//! conversion.
//!
//! Integer values `k ∈ {0, …, K−1}` become `y = (k + u) / K` with `u ~ U[0, 1)`, points of the
//! unit cube. A continuous density `q` on the cube gives the discrete model
//! `P(k) = K^{−D} ∫_{[0,1)^D} q((k + u) / K) du`, and by Jensen
//! `log P(k) ≥ E_u[log q(y)] − D log K`: the negative log-likelihood in nats of the
//! dequantised data, plus `D log K`, bounds the discrete NLL from above.
//! In bits per dimension, `bits/dim = NLL / (D ln 2) + log₂ K` (`+ 8` for 8-bit data).

use sysdyn_core::rng::SeededRng;

use crate::error::GenerativeError;

/// Uniform dequantisation of data with `levels` values per coordinate (256 for 8 bits).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dequantisation {
    /// `K`, the number of discrete values.
    pub levels: u32,
}

impl Dequantisation {
    /// 8-bit data, `K = 256`.
    pub const EIGHT_BIT: Dequantisation = Dequantisation { levels: 256 };

    /// Dequantisation of `levels ≥ 2` values.
    pub fn new(levels: u32) -> Result<Self, GenerativeError> {
        if levels < 2 {
            return Err(GenerativeError::InvalidParameter {
                name: "dequantisation levels",
                value: f64::from(levels),
                requirement: "must be at least 2",
            });
        }
        Ok(Dequantisation { levels })
    }

    /// `(k + u) / K` for each integer value `k` in `[0, K)`, `u` drawn from `rng`; a value that
    /// is not such an integer is refused.
    pub fn dequantise(
        &self,
        values: &[f64],
        rng: &mut SeededRng,
    ) -> Result<Vec<f64>, GenerativeError> {
        let levels = f64::from(self.levels);
        if let Some(bad) = values
            .iter()
            .find(|v| !(v.fract() == 0.0 && **v >= 0.0 && **v < levels))
        {
            return Err(GenerativeError::InvalidParameter {
                name: "quantised value",
                value: *bad,
                requirement: "must be an integer in [0, levels): pass the raw levels (0 … 255 \
                              for 8-bit data), not scaled values",
            });
        }
        Ok(values
            .iter()
            .map(|k| (k + rng.uniform()) / levels)
            .collect())
    }

    /// The integer level of a point of the unit cube, `⌊K y⌋` (the inverse of
    /// [`Dequantisation::dequantise`] for any draw of `u`).
    pub fn quantise(&self, y: f64) -> f64 {
        let levels = f64::from(self.levels);
        (y * levels).floor().clamp(0.0, levels - 1.0)
    }

    /// `NLL / (D ln 2) + log₂ K`: a continuous NLL in nats per data point on the unit cube
    /// (`dims` coordinates) as bits per dimension of the discrete data.
    pub fn bits_per_dim(&self, nll_nats: f64, dims: usize) -> Result<f64, GenerativeError> {
        if dims == 0 {
            return Err(GenerativeError::InvalidParameter {
                name: "dimensions",
                value: 0.0,
                requirement: "must be at least 1",
            });
        }
        Ok(nll_nats / (dims as f64 * std::f64::consts::LN_2) + f64::from(self.levels).log2())
    }
}
