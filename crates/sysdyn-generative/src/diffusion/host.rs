//! The CPU fast path of an unconditional [`EpsNet`]: its MLP on [`sysdyn_mlp`]'s host engine.
//!
//! The ε-network is an MLP on `[x, emb(t)]` whose step embedding is a fixed input (no
//! parameters), so `ε̂(x, t)` is the engine's forward pass on rows `[x, emb(t)]` and the
//! gradient of the simple loss `L = mean((ε̂(x_t, t) − target)²)` is its backward pass with the
//! cotangent `∂L/∂ε̂ = 2 (ε̂ − target) / (rows · width)`.
//!
//! On burn's CPU backends (flex, ndarray) the tensor path of W3 pays each op's allocation and
//! dispatch and a scalar SiLU; the engine runs the whole pass in one call. The path is taken
//! where it computes the same thing: unconditional networks (a class table is a parameter the
//! engine does not hold), weights and inputs in host memory in f32 or f64. Anywhere else
//! (a GPU, half precision, a conditional network) [`HostEpsNet::new`] answers `None` and callers
//! keep the tensor path.

use burn::nn::Linear;
use burn::optim::GradientsParams;
use burn::tensor::{DType, Tensor};
use sysdyn_mlp::burn::{AnyMlp, BurnFloat, is_cpu_device, to_host, to_tensor};
use sysdyn_mlp::{Float, Layer, Mlp};

use crate::diffusion::embedding::TimeEmbedding;
use crate::diffusion::network::EpsNet;
use crate::diffusion::sampler::NoisePredictor;
use crate::error::GenerativeError;
use crate::host::register_gradients;

/// An unconditional [`EpsNet`]'s MLP copied to host memory in its own precision (a snapshot of
/// the weights: copy again after an optimizer step).
#[derive(Debug, Clone)]
pub struct HostEpsNet {
    mlp: AnyMlp,
    embedding: TimeEmbedding,
    data_width: usize,
}

/// The embeddings `emb(0) … emb(T − 1)` of a schedule's steps, computed once (a training step
/// needs one per row).
#[derive(Debug, Clone)]
pub(crate) struct StepEmbeddings {
    dim: usize,
    values: Vec<f64>,
}

impl StepEmbeddings {
    /// The table for steps `0 … steps − 1`.
    pub(crate) fn new(embedding: TimeEmbedding, steps: usize) -> Self {
        StepEmbeddings {
            dim: embedding.dim(),
            values: (0..steps).flat_map(|t| embedding.embed(t)).collect(),
        }
    }

    /// `emb(t)`; `None` past the table.
    fn get(&self, t: usize) -> Option<&[f64]> {
        self.values.get(t * self.dim..(t + 1) * self.dim)
    }
}

impl HostEpsNet {
    /// The host copy of `net` when the engine can run it: an unconditional network whose
    /// parameters live in host memory (flex or ndarray, with or without autodiff) in f32 or
    /// f64. `None` otherwise.
    pub fn new(net: &EpsNet) -> Option<Self> {
        if net.classes() > 0 {
            return None;
        }
        let layers = net.network().layers();
        if !is_cpu_device(&layers.first()?.weight.val().device()) {
            return None;
        }
        let mlp = AnyMlp::from_linears(layers, net.network().activation()).ok()?;
        Some(HostEpsNet {
            mlp,
            embedding: net.embedding(),
            data_width: net.data_width(),
        })
    }

    /// `[x, emb]` rows: `x` row-major `[rows, data_width]`, `emb(row)` the embedding of a row.
    fn input<'a, E: Float>(
        &self,
        x: &[E],
        rows: usize,
        emb: impl Fn(usize) -> &'a [f64],
    ) -> Vec<E> {
        let width = self.data_width;
        let mut input = Vec::with_capacity(rows * (width + self.embedding.dim()));
        for (row, values) in x.chunks_exact(width).enumerate() {
            input.extend_from_slice(values);
            input.extend(emb(row).iter().map(|&v| E::from_f64(v)));
        }
        input
    }

    /// `ε̂(x, t)` for every row of `x` at step `t`, on the engine. `None` when `x` is not a
    /// host tensor without graph of the network's dtype and data width (the tensor path
    /// answers those).
    pub fn predict(&self, x: &Tensor<2>, t: usize) -> Option<Tensor<2>> {
        if x.is_autodiff() || !is_cpu_device(&x.device()) {
            return None;
        }
        match (&self.mlp, x.dtype()) {
            (AnyMlp::F32(mlp), DType::F32) => self.predict_in(mlp, x, t),
            (AnyMlp::F64(mlp), DType::F64) => self.predict_in(mlp, x, t),
            _ => None,
        }
    }

    fn predict_in<E: BurnFloat>(&self, mlp: &Mlp<E>, x: &Tensor<2>, t: usize) -> Option<Tensor<2>> {
        let (values, [rows, width]) = to_host::<E, 2>(x.clone()).ok()?;
        if width != self.data_width {
            return None;
        }
        // Every row shares emb(t): its part of the first layer is a constant, folded into the
        // bias, so the first layer reads the data columns alone (W3: 2 of 34 inputs).
        let folded = fold_fixed_input(mlp, width, &self.embedding.embed(t))?;
        // The engine refusing (a network whose widths do not fit the data) is not a panic: the
        // tensor path computes the prediction instead, and reports any real shape error.
        let out = folded.forward(&values, rows).ok()?;
        to_tensor(out, [rows, width], &x.device()).ok()
    }

    /// The simple loss `mean((ε̂(x_t, t_row) − target)²)` and its gradient with respect to the
    /// parameters of `layers` (the network this copy was made from, on `device`, the inner
    /// device of its parameters). `x_t` and `target` are row-major `[rows, data_width]`, one
    /// step per row.
    pub(crate) fn loss_and_gradients(
        &self,
        x_t: &[f64],
        steps: &[usize],
        target: &[f64],
        embeddings: &StepEmbeddings,
        layers: &[Linear],
    ) -> Result<(f64, GradientsParams), GenerativeError> {
        let rows = steps.len();
        if x_t.len() != rows * self.data_width || target.len() != x_t.len() {
            return Err(GenerativeError::ShapeMismatch {
                what: "noised rows, targets and steps (rows × data width each)",
                left: vec![x_t.len(), target.len()],
                right: vec![rows, self.data_width],
            });
        }
        if let Some(&step) = steps.iter().find(|&&t| embeddings.get(t).is_none()) {
            return Err(GenerativeError::InvalidParameter {
                name: "diffusion step",
                value: step as f64,
                requirement: "must be below the schedule's number of steps",
            });
        }
        let device = layers
            .first()
            .map(|layer| layer.weight.val().device().inner())
            .ok_or(GenerativeError::Unsupported {
                what: "an ε-network without layers",
            })?;
        let emb = |row: usize| embeddings.get(steps[row]).unwrap_or(&[]);
        match &self.mlp {
            AnyMlp::F32(mlp) => {
                let input = self.input(&cast::<f32>(x_t), rows, emb);
                let (loss, params) = loss_and_params(mlp, &input, rows, target)?;
                let mut grads = GradientsParams::new();
                register_gradients(&mut grads, mlp, &params, layers, &device);
                Ok((loss, grads))
            }
            AnyMlp::F64(mlp) => {
                let input = self.input(x_t, rows, emb);
                let (loss, params) = loss_and_params(mlp, &input, rows, target)?;
                let mut grads = GradientsParams::new();
                register_gradients(&mut grads, mlp, &params, layers, &device);
                Ok((loss, grads))
            }
        }
    }
}

/// The network `x ↦ f([x, c])` for a fixed tail `c` of the input: the first layer's rows of
/// `c` fold into its bias, `b' = b + c W_c`, and its weight keeps the first `width` rows.
fn fold_fixed_input<E: Float>(mlp: &Mlp<E>, width: usize, fixed: &[f64]) -> Option<Mlp<E>> {
    let (first, rest) = mlp.layers().split_first()?;
    let fan_out = first.fan_out();
    let weight = first.weight();
    let mut bias: Vec<f64> = match first.bias() {
        Some(b) => b.iter().map(|v| v.to_f64()).collect(),
        None => vec![0.0; fan_out],
    };
    for (k, &c) in fixed.iter().enumerate() {
        let row = weight.get((width + k) * fan_out..(width + k + 1) * fan_out)?;
        for (b, w) in bias.iter_mut().zip(row) {
            *b += c * w.to_f64();
        }
    }
    let head = Layer::new(
        width,
        fan_out,
        weight.get(..width * fan_out)?.to_vec(),
        Some(cast(&bias)),
    )
    .ok()?;
    let layers = std::iter::once(head).chain(rest.iter().cloned()).collect();
    Mlp::new(layers, mlp.activation()).ok()
}

fn cast<E: Float>(values: &[f64]) -> Vec<E> {
    values.iter().map(|&v| E::from_f64(v)).collect()
}

/// `mean((y − target)²)` of the engine's output `y` on `input`, and its flat parameter gradient.
/// Errors: the network's input or output width does not fit the data (the engine's refusal).
fn loss_and_params<E: Float>(
    mlp: &Mlp<E>,
    input: &[E],
    rows: usize,
    target: &[f64],
) -> Result<(f64, Vec<E>), GenerativeError> {
    let mismatch = |left: usize, right: usize| GenerativeError::ShapeMismatch {
        what: "the host ε-network's values against the data (rows × width)",
        left: vec![left],
        right: vec![right],
    };
    let (out, tape) = mlp
        .forward_taped(input, rows)
        .map_err(|_| mismatch(input.len(), rows * mlp.input_width()))?;
    if out.len() != target.len() {
        return Err(mismatch(out.len(), target.len()));
    }
    let n = out.len() as f64;
    let mut loss = 0.0;
    let mut cotangent = Vec::with_capacity(out.len());
    for (&y, &want) in out.iter().zip(target) {
        let residual = y.to_f64() - want;
        loss += residual * residual;
        cotangent.push(E::from_f64(2.0 * residual / n));
    }
    // The cotangent has the output's length (checked above), which the tape came from.
    let grads = mlp
        .backward(&tape, &cotangent)
        .map_err(|_| mismatch(cotangent.len(), out.len()))?;
    Ok((loss / n, grads.params))
}

/// A [`NoisePredictor`] for an [`EpsNet`] that runs on the host engine where it can (see
/// [`HostEpsNet`]) and on the network's tensor path elsewhere. The host copy of the weights is
/// made once, when the predictor is built: build a new one after training the network.
#[derive(Debug)]
pub struct EpsPredictor<'a> {
    net: &'a EpsNet,
    host: Option<HostEpsNet>,
}

impl<'a> EpsPredictor<'a> {
    /// A predictor for `net` (unconditional, or the null class `ε(x, ∅)` of a conditional one).
    pub fn new(net: &'a EpsNet) -> Self {
        EpsPredictor {
            net,
            host: HostEpsNet::new(net),
        }
    }

    /// A predictor that always takes the tensor path (for comparisons).
    pub fn tensor_path(net: &'a EpsNet) -> Self {
        EpsPredictor { net, host: None }
    }

    /// Whether the host engine runs the network (for host tensors of its dtype).
    pub fn uses_host_engine(&self) -> bool {
        self.host.is_some()
    }
}

impl NoisePredictor for EpsPredictor<'_> {
    fn predict(&mut self, x: Tensor<2>, t: usize) -> Result<Tensor<2>, GenerativeError> {
        if let Some(host) = &self.host
            && let Some(epsilon) = host.predict(&x, t)
        {
            return Ok(epsilon);
        }
        let [rows, _] = x.dims();
        self.net.forward(x, &vec![t; rows], None)
    }
}
