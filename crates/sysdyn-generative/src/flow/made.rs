//! MADE, the masked autoencoder for distribution estimation (Germain et al. 2015): an MLP whose
//! weights are multiplied by binary masks so that output `i` depends only on the inputs that
//! come before `i` in a chosen order. It is the conditioner of the autoregressive flows
//! ([`super::maf`], [`super::iaf`]).
//!
//! # Degrees and masks
//!
//! Every unit gets a *degree*. Input `i` gets its position in the order, `m(i) ∈ {1, …, D}`
//! (the natural order `m(i) = i + 1`, or a seeded random permutation). Hidden unit `k` of every
//! layer gets `m(k) = (k mod (D − 1)) + 1 ∈ {1, …, D − 1}` (every degree present as soon as the
//! layer has `D − 1` units; `0`, connected to no input, when `D = 1`). A weight from a unit of
//! degree `m'` to a hidden unit of degree `m` is kept when `m ≥ m'`; to an output of degree `m`
//! (output `i` has its input's degree `m(i)`) when `m > m'`. So output `i` depends on input `j`
//! only if `m(j) < m(i)`: `∂ output_i/∂ x_j` is strictly triangular in the order.
//!
//! A masked linear layer computes `y = x (W ⊙ M) + b` (burn's `[fan_in, fan_out]` layout).
//! Context columns (a conditional MADE) have degree 0: they feed every unit of the first layer,
//! and an unmasked linear map adds them to the outputs too — without it the first dimension's
//! outputs (degree 1, fed by no hidden unit) could not depend on the context.
//!
//! The network outputs `P` numbers per input dimension `i` (all of degree `m(i)`): by default
//! `P = 2`, a shift `μ_i` and a log-scale `α_i` ([`MadeOutput`], for the affine layers), or
//! the `3K − 1` knot parameters of an autoregressive spline ([`Made::forward_parameters`]).

use burn::module::{Module, Param};
use burn::tensor::Tensor;
use sysdyn_core::device::SysDevice;
use sysdyn_core::jet::Activation;
use sysdyn_core::rng::SeededRng;

use super::rows::{check_context, check_rows, uniform_weights};
use crate::error::GenerativeError;

/// The order of a MADE's inputs: which dimension comes first in the autoregressive order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InputOrder {
    /// `x_0, x_1, …, x_{D−1}`.
    Natural,
    /// `x_{D−1}, …, x_0`.
    Reversed,
    /// A permutation drawn from `seed`.
    Random {
        /// The seed of the permutation.
        seed: u64,
    },
}

impl InputOrder {
    /// The degrees `m(i) ∈ {1, …, D}` of the inputs (the position of dimension `i` in the
    /// order, counted from 1).
    pub fn degrees(&self, features: usize) -> Vec<usize> {
        match self {
            InputOrder::Natural => (1..=features).collect(),
            InputOrder::Reversed => (1..=features).rev().collect(),
            InputOrder::Random { seed } => {
                let mut degrees: Vec<usize> = (1..=features).collect();
                SeededRng::new(*seed).shuffle(&mut degrees);
                degrees
            }
        }
    }
}

/// The degrees `(k mod (D − 1)) + 1` of a hidden layer of `width` units (`0` when `D = 1`).
pub fn hidden_degrees(features: usize, width: usize) -> Vec<usize> {
    (0..width)
        .map(|k| {
            if features > 1 {
                k % (features - 1) + 1
            } else {
                0
            }
        })
        .collect()
}

/// The `[fan_in, fan_out]` mask between units of degrees `from` and `to`: 1 where
/// `to ≥ from` (hidden units) or `to > from` (`strict`, the outputs).
pub fn degree_mask(from: &[usize], to: &[usize], strict: bool) -> Vec<f64> {
    let mut mask = Vec::with_capacity(from.len() * to.len());
    for &f in from {
        for &t in to {
            let kept = if strict { t > f } else { t >= f };
            mask.push(if kept { 1.0 } else { 0.0 });
        }
    }
    mask
}

/// A linear layer whose weight is multiplied by a fixed binary mask: `y = x (W ⊙ M) + b`.
#[derive(Module, Debug)]
pub struct MaskedLinear {
    /// The weight `W`, `[fan_in, fan_out]`.
    pub weight: Param<Tensor<2>>,
    /// The bias `b`, `[fan_out]`.
    pub bias: Param<Tensor<1>>,
    /// The mask `M`, `[fan_in, fan_out]`, not trained.
    pub mask: Param<Tensor<2>>,
}

impl MaskedLinear {
    /// A layer with weights drawn uniform in `±1/√fan_in` from `rng` and the given mask
    /// (row-major `[fan_in, fan_out]`).
    pub fn new(
        device: &SysDevice,
        fan_in: usize,
        fan_out: usize,
        mask: Vec<f64>,
        rng: &mut SeededRng,
    ) -> Result<Self, GenerativeError> {
        let weight = device
            .tensor(
                uniform_weights(rng, fan_in, fan_in * fan_out),
                [fan_in, fan_out],
            )
            .map_err(shape_error)?;
        let bias = device
            .tensor(uniform_weights(rng, fan_in, fan_out), [fan_out])
            .map_err(shape_error)?;
        let mask = device
            .tensor(mask, [fan_in, fan_out])
            .map_err(shape_error)?;
        Ok(MaskedLinear {
            weight: Param::from_tensor(weight),
            bias: Param::from_tensor(bias),
            mask: Param::from_tensor(mask).set_require_grad(false),
        })
    }

    /// The masked weight `W ⊙ M`.
    pub fn masked_weight(&self) -> Tensor<2> {
        self.weight.val() * self.mask.val().detach()
    }

    /// `x (W ⊙ M) + b`.
    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        burn::tensor::module::linear(x, self.masked_weight(), Some(self.bias.val()))
    }
}

fn shape_error(e: sysdyn_core::ShapeMismatch) -> GenerativeError {
    GenerativeError::ShapeMismatch {
        what: "a masked layer's values",
        left: e.got,
        right: e.expected,
    }
}

/// Size, order and conditioning of a [`Made`].
#[derive(Debug, Clone, PartialEq)]
pub struct MadeConfig {
    /// The input dimension `D` (≥ 1).
    pub features: usize,
    /// Hidden widths (each ≥ 1; at least `D − 1` units make every degree present).
    pub hidden: Vec<usize>,
    /// Width of the context (0: unconditional).
    pub context: usize,
    /// The autoregressive order of the inputs.
    pub order: InputOrder,
    /// The activation after every hidden layer.
    pub activation: Activation,
    /// The number `P` of outputs per dimension (2: shift and log-scale).
    pub outputs_per_dimension: usize,
}

impl MadeConfig {
    /// An unconditional MADE over `features` inputs in the natural order with tanh units.
    pub fn new(features: usize, hidden: Vec<usize>) -> Self {
        MadeConfig {
            features,
            hidden,
            context: 0,
            order: InputOrder::Natural,
            activation: Activation::Tanh,
            outputs_per_dimension: 2,
        }
    }

    /// Sets the number of outputs per dimension (e.g. `3K − 1` for a spline).
    pub fn with_outputs_per_dimension(mut self, outputs: usize) -> Self {
        self.outputs_per_dimension = outputs;
        self
    }

    /// Sets the context width (a conditional MADE).
    pub fn with_context(mut self, context: usize) -> Self {
        self.context = context;
        self
    }

    /// Sets the input order.
    pub fn with_order(mut self, order: InputOrder) -> Self {
        self.order = order;
        self
    }

    /// Sets the hidden activation.
    pub fn with_activation(mut self, activation: Activation) -> Self {
        self.activation = activation;
        self
    }

    /// The network, its weights drawn from `seed`.
    pub fn init(&self, device: &SysDevice, seed: u64) -> Result<Made, GenerativeError> {
        if self.features == 0 {
            return Err(GenerativeError::InvalidParameter {
                name: "MadeConfig::features",
                value: 0.0,
                requirement: "must be ≥ 1",
            });
        }
        if self.outputs_per_dimension == 0 {
            return Err(GenerativeError::InvalidParameter {
                name: "MadeConfig::outputs_per_dimension",
                value: 0.0,
                requirement: "must be ≥ 1",
            });
        }
        if self.hidden.contains(&0) {
            return Err(GenerativeError::InvalidParameter {
                name: "MadeConfig::hidden",
                value: 0.0,
                requirement: "every hidden width must be ≥ 1",
            });
        }
        let d = self.features;
        let input_degrees = self.order.degrees(d);
        let mut rng = SeededRng::new(seed);
        // Context columns have degree 0: they feed every unit of the first layer.
        let mut previous: Vec<usize> = input_degrees.clone();
        previous.extend(std::iter::repeat_n(0, self.context));
        let mut layers = Vec::with_capacity(self.hidden.len() + 1);
        for &width in &self.hidden {
            let degrees = hidden_degrees(d, width);
            let mask = degree_mask(&previous, &degrees, false);
            layers.push(MaskedLinear::new(
                device,
                previous.len(),
                width,
                mask,
                &mut rng,
            )?);
            previous = degrees;
        }
        // Outputs: P blocks of D (shifts μ_0..μ_{D−1}, then log-scales α_0..α_{D−1} when P = 2),
        // each output of its input's degree.
        let p = self.outputs_per_dimension;
        let output_degrees: Vec<usize> = (0..p).flat_map(|_| input_degrees.clone()).collect();
        let mask = degree_mask(&previous, &output_degrees, true);
        layers.push(MaskedLinear::new(
            device,
            previous.len(),
            p * d,
            mask,
            &mut rng,
        )?);
        let context_layer = if self.context > 0 {
            let ones = vec![1.0; self.context * p * d];
            Some(MaskedLinear::new(
                device,
                self.context,
                p * d,
                ones,
                &mut rng,
            )?)
        } else {
            None
        };
        Ok(Made {
            layers,
            context_layer,
            features: d,
            context: self.context,
            activation: self.activation,
            outputs_per_dimension: p,
            input_degrees,
        })
    }
}

/// The shift and log-scale of each dimension, `[batch, D]` each.
#[derive(Debug, Clone)]
pub struct MadeOutput {
    /// `μ_i(x_{<i})`.
    pub shift: Tensor<2>,
    /// `α_i(x_{<i})`.
    pub log_scale: Tensor<2>,
}

/// A MADE network: masked linear layers with an activation between them.
#[derive(Module, Debug)]
pub struct Made {
    /// The masked layers, input to output.
    pub layers: Vec<MaskedLinear>,
    /// The direct map from the context to the outputs (conditional MADEs only).
    pub context_layer: Option<MaskedLinear>,
    #[module(skip)]
    features: usize,
    #[module(skip)]
    context: usize,
    #[module(skip)]
    activation: Activation,
    #[module(skip)]
    outputs_per_dimension: usize,
    #[module(skip)]
    input_degrees: Vec<usize>,
}

impl Made {
    /// The input dimension `D`.
    pub fn features(&self) -> usize {
        self.features
    }

    /// The context width (0: unconditional).
    pub fn context_width(&self) -> usize {
        self.context
    }

    /// The degree of each input, `m(i) ∈ {1, …, D}`: its position in the order.
    pub fn input_degrees(&self) -> &[usize] {
        &self.input_degrees
    }

    /// The number `P` of outputs per dimension.
    pub fn outputs_per_dimension(&self) -> usize {
        self.outputs_per_dimension
    }

    /// The shift and log-scale of every dimension, output `i` depending only on the inputs
    /// before `i` in the order (and on the context). Needs `P = 2`.
    pub fn forward(
        &self,
        x: Tensor<2>,
        context: Option<&Tensor<2>>,
    ) -> Result<MadeOutput, GenerativeError> {
        if self.outputs_per_dimension != 2 {
            return Err(GenerativeError::Unsupported {
                what: "a shift and log-scale from a MADE with P ≠ 2 outputs per dimension: \
                       use Made::forward_parameters",
            });
        }
        let batch = x.dims()[0];
        let out = self.outputs(x, context)?;
        let d = self.features;
        Ok(MadeOutput {
            shift: out.clone().slice([0..batch, 0..d]),
            log_scale: out.slice([0..batch, d..2 * d]),
        })
    }

    /// The `P` outputs of every dimension, `[batch, D, P]`: entry `[r, i, p]` depends only on the
    /// inputs before `i` in the order (and on the context).
    pub fn forward_parameters(
        &self,
        x: Tensor<2>,
        context: Option<&Tensor<2>>,
    ) -> Result<Tensor<3>, GenerativeError> {
        let batch = x.dims()[0];
        let out = self.outputs(x, context)?;
        Ok(out
            .reshape([batch, self.outputs_per_dimension, self.features])
            .swap_dims(1, 2))
    }

    /// All `P·D` outputs, `[batch, P·D]`, in blocks of `D`.
    fn outputs(
        &self,
        x: Tensor<2>,
        context: Option<&Tensor<2>>,
    ) -> Result<Tensor<2>, GenerativeError> {
        let batch = check_rows("MADE input", &x, self.features)?;
        let context = check_context("MADE context", context, self.context, batch)?;
        let input = match context {
            Some(c) => Tensor::cat(vec![x, c.clone()], 1),
            None => x,
        };
        let direct = match (context, &self.context_layer) {
            (Some(c), Some(layer)) => Some(layer.forward(c.clone())),
            _ => None,
        };
        let (last, hidden) = self
            .layers
            .split_last()
            .ok_or(GenerativeError::Unsupported {
                what: "a MADE without layers: build it with MadeConfig::init",
            })?;
        let h = hidden
            .iter()
            .fold(input, |h, layer| self.activation.forward(layer.forward(h)));
        Ok(match direct {
            Some(direct) => last.forward(h) + direct,
            None => last.forward(h),
        })
    }
}
