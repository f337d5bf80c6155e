//! APHYNITY's incomplete physical models `F_p` (Yin et al., ICLR 2021, §4), each a
//! [`PhysicalModel`] whose parameters a hybrid model learns:
//!
//! - [`FrictionlessPendulum`]: `θ̈ = −ω0² sin θ` (the damping `−α θ̇` is left to `F_a`);
//! - [`PureDiffusion`]: `u_t = a Δu`, `v_t = b Δv` on FitzHugh–Nagumo's periodic grid (the
//!   reaction terms are left to `F_a`);
//! - [`UndampedWave`]: `w_tt = c² Δw` on the damped wave's grid (the damping `−k w_t` is left to
//!   `F_a`).
//!
//! The complete models are the simulators themselves
//! ([`DampedPendulum`](crate::simulators::pendulum::DampedPendulum), …).

use burn::tensor::Tensor;

use crate::error::PhysicsError;
use crate::model::{
    PhysicalModel, check_parameter_count, check_state, check_tensor_input, columns, finite,
    non_negative, param_column,
};
use crate::stencil::{Boundary, Laplacian2d, LaplacianKind};

/// `θ̈ = −ω0² sin θ`, state `(θ, θ̇)`, parameter `ω0`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FrictionlessPendulum {
    omega0: f64,
}

impl FrictionlessPendulum {
    /// A pendulum of natural frequency `ω0` (finite).
    pub fn new(omega0: f64) -> Result<Self, PhysicsError> {
        Ok(FrictionlessPendulum {
            omega0: finite("omega0", omega0)?,
        })
    }
}

impl PhysicalModel for FrictionlessPendulum {
    fn name(&self) -> &'static str {
        "frictionless pendulum"
    }
    fn state_shape(&self) -> Vec<usize> {
        vec![2]
    }
    fn parameter_names(&self) -> &'static [&'static str] {
        &["omega0"]
    }
    fn parameters(&self) -> Vec<f64> {
        vec![self.omega0]
    }
    fn set_parameters(&mut self, values: &[f64]) -> Result<(), PhysicsError> {
        check_parameter_count(self.parameter_names(), values)?;
        self.omega0 = finite("omega0", values[0])?;
        Ok(())
    }
    fn rhs(&mut self, _t: f64, y: &[f64], dy: &mut [f64]) -> Result<(), PhysicsError> {
        check_state(2, y, dy)?;
        dy[0] = y[1];
        dy[1] = -self.omega0 * self.omega0 * y[0].sin();
        Ok(())
    }
    fn rhs_tensor(
        &self,
        _t: f64,
        y: Tensor<2>,
        params: Tensor<2>,
    ) -> Result<Tensor<2>, PhysicsError> {
        check_tensor_input(self, &y, &params)?;
        let w0 = param_column(&params, 0);
        let acc = (w0.clone() * w0).neg() * columns(&y, 0, 1).sin();
        Ok(Tensor::cat(vec![columns(&y, 1, 1), acc], 1))
    }
}

/// `u_t = a Δu`, `v_t = b Δv` (five-point periodic Laplacian on an `n × n` grid over
/// `[−1, 1)²`, FitzHugh–Nagumo's), state `[2, n, n]`, parameters `(a, b) ≥ 0`.
#[derive(Debug, Clone, PartialEq)]
pub struct PureDiffusion {
    params: [f64; 2],
    lap: Laplacian2d,
    scratch: Vec<f64>,
}

impl PureDiffusion {
    /// On FitzHugh–Nagumo's `n × n` grid over `[−1, 1)²` with `(a, b)`.
    pub fn new(n: usize, params: [f64; 2]) -> Result<Self, PhysicsError> {
        let h = 2.0 / n as f64;
        let lap = Laplacian2d::new(LaplacianKind::FivePoint, Boundary::Periodic, (n, n), (h, h))?;
        let mut m = PureDiffusion {
            params: [0.0; 2],
            lap,
            scratch: vec![0.0; n * n],
        };
        m.set_parameters(&params)?;
        Ok(m)
    }

    fn cells(&self) -> usize {
        let (nx, ny) = self.lap.shape();
        nx * ny
    }
}

impl PhysicalModel for PureDiffusion {
    fn name(&self) -> &'static str {
        "diffusion of two species"
    }
    fn state_shape(&self) -> Vec<usize> {
        let (nx, ny) = self.lap.shape();
        vec![2, nx, ny]
    }
    fn parameter_names(&self) -> &'static [&'static str] {
        &["a", "b"]
    }
    fn parameters(&self) -> Vec<f64> {
        self.params.to_vec()
    }
    fn set_parameters(&mut self, values: &[f64]) -> Result<(), PhysicsError> {
        check_parameter_count(self.parameter_names(), values)?;
        let a = non_negative("a", values[0])?;
        let b = non_negative("b", values[1])?;
        self.params = [a, b];
        Ok(())
    }
    fn rhs(&mut self, _t: f64, y: &[f64], dy: &mut [f64]) -> Result<(), PhysicsError> {
        let n = self.cells();
        check_state(2 * n, y, dy)?;
        for (species, d) in self.params.into_iter().enumerate() {
            let range = species * n..(species + 1) * n;
            self.lap.apply(&y[range.clone()], &mut self.scratch)?;
            for (out, lap) in dy[range].iter_mut().zip(&self.scratch) {
                *out = d * lap;
            }
        }
        Ok(())
    }
    fn rhs_tensor(
        &self,
        _t: f64,
        y: Tensor<2>,
        params: Tensor<2>,
    ) -> Result<Tensor<2>, PhysicsError> {
        check_tensor_input(self, &y, &params)?;
        let n = self.cells();
        let du = param_column(&params, 0) * self.lap.apply_tensor(columns(&y, 0, n));
        let dv = param_column(&params, 1) * self.lap.apply_tensor(columns(&y, n, n));
        Ok(Tensor::cat(vec![du, dv], 1))
    }
}

/// `w_tt = c² Δw` as `(w, w_t)` (fourth-order Laplacian with mirror boundaries on an `n × n`
/// grid of spacing `h`, the damped wave's), state `[2, n, n]`, parameter `c ≥ 0`.
#[derive(Debug, Clone, PartialEq)]
pub struct UndampedWave {
    c: f64,
    n: usize,
    lap: Laplacian2d,
    scratch: Vec<f64>,
}

impl UndampedWave {
    /// On an `n × n` grid of spacing `h` with speed `c`.
    pub fn new(n: usize, h: f64, c: f64) -> Result<Self, PhysicsError> {
        let lap = Laplacian2d::new(
            LaplacianKind::FourthOrder,
            Boundary::Neumann,
            (n, n),
            (h, h),
        )?;
        Ok(UndampedWave {
            c: non_negative("c", c)?,
            n,
            lap,
            scratch: vec![0.0; n * n],
        })
    }
}

impl PhysicalModel for UndampedWave {
    fn name(&self) -> &'static str {
        "undamped wave"
    }
    fn state_shape(&self) -> Vec<usize> {
        vec![2, self.n, self.n]
    }
    fn parameter_names(&self) -> &'static [&'static str] {
        &["c"]
    }
    fn parameters(&self) -> Vec<f64> {
        vec![self.c]
    }
    fn set_parameters(&mut self, values: &[f64]) -> Result<(), PhysicsError> {
        check_parameter_count(self.parameter_names(), values)?;
        self.c = non_negative("c", values[0])?;
        Ok(())
    }
    fn rhs(&mut self, _t: f64, y: &[f64], dy: &mut [f64]) -> Result<(), PhysicsError> {
        let n = self.n * self.n;
        check_state(2 * n, y, dy)?;
        self.lap.apply(&y[..n], &mut self.scratch)?;
        dy[..n].copy_from_slice(&y[n..]);
        let c2 = self.c * self.c;
        for (out, lap) in dy[n..].iter_mut().zip(&self.scratch) {
            *out = c2 * lap;
        }
        Ok(())
    }
    fn rhs_tensor(
        &self,
        _t: f64,
        y: Tensor<2>,
        params: Tensor<2>,
    ) -> Result<Tensor<2>, PhysicsError> {
        check_tensor_input(self, &y, &params)?;
        let n = self.n * self.n;
        let c = param_column(&params, 0);
        let acc = c.clone() * c * self.lap.apply_tensor(columns(&y, 0, n));
        Ok(Tensor::cat(vec![columns(&y, n, n), acc], 1))
    }
}
