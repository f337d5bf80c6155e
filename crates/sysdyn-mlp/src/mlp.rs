//! [`Mlp`]: the network on host memory, its forward pass with a tape, and the backward pass.
//!
//! With layer inputs `a_l` (`a_0 = x`), pre-activations `z_l = a_l W_l + b_l` and
//! `a_{l+1} = σ(z_l)`, the backward pass of a cotangent `c` on the output is
//!
//! ```text
//! δ_{n-1} = c,   ∂W_l = a_lᵀ δ_l,   ∂b_l = Σ_rows δ_l,   δ_{l-1} = (δ_l W_lᵀ) ⊙ σ'(z_{l-1})
//! ```
//!
//! and `cᵀ∂f/∂x = δ_0 W_0ᵀ`. The tape keeps the `a_l` and `σ'(z_l)` (not for the identity).

use std::ops::{Bound, Range, RangeBounds};
use std::sync::atomic::{AtomicU64, Ordering};

use rayon::prelude::*;

use crate::activation::Activation;
use crate::error::MlpError;
use crate::float::Float;

/// Rows per parallel chunk below which splitting the batch does not pay: a chunk must carry
/// enough arithmetic to outweigh a rayon task and a second set of buffers.
pub(crate) const MIN_ROWS_PER_CHUNK: usize = 64;

/// An affine layer `y = x W + b` with `W` stored `[fan_in, fan_out]` row-major (burn's
/// `Linear` layout).
#[derive(Debug, Clone, PartialEq)]
pub struct Layer<E> {
    fan_in: usize,
    fan_out: usize,
    weight: Vec<E>,
    bias: Option<Vec<E>>,
}

impl<E: Float> Layer<E> {
    /// A layer from its row-major `[fan_in, fan_out]` weight and optional `[fan_out]` bias.
    pub fn new(
        fan_in: usize,
        fan_out: usize,
        weight: Vec<E>,
        bias: Option<Vec<E>>,
    ) -> Result<Self, MlpError> {
        Self::checked(0, fan_in, fan_out, weight, bias)
    }

    /// As [`Layer::new`], with `layer` as the index in error messages.
    pub(crate) fn checked(
        layer: usize,
        fan_in: usize,
        fan_out: usize,
        weight: Vec<E>,
        bias: Option<Vec<E>>,
    ) -> Result<Self, MlpError> {
        if fan_in == 0 || fan_out == 0 {
            return Err(MlpError::ZeroWidth {
                layer,
                fan_in,
                fan_out,
            });
        }
        let data = |what, expected, got| MlpError::LayerData {
            layer,
            what,
            fan_in,
            fan_out,
            expected,
            got,
        };
        if weight.len() != fan_in * fan_out {
            return Err(data("weight", fan_in * fan_out, weight.len()));
        }
        if let Some(b) = &bias
            && b.len() != fan_out
        {
            return Err(data("bias", fan_out, b.len()));
        }
        Ok(Layer {
            fan_in,
            fan_out,
            weight,
            bias,
        })
    }

    /// Input width.
    pub fn fan_in(&self) -> usize {
        self.fan_in
    }

    /// Output width.
    pub fn fan_out(&self) -> usize {
        self.fan_out
    }

    /// The weight, row-major `[fan_in, fan_out]`.
    pub fn weight(&self) -> &[E] {
        &self.weight
    }

    /// The bias, `[fan_out]`, if the layer has one.
    pub fn bias(&self) -> Option<&[E]> {
        self.bias.as_deref()
    }

    /// Number of parameters (weight, then bias).
    pub fn num_params(&self) -> usize {
        self.fan_in * self.fan_out + self.bias.as_ref().map_or(0, Vec::len)
    }

    /// `z ← a W + b` for `rows` rows of `a`.
    pub(crate) fn affine(&self, a: &[E], rows: usize) -> Vec<E> {
        let mut z = vec![E::ZERO; rows * self.fan_out];
        let beta = match &self.bias {
            Some(bias) => {
                for row in z.chunks_exact_mut(self.fan_out) {
                    row.copy_from_slice(bias);
                }
                E::ONE
            }
            None => E::ZERO,
        };
        E::gemm(
            rows,
            self.fan_in,
            self.fan_out,
            a,
            false,
            &self.weight,
            false,
            beta,
            &mut z,
        );
        z
    }

    /// `t W` for `rows` rows of `t` (no bias: derivatives and tangents).
    pub(crate) fn linear(&self, t: &[E], rows: usize) -> Vec<E> {
        let mut out = vec![E::ZERO; rows * self.fan_out];
        E::gemm(
            rows,
            self.fan_in,
            self.fan_out,
            t,
            false,
            &self.weight,
            false,
            E::ZERO,
            &mut out,
        );
        out
    }

    /// `δ Wᵀ` for `rows` rows of `δ`.
    pub(crate) fn back(&self, delta: &[E], rows: usize) -> Vec<E> {
        let mut out = vec![E::ZERO; rows * self.fan_in];
        E::gemm(
            rows,
            self.fan_out,
            self.fan_in,
            delta,
            false,
            &self.weight,
            true,
            E::ZERO,
            &mut out,
        );
        out
    }
}

/// Adds the column sums of `rows × width` values to `acc` (`width`).
#[inline(always)]
pub(crate) fn add_column_sums<E: Float>(acc: &mut [E], values: &[E]) {
    let width = acc.len();
    for row in values.chunks_exact(width) {
        for (g, &v) in acc.iter_mut().zip(row) {
            *g += v;
        }
    }
}

/// A multilayer perceptron `x ↦ L_{n-1} ∘ σ ∘ … ∘ σ ∘ L_0 (x)` on host memory.
///
/// Immutable once built: [`Mlp::forward_taped`]'s tape is valid for the network that made it
/// (checked by [`Mlp::backward`]), and an `Mlp` can be shared between threads.
#[derive(Debug, Clone)]
pub struct Mlp<E> {
    layers: Vec<Layer<E>>,
    activation: Activation,
    /// Identifies the network to its tapes (clones share it: they hold the same weights).
    id: u64,
}

/// The gradients a backward pass returns.
#[derive(Debug, Clone, PartialEq)]
pub struct Gradients<E> {
    /// The input part `cᵀ∂y/∂x`, row-major `[batch, input_width]`.
    pub input: Vec<E>,
    /// The parameter part `cᵀ∂y/∂θ`, flat: per layer, input first, the weight (row-major
    /// `[fan_in, fan_out]`) then the bias; see [`Mlp::param_offsets`].
    pub params: Vec<E>,
}

/// Saved layer inputs and activation derivatives of one chunk of rows.
#[derive(Debug, Clone)]
struct ChunkTape<E> {
    rows: usize,
    /// `a_0 … a_{n-1}`.
    inputs: Vec<Vec<E>>,
    /// `σ'(z_0) … σ'(z_{n-2})`; empty for the identity.
    derivatives: Vec<Vec<E>>,
}

/// What [`Mlp::forward_taped`] keeps for [`Mlp::backward`].
#[derive(Debug, Clone)]
pub struct Tape<E> {
    chunks: Vec<ChunkTape<E>>,
    batch: usize,
    mlp: u64,
}

impl<E> Tape<E> {
    /// Number of rows of the forward pass.
    pub fn batch(&self) -> usize {
        self.batch
    }
}

/// Splits `batch` rows into contiguous chunks `(start, rows)`, one per worker where the rows
/// allow.
pub(crate) fn row_chunks(batch: usize) -> Vec<(usize, usize)> {
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

/// Runs `f(start, rows)` on each chunk of the batch, in parallel when there are several.
pub(crate) fn over_chunks<T: Send>(
    batch: usize,
    f: impl Fn(usize, usize) -> T + Sync + Send,
) -> Vec<T> {
    parallel_map(&row_chunks(batch), |&(start, rows)| f(start, rows))
}

/// `f` over `items` (one per chunk of the batch), in parallel when there are several.
///
/// Callers that make many such calls in a row (a solver's stages) should make them from inside
/// the rayon pool (`sysdyn_core::threads::join_global_pool`): from outside, each call hands
/// every chunk to the pool and puts the calling thread to sleep until they are done, a sleep
/// and a wake-up per call (W2's taped step: 20.6 ms from outside the pool, 17.0 ms inside).
pub(crate) fn parallel_map<I: Sync, T: Send>(items: &[I], f: impl Fn(&I) -> T + Sync) -> Vec<T> {
    match items {
        // No rayon task for a single chunk: small batches stay on the caller's thread.
        [only] => vec![f(only)],
        _ => items.par_iter().map(&f).collect(),
    }
}

/// Sums the per-chunk parameter gradients and concatenates the input parts.
pub(crate) fn gather<E: Float>(
    mut parts: Vec<(Vec<E>, Vec<E>)>,
    num_params: usize,
) -> Gradients<E> {
    if parts.len() == 1 {
        // One chunk (a serial pass): its parts are the result, no copy.
        let (input, params) = parts.remove(0);
        return Gradients { input, params };
    }
    let mut input = Vec::with_capacity(parts.iter().map(|p| p.0.len()).sum());
    let mut params = vec![E::ZERO; num_params];
    for (xb, p) in parts {
        input.extend_from_slice(&xb);
        for (acc, v) in params.iter_mut().zip(p) {
            *acc += v;
        }
    }
    Gradients { input, params }
}

/// Resolves a column range against an input of `width` features.
pub(crate) fn resolve_columns(
    columns: impl RangeBounds<usize>,
    width: usize,
) -> Result<Range<usize>, MlpError> {
    let start = match columns.start_bound() {
        Bound::Included(&s) => s,
        Bound::Excluded(&s) => s.saturating_add(1),
        Bound::Unbounded => 0,
    };
    let end = match columns.end_bound() {
        Bound::Included(&e) => e.saturating_add(1),
        Bound::Excluded(&e) => e,
        Bound::Unbounded => width,
    };
    if start >= end || end > width {
        return Err(MlpError::Columns { start, end, width });
    }
    Ok(start..end)
}

/// Checks that `values` holds `rows × width` entries.
pub(crate) fn check_len<E>(
    what: &'static str,
    values: &[E],
    rows: usize,
    width: usize,
) -> Result<(), MlpError> {
    let expected = rows * width;
    if values.len() != expected {
        return Err(MlpError::Length {
            what,
            rows,
            width,
            expected,
            got: values.len(),
        });
    }
    Ok(())
}

impl<E: Float> Mlp<E> {
    /// A network from its affine layers, input first; each layer's input width must be the
    /// previous layer's output width. `activation` follows every layer but the last.
    pub fn new(layers: Vec<Layer<E>>, activation: Activation) -> Result<Self, MlpError> {
        if layers.is_empty() {
            return Err(MlpError::NoLayers);
        }
        for (index, pair) in layers.windows(2).enumerate() {
            if pair[0].fan_out != pair[1].fan_in {
                return Err(MlpError::LayerChain {
                    layer: index + 1,
                    expected: pair[0].fan_out,
                    got: pair[1].fan_in,
                });
            }
        }
        static NEXT_ID: AtomicU64 = AtomicU64::new(0);
        Ok(Mlp {
            layers,
            activation,
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
        })
    }

    /// A network from its widths (`[in, hidden…, out]`) and flat parameters in the order of
    /// [`Mlp::param_offsets`] (per layer the weight, row-major `[fan_in, fan_out]`, then the
    /// bias when `biases`).
    pub fn from_flat(
        widths: &[usize],
        params: &[E],
        biases: bool,
        activation: Activation,
    ) -> Result<Self, MlpError> {
        if widths.len() < 2 {
            return Err(MlpError::NoLayers);
        }
        let needed: usize = widths
            .windows(2)
            .map(|w| w[0] * w[1] + if biases { w[1] } else { 0 })
            .sum();
        check_len("flat parameters", params, 1, needed)?;
        let mut rest = params;
        let mut layers = Vec::with_capacity(widths.len() - 1);
        for (l, w) in widths.windows(2).enumerate() {
            let (weight, tail) = rest.split_at(w[0] * w[1]);
            rest = tail;
            let bias = biases.then(|| {
                let (b, tail) = rest.split_at(w[1]);
                rest = tail;
                b.to_vec()
            });
            layers.push(Layer::checked(l, w[0], w[1], weight.to_vec(), bias)?);
        }
        Mlp::new(layers, activation)
    }

    /// The affine layers, input first.
    pub fn layers(&self) -> &[Layer<E>] {
        &self.layers
    }

    /// The hidden activation.
    pub fn activation(&self) -> Activation {
        self.activation
    }

    /// Number of input features.
    pub fn input_width(&self) -> usize {
        self.layers[0].fan_in
    }

    /// Number of outputs.
    pub fn output_width(&self) -> usize {
        self.layers[self.layers.len() - 1].fan_out
    }

    /// Widths from input to output.
    pub fn widths(&self) -> Vec<usize> {
        let mut widths = vec![self.input_width()];
        widths.extend(self.layers.iter().map(|l| l.fan_out));
        widths
    }

    /// Total number of parameters.
    pub fn num_params(&self) -> usize {
        self.layers.iter().map(Layer::num_params).sum()
    }

    /// Offset of each layer's weight in the flat parameter vector of [`Gradients::params`];
    /// its bias (if any) follows the weight.
    pub fn param_offsets(&self) -> Vec<usize> {
        let mut offsets = Vec::with_capacity(self.layers.len());
        let mut offset = 0;
        for layer in &self.layers {
            offsets.push(offset);
            offset += layer.num_params();
        }
        offsets
    }

    pub(crate) fn id(&self) -> u64 {
        self.id
    }

    /// The output `[batch, output_width]` for the inputs `x` (`[batch, input_width]`,
    /// row-major).
    pub fn forward(&self, x: &[E], batch: usize) -> Result<Vec<E>, MlpError> {
        check_len("input", x, batch, self.input_width())?;
        let parts = over_chunks(batch, |start, rows| {
            self.forward_chunk(x, start, rows, false)
        });
        Ok(parts.into_iter().flat_map(|(out, _)| out).collect())
    }

    /// The output, with the tape [`Mlp::backward`] needs.
    pub fn forward_taped(&self, x: &[E], batch: usize) -> Result<(Vec<E>, Tape<E>), MlpError> {
        check_len("input", x, batch, self.input_width())?;
        let parts = over_chunks(batch, |start, rows| {
            self.forward_chunk(x, start, rows, true)
        });
        let mut out = Vec::with_capacity(batch * self.output_width());
        let mut chunks = Vec::with_capacity(parts.len());
        for (o, tape) in parts {
            out.extend_from_slice(&o);
            chunks.push(tape);
        }
        let tape = Tape {
            chunks,
            batch,
            mlp: self.id,
        };
        Ok((out, tape))
    }

    /// [`Mlp::forward_taped`] on the caller's thread, the batch in one piece; [`Mlp::backward`]
    /// of its tape runs on the caller's thread too. For callers that split the rows
    /// themselves, one parallel task per chunk of rows through several networks (a RealNVP's
    /// couplings, `sysdyn-generative`'s `flow::host`): one fork and join per step instead of
    /// one per network and pass.
    pub fn forward_taped_serial(
        &self,
        x: &[E],
        batch: usize,
    ) -> Result<(Vec<E>, Tape<E>), MlpError> {
        check_len("input", x, batch, self.input_width())?;
        let (out, chunk) = self.forward_chunk(x, 0, batch, true);
        let tape = Tape {
            chunks: vec![chunk],
            batch,
            mlp: self.id,
        };
        Ok((out, tape))
    }

    fn forward_chunk(
        &self,
        x: &[E],
        start: usize,
        rows: usize,
        keep: bool,
    ) -> (Vec<E>, ChunkTape<E>) {
        #[cfg(target_arch = "x86_64")]
        if crate::kernels::use_avx512() {
            // SAFETY: kernel_path checked that the CPU supports AVX-512 F/VL, AVX2 and FMA.
            return unsafe { self.forward_chunk_avx512(x, start, rows, keep) };
        }
        self.forward_chunk_body(x, start, rows, keep)
    }

    /// [`Mlp::forward_chunk`] compiled with AVX-512, for its elementwise loops (the activation
    /// and its derivative over the hidden layers: as much time as the products in a ReLU
    /// network of width 64 when compiled for SSE2); the products dispatch on their own.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f,avx512vl,avx2,fma")]
    unsafe fn forward_chunk_avx512(
        &self,
        x: &[E],
        start: usize,
        rows: usize,
        keep: bool,
    ) -> (Vec<E>, ChunkTape<E>) {
        self.forward_chunk_body(x, start, rows, keep)
    }

    #[inline(always)]
    fn forward_chunk_body(
        &self,
        x: &[E],
        start: usize,
        rows: usize,
        keep: bool,
    ) -> (Vec<E>, ChunkTape<E>) {
        let width = self.input_width();
        let x = &x[start * width..(start + rows) * width];
        let n = self.layers.len();
        // ReLU's derivative is read off its output on the tape in the backward pass
        // (`σ'(z) = [σ(z) > 0]`): no second buffer per hidden layer.
        let with_derivative =
            keep && self.activation.has_first_derivative() && self.activation != Activation::Relu;
        let mut inputs = Vec::with_capacity(if keep { n } else { 0 });
        let mut derivatives = Vec::with_capacity(if with_derivative { n - 1 } else { 0 });
        // The first layer reads the caller's rows in place; a copy is made only for the tape.
        let mut z = self.layers[0].affine(x, rows);
        if keep {
            inputs.push(x.to_vec());
        }
        for layer in &self.layers[1..] {
            let mut a = z;
            if with_derivative {
                let mut d = vec![E::ZERO; a.len()];
                self.activation.apply(&mut a, Some(&mut d), None);
                derivatives.push(d);
            } else {
                self.activation.apply(&mut a, None, None);
            }
            z = layer.affine(&a, rows);
            if keep {
                inputs.push(a);
            }
        }
        (
            z,
            ChunkTape {
                rows,
                inputs,
                derivatives,
            },
        )
    }

    /// Checks that `tape` was made by this network.
    pub(crate) fn check_tape(&self, mlp: u64) -> Result<(), MlpError> {
        if mlp == self.id {
            Ok(())
        } else {
            Err(MlpError::ForeignTape)
        }
    }

    /// `(cᵀ∂y/∂x, cᵀ∂y/∂θ)` for the cotangent `c` (`[batch, output_width]`) of the forward
    /// pass that made `tape`.
    pub fn backward(&self, tape: &Tape<E>, cotangent: &[E]) -> Result<Gradients<E>, MlpError> {
        self.check_tape(tape.mlp)?;
        check_len("cotangent", cotangent, tape.batch, self.output_width())?;
        let mut starts = Vec::with_capacity(tape.chunks.len());
        let mut start = 0;
        for chunk in &tape.chunks {
            starts.push(start);
            start += chunk.rows;
        }
        let out = self.output_width();
        let work: Vec<(&ChunkTape<E>, usize)> = tape.chunks.iter().zip(starts).collect();
        let parts = parallel_map(&work, |&(chunk, start)| {
            self.backward_chunk(chunk, &cotangent[start * out..(start + chunk.rows) * out])
        });
        Ok(gather(parts, self.num_params()))
    }

    fn backward_chunk(&self, tape: &ChunkTape<E>, cotangent: &[E]) -> (Vec<E>, Vec<E>) {
        #[cfg(target_arch = "x86_64")]
        if crate::kernels::use_avx512() {
            // SAFETY: kernel_path checked that the CPU supports AVX-512 F/VL, AVX2 and FMA.
            return unsafe { self.backward_chunk_avx512(tape, cotangent) };
        }
        self.backward_chunk_body(tape, cotangent)
    }

    /// [`Mlp::backward_chunk`] compiled with AVX-512, for its elementwise loops (σ', the bias
    /// gradient's column sums).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f,avx512vl,avx2,fma")]
    unsafe fn backward_chunk_avx512(
        &self,
        tape: &ChunkTape<E>,
        cotangent: &[E],
    ) -> (Vec<E>, Vec<E>) {
        self.backward_chunk_body(tape, cotangent)
    }

    #[inline(always)]
    fn backward_chunk_body(&self, tape: &ChunkTape<E>, cotangent: &[E]) -> (Vec<E>, Vec<E>) {
        let rows = tape.rows;
        let mut params = vec![E::ZERO; self.num_params()];
        let offsets = self.param_offsets();
        let mut delta = cotangent.to_vec();
        for (l, layer) in self.layers.iter().enumerate().rev() {
            let (fan_in, fan_out) = (layer.fan_in, layer.fan_out);
            let w_at = offsets[l];
            // ∂W = aᵀ δ.
            E::gemm(
                fan_in,
                rows,
                fan_out,
                &tape.inputs[l],
                true,
                &delta,
                false,
                E::ZERO,
                &mut params[w_at..w_at + fan_in * fan_out],
            );
            if layer.bias.is_some() {
                let b_at = w_at + fan_in * fan_out;
                add_column_sums(&mut params[b_at..b_at + fan_out], &delta);
            }
            let mut back = layer.back(&delta, rows);
            if l == 0 {
                return (back, params);
            }
            if self.activation == Activation::Relu {
                // σ'(z_{l-1}) = [a_l > 0], a_l this layer's input on the tape; the product
                // as for the other activations (NaN stays NaN).
                for (b, &a) in back.iter_mut().zip(&tape.inputs[l]) {
                    *b = *b * if a > E::ZERO { E::ONE } else { E::ZERO };
                }
            } else if let Some(d) = tape.derivatives.get(l - 1) {
                for (b, &s) in back.iter_mut().zip(d) {
                    *b = *b * s;
                }
            }
            delta = back;
        }
        unreachable!("an Mlp has at least one layer")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_split_evenly_and_cover_the_batch() {
        for batch in [0, 1, 63, 64, 301, 512] {
            let chunks = row_chunks(batch);
            assert_eq!(chunks.iter().map(|c| c.1).sum::<usize>(), batch);
            let mut next = 0;
            for (start, rows) in chunks {
                assert_eq!(start, next);
                next = start + rows;
            }
        }
    }

    #[test]
    fn bad_shapes_are_typed_errors() {
        assert_eq!(
            Mlp::<f64>::new(Vec::new(), Activation::Tanh).unwrap_err(),
            MlpError::NoLayers
        );
        assert!(matches!(
            Layer::<f64>::new(2, 3, vec![0.0; 5], None),
            Err(MlpError::LayerData { what: "weight", .. })
        ));
        let l0 = Layer::new(2, 3, vec![0.0; 6], Some(vec![0.0; 3])).unwrap();
        let l1 = Layer::new(4, 1, vec![0.0; 4], None).unwrap();
        assert!(matches!(
            Mlp::new(vec![l0.clone(), l1], Activation::Tanh),
            Err(MlpError::LayerChain { layer: 1, .. })
        ));
        let mlp = Mlp::new(vec![l0], Activation::Tanh).unwrap();
        assert!(matches!(
            mlp.forward(&[0.0; 5], 3),
            Err(MlpError::Length { what: "input", .. })
        ));
        let other = mlp.clone();
        let (_, tape) = mlp.forward_taped(&[0.0; 4], 2).unwrap();
        assert!(other.backward(&tape, &[0.0; 6]).is_ok());
        let stranger = Mlp::from_flat(&[2, 3], &[0.0; 9], true, Activation::Tanh).unwrap();
        assert_eq!(
            stranger.backward(&tape, &[0.0; 6]).unwrap_err(),
            MlpError::ForeignTape
        );
    }
}
