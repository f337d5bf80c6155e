//! What the training step, the guided samplers and the classifier guidance need of a
//! diffusion network `f(x_t, t, y)`: its data width, its number of classes and a forward pass
//! with class indices in which the index `classes` is the null class `∅` of classifier-free
//! guidance. W3's [`EpsNet`](crate::diffusion::EpsNet) (vectors) and the
//! [`DiffusionUNet`](crate::diffusion::DiffusionUNet) (flattened images) are denoisers.

use burn::module::Module;
use burn::tensor::Tensor;

use crate::error::GenerativeError;

/// A network `f(x_t, t, y)` on rows `x_t` (`[n, data_width]`), one step per row.
pub trait Denoiser: Module {
    /// The width of a row (for images the flattened `channels·rows·cols`).
    fn data_width(&self) -> usize;

    /// The classes it is conditioned on (0: unconditional).
    fn classes(&self) -> usize;

    /// `f(x, t, y)` with class indices, `classes()` the null class; `None` for an
    /// unconditional network. Labels are not range-checked here beyond `≤ classes()`.
    fn forward_classes(
        &self,
        x: Tensor<2>,
        steps: &[usize],
        classes: Option<&[usize]>,
    ) -> Result<Tensor<2>, GenerativeError>;

    /// `f(x, t, y)` with one label per row (`Some`, each below `classes()`), or the null class
    /// for every row (`None`; the unconditional `f(x, ∅)`). An unconditional network takes no
    /// labels.
    fn predict_with_labels(
        &self,
        x: Tensor<2>,
        steps: &[usize],
        labels: Option<&[usize]>,
    ) -> Result<Tensor<2>, GenerativeError> {
        let classes = resolve_labels(self.classes(), steps.len(), labels)?;
        self.forward_classes(x, steps, classes.as_deref())
    }

    /// The network as W3's MLP ε-network, when it is one: the training step then computes the
    /// loss and gradient on the host engine on CPU devices ([`crate::diffusion::host`]).
    fn as_eps_net(&self) -> Option<&crate::diffusion::EpsNet> {
        None
    }
}

/// The class indices for `labels` of a network with `classes` classes: labels checked, `None`
/// turned into the null class `classes` for each of `rows` rows.
pub(crate) fn resolve_labels(
    classes: usize,
    rows: usize,
    labels: Option<&[usize]>,
) -> Result<Option<Vec<usize>>, GenerativeError> {
    match (labels, classes) {
        (Some(_), 0) => Err(GenerativeError::Unsupported {
            what: "labels for an unconditional diffusion network: build it with classes > 0",
        }),
        (Some(labels), classes) => {
            check_labels(labels, classes)?;
            Ok(Some(labels.to_vec()))
        }
        (None, 0) => Ok(None),
        (None, classes) => Ok(Some(vec![classes; rows])),
    }
}

/// Refuses labels at or above `classes`.
pub(crate) fn check_labels(labels: &[usize], classes: usize) -> Result<(), GenerativeError> {
    match labels.iter().find(|l| **l >= classes) {
        Some(&label) => Err(GenerativeError::InvalidParameter {
            name: "label",
            value: label as f64,
            requirement: "labels must be below the network's number of classes",
        }),
        None => Ok(()),
    }
}
