//! The Lorenz-63 system (E. N. Lorenz, *Deterministic nonperiodic flow*, J. Atmos. Sci. 20,
//! 1963), with the classical chaotic parameters `σ = 10`, `ρ = 28`, `β = 8/3`:
//!
//! `ẋ = σ (y − x)`, `ẏ = x (ρ − z) − y`, `ż = x y − β z`.
//!
//! The data sets start near SINDy's initial condition `(−8, 7, 27)` (Brunton et al., PNAS 2016):
//! each coordinate perturbed by a standard normal draw; Dopri5 at `rtol = 1e-10`.

use burn::tensor::Tensor;
use sysdyn_solvers::SolveConfig;
use sysdyn_solvers::methods::DOPRI5;

use crate::error::PhysicsError;
use crate::model::{
    PhysicalModel, check_parameter_count, check_state, check_tensor_input, columns, finite,
    param_column,
};
use crate::simulators::{Dataset, simulated_dataset};

/// Lorenz-63 with `(σ, ρ, β)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Lorenz63 {
    params: [f64; 3],
}

const NAMES: &[&str] = &["sigma", "rho", "beta"];

impl Default for Lorenz63 {
    /// `σ = 10`, `ρ = 28`, `β = 8/3`.
    fn default() -> Self {
        Lorenz63 {
            params: [10.0, 28.0, 8.0 / 3.0],
        }
    }
}

impl Lorenz63 {
    /// The system with `(σ, ρ, β)` (finite).
    pub fn new(sigma: f64, rho: f64, beta: f64) -> Result<Self, PhysicsError> {
        let mut m = Self::default();
        m.set_parameters(&[sigma, rho, beta])?;
        Ok(m)
    }

    /// `n` trajectories on `times` from `(−8, 7, 27) + N(0, I)`.
    pub fn dataset(&self, n: usize, seed: u64, times: &[f64]) -> Result<Dataset, PhysicsError> {
        simulated_dataset(
            self,
            n,
            seed,
            times,
            &DOPRI5,
            SolveConfig::adaptive(1e-10, 1e-10),
            |_, rng| {
                Ok(vec![
                    -8.0 + rng.normal(),
                    7.0 + rng.normal(),
                    27.0 + rng.normal(),
                ])
            },
        )
    }
}

impl PhysicalModel for Lorenz63 {
    fn name(&self) -> &'static str {
        "Lorenz-63"
    }

    fn state_shape(&self) -> Vec<usize> {
        vec![3]
    }

    fn parameter_names(&self) -> &'static [&'static str] {
        NAMES
    }

    fn parameters(&self) -> Vec<f64> {
        self.params.to_vec()
    }

    fn set_parameters(&mut self, values: &[f64]) -> Result<(), PhysicsError> {
        check_parameter_count(NAMES, values)?;
        let mut p = [0.0; 3];
        for (k, (&name, &v)) in NAMES.iter().zip(values).enumerate() {
            p[k] = finite(name, v)?;
        }
        self.params = p;
        Ok(())
    }

    fn rhs(&mut self, _t: f64, y: &[f64], dy: &mut [f64]) -> Result<(), PhysicsError> {
        check_state(3, y, dy)?;
        let [s, r, b] = self.params;
        dy[0] = s * (y[1] - y[0]);
        dy[1] = y[0] * (r - y[2]) - y[1];
        dy[2] = y[0] * y[1] - b * y[2];
        Ok(())
    }

    fn rhs_tensor(
        &self,
        _t: f64,
        y: Tensor<2>,
        params: Tensor<2>,
    ) -> Result<Tensor<2>, PhysicsError> {
        check_tensor_input(self, &y, &params)?;
        let (x, v, z) = (columns(&y, 0, 1), columns(&y, 1, 1), columns(&y, 2, 1));
        let dx = param_column(&params, 0) * (v.clone() - x.clone());
        let dv = x.clone() * (param_column(&params, 1) - z.clone()) - v.clone();
        let dz = x * v - param_column(&params, 2) * z;
        Ok(Tensor::cat(vec![dx, dv, dz], 1))
    }
}
