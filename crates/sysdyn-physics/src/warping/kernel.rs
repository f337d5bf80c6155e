//! The Gaussian-kernel warping of de Bézenac, Pajot & Gallinari (2018): one step of
//! advection–diffusion as a differentiable resampling of the last frame,
//!
//! `I_{t+1}(x) = Σ_y K(x − w(x) − y) I_t(y)`,  `K(z) ∝ exp(−|z|² / (4 D Δt))`,
//!
//! which is the exact solution of `∂_t I + u·∇I = D ΔI` over one step `Δt` for a constant
//! velocity `u` (the displacement is `w = u Δt`): the heat kernel of variance `2 D Δt` per
//! axis, centred at `x − w`. For a slowly varying `w(x)` it is the paper's local
//! approximation.
//!
//! **Units.** Everything is in grid cells: the motion field `w` is the displacement over one
//! step in cells, `[batch, 2, H, W]` with channel 0 along the columns (x, width) and channel 1
//! along the rows (y, height); the kernel's variance is `s² = 2 D Δt / h²` cells² for a
//! diffusion `D`, a step `Δt` and a spacing `h`.
//!
//! **Truncation.** The sum runs over the window `y = x + d`, `d ∈ [−R, R]²` around `x` (not
//! the dense `(HW)²` matrix), and the weights are renormalised to sum to one over the window
//! (so a constant field stays constant and, for a constant `w` on a periodic grid, mass is
//! conserved exactly). The kernel factorises over the axes, so the mass left out of the
//! window is `1 − (1 − ε)²` with `ε` the one-dimensional mass of the discrete Gaussian of
//! mean `−w` outside `[−R, R]`; for `|w| ≤ w_max` it is at most
//! [`GaussianWarp::truncation_error`], about `erfc((R + ½ − w_max) / (s√2))`. The estimator
//! bounds its output by `w_max` (a scaled `tanh`) so that the bound holds in training.
//! Cost: `(2R + 1)²` shifted copies of the frame and `2(2R + 1)` exponentials per pixel.

use burn::tensor::Tensor;
use burn::tensor::ops::PadMode;

use crate::error::PhysicsError;
use crate::model::positive;

/// What lies beyond the frame's edges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WarpBoundary {
    /// The frame wraps around (a torus).
    Periodic,
    /// Zero outside the frame (mass leaves through the edges).
    Zero,
}

/// The warping operator (see the module docs): a diffusion, a step and a spacing giving the
/// kernel's variance `2 D Δt / h²` cells², a window radius `R` and a boundary.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GaussianWarp {
    variance: f64,
    radius: usize,
    boundary: WarpBoundary,
}

impl GaussianWarp {
    /// The warp of diffusion `D` over a step `dt` on a grid of spacing `h`, summing over a
    /// `(2 radius + 1)²` window. Errors: `D`, `dt` or `h` not finite and positive (pure
    /// advection, `D = 0`, has no Gaussian kernel: pass a small positive `D`), or a zero
    /// radius.
    pub fn new(
        diffusion: f64,
        dt: f64,
        spacing: f64,
        radius: usize,
        boundary: WarpBoundary,
    ) -> Result<Self, PhysicsError> {
        let diffusion = positive("diffusion D", diffusion)?;
        let dt = positive("dt", dt)?;
        let spacing = positive("spacing h", spacing)?;
        Self::with_variance(2.0 * diffusion * dt / (spacing * spacing), radius, boundary)
    }

    /// The warp whose kernel has variance `variance` cells² per axis (`2 D Δt / h²`).
    pub fn with_variance(
        variance: f64,
        radius: usize,
        boundary: WarpBoundary,
    ) -> Result<Self, PhysicsError> {
        let variance = positive("kernel variance 2DΔt/h²", variance)?;
        if radius == 0 {
            return Err(PhysicsError::InvalidParameter {
                name: "radius",
                value: 0.0,
                requirement: "the window must reach at least one cell (radius ≥ 1); choose \
                              R ≥ the largest displacement + 4 kernel widths",
            });
        }
        Ok(GaussianWarp {
            variance,
            radius,
            boundary,
        })
    }

    /// The kernel's variance per axis, cells².
    pub fn variance(&self) -> f64 {
        self.variance
    }

    /// The window radius `R`.
    pub fn radius(&self) -> usize {
        self.radius
    }

    /// The boundary.
    pub fn boundary(&self) -> WarpBoundary {
        self.boundary
    }

    /// The largest fraction of the kernel's mass outside the window for any displacement with
    /// `|w_x|, |w_y| ≤ max_displacement` cells: `1 − (1 − ε)²`, `ε` the worst one-dimensional
    /// tail of the discrete Gaussian, computed by summing it (not an asymptotic formula).
    pub fn truncation_error(&self, max_displacement: f64) -> f64 {
        let r = self.radius as i64;
        let s2 = self.variance;
        let reach = r + (8.0 * s2.sqrt()).ceil() as i64 + max_displacement.abs().ceil() as i64;
        // The tail grows as the centre moves towards the window's edge; scan the displacements
        // finely (the worst one is at the bound, but the discrete sum is not monotone between
        // integers for tiny variances).
        let steps = 64;
        let mut worst: f64 = 0.0;
        for k in 0..=steps {
            let w = max_displacement.abs() * k as f64 / steps as f64;
            let weight = |d: i64| (-(d as f64 + w).powi(2) / (2.0 * s2)).exp();
            let total: f64 = (-reach..=reach).map(weight).sum();
            let inside: f64 = (-r..=r).map(weight).sum();
            worst = worst.max(1.0 - inside / total);
        }
        1.0 - (1.0 - worst) * (1.0 - worst)
    }

    /// `I_{t+1}` from `frame: [batch, 1, H, W]` and `motion: [batch, 2, H, W]` (cells per
    /// step, channel 0 along x = columns, 1 along y = rows); differentiable in both. Errors:
    /// shapes that do not match, or a frame smaller than the window on a periodic grid.
    pub fn apply(&self, frame: Tensor<4>, motion: Tensor<4>) -> Result<Tensor<4>, PhysicsError> {
        let [batch, channels, rows, cols] = frame.dims();
        if channels != 1 {
            return Err(PhysicsError::SizeMismatch {
                what: "frame channels (the warp moves one scalar field: [batch, 1, H, W])",
                expected: 1,
                got: channels,
            });
        }
        let [mb, mc, mr, mcols] = motion.dims();
        for (what, expected, got) in [
            ("motion field batch", batch, mb),
            ("motion field channels ([batch, 2, H, W]: x then y)", 2, mc),
            ("motion field rows", rows, mr),
            ("motion field columns", cols, mcols),
        ] {
            if expected != got {
                return Err(PhysicsError::SizeMismatch {
                    what,
                    expected,
                    got,
                });
            }
        }
        let r = self.radius;
        let side = 2 * r + 1;
        if self.boundary == WarpBoundary::Periodic && rows.min(cols) < side {
            return Err(PhysicsError::GridTooSmall {
                what: "periodic warp window (2R + 1 cells per axis)",
                got: rows.min(cols),
                needed: side,
            });
        }
        let wx = motion.clone().narrow(1, 0, 1);
        let wy = motion.narrow(1, 1, 1);
        // One-dimensional weights a_d(x) = exp(−(d + w(x))² / 2s²), normalised over the window;
        // the 2D kernel is their product, so its normalisation is the product of theirs.
        let weights = |w: Tensor<4>| -> Vec<Tensor<4>> {
            let raw: Vec<Tensor<4>> = (0..side)
                .map(|k| {
                    let d = k as f64 - r as f64;
                    w.clone()
                        .add_scalar(d)
                        .powi_scalar(2)
                        .mul_scalar(-0.5 / self.variance)
                        .exp()
                })
                .collect();
            let total = raw
                .iter()
                .skip(1)
                .fold(raw[0].clone(), |acc, a| acc + a.clone());
            raw.into_iter().map(|a| a / total.clone()).collect()
        };
        let ax = weights(wx);
        let ay = weights(wy);
        // The frame shifted by d: S_d(x) = I(x + d).
        let padded = match self.boundary {
            WarpBoundary::Periodic => frame.clone(),
            WarpBoundary::Zero => frame.clone().pad([(r, r), (r, r)], PadMode::Constant(0.0)),
        };
        let shifted = |dy: usize, dx: usize| -> Tensor<4> {
            match self.boundary {
                WarpBoundary::Periodic => {
                    let sy = r as i64 - dy as i64;
                    let sx = r as i64 - dx as i64;
                    padded.clone().roll(&[sy, sx], &[2, 3])
                }
                WarpBoundary::Zero => padded.clone().narrow(2, dy, rows).narrow(3, dx, cols),
            }
        };
        let mut out: Option<Tensor<4>> = None;
        for (ky, a_y) in ay.iter().enumerate() {
            let mut row_sum: Option<Tensor<4>> = None;
            for (kx, a_x) in ax.iter().enumerate() {
                let term = shifted(ky, kx) * a_x.clone();
                row_sum = Some(match row_sum {
                    Some(acc) => acc + term,
                    None => term,
                });
            }
            if let Some(row_sum) = row_sum {
                let term = row_sum * a_y.clone();
                out = Some(match out {
                    Some(acc) => acc + term,
                    None => term,
                });
            }
        }
        out.ok_or(PhysicsError::Empty {
            what: "warp window",
            unit: "offset",
        })
    }
}
