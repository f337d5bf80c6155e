//! The sinusoidal embedding of the integer diffusion step (Vaswani et al. 2017; Ho et al. 2020),
//! as W3 defines it: for an even dimension `d` and `h = d/2`,
//! `freq_i = exp(−ln(10000)·i/h)`, `i = 0 … h−1`, and
//! `emb(t) = [sin(t·freq_0) … sin(t·freq_{h−1}), cos(t·freq_0) … cos(t·freq_{h−1})]`.

use burn::tensor::Tensor;

use crate::error::GenerativeError;
use crate::host::host_tensor;

/// The period scale of the frequencies (Transformer's `10000`).
const MAX_PERIOD: f64 = 10_000.0;

/// The sinusoidal step embedding of dimension `dim` (even, W3: 32).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeEmbedding {
    dim: usize,
}

impl TimeEmbedding {
    /// An embedding of even dimension `dim ≥ 2`.
    pub fn new(dim: usize) -> Result<Self, GenerativeError> {
        if dim < 2 || !dim.is_multiple_of(2) {
            return Err(GenerativeError::InvalidParameter {
                name: "time embedding dimension",
                value: dim as f64,
                requirement: "must be even and at least 2 (sines and cosines in pairs; W3: 32)",
            });
        }
        Ok(TimeEmbedding { dim })
    }

    /// The dimension.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// `freq_i`, `i = 0 … dim/2 − 1`.
    pub fn frequencies(&self) -> Vec<f64> {
        let half = self.dim / 2;
        (0..half)
            .map(|i| (-MAX_PERIOD.ln() * i as f64 / half as f64).exp())
            .collect()
    }

    /// `emb(t)` on the host.
    pub fn embed(&self, t: usize) -> Vec<f64> {
        let frequencies = self.frequencies();
        let phases: Vec<f64> = frequencies.iter().map(|f| t as f64 * f).collect();
        phases
            .iter()
            .map(|p| p.sin())
            .chain(phases.iter().map(|p| p.cos()))
            .collect()
    }

    /// `[emb(t_0); …; emb(t_{n−1})]`, `[n, dim]`, on the device and in the dtype of `like`.
    pub fn tensor_like(&self, steps: &[usize], like: &Tensor<2>) -> Tensor<2> {
        let values = steps.iter().flat_map(|&t| self.embed(t)).collect();
        host_tensor(values, [steps.len(), self.dim], like)
    }
}
