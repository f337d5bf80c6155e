//! The CPU fast path of [`crate::MlpField`]: the field, its vector–Jacobian product and a
//! continuous normalizing flow's dynamics `[f, -tr(∂f/∂z)]` with theirs, run by
//! [`sysdyn_mlp`]'s host engine.
//!
//! On the CPU backends a burn op on a `[512, 64]` tensor costs its kernel plus allocation and
//! dispatch, and burn's `tanh` is the C library's scalar `tanhf`. An MLP field evaluated a few
//! hundred times per training step is dominated by that. The engine runs the whole forward pass,
//! its backward pass, or the forward-mode trace and its backward as one call each on host
//! memory. The tensors' values are copied in and out once per evaluation (a `[batch, dim]`
//! state, small next to the hidden layers).
//!
//! This module only adapts a field to the engine, which takes the network's full input: it
//! appends the time column `t` for a time-dependent field, builds `[z, t]` from a flow state
//! `[z, l]` (the log-density `l` is not an input), and maps the engine's results back onto the
//! field's state (the time column's derivative dropped, zero for `l`). The same mathematics runs
//! on any device through [`crate::MlpField`]'s tensor path; this module only changes where it
//! runs.

use std::sync::Arc;

use burn::nn::Linear;
use burn::tensor::{DType, Device, Tensor};
use sysdyn_core::jet::Activation;
use sysdyn_mlp::burn::{AnyMlp, BurnFloat, is_cpu_device, to_host, to_tensor};
use sysdyn_mlp::{Float, Mlp, Tape, TraceTape};

/// An MLP field's network copied to host memory in its own precision.
#[derive(Debug, Clone)]
pub(crate) struct HostWeights {
    /// Shared: a prepared field is cloned by the solvers, the weights need not be.
    mlp: Arc<AnyMlp>,
    /// Whether the network's last input is time.
    time_column: bool,
}

/// A host tape in the precision of the field.
#[derive(Debug, Clone)]
pub enum HostTapes {
    /// A field evaluation, single precision.
    F32(Tape<f32>),
    /// A field evaluation, double precision.
    F64(Tape<f64>),
    /// A flow evaluation (field and exact trace), single precision.
    FlowF32(TraceTape<f32>),
    /// A flow evaluation (field and exact trace), double precision.
    FlowF64(TraceTape<f64>),
}

/// The first `keep` of the `width` columns of each of `rows` rows of `values`, then `extra` when
/// given: the network's input from a state (`extra` the time column), and the state part of an
/// input VJP (`extra` zero for a flow's log-density). Moves `values` through when nothing
/// changes.
fn select_columns<E: Float>(
    values: Vec<E>,
    rows: usize,
    width: usize,
    keep: usize,
    extra: Option<E>,
) -> Vec<E> {
    if keep == width && extra.is_none() {
        return values;
    }
    let mut out = Vec::with_capacity(rows * (keep + usize::from(extra.is_some())));
    for r in 0..rows {
        out.extend_from_slice(&values[r * width..r * width + keep]);
        out.extend(extra);
    }
    out
}

impl HostWeights {
    /// Copies the values of `layers` to the host when they live there (flex or ndarray, with or
    /// without autodiff) in f32 or f64; `None` otherwise, which keeps the tensor path.
    /// Parameters on an autodiff device are read without their graph (the host path serves
    /// vector–Jacobian products, which need values).
    pub(crate) fn from_layers(
        layers: &[Linear],
        activation: Activation,
        time_column: bool,
    ) -> Option<Self> {
        let first = layers.first()?.weight.val();
        if !is_cpu_device(&first.device()) {
            return None;
        }
        // The copy fails only for a precision the engine does not run in (half precision): those
        // networks keep the tensor path. A `jet::Mlp`'s layers always chain.
        let mlp = AnyMlp::from_linears(layers, activation).ok()?;
        Some(HostWeights {
            mlp: Arc::new(mlp),
            time_column,
        })
    }

    /// The time input in `E`, when the network takes one.
    fn time<E: Float>(&self, t: f64) -> Option<E> {
        self.time_column.then(|| E::from_f64(t))
    }

    /// Whether `x` is a host tensor without graph that the engine can read.
    fn readable(x: &Tensor<2>) -> bool {
        !x.is_autodiff() && is_cpu_device(&x.device())
    }

    /// `f(t, x)` on the host, with the tape for the VJP when `keep` is set. `None` when `x` is
    /// not a host tensor of the weights' dtype and width.
    pub(crate) fn forward(
        &self,
        t: f64,
        x: &Tensor<2>,
        keep: bool,
    ) -> Option<(Tensor<2>, Option<HostTapes>)> {
        if !Self::readable(x) {
            return None;
        }
        match (&*self.mlp, x.dtype()) {
            (AnyMlp::F32(mlp), DType::F32) => {
                let (value, tape) = self.forward_in(mlp, t, x, keep)?;
                Some((value, tape.map(HostTapes::F32)))
            }
            (AnyMlp::F64(mlp), DType::F64) => {
                let (value, tape) = self.forward_in(mlp, t, x, keep)?;
                Some((value, tape.map(HostTapes::F64)))
            }
            _ => None,
        }
    }

    fn forward_in<E: BurnFloat>(
        &self,
        mlp: &Mlp<E>,
        t: f64,
        x: &Tensor<2>,
        keep: bool,
    ) -> Option<(Tensor<2>, Option<Tape<E>>)> {
        let device = x.device();
        let (values, [batch, dim]) = to_host::<E, 2>(x.clone()).ok()?;
        if dim + usize::from(self.time_column) != mlp.input_width() {
            // A state the network does not take: the tensor path reports it.
            return None;
        }
        let input = select_columns(values, batch, dim, dim, self.time(t));
        let (out, tape) = if keep {
            let (out, tape) = mlp
                .forward_taped(&input, batch)
                .expect("the input's width was checked against the network");
            (out, Some(tape))
        } else {
            let out = mlp
                .forward(&input, batch)
                .expect("the input's width was checked against the network");
            (out, None)
        };
        let value = to_tensor(out, [batch, mlp.output_width()], &device)
            .expect("the engine returns batch × output_width values");
        Some((value, tape))
    }

    /// `(cᵀ∂f/∂x, cᵀ∂f/∂θ)` from a host tape; `dim` is the state dimension (the network's
    /// input without the time column). The parameter part is flat, per layer the weight
    /// (row-major `[fan_in, fan_out]`) then the bias: the field's [`crate::ParamLayout`].
    pub(crate) fn vjp(
        &self,
        tape: &HostTapes,
        cotangent: Tensor<2>,
        dim: usize,
    ) -> (Tensor<2>, Tensor<1>) {
        let device = cotangent.device().inner();
        match (&*self.mlp, tape) {
            (AnyMlp::F32(mlp), HostTapes::F32(tape)) => vjp_in(mlp, tape, cotangent, dim, &device),
            (AnyMlp::F64(mlp), HostTapes::F64(tape)) => vjp_in(mlp, tape, cotangent, dim, &device),
            _ => unreachable!("a host tape is used with the weights that made it"),
        }
    }

    /// The flow dynamics `[f, -tr(∂f/∂z)]` of states `[z, l]` on the host, with the tape for
    /// its VJP when `keep` is set. `None` when the network or the tensor do not suit the host
    /// path (another device or dtype, or a state that is not `[z, l]` for the network's `z`).
    pub(crate) fn flow_forward(
        &self,
        t: f64,
        x: &Tensor<2>,
        keep: bool,
    ) -> Option<(Tensor<2>, Option<HostTapes>)> {
        if !Self::readable(x) {
            return None;
        }
        match (&*self.mlp, x.dtype()) {
            (AnyMlp::F32(mlp), DType::F32) => {
                let (value, tape) = self.flow_forward_in(mlp, t, x, keep)?;
                Some((value, tape.map(HostTapes::FlowF32)))
            }
            (AnyMlp::F64(mlp), DType::F64) => {
                let (value, tape) = self.flow_forward_in(mlp, t, x, keep)?;
                Some((value, tape.map(HostTapes::FlowF64)))
            }
            _ => None,
        }
    }

    fn flow_forward_in<E: BurnFloat>(
        &self,
        mlp: &Mlp<E>,
        t: f64,
        x: &Tensor<2>,
        keep: bool,
    ) -> Option<(Tensor<2>, Option<TraceTape<E>>)> {
        let device = x.device();
        let (values, [batch, width]) = to_host::<E, 2>(x.clone()).ok()?;
        let dim = mlp.output_width();
        // The trace needs the square block ∂f/∂z: z is the first `dim` inputs, then t.
        if width != dim + 1 || mlp.input_width() != dim + usize::from(self.time_column) {
            return None;
        }
        // a_0 = [z, t]: the log-density column of the state is not an input.
        let input = select_columns(values, batch, width, dim, self.time(t));
        let (out, tape) = if keep {
            let (out, tape) = mlp
                .forward_trace_taped(&input, batch, ..dim)
                .expect("the input's width and the square block were checked");
            (out, Some(tape))
        } else {
            let out = mlp
                .forward_trace(&input, batch, ..dim)
                .expect("the input's width and the square block were checked");
            (out, None)
        };
        // d[z, l]/dt = [f, -tr].
        let mut dynamics = Vec::with_capacity(batch * width);
        for (f, &tr) in out.value.chunks_exact(dim).zip(&out.trace) {
            dynamics.extend_from_slice(f);
            dynamics.push(E::ZERO - tr);
        }
        let value = to_tensor(dynamics, [batch, width], &device)
            .expect("batch rows of dim + 1 values were built");
        Some((value, tape))
    }

    /// The VJP of the flow dynamics from a flow tape: the state part `[batch, d + 1]` (zero in
    /// the log-density column, which the dynamics do not read) and the flat parameter part.
    pub(crate) fn flow_vjp(
        &self,
        tape: &HostTapes,
        cotangent: Tensor<2>,
    ) -> (Tensor<2>, Tensor<1>) {
        let device = cotangent.device().inner();
        match (&*self.mlp, tape) {
            (AnyMlp::F32(mlp), HostTapes::FlowF32(tape)) => {
                flow_vjp_in(mlp, tape, cotangent, &device)
            }
            (AnyMlp::F64(mlp), HostTapes::FlowF64(tape)) => {
                flow_vjp_in(mlp, tape, cotangent, &device)
            }
            _ => unreachable!("a flow tape is used with the weights that made it"),
        }
    }
}

/// A VJP's state part (`shape`) and flat parameter part as tensors on `device`.
fn vjp_tensors<E: BurnFloat>(
    state: Vec<E>,
    params: Vec<E>,
    shape: [usize; 2],
    device: &Device,
) -> (Tensor<2>, Tensor<1>) {
    let n = params.len();
    (
        to_tensor(state, shape, device).expect("the state part has the cotangent's shape"),
        to_tensor(params, [n], device).expect("a flat vector fits its own length"),
    )
}

fn vjp_in<E: BurnFloat>(
    mlp: &Mlp<E>,
    tape: &Tape<E>,
    cotangent: Tensor<2>,
    dim: usize,
    device: &Device,
) -> (Tensor<2>, Tensor<1>) {
    let (cot, [batch, _]) =
        to_host::<E, 2>(cotangent).expect("the cotangent has the dtype of the field's state");
    let grads = mlp
        .backward(tape, &cot)
        .expect("the cotangent is shaped like the value of the evaluation that made the tape");
    // ∂/∂x: the first `dim` input columns (the time column, if any, is not part of the state).
    let state = select_columns(grads.input, batch, mlp.input_width(), dim, None);
    vjp_tensors(state, grads.params, [batch, dim], device)
}

fn flow_vjp_in<E: BurnFloat>(
    mlp: &Mlp<E>,
    tape: &TraceTape<E>,
    cotangent: Tensor<2>,
    device: &Device,
) -> (Tensor<2>, Tensor<1>) {
    let (cot, [batch, width]) =
        to_host::<E, 2>(cotangent).expect("the cotangent has the dtype of the flow's state");
    let dim = width - 1;
    let mut cot_value = Vec::with_capacity(batch * dim);
    let mut cot_trace = Vec::with_capacity(batch);
    for row in cot.chunks_exact(width) {
        cot_value.extend_from_slice(&row[..dim]);
        // The dynamics' last column is -tr, so the trace's cotangent is -c_l.
        cot_trace.push(E::ZERO - row[dim]);
    }
    let grads = mlp
        .backward_trace(tape, &cot_value, &cot_trace)
        .expect("the cotangent is shaped like the flow state of the evaluation that made the tape");
    // ∂/∂z (the first d input columns; t dropped), zero for the log-density.
    let state = select_columns(grads.input, batch, mlp.input_width(), dim, Some(E::ZERO));
    vjp_tensors(state, grads.params, [batch, width], device)
}
