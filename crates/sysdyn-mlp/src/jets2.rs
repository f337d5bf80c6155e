//! Taped second-order jets of an [`Mlp`]: the output, its first derivatives along every input
//! column and the second derivatives of a list of column pairs `(i, j)` (diagonal or mixed),
//! and the parameter gradient of any scalar loss of those channels: what a PINN residual such
//! as `u_t + u u_x − ν u_xx` needs, on the host.
//!
//! # Forward
//!
//! With layer inputs `a_l` (`a_0 = x`), `z_l = a_l W_l + b_l`, `a_{l+1} = σ(z_l)`, the tangent
//! `τ^i_l = ∂a_l/∂x_i` and the second-order term `S^{ij}_l = ∂²a_l/∂x_i∂x_j` move as
//!
//! ```text
//! u^i_l = τ^i_l W_l              τ^i_{l+1}    = σ'(z_l) ⊙ u^i_l
//! T^{ij}_l = S^{ij}_l W_l        S^{ij}_{l+1} = σ''(z_l) ⊙ u^i_l ⊙ u^j_l + σ'(z_l) ⊙ T^{ij}_l
//! ```
//!
//! from `τ^i_0 = e_i`, `S^{ij}_0 = 0`. The `1 + k + p` channels (value, `k` tangents, `p`
//! pairs) are stacked row-blocks `H_l = [a_l; τ^1_l; …; S^{pq}_l]`, so each layer is one
//! matrix product `H_l W_l` (the bias added to the value block only); the last layer is affine
//! and gives the output channels.
//!
//! # Backward
//!
//! From the stacked cotangent `Ḡ_{n-1}` of the output channels, each layer, last first, adds
//! `H_lᵀ Ḡ_l` to `∂W_l` and the column sums of the value block to `∂b_l`, then sends back
//! `H̄_l = Ḡ_l W_lᵀ = [ā; τ̄^i; S̄^{ij}]`. Through the activation (`σ', σ'', σ'''` at `z_{l-1}`):
//!
//! ```text
//! z̄   = ā ⊙ σ' + Σ_i τ̄^i ⊙ u^i ⊙ σ'' + Σ_(ij) S̄^{ij} ⊙ (σ''' ⊙ u^i ⊙ u^j + σ'' ⊙ T^{ij})
//! ū^i = τ̄^i ⊙ σ' + Σ_(ij) S̄^{ij} ⊙ σ'' ⊙ u^j  (and u^i for the pair's other column)
//! T̄^{ij} = S̄^{ij} ⊙ σ'
//! ```
//!
//! which is `Ḡ_{l-1}`. The tangents and second-order terms of `x` itself are constants, so the
//! input gradient is the value block of `H̄_0`.

use crate::error::MlpError;
use crate::float::Float;
use std::sync::Mutex;

use crate::mlp::{Gradients, Mlp, add_column_sums, check_len, gather, parallel_map, row_chunks};

/// The channels of a second-order jet of a network's output `y` (`[batch, output_width]`
/// blocks, row-major), or cotangents shaped like them.
#[derive(Debug, Clone, PartialEq)]
pub struct SecondOrderJet<E> {
    /// `y`, `[batch, output_width]`.
    pub value: Vec<E>,
    /// `∂y/∂x_i` for every input column `i`: `input_width` blocks of `[batch, output_width]`.
    pub first: Vec<E>,
    /// `∂²y/∂x_i∂x_j` for each requested pair, in the order asked: one block of
    /// `[batch, output_width]` per pair.
    pub second: Vec<E>,
}

/// What the taped forward pass keeps of one chunk of rows.
#[derive(Debug, Clone)]
struct JetChunk<E> {
    rows: usize,
    /// `H_l` for `l = 0 … n-1`, each `(1 + k + p)·rows × fan_in_l`.
    inputs: Vec<Vec<E>>,
    /// `H_l W_l` for the hidden layers `l = 0 … n-2` (its tangent blocks `u^i_l` and
    /// second-order blocks `T^{ij}_l` are read backward).
    products: Vec<Vec<E>>,
    /// `σ'(z_l)`, `σ''(z_l)`, `σ'''(z_l)`, `l = 0 … n-2`.
    derivatives: Vec<[Vec<E>; 3]>,
}

/// What [`Mlp::second_order_jet_taped`] keeps for [`Mlp::backward_second_order`].
#[derive(Debug, Clone)]
pub struct SecondOrderTape<E> {
    chunks: Vec<JetChunk<E>>,
    batch: usize,
    pairs: Vec<(usize, usize)>,
    mlp: u64,
}

impl<E> SecondOrderTape<E> {
    /// Number of rows of the forward pass.
    pub fn batch(&self) -> usize {
        self.batch
    }

    /// The second-order pairs of the forward pass.
    pub fn pairs(&self) -> &[(usize, usize)] {
        &self.pairs
    }
}

/// Buffers of an earlier tape, handed out again so that a training loop does not allocate (and
/// fault in) fresh memory for every step's tape.
struct Pool<E>(Vec<Vec<E>>);

impl<E: Float> Pool<E> {
    fn from_chunk(chunk: JetChunk<E>) -> Self {
        let mut buffers = chunk.inputs;
        buffers.extend(chunk.products);
        buffers.extend(chunk.derivatives.into_iter().flatten());
        Pool(buffers)
    }

    /// A buffer of `len` values whose contents the caller overwrites entirely (stale values
    /// of an earlier tape, or zeros): only a grown tail is written here.
    fn take(&mut self, len: usize) -> Vec<E> {
        let mut buffer = self.pick(len);
        if buffer.len() >= len {
            buffer.truncate(len);
        } else {
            buffer.resize(len, E::ZERO);
        }
        buffer
    }

    /// An empty buffer with room for `len` values.
    fn take_empty(&mut self, len: usize) -> Vec<E> {
        let mut buffer = self.pick(len);
        buffer.clear();
        buffer
    }

    /// The first buffer with room for `len` values, or a new one.
    fn pick(&mut self, len: usize) -> Vec<E> {
        match self.0.iter().position(|b| b.capacity() >= len) {
            Some(at) => self.0.swap_remove(at),
            None => Vec::with_capacity(len),
        }
    }
}

/// One chunk's rows `(start, rows)` and the buffers it may reuse.
type ChunkWork<E> = (usize, usize, Mutex<Option<Pool<E>>>);

/// The output of one chunk: its stacked output channels and, when taped, what it keeps.
type ChunkOut<E> = (Vec<E>, Option<JetChunk<E>>);

impl<E: Float> Mlp<E> {
    fn check_pairs(&self, pairs: &[(usize, usize)]) -> Result<(), MlpError> {
        let width = self.input_width();
        match pairs.iter().find(|&&(i, j)| i >= width || j >= width) {
            None => Ok(()),
            Some(&(i, j)) => Err(MlpError::Pair { i, j, width }),
        }
    }

    /// The value, the first derivatives along every input column and the second derivatives
    /// of `pairs` of the output, for the inputs `x` (`[batch, input_width]`); see the module
    /// docs of `jets2` for the recursion.
    pub fn second_order_jet(
        &self,
        x: &[E],
        batch: usize,
        pairs: &[(usize, usize)],
    ) -> Result<SecondOrderJet<E>, MlpError> {
        Ok(self.second_order_impl(x, batch, pairs, false)?.0)
    }

    /// As [`Mlp::second_order_jet`], with the tape [`Mlp::backward_second_order`] needs.
    pub fn second_order_jet_taped(
        &self,
        x: &[E],
        batch: usize,
        pairs: &[(usize, usize)],
    ) -> Result<(SecondOrderJet<E>, SecondOrderTape<E>), MlpError> {
        let (jet, chunks) = self.second_order_impl(x, batch, pairs, true)?;
        let tape = SecondOrderTape {
            chunks,
            batch,
            pairs: pairs.to_vec(),
            mlp: self.id(),
        };
        Ok((jet, tape))
    }

    /// As [`Mlp::second_order_jet_taped`], writing the new tape into the buffers of
    /// `previous` (any earlier tape, of any network, batch or pairs; its contents are
    /// overwritten): a training loop then reuses one set of buffers instead of allocating a
    /// tape's worth of fresh memory every step.
    pub fn second_order_jet_retaped(
        &self,
        x: &[E],
        batch: usize,
        pairs: &[(usize, usize)],
        previous: SecondOrderTape<E>,
    ) -> Result<(SecondOrderJet<E>, SecondOrderTape<E>), MlpError> {
        let (jet, chunks) =
            self.second_order_impl_reusing(x, batch, pairs, true, previous.chunks)?;
        let tape = SecondOrderTape {
            chunks,
            batch,
            pairs: pairs.to_vec(),
            mlp: self.id(),
        };
        Ok((jet, tape))
    }

    fn second_order_impl(
        &self,
        x: &[E],
        batch: usize,
        pairs: &[(usize, usize)],
        keep: bool,
    ) -> Result<(SecondOrderJet<E>, Vec<JetChunk<E>>), MlpError> {
        self.second_order_impl_reusing(x, batch, pairs, keep, Vec::new())
    }

    fn second_order_impl_reusing(
        &self,
        x: &[E],
        batch: usize,
        pairs: &[(usize, usize)],
        keep: bool,
        recycled: Vec<JetChunk<E>>,
    ) -> Result<(SecondOrderJet<E>, Vec<JetChunk<E>>), MlpError> {
        check_len("input", x, batch, self.input_width())?;
        self.check_pairs(pairs)?;
        let mut recycled = recycled.into_iter();
        let work: Vec<ChunkWork<E>> = row_chunks(batch)
            .into_iter()
            .map(|(start, rows)| {
                (
                    start,
                    rows,
                    Mutex::new(recycled.next().map(Pool::from_chunk)),
                )
            })
            .collect();
        let parts = parallel_map(&work, |(start, rows, pool)| {
            // Each chunk takes its own pool once; a poisoned lock only loses the reuse.
            let pool = pool.lock().ok().and_then(|mut p| p.take());
            self.second_order_chunk(
                x,
                *start,
                *rows,
                pairs,
                keep,
                pool.unwrap_or(Pool(Vec::new())),
            )
        });
        let channels = 1 + self.input_width() + pairs.len();
        let out = self.output_width();
        let mut stacked = vec![Vec::with_capacity(batch * out); channels];
        for (part, _) in &parts {
            let block = part.len() / channels;
            for (ch, dst) in stacked.iter_mut().enumerate() {
                dst.extend_from_slice(&part[ch * block..(ch + 1) * block]);
            }
        }
        let value = std::mem::take(&mut stacked[0]);
        let first = stacked[1..=self.input_width()].concat();
        let second = stacked[1 + self.input_width()..].concat();
        let chunks = parts.into_iter().filter_map(|(_, chunk)| chunk).collect();
        Ok((
            SecondOrderJet {
                value,
                first,
                second,
            },
            chunks,
        ))
    }

    /// The stacked output channels of rows `start..start + rows` (`1 + k + p` blocks of
    /// `rows × output_width`).
    fn second_order_chunk(
        &self,
        x: &[E],
        start: usize,
        rows: usize,
        pairs: &[(usize, usize)],
        keep: bool,
        mut pool: Pool<E>,
    ) -> ChunkOut<E> {
        let d = self.input_width();
        let k = d;
        let channels = 1 + k + pairs.len();
        let layers = self.layers();
        let n = layers.len();
        let act = self.activation();
        let mut tape = keep.then(|| JetChunk {
            rows,
            inputs: Vec::with_capacity(n),
            products: Vec::with_capacity(n - 1),
            derivatives: Vec::with_capacity(n - 1),
        });
        // H_0 = [x; e_0; …; e_{k-1}; 0 …].
        let mut h = pool.take(channels * rows * d);
        h.fill(E::ZERO);
        h[..rows * d].copy_from_slice(&x[start * d..(start + rows) * d]);
        for i in 0..k {
            let block = &mut h[(1 + i) * rows * d..(2 + i) * rows * d];
            for row in block.chunks_exact_mut(d) {
                row[i] = E::ONE;
            }
        }
        for (l, layer) in layers.iter().enumerate() {
            let w = layer.fan_out();
            let block = rows * w;
            let mut product = pool.take(channels * block);
            E::gemm(
                channels * rows,
                layer.fan_in(),
                w,
                &h,
                false,
                layer.weight(),
                false,
                E::ZERO,
                &mut product,
            );
            if let Some(bias) = layer.bias() {
                for row in product[..block].chunks_exact_mut(w) {
                    for (v, &b) in row.iter_mut().zip(bias) {
                        *v += b;
                    }
                }
            }
            if l == n - 1 {
                if let Some(t) = tape.as_mut() {
                    t.inputs.push(h);
                }
                return (product, tape);
            }
            // H_{l+1} = [σ(z); σ' ⊙ u^i; σ'' ⊙ u^i ⊙ u^j + σ' ⊙ T^{ij}], written in order.
            let mut next = pool.take_empty(channels * block);
            next.extend_from_slice(&product[..block]);
            // The activation overwrites every derivative buffer entirely.
            let (mut d1, mut d2) = (pool.take(block), pool.take(block));
            let mut d3 = Vec::new();
            if keep {
                d3 = pool.take(block);
                act.apply_with_third(&mut next, &mut d1, &mut d2, &mut d3);
            } else {
                act.apply(&mut next, Some(&mut d1), Some(&mut d2));
            }
            let channel = |c: usize| c * block..(c + 1) * block;
            for i in 0..k {
                let u = &product[channel(1 + i)];
                next.extend(u.iter().zip(&d1).map(|(&uv, &s)| s * uv));
            }
            for (q, &(i, j)) in pairs.iter().enumerate() {
                let (ui, uj) = (&product[channel(1 + i)], &product[channel(1 + j)]);
                let carried = &product[channel(1 + k + q)];
                next.extend(
                    ui.iter()
                        .zip(uj)
                        .zip(carried)
                        .zip(d1.iter().zip(&d2))
                        .map(|(((&a, &b), &c), (&s1, &s2))| s2 * a * b + s1 * c),
                );
            }
            match tape.as_mut() {
                Some(t) => {
                    t.inputs.push(std::mem::replace(&mut h, next));
                    t.products.push(product);
                    t.derivatives.push([d1, d2, d3]);
                }
                None => h = next,
            }
        }
        unreachable!("an Mlp has at least one layer")
    }

    /// The vector–Jacobian product of the channels of the forward pass that made `tape`, for
    /// their cotangents `cotangent` (shaped like the jet): with respect to the input
    /// (`[batch, input_width]`) and the parameters (flat, as [`Mlp::backward`]).
    pub fn backward_second_order(
        &self,
        tape: &SecondOrderTape<E>,
        cotangent: &SecondOrderJet<E>,
    ) -> Result<Gradients<E>, MlpError> {
        self.check_tape(tape.mlp)?;
        let out = self.output_width();
        let k = self.input_width();
        let p = tape.pairs.len();
        check_len("value cotangent", &cotangent.value, tape.batch, out)?;
        check_len(
            "first-derivative cotangent",
            &cotangent.first,
            k * tape.batch,
            out,
        )?;
        check_len(
            "second-derivative cotangent",
            &cotangent.second,
            p * tape.batch,
            out,
        )?;
        let mut starts = Vec::with_capacity(tape.chunks.len());
        let mut start = 0;
        for chunk in &tape.chunks {
            starts.push(start);
            start += chunk.rows;
        }
        let batch = tape.batch;
        let work: Vec<(&JetChunk<E>, usize)> = tape.chunks.iter().zip(starts).collect();
        let parts = parallel_map(&work, |&(chunk, start)| {
            let rows = chunk.rows;
            // The chunk's rows of every channel, stacked.
            let mut g = Vec::with_capacity((1 + k + p) * rows * out);
            let rows_of = |all: &[E], c: usize| {
                let at = (c * batch + start) * out;
                all[at..at + rows * out].to_vec()
            };
            g.extend(rows_of(&cotangent.value, 0));
            for i in 0..k {
                g.extend(rows_of(&cotangent.first, i));
            }
            for q in 0..p {
                g.extend(rows_of(&cotangent.second, q));
            }
            self.backward_second_order_chunk(chunk, &tape.pairs, g)
        });
        Ok(gather(parts, self.num_params()))
    }

    fn backward_second_order_chunk(
        &self,
        chunk: &JetChunk<E>,
        pairs: &[(usize, usize)],
        mut g: Vec<E>,
    ) -> (Vec<E>, Vec<E>) {
        let rows = chunk.rows;
        let k = self.input_width();
        let channels = 1 + k + pairs.len();
        let layers = self.layers();
        let offsets = self.param_offsets();
        let mut params = vec![E::ZERO; self.num_params()];
        // Two buffers reused across the layers (every product overwrites its output, β = 0).
        let mut h_bar: Vec<E> = Vec::new();
        let mut next: Vec<E> = Vec::new();
        for l in (0..layers.len()).rev() {
            let layer = &layers[l];
            let (fan_in, fan_out) = (layer.fan_in(), layer.fan_out());
            let w_at = offsets[l];
            E::gemm(
                fan_in,
                channels * rows,
                fan_out,
                &chunk.inputs[l],
                true,
                &g,
                false,
                E::ZERO,
                &mut params[w_at..w_at + fan_in * fan_out],
            );
            if layer.bias().is_some() {
                let b_at = w_at + fan_in * fan_out;
                add_column_sums(&mut params[b_at..b_at + fan_out], &g[..rows * fan_out]);
            }
            // H̄ = Ḡ Wᵀ.
            h_bar.resize(channels * rows * fan_in, E::ZERO);
            E::gemm(
                channels * rows,
                fan_out,
                fan_in,
                &g,
                false,
                layer.weight(),
                true,
                E::ZERO,
                &mut h_bar,
            );
            let block = rows * fan_in;
            if l == 0 {
                h_bar.truncate(block);
                return (h_bar, params);
            }
            let product = &chunk.products[l - 1];
            let [d1, d2, d3] = &chunk.derivatives[l - 1];
            let (d1, d2, d3) = (&d1[..block], &d2[..block], &d3[..block]);
            let channel = |c: usize| c * block..(c + 1) * block;
            next.resize(channels * block, E::ZERO);
            let (z_bar, rest) = next.split_at_mut(block);
            let (u_bars, t_bars) = rest.split_at_mut(k * block);
            for ((z, &a), &s) in z_bar.iter_mut().zip(&h_bar[..block]).zip(d1) {
                *z = a * s;
            }
            for (i, u_bar) in u_bars.chunks_exact_mut(block).enumerate() {
                let (tb, u) = (&h_bar[channel(1 + i)], &product[channel(1 + i)]);
                for (((((ub, z), &t), &uv), &s1), &s2) in u_bar
                    .iter_mut()
                    .zip(z_bar.iter_mut())
                    .zip(tb)
                    .zip(u)
                    .zip(d1)
                    .zip(d2)
                {
                    *ub = t * s1;
                    *z += t * uv * s2;
                }
            }
            for (q, (&(i, j), t_bar)) in
                pairs.iter().zip(t_bars.chunks_exact_mut(block)).enumerate()
            {
                let sb = &h_bar[channel(1 + k + q)];
                let (ui, uj) = (&product[channel(1 + i)], &product[channel(1 + j)]);
                let carried = &product[channel(1 + k + q)];
                let (ui, uj, d3) = (&ui[..block], &uj[..block], &d3[..block]);
                for (e, (((((z, tb), &s), &c), &s1), &s2)) in z_bar
                    .iter_mut()
                    .zip(t_bar.iter_mut())
                    .zip(sb)
                    .zip(carried)
                    .zip(d1)
                    .zip(d2)
                    .enumerate()
                {
                    *z += s * (d3[e] * ui[e] * uj[e] + s2 * c);
                    *tb = s * s1;
                }
                // ū^i += S̄ σ'' u^j and ū^j += S̄ σ'' u^i (twice into one block when i = j).
                let ui_bar = &mut u_bars[i * block..(i + 1) * block];
                for (((ub, &s), &s2), &v) in ui_bar.iter_mut().zip(sb).zip(d2).zip(uj) {
                    *ub += s * s2 * v;
                }
                let uj_bar = &mut u_bars[j * block..(j + 1) * block];
                for (((ub, &s), &s2), &v) in uj_bar.iter_mut().zip(sb).zip(d2).zip(ui) {
                    *ub += s * s2 * v;
                }
            }
            std::mem::swap(&mut g, &mut next);
        }
        unreachable!("an Mlp has at least one layer")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Activation;

    const PAIRS: [(usize, usize); 4] = [(0, 0), (0, 1), (2, 1), (2, 2)];

    /// A 3 → 6 → 5 → 2 network with deterministic, non-symmetric weights.
    fn net(act: Activation, params: &[f64]) -> Mlp<f64> {
        Mlp::from_flat(&[3, 6, 5, 2], params, true, act).unwrap()
    }

    fn params() -> Vec<f64> {
        (0..(3 * 6 + 6 + 6 * 5 + 5 + 5 * 2 + 2))
            .map(|i| 0.7 * ((i as f64) * 1.37).sin() + 0.05)
            .collect()
    }

    fn inputs(batch: usize) -> Vec<f64> {
        (0..batch * 3)
            .map(|i| 0.9 * ((i as f64) * 0.61 + 0.3).cos())
            .collect()
    }

    /// Value, first and second channels against central differences of `Mlp::forward`.
    #[test]
    fn channels_match_finite_differences_of_the_forward_pass() {
        let batch = 150;
        let x = inputs(batch);
        for act in [Activation::Tanh, Activation::Sin, Activation::Silu] {
            let mlp = net(act, &params());
            let jet = mlp.second_order_jet(&x, batch, &PAIRS).unwrap();
            let f = |shift: &[(usize, f64)]| {
                let mut xs = x.clone();
                for row in xs.chunks_exact_mut(3) {
                    for &(c, h) in shift {
                        row[c] += h;
                    }
                }
                mlp.forward(&xs, batch).unwrap()
            };
            let y = f(&[]);
            assert_eq!(jet.value, y, "{act:?} value");
            let out = 2;
            let block = batch * out;
            let h1 = 1e-5;
            for i in 0..3 {
                let (p, m) = (f(&[(i, h1)]), f(&[(i, -h1)]));
                for e in 0..block {
                    let fd = (p[e] - m[e]) / (2.0 * h1);
                    let got = jet.first[i * block + e];
                    assert!((got - fd).abs() < 1e-6, "{act:?} ∂y/∂x{i}: {got} vs {fd}");
                }
            }
            let h2 = 1e-4;
            for (q, &(i, j)) in PAIRS.iter().enumerate() {
                let fd: Vec<f64> = if i == j {
                    let (p, m) = (f(&[(i, h2)]), f(&[(i, -h2)]));
                    (0..block)
                        .map(|e| (p[e] - 2.0 * y[e] + m[e]) / (h2 * h2))
                        .collect()
                } else {
                    let pp = f(&[(i, h2), (j, h2)]);
                    let pm = f(&[(i, h2), (j, -h2)]);
                    let mp = f(&[(i, -h2), (j, h2)]);
                    let mm = f(&[(i, -h2), (j, -h2)]);
                    (0..block)
                        .map(|e| (pp[e] - pm[e] - mp[e] + mm[e]) / (4.0 * h2 * h2))
                        .collect()
                };
                for (&got, fd) in jet.second[q * block..(q + 1) * block].iter().zip(fd) {
                    assert!(
                        (got - fd).abs() < 1e-6,
                        "{act:?} ∂²y/∂x{i}∂x{j}: {got} vs {fd}"
                    );
                }
            }
            // The three diagonal pairs sum to the engine's Laplacian over all columns.
            let lap = mlp.laplacian(&x, batch, ..).unwrap();
            let diag = mlp
                .second_order_jet(&x, batch, &[(0, 0), (1, 1), (2, 2)])
                .unwrap()
                .second;
            for e in 0..block {
                let sum = diag[e] + diag[block + e] + diag[2 * block + e];
                assert!((sum - lap[e]).abs() < 1e-12, "{act:?} Laplacian");
            }
        }
    }

    /// The backward pass of `L = Σ w ⊙ channels` (random `w`) against central differences of
    /// `L` in every parameter and every input.
    #[test]
    fn backward_matches_finite_differences_of_a_loss_of_the_channels() {
        let batch = 130;
        let x = inputs(batch);
        let theta = params();
        for act in [Activation::Tanh, Activation::Sigmoid] {
            let mlp = net(act, &theta);
            let (jet, tape) = mlp.second_order_jet_taped(&x, batch, &PAIRS).unwrap();
            let weights = |len: usize, salt: f64| -> Vec<f64> {
                (0..len).map(|i| ((i as f64) * 0.37 + salt).sin()).collect()
            };
            let cot = SecondOrderJet {
                value: weights(jet.value.len(), 0.1),
                first: weights(jet.first.len(), 0.2),
                second: weights(jet.second.len(), 0.3),
            };
            let loss = |j: &SecondOrderJet<f64>| -> f64 {
                let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>();
                dot(&j.value, &cot.value) + dot(&j.first, &cot.first) + dot(&j.second, &cot.second)
            };
            let grads = mlp.backward_second_order(&tape, &cot).unwrap();
            let h = 1e-5;
            for p in 0..theta.len() {
                let at = |d: f64| {
                    let mut t = theta.clone();
                    t[p] += d;
                    loss(&net(act, &t).second_order_jet(&x, batch, &PAIRS).unwrap())
                };
                let fd = (at(h) - at(-h)) / (2.0 * h);
                let got = grads.params[p];
                assert!(
                    (got - fd).abs() < 1e-6 * (1.0 + fd.abs()),
                    "{act:?} ∂L/∂θ{p}: {got} vs {fd}"
                );
            }
            for e in (0..x.len()).step_by(7) {
                let at = |d: f64| {
                    let mut xs = x.clone();
                    xs[e] += d;
                    loss(&mlp.second_order_jet(&xs, batch, &PAIRS).unwrap())
                };
                let fd = (at(h) - at(-h)) / (2.0 * h);
                let got = grads.input[e];
                assert!(
                    (got - fd).abs() < 1e-6 * (1.0 + fd.abs()),
                    "{act:?} ∂L/∂x[{e}]: {got} vs {fd}"
                );
            }
        }
    }

    /// A tape written into the buffers of earlier tapes (smaller, larger, other pairs, another
    /// network) gives exactly the fresh tape's channels and gradients.
    #[test]
    fn a_retaped_pass_equals_a_fresh_one() {
        let theta = params();
        let mlp = net(Activation::Tanh, &theta);
        let other = net(
            Activation::Sin,
            &theta[1..].iter().chain([&0.3]).copied().collect::<Vec<_>>(),
        );
        let x = inputs(200);
        let (jet, tape) = mlp.second_order_jet_taped(&x, 200, &PAIRS).unwrap();
        let cot = SecondOrderJet {
            value: vec![0.5; jet.value.len()],
            first: (0..jet.first.len())
                .map(|i| (i as f64 * 0.1).sin())
                .collect(),
            second: vec![-0.25; jet.second.len()],
        };
        let fresh = mlp.backward_second_order(&tape, &cot).unwrap();
        let earlier = [
            other
                .second_order_jet_taped(&inputs(70), 70, &[(1, 1)])
                .unwrap()
                .1,
            other
                .second_order_jet_taped(&inputs(500), 500, &PAIRS)
                .unwrap()
                .1,
            mlp.second_order_jet_taped(&inputs(200), 200, &[])
                .unwrap()
                .1,
        ];
        for previous in earlier {
            let (again, retaped) = mlp
                .second_order_jet_retaped(&x, 200, &PAIRS, previous)
                .unwrap();
            assert_eq!(again, jet);
            assert_eq!(mlp.backward_second_order(&retaped, &cot).unwrap(), fresh);
        }
    }

    #[test]
    fn bad_requests_are_typed_errors() {
        let mlp = net(Activation::Tanh, &params());
        let x = inputs(4);
        assert_eq!(
            mlp.second_order_jet(&x, 4, &[(0, 3)]).unwrap_err(),
            MlpError::Pair {
                i: 0,
                j: 3,
                width: 3
            }
        );
        assert!(matches!(
            mlp.second_order_jet(&x, 5, &[]),
            Err(MlpError::Length { what: "input", .. })
        ));
        let (jet, tape) = mlp.second_order_jet_taped(&x, 4, &[(1, 1)]).unwrap();
        let mut short = jet.clone();
        short.second.pop();
        assert!(matches!(
            mlp.backward_second_order(&tape, &short),
            Err(MlpError::Length {
                what: "second-derivative cotangent",
                ..
            })
        ));
        let other = net(Activation::Tanh, &params());
        assert_eq!(
            other.backward_second_order(&tape, &jet).unwrap_err(),
            MlpError::ForeignTape
        );
        // No pairs and an empty batch are fine.
        let empty = mlp.second_order_jet(&[], 0, &[]).unwrap();
        assert!(empty.value.is_empty() && empty.first.is_empty() && empty.second.is_empty());
    }
}
