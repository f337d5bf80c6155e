//! Two-variable cardiac excitation models, as a single cell (state `[2]`) or as tissue on an
//! `nx × ny` grid with diffusion of the voltage and no-flux (Neumann) edges (state
//! `[2, nx, ny]`, voltage first), five-point Laplacian.
//!
//! - [`AlievPanfilov`] (R. R. Aliev, A. V. Panfilov, *A simple two-variable model of cardiac
//!   excitation*, Chaos Solitons Fractals 7(3), 293–301, 1996), dimensionless:
//!   `u_t = D Δu − k u (u − a)(u − 1) − u v`,
//!   `v_t = (ε0 + μ1 v / (u + μ2)) (−v − k u (u − a − 1))`,
//!   with the paper's `k = 8`, `a = 0.15`, `ε0 = 0.002`, `μ1 = 0.2`, `μ2 = 0.3`, `D = 1`.
//! - [`MitchellSchaeffer`] (C. C. Mitchell, D. G. Schaeffer, *A two-current model for the
//!   dynamics of cardiac membrane*, Bull. Math. Biol. 65, 767–793, 2003), time in ms:
//!   `v_t = D Δv + h v² (1 − v) / τ_in − v / τ_out`,
//!   `h_t = (1 − h) / τ_open` if `v < v_gate`, else `−h / τ_close`,
//!   with the paper's `τ_in = 0.3`, `τ_out = 6`, `τ_open = 120`, `τ_close = 150`,
//!   `v_gate = 0.13`; the maximal action potential duration is about
//!   `τ_close ln(τ_out / (4 τ_in))` ≈ 241 ms.

use burn::tensor::Tensor;
use sysdyn_core::rng::SeededRng;
use sysdyn_solvers::SolveConfig;
use sysdyn_solvers::methods::DOPRI5;

use crate::error::PhysicsError;
use crate::model::{
    PhysicalModel, check_parameter_count, check_state, check_tensor_input, columns, non_negative,
    param_column, positive,
};
use crate::simulators::{Dataset, simulated_dataset, uniform_in};
use crate::stencil::{Boundary, Laplacian2d, LaplacianKind};

/// A cell or a tissue grid.
#[derive(Debug, Clone, PartialEq)]
struct Tissue {
    lap: Option<Laplacian2d>,
    scratch: Vec<f64>,
}

impl Tissue {
    fn cell() -> Self {
        Tissue {
            lap: None,
            scratch: vec![0.0],
        }
    }

    fn grid(nx: usize, ny: usize, h: f64) -> Result<Self, PhysicsError> {
        let lap = Laplacian2d::new(
            LaplacianKind::FivePoint,
            Boundary::Neumann,
            (nx, ny),
            (h, h),
        )?;
        Ok(Tissue {
            lap: Some(lap),
            scratch: vec![0.0; nx * ny],
        })
    }

    fn cells(&self) -> usize {
        self.lap.as_ref().map_or(1, |l| l.rows().len())
    }

    fn shape(&self) -> Vec<usize> {
        match &self.lap {
            None => vec![2],
            Some(l) => {
                let (nx, ny) = l.shape();
                vec![2, nx, ny]
            }
        }
    }

    /// `scratch = Δ u` (zero for a cell).
    fn laplacian(&mut self, u: &[f64]) -> Result<(), PhysicsError> {
        match &self.lap {
            None => {
                self.scratch[0] = 0.0;
                Ok(())
            }
            Some(l) => l.apply(u, &mut self.scratch),
        }
    }

    fn laplacian_tensor(&self, u: Tensor<2>) -> Tensor<2> {
        match &self.lap {
            None => u.zeros_like(),
            Some(l) => l.apply_tensor(u),
        }
    }

    /// A random stimulus from rest `(v0, g0)` (voltage, gate): a cell starts at a voltage
    /// uniform in `[0, 0.5)` (above or below threshold); a tissue has the voltage set to 1 in
    /// one random square of side `max(nx/4, 1)`.
    fn stimulus(&self, rng: &mut SeededRng, rest: (f64, f64)) -> Vec<f64> {
        let n = self.cells();
        let mut y = vec![rest.0; n];
        y.extend(std::iter::repeat_n(rest.1, n));
        match &self.lap {
            None => y[0] = uniform_in(rng, 0.0, 0.5),
            Some(l) => {
                let (nx, ny) = l.shape();
                let side = (nx / 4).max(1);
                let i0 = rng.below((nx - side + 1) as u64) as usize;
                let j0 = rng.below((ny.saturating_sub(side) + 1) as u64) as usize;
                for i in i0..i0 + side {
                    for j in j0..(j0 + side).min(ny) {
                        y[i * ny + j] = 1.0;
                    }
                }
            }
        }
        y
    }

    fn pattern(&self) -> Option<Vec<(usize, usize)>> {
        self.lap
            .as_ref()
            .map(crate::simulators::two_species_pattern)
    }
}

/// `count` trajectories of `model` on `times` from [`Tissue::stimulus`] (Dopri5, `rtol = 1e-7`).
fn cardiac_dataset<M: PhysicalModel + Clone + Sync>(
    model: &M,
    tissue: &Tissue,
    rest: (f64, f64),
    count: usize,
    seed: u64,
    times: &[f64],
) -> Result<Dataset, PhysicsError> {
    simulated_dataset(
        model,
        count,
        seed,
        times,
        &DOPRI5,
        SolveConfig::adaptive(1e-7, 1e-9),
        |_, rng| Ok(tissue.stimulus(rng, rest)),
    )
}

/// The Aliev–Panfilov model (see the module docs); parameters `(k, a, eps0, mu1, mu2, D)`.
#[derive(Debug, Clone, PartialEq)]
pub struct AlievPanfilov {
    params: [f64; 6],
    tissue: Tissue,
}

const AP_NAMES: &[&str] = &["k", "a", "eps0", "mu1", "mu2", "D"];
const AP_DEFAULT: [f64; 6] = [8.0, 0.15, 0.002, 0.2, 0.3, 1.0];

impl AlievPanfilov {
    /// One cell with the paper's parameters.
    pub fn cell() -> Self {
        AlievPanfilov {
            params: AP_DEFAULT,
            tissue: Tissue::cell(),
        }
    }

    /// An `nx × ny` tissue of spacing `h` with the paper's parameters.
    pub fn tissue(nx: usize, ny: usize, h: f64) -> Result<Self, PhysicsError> {
        Ok(AlievPanfilov {
            params: AP_DEFAULT,
            tissue: Tissue::grid(nx, ny, positive("h", h)?)?,
        })
    }

    /// `count` trajectories on `times` from rest `(u, v) = (0, 0)` with a random stimulus: a
    /// cell starts at `u` uniform in `[0, 0.5)`, a tissue with `u = 1` in a random square.
    pub fn dataset(&self, count: usize, seed: u64, times: &[f64]) -> Result<Dataset, PhysicsError> {
        cardiac_dataset(self, &self.tissue, (0.0, 0.0), count, seed, times)
    }
}

impl PhysicalModel for AlievPanfilov {
    fn name(&self) -> &'static str {
        "Aliev-Panfilov"
    }

    fn state_shape(&self) -> Vec<usize> {
        self.tissue.shape()
    }

    fn parameter_names(&self) -> &'static [&'static str] {
        AP_NAMES
    }

    fn parameters(&self) -> Vec<f64> {
        self.params.to_vec()
    }

    fn set_parameters(&mut self, values: &[f64]) -> Result<(), PhysicsError> {
        check_parameter_count(AP_NAMES, values)?;
        let mut p = [0.0; 6];
        for (k, (&name, &v)) in AP_NAMES.iter().zip(values).enumerate() {
            p[k] = non_negative(name, v)?;
        }
        // μ2 > 0 keeps ε finite at u = 0.
        positive("mu2", p[4])?;
        self.params = p;
        Ok(())
    }

    fn rhs(&mut self, _t: f64, y: &[f64], dy: &mut [f64]) -> Result<(), PhysicsError> {
        let n = self.tissue.cells();
        check_state(2 * n, y, dy)?;
        let [k, a, eps0, mu1, mu2, d] = self.params;
        let (u, v) = y.split_at(n);
        self.tissue.laplacian(u)?;
        let (du, dv) = dy.split_at_mut(n);
        for c in 0..n {
            let (uc, vc) = (u[c], v[c]);
            du[c] = d * self.tissue.scratch[c] - k * uc * (uc - a) * (uc - 1.0) - uc * vc;
            let eps = eps0 + mu1 * vc / (uc + mu2);
            dv[c] = eps * (-vc - k * uc * (uc - a - 1.0));
        }
        Ok(())
    }

    fn jacobian_pattern(&self) -> Option<Vec<(usize, usize)>> {
        self.tissue.pattern()
    }

    fn rhs_tensor(
        &self,
        _t: f64,
        y: Tensor<2>,
        params: Tensor<2>,
    ) -> Result<Tensor<2>, PhysicsError> {
        check_tensor_input(self, &y, &params)?;
        let n = self.tissue.cells();
        let u = columns(&y, 0, n);
        let v = columns(&y, n, n);
        let p = |j| param_column(&params, j);
        let (k, a) = (p(0), p(1));
        let du = p(5) * self.tissue.laplacian_tensor(u.clone())
            - k.clone() * u.clone() * (u.clone() - a.clone()) * u.clone().sub_scalar(1.0)
            - u.clone() * v.clone();
        let eps = p(2) + p(3) * v.clone() / (u.clone() + p(4));
        let dv = eps * (v.neg() - k * u.clone() * (u - a).sub_scalar(1.0));
        Ok(Tensor::cat(vec![du, dv], 1))
    }
}

/// The Mitchell–Schaeffer model (see the module docs); parameters
/// `(tau_in, tau_out, tau_open, tau_close, v_gate, D)`.
#[derive(Debug, Clone, PartialEq)]
pub struct MitchellSchaeffer {
    params: [f64; 6],
    tissue: Tissue,
}

const MS_NAMES: &[&str] = &["tau_in", "tau_out", "tau_open", "tau_close", "v_gate", "D"];
/// `D = 0.001 cm²/ms` for tissue (a common choice with this model, e.g. with `h = 0.025 cm`).
const MS_DEFAULT: [f64; 6] = [0.3, 6.0, 120.0, 150.0, 0.13, 0.001];

impl MitchellSchaeffer {
    /// One cell with the paper's parameters.
    pub fn cell() -> Self {
        MitchellSchaeffer {
            params: MS_DEFAULT,
            tissue: Tissue::cell(),
        }
    }

    /// An `nx × ny` tissue of spacing `h` (cm) with the paper's parameters, `D = 0.001 cm²/ms`.
    pub fn tissue(nx: usize, ny: usize, h: f64) -> Result<Self, PhysicsError> {
        Ok(MitchellSchaeffer {
            params: MS_DEFAULT,
            tissue: Tissue::grid(nx, ny, positive("h", h)?)?,
        })
    }

    /// `count` trajectories on `times` from rest `(v, h) = (0, 1)` with a random stimulus: a
    /// cell starts at `v` uniform in `[0, 0.5)`, a tissue with `v = 1` in a random square.
    pub fn dataset(&self, count: usize, seed: u64, times: &[f64]) -> Result<Dataset, PhysicsError> {
        cardiac_dataset(self, &self.tissue, (0.0, 1.0), count, seed, times)
    }

    /// The approximate maximal action potential duration `τ_close ln(τ_out / (4 τ_in))` (ms).
    pub fn max_apd(&self) -> f64 {
        let [tin, tout, _, tclose, _, _] = self.params;
        tclose * (tout / (4.0 * tin)).ln()
    }
}

impl PhysicalModel for MitchellSchaeffer {
    fn name(&self) -> &'static str {
        "Mitchell-Schaeffer"
    }

    fn state_shape(&self) -> Vec<usize> {
        self.tissue.shape()
    }

    fn parameter_names(&self) -> &'static [&'static str] {
        MS_NAMES
    }

    fn parameters(&self) -> Vec<f64> {
        self.params.to_vec()
    }

    fn set_parameters(&mut self, values: &[f64]) -> Result<(), PhysicsError> {
        check_parameter_count(MS_NAMES, values)?;
        let mut p = [0.0; 6];
        for k in 0..4 {
            p[k] = positive(MS_NAMES[k], values[k])?;
        }
        p[4] = non_negative("v_gate", values[4])?;
        p[5] = non_negative("D", values[5])?;
        self.params = p;
        Ok(())
    }

    fn rhs(&mut self, _t: f64, y: &[f64], dy: &mut [f64]) -> Result<(), PhysicsError> {
        let n = self.tissue.cells();
        check_state(2 * n, y, dy)?;
        let [tin, tout, topen, tclose, vgate, d] = self.params;
        let (v, h) = y.split_at(n);
        self.tissue.laplacian(v)?;
        let (dv, dh) = dy.split_at_mut(n);
        for c in 0..n {
            let (vc, hc) = (v[c], h[c]);
            dv[c] = d * self.tissue.scratch[c] + hc * vc * vc * (1.0 - vc) / tin - vc / tout;
            dh[c] = if vc < vgate {
                (1.0 - hc) / topen
            } else {
                -hc / tclose
            };
        }
        Ok(())
    }

    fn jacobian_pattern(&self) -> Option<Vec<(usize, usize)>> {
        self.tissue.pattern()
    }

    /// The gate switch is the indicator of `v < v_gate` (not differentiable in `v` or
    /// `v_gate`; the time constants are).
    fn rhs_tensor(
        &self,
        _t: f64,
        y: Tensor<2>,
        params: Tensor<2>,
    ) -> Result<Tensor<2>, PhysicsError> {
        check_tensor_input(self, &y, &params)?;
        let n = self.tissue.cells();
        let v = columns(&y, 0, n);
        let h = columns(&y, n, n);
        let p = |j| param_column(&params, j);
        let dv = p(5) * self.tissue.laplacian_tensor(v.clone())
            + h.clone() * v.clone() * v.clone() * v.clone().neg().add_scalar(1.0) / p(0)
            - v.clone() / p(1);
        let open = (p(4) - v).detach().greater_elem(0.0).float();
        let dh = open.clone() * h.clone().neg().add_scalar(1.0) / p(2)
            - open.neg().add_scalar(1.0) * h / p(3);
        Ok(Tensor::cat(vec![dv, dh], 1))
    }
}
