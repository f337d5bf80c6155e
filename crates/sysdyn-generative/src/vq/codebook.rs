//! The codebook of a VQ-VAE (van den Oord, Vinyals & Kavukcuoglu 2017): `K` vectors `e_k` of
//! width `D`, the nearest-code assignment of encoder outputs, and quantisation with the
//! straight-through estimator and the two codebook losses.
//!
//! - Assignment: `k(z) = argmin_k ‖z − e_k‖²`, computed for all rows at once as
//!   `‖z‖² − 2 z·e_k + ‖e_k‖²` (one matrix product instead of `n·K` differences).
//! - Straight-through: `z_q = z_e + sg(e_{k(z_e)} − z_e)` (`sg` = detach) has the value of the
//!   nearest code and the gradient of the identity, so the decoder's gradient `∂L/∂z_q` reaches
//!   the encoder unchanged although the assignment itself has no gradient. It is computed as
//!   `sg(e) + (z_e − sg(z_e))`, whose value is `e` to the last bit.
//! - Codebook loss `mean ‖sg(z_e) − e‖²` moves only the codes towards the encoder outputs
//!   assigned to them; commitment loss `β · mean ‖z_e − sg(e)‖²` moves only the encoder towards
//!   its codes. Both are means over all `n·D` elements, the scale of a mean squared
//!   reconstruction error (as in Sonnet's `VectorQuantizer`).

use burn::module::{Module, Param};
use burn::tensor::{Tensor, TensorData};
use sysdyn_core::rng::SeededRng;

use crate::error::GenerativeError;
pub(crate) use crate::host::{host_tensor, host_values};

/// The commitment weight `β` of the paper (0.25).
pub const DEFAULT_COMMITMENT: f64 = 0.25;

/// `K` code vectors of width `D`, a parameter `[K, D]` (trained by the codebook loss, or, with
/// [`EmaCodebook`](crate::vq::EmaCodebook), untrained and moved by moving averages).
#[derive(Module, Debug)]
pub struct Codebook {
    /// The codes `e_k`, one per row.
    pub vectors: Param<Tensor<2>>,
}

/// The result of quantising `n` encoder outputs.
#[derive(Debug, Clone)]
pub struct Quantised {
    /// The nearest code of each row.
    pub codes: Vec<usize>,
    /// `z_q = z_e + sg(e_k − z_e)`: the code's value with the identity's gradient, `[n, D]`.
    pub quantised: Tensor<2>,
    /// `mean ‖sg(z_e) − e_k‖²`: its gradient reaches only the codebook.
    pub codebook_loss: Tensor<1>,
    /// `β · mean ‖z_e − sg(e_k)‖²`: its gradient reaches only the encoder.
    pub commitment_loss: Tensor<1>,
}

/// `Ok` when the commitment weight `β` is finite and `≥ 0`.
pub fn check_commitment(beta: f64) -> Result<(), GenerativeError> {
    if beta.is_finite() && beta >= 0.0 {
        Ok(())
    } else {
        Err(GenerativeError::InvalidParameter {
            name: "commitment weight β",
            value: beta,
            requirement: "must be finite and ≥ 0 (the paper's 0.25)",
        })
    }
}

/// `Ok` when a codebook of `codes × width` is possible.
pub(crate) fn check_codebook_size(codes: usize, width: usize) -> Result<(), GenerativeError> {
    if codes == 0 {
        return Err(GenerativeError::InvalidParameter {
            name: "codes K",
            value: 0.0,
            requirement: "the codebook needs at least one code (e.g. 512)",
        });
    }
    if width == 0 {
        return Err(GenerativeError::InvalidParameter {
            name: "code width D",
            value: 0.0,
            requirement: "codes need at least one component (e.g. 64)",
        });
    }
    Ok(())
}

impl Codebook {
    /// `codes` vectors of width `width` drawn uniformly from `[−1/K, 1/K]` (the initialisation
    /// of the reference implementations), in `device`'s default float type.
    pub fn new(
        codes: usize,
        width: usize,
        device: &burn::tensor::Device,
        rng: &mut SeededRng,
    ) -> Result<Self, GenerativeError> {
        check_codebook_size(codes, width)?;
        let bound = 1.0 / codes as f64;
        let values: Vec<f64> = rng
            .uniforms(codes * width)
            .into_iter()
            .map(|u| bound * (2.0 * u - 1.0))
            .collect();
        Ok(Codebook {
            vectors: Param::from_tensor(Tensor::from_data(
                TensorData::new(values, [codes, width]),
                device,
            )),
        })
    }

    /// A codebook holding the rows of `vectors` (`[K, D]`).
    pub fn from_vectors(vectors: Tensor<2>) -> Result<Self, GenerativeError> {
        let [codes, width] = vectors.dims();
        check_codebook_size(codes, width)?;
        Ok(Codebook {
            vectors: Param::from_tensor(vectors.detach()),
        })
    }

    /// `K`.
    pub fn codes(&self) -> usize {
        self.vectors.dims()[0]
    }

    /// `D`.
    pub fn width(&self) -> usize {
        self.vectors.dims()[1]
    }

    /// Replaces the codes' values (an EMA update, a restart), keeping the parameter's identity
    /// (so optimizer state and checkpoints still match) and whether it is trained.
    pub fn set_vectors(&mut self, vectors: Tensor<2>) -> Result<(), GenerativeError> {
        check_shape("new code vectors", &vectors.dims(), &self.vectors.dims())?;
        self.vectors = replace_param(&self.vectors, vectors);
        Ok(())
    }

    fn check_rows(&self, z: &Tensor<2>) -> Result<usize, GenerativeError> {
        let [rows, width] = z.dims();
        if width != self.width() {
            return Err(GenerativeError::ShapeMismatch {
                what: "encoder output width and code width D",
                left: vec![width],
                right: vec![self.width()],
            });
        }
        if rows == 0 {
            return Err(GenerativeError::EmptyBatch {
                what: "encoder outputs to quantise",
            });
        }
        Ok(rows)
    }

    /// `‖z_j − e_k‖² = ‖z_j‖² − 2 z_j·e_k + ‖e_k‖²` for every row `z_j` of `z` (`[n, D]`) and
    /// every code, `[n, K]`, without graph.
    pub fn squared_distances(&self, z: Tensor<2>) -> Result<Tensor<2>, GenerativeError> {
        self.check_rows(&z)?;
        let z = z.detach();
        let e = self.vectors.val().detach();
        let z_norms = z.clone().square().sum_dim(1); // [n, 1]
        let e_norms = e.clone().square().sum_dim(1).transpose(); // [1, K]
        Ok(z_norms - z.matmul(e.transpose()).mul_scalar(2.0) + e_norms)
    }

    /// The nearest code of every row of `z` (`[n, D]`): `argmin_k ‖z_j − e_k‖²`.
    pub fn assign(&self, z: Tensor<2>) -> Result<Vec<usize>, GenerativeError> {
        let indices = self.squared_distances(z)?.argmin(1);
        let values = indices
            .try_into_vec_as::<i64>()
            .map_err(|e| GenerativeError::HostRead {
                what: "code assignments",
                reason: format!("{e:?}"),
            })?;
        Ok(values.into_iter().map(|k| k as usize).collect())
    }

    /// The rows `e_{codes[j]}`, `[n, D]`, as a one-hot matrix times the codebook (so the
    /// codebook receives the gradient of whatever uses them).
    pub fn lookup(&self, codes: &[usize]) -> Result<Tensor<2>, GenerativeError> {
        Ok(one_hot(codes, self.codes(), &self.vectors.val())?.matmul(self.vectors.val()))
    }

    /// Quantises `z_e` (`[n, D]`) with commitment weight `beta`: the nearest codes, the
    /// straight-through `z_q` and the two losses (see the module documentation).
    pub fn quantise(&self, z_e: Tensor<2>, beta: f64) -> Result<Quantised, GenerativeError> {
        check_commitment(beta)?;
        let codes = self.assign(z_e.clone())?;
        let nearest = self.lookup(&codes)?;
        let codebook_loss = (nearest.clone() - z_e.clone().detach()).square().mean();
        let commitment_loss = (z_e.clone() - nearest.clone().detach())
            .square()
            .mean()
            .mul_scalar(beta);
        // sg(e) + (z_e − sg(z_e)): the same as z_e + sg(e − z_e) in exact arithmetic, but its
        // value is e to the last bit (z_e − z_e = 0), so the decoder sees the code itself.
        let quantised = nearest.detach() + (z_e.clone() - z_e.detach());
        Ok(Quantised {
            codes,
            quantised,
            codebook_loss,
            commitment_loss,
        })
    }
}

/// `[batch, D, h, w]` → `[batch·h·w, D]`: one row per position, in batch then raster order.
pub fn flatten_positions(map: Tensor<4>) -> Tensor<2> {
    let [batch, width, rows, cols] = map.dims();
    map.permute([0, 2, 3, 1])
        .reshape([batch * rows * cols, width])
}

/// The inverse of [`flatten_positions`]: `[batch·h·w, D]` → `[batch, D, h, w]`.
pub fn unflatten_positions(
    rows_of: Tensor<2>,
    batch: usize,
    rows: usize,
    cols: usize,
) -> Result<Tensor<4>, GenerativeError> {
    let [count, width] = rows_of.dims();
    check_shape(
        "rows to unflatten and batch·h·w",
        &[count],
        &[batch * rows * cols],
    )?;
    Ok(rows_of
        .reshape([batch, rows, cols, width])
        .permute([0, 3, 1, 2]))
}

/// The `[n, classes]` one-hot matrix of `indices`, in `like`'s device and dtype.
pub(crate) fn one_hot<const L: usize>(
    indices: &[usize],
    classes: usize,
    like: &Tensor<L>,
) -> Result<Tensor<2>, GenerativeError> {
    if let Some(&bad) = indices.iter().find(|&&k| k >= classes) {
        return Err(GenerativeError::InvalidParameter {
            name: "code index",
            value: bad as f64,
            requirement: "must be below the number of codes K",
        });
    }
    let mut values = vec![0.0f64; indices.len() * classes];
    for (row, &k) in indices.iter().enumerate() {
        values[row * classes + k] = 1.0;
    }
    Ok(host_tensor(values, [indices.len(), classes], like))
}

/// `param` with a new value (detached), the same id and the same gradient setting.
pub(crate) fn replace_param<const D: usize>(
    param: &Param<Tensor<D>>,
    value: Tensor<D>,
) -> Param<Tensor<D>> {
    let trained = param.is_require_grad();
    Param::initialized(param.id, value.detach()).set_require_grad(trained)
}

pub(crate) fn check_shape(
    what: &'static str,
    got: &[usize],
    expected: &[usize],
) -> Result<(), GenerativeError> {
    if got == expected {
        Ok(())
    } else {
        Err(GenerativeError::ShapeMismatch {
            what,
            left: got.to_vec(),
            right: expected.to_vec(),
        })
    }
}
