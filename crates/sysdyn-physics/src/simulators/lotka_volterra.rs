//! Lotka–Volterra predator–prey dynamics with one parameter set per environment, as in LEADS
//! (Yin et al., *LEADS: Learning dynamical systems that generalize across environments*,
//! NeurIPS 2021) and CoDA (Kirchmeyer et al., ICML 2022):
//!
//! `dx/dt = α x − β x y`, `dy/dt = δ x y − γ y`, parameters `(α, β, γ, δ)`, all ≥ 0.
//!
//! [`LotkaVolterra::leads_environments`] is the list of LEADS's code (yuan-yin/LEADS,
//! `datasets/__init__.py`): `β = δ = 0.5` and ten `(α, γ)` pairs. Initial conditions uniform in
//! `[1, 2)²`, horizon 10, step 0.5 (LEADS); we integrate with Dopri5 at `rtol = 1e-10`
//! (LEADS used scipy's RK45 with its default tolerances).
//!
//! The quantity `V = δ x − γ ln x + β y − α ln y` is conserved ([`LotkaVolterra::invariant`]).

use burn::tensor::Tensor;
use sysdyn_solvers::SolveConfig;
use sysdyn_solvers::methods::DOPRI5;

use crate::error::PhysicsError;
use crate::model::{
    ModelField, PhysicalModel, check_parameter_count, check_state, check_tensor_input, columns,
    non_negative, param_column, simulate, uniform_times,
};
use crate::simulators::{Dataset, Trajectory, generate, uniform_in};

/// Lotka–Volterra with parameters `(α, β, γ, δ)` (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LotkaVolterra {
    params: [f64; 4],
}

const NAMES: &[&str] = &["alpha", "beta", "gamma", "delta"];

impl LotkaVolterra {
    /// The model with `(α, β, γ, δ)`, each finite and ≥ 0.
    pub fn new(alpha: f64, beta: f64, gamma: f64, delta: f64) -> Result<Self, PhysicsError> {
        let mut m = LotkaVolterra { params: [0.5; 4] };
        m.set_parameters(&[alpha, beta, gamma, delta])?;
        Ok(m)
    }

    /// LEADS's ten environments `(α, β, γ, δ)`: `β = δ = 0.5`.
    pub fn leads_environments() -> Vec<[f64; 4]> {
        [
            (0.5, 0.5),
            (0.25, 0.5),
            (0.75, 0.5),
            (1.0, 0.5),
            (0.5, 0.25),
            (0.5, 0.75),
            (0.5, 1.0),
            (0.25, 0.25),
            (0.75, 0.75),
            (1.0, 1.0),
        ]
        .into_iter()
        .map(|(a, g)| [a, 0.5, g, 0.5])
        .collect()
    }

    /// The conserved `V = δ x − γ ln x + β y − α ln y` (for `x, y > 0`).
    pub fn invariant(&self, s: &[f64]) -> f64 {
        let [a, b, g, d] = self.params;
        d * s[0] - g * s[0].ln() + b * s[1] - a * s[1].ln()
    }

    /// `per_env` trajectories in each environment of `envs` (rows `(α, β, γ, δ)`) on `times`,
    /// from initial conditions uniform in `[1, 2)²`; trajectory `e · per_env + i` is the `i`-th
    /// of environment `e` and draws from stream `e · per_env + i` of `seed`.
    pub fn dataset_environments(
        envs: &[[f64; 4]],
        per_env: usize,
        seed: u64,
        times: &[f64],
    ) -> Result<Dataset, PhysicsError> {
        if envs.is_empty() {
            return Err(PhysicsError::Empty {
                what: "environment list",
                unit: "parameter set (α, β, γ, δ)",
            });
        }
        let models = envs
            .iter()
            .map(|p| LotkaVolterra::new(p[0], p[1], p[2], p[3]))
            .collect::<Result<Vec<_>, _>>()?;
        let trajectories = generate(envs.len() * per_env, seed, |i, rng| {
            let env = i / per_env;
            let y0 = vec![uniform_in(rng, 1.0, 2.0), uniform_in(rng, 1.0, 2.0)];
            let mut field = ModelField::dense(models[env]);
            let states = simulate(
                &mut field,
                &DOPRI5,
                y0,
                times,
                SolveConfig::adaptive(1e-10, 1e-10),
            )?;
            Ok(Trajectory { env, states })
        })?;
        Ok(Dataset {
            name: "Lotka-Volterra",
            state_shape: vec![2],
            times: times.to_vec(),
            env_parameters: envs.iter().map(|p| p.to_vec()).collect(),
            trajectories,
        })
    }

    /// LEADS's data: its ten environments, horizon 10, step 0.5.
    pub fn leads_dataset(per_env: usize, seed: u64) -> Result<Dataset, PhysicsError> {
        Self::dataset_environments(
            &Self::leads_environments(),
            per_env,
            seed,
            &uniform_times(10.0, 0.5)?,
        )
    }
}

impl PhysicalModel for LotkaVolterra {
    fn name(&self) -> &'static str {
        "Lotka-Volterra"
    }

    fn state_shape(&self) -> Vec<usize> {
        vec![2]
    }

    fn parameter_names(&self) -> &'static [&'static str] {
        NAMES
    }

    fn parameters(&self) -> Vec<f64> {
        self.params.to_vec()
    }

    fn set_parameters(&mut self, values: &[f64]) -> Result<(), PhysicsError> {
        check_parameter_count(NAMES, values)?;
        let mut p = [0.0; 4];
        for (k, (&name, &v)) in NAMES.iter().zip(values).enumerate() {
            p[k] = non_negative(name, v)?;
        }
        self.params = p;
        Ok(())
    }

    fn rhs(&mut self, _t: f64, y: &[f64], dy: &mut [f64]) -> Result<(), PhysicsError> {
        check_state(2, y, dy)?;
        let [a, b, g, d] = self.params;
        dy[0] = a * y[0] - b * y[0] * y[1];
        dy[1] = d * y[0] * y[1] - g * y[1];
        Ok(())
    }

    fn rhs_tensor(
        &self,
        _t: f64,
        y: Tensor<2>,
        params: Tensor<2>,
    ) -> Result<Tensor<2>, PhysicsError> {
        check_tensor_input(self, &y, &params)?;
        let x = columns(&y, 0, 1);
        let z = columns(&y, 1, 1);
        let xz = x.clone() * z.clone();
        let dx = param_column(&params, 0) * x - param_column(&params, 1) * xz.clone();
        let dz = param_column(&params, 3) * xz - param_column(&params, 2) * z;
        Ok(Tensor::cat(vec![dx, dz], 1))
    }
}
