//! A fused MLP vector field on host memory: the CPU fast path of [`crate::MlpField`].
//!
//! On the CPU backends a burn op on a `[512, 64]` tensor costs its kernel plus allocation and
//! dispatch, and burn's `tanh` is the C library's scalar `tanhf` (about 15 ns an element). An
//! MLP field evaluated a few hundred times per training step is dominated by that. Here the whole
//! forward pass and its vector–Jacobian product are one call each: matrix products by small
//! register-blocked kernels, a vectorised tanh, the saved activations
//! kept in plain vectors, and the batch split across the rayon pool. The tensors' values are
//! copied in and out once per evaluation (a `[batch, dim]` state, small next to the hidden
//! layers).
//!
//! The same mathematics runs on any device through [`crate::MlpField`]'s tensor path; this module
//! only changes where it runs.

mod flow;
pub mod kernels;

use std::sync::Arc;

use burn::nn::Linear;
use burn::tensor::{DType, Tensor, TensorData};
use rayon::prelude::*;
use sysdyn_core::jet::Activation;

pub use flow::FlowTape;
pub use kernels::HostFloat;

/// Rows per parallel chunk below which splitting the batch does not pay.
const MIN_ROWS_PER_CHUNK: usize = 64;

/// An affine layer `y = x W + b` with `W` stored `[fan_in, fan_out]` row-major.
#[derive(Debug, Clone)]
struct HostLayer<E> {
    fan_in: usize,
    fan_out: usize,
    weight: Vec<E>,
    bias: Option<Vec<E>>,
}

/// Hidden activations the host path implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HostActivation {
    Tanh,
    Identity,
}

impl HostActivation {
    pub(crate) fn of(activation: Activation) -> Option<Self> {
        match activation {
            Activation::Tanh => Some(HostActivation::Tanh),
            Activation::Identity => Some(HostActivation::Identity),
            _ => None,
        }
    }
}

/// An MLP's parameters copied to host memory.
#[derive(Debug, Clone)]
pub(crate) struct HostMlp<E> {
    layers: Vec<HostLayer<E>>,
    activation: HostActivation,
    /// Whether the network's last input is time.
    time_column: bool,
}

/// Saved layer inputs of one chunk of rows.
#[derive(Debug, Clone)]
struct ChunkTape<E> {
    rows: usize,
    inputs: Vec<Vec<E>>,
}

/// What the host forward pass keeps for its vector–Jacobian product.
#[derive(Debug, Clone)]
pub struct HostTape<E> {
    chunks: Vec<ChunkTape<E>>,
}

/// Host parameters in the precision of the field.
#[derive(Debug, Clone)]
pub(crate) enum HostWeights {
    F32(Arc<HostMlp<f32>>),
    F64(Arc<HostMlp<f64>>),
}

/// A host tape in the precision of the field.
#[derive(Debug, Clone)]
pub enum HostTapes {
    /// Single precision.
    F32(HostTape<f32>),
    /// Double precision.
    F64(HostTape<f64>),
    /// A flow evaluation (field and exact trace), single precision.
    FlowF32(FlowTape<f32>),
    /// A flow evaluation (field and exact trace), double precision.
    FlowF64(FlowTape<f64>),
}

/// Whether `device` runs tensors in host memory (the CPU backends `flex` and `ndarray`).
pub(crate) fn is_host_device(device: &burn::tensor::Device) -> bool {
    // burn does not expose the backend of a `Device` except through its debug form, which names
    // the dispatch variant: `Device<Flex(..)>`, `Device<NdArray(..)>`.
    let name = format!("{device:?}");
    name.starts_with("Device<Flex") || name.starts_with("Device<NdArray")
}

/// Whether `device` (with or without autodiff) is burn's `flex` backend.
pub(crate) fn is_flex_device(device: &burn::tensor::Device) -> bool {
    // `Device<Flex(..)>` or `Device<Autodiff { device: Flex(..), .. }>`.
    format!("{device:?}").contains("Flex(")
}

fn host_values<E: burn::tensor::Element, const D: usize>(t: Tensor<D>) -> Vec<E> {
    t.into_data()
        .try_into_vec::<E>()
        .expect("the dtype was checked before reading")
}

/// A host float that burn stores as a tensor of its own dtype.
trait HostElement: HostFloat + burn::tensor::Element {
    const DTYPE: DType;
}

impl HostElement for f32 {
    const DTYPE: DType = DType::F32;
}

impl HostElement for f64 {
    const DTYPE: DType = DType::F64;
}

/// Host values back to a tensor of their dtype on `device`.
fn host_tensor<E: HostElement, const D: usize>(
    values: Vec<E>,
    shape: [usize; D],
    device: &burn::tensor::Device,
) -> Tensor<D> {
    Tensor::from_data(TensorData::new(values, shape), (device, E::DTYPE))
}

/// A VJP's state part (`shape`) and flat parameter part as tensors on `device`.
fn vjp_tensors<E: HostElement>(
    state: Vec<E>,
    params: Vec<E>,
    shape: [usize; 2],
    device: &burn::tensor::Device,
) -> (Tensor<2>, Tensor<1>) {
    let n = params.len();
    (
        host_tensor(state, shape, device),
        host_tensor(params, [n], device),
    )
}

impl HostWeights {
    /// Copies the values of `layers` to the host when they live there in f32 or f64 and the
    /// activation has a host kernel; `None` otherwise. Parameters on an autodiff device are read
    /// without their graph (the host path serves vector–Jacobian products, which need values).
    pub(crate) fn from_layers(
        layers: &[Linear],
        activation: Activation,
        time_column: bool,
    ) -> Option<Self> {
        let activation = HostActivation::of(activation)?;
        let first = layers.first()?.weight.val().inner();
        if !is_host_device(&first.device()) {
            return None;
        }
        fn copy<E: HostFloat + burn::tensor::Element>(
            layers: &[Linear],
            activation: HostActivation,
            time_column: bool,
        ) -> HostMlp<E> {
            HostMlp {
                layers: layers
                    .iter()
                    .map(|l| {
                        let weight = l.weight.val().inner();
                        let [fan_in, fan_out] = weight.dims();
                        HostLayer {
                            fan_in,
                            fan_out,
                            weight: host_values(weight),
                            bias: l.bias.as_ref().map(|b| host_values(b.val().inner())),
                        }
                    })
                    .collect(),
                activation,
                time_column,
            }
        }
        match first.dtype() {
            DType::F32 => Some(HostWeights::F32(Arc::new(copy(
                layers,
                activation,
                time_column,
            )))),
            DType::F64 => Some(HostWeights::F64(Arc::new(copy(
                layers,
                activation,
                time_column,
            )))),
            _ => None,
        }
    }

    /// `f(t, x)` on the host, with the tape for the VJP when `keep` is set. `None` when `x` is
    /// not a host tensor of the weights' dtype.
    pub(crate) fn forward(
        &self,
        t: f64,
        x: &Tensor<2>,
        keep: bool,
    ) -> Option<(Tensor<2>, Option<HostTapes>)> {
        if x.is_autodiff() || !is_host_device(&x.device()) {
            return None;
        }
        let [batch, dim] = x.dims();
        let device = x.device();
        match (self, x.dtype()) {
            (HostWeights::F32(mlp), DType::F32) => {
                let (out, tape) = mlp.forward(&host_values(x.clone()), batch, dim, t, keep);
                let shape = [batch, mlp.output_width()];
                Some((host_tensor(out, shape, &device), tape.map(HostTapes::F32)))
            }
            (HostWeights::F64(mlp), DType::F64) => {
                let (out, tape) = mlp.forward(&host_values(x.clone()), batch, dim, t, keep);
                let shape = [batch, mlp.output_width()];
                Some((host_tensor(out, shape, &device), tape.map(HostTapes::F64)))
            }
            _ => None,
        }
    }

    /// `(cᵀ∂f/∂x, cᵀ∂f/∂θ)` from a host tape; `dim` is the state dimension.
    pub(crate) fn vjp(
        &self,
        tape: &HostTapes,
        cotangent: Tensor<2>,
        dim: usize,
    ) -> (Tensor<2>, Tensor<1>) {
        let device = cotangent.device().inner();
        let [batch, _] = cotangent.dims();
        match (self, tape) {
            (HostWeights::F32(mlp), HostTapes::F32(tape)) => {
                let (x_bar, params) = mlp.vjp(tape, &host_values(cotangent.inner()), dim);
                vjp_tensors(x_bar, params, [batch, dim], &device)
            }
            (HostWeights::F64(mlp), HostTapes::F64(tape)) => {
                let (x_bar, params) = mlp.vjp(tape, &host_values(cotangent.inner()), dim);
                vjp_tensors(x_bar, params, [batch, dim], &device)
            }
            _ => unreachable!("a host tape is used with the weights that made it"),
        }
    }
}

impl HostWeights {
    /// The flow dynamics `[f, -tr(∂f/∂z)]` of states `[z, l]` on the host, with the tape for
    /// its VJP when `keep` is set. `None` when the network or the tensor do not suit the host
    /// flow kernel.
    pub(crate) fn flow_forward(
        &self,
        t: f64,
        x: &Tensor<2>,
        keep: bool,
    ) -> Option<(Tensor<2>, Option<HostTapes>)> {
        if x.is_autodiff() || !is_host_device(&x.device()) {
            return None;
        }
        let [batch, width] = x.dims();
        let device = x.device();
        match (self, x.dtype()) {
            (HostWeights::F32(mlp), DType::F32) if mlp.supports_flow(width - 1) => {
                let (out, tape) = mlp.flow_forward(&host_values(x.clone()), batch, t, keep);
                Some((
                    host_tensor(out, [batch, width], &device),
                    tape.map(HostTapes::FlowF32),
                ))
            }
            (HostWeights::F64(mlp), DType::F64) if mlp.supports_flow(width - 1) => {
                let (out, tape) = mlp.flow_forward(&host_values(x.clone()), batch, t, keep);
                Some((
                    host_tensor(out, [batch, width], &device),
                    tape.map(HostTapes::FlowF64),
                ))
            }
            _ => None,
        }
    }

    /// The VJP of the flow dynamics from a flow tape: state part `[batch, d + 1]`, flat
    /// parameter part.
    pub(crate) fn flow_vjp(
        &self,
        tape: &HostTapes,
        cotangent: Tensor<2>,
    ) -> (Tensor<2>, Tensor<1>) {
        let device = cotangent.device().inner();
        let [batch, width] = cotangent.dims();
        match (self, tape) {
            (HostWeights::F32(mlp), HostTapes::FlowF32(tape)) => {
                let (x_bar, params) = mlp.flow_vjp(tape, &host_values(cotangent.inner()));
                vjp_tensors(x_bar, params, [batch, width], &device)
            }
            (HostWeights::F64(mlp), HostTapes::FlowF64(tape)) => {
                let (x_bar, params) = mlp.flow_vjp(tape, &host_values(cotangent.inner()));
                vjp_tensors(x_bar, params, [batch, width], &device)
            }
            _ => unreachable!("a flow tape is used with the weights that made it"),
        }
    }
}

/// Splits `batch` rows into contiguous chunks, one per worker where the rows allow.
fn row_chunks(batch: usize) -> Vec<(usize, usize)> {
    let workers = rayon::current_num_threads().max(1);
    let chunks = workers.min(batch.div_ceil(MIN_ROWS_PER_CHUNK)).max(1);
    let base = batch / chunks;
    let extra = batch % chunks;
    let mut out = Vec::with_capacity(chunks);
    let mut start = 0;
    for c in 0..chunks {
        let rows = base + usize::from(c < extra);
        out.push((start, rows));
        start += rows;
    }
    out
}

impl<E: HostFloat> HostMlp<E> {
    fn output_width(&self) -> usize {
        self.layers.last().map_or(0, |l| l.fan_out)
    }

    fn num_params(&self) -> usize {
        self.layers
            .iter()
            .map(|l| l.fan_in * l.fan_out + l.bias.as_ref().map_or(0, Vec::len))
            .sum()
    }

    /// The forward pass over all rows of `x` (`batch × dim`), split across workers.
    fn forward(
        &self,
        x: &[E],
        batch: usize,
        dim: usize,
        t: f64,
        keep: bool,
    ) -> (Vec<E>, Option<HostTape<E>>) {
        let parts: Vec<(Vec<E>, ChunkTape<E>)> = row_chunks(batch)
            .into_par_iter()
            .map(|(start, rows)| {
                self.forward_chunk(&x[start * dim..(start + rows) * dim], rows, dim, t, keep)
            })
            .collect();
        let mut out = Vec::with_capacity(batch * self.output_width());
        let mut chunks = Vec::with_capacity(parts.len());
        for (o, tape) in parts {
            out.extend_from_slice(&o);
            chunks.push(tape);
        }
        (out, keep.then_some(HostTape { chunks }))
    }

    fn forward_chunk(
        &self,
        x: &[E],
        rows: usize,
        dim: usize,
        t: f64,
        keep: bool,
    ) -> (Vec<E>, ChunkTape<E>) {
        let mut h: Vec<E> = if self.time_column {
            let time = E::from_f64(t);
            let mut input = Vec::with_capacity(rows * (dim + 1));
            for row in x.chunks_exact(dim) {
                input.extend_from_slice(row);
                input.push(time);
            }
            input
        } else {
            x.to_vec()
        };
        let mut inputs = Vec::with_capacity(if keep { self.layers.len() } else { 0 });
        let last = self.layers.len() - 1;
        for (l, layer) in self.layers.iter().enumerate() {
            let mut z = vec![E::ZERO; rows * layer.fan_out];
            let beta = match &layer.bias {
                Some(bias) => {
                    for row in z.chunks_exact_mut(layer.fan_out) {
                        row.copy_from_slice(bias);
                    }
                    E::ONE
                }
                None => E::ZERO,
            };
            E::gemm(
                rows,
                layer.fan_in,
                layer.fan_out,
                &h,
                false,
                &layer.weight,
                false,
                beta,
                &mut z,
            );
            if l < last && self.activation == HostActivation::Tanh {
                E::tanh_in_place(&mut z);
            }
            if keep {
                inputs.push(std::mem::replace(&mut h, z));
            } else {
                h = z;
            }
        }
        (h, ChunkTape { rows, inputs })
    }

    /// `(cᵀ∂f/∂x, cᵀ∂f/∂θ)`: the state part `batch × dim` (the time column dropped) and the
    /// parameter part flat, per layer the weight then the bias.
    fn vjp(&self, tape: &HostTape<E>, cotangent: &[E], dim: usize) -> (Vec<E>, Vec<E>) {
        let out_width = self.output_width();
        let mut offsets = Vec::with_capacity(tape.chunks.len());
        let mut start = 0;
        for chunk in &tape.chunks {
            offsets.push(start);
            start += chunk.rows;
        }
        let parts: Vec<(Vec<E>, Vec<E>)> = tape
            .chunks
            .par_iter()
            .zip(offsets.into_par_iter())
            .map(|(chunk, start)| {
                let cot = &cotangent[start * out_width..(start + chunk.rows) * out_width];
                self.vjp_chunk(chunk, cot, dim)
            })
            .collect();
        let mut x_bar = Vec::with_capacity(start * dim);
        let mut params = vec![E::ZERO; self.num_params()];
        for (xb, p) in parts {
            x_bar.extend_from_slice(&xb);
            for (acc, v) in params.iter_mut().zip(p) {
                *acc += v;
            }
        }
        (x_bar, params)
    }

    fn vjp_chunk(&self, tape: &ChunkTape<E>, cotangent: &[E], dim: usize) -> (Vec<E>, Vec<E>) {
        let rows = tape.rows;
        let mut params = vec![E::ZERO; self.num_params()];
        // Offset of each layer's weight in the flat parameter vector.
        let mut offsets = Vec::with_capacity(self.layers.len());
        let mut offset = 0;
        for layer in &self.layers {
            offsets.push(offset);
            offset += layer.fan_in * layer.fan_out + layer.bias.as_ref().map_or(0, Vec::len);
        }
        let mut delta = cotangent.to_vec();
        for (l, layer) in self.layers.iter().enumerate().rev() {
            let h = &tape.inputs[l];
            let (fan_in, fan_out) = (layer.fan_in, layer.fan_out);
            let w_at = offsets[l];
            // ∂W = hᵀ δ.
            E::gemm(
                fan_in,
                rows,
                fan_out,
                h,
                true,
                &delta,
                false,
                E::ZERO,
                &mut params[w_at..w_at + fan_in * fan_out],
            );
            if layer.bias.is_some() {
                let b_at = w_at + fan_in * fan_out;
                let bias_grad = &mut params[b_at..b_at + fan_out];
                for row in delta.chunks_exact(fan_out) {
                    for (g, d) in bias_grad.iter_mut().zip(row) {
                        *g += *d;
                    }
                }
            }
            // δ Wᵀ.
            let mut back = vec![E::ZERO; rows * fan_in];
            E::gemm(
                rows,
                fan_out,
                fan_in,
                &delta,
                false,
                &layer.weight,
                true,
                E::ZERO,
                &mut back,
            );
            if l == 0 {
                let x_bar = if fan_in == dim {
                    back
                } else {
                    back.chunks_exact(fan_in)
                        .flat_map(|row| row[..dim].iter().copied())
                        .collect()
                };
                return (x_bar, params);
            }
            if self.activation == HostActivation::Tanh {
                // tanh' = 1 - h², with h the saved input of this layer (the previous output).
                for (b, &hv) in back.iter_mut().zip(h.iter()) {
                    *b = *b * (E::ONE - hv * hv);
                }
            }
            delta = back;
        }
        unreachable!("an MLP has at least one layer")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_are_recognised_from_burns_debug_form() {
        // The host path depends on reading the backend out of `Device`'s debug output; a burn
        // upgrade that changes it fails here rather than silently disabling the fast path.
        #[cfg(feature = "flex")]
        {
            let flex = burn::tensor::Device::flex();
            assert!(is_host_device(&flex) && is_flex_device(&flex));
            assert!(is_flex_device(&flex.clone().autodiff()));
        }
        #[cfg(feature = "ndarray")]
        {
            #[allow(deprecated)]
            let ndarray = burn::tensor::Device::ndarray();
            assert!(is_host_device(&ndarray) && !is_flex_device(&ndarray));
        }
        #[cfg(feature = "wgpu")]
        {
            let gpu = burn::tensor::Device::wgpu(burn::tensor::DeviceKind::DefaultDevice);
            assert!(!is_host_device(&gpu) && !is_flex_device(&gpu));
        }
    }

    #[test]
    fn rows_split_evenly_and_cover_the_batch() {
        for batch in [1, 63, 64, 301, 512] {
            let chunks = row_chunks(batch);
            assert_eq!(chunks.iter().map(|c| c.1).sum::<usize>(), batch);
            let mut next = 0;
            for (start, rows) in chunks {
                assert_eq!(start, next);
                assert!(rows > 0);
                next = start + rows;
            }
        }
    }
}
