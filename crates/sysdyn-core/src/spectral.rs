//! Periodic spectral operators on `f64` host arrays of any size (feature `spectral`, with
//! rustfft).
//!
//! Pseudo-spectral PDE solvers (Navier–Stokes in vorticity form, reaction–diffusion,
//! Kuramoto–Sivashinsky) apply derivatives in Fourier space: on a periodic grid of `n` points a
//! derivative is a multiplication of each Fourier mode by `i k`, exact for every trigonometric
//! polynomial the grid resolves. burn's FFT handles powers of two only; rustfft plans any length
//! (mixed radix, Rader and Bluestein for primes), so grids like 48 × 36 or 30 work as well.
//!
//! [`Spectral1d`] and [`Spectral2d`] plan their FFTs once, hold the wavenumbers and reuse their
//! scratch buffers, so applying an operator allocates nothing. They give:
//!
//! - first derivatives (`∂x`, `∂y`), with the Nyquist mode of an even grid set to zero (its
//!   derivative is not representable by a real field on the grid);
//! - the Laplacian, and its inverse on zero-mean fields (a Poisson solve: the mean of the input
//!   is dropped, the result has zero mean);
//! - Orszag's 2/3 dealiasing filter (modes with `3 |m| ≥ n` removed in each direction), so a
//!   quadratic product of filtered fields is free of aliasing;
//! - the forward and inverse transforms themselves, for solvers that stay in Fourier space.
//!
//! Layout: a 2D field of `nx × ny` points is one slice, `x` the slow index: the value at
//! `(x_i, y_j) = (i Lx / nx, j Ly / ny)` is at `i * ny + j` (NumPy's `indexing="ij"`).
//!
//! ```
//! use sysdyn_core::spectral::Spectral2d;
//! use std::f64::consts::TAU;
//!
//! // u = sin(x) cos(2y) on a 48 × 36 grid of [0, 2π)²: Δu = -5u.
//! let (nx, ny) = (48, 36);
//! let mut ops = Spectral2d::new(nx, ny, TAU, TAU)?;
//! let u: Vec<f64> = (0..nx * ny)
//!     .map(|k| {
//!         let (x, y) = (TAU * (k / ny) as f64 / nx as f64, TAU * (k % ny) as f64 / ny as f64);
//!         x.sin() * (2.0 * y).cos()
//!     })
//!     .collect();
//! let mut lap = vec![0.0; nx * ny];
//! ops.laplacian(&u, &mut lap)?;
//! assert!(lap.iter().zip(&u).all(|(l, v)| (l + 5.0 * v).abs() < 1e-12));
//! // The Poisson solve undoes it (u has zero mean).
//! let mut back = vec![0.0; nx * ny];
//! ops.inverse_laplacian(&lap, &mut back)?;
//! assert!(back.iter().zip(&u).all(|(b, v)| (b - v).abs() < 1e-12));
//! # Ok::<(), sysdyn_core::spectral::SpectralError>(())
//! ```

use std::fmt;
use std::sync::Arc;

use rustfft::{Fft, FftPlanner};
use thiserror::Error;

/// A complex `f64`, the coefficient type of the transforms.
pub use rustfft::num_complex::Complex64;

/// Why a spectral operator was refused.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum SpectralError {
    /// A grid with no points, or a domain length that is not a finite positive number.
    #[error(
        "invalid periodic grid along {axis}: {points} points on a domain of length {length}; \
         give at least one point and a finite positive length"
    )]
    InvalidGrid {
        /// The axis, `"x"` or `"y"`.
        axis: &'static str,
        /// Number of points given.
        points: usize,
        /// Domain length given.
        length: f64,
    },
    /// An input or output array has the wrong length.
    #[error(
        "{context} has length {got}, but the grid has {expected} points{}",
        if let Some((nx, ny)) = grid { format!(" ({nx} × {ny}, x the slow index)") } else { String::new() }
    )]
    Length {
        /// Which array, e.g. `"input"` or `"output"`.
        context: &'static str,
        /// The number of points of the grid.
        expected: usize,
        /// The given length.
        got: usize,
        /// The 2D grid, if any.
        grid: Option<(usize, usize)>,
    },
}

/// One periodic direction: its planned transforms and wavenumbers.
#[derive(Clone)]
struct Axis {
    n: usize,
    length: f64,
    forward: Arc<dyn Fft<f64>>,
    inverse: Arc<dyn Fft<f64>>,
    /// Wavenumber `2π m / L` of each mode (the Nyquist mode of an even grid counted positive).
    k: Vec<f64>,
    /// The same with the Nyquist mode set to zero, for odd derivatives.
    k_odd: Vec<f64>,
    /// `|m|` of each mode.
    m_abs: Vec<usize>,
}

impl Axis {
    fn new(
        planner: &mut FftPlanner<f64>,
        axis: &'static str,
        n: usize,
        length: f64,
    ) -> Result<Self, SpectralError> {
        if n == 0 || !length.is_finite() || length <= 0.0 {
            return Err(SpectralError::InvalidGrid {
                axis,
                points: n,
                length,
            });
        }
        let scale = std::f64::consts::TAU / length;
        let m_signed = |m: usize| -> i64 {
            if 2 * m <= n {
                m as i64
            } else {
                m as i64 - n as i64
            }
        };
        let k: Vec<f64> = (0..n).map(|m| scale * m_signed(m) as f64).collect();
        let k_odd = (0..n)
            .map(|m| if 2 * m == n { 0.0 } else { k[m] })
            .collect();
        let m_abs = (0..n)
            .map(|m| m_signed(m).unsigned_abs() as usize)
            .collect();
        Ok(Axis {
            n,
            length,
            forward: planner.plan_fft_forward(n),
            inverse: planner.plan_fft_inverse(n),
            k,
            k_odd,
            m_abs,
        })
    }

    fn scratch_len(&self) -> usize {
        self.forward
            .get_inplace_scratch_len()
            .max(self.inverse.get_inplace_scratch_len())
    }

    /// Whether mode `m` survives the 2/3 rule.
    fn kept(&self, m: usize) -> bool {
        3 * self.m_abs[m] < self.n
    }
}

impl fmt::Debug for Axis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Axis")
            .field("n", &self.n)
            .field("length", &self.length)
            .finish_non_exhaustive()
    }
}

fn check_len(
    context: &'static str,
    expected: usize,
    got: usize,
    grid: Option<(usize, usize)>,
) -> Result<(), SpectralError> {
    if expected == got {
        Ok(())
    } else {
        Err(SpectralError::Length {
            context,
            expected,
            got,
            grid,
        })
    }
}

/// Periodic spectral operators on a 1D grid of `n` points over `[0, L)`.
#[derive(Debug, Clone)]
pub struct Spectral1d {
    axis: Axis,
    buf: Vec<Complex64>,
    scratch: Vec<Complex64>,
}

impl Spectral1d {
    /// Plans the transforms for `n` points (any `n ≥ 1`) on a period of `length`.
    pub fn new(n: usize, length: f64) -> Result<Self, SpectralError> {
        let axis = Axis::new(&mut FftPlanner::new(), "x", n, length)?;
        let scratch = vec![Complex64::default(); axis.scratch_len()];
        Ok(Spectral1d {
            axis,
            buf: vec![Complex64::default(); n],
            scratch,
        })
    }

    /// Number of grid points.
    pub fn n(&self) -> usize {
        self.axis.n
    }

    /// Length of the period.
    pub fn length(&self) -> f64 {
        self.axis.length
    }

    /// Wavenumber `2π m / L` of each Fourier coefficient, in the order the transforms use
    /// (`m = 0, 1, …, then negative`; the Nyquist mode of an even grid counted positive).
    pub fn wavenumbers(&self) -> &[f64] {
        &self.axis.k
    }

    /// The Fourier coefficients `û_m = Σ_i u_i e^{-2πi m i / n}` (unnormalised) of `input`.
    pub fn forward(&mut self, input: &[f64], out: &mut [Complex64]) -> Result<(), SpectralError> {
        let n = self.n();
        check_len("input", n, input.len(), None)?;
        check_len("output", n, out.len(), None)?;
        for (o, v) in out.iter_mut().zip(input) {
            *o = Complex64::new(*v, 0.0);
        }
        self.axis
            .forward
            .process_with_scratch(out, &mut self.scratch);
        Ok(())
    }

    /// The real part of the inverse of [`forward`](Self::forward) (normalised by `1/n`).
    pub fn inverse(&mut self, input: &[Complex64], out: &mut [f64]) -> Result<(), SpectralError> {
        let n = self.n();
        check_len("input", n, input.len(), None)?;
        check_len("output", n, out.len(), None)?;
        self.buf.copy_from_slice(input);
        self.axis
            .inverse
            .process_with_scratch(&mut self.buf, &mut self.scratch);
        let scale = 1.0 / n as f64;
        for (o, c) in out.iter_mut().zip(&self.buf) {
            *o = c.re * scale;
        }
        Ok(())
    }

    /// Multiplies each Fourier mode `m` of `input` by `multiplier(m)`, into `out`.
    fn apply(
        &mut self,
        input: &[f64],
        out: &mut [f64],
        multiplier: impl Fn(&Axis, usize) -> Complex64,
    ) -> Result<(), SpectralError> {
        let n = self.n();
        check_len("input", n, input.len(), None)?;
        check_len("output", n, out.len(), None)?;
        for (b, v) in self.buf.iter_mut().zip(input) {
            *b = Complex64::new(*v, 0.0);
        }
        self.axis
            .forward
            .process_with_scratch(&mut self.buf, &mut self.scratch);
        let scale = 1.0 / n as f64;
        for (m, b) in self.buf.iter_mut().enumerate() {
            *b *= multiplier(&self.axis, m) * scale;
        }
        self.axis
            .inverse
            .process_with_scratch(&mut self.buf, &mut self.scratch);
        for (o, c) in out.iter_mut().zip(&self.buf) {
            *o = c.re;
        }
        Ok(())
    }

    /// `du/dx` (the Nyquist mode of an even grid is dropped).
    pub fn derivative(&mut self, input: &[f64], out: &mut [f64]) -> Result<(), SpectralError> {
        self.apply(input, out, |a, m| Complex64::new(0.0, a.k_odd[m]))
    }

    /// `d²u/dx²`, the 1D Laplacian.
    pub fn laplacian(&mut self, input: &[f64], out: &mut [f64]) -> Result<(), SpectralError> {
        self.apply(input, out, |a, m| Complex64::new(-a.k[m] * a.k[m], 0.0))
    }

    /// The zero-mean solution `v` of `d²v/dx² = u − mean(u)`.
    pub fn inverse_laplacian(
        &mut self,
        input: &[f64],
        out: &mut [f64],
    ) -> Result<(), SpectralError> {
        self.apply(input, out, |a, m| {
            if m == 0 {
                Complex64::default()
            } else {
                Complex64::new(-1.0 / (a.k[m] * a.k[m]), 0.0)
            }
        })
    }

    /// The 2/3 dealiasing filter: removes the modes with `3 |m| ≥ n`.
    pub fn dealias(&mut self, input: &[f64], out: &mut [f64]) -> Result<(), SpectralError> {
        self.apply(input, out, |a, m| {
            Complex64::new(if a.kept(m) { 1.0 } else { 0.0 }, 0.0)
        })
    }
}

/// Periodic spectral operators on a 2D grid of `nx × ny` points over `[0, Lx) × [0, Ly)`, `x`
/// the slow index (the value at `(x_i, y_j)` is at `i * ny + j`).
#[derive(Debug, Clone)]
pub struct Spectral2d {
    x: Axis,
    y: Axis,
    /// Field in Fourier space, `i * ny + j`.
    buf: Vec<Complex64>,
    /// Its transpose, for the transforms along x.
    transposed: Vec<Complex64>,
    scratch: Vec<Complex64>,
}

impl Spectral2d {
    /// Plans the transforms for `nx × ny` points (any sizes ≥ 1) on periods `lx × ly`.
    pub fn new(nx: usize, ny: usize, lx: f64, ly: f64) -> Result<Self, SpectralError> {
        let mut planner = FftPlanner::new();
        let x = Axis::new(&mut planner, "x", nx, lx)?;
        let y = Axis::new(&mut planner, "y", ny, ly)?;
        let scratch = vec![Complex64::default(); x.scratch_len().max(y.scratch_len())];
        Ok(Spectral2d {
            x,
            y,
            buf: vec![Complex64::default(); nx * ny],
            transposed: vec![Complex64::default(); nx * ny],
            scratch,
        })
    }

    /// Grid points `(nx, ny)`.
    pub fn shape(&self) -> (usize, usize) {
        (self.x.n, self.y.n)
    }

    /// Periods `(Lx, Ly)`.
    pub fn lengths(&self) -> (f64, f64) {
        (self.x.length, self.y.length)
    }

    /// Wavenumbers along x, in transform order (see [`Spectral1d::wavenumbers`]).
    pub fn wavenumbers_x(&self) -> &[f64] {
        &self.x.k
    }

    /// Wavenumbers along y, in transform order.
    pub fn wavenumbers_y(&self) -> &[f64] {
        &self.y.k
    }

    fn len(&self) -> usize {
        self.x.n * self.y.n
    }

    fn check(&self, context: &'static str, got: usize) -> Result<(), SpectralError> {
        check_len(context, self.len(), got, Some(self.shape()))
    }

    /// Transforms `self.buf` in place, both directions (unnormalised).
    fn transform(&mut self, inverse: bool) {
        let (nx, ny) = self.shape();
        let (fy, fx) = if inverse {
            (&self.y.inverse, &self.x.inverse)
        } else {
            (&self.y.forward, &self.x.forward)
        };
        // Along y: rows are contiguous, one FFT per row.
        fy.process_with_scratch(&mut self.buf, &mut self.scratch);
        // Along x: through the transpose.
        for i in 0..nx {
            for j in 0..ny {
                self.transposed[j * nx + i] = self.buf[i * ny + j];
            }
        }
        fx.process_with_scratch(&mut self.transposed, &mut self.scratch);
        for j in 0..ny {
            for i in 0..nx {
                self.buf[i * ny + j] = self.transposed[j * nx + i];
            }
        }
    }

    /// The Fourier coefficients `û[mx * ny + my]` (unnormalised) of `input`.
    pub fn forward(&mut self, input: &[f64], out: &mut [Complex64]) -> Result<(), SpectralError> {
        self.check("input", input.len())?;
        self.check("output", out.len())?;
        for (b, v) in self.buf.iter_mut().zip(input) {
            *b = Complex64::new(*v, 0.0);
        }
        self.transform(false);
        out.copy_from_slice(&self.buf);
        Ok(())
    }

    /// The real part of the inverse of [`forward`](Self::forward) (normalised by `1/(nx ny)`).
    pub fn inverse(&mut self, input: &[Complex64], out: &mut [f64]) -> Result<(), SpectralError> {
        self.check("input", input.len())?;
        self.check("output", out.len())?;
        self.buf.copy_from_slice(input);
        self.transform(true);
        let scale = 1.0 / self.len() as f64;
        for (o, c) in out.iter_mut().zip(&self.buf) {
            *o = c.re * scale;
        }
        Ok(())
    }

    /// Multiplies each Fourier mode `(mx, my)` by `multiplier`, into `out`.
    fn apply(
        &mut self,
        input: &[f64],
        out: &mut [f64],
        multiplier: impl Fn(&Axis, usize, &Axis, usize) -> Complex64,
    ) -> Result<(), SpectralError> {
        self.check("input", input.len())?;
        self.check("output", out.len())?;
        for (b, v) in self.buf.iter_mut().zip(input) {
            *b = Complex64::new(*v, 0.0);
        }
        self.transform(false);
        let ny = self.y.n;
        let scale = 1.0 / self.len() as f64;
        for (k, b) in self.buf.iter_mut().enumerate() {
            *b *= multiplier(&self.x, k / ny, &self.y, k % ny) * scale;
        }
        self.transform(true);
        for (o, c) in out.iter_mut().zip(&self.buf) {
            *o = c.re;
        }
        Ok(())
    }

    /// `∂u/∂x` (the Nyquist mode along x of an even `nx` is dropped).
    pub fn dx(&mut self, input: &[f64], out: &mut [f64]) -> Result<(), SpectralError> {
        self.apply(input, out, |x, mx, _, _| Complex64::new(0.0, x.k_odd[mx]))
    }

    /// `∂u/∂y` (the Nyquist mode along y of an even `ny` is dropped).
    pub fn dy(&mut self, input: &[f64], out: &mut [f64]) -> Result<(), SpectralError> {
        self.apply(input, out, |_, _, y, my| Complex64::new(0.0, y.k_odd[my]))
    }

    /// `Δu = ∂²u/∂x² + ∂²u/∂y²`.
    pub fn laplacian(&mut self, input: &[f64], out: &mut [f64]) -> Result<(), SpectralError> {
        self.apply(input, out, |x, mx, y, my| {
            Complex64::new(-(x.k[mx] * x.k[mx] + y.k[my] * y.k[my]), 0.0)
        })
    }

    /// The zero-mean solution `v` of the Poisson equation `Δv = u − mean(u)` (e.g. the stream
    /// function of a vorticity field, up to sign).
    pub fn inverse_laplacian(
        &mut self,
        input: &[f64],
        out: &mut [f64],
    ) -> Result<(), SpectralError> {
        self.apply(input, out, |x, mx, y, my| {
            if mx == 0 && my == 0 {
                Complex64::default()
            } else {
                Complex64::new(-1.0 / (x.k[mx] * x.k[mx] + y.k[my] * y.k[my]), 0.0)
            }
        })
    }

    /// The 2/3 dealiasing filter: removes the modes with `3 |mx| ≥ nx` or `3 |my| ≥ ny`.
    pub fn dealias(&mut self, input: &[f64], out: &mut [f64]) -> Result<(), SpectralError> {
        self.apply(input, out, |x, mx, y, my| {
            Complex64::new(if x.kept(mx) && y.kept(my) { 1.0 } else { 0.0 }, 0.0)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::CounterRng;
    use std::f64::consts::TAU;

    fn max_err(a: &[f64], b: &[f64]) -> f64 {
        a.iter()
            .zip(b)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0, f64::max)
    }

    fn grid_1d(n: usize, l: f64, f: impl Fn(f64) -> f64) -> Vec<f64> {
        (0..n).map(|i| f(l * i as f64 / n as f64)).collect()
    }

    fn grid_2d(nx: usize, ny: usize, lx: f64, ly: f64, f: impl Fn(f64, f64) -> f64) -> Vec<f64> {
        (0..nx * ny)
            .map(|k| {
                let (i, j) = (k / ny, k % ny);
                f(lx * i as f64 / nx as f64, ly * j as f64 / ny as f64)
            })
            .collect()
    }

    #[test]
    fn one_dimensional_operators_are_exact_on_trigonometric_polynomials() {
        for (n, l) in [(30, TAU), (64, TAU), (45, 3.0), (30, 0.7)] {
            let w = TAU / l;
            let u = |x: f64| (3.0 * w * x).sin() + 0.5 * (5.0 * w * x).cos();
            let du = |x: f64| 3.0 * w * (3.0 * w * x).cos() - 2.5 * w * (5.0 * w * x).sin();
            let d2u =
                |x: f64| -9.0 * w * w * (3.0 * w * x).sin() - 12.5 * w * w * (5.0 * w * x).cos();
            let mut ops = Spectral1d::new(n, l).expect("valid grid");
            let input = grid_1d(n, l, u);
            let mut out = vec![0.0; n];
            let scale = (25.0 * w * w).max(1.0);
            ops.derivative(&input, &mut out).expect("sizes agree");
            assert!(max_err(&out, &grid_1d(n, l, du)) < 1e-12 * scale, "n = {n}");
            ops.laplacian(&input, &mut out).expect("sizes agree");
            assert!(
                max_err(&out, &grid_1d(n, l, d2u)) < 1e-12 * scale,
                "n = {n}"
            );
            // Poisson: the input's mean (here 2) is dropped.
            let rhs: Vec<f64> = grid_1d(n, l, d2u).iter().map(|v| v + 2.0).collect();
            ops.inverse_laplacian(&rhs, &mut out).expect("sizes agree");
            assert!(max_err(&out, &input) < 1e-12, "n = {n}");
        }
    }

    #[test]
    fn the_nyquist_mode_has_no_first_derivative_but_a_second() {
        let n = 30;
        let mut ops = Spectral1d::new(n, TAU).expect("valid grid");
        let zigzag: Vec<f64> = (0..n)
            .map(|i| if i % 2 == 0 { 1.0 } else { -1.0 })
            .collect();
        let mut out = vec![0.0; n];
        ops.derivative(&zigzag, &mut out).expect("sizes agree");
        assert!(out.iter().all(|v| v.abs() < 1e-12), "{out:?}");
        ops.laplacian(&zigzag, &mut out).expect("sizes agree");
        let k2 = (n as f64 / 2.0).powi(2);
        assert!(max_err(&out, &zigzag.iter().map(|v| -k2 * v).collect::<Vec<_>>()) < 1e-10);
        // ... and the Poisson solve inverts it.
        let mut back = vec![0.0; n];
        ops.inverse_laplacian(&out, &mut back).expect("sizes agree");
        assert!(max_err(&back, &zigzag) < 1e-12);
        // In 2D too, along each even axis.
        let (nx, ny) = (4, 6);
        let mut ops = Spectral2d::new(nx, ny, TAU, TAU).expect("valid grid");
        let checker: Vec<f64> = (0..nx * ny)
            .map(|k| {
                if (k / ny + k % ny) % 2 == 0 {
                    1.0
                } else {
                    -1.0
                }
            })
            .collect();
        let mut out = vec![0.0; nx * ny];
        ops.dx(&checker, &mut out).expect("sizes agree");
        assert!(out.iter().all(|v| v.abs() < 1e-12));
        ops.dy(&checker, &mut out).expect("sizes agree");
        assert!(out.iter().all(|v| v.abs() < 1e-12));
    }

    #[test]
    fn two_dimensional_operators_are_exact_on_a_48_by_36_grid() {
        let (nx, ny, lx, ly) = (48, 36, TAU, 4.0);
        let wy = TAU / ly;
        let u = |x: f64, y: f64| (2.0 * x).sin() * (3.0 * wy * y).cos() + 0.3 * (x + wy * y).cos();
        let ux = |x: f64, y: f64| {
            2.0 * (2.0 * x).cos() * (3.0 * wy * y).cos() - 0.3 * (x + wy * y).sin()
        };
        let uy = |x: f64, y: f64| {
            -3.0 * wy * (2.0 * x).sin() * (3.0 * wy * y).sin() - 0.3 * wy * (x + wy * y).sin()
        };
        let lap = |x: f64, y: f64| {
            -(4.0 + 9.0 * wy * wy) * (2.0 * x).sin() * (3.0 * wy * y).cos()
                - 0.3 * (1.0 + wy * wy) * (x + wy * y).cos()
        };
        let mut ops = Spectral2d::new(nx, ny, lx, ly).expect("valid grid");
        let input = grid_2d(nx, ny, lx, ly, u);
        let mut out = vec![0.0; nx * ny];
        ops.dx(&input, &mut out).expect("sizes agree");
        assert!(max_err(&out, &grid_2d(nx, ny, lx, ly, ux)) < 1e-12);
        ops.dy(&input, &mut out).expect("sizes agree");
        assert!(max_err(&out, &grid_2d(nx, ny, lx, ly, uy)) < 1e-12);
        ops.laplacian(&input, &mut out).expect("sizes agree");
        assert!(max_err(&out, &grid_2d(nx, ny, lx, ly, lap)) < 1e-12 * 30.0);
        let rhs: Vec<f64> = grid_2d(nx, ny, lx, ly, lap)
            .iter()
            .map(|v| v - 1.5)
            .collect();
        ops.inverse_laplacian(&rhs, &mut out).expect("sizes agree");
        assert!(max_err(&out, &input) < 1e-12);
    }

    #[test]
    fn laplacian_and_poisson_solve_are_inverse_on_zero_mean_fields() {
        for (nx, ny) in [(48, 36), (30, 64), (7, 5)] {
            let rng = CounterRng::new(11);
            let mut field: Vec<f64> = (0..(nx * ny) as u64).map(|c| rng.normal(c)).collect();
            let mean = field.iter().sum::<f64>() / field.len() as f64;
            field.iter_mut().for_each(|v| *v -= mean);
            let mut ops = Spectral2d::new(nx, ny, 2.0, 3.0).expect("valid grid");
            let mut psi = vec![0.0; nx * ny];
            let mut back = vec![0.0; nx * ny];
            ops.inverse_laplacian(&field, &mut psi)
                .expect("sizes agree");
            ops.laplacian(&psi, &mut back).expect("sizes agree");
            assert!(max_err(&back, &field) < 1e-12, "{nx}×{ny}");
            ops.laplacian(&field, &mut psi).expect("sizes agree");
            ops.inverse_laplacian(&psi, &mut back).expect("sizes agree");
            assert!(max_err(&back, &field) < 1e-12, "{nx}×{ny}");
            // The transforms round-trip.
            let mut hat = vec![Complex64::default(); nx * ny];
            ops.forward(&field, &mut hat).expect("sizes agree");
            assert!(hat[0].norm() < 1e-10, "zero mean");
            ops.inverse(&hat, &mut back).expect("sizes agree");
            assert!(max_err(&back, &field) < 1e-12);
        }
        let mut ops = Spectral1d::new(30, 1.0).expect("valid grid");
        let rng = CounterRng::new(3);
        let mut field: Vec<f64> = (0..30).map(|c| rng.normal(c)).collect();
        let mean = field.iter().sum::<f64>() / 30.0;
        field.iter_mut().for_each(|v| *v -= mean);
        let (mut psi, mut back) = (vec![0.0; 30], vec![0.0; 30]);
        ops.inverse_laplacian(&field, &mut psi)
            .expect("sizes agree");
        ops.laplacian(&psi, &mut back).expect("sizes agree");
        assert!(max_err(&back, &field) < 1e-12);
        let mut hat = vec![Complex64::default(); 30];
        ops.forward(&field, &mut hat).expect("sizes agree");
        ops.inverse(&hat, &mut back).expect("sizes agree");
        assert!(max_err(&back, &field) < 1e-12);
    }

    #[test]
    fn dealiasing_keeps_the_lower_two_thirds() {
        // n = 48: modes with 3|m| < 48 (|m| ≤ 15) stay.
        let n = 48;
        let mut ops = Spectral1d::new(n, TAU).expect("valid grid");
        let low = grid_1d(n, TAU, |x| (5.0 * x).sin() + (15.0 * x).cos());
        let high = grid_1d(n, TAU, |x| (16.0 * x).cos() + (20.0 * x).sin());
        let input: Vec<f64> = low.iter().zip(&high).map(|(a, b)| a + b).collect();
        let mut out = vec![0.0; n];
        ops.dealias(&input, &mut out).expect("sizes agree");
        assert!(max_err(&out, &low) < 1e-12);
        // 2D, 48 × 36: |my| ≤ 11 stay.
        let (nx, ny) = (48, 36);
        let mut ops = Spectral2d::new(nx, ny, TAU, TAU).expect("valid grid");
        let low = grid_2d(nx, ny, TAU, TAU, |x, y| (15.0 * x).sin() * (11.0 * y).cos());
        let high = grid_2d(nx, ny, TAU, TAU, |x, y| {
            (3.0 * x).cos() * (12.0 * y).sin() + (16.0 * x).sin() + (20.0 * x).cos() * y.cos()
        });
        let input: Vec<f64> = low.iter().zip(&high).map(|(a, b)| a + b).collect();
        let mut out = vec![0.0; nx * ny];
        ops.dealias(&input, &mut out).expect("sizes agree");
        assert!(max_err(&out, &low) < 1e-12);
    }

    #[test]
    fn wrong_lengths_and_grids_are_typed_errors() {
        let mut ops = Spectral2d::new(6, 4, 1.0, 1.0).expect("valid grid");
        let mut out = vec![0.0; 24];
        let err = ops.dx(&[0.0; 23], &mut out).unwrap_err();
        assert_eq!(
            err,
            SpectralError::Length {
                context: "input",
                expected: 24,
                got: 23,
                grid: Some((6, 4)),
            }
        );
        assert!(err.to_string().contains("6 × 4"), "{err}");
        assert!(matches!(
            ops.laplacian(&[0.0; 24], &mut [0.0; 25]),
            Err(SpectralError::Length {
                context: "output",
                ..
            })
        ));
        let mut ops1 = Spectral1d::new(5, 1.0).expect("valid grid");
        assert!(ops1.derivative(&[0.0; 4], &mut [0.0; 5]).is_err());
        assert!(
            ops1.forward(&[0.0; 5], &mut [Complex64::default(); 4])
                .is_err()
        );
        assert!(matches!(
            Spectral1d::new(0, 1.0),
            Err(SpectralError::InvalidGrid { points: 0, .. })
        ));
        assert!(matches!(
            Spectral2d::new(4, 4, 1.0, f64::NAN),
            Err(SpectralError::InvalidGrid { axis: "y", .. })
        ));
        assert!(Spectral1d::new(4, -1.0).is_err());
        // A one-point grid is a constant: its derivative is zero.
        let mut one = Spectral1d::new(1, 1.0).expect("valid grid");
        let mut out = [1.0];
        one.derivative(&[3.0], &mut out).expect("sizes agree");
        assert_eq!(out, [0.0]);
    }
}
