//! Classifier-free guidance (Ho & Salimans 2022): a conditional network trained with label
//! dropout predicts both `ε(x, y)` and `ε(x, ∅)`, and sampling uses
//! `ε̃ = (1 + w) ε(x, y) − w ε(x, ∅)` with guidance scale `w ≥ 0` (`w = 0`: the plain
//! conditional model).

use burn::tensor::Tensor;

use crate::diffusion::denoiser::{Denoiser, check_labels};
use crate::diffusion::network::EpsNet;
use crate::diffusion::sampler::NoisePredictor;
use crate::error::GenerativeError;

/// A conditional network guided towards one label per row.
#[derive(Debug)]
pub struct Guided<'a, N: Denoiser = EpsNet> {
    net: &'a N,
    labels: Vec<usize>,
    scale: f64,
}

impl<'a, N: Denoiser> Guided<'a, N> {
    /// Guides `net` (conditional) towards `labels` (one per sampled row) with scale `w ≥ 0`.
    pub fn new(net: &'a N, labels: Vec<usize>, scale: f64) -> Result<Self, GenerativeError> {
        if !(scale.is_finite() && scale >= 0.0) {
            return Err(GenerativeError::InvalidParameter {
                name: "guidance scale w",
                value: scale,
                requirement: "must be finite and ≥ 0 (0: no guidance; 1–4 are typical)",
            });
        }
        if net.classes() == 0 {
            return Err(GenerativeError::Unsupported {
                what: "classifier-free guidance of an unconditional network: build it with \
                       classes > 0 and train it with label dropout",
            });
        }
        check_labels(&labels, net.classes())?;
        Ok(Guided { net, labels, scale })
    }

    /// The guidance scale `w`.
    pub fn scale(&self) -> f64 {
        self.scale
    }
}

impl<N: Denoiser> NoisePredictor for Guided<'_, N> {
    fn predict(&mut self, x: Tensor<2>, t: usize) -> Result<Tensor<2>, GenerativeError> {
        let [rows, _] = x.dims();
        if rows != self.labels.len() {
            return Err(GenerativeError::ShapeMismatch {
                what: "sampled rows and guidance labels (one label per row)",
                left: vec![rows],
                right: vec![self.labels.len()],
            });
        }
        let steps = vec![t; rows];
        let conditional = self
            .net
            .predict_with_labels(x.clone(), &steps, Some(&self.labels))?;
        if self.scale == 0.0 {
            return Ok(conditional);
        }
        let unconditional = self.net.predict_with_labels(x, &steps, None)?;
        Ok(conditional * (1.0 + self.scale) - unconditional * self.scale)
    }
}
