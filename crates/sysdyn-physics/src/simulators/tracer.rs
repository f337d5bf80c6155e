//! A passive tracer advected and diffused by a known, steady, divergence-free velocity: the
//! synthetic stand-in for sea-surface temperature in de Bézenac et al. (2018), where the truth
//! of the motion is known so that an estimated motion field can be compared with it.
//!
//! `∂_t c + u·∇c = D Δc` on the periodic square `[0, 2π)²`, `n × n` cells (`h = 2π/n`), the
//! velocity a lattice of Taylor–Green cells plus a uniform drift,
//!
//! `u_x = A sin(k x') cos(k y') + U_x`,  `u_y = −A cos(k x') sin(k y') + U_y`,
//! `(x', y') = (x − φ_x, y − φ_y)`
//!
//! (divergence-free, so the advective and conservative forms agree). State `[n, n]`, row `i`
//! at `y = i h`, column `j` at `x = j h`. Spatial derivatives are fourth-order central
//! differences (the fourth-order Laplacian for `Δ`); the one parameter is `D`.
//! Initial tracers are sums of random Gaussian blobs.

use burn::tensor::Tensor;
use sysdyn_core::rng::SeededRng;
use sysdyn_solvers::SolveConfig;
use sysdyn_solvers::methods::DOPRI5;

use crate::error::PhysicsError;
use crate::model::{
    ModelField, PhysicalModel, check_parameter_count, check_state, check_tensor_input, host_tensor,
    non_negative, param_column, simulate,
};
use crate::simulators::{Dataset, Trajectory, generate, uniform_in};
use crate::stencil::{
    Accuracy, Axis, Boundary, Laplacian2d, LaplacianKind, Stencil1d, apply_x, apply_y,
};

/// The steady velocity: Taylor–Green cells of amplitude `A` and wavenumber `k`, plus a drift.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CellularFlow {
    /// Amplitude `A` of the cells.
    pub amplitude: f64,
    /// Wavenumber `k` (an integer keeps the field periodic on `[0, 2π)²`).
    pub wavenumber: f64,
    /// Uniform drift `(U_x, U_y)`.
    pub drift: [f64; 2],
    /// Offset `(φ_x, φ_y)` of the cells.
    pub phase: [f64; 2],
}

impl CellularFlow {
    /// `(u_x, u_y)` at `(x, y)`.
    pub fn velocity(&self, x: f64, y: f64) -> [f64; 2] {
        let k = self.wavenumber;
        let a = self.amplitude;
        let (x, y) = (x - self.phase[0], y - self.phase[1]);
        [
            a * (k * x).sin() * (k * y).cos() + self.drift[0],
            -a * (k * x).cos() * (k * y).sin() + self.drift[1],
        ]
    }
}

/// The advected–diffused tracer (see the module docs).
#[derive(Debug, Clone, PartialEq)]
pub struct Tracer {
    n: usize,
    diffusion: f64,
    flow: CellularFlow,
    /// `u_x`, `u_y` on the grid, row-major.
    velocity: [Vec<f64>; 2],
    d1: Stencil1d,
    lap: Laplacian2d,
    scratch: [Vec<f64>; 3],
}

const NAMES: &[&str] = &["diffusion"];

impl Tracer {
    /// An `n × n` grid over `[0, 2π)²` with diffusion `D ≥ 0` and velocity `flow`.
    pub fn new(n: usize, diffusion: f64, flow: CellularFlow) -> Result<Self, PhysicsError> {
        let h = std::f64::consts::TAU / n.max(1) as f64;
        let d1 = Stencil1d::new(1, Accuracy::Fourth, Boundary::Periodic, n, h)?;
        let lap = Laplacian2d::new(
            LaplacianKind::FourthOrder,
            Boundary::Periodic,
            (n, n),
            (h, h),
        )?;
        let mut ux = vec![0.0; n * n];
        let mut uy = vec![0.0; n * n];
        for i in 0..n {
            for j in 0..n {
                let [vx, vy] = flow.velocity(j as f64 * h, i as f64 * h);
                ux[i * n + j] = vx;
                uy[i * n + j] = vy;
            }
        }
        let mut tracer = Tracer {
            n,
            diffusion: 0.0,
            flow,
            velocity: [ux, uy],
            d1,
            lap,
            scratch: [vec![0.0; n * n], vec![0.0; n * n], vec![0.0; n * n]],
        };
        tracer.set_parameters(&[diffusion])?;
        Ok(tracer)
    }

    /// The grid side `n`.
    pub fn side(&self) -> usize {
        self.n
    }

    /// The spacing `h = 2π / n`.
    pub fn spacing(&self) -> f64 {
        std::f64::consts::TAU / self.n as f64
    }

    /// The velocity.
    pub fn flow(&self) -> CellularFlow {
        self.flow
    }

    /// The displacement over `dt` in cells, `u Δt / h`, as `[2, n, n]` (x then y, row-major):
    /// the true motion field of the warping forecaster.
    pub fn displacement_cells(&self, dt: f64) -> Vec<f64> {
        let scale = dt / self.spacing();
        self.velocity
            .iter()
            .flat_map(|c| c.iter().map(move |v| v * scale))
            .collect()
    }

    /// A random initial tracer: `blobs` Gaussian bumps of amplitude in `[0.5, 1)` and width in
    /// `[0.3, 0.8)` (in the domain's units), periodic images included.
    pub fn random_blobs(&self, blobs: usize, rng: &mut SeededRng) -> Vec<f64> {
        let n = self.n;
        let h = self.spacing();
        let period = std::f64::consts::TAU;
        let mut c = vec![0.0; n * n];
        for _ in 0..blobs {
            let cx = uniform_in(rng, 0.0, period);
            let cy = uniform_in(rng, 0.0, period);
            let amp = uniform_in(rng, 0.5, 1.0);
            let width = uniform_in(rng, 0.3, 0.8);
            for i in 0..n {
                for j in 0..n {
                    // The nearest periodic image of the centre.
                    let wrap = |d: f64| d - period * (d / period).round();
                    let dx = wrap(j as f64 * h - cx);
                    let dy = wrap(i as f64 * h - cy);
                    c[i * n + j] += amp * (-(dx * dx + dy * dy) / (2.0 * width * width)).exp();
                }
            }
        }
        c
    }

    /// `count` trajectories from [`Tracer::random_blobs`] (`blobs` bumps each) at `times`
    /// (Dopri5, `rtol = atol = 1e-7`); trajectory `i` uses its own stream of `seed`.
    pub fn dataset(
        &self,
        count: usize,
        blobs: usize,
        seed: u64,
        times: &[f64],
    ) -> Result<Dataset, PhysicsError> {
        let trajectories = generate(count, seed, |_, rng| {
            let y0 = self.random_blobs(blobs, rng);
            let mut field = ModelField::dense(self.clone());
            let states = simulate(
                &mut field,
                &DOPRI5,
                y0,
                times,
                SolveConfig::adaptive(1e-7, 1e-7),
            )?;
            Ok(Trajectory { env: 0, states })
        })?;
        Ok(Dataset {
            name: self.name(),
            state_shape: self.state_shape(),
            times: times.to_vec(),
            env_parameters: vec![self.parameters()],
            trajectories,
        })
    }
}

impl PhysicalModel for Tracer {
    fn name(&self) -> &'static str {
        "advected-diffused tracer"
    }

    fn state_shape(&self) -> Vec<usize> {
        vec![self.n, self.n]
    }

    fn parameter_names(&self) -> &'static [&'static str] {
        NAMES
    }

    fn parameters(&self) -> Vec<f64> {
        vec![self.diffusion]
    }

    fn set_parameters(&mut self, values: &[f64]) -> Result<(), PhysicsError> {
        check_parameter_count(NAMES, values)?;
        self.diffusion = non_negative("diffusion", values[0])?;
        Ok(())
    }

    fn rhs(&mut self, _t: f64, y: &[f64], dy: &mut [f64]) -> Result<(), PhysicsError> {
        let n = self.n;
        check_state(n * n, y, dy)?;
        let [cx, cy, lap] = &mut self.scratch;
        // Rows are y (the slow axis, `Axis::X` of the stencil), columns are x.
        self.d1.apply_axis(y, (n, n), Axis::Y, cx)?;
        self.d1.apply_axis(y, (n, n), Axis::X, cy)?;
        self.lap.apply(y, lap)?;
        let [ux, uy] = &self.velocity;
        for c in 0..n * n {
            dy[c] = -ux[c] * cx[c] - uy[c] * cy[c] + self.diffusion * lap[c];
        }
        Ok(())
    }

    fn jacobian_pattern(&self) -> Option<Vec<(usize, usize)>> {
        // The five-wide fourth-order stencils along each axis (the Laplacian's pattern).
        let mut entries = Vec::new();
        for (row, cols) in self.lap.rows().iter().enumerate() {
            for &(col, _) in cols {
                entries.push((row, col));
            }
        }
        Some(entries)
    }

    fn rhs_tensor(
        &self,
        _t: f64,
        y: Tensor<2>,
        params: Tensor<2>,
    ) -> Result<Tensor<2>, PhysicsError> {
        check_tensor_input(self, &y, &params)?;
        let n = self.n;
        let d = host_tensor(self.d1.matrix(), [n, n], &y);
        let cx = apply_y(y.clone(), &d, n, n);
        let cy = apply_x(y.clone(), &d, n, n);
        let ux = host_tensor(self.velocity[0].clone(), [1, n * n], &y);
        let uy = host_tensor(self.velocity[1].clone(), [1, n * n], &y);
        let diffusion = param_column(&params, 0) * self.lap.apply_tensor(y);
        Ok(diffusion - ux * cx - uy * cy)
    }
}
