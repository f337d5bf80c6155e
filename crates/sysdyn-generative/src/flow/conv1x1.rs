//! Glow's learned invertible 1×1 convolution in LU form (Kingma & Dhariwal 2018):
//!
//! `W = P · L · (U + diag(sign ⊙ exp(log|s|)))`,
//!
//! with `P` a fixed permutation, `L` unit lower triangular and `U` strictly upper triangular
//! (learned), `sign` fixed and `log|s|` learned. On a vector `z = W x`, with
//! `log|det W| = Σᵢ log|sᵢ|`; on an image the same `W` mixes the channels at every pixel, so
//! `log|det J| = H · W · Σᵢ log|sᵢ|`. The inverse is `W⁻¹ = (U + D)⁻¹ L⁻¹ Pᵀ`; both triangular
//! inverses are finite Neumann series, `(I + N)⁻¹ = Σₖ₌₀^{C−1} (−N)ᵏ` for the nilpotent strictly
//! triangular `N`, so they are exact, made of tensor products, and differentiable (the inverse
//! direction trains by reverse KL).
//!
//! The initial `W` is a random rotation: the `Q` of a seeded Gaussian matrix by Gram–Schmidt
//! on the host, factored `Q = P L U` with partial pivoting. A (numerically) singular matrix is
//! refused with a typed error.

use burn::module::{Module, Param};
use burn::tensor::Tensor;
use sysdyn_core::device::SysDevice;
use sysdyn_core::rng::SeededRng;

use crate::error::GenerativeError;
use crate::flow::checks::{broadcast_rows, check_input, no_context};
use crate::flow::{Flow, Transformed};
use crate::host::host_tensor;

/// A pivot or column smaller than this, relative to the matrix's largest entry, is singular.
const SINGULAR_TOLERANCE: f64 = 1e-10;

/// An invertible linear map of the channels (a 1×1 convolution) or features, in LU form.
#[derive(Module, Debug)]
pub struct InvertibleConv1x1 {
    /// Its strictly lower triangle is `L − I`; the rest is unused.
    lower: Param<Tensor<2>>,
    /// Its strictly upper triangle is `U`; the rest is unused.
    upper: Param<Tensor<2>>,
    /// `log|sᵢ|`, the diagonal of the upper factor in magnitude.
    log_scale: Param<Tensor<1>>,
    /// `P_{permutation[i], i} = 1`.
    #[module(skip)]
    permutation: Vec<usize>,
    /// The signs of the upper factor's diagonal.
    #[module(skip)]
    sign: Vec<f64>,
}

fn singular(value: f64) -> GenerativeError {
    GenerativeError::InvalidParameter {
        name: "1×1 convolution matrix (smallest pivot relative to its largest entry)",
        value,
        requirement: "the matrix must be invertible: pass a non-singular matrix or another seed",
    }
}

/// `Q` of the QR factorisation of the row-major `n × n` matrix `a`, by modified Gram–Schmidt
/// on its columns; a column that depends on the previous ones is refused.
fn orthonormal_columns(a: &[f64], n: usize) -> Result<Vec<f64>, GenerativeError> {
    let mut columns: Vec<Vec<f64>> = (0..n)
        .map(|j| (0..n).map(|i| a[i * n + j]).collect())
        .collect();
    for j in 0..n {
        let (done, rest) = columns.split_at_mut(j);
        let column = &mut rest[0];
        let original: f64 = column.iter().map(|v| v * v).sum::<f64>().sqrt();
        for previous in done.iter() {
            let dot: f64 = column.iter().zip(previous).map(|(a, b)| a * b).sum();
            column
                .iter_mut()
                .zip(previous)
                .for_each(|(a, b)| *a -= dot * b);
        }
        let norm: f64 = column.iter().map(|v| v * v).sum::<f64>().sqrt();
        // NaN norms count as singular too.
        if norm.partial_cmp(&(SINGULAR_TOLERANCE * original)) != Some(std::cmp::Ordering::Greater) {
            return Err(singular(if original > 0.0 { norm / original } else { 0.0 }));
        }
        column.iter_mut().for_each(|v| *v /= norm);
    }
    Ok((0..n * n).map(|k| columns[k % n][k / n]).collect())
}

/// `A = P L U` with partial pivoting: the row order (`(P_r A)ᵢ = A_{order[i]}`), `L`'s strictly
/// lower and `U`'s upper triangle packed in one row-major matrix.
fn lu(a: &[f64], n: usize) -> Result<(Vec<usize>, Vec<f64>), GenerativeError> {
    let scale = a.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    if !scale.is_finite() || scale == 0.0 {
        return Err(singular(0.0));
    }
    let mut m = a.to_vec();
    let mut order: Vec<usize> = (0..n).collect();
    for k in 0..n {
        let pivot = (k..n)
            .max_by(|&i, &j| m[i * n + k].abs().total_cmp(&m[j * n + k].abs()))
            .unwrap_or(k);
        let size = m[pivot * n + k].abs();
        if size.partial_cmp(&(SINGULAR_TOLERANCE * scale)) != Some(std::cmp::Ordering::Greater) {
            return Err(singular(size / scale));
        }
        if pivot != k {
            for j in 0..n {
                m.swap(k * n + j, pivot * n + j);
            }
            order.swap(k, pivot);
        }
        for i in k + 1..n {
            let factor = m[i * n + k] / m[k * n + k];
            m[i * n + k] = factor;
            for j in k + 1..n {
                m[i * n + j] -= factor * m[k * n + j];
            }
        }
    }
    Ok((order, m))
}

/// `(I + N)⁻¹ = I − N (I − N (…))` for a nilpotent `n × n` matrix `N` (`Nⁿ = 0`).
fn nilpotent_inverse(n: Tensor<2>, eye: Tensor<2>) -> Tensor<2> {
    let size = n.dims()[0];
    (1..size).fold(eye.clone(), |acc, _| eye.clone() - n.clone().matmul(acc))
}

impl InvertibleConv1x1 {
    /// A random rotation of `channels ≥ 1` channels from `seed`, in `device`'s float type.
    pub fn new(device: &SysDevice, channels: usize, seed: u64) -> Result<Self, GenerativeError> {
        if channels == 0 {
            return Err(GenerativeError::InvalidParameter {
                name: "1×1 convolution channels",
                value: 0.0,
                requirement: "must be at least 1",
            });
        }
        let gaussian = SeededRng::new(seed).normals(channels * channels);
        let rotation = orthonormal_columns(&gaussian, channels)?;
        Self::from_matrix(device, channels, &rotation)
    }

    /// The map with matrix `w` (`channels × channels`, row-major: `zᵢ = Σⱼ wᵢⱼ xⱼ`), refused
    /// when singular.
    pub fn from_matrix(
        device: &SysDevice,
        channels: usize,
        w: &[f64],
    ) -> Result<Self, GenerativeError> {
        if channels == 0 || w.len() != channels * channels {
            return Err(GenerativeError::ShapeMismatch {
                what: "1×1 convolution matrix (channels × channels values)",
                left: vec![w.len()],
                right: vec![channels, channels],
            });
        }
        let n = channels;
        let (order, packed) = lu(w, n)?;
        // P_r W = L U with (P_r)_{i, order[i]} = 1, so W = P L U with P = P_rᵀ.
        let diagonal: Vec<f64> = (0..n).map(|i| packed[i * n + i]).collect();
        let tensor = |values: Vec<f64>| {
            device
                .tensor(values, [n, n])
                .expect("each factor is built from n × n values")
        };
        let lower = tensor(
            (0..n * n)
                .map(|k| if k / n > k % n { packed[k] } else { 0.0 })
                .collect(),
        );
        let upper = tensor(
            (0..n * n)
                .map(|k| if k / n < k % n { packed[k] } else { 0.0 })
                .collect(),
        );
        let log_scale = device
            .tensor(
                diagonal.iter().map(|d| d.abs().ln()).collect::<Vec<_>>(),
                [n],
            )
            .expect("one log-scale per diagonal entry, n values");
        Ok(InvertibleConv1x1 {
            lower: Param::from_tensor(lower),
            upper: Param::from_tensor(upper),
            log_scale: Param::from_tensor(log_scale),
            permutation: order,
            sign: diagonal.iter().map(|d| d.signum()).collect(),
        })
    }

    /// The number of channels.
    pub fn channels(&self) -> usize {
        self.sign.len()
    }

    /// `P`, `L − I`, `U` and the diagonal `D = sign ⊙ exp(log|s|)` of the factors of `W`.
    fn factors(&self) -> (Tensor<2>, Tensor<2>, Tensor<2>, Tensor<1>) {
        let n = self.channels();
        let like = self.log_scale.val();
        let mut p = vec![0.0; n * n];
        for (i, &row) in self.permutation.iter().enumerate() {
            p[row * n + i] = 1.0;
        }
        let strictly_lower: Vec<f64> = (0..n * n)
            .map(|k| f64::from(u8::from(k / n > k % n)))
            .collect();
        let strictly_upper: Vec<f64> = (0..n * n)
            .map(|k| f64::from(u8::from(k / n < k % n)))
            .collect();
        let permutation = host_tensor(p, [n, n], &like);
        let l = self.lower.val() * host_tensor(strictly_lower, [n, n], &like);
        let u = self.upper.val() * host_tensor(strictly_upper, [n, n], &like);
        let d = host_tensor(self.sign.clone(), [n], &like) * like.exp();
        (permutation, l, u, d)
    }

    /// The identity `I` of the channels' size, in the parameters' float type.
    fn eye(&self) -> Tensor<2> {
        let n = self.channels();
        host_tensor(
            (0..n * n)
                .map(|k| f64::from(u8::from(k / n == k % n)))
                .collect(),
            [n, n],
            &self.log_scale.val(),
        )
    }

    /// `W = P L (U + D)`.
    pub fn matrix(&self) -> Tensor<2> {
        let (p, l, u, d) = self.factors();
        let eye = self.eye();
        let diagonal = eye.clone() * d.unsqueeze_dim::<2>(0);
        p.matmul(l + eye).matmul(u + diagonal)
    }

    /// `W⁻¹ = (U + D)⁻¹ (I + L)⁻¹ Pᵀ` by finite Neumann series.
    pub fn inverse_matrix(&self) -> Tensor<2> {
        let (p, l, u, d) = self.factors();
        let eye = self.eye();
        let lower_inverse = nilpotent_inverse(l, eye.clone());
        // U + D = D (I + D⁻¹ U): rows of U divided by the diagonal.
        let scaled = u / d.clone().unsqueeze_dim::<2>(1);
        let upper_inverse = nilpotent_inverse(scaled, eye) / d.unsqueeze_dim::<2>(0);
        upper_inverse.matmul(lower_inverse).matmul(p.transpose())
    }

    /// `log|det W| = Σᵢ log|sᵢ|`, one element.
    fn log_abs_det(&self) -> Tensor<1> {
        self.log_scale.val().sum()
    }
}

/// `x ↦ x Mᵀ` on the channels of an image: `[b, c, h, w] → [b·h·w, c] → … → [b, c, h, w]`.
fn mix_channels(x: Tensor<4>, matrix: Tensor<2>) -> Tensor<4> {
    let [b, c, h, w] = x.dims();
    x.permute([0, 2, 3, 1])
        .reshape([b * h * w, c])
        .matmul(matrix.transpose())
        .reshape([b, h, w, c])
        .permute([0, 3, 1, 2])
}

const CONTEXT: &str = "a context for a 1×1 convolution (it has no conditioner)";

impl Flow<2> for InvertibleConv1x1 {
    fn forward(
        &self,
        x: Tensor<2>,
        context: Option<&Tensor<2>>,
    ) -> Result<Transformed<2>, GenerativeError> {
        no_context(context, CONTEXT)?;
        check_input("invertible linear map input", &x, self.channels())?;
        let batch = x.dims()[0];
        Ok(Transformed {
            value: x.matmul(self.matrix().transpose()),
            log_det: broadcast_rows(self.log_abs_det(), batch),
        })
    }

    fn inverse(
        &self,
        z: Tensor<2>,
        context: Option<&Tensor<2>>,
    ) -> Result<Transformed<2>, GenerativeError> {
        no_context(context, CONTEXT)?;
        check_input("invertible linear map input", &z, self.channels())?;
        let batch = z.dims()[0];
        Ok(Transformed {
            value: z.matmul(self.inverse_matrix().transpose()),
            log_det: broadcast_rows(self.log_abs_det().neg(), batch),
        })
    }
}

impl Flow<4> for InvertibleConv1x1 {
    fn forward(
        &self,
        x: Tensor<4>,
        context: Option<&Tensor<2>>,
    ) -> Result<Transformed<4>, GenerativeError> {
        no_context(context, CONTEXT)?;
        check_input("1×1 convolution input", &x, self.channels())?;
        let [batch, _, h, w] = x.dims();
        Ok(Transformed {
            value: mix_channels(x, self.matrix()),
            log_det: broadcast_rows(self.log_abs_det().mul_scalar((h * w) as f64), batch),
        })
    }

    fn inverse(
        &self,
        z: Tensor<4>,
        context: Option<&Tensor<2>>,
    ) -> Result<Transformed<4>, GenerativeError> {
        no_context(context, CONTEXT)?;
        check_input("1×1 convolution input", &z, self.channels())?;
        let [batch, _, h, w] = z.dims();
        Ok(Transformed {
            value: mix_channels(z, self.inverse_matrix()),
            log_det: broadcast_rows(self.log_abs_det().mul_scalar(-((h * w) as f64)), batch),
        })
    }
}
