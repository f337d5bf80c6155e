//! Classifier-free guidance (Ho & Salimans 2022): a conditional network trained with label
//! dropout predicts both `ε(x, y)` and `ε(x, ∅)`, and sampling uses
//! `ε̃ = (1 + w) ε(x, y) − w ε(x, ∅)` with guidance scale `w ≥ 0` (`w = 0`: the plain
//! conditional model).

use burn::tensor::Tensor;

use crate::diffusion::network::EpsNet;
use crate::diffusion::sampler::NoisePredictor;
use crate::error::GenerativeError;

/// A conditional network guided towards one label per row.
#[derive(Debug)]
pub struct Guided<'a> {
    net: &'a EpsNet,
    labels: Vec<usize>,
    scale: f64,
}

impl<'a> Guided<'a> {
    /// Guides `net` (conditional) towards `labels` (one per sampled row) with scale `w ≥ 0`.
    pub fn new(net: &'a EpsNet, labels: Vec<usize>, scale: f64) -> Result<Self, GenerativeError> {
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
        if let Some(&label) = labels.iter().find(|l| **l >= net.classes()) {
            return Err(GenerativeError::InvalidParameter {
                name: "label",
                value: label as f64,
                requirement: "labels must be below the network's number of classes",
            });
        }
        Ok(Guided { net, labels, scale })
    }

    /// The guidance scale `w`.
    pub fn scale(&self) -> f64 {
        self.scale
    }
}

impl NoisePredictor for Guided<'_> {
    fn predict(&mut self, x: Tensor<2>, t: usize) -> Result<Tensor<2>, GenerativeError> {
        let [rows, _] = x.dims();
        let steps = vec![t; rows];
        let conditional = self.net.forward(x.clone(), &steps, Some(&self.labels))?;
        if self.scale == 0.0 {
            return Ok(conditional);
        }
        let unconditional = self.net.forward(x, &steps, None)?;
        Ok(conditional * (1.0 + self.scale) - unconditional * self.scale)
    }
}
