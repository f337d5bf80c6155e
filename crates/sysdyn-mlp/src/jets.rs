//! Forward-mode derivatives of an [`Mlp`] with respect to its input: the Jacobian, its trace
//! (a CNF's exact divergence), the Laplacian (a PINN's `u_xx + u_yy + …`), and the
//! vector–Jacobian product of `(output, trace)` with respect to the parameters and the input.
//!
//! # Forward
//!
//! The rules of [`sysdyn_core::jet`](https://docs.rs/sysdyn-core) on host memory. With layer
//! inputs `a_l` (`a_0 = x`), `z_l = a_l W_l + b_l`, `a_{l+1} = σ(z_l)`, the tangent along
//! differentiated column `c_i` moves as `u_l^i = τ_l^i W_l` (`u_0^i` is row `c_i` of `W_0`) and
//! `τ_{l+1}^i = σ'(z_l) ⊙ u_l^i`; all `k` directions are stacked so each layer costs one matrix
//! product. The output's Jacobian column `i` is `u_{n-1}^i` and the trace is `Σ_i (u_{n-1}^i)_i`.
//!
//! The Laplacian needs only the *sum* of the diagonal second-order terms: with
//! `S_l = Σ_i ∂²a_l/∂x_{c_i}²`, `S_{l+1} = σ''(z_l) ⊙ Σ_i (u_l^i)² + σ'(z_l) ⊙ (S_l W_l)`
//! (`S_0 = 0`), and `Δy = S_{n-1} W_{n-1}`: one stream of second-order values instead of `k`.
//!
//! # Backward of `(y, tr)`
//!
//! From the cotangents `z̄_{n-1} = c_y` and `ū_{n-1}^i = c_tr e_i`, each layer, last first, adds
//! `a_lᵀ z̄_l + Σ_i τ_lᵀ ū_l^i` to `∂W_l` and `Σ_rows z̄_l` to `∂b_l`, then sends back
//! `ā = z̄_l W_lᵀ`, `τ̄^i = ū_l^i W_lᵀ`; through the activation, with `s̄ = Σ_i τ̄^i ⊙ u_{l-1}^i`,
//! `z̄_{l-1} = ā ⊙ σ' + s̄ ⊙ σ''` and `ū_{l-1}^i = τ̄^i ⊙ σ'`. The first layer's tangents do not
//! depend on the input: its `ū_0^i` only add their column sums to row `c_i` of `∂W_0`.

use std::ops::{Range, RangeBounds};

use crate::error::MlpError;
use crate::float::Float;
use crate::mlp::{
    Gradients, Mlp, add_column_sums, check_len, gather, over_chunks, parallel_map, resolve_columns,
};

/// What the tangent pass of one chunk produces.
struct TangentPass<E> {
    /// `a_{n-1}`, the last layer's input, `rows × fan_in`.
    hidden: Vec<E>,
    /// `τ_{n-1}`, `k` blocks of `rows × fan_in`; `None` for a single affine layer (the seeds
    /// are then unit vectors, never materialised).
    tangents: Option<Vec<E>>,
    /// `S_{n-1}`, `rows × fan_in`; `None` while identically zero.
    second: Option<Vec<E>>,
    tape: Option<TraceChunk<E>>,
}

/// What the trace forward pass keeps, for one chunk of rows.
#[derive(Debug, Clone)]
struct TraceChunk<E> {
    rows: usize,
    /// `a_0 … a_{n-1}`.
    inputs: Vec<Vec<E>>,
    /// `u_l` for `l = 1 … n-2` (index `l - 1`), `k` blocks of `rows × width`.
    pre_tangents: Vec<Vec<E>>,
    /// `τ_l` for `l = 1 … n-1` (index `l - 1`), `k` blocks.
    tangents: Vec<Vec<E>>,
    /// `σ'(z_l)`, `l = 0 … n-2`; empty for the identity.
    first: Vec<Vec<E>>,
    /// `σ''(z_l)`, `l = 0 … n-2`; empty where σ'' = 0.
    second: Vec<Vec<E>>,
}

/// The output of a network and the trace of its Jacobian block, from one pass.
#[derive(Debug, Clone, PartialEq)]
pub struct ValueAndTrace<E> {
    /// The output, row-major `[batch, output_width]`.
    pub value: Vec<E>,
    /// The trace `Σ_i ∂y_i/∂x_{c_i}` per row, `[batch]`.
    pub trace: Vec<E>,
}

/// What [`Mlp::forward_trace_taped`] keeps for [`Mlp::backward_trace`].
#[derive(Debug, Clone)]
pub struct TraceTape<E> {
    chunks: Vec<TraceChunk<E>>,
    batch: usize,
    columns: Range<usize>,
    mlp: u64,
}

impl<E> TraceTape<E> {
    /// Number of rows of the forward pass.
    pub fn batch(&self) -> usize {
        self.batch
    }
}

/// `out ← u ⊙ d` blockwise: `u` is `k` blocks the size of `d`.
fn scale_blocks<E: Float>(u: &mut [E], d: &[E]) {
    if d.is_empty() {
        // No rows (an empty batch): nothing to scale, and chunks of length 0 do not exist.
        return;
    }
    for block in u.chunks_exact_mut(d.len()) {
        for (v, &s) in block.iter_mut().zip(d) {
            *v = *v * s;
        }
    }
}

impl<E: Float> Mlp<E> {
    /// Moves the value and the tangents of the columns `columns` (and, when `second`, the
    /// summed diagonal second-order terms) through every layer but the last, for rows
    /// `start..start + rows` of `x`.
    fn tangent_pass(
        &self,
        x: &[E],
        start: usize,
        rows: usize,
        columns: &Range<usize>,
        second: bool,
        keep: bool,
    ) -> TangentPass<E> {
        let width = self.input_width();
        let x = &x[start * width..(start + rows) * width];
        let layers = self.layers();
        let n = layers.len();
        let k = columns.len();
        let act = self.activation();
        let has_first = act.has_first_derivative();
        let has_second = act.has_second_derivative();
        let mut tape = keep.then(|| TraceChunk {
            rows,
            inputs: Vec::with_capacity(n),
            pre_tangents: Vec::new(),
            tangents: Vec::new(),
            first: Vec::new(),
            second: Vec::new(),
        });
        let mut a = x.to_vec();
        let mut tau: Option<Vec<E>> = None;
        let mut s: Option<Vec<E>> = None;
        for layer in &layers[..n - 1] {
            let fan_out = layer.fan_out();
            let block = rows * fan_out;
            let mut z = layer.affine(&a, rows);
            // σ'' is needed for the Laplacian and for the backward pass of the trace.
            let want_second = has_second && (second || keep);
            let mut d1 = has_first.then(|| vec![E::ZERO; block]);
            let mut d2 = want_second.then(|| vec![E::ZERO; block]);
            act.apply(&mut z, d1.as_deref_mut(), d2.as_deref_mut());
            let (next_tau, next_s, u) = match &tau {
                None => {
                    // u_0^i is row c_i of W_0 in every row.
                    let w = layer.weight();
                    let mut next = Vec::with_capacity(k * block);
                    for c in columns.clone() {
                        let w_row = &w[c * fan_out..(c + 1) * fan_out];
                        match &d1 {
                            Some(d1) => {
                                for d_row in d1.chunks_exact(fan_out) {
                                    next.extend(w_row.iter().zip(d_row).map(|(&w, &d)| w * d));
                                }
                            }
                            None => {
                                for _ in 0..rows {
                                    next.extend_from_slice(w_row);
                                }
                            }
                        }
                    }
                    // S_1 = σ'' ⊙ Σ_i (W_0[c_i])² (S_0 = 0).
                    let next_s = match (&d2, second) {
                        (Some(d2), true) => {
                            let mut q = vec![E::ZERO; fan_out];
                            for c in columns.clone() {
                                for (qj, &wv) in q.iter_mut().zip(&w[c * fan_out..]) {
                                    *qj += wv * wv;
                                }
                            }
                            let mut s1 = d2.clone();
                            scale_blocks(&mut s1, &q);
                            Some(s1)
                        }
                        _ => None,
                    };
                    (next, next_s, None)
                }
                Some(tau) => {
                    let u = layer.linear(tau, k * rows);
                    let mut next = u.clone();
                    if let Some(d1) = &d1 {
                        scale_blocks(&mut next, d1);
                    }
                    let next_s = if second {
                        let carried = s.as_ref().map(|s| {
                            let mut v = layer.linear(s, rows);
                            if let Some(d1) = &d1 {
                                for (x, &d) in v.iter_mut().zip(d1) {
                                    *x = *x * d;
                                }
                            }
                            v
                        });
                        let curvature = d2.as_ref().map(|d2| {
                            let mut sq = vec![E::ZERO; block];
                            // `max(1)`: an empty batch has empty blocks.
                            for ub in u.chunks_exact(block.max(1)) {
                                for (acc, &v) in sq.iter_mut().zip(ub) {
                                    *acc += v * v;
                                }
                            }
                            for (acc, &d) in sq.iter_mut().zip(d2) {
                                *acc = *acc * d;
                            }
                            sq
                        });
                        match (curvature, carried) {
                            (Some(mut c), Some(v)) => {
                                for (acc, x) in c.iter_mut().zip(v) {
                                    *acc += x;
                                }
                                Some(c)
                            }
                            (c, None) => c,
                            (None, v) => v,
                        }
                    } else {
                        None
                    };
                    (next, next_s, Some(u))
                }
            };
            if let Some(t) = tape.as_mut() {
                t.inputs.push(std::mem::replace(&mut a, z));
                if let Some(u) = u {
                    t.pre_tangents.push(u);
                }
                t.tangents.push(next_tau.clone());
                t.first.extend(d1);
                t.second.extend(d2);
            } else {
                a = z;
            }
            tau = Some(next_tau);
            s = next_s;
        }
        if let Some(t) = tape.as_mut() {
            t.inputs.push(a.clone());
        }
        TangentPass {
            hidden: a,
            tangents: tau,
            second: s,
            tape,
        }
    }

    /// `Σ_i ∂y_i/∂x_{c_i}` for each row of a pass (`k` = number of outputs).
    fn trace_of(&self, pass: &TangentPass<E>, rows: usize, columns: &Range<usize>) -> Vec<E> {
        let last = &self.layers()[self.layers().len() - 1];
        let (fan_in, out) = (last.fan_in(), last.fan_out());
        let w = last.weight();
        match &pass.tangents {
            None => {
                let mut t = E::ZERO;
                for (i, c) in columns.clone().enumerate() {
                    t += w[c * out + i];
                }
                vec![t; rows]
            }
            Some(tau) => {
                let mut trace = vec![E::ZERO; rows];
                let mut column = vec![E::ZERO; fan_in];
                for i in 0..out {
                    // Column i of W, contiguous, against each row of τ^i.
                    for (q, v) in column.iter_mut().enumerate() {
                        *v = w[q * out + i];
                    }
                    let tau_i = &tau[i * rows * fan_in..(i + 1) * rows * fan_in];
                    for (tr, row) in trace.iter_mut().zip(tau_i.chunks_exact(fan_in)) {
                        let mut sum = E::ZERO;
                        for (&a, &b) in row.iter().zip(&column) {
                            sum += a * b;
                        }
                        *tr += sum;
                    }
                }
                trace
            }
        }
    }

    fn check_square(&self, columns: &Range<usize>) -> Result<(), MlpError> {
        if columns.len() == self.output_width() {
            Ok(())
        } else {
            Err(MlpError::NotSquare {
                columns: columns.len(),
                outputs: self.output_width(),
            })
        }
    }

    /// The Jacobian `∂y_j/∂x_{c_i}` of the selected input columns (`..` for all), row-major
    /// `[batch, output_width, k]` with `k = columns.len()`.
    pub fn jacobian(
        &self,
        x: &[E],
        batch: usize,
        columns: impl RangeBounds<usize>,
    ) -> Result<Vec<E>, MlpError> {
        check_len("input", x, batch, self.input_width())?;
        let columns = resolve_columns(columns, self.input_width())?;
        let k = columns.len();
        let last = &self.layers()[self.layers().len() - 1];
        let out = last.fan_out();
        let parts = over_chunks(batch, |start, rows| {
            let pass = self.tangent_pass(x, start, rows, &columns, false, false);
            let mut jac = vec![E::ZERO; rows * out * k];
            match &pass.tangents {
                None => {
                    let w = last.weight();
                    for r in 0..rows {
                        for j in 0..out {
                            for (i, c) in columns.clone().enumerate() {
                                jac[(r * out + j) * k + i] = w[c * out + j];
                            }
                        }
                    }
                }
                Some(tau) => {
                    let stacked = last.linear(tau, k * rows);
                    for i in 0..k {
                        for r in 0..rows {
                            for j in 0..out {
                                jac[(r * out + j) * k + i] = stacked[(i * rows + r) * out + j];
                            }
                        }
                    }
                }
            }
            jac
        });
        Ok(parts.concat())
    }

    /// The trace of the Jacobian block of the columns `columns`, `Σ_i ∂y_i/∂x_{c_i}`, `[batch]`:
    /// a CNF's exact divergence. `columns` must have as many columns as the network has
    /// outputs (`..d` for a field `f(z, t)` with `z` of width `d`).
    pub fn trace(
        &self,
        x: &[E],
        batch: usize,
        columns: impl RangeBounds<usize>,
    ) -> Result<Vec<E>, MlpError> {
        Ok(self.forward_trace(x, batch, columns)?.trace)
    }

    /// The output `[batch, output_width]` and the trace `[batch]` in one pass; see
    /// [`Mlp::trace`].
    pub fn forward_trace(
        &self,
        x: &[E],
        batch: usize,
        columns: impl RangeBounds<usize>,
    ) -> Result<ValueAndTrace<E>, MlpError> {
        Ok(self.trace_impl(x, batch, columns, false)?.0)
    }

    /// As [`Mlp::forward_trace`], with the tape [`Mlp::backward_trace`] needs.
    pub fn forward_trace_taped(
        &self,
        x: &[E],
        batch: usize,
        columns: impl RangeBounds<usize>,
    ) -> Result<(ValueAndTrace<E>, TraceTape<E>), MlpError> {
        let (out, tape) = self.trace_impl(x, batch, columns, true)?;
        Ok((out, tape.expect("a kept tape")))
    }

    fn trace_impl(
        &self,
        x: &[E],
        batch: usize,
        columns: impl RangeBounds<usize>,
        keep: bool,
    ) -> Result<(ValueAndTrace<E>, Option<TraceTape<E>>), MlpError> {
        check_len("input", x, batch, self.input_width())?;
        let columns = resolve_columns(columns, self.input_width())?;
        self.check_square(&columns)?;
        let last = &self.layers()[self.layers().len() - 1];
        let parts = over_chunks(batch, |start, rows| {
            let mut pass = self.tangent_pass(x, start, rows, &columns, false, keep);
            let value = last.affine(&pass.hidden, rows);
            let trace = self.trace_of(&pass, rows, &columns);
            (value, trace, pass.tape.take())
        });
        let mut value = Vec::with_capacity(batch * self.output_width());
        let mut trace = Vec::with_capacity(batch);
        let mut chunks = Vec::with_capacity(parts.len());
        for (v, t, c) in parts {
            value.extend_from_slice(&v);
            trace.extend_from_slice(&t);
            chunks.extend(c);
        }
        let tape = keep.then(|| TraceTape {
            chunks,
            batch,
            columns,
            mlp: self.id(),
        });
        Ok((ValueAndTrace { value, trace }, tape))
    }

    /// The Laplacian over the selected input columns, `Σ_i ∂²y_j/∂x_{c_i}²`, row-major
    /// `[batch, output_width]`. Zero for the identity and ReLU (σ'' = 0 almost everywhere).
    pub fn laplacian(
        &self,
        x: &[E],
        batch: usize,
        columns: impl RangeBounds<usize>,
    ) -> Result<Vec<E>, MlpError> {
        check_len("input", x, batch, self.input_width())?;
        let columns = resolve_columns(columns, self.input_width())?;
        let last = &self.layers()[self.layers().len() - 1];
        let out = last.fan_out();
        let parts = over_chunks(batch, |start, rows| {
            let pass = self.tangent_pass(x, start, rows, &columns, true, false);
            match &pass.second {
                Some(s) => last.linear(s, rows),
                None => vec![E::ZERO; rows * out],
            }
        });
        Ok(parts.concat())
    }

    /// The vector–Jacobian product of `(y, tr)` (the output and the trace of the forward pass
    /// that made `tape`) for the cotangents `cot_value` (`[batch, output_width]`) and
    /// `cot_trace` (`[batch]`): with respect to the input (`[batch, input_width]`, all columns)
    /// and the parameters.
    pub fn backward_trace(
        &self,
        tape: &TraceTape<E>,
        cot_value: &[E],
        cot_trace: &[E],
    ) -> Result<Gradients<E>, MlpError> {
        self.check_tape(tape.mlp)?;
        let out = self.output_width();
        check_len("value cotangent", cot_value, tape.batch, out)?;
        check_len("trace cotangent", cot_trace, tape.batch, 1)?;
        let mut starts = Vec::with_capacity(tape.chunks.len());
        let mut start = 0;
        for chunk in &tape.chunks {
            starts.push(start);
            start += chunk.rows;
        }
        let work: Vec<(&TraceChunk<E>, usize)> = tape.chunks.iter().zip(starts).collect();
        let parts = parallel_map(&work, |&(chunk, start)| {
            let rows = chunk.rows;
            self.backward_trace_chunk(
                chunk,
                &tape.columns,
                &cot_value[start * out..(start + rows) * out],
                &cot_trace[start..start + rows],
            )
        });
        Ok(gather(parts, self.num_params()))
    }

    fn backward_trace_chunk(
        &self,
        chunk: &TraceChunk<E>,
        columns: &Range<usize>,
        cot_value: &[E],
        cot_trace: &[E],
    ) -> (Vec<E>, Vec<E>) {
        let rows = chunk.rows;
        let layers = self.layers();
        let n = layers.len();
        let k = columns.len();
        let out = self.output_width();
        let mut params = vec![E::ZERO; self.num_params()];
        let offsets = self.param_offsets();
        let mut z_bar = cot_value.to_vec();
        // ū_{n-1}^i: the trace's cotangent in column i of block i.
        let mut u_bar = vec![E::ZERO; k * rows * out];
        for i in 0..k {
            for (r, &c) in cot_trace.iter().enumerate() {
                u_bar[(i * rows + r) * out + i] = c;
            }
        }
        for l in (0..n).rev() {
            let layer = &layers[l];
            let (fan_in, fan_out) = (layer.fan_in(), layer.fan_out());
            let w_at = offsets[l];
            {
                let weight_grad = &mut params[w_at..w_at + fan_in * fan_out];
                // ∂W = aᵀ z̄ …
                E::gemm(
                    fan_in,
                    rows,
                    fan_out,
                    &chunk.inputs[l],
                    true,
                    &z_bar,
                    false,
                    E::ZERO,
                    weight_grad,
                );
                if l > 0 {
                    // … + Σ_i τ^iᵀ ū^i, one product over the stacked directions.
                    E::gemm(
                        fan_in,
                        k * rows,
                        fan_out,
                        &chunk.tangents[l - 1],
                        true,
                        &u_bar,
                        false,
                        E::ONE,
                        weight_grad,
                    );
                } else {
                    // τ_0^i = e_{c_i} in every row: row c_i gains the column sums of ū^i.
                    for (i, c) in columns.clone().enumerate() {
                        let block = &u_bar[i * rows * fan_out..(i + 1) * rows * fan_out];
                        add_column_sums(&mut weight_grad[c * fan_out..(c + 1) * fan_out], block);
                    }
                }
            }
            if layer.bias().is_some() {
                let b_at = w_at + fan_in * fan_out;
                add_column_sums(&mut params[b_at..b_at + fan_out], &z_bar);
            }
            let a_bar = layer.back(&z_bar, rows);
            if l == 0 {
                return (a_bar, params);
            }
            let mut tau_bar = layer.back(&u_bar, k * rows);
            // Through a_l = σ(z_{l-1}) and τ_l^i = σ'(z_{l-1}) ⊙ u_{l-1}^i.
            let block = rows * fan_in;
            let d1 = chunk.first.get(l - 1);
            let mut next_z_bar = a_bar;
            if let Some(d1) = d1 {
                for (v, &d) in next_z_bar.iter_mut().zip(d1) {
                    *v = *v * d;
                }
            }
            if let Some(d2) = chunk.second.get(l - 1) {
                let mut s_bar = vec![E::ZERO; block];
                for i in 0..k {
                    let tb = &tau_bar[i * block..(i + 1) * block];
                    if l == 1 {
                        // u_0^i is row c_i of W_0 in every row.
                        let c = columns.start + i;
                        let w_row = &layers[0].weight()[c * fan_in..(c + 1) * fan_in];
                        for (sb, tb_row) in
                            s_bar.chunks_exact_mut(fan_in).zip(tb.chunks_exact(fan_in))
                        {
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
                for ((v, &sb), &d) in next_z_bar.iter_mut().zip(&s_bar).zip(d2) {
                    *v += sb * d;
                }
            }
            if let Some(d1) = d1 {
                scale_blocks(&mut tau_bar, d1);
            }
            z_bar = next_z_bar;
            u_bar = tau_bar;
        }
        unreachable!("an Mlp has at least one layer")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Activation;

    fn net() -> Mlp<f64> {
        let params: Vec<f64> = (0..(3 * 4 + 4 + 4 * 2 + 2))
            .map(|i| i as f64 * 0.1)
            .collect();
        Mlp::from_flat(&[3, 4, 2], &params, true, Activation::Tanh).unwrap()
    }

    #[test]
    fn bad_requests_are_typed_errors() {
        let mlp = net();
        let x = [0.1; 6];
        assert_eq!(
            mlp.trace(&x, 2, ..3).unwrap_err(),
            MlpError::NotSquare {
                columns: 3,
                outputs: 2
            }
        );
        assert!(matches!(
            mlp.jacobian(&x, 2, 2..5),
            Err(MlpError::Columns { .. })
        ));
        assert!(matches!(
            mlp.laplacian(&x, 3, ..),
            Err(MlpError::Length { what: "input", .. })
        ));
        let (_, tape) = mlp.forward_trace_taped(&x, 2, ..2).unwrap();
        assert!(matches!(
            mlp.backward_trace(&tape, &[0.0; 4], &[0.0; 3]),
            Err(MlpError::Length {
                what: "trace cotangent",
                ..
            })
        ));
        assert_eq!(
            net()
                .backward_trace(&tape, &[0.0; 4], &[0.0; 2])
                .unwrap_err(),
            MlpError::ForeignTape
        );
    }

    #[test]
    fn an_empty_batch_gives_empty_results() {
        let deep = Mlp::from_flat(&[2, 3, 3, 1], &[0.5; 25], true, Activation::Silu).unwrap();
        assert!(deep.laplacian(&[], 0, ..).unwrap().is_empty());
        let (_, tape) = deep.forward_trace_taped(&[], 0, ..1).unwrap();
        assert!(
            deep.backward_trace(&tape, &[], &[])
                .unwrap()
                .input
                .is_empty()
        );
        let mlp = net();
        assert!(mlp.forward(&[], 0).unwrap().is_empty());
        assert!(mlp.jacobian(&[], 0, ..).unwrap().is_empty());
        assert!(mlp.laplacian(&[], 0, ..2).unwrap().is_empty());
        let (out, tape) = mlp.forward_trace_taped(&[], 0, ..2).unwrap();
        assert!(out.value.is_empty() && out.trace.is_empty());
        let grads = mlp.backward_trace(&tape, &[], &[]).unwrap();
        assert!(grads.input.is_empty());
        assert!(grads.params.iter().all(|&g| g == 0.0));
    }
}
