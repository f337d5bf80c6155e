//! [`Mlp`]: a multilayer perceptron whose plain forward pass and jet pass share parameters, so
//! a neural ODE, a PINN or a CNF can train it with derivatives of its output in the loss.

use std::ops::RangeBounds;

use burn::config::Config;
use burn::module::{Module, Param};
use burn::nn::{Linear, LinearConfig};
use burn::tensor::{Device, Tensor};

use super::activation::Activation;
use super::error::JetError;
use super::model::JetForward;
use super::propagation::{Jet, SecondOrder, check_layer_input};
use crate::device::SysDevice;
use crate::rng::SeededRng;

/// Shape and activation of an [`Mlp`].
#[derive(Config, Debug)]
pub struct MlpConfig {
    /// Widths from input to output, e.g. `[3, 16, 16, 2]`: three affine layers.
    pub widths: Vec<usize>,
    /// The activation after every affine layer but the last (the output is affine).
    #[config(default = "Activation::Tanh")]
    pub activation: Activation,
}

impl MlpConfig {
    fn check(&self) -> Result<(), JetError> {
        if self.widths.len() < 2 || self.widths.contains(&0) {
            return Err(JetError::Widths {
                widths: self.widths.clone(),
            });
        }
        Ok(())
    }

    /// A network with burn's default `Linear` initialisation, in the device's default float
    /// type.
    pub fn init(&self, device: &Device) -> Result<Mlp, JetError> {
        self.check()?;
        let layers = self
            .widths
            .windows(2)
            .map(|w| LinearConfig::new(w[0], w[1]).init(device))
            .collect();
        Mlp::new(layers, self.activation)
    }

    /// A network drawn from `seed` on the host, in `device`'s precision: weights and biases
    /// uniform in `±1/√fan_in` (burn's default scale). The same seed gives the same network on
    /// every backend, so results can be compared across devices and precisions.
    pub fn init_seeded(&self, device: &SysDevice, seed: u64) -> Result<Mlp, JetError> {
        self.check()?;
        let mut rng = SeededRng::new(seed);
        let layers = self
            .widths
            .windows(2)
            .map(|w| {
                let (fan_in, fan_out) = (w[0], w[1]);
                let bound = 1.0 / (fan_in as f64).sqrt();
                let mut draw = |n: usize| -> Vec<f64> {
                    rng.uniforms(n)
                        .into_iter()
                        .map(|u| bound * (2.0 * u - 1.0))
                        .collect()
                };
                let weight = device
                    .tensor(draw(fan_in * fan_out), [fan_in, fan_out])
                    .expect("value count matches the shape by construction");
                let bias = device
                    .tensor(draw(fan_out), [fan_out])
                    .expect("value count matches the shape by construction");
                Linear {
                    weight: Param::from_tensor(weight),
                    bias: Some(Param::from_tensor(bias)),
                }
            })
            .collect();
        Mlp::new(layers, self.activation)
    }
}

/// A multilayer perceptron `x ↦ L_n ∘ σ ∘ … ∘ σ ∘ L_1 (x)` with burn-nn [`Linear`] layers.
///
/// [`Mlp::forward`] is the plain pass; [`JetForward`] gives its derivatives with respect to the
/// input (Jacobian, divergence, Hessian diagonal, Laplacian) with the same parameters, as
/// ordinary tensor ops that burn's autodiff differentiates with respect to the parameters.
#[derive(Module, Debug)]
pub struct Mlp {
    layers: Vec<Linear>,
    #[module(skip)]
    activation: Activation,
}

impl Mlp {
    /// A network from existing layers; each layer's input width must be the previous layer's
    /// output width.
    pub fn new(layers: Vec<Linear>, activation: Activation) -> Result<Mlp, JetError> {
        if layers.is_empty() {
            return Err(JetError::Widths { widths: Vec::new() });
        }
        for (index, pair) in layers.windows(2).enumerate() {
            let expected = pair[0].weight.dims()[1];
            let got = pair[1].weight.dims()[0];
            if expected != got {
                return Err(JetError::LayerChain {
                    layer: index + 1,
                    expected,
                    got,
                });
            }
        }
        Ok(Mlp { layers, activation })
    }

    /// The affine layers, input first.
    pub fn layers(&self) -> &[Linear] {
        &self.layers
    }

    /// The hidden activation.
    pub fn activation(&self) -> Activation {
        self.activation
    }

    /// Widths from input to output.
    pub fn widths(&self) -> Vec<usize> {
        let mut widths = vec![self.input_width()];
        widths.extend(self.layers.iter().map(|l| l.weight.dims()[1]));
        widths
    }

    /// The plain forward pass, `[batch, in] -> [batch, out]`.
    pub fn forward(&self, x: Tensor<2>) -> Result<Tensor<2>, JetError> {
        check_layer_input("Mlp::forward", &x, &self.layers[0].weight.val())?;
        let (last, hidden) = self
            .layers
            .split_last()
            .expect("Mlp::new refuses no layers");
        let h = hidden
            .iter()
            .fold(x, |h, layer| self.activation.forward(layer.forward(h)));
        Ok(last.forward(h))
    }

    /// The jet after every layer but the last (each followed by the activation).
    fn hidden_jet(&self, jet: Jet) -> Result<Jet, JetError> {
        check_layer_input(
            "Mlp::forward_jet",
            jet.value(),
            &self.layers[0].weight.val(),
        )?;
        let hidden = &self.layers[..self.layers.len() - 1];
        hidden.iter().try_fold(jet, |jet, layer| {
            Ok(jet.linear(layer)?.activate(self.activation))
        })
    }

    fn last_layer(&self) -> &Linear {
        self.layers.last().expect("Mlp::new refuses no layers")
    }
}

impl JetForward for Mlp {
    fn input_width(&self) -> usize {
        self.layers[0].weight.dims()[0]
    }

    fn output_width(&self) -> usize {
        self.last_layer().weight.dims()[1]
    }

    fn forward_jet(&self, jet: Jet) -> Result<Jet, JetError> {
        self.hidden_jet(jet)?.linear(self.last_layer())
    }

    /// As the default, but the last layer is not applied to the tangents: the diagonal entry
    /// `∂f_i/∂x_{c_i}` is the hidden tangent of direction `i` dotted with column `i` of the last
    /// weight, so 1 multiply and 1 reduction replace the last `[k·b, w] × [w, k]` matmul.
    fn divergence(
        &self,
        x: Tensor<2>,
        columns: impl RangeBounds<usize>,
    ) -> Result<Tensor<2>, JetError> {
        let batch = x.dims()[0];
        let seed = Jet::coordinates(x, columns)?;
        let (k, outputs) = (seed.num_directions(), self.output_width());
        if k != outputs {
            return Err(JetError::NotSquare {
                directions: k,
                outputs,
            });
        }
        let hidden = self.hidden_jet(seed)?;
        let tangents = hidden
            .dense_tangents()
            .expect("a coordinate seed keeps its tangents through every layer");
        let [_, rows, width] = tangents.dims();
        let weight_columns = self
            .last_layer()
            .weight
            .val()
            .transpose()
            .reshape([k, 1, width]);
        let trace = (tangents * weight_columns)
            .sum_dims(&[0, 2])
            .reshape([rows, 1]);
        Ok(trace.expand([batch, 1]))
    }

    /// As the default, but the second-order terms are summed over the directions before the
    /// last (linear) layer, `Σ_i s_i W = (Σ_i s_i) W`, and the last layer's tangents are never
    /// formed: the final matmul is `[b, w] × [w, out]` instead of `k` times larger.
    fn laplacian(
        &self,
        x: Tensor<2>,
        columns: impl RangeBounds<usize>,
    ) -> Result<Tensor<2>, JetError> {
        let batch = x.dims()[0];
        let seed = Jet::coordinates(x, columns)?.with_second_order(SecondOrder::Diagonal)?;
        let hidden = self.hidden_jet(seed)?;
        let weight = self.last_layer().weight.val();
        let outputs = weight.dims()[1];
        Ok(match hidden.diagonal_terms("the Laplacian")? {
            Some(terms) => {
                let [_, rows, width] = terms.dims();
                terms
                    .sum_dim(0)
                    .reshape([rows, width])
                    .matmul(weight)
                    .expand([batch, outputs])
            }
            // Still zero: the network is affine (one layer), or its activation has σ'' = 0.
            None => Tensor::zeros([batch, outputs], (&weight.device(), weight.dtype())),
        })
    }
}
