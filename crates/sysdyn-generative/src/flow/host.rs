//! The CPU fast path of a RealNVP (W4): a [`Chain`] of unconditional [`SplitAffineCoupling`]s
//! on a standard normal base, its negative log-likelihood and parameter gradient with every
//! scale and shift network on [`sysdyn_mlp`]'s host engine and the couplings chained on the
//! host.
//!
//! Layer `l` maps `x ↦ y` with `y_c = x_c`, `ŝ = S_l(x_c)`, `s = b(ŝ)` (`b` the
//! [`ScaleBound`]), `y_o = x_o e^s + T_l(x_c)`, `log det_l = Σ_o s`; the loss is
//! `NLL = −mean(−½|z|² − (d/2) log 2π + Σ_l log det_l)`. The backward sweep, with `ḡ` the
//! cotangent of `y` and `ḡ_ld = −1/n` that of each row's log-determinant:
//!
//! - `x̄_o = ḡ_o e^s`, `t̄ = ḡ_o`, `s̄ = ḡ_o x_o e^s + ḡ_ld`, `ŝ̄ = s̄ b'(ŝ)`;
//! - the engine's backward passes of `S_l` (cotangent `ŝ̄`) and `T_l` (`t̄`) give their parameter
//!   gradients and `x̄_c = ḡ_c + ∂S_l/∂x_cᵀ ŝ̄ + ∂T_l/∂x_cᵀ t̄`.
//!
//! The networks run in their own precision (f32 or f64); the elementwise coupling arithmetic
//! runs in f64 between them. The rows are independent until the parameter gradients are summed,
//! so they are split across the rayon pool once per step: each chunk runs the whole chain
//! forward and back on one thread ([`Mlp::forward_taped_serial`]), and the chunks' gradients
//! are added (W4, 2 cores: one fork and join instead of 32).

use burn::optim::GradientsParams;
use burn::tensor::Device;
use rayon::prelude::*;
use sysdyn_mlp::burn::{AnyMlp, BurnFloat, is_cpu_device};
use sysdyn_mlp::{Mlp, Tape};

use crate::error::GenerativeError;
use crate::flow::chain::Chain;
use crate::flow::coupling::{ScaleBound, SplitAffineCoupling};
use crate::host::register_gradients;

/// One coupling's index sets and bound.
#[derive(Debug, Clone)]
struct Coupling {
    kept: Vec<usize>,
    transformed: Vec<usize>,
    bound: ScaleBound,
}

/// Host copies of every coupling's `(S, T)` networks in one precision.
#[derive(Debug, Clone)]
pub(super) enum Networks {
    F32(Vec<(Mlp<f32>, Mlp<f32>)>),
    F64(Vec<(Mlp<f64>, Mlp<f64>)>),
}

/// A chain of affine couplings copied to host memory (a snapshot of the weights: copy again
/// after an optimizer step). See the module docs.
#[derive(Debug, Clone)]
pub struct HostAffineChain {
    couplings: Vec<Coupling>,
    pub(super) networks: Networks,
    pub(super) features: usize,
}

/// What the forward sweep keeps of one coupling for the backward sweep.
struct Saved<E> {
    scale_tape: Tape<E>,
    shift_tape: Tape<E>,
    /// `e^s`, `b'(ŝ)` and `x_o`, `[rows, |o|]`.
    exp_s: Vec<f64>,
    bound_slope: Vec<f64>,
    x_o: Vec<f64>,
}

/// `(b(ŝ), b'(ŝ))`.
fn bound_with_slope(bound: ScaleBound, raw: f64) -> (f64, f64) {
    match bound {
        ScaleBound::Exp => (raw, 1.0),
        ScaleBound::Tanh { bound } => {
            let th = (raw / bound).tanh();
            (bound * th, 1.0 - th * th)
        }
    }
}

impl HostAffineChain {
    /// The host copy of `chain` when the engine can run it: unconditional couplings whose
    /// networks live in host memory (flex or ndarray, with or without autodiff), all in f32 or
    /// all in f64. `None` otherwise (the tensor path answers those).
    pub fn new(chain: &Chain<SplitAffineCoupling>) -> Option<Self> {
        let mut couplings = Vec::with_capacity(chain.len());
        let mut f32_nets = Vec::new();
        let mut f64_nets = Vec::new();
        let mut features = None;
        for layer in chain.layers() {
            let (scale, shift, kept, transformed, bound, context) = layer.parts();
            if context != 0 || !is_cpu_device(&scale.layers().first()?.weight.val().device()) {
                return None;
            }
            let width = kept.len() + transformed.len();
            if *features.get_or_insert(width) != width {
                return None;
            }
            let copy = |net: &sysdyn_core::jet::Mlp| {
                AnyMlp::from_linears(net.layers(), net.activation()).ok()
            };
            match (copy(scale)?, copy(shift)?) {
                (AnyMlp::F32(s), AnyMlp::F32(t)) => f32_nets.push((s, t)),
                (AnyMlp::F64(s), AnyMlp::F64(t)) => f64_nets.push((s, t)),
                _ => return None,
            }
            couplings.push(Coupling {
                kept: kept.to_vec(),
                transformed: transformed.to_vec(),
                bound,
            });
        }
        let networks = match (f32_nets.is_empty(), f64_nets.is_empty()) {
            (false, true) => Networks::F32(f32_nets),
            (true, false) => Networks::F64(f64_nets),
            _ => return None,
        };
        Some(HostAffineChain {
            couplings,
            networks,
            features: features?,
        })
    }

    /// `NLL = −mean log p(x)` under a standard normal base of the rows of `x` (row-major
    /// `[rows, features]`), and its gradient with respect to the parameters of `chain` (the
    /// chain this copy was made from) as burn gradients for an optimizer step.
    pub fn nll_and_gradients(
        &self,
        chain: &Chain<SplitAffineCoupling>,
        x: &[f64],
    ) -> Result<(f64, GradientsParams), GenerativeError> {
        let d = self.features;
        if x.is_empty() || !x.len().is_multiple_of(d) || chain.len() != self.couplings.len() {
            return Err(GenerativeError::ShapeMismatch {
                what: "data (rows × features, at least one row) and the chain's couplings",
                left: vec![x.len(), chain.len()],
                right: vec![d, self.couplings.len()],
            });
        }
        let device = chain
            .layers()
            .first()
            .and_then(|layer| layer.parts().0.layers().first())
            .map(|linear| linear.weight.val().device().inner())
            .ok_or(GenerativeError::Unsupported {
                what: "an empty chain on the host engine",
            })?;
        let mut grads = GradientsParams::new();
        let loss = match &self.networks {
            Networks::F32(nets) => self.nll_in(nets, chain, x, &device, &mut grads),
            Networks::F64(nets) => self.nll_in(nets, chain, x, &device, &mut grads),
        };
        Ok((loss, grads))
    }

    fn nll_in<E: BurnFloat>(
        &self,
        nets: &[(Mlp<E>, Mlp<E>)],
        chain: &Chain<SplitAffineCoupling>,
        x: &[f64],
        device: &Device,
        grads: &mut GradientsParams,
    ) -> f64 {
        let (loss, net_grads) = self.nll_parts(nets, x);
        for (((scale, shift), (scale_grads, shift_grads)), layer) in
            nets.iter().zip(&net_grads).zip(chain.layers())
        {
            let (scale_net, shift_net, ..) = layer.parts();
            register_gradients(grads, scale, scale_grads, scale_net.layers(), device);
            register_gradients(grads, shift, shift_grads, shift_net.layers(), device);
        }
        loss
    }

    /// The NLL of the rows `x` (`[rows, features]`, checked by the caller) and every network's
    /// flat parameter gradient, per coupling `(S, T)` in the engine's order
    /// ([`Mlp::param_offsets`]).
    pub(super) fn nll_parts<E: BurnFloat>(
        &self,
        nets: &[(Mlp<E>, Mlp<E>)],
        x: &[f64],
    ) -> (f64, NetGradients<E>) {
        let d = self.features;
        let rows = x.len() / d;
        // The rows are independent until the parameter gradients are summed: each chunk runs
        // the whole chain forward and back on one thread, one fork and join per step (not one
        // per network and pass: 32 of them for eight couplings).
        let chunks = row_chunks(rows);
        let parts: Vec<ChunkResult<E>> = chunks
            .par_iter()
            .map(|&(start, len)| self.chunk_nll(nets, &x[start * d..(start + len) * d], rows))
            .collect();
        let mut parts = parts.into_iter();
        let ChunkResult {
            mut loss,
            mut net_grads,
        } = parts.next().expect("at least one chunk of rows");
        for part in parts {
            loss += part.loss;
            for ((scale, shift), (scale_part, shift_part)) in
                net_grads.iter_mut().zip(part.net_grads)
            {
                add_assign(scale, &scale_part);
                add_assign(shift, &shift_part);
            }
        }
        (loss, net_grads)
    }

    /// The chunk's part of the NLL (its rows' terms divided by all `rows`) and of every
    /// network's parameter gradient, on the caller's thread.
    fn chunk_nll<E: BurnFloat>(
        &self,
        nets: &[(Mlp<E>, Mlp<E>)],
        x: &[f64],
        total_rows: usize,
    ) -> ChunkResult<E> {
        let d = self.features;
        let rows = x.len() / d;
        let mut h = x.to_vec();
        let mut log_det = vec![0.0; rows];
        let mut saved = Vec::with_capacity(nets.len());
        for ((scale, shift), coupling) in nets.iter().zip(&self.couplings) {
            let (kept, transformed) = (&coupling.kept, &coupling.transformed);
            let input: Vec<E> = h
                .chunks_exact(d)
                .flat_map(|row| kept.iter().map(|&c| E::from_f64(row[c])))
                .collect();
            let (raw, scale_tape) = scale
                .forward_taped_serial(&input, rows)
                .expect("the input is rows × kept features, the scale network's input");
            let (shift_out, shift_tape) = shift
                .forward_taped_serial(&input, rows)
                .expect("the input is rows × kept features, the shift network's input");
            let n = rows * transformed.len();
            let (mut exp_s, mut bound_slope, mut x_o) = (
                Vec::with_capacity(n),
                Vec::with_capacity(n),
                Vec::with_capacity(n),
            );
            for (r, row) in h.chunks_exact_mut(d).enumerate() {
                for (j, &o) in transformed.iter().enumerate() {
                    let k = r * transformed.len() + j;
                    let (s, slope) = bound_with_slope(coupling.bound, raw[k].to_f64());
                    let e = s.exp();
                    x_o.push(row[o]);
                    row[o] = row[o] * e + shift_out[k].to_f64();
                    log_det[r] += s;
                    exp_s.push(e);
                    bound_slope.push(slope);
                }
            }
            saved.push(Saved {
                scale_tape,
                shift_tape,
                exp_s,
                bound_slope,
                x_o,
            });
        }
        let n = total_rows as f64;
        let constant = 0.5 * d as f64 * std::f64::consts::TAU.ln();
        let loss = h
            .chunks_exact(d)
            .zip(&log_det)
            .map(|(z, ld)| 0.5 * z.iter().map(|v| v * v).sum::<f64>() + constant - ld)
            .sum::<f64>()
            / n;
        // ∂NLL/∂z = z / n; ∂NLL/∂log det (each row) = −1/n.
        let mut g: Vec<f64> = h.iter().map(|z| z / n).collect();
        let g_log_det = -1.0 / n;
        let mut net_grads = Vec::with_capacity(nets.len());
        for (l, ((scale, shift), coupling)) in nets.iter().zip(&self.couplings).enumerate().rev() {
            let saved = &saved[l];
            let (kept, transformed) = (&coupling.kept, &coupling.transformed);
            let mut raw_cot = Vec::with_capacity(saved.exp_s.len());
            let mut shift_cot = Vec::with_capacity(saved.exp_s.len());
            for (r, row) in g.chunks_exact_mut(d).enumerate() {
                for (j, &o) in transformed.iter().enumerate() {
                    let k = r * transformed.len() + j;
                    let gy = row[o];
                    let e = saved.exp_s[k];
                    row[o] = gy * e;
                    let s_bar = gy * saved.x_o[k] * e + g_log_det;
                    raw_cot.push(E::from_f64(s_bar * saved.bound_slope[k]));
                    shift_cot.push(E::from_f64(gy));
                }
            }
            // Tapes of `forward_taped_serial`: the backward passes stay on this thread.
            let scale_grads = scale
                .backward(&saved.scale_tape, &raw_cot)
                .expect("the cotangent is shaped like the scale network's output");
            let shift_grads = shift
                .backward(&saved.shift_tape, &shift_cot)
                .expect("the cotangent is shaped like the shift network's output");
            for (r, row) in g.chunks_exact_mut(d).enumerate() {
                for (k, &c) in kept.iter().enumerate() {
                    let at = r * kept.len() + k;
                    row[c] += scale_grads.input[at].to_f64() + shift_grads.input[at].to_f64();
                }
            }
            net_grads.push((scale_grads.params, shift_grads.params));
        }
        // Collected last coupling first.
        net_grads.reverse();
        ChunkResult { loss, net_grads }
    }
}

/// Every coupling's `(S, T)` flat parameter gradients.
pub(super) type NetGradients<E> = Vec<(Vec<E>, Vec<E>)>;

/// One chunk of rows' share of the NLL and of each coupling's `(S, T)` parameter gradients.
struct ChunkResult<E> {
    loss: f64,
    net_grads: Vec<(Vec<E>, Vec<E>)>,
}

/// `acc ← acc + part`.
fn add_assign<E: BurnFloat>(acc: &mut [E], part: &[E]) {
    for (a, &p) in acc.iter_mut().zip(part) {
        *a += p;
    }
}

/// Rows below which a chunk does not pay for its task (the engine's own threshold for
/// splitting a batch, times the two networks a coupling runs).
const MIN_ROWS_PER_CHUNK: usize = 128;

/// Contiguous chunks `(start, rows)` of `rows`, one per rayon worker where the rows allow.
fn row_chunks(rows: usize) -> Vec<(usize, usize)> {
    let chunks = rayon::current_num_threads()
        .min(rows.div_ceil(MIN_ROWS_PER_CHUNK))
        .max(1);
    let (base, extra) = (rows / chunks, rows % chunks);
    let mut start = 0;
    (0..chunks)
        .map(|c| {
            let len = base + usize::from(c < extra);
            let chunk = (start, len);
            start += len;
            chunk
        })
        .collect()
}
