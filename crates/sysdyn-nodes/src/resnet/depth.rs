//! Parameters stacked along depth: one slice per layer, and the operations that treat depth as
//! time (reading layer `j`, interpolating to a finer depth grid).

use burn::tensor::{Tensor, TensorData};

/// Layer `j` of a `[N, a, b]` stack as an `[a, b]` matrix.
pub(crate) fn layer_matrix(stack: &Tensor<3>, j: usize) -> Tensor<2> {
    let [_, a, b] = stack.dims();
    stack.clone().slice([j..j + 1, 0..a, 0..b]).reshape([a, b])
}

/// Layer `j` of a `[N, n]` stack as a `[1, n]` row (broadcast over a batch).
pub(crate) fn layer_row(stack: &Tensor<2>, j: usize) -> Tensor<2> {
    let [_, n] = stack.dims();
    stack.clone().slice([j..j + 1, 0..n])
}

/// The `n × n` identity with the dtype and device of `like`.
pub(crate) fn identity_like(n: usize, like: &Tensor<3>) -> Tensor<2> {
    let mut values = vec![0.0; n * n];
    for i in 0..n {
        values[i * n + i] = 1.0;
    }
    let dtype = like.dtype();
    Tensor::from_data(
        TensorData::new(values, [n, n]).convert_dtype(dtype),
        (&like.device(), dtype),
    )
}

/// Parameters of `N` layers at depths `t_j = j h` interpolated linearly to the `2N` depths
/// `t_i = i h / 2`: even layers keep the old values, odd layers take the mean of their two
/// neighbours, and the last (beyond the old grid's last point) repeats it.
pub(crate) fn prolong_stack(stack: Tensor<3>) -> Tensor<3> {
    let [n_layers, a, b] = stack.dims();
    let last = stack.clone().slice([n_layers - 1..n_layers, 0..a, 0..b]);
    let midpoints = if n_layers > 1 {
        let lower = stack.clone().slice([0..n_layers - 1, 0..a, 0..b]);
        let upper = stack.clone().slice([1..n_layers, 0..a, 0..b]);
        Tensor::cat(vec![(lower + upper) * 0.5, last], 0)
    } else {
        last
    };
    // [N, 2, a, b] with the old value then the midpoint, read in order as 2N layers.
    Tensor::stack::<4>(vec![stack, midpoints], 1).reshape([2 * n_layers, a, b])
}

/// [`prolong_stack`] for a `[N, n]` stack of bias rows.
pub(crate) fn prolong_rows(stack: Tensor<2>) -> Tensor<2> {
    let [n_layers, n] = stack.dims();
    prolong_stack(stack.reshape([n_layers, 1, n])).reshape([2 * n_layers, n])
}
