//! What a diffusion network predicts: the noise `ε`, the clean data `x₀`, or the velocity
//! `v` (Salimans & Ho 2022), and the exact conversions between them.
//!
//! With `x_t = a x₀ + σ ε` (`a = √ᾱ_t`, `σ = √(1 − ᾱ_t)`, so `a² + σ² = 1`) and
//! `v = a ε − σ x₀`:
//!
//! - from `ε`: `x₀ = (x_t − σ ε) / a`;
//! - from `x₀`: `ε = (x_t − a x₀) / σ`;
//! - from `v`: `x₀ = a x_t − σ v`, `ε = σ x_t + a v`.

use burn::tensor::Tensor;
use sysdyn_core::device::SysDevice;

use crate::diffusion::schedule::Marginal;
use crate::error::GenerativeError;

/// The quantity a network predicts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Prediction {
    /// The noise `ε` (Ho et al.'s simple loss).
    #[default]
    Epsilon,
    /// The clean data `x₀`.
    Data,
    /// The velocity `v = a ε − σ x₀`.
    Velocity,
}

/// `a = √ᾱ_t` and `σ = √(1 − ᾱ_t)` as `[1, 1]` (one step for the batch) or `[n, 1]` (one step
/// per row) tensors that broadcast over the features.
#[derive(Debug, Clone)]
pub struct Coefficients {
    /// `a`.
    pub signal: Tensor<2>,
    /// `σ`.
    pub noise: Tensor<2>,
}

impl Coefficients {
    /// One step's coefficients for the whole batch.
    pub fn uniform(device: &SysDevice, marginal: Marginal) -> Result<Self, GenerativeError> {
        Self::rows(device, &[marginal])
    }

    /// One step per row.
    pub fn rows(device: &SysDevice, marginals: &[Marginal]) -> Result<Self, GenerativeError> {
        let n = marginals.len();
        let make = |values: Vec<f64>| {
            device
                .tensor(values, [n, 1])
                .map_err(|e| GenerativeError::ShapeMismatch {
                    what: "diffusion coefficients",
                    left: e.got,
                    right: e.expected,
                })
        };
        Ok(Coefficients {
            signal: make(marginals.iter().map(|m| m.signal).collect())?,
            noise: make(marginals.iter().map(|m| m.noise).collect())?,
        })
    }

    /// `x_t = a x₀ + σ ε`.
    pub fn noised(&self, x0: Tensor<2>, epsilon: Tensor<2>) -> Tensor<2> {
        x0 * self.signal.clone() + epsilon * self.noise.clone()
    }

    /// `v = a ε − σ x₀`.
    pub fn velocity(&self, x0: Tensor<2>, epsilon: Tensor<2>) -> Tensor<2> {
        epsilon * self.signal.clone() - x0 * self.noise.clone()
    }
}

impl Prediction {
    /// What the network should output for data `x₀` noised by `ε` (the regression target).
    pub fn target(
        self,
        coefficients: &Coefficients,
        x0: Tensor<2>,
        epsilon: Tensor<2>,
    ) -> Tensor<2> {
        match self {
            Prediction::Epsilon => epsilon,
            Prediction::Data => x0,
            Prediction::Velocity => coefficients.velocity(x0, epsilon),
        }
    }

    /// The noise `ε` implied by the network's `output` at `x_t`.
    pub fn epsilon(
        self,
        coefficients: &Coefficients,
        x_t: Tensor<2>,
        output: Tensor<2>,
    ) -> Tensor<2> {
        let Coefficients { signal, noise } = coefficients.clone();
        match self {
            Prediction::Epsilon => output,
            Prediction::Data => (x_t - output * signal) / noise,
            Prediction::Velocity => x_t * noise + output * signal,
        }
    }

    /// The clean data `x₀` implied by the network's `output` at `x_t`.
    pub fn data(self, coefficients: &Coefficients, x_t: Tensor<2>, output: Tensor<2>) -> Tensor<2> {
        let Coefficients { signal, noise } = coefficients.clone();
        match self {
            Prediction::Epsilon => (x_t - output * noise) / signal,
            Prediction::Data => output,
            Prediction::Velocity => x_t * signal - output * noise,
        }
    }

    /// The velocity `v` implied by the network's `output` at `x_t`.
    pub fn velocity(
        self,
        coefficients: &Coefficients,
        x_t: Tensor<2>,
        output: Tensor<2>,
    ) -> Tensor<2> {
        match self {
            Prediction::Velocity => output,
            other => {
                let epsilon = other.epsilon(coefficients, x_t.clone(), output.clone());
                let x0 = other.data(coefficients, x_t, output);
                coefficients.velocity(x0, epsilon)
            }
        }
    }

    /// Converts `output`, a prediction of kind `self`, into one of kind `to`.
    pub fn convert(
        self,
        to: Prediction,
        coefficients: &Coefficients,
        x_t: Tensor<2>,
        output: Tensor<2>,
    ) -> Tensor<2> {
        match to {
            Prediction::Epsilon => self.epsilon(coefficients, x_t, output),
            Prediction::Data => self.data(coefficients, x_t, output),
            Prediction::Velocity => self.velocity(coefficients, x_t, output),
        }
    }
}
