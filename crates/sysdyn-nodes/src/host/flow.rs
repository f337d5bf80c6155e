//! The continuous-normalizing-flow dynamics of a tanh MLP on the host: `[f, -tr(∂f/∂z)]` with
//! the exact trace, and its vector–Jacobian product.
//!
//! # Forward
//!
//! With layer inputs `a_l` (`a_0 = [z, t]`), pre-activations `z_l = a_l W_l + b_l`,
//! `a_{l+1} = tanh z_l` and `s_l = 1 - a_{l+1}²`, the tangent along input coordinate `i < d`
//! moves as `u_l^i = τ_l^i W_l` (`u_0^i` is row `i` of `W_0`) and `τ_{l+1}^i = s_l ⊙ u_l^i`;
//! the output Jacobian's column `i` is `u_{n-1}^i`, so `tr = Σ_i (u_{n-1}^i)_i`.
//!
//! # Backward
//!
//! From the cotangents `z̄_{n-1} = c_f` and `ū_{n-1}^i = -c_l e_i` (the output is `-tr`), each
//! layer, last first, adds `a_lᵀ z̄_l + Σ_i τ_lᵀ ū_l^i` to `∂W_l` and `Σ_rows z̄_l` to `∂b_l`,
//! then sends back `ā = z̄_l W_lᵀ`, `τ̄^i = ū_l^i W_lᵀ`; through the activation,
//! `s̄ = Σ_i τ̄^i ⊙ u_{l-1}^i`, `z̄_{l-1} = (ā - 2 a_l ⊙ s̄) ⊙ s_{l-1}` and
//! `ū_{l-1}^i = τ̄^i ⊙ s_{l-1}`. The first layer's tangents do not depend on the input: its
//! `ū_0^i` only adds its column sums to row `i` of `∂W_0`.

use rayon::prelude::*;

use super::kernels::HostFloat;
use super::{HostActivation, HostMlp, row_chunks};

/// What the flow forward pass keeps, for one chunk of rows.
#[derive(Debug, Clone)]
pub(crate) struct FlowChunk<E> {
    rows: usize,
    /// Layer inputs `a_0 … a_{n-1}`.
    inputs: Vec<Vec<E>>,
    /// Pre-activation tangents `u_l^i` for `l = 1 … n-2` (index `l - 1`), direction-major:
    /// `d` blocks of `rows × width`. (`u_0^i` are rows of `W_0`; `u_{n-1}` is not needed.)
    pre_tangents: Vec<Vec<E>>,
    /// Input tangents `τ_l^i` for `l = 1 … n-1` (index `l - 1`), direction-major.
    tangents: Vec<Vec<E>>,
}

/// The tape of a flow evaluation.
#[derive(Debug, Clone)]
pub struct FlowTape<E> {
    chunks: Vec<FlowChunk<E>>,
    dim: usize,
}

impl<E: HostFloat> HostMlp<E> {
    /// Whether this network can run the flow kernel (tanh hidden layers, square Jacobian
    /// block `d × d`).
    pub(crate) fn supports_flow(&self, dim: usize) -> bool {
        self.activation == HostActivation::Tanh
            && self.layers.len() >= 2
            && self.output_width() == dim
            && self.layers[0].fan_in == dim + usize::from(self.time_column)
    }

    /// `[f, -tr]` (`batch × (d + 1)`) for the flow states `x = [z, l]` (`batch × (d + 1)`).
    pub(crate) fn flow_forward(
        &self,
        x: &[E],
        batch: usize,
        t: f64,
        keep: bool,
    ) -> (Vec<E>, Option<FlowTape<E>>) {
        let dim = self.output_width();
        let parts: Vec<(Vec<E>, FlowChunk<E>)> = row_chunks(batch)
            .into_par_iter()
            .map(|(start, rows)| {
                let chunk = &x[start * (dim + 1)..(start + rows) * (dim + 1)];
                self.flow_chunk(chunk, rows, dim, t, keep)
            })
            .collect();
        let mut out = Vec::with_capacity(batch * (dim + 1));
        let mut chunks = Vec::with_capacity(parts.len());
        for (o, c) in parts {
            out.extend_from_slice(&o);
            chunks.push(c);
        }
        (out, keep.then_some(FlowTape { chunks, dim }))
    }

    fn flow_chunk(
        &self,
        x: &[E],
        rows: usize,
        dim: usize,
        t: f64,
        keep: bool,
    ) -> (Vec<E>, FlowChunk<E>) {
        let n = self.layers.len();
        // a_0 = [z, t] (the log-density column of the state is not an input).
        let mut a: Vec<E> = Vec::with_capacity(rows * self.layers[0].fan_in);
        for row in x.chunks_exact(dim + 1) {
            a.extend_from_slice(&row[..dim]);
            if self.time_column {
                a.push(E::from_f64(t));
            }
        }
        let mut inputs = Vec::with_capacity(n);
        let mut pre_tangents = Vec::with_capacity(n.saturating_sub(2));
        let mut tangents: Vec<Vec<E>> = Vec::with_capacity(n - 1);
        let mut tau: Vec<E> = Vec::new();
        let mut output = Vec::new();
        for (l, layer) in self.layers.iter().enumerate() {
            let width = layer.fan_out;
            let mut z = vec![E::ZERO; rows * width];
            let beta = match &layer.bias {
                Some(bias) => {
                    for row in z.chunks_exact_mut(width) {
                        row.copy_from_slice(bias);
                    }
                    E::ONE
                }
                None => E::ZERO,
            };
            E::gemm(
                rows,
                layer.fan_in,
                width,
                &a,
                false,
                &layer.weight,
                false,
                beta,
                &mut z,
            );
            if l == n - 1 {
                // Output: f, and the trace from the last layer's tangents.
                let mut trace = vec![E::ZERO; rows];
                for i in 0..dim {
                    let tau_i = &tau[i * rows * layer.fan_in..(i + 1) * rows * layer.fan_in];
                    // (τ^i W)_{r,i} = Σ_q τ^i_{r,q} W_{q,i}.
                    for (r, tr) in trace.iter_mut().enumerate() {
                        let row = &tau_i[r * layer.fan_in..(r + 1) * layer.fan_in];
                        let mut s = E::ZERO;
                        for (q, &v) in row.iter().enumerate() {
                            s += v * layer.weight[q * width + i];
                        }
                        *tr += s;
                    }
                }
                output = Vec::with_capacity(rows * (dim + 1));
                for (r, f) in z.chunks_exact(width).enumerate() {
                    output.extend_from_slice(f);
                    output.push(E::ZERO - trace[r]);
                }
                if keep {
                    inputs.push(std::mem::take(&mut a));
                }
                break;
            }
            // Pre-activation tangents u_l^i, direction-major.
            let u: Vec<E> = if l == 0 {
                let mut u = Vec::with_capacity(dim * rows * width);
                for i in 0..dim {
                    let w_row = &layer.weight[i * width..(i + 1) * width];
                    for _ in 0..rows {
                        u.extend_from_slice(w_row);
                    }
                }
                u
            } else {
                let mut u = vec![E::ZERO; dim * rows * width];
                E::gemm(
                    dim * rows,
                    layer.fan_in,
                    width,
                    &tau,
                    false,
                    &layer.weight,
                    false,
                    E::ZERO,
                    &mut u,
                );
                u
            };
            E::tanh_in_place(&mut z);
            let next = z;
            // τ_{l+1}^i = (1 - a_{l+1}²) ⊙ u_l^i.
            let mut next_tau = u.clone();
            for block in next_tau.chunks_exact_mut(rows * width) {
                for (v, &h) in block.iter_mut().zip(&next) {
                    *v = *v * (E::ONE - h * h);
                }
            }
            if keep {
                inputs.push(std::mem::replace(&mut a, next));
                if l > 0 {
                    pre_tangents.push(u);
                }
                tangents.push(next_tau.clone());
            } else {
                a = next;
            }
            tau = next_tau;
        }
        (
            output,
            FlowChunk {
                rows,
                inputs,
                pre_tangents,
                tangents,
            },
        )
    }

    /// The VJP of `[f, -tr]` for the cotangent `batch × (d + 1)`: the state part
    /// `batch × (d + 1)` (zero in the log-density column) and the flat parameter part.
    pub(crate) fn flow_vjp(&self, tape: &FlowTape<E>, cotangent: &[E]) -> (Vec<E>, Vec<E>) {
        let dim = tape.dim;
        let mut starts = Vec::with_capacity(tape.chunks.len());
        let mut start = 0;
        for chunk in &tape.chunks {
            starts.push(start);
            start += chunk.rows;
        }
        let parts: Vec<(Vec<E>, Vec<E>)> = tape
            .chunks
            .par_iter()
            .zip(starts.into_par_iter())
            .map(|(chunk, start)| {
                let cot = &cotangent[start * (dim + 1)..(start + chunk.rows) * (dim + 1)];
                self.flow_vjp_chunk(chunk, cot, dim)
            })
            .collect();
        let mut x_bar = Vec::with_capacity(start * (dim + 1));
        let mut params = vec![E::ZERO; self.num_params()];
        for (xb, p) in parts {
            x_bar.extend_from_slice(&xb);
            for (acc, v) in params.iter_mut().zip(p) {
                *acc += v;
            }
        }
        (x_bar, params)
    }

    fn flow_vjp_chunk(&self, chunk: &FlowChunk<E>, cot: &[E], dim: usize) -> (Vec<E>, Vec<E>) {
        let rows = chunk.rows;
        let n = self.layers.len();
        let mut params = vec![E::ZERO; self.num_params()];
        let mut offsets = Vec::with_capacity(n);
        let mut offset = 0;
        for layer in &self.layers {
            offsets.push(offset);
            offset += layer.fan_in * layer.fan_out + layer.bias.as_ref().map_or(0, Vec::len);
        }
        // z̄ = c_f; ū^i has column i equal to -(-c_l) … the output column is -tr, so the trace's
        // cotangent is -c_l.
        let mut z_bar: Vec<E> = Vec::with_capacity(rows * dim);
        let mut trace_bar: Vec<E> = Vec::with_capacity(rows);
        for row in cot.chunks_exact(dim + 1) {
            z_bar.extend_from_slice(&row[..dim]);
            trace_bar.push(E::ZERO - row[dim]);
        }
        let mut u_bar = vec![E::ZERO; dim * rows * dim];
        for i in 0..dim {
            for r in 0..rows {
                u_bar[i * rows * dim + r * dim + i] = trace_bar[r];
            }
        }
        for l in (0..n).rev() {
            let layer = &self.layers[l];
            let (fan_in, fan_out) = (layer.fan_in, layer.fan_out);
            let w_at = offsets[l];
            let a = &chunk.inputs[l];
            let weight_grad = &mut params[w_at..w_at + fan_in * fan_out];
            // ∂W += aᵀ z̄.
            E::gemm(
                fan_in,
                rows,
                fan_out,
                a,
                true,
                &z_bar,
                false,
                E::ZERO,
                weight_grad,
            );
            if l > 0 {
                // ∂W += Σ_i τ^iᵀ ū^i: one product over the stacked directions.
                let tau = &chunk.tangents[l - 1];
                E::gemm(
                    fan_in,
                    dim * rows,
                    fan_out,
                    tau,
                    true,
                    &u_bar,
                    false,
                    E::ONE,
                    weight_grad,
                );
            } else {
                // τ_0^i = e_i in every row: row i of ∂W_0 gains the column sums of ū^i.
                for i in 0..dim {
                    let block = &u_bar[i * rows * fan_out..(i + 1) * rows * fan_out];
                    let w_row = &mut weight_grad[i * fan_out..(i + 1) * fan_out];
                    for row in block.chunks_exact(fan_out) {
                        for (g, &v) in w_row.iter_mut().zip(row) {
                            *g += v;
                        }
                    }
                }
            }
            if layer.bias.is_some() {
                let b_at = w_at + fan_in * fan_out;
                let bias_grad = &mut params[b_at..b_at + fan_out];
                for row in z_bar.chunks_exact(fan_out) {
                    for (g, &v) in bias_grad.iter_mut().zip(row) {
                        *g += v;
                    }
                }
            }
            // ā = z̄ Wᵀ.
            let mut a_bar = vec![E::ZERO; rows * fan_in];
            E::gemm(
                rows,
                fan_out,
                fan_in,
                &z_bar,
                false,
                &layer.weight,
                true,
                E::ZERO,
                &mut a_bar,
            );
            if l == 0 {
                // The state part: ∂/∂z (the first d input columns); zero for the log-density.
                let mut x_bar = Vec::with_capacity(rows * (dim + 1));
                for row in a_bar.chunks_exact(fan_in) {
                    x_bar.extend_from_slice(&row[..dim]);
                    x_bar.push(E::ZERO);
                }
                return (x_bar, params);
            }
            // τ̄^i = ū^i Wᵀ (stacked).
            let mut tau_bar = vec![E::ZERO; dim * rows * fan_in];
            E::gemm(
                dim * rows,
                fan_out,
                fan_in,
                &u_bar,
                false,
                &layer.weight,
                true,
                E::ZERO,
                &mut tau_bar,
            );
            // Through a_l = tanh(z_{l-1}), s = 1 - a_l², τ_l^i = s ⊙ u_{l-1}^i.
            let a_l = &chunk.inputs[l];
            let block = rows * fan_in;
            let mut s_bar = vec![E::ZERO; block];
            for i in 0..dim {
                let tb = &tau_bar[i * block..(i + 1) * block];
                if l == 1 {
                    // u_0^i is row i of W_0 in every row.
                    let w_row = &self.layers[0].weight[i * fan_in..(i + 1) * fan_in];
                    for (r, sb) in s_bar.chunks_exact_mut(fan_in).enumerate() {
                        let tb_row = &tb[r * fan_in..(r + 1) * fan_in];
                        for ((s, &t), &w) in sb.iter_mut().zip(tb_row).zip(w_row) {
                            *s += t * w;
                        }
                    }
                } else {
                    let u = &chunk.pre_tangents[l - 2][i * block..(i + 1) * block];
                    for ((s, &t), &uv) in s_bar.iter_mut().zip(tb).zip(u) {
                        *s += t * uv;
                    }
                }
            }
            let two = E::ONE + E::ONE;
            let mut next_z_bar = vec![E::ZERO; block];
            for (((zb, &ab), &sb), &h) in next_z_bar.iter_mut().zip(&a_bar).zip(&s_bar).zip(a_l) {
                let s = E::ONE - h * h;
                *zb = (ab - two * h * sb) * s;
            }
            for blk in tau_bar.chunks_exact_mut(block) {
                for (v, &h) in blk.iter_mut().zip(a_l) {
                    *v = *v * (E::ONE - h * h);
                }
            }
            z_bar = next_z_bar;
            u_bar = tau_bar;
        }
        unreachable!("an MLP has at least one layer")
    }
}
