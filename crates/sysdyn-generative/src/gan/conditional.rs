//! Class conditioning of GAN players: a learned label embedding concatenated to a player's input
//! (conditional GAN, Mirza & Osindero 2014), and the projection discriminator's class term
//! (Miyato & Koyama 2018), `D(x, y) = ψ(φ(x)) + ⟨e(y), φ(x)⟩`.

use burn::module::{Module, Param};
use burn::tensor::{Device, Tensor, TensorData};
use sysdyn_core::rng::SeededRng;

use crate::error::GenerativeError;

/// A learned table of one vector per class, `[classes, dim]`.
#[derive(Module, Debug)]
pub struct LabelEmbedding {
    /// The table.
    pub table: Param<Tensor<2>>,
}

impl LabelEmbedding {
    /// A table of zeros for `classes` classes of width `dim` in the default float type of
    /// `device`: class terms that start switched off (conditional batch norm's scales and
    /// shifts).
    pub fn zeros(classes: usize, dim: usize, device: &Device) -> Result<Self, GenerativeError> {
        if classes == 0 || dim == 0 {
            return Err(GenerativeError::InvalidParameter {
                name: "label embedding size",
                value: 0.0,
                requirement: "classes and width must be at least 1",
            });
        }
        Ok(LabelEmbedding {
            table: Param::from_tensor(Tensor::zeros([classes, dim], device)),
        })
    }

    /// Conditional batch norm (de Vries et al. 2017; the generator of Miyato & Koyama 2018):
    /// `h ⊙ (1 + γ(y)) + β(y)` per channel, for normalised features `h`
    /// (`[batch, channels, rows, cols]`) and a table `2·channels` wide holding `[γ, β]` per
    /// class.
    pub fn modulate(&self, h: Tensor<4>, labels: &[usize]) -> Result<Tensor<4>, GenerativeError> {
        let [batch, channels, _, _] = h.dims();
        if labels.len() != batch {
            return Err(GenerativeError::ShapeMismatch {
                what: "rows and labels",
                left: vec![batch],
                right: vec![labels.len()],
            });
        }
        if self.dim() != 2 * channels {
            return Err(GenerativeError::ShapeMismatch {
                what: "conditional batch norm's table (2·channels wide) and features",
                left: vec![self.dim()],
                right: vec![2 * channels],
            });
        }
        let styles = self.embed(labels)?;
        let scale = styles
            .clone()
            .narrow(1, 0, channels)
            .add_scalar(1.0)
            .reshape([batch, channels, 1, 1]);
        let shift = styles
            .narrow(1, channels, channels)
            .reshape([batch, channels, 1, 1]);
        Ok(h * scale + shift)
    }

    /// A table for `classes` classes of width `dim`, drawn from N(0, 1) by `rng` in the default
    /// float type of `device`.
    pub fn new(
        classes: usize,
        dim: usize,
        device: &Device,
        rng: &mut SeededRng,
    ) -> Result<Self, GenerativeError> {
        if classes == 0 || dim == 0 {
            return Err(GenerativeError::InvalidParameter {
                name: "label embedding size",
                value: 0.0,
                requirement: "classes and width must be at least 1",
            });
        }
        let values = rng.normals(classes * dim);
        Ok(LabelEmbedding {
            table: Param::from_tensor(Tensor::from_data(
                TensorData::new(values, [classes, dim]),
                device,
            )),
        })
    }

    /// The number of classes.
    pub fn classes(&self) -> usize {
        self.table.dims()[0]
    }

    /// The embedding's width.
    pub fn dim(&self) -> usize {
        self.table.dims()[1]
    }

    /// `e(y)` for each label, `[labels, dim]`, differentiable with respect to the table (a
    /// one-hot product, so it works on every backend and under autodiff).
    pub fn embed(&self, labels: &[usize]) -> Result<Tensor<2>, GenerativeError> {
        let classes = self.classes();
        if labels.is_empty() {
            return Err(GenerativeError::EmptyBatch { what: "labels" });
        }
        if let Some(&bad) = labels.iter().find(|&&l| l >= classes) {
            return Err(GenerativeError::InvalidParameter {
                name: "label",
                value: bad as f64,
                requirement: "labels must be below the number of classes of the embedding",
            });
        }
        let table = self.table.val();
        let mut one_hot = vec![0.0f64; labels.len() * classes];
        for (row, &label) in labels.iter().enumerate() {
            one_hot[row * classes + label] = 1.0;
        }
        let one_hot = Tensor::<2>::from_data(
            TensorData::new(one_hot, [labels.len(), classes]).convert_dtype(table.dtype()),
            (&table.device(), table.dtype()),
        );
        Ok(one_hot.matmul(table))
    }

    /// `[x, e(y)]`: the rows of `x` (`[batch, features]`) with their labels' embeddings
    /// appended, the input of a conditional generator (`x` the code) or discriminator.
    pub fn concat(&self, x: Tensor<2>, labels: &[usize]) -> Result<Tensor<2>, GenerativeError> {
        let [batch, _] = x.dims();
        if labels.len() != batch {
            return Err(GenerativeError::ShapeMismatch {
                what: "rows and labels",
                left: vec![batch],
                right: vec![labels.len()],
            });
        }
        Ok(Tensor::cat(vec![x, self.embed(labels)?], 1))
    }

    /// The projection discriminator's score `ψ(φ(x)) + ⟨e(y), φ(x)⟩` from the unconditional
    /// score `base` (`[batch, 1]`) and the features `φ(x)` (`[batch, dim]`).
    pub fn project(
        &self,
        base: Tensor<2>,
        features: Tensor<2>,
        labels: &[usize],
    ) -> Result<Tensor<2>, GenerativeError> {
        let [batch, width] = features.dims();
        if base.dims() != [batch, 1] {
            return Err(GenerativeError::ShapeMismatch {
                what: "projection discriminator's base score",
                left: base.dims().to_vec(),
                right: vec![batch, 1],
            });
        }
        if width != self.dim() {
            return Err(GenerativeError::ShapeMismatch {
                what: "projection discriminator's features and label embedding (width)",
                left: vec![width],
                right: vec![self.dim()],
            });
        }
        if labels.len() != batch {
            return Err(GenerativeError::ShapeMismatch {
                what: "rows and labels",
                left: vec![batch],
                right: vec![labels.len()],
            });
        }
        Ok(base + (self.embed(labels)? * features).sum_dim(1))
    }
}
