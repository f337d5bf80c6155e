//! The Gray–Scott reaction–diffusion system of LEADS (Yin et al., NeurIPS 2021;
//! yuan-yin/LEADS `datasets/gs.py`):
//!
//! `u_t = D_u Δu − u v² + F (1 − u)`, `v_t = D_v Δv + u v² − (F + k) v`,
//!
//! `D_u = 0.2097`, `D_v = 0.105`, on a 32 × 32 periodic grid of spacing 1 with the isotropic
//! nine-point Laplacian; one `(F, k)` per environment ([`GrayScott::leads_environments`]:
//! `(0.037, 0.060)`, `(0.030, 0.062)`, `(0.039, 0.058)`). Initial condition as in the code:
//! `u = 0.95`, `v = 0.05` everywhere except three random `r × r` squares (`r = ⌊n/10⌋ = 3`),
//! where `u = 0` and `v = 1`; horizon 400, output step 40. State `[2, n, n]`: `u` then `v`.

use burn::tensor::Tensor;
use sysdyn_core::rng::SeededRng;
use sysdyn_solvers::SolveConfig;
use sysdyn_solvers::methods::DOPRI5;

use crate::error::PhysicsError;
use crate::model::{
    ModelField, PhysicalModel, check_parameter_count, check_state, check_tensor_input, columns,
    non_negative, param_column, simulate, uniform_times,
};
use crate::simulators::{Dataset, Trajectory, generate, two_species_pattern};
use crate::stencil::{Boundary, Laplacian2d, LaplacianKind};

/// Gray–Scott with `(D_u, D_v, F, k)` (see the module docs).
#[derive(Debug, Clone, PartialEq)]
pub struct GrayScott {
    params: [f64; 4],
    n: usize,
    lap: Laplacian2d,
    scratch: (Vec<f64>, Vec<f64>),
}

const NAMES: &[&str] = &["D_u", "D_v", "F", "k"];

impl GrayScott {
    /// LEADS's environments `(F, k)`.
    pub fn leads_environments() -> Vec<(f64, f64)> {
        vec![(0.037, 0.060), (0.030, 0.062), (0.039, 0.058)]
    }

    /// LEADS's first environment: 32 × 32, `D_u = 0.2097`, `D_v = 0.105`, `F = 0.037`,
    /// `k = 0.060`.
    pub fn leads() -> Self {
        Self::new(32, 1.0, [0.2097, 0.105, 0.037, 0.060])
            .expect("a 32 × 32 grid fits the nine-point stencil")
    }

    /// An `n × n` periodic grid of spacing `h` with `(D_u, D_v, F, k)`, all ≥ 0.
    pub fn new(n: usize, h: f64, params: [f64; 4]) -> Result<Self, PhysicsError> {
        let lap = Laplacian2d::new(LaplacianKind::NinePoint, Boundary::Periodic, (n, n), (h, h))?;
        let mut m = GrayScott {
            params: [0.0; 4],
            n,
            lap,
            scratch: (vec![0.0; n * n], vec![0.0; n * n]),
        };
        m.set_parameters(&params)?;
        Ok(m)
    }

    /// LEADS's initial condition: `u = 0.95`, `v = 0.05`, three `r × r` squares with `u = 0`,
    /// `v = 1` at corners drawn uniformly in `[0, n − r)²` (`r = max(⌊n/10⌋, 1)`).
    pub fn initial_condition(&self, rng: &mut SeededRng) -> Vec<f64> {
        let n = self.n;
        let mut y = vec![0.95; n * n];
        y.extend(std::iter::repeat_n(0.05, n * n));
        let r = (n / 10).max(1);
        for _ in 0..3 {
            let span = (n - r).max(1) as u64;
            let (i0, j0) = (rng.below(span) as usize, rng.below(span) as usize);
            for i in i0..(i0 + r).min(n) {
                for j in j0..(j0 + r).min(n) {
                    y[i * n + j] = 0.0;
                    y[n * n + i * n + j] = 1.0;
                }
            }
        }
        y
    }

    /// `per_env` trajectories in each `(F, k)` of `envs` (the diffusions of `self`), on `times`
    /// (Dopri5, `rtol = 1e-8`); trajectory `e · per_env + i` belongs to environment `e`.
    pub fn dataset_environments(
        &self,
        envs: &[(f64, f64)],
        per_env: usize,
        seed: u64,
        times: &[f64],
    ) -> Result<Dataset, PhysicsError> {
        if envs.is_empty() {
            return Err(PhysicsError::Empty {
                what: "environment list",
                unit: "(F, k) pair",
            });
        }
        let models = envs
            .iter()
            .map(|&(f, k)| {
                let mut m = self.clone();
                m.set_parameters(&[self.params[0], self.params[1], f, k])?;
                Ok(m)
            })
            .collect::<Result<Vec<_>, PhysicsError>>()?;
        let trajectories = generate(envs.len() * per_env, seed, |i, rng| {
            let env = i / per_env;
            let y0 = self.initial_condition(rng);
            let mut field = ModelField::dense(models[env].clone());
            let states = simulate(
                &mut field,
                &DOPRI5,
                y0,
                times,
                SolveConfig::adaptive(1e-8, 1e-8),
            )?;
            Ok(Trajectory { env, states })
        })?;
        Ok(Dataset {
            name: self.name(),
            state_shape: self.state_shape(),
            times: times.to_vec(),
            env_parameters: models.iter().map(|m| m.parameters()).collect(),
            trajectories,
        })
    }

    /// LEADS's data: its three environments, horizon 400, step 40.
    pub fn leads_dataset(per_env: usize, seed: u64) -> Result<Dataset, PhysicsError> {
        Self::leads().dataset_environments(
            &Self::leads_environments(),
            per_env,
            seed,
            &uniform_times(400.0, 40.0)?,
        )
    }
}

impl PhysicalModel for GrayScott {
    fn name(&self) -> &'static str {
        "Gray-Scott reaction-diffusion"
    }

    fn state_shape(&self) -> Vec<usize> {
        vec![2, self.n, self.n]
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
        let n = self.n * self.n;
        check_state(2 * n, y, dy)?;
        let [du_, dv_, f, k] = self.params;
        let (u, v) = y.split_at(n);
        self.lap.apply(u, &mut self.scratch.0)?;
        self.lap.apply(v, &mut self.scratch.1)?;
        let (du, dv) = dy.split_at_mut(n);
        for c in 0..n {
            let uvv = u[c] * v[c] * v[c];
            du[c] = du_ * self.scratch.0[c] - uvv + f * (1.0 - u[c]);
            dv[c] = dv_ * self.scratch.1[c] + uvv - (f + k) * v[c];
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
        let n = self.n * self.n;
        let u = columns(&y, 0, n);
        let v = columns(&y, n, n);
        let uvv = u.clone() * v.clone() * v.clone();
        let f = param_column(&params, 2);
        let k = param_column(&params, 3);
        let du = param_column(&params, 0) * self.lap.apply_tensor(u.clone()) - uvv.clone()
            + f.clone() * (u.neg().add_scalar(1.0));
        let dv = param_column(&params, 1) * self.lap.apply_tensor(v.clone()) + uvv - (f + k) * v;
        Ok(Tensor::cat(vec![du, dv], 1))
    }
}
