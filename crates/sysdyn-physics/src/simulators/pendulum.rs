//! The damped pendulum of APHYNITY (Yin et al., *Augmenting physical models with deep networks
//! for complex dynamics forecasting*, ICLR 2021, §4):
//!
//! `d²θ/dt² + ω0² sin θ + α dθ/dt = 0`, state `(θ, θ̇)`, parameters `(ω0, α)`.
//!
//! The paper gives `T0 = 6` (`ω0 = 2π/T0`) and `α = 0.2`; the public code (yuan-yin/APHYNITY,
//! `datasets/pendulum.py`) uses `ω0² = (2π/12)²`: [`DampedPendulum::aphynity`] follows the
//! paper, [`DampedPendulum::new`] takes any values. Initial conditions as in the code: a
//! direction drawn uniformly in `[−1, 1)²`, normalised, times a radius drawn in `[1.3, 2.3)`;
//! times `0, 0.5, …, 19.5` (horizon 20, step 0.5); DOP853 with `rtol = 1e-10`; 25 train and 25
//! test trajectories.

use burn::tensor::Tensor;
use sysdyn_solvers::SolveConfig;
use sysdyn_solvers::methods::DOP853;

use crate::error::PhysicsError;
use crate::model::{
    PhysicalModel, check_parameter_count, check_state, check_tensor_input, columns, finite,
    non_negative, param_column, uniform_times,
};
use crate::simulators::{Dataset, simulated_dataset, uniform_in};

/// The damped pendulum (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DampedPendulum {
    omega0: f64,
    alpha: f64,
}

const NAMES: &[&str] = &["omega0", "alpha"];

impl DampedPendulum {
    /// APHYNITY's pendulum: `T0 = 6` (`ω0 = 2π/6`), `α = 0.2`.
    pub fn aphynity() -> Self {
        DampedPendulum {
            omega0: std::f64::consts::TAU / 6.0,
            alpha: 0.2,
        }
    }

    /// A pendulum with natural frequency `ω0` (finite) and damping `α ≥ 0`.
    pub fn new(omega0: f64, alpha: f64) -> Result<Self, PhysicsError> {
        let mut p = Self::aphynity();
        p.set_parameters(&[omega0, alpha])?;
        Ok(p)
    }

    /// The energy per unit inertia `E = θ̇²/2 + ω0² (1 − cos θ)`; `dE/dt = −α θ̇² ≤ 0`.
    pub fn energy(&self, y: &[f64]) -> f64 {
        0.5 * y[1] * y[1] + self.omega0 * self.omega0 * (1.0 - y[0].cos())
    }

    /// `n` trajectories on APHYNITY's grid (horizon 20, step 0.5) from APHYNITY's initial
    /// conditions, reproducible for `seed` (use different seeds for train and test).
    pub fn dataset(&self, n: usize, seed: u64) -> Result<Dataset, PhysicsError> {
        self.dataset_on(n, seed, &uniform_times(20.0, 0.5)?)
    }

    /// APHYNITY's split: 25 training and 25 test trajectories, the test set drawn from the
    /// streams of seed `!seed` (bitwise complement), so the two never share an initial state.
    pub fn aphynity_train_test(&self, seed: u64) -> Result<(Dataset, Dataset), PhysicsError> {
        Ok((self.dataset(25, seed)?, self.dataset(25, !seed)?))
    }

    /// The same on any output times (starting at the initial time).
    pub fn dataset_on(&self, n: usize, seed: u64, times: &[f64]) -> Result<Dataset, PhysicsError> {
        simulated_dataset(
            self,
            n,
            seed,
            times,
            &DOP853,
            SolveConfig::adaptive(1e-10, 1e-10),
            |_, rng| {
                let d = [uniform_in(rng, -1.0, 1.0), uniform_in(rng, -1.0, 1.0)];
                let radius = uniform_in(rng, 1.3, 2.3);
                let norm = (d[0] * d[0] + d[1] * d[1]).sqrt().max(f64::MIN_POSITIVE);
                Ok(vec![d[0] / norm * radius, d[1] / norm * radius])
            },
        )
    }
}

impl PhysicalModel for DampedPendulum {
    fn name(&self) -> &'static str {
        "damped pendulum"
    }

    fn state_shape(&self) -> Vec<usize> {
        vec![2]
    }

    fn parameter_names(&self) -> &'static [&'static str] {
        NAMES
    }

    fn parameters(&self) -> Vec<f64> {
        vec![self.omega0, self.alpha]
    }

    fn set_parameters(&mut self, values: &[f64]) -> Result<(), PhysicsError> {
        check_parameter_count(NAMES, values)?;
        let omega0 = finite("omega0", values[0])?;
        let alpha = non_negative("alpha", values[1])?;
        (self.omega0, self.alpha) = (omega0, alpha);
        Ok(())
    }

    fn rhs(&mut self, _t: f64, y: &[f64], dy: &mut [f64]) -> Result<(), PhysicsError> {
        check_state(2, y, dy)?;
        dy[0] = y[1];
        dy[1] = -self.omega0 * self.omega0 * y[0].sin() - self.alpha * y[1];
        Ok(())
    }

    fn rhs_tensor(
        &self,
        _t: f64,
        y: Tensor<2>,
        params: Tensor<2>,
    ) -> Result<Tensor<2>, PhysicsError> {
        check_tensor_input(self, &y, &params)?;
        let theta = columns(&y, 0, 1);
        let omega = columns(&y, 1, 1);
        let w0 = param_column(&params, 0);
        let alpha = param_column(&params, 1);
        let acc = (w0.clone() * w0).neg() * theta.sin() - alpha * omega.clone();
        Ok(Tensor::cat(vec![omega, acc], 1))
    }
}
