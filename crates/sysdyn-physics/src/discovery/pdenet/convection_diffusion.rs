//! The 2-D linear convection–diffusion equation on a periodic box, solved exactly in Fourier
//! space: PDE-Net's reference data.
//!
//! `u_t = a u_x + b u_y + ν (u_xx + u_yy)` on `[0, L_x) × [0, L_y)`: each Fourier mode
//! `û(k)` evolves as `û(k, t) = û(k, 0) exp((i (a k_x + b k_y) − ν |k|²) t)`, a shift by
//! `(a t, b t)` and a decay, so a solution at any time is one transform away from its initial
//! condition — no time stepping, no discretisation error beyond the grid's sampling.

use sysdyn_core::rng::SeededRng;
use sysdyn_core::spectral::{Complex64, Spectral2d};

use crate::PhysicsError;

/// `u_t = a u_x + b u_y + ν Δu` on an `nx × ny` periodic grid over `[0, lx) × [0, ly)` (values
/// at `(i h_x, j h_y)` stored at `i * ny + j`).
#[derive(Debug, Clone)]
pub struct ConvectionDiffusion2d {
    a: f64,
    b: f64,
    nu: f64,
    spectral: Spectral2d,
}

impl ConvectionDiffusion2d {
    /// The equation with velocities `a`, `b` and diffusivity `nu ≥ 0` on the grid.
    pub fn new(
        a: f64,
        b: f64,
        nu: f64,
        (nx, ny): (usize, usize),
        (lx, ly): (f64, f64),
    ) -> Result<Self, PhysicsError> {
        for (name, value) in [("a", a), ("b", b)] {
            if !value.is_finite() {
                return Err(PhysicsError::InvalidParameter {
                    name,
                    value,
                    requirement: "must be finite",
                });
            }
        }
        if !(nu.is_finite() && nu >= 0.0) {
            return Err(PhysicsError::InvalidParameter {
                name: "nu",
                value: nu,
                requirement: "must be finite and ≥ 0 (a negative diffusivity is ill-posed)",
            });
        }
        if nx < 2 || ny < 2 {
            return Err(PhysicsError::GridTooSmall {
                what: "convection–diffusion grid",
                got: nx.min(ny),
                needed: 2,
            });
        }
        Ok(ConvectionDiffusion2d {
            a,
            b,
            nu,
            spectral: Spectral2d::new(nx, ny, lx, ly)?,
        })
    }

    /// `(nx, ny)`.
    pub fn shape(&self) -> (usize, usize) {
        self.spectral.shape()
    }

    /// The grid spacings `(h_x, h_y)`.
    pub fn spacing(&self) -> (f64, f64) {
        let (nx, ny) = self.shape();
        let (lx, ly) = self.spectral.lengths();
        (lx / nx as f64, ly / ny as f64)
    }

    /// `(a, b, ν)`.
    pub fn coefficients(&self) -> (f64, f64, f64) {
        (self.a, self.b, self.nu)
    }

    /// A smooth random periodic field: `Σ r_m cos(k_m·x + φ_m) / (1 + |m|²)` over the
    /// integer modes `0 < max(|m_x|, |m_y|) ≤ modes`, `r_m ~ N(0, 1)`, `φ_m ~ U[0, 2π)`.
    pub fn random_initial_condition(&self, rng: &mut SeededRng, modes: usize) -> Vec<f64> {
        let (nx, ny) = self.shape();
        let (lx, ly) = self.spectral.lengths();
        let (hx, hy) = self.spacing();
        let m = modes as i64;
        let mut u = vec![0.0; nx * ny];
        for mx in -m..=m {
            for my in 0..=m {
                // (m_x, m_y) and (−m_x, −m_y) are the same real mode: keep m_y > 0, or m_y = 0
                // with m_x > 0.
                if my == 0 && mx <= 0 {
                    continue;
                }
                let amplitude = rng.normal() / (1.0 + (mx * mx + my * my) as f64);
                let phase = rng.uniform() * std::f64::consts::TAU;
                let kx = std::f64::consts::TAU * mx as f64 / lx;
                let ky = std::f64::consts::TAU * my as f64 / ly;
                for i in 0..nx {
                    for j in 0..ny {
                        let arg = kx * i as f64 * hx + ky * j as f64 * hy + phase;
                        u[i * ny + j] += amplitude * arg.cos();
                    }
                }
            }
        }
        u
    }

    /// The exact solution at time `t` from `u0` (`nx · ny` values).
    pub fn solution(&mut self, u0: &[f64], t: f64) -> Result<Vec<f64>, PhysicsError> {
        if let Some(index) = u0.iter().position(|v| !v.is_finite()) {
            return Err(PhysicsError::NonFinite {
                what: "convection–diffusion initial condition",
                index,
            });
        }
        let (nx, ny) = self.shape();
        if u0.len() != nx * ny {
            return Err(PhysicsError::SizeMismatch {
                what: "initial condition (nx · ny values)",
                expected: nx * ny,
                got: u0.len(),
            });
        }
        let mut hat = vec![Complex64::default(); nx * ny];
        self.spectral.forward(u0, &mut hat)?;
        let kx = self.spectral.wavenumbers_x().to_vec();
        let ky = self.spectral.wavenumbers_y().to_vec();
        for (n, c) in hat.iter_mut().enumerate() {
            let (px, py) = (kx[n / ny], ky[n % ny]);
            let rate = Complex64::new(-self.nu * (px * px + py * py), self.a * px + self.b * py);
            *c *= (rate * t).exp();
        }
        let mut out = vec![0.0; nx * ny];
        self.spectral.inverse(&hat, &mut out)?;
        Ok(out)
    }

    /// The exact solution at `t = 0, dt, …, steps·dt`, frame after frame
    /// (`(steps + 1) · nx · ny` values).
    pub fn trajectory(
        &mut self,
        u0: &[f64],
        dt: f64,
        steps: usize,
    ) -> Result<Vec<f64>, PhysicsError> {
        let mut frames = Vec::with_capacity((steps + 1) * u0.len());
        for n in 0..=steps {
            frames.extend(self.solution(u0, n as f64 * dt)?);
        }
        Ok(frames)
    }
}
