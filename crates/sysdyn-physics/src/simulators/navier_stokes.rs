//! Two-dimensional incompressible Navier–Stokes in vorticity form, pseudo-spectral, as in LEADS
//! (Yin et al., NeurIPS 2021; yuan-yin/LEADS `datasets/ns.py`):
//!
//! `ω_t + u · ∇ω = ν Δω + f`, `u = (∂_y ψ, −∂_x ψ)`, `Δψ = −ω`,
//!
//! on the periodic square `[0, L)²` (LEADS: `L = 1`, 32 × 32, `ν = 1e-3`, horizon 10, output
//! step 1). Derivatives and the Poisson solve are [`sysdyn_core::spectral::Spectral2d`]'s; the
//! advection term is dealiased by the 2/3 rule. The forcing is a fixed field;
//! [`leads_forcing`] gives LEADS's four environments, the first being
//! `f = 0.1 (sin(2π(x + y)) + cos(2π(x + y)))`. Initial vorticities are Gaussian random fields
//! with LEADS's spectrum (`α = 2.5`, `τ = 7`, [`NavierStokes2d::random_vorticity`]).
//!
//! Checks: without forcing the kinetic energy and the enstrophy decay monotonically (the
//! dealiased advection conserves both for band-limited fields); the Taylor–Green vortex
//! `ω = 2k cos(kx) cos(ky)` is a steady solution of the Euler part and decays like
//! `exp(−2 ν k² t)`.

use std::sync::{Arc, OnceLock};

use burn::tensor::Tensor;
use sysdyn_core::rng::SeededRng;
use sysdyn_core::spectral::{Complex64, Spectral1d, Spectral2d};
use sysdyn_solvers::SolveConfig;
use sysdyn_solvers::methods::DOPRI5;

use crate::error::PhysicsError;
use crate::model::{
    ModelField, PhysicalModel, check_parameter_count, check_state, check_tensor_input, host_tensor,
    non_negative, param_column, simulate, uniform_times,
};
use crate::simulators::{Dataset, Trajectory, generate, simulated_dataset};
use crate::stencil::{apply_x, apply_y, operator_matrix};

/// Vorticity-form Navier–Stokes on `[0, L)²` (see the module docs).
#[derive(Debug, Clone)]
pub struct NavierStokes2d {
    nu: f64,
    n: usize,
    length: f64,
    forcing: Vec<f64>,
    ops: Spectral2d,
    scratch: [Vec<f64>; 5],
    /// The host matrices of the tensor path, built on first use (they depend on the grid only).
    matrices: OnceLock<Arc<TensorMatrices>>,
}

/// The operators of [`NavierStokes2d::rhs_tensor`] as row-major host matrices.
#[derive(Debug)]
struct TensorMatrices {
    /// `∂` along one axis, `n × n`.
    d: Vec<f64>,
    /// `∂²` along one axis (Nyquist mode kept, as the 2D spectral Laplacian), `n × n`.
    l1: Vec<f64>,
    /// The 2/3 filter along one axis, `n × n`.
    f1: Vec<f64>,
    /// `Δ⁻¹` on zero-mean fields, `n² × n²`.
    inv: Vec<f64>,
}

const NAMES: &[&str] = &["nu"];

/// LEADS's forcing of environment `env` (0 to 3) on an `n × n` grid of `[0, 1)²`.
pub fn leads_forcing(n: usize, env: usize) -> Result<Vec<f64>, PhysicsError> {
    let (a, b) = match env {
        0 => ((1.0, 1.0), (1.0, 1.0)),
        1 => ((1.0, 1.0), (1.0, 2.0)),
        2 => ((1.0, 1.0), (2.0, 1.0)),
        3 => ((1.0, 2.0), (2.0, 1.0)),
        _ => {
            return Err(PhysicsError::InvalidParameter {
                name: "env",
                value: env as f64,
                requirement: "LEADS has four Navier-Stokes environments, 0 to 3",
            });
        }
    };
    let tau = std::f64::consts::TAU;
    Ok((0..n * n)
        .map(|c| {
            let (x, y) = ((c / n) as f64 / n as f64, (c % n) as f64 / n as f64);
            0.1 * ((tau * (a.0 * x + a.1 * y)).sin() + (tau * (b.0 * x + b.1 * y)).cos())
        })
        .collect())
}

impl NavierStokes2d {
    /// LEADS's first environment: 32 × 32 on `[0, 1)²`, `ν = 1e-3`.
    pub fn leads() -> Result<Self, PhysicsError> {
        Self::new(32, 1.0, 1e-3)?.with_forcing(leads_forcing(32, 0)?)
    }

    /// An unforced `n × n` grid (`n ≥ 4`) on `[0, L)²` with viscosity `ν ≥ 0`.
    pub fn new(n: usize, length: f64, nu: f64) -> Result<Self, PhysicsError> {
        if n < 4 {
            return Err(PhysicsError::GridTooSmall {
                what: "pseudo-spectral Navier-Stokes",
                got: n,
                needed: 4,
            });
        }
        let mut m = NavierStokes2d {
            nu: 0.0,
            n,
            length,
            forcing: vec![0.0; n * n],
            ops: Spectral2d::new(n, n, length, length)?,
            scratch: std::array::from_fn(|_| vec![0.0; n * n]),
            matrices: OnceLock::new(),
        };
        m.set_parameters(&[nu])?;
        Ok(m)
    }

    /// Sets the forcing field (`n²` finite values).
    pub fn with_forcing(mut self, forcing: Vec<f64>) -> Result<Self, PhysicsError> {
        crate::stencil::check_len("forcing field", self.n * self.n, forcing.len())?;
        if let Some(index) = forcing.iter().position(|v| !v.is_finite()) {
            return Err(PhysicsError::NonFinite {
                what: "forcing field",
                index,
            });
        }
        self.forcing = forcing;
        Ok(self)
    }

    /// The velocity `(u, v)` of a vorticity field.
    pub fn velocity(&mut self, omega: &[f64]) -> Result<(Vec<f64>, Vec<f64>), PhysicsError> {
        let n2 = self.n * self.n;
        crate::stencil::check_len("vorticity", n2, omega.len())?;
        let mut psi = vec![0.0; n2];
        self.ops.inverse_laplacian(omega, &mut psi)?;
        psi.iter_mut().for_each(|p| *p = -*p);
        let (mut u, mut v) = (vec![0.0; n2], vec![0.0; n2]);
        self.ops.dy(&psi, &mut u)?;
        self.ops.dx(&psi, &mut v)?;
        v.iter_mut().for_each(|x| *x = -*x);
        Ok((u, v))
    }

    /// Mean kinetic energy `½ ⟨|u|²⟩` and enstrophy `½ ⟨ω²⟩` of a vorticity field.
    pub fn energy_enstrophy(&mut self, omega: &[f64]) -> Result<(f64, f64), PhysicsError> {
        let (u, v) = self.velocity(omega)?;
        let n2 = omega.len() as f64;
        let e = u.iter().zip(&v).map(|(a, b)| a * a + b * b).sum::<f64>() * 0.5 / n2;
        let z = omega.iter().map(|w| w * w).sum::<f64>() * 0.5 / n2;
        Ok((e, z))
    }

    /// A Gaussian random vorticity with LEADS's spectrum: Fourier coefficients
    /// `n² √2 σ (4π²|m|² + τ²)^{−α/2} ξ_m` (`ξ_m` complex standard normal, the mean mode zero,
    /// `α = 2.5`, `τ = 7`, `σ = τ^{α − 1}`), the real part of the inverse transform, then
    /// dealiased so the field is band-limited.
    pub fn random_vorticity(&mut self, rng: &mut SeededRng) -> Result<Vec<f64>, PhysicsError> {
        let n = self.n;
        let (alpha, tau) = (2.5f64, 7.0f64);
        let sigma = tau.powf(alpha - 1.0);
        let four_pi2 = 4.0 * std::f64::consts::PI * std::f64::consts::PI;
        let signed = |m: usize| -> f64 {
            if 2 * m <= n {
                m as f64
            } else {
                m as f64 - n as f64
            }
        };
        let mut coeffs = vec![Complex64::default(); n * n];
        for mx in 0..n {
            for my in 0..n {
                let (re, im) = (rng.normal(), rng.normal());
                if mx == 0 && my == 0 {
                    continue;
                }
                let k2 = signed(mx).powi(2) + signed(my).powi(2);
                let amp = (n * n) as f64
                    * std::f64::consts::SQRT_2
                    * sigma
                    * (four_pi2 * k2 + tau * tau).powf(-alpha / 2.0);
                coeffs[mx * n + my] = Complex64::new(amp * re, amp * im);
            }
        }
        let mut w = vec![0.0; n * n];
        self.ops.inverse(&coeffs, &mut w)?;
        let mut out = vec![0.0; n * n];
        self.ops.dealias(&w, &mut out)?;
        Ok(out)
    }

    /// `count` trajectories from random vorticities on `times` (Dopri5, `rtol = 1e-8`).
    pub fn dataset_on(
        &self,
        count: usize,
        seed: u64,
        times: &[f64],
    ) -> Result<Dataset, PhysicsError> {
        simulated_dataset(
            self,
            count,
            seed,
            times,
            &DOPRI5,
            SolveConfig::adaptive(1e-8, 1e-8),
            |model, rng| model.random_vorticity(rng),
        )
    }

    /// The tensor path's matrices, built once per model (and shared by its clones).
    fn tensor_matrices(&self) -> Result<Arc<TensorMatrices>, PhysicsError> {
        if let Some(m) = self.matrices.get() {
            return Ok(m.clone());
        }
        let n = self.n;
        let mut ops1 = Spectral1d::new(n, self.length)?;
        let mut ops2 = self.ops.clone();
        let built = Arc::new(TensorMatrices {
            d: crate::stencil::spectral_derivative_matrix(n, self.length, 1)?,
            l1: operator_matrix(n, |a, o| Ok(ops1.laplacian(a, o)?))?,
            f1: operator_matrix(n, |a, o| Ok(ops1.dealias(a, o)?))?,
            inv: operator_matrix(n * n, |a, o| Ok(ops2.inverse_laplacian(a, o)?))?,
        });
        Ok(self.matrices.get_or_init(|| built).clone())
    }

    /// LEADS's data: 32 × 32, `ν = 1e-3`, its four forcings, `per_env` trajectories each,
    /// horizon 10, step 1; trajectory `e · per_env + i` belongs to environment `e`.
    pub fn leads_dataset(per_env: usize, seed: u64) -> Result<Dataset, PhysicsError> {
        let base = Self::new(32, 1.0, 1e-3)?;
        let models = (0..4)
            .map(|e| base.clone().with_forcing(leads_forcing(32, e)?))
            .collect::<Result<Vec<_>, _>>()?;
        let times = uniform_times(10.0, 1.0)?;
        let trajectories = generate(4 * per_env, seed, |i, rng| {
            let env = i / per_env;
            let mut model = models[env].clone();
            let y0 = model.random_vorticity(rng)?;
            let mut field = ModelField::dense(model);
            let states = simulate(
                &mut field,
                &DOPRI5,
                y0,
                &times,
                SolveConfig::adaptive(1e-8, 1e-8),
            )?;
            Ok(Trajectory { env, states })
        })?;
        Ok(Dataset {
            name: base.name(),
            state_shape: base.state_shape(),
            times,
            env_parameters: vec![base.parameters(); 4],
            trajectories,
        })
    }

    /// LEADS's time grid: horizon 10, step 1.
    pub fn dataset(&self, count: usize, seed: u64) -> Result<Dataset, PhysicsError> {
        self.dataset_on(count, seed, &uniform_times(10.0, 1.0)?)
    }
}

impl PhysicalModel for NavierStokes2d {
    fn name(&self) -> &'static str {
        "2D Navier-Stokes (vorticity)"
    }

    fn state_shape(&self) -> Vec<usize> {
        vec![1, self.n, self.n]
    }

    fn parameter_names(&self) -> &'static [&'static str] {
        NAMES
    }

    fn parameters(&self) -> Vec<f64> {
        vec![self.nu]
    }

    fn set_parameters(&mut self, values: &[f64]) -> Result<(), PhysicsError> {
        check_parameter_count(NAMES, values)?;
        self.nu = non_negative("nu", values[0])?;
        Ok(())
    }

    fn rhs(&mut self, _t: f64, y: &[f64], dy: &mut [f64]) -> Result<(), PhysicsError> {
        let n2 = self.n * self.n;
        check_state(n2, y, dy)?;
        let [psi, u, v, wx, wy] = &mut self.scratch;
        self.ops.inverse_laplacian(y, psi)?;
        // ψ = −Δ⁻¹ω: u = ∂yψ = −∂y(Δ⁻¹ω), v = −∂xψ = ∂x(Δ⁻¹ω).
        self.ops.dy(psi, u)?;
        self.ops.dx(psi, v)?;
        self.ops.dx(y, wx)?;
        self.ops.dy(y, wy)?;
        for i in 0..n2 {
            psi[i] = -u[i] * wx[i] + v[i] * wy[i];
        }
        self.ops.dealias(psi, u)?;
        self.ops.laplacian(y, v)?;
        for i in 0..n2 {
            dy[i] = -u[i] + self.nu * v[i] + self.forcing[i];
        }
        Ok(())
    }

    /// The same operators as matrices: the derivatives, Laplacian and dealiasing filter are
    /// separable (two `n × n` matmuls each); the Poisson solve is one dense `n² × n²` matrix
    /// (built once per model on the host and uploaded on each call: 8 MB for 32 × 32, meant for
    /// the small grids of the papers).
    fn rhs_tensor(
        &self,
        _t: f64,
        y: Tensor<2>,
        params: Tensor<2>,
    ) -> Result<Tensor<2>, PhysicsError> {
        check_tensor_input(self, &y, &params)?;
        let n = self.n;
        let m = self.tensor_matrices()?;
        let mat = |m: &[f64], k: usize| host_tensor(m.to_vec(), [k, k], &y);
        let (d, l1, f1, inv) = (
            mat(&m.d, n),
            mat(&m.l1, n),
            mat(&m.f1, n),
            mat(&m.inv, n * n),
        );
        // φ = Δ⁻¹ω (ψ = −φ): u = −∂yφ, v = ∂xφ.
        let phi = y.clone().matmul(inv.transpose());
        let u = apply_y(phi.clone(), &d, n, n).neg();
        let v = apply_x(phi, &d, n, n);
        let wx = apply_x(y.clone(), &d, n, n);
        let wy = apply_y(y.clone(), &d, n, n);
        let adv = u * wx + v * wy;
        let adv = apply_y(apply_x(adv, &f1, n, n), &f1, n, n);
        let lap = apply_x(y.clone(), &l1, n, n) + apply_y(y, &l1, n, n);
        let forcing = host_tensor(self.forcing.clone(), [1, n * n], &lap);
        Ok(param_column(&params, 0) * lap - adv + forcing)
    }
}
