//! Convolution filters with moment constraints (PDE-Net 2.0, Long, Lu & Dong 2019, §2.1).
//!
//! A `k × k` filter `q` (odd `k`, offsets `x_a = a − (k−1)/2` along x, the first axis, and
//! `y_b` likewise along y) applied by cross-correlation, `(q ⊛ u)(x, y) = Σ_{a,b} q[a,b]
//! u(x + x_a h_x, y + y_b h_y)`, has by Taylor's theorem
//!
//! `q ⊛ u = Σ_{i,j} M_{ij} h_x^i h_y^j ∂^{i+j}u/∂x^i∂y^j`, with the moments
//! `M_{ij} = Σ_{a,b} q[a,b] x_a^i y_b^j / (i! j!)`, i.e. `M = V q Vᵀ`, `V_{ia} = x_a^i / i!`.
//!
//! `V` is a Vandermonde matrix on distinct nodes, so the map is invertible:
//! `q = V⁻¹ M V⁻ᵀ`. A filter approximates `∂^{α+β}/∂x^α∂y^β` with error `O(h^p)` when, after
//! dividing it by `h_x^α h_y^β`, `M_{αβ} = 1` and `M_{ij} = 0` for every other `i + j < α + β + p`:
//! those moments are frozen and the others are free (learned). With every free moment zero
//! the filter is the tensor product of the `k`-point central finite-difference stencils of
//! orders `α` and `β`, the classical stencil.

use burn::module::{Module, Param};
use burn::tensor::{Tensor, TensorData};
use sysdyn_core::device::SysDevice;

use crate::PhysicsError;

/// The orders `(α, β)` of a partial derivative `∂^{α+β}/∂x^α∂y^β`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Derivative {
    /// Order along x (the first grid axis).
    pub x: usize,
    /// Order along y (the second grid axis).
    pub y: usize,
}

impl Derivative {
    /// `∂^{x+y}/∂x^x∂y^y`.
    pub const fn new(x: usize, y: usize) -> Self {
        Derivative { x, y }
    }

    /// The total order `α + β`.
    pub const fn order(self) -> usize {
        self.x + self.y
    }

    /// Every derivative of total order `1 ..= max_order`, by order, then by decreasing x order
    /// (`u_x, u_y, u_xx, u_xy, u_yy, …`).
    pub fn up_to(max_order: usize) -> Vec<Derivative> {
        (1..=max_order)
            .flat_map(|n| (0..=n).rev().map(move |x| Derivative::new(x, n - x)))
            .collect()
    }

    /// The derivative's name on `variable`: `u_xxy` for `(2, 1)` on `u`, `u` for `(0, 0)`.
    pub fn name(self, variable: &str) -> String {
        if self.order() == 0 {
            return variable.to_string();
        }
        format!("{variable}_{}{}", "x".repeat(self.x), "y".repeat(self.y))
    }
}

fn factorial(n: usize) -> f64 {
    (1..=n).map(|i| i as f64).product()
}

fn check_size(k: usize) -> Result<(), PhysicsError> {
    if k.is_multiple_of(2) {
        return Err(PhysicsError::InvalidParameter {
            name: "filter size",
            value: k as f64,
            requirement: "must be odd (a centred stencil: 1, 3, 5, …)",
        });
    }
    Ok(())
}

/// `V_{ia} = x_a^i / i!` on the offsets `x_a = a − (k−1)/2`, row-major `k × k`.
pub fn vandermonde(k: usize) -> Result<Vec<f64>, PhysicsError> {
    check_size(k)?;
    let half = (k / 2) as f64;
    let mut v = vec![0.0; k * k];
    for i in 0..k {
        for a in 0..k {
            v[i * k + a] = (a as f64 - half).powi(i as i32) / factorial(i);
        }
    }
    Ok(v)
}

/// `V⁻¹` (row-major): its column `α` holds the weights `w` with `Σ_a w_a x_a^i / i! = δ_{iα}`
/// for `i < k`, the `k`-point central stencil of the `α`-th derivative (unit spacing).
/// Gauss–Jordan elimination with partial pivoting in `f64`.
pub fn inverse_vandermonde(k: usize) -> Result<Vec<f64>, PhysicsError> {
    let mut a = vandermonde(k)?;
    let mut inv = vec![0.0; k * k];
    for i in 0..k {
        inv[i * k + i] = 1.0;
    }
    for col in 0..k {
        let pivot = (col..k)
            .max_by(|&r, &s| a[r * k + col].abs().total_cmp(&a[s * k + col].abs()))
            .unwrap_or(col);
        if a[pivot * k + col] == 0.0 {
            return Err(PhysicsError::Linalg(format!(
                "the {k} × {k} moment matrix is singular"
            )));
        }
        for j in 0..k {
            a.swap(col * k + j, pivot * k + j);
            inv.swap(col * k + j, pivot * k + j);
        }
        let p = a[col * k + col];
        for j in 0..k {
            a[col * k + j] /= p;
            inv[col * k + j] /= p;
        }
        for r in (0..k).filter(|&r| r != col) {
            let f = a[r * k + col];
            if f != 0.0 {
                for j in 0..k {
                    a[r * k + j] -= f * a[col * k + j];
                    inv[r * k + j] -= f * inv[col * k + j];
                }
            }
        }
    }
    Ok(inv)
}

/// `L · X · Rᵀ` for row-major `k × k` matrices.
fn sandwich(l: &[f64], x: &[f64], r: &[f64], k: usize) -> Vec<f64> {
    let mut lx = vec![0.0; k * k];
    for i in 0..k {
        for j in 0..k {
            lx[i * k + j] = (0..k).map(|m| l[i * k + m] * x[m * k + j]).sum();
        }
    }
    let mut out = vec![0.0; k * k];
    for i in 0..k {
        for j in 0..k {
            out[i * k + j] = (0..k).map(|m| lx[i * k + m] * r[j * k + m]).sum();
        }
    }
    out
}

fn check_square(what: &'static str, values: &[f64], k: usize) -> Result<(), PhysicsError> {
    if values.len() != k * k {
        return Err(PhysicsError::SizeMismatch {
            what,
            expected: k * k,
            got: values.len(),
        });
    }
    Ok(())
}

/// The moment matrix `M = V q Vᵀ` of a `k × k` filter `q` (row-major, x along rows).
pub fn moments_of_filter(filter: &[f64], k: usize) -> Result<Vec<f64>, PhysicsError> {
    let v = vandermonde(k)?;
    check_square("filter entries (k × k)", filter, k)?;
    Ok(sandwich(&v, filter, &v, k))
}

/// The filter `q = V⁻¹ M V⁻ᵀ` with moment matrix `M` (the exact inverse of
/// [`moments_of_filter`]).
pub fn filter_from_moments(moments: &[f64], k: usize) -> Result<Vec<f64>, PhysicsError> {
    let inv = inverse_vandermonde(k)?;
    check_square("moment matrix entries (k × k)", moments, k)?;
    Ok(sandwich(&inv, moments, &inv, k))
}

/// Which moments of a `size × size` filter are frozen so that it approximates `derivative` with
/// error `O(h^accuracy)`: `M_{αβ} = 1` and `M_{ij} = 0` for the other `i + j < α + β + accuracy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MomentConstraint {
    derivative: Derivative,
    accuracy: usize,
    size: usize,
}

impl MomentConstraint {
    /// The constraint; refuses an even size, an accuracy of 0, and a filter too small to hold
    /// the frozen moments (`α + β + accuracy > size`).
    pub fn new(derivative: Derivative, accuracy: usize, size: usize) -> Result<Self, PhysicsError> {
        check_size(size)?;
        if accuracy == 0 {
            return Err(PhysicsError::InvalidParameter {
                name: "accuracy order",
                value: 0.0,
                requirement: "must be at least 1 (the error O(h^accuracy))",
            });
        }
        let needed = derivative.order() + accuracy;
        if needed > size {
            return Err(PhysicsError::GridTooSmall {
                what: "moment-constrained filter (size ≥ derivative order + accuracy order)",
                got: size,
                needed,
            });
        }
        Ok(MomentConstraint {
            derivative,
            accuracy,
            size,
        })
    }

    /// The derivative approximated.
    pub fn derivative(&self) -> Derivative {
        self.derivative
    }

    /// The accuracy order `p` (error `O(h^p)`).
    pub fn accuracy(&self) -> usize {
        self.accuracy
    }

    /// The filter size `k`.
    pub fn size(&self) -> usize {
        self.size
    }

    /// Whether moment `(i, j)` is frozen.
    pub fn is_frozen(&self, i: usize, j: usize) -> bool {
        i + j < self.derivative.order() + self.accuracy
    }

    /// The frozen moments' values on the `k × k` grid (1 at `(α, β)`, 0 elsewhere).
    pub fn frozen_values(&self) -> Vec<f64> {
        let k = self.size;
        let mut m = vec![0.0; k * k];
        m[self.derivative.x * k + self.derivative.y] = 1.0;
        m
    }

    /// 1 where a moment is free, 0 where it is frozen (row-major `k × k`).
    pub fn free_mask(&self) -> Vec<f64> {
        let k = self.size;
        (0..k * k)
            .map(|n| {
                if self.is_frozen(n / k, n % k) {
                    0.0
                } else {
                    1.0
                }
            })
            .collect()
    }

    /// The number of free moments.
    pub fn free_count(&self) -> usize {
        self.free_mask().iter().filter(|&&f| f > 0.0).count()
    }

    /// The moment matrix with the given free moments (row-major `k × k`; frozen entries of
    /// `free` are ignored).
    pub fn moments(&self, free: &[f64]) -> Result<Vec<f64>, PhysicsError> {
        check_square("free moments (k × k)", free, self.size)?;
        Ok(self
            .frozen_values()
            .iter()
            .zip(self.free_mask())
            .zip(free)
            .map(|((f, mask), m)| f + mask * m)
            .collect())
    }

    /// The filter (unit spacing) with every free moment zero: the tensor product of the
    /// `k`-point central stencils of `∂^α` and `∂^β`.
    pub fn stencil(&self) -> Result<Vec<f64>, PhysicsError> {
        filter_from_moments(&self.frozen_values(), self.size)
    }
}

/// A learnable filter under a [`MomentConstraint`]: the free moments are the parameters, the
/// filter is `q = V⁻¹ M V⁻ᵀ / (h_x^α h_y^β)`.
#[derive(Module, Debug)]
pub struct MomentFilter {
    /// `[k, k]`; only the free entries matter (the frozen ones are masked out).
    free: Param<Tensor<2>>,
    #[module(skip)]
    constraint: MomentConstraint,
    #[module(skip)]
    inverse_vandermonde: Vec<f64>,
}

fn host_tensor<const D: usize>(values: Vec<f64>, shape: [usize; D], like: &Tensor<2>) -> Tensor<D> {
    let dtype = like.dtype();
    Tensor::from_data(
        TensorData::new(values, shape).convert_dtype(dtype),
        (&like.device(), dtype),
    )
}

impl MomentFilter {
    /// A filter with the free moments `free` (row-major `k × k`, frozen entries ignored) on
    /// `device`, in its precision.
    pub fn new(
        constraint: MomentConstraint,
        free: Vec<f64>,
        device: &SysDevice,
    ) -> Result<Self, PhysicsError> {
        let k = constraint.size();
        check_square("free moments (k × k)", &free, k)?;
        if let Some(index) = free.iter().position(|v| !v.is_finite()) {
            return Err(PhysicsError::NonFinite {
                what: "free moments",
                index,
            });
        }
        let masked: Vec<f64> = free
            .iter()
            .zip(constraint.free_mask())
            .map(|(v, m)| v * m)
            .collect();
        let free = device
            .tensor(masked, [k, k])
            .map_err(|e| PhysicsError::SizeMismatch {
                what: "free moments (k × k)",
                expected: k * k,
                got: e.got.iter().product(),
            })?;
        Ok(MomentFilter {
            free: Param::from_tensor(free),
            constraint,
            inverse_vandermonde: inverse_vandermonde(k)?,
        })
    }

    /// The classical stencil: every free moment zero (training starts from it).
    pub fn stencil(constraint: MomentConstraint, device: &SysDevice) -> Result<Self, PhysicsError> {
        let k = constraint.size();
        Self::new(constraint, vec![0.0; k * k], device)
    }

    /// The constraint.
    pub fn constraint(&self) -> MomentConstraint {
        self.constraint
    }

    /// The free moments with the frozen ones zeroed, `[k, k]` (for the ℓ1 penalty).
    pub fn free_moments(&self) -> Tensor<2> {
        let k = self.constraint.size();
        let free = self.free.val();
        let mask = host_tensor(self.constraint.free_mask(), [k, k], &free);
        free * mask
    }

    /// The moment matrix `M` (frozen values plus free moments), `[k, k]`.
    pub fn moments(&self) -> Tensor<2> {
        let k = self.constraint.size();
        let free = self.free_moments();
        free.clone() + host_tensor(self.constraint.frozen_values(), [k, k], &free)
    }

    /// The filter for grid spacings `h_x, h_y`: `V⁻¹ M V⁻ᵀ / (h_x^α h_y^β)`, `[k, k]`.
    pub fn kernel(&self, hx: f64, hy: f64) -> Tensor<2> {
        let k = self.constraint.size();
        let m = self.moments();
        let inv = host_tensor::<2>(self.inverse_vandermonde.clone(), [k, k], &m);
        let d = self.constraint.derivative();
        let scale = hx.powi(d.x as i32) * hy.powi(d.y as i32);
        inv.clone()
            .matmul(m)
            .matmul(inv.transpose())
            .div_scalar(scale)
    }
}
