//! The FitzHugh–Nagumo reaction–diffusion system of APHYNITY (Yin et al., ICLR 2021, §4;
//! yuan-yin/APHYNITY `datasets/rd.py`), on a 32 × 32 periodic grid over `[−1, 1)²`:
//!
//! `u_t = a Δu + R_u(u, v; k)`, `v_t = b Δv + R_v(u, v)`, with `R_u = u − u³ − k − v` and
//! `R_v = u − v`; `a = 1e-3`, `b = 5e-3`, `k = 5e-3`; the five-point Laplacian (`h = 2/32`).
//! Initial conditions uniform in `[0, 1)` for each of `u` and `v`; horizon 3, output step 0.1
//! (the code's values). State `[2, nx, ny]`: `u` then `v`.
//!
//! Its Jacobian is sparse (five neighbours and the other species per row):
//! [`PhysicalModel::jacobian_pattern`] gives the pattern to the sparse implicit methods.

use burn::tensor::Tensor;
use sysdyn_solvers::SolveConfig;
use sysdyn_solvers::methods::DOPRI5;

use crate::error::PhysicsError;
use crate::model::{
    PhysicalModel, check_parameter_count, check_state, check_tensor_input, columns, finite,
    non_negative, param_column, uniform_times,
};
use crate::simulators::{Dataset, simulated_dataset, two_species_pattern};
use crate::stencil::{Boundary, Laplacian2d, LaplacianKind};

/// FitzHugh–Nagumo reaction–diffusion (see the module docs).
#[derive(Debug, Clone, PartialEq)]
pub struct FitzHughNagumo {
    params: [f64; 3],
    lap: Laplacian2d,
    scratch: (Vec<f64>, Vec<f64>),
}

const NAMES: &[&str] = &["a", "b", "k"];

impl FitzHughNagumo {
    /// APHYNITY's system: 32 × 32 over `[−1, 1)²`, `a = 1e-3`, `b = 5e-3`, `k = 5e-3`.
    pub fn aphynity() -> Self {
        Self::new(32, [1e-3, 5e-3, 5e-3]).expect("a 32 × 32 grid fits the five-point stencil")
    }

    /// An `n × n` periodic grid over `[−1, 1)²` with `(a, b, k)` (`a, b ≥ 0`).
    pub fn new(n: usize, params: [f64; 3]) -> Result<Self, PhysicsError> {
        let h = 2.0 / n as f64;
        let lap = Laplacian2d::new(LaplacianKind::FivePoint, Boundary::Periodic, (n, n), (h, h))?;
        let mut m = FitzHughNagumo {
            params: [0.0; 3],
            lap,
            scratch: (vec![0.0; n * n], vec![0.0; n * n]),
        };
        m.set_parameters(&params)?;
        Ok(m)
    }

    fn cells(&self) -> usize {
        let (nx, ny) = self.lap.shape();
        nx * ny
    }

    /// `n` trajectories on `times` from uniform `[0, 1)` fields (Dopri5, `rtol = 1e-8`).
    pub fn dataset_on(&self, n: usize, seed: u64, times: &[f64]) -> Result<Dataset, PhysicsError> {
        let len = self.state_len();
        simulated_dataset(
            self,
            n,
            seed,
            times,
            &DOPRI5,
            SolveConfig::adaptive(1e-8, 1e-8),
            |_, rng| Ok(rng.uniforms(len)),
        )
    }

    /// APHYNITY's grid of times: horizon 3, step 0.1.
    pub fn dataset(&self, n: usize, seed: u64) -> Result<Dataset, PhysicsError> {
        self.dataset_on(n, seed, &uniform_times(3.0, 0.1)?)
    }
}

impl PhysicalModel for FitzHughNagumo {
    fn name(&self) -> &'static str {
        "FitzHugh-Nagumo reaction-diffusion"
    }

    fn state_shape(&self) -> Vec<usize> {
        let (nx, ny) = self.lap.shape();
        vec![2, nx, ny]
    }

    fn parameter_names(&self) -> &'static [&'static str] {
        NAMES
    }

    fn parameters(&self) -> Vec<f64> {
        self.params.to_vec()
    }

    fn set_parameters(&mut self, values: &[f64]) -> Result<(), PhysicsError> {
        check_parameter_count(NAMES, values)?;
        let a = non_negative("a", values[0])?;
        let b = non_negative("b", values[1])?;
        let k = finite("k", values[2])?;
        self.params = [a, b, k];
        Ok(())
    }

    fn rhs(&mut self, _t: f64, y: &[f64], dy: &mut [f64]) -> Result<(), PhysicsError> {
        let n = self.cells();
        check_state(2 * n, y, dy)?;
        let [a, b, k] = self.params;
        let (u, v) = y.split_at(n);
        self.lap.apply(u, &mut self.scratch.0)?;
        self.lap.apply(v, &mut self.scratch.1)?;
        let (du, dv) = dy.split_at_mut(n);
        for c in 0..n {
            du[c] = a * self.scratch.0[c] + u[c] - u[c] * u[c] * u[c] - k - v[c];
            dv[c] = b * self.scratch.1[c] + u[c] - v[c];
        }
        Ok(())
    }

    fn jacobian_pattern(&self) -> Option<Vec<(usize, usize)>> {
        Some(two_species_pattern(&self.lap))
    }

    fn rhs_tensor(
        &self,
        _t: f64,
        y: Tensor<2>,
        params: Tensor<2>,
    ) -> Result<Tensor<2>, PhysicsError> {
        check_tensor_input(self, &y, &params)?;
        let n = self.cells();
        let u = columns(&y, 0, n);
        let v = columns(&y, n, n);
        let du = param_column(&params, 0) * self.lap.apply_tensor(u.clone()) + u.clone()
            - u.clone().powi_scalar(3)
            - param_column(&params, 2)
            - v.clone();
        let dv = param_column(&params, 1) * self.lap.apply_tensor(v.clone()) + u - v;
        Ok(Tensor::cat(vec![du, dv], 1))
    }
}
