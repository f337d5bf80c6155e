//! Finite-difference and spectral spatial operators on uniform grids.
//!
//! A [`Stencil1d`] is the `m`-th derivative (`m` = 1 or 2) of accuracy order `p` (2 or 4) on
//! `n` uniformly spaced nodes `x_i = x_0 + i h`, with a [`Boundary`] treatment. Its weights come
//! from Fornberg's algorithm (B. Fornberg, *Generation of finite difference formulas on
//! arbitrarily spaced grids*, Math. Comp. 51, 1988) for the offsets each node uses, so the
//! interior formulas are the classical central ones, e.g.
//!
//! - `u'  ≈ (u_{i+1} − u_{i−1}) / 2h` (order 2), `(−u_{i+2} + 8u_{i+1} − 8u_{i−1} + u_{i−2}) / 12h`
//!   (order 4);
//! - `u'' ≈ (u_{i+1} − 2u_i + u_{i−1}) / h²` (order 2),
//!   `(−u_{i+2} + 16u_{i+1} − 30u_i + 16u_{i−1} − u_{i−2}) / 12h²` (order 4),
//!
//! and the boundary rows are the formulas of the same order on the offsets available there.
//! Each operator is stored as sparse rows `(column, weight)`: applying it, its Jacobian sparsity
//! pattern and its dense matrix (for the burn tensor path, see [`Stencil1d::matrix`]) all come
//! from the same rows.
//!
//! In 2D ([`Laplacian2d`]) a field of `nx × ny` values is one slice, `x` the slow index (the
//! value at `(x_i, y_j)` is at `i * ny + j`, as in [`sysdyn_core::spectral`]). The Laplacians:
//!
//! - [`LaplacianKind::FivePoint`]: `Dxx + Dyy` with second-order `D`, order 2;
//! - [`LaplacianKind::NinePoint`]: `Dxx + Dyy + (h²/4) Dxx Dyy` (second-order `D`, square cells),
//!   i.e. weights `−3` (centre), `1/2` (edges), `1/4` (corners) over `h²` in the interior: the
//!   isotropic stencil of the Gray–Scott data of LEADS (Yin et al., 2021), order 2;
//! - [`LaplacianKind::FourthOrder`]: `Dxx + Dyy` with fourth-order `D`, order 4.
//!
//! Spectral derivatives are [`sysdyn_core::spectral`]'s; [`spectral_derivative_matrix`] turns
//! them into dense matrices for the tensor path.
//!
//! ```
//! use sysdyn_physics::stencil::{Accuracy, Boundary, Stencil1d};
//!
//! // u = sin(x) on 64 periodic points of [0, 2π): the fourth-order u'' is −sin(x) to ~1e-6 (h⁴/90).
//! let n = 64;
//! let h = std::f64::consts::TAU / n as f64;
//! let d2 = Stencil1d::new(2, Accuracy::Fourth, Boundary::Periodic, n, h)?;
//! let u: Vec<f64> = (0..n).map(|i| (i as f64 * h).sin()).collect();
//! let mut out = vec![0.0; n];
//! d2.apply(&u, &mut out)?;
//! assert!(out.iter().zip(&u).all(|(d, v)| (d + v).abs() < 2e-6));
//! # Ok::<(), sysdyn_physics::PhysicsError>(())
//! ```

use sysdyn_core::spectral::Spectral1d;

use crate::error::PhysicsError;

/// How a non-periodic grid ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Boundary {
    /// Periodic: node `n` is node `0` (`x_i = x_0 + i L / n`, the right end excluded).
    Periodic,
    /// The end nodes `x_0` and `x_{n−1}` carry the prescribed (Dirichlet) boundary values, stored
    /// in the array like any other node; rows near the ends use one-sided formulas of the same
    /// order on the nodes inside. A model holds the end values fixed (zero time derivative).
    Dirichlet,
    /// Zero flux (homogeneous Neumann) at the end nodes, by mirror ghost nodes
    /// `u_{−j} = u_j`, `u_{n−1+j} = u_{n−1−j}`.
    Neumann,
}

/// Accuracy order of a finite-difference formula.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accuracy {
    /// Error `O(h²)`.
    Second,
    /// Error `O(h⁴)`.
    Fourth,
}

impl Accuracy {
    /// The order `p` of the error `O(h^p)`.
    pub fn order(self) -> usize {
        match self {
            Accuracy::Second => 2,
            Accuracy::Fourth => 4,
        }
    }
}

/// Fornberg's weights of the `m`-th derivative at `z` from values at `x` (any distinct points).
pub fn fornberg_weights(z: f64, x: &[f64], m: usize) -> Vec<f64> {
    let n = x.len();
    if n == 0 {
        return Vec::new();
    }
    // c[j][k]: weight of x_j for the k-th derivative.
    let mut c = vec![vec![0.0; m + 1]; n];
    let mut c1 = 1.0;
    let mut c4 = x[0] - z;
    c[0][0] = 1.0;
    for i in 1..n {
        let mn = i.min(m);
        let mut c2 = 1.0;
        let c5 = c4;
        c4 = x[i] - z;
        for j in 0..i {
            let c3 = x[i] - x[j];
            c2 *= c3;
            if j == i - 1 {
                for k in (1..=mn).rev() {
                    c[i][k] = c1 * (k as f64 * c[i - 1][k - 1] - c5 * c[i - 1][k]) / c2;
                }
                c[i][0] = -c1 * c5 * c[i - 1][0] / c2;
            }
            for k in (1..=mn).rev() {
                c[j][k] = (c4 * c[j][k] - k as f64 * c[j][k - 1]) / c3;
            }
            c[j][0] = c4 * c[j][0] / c3;
        }
        c1 = c2;
    }
    c.into_iter().map(|row| row[m]).collect()
}

/// The `m`-th derivative (`m` = 1 or 2) of a given accuracy on `n` uniform nodes of spacing `h`.
#[derive(Debug, Clone, PartialEq)]
pub struct Stencil1d {
    derivative: usize,
    accuracy: Accuracy,
    boundary: Boundary,
    h: f64,
    /// Row `i`: `(column, weight)` with the weights already divided by `h^m`.
    rows: Vec<Vec<(usize, f64)>>,
}

impl Stencil1d {
    /// Builds the stencil. Errors: `derivative` not 1 or 2, a spacing that is not finite and
    /// positive, or fewer nodes than the formula needs ([`PhysicsError::GridTooSmall`]).
    pub fn new(
        derivative: usize,
        accuracy: Accuracy,
        boundary: Boundary,
        n: usize,
        h: f64,
    ) -> Result<Self, PhysicsError> {
        if !(derivative == 1 || derivative == 2) {
            return Err(PhysicsError::InvalidParameter {
                name: "derivative",
                value: derivative as f64,
                requirement: "finite-difference stencils are built for the first or second derivative",
            });
        }
        if !(h.is_finite() && h > 0.0) {
            return Err(PhysicsError::InvalidParameter {
                name: "h",
                value: h,
                requirement: "the grid spacing must be finite and positive",
            });
        }
        let p = accuracy.order();
        let m = derivative;
        // Half-width of the central formula, and the width of a one-sided one of order p.
        let r = (m + p - 1) / 2;
        let one_sided = m + p;
        let needed = match boundary {
            Boundary::Periodic => 2 * r + 1,
            Boundary::Neumann => r + 1,
            Boundary::Dirichlet => one_sided.max(2 * r + 1),
        };
        if n < needed {
            return Err(PhysicsError::GridTooSmall {
                what: "finite-difference stencil",
                got: n,
                needed,
            });
        }
        let scale = h.powi(m as i32).recip();
        let central: Vec<f64> = (-(r as i64)..=r as i64).map(|o| o as f64).collect();
        let central_w = fornberg_weights(0.0, &central, m);
        let mut rows = Vec::with_capacity(n);
        for i in 0..n {
            let mut row: Vec<(usize, f64)> = Vec::new();
            let mut push = |col: usize, w: f64| {
                if let Some(e) = row.iter_mut().find(|e| e.0 == col) {
                    e.1 += w * scale;
                } else {
                    row.push((col, w * scale));
                }
            };
            match boundary {
                Boundary::Periodic => {
                    for (k, &w) in central_w.iter().enumerate() {
                        let j = (i as i64 + k as i64 - r as i64).rem_euclid(n as i64) as usize;
                        push(j, w);
                    }
                }
                Boundary::Neumann => {
                    let last = (n - 1) as i64;
                    for (k, &w) in central_w.iter().enumerate() {
                        let mut j = i as i64 + k as i64 - r as i64;
                        if j < 0 {
                            j = -j;
                        }
                        if j > last {
                            j = 2 * last - j;
                        }
                        push(j as usize, w);
                    }
                }
                Boundary::Dirichlet => {
                    if i >= r && i + r < n {
                        for (k, &w) in central_w.iter().enumerate() {
                            push(i + k - r, w);
                        }
                    } else {
                        let start = if i < r { 0 } else { n - one_sided };
                        let nodes: Vec<f64> = (0..one_sided)
                            .map(|k| (start + k) as f64 - i as f64)
                            .collect();
                        for (k, w) in fornberg_weights(0.0, &nodes, m).into_iter().enumerate() {
                            push(start + k, w);
                        }
                    }
                }
            }
            row.sort_by_key(|e| e.0);
            rows.push(row);
        }
        Ok(Stencil1d {
            derivative,
            accuracy,
            boundary,
            h,
            rows,
        })
    }

    /// Number of nodes.
    pub fn n(&self) -> usize {
        self.rows.len()
    }

    /// The derivative's order `m`.
    pub fn derivative(&self) -> usize {
        self.derivative
    }

    /// The accuracy.
    pub fn accuracy(&self) -> Accuracy {
        self.accuracy
    }

    /// The boundary treatment.
    pub fn boundary(&self) -> Boundary {
        self.boundary
    }

    /// The grid spacing.
    pub fn spacing(&self) -> f64 {
        self.h
    }

    /// Row `i` as `(column, weight)` pairs (weights include `1/h^m`).
    pub fn rows(&self) -> &[Vec<(usize, f64)>] {
        &self.rows
    }

    /// `out = D u`. Errors when the lengths are not `n`.
    pub fn apply(&self, u: &[f64], out: &mut [f64]) -> Result<(), PhysicsError> {
        check_len("stencil input", self.n(), u.len())?;
        check_len("stencil output", self.n(), out.len())?;
        for (o, row) in out.iter_mut().zip(&self.rows) {
            *o = row.iter().map(|&(j, w)| w * u[j]).sum();
        }
        Ok(())
    }

    /// `out = D u` along one axis of an `nx × ny` field (`x` slow): `Axis::X` needs `n = nx`,
    /// `Axis::Y` needs `n = ny`.
    pub fn apply_axis(
        &self,
        u: &[f64],
        (nx, ny): (usize, usize),
        axis: Axis,
        out: &mut [f64],
    ) -> Result<(), PhysicsError> {
        check_len("field", nx * ny, u.len())?;
        check_len("output field", nx * ny, out.len())?;
        match axis {
            Axis::X => {
                check_len("stencil along x", nx, self.n())?;
                for i in 0..nx {
                    let row = &self.rows[i];
                    for j in 0..ny {
                        out[i * ny + j] = row.iter().map(|&(k, w)| w * u[k * ny + j]).sum();
                    }
                }
            }
            Axis::Y => {
                check_len("stencil along y", ny, self.n())?;
                for i in 0..nx {
                    let line = &u[i * ny..(i + 1) * ny];
                    for (j, row) in self.rows.iter().enumerate() {
                        out[i * ny + j] = row.iter().map(|&(k, w)| w * line[k]).sum();
                    }
                }
            }
        }
        Ok(())
    }

    /// The dense `n × n` matrix, row-major (for the tensor path: `D u` is a matmul).
    pub fn matrix(&self) -> Vec<f64> {
        let n = self.n();
        let mut m = vec![0.0; n * n];
        for (i, row) in self.rows.iter().enumerate() {
            for &(j, w) in row {
                m[i * n + j] += w;
            }
        }
        m
    }
}

/// An axis of a 2D field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Axis {
    /// The slow index `i` of `i * ny + j`.
    X,
    /// The fast index `j`.
    Y,
}

/// Which Laplacian (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LaplacianKind {
    /// `Dxx + Dyy`, second order.
    FivePoint,
    /// The isotropic `Dxx + Dyy + (h²/4) Dxx Dyy`, second order (square cells).
    NinePoint,
    /// `Dxx + Dyy` with fourth-order second derivatives.
    FourthOrder,
}

/// A finite-difference Laplacian on an `nx × ny` grid (`x` slow).
#[derive(Debug, Clone, PartialEq)]
pub struct Laplacian2d {
    kind: LaplacianKind,
    dxx: Stencil1d,
    dyy: Stencil1d,
    /// Sparse rows of the full operator, `(column, weight)` on the flattened field.
    rows: Vec<Vec<(usize, f64)>>,
}

impl Laplacian2d {
    /// Builds the Laplacian with spacings `hx`, `hy` (the nine-point one needs `hx == hy`).
    pub fn new(
        kind: LaplacianKind,
        boundary: Boundary,
        (nx, ny): (usize, usize),
        (hx, hy): (f64, f64),
    ) -> Result<Self, PhysicsError> {
        let accuracy = match kind {
            LaplacianKind::FourthOrder => Accuracy::Fourth,
            _ => Accuracy::Second,
        };
        if kind == LaplacianKind::NinePoint && (hx - hy).abs() > 1e-12 * hx.abs().max(hy.abs()) {
            return Err(PhysicsError::InvalidParameter {
                name: "hy",
                value: hy,
                requirement: "the nine-point Laplacian needs square cells (hx = hy)",
            });
        }
        let dxx = Stencil1d::new(2, accuracy, boundary, nx, hx)?;
        let dyy = Stencil1d::new(2, accuracy, boundary, ny, hy)?;
        let mut rows = Vec::with_capacity(nx * ny);
        let cross = if kind == LaplacianKind::NinePoint {
            hx * hx / 4.0
        } else {
            0.0
        };
        for i in 0..nx {
            for j in 0..ny {
                let mut row: Vec<(usize, f64)> = Vec::new();
                let mut push = |col: usize, w: f64| {
                    if let Some(e) = row.iter_mut().find(|e| e.0 == col) {
                        e.1 += w;
                    } else {
                        row.push((col, w));
                    }
                };
                for &(k, w) in &dxx.rows[i] {
                    push(k * ny + j, w);
                }
                for &(l, w) in &dyy.rows[j] {
                    push(i * ny + l, w);
                }
                if cross != 0.0 {
                    for &(k, wx) in &dxx.rows[i] {
                        for &(l, wy) in &dyy.rows[j] {
                            push(k * ny + l, cross * wx * wy);
                        }
                    }
                }
                row.sort_by_key(|e| e.0);
                rows.push(row);
            }
        }
        Ok(Laplacian2d {
            kind,
            dxx,
            dyy,
            rows,
        })
    }

    /// The grid shape `(nx, ny)`.
    pub fn shape(&self) -> (usize, usize) {
        (self.dxx.n(), self.dyy.n())
    }

    /// The kind.
    pub fn kind(&self) -> LaplacianKind {
        self.kind
    }

    /// The second-derivative stencils along x and y.
    pub fn stencils(&self) -> (&Stencil1d, &Stencil1d) {
        (&self.dxx, &self.dyy)
    }

    /// Row `c` of the operator on the flattened field: `(column, weight)`.
    pub fn rows(&self) -> &[Vec<(usize, f64)>] {
        &self.rows
    }

    /// `out = Δ u` on the flattened field.
    pub fn apply(&self, u: &[f64], out: &mut [f64]) -> Result<(), PhysicsError> {
        check_len("Laplacian input", self.rows.len(), u.len())?;
        check_len("Laplacian output", self.rows.len(), out.len())?;
        for (o, row) in out.iter_mut().zip(&self.rows) {
            *o = row.iter().map(|&(j, w)| w * u[j]).sum();
        }
        Ok(())
    }

    /// `Δ u` for a batch of flattened fields `[batch, nx·ny]` as burn tensors: two matmuls with
    /// the 1D matrices (and their product for the nine-point stencil), differentiable.
    pub fn apply_tensor(&self, u: burn::tensor::Tensor<2>) -> burn::tensor::Tensor<2> {
        let (nx, ny) = self.shape();
        let mx = tensor_matrix(&self.dxx, &u);
        let my = tensor_matrix(&self.dyy, &u);
        let uxx = apply_x(u.clone(), &mx, nx, ny);
        let uyy = apply_y(u, &my, nx, ny);
        if self.kind == LaplacianKind::NinePoint {
            let h = self.dxx.spacing();
            let cross = apply_y(uxx.clone(), &my, nx, ny).mul_scalar(h * h / 4.0);
            uxx + uyy + cross
        } else {
            uxx + uyy
        }
    }
}

/// The dense matrix of a stencil as a tensor in `like`'s device and float type.
fn tensor_matrix(s: &Stencil1d, like: &burn::tensor::Tensor<2>) -> burn::tensor::Tensor<2> {
    crate::model::host_tensor(s.matrix(), [s.n(), s.n()], like)
}

/// `D` (an `nx × nx` tensor) along x of fields `[batch, nx·ny]`.
pub(crate) fn apply_x(
    u: burn::tensor::Tensor<2>,
    d: &burn::tensor::Tensor<2>,
    nx: usize,
    ny: usize,
) -> burn::tensor::Tensor<2> {
    let b = u.dims()[0];
    // [b, nx, ny] → D·(nx-axis): out[b, i, j] = Σ_k D[i, k] u[b, k, j].
    let u3: burn::tensor::Tensor<3> = u.reshape([b, nx, ny]);
    let d3: burn::tensor::Tensor<3> = d.clone().unsqueeze_dim(0);
    d3.matmul(u3).reshape([b, nx * ny])
}

/// `D` (an `ny × ny` tensor) along y of fields `[batch, nx·ny]`.
pub(crate) fn apply_y(
    u: burn::tensor::Tensor<2>,
    d: &burn::tensor::Tensor<2>,
    nx: usize,
    ny: usize,
) -> burn::tensor::Tensor<2> {
    let b = u.dims()[0];
    // out[b·nx + i, j] = Σ_l u[b·nx + i, l] D[j, l]: a matmul with Dᵀ.
    u.reshape([b * nx, ny])
        .matmul(d.clone().transpose())
        .reshape([b, nx * ny])
}

/// The dense `n × n` matrix of the `order`-th spectral derivative on a periodic grid of `n`
/// points over a period `length` (row-major), built by applying [`Spectral1d::derivative`]
/// `order` times to the unit vectors (so it matches the host operator, Nyquist mode zeroed).
/// For the tensor path of the pseudo-spectral models: `∂ u` is one matmul.
pub fn spectral_derivative_matrix(
    n: usize,
    length: f64,
    order: usize,
) -> Result<Vec<f64>, PhysicsError> {
    let mut ops = Spectral1d::new(n, length)?;
    let mut tmp = vec![0.0; n];
    operator_matrix(n, |u, out| {
        out.copy_from_slice(u);
        for _ in 0..order {
            ops.derivative(out, &mut tmp)?;
            out.copy_from_slice(&tmp);
        }
        Ok(())
    })
}

/// The dense `n × n` matrix (row-major) of a linear operator on `n` values, column `j` being
/// the operator applied to the `j`-th unit vector: how the tensor path reuses the host
/// operators (spectral Laplacians, dealiasing filters, Poisson solves) exactly.
pub fn operator_matrix(
    n: usize,
    mut op: impl FnMut(&[f64], &mut [f64]) -> Result<(), PhysicsError>,
) -> Result<Vec<f64>, PhysicsError> {
    let mut m = vec![0.0; n * n];
    let mut e = vec![0.0; n];
    let mut col = vec![0.0; n];
    for j in 0..n {
        e[j] = 1.0;
        op(&e, &mut col)?;
        e[j] = 0.0;
        for i in 0..n {
            m[i * n + j] = col[i];
        }
    }
    Ok(m)
}

pub(crate) fn check_len(
    what: &'static str,
    expected: usize,
    got: usize,
) -> Result<(), PhysicsError> {
    if expected == got {
        Ok(())
    } else {
        Err(PhysicsError::SizeMismatch {
            what,
            expected,
            got,
        })
    }
}
