//! [`MlpField`]: an [`Mlp`] as a vector field, autonomous or with time as an extra input, with
//! a hand-written vector–Jacobian product.
//!
//! The backward of an MLP is short enough to write out: with saved layer inputs `h_l`,
//!
//! ```text
//! δ_{n-1} = c,   ∂W_l = h_lᵀ δ_l,   ∂b_l = Σ_rows δ_l,   δ_{l-1} = (δ_l W_lᵀ) ⊙ σ'(h_l)
//! ```
//!
//! and `cᵀ∂f/∂x = δ_0 W_0ᵀ`. This costs no graph bookkeeping and no recomputation, and runs on
//! tensors without autodiff association, so it is the same on every backend. Activations whose
//! derivative is a function of their value (tanh, sigmoid, identity) use it; the others fall back
//! to burn's autodiff on a small graph.
//!
//! On the CPU backends (flex, ndarray), a [prepared](NeuralField::prepare) field in f32 or f64
//! runs on host memory instead, whatever its activation: [`crate::host`] hands the evaluation and
//! its backward to [`sysdyn_mlp`]'s engine, the same formulas fused into a few loops and matrix
//! products per evaluation.

use burn::module::Module;
use burn::tensor::Tensor;
use burn::tensor::module::linear;
use sysdyn_core::jet::{Activation, JetForward, Mlp};

use crate::field::{FieldVjp, NeuralField, Tape, Taped, graph_taped, graph_vjp};
use crate::host::HostWeights;
use crate::params::ParamLayout;

/// Whether a field feeds time to its network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeInput {
    /// Autonomous: `f(x)`; the network's input width is the state dimension.
    Ignored,
    /// Time-dependent: `f([x, t])`; the network takes the state and then `t` as its last input.
    LastColumn,
}

/// `dx/dt = mlp(x)` or `mlp([x, t])`.
#[derive(Module, Debug)]
pub struct MlpField {
    /// The network.
    pub mlp: Mlp,
    #[module(skip)]
    time: TimeInput,
    /// Host copies of the weights, made by `prepare` on CPU backends.
    #[module(skip)]
    host: Option<HostWeights>,
}

impl MlpField {
    /// An autonomous field `f(x) = mlp(x)`.
    pub fn autonomous(mlp: Mlp) -> Self {
        MlpField {
            mlp,
            time: TimeInput::Ignored,
            host: None,
        }
    }

    /// A time-dependent field `f(t, x) = mlp([x, t])`.
    pub fn time_dependent(mlp: Mlp) -> Self {
        MlpField {
            mlp,
            time: TimeInput::LastColumn,
            host: None,
        }
    }

    /// How time enters.
    pub fn time_input(&self) -> TimeInput {
        self.time
    }

    /// The host weights made by `prepare`, if any.
    pub(crate) fn host(&self) -> Option<&HostWeights> {
        self.host.as_ref()
    }

    /// Dimension of the state (the network's output width).
    pub fn dim(&self) -> usize {
        self.mlp.output_width()
    }

    /// The network's input for the state batch `x` at time `t`.
    pub fn network_input(&self, t: f64, x: Tensor<2>) -> Tensor<2> {
        match self.time {
            TimeInput::Ignored => x,
            TimeInput::LastColumn => crate::field::with_time_column(x, t),
        }
    }

    fn has_value_derivative(&self) -> bool {
        matches!(
            self.mlp.activation(),
            Activation::Tanh | Activation::Sigmoid | Activation::Identity
        )
    }
}

/// `σ'(z)` from `h = σ(z)` for the activations where that is possible.
fn derivative_from_value(activation: Activation, h: Tensor<2>) -> Option<Tensor<2>> {
    match activation {
        Activation::Tanh => Some(h.square().neg().add_scalar(1.0)),
        Activation::Sigmoid => Some(h.clone() - h.square()),
        Activation::Identity => None,
        _ => unreachable!("only called for activations with value derivatives"),
    }
}

impl NeuralField for MlpField {
    fn field(&self, t: f64, x: Tensor<2>) -> Tensor<2> {
        // The host path records no graph: only for parameters and states without autodiff.
        if let Some(host) = &self.host
            && !self.mlp.layers()[0].weight.val().is_autodiff()
            && let Some((value, _)) = host.forward(t, &x, false)
        {
            return value;
        }
        let mut h = self.network_input(t, x);
        let layers = self.mlp.layers();
        let (last, hidden) = layers.split_last().expect("an Mlp has a layer");
        for layer in hidden {
            h = self.mlp.activation().forward(layer.forward(h));
        }
        last.forward(h)
    }

    fn check_state(&self, x: &Tensor<2>) -> Result<(), sysdyn_core::ShapeMismatch> {
        let [batch, dim] = x.dims();
        if dim == self.dim() {
            Ok(())
        } else {
            Err(sysdyn_core::ShapeMismatch {
                context: "MlpField state (the network's output width)".into(),
                expected: vec![batch, self.dim()],
                got: vec![batch, dim],
            })
        }
    }

    fn prepare(&self) -> Self {
        let mut prepared = self.clone();
        prepared.host = HostWeights::from_layers(
            self.mlp.layers(),
            self.mlp.activation(),
            self.time == TimeInput::LastColumn,
        );
        prepared
    }

    fn taped(&self, t: f64, x: Tensor<2>) -> Taped {
        if let Some(host) = &self.host
            && let Some((value, Some(tape))) = host.forward(t, &x.clone().inner(), true)
        {
            return Taped {
                value,
                tape: Tape::Host(tape),
            };
        }
        if !self.has_value_derivative() {
            return graph_taped(self, t, x);
        }
        let activation = self.mlp.activation();
        let mut h = self.network_input(t, x.inner());
        let layers = self.mlp.layers();
        let mut saved = Vec::with_capacity(layers.len());
        for layer in &layers[..layers.len() - 1] {
            saved.push(h.clone());
            let z = linear(
                h,
                layer.weight.val().inner(),
                layer.bias.as_ref().map(|b| b.val().inner()),
            );
            h = activation.forward(z);
        }
        saved.push(h.clone());
        let last = &layers[layers.len() - 1];
        let value = linear(
            h,
            last.weight.val().inner(),
            last.bias.as_ref().map(|b| b.val().inner()),
        );
        Taped {
            value,
            tape: Tape::Saved(saved),
        }
    }

    fn vjp(&self, tape: Tape, cotangent: Tensor<2>, layout: &ParamLayout) -> FieldVjp {
        let saved = match tape {
            Tape::Saved(saved) => saved,
            Tape::Host(tape) => {
                let host = self
                    .host
                    .as_ref()
                    .expect("a host tape comes from a field with host weights");
                let (state, params) = host.vjp(&tape, cotangent, self.dim());
                return FieldVjp { state, params };
            }
            graph @ Tape::Graph(_) => return graph_vjp(self, graph, cotangent, layout),
        };
        let activation = self.mlp.activation();
        let layers = self.mlp.layers();
        let mut delta = cotangent.inner();
        // Per layer, last first: [∂b, ∂W] flattened.
        let mut reversed: Vec<Tensor<1>> = Vec::with_capacity(2 * layers.len());
        let mut input_grad = None;
        for (l, layer) in layers.iter().enumerate().rev() {
            let h = &saved[l];
            let weight = layer.weight.val().inner();
            let [fan_in, fan_out] = weight.dims();
            if layer.bias.is_some() {
                reversed.push(delta.clone().sum_dim(0).reshape([fan_out]));
            }
            let weight_grad = h.clone().transpose().matmul(delta.clone());
            reversed.push(weight_grad.reshape([fan_in * fan_out]));
            let back = delta.matmul(weight.transpose());
            if l == 0 {
                input_grad = Some(back);
                break;
            }
            delta = match derivative_from_value(activation, h.clone()) {
                Some(d) => back * d,
                None => back,
            };
        }
        reversed.reverse();
        let input_grad = input_grad.expect("an MLP has a first layer");
        let state = match self.time {
            TimeInput::Ignored => input_grad,
            TimeInput::LastColumn => {
                let [batch, width] = input_grad.dims();
                input_grad.slice([0..batch, 0..width - 1])
            }
        };
        FieldVjp {
            state,
            params: layout.concat(reversed),
        }
    }
}
