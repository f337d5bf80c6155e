//! The two players' interfaces, and the MLP players of the low-dimensional experiments.

use burn::module::Module;
use burn::tensor::Tensor;
use sysdyn_core::jet::{Activation, JetForward, Mlp};
use sysdyn_core::rng::SeededRng;

use crate::error::GenerativeError;
use crate::gan::penalty::input_gradient;
use crate::gan::spectral::SpectralLinear;
use crate::inputs::check_labels;

/// A generator: samples `[batch, features]` from latent codes `[batch, latent_width]`.
pub trait Generator: Module {
    /// The width of the latent code.
    fn latent_width(&self) -> usize;

    /// The number of classes a conditional generator takes (0: unconditional).
    fn classes(&self) -> usize {
        0
    }

    /// The samples of the codes `z`, of the class of each row for a conditional generator
    /// (`labels` must then be given, one per row, and must be `None` otherwise).
    fn generate(
        &self,
        z: Tensor<2>,
        labels: Option<&[usize]>,
    ) -> Result<Tensor<2>, GenerativeError>;
}

/// A discriminator or critic: one score per sample, `[batch, 1]` (a logit for the
/// cross-entropy and hinge losses, a raw score otherwise).
pub trait Critic: Module {
    /// The number of classes a conditional critic takes (0: unconditional).
    fn classes(&self) -> usize {
        0
    }

    /// The scores of the rows of `x`, given their classes for a conditional critic (`labels`
    /// must then be given, one per row, and must be `None` otherwise).
    fn score(&self, x: Tensor<2>, labels: Option<&[usize]>) -> Result<Tensor<2>, GenerativeError>;

    /// `∇ₓD(x)`, `[batch, features]`, differentiable with respect to the critic's parameters
    /// (the gradient penalties need it). Critics that cannot compute it return
    /// [`GenerativeError::Unsupported`].
    fn input_gradient(
        &self,
        x: Tensor<2>,
        labels: Option<&[usize]>,
    ) -> Result<Tensor<2>, GenerativeError> {
        let _ = (x, labels);
        Err(GenerativeError::Unsupported {
            what: "this critic's input gradient (gradient penalties need a critic that \\
                   propagates jets, such as sysdyn_core::jet::Mlp)",
        })
    }

    /// Called once before each of the critic's updates: spectral normalisation's power
    /// iteration. Nothing by default.
    fn before_update(&mut self) {}
}

impl Generator for Mlp {
    fn latent_width(&self) -> usize {
        self.input_width()
    }

    fn generate(
        &self,
        z: Tensor<2>,
        labels: Option<&[usize]>,
    ) -> Result<Tensor<2>, GenerativeError> {
        check_labels(0, labels)?;
        Ok(self.forward(z)?)
    }
}

impl Critic for Mlp {
    fn score(&self, x: Tensor<2>, labels: Option<&[usize]>) -> Result<Tensor<2>, GenerativeError> {
        check_labels(0, labels)?;
        Ok(self.forward(x)?)
    }

    fn input_gradient(
        &self,
        x: Tensor<2>,
        labels: Option<&[usize]>,
    ) -> Result<Tensor<2>, GenerativeError> {
        check_labels(0, labels)?;
        input_gradient(self, x)
    }
}

/// An MLP critic whose every layer is spectrally normalised ([`SpectralLinear`]): about
/// 1-Lipschitz with 1-Lipschitz activations (ReLU, tanh, sin), the discriminator of the
/// hinge + SN objective.
#[derive(Module, Debug)]
pub struct SpectralMlp {
    layers: Vec<SpectralLinear>,
    #[module(skip)]
    activation: Activation,
}

impl SpectralMlp {
    /// Normalises the layers of `mlp`, starting each power iteration from a vector drawn from
    /// `rng`.
    pub fn new(mlp: Mlp, rng: &mut SeededRng) -> Self {
        let activation = mlp.activation();
        let layers = mlp
            .layers()
            .iter()
            .map(|layer| SpectralLinear::new(layer.clone(), rng))
            .collect();
        SpectralMlp { layers, activation }
    }

    /// The current estimates of the layers' largest singular values.
    pub fn sigmas(&self) -> Vec<f64> {
        self.layers
            .iter()
            .map(|l| l.sigma().into_scalar::<f64>())
            .collect()
    }
}

impl Critic for SpectralMlp {
    fn score(&self, x: Tensor<2>, labels: Option<&[usize]>) -> Result<Tensor<2>, GenerativeError> {
        check_labels(0, labels)?;
        let [_, width] = x.dims();
        let expected = self.layers[0].linear.weight.dims()[0];
        if width != expected {
            return Err(GenerativeError::ShapeMismatch {
                what: "critic input width",
                left: vec![width],
                right: vec![expected],
            });
        }
        let (last, hidden) = self
            .layers
            .split_last()
            .expect("every layer of an Mlp, which has at least one (MlpConfig needs two widths)");
        let h = hidden
            .iter()
            .fold(x, |h, layer| self.activation.forward(layer.forward(h)));
        Ok(last.forward(h))
    }

    fn before_update(&mut self) {
        for layer in &mut self.layers {
            layer.power_iteration();
        }
    }
}
